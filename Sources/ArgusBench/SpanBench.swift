import ArgusColumnar
import ArgusIngest
import ArgusModel
import ArgusQuery
import ArgusStorage
import Foundation
import Logging

/// Traces of a multi-service online shop, with the attributes real instrumentation sets
/// (HTTP, RPC, database, messaging), resources with version, host and pod, and ids from a
/// seeded generator.
struct ShopTraceGenerator {
    var rng: UInt64
    var nextSpan: UInt64 = 1
    let origins: [String: [SpanOrigin]]
    let routes = ["/", "/product/{id}", "/cart", "/cart/checkout", "/api/recommendations", "/api/data", "/setCurrency"]

    init(seed: UInt64 = 42) {
        rng = seed
        var o: [String: [SpanOrigin]] = [:]
        let services = ["frontend", "checkout", "cart", "payment", "shipping", "currency", "email", "recommendation", "productcatalog", "ad", "quote"]
        for (k, s) in services.enumerated() {
            o[s] = (0..<3).map { pod in
                SpanOrigin(service: s, resource: [
                    SpanAttribute("service.name", .string(s)),
                    SpanAttribute("service.version", .string("1.\(k).0")),
                    SpanAttribute("service.namespace", .string("shop")),
                    SpanAttribute("deployment.environment", .string("production")),
                    SpanAttribute("host.name", .string("node-\(k % 4)")),
                    SpanAttribute("k8s.pod.name", .string("\(s)-7d9f8b6c4-\(["x2k9p", "m4q7z", "t8w1r"][pod])")),
                    SpanAttribute("telemetry.sdk.language", .string(k % 3 == 0 ? "go" : k % 3 == 1 ? "java" : "swift")),
                    SpanAttribute("telemetry.sdk.name", .string("opentelemetry")),
                ], scopeName: "io.opentelemetry.\(s)", scopeVersion: "1.32.0")
            }
        }
        origins = o
    }

    mutating func next() -> UInt64 {
        rng ^= rng << 13
        rng ^= rng >> 7
        rng ^= rng << 17
        return rng
    }

    mutating func origin(_ s: String) -> SpanOrigin { origins[s]![Int(next() % 3)] }

    mutating func span(_ t: TraceID, _ svc: String, _ name: String, parent: Span?, kind: SpanKind, start: Int64, dur: Int64,
                       error: Bool = false, _ attrs: [SpanAttribute]) -> Span {
        var sid = next()
        if sid == 0 { sid = 1 }
        return Span(traceID: t, spanID: sid, parentSpanID: parent?.spanID ?? 0, flags: 1, name: name, kind: kind,
                    startNanos: start, durationNanos: dur, status: error ? .error : .unset,
                    statusMessage: error ? "rpc error: code = Unavailable desc = connection refused" : "",
                    attributes: attrs, origin: origin(svc))
    }

