import ArgusIngest
import ArgusModel
import AsyncHTTPClient
import Foundation
import NIOCore

// argus-bench overload [--series N] [--budget SIZE] [--factor F] [--seconds S] [--inflight SIZE] [--server-cpus LIST]
//
// With --server-cpus the server runs on those CPUs only (taskset), so a sender on the other
// CPUs (run the bench under `taskset -c …` too) can offer several times what the server sustains.
// A real `argus serve` with a memory budget. Phase 1 measures what it sustains (4 closed-loop
// remote_write senders, 10 s). Phase 2 offers F times that rate open-loop for S seconds (a
// request is sent on schedule whether or not the earlier ones were answered; refused requests
// are not retried), while a query loop runs every 250 ms. Printed: offered and accepted
// samples/s, answers by status, query latency before and during the overload, and the
// server's peak resident memory against the budget.

/// Remote write requests of one sample per series whose timestamps and values are rewritten in
/// place (fixed-width fields), so the sender spends no time encoding.
struct RequestTemplate {
    var bytes: [UInt8]
    var timeOffsets: [Int] = []
    var valueOffsets: [Int] = []

    init(series: [Labels]) {
        var w = ProtoWriter()
        var times: [Int] = [], values: [Int] = []
        for labels in series {
            var ts = ProtoWriter()
            for l in labels.items {
                var lw = ProtoWriter()
                lw.string(1, l.name)
                lw.string(2, l.value)
                ts.message(1, lw)
            }
            // Sample: value (fixed64) then timestamp as a 6-byte varint (fits ms times of this era).
            var sw = ProtoWriter()
            sw.double(1, 0)
            sw.tag(2, .varint)
            let tsPos = sw.bytes.count
            sw.bytes.append(contentsOf: [0x80, 0x80, 0x80, 0x80, 0x80, 0x01])
            ts.tag(2, .bytes)
            ts.varint(UInt64(sw.bytes.count))
            let sampleStart = ts.bytes.count
            ts.bytes.append(contentsOf: sw.bytes)
            w.tag(1, .bytes)
            w.varint(UInt64(ts.bytes.count))
            let base = w.bytes.count
            w.bytes.append(contentsOf: ts.bytes)
            values.append(base + sampleStart + 1)
            times.append(base + sampleStart + tsPos)
        }
        bytes = w.bytes
        timeOffsets = times
        valueOffsets = values
    }

    /// The request for time `t` with every value set from `value(i)`, snappy-framed (as
    /// literals: compressing would make the sender, not the server, the bottleneck).
    mutating func render(t: Int64, value: (Int) -> Double) -> [UInt8] {
        precondition(t >= 1 << 35 && t < 1 << 42, "timestamps must encode as 6-byte varints")
        for (i, off) in timeOffsets.enumerated() {
            var x = UInt64(t)
            for k in 0..<6 {
                bytes[off + k] = UInt8(x & 0x7F) | (k < 5 ? 0x80 : 0)
                x >>= 7
            }
            var bits = value(i).bitPattern.littleEndian
            withUnsafeBytes(of: &bits) { b in
                for k in 0..<8 { bytes[valueOffsets[i] + k] = b[k] }
            }
        }
        return snappyLiterals(bytes)
    }
}

/// `bytes` as a valid snappy block made only of literals (64 KiB each): what a compressor that
/// found no repeats would write. Costs a copy instead of a compression.
func snappyLiterals(_ bytes: [UInt8]) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count + bytes.count / 65536 * 3 + 16)
    var n = UInt64(bytes.count)
    while n >= 0x80 {
        out.append(UInt8(truncatingIfNeeded: n) | 0x80)
        n >>= 7
    }
    out.append(UInt8(n))
    var pos = 0
    while pos < bytes.count {
        let len = min(65536, bytes.count - pos)
        // Literal tag with a 2-byte length (len - 1) following: (61 << 2) | 0.
        out.append(61 << 2)
        out.append(UInt8(truncatingIfNeeded: len - 1))
        out.append(UInt8(truncatingIfNeeded: (len - 1) >> 8))
        out.append(contentsOf: bytes[pos..<(pos + len)])
        pos += len
    }
    return out
}

