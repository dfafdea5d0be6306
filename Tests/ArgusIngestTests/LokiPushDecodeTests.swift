import ArgusIngest
import ArgusModel
import Foundation
import Testing

/// Loki push bodies, JSON and protobuf, decode to the same log records.
@Suite struct LokiPushDecodeTests {
    func protobufPush(labels: String, entries: [(Int64, Int32, String, [(String, String)])]) -> [UInt8] {
        var stream = ProtoWriter()
        stream.string(1, labels)
        for (s, ns, line, meta) in entries {
            var e = ProtoWriter()
            var ts = ProtoWriter()
            ts.int64(1, s)
            ts.int64(2, Int64(ns))
            e.message(1, ts)
            e.string(2, line)
            for (k, v) in meta {
                var p = ProtoWriter()
                p.string(1, k)
                p.string(2, v)
                e.message(3, p)
            }
            stream.message(2, e)
        }
        var req = ProtoWriter()
        req.message(1, stream)
        return req.bytes
    }

    @Test func protobufAndJSONAgree() throws {
        let pb = protobufPush(labels: "{job=\"shop\", service_name=\"checkout\"}", entries: [
            (1_795_000_000, 123_456_789, "order placed id=42", [("trace_id", "4bf92f3577b34da6a3ce929d0e0e4736"), ("user", "u1")]),
            (1_795_000_001, 0, "payment failed", []),
        ])
        let (p, n) = try LokiPush.decodeProtobuf(pb, now: 1_795_000_002_000)
        let json = """
        {"streams":[{"stream":{"job":"shop","service_name":"checkout"},"values":[
          ["1795000000123456789","order placed id=42",{"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","user":"u1"}],
          ["1795000001000000000","payment failed"]]}]}
        """
        let (j, m) = try LokiPush.decodeJSON(Array(json.utf8), now: 1_795_000_002_000)
        #expect(n == 2 && m == 2)
        #expect(p == j)
        let rec = p.resourceLogs[0].scopeLogs[0].logRecords[0]
        #expect(rec.timeUnixNano == 1_795_000_000_123_456_789)
        #expect(rec.traceID.count == 16)
        #expect(p.resourceLogs[0].resource.attributes.map(\.key) == ["job", "service_name"])
    }

    @Test func badProtobufPushesAreClearErrors() throws {
        // Labels that are not name="value" pairs, or no labels at all.
        #expect(throws: ArgusError.self) { try LokiPush.decodeProtobuf(protobufPush(labels: "{job=~\"x\"}", entries: [(1, 0, "l", [])]), now: 0) }
        #expect(throws: ArgusError.self) { try LokiPush.decodeProtobuf(protobufPush(labels: "{}", entries: [(1, 0, "l", [])]), now: 0) }
        #expect(throws: ArgusError.self) { try LokiPush.decodeProtobuf(protobufPush(labels: "job=", entries: [(1, 0, "l", [])]), now: 0) }
        // Negative time, truncated body.
        #expect(throws: ArgusError.self) { try LokiPush.decodeProtobuf(protobufPush(labels: "{a=\"b\"}", entries: [(-5, 0, "l", [])]), now: 0) }
        let ok = protobufPush(labels: "{a=\"b\"}", entries: [(1, 0, "line", [])])
        #expect(throws: (any Error).self) { try LokiPush.decodeProtobuf(Array(ok.dropLast(2)), now: 0) }
    }
}
