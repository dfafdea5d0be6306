import ArgusIngest
import ArgusModel
import ArgusOTLP
import ArgusStorage
import ArgusTestKit
import Foundation
import Logging
import Testing

@Suite struct OTLPNamingTests {
    @Test(arguments: [
        ("http.server.duration", "s", OTLPNaming.Kind.histogram, "http_server_duration_seconds"),
        ("http.server.requests", "1", .counter, "http_server_requests_total"),
        ("http.server.requests", "{request}", .counter, "http_server_requests_total"),
        ("requests_total", "", .counter, "requests_total"),
        ("system.memory.usage", "By", .upDownSum, "system_memory_usage_bytes"),
        ("cpu.utilization", "1", .gauge, "cpu_utilization_ratio"),
        ("throughput", "By/s", .gauge, "throughput_bytes_per_second"),
        ("latency_seconds", "s", .histogram, "latency_seconds"),
        ("2xx.count", "", .gauge, "_2xx_count"),
        ("queue..depth", "", .gauge, "queue_depth"),
        ("temperature", "Cel", .gauge, "temperature_celsius"),
    ])
    func metricNames(_ name: String, _ unit: String, _ kind: OTLPNaming.Kind, _ expected: String) {
        #expect(OTLPNaming.metricName(name, unit: unit, kind: kind) == expected)
    }

    @Test func labelNames() {
        #expect(OTLPNaming.labelName("http.method") == "http_method")
        #expect(OTLPNaming.labelName("2xx") == "key_2xx")
        #expect(OTLPNaming.labelName("_private") == "key_private")
        #expect(OTLPNaming.labelName("__reserved") == "__reserved")
        #expect(OTLPNaming.labelName("ok_name") == "ok_name")
    }

    @Test func floats() {
        #expect(OTLPNaming.formatFloat(0.005) == "0.005")
        #expect(OTLPNaming.formatFloat(1) == "1")
        #expect(OTLPNaming.formatFloat(1e-05) == "0.00001")
        #expect(OTLPNaming.formatFloat(2.5e20) == "250000000000000000000")
        #expect(OTLPNaming.formatFloat(.infinity) == "+Inf")
    }
}

typealias Req = Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceRequest

/// A request with one resource (service "shop"/"cart", instance "i-1", region attribute).
func sampleMetricsRequest(nowNanos: UInt64) -> Req {
    func kv(_ k: String, _ v: String) -> Opentelemetry_Proto_Common_V1_KeyValue {
        var x = Opentelemetry_Proto_Common_V1_KeyValue()
        x.key = k
        x.value.stringValue = v
        return x
    }
    var rm = Opentelemetry_Proto_Metrics_V1_ResourceMetrics()
    rm.resource.attributes = [kv("service.name", "cart"), kv("service.namespace", "shop"), kv("service.instance.id", "i-1"), kv("cloud.region", "eu")]
    var sm = Opentelemetry_Proto_Metrics_V1_ScopeMetrics()
    var counter = Opentelemetry_Proto_Metrics_V1_Metric()
    counter.name = "http.server.requests"
    counter.unit = "{request}"
    var sum = Opentelemetry_Proto_Metrics_V1_Sum()
    sum.aggregationTemporality = .cumulative
    sum.isMonotonic = true
    var p = Opentelemetry_Proto_Metrics_V1_NumberDataPoint()
    p.timeUnixNano = nowNanos
    p.asInt = 42
    p.attributes = [kv("http.route", "/cart"), kv("http.status_code", "200")]
    sum.dataPoints = [p]
    counter.sum = sum
    var hist = Opentelemetry_Proto_Metrics_V1_Metric()
    hist.name = "http.server.duration"
    hist.unit = "s"
    var h = Opentelemetry_Proto_Metrics_V1_Histogram()
    h.aggregationTemporality = .cumulative
    var hp = Opentelemetry_Proto_Metrics_V1_HistogramDataPoint()
    hp.timeUnixNano = nowNanos
    hp.explicitBounds = [0.1, 0.5]
    hp.bucketCounts = [3, 4, 1]
    hp.count = 8
    hp.sum = 2.5
    h.dataPoints = [hp]
    hist.histogram = h
    var delta = Opentelemetry_Proto_Metrics_V1_Metric()
    delta.name = "deltas"
    var ds = Opentelemetry_Proto_Metrics_V1_Sum()
    ds.aggregationTemporality = .delta
    ds.dataPoints = [p]
    delta.sum = ds
    var gauge = Opentelemetry_Proto_Metrics_V1_Metric()
    gauge.name = "queue.depth"
    var g = Opentelemetry_Proto_Metrics_V1_Gauge()
    var gp = Opentelemetry_Proto_Metrics_V1_NumberDataPoint()
    gp.timeUnixNano = nowNanos
    gp.asDouble = 7.5
    g.dataPoints = [gp]
    gauge.gauge = g
    sm.metrics = [counter, hist, delta, gauge]
    rm.scopeMetrics = [sm]
    var req = Req()
    req.resourceMetrics = [rm]
    return req
}

