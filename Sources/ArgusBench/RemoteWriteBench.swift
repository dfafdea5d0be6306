import ArgusIngest
import ArgusModel
import AsyncHTTPClient
import Foundation
import NIOCore

/// End-to-end remote_write throughput: HTTP, snappy, protobuf decode, WAL (fsync'd) and head,
/// against a real `argus serve` (started here, on a free loopback port, unless --url is given).
/// Requests are encoded before the clock starts, so the figure is the server's.
func runRemoteWriteBench(_ args: [String]) async throws {
    var seriesCount = 10_000
    var hours = 2
    var batch = 2000
    var concurrency = 4
    var url: String?
    var i = 0
    while i < args.count {
        let v = i + 1 < args.count ? args[i + 1] : ""
        switch args[i] {
        case "--series": seriesCount = Int(v) ?? seriesCount
        case "--hours": hours = Int(v) ?? hours
        case "--batch": batch = Int(v) ?? batch
        case "--concurrency": concurrency = Int(v) ?? concurrency
        case "--url": url = v
        default:
            FileHandle.standardError.write(Data("unknown option \(args[i])\n".utf8))
            exit(2)
        }
        i += 2
    }
    let interval: Int64 = 15_000
    let steps = hours * 3600 * 1000 / Int(interval)
    let start = TimeUtil.nowMillis() - Int64(hours) * 3_600_000 - 60_000
    var gen = DatasetGenerator(seriesCount: seriesCount, start: start, interval: interval, jitterMs: 5)
    print("remote-write: \(seriesCount) series × \(steps) scrapes (\(seriesCount * steps) samples), \(batch) samples per request, \(concurrency) concurrent senders")

    // Encode every request up front, in time order, sharded by series as Prometheus' queue
    // manager does (one sender per shard, so a series' samples arrive in order).
    var shards = [[[UInt8]]](repeating: [], count: concurrency)
    var encoders = [RemoteWriteEncoder](repeating: RemoteWriteEncoder(), count: concurrency)
    var inBatch = [Int](repeating: 0, count: concurrency)
    var total = 0
    for k in 0..<steps {
        var pending: [(Int, Int64, Double)] = []
        pending.reserveCapacity(seriesCount)
        gen.step(k) { idx, t, v in pending.append((idx, t, v)) }
        for (idx, t, v) in pending {
            let sh = idx % concurrency
            encoders[sh].add(gen.series[idx].labels, [(t, v)])
            inBatch[sh] += 1
            total += 1
            if inBatch[sh] == batch {
                shards[sh].append(Snappy.compress(encoders[sh].finish()))
                inBatch[sh] = 0
            }
        }
    }
    for sh in 0..<concurrency where !encoders[sh].isEmpty { shards[sh].append(Snappy.compress(encoders[sh].finish())) }
    let requests = shards.flatMap { $0 }
    let bytes = requests.reduce(0) { $0 + $1.count }
    print("encoded \(requests.count) requests, \(bytes / 1_048_576) MiB snappy-compressed")

    var server: Process?
    var dataDir: String?
    var target = url ?? ""
    if url == nil {
        let bin = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("argus").path
        dataDir = NSTemporaryDirectory() + "argus-rw-bench-\(getpid())"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: bin)
        p.arguments = ["serve", "--data-dir", dataDir!, "--listen", "127.0.0.1:0", "--self-scrape-interval", "0s", "--log-level", "warning"]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        server = p
        var text = ""
        while !text.contains("listening on") {
            let d = out.fileHandleForReading.availableData
            if d.isEmpty { throw BenchError("argus serve did not start") }
            text += String(decoding: d, as: UTF8.self)
        }
        let port = text.split(separator: ":").last!.trimmingCharacters(in: .whitespacesAndNewlines)
        target = "http://127.0.0.1:\(port)"
    }
    defer {
        if let server {
            server.terminate()
            server.waitUntilExit()
        }
        if let dataDir { try? FileManager.default.removeItem(atPath: dataDir) }
    }
    let cpu0 = server.map { processCPUSeconds($0.processIdentifier) } ?? 0
    let t0 = TimeUtil.monotonicNanos()
    let failures = Counter()
    let client = HTTPClient.shared
    let endpoint = target + "/api/v1/write"
    try await withThrowingTaskGroup(of: Void.self) { group in
        for shard in shards {
            group.addTask {
                for (n, body) in shard.enumerated() {
                    var req = HTTPClientRequest(url: endpoint)
                    req.method = .POST
                    req.headers.add(name: "Content-Encoding", value: "snappy")
                    req.headers.add(name: "Content-Type", value: "application/x-protobuf")
                    req.headers.add(name: "X-Prometheus-Remote-Write-Version", value: "0.1.0")
                    req.body = .bytes(ByteBuffer(bytes: body))
                    let resp = try await client.execute(req, timeout: .seconds(60))
                    if resp.status.code != 204 {
                        _ = failures.increment()
                        if failures.value <= 3 {
                            let body = try await resp.body.collect(upTo: 1 << 16)
                            print("request \(n): HTTP \(resp.status.code) \(String(buffer: body))")
                        }
                    } else {
                        _ = try await resp.body.collect(upTo: 1 << 16)
                    }
                }
            }
        }
        try await group.waitForAll()
    }
    let wall = Double(TimeUtil.monotonicNanos() - t0) / 1e9
    let cpu = (server.map { processCPUSeconds($0.processIdentifier) } ?? 0) - cpu0
    print("")
    print("| figure | value |")
    print("|---|---|")
    print("| samples sent | \(total) in \(requests.count) requests (\(failures.value) failed) |")
    print("| wall time | \(fmt(wall, 2)) s |")
    print("| throughput | \(fmt(Double(total) / wall / 1e3, 0)) k samples/s wall |")
    if server != nil {
        print("| server CPU | \(fmt(cpu, 2)) s → \(fmt(Double(total) / max(cpu, 1e-9) / 1e3, 0)) k samples per CPU-second, \(fmt(cpu / Double(total) * 1e6, 2)) CPU-s per million samples |")
    }
}

/// utime + stime of a process, from /proc.
func processCPUSeconds(_ pid: Int32) -> Double {
    guard let s = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = s.lastIndex(of: ")") else { return 0 }
    let fields = s[s.index(after: close)...].split(separator: " ")
    // After the command: state is field 3; utime and stime are fields 14 and 15.
    guard fields.count > 13, let u = Double(fields[11]), let st = Double(fields[12]) else { return 0 }
    return (u + st) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func increment() -> Int { add(1) }
    func add(_ d: Int) -> Int { lock.withLock { n += d; return n } }
    var value: Int { lock.withLock { n } }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
