import ArgusIngest
import ArgusModel
import AsyncHTTPClient
import Dispatch
import Foundation
import NIOCore

// argus-bench compare [--series N] [--hours H] [--batch N] [--concurrency N] [--runs R]
//                     [--systems argus,prometheus,victoriametrics] [--out FILE] [--timeout SECONDS]
//
// One dataset, sent over remote_write to Argus, Prometheus and VictoriaMetrics one after the
// other (each system runs alone on the machine while it ingests and answers), then per system:
// ingest wall time and server CPU per million samples, bytes on disk per sample after a flush,
// peak resident memory, query latency (median of R runs over HTTP) and every query's result,
// compared with Prometheus' (relative tolerance 1e-6).

struct CompareOptions {
    var seriesCount = 10_000
    var hours = 12
    var batch = 2000
    var concurrency = 4
    var runs = 5
    var systems = ["argus", "prometheus", "victoriametrics"]
    var out: String?
    var timeout = 3600.0
    var argusBinary: String?
    /// --query EXPR (repeatable): run these (instant and as a range over the whole dataset) instead of the fixed set.
    var queries: [String] = []
}

/// The children this benchmark started; killed on any way out (Ctrl-C, timeout, error).
let benchChildren = LockedChildren()

final class LockedChildren: @unchecked Sendable {
    private let lock = NSLock()
    private var pids: Set<Int32> = []
    func add(_ p: Int32) { lock.withLock { _ = pids.insert(p) } }
    func remove(_ p: Int32) { lock.withLock { _ = pids.remove(p) } }
    func killAll() {
        let all = lock.withLock { pids }
        for p in all { kill(p, SIGKILL) }
    }
}

/// A system under test: its process, address and how to talk to it.
struct BenchSystem {
    enum Kind: String { case argus, prometheus, victoriametrics }
    let kind: Kind
    let process: Process
    let base: String
    let dataDir: String

    var name: String {
        switch kind {
        case .argus: return "Argus"
        case .prometheus: return "Prometheus"
        case .victoriametrics: return "VictoriaMetrics"
        }
    }

    var writeURL: String { base + "/api/v1/write" }
}

struct SystemFigures {
    var ingestWall = 0.0
    var ingestCPU = 0.0
    var failedRequests = 0
    var diskBytes: Int64 = 0
    var peakRSS: Int64 = 0
    var flushHow = ""
    var latencies: [String: Double] = [:]
    var results: [String: NormalizedResult] = [:]
    var errors: [String: String] = [:]
}

/// One benchmark query: instant at the dataset's end, or a range over it.
struct BenchQuery {
    let id: String
    let expr: String
    let range: Bool
    let lastHours: Double  // for range queries: how far back from the end
    let step: Int
}

func compareQueries(hours: Int) -> [BenchQuery] {
    let h = Double(hours)
    return [
        BenchQuery(id: "rate", expr: "rate(http_requests_total[5m])", range: false, lastHours: 0, step: 0),
        BenchQuery(id: "sum by rate", expr: "sum by (job) (rate(http_requests_total[5m]))", range: false, lastHours: 0, step: 0),
        BenchQuery(id: "histogram_quantile", expr: "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))", range: false, lastHours: 0, step: 0),
        BenchQuery(id: "topk", expr: "topk(5, sum by (job, instance) (rate(http_requests_total[5m])))", range: false, lastHours: 0, step: 0),
        BenchQuery(id: "ratio on(job)", expr: "sum by (job) (rate(http_requests_total{code=~\"5..\"}[5m])) / on (job) sum by (job) (rate(http_requests_total[5m]))", range: false, lastHours: 0, step: 0),
        BenchQuery(id: "group_left join", expr: "rate(process_resident_memory_bytes[10m]) * on (instance) group_left (job) node_load1", range: false, lastHours: 0, step: 0),
        BenchQuery(id: "subquery", expr: "max_over_time(sum(rate(http_requests_total[5m]))[1h:1m])", range: false, lastHours: 0, step: 0),
        BenchQuery(id: "avg_over_time 1h", expr: "avg by (job) (avg_over_time(node_hwmon_temp_celsius[1h]))", range: false, lastHours: 0, step: 0),
        BenchQuery(id: "count series", expr: "count by (__name__) ({__name__=~\".+\"})", range: false, lastHours: 0, step: 0),
        BenchQuery(id: "range 1h sum by rate", expr: "sum by (job) (rate(http_requests_total[5m]))", range: true, lastHours: 1, step: 15),
        BenchQuery(id: "range \(hours)h sum by rate", expr: "sum by (job) (rate(http_requests_total[5m]))", range: true, lastHours: h, step: 60),
        BenchQuery(id: "range \(hours)h p99", expr: "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))", range: true, lastHours: h, step: 60),
        BenchQuery(id: "range \(hours)h max gauge", expr: "max by (job) (node_load1)", range: true, lastHours: h, step: 300),
    ]
}

