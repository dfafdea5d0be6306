import ArgusIngest
import ArgusModel
import ArgusTestKit
import Foundation
import Testing

/// Exemplars and metadata from remote_write and OTLP, read back through Prometheus'
/// /api/v1/query_exemplars and /api/v1/metadata, against a real `argus serve`.
@Suite(.serialized) struct ExemplarAPITests {
    func q(_ s: String) -> String { s.addingPercentEncoding(withAllowedCharacters: .alphanumerics)! }

    @Test func remoteWriteExemplarsAndMetadata() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let server = try ArgusProcess(dataDir: dir.path, extraArgs: ["--self-scrape-interval", "0s"])
        defer { server.stop() }
        let c = server.client
        let now = TimeUtil.nowMillis() / 1000 * 1000
        let body = RemoteWriteBuilder.build([
            .init([("__name__", "http_request_duration_seconds_bucket"), ("le", "0.5"), ("job", "api")], [(now, 7)],
                  exemplars: [([("trace_id", "4bf92f3577b34da6a3ce929d0e0e4736"), ("span_id", "00f067aa0ba902b7")], 0.31, now - 500)]),
            .init([("__name__", "http_request_duration_seconds_bucket"), ("le", "1"), ("job", "api")], [(now, 9)]),
        ], metadata: [.init(type: 3, name: "http_request_duration_seconds", help: "Request latency.", unit: "seconds")])
        let headers = ["Content-Encoding": "snappy", "Content-Type": "application/x-protobuf", "X-Prometheus-Remote-Write-Version": "0.1.0"]
        var r = try c.request("POST", "/api/v1/write", body: Snappy.compress(body), headers: headers)
        #expect(r.status == 204, "\(r.text)")

        let start = String((now - 60_000) / 1000), end = String((now + 60_000) / 1000)
        r = try c.get("/api/v1/query_exemplars?query=\(q("histogram_quantile(0.9, rate(http_request_duration_seconds_bucket[5m]))"))&start=\(start)&end=\(end)")
        #expect(r.status == 200)
        let ts = "\((now - 500) / 1000).500"
        #expect(r.text == "{\"status\":\"success\",\"data\":[{\"seriesLabels\":{\"__name__\":\"http_request_duration_seconds_bucket\",\"job\":\"api\",\"le\":\"0.5\"},\"exemplars\":[{\"labels\":{\"span_id\":\"00f067aa0ba902b7\",\"trace_id\":\"4bf92f3577b34da6a3ce929d0e0e4736\"},\"value\":\"0.31\",\"timestamp\":\(ts)}]}]}", "\(r.text)")
        // Outside the time range: an empty list.
        r = try c.get("/api/v1/query_exemplars?query=http_request_duration_seconds_bucket&start=\(Int(start)! - 3600)&end=\(Int(start)! - 1800)")
        #expect(r.text == "{\"status\":\"success\",\"data\":[]}")
        // Errors in Prometheus' envelope.
        r = try c.get("/api/v1/query_exemplars?query=\(q("rate(x[5m]"))")
        #expect(r.status == 400)
        #expect(r.text.hasPrefix("{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\"invalid parameter \\\"query\\\": "))
        r = try c.get("/api/v1/query_exemplars?query=x&start=20&end=10")
        #expect(r.status == 400)

        r = try c.get("/api/v1/metadata")
        #expect(r.text == "{\"status\":\"success\",\"data\":{\"http_request_duration_seconds\":[{\"type\":\"histogram\",\"help\":\"Request latency.\",\"unit\":\"seconds\"}]}}", "\(r.text)")
        r = try c.get("/api/v1/metadata?metric=nope")
        #expect(r.text == "{\"status\":\"success\",\"data\":{}}")
        r = try c.get("/api/v1/metadata?limit=abc")
        #expect(r.status == 400)
    }

    @Test func otlpHistogramExemplarsLandOnTheirBucket() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let server = try ArgusProcess(dataDir: dir.path, extraArgs: ["--self-scrape-interval", "0s"])
        defer { server.stop() }
        let c = server.client
        let nowNs = UInt64(TimeUtil.nowMillis()) * 1_000_000
        let json = """
        {"resourceMetrics":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"checkout"}}]},
         "scopeMetrics":[{"metrics":[{"name":"http.server.duration","unit":"s","description":"Server latency.",
           "histogram":{"aggregationTemporality":2,"dataPoints":[{"timeUnixNano":"\(nowNs)","count":"3","sum":1.2,
             "explicitBounds":[0.1,0.5,1],"bucketCounts":["1","1","1","0"],
             "exemplars":[{"timeUnixNano":"\(nowNs)","asDouble":0.42,"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174"}]}]}}]}]}]}
        """
        let r = try c.post("/v1/metrics", body: Array(json.utf8), contentType: "application/json")
        #expect(r.status == 200, "\(r.text)")
        let e = try c.get("/api/v1/query_exemplars?query=\(q("http_server_duration_seconds_bucket"))")
        #expect(e.status == 200)
        #expect(e.text.contains("\"seriesLabels\":{\"__name__\":\"http_server_duration_seconds_bucket\",\"job\":\"checkout\",\"le\":\"0.5\"}"), "\(e.text)")
        #expect(e.text.contains("\"labels\":{\"span_id\":\"eee19b7ec3c1b174\",\"trace_id\":\"5b8efff798038103d269b633813fc60c\"},\"value\":\"0.42\""), "\(e.text)")
        #expect(!e.text.contains("\"le\":\"0.1\""))
        let m = try c.get("/api/v1/metadata?metric=http_server_duration_seconds")
        #expect(m.text.contains("\"type\":\"histogram\",\"help\":\"Server latency.\""), "\(m.text)")
    }
}
