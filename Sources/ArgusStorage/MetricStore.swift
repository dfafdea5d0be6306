import ArgusColumnar
import ArgusModel
import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// A block the store serves, with its catalog row.
final class BlockHandle: @unchecked Sendable {
    let meta: BlockMeta
    let reader: MetricBlockReader
    init(meta: BlockMeta, reader: MetricBlockReader) {
        self.meta = meta
        self.reader = reader
    }
}

/// Head data being written into blocks: still visible to queries until the blocks are in.
final class FrozenHead: @unchecked Sendable {
    let refs: [SeriesRef]
    let data: [HeadSnapshot]
    init(refs: [SeriesRef], data: [HeadSnapshot]) {
        self.refs = refs
        self.data = data
    }
    func find(_ ref: SeriesRef) -> HeadSnapshot? { refs.binarySearch(ref).map { data[$0] } }
}

/// A block the store refused to serve at start, and why.
public struct RefusedBlock: Sendable {
    public let id: String
    public let reason: String
}

/// The metric store: WAL, head, blocks and the catalog behind `Appender` and `Querier`.
public final class MetricStore: @unchecked Sendable {
    public let options: StorageOptions
    let logger: Logger
    public let catalog: Catalog
    let wal: WAL
    let blocksDir: String
    /// The newest exemplars, in memory; logged to the WAL with their samples.
    public let exemplars: ExemplarStore
    /// Type, help and unit by metric name, as senders describe them (in memory).
    public let metadata = MetadataStore()

    /// Guards the head, the block list and the frozen heads.
    let lock = Lock()
    var series: [HeadSeries?] = []
    var byLabels: [Labels: SeriesRef] = [:]
    var postings = Postings()
    var unlogged: [SeriesRef] = []
    var uncatalogued: [SeriesRef] = []
    var blocks: [BlockHandle] = []
    var frozen: [FrozenHead] = []
    var generation: UInt32 = 0
    /// One shared instance per distinct label name or value, so series share string storage.
    var symbols: [String: String] = [:]
    /// Series count per metric name, for the per-metric limit.
    var seriesPerMetric: [String: Int] = [:]
    public private(set) var refusedBlocks: [RefusedBlock] = []

    /// Serialises flush, compaction and retention.
    let maintenance = Lock()
    var closed = false
    /// False while series are loaded at start (those count towards the per-metric limit there).
    var loadingDone = false

    public struct ReplayStats: Sendable {
        public var records = 0
        public var samples = 0
        public var series = 0
        public var truncatedSegments = 0
        public var seconds = 0.0
    }
    public private(set) var replayStats = ReplayStats()

    static let kind = "metrics"
    static let checkpointKey = "metrics.wal_checkpoint"

    public init(options: StorageOptions, logger: Logger = Logger(label: "argus.storage")) throws {
        self.options = options
        self.logger = logger
        exemplars = ExemplarStore(capacity: options.maxExemplars)
        let dir = options.dataDir
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        blocksDir = dir + "/blocks"
        try FileManager.default.createDirectory(atPath: blocksDir, withIntermediateDirectories: true)
        catalog = try Catalog(path: dir + "/catalog.sqlite")
        wal = try WAL(dir: dir + "/wal", segmentSize: options.walSegmentSize, logger: logger)
        try openBlocks()
        try loadSeries()
        try replayWAL()
        loadingDone = true
        try wal.openForAppend()
    }

    // MARK: start-up

    func openBlocks() throws {
        let metas = try catalog.loadBlocks(kind: MetricStore.kind)
        let known = Set(metas.map(\.id))
        // Remove debris: directories the catalog does not list (interrupted flush/compaction).
        for name in (try? FileManager.default.contentsOfDirectory(atPath: blocksDir)) ?? [] where !known.contains(name) {
            logger.info("removing a block directory the catalog does not list (left by an interrupted write)", metadata: ["dir": "\(blocksDir)/\(name)"])
            try? FileManager.default.removeItem(atPath: blocksDir + "/" + name)
        }
        for m in metas {
            let dir = blocksDir + "/" + m.id
            do {
                let r = try MetricBlockReader(dir: dir)
                blocks.append(BlockHandle(meta: m, reader: r))
            } catch {
                let reason = "\(error)"
                logger.error("refusing a damaged block; serving the others", metadata: ["block": "\(dir)", "reason": "\(reason)"])
                refusedBlocks.append(RefusedBlock(id: m.id, reason: reason))
            }
        }
    }

