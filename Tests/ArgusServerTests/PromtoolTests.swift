import ArgusModel
import ArgusTestKit
import Foundation
import Testing

/// promtool (Debian's `prometheus` package, installed by `make test`) as a real Prometheus API client.
@Suite struct PromtoolTests {
    func promtool(_ args: [String]) throws -> (Int32, String, String) {
        let path = "/usr/bin/promtool"
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw TestError("promtool is missing: run `make test` (it installs Debian's prometheus package) or apt-get install prometheus")
        }
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

    @Test func promtoolQueriesArgus() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let server = try ArgusProcess(dataDir: dir.path, extraArgs: ["--self-scrape-interval", "0s"])
        defer { server.stop() }
        let url = "http://127.0.0.1:\(server.port)"
        let t0 = (TimeUtil.nowMillis() / 60_000 - 5) * 60_000
        var lines = ""
        for i in 0...4 { lines += "jobs_done_total{queue=\"mail\"} \(i * 30) \(t0 + Int64(i) * 60_000)\n" }
        #expect(try server.client.post("/api/v1/import/prometheus", lines).status == 204)
        let end = (t0 + 240_000) / 1000
        var (code, out, err) = try promtool(["query", "instant", "--time", String(end), url, "rate(jobs_done_total[2m])"])
        #expect(code == 0, "\(err)")
        #expect(out == "{queue=\"mail\"} => 0.5 @[\(end)]\n")
        (code, out, err) = try promtool(["query", "range", "--start", String(end - 120), "--end", String(end), "--step", "60s", url, "jobs_done_total"])
        #expect(code == 0, "\(err)")
        #expect(out == "jobs_done_total{queue=\"mail\"} =>\n60 @[\(end - 120)]\n90 @[\(end - 60)]\n120 @[\(end)]\n")
        (code, out, err) = try promtool(["query", "series", "--match=jobs_done_total", url])
        #expect(out == "{__name__=\"jobs_done_total\", queue=\"mail\"}\n")
        (code, out, err) = try promtool(["query", "instant", url, "sum(jobs_done_total"])
        #expect(code == 1)
        #expect(err.contains("bad_data: invalid parameter \"query\": 1:20: parse error: unclosed left parenthesis"))
    }
}