func runCompareBench(_ args: [String]) async throws {
    var o = CompareOptions()
    var i = 0
    while i < args.count {
        let v = i + 1 < args.count ? args[i + 1] : ""
        func int() throws -> Int {
            guard let n = Int(v), n > 0 else { throw BenchError("\(args[i]) needs a positive integer, got \"\(v)\"") }
            return n
        }
        switch args[i] {
        case "--series": o.seriesCount = try int()
        case "--hours": o.hours = try int()
        case "--batch": o.batch = try int()
        case "--concurrency": o.concurrency = try int()
        case "--runs": o.runs = try int()
        case "--timeout": o.timeout = Double(try int())
        case "--out": o.out = v
        case "--argus": o.argusBinary = v
        case "--query": o.queries.append(v)
        case "--systems":
            o.systems = v.split(separator: ",").map(String.init)
            for s in o.systems where BenchSystem.Kind(rawValue: s) == nil {
                throw BenchError("--systems: unknown system \"\(s)\" (argus, prometheus, victoriametrics)")
            }
        default:
            throw BenchError("unknown option \(args[i])")
        }
        i += 2
    }
    installBenchSignalHandlers(timeout: o.timeout)
    defer { benchChildren.killAll() }

    let work = NSTemporaryDirectory() + "argus-compare-\(getpid())"
    try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: work) }

    // The dataset: aligned to the minute so every system sees the same evaluation times.
    let interval: Int64 = 15_000
    let steps = o.hours * 3600 * 1000 / Int(interval)
    let end = TimeUtil.nowMillis() / 60_000 * 60_000 - 60_000
    let start = end - Int64(o.hours) * 3_600_000
    var gen = DatasetGenerator(seriesCount: o.seriesCount, start: start, interval: interval, jitterMs: 5)
    let (phases, total) = encodePhases(&gen, steps: steps, batch: o.batch, concurrency: o.concurrency)
    let reqCount = phases.reduce(0) { $0 + $1.reduce(0) { $0 + $1.count } }
    let evalTime = start + Int64(steps - 1) * interval + interval  // just after the last scrape
    print("dataset: \(o.seriesCount) series × \(steps) scrapes at 15 s = \(total) samples in \(reqCount) remote_write requests of \(o.batch) samples, \(o.concurrency) concurrent senders")
    print("queries at \(isoTime(evalTime)); \(o.runs) timed runs each after one warm-up\n")

    let queries = o.queries.isEmpty ? compareQueries(hours: o.hours) : o.queries.enumerated().flatMap { n, e in
        [BenchQuery(id: "q\(n + 1)", expr: e, range: false, lastHours: 0, step: 0),
         BenchQuery(id: "q\(n + 1) range", expr: e, range: true, lastHours: Double(o.hours), step: 60)]
    }
    var figures: [(BenchSystem.Kind, SystemFigures)] = []
    for name in o.systems {
        let kind = BenchSystem.Kind(rawValue: name)!
        let sys = try await startSystem(kind, work: work, argusBinary: o.argusBinary)
        print("== \(sys.name) at \(sys.base)")
        var f = SystemFigures()
        do {
            try await ingest(phases, into: sys, figures: &f)
            print("   ingest: \(fmt(f.ingestWall, 1)) s wall, \(fmt(f.ingestCPU, 1)) CPU-s, \(f.failedRequests) failed requests")
            try await flush(sys, figures: &f, dataMonths: monthsBetween(start, end))
            f.diskBytes = diskBytes(of: sys)
            print("   disk: \(f.diskBytes) bytes = \(fmt(Double(f.diskBytes) / Double(total), 3)) B/sample (\(f.flushHow))")
            for q in queries {
                let r = try await runQuery(q, on: sys, evalTime: evalTime, runs: o.runs)
                f.latencies[q.id] = r.median
                if let res = r.result { f.results[q.id] = res }
                if let e = r.error { f.errors[q.id] = e }
                print("   \(q.id): \(fmt(r.median * 1000, 1)) ms\(r.error.map { " ERROR \($0)" } ?? "")")
            }
            f.peakRSS = peakRSS(sys.process.processIdentifier)
        } catch {
            stopSystem(sys)
            throw error
        }
        stopSystem(sys)
        figures.append((kind, f))
    }
    let report = compareReport(o, total: total, queries: queries, figures: figures, evalTime: evalTime)
    print("\n" + report)
    if let out = o.out {
        try report.write(toFile: out, atomically: true, encoding: .utf8)
        print("written to \(out)")
    }
}