    func loadSeries() throws {
        for (ref, labels) in try catalog.loadSeries() {
            _ = createSeriesLocked(labels, ref: ref)
        }
        // The newest timestamp of every series in blocks, for out-of-order and duplicate checks.
        for b in blocks {
            let r = b.reader
            for i in 0..<r.seriesCount {
                let ref = Int(r.refs[i])
                guard ref < series.count, let s = series[ref] else { continue }
                if r.maxTs[i] > s.lastT {
                    s.lastT = r.maxTs[i]
                    s.lastVKnown = false
                }
            }
        }
    }

    func replayWAL() throws {
        let start = TimeUtil.monotonicNanos()
        let checkpoint = Int(try catalog.meta(MetricStore.checkpointKey) ?? "0") ?? 0
        wal.removeSegments(upTo: checkpoint)
        var stats = ReplayStats()
        let result = try wal.replay(after: checkpoint) { payload in
            var r = ByteReader(payload)
            let type = try r.u8()
            switch type {
            case WALRecordType.series.rawValue:
                let n = Int(try r.uvarint())
                for _ in 0..<n {
                    let ref = SeriesRef(truncatingIfNeeded: try r.uvarint())
                    let labels = try LabelsCoding.decode(&r)
                    if Int(ref) >= series.count || series[Int(ref)] == nil {
                        _ = createSeriesLocked(labels, ref: ref)
                        uncatalogued.append(ref)
                        stats.series += 1
                    }
                }
            case WALRecordType.samples.rawValue:
                let n = Int(try r.uvarint())
                let base = try r.varint()
                for _ in 0..<n {
                    let ref = Int(try r.uvarint())
                    let t = base &+ (try r.varint())
                    let v = Double(bitPattern: try r.u64())
                    guard ref < series.count, series[ref] != nil else {
                        throw ArgusError(.corrupt, "sample for unknown series ref \(ref)")
                    }
                    unowned(unsafe) let s = series[ref]!
                    s.apply(t, v)
                }
                stats.samples += n
            case WALRecordType.exemplars.rawValue:
                let n = Int(try r.uvarint())
                var items: [(SeriesRef, Exemplar)] = []
                items.reserveCapacity(n)
                for _ in 0..<n {
                    let ref = SeriesRef(truncatingIfNeeded: try r.uvarint())
                    let t = try r.varint()
                    let v = Double(bitPattern: try r.u64())
                    let labels = try LabelsCoding.decode(&r)
                    items.append((ref, Exemplar(labels: labels, t: t, v: v)))
                }
                exemplars.add(items)
            default:
                throw ArgusError(.corrupt, "unknown WAL record type \(type)")
            }
        }
        stats.records = result.records
        stats.truncatedSegments = result.truncated
        stats.seconds = Double(TimeUtil.monotonicNanos() - start) / 1e9
        replayStats = stats
        if stats.records > 0 {
            logger.info("replayed the WAL", metadata: ["records": "\(stats.records)", "samples": "\(stats.samples)", "seconds": "\(stats.seconds)"])
        }
    }

    // MARK: series

    @discardableResult
    func createSeriesLocked(_ labels: Labels, ref: SeriesRef) -> HeadSeries {
        let i = Int(ref)
        if i >= series.count { series.append(contentsOf: repeatElement(nil, count: i + 1 - series.count)) }
        var items = labels.items
        for k in items.indices {
            items[k].name = intern(items[k].name)
            items[k].value = intern(items[k].value)
        }
        let labels = Labels(sorted: items)
        let s = HeadSeries(ref: ref, labels: labels)
        series[i] = s
        byLabels[labels] = ref
        postings.add(ref, labels)
        if !loadingDone { seriesPerMetric[labels.metricName ?? "", default: 0] += 1 }
        return s
    }