    /// One trace starting at `start`: a frontend request fanning out over gRPC and HTTP calls
    /// to the backends, some with database and cache calls (8 to 30 spans).
    mutating func trace(start: Int64) -> [Span] {
        let t = TraceID(hi: next(), lo: next())
        var out: [Span] = []
        let route = routes[Int(next() % UInt64(routes.count))]
        let fail = next() % 50 == 0
        let total = Int64(5_000_000 + next() % 400_000_000)
        let root = span(t, "frontend", "GET " + route, parent: nil, kind: .server, start: start, dur: total, error: fail, [
            SpanAttribute("http.request.method", .string("GET")), SpanAttribute("http.route", .string(route)),
            SpanAttribute("url.scheme", .string("http")), SpanAttribute("http.response.status_code", .int(fail ? 500 : 200)),
            SpanAttribute("client.address", .string("10.0.\(next() % 4).\(next() % 250)")),
            SpanAttribute("user_agent.original", .string("Mozilla/5.0 (X11; Linux x86_64) shop-loadgen/1.0")),
        ])
        out.append(root)
        let calls = 2 + Int(next() % 6)
        var cursor = start + 200_000
        for c in 0..<calls {
            let backend = ["checkout", "cart", "currency", "recommendation", "productcatalog", "ad", "shipping"][Int(next() % 7)]
            let method = ["GetCart", "Convert", "ListRecommendations", "GetProduct", "GetAds", "GetQuote", "PlaceOrder"][Int(next() % 7)]
            let d = max(100_000, total / Int64(calls + 1) - Int64(next() % 100_000))
            let err = fail && c == calls - 1
            let client = span(t, "frontend", "oteldemo.\(backend).\(method)", parent: root, kind: .client, start: cursor, dur: d, error: err, [
                SpanAttribute("rpc.system", .string("grpc")), SpanAttribute("rpc.service", .string("oteldemo.\(backend)")),
                SpanAttribute("rpc.method", .string(method)), SpanAttribute("server.address", .string(backend)),
                SpanAttribute("server.port", .int(8080)), SpanAttribute("rpc.grpc.status_code", .int(err ? 14 : 0)),
            ])
            out.append(client)
            let server = span(t, backend, "oteldemo.\(backend).\(method)", parent: client, kind: .server, start: cursor + 50_000, dur: d - 100_000, error: err, [
                SpanAttribute("rpc.system", .string("grpc")), SpanAttribute("rpc.service", .string("oteldemo.\(backend)")),
                SpanAttribute("rpc.method", .string(method)), SpanAttribute("rpc.grpc.status_code", .int(err ? 14 : 0)),
            ])
            out.append(server)
            let inner = Int(next() % 4)
            var ic = cursor + 100_000
            for _ in 0..<inner {
                let di = max(10_000, (d - 200_000) / 5)
                if next() % 2 == 0 {
                    let table = ["orders", "carts", "products", "users"][Int(next() % 4)]
                    out.append(span(t, backend, "SELECT shop.\(table)", parent: server, kind: .client, start: ic, dur: di, [
                        SpanAttribute("db.system", .string("postgresql")), SpanAttribute("db.name", .string("shop")),
                        SpanAttribute("db.operation", .string("SELECT")), SpanAttribute("db.sql.table", .string(table)),
                        SpanAttribute("db.statement", .string("SELECT * FROM \(table) WHERE id = $1")),
                        SpanAttribute("server.address", .string("postgres")),
                    ]))
                } else {
                    out.append(span(t, backend, "HGET", parent: server, kind: .client, start: ic, dur: di / 4, [
                        SpanAttribute("db.system", .string("redis")), SpanAttribute("db.operation", .string("HGET")),
                        SpanAttribute("server.address", .string("valkey-cart")), SpanAttribute("server.port", .int(6379)),
                    ]))
                }
                ic += di + 20_000
            }
            if backend == "checkout" {
                let pay = span(t, "checkout", "oteldemo.PaymentService/Charge", parent: server, kind: .client, start: ic, dur: d / 4, [
                    SpanAttribute("rpc.system", .string("grpc")), SpanAttribute("rpc.method", .string("Charge")),
                ])
                out.append(pay)
                out.append(span(t, "payment", "charge", parent: pay, kind: .server, start: ic + 30_000, dur: d / 4 - 60_000, [
                    SpanAttribute("app.payment.card_type", .string(next() % 2 == 0 ? "visa" : "mastercard")),
                    SpanAttribute("app.payment.amount", .double(Double(next() % 50_000) / 100)),
                    SpanAttribute("app.loyalty.level", .string(["gold", "silver", "platinum"][Int(next() % 3)])),
                ]))
                out.append(span(t, "checkout", "orders publish", parent: server, kind: .producer, start: ic + d / 4, dur: 300_000, [
                    SpanAttribute("messaging.system", .string("kafka")), SpanAttribute("messaging.destination.name", .string("orders")),
                    SpanAttribute("messaging.operation", .string("publish")),
                ]))
            }
            cursor += d + Int64(next() % 200_000)
        }
        return out
    }
}

