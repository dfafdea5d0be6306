import ArgusIngest
import ArgusModel
import ArgusStorage
import ArgusTestKit
import Foundation
import Logging
import Testing

@Suite struct OTLPSpansTests {
    func quiet() -> Logger {
        var l = Logger(label: "test")
        l.logLevel = .critical
        return l
    }

    @Test func conversionRoundTripsAndRejectsBadIDs() throws {
        var fx = SpanFixtures()
        var spans = fx.shopTrace(1, start: 1_700_000_000_000_000_000, fail: true)
        spans[0].links = [SpanLink(traceID: TraceID(hi: 5, lo: 6), spanID: 9, traceState: "a=b", attributes: [SpanAttribute("k", .bool(true))])]
        spans[1].attributes.append(SpanAttribute("list", .raw([0x2A, 0x04, 0x0A, 0x02, 0x68, 0x69])))
        let body = try OTLPSpanConversion.protobuf(spans)
        #expect(try OTLPSpanConversion.spans(fromProtobuf: body) == spans)
        // A span with a zero trace id and one with a short parent id are rejected, the rest kept.
        var bad = spans[2]
        bad.traceID = TraceID(hi: 0, lo: 0)
        var req = OTLPSpanConversion.request([spans[3], bad])
        req.resourceSpans[0].scopeSpans[0].spans[0].parentSpanID = Data([1, 2, 3])
        var counts = IngestCounts()
        let kept = OTLPSpanConversion.spans(req, counts: &counts)
        #expect(kept.isEmpty)
        #expect(counts.rejected == ["invalid_trace_id": 1, "invalid_parent_id": 1])
    }

    /// The wire decoder (the /v1/traces path) gives exactly the spans the SwiftProtobuf message
    /// converter gives.
    @Test func wireDecoderMatchesMessageConverter() throws {
        var fx = SpanFixtures()
        var spans: [Span] = []
        for n in 0..<20 { spans += fx.shopTrace(UInt64(n + 1), start: 1_700_000_000_000_000_000 + Int64(n) * 1_000_000, slow: n % 3 == 0, fail: n % 4 == 0) }
        spans[0].links = [SpanLink(traceID: TraceID(hi: 5, lo: 6), spanID: 9, traceState: "a=b", attributes: [SpanAttribute("k", .bool(true))])]
        spans[1].attributes.append(SpanAttribute("list", .raw([0x2A, 0x04, 0x0A, 0x02, 0x68, 0x69])))
        spans[2].attributes.append(SpanAttribute("a.rather.long.attribute.key.name", .double(2.5)))
        spans[2].attributes.append(SpanAttribute("negative", .int(-7)))
        spans[3].events = [SpanEvent(timeNanos: 1_700_000_000_000_000_500, name: "exception", attributes: [SpanAttribute("exception.message", .string("boom ☃"))])]
        spans[4].flags = 0x301
        spans[4].traceState = "vendor=x"
        let body = try OTLPSpanConversion.protobuf(spans)
        var counts = IngestCounts()
        let wire = try OTLPSpanWire.spans(body, counts: &counts)
        // (The encoder groups spans by resource and scope, so compare in that order.)
        let viaConverter = try OTLPSpanConversion.spans(fromProtobuf: body)
        #expect(viaConverter.count == spans.count)
        #expect(wire == viaConverter)
        #expect(counts.samples == spans.count)

        // Invalid ids and times are rejected span by span with the converter's reasons.
        var bad = spans[5]
        bad.traceID = TraceID(hi: 0, lo: 0)
        var late = spans[6]
        late.durationNanos = -5
        var req = OTLPSpanConversion.request([spans[7], bad, late, spans[8]])
        req.resourceSpans[0].scopeSpans[0].spans[0].parentSpanID = Data([1, 2, 3])
        var c1 = IngestCounts(), c2 = IngestCounts()
        let viaMessages = OTLPSpanConversion.spans(req, counts: &c1)
        let viaWire = try OTLPSpanWire.spans(try req.serializedBytes(), counts: &c2)
        #expect(viaWire == viaMessages)
        #expect(viaWire == [spans[8]])
        #expect(c2.rejected == ["invalid_trace_id": 1, "invalid_parent_id": 1, "invalid_time": 1])
        #expect(c2.firstError == c1.firstError)
    }