    @inline(__always) func intern(_ s: String) -> String {
        if s.utf8.count <= 15 { return s }  // small strings live inline, nothing to share
        if let v = symbols[s] { return v }
        symbols[s] = s
        return s
    }

    /// The ref of the series with these labels, created (and queued for the WAL) when new.
    /// Throws a `limit` error when a new series would pass `maxSeries` or `maxSeriesPerMetric`.
    public func seriesRef(for labels: Labels) throws -> SeriesRef {
        try lock.withLock {
            if let ref = byLabels[labels] { return ref }
            if options.maxSeries > 0 && byLabels.count >= options.maxSeries {
                throw ArgusError(.limit, "series limit reached: the store holds \(options.maxSeries) series (--limits.max-series); refusing new series \(labels)")
            }
            let name = labels.metricName ?? ""
            if options.maxSeriesPerMetric > 0 {
                let n = seriesPerMetric[name, default: 0]
                if n >= options.maxSeriesPerMetric {
                    throw ArgusError(.limit, "per-metric series limit reached: \(name) has \(n) series (--limits.max-series-per-metric); refusing new series \(labels)")
                }
            }
            seriesPerMetric[name, default: 0] += 1
            let ref = SeriesRef(series.count)
            createSeriesLocked(labels, ref: ref)
            unlogged.append(ref)
            uncatalogued.append(ref)
            return ref
        }
    }

    /// Returns a new single-use appender.
    public func appender() -> Appender { Appender(store: self) }

    public var seriesCount: Int { lock.withLock { byLabels.count } }

    // MARK: commit

