import ArgusIngest
import ArgusModel
import ArgusTestKit
import Foundation
import Testing

/// OTLP spans into a real `argus serve`, out through the Tempo API and PromQL.
@Suite(.serialized) struct TempoAPITests {
    static func q(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed)!
    }

    static func json(_ r: TestHTTPClient.Response) throws -> [String: Any] {
        guard let o = try JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any] else { throw TestError("not a JSON object: \(r.text)") }
        return o
    }

    /// Sends 12 shop traces (every 3rd fails) as protobuf; returns them by trace number.
    static func send(_ c: TestHTTPClient) throws -> [[Span]] {
        var fx = SpanFixtures()
        let now = TimeUtil.nowNanos() - 60_000_000_000
        var traces: [[Span]] = []
        for n in 0..<12 { traces.append(fx.shopTrace(UInt64(n), start: now + Int64(n) * 1_000_000_000, fail: n % 3 == 0)) }
        let r = try c.post("/v1/traces", body: try OTLPSpanConversion.protobuf(traces.flatMap { $0 }), contentType: "application/x-protobuf")
        guard r.status == 200 else { throw TestError("ingest: \(r.status) \(r.text)") }
        return traces
    }

    @Test func traceByIDInTempoFormats() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let server = try ArgusProcess(dataDir: dir.path)
        defer { server.stop() }
        let c = server.client
        let traces = try TempoAPITests.send(c)
        let want = traces[4]
        let hex = want[0].traceID.hex
        var r = try c.get("/api/traces/\(hex)")
        #expect(r.status == 200)
        #expect(r.headers["content-type"] == "application/json")
        let obj = try TempoAPITests.json(r)
        let batches = obj["batches"] as? [[String: Any]] ?? []
        #expect(batches.count == 3)
        let spans = batches.flatMap { ($0["scopeSpans"] as? [[String: Any]] ?? []).flatMap { $0["spans"] as? [[String: Any]] ?? [] } }
        #expect(spans.count == 5)
        // Tempo's protobuf JSON writes ids in base64.
        #expect(Set(spans.compactMap { $0["traceId"] as? String }) == [Data(want[0].traceID.bytes).base64EncodedString()])
        #expect(Set(spans.compactMap { $0["name"] as? String }) == Set(want.map(\.name)))
        // Protobuf, v1 (Trace) and v2 (TraceByIDResponse), decode to the spans sent.
        r = try c.request("GET", "/api/traces/\(hex)", headers: ["Accept": "application/protobuf"])
        #expect(r.status == 200)
        #expect(r.headers["content-type"] == "application/protobuf")
        let sortKey: (Span, Span) -> Bool = { $0.spanID < $1.spanID }
        #expect(try OTLPSpanConversion.spans(fromProtobuf: r.body).sorted(by: sortKey) == want.sorted(by: sortKey))
        r = try c.request("GET", "/api/v2/traces/\(hex)", headers: ["Accept": "application/protobuf"])
        #expect(r.body.first == 0x0A)
        var len = 0, shift = 0, i = 1
        while r.body[i] & 0x80 != 0 { len |= Int(r.body[i] & 0x7F) << shift; shift += 7; i += 1 }
        len |= Int(r.body[i]) << shift
        #expect(i + 1 + len == r.body.count)
        #expect(try OTLPSpanConversion.spans(fromProtobuf: Array(r.body[(i + 1)...])).count == 5)
        let v2 = try TempoAPITests.json(try c.get("/api/v2/traces/\(hex)"))
        #expect(((v2["trace"] as? [String: Any])?["resourceSpans"] as? [Any])?.count == 3)
        // Unknown and malformed ids.
        r = try c.get("/api/traces/0123456789abcdef0123456789abcdef")
        #expect(r.status == 404)
        #expect(r.text == "trace not found\n")
        r = try c.get("/api/traces/not-hex")
        #expect(r.status == 400)
        #expect(r.text.contains("invalid trace id"))
        // Restart: the spans come back from the WAL.
        #expect(server.stop() == 0)
        let again = try ArgusProcess(dataDir: dir.path)
        defer { again.stop() }
        r = try again.client.request("GET", "/api/traces/\(hex)", headers: ["Accept": "application/protobuf"])
        #expect(try OTLPSpanConversion.spans(fromProtobuf: r.body).count == 5)
    }

    @Test func otlpJSONWithHexIDs() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let server = try ArgusProcess(dataDir: dir.path)
        defer { server.stop() }
        let c = server.client
        let now = TimeUtil.nowNanos()
        let body = """
        {"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"shell"}}]},
         "scopeSpans":[{"scope":{"name":"curl"},"spans":[
          {"traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B174","name":"root","kind":2,
           "startTimeUnixNano":"\(now)","endTimeUnixNano":"\(now + 5_000_000)","attributes":[{"key":"http.route","value":{"stringValue":"/x"}}]},
          {"traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B175","parentSpanId":"EEE19B7EC3C1B174","name":"child",
           "startTimeUnixNano":"\(now + 1_000_000)","endTimeUnixNano":"\(now + 2_000_000)","status":{"code":2,"message":"nope"}}]}]}]}
        """
        var r = try c.post("/v1/traces", body: Array(body.utf8), contentType: "application/json")
        #expect(r.status == 200)
        r = try c.get("/api/search?q=" + TempoAPITests.q(#"{ status = error }"#))
        let o = try TempoAPITests.json(r)
        let traces = o["traces"] as? [[String: Any]] ?? []
        #expect(traces.count == 1)
        #expect(traces.first?["traceID"] as? String == "5b8efff798038103d269b633813fc60c")
        #expect(traces.first?["rootServiceName"] as? String == "shell")
        #expect(traces.first?["rootTraceName"] as? String == "root")
        #expect(traces.first?["durationMs"] as? Int == 5)
        let set = traces.first?["spanSet"] as? [String: Any]
        #expect(set?["matched"] as? Int == 1)
        let span = (set?["spans"] as? [[String: Any]])?.first
        #expect(span?["spanID"] as? String == "eee19b7ec3c1b175")
        #expect(span?["durationNanos"] as? String == "1000000")
        #expect((span?["attributes"] as? [[String: Any]])?.first?["key"] as? String == "status")
        // A bad id in JSON is a 400 in OTLP's error format.
        r = try c.post("/v1/traces", body: Array(#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"zz","spanId":"01"}]}]}]}"#.utf8), contentType: "application/json")
        #expect(r.status == 400)
    }

    @Test func searchTagsAndErrors() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let server = try ArgusProcess(dataDir: dir.path)
        defer { server.stop() }
        let c = server.client
        let traces = try TempoAPITests.send(c)
        let failing = Set((0..<12).filter { $0 % 3 == 0 }.map { traces[$0][0].traceID.hex })
        var r = try c.get("/api/search?q=" + TempoAPITests.q(#"{ resource.service.name = "payment" && status = error }"#) + "&limit=50")
        #expect(r.status == 200)
        var o = try TempoAPITests.json(r)
        var found = (o["traces"] as? [[String: Any]] ?? []).compactMap { $0["traceID"] as? String }
        #expect(Set(found) == failing)
        let first = (o["traces"] as? [[String: Any]])?.first
        #expect(first?["rootServiceName"] as? String == "frontend")
        #expect(first?["rootTraceName"] as? String == "GET /checkout")
        #expect(Int64(first?["startTimeUnixNano"] as? String ?? "") != nil)
        let stats = first?["serviceStats"] as? [String: [String: Int]]
        #expect(stats?["payment"]?["errorCount"] == 1)
        #expect(stats?["checkout"]?["spanCount"] == 2)
        let metrics = o["metrics"] as? [String: Any]
        #expect((metrics?["inspectedTraces"] as? Int ?? 0) >= 12)
        // limit, structural query, and the time range.
        r = try c.get("/api/search?q=" + TempoAPITests.q(#"{ name = "placeOrder" } > { name = "charge" }"#) + "&limit=5")
        o = try TempoAPITests.json(r)
        #expect((o["traces"] as? [Any])?.count == 5)
        let start = traces[0][0].startNanos / 1_000_000_000
        r = try c.get("/api/search?q=%7B%7D&start=\(start + 100)&end=\(start + 200)")
        o = try TempoAPITests.json(r)
        #expect((o["traces"] as? [Any])?.count == 0)
        // Tempo's older tag search turns into TraceQL.
        r = try c.get("/api/search?tags=" + TempoAPITests.q("service.name=payment") + "&minDuration=35ms&limit=100")
        o = try TempoAPITests.json(r)
        found = (o["traces"] as? [[String: Any]] ?? []).compactMap { $0["traceID"] as? String }
        #expect(found.count == 12)
        // Malformed TraceQL: 400, plain text, with the position.
        r = try c.get("/api/search?q=" + TempoAPITests.q(#"{ duration > 200ms && }"#))
        #expect(r.status == 400)
        #expect(r.headers["content-type"]?.hasPrefix("text/plain") == true)
        #expect(r.text.hasPrefix("invalid TraceQL query: parse error at line 1, col 23: syntax error: unexpected }"))
        r = try c.get("/api/search?q=%7B%7D&limit=-1")
        #expect(r.status == 400)
        // Tags.
        o = try TempoAPITests.json(try c.get("/api/search/tags"))
        let names = o["tagNames"] as? [String] ?? []
        #expect(names.contains("http.method") && names.contains("service.name") && names.contains("db.system"))
        o = try TempoAPITests.json(try c.get("/api/v2/search/tags"))
        let scopes = o["scopes"] as? [[String: Any]] ?? []
        #expect(scopes.map { $0["name"] as? String } == ["resource", "span", "intrinsic"])
        #expect((scopes.first?["tags"] as? [String])?.contains("service.name") == true)
        o = try TempoAPITests.json(try c.get("/api/search/tag/service.name/values"))
        #expect(o["tagValues"] as? [String] == ["checkout", "frontend", "payment"])
        o = try TempoAPITests.json(try c.get("/api/v2/search/tag/resource.service.name/values"))
        let typed = o["tagValues"] as? [[String: String]] ?? []
        #expect(typed.map { $0["value"]! } == ["checkout", "frontend", "payment"])
        #expect(Set(typed.map { $0["type"]! }) == ["string"])
        o = try TempoAPITests.json(try c.get("/api/v2/search/tag/span.http.status_code/values"))
        #expect((o["tagValues"] as? [[String: String]] ?? []).map { $0["type"]! + ":" + $0["value"]! } == ["int:200", "int:500"])
        o = try TempoAPITests.json(try c.get("/api/search/tag/status/values"))
        #expect(o["tagValues"] as? [String] == ["error", "ok", "unset"])
    }

    @Test func spanMetricsAndServiceGraphThroughPromQL() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let server = try ArgusProcess(dataDir: dir.path, extraArgs: ["--spanmetrics-interval", "1s"])
        defer { server.stop() }
        let c = server.client
        let traces = try TempoAPITests.send(c)
        func value(_ promql: String) throws -> Double? {
            let o = try TempoAPITests.json(try c.get("/api/v1/query?query=" + TempoAPITests.q(promql)))
            let result = (o["data"] as? [String: Any])?["result"] as? [[String: Any]] ?? []
            guard let v = (result.first?["value"] as? [Any])?.last as? String else { return nil }
            return Double(v)
        }
        let deadline = Date().addingTimeInterval(20)
        var calls: Double?
        while Date() < deadline {
            calls = try value(#"traces_spanmetrics_calls_total{service="payment",span_name="charge",span_kind="SPAN_KIND_SERVER",status_code="STATUS_CODE_ERROR"}"#)
            if calls != nil { break }
            Thread.sleep(forTimeInterval: 0.3)
        }
        #expect(calls == 4)
        #expect(try value(#"traces_spanmetrics_calls_total{service="payment",status_code="STATUS_CODE_OK"}"#) == 8)
        #expect(try value(#"sum(traces_spanmetrics_calls_total)"#) == 60)
        #expect(try value(#"traces_spanmetrics_latency_count{service="frontend",span_name="GET /checkout"}"#) == 12)
        #expect(try value(#"traces_spanmetrics_latency_bucket{service="payment",span_name="charge",status_code="STATUS_CODE_OK",le="0.064"}"#) == 8)
        #expect(try value(#"traces_spanmetrics_latency_bucket{service="payment",span_name="charge",status_code="STATUS_CODE_OK",le="0.032"}"#) == 0)
        #expect(try value(#"traces_service_graph_request_total{client="frontend",server="checkout"}"#) == 12)
        #expect(try value(#"traces_service_graph_request_total{client="checkout",server="payment"}"#) == nil)
        #expect(try value(#"traces_service_graph_request_server_seconds_count{client="frontend",server="checkout"}"#) == 12)
        #expect(try value(#"traces_service_graph_request_failed_total{client="frontend",server="checkout"}"#) == 0)
        // The latency histogram's exemplars lead to traces: the failed charges (traces 0, 3,
        // 6 and 9, 40 ms each) fell in the 0.064 bucket; its exemplar is the latest to end.
        let now = TimeUtil.nowMillis() / 1000
        let q = #"traces_spanmetrics_latency_bucket{service="payment",span_name="charge",status_code="STATUS_CODE_ERROR"}"#
        let r = try c.get("/api/v1/query_exemplars?query=\(TempoAPITests.q(q))&start=\(now - 600)&end=\(now + 60)")
        let data = try TempoAPITests.json(r)["data"] as? [[String: Any]] ?? []
        #expect(data.count == 1)
        #expect((data.first?["seriesLabels"] as? [String: String])?["le"] == "0.064")
        let ex = data.first?["exemplars"] as? [[String: Any]] ?? []
        #expect(ex.count == 1)
        let charge = traces[9].first { $0.name == "charge" }!
        #expect(ex.first?["labels"] as? [String: String] == ["trace_id": charge.traceID.hex, "span_id": hex64(charge.spanID)])
        #expect(ex.first?["value"] as? String == "0.04")
        let ts = (ex.first?["timestamp"] as? Double) ?? 0
        #expect(abs(ts - Double(charge.endNanos / 1_000_000) / 1000) < 0.002)
    }

    @Test func traceCommandShowsEachSpansLogs() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let server = try ArgusProcess(dataDir: dir.path)
        defer { server.stop() }
        let traces = try TempoAPITests.send(server.client)
        let t = traces[3]
        let hex = t[0].traceID.hex
        func sid(_ name: String) -> String { hex64(t.first { $0.name == name }!.spanID) }
        let at = t[0].startNanos + 5_000_000
        let body = """
        {"streams":[
          {"stream":{"service_name":"checkout"},"values":[
            ["\(at)","order 42 placed",{"trace_id":"\(hex)","span_id":"\(sid("placeOrder"))"}],
            ["\(at + 1_000_000)","reading order rows",{"trace_id":"\(hex)","span_id":"\(sid("SELECT orders"))"}],
            ["\(at + 2_000_000)","a line of another trace",{"trace_id":"\(traces[4][0].traceID.hex)","span_id":"\(sid("placeOrder"))"}]]},
          {"stream":{"service_name":"payment"},"values":[
            ["\(at + 3_000_000)","card declined",{"trace_id":"\(hex)","span_id":"\(sid("charge"))","level":"error"}],
            ["\(at + 4_000_000)","payment line with no span",{"trace_id":"\(hex)"}]]},
          {"stream":{"service_name":"ad"},"values":[["\(at)","a service not in the trace",{"trace_id":"\(hex)"}]]}
        ]}
        """
        let r = try server.client.post("/loki/api/v1/push", body: Array(body.utf8), contentType: "application/json")
        #expect(r.status == 204, "\(r.text)")
        let url = "http://127.0.0.1:\(server.port)"
        let (status, out, err) = try TempoAPITests.cli(["trace", hex, "--logs", "--server", url, "--width", "40"])
        #expect(status == 0, "\(err)")
        let rows = out.split(separator: "\n").map(String.init)
        func index(_ text: String) -> Int? { rows.firstIndex { $0.contains(text) } }
        func spanRow(_ name: String) -> Int? { rows.firstIndex { $0.contains(name) && ($0.contains("█") || $0.contains("▒")) } }
        // Each line right under its span, after the span's row and before the next span's.
        let placed = try #require(index("order 42 placed"))
        #expect(placed == (spanRow("└ placeOrder") ?? -9) + 1)
        #expect(rows[placed].contains("│ "))
        #expect(index("reading order rows") == (spanRow("└ SELECT orders") ?? -9) + 1)
        let declined = try #require(index("card declined"))
        #expect(declined > (spanRow("└ charge") ?? Int.max))
        #expect(rows[declined].contains("error"))
        // Lines of the trace without a span of it at the end; other traces' lines and services
        // outside the trace are not fetched.
        let tail = try #require(index("Log lines of the trace with no span of it"))
        #expect((index("payment line with no span") ?? 0) > tail)
        #expect(index("a line of another trace") == nil)
        #expect(index("a service not in the trace") == nil)
        // Without --logs, no log lines.
        let (_, plain, _) = try TempoAPITests.cli(["trace", hex, "--server", url, "--width", "40"])
        #expect(!plain.contains("order 42 placed"))
    }

    /// Runs the `argus` binary with `args`; returns exit status, stdout and stderr.
    static func cli(_ args: [String]) throws -> (Int32, String, String) {
        try ArgusProcess.run(args, environment: ["NO_COLOR": "1"])
    }

    @Test func tracesAndTraceCommands() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let server = try ArgusProcess(dataDir: dir.path)
        defer { server.stop() }
        let traces = try TempoAPITests.send(server.client)
        let url = "http://127.0.0.1:\(server.port)"
        // argus traces: one row per failing trace, with span and error counts.
        var (status, out, err) = try TempoAPITests.cli(["traces", #"{ resource.service.name = "payment" && status = error }"#, "--since", "1h", "--server", url])
        #expect(status == 0, "\(err)")
        let lines = out.split(separator: "\n")
        #expect(lines.first?.hasPrefix("TRACE ID") == true)
        #expect(lines.count == 1 + 4)
        for n in [0, 3, 6, 9] {
            let row = lines.first { $0.hasPrefix(traces[n][0].traceID.hex) }
            #expect(row?.contains("frontend") == true && row?.contains("GET /checkout") == true, "trace \(n): \(out)")
            #expect(row.map { $0.split(separator: " ").suffix(2) == ["5", "1"] } == true, "trace \(n): \(out)")
        }
        // A malformed query: exit 1, the error with a caret under the column.
        (status, out, err) = try TempoAPITests.cli(["traces", "{ duration > 200ms && }", "--server", url])
        #expect(status == 1)
        #expect(err.contains("parse error at line 1, col 23"))
        #expect(err.contains("\n  " + String(repeating: " ", count: 22) + "^"))
        // argus trace: the waterfall, indented by depth, errors and the critical path marked.
        (status, out, err) = try TempoAPITests.cli(["trace", traces[3][0].traceID.hex, "--server", url, "--width", "40"])
        #expect(status == 0, "\(err)")
        #expect(out.contains("5 spans, 3 services, 1 error, 120.0ms"))
        let rows = out.split(separator: "\n").map(String.init)
        func row(_ name: String) -> String? { rows.first { $0.contains(name) && ($0.contains("█") || $0.contains("▒")) } }
        #expect(row("GET /checkout")?.hasPrefix("frontend") == true)
        #expect(row("└ placeOrder")?.hasPrefix("checkout") == true)
        #expect(row("└ charge")?.contains("!*") == true)
        // The database call ran before the charge, so it is on the critical path too.
        #expect(row("└ SELECT orders")?.contains("█") == true)
        #expect(rows.contains { $0.contains("! failed") })
        (status, _, err) = try TempoAPITests.cli(["trace", "00000000000000000000000000000bad", "--server", url])
        #expect(status == 1)
        #expect(err.contains("not found"))
    }
}