    /// Fields in an unusual order (scope_spans before the resource, the scope after its spans)
    /// and unknown fields are accepted; a wrong wire type, a truncated body and a string that is
    /// not UTF-8 fail the request.
    @Test func wireDecoderFieldOrderAndMalformedBodies() throws {
        func bytesField(_ w: inout ProtoWriter, _ field: Int, _ b: [UInt8]) {
            w.tag(field, .bytes)
            w.varint(UInt64(b.count))
            w.bytes += b
        }
        var span = ProtoWriter()
        bytesField(&span, 1, Array(repeating: 0xAB, count: 16))
        bytesField(&span, 2, [0, 0, 0, 0, 0, 0, 0, 7])
        span.string(5, "GET /cart")
        span.int64(99, 12345) // unknown
        span.tag(7, .fixed64); span.bytes += withUnsafeBytes(of: UInt64(1000).littleEndian, Array.init)
        span.tag(8, .fixed64); span.bytes += withUnsafeBytes(of: UInt64(3500).littleEndian, Array.init)
        span.tag(6, .varint); span.varint(2)
        var scopeMsg = ProtoWriter()
        scopeMsg.string(1, "shop")
        scopeMsg.string(2, "1.0")
        var scopeSpans = ProtoWriter()
        scopeSpans.message(2, span)
        scopeSpans.message(1, scopeMsg)
        var kv = ProtoWriter()
        kv.string(1, "service.name")
        var any = ProtoWriter()
        any.string(1, "cart")
        kv.message(2, any)
        var resource = ProtoWriter()
        resource.message(1, kv)
        var rs = ProtoWriter()
        rs.message(2, scopeSpans)
        rs.message(1, resource)
        var req = ProtoWriter()
        req.message(1, rs)
        var counts = IngestCounts()
        let got = try OTLPSpanWire.spans(req.bytes, counts: &counts)
        #expect(got.count == 1)
        #expect(got.first?.service == "cart")
        #expect(got.first?.origin.scopeName == "shop")
        #expect(got.first?.name == "GET /cart")
        #expect(got.first?.kind == .server)
        #expect(got.first?.durationNanos == 2500)
        #expect(got.first?.spanID == 7)
        // The same body through SwiftProtobuf agrees.
        #expect(try OTLPSpanConversion.spans(fromProtobuf: req.bytes) == got)

        var truncated = req.bytes
        truncated.removeLast(3)
        #expect(throws: ArgusError.self) { try OTLPSpanWire.spans(truncated, counts: &counts) }
        var wrongWire = ProtoWriter()
        wrongWire.int64(1, 5) // resource_spans as a varint
        #expect(throws: ArgusError.self) { try OTLPSpanWire.spans(wrongWire.bytes, counts: &counts) }
        var badName = ProtoWriter()
        bytesField(&badName, 5, [0x66, 0xFF, 0xFE, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41])
        var ss2 = ProtoWriter()
        ss2.message(2, badName)
        var rs2 = ProtoWriter()
        rs2.message(2, ss2)
        var req2 = ProtoWriter()
        req2.message(1, rs2)
        #expect(throws: ArgusError.self) { try OTLPSpanWire.spans(req2.bytes, counts: &counts) }
    }