// argus-bench spans [--spans N] [--dir DIR] [--block-minutes M] [--lookups N]
func runSpanBench(_ args: [String]) async throws {
    var total = 1_000_000
    var dir = NSTemporaryDirectory() + "argus-span-bench-\(getpid())"
    var blockMinutes: Int64 = 5
    var lookups = 2000
    var i = 0
    while i < args.count {
        let v = i + 1 < args.count ? args[i + 1] : ""
        switch args[i] {
        case "--spans": total = Int(v) ?? total
        case "--dir": dir = v
        case "--block-minutes": blockMinutes = Int64(v) ?? blockMinutes
        case "--lookups": lookups = Int(v) ?? lookups
        default:
            FileHandle.standardError.write("unknown option \(args[i])\n".data(using: .utf8)!)
            exit(2)
        }
        i += 2
    }
    try? FileManager.default.removeItem(atPath: dir)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var logger = Logger(label: "bench")
    logger.logLevel = .warning

    // One hour of traffic, ending now.
    let now = TimeUtil.nowNanos()
    let start = now - 3_600_000_000_000
    var gen = ShopTraceGenerator()
    var traces: [[Span]] = []
    var spanCount = 0
    while spanCount < total {
        let t = gen.trace(start: 0)
        spanCount += t.count
        traces.append(t)
    }
    let step = 3_600_000_000_000 / Int64(traces.count)
    for k in traces.indices {
        let off = start + Int64(k) * step
        for j in traces[k].indices { traces[k][j].startNanos += off }
    }
    print("dataset: \(spanCount) spans in \(traces.count) traces over 1 h, 11 services (avg \(fmt(Double(spanCount) / Double(traces.count), 1)) spans/trace)")

    // 1. OTLP protobuf requests of ~1000 spans: decode + convert + WAL + head, per CPU second.
    var options = StorageOptions(dataDir: dir)
    options.retention = 30 * 86_400_000
    options.blockDuration = blockMinutes * 60_000
    var bodies: [[UInt8]] = []
    var batch: [Span] = []
    for t in traces {
        batch += t
        if batch.count >= 1000 {
            bodies.append(try OTLPSpanConversion.protobuf(batch))
            batch.removeAll(keepingCapacity: true)
        }
    }
    if !batch.isEmpty { bodies.append(try OTLPSpanConversion.protobuf(batch)) }
    let requestBytes = bodies.reduce(0) { $0 + $1.count }
    do {
        // Decoding alone: straight from the wire (what /v1/traces does) and, for comparison,
        // through SwiftProtobuf messages plus conversion (the JSON path's converter).
        var counts = IngestCounts()
        var decoded = 0
        _ = try seconds { for b in bodies { decoded += try OTLPSpanWire.spans(b, counts: &counts).count } }
        let wireCPU = lastCPU
        _ = try seconds {
            for b in bodies { decoded += OTLPSpanConversion.spans(try OTLPDecoding.decode(OTLPTracesRequest.self, b, format: .protobuf), counts: &counts).count }
        }
        let messageCPU = lastCPU
        print("OTLP decode to spans, 1 thread: from the wire \(fmt(Double(spanCount) / wireCPU / 1000, 0)) k spans per CPU-second; through SwiftProtobuf messages \(fmt(Double(spanCount) / messageCPU / 1000, 0)) k")

        let store = try SpanStore(options: options, logger: logger)
        let ingester = OTLPSpanIngester(store: store)
        var cpu = 0.0
        let wall = try seconds {
            for b in bodies {
                _ = try seconds { _ = try ingester.ingest(protobuf: b) }
                cpu += lastCPU
            }
        }
        print("OTLP ingest (wire decode + WAL fsync + head), 1 thread: \(fmt(Double(spanCount) / wall / 1000, 0)) k spans/s wall; \(fmt(Double(spanCount) / cpu / 1000, 0)) k spans per CPU-second; request bytes/span \(fmt(Double(requestBytes) / Double(spanCount), 1))")
        store.close()
    }
    try? FileManager.default.removeItem(atPath: dir)

    // 2. Store append alone, batches of 1000 spans, then blocks.
    let store = try SpanStore(options: options, logger: logger)
    var appendCPU = 0.0
    var flushSeconds = 0.0, loopFlushSeconds = 0.0
    var batches: [[Span]] = []
    batch = []
    for t in traces {
        batch += t
        if batch.count >= 1000 {
            batches.append(batch)
            batch = []
        }
    }
    if !batch.isEmpty { batches.append(batch) }
    let appendWall = try seconds {
        for (k, b) in batches.enumerated() {
            _ = try seconds { try store.append(b) }
            appendCPU += lastCPU
            if k % 200 == 199 { loopFlushSeconds += try seconds { try store.flush() } }
        }
    }
    flushSeconds = loopFlushSeconds + (try seconds { try store.flush() })
    print("store append (WAL fsync + head), 1 thread: \(fmt(Double(spanCount) / (appendWall - loopFlushSeconds) / 1000, 0)) k spans/s wall, \(fmt(Double(spanCount) / appendCPU / 1000, 0)) k spans per CPU-second")
    let st = store.stats()
    print("blocks (zstd level \(options.flushZstdLevel)): \(st.blocks) blocks, \(st.blockSpans) spans, \(st.blockBytes) bytes = \(fmt(Double(st.blockBytes) / Double(st.blockSpans), 1)) bytes/span; head cut \(fmt(Double(st.blockSpans) / flushSeconds / 1000, 0)) k spans/s")

    // Bytes per span at the compaction level (one block per hour of spans, level \(compact)).
    do {
        let cdir = dir + "/compact-probe"
        try FileManager.default.createDirectory(atPath: cdir, withIntermediateDirectories: true)
        var sorted = traces.sorted { $0[0].traceID < $1[0].traceID }
        for k in sorted.indices { sorted[k].sort { $0.startNanos < $1.startNanos } }
        var w = SpanBlockWriter(dir: cdir, zstdLevel: options.compactZstdLevel)
        for t in sorted { try w.add(trace: t[0].traceID, spans: t[...]) }
        let cs = try w.finish()
        print("one compacted block (zstd level \(options.compactZstdLevel)): \(cs.bytes) bytes = \(fmt(Double(cs.bytes) / Double(cs.spans), 1)) bytes/span")
        try? FileManager.default.removeItem(atPath: cdir)
    }

    // 3. Trace by id over the blocks.
    var lat: [Double] = []
    var probe = gen
    for _ in 0..<lookups {
        let t = traces[Int(probe.next() % UInt64(traces.count))]
        let t0 = TimeUtil.monotonicNanos()
        let got = try store.trace(t[0].traceID)
        lat.append(Double(TimeUtil.monotonicNanos() - t0) / 1e6)
        precondition(got.count == t.count, "trace lookup returned \(got.count) spans, expected \(t.count)")
    }
    lat.sort()
    func pct(_ p: Double) -> Double { lat[min(lat.count - 1, Int(Double(lat.count) * p))] }
    print("trace by id (\(lookups) random traces, \(st.blocks) blocks, \(spanCount) spans): p50 \(fmt(pct(0.5), 3)) ms, p99 \(fmt(pct(0.99), 3)) ms, max \(fmt(lat.last ?? 0, 3)) ms")

    // 4. TraceQL searches over the hour.
    let engine = TraceQLEngine()
    for q in [#"{ resource.service.name = "checkout" && duration > 200ms }"#,
              #"{ resource.service.name = "payment" && span.app.payment.amount > 499.9 && span.app.loyalty.level = "gold" }"#,
              #"{ span.db.system = "postgresql" } >> { status = error }"#,
              #"{ resource.service.name = "frontend" } | count() > 40"#] {
        let parsed = try TraceQLParser.parse(q)
        var r: TraceQLSearchResult?
        let s = try seconds { r = try engine.search(parsed, store: store, startNanos: start, endNanos: now + 1_000_000_000, limit: 20) }
        print("TraceQL \(q): \(r!.traces.count) traces, inspected \(r!.inspectedTraces) traces / \(r!.inspectedSpans) spans in \(fmt(s * 1000, 0)) ms")
    }
    store.close()
}