/// Requests per phase (30 minutes of data) and shard. Between phases every sender waits for the
/// others, so no system sees one series run more than 30 minutes ahead of another (Prometheus
/// refuses samples older than its head's newest minus one hour).
func encodePhases(_ gen: inout DatasetGenerator, steps: Int, batch: Int, concurrency: Int) -> ([[[[UInt8]]]], Int) {
    let stepsPerPhase = 120
    var phases: [[[[UInt8]]]] = []
    var encoders = [RemoteWriteEncoder](repeating: RemoteWriteEncoder(), count: concurrency)
    var inBatch = [Int](repeating: 0, count: concurrency)
    var total = 0
    var k = 0
    while k < steps {
        var shards = [[[UInt8]]](repeating: [], count: concurrency)
        var pending: [(Int, Int64, Double)] = []
        for step in k..<min(steps, k + stepsPerPhase) {
            pending.removeAll(keepingCapacity: true)
            gen.step(step) { idx, t, v in pending.append((idx, t, v)) }
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
        for sh in 0..<concurrency where !encoders[sh].isEmpty {
            shards[sh].append(Snappy.compress(encoders[sh].finish()))
            inBatch[sh] = 0
        }
        phases.append(shards)
        k += stepsPerPhase
    }
    return (phases, total)
}

func installBenchSignalHandlers(timeout: Double) {
    for sig in [SIGINT, SIGTERM] {
        signal(sig, SIG_IGN)
        let src = DispatchSource.makeSignalSource(signal: sig, queue: .global())
        src.setEventHandler {
            FileHandle.standardError.write(Data("\nargus-bench: interrupted; stopping every process it started\n".utf8))
            benchChildren.killAll()
            exit(130)
        }
        src.resume()
        retainedSources.append(src)
    }
    DispatchQueue.global().asyncAfter(deadline: .now() + timeout) {
        FileHandle.standardError.write(Data("\nargus-bench: --timeout of \(Int(timeout)) s reached; stopping every process it started\n".utf8))
        benchChildren.killAll()
        exit(3)
    }
}

nonisolated(unsafe) var retainedSources: [DispatchSourceSignal] = []

func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw BenchError("socket() failed") }
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = 0
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ok = withUnsafeMutablePointer(to: &addr) { p in
        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
    }
    guard ok else { throw BenchError("cannot bind a loopback port") }
    return Int(UInt16(bigEndian: addr.sin_port))
}

func findExecutable(_ name: String) -> String? {
    for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
        let p = "\(dir)/\(name)"
        if FileManager.default.isExecutableFile(atPath: p) { return p }
    }
    return nil
}

