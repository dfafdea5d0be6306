import ArgusIngest
import ArgusModel
import ArgusTestKit
import Foundation
import Testing

/// Remote write 2.0 (symbol table, written-count headers) against a real `argus serve`.
@Suite(.serialized) struct RemoteWriteV2Tests {
    /// A v2 Request: symbols, then series of (label refs, samples, exemplar, metadata).
    func request(symbols: [String], series: [(refs: [UInt32], samples: [(Int64, Double)], exemplar: ([UInt32], Double, Int64)?, meta: (UInt64, UInt32, UInt32)?)]) -> [UInt8] {
        var req = ProtoWriter()
        for s in symbols { req.string(4, s) }
        for s in series {
            var ts = ProtoWriter()
            var packed = ProtoWriter()
            for r in s.refs { packed.varint(UInt64(r)) }
            ts.tag(1, .bytes)
            ts.varint(UInt64(packed.bytes.count))
            ts.bytes.append(contentsOf: packed.bytes)
            for (t, v) in s.samples {
                var sm = ProtoWriter()
                sm.double(1, v)
                sm.int64(2, t)
                ts.message(2, sm)
            }
            if let (refs, v, t) = s.exemplar {
                var e = ProtoWriter()
                var p = ProtoWriter()
                for r in refs { p.varint(UInt64(r)) }
                e.tag(1, .bytes)
                e.varint(UInt64(p.bytes.count))
                e.bytes.append(contentsOf: p.bytes)
                e.double(2, v)
                e.int64(3, t)
                ts.message(4, e)
            }
            if let (type, help, unit) = s.meta {
                var m = ProtoWriter()
                m.int64(1, Int64(type))
                m.int64(3, Int64(help))
                m.int64(4, Int64(unit))
                ts.message(5, m)
            }
            req.message(5, ts)
        }
        return req.bytes
    }

    @Test func symbolsSamplesExemplarsAndHeaders() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let server = try ArgusProcess(dataDir: dir.path, extraArgs: ["--self-scrape-interval", "0s"])
        defer { server.stop() }
        let c = server.client
        let now = TimeUtil.nowMillis() / 1000 * 1000
        let symbols = ["", "__name__", "orders_total", "job", "shop", "code", "200", "500", "trace_id", "abc123", "Orders placed."]
        let body = request(symbols: symbols, series: [
            ([1, 2, 5, 6, 3, 4], [(now - 1000, 10), (now, 12)], ([8, 9], 1, now), (1, 10, 0)),
            ([1, 2, 5, 7, 3, 4], [(now, 3)], nil, nil),
        ])
        let v2 = ["Content-Encoding": "snappy", "Content-Type": "application/x-protobuf;proto=io.prometheus.write.v2.Request",
                  "X-Prometheus-Remote-Write-Version": "2.0.0"]
        var r = try c.request("POST", "/api/v1/write", body: Snappy.compress(body), headers: v2)
        #expect(r.status == 204, "\(r.text)")
        #expect(r.headers["x-prometheus-remote-write-samples-written"] == "3")
        #expect(r.headers["x-prometheus-remote-write-histograms-written"] == "0")
        #expect(r.headers["x-prometheus-remote-write-exemplars-written"] == "1")

        r = try c.get("/api/v1/query?query=sum%20by%20(code)%20(orders_total)&time=\(now / 1000)")
        #expect(r.text.contains("{\"metric\":{\"code\":\"200\"},\"value\":[\(now / 1000),\"12\"]}"), "\(r.text)")
        #expect(r.text.contains("{\"metric\":{\"code\":\"500\"},\"value\":[\(now / 1000),\"3\"]}"), "\(r.text)")
        r = try c.get("/api/v1/query_exemplars?query=orders_total")
        #expect(r.text.contains("\"exemplars\":[{\"labels\":{\"trace_id\":\"abc123\"},\"value\":\"1\""), "\(r.text)")
        r = try c.get("/api/v1/metadata?metric=orders_total")
        #expect(r.text == "{\"status\":\"success\",\"data\":{\"orders_total\":[{\"type\":\"counter\",\"help\":\"Orders placed.\",\"unit\":\"\"}]}}", "\(r.text)")

        // A reference past the symbol table: 400 naming it, the valid series still stored.
        let bad = request(symbols: ["", "__name__", "ok_total", "x"], series: [
            ([1, 2], [(now, 1)], nil, nil),
            ([1, 9], [(now, 1)], nil, nil),
        ])
        r = try c.request("POST", "/api/v1/write", body: Snappy.compress(bad), headers: v2)
        #expect(r.status == 400)
        #expect(r.text.contains("symbol reference 9 is out of range"), "\(r.text)")
        #expect(r.headers["x-prometheus-remote-write-samples-written"] == "1")
        // symbols[0] must be "".
        r = try c.request("POST", "/api/v1/write", body: Snappy.compress(request(symbols: ["x"], series: [])), headers: v2)
        #expect(r.status == 400)
        // An unknown proto: 415.
        var other = v2
        other["Content-Type"] = "application/x-protobuf;proto=io.prometheus.write.v3.Request"
        r = try c.request("POST", "/api/v1/write", body: Snappy.compress(body), headers: other)
        #expect(r.status == 415)
    }
}
