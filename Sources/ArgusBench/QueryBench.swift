import ArgusModel
import ArgusQuery
import ArgusStorage
import Foundation
import Logging

// argus-bench query [--series N] [--hours H] [--runs R]
/// PromQL latency over the storage benchmark's dataset: builds the store (flushed and compacted),
/// then runs each query R times and prints the median latency and samples read per second.
func runQueryBench(_ args: [String]) async throws {
    var seriesCount = 10_000
    var hours = 12
    var runs = 5
    var i = 0
    while i < args.count {
        let v = i + 1 < args.count ? args[i + 1] : ""
        switch args[i] {
        case "--series": seriesCount = Int(v) ?? seriesCount
        case "--hours": hours = Int(v) ?? hours
        case "--runs": runs = max(1, Int(v) ?? runs)
        default:
            FileHandle.standardError.write(Data("unknown option \(args[i])\n".utf8))
            exit(2)
        }
        i += 2
    }
    let dir = NSTemporaryDirectory() + "argus-query-bench-\(getpid())"
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var logger = Logger(label: "bench")
    logger.logLevel = .warning
    let interval: Int64 = 15_000
    let steps = hours * 3600 * 1000 / Int(interval)
    let start = (TimeUtil.nowMillis() - Int64(hours) * 3_600_000) / 3_600_000 * 3_600_000
    var gen = DatasetGenerator(seriesCount: seriesCount, start: start, interval: interval, jitterMs: 5)
    var options = StorageOptions(dataDir: dir)
    options.retention = 30 * 86_400_000
    let store = try MetricStore(options: options, logger: logger)
    var refs = [SeriesRef](repeating: 0, count: gen.series.count)
    for (k, s) in gen.series.enumerated() { refs[k] = try store.seriesRef(for: s.labels) }
    // Every target also exposes `up`, for the join.
    var upRefs: [String: SeriesRef] = [:]
    for s in gen.series {
        let key = s.labels.value("job") + "|" + s.labels.value("instance")
        if upRefs[key] == nil {
            upRefs[key] = try store.seriesRef(for: Labels([("__name__", "up_target"), ("job", s.labels.value("job")), ("instance", s.labels.value("instance")), ("version", "v1")]))
        }
    }
    let stepsPerBlock = Int(options.blockDuration / interval)
    for k in 0..<steps {
        let app = store.appender()
        var last: Int64 = 0
        gen.step(k) { idx, t, v in
            app.append(ref: refs[idx], t, v)
            last = t
        }
        for ref in upRefs.values { app.append(ref: ref, last, 1) }
        try app.commit()
        if (k + 1) % stepsPerBlock == 0 { try store.flush() }
    }
    try store.flush()
    try store.compact(all: true)
    let end = start + Int64(steps) * interval
    print("dataset: \(gen.series.count + upRefs.count) series, \(steps) scrapes each over \(hours)h; \(store.blockMetas.count) block(s)")
    let engine = PromQLEngine()
    let queries: [(String, String, Bool)] = [
        ("rate over all counters", "rate(http_requests_total[5m])", false),
        ("sum by job of rate", "sum by (job) (rate(http_requests_total[5m]))", false),
        ("histogram_quantile p99", "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))", false),
        ("topk 10", "topk(10, rate(http_requests_total[5m]))", false),
        ("group_left join", "rate(http_requests_total[5m]) * on (job, instance) group_left (version) up_target", false),
        ("12h range, 1m step", "sum by (job) (rate(http_requests_total[5m]))", true),
        ("12h range p99, 1m step", "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))", true),
    ]
    print("")
    print("| query | kind | median latency | samples read | samples read/s |")
    print("|---|---|---|---|---|")
    for (name, q, range) in queries {
        var times: [Double] = []
        var read = 0
        for _ in 0..<runs {
            let t0 = TimeUtil.monotonicNanos()
            let r = range
                ? try await engine.rangeQuery(q, start: end - Int64(hours) * 3_600_000, end: end, step: 60_000, store: store)
                : try await engine.instantQuery(q, at: end, store: store)
            times.append(Double(TimeUtil.monotonicNanos() - t0) / 1e9)
            read = r.samplesRead
        }
        times.sort()
        let median = times[times.count / 2]
        print("| \(name): `\(q)` | \(range ? "range" : "instant") | \(fmt(median * 1000, 2)) ms | \(read) | \(fmt(Double(read) / median / 1e6, 1)) M |")
    }
    store.close()
}
