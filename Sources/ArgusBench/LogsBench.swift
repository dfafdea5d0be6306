import ArgusIngest
import ArgusModel
import ArgusOTLP
import ArgusQuery
import ArgusStorage
import Foundation
import Logging

/// Realistic structured service logs: several services, each with a few templates (logfmt or
/// JSON), varied ids, numbers and durations; a rare marker in 1 of every `rareEvery` lines.
struct LogGenerator {
    var rng = SystemRandomNumberGenerator()
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    let rareEvery: Int
    var n = 0

    static let services = ["checkout", "cart", "payment", "search", "frontend", "shipping"]
    static let routes = ["/api/cart", "/api/checkout", "/api/products", "/api/orders", "/api/search", "/healthz", "/api/users/me"]
    static let levels: [(String, Int32)] = [("info", 9), ("info", 9), ("info", 9), ("info", 9), ("debug", 5), ("warn", 13), ("error", 17)]

    init(rareEvery: Int) { self.rareEvery = rareEvery }

    mutating func next64() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }

    mutating func int(_ n: Int) -> Int { Int(next64() % UInt64(n)) }

    mutating func hex(_ bytes: Int) -> String {
        var s = ""
        for _ in 0..<bytes { s += String(format: "%02x", Int(next64() & 0xFF)) }
        return s
    }

    /// (service, level name, severity number, line)
    mutating func line() -> (Int, String, Int32, String) {
        n += 1
        let svc = int(Self.services.count)
        let (level, sev) = Self.levels[int(Self.levels.count)]
        let route = Self.routes[int(Self.routes.count)]
        let user = "u\(int(50_000))"
        let order = "ord-\(100_000 + int(900_000))"
        let dur = int(2000)
        let status = [200, 200, 200, 200, 201, 204, 400, 404, 500][int(9)]
        let trace = hex(16)
        var line: String
        switch (svc + int(3)) % 4 {
        case 0:
            line = "level=\(level) ts=2026-11-22T10:\(10 + int(50)):\(10 + int(50)).\(100 + int(900))Z caller=handler.go:\(40 + int(200)) msg=\"request completed\" method=GET route=\(route) status=\(status) duration=\(dur)ms user=\(user) trace_id=\(trace)"
        case 1:
            line = "{\"level\":\"\(level)\",\"msg\":\"order processed\",\"order_id\":\"\(order)\",\"user_id\":\"\(user)\",\"amount\":\(int(50_000)) ,\"currency\":\"EUR\",\"items\":\(1 + int(9)),\"duration_ms\":\(dur),\"trace_id\":\"\(trace)\"}"
        case 2:
            line = "level=\(level) msg=\"cache lookup\" key=product:\(int(20_000)) hit=\(int(2) == 0 ? "true" : "false") size=\(int(65_536))B latency=\(int(900))us shard=\(int(16))"
        default:
            line = "{\"level\":\"\(level)\",\"msg\":\"upstream call\",\"upstream\":\"\(Self.services[int(Self.services.count)])\",\"route\":\"\(route)\",\"status\":\(status),\"retries\":\(int(3)),\"elapsed\":\"\(dur)ms\",\"span_id\":\"\(hex(8))\"}"
        }
        if n % rareEvery == 0 { line += " error=card_declined_xyzzy reason=\"issuer unavailable\"" }
        return (svc, level, sev, line)
    }
}

