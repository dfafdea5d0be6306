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

/// What the lookups need to know of each generated trace (the spans themselves are not kept:
/// ten million of them would not fit in memory).
struct GeneratedTrace {
    var id: TraceID
    var spans: Int32
}

/// Drops a file's pages from the page cache (they are clean: the blocks are immutable), so
/// the next reads come from the disk.
func evictFromPageCache(_ dir: String) {
    guard let e = FileManager.default.enumerator(atPath: dir) else { return }
    while let name = e.nextObject() as? String {
        let fd = open(dir + "/" + name, O_RDONLY)
        if fd < 0 { continue }
        _ = posix_fadvise(fd, 0, 0, Int32(POSIX_FADV_DONTNEED))
        close(fd)
    }
}

// argus-bench spans [--spans N] [--hours H] [--block-minutes M] [--retention-hours R] [--lookups N] [--otlp-spans N] [--head-search 1] [--dir DIR]
func runSpanBench(_ args: [String]) async throws {
    var total = 1_000_000
    var hours: Int64 = 1
    var dir = NSTemporaryDirectory() + "argus-span-bench-\(getpid())"
    var blockMinutes: Int64 = 20
    var retentionHours: Int64 = 10
    var lookups = 2000
    var otlpSpans = 300_000
    var headSearch = false
    var i = 0
    while i < args.count {
        let v = i + 1 < args.count ? args[i + 1] : ""
        switch args[i] {
        case "--spans": total = Int(v) ?? total
        case "--hours": hours = Int64(v) ?? hours
        case "--dir": dir = v
        case "--block-minutes": blockMinutes = Int64(v) ?? blockMinutes
        case "--retention-hours": retentionHours = Int64(v) ?? retentionHours
        case "--lookups": lookups = Int(v) ?? lookups
        case "--otlp-spans": otlpSpans = Int(v) ?? otlpSpans
        case "--head-search": headSearch = v == "1" || v == "true"
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

    // `hours` of traffic ending about now, traces evenly spaced (18.7 spans per trace on average).
    let span = hours * 3_600_000_000_000
    let now = TimeUtil.nowNanos()
    let start = now - span
    let step = max(1, Int64(Double(span) * 18.7 / Double(total)))
    var options = StorageOptions(dataDir: dir)
    options.retention = retentionHours * 3_600_000
    options.blockDuration = blockMinutes * 60_000
    print("dataset: \(total) spans of an 11-service shop over \(hours) h; head cut every \(blockMinutes) min of span time, compaction windows \(options.compactionRanges.map { "\($0 / 60_000) min" })")

    // 1. OTLP protobuf requests of ~1000 spans: decode + convert + WAL + head, per CPU second
    // (over the first `otlpSpans` spans; the request bodies are held in memory).
    if otlpSpans > 0 {
        var gen = ShopTraceGenerator()
        var bodies: [[UInt8]] = []
        var batch: [Span] = []
        var n = 0, k: Int64 = 0
        while n < min(total, otlpSpans) {
            var t = gen.trace(start: 0)
            for j in t.indices { t[j].startNanos += start + k * step }
            k += 1
            n += t.count
            batch += t
            if batch.count >= 1000 {
                bodies.append(try OTLPSpanConversion.protobuf(batch))
                batch.removeAll(keepingCapacity: true)
            }
        }
        if !batch.isEmpty { bodies.append(try OTLPSpanConversion.protobuf(batch)) }
        let requestBytes = bodies.reduce(0) { $0 + $1.count }
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
        print("OTLP decode of \(n) spans to spans, 1 thread: from the wire \(fmt(Double(n) / wireCPU / 1000, 0)) k spans per CPU-second; through SwiftProtobuf messages \(fmt(Double(n) / messageCPU / 1000, 0)) k")
        let store = try SpanStore(options: options, logger: logger)
        let ingester = OTLPSpanIngester(store: store)
        var cpu = 0.0
        let wall = try seconds {
            for b in bodies {
                _ = try seconds { _ = try ingester.ingest(protobuf: b) }
                cpu += lastCPU
            }
        }
        print("OTLP ingest of \(n) spans (wire decode + WAL fsync + head), 1 thread: \(fmt(Double(n) / wall / 1000, 0)) k spans/s wall; \(fmt(Double(n) / cpu / 1000, 0)) k spans per CPU-second; request bytes/span \(fmt(Double(requestBytes) / Double(n), 1))")
        store.close()
        try? FileManager.default.removeItem(atPath: dir)
    }

    // 2. Store append alone, 1000-span commits in time order; the head is cut into blocks
    // whenever span time crosses a block period, as the periodic head cut does (no compaction
    // yet: many small blocks).
    var store = try SpanStore(options: options, logger: logger)
    var generated: [GeneratedTrace] = []
    generated.reserveCapacity(total / 15)
    var appendCPU = 0.0, appendWall = 0.0, flushSeconds = 0.0, genSeconds = 0.0
    var spanCount = 0
    do {
        var gen = ShopTraceGenerator()
        var batch: [Span] = []
        batch.reserveCapacity(1100)
        let period = options.blockDuration * 1_000_000
        var k: Int64 = 0
        var lastPeriod = benchFloorDiv(start, period)
        while spanCount < total {
            let t0 = TimeUtil.monotonicNanos()
            let ts = start + k * step
            var t = gen.trace(start: 0)
            for j in t.indices { t[j].startNanos += ts }
            k += 1
            spanCount += t.count
            generated.append(GeneratedTrace(id: t[0].traceID, spans: Int32(t.count)))
            batch += t
            genSeconds += Double(TimeUtil.monotonicNanos() - t0) / 1e9
            if batch.count >= 1000 || spanCount >= total {
                appendWall += try seconds { try store.append(batch) }
                appendCPU += lastCPU
                batch.removeAll(keepingCapacity: true)
                if benchFloorDiv(ts, period) != lastPeriod {
                    lastPeriod = benchFloorDiv(ts, period)
                    flushSeconds += try seconds { try store.flush(compact: false) }
                }
            }
        }
        flushSeconds += try seconds { try store.flush(compact: false) }
    }
    print("generated \(spanCount) spans in \(generated.count) traces (avg \(fmt(Double(spanCount) / Double(generated.count), 1)) spans/trace) in \(fmt(genSeconds, 1)) s")
    print("store append (WAL write + fsync + head), 1 thread, 1000-span commits: \(fmt(Double(spanCount) / appendWall / 1000, 0)) k spans/s wall, \(fmt(Double(spanCount) / appendCPU / 1000, 0)) k spans per CPU-second")
    var st = store.stats()
    print("head cuts: \(st.blocks) blocks (zstd level \(options.flushZstdLevel)), \(st.blockSpans) spans, \(fmt(Double(st.blockBytes) / Double(st.blockSpans), 1)) bytes/span, \(fmt(Double(st.blockSpans) / flushSeconds / 1000, 0)) k spans/s written")

    /// Trace by id for `lookups` random stored traces (the same sequence each time) and
    /// `lookups / 10` random ids that were never stored.
    func lookupBench(_ label: String) throws {
        var lat: [Double] = [], cpu: [Double] = []
        var probe = ShopTraceGenerator(seed: 7)
        for _ in 0..<lookups {
            let t = generated[Int(probe.next() % UInt64(generated.count))]
            let c0 = threadCPUNanos()
            let t0 = TimeUtil.monotonicNanos()
            let got = try store.trace(t.id)
            lat.append(Double(TimeUtil.monotonicNanos() - t0) / 1e6)
            cpu.append(Double(threadCPUNanos() - c0) / 1e6)
            precondition(got.count == Int(t.spans), "trace lookup returned \(got.count) spans, expected \(t.spans)")
        }
        var missLat: [Double] = []
        for _ in 0..<max(1, lookups / 10) {
            let id = TraceID(hi: probe.next(), lo: probe.next())
            let t0 = TimeUtil.monotonicNanos()
            let got = try store.trace(id)
            missLat.append(Double(TimeUtil.monotonicNanos() - t0) / 1e6)
            precondition(got.isEmpty, "a missing trace id returned spans")
        }
        lat.sort()
        cpu.sort()
        missLat.sort()
        func pct(_ xs: [Double], _ p: Double) -> Double { xs[min(xs.count - 1, Int(Double(xs.count) * p))] }
        print("trace by id, \(label) (\(store.stats().blocks) blocks, \(spanCount) spans): \(lookups) stored traces p50 \(fmt(pct(lat, 0.5), 3)) ms, p99 \(fmt(pct(lat, 0.99), 3)) ms, max \(fmt(lat.last ?? 0, 3)) ms (thread CPU p50 \(fmt(pct(cpu, 0.5), 3)) ms, p99 \(fmt(pct(cpu, 0.99), 3)) ms); \(missLat.count) missing ids p50 \(fmt(pct(missLat, 0.5), 3)) ms, p99 \(fmt(pct(missLat, 0.99), 3)) ms")
    }
    // 3. Trace by id over the head-cut blocks, then after compaction: cold (store reopened,
    // block files dropped from the page cache) and warm (the same lookups again).
    try lookupBench("head-cut blocks, warm")
    let compactSeconds = try seconds { try store.compact(all: true) }
    st = store.stats()
    print("compaction: \(fmt(compactSeconds, 1)) s; \(st.blocks) blocks (zstd level \(options.compactZstdLevel)), \(st.blockSpans) spans, \(st.blockBytes) bytes = \(fmt(Double(st.blockBytes) / Double(st.blockSpans), 1)) bytes/span on disk")
    store.close()
    evictFromPageCache(dir + "/traces/blocks")
    let reopen = try seconds { store = try SpanStore(options: options, logger: logger) }
    print("store reopened (block indexes loaded) in \(fmt(reopen * 1000, 0)) ms")
    try lookupBench("compacted, cold (page cache dropped)")
    try lookupBench("compacted, warm")

    // 4. TraceQL searches over the last hour, in blocks; then (5.) over the same hour held in
    // the head of a second store, as a live store with a block period over an hour has it.
    let engine = TraceQLEngine()
    let qStart = now - 3_600_000_000_000, qEnd = now + 3_600_000_000_000
    let queries = [#"{ resource.service.name = "payment" && span.app.payment.amount > 499.9 && span.app.loyalty.level = "gold" }"#,
              #"{ span.http.route = "/cart/checkout" && span.http.response.status_code = 500 }"#,
              #"{ resource.service.name = "checkout" && duration > 200ms }"#,
              #"{ duration > 390ms && duration < 400ms && kind = server }"#,
              #"{ span.db.system = "postgresql" } >> { status = error }"#,
              #"{ resource.service.name = "frontend" } >> { status = error && kind = server }"#,
              #"{ name = "charge" } < { resource.service.name = "checkout" && kind = client } > { }"#,
              #"{ resource.service.name = "frontend" } | count() > 7"#,
              #"{ span.db.system = "redis" } | count() > 12"#,
              #"{ status = error } | by(resource.service.name) | count() > 1"#]
    func searches(_ store: SpanStore, _ label: String) throws {
        for q in queries {
            let parsed = try TraceQLParser.parse(q)
            var r: TraceQLSearchResult?
            _ = try seconds { r = try engine.search(parsed, store: store, startNanos: qStart, endNanos: qEnd, limit: 20) }
            let s = try seconds { r = try engine.search(parsed, store: store, startNanos: qStart, endNanos: qEnd, limit: 20) }
            print("TraceQL (\(label)) \(q): \(r!.traces.count) traces, inspected \(r!.inspectedTraces) traces / \(r!.inspectedSpans) spans, evaluated \(r!.evaluatedTraces) traces / \(r!.evaluatedSpans) spans in \(fmt(s * 1000, 0)) ms")
        }
    }
    try searches(store, "blocks")
    store.close()
    if headSearch {
        let hdir = dir + "/head-store"
        var ho = options
        ho.dataDir = hdir
        ho.blockDuration = 24 * 3_600_000
        let head = try SpanStore(options: ho, logger: logger)
        var gen = ShopTraceGenerator()
        var batch: [Span] = []
        var n = 0, k: Int64 = 0, inHead = 0
        while n < total {
            let ts = start + k * step
            var t = gen.trace(start: 0)
            k += 1
            n += t.count
            guard ts >= qStart else { continue }
            for j in t.indices { t[j].startNanos += ts }
            inHead += t.count
            batch += t
            if batch.count >= 1000 {
                try head.append(batch)
                batch.removeAll(keepingCapacity: true)
            }
        }
        if !batch.isEmpty { try head.append(batch) }
        print("head store: \(inHead) spans of the last hour in the head")
        try searches(head, "head")
        head.close()
    }
}

/// CPU time of the calling thread: a lookup's own cost, without time the scheduler gave to
/// other processes on a shared machine.
func threadCPUNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

func benchFloorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : -((-a + b - 1) / b) }
