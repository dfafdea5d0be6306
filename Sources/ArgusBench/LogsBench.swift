import ArgusColumnar
import ArgusIngest
import ArgusModel
import ArgusOTLP
import ArgusQuery
import ArgusStorage
import Foundation
import Logging

/// Structured service logs shaped like a small shop's fleet: six services with two replicas
/// each (twelve streams), each writing its own format (Go logfmt with µs timestamps, Java-style
/// and Node pino-style JSON with ms or epoch-ms timestamps). Requests arrive at random; each
/// gets a trace id and a user, touches the frontend and one to three other services, and every
/// service logs two to four lines inside its own span (same trace id, span id, user and order
/// ids across those lines), interleaved in time with other requests. Numbers (durations,
/// amounts, counts, sizes, ports) vary per line; health checks, cache and GC lines come
/// between requests. A record's time is the instant printed in its line. A marker
/// (`card_declined_xyzzy`) is put into 1 line in `rareEvery`: at random lines, or with
/// `clustered` into every 10th line of one stretch of the data.
struct LogGenerator {
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    let rareEvery: Int
    let records: Int
    let clustered: Bool
    var emitted = 0
    var pending = LineHeap()
    var buf: [UInt8] = []
    var clock: Int64
    let stepNs: Int64

    static let services = ["frontend", "cart", "checkout", "payment", "search", "shipping"]
    static let paths = ["/api/cart", "/api/checkout", "/api/products", "/api/orders", "/api/search", "/api/users/me", "/api/recommendations"]
    static let terms = ["red shoes", "running shoes", "usb-c cable", "coffee grinder", "wool socks", "desk lamp", "yoga mat", "phone case",
                        "water bottle", "backpack", "headphones", "notebook", "sunglasses", "rain jacket", "tea kettle", "keyboard"]
    static let agents = ["Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
                         "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
                         "okhttp/4.12.0", "shop-ios/5.2.1 (iPhone15,2; iOS 18.1)"]
    static let prices = [499, 999, 1299, 1499, 1999, 2499, 2999, 3499, 3999, 4999, 5999, 7999, 9999, 12_999, 14_999, 19_999]
    static let carriers = ["dhl", "ups", "dpd", "gls"]
    static let brands = ["visa", "mastercard", "amex"]

    init(records: Int, rareEvery: Int, clustered: Bool, start: Int64, span: Int64) {
        self.records = records
        self.rareEvery = rareEvery
        self.clustered = clustered
        clock = start
        // About 3.2 lines per request and filler: mean gap between requests.
        stepNs = max(1, span / Int64(max(1, records)) * 3)
    }