final class OverloadStats: @unchecked Sendable {
    let lock = NSLock()
    var byStatus: [Int: Int] = [:]
    var acceptedSamples = 0
    var offeredSamples = 0
    var clientErrors = 0
    var queryLatencies: [Double] = []
    var idleLatencies: [Double] = []
    var queryFailures = 0
    var maxRSS = 0
    var first400: String?
    func add(status: Int, samples: Int) {
        lock.withLock {
            byStatus[status, default: 0] += 1
            if status == 204 { acceptedSamples += samples }
        }
    }
}

func runOverloadBench(_ args: [String]) async throws {
    var seriesCount = 20_000
    var budget: Int64 = 1 << 30
    var factor = 5.0
    var seconds = 30.0
    var inflight = "16MiB"
    var serverCPUs: String?
    var i = 0
    while i < args.count {
        let v = i + 1 < args.count ? args[i + 1] : ""
        switch args[i] {
        case "--series": seriesCount = Int(v) ?? seriesCount
        case "--budget":
            guard let b = parseSize(v) else { throw BenchError("--budget: cannot read \"\(v)\" as a size") }
            budget = b
        case "--factor": factor = Double(v) ?? factor
        case "--seconds": seconds = Double(v) ?? seconds
        case "--inflight": inflight = v
        case "--server-cpus": serverCPUs = v
        default: throw BenchError("unknown option \(args[i])")
        }
        i += 2
    }
    installBenchSignalHandlers(timeout: seconds * 3 + 300)
    defer { benchChildren.killAll() }
    let batch = 2000
    let shards = max(1, seriesCount / batch)
    var templates: [RequestTemplate] = (0..<shards).map { sh in
        RequestTemplate(series: (0..<batch).map { k in
            Labels([("__name__", "overload_total"), ("job", "load"), ("instance", "host-\(sh)"), ("series", String(k))])
        })
    }
    // The server, with the budget.
    let port = try freeLoopbackPort()
    let dir = NSTemporaryDirectory() + "argus-overload-\(getpid())"
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let p = Process()
    let argus = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("argus").path
    let serveArgs = ["serve", "--data-dir", dir, "--listen", "127.0.0.1:\(port)", "--self-scrape-interval", "0s", "--log-level", "error",
                     "--memory.budget", String(budget), "--ingest.max-inflight-bytes", inflight, "--retention", "30d",
                     // Open-loop senders reorder a shard's requests; accept them as Prometheus does with an OOO window.
                     "--out-of-order-window", "10m"]
    if let serverCPUs {
        // taskset execs argus, so the pid (CPU time, memory) is the server's.
        guard let taskset = findExecutable("taskset") else { throw BenchError("--server-cpus needs taskset (util-linux)") }
        p.executableURL = URL(fileURLWithPath: taskset)
        p.arguments = ["-c", serverCPUs, argus] + serveArgs
    } else {
        p.executableURL = URL(fileURLWithPath: argus)
        p.arguments = serveArgs
    }
    try p.run()
    benchChildren.add(p.processIdentifier)
    let base = "http://127.0.0.1:\(port)"
    for _ in 0..<300 {
        if let (s, _) = try? await httpGet(base + "/-/ready"), s == 200 { break }
        try await Task.sleep(nanoseconds: 100_000_000)
    }
    print("overload: \(shards * batch) series in requests of \(batch) samples; server CPUs \(serverCPUs ?? "all"); budget \(budget / 1_048_576) MiB, --ingest.max-inflight-bytes \(inflight)")

    // Data time starts 10 min back and advances 1 ms per round of all shards: a producer
    // sampling every series very often, whose data stays near now (advancing 15 s per round
    // ran the data a day into the future within a minute, so every head cut wrote a dozen
    // block windows at once).
    var step = 0
    let t0 = TimeUtil.nowMillis() - 600_000
    var counter = 0.0
    func nextRequest(_ shard: Int) -> [UInt8] {
        if shard == 0 { step += 1; counter += 10 }
        let c = counter
        return templates[shard].render(t: t0 + Int64(step)) { c + Double($0 % 7) }
    }
    // Enough connections that the server, not the client's pool, is what pushes back.
    var config = HTTPClient.Configuration()
    config.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 600)
    let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
    defer { try? client.syncShutdown() }
    let url = base + "/api/v1/write"
    let stats = OverloadStats()
    @Sendable func send(_ body: [UInt8]) async -> Int {
        var req = HTTPClientRequest(url: url)
        req.method = .POST
        req.headers.add(name: "Content-Encoding", value: "snappy")
        req.headers.add(name: "Content-Type", value: "application/x-protobuf")
        req.body = .bytes(ByteBuffer(bytes: body))
        do {
            let resp = try await client.execute(req, timeout: .seconds(30))
            let reply = try await resp.body.collect(upTo: 1 << 20)
            if resp.status.code == 400 { stats.lock.withLock { if stats.first400 == nil { stats.first400 = String(buffer: reply) } } }
            return Int(resp.status.code)
        } catch {
            return -1
        }
    }
    let pid = p.processIdentifier
    // Memory sampler and query loop run through both phases.
    let stop = Counter()
    let sampler = Task.detached {
        while stop.value == 0 {
            let rss = Int(residentOf(pid))
            stats.lock.withLock { stats.maxRSS = max(stats.maxRSS, rss) }
            try? await Task.sleep(nanoseconds: 100_000_000)
        }
    }
    let phase = LockedPhase()
    let querier = Task.detached {
        let q = base + "/api/v1/query?query=" + urlEncode("sum(rate(overload_total[5m]))")
        while stop.value == 0 {
            let s = TimeUtil.monotonicNanos()
            let status = (try? await httpGet(q))?.0 ?? -1
            let ms = Double(TimeUtil.monotonicNanos() - s) / 1e6
            let ph = phase.value
            stats.lock.withLock {
                if status == 200 { if ph == 2 { stats.queryLatencies.append(ms) } else if ph == 1 { stats.idleLatencies.append(ms) } } else { stats.queryFailures += 1 }
            }
            try? await Task.sleep(nanoseconds: 250_000_000)
        }
    }

    // Phase 1: sustainable rate, closed loop, 4 senders.
    phase.set(1)
    var sent = 0
    let p1Start = TimeUtil.monotonicNanos()
    let cpu0 = processCPUSeconds(pid)
    while Double(TimeUtil.monotonicNanos() - p1Start) / 1e9 < 10 {
        var bodies: [[UInt8]] = []
        for _ in 0..<4 {
            bodies.append(nextRequest(sent % shards))
            sent += 1
        }
        let statuses = await withTaskGroup(of: Int.self) { g -> [Int] in
            for b in bodies { g.addTask { await send(b) } }
            var out: [Int] = []
            for await s in g { out.append(s) }
            return out
        }
        for s in statuses { stats.add(status: s, samples: batch) }
    }
    let p1Wall = Double(TimeUtil.monotonicNanos() - p1Start) / 1e9
    let p1Accepted = stats.lock.withLock { stats.acceptedSamples }
    let sustained = Double(p1Accepted) / p1Wall
    print("phase 1 (closed loop): \(fmt(sustained / 1e3, 0)) k samples/s accepted, server \(fmt((processCPUSeconds(pid) - cpu0) / p1Wall, 2)) cores")
    stats.lock.withLock { stats.byStatus = [:]; stats.acceptedSamples = 0 }

    // Phase 2: open loop at factor × the sustained rate.
    phase.set(2)
    let targetRate = sustained * factor / Double(batch)  // requests per second
    let interval = 1.0 / targetRate
    let p2Start = TimeUtil.monotonicNanos()
    var launched = 0
    let inFlight = Counter()
    var backlogSkips = 0
    await withTaskGroup(of: Void.self) { g in
        while true {
            let elapsed = Double(TimeUtil.monotonicNanos() - p2Start) / 1e9
            if elapsed >= seconds { break }
            let due = Int(elapsed / interval)
            while launched < due {
                launched += 1
                if inFlight.value > 512 { backlogSkips += 1; continue }
                let body = nextRequest(sent % shards)
                sent += 1
                _ = inFlight.increment()
                stats.lock.withLock { stats.offeredSamples += batch }
                g.addTask {
                    let s = await send(body)
                    stats.add(status: s, samples: batch)
                    inFlight.decrement()
                }
            }
            try? await Task.sleep(nanoseconds: UInt64(max(interval / 2, 0.0005) * 1e9))
        }
        await g.waitForAll()
    }
    let p2Wall = Double(TimeUtil.monotonicNanos() - p2Start) / 1e9
    _ = stop.increment()
    _ = await sampler.value
    _ = await querier.value
    let hwm = peakRSS(pid)
    let s = stats.lock.withLock { (stats.byStatus, stats.acceptedSamples, stats.offeredSamples, stats.queryLatencies, stats.queryFailures, stats.maxRSS) }
    let idle = stats.lock.withLock { stats.idleLatencies }
    func pct(_ xs: [Double], _ q: Double) -> Double {
        let v = xs.sorted()
        return v.isEmpty ? .nan : v[min(v.count - 1, Int(Double(v.count) * q))]
    }
    print("")
    print("| figure | value |")
    print("|---|---|")
    print("| sustained (phase 1, closed loop) | \(fmt(sustained / 1e3, 0)) k samples/s |")
    print("| offered (phase 2, open loop, \(fmt(factor, 1))×) | \(fmt(Double(s.2) / p2Wall / 1e3, 0)) k samples/s for \(fmt(p2Wall, 1)) s = \(fmt(Double(s.2) / p2Wall / sustained, 2))× sustained (\(backlogSkips) sends skipped: over 512 requests in flight) |")
    print("| accepted during overload | \(fmt(Double(s.1) / p2Wall / 1e3, 0)) k samples/s |")
    print("| answers | " + s.0.sorted { $0.key < $1.key }.map { "\($0.key == -1 ? "no answer" : String($0.key)): \($0.value)" }.joined(separator: ", ") + " |")
    print("| query latency before overload | p50 \(fmt(pct(idle, 0.5), 1)) ms, p99 \(fmt(pct(idle, 0.99), 1)) ms (\(idle.count) queries) |")
    print("| query latency during overload | p50 \(fmt(pct(s.3, 0.5), 1)) ms, p99 \(fmt(pct(s.3, 0.99), 1)) ms (\(s.3.count) queries, \(s.4) failed) |")
    if let m = stats.lock.withLock({ stats.first400 }) { print("| first 400 answer | \(m.prefix(200)) |") }
    print("| server peak resident memory | \(s.5 / 1_048_576) MiB sampled, \(hwm / 1_048_576) MiB VmHWM; budget \(budget / 1_048_576) MiB |")
    p.terminate()
    p.waitUntilExit()
    benchChildren.remove(pid)
}

final class LockedPhase: @unchecked Sendable {
    private let lock = NSLock()
    private var v = 0
    func set(_ x: Int) { lock.withLock { v = x } }
    var value: Int { lock.withLock { v } }
}

extension Counter {
    func decrement() { _ = add(-1) }
}

func residentOf(_ pid: Int32) -> Int64 {
    guard let s = try? String(contentsOfFile: "/proc/\(pid)/statm", encoding: .utf8) else { return 0 }
    let parts = s.split(separator: " ")
    guard parts.count > 1, let pages = Int64(parts[1]) else { return 0 }
    return pages * Int64(sysconf(Int32(_SC_PAGESIZE)))
}

func parseSize(_ s: String) -> Int64? {
    let units: [(String, Double)] = [("KiB", 1024), ("MiB", 1_048_576), ("GiB", 1_073_741_824), ("KB", 1e3), ("MB", 1e6), ("GB", 1e9), ("B", 1)]
    for (u, m) in units where s.hasSuffix(u) {
        guard let n = Double(s.dropLast(u.count)), n >= 0 else { return nil }
        return Int64(n * m)
    }
    return Int64(s)
}