func startSystem(_ kind: BenchSystem.Kind, work: String, argusBinary: String?) async throws -> BenchSystem {
    let port = try freeLoopbackPort()
    let dir = "\(work)/\(kind.rawValue)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let p = Process()
    var readyPath = "/-/ready"
    switch kind {
    case .argus:
        let bin = argusBinary ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("argus").path
        p.executableURL = URL(fileURLWithPath: bin)
        p.arguments = ["serve", "--data-dir", dir + "/data", "--listen", "127.0.0.1:\(port)", "--retention", "30d",
                       "--self-scrape-interval", "0s", "--log-level", "warning"]
    case .prometheus:
        guard let bin = findExecutable("prometheus") else { throw BenchError("prometheus is not installed (apt-get install prometheus; scripts/bench.sh does it)") }
        let config = dir + "/prometheus.yml"
        try "global:\n  scrape_interval: 15s\n".write(toFile: config, atomically: true, encoding: .utf8)
        p.executableURL = URL(fileURLWithPath: bin)
        p.arguments = ["--config.file=\(config)", "--storage.tsdb.path=\(dir)/data", "--web.listen-address=127.0.0.1:\(port)",
                       "--web.enable-remote-write-receiver", "--web.enable-admin-api", "--storage.tsdb.retention.time=30d",
                       "--log.level=warn"]
    case .victoriametrics:
        guard let bin = findExecutable("victoria-metrics") else { throw BenchError("victoria-metrics is not installed (apt-get install victoria-metrics; scripts/bench.sh does it)") }
        p.executableURL = URL(fileURLWithPath: bin)
        p.arguments = ["-storageDataPath=\(dir)/data", "-httpListenAddr=127.0.0.1:\(port)", "-retentionPeriod=1y",
                       "-search.latencyOffset=0s", "-search.disableCache", "-loggerLevel=WARN"]
        readyPath = "/health"
    }
    FileManager.default.createFile(atPath: dir + "/output.log", contents: nil)
    let log = FileHandle(forWritingAtPath: dir + "/output.log")
    p.standardOutput = log
    p.standardError = log
    try p.run()
    benchChildren.add(p.processIdentifier)
    let sys = BenchSystem(kind: kind, process: p, base: "http://127.0.0.1:\(port)", dataDir: dir + "/data")
    let deadline = Date().addingTimeInterval(60)
    while Date() < deadline {
        if !p.isRunning {
            let out = (try? String(contentsOfFile: dir + "/output.log", encoding: .utf8)) ?? ""
            throw BenchError("\(sys.name) exited at start (status \(p.terminationStatus)): \(out.suffix(2000))")
        }
        if let (status, _) = try? await httpGet(sys.base + readyPath), status == 200 { return sys }
        try await Task.sleep(nanoseconds: 200_000_000)
    }
    stopSystem(sys)
    throw BenchError("\(sys.name) did not become ready within 60 s")
}

func stopSystem(_ sys: BenchSystem) {
    let p = sys.process
    guard p.isRunning else { benchChildren.remove(p.processIdentifier); return }
    p.terminate()
    let deadline = Date().addingTimeInterval(30)
    while p.isRunning && Date() < deadline { usleep(50_000) }
    if p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() }
    benchChildren.remove(p.processIdentifier)
}