    mutating func next64() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }

    mutating func int(_ n: Int) -> Int { Int(next64() % UInt64(n)) }

    /// A log-normal integer (durations, sizes, counts): `median · e^(sigma · N(0,1))`.
    mutating func logNormal(median: Double, sigma: Double, max: Int) -> Int {
        let u1 = (Double(next64() >> 11) + 1) / 9_007_199_254_740_993, u2 = Double(next64() >> 11) / 9_007_199_254_740_992
        let z = (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
        return Swift.min(max, Swift.max(0, Int(median * exp(sigma * z))))
    }

    /// Cumulative cache counters (hits, misses, evictions) that the cache stats lines print.
    var counters = (0, 0, 0)

    /// The next line in time order: (stream index, severity number, level text, time ns, line).
    mutating func next() -> (Int, Int32, String, Int64, [UInt8]) {
        while pending.isEmpty || pending.peekTime > clock {
            clock += Int64(next64() % UInt64(2 * stepNs))
            makeRequest(at: clock)
        }
        var l = pending.pop()
        emitted += 1
        let mark: Bool
        if clustered {
            let from = records / 2
            mark = emitted >= from && emitted < from + records / rareEvery * 10 && (emitted - from) % 10 == 0
        } else {
            mark = int(rareEvery) == 0
        }
        if mark {
            if l.line.last == UInt8(ascii: "}") {
                l.line.removeLast()
                l.line.append(contentsOf: #","decline_code":"card_declined_xyzzy"}"#.utf8)
            } else {
                l.line.append(contentsOf: " decline_code=card_declined_xyzzy".utf8)
            }
        }
        return (l.stream, l.sev, l.level, l.time, l.line)
    }

    // MARK: line building

    mutating func s(_ x: String) { buf.append(contentsOf: x.utf8) }
    mutating func n(_ x: Int) { buf.append(contentsOf: String(x).utf8) }
    mutating func hex(_ bytes: [UInt8]) {
        let d = Array("0123456789abcdef".utf8)
        for b in bytes { buf.append(d[Int(b >> 4)]); buf.append(d[Int(b & 15)]) }
    }
    mutating func iso(_ ns: Int64, digits: Int) {
        var tmp = [UInt8](repeating: 0, count: 32)
        let len = tmp.withUnsafeMutableBufferPointer { LogGenerator.formatISO(ns, digits: digits, into: $0.baseAddress!) }
        buf.append(contentsOf: tmp[0..<len])
        buf.append(UInt8(ascii: "Z"))
    }
    mutating func dec(_ x: Int, _ frac: Int) {  // x / 10^frac with `frac` digits
        n(x / Int(pow(10, Double(frac))))
        if frac > 0 {
            buf.append(UInt8(ascii: "."))
            let f = String(x % Int(pow(10, Double(frac))))
            s(String(repeating: "0", count: frac - f.count) + f)
        }
    }

    static func formatISO(_ ns: Int64, digits: Int, into p: UnsafeMutablePointer<UInt8>) -> Int {
        let days = ns / 86_400_000_000_000, rem = ns % 86_400_000_000_000
        var z = days + 719_468
        let era = z / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        z = yoe + era * 400 + (m <= 2 ? 1 : 0)
        let secs = rem / 1_000_000_000
        var str = String(format: "%04d-%02d-%02dT%02d:%02d:%02d", Int(z), Int(m), Int(d), Int(secs / 3600), Int(secs / 60 % 60), Int(secs % 60))
        if digits > 0 {
            let f = Int(rem % 1_000_000_000) / Int(pow(10, Double(9 - digits)))
            str += "." + String(format: "%0\(digits)d", f)
        }
        let u = Array(str.utf8)
        for (i, c) in u.enumerated() { p[i] = c }
        return u.count
    }

    mutating func push(_ stream: Int, _ t: Int64, _ level: String) {
        let sev: Int32 = ["debug": 5, "info": 9, "warn": 13, "error": 17][level.lowercased()] ?? 9
        pending.push(PendingLine(time: t, stream: stream, sev: sev, level: level, line: buf))
        buf.removeAll(keepingCapacity: true)
    }

    func precision(_ svc: Int) -> Int64 { [1000, 1000, 1_000_000, 1_000_000, 1_000_000, 1_000_000_000][svc] }

    /// One request's lines (and, now and then, a line not tied to a request).
    mutating func makeRequest(at t0: Int64) {
        let trace = (0..<16).map { _ in UInt8(truncatingIfNeeded: next64()) }
        let userN = int(50_000)
        let session = (0..<12).map { _ in UInt8(truncatingIfNeeded: next64()) }
        let user = "u\(userN)"
        // Popular products are bought more (a Zipf-like pick over 5000 SKUs); prices come
        // from the catalogue, quantities are mostly 1 or 2.
        let sku = 10_000 + Int(pow(Double(int(1 << 20)) / Double(1 << 20), 3) * 5000)
        let price = LogGenerator.prices[sku % LogGenerator.prices.count]
        let qty = 1 + (int(2) == 0 ? 0 : int(2) == 0 ? 1 : int(4))
        let results = logNormal(median: 40, sigma: 1.2, max: 5000)
        let order = 100_000 + int(900_000)
        let path = LogGenerator.paths[int(LogGenerator.paths.count)]
        let pathBytes = [5312, 812, 48_210, 2290, 31_874, 644, 12_006][LogGenerator.paths.firstIndex(of: path) ?? 0]
        var t = t0
        let totalMs = logNormal(median: 40, sigma: 1.0, max: 30_000)
        let status = [200, 200, 200, 200, 200, 200, 201, 204, 400, 404, 500, 502][int(12)]
        var visits = [0]
        for _ in 0..<(1 + int(3)) { visits.append(1 + int(5)) }
        for (k, svc) in visits.enumerated() {
            let replica = int(2)
            let stream = svc * 2 + replica
            let span = (0..<8).map { _ in UInt8(truncatingIfNeeded: next64()) }
            let lines = 2 + int(3)
            for j in 0..<lines {
                t += Int64(1 + int(40)) * 1_000_000 + Int64(int(1_000_000))
                let tt = t / precision(svc) * precision(svc)
                let last = j == lines - 1
                let level = last && status >= 500 ? "error" : (int(20) == 0 ? "debug" : (last && status >= 400 ? "warn" : "info"))
                switch svc {
                case 0:
                    s("ts="); iso(tt, digits: 6); s(" level=\(level) caller=")
                    if j == 0 {
                        s("http/server.go:142 msg=\"request started\" method=\(int(4) == 0 ? "POST" : "GET") path=\(path) trace_id="); hex(trace)
                        s(" span_id="); hex(span); s(" user_id=\(user) remote_addr=10.\(userN % 4).\(userN / 4 % 256).\(userN / 1024 % 256):\(32768 + int(28000)) user_agent=\"")
                        s(LogGenerator.agents[int(LogGenerator.agents.count)]); s("\"")
                    } else if last {
                        s("http/server.go:187 msg=\"request completed\" method=GET path=\(path) status=\(status) duration_ms="); dec(totalMs * 1000 + int(1000), 3)
                        s(" bytes=\(pathBytes + int(64)) trace_id="); hex(trace); s(" span_id="); hex(span)
                    } else {
                        s("session/store.go:88 msg=\"session loaded\" session_id="); hex(session)
                        s(" user_id=\(user) age_s=\(int(86_400)) trace_id="); hex(trace)
                    }
                case 1:
                    s("level=\(level) ts="); iso(tt, digits: 6); s(" caller=cart/service.go:\(k % 2 == 0 ? 64 : 112) msg=")
                    if last {
                        s("\"cart updated\" cart_id=c-\(order) user_id=\(user) items=\(qty) total_cents=\(price * qty) trace_id="); hex(trace); s(" span_id="); hex(span)
                    } else {
                        s("\"cache lookup\" key=cart:\(user) hit=\(int(3) == 0 ? "false" : "true") latency_us=\(logNormal(median: 120, sigma: 0.8, max: 100_000)) trace_id="); hex(trace); s(" span_id="); hex(span)
                    }
                case 2:
                    s("{\"@timestamp\":\""); iso(tt, digits: 3); s("\",\"level\":\"\(level.uppercased())\",\"logger\":\"shop.checkout.")
                    if j == 0 {
                        s("OrderService\",\"thread\":\"http-nio-8080-exec-\(1 + int(20))\",\"message\":\"Creating order for user \(user)\",\"trace_id\":\""); hex(trace)
                        s("\",\"span_id\":\""); hex(span); s("\",\"user_id\":\"\(user)\",\"cart_items\":\(qty)}")
                    } else if last {
                        s("OrderService\",\"thread\":\"http-nio-8080-exec-\(1 + int(20))\",\"message\":\"Order ord-\(order) placed\",\"trace_id\":\""); hex(trace)
                        s("\",\"span_id\":\""); hex(span); s("\",\"order_id\":\"ord-\(order)\",\"user_id\":\"\(user)\",\"amount_cents\":\(price * qty),\"currency\":\"EUR\",\"items\":\(qty),\"duration_ms\":\(logNormal(median: 35, sigma: 0.7, max: 20_000))}")
                    } else {
                        s("InventoryClient\",\"thread\":\"http-nio-8080-exec-\(1 + int(20))\",\"message\":\"Reserved \(qty) units of sku-\(sku)\",\"trace_id\":\""); hex(trace)
                        s("\",\"span_id\":\""); hex(span); s("\",\"warehouse\":\"fra-\(1 + int(3))\",\"latency_ms\":\(logNormal(median: 8, sigma: 0.9, max: 10_000))}")
                    }
                case 3:
                    s("{\"level\":\(level == "error" ? 50 : level == "warn" ? 40 : level == "debug" ? 20 : 30),\"time\":\(tt / 1_000_000),\"pid\":\(4100 + replica),\"hostname\":\"payment-7d9f8b6c4-\(replica == 0 ? "x2kzq" : "m8wpl")\",\"trace_id\":\""); hex(trace)
                    s("\",\"span_id\":\""); hex(span)
                    if last {
                        s("\",\"msg\":\"charge \(status >= 400 ? "declined" : "authorized")\",\"order_id\":\"ord-\(order)\",\"provider\":\"stripe\",\"amount\":\(price * qty),\"currency\":\"EUR\",\"card_brand\":\"\(LogGenerator.brands[int(3)])\",\"latency_ms\":\(40 + int(600))}")
                    } else {
                        s("\",\"msg\":\"risk check passed\",\"user_id\":\"\(user)\",\"score\":0.\(int(1000)),\"rules_evaluated\":\(10 + int(30))}")
                    }
                case 4:
                    s("{\"ts\":\""); iso(tt, digits: 3); s("\",\"lvl\":\"\(level)\",\"msg\":\"")
                    if j == 0 {
                        s("search executed\",\"query\":\"\(LogGenerator.terms[int(LogGenerator.terms.count)])\",\"results\":\(results),\"took_ms\":\(logNormal(median: 18, sigma: 0.8, max: 10_000)),\"index\":\"products-v3\",\"shard\":\(int(8)),\"trace_id\":\""); hex(trace); s("\",\"span_id\":\""); hex(span); s("\"}")
                    } else {
                        s("ranking model scored\",\"candidates\":\(min(results, 200)),\"model\":\"ltr-2026-10\",\"took_ms\":\(logNormal(median: 6, sigma: 0.6, max: 10_000)),\"trace_id\":\""); hex(trace); s("\",\"span_id\":\""); hex(span); s("\"}")
                    }
                default:
                    s("time=\""); iso(tt, digits: 0); s("\" level=\(level) msg=")
                    if last {
                        s("\"label created\" carrier=\(LogGenerator.carriers[int(4)]) tracking=JD\(int(1_000_000_000))\(int(1_000_000_000)) order_id=ord-\(order) weight_g=\(100 + int(20_000)) trace_id="); hex(trace)
                    } else {
                        s("\"rate quote\" carrier=\(LogGenerator.carriers[int(4)]) zone=\(1 + int(9)) price_cents=\(300 + int(3000)) order_id=ord-\(order) trace_id="); hex(trace)
                    }
                }
                push(stream, tt, level)
            }
        }
        // Lines outside requests: health checks, cache statistics, GC.
        counters.0 += 2 + int(20)
        counters.1 += int(3)
        counters.2 += int(8) == 0 ? 1 : 0
        if int(4) == 0 {
            let svc = int(6)
            let tt = t0 / precision(svc) * precision(svc)
            if svc == 2 {
                s("{\"@timestamp\":\""); iso(tt, digits: 3); s("\",\"level\":\"INFO\",\"logger\":\"jvm.gc\",\"thread\":\"G1 Young RemSet Sampling\",\"message\":\"GC pause (G1 Evacuation Pause) young \(100 + int(400))M->\(50 + int(100))M(1024M) \(dec3(2000 + int(30_000)))ms\"}")
            } else if svc % 2 == 0 {
                s("ts="); iso(tt, digits: 6); s(" level=debug caller=http/server.go:142 msg=\"health check\" path=/healthz status=200 duration_ms=0.\(100 + int(900))")
            } else {
                s("level=info ts="); iso(tt, digits: 6); s(" caller=cache/stats.go:31 msg=\"cache stats\" entries=\(10_000 + int(5000)) hits=\(counters.0) misses=\(counters.1) evictions=\(counters.2)")
            }
            push(svc * 2 + int(2), tt, svc % 2 == 0 && svc != 2 ? "debug" : "info")
        }
    }

    func dec3(_ x: Int) -> String { "\(x / 1000).\(String(format: "%03d", x % 1000))" }
}

struct PendingLine {
    var time: Int64
    var stream: Int
    var sev: Int32
    var level: String
    var line: [UInt8]
}

/// A min-heap of lines by time.
struct LineHeap {
    var items: [PendingLine] = []
    var isEmpty: Bool { items.isEmpty }
    var peekTime: Int64 { items[0].time }
    mutating func push(_ x: PendingLine) {
        items.append(x)
        var i = items.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            if items[p].time <= items[i].time { break }
            items.swapAt(p, i)
            i = p
        }
    }
    mutating func pop() -> PendingLine {
        let top = items[0]
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < items.count && items[l].time < items[m].time { m = l }
                if r < items.count && items[r].time < items[m].time { m = r }
                if m == i { break }
                items.swapAt(m, i)
                i = m
            }
        }
        return top
    }
}