    /// Validates, logs and applies a batch; returns once its WAL record is durable.
    /// Throws without storing anything when any sample is invalid.
    func commit(refs: [SeriesRef], ts: [Int64], vs: [Double], exemplars newExemplars: [(SeriesRef, Exemplar)] = [],
                skipInvalid: Bool = false) throws -> CommitResult {
        let n = refs.count
        var result = CommitResult()
        if n == 0 && newExemplars.isEmpty { return result }
        var skip: [Bool] = []
        var record = WAL.recordBuffer(capacity: n * 12 + 64)
        let position: UInt64
        lock.lock()
        do {
            defer { lock.unlock() }
            if closed { throw ArgusError(.unavailable, "the store is closed") }
            generation &+= 1
            let gen = generation
            let window = options.outOfOrderWindow
            for i in 0..<n {
              do {
                let ref = Int(refs[i])
                guard ref < series.count, series[ref] != nil else {
                    throw ArgusError(.badInput, "unknown series ref \(ref)")
                }
                unowned(unsafe) let s = series[ref]!
                let t = ts[i]
                let bits = vs[i].bitPattern
                let lastT: Int64
                var lastV: UInt64
                var known = true
                if s.scratchGen == gen {
                    lastT = s.scratchT
                    lastV = s.scratchV
                } else {
                    lastT = s.lastT
                    lastV = s.lastV
                    known = s.lastVKnown
                }
                if t > lastT {
                    s.scratchGen = gen
                    s.scratchT = t
                    s.scratchV = bits
                    continue
                }
                if t == lastT {
                    if !known { lastV = lastValueFromBlocks(s) ?? bits }
                    if lastV == bits {
                        if skip.isEmpty { skip = [Bool](repeating: false, count: n) }
                        skip[i] = true
                        result.duplicates += 1
                        continue
                    }
                    throw ArgusError(.duplicateSample, "duplicate sample for timestamp: series \(s.labels) already has a different value at \(t)")
                }
                if window > 0 && t >= lastT - window {
                    // Inside the out-of-order window: duplicates of earlier samples are checked
                    // against the head's out-of-order buffer.
                    if let old = s.ooo.first(where: { $0.t == t }) {
                        if old.v.bitPattern == bits {
                            if skip.isEmpty { skip = [Bool](repeating: false, count: n) }
                            skip[i] = true
                            result.duplicates += 1
                            continue
                        }
                        throw ArgusError(.duplicateSample, "duplicate sample for timestamp: series \(s.labels) already has a different value at \(t)")
                    }
                    result.outOfOrder += 1
                    continue
                }
                if window > 0 {
                    throw ArgusError(.outOfOrder, "out of order sample: series \(s.labels) at \(t) is older than the out-of-order window (\(PromDuration.format(window))) behind its newest sample at \(lastT)")
                }
                throw ArgusError(.outOfOrder, "out of order sample: series \(s.labels) at \(t) is older than its newest sample at \(lastT)")
              } catch var e as ArgusError {
                e.itemIndex = i
                guard skipInvalid && e.code != .badInput else { throw e }
                // Skip this sample, keep the rest of the batch.
                if skip.isEmpty { skip = [Bool](repeating: false, count: n) }
                skip[i] = true
                result.rejected += 1
                if result.firstError == nil { result.firstError = e }
              }
            }
            // Log new series first, then the samples.
            if !unlogged.isEmpty {
                var sr = WAL.recordBuffer()
                sr.u8(WALRecordType.series.rawValue)
                sr.uvarint(UInt64(unlogged.count))
                for ref in unlogged {
                    sr.uvarint(UInt64(ref))
                    LabelsCoding.encode(series[Int(ref)]!.labels, into: &sr)
                }
                _ = try wal.append(&sr)
                unlogged.removeAll()
            }
            let kept = n - result.duplicates - result.rejected
            // Exemplars: those Prometheus would refuse are counted and left out.
            var acceptedExemplars: [(SeriesRef, Exemplar)] = []
            for (ref, e) in newExemplars {
                guard Int(ref) < series.count, series[Int(ref)] != nil else { continue }
                let verdict = exemplars.check(ref, e)
                if case .ok = verdict {
                    acceptedExemplars.append((ref, e))
                } else {
                    exemplars.count(verdict)
                    if case .invalid = verdict { result.rejectedExemplars += 1 }
                }
            }
            if kept == 0 && acceptedExemplars.isEmpty { return result }
            var pos: UInt64 = 0
            if kept > 0 {
                record.u8(WALRecordType.samples.rawValue)
                record.uvarint(UInt64(kept))
                let base = ts[0]
                record.varint(base)
                for i in 0..<n where skip.isEmpty || !skip[i] {
                    record.uvarint(UInt64(refs[i]))
                    record.varint(ts[i] &- base)
                    record.u64(vs[i].bitPattern)
                }
                pos = try wal.append(&record)
            }
            if !acceptedExemplars.isEmpty {
                var er = WAL.recordBuffer(capacity: acceptedExemplars.count * 64)
                er.u8(WALRecordType.exemplars.rawValue)
                er.uvarint(UInt64(acceptedExemplars.count))
                for (ref, e) in acceptedExemplars {
                    er.uvarint(UInt64(ref))
                    er.varint(e.t)
                    er.u64(e.v.bitPattern)
                    LabelsCoding.encode(e.labels, into: &er)
                }
                pos = try wal.append(&er)
                exemplars.add(acceptedExemplars)
                result.exemplars = acceptedExemplars.count
            }
            position = pos
            for i in 0..<n where skip.isEmpty || !skip[i] {
                unowned(unsafe) let s = series[Int(refs[i])]!
                s.apply(ts[i], vs[i])
            }
            result.appended = kept
        }
        try wal.waitDurable(position)
        return result
    }