// argus-bench logs [--records N] [--batch N] [--dir DIR] [--rare-every N]
func runLogsBench(_ args: [String]) throws {
    var records = 2_000_000
    var batch = 1000
    var rareEvery = 10_000
    var dir = NSTemporaryDirectory() + "argus-logs-bench-\(getpid())"
    var i = 0
    while i < args.count {
        let v = i + 1 < args.count ? args[i + 1] : ""
        switch args[i] {
        case "--records": records = Int(v) ?? records
        case "--batch": batch = Int(v) ?? batch
        case "--rare-every": rareEvery = Int(v) ?? rareEvery
        case "--dir": dir = v
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
    let store = try LogStore(options: options, logger: logger)
    let ingester = OTLPLogIngester(store: store)
    var gen = LogGenerator(rareEvery: rareEvery)
    // Records spread evenly over the last 6 hours: three 2 h block windows.
    let span: Int64 = 6 * 3_600_000_000_000
    let end = TimeUtil.nowNanos() / 3_600_000_000_000 * 3_600_000_000_000
    let start = end - span
    let flushEvery = 1_000_000
    print("logs: \(records) records from \(LogGenerator.services.count) services, OTLP batches of \(batch), rare marker in 1 of \(rareEvery)")

    var rawBytes = 0
    var ingestWall = 0.0, ingestCPU = 0.0, decodeCPU = 0.0
    var flushWall = 0.0
    var done = 0
    var sinceFlush = 0
    while done < records {
        let n = min(batch, records - done)
        // One OTLP request per batch, spread over the services' resources.
        var req = OTLPLogsRequest()
        var rls = [Opentelemetry_Proto_Logs_V1_ResourceLogs](repeating: .init(), count: LogGenerator.services.count)
        for (k, s) in LogGenerator.services.enumerated() {
            var a = Opentelemetry_Proto_Common_V1_KeyValue()
            a.key = "service.name"
            a.value.stringValue = s
            var b = Opentelemetry_Proto_Common_V1_KeyValue()
            b.key = "deployment.environment"
            b.value.stringValue = "prod"
            var c = Opentelemetry_Proto_Common_V1_KeyValue()
            c.key = "host.name"
            c.value.stringValue = "node-\(k % 3)"
            rls[k].resource.attributes = [a, b, c]
            rls[k].scopeLogs = [.init()]
        }
        for j in 0..<n {
            let (svc, level, sev, line) = gen.line()
            rawBytes += line.utf8.count + 1
            var r = Opentelemetry_Proto_Logs_V1_LogRecord()
            r.timeUnixNano = UInt64(start + Int64(Double(span) * Double(done + j) / Double(records)))
            r.severityNumber = Opentelemetry_Proto_Logs_V1_SeverityNumber(rawValue: Int(sev)) ?? .unspecified
            r.severityText = level.uppercased()
            r.body.stringValue = line
            rls[svc].scopeLogs[0].logRecords.append(r)
        }
        req.resourceLogs = rls.filter { !$0.scopeLogs[0].logRecords.isEmpty }
        let wire: [UInt8] = try req.serializedBytes()
        var decoded = OTLPLogsRequest()
        ingestWall += try seconds {
            decoded = try OTLPLogsRequest(serializedBytes: wire)
        }
        decodeCPU += lastCPU
        ingestCPU += lastCPU
        ingestWall += try seconds {
            _ = try ingester.ingest(decoded)
        }
        ingestCPU += lastCPU
        done += n
        sinceFlush += n
        if sinceFlush >= flushEvery {
            flushWall += try seconds { try store.flush() }
            sinceFlush = 0
        }
    }
    flushWall += try seconds { try store.flush() }
    let st = store.stats()
    print("ingest (OTLP protobuf decode + convert + WAL + head): \(fmt(Double(records) / ingestCPU / 1000, 1)) k records per CPU-second"
          + " (\(fmt(Double(records) / ingestWall / 1000, 1)) k/s wall, decode \(fmt(decodeCPU / ingestCPU * 100, 0))% of CPU)")
    print("blocks: \(st.blocks), \(st.blockRecords) records; head cuts + compaction took \(fmt(flushWall, 1)) s")
    print("raw lines in: \(fmt(Double(rawBytes) / 1e6, 1)) MB (\(fmt(Double(rawBytes) / Double(records), 1)) B/record); on disk: \(fmt(Double(st.blockBytes) / 1e6, 1)) MB"
          + " (\(fmt(Double(st.blockBytes) / Double(records), 2)) B/record) → compression \(fmt(Double(rawBytes) / Double(st.blockBytes), 1))×")

    let engine = LogQLEngine()
    func run(_ name: String, _ q: String, limit: Int = 100) throws {
        var result: LogQLResult?
        let wall = try seconds { result = try engine.query(q, start: start - 1, end: end + 1, step: 0, limit: limit, store: store) }
        let r = result!
        var n = 0
        if case .streams(let e) = r.value { n = e.count }
        let s = r.stats
        print("\(name): \(q)\n  \(fmt(wall * 1000, 1)) ms wall, \(fmt(lastCPU * 1000, 1)) ms CPU; \(n) lines returned; chunks \(s.chunksTotal), skipped by token filter \(s.chunksSkippedByFilter), read \(s.chunksRead);"
              + " \(s.linesRead) lines / \(fmt(Double(s.bytesRead) / 1e6, 1)) MB scanned → \(fmt(Double(s.bytesRead) / lastCPU / 1e9, 2)) GB/s per core")
    }
    try run("rare word", #"{service_name=~".+"} |= "error=card_declined_xyzzy ""#, limit: 5000)
    try run("full scan", #"{service_name=~".+"} |= "q9zq""#)
    try run("metric", #"sum by (level) (count_over_time({service_name="checkout"} |= "error" [1h]))"#)
    store.close()
}
