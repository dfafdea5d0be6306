import ArgusRules
import ArgusTestKit
import Foundation
import Testing

/// The rules shipped in alerts/: every file loads, every unit-test file passes with
/// `argus rules test` (and with the real promtool, since they only use PromQL), and the CLI
/// answers as promtool does. Part of `make test`.
@Suite struct ShippedRulesTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let alerts = root + "/alerts"

    static var testFiles: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: alerts)) ?? []).filter { $0.hasSuffix(".test.yml") }.sorted().map { alerts + "/" + $0 }
    }

    static func run(_ path: String, _ args: [String]) throws -> (Int32, String, String) {
        guard FileManager.default.isExecutableFile(atPath: path) else { throw TestError("\(path) is missing") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    @Test func everyRuleFileHasAPassingUnitTest() async throws {
        let ruleFiles = RuleFileLoader.files(in: Self.alerts)
        #expect(ruleFiles.count >= 6)
        for f in ruleFiles {
            let groups = try RuleFileLoader.load(path: f)
            #expect(!groups.isEmpty, "\(f)")
            // LogQL files cannot have promtool-format tests (no log input); every other file has one.
            if groups.contains(where: { $0.language == .logql }) { continue }
            let test = f.replacingOccurrences(of: ".yml", with: ".test.yml")
            #expect(FileManager.default.fileExists(atPath: test), "\(f) has no unit-test file")
        }
        #expect(Self.testFiles.count >= 5)
        for t in Self.testFiles {
            let errs = await RuleUnitTester().run(file: t)
            #expect(errs.isEmpty, "\(t):\n\(errs.joined(separator: "\n"))")
        }
    }

    @Test func promtoolAgreesOnTheShippedTests() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/promtool") else {
            throw TestError("promtool is missing: run `make test` (it installs Debian's prometheus package)")
        }
        let (code, out, err) = try Self.run("/usr/bin/promtool", ["test", "rules"] + Self.testFiles)
        #expect(code == 0, "\(out)\n\(err)")
    }

    @Test func cliCheckAndTestMatchPromtool() throws {
        let dir = TempDir("argus-rules-cli")
        defer { dir.remove() }
        try """
        groups:
          - name: example
            rules:
              - record: job:up:sum
                expr: sum by (job) (up
              - alert: X
                expr: up == 0
                annotations:
                  a: "{{ $labels.instance "
        """.write(toFile: dir.path + "/bad.yml", atomically: true, encoding: .utf8)
        var (code, out, err) = try Self.run(ArgusProcess.binary, ["rules", "check", Self.alerts + "/shop-errors.yml", dir.path + "/bad.yml"])
        #expect(code == 1)
        #expect(out == "Checking \(Self.alerts)/shop-errors.yml\n  SUCCESS: 4 rules found\n\nChecking \(dir.path)/bad.yml\n\n")
        #expect(err == """
              FAILED:
            \(dir.path)/bad.yml: 5:15: group "example", rule 1, "job:up:sum": could not parse expression: 1:17: parse error: unclosed left parenthesis
            \(dir.path)/bad.yml: group "example", rule 2, "X": annotation "a": template: __alert_X:1: unclosed action

            """)
        (code, out, err) = try Self.run(ArgusProcess.binary, ["rules", "test"] + Self.testFiles)
        #expect(code == 0, "\(out)\n\(err)")
        #expect(out.components(separatedBy: "  SUCCESS\n").count - 1 == Self.testFiles.count)

        // A failing test prints promtool's message and exits 1.
        try """
        rule_files: [\(Self.alerts)/shop-resilience.yml]
        tests:
          - interval: 1m
            input_series:
              - series: 'circuit_breaker_state{service="payments", breaker="b"}'
                values: '2x10'
            alert_rule_test:
              - eval_time: 5m
                alertname: PaymentsCircuitBreakerOpen
                exp_alerts: []
        """.write(toFile: dir.path + "/fail.test.yml", atomically: true, encoding: .utf8)
        (code, out, err) = try Self.run(ArgusProcess.binary, ["rules", "test", dir.path + "/fail.test.yml"])
        #expect(code == 1)
        #expect(err.hasPrefix("  FAILED:\n    alertname: PaymentsCircuitBreakerOpen, time: 5m, \n        exp:[], \n        got:[\n            0:\n              Labels:{alertname=\"PaymentsCircuitBreakerOpen\", breaker=\"b\", service=\"payments\", severity=\"page\"}\n"), "\(err)")
    }
}