    /// The value of the series' newest sample when it lives in a block (rare: only right after
    /// start-up, for a sample that repeats the newest timestamp).
    func lastValueFromBlocks(_ s: HeadSeries) -> UInt64? {
        for b in blocks.reversed() {
            guard let i = b.reader.entries(of: s.ref).last, b.reader.maxTs[i] == s.lastT else { continue }
            var cursor = MetricBlockReader.Cursor()
            var ts: [Int64] = [], vs: [Double] = []
            guard (try? b.reader.decode(series: i, cursor: &cursor, ts: &ts, vs: &vs)) != nil, let v = vs.last else { continue }
            s.lastV = v.bitPattern
            s.lastVKnown = true
            return v.bitPattern
        }
        return nil
    }

    // MARK: reading

    /// Refs and labels of the series matching every matcher (head index; no samples read).
    public func matchingSeries(_ matchers: [Matcher]) -> [(SeriesRef, Labels)] {
        lock.withLock {
            postings.select(matchers) { series.compactMap { $0?.ref } }.map { ($0, series[Int($0)]!.labels) }
        }
    }

    /// A querier over [mint, maxt] (milliseconds, inclusive).
    public func querier(mint: Int64, maxt: Int64) -> Querier {
        lock.withLock {
            Querier(store: self, mint: mint, maxt: maxt,
                    blocks: blocks.filter { $0.meta.maxT >= mint && $0.meta.minT <= maxt },
                    frozen: frozen)
        }
    }

    public struct Stats: Sendable {
        public var headSeries = 0
        public var headSamples = 0
        public var headChunkBytes = 0
        public var blocks = 0
        public var blockBytes = 0
        public var blockSamples = 0
        public var walBytes = 0
        public var minT: Int64 = .max
        public var maxT: Int64 = .min
    }

    public func stats() -> Stats {
        var st = lock.withLock { () -> Stats in
            var st = Stats()
            st.headSeries = byLabels.count
            for case let s? in series {
                st.headSamples += Int(s.chunk.count) + s.ooo.count
                st.headChunkBytes += s.chunk.memoryBytes
                if s.hasData {
                    st.maxT = max(st.maxT, s.lastT)
                }
            }
            st.blocks = blocks.count
            for b in blocks {
                st.blockBytes += b.meta.bytes
                st.blockSamples += b.meta.samples
                st.minT = min(st.minT, b.meta.minT)
                st.maxT = max(st.maxT, b.meta.maxT)
            }
            return st
        }
        st.walBytes = wal.sizeBytes
        return st
    }

    public var blockMetas: [BlockMeta] { lock.withLock { blocks.map(\.meta) } }

    /// WAL fsync count and total seconds, and the WAL's size on disk.
    public func walStats() -> (fsyncs: Int, fsyncSeconds: Double, bytes: Int) {
        let (n, s) = wal.lock.withLock { (wal.fsyncCount, wal.fsyncSeconds) }
        return (n, s, wal.sizeBytes)
    }

    /// Ends use of the store: the WAL is synced and closed; data stays recoverable from it.
    public func close() {
        maintenance.withLock {
            lock.withLock { closed = true }
            wal.close()
        }
    }
}

/// What a commit did.
public struct CommitResult: Sendable {
    public var appended = 0
    /// Samples that repeated a stored sample exactly (ignored, as in Prometheus).
    public var duplicates = 0
    /// Samples accepted inside the out-of-order window.
    public var outOfOrder = 0
    /// Samples skipped as invalid (only with `skipInvalid`), and the first reason.
    public var rejected = 0
    public var firstError: ArgusError?
    /// Exemplars stored, and those refused as invalid (too many label characters).
    public var exemplars = 0
    public var rejectedExemplars = 0
    public init() {}
}

/// WAL payload types (first byte of a record). Numbered explicitly: part of the disk format.
enum WALRecordType: UInt8 {
    /// count, then per series: ref (uvarint), labels.
    case series = 1
    /// count, base time (varint), then per sample: ref (uvarint), time - base (varint), value bits (u64).
    case samples = 2
    /// count, then per exemplar: ref (uvarint), time (varint), value bits (u64), labels.
    case exemplars = 3
}