// argus-bench logs [--records N] [--batch N] [--dir DIR] [--rare-every N] [--clustered] [--hours H]
/// One OTLP logs request of `records` generated lines, spread over the generator's streams
/// (a resource per service replica: service.name, deployment.environment, host.name);
/// `onLine` sees each line and its time.
func logsRequest(_ gen: inout LogGenerator, records: Int, onLine: (Int64, [UInt8]) -> Void = { _, _ in }) -> OTLPLogsRequest {
    let streams = LogGenerator.services.count * 2
    var req = OTLPLogsRequest()
    var rls = [Opentelemetry_Proto_Logs_V1_ResourceLogs](repeating: .init(), count: streams)
    for k in 0..<streams {
        var a = Opentelemetry_Proto_Common_V1_KeyValue()
        a.key = "service.name"
        a.value.stringValue = LogGenerator.services[k / 2]
        var b = Opentelemetry_Proto_Common_V1_KeyValue()
        b.key = "deployment.environment"
        b.value.stringValue = "prod"
        var c = Opentelemetry_Proto_Common_V1_KeyValue()
        c.key = "host.name"
        c.value.stringValue = "node-\((k / 2) % 3 + (k % 2) * 3)"
        rls[k].resource.attributes = [a, b, c]
        rls[k].scopeLogs = [.init()]
    }
    for _ in 0..<records {
        let (stream, sev, level, t, line) = gen.next()
        onLine(t, line)
        var r = Opentelemetry_Proto_Logs_V1_LogRecord()
        r.timeUnixNano = UInt64(t)
        r.severityNumber = Opentelemetry_Proto_Logs_V1_SeverityNumber(rawValue: Int(sev)) ?? .unspecified
        r.severityText = level.uppercased()
        r.body.stringValue = String(decoding: line, as: UTF8.self)
        rls[stream].scopeLogs[0].logRecords.append(r)
    }
    req.resourceLogs = rls.filter { !$0.scopeLogs[0].logRecords.isEmpty }
    return req
}