@Suite struct OTLPMetricsTests {
    func store(_ dir: TempDir) throws -> MetricStore {
        var o = StorageOptions(dataDir: dir.path)
        o.retention = 100 * 365 * 86_400_000
        var logger = Logger(label: "t")
        logger.logLevel = .critical
        return try MetricStore(options: o, logger: logger)
    }

    func all(_ s: MetricStore) -> [String: [Double]] {
        let set = s.querier(mint: .min / 2, maxt: .max / 2).select([try! Matcher(.regexMatch, "__name__", ".+")])
        var out: [String: [Double]] = [:]
        while let x = set.next() { out[x.labels.description] = x.values }
        return out
    }

    @Test func translatesAsPrometheusDoes() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let s = try store(dir)
        let now: Int64 = 1_700_000_000_000
        let c = try OTLPMetricsIngester(store: s, limits: IngestLimits()).ingest(sampleMetricsRequest(nowNanos: UInt64(now) * 1_000_000), now: now)
        #expect(c.rejected["delta_temporality"] == 1)
        let got = all(s)
        let base = "instance=\"i-1\", job=\"shop/cart\""
        #expect(got["http_server_requests_total{http_route=\"/cart\", http_status_code=\"200\", \(base)}"] == [42])
        #expect(got["http_server_duration_seconds_bucket{\(base), le=\"0.1\"}"] == [3])
        #expect(got["http_server_duration_seconds_bucket{\(base), le=\"0.5\"}"] == [7])
        #expect(got["http_server_duration_seconds_bucket{\(base), le=\"+Inf\"}"] == [8])
        #expect(got["http_server_duration_seconds_sum{\(base)}"] == [2.5])
        #expect(got["http_server_duration_seconds_count{\(base)}"] == [8])
        #expect(got["queue_depth{\(base)}"] == [7.5])
        #expect(got["target_info{cloud_region=\"eu\", \(base)}"] == [1])
        #expect(got.count == 8)
    }

    @Test func jsonWithHexIDsDecodes() throws {
        let json = """
            {"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"a"}}]},
              "scopeSpans":[{"spans":[{"traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B174",
              "name":"GET /","kind":2,"startTimeUnixNano":"1544712660000000000","endTimeUnixNano":"1544712661000000000"}]}]}]}
            """
        let req = try OTLPDecoding.decode(OTLPTracesRequest.self, Array(json.utf8), format: .json)
        let span = req.resourceSpans[0].scopeSpans[0].spans[0]
        #expect(span.traceID == Data([0x5B, 0x8E, 0xFF, 0xF7, 0x98, 0x03, 0x81, 0x03, 0xD2, 0x69, 0xB6, 0x33, 0x81, 0x3F, 0xC6, 0x0C]))
        #expect(span.kind == .server)
        #expect(span.startTimeUnixNano == 1_544_712_660_000_000_000)
        #expect(throws: ArgusError.self) {
            try OTLPDecoding.decode(OTLPTracesRequest.self, Array(json.replacingOccurrences(of: "EEE19B7EC3C1B174", with: "nothex").utf8), format: .json)
        }
    }

    @Test func gzipRoundTripAndBomb() throws {
        let data = Array(String(repeating: "otlp ", count: 10_000).utf8)
        let z = Gzip.compress(data)
        #expect(z.count < 1000)
        #expect(try Gzip.decompress(z, limit: data.count) == data)
        #expect(throws: ArgusError.self) { try Gzip.decompress(z, limit: 1000) }
        #expect(throws: ArgusError.self) { try Gzip.decompress(Array(z.prefix(z.count / 2)), limit: 1 << 20) }
        #expect(throws: ArgusError.self) { try Gzip.decompress([1, 2, 3, 4, 5, 6], limit: 1 << 20) }
    }

    /// Thousands of mutated valid OTLP payloads: decoded and stored, or refused; never a crash.
    @Test func fuzzMutatedPayloads() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let s = try store(dir)
        let ing = OTLPMetricsIngester(store: s, limits: IngestLimits())
        let valid: [UInt8] = try sampleMetricsRequest(nowNanos: 1_700_000_000_000_000_000).serializedBytes()
        let validJSON = Array(try sampleMetricsRequest(nowNanos: 1_700_000_000_000_000_000).jsonUTF8Data())
        var rng = SystemRandomNumberGenerator()
        var refused = 0
        for round in 0..<3000 {
            var b = round % 2 == 0 ? valid : validJSON
            for _ in 0..<Int.random(in: 1...6, using: &rng) where b.count > 2 {
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: b[Int.random(in: 0..<b.count, using: &rng)] ^= UInt8.random(in: 1...255, using: &rng)
                case 1: b = Array(b.prefix(Int.random(in: 1..<b.count, using: &rng)))
                default: b.insert(UInt8.random(in: 0...255, using: &rng), at: Int.random(in: 0..<b.count, using: &rng))
                }
            }
            do {
                let req = try OTLPDecoding.decode(OTLPMetricsRequest.self, b, format: round % 2 == 0 ? .protobuf : .json)
                _ = try ing.ingest(req, now: 1_700_000_000_000)
            } catch is ArgusError {
                refused += 1
            }
        }
        #expect(refused > 0)
    }
}
