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
