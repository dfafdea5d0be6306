import ArgusModel
import ArgusTestKit
import Foundation
import Testing

/// The Prometheus HTTP API against a real `argus serve`, compared with the JSON Prometheus gives.
@Suite(.serialized) struct PrometheusAPITests {
    func q(_ s: String) -> String { s.addingPercentEncoding(withAllowedCharacters: .alphanumerics)! }

    @Test func queriesAndMetadataEndpoints() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let server = try ArgusProcess(dataDir: dir.path, extraArgs: ["--self-scrape-interval", "0s"])
        defer { server.stop() }
        let c = server.client
        let base: Int64 = 1_795_000_000_000 - 0  // fixed times near now (within retention)
        let t0 = (TimeUtil.nowMillis() / 60_000 - 10) * 60_000
        _ = base
        var lines = ""
        for i in 0...10 {
            lines += "http_requests_total{job=\"api\",code=\"200\"} \(i * 60) \(t0 + Int64(i) * 60_000)\n"
            lines += "http_requests_total{job=\"api\",code=\"500\"} \(i * 6) \(t0 + Int64(i) * 60_000)\n"
        }
        #expect(try c.post("/api/v1/import/prometheus", lines).status == 204)
        let end = t0 + 600_000
        let endS = String(end / 1000)

        var r = try c.get("/api/v1/query?query=\(q("sum by (code) (rate(http_requests_total[5m]))"))&time=\(endS)")
        #expect(r.status == 200)
        #expect(r.text == "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{\"code\":\"200\"},\"value\":[\(endS),\"1\"]},{\"metric\":{\"code\":\"500\"},\"value\":[\(endS),\"0.1\"]}]}}"
                || r.text == "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{\"code\":\"500\"},\"value\":[\(endS),\"0.1\"]},{\"metric\":{\"code\":\"200\"},\"value\":[\(endS),\"1\"]}]}}",
                "\(r.text)")

        r = try c.get("/api/v1/query?query=\(q("1.5"))&time=\(endS).25")
        #expect(r.text == "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\",\"result\":[\(endS).250,\"1.5\"]}}")

        // Form-encoded POST, a range query.
        let startS = String((end - 120_000) / 1000)
        r = try c.post("/api/v1/query_range", body: Array("query=\(q("http_requests_total{code=\"500\"}"))&start=\(startS)&end=\(endS)&step=60s".utf8),
                       contentType: "application/x-www-form-urlencoded")
        #expect(r.text == "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[{\"metric\":{\"__name__\":\"http_requests_total\",\"code\":\"500\",\"job\":\"api\"},\"values\":[[\(startS),\"48\"],[\(Int(startS)! + 60),\"54\"],[\(endS),\"60\"]]}]}}")

        // Errors: Prometheus' envelope, status codes and texts.
        r = try c.get("/api/v1/query?query=\(q("sum(rate(x[5m])"))")
        #expect(r.status == 400)
        #expect(r.text == "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\"invalid parameter \\\"query\\\": 1:16: parse error: unclosed left parenthesis\"}")
        r = try c.get("/api/v1/query_range?query=up&start=10&end=5&step=1")
        #expect(r.status == 400)
        #expect(r.text.contains("end timestamp must not be before start time"))
        r = try c.get("/api/v1/query_range?query=up&start=0&end=100000&step=1")
        #expect(r.text.contains("exceeded maximum resolution of 11,000 points per timeseries"))
        r = try c.get("/api/v1/query?query=\(q("http_requests_total + on(job) http_requests_total"))&time=\(endS)")
        #expect(r.status == 422)
        #expect(r.text.contains("\"errorType\":\"execution\""))

        r = try c.get("/api/v1/series?match%5B%5D=\(q("http_requests_total{code=\"200\"}"))")
        #expect(r.text == "{\"status\":\"success\",\"data\":[{\"__name__\":\"http_requests_total\",\"code\":\"200\",\"job\":\"api\"}]}")
        #expect(try c.get("/api/v1/series").status == 400)
        r = try c.get("/api/v1/labels")
        #expect(r.text == "{\"status\":\"success\",\"data\":[\"__name__\",\"code\",\"job\"]}")
        r = try c.get("/api/v1/label/code/values")
        #expect(r.text == "{\"status\":\"success\",\"data\":[\"200\",\"500\"]}")
        #expect(try c.get("/api/v1/status/buildinfo").text.contains("\"version\":"))
        #expect(try c.get("/api/v1/status/tsdb").text.contains("\"seriesCountByMetricName\":[{\"name\":\"http_requests_total\",\"value\":2}]"))
    }

    @Test func queryCommandPrintsTablesAndCarets() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let server = try ArgusProcess(dataDir: dir.path, extraArgs: ["--self-scrape-interval", "0s"])
        defer { server.stop() }
        let now = TimeUtil.nowMillis()
        #expect(try server.client.post("/api/v1/import/prometheus", "temp_celsius{room=\"lab\"} 21.5 \(now - 1000)\n").status == 204)
        func run(_ args: [String]) throws -> (Int32, String, String) {
            try ArgusProcess.run(["query", "--server", "http://127.0.0.1:\(server.port)"] + args)
        }
        var (code, out, err) = try run(["temp_celsius"])
        #expect(code == 0)
        #expect(out == "SERIES                    VALUE\ntemp_celsius{room=\"lab\"}  21.5\n")
        (code, out, err) = try run(["sum(temp_celsius) by (room"])
        #expect(code == 1)
        #expect(err == "error: 1:27: parse error: unclosed left parenthesis\n  sum(temp_celsius) by (room\n                            ^\n")
        (code, out, err) = try run(["--output", "json", "temp_celsius"])
        #expect(out.hasPrefix("{\"status\":\"success\""))
        (code, out, err) = try run(["--since", "5m", "--output", "chart", "temp_celsius"])
        #expect(code == 0)
        #expect(out.contains("temp_celsius{room=\"lab\"}"))
        #expect(out.unicodeScalars.contains { $0.value >= 0x2800 && $0.value <= 0x28FF })
    }
}