func runLogsBench(_ args: [String]) throws {
    var records = 2_000_000
    var batch = 1000
    var rareEvery = 10_000
    var hours: Int64 = 6
    var clustered = false
    var zstd: Int32 = LogStoreOptions(dir: "").compactZstdLevel
    var dir = NSTemporaryDirectory() + "argus-logs-bench-\(getpid())"
    var i = 0
    while i < args.count {
        let v = i + 1 < args.count ? args[i + 1] : ""
        switch args[i] {
        case "--records": records = Int(v) ?? records
        case "--batch": batch = Int(v) ?? batch
        case "--rare-every": rareEvery = Int(v) ?? rareEvery
        case "--hours": hours = Int64(v) ?? hours
        case "--dir": dir = v
        case "--zstd": zstd = Int32(v) ?? zstd
        case "--clustered": clustered = true; i -= 1
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
    var options = LogStoreOptions(dir: dir)
    options.retention = 30 * 86_400_000
    options.compactZstdLevel = zstd
    let store = try LogStore(options: options, logger: logger)
    let ingester = OTLPLogIngester(store: store)
    let span = hours * 3_600_000_000_000
    let end = TimeUtil.nowNanos() / 3_600_000_000_000 * 3_600_000_000_000
    let start = end - span
    var gen = LogGenerator(records: records, rareEvery: rareEvery, clustered: clustered, start: start, span: span)
    let flushEvery = 1_000_000
    let streams = LogGenerator.services.count * 2
    print("logs: \(records) records from \(LogGenerator.services.count) services × 2 replicas over \(hours) h, OTLP batches of \(batch), marker in 1 of \(rareEvery) lines (\(clustered ? "clustered" : "random"))")

    var rawBytes = 0
    var ingestWall = 0.0, ingestCPU = 0.0, decodeCPU = 0.0
    var flushWall = 0.0, flushCPU = 0.0
    var done = 0
    var sinceFlush = 0
    var lastT = start
    var markers = 0
    while done < records {
        let n = min(batch, records - done)
        let req = logsRequest(&gen, records: n) { t, line in
            rawBytes += line.count + 1
            if line.count > 5 && line.withUnsafeBytes({ h in Array("xyzzy".utf8).withUnsafeBytes { ByteSearch.find(h, $0) } }) { markers += 1 }
            lastT = max(lastT, t)
        }
        let wire: [UInt8] = try req.serializedBytes()
        // Decoding alone (as /v1/logs does it, from the wire), then the whole path.
        var counts = IngestCounts()
        _ = try seconds { _ = try OTLPLogWire.batches(wire, mode: .otlp, now: lastT, counts: &counts) }
        decodeCPU += lastCPU
        ingestWall += try seconds {
            _ = try ingester.ingest(protobuf: wire)
        }
        ingestCPU += lastCPU
        done += n
        sinceFlush += n
        if sinceFlush >= flushEvery {
            flushWall += try seconds { try store.flush() }
            flushCPU += lastCPU
            sinceFlush = 0
        }
    }
    flushWall += try seconds { try store.flush() }
    flushCPU += lastCPU
    // Then every window compacted, also those still being filled (as an admin flush does).
    flushWall += try seconds { try store.compact(all: true) }
    flushCPU += lastCPU
    let st = store.stats()
    print("ingest (OTLP protobuf decode + convert + WAL + head): \(fmt(Double(records) / ingestCPU / 1000, 1)) k records per CPU-second"
          + " (\(fmt(Double(records) / ingestWall / 1000, 1)) k/s wall, wire decode alone \(fmt(decodeCPU / ingestCPU * 100, 0))% of that CPU)")
    print("blocks: \(st.blocks), \(st.blockRecords) records; head cuts + compaction took \(fmt(flushWall, 1)) s wall, \(fmt(flushCPU, 1)) s CPU")
    print("raw lines in: \(rawBytes) B = \(fmt(Double(rawBytes) / 1e6, 1)) MB (\(fmt(Double(rawBytes) / Double(records), 1)) B/record); on disk: \(st.blockBytes) B = \(fmt(Double(st.blockBytes) / 1e6, 1)) MB"
          + " (\(fmt(Double(st.blockBytes) / Double(records), 2)) B/record) → compression \(fmt(Double(rawBytes) / Double(st.blockBytes), 1))×")
    print("lines with the marker: \(markers)")
    // Where the bytes go: compressed size per column over every block.
    var perColumn = [Int](repeating: 0, count: LogBlockFormat.fixedColumnCount + 1)
    var indexBytes = 0
    var templates = 0, chunks = 0, hexBytes = 0
    for m in store.blockMetas {
        let r = try LogBlockReader(dir: dir + "/blocks/" + m.id)
        indexBytes += (try? FileManager.default.attributesOfItem(atPath: dir + "/blocks/" + m.id + "/index")[.size] as? Int) ?? 0
        for (c, ch) in r.chunks.enumerated() {
            for (k, size) in ch.sizes.enumerated() { perColumn[min(k, LogBlockFormat.fixedColumnCount)] += size }
            templates += try r.templates(c)?.ranges.count ?? 0
            let raw = try r.column(c, LogBlockFormat.Column2.values)
            try raw.withUnsafeBytes { p in
                var br = ByteReader(p)
                let n = Int(try br.uvarint())
                let kinds = Array(try br.bytes(n))
                for k in kinds where k == 0 { _ = try br.uvarint() }
                hexBytes += br.offset + kinds.reduce(0) { $0 + Int($1) }
            }
            chunks += 1
        }
    }
    var sharedBytes = 0, sharedIDs = 0
    for m in store.blockMetas {
        let r = try LogBlockReader(dir: dir + "/blocks/" + m.id)
        if let sh = try r.sharedIDs() {
            sharedIDs += sh.count
            sharedBytes += sh.bytes.count
        }
    }
    let names = ["time", "observed", "severity", "templates", "values", "ids", "attributes", "attribute columns"]
    print("bytes per record by column: " + zip(names, perColumn).map { "\($0) \(fmt(Double($1) / Double(records), 2))" }.joined(separator: ", ")
          + ", index \(fmt(Double(indexBytes) / Double(records), 2)) (index and shared ids: the rest); raw bytes per record of the chunks' hex id tables \(fmt(Double(hexBytes) / Double(records), 2)),"
          + " of the blocks' shared ids \(fmt(Double(sharedBytes) / Double(records), 2)) (\(sharedIDs) ids); \(chunks) chunks, \(templates / max(1, chunks)) templates per chunk")

    let engine = LogQLEngine()
    /// Runs `q` `runs` times; prints the first run's figures and the wall times of all.
    func run(_ name: String, _ q: String, limit: Int = 100, runs: Int = 1) throws {
        var result: LogQLResult?
        var walls: [Double] = [], cpus: [Double] = []
        for _ in 0..<runs {
            walls.append(try seconds { result = try engine.query(q, start: start - 1, end: lastT + 1, step: 0, limit: limit, store: store) })
            cpus.append(lastCPU)
        }
        let wall = walls[0]
        lastCPU = cpus[0]
        let r = result!
        var n = 0
        if case .streams(let e) = r.value { n = e.count }
        if case .vector(let v) = r.value { n = v.count }
        let s = r.stats
        print("\(name): \(q)\n  \(fmt(wall * 1000, 1)) ms wall, \(fmt(lastCPU * 1000, 1)) ms CPU; \(n) results; chunks \(s.chunksTotal), skipped \(s.chunksSkippedByFilter), read \(s.chunksRead);"
              + " \(s.linesRead) of \(s.linesCovered) lines decoded, \(fmt(Double(s.bytesRead) / 1e6, 1)) MB → \(fmt(Double(s.bytesRead) / lastCPU / 1e9, 2)) GB/s per CPU-second")
        if runs > 1 {
            let med = cpus.sorted()[runs / 2]
            print("  \(runs) runs, CPU ms: " + cpus.map { fmt($0 * 1000, 1) }.joined(separator: ", ")
                  + "; median \(fmt(Double(s.bytesRead) / med / 1e9, 2)) GB/s per CPU-second")
        }
    }
    try run("rare word", #"{service_name=~".+"} |= "xyzzy""#, limit: 5000)
    // For profiling: ARGUS_BENCH_REPEAT=N runs a query N more times (ARGUS_BENCH_QUERY, by
    // default the rare-word query).
    let env = ProcessInfo.processInfo.environment
    for _ in 0..<(Int(env["ARGUS_BENCH_REPEAT"] ?? "") ?? 0) {
        _ = try engine.query(env["ARGUS_BENCH_QUERY"] ?? #"{service_name=~".+"} |= "xyzzy""#, start: start - 1, end: lastT + 1, step: 0, limit: 5000, store: store)
    }
    try run("rare word, longer needle", #"{service_name=~".+"} |= "card_declined_xyzzy""#, limit: 5000)
    try run("full scan (needle of hex digits only: every line decoded and searched)", #"{service_name=~".+"} |= "0f1e2d3c4b5a69""#, runs: 5)
    try run("regex line filter (its leading literal text filters in the store; the regex runs on the lines left)", #"{service_name=~".+"} |~ "ord-9999[0-9]{2}\\b""#, limit: 5000)
    try run("parser and label filter", #"{service_name="frontend"} | logfmt | status >= 500"#, limit: 5000)
    try run("metric", #"sum by (level) (count_over_time({service_name="checkout"} |= "placed" [1h]))"#)
    store.close()
}
