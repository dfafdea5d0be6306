import Foundation
import Testing
@testable import ArgusQuery

/// Runs Prometheus' own PromQL test scripts (the shared conformance folder, or the folder in
/// `ARGUS_PROMQL_CONFORMANCE`) and our own scripts in `testdata/` against a real store.
@Suite("PromQL conformance")
struct PromQLConformanceTests {
    /// The package root, found from this file's path (`<root>/Tests/ArgusQueryTests/...`).
    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var conformanceDirectory: URL {
        if let dir = ProcessInfo.processInfo.environment["ARGUS_PROMQL_CONFORMANCE"], !dir.isEmpty {
            return URL(fileURLWithPath: dir)
        }
        return packageRoot.appendingPathComponent("../shared/conformance/promql").standardizedFileURL
    }

    static var ownTestdata: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("testdata")
    }

    static func testFiles(in dir: URL) -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { $0.hasSuffix(".test") }.sorted().map { dir.appendingPathComponent($0) }
    }

    @Test("Prometheus v3.5 PromQL test scripts")
    func prometheusScripts() async throws {
        let files = Self.testFiles(in: Self.conformanceDirectory)
        try #require(!files.isEmpty, "no .test files in \(Self.conformanceDirectory.path)")
        try await runScripts(files, title: "Prometheus conformance")
    }

    @Test("Argus' own PromQL test scripts (subqueries, @, offsets, range queries, limits, parse errors)")
    func ownScripts() async throws {
        let files = Self.testFiles(in: Self.ownTestdata)
        try #require(!files.isEmpty, "no .test files in \(Self.ownTestdata.path)")
        try await runScripts(files, title: "Argus scripts")
    }

    private func runScripts(_ files: [URL], title: String) async throws {
        let runner = PromQLScriptRunner()
        for file in files {
            let text = try String(contentsOf: file, encoding: .utf8)
            await runner.run(text, name: file.lastPathComponent)
        }
        var total = PromQLScriptRunner.Summary()
        var report = "\(title):\n"
        for (name, s) in runner.summaries {
            report += "  \(name): passed \(s.passed), failed \(s.failed), skipped \(s.skipped) (native histograms: "
                + "\(s.skippedNativeValues) expect histogram values, \(s.skippedNativeInput) select histogram series)\n"
            total.passed += s.passed
            total.failed += s.failed
            total.skippedNativeValues += s.skippedNativeValues
            total.skippedNativeInput += s.skippedNativeInput
        }
        report += "  total: passed \(total.passed), failed \(total.failed), skipped \(total.skipped) "
            + "(\(total.skippedNativeValues) expect histogram values, \(total.skippedNativeInput) select histogram series)"
        print(report)
        if !runner.failures.isEmpty {
            let list = runner.failures.map { "  " + $0.description }.joined(separator: "\n")
            print("\(title) failures:\n" + list)
        }
        #expect(runner.failures.isEmpty, "\(runner.failures.count) failing cases:\n\(runner.failures.map(\.description).joined(separator: "\n"))")
    }
}
