import ArgusModel
import ArgusTestKit
import Foundation
import Testing

/// The Loki API of a real `argus serve`: pushes through Loki JSON and OTLP/HTTP JSON come back
/// through LogQL with Loki's JSON.
@Suite(.serialized) struct LokiAPITests {
    static func q(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed)!
    }

    func json(_ r: TestHTTPClient.Response) throws -> [String: Any] {
        guard let o = try JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any] else { throw TestError("not an object: \(r.text)") }
        return o
    }

    let now = TimeUtil.nowNanos()

    func pushLoki(_ c: TestHTTPClient) throws {
        let body = """
        {"streams":[
          {"stream":{"service_name":"checkout","env":"prod"},"values":[
            ["\(now - 3_000_000_000)","{\\"msg\\":\\"payment timeout\\",\\"duration\\":\\"3.5s\\"}",{"trace_id":"0102030405060708090a0b0c0d0e0f10"}],
            ["\(now - 2_000_000_000)","{\\"msg\\":\\"payment timeout\\",\\"duration\\":\\"1s\\"}"],
            ["\(now - 1_000_000_000)","level=info msg=ok"]]},
          {"stream":{"service_name":"cart"},"values":[["\(now - 500_000_000)","level=warn msg=\\"slow cart\\""]]}
        ]}
        """
        let r = try c.post("/loki/api/v1/push", body: Array(body.utf8), contentType: "application/json")
        #expect(r.status == 204, "\(r.text)")
    }

    @Test func lokiPushComesBackAsStreams() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let server = try ArgusProcess(dataDir: dir.path)
        defer { server.stop() }
        let c = server.client
        try pushLoki(c)
        let start = now - 3_600_000_000_000
        // Loki's default encoding: structured metadata and parsed labels are stream labels.
        let r = try c.get("/loki/api/v1/query_range?query=" + Self.q(#"{service_name="checkout"} |= "timeout" | json | duration > 2s"#) + "&start=\(start)&end=\(now)")
        #expect(r.status == 200)
        let o = try json(r)
        #expect(o["status"] as? String == "success")
        let d = o["data"] as! [String: Any]
        #expect(d["resultType"] as? String == "streams")
        let stats = d["stats"] as? [String: Any]
        #expect((stats?["summary"] as? [String: Any])?["totalEntriesReturned"] as? Int == 1)
        let result = d["result"] as! [[String: Any]]
        #expect(result.count == 1)
        #expect(result[0]["stream"] as? [String: String] == ["service_name": "checkout", "env": "prod", "msg": "payment timeout", "duration": "3.5s",
                                                             "trace_id": "0102030405060708090a0b0c0d0e0f10", "detected_level": "unknown"])
        let values = result[0]["values"] as! [[Any]]
        #expect(values.count == 1)
        #expect(values[0].count == 2)
        #expect(values[0][0] as? String == String(now - 3_000_000_000))
        #expect(values[0][1] as? String == #"{"msg":"payment timeout","duration":"3.5s"}"#)

        // Categorized labels (what Grafana asks for): [ts, line, {structuredMetadata, parsed}].
        let cat = try c.request("GET", "/loki/api/v1/query_range?query=" + Self.q(#"{service_name="checkout"} | json"#) + "&start=\(start)&end=\(now)&direction=forward&limit=2",
                                headers: ["X-Loki-Response-Encoding-Flags": "categorize-labels"])
        let cr = (try json(cat)["data"] as! [String: Any])["result"] as! [[String: Any]]
        #expect(cr.count == 1)
        #expect(cr[0]["stream"] as? [String: String] == ["service_name": "checkout", "env": "prod"])
        let cv = cr[0]["values"] as! [[Any]]
        #expect(cv.map { $0[0] as! String } == [String(now - 3_000_000_000), String(now - 2_000_000_000)])
        let extra = cv[0][2] as! [String: [String: String]]
        #expect(extra["structuredMetadata"]?["trace_id"] == "0102030405060708090a0b0c0d0e0f10")
        #expect(extra["parsed"] == ["msg": "payment timeout", "duration": "3.5s"])

        // Metric queries: matrix from query_range, vector from query.
        let m = try c.get("/loki/api/v1/query_range?query=" + Self.q(#"sum by (service_name) (count_over_time({service_name=~".+"}[5m]))"#) + "&start=\(now - 60_000_000_000)&end=\(now)&step=30")
        let md = try json(m)["data"] as! [String: Any]
        #expect(md["resultType"] as? String == "matrix")
        let series = md["result"] as! [[String: Any]]
        #expect(Set(series.map { ($0["metric"] as! [String: String])["service_name"]! }) == ["cart", "checkout"])
        let v = try c.get("/loki/api/v1/query?query=" + Self.q(#"sum(count_over_time({service_name="checkout"}[5m]))"#) + "&time=\(now)")
        let vd = try json(v)["data"] as! [String: Any]
        #expect(vd["resultType"] as? String == "vector")
        let vr = vd["result"] as! [[String: Any]]
        #expect((vr.first?["value"] as? [Any])?.last as? String == "3")
    }

    @Test func otlpLogsGetLokiStreamLabelsAndMetadata() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let server = try ArgusProcess(dataDir: dir.path)
        defer { server.stop() }
        let c = server.client
        let body = """
        {"resourceLogs":[{"resource":{"attributes":[
            {"key":"service.name","value":{"stringValue":"checkout"}},
            {"key":"deployment.environment","value":{"stringValue":"prod"}},
            {"key":"host.name","value":{"stringValue":"web-1"}},
            {"key":"team","value":{"stringValue":"payments"}}]},
          "scopeLogs":[{"scope":{"name":"shop.checkout"},"logRecords":[
            {"timeUnixNano":"\(now - 2_000_000_000)","severityNumber":17,"severityText":"ERROR","body":{"stringValue":"charge failed"},
             "traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",
             "attributes":[{"key":"order.id","value":{"stringValue":"ord-42"}},{"key":"amount","value":{"doubleValue":12.5}}]},
            {"timeUnixNano":"\(now - 1_000_000_000)","severityNumber":9,"body":{"stringValue":"charge ok"}}]}]}]}
        """
        let r = try c.post("/v1/logs", body: Array(body.utf8), contentType: "application/json")
        #expect(r.status == 200, "\(r.text)")
        let q = try c.request("GET", "/loki/api/v1/query_range?query=" + Self.q(#"{service_name="checkout", host_name="web-1"}"#) + "&start=\(now - 60_000_000_000)&end=\(now)&direction=forward",
                              headers: ["X-Loki-Response-Encoding-Flags": "categorize-labels"])
        let result = (try json(q)["data"] as! [String: Any])["result"] as! [[String: Any]]
        #expect(result.count == 1)
        #expect(result[0]["stream"] as? [String: String] == ["service_name": "checkout", "deployment_environment": "prod", "host_name": "web-1"])
        let values = result[0]["values"] as! [[Any]]
        #expect(values.map { $0[1] as! String } == ["charge failed", "charge ok"])
        let meta = (values[0][2] as! [String: [String: String]])["structuredMetadata"]!
        #expect(meta == ["order_id": "ord-42", "amount": "12.5", "team": "payments", "scope_name": "shop.checkout",
                         "trace_id": "5b8efff798038103d269b633813fc60c", "span_id": "eee19b7ec3c1b174",
                         "severity_text": "ERROR", "severity_number": "17", "detected_level": "error", "level": "error"])
        // High-cardinality metadata is searchable without being a label.
        let byOrder = try c.get("/loki/api/v1/query_range?query=" + Self.q(#"{service_name="checkout"} | order_id="ord-42""#) + "&start=\(now - 60_000_000_000)&end=\(now)")
        #expect(((try json(byOrder)["data"] as! [String: Any])["result"] as! [Any]).count == 1)
        let labels = try json(c.get("/loki/api/v1/labels"))["data"] as? [String]
        #expect(labels == ["deployment_environment", "host_name", "service_name"])
    }

    @Test func badQueriesGet400WithThePosition() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let server = try ArgusProcess(dataDir: dir.path)
        defer { server.stop() }
        let c = server.client
        try pushLoki(c)
        let r = try c.get("/loki/api/v1/query_range?query=" + Self.q(#"{service_name="checkout"} |= "timeout" | json | duration >"#))
        #expect(r.status == 400)
        #expect(r.text == "parse error at line 1, col 59: syntax error: unexpected $end, expecting STRING or NUMBER or DURATION or BYTES\n")
        let l = try c.get("/loki/api/v1/query_range?query=" + Self.q(#"{service_name="checkout"}"#) + "&limit=100000")
        #expect(l.status == 400)
        #expect(l.text.hasPrefix("max entries limit per query exceeded"))
        let t = try c.get("/loki/api/v1/query_range?query=" + Self.q(#"{service_name="checkout"}"#) + "&start=yesterday")
        #expect(t.status == 400)
        let i = try c.get("/loki/api/v1/query?query=" + Self.q(#"{service_name="checkout"}"#))
        #expect(i.status == 400)
        #expect(i.text.contains("log queries are not supported as an instant query type"))
        // Times and steps past what 64-bit nanoseconds hold are 400s (they used to trap), here
        // and in the Prometheus API.
        for bad in ["&start=9999999999", "&end=1e300.5", "&step=1e300"] {
            let o = try c.get("/loki/api/v1/query_range?query=" + Self.q(#"{service_name="checkout"}"#) + bad)
            #expect(o.status == 400, "\(bad)")
        }
        #expect(try c.get("/api/v1/query?query=1&time=1e300").status == 400)
        #expect(try c.get("/api/v1/query_range?query=1&start=0&end=10&step=1e300").status == 400)
        #expect(try c.get("/-/healthy").status == 200)
    }

    @Test func metadataEndpointsAndRestart() throws {
        let dir = TempDir()
        defer { dir.remove() }
        do {
            let server = try ArgusProcess(dataDir: dir.path)
            try pushLoki(server.client)
            server.kill9()  // acknowledged pushes are in the WAL
        }
        let server = try ArgusProcess(dataDir: dir.path)
        defer { server.stop() }
        let c = server.client
        #expect(try json(c.get("/loki/api/v1/label/service_name/values"))["data"] as? [String] == ["cart", "checkout"])
        let s = try json(c.get("/loki/api/v1/series?match%5B%5D=" + Self.q(#"{env="prod"}"#)))["data"] as? [[String: String]]
        #expect(s == [["service_name": "checkout", "env": "prod"]])
        let st = try json(c.get("/loki/api/v1/index/stats?query=" + Self.q(#"{service_name=~".+"}"#)))
        #expect(st["streams"] as? Int == 2)
        #expect(st["entries"] as? Int == 4)
        // Cut into blocks and read back from them.
        #expect(try c.post("/loki/api/v1/admin/flush", "").status == 200)
        let r = try c.get("/loki/api/v1/query_range?query=" + Self.q(#"{service_name="cart"}"#) + "&start=\(now - 60_000_000_000)&end=\(now)")
        let values = (((try json(r)["data"] as! [String: Any])["result"] as! [[String: Any]]).first?["values"] as? [[Any]]) ?? []
        #expect(values.map { $0[1] as! String } == [#"level=warn msg="slow cart""#])
    }

    /// Runs the `argus` binary with `args`; returns exit status, stdout and stderr.
    func argus(_ args: [String]) throws -> (Int32, String, String) { try ArgusProcess.run(args) }

    @Test func argusLogsCommand() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let server = try ArgusProcess(dataDir: dir.path)
        defer { server.stop() }
        try pushLoki(server.client)
        let url = "http://127.0.0.1:\(server.port)"
        let raw = try argus(["logs", #"{service_name="checkout"}"#, "--since", "1h", "--output", "raw", "--server", url])
        #expect(raw.0 == 0)
        #expect(raw.1 == #"{"msg":"payment timeout","duration":"3.5s"}"# + "\n" + #"{"msg":"payment timeout","duration":"1s"}"# + "\nlevel=info msg=ok\n")
        let text = try argus(["logs", #"{service_name=~".+"} |= "slow""#, "--since", "1h", "--server", url])
        #expect(text.0 == 0)
        #expect(text.1.contains(" WARN  cart level=warn msg=\"slow cart\""))
        let traced = try argus(["logs", #"{service_name="checkout"} | json | duration > 2s"#, "--since", "1h", "--server", url])
        #expect(traced.1.contains(" checkout {\"msg\":\"payment timeout\",\"duration\":\"3.5s\"} trace_id=0102030405060708090a0b0c0d0e0f10"))
        let json = try argus(["logs", #"{service_name="cart"}"#, "--since", "1h", "--output", "json", "--server", url])
        #expect(json.1.contains(#""resultType":"streams""#))
        let metric = try argus(["logs", #"sum(count_over_time({service_name=~".+"}[1h]))"#, "--since", "10m", "--server", url])
        #expect(metric.0 == 0)
        #expect(metric.1.contains("4"))
        let bad = try argus(["logs", #"{service_name="checkout"} |= "#, "--server", url])
        #expect(bad.0 == 1)
        #expect(bad.2 == "error: parse error at line 1, col 30: syntax error: unexpected $end, expecting STRING\n  {service_name=\"checkout\"} |= \n" + String(repeating: " ", count: 31) + "^\n")
    }
}