    /// Thousands of mutated valid bodies: the wire decoder refuses them with an error or agrees
    /// with SwiftProtobuf's decoding; it never crashes.
    @Test func wireDecoderFuzz() throws {
        var fx = SpanFixtures()
        var spans: [Span] = []
        for n in 0..<4 { spans += fx.shopTrace(UInt64(n + 1), start: 1_700_000_000_000_000_000, fail: n == 1) }
        spans[0].events = [SpanEvent(timeNanos: 1_700_000_000_000_000_500, name: "retry", attributes: [SpanAttribute("attempt", .int(2))])]
        let valid = try OTLPSpanConversion.protobuf(spans)
        var rng = SystemRandomNumberGenerator()
        var agreed = 0, refused = 0
        func withoutRaw(_ s: [Span]) -> [Span] {
            s.map { var x = $0; x.attributes = x.attributes.filter { if case .raw = $0.value { return false }; return true }; return x }
        }
        for _ in 0..<3000 {
            var b = valid
            for _ in 0..<Int.random(in: 1...4, using: &rng) where b.count > 2 {
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: b[Int.random(in: 0..<b.count, using: &rng)] ^= UInt8.random(in: 1...255, using: &rng)
                case 1: b = Array(b.prefix(Int.random(in: 1..<b.count, using: &rng)))
                default: b.insert(UInt8.random(in: 0...255, using: &rng), at: Int.random(in: 0..<b.count, using: &rng))
                }
            }
            var counts = IngestCounts()
            let wire: [Span]
            do { wire = try OTLPSpanWire.spans(b, counts: &counts) } catch is ArgusError {
                refused += 1
                continue
            }
            // Where SwiftProtobuf decodes it too, both give the same spans (raw AnyValues aside:
            // SwiftProtobuf re-encodes them, the wire decoder keeps the sender's bytes).
            if let viaMessages = try? OTLPSpanConversion.spans(fromProtobuf: b) {
                #expect(withoutRaw(wire) == withoutRaw(viaMessages))
                agreed += 1
            }
        }
        #expect(refused > 0)
        #expect(agreed > 0)
    }

    @Test func signalLogIsImportedOnceAndRemoved() throws {
        let dir = TempDir()
        defer { dir.remove() }
        var fx = SpanFixtures()
        let a = fx.shopTrace(1, start: 1_700_000_000_000_000_000)
        let b = fx.shopTrace(2, start: 1_700_000_001_000_000_000)
        let logDir = dir.path + "/signals/traces"
        do {
            let log = try SignalLog(dir: logDir, logger: quiet())
            try log.append(try OTLPSpanConversion.protobuf(a))
            try log.append(try OTLPSpanConversion.protobuf(b))
            log.close()
        }
        var o = StorageOptions(dataDir: dir.path)
        o.retention = 100 * 365 * 86_400_000
        do {
            let store = try SpanStore(options: o, logger: quiet())
            let ingester = OTLPSpanIngester(store: store)
            #expect(try ingester.importSignalLog(dir: logDir, logger: quiet()) == 10)
            #expect(!FileManager.default.fileExists(atPath: logDir))
            #expect(try ingester.importSignalLog(dir: logDir, logger: quiet()) == 0)
            store.close()
        }
        // The imported spans are durable in the span store's WAL.
        let store = try SpanStore(options: o, logger: quiet())
        #expect(try store.trace(a[0].traceID) == a)
        #expect(try store.trace(b[0].traceID) == b)
        store.close()
    }

    @Test func spanMetricsCountCallsLatencyAndEdges() throws {
        let dir = TempDir()
        defer { dir.remove() }
        var o = StorageOptions(dataDir: dir.path)
        o.retention = 100 * 365 * 86_400_000
        let metrics = try MetricStore(options: o, logger: quiet())
        let sm = SpanMetrics(store: metrics, logger: quiet())
        var fx = SpanFixtures()
        let base: Int64 = 1_700_000_000_000_000_000
        // Server spans arrive before their client parents for half the traces.
        for n in 0..<10 {
            let tr = fx.shopTrace(UInt64(n), start: base + Int64(n) * 1_000_000_000, slow: n % 2 == 0, fail: n == 3)
            if n % 2 == 0 { sm.observe(tr, now: base) } else { sm.observe(Array(tr.reversed()), now: base) }
        }
        #expect(try sm.flush(t: 1_000, now: base) > 0)
        func v(_ name: String, _ pairs: (String, String)...) -> Double? {
            let matchers = try! [Matcher(.equal, "__name__", name)] + pairs.map { try Matcher(.equal, $0.0, $0.1) }
            let set = metrics.querier(mint: 0, maxt: 10_000).select(matchers)
            var total: Double?
            while let s = set.next() { total = (total ?? 0) + (s.values.last ?? 0) }
            return total
        }
        #expect(v("traces_spanmetrics_calls_total", ("service", "payment"), ("status_code", "STATUS_CODE_ERROR")) == 1)
        #expect(v("traces_spanmetrics_calls_total", ("service", "payment"), ("status_code", "STATUS_CODE_OK")) == 9)
        #expect(v("traces_spanmetrics_calls_total", ("span_kind", "SPAN_KIND_CLIENT")) == 20)
        #expect(v("traces_spanmetrics_latency_bucket", ("span_name", "charge"), ("le", "0.512")) == 10)
        #expect(v("traces_spanmetrics_latency_bucket", ("span_name", "charge"), ("le", "0.256")) == 5)
        #expect(v("traces_spanmetrics_latency_bucket", ("span_name", "charge"), ("le", "+Inf")) == 10)
        let sum = v("traces_spanmetrics_latency_sum", ("span_name", "charge"))!
        #expect(abs(sum - (5 * 0.3 + 5 * 0.04)) < 1e-9)
        #expect(v("traces_service_graph_request_total", ("client", "frontend"), ("server", "checkout")) == 10)
        #expect(v("traces_service_graph_request_failed_total", ("client", "frontend"), ("server", "checkout")) == 0)
        #expect(v("traces_service_graph_request_server_seconds_bucket", ("client", "frontend"), ("server", "checkout"), ("le", "0.128")) == 5)
        #expect(v("traces_service_graph_request_client_seconds_count", ("client", "frontend"), ("server", "checkout")) == 10)
        // Nothing changed: a second flush writes nothing; new spans update counters cumulatively.
        #expect(try sm.flush(t: 2_000, now: base) == 0)
        sm.observe(fx.shopTrace(99, start: base, fail: true), now: base)
        try sm.flush(t: 3_000, now: base)
        #expect(v("traces_spanmetrics_calls_total", ("service", "payment"), ("status_code", "STATUS_CODE_ERROR")) == 2)
        metrics.close()
    }
}
