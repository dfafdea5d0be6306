import ArgusIngest
import ArgusModel
import ArgusOTLP
import AsyncHTTPClient
import Foundation
import NIOCore

/// End-to-end OTLP/HTTP ingest of spans or log records against a real `argus serve` (started
/// here on a free loopback port): HTTP, protobuf decode, WAL (fsync'd) and head. Requests are
/// encoded before the clock starts, so the CPU figure is the server's (from /proc).
///
/// argus-bench otlp [--signal traces|logs] [--count N] [--batch N] [--concurrency N]
func runOTLPBench(_ args: [String]) async throws {
    var signal = "traces"
    var count = 500_000
    var batch = 1000
    var concurrency = 4
    var i = 0
    while i < args.count {
        let v = i + 1 < args.count ? args[i + 1] : ""
        switch args[i] {
        case "--signal": signal = v
        case "--count": count = Int(v) ?? count
        case "--batch": batch = Int(v) ?? batch
        case "--concurrency": concurrency = Int(v) ?? concurrency
        default: throw BenchError("unknown option \(args[i]) (argus-bench otlp [--signal traces|logs] [--count N] [--batch N] [--concurrency N])")
        }
        i += 2
    }
    guard signal == "traces" || signal == "logs" else { throw BenchError("--signal is traces or logs") }

    let now = TimeUtil.nowNanos()
    var bodies: [[UInt8]] = []
    var total = 0
    if signal == "traces" {
        var gen = ShopTraceGenerator()
        var pending: [Span] = []
        var t = now - 3_600_000_000_000
        while total < count {
            let tr = gen.trace(start: t)
            t += 10_000_000
            pending += tr
            total += tr.count
            if pending.count >= batch {
                bodies.append(try OTLPSpanConversion.protobuf(pending))
                pending.removeAll(keepingCapacity: true)
            }
        }
        if !pending.isEmpty { bodies.append(try OTLPSpanConversion.protobuf(pending)) }
    } else {
        var gen = LogGenerator(records: count, rareEvery: 10_000, clustered: false, start: now - 3_600_000_000_000, span: 3_600_000_000_000)
        while total < count {
            let n = min(batch, count - total)
            bodies.append(try logsRequest(&gen, records: n).serializedBytes())
            total += n
        }
    }
    let bytes = bodies.reduce(0) { $0 + $1.count }
    print("otlp \(signal): \(total) items in \(bodies.count) protobuf requests (\(fmt(Double(bytes) / Double(total), 1)) bytes/item), \(concurrency) concurrent senders")

    installBenchSignalHandlers(timeout: 3600)
    let work = NSTemporaryDirectory() + "argus-otlp-bench-\(getpid())"
    defer { try? FileManager.default.removeItem(atPath: work) }
    let sys = try await startSystem(.argus, work: work, argusBinary: nil)
    defer { stopSystem(sys) }
    let endpoint = sys.base + "/v1/" + signal
    let pid = sys.process.processIdentifier
    let cpu0 = processCPUSeconds(pid)
    let t0 = TimeUtil.monotonicNanos()
    let failures = Counter()
    let client = HTTPClient.shared
    let shards = (0..<concurrency).map { k in stride(from: k, to: bodies.count, by: concurrency).map { bodies[$0] } }
    try await withThrowingTaskGroup(of: Void.self) { group in
        for shard in shards {
            group.addTask {
                for body in shard {
                    var req = HTTPClientRequest(url: endpoint)
                    req.method = .POST
                    req.headers.add(name: "Content-Type", value: "application/x-protobuf")
                    req.body = .bytes(ByteBuffer(bytes: body))
                    let resp = try await client.execute(req, timeout: .seconds(60))
                    let reply = try await resp.body.collect(upTo: 1 << 20)
                    if resp.status.code != 200 || reply.readableBytes > 0 {
                        // A non-empty 200 reply carries a partial success: something was rejected.
                        if failures.increment() <= 3 { print("HTTP \(resp.status.code): \(String(buffer: reply).prefix(300))") }
                    }
                }
            }
        }
        try await group.waitForAll()
    }
    let wall = Double(TimeUtil.monotonicNanos() - t0) / 1e9
    let cpu = processCPUSeconds(pid) - cpu0
    let what = signal == "traces" ? "spans" : "log records"
    print("")
    print("| figure | value |")
    print("|---|---|")
    print("| \(what) sent | \(total) in \(bodies.count) requests (\(failures.value) failed or partly rejected) |")
    print("| wall time | \(fmt(wall, 2)) s → \(fmt(Double(total) / wall / 1e3, 0)) k \(what)/s |")
    print("| server CPU | \(fmt(cpu, 2)) s → **\(fmt(Double(total) / max(cpu, 1e-9) / 1e3, 0)) k \(what) per CPU-second** |")
}
