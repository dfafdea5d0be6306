import ArgusModel
import ArgusStorage
import Foundation
import Logging

// argus-bench storage [--series N] [--hours H] [--dir DIR] [--jitter MS]
func runStorageBench(_ args: [String]) throws {
    var seriesCount = 10_000
    var hours = 12
    var dir = NSTemporaryDirectory() + "argus-bench-\(getpid())"
    var jitter: Int64 = 5
    var i = 0
    while i < args.count {
        let v = i + 1 < args.count ? args[i + 1] : ""
        switch args[i] {
        case "--series": seriesCount = Int(v) ?? seriesCount
        case "--hours": hours = Int(v) ?? hours
        case "--dir": dir = v
        case "--jitter": jitter = Int64(v) ?? jitter
        default:
            FileHandle.standardError.write("unknown option \(args[i])\n".data(using: .utf8)!)
            exit(2)
        }
        i += 2
    }
    try? FileManager.default.removeItem(atPath: dir)
    var logger = Logger(label: "bench")
    logger.logLevel = .warning

    let interval: Int64 = 15_000
    let steps = hours * 3600 * 1000 / Int(interval)
    let start = (TimeUtil.nowMillis() - Int64(hours) * 3_600_000) / 3_600_000 * 3_600_000
    var gen = DatasetGenerator(seriesCount: seriesCount, start: start, interval: interval, jitterMs: jitter)
    print("dataset: \(gen.series.count) series, \(steps) scrapes each at 15s over \(hours)h (\(gen.series.count * steps) samples), jitter 0-\(jitter)ms")

    var options = StorageOptions(dataDir: dir)
    options.retention = 30 * 86_400_000
    let stepsPerBlock = Int(options.blockDuration / interval)

    var store = try MetricStore(options: options, logger: logger)
    let rssBefore = residentBytes()
    var refs = [SeriesRef](repeating: 0, count: gen.series.count)
    for (k, s) in gen.series.enumerated() { refs[k] = try store.seriesRef(for: s.labels) }

    // Phase 1: append the first block period, measure head memory, then WAL replay.
    var appendSeconds = 0.0
    var appendCPU = 0.0
    var appended = 0
    var headRSS = 0
    func appendSteps(_ range: Range<Int>) throws {
        for k in range {
            let app = store.appender()
            app.reserve(gen.series.count)
            var batchSeconds = 0.0
            // Generating data is not part of the figure: collect first, then time append + commit.
            var ts = [Int64](repeating: 0, count: gen.series.count)
            var vs = [Double](repeating: 0, count: gen.series.count)
            gen.step(k) { idx, t, v in
                ts[idx] = t
                vs[idx] = v
            }
            batchSeconds = try seconds {
                for idx in 0..<refs.count { app.append(ref: refs[idx], ts[idx], vs[idx]) }
                try app.commit()
            }
            appendSeconds += batchSeconds
            appendCPU += lastCPU
            appended += refs.count
        }
    }
    try appendSteps(0..<min(stepsPerBlock, steps))
    headRSS = residentBytes() - rssBefore
    let headStats = store.stats()
    store.close()

    var replaySeconds = 0.0
    replaySeconds = try seconds { store = try MetricStore(options: options, logger: logger) }
    let replayCPU = lastCPU
    let replayed = store.replayStats.samples

    // Phase 2: the rest, cutting the head every block period as the server does.
    var flushSeconds = try seconds { try store.flush() }
    var k = stepsPerBlock
    while k < steps {
        try appendSteps(k..<min(k + stepsPerBlock, steps))
        k += stepsPerBlock
        flushSeconds += try seconds { try store.flush() }
    }
    flushSeconds += try seconds { try store.compact(all: true) }
    let st = store.stats()
    var tsBytes = 0, valBytes = 0, idxBytes = 0
    for b in store.blockMetas {
        func size(_ f: String) -> Int { ((try? FileManager.default.attributesOfItem(atPath: dir + "/blocks/" + b.id + "/" + f))?[.size] as? Int) ?? 0 }
        tsBytes += size("timestamps"); valBytes += size("values"); idxBytes += size("index")
    }

    // Decode everything through select.
    var decoded = 0
    let q = store.querier(mint: Int64.min / 2, maxt: Int64.max / 2)
    let m = [try Matcher(.regexMatch, "__name__", ".+")]
    let decodeSeconds = seconds {
        let set = q.select(m)
        while let s = set.next() { decoded += s.timestamps.count }
    }
    let decodeCPU = lastCPU
    let totalSamples = gen.series.count * steps

    print("")
    print("| figure | value |")
    print("|---|---|")
    print("| samples written | \(totalSamples) |")
    print("| blocks after compaction | \(st.blocks) (\(st.blockSamples) samples) |")
    print("| bytes on disk (blocks) | \(st.blockBytes) |")
    print("| bytes per sample on disk | \(fmt(Double(st.blockBytes) / Double(st.blockSamples), 3)) |")
    print("| of which timestamps / values / index | \(fmt(Double(tsBytes) / Double(st.blockSamples), 3)) / \(fmt(Double(valBytes) / Double(st.blockSamples), 3)) / \(fmt(Double(idxBytes) / Double(st.blockSamples), 3)) bytes per sample |")
    print("| append (refs cached, WAL fsync per 10k-sample commit) | \(fmt(Double(appended) / appendSeconds / 1e6)) M samples/s wall, \(fmt(Double(appended) / appendCPU / 1e6)) M per CPU-second |")
    print("| select decode, all series | \(fmt(Double(decoded) / decodeSeconds / 1e6)) M samples/s wall, \(fmt(Double(decoded) / decodeCPU / 1e6)) M per CPU-second (\(decoded) samples) |")
    print("| resident memory per head series (\(stepsPerBlock) samples each) | \(headRSS / max(1, headStats.headSeries)) bytes |")
    print("| head chunk bytes per series | \(headStats.headChunkBytes / max(1, headStats.headSeries)) bytes |")
    print("| WAL replay (whole store open) | \(fmt(Double(replayed) / replaySeconds / 1e6)) M samples/s wall, \(fmt(Double(replayed) / replayCPU / 1e6)) M per CPU-second (\(replayed) samples) |")
    print("| flush + compaction time | \(fmt(flushSeconds)) s |")
    if decoded != totalSamples { print("WARNING: decoded \(decoded) samples, wrote \(totalSamples)") }
    store.close()
    try? FileManager.default.removeItem(atPath: dir)

}
