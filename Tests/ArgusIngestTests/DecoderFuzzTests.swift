import ArgusIngest
import ArgusModel
import ArgusStorage
import ArgusTestKit
import Foundation
import Testing

/// The decoders not fuzzed next to their own tests (remote write 1.0, OTLP metrics, spans and
/// logs are): thousands of mutated valid payloads each, every one decoded or refused with an
/// `ArgusError`; none crashes or hangs.
@Suite struct DecoderFuzzTests {
    /// Flips, truncates or inserts bytes (1 to 4 times).
    static func mutate(_ valid: [UInt8], _ rng: inout SystemRandomNumberGenerator) -> [UInt8] {
        var b = valid
        for _ in 0..<Int.random(in: 1...4, using: &rng) where b.count > 2 {
            switch Int.random(in: 0..<3, using: &rng) {
            case 0: b[Int.random(in: 0..<b.count, using: &rng)] ^= UInt8.random(in: 1...255, using: &rng)
            case 1: b = Array(b.prefix(Int.random(in: 1..<b.count, using: &rng)))
            default: b.insert(UInt8.random(in: 0...255, using: &rng), at: Int.random(in: 0..<b.count, using: &rng))
            }
        }
        return b
    }

    /// Runs `decode` over mutations of `valid`; returns (decoded, refused). Anything thrown
    /// that is not an ArgusError fails the test.
    static func fuzz(_ valid: [UInt8], rounds: Int = 3000, _ decode: ([UInt8]) throws -> Void) -> (Int, Int) {
        var rng = SystemRandomNumberGenerator()
        var ok = 0, refused = 0
        for _ in 0..<rounds {
            let b = mutate(valid, &rng)
            do {
                try decode(b)
                ok += 1
            } catch is ArgusError {
                refused += 1
            } catch {
                Issue.record("not an ArgusError: \(error)")
            }
        }
        return (ok, refused)
    }

    @Test func lokiJSONPush() throws {
        let json = """
        {"streams":[{"stream":{"job":"shop","service_name":"checkout"},"values":[
          ["1795000000123456789","order placed id=42",{"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","user":"u1"}],
          ["1795000001000000000","payment failed"]]},
          {"stream":{"job":"shop"},"values":[["1795000002000000000","ok"]]}]}
        """
        _ = try LokiPush.decodeJSON(Array(json.utf8), now: 1_795_000_002_000)
        let (ok, refused) = DecoderFuzzTests.fuzz(Array(json.utf8)) { _ = try LokiPush.decodeJSON($0, now: 1_795_000_002_000) }
        #expect(ok > 0 && refused > 0)
    }

    @Test func lokiProtobufPush() throws {
        var stream = ProtoWriter()
        stream.string(1, "{job=\"shop\", service_name=\"checkout\"}")
        for k in 0..<5 {
            var e = ProtoWriter()
            var ts = ProtoWriter()
            ts.int64(1, 1_795_000_000 + Int64(k))
            ts.int64(2, 5)
            e.message(1, ts)
            e.string(2, "line \(k) user=u\(k)")
            var p = ProtoWriter()
            p.string(1, "trace_id")
            p.string(2, "4bf92f3577b34da6a3ce929d0e0e4736")
            e.message(3, p)
            stream.message(2, e)
        }
        var req = ProtoWriter()
        req.message(1, stream)
        _ = try LokiPush.decodeProtobuf(req.bytes, now: 1_795_000_010_000)
        let (ok, refused) = DecoderFuzzTests.fuzz(req.bytes) { _ = try LokiPush.decodeProtobuf($0, now: 1_795_000_010_000) }
        #expect(ok > 0 && refused > 0)
    }

    @Test func remoteWrite2() throws {
        var req = ProtoWriter()
        for s in ["", "__name__", "fuzz_total", "job", "x", "instance", "a", "b", "help text", "seconds"] { req.string(4, s) }
        for k in 0..<4 {
            var ts = ProtoWriter()
            var packed = ProtoWriter()
            for r in [1, 2, 3, 4, 5, 6 + k % 2] { packed.varint(UInt64(r)) }
            ts.tag(1, .bytes)
            ts.varint(UInt64(packed.bytes.count))
            ts.bytes.append(contentsOf: packed.bytes)
            for j in 0..<3 {
                var sm = ProtoWriter()
                sm.double(1, Double(j))
                sm.int64(2, 1_000_000 + Int64(k) * 10_000 + Int64(j) * 1000)
                ts.message(2, sm)
            }
            var m = ProtoWriter()
            m.int64(1, 1)
            m.int64(3, 8)
            m.int64(4, 9)
            ts.message(5, m)
            req.message(5, ts)
        }
        let dir = TempDir()
        defer { dir.remove() }
        var o = StorageOptions(dataDir: dir.path)
        o.retention = 100 * 365 * 86_400_000
        let store = try MetricStore(options: o)
        defer { store.close() }
        let ing = RemoteWriteIngester(store: store, limits: IngestLimits())
        let (c, _) = try ing.ingestV2(req.bytes, now: 2_000_000)
        #expect(c.samples == 12)
        let (ok, refused) = DecoderFuzzTests.fuzz(req.bytes, rounds: 2000) { _ = try ing.ingestV2($0, now: 2_000_000) }
        #expect(ok > 0 && refused > 0)
    }

    @Test func textExpositionAndOpenMetrics() throws {
        let text = """
        # HELP http_requests_total Requests.
        # TYPE http_requests_total counter
        http_requests_total{code="200",method="get"} 1027 1395066363000
        http_requests_total{code="400",method="post"} 3 1395066363000
        # TYPE rpc_duration_seconds summary
        rpc_duration_seconds{quantile="0.5"} 4773
        rpc_duration_seconds_sum 1.7560473e+07
        rpc_duration_seconds_count 2693
        metric_without_timestamp_and_labels 12.47
        something_weird{problem="division by zero"} +Inf -3982045

        """
        let om = """
        # TYPE foo counter
        foo_total{a="b"} 17.0 1520879607.789 # {trace_id="KOO5S4vxi0o"} 0.67
        foo_created{a="b"} 1520430000.123
        # EOF

        """
        _ = try TextExpositionParser().parse(Array(text.utf8))
        _ = try TextExpositionParser(format: .openMetrics).parse(Array(om.utf8))
        var metadata: [String: MetricMetadata]? = [:]
        var (ok, refused) = DecoderFuzzTests.fuzz(Array(text.utf8)) { _ = try TextExpositionParser().parse($0, metadata: &metadata) }
        #expect(ok > 0 && refused > 0)
        (ok, refused) = DecoderFuzzTests.fuzz(Array(om.utf8)) { _ = try TextExpositionParser(format: .openMetrics).parse($0) }
        #expect(ok > 0 && refused > 0)
    }
}