func ingest(_ phases: [[[[UInt8]]]], into sys: BenchSystem, figures f: inout SystemFigures) async throws {
    let pid = sys.process.processIdentifier
    let cpu0 = processCPUSeconds(pid)
    let t0 = TimeUtil.monotonicNanos()
    let failures = Counter()
    let client = HTTPClient.shared
    let url = sys.writeURL
    for shards in phases {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for shard in shards {
                group.addTask {
                    for body in shard {
                        var req = HTTPClientRequest(url: url)
                        req.method = .POST
                        req.headers.add(name: "Content-Encoding", value: "snappy")
                        req.headers.add(name: "Content-Type", value: "application/x-protobuf")
                        req.headers.add(name: "X-Prometheus-Remote-Write-Version", value: "0.1.0")
                        req.body = .bytes(ByteBuffer(bytes: body))
                        let resp = try await client.execute(req, timeout: .seconds(120))
                        let text = try await resp.body.collect(upTo: 1 << 16)
                        if resp.status.code / 100 != 2 {
                            if failures.increment() <= 3 {
                                print("   write failed: HTTP \(resp.status.code) \(String(buffer: text).prefix(300))")
                            }
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
    }
    f.ingestWall = Double(TimeUtil.monotonicNanos() - t0) / 1e9
    f.ingestCPU = processCPUSeconds(pid) - cpu0
    f.failedRequests = failures.value
}

/// Makes each system write what it holds in memory to its on-disk format, the way its own tools do.
func flush(_ sys: BenchSystem, figures f: inout SystemFigures, dataMonths: [String]) async throws {
    switch sys.kind {
    case .argus:
        let (s, body) = try await httpPost(sys.base + "/api/v1/admin/tsdb/flush")
        guard s == 200 else { throw BenchError("Argus flush: HTTP \(s) \(body)") }
        f.flushHow = "POST /api/v1/admin/tsdb/flush: head cut into blocks and compacted; blocks + catalog counted, WAL not"
    case .prometheus:
        // A snapshot writes the head as a block next to hard links of the persisted blocks.
        let (s, body) = try await httpPost(sys.base + "/api/v1/admin/tsdb/snapshot")
        guard s == 200, let name = jsonPath(body, ["data", "name"]) as? String else { throw BenchError("Prometheus snapshot: HTTP \(s) \(body)") }
        snapshotNames[sys.dataDir] = sys.dataDir + "/snapshots/" + name
        f.flushHow = "POST /api/v1/admin/tsdb/snapshot: its blocks (as Prometheus compacted them) + head written as a block; WAL not counted"
    case .victoriametrics:
        let (s, body) = try await httpGet(sys.base + "/internal/force_flush")
        guard s == 200 else { throw BenchError("VictoriaMetrics force_flush: HTTP \(s) \(body)") }
        for m in dataMonths {
            let (s2, b2) = try await httpGet(sys.base + "/internal/force_merge?partition_prefix=\(m)")
            guard s2 == 200 else { throw BenchError("VictoriaMetrics force_merge: HTTP \(s2) \(b2)") }
        }
        // force_merge runs in the background: wait until no merge is active.
        let deadline = Date().addingTimeInterval(300)
        try await Task.sleep(nanoseconds: 2_000_000_000)
        while Date() < deadline {
            let (_, metrics) = try await httpGet(sys.base + "/metrics")
            let active = metrics.split(separator: "\n").filter { $0.hasPrefix("vm_active_merges") || $0.hasPrefix("vm_active_force_merges") }
                .compactMap { Double($0.split(separator: " ").last ?? "") }.reduce(0, +)
            if active == 0 { break }
            try await Task.sleep(nanoseconds: 1_000_000_000)
        }
        f.flushHow = "/internal/force_flush then /internal/force_merge of the data's month partitions, waited for merges to end; data + indexdb counted"
    }
}

nonisolated(unsafe) var snapshotNames: [String: String] = [:]

func diskBytes(of sys: BenchSystem) -> Int64 {
    switch sys.kind {
    case .argus:
        return directoryBytes(sys.dataDir, excluding: ["wal", "signals"])
    case .prometheus:
        return directoryBytes(snapshotNames[sys.dataDir] ?? sys.dataDir, excluding: [])
    case .victoriametrics:
        return directoryBytes(sys.dataDir + "/data", excluding: []) + directoryBytes(sys.dataDir + "/indexdb", excluding: [])
    }
}

/// Sum of regular file sizes under `path`, skipping top-level entries named in `excluding`.
func directoryBytes(_ path: String, excluding: Set<String>) -> Int64 {
    let fm = FileManager.default
    guard let top = try? fm.contentsOfDirectory(atPath: path) else { return 0 }
    var total: Int64 = 0
    for entry in top where !excluding.contains(entry) {
        let p = path + "/" + entry
        var st = stat()
        guard lstat(p, &st) == 0 else { continue }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            total += directoryBytes(p, excluding: [])
        } else if (st.st_mode & S_IFMT) == S_IFREG {
            total += Int64(st.st_size)
        }
    }
    return total
}

func peakRSS(_ pid: Int32) -> Int64 {
    guard let s = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
    for line in s.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let kb = line.split(separator: " ").compactMap { Int64($0) }.first ?? 0
        return kb * 1024
    }
    return 0
}

func monthsBetween(_ start: Int64, _ end: Int64) -> [String] {
    var out: [String] = []
    var t = start
    while t <= end + 86_400_000 {
        let d = Date(timeIntervalSince1970: Double(t) / 1000)
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "UTC")!
        let c = cal.dateComponents([.year, .month], from: d)
        let m = String(format: "%04d_%02d", c.year!, c.month!)
        if !out.contains(m) { out.append(m) }
        t += 86_400_000
    }
    return out
}

func isoTime(_ ms: Int64) -> String {
    let f = ISO8601DateFormatter()
    return f.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
}

// MARK: - HTTP

func httpGet(_ url: String) async throws -> (Int, String) {
    var req = HTTPClientRequest(url: url)
    req.method = .GET
    let resp = try await HTTPClient.shared.execute(req, timeout: .seconds(300))
    let body = try await resp.body.collect(upTo: 512 << 20)
    return (Int(resp.status.code), String(buffer: body))
}

func httpPost(_ url: String) async throws -> (Int, String) {
    var req = HTTPClientRequest(url: url)
    req.method = .POST
    let resp = try await HTTPClient.shared.execute(req, timeout: .seconds(600))
    let body = try await resp.body.collect(upTo: 64 << 20)
    return (Int(resp.status.code), String(buffer: body))
}

func urlEncode(_ s: String) -> String {
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._~")
    return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
}

func jsonPath(_ text: String, _ path: [String]) -> Any? {
    guard var v = try? JSONSerialization.jsonObject(with: Data(text.utf8)) else { return nil }
    for k in path {
        guard let d = v as? [String: Any], let next = d[k] else { return nil }
        v = next
    }
    return v
}

// MARK: - Queries and results

/// A query result as a map from the series' sorted labels to its points.
struct NormalizedResult {
    var type: String
    var series: [String: [(Int64, Double)]]
}

func runQuery(_ q: BenchQuery, on sys: BenchSystem, evalTime: Int64, runs: Int) async throws -> (median: Double, result: NormalizedResult?, error: String?) {
    let url: String
    let t = Double(evalTime) / 1000
    if q.range {
        let start = t - q.lastHours * 3600
        url = sys.base + "/api/v1/query_range?query=\(urlEncode(q.expr))&start=\(start)&end=\(t)&step=\(q.step)"
    } else {
        url = sys.base + "/api/v1/query?query=\(urlEncode(q.expr))&time=\(t)"
    }
    var times: [Double] = []
    var last = ""
    var status = 0
    for run in 0...runs {
        let t0 = TimeUtil.monotonicNanos()
        (status, last) = try await httpGet(url)
        if run > 0 { times.append(Double(TimeUtil.monotonicNanos() - t0) / 1e9) }
        if status != 200 { break }
    }
    times.sort()
    let median = times.isEmpty ? 0 : times[times.count / 2]
    guard status == 200 else { return (median, nil, "HTTP \(status): \(last.prefix(300))") }
    guard let res = normalize(last) else { return (median, nil, "cannot read the response: \(last.prefix(300))") }
    return (median, res, nil)
}

func normalize(_ body: String) -> NormalizedResult? {
    guard let data = jsonPath(body, ["data"]) as? [String: Any], let type = data["resultType"] as? String else { return nil }
    var out = NormalizedResult(type: type, series: [:])
    func point(_ a: Any) -> (Int64, Double)? {
        guard let arr = a as? [Any], arr.count == 2 else { return nil }
        let ts = (arr[0] as? NSNumber)?.doubleValue ?? 0
        guard let vs = arr[1] as? String else { return nil }
        let v: Double
        switch vs {
        case "NaN": v = .nan
        case "+Inf", "Inf": v = .infinity
        case "-Inf": v = -.infinity
        default: v = Double(vs) ?? .nan
        }
        return (Int64((ts * 1000).rounded()), v)
    }
    if type == "scalar" || type == "string" {
        if let p = point(data["result"] ?? []) { out.series[""] = [p] }
        return out
    }
    guard let result = data["result"] as? [[String: Any]] else { return nil }
    for s in result {
        let metric = (s["metric"] as? [String: String]) ?? [:]
        let key = "{" + metric.sorted { $0.key < $1.key }.map { "\($0.key)=\"\($0.value)\"" }.joined(separator: ", ") + "}"
        var pts: [(Int64, Double)] = []
        if let v = s["value"], let p = point(v) { pts.append(p) }
        if let vs = s["values"] as? [Any] { pts.append(contentsOf: vs.compactMap(point)) }
        out.series[key] = pts
    }
    return out
}

/// The first difference between `got` and the reference, or nil when they agree.
func firstDifference(_ ref: NormalizedResult, _ got: NormalizedResult) -> String? {
    if ref.type != got.type { return "result type \(got.type), reference \(ref.type)" }
    let missing = Set(ref.series.keys).subtracting(got.series.keys)
    let extra = Set(got.series.keys).subtracting(ref.series.keys)
    if let m = missing.sorted().first { return "\(missing.count) series missing, e.g. \(m) (has \(got.series.count), reference \(ref.series.count))" }
    if let e = extra.sorted().first { return "\(extra.count) extra series, e.g. \(e)" }
    for key in ref.series.keys.sorted() {
        let a = ref.series[key]!, b = got.series[key]!
        let bt = Dictionary(b.map { ($0.0, $0.1) }, uniquingKeysWith: { x, _ in x })
        for (t, v) in a {
            guard let w = bt[t] else { return "\(key): no point at \(isoTime(t)) (reference \(v))" }
            if !sameValue(v, w) { return "\(key) at \(isoTime(t)): \(w), reference \(v)" }
        }
        if b.count != a.count { return "\(key): \(b.count) points, reference \(a.count)" }
    }
    return nil
}

func sameValue(_ a: Double, _ b: Double) -> Bool {
    if a.isNaN || b.isNaN { return a.isNaN && b.isNaN }
    if a == b { return true }
    return abs(a - b) <= 1e-6 * max(abs(a), abs(b))
}

// MARK: - Report

func compareReport(_ o: CompareOptions, total: Int, queries: [BenchQuery], figures: [(BenchSystem.Kind, SystemFigures)], evalTime: Int64) -> String {
    let names = figures.map { k, _ -> String in
        switch k {
        case .argus: return "Argus"
        case .prometheus: return "Prometheus 2.42"
        case .victoriametrics: return "VictoriaMetrics 1.79"
        }
    }
    let argus = figures.first { $0.0 == .argus }?.1
    let peers = figures.filter { $0.0 != .argus }
    var s = "| figure (lower is better) | " + names.joined(separator: " | ")
    for (k, _) in peers { s += " | Argus / \(k == .prometheus ? "Prometheus" : "VictoriaMetrics")" }
    s += " |\n|---" + String(repeating: "|---", count: names.count + peers.count) + "|\n"
    func row(_ title: String, _ value: (SystemFigures) -> Double, _ digits: Int) {
        s += "| \(title) | " + figures.map { fmt(value($0.1), digits) }.joined(separator: " | ")
        if let argus {
            for (_, p) in peers {
                let pv = value(p)
                s += " | " + (pv > 0 ? fmt(value(argus) / pv, 2) : "–")
            }
        }
        s += " |\n"
    }
    let m = Double(total) / 1e6
    row("ingest wall time, s", { $0.ingestWall }, 1)
    row("ingest CPU-s per million samples", { $0.ingestCPU / m }, 3)
    row("peak resident memory, MiB", { Double($0.peakRSS) / 1_048_576 }, 0)
    row("bytes on disk per sample", { Double($0.diskBytes) / Double(total) }, 3)
    for q in queries {
        row("query \(q.id), ms", { $0.latencies[q.id].map { $0 * 1000 } ?? .nan }, 1)
    }
    s += "\nDataset: \(o.seriesCount) series × \(o.hours) h at 15 s (\(total) samples; counters with resets, histogram buckets, gauges), remote_write 1.0 in requests of \(o.batch) samples from \(o.concurrency) concurrent senders; each system ran alone. Query latency: median of \(o.runs) runs over HTTP after one warm-up, evaluated at \(isoTime(evalTime)). Failed write requests: " + figures.map { "\($0.0.rawValue) \($0.1.failedRequests)" }.joined(separator: ", ") + ".\n\nHow each was flushed before bytes were counted:\n"
    for (k, f) in figures { s += "- \(k.rawValue): \(f.flushHow)\n" }

    s += "\nResults compared with Prometheus (relative tolerance 1e-6):\n\n| query | " + figures.filter { $0.0 != .prometheus }.map { $0.0.rawValue }.joined(separator: " | ") + " |\n|---" + String(repeating: "|---", count: figures.filter { $0.0 != .prometheus }.count) + "|\n"
    let ref = figures.first { $0.0 == .prometheus }?.1
    var diffs: [String] = []
    for q in queries {
        s += "| `\(q.expr)`\(q.range ? " (range \(Int(q.lastHours))h, step \(q.step)s)" : "") |"
        for (k, f) in figures where k != .prometheus {
            var cell = "–"
            if let e = f.errors[q.id] {
                cell = "error"
                diffs.append("- \(k.rawValue), \(q.id): \(e)")
            } else if let ref, let r = ref.results[q.id], let g = f.results[q.id] {
                if let d = firstDifference(r, g) {
                    cell = "differs"
                    diffs.append("- \(k.rawValue), \(q.id): \(d)")
                } else {
                    cell = "same (\(r.series.count) series)"
                }
            }
            s += " \(cell) |"
        }
        s += "\n"
    }
    if !diffs.isEmpty { s += "\nFirst difference per query:\n" + diffs.joined(separator: "\n") + "\n" }
    return s
}
