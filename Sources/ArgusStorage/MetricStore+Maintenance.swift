import ArgusColumnar
import ArgusModel
import Foundation

#if canImport(Glibc)
import Glibc
#endif

extension MetricStore {
    public struct MaintenanceResult: Sendable {
        public var blocksWritten = 0
        public var blocksCompacted = 0
        public var blocksDropped = 0
    }

    /// Cuts the head into blocks (one per block-duration window its samples fall in), then
    /// compacts and applies retention. Returns when the data is in blocks.
    @discardableResult
    public func flush() throws -> MaintenanceResult {
        try maintenance.withLock {
            var result = MaintenanceResult()
            result.blocksWritten = try cutHeadLocked()
            result.blocksCompacted = try compactLocked()
            result.blocksDropped = try applyRetentionLocked()
            return result
        }
    }

    /// Only the head cut, without compaction: what memory pressure calls for (a compaction
    /// right then would decode and rewrite blocks, needing more memory, not less).
    @discardableResult
    public func cutHead() throws -> Int {
        try maintenance.withLock { try cutHeadLocked() }
    }

    /// Only compaction (and retention). Windows still being filled wait for their data to be
    /// complete, unless `all`.
    /// Windows still being filled wait for their data to be complete, unless `all`.
    @discardableResult
    public func compact(all: Bool = false) throws -> MaintenanceResult {
        try maintenance.withLock {
            var result = MaintenanceResult()
            result.blocksCompacted = try compactLocked(all: all)
            result.blocksDropped = try applyRetentionLocked()
            return result
        }
    }

    static func newBlockID() -> String {
        let ns = TimeUtil.nowNanos()
        let hex = String(UInt64(ns), radix: 16)
        let rnd = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        return String(repeating: "0", count: max(0, 16 - hex.count)) + hex + "-" + String(repeating: "0", count: max(0, 8 - rnd.count)) + rnd
    }

    func cutHeadLocked() throws -> Int {
        // Freeze the head and end the WAL segment atomically with respect to appends.
        let (segment, newSeries): (Int, [(SeriesRef, Labels)]) = try lock.withLock {
            if closed { throw ArgusError(.unavailable, "the store is closed") }
            let seg = try wal.cut()
            var refs: [SeriesRef] = []
            var data: [HeadSnapshot] = []
            for case let s? in series where s.hasData {
                refs.append(s.ref)
                data.append(s.snapshot())
                s.chunk = HeadChunk()
                s.ooo = []
            }
            let f = FrozenHead(refs: refs, data: data)
            frozen.append(f)
            let ns = uncatalogued.map { ($0, series[Int($0)]!.labels) }
            uncatalogued.removeAll()
            return (seg, ns)
        }
        // Everything frozen so far (an earlier failed cut's data too) goes into blocks.
        let all = lock.withLock { frozen }
        var written: [BlockHandle] = []
        do {
            written = try writeFrozen(all)
            try catalog.commit(series: newSeries, add: written.map(\.meta),
                               meta: [MetricStore.checkpointKey: String(segment)])
        } catch {
            lock.withLock { uncatalogued.append(contentsOf: newSeries.map(\.0)) }
            for b in written { try? FileManager.default.removeItem(atPath: blocksDir + "/" + b.meta.id) }
            throw ArgusError(.io, "cannot write head data to blocks", cause: error)
        }
        lock.withLock {
            blocks.append(contentsOf: written)
            blocks.sort { ($0.meta.minT, $0.meta.id) < ($1.meta.minT, $1.meta.id) }
            let ids = Set(all.map { ObjectIdentifier($0) })
            frozen.removeAll { ids.contains(ObjectIdentifier($0)) }
        }
        wal.removeSegments(upTo: segment)
        return written.count
    }

    /// Writes frozen head data into one block per window of `blockDuration`.
    func writeFrozen(_ heads: [FrozenHead]) throws -> [BlockHandle] {
        // Series by series, ascending ref: only one series' samples are decoded at a time (decoding
        // every series first took 16 bytes per sample of memory at each cut).
        var refSet = Set<SeriesRef>()
        for f in heads { refSet.formUnion(f.refs) }
        let order = refSet.sorted()
        let width = options.blockDuration
        var writers: [Int64: (String, MetricBlockWriter)] = [:]
        var t: [Int64] = [], v: [Double] = []
        for ref in order {
            t.removeAll(keepingCapacity: true)
            v.removeAll(keepingCapacity: true)
            var first = true
            for f in heads {
                guard let snap = f.find(ref) else { continue }
                if first {
                    snap.decode(into: &t, &v)
                    first = false
                } else {
                    var t2: [Int64] = [], v2: [Double] = []
                    snap.decode(into: &t2, &v2)
                    mergeSamples(&t, &v, t2, v2, preferSecond: true)
                }
            }
            var start = 0
            while start < t.count {
                let w = floorDiv(t[start], width)
                var end = start + 1
                while end < t.count && floorDiv(t[end], width) == w { end += 1 }
                if writers[w] == nil {
                    let id = MetricStore.newBlockID()
                    let dir = blocksDir + "/" + id + ".tmp"
                    try? FileManager.default.removeItem(atPath: dir)
                    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                    writers[w] = (id, MetricBlockWriter(dir: dir, zstdLevel: options.flushZstdLevel))
                }
                try t.withUnsafeBufferPointer { tp in
                    try v.withUnsafeBufferPointer { vp in
                        try writers[w]!.1.add(ref: ref, timestamps: UnsafeBufferPointer(rebasing: tp[start..<end]),
                                              values: UnsafeBufferPointer(rebasing: vp[start..<end]))
                    }
                }
                start = end
            }
        }
        var out: [BlockHandle] = []
        for w in writers.keys.sorted() {
            var (id, writer) = writers[w]!
            out.append(try finishBlock(id: id, writer: &writer, level: 0))
        }
        return out
    }

    /// Finishes a block in `<id>.tmp` and renames it into place; not yet in the catalog.
    func finishBlock(id: String, writer: inout MetricBlockWriter, level: Int) throws -> BlockHandle {
        let st = try writer.finish()
        let tmp = blocksDir + "/" + id + ".tmp"
        let dir = blocksDir + "/" + id
        if rename(tmp, dir) != 0 { throw ArgusError.io("cannot rename block", tmp, errno: errno) }
        fsyncDirectory(blocksDir)
        let meta = BlockMeta(id: id, kind: MetricStore.kind, minT: st.minT, maxT: st.maxT, series: st.series,
                             samples: st.samples, bytes: st.bytes, version: Int(MetricBlockFormat.version), level: level)
        return BlockHandle(meta: meta, reader: try MetricBlockReader(dir: dir))
    }

    /// Merges blocks that fall in the same window of each compaction range.
    func compactLocked(all: Bool = false) throws -> Int {
        try compactByWindows(ranges: options.compactionRanges, all: all, current: { lock.withLock { blocks } }, meta: \.meta) { try mergeBlocks($0) }
    }

    func mergeBlocks(_ group: [BlockHandle]) throws {
        let id = MetricStore.newBlockID()
        let tmp = blocksDir + "/" + id + ".tmp"
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        var writer = MetricBlockWriter(dir: tmp, zstdLevel: options.compactZstdLevel)
        var cursors = Array(repeating: MetricBlockReader.Cursor(), count: group.count)
        var pos = Array(repeating: 0, count: group.count)
        var ts: [Int64] = [], vs: [Double] = []
        while true {
            // The smallest ref not yet merged across the group.
            var ref = UInt32.max
            var any = false
            for (k, b) in group.enumerated() where pos[k] < b.reader.seriesCount {
                ref = min(ref, b.reader.refs[pos[k]])
                any = true
            }
            if !any { break }
            ts.removeAll(keepingCapacity: true)
            vs.removeAll(keepingCapacity: true)
            for (k, b) in group.enumerated() where pos[k] < b.reader.seriesCount && b.reader.refs[pos[k]] == ref {
                // All chunks of this series in block k, in time order.
                var bt: [Int64] = [], bv: [Double] = []
                while pos[k] < b.reader.seriesCount && b.reader.refs[pos[k]] == ref {
                    try b.reader.decode(series: pos[k], cursor: &cursors[k], ts: &bt, vs: &bv)
                    pos[k] += 1
                }
                mergeSamples(&ts, &vs, bt, bv, preferSecond: true)
            }
            try writer.add(ref: ref, timestamps: ts, values: vs)
        }
        let level = (group.map(\.meta.level).max() ?? 0) + 1
        let handle = try finishBlock(id: id, writer: &writer, level: level)
        try installMerged(handle, replacing: group, what: "block")
    }

    /// Drops blocks past the retention time (relative to the newest data) or over the size limit.
    func applyRetentionLocked() throws -> Int {
        let current = lock.withLock { blocks }
        guard !current.isEmpty else { return 0 }
        let headMax = lock.withLock { series.reduce(Int64.min) { max($0, $1?.lastT ?? .min) } }
        let newest = max(current.map(\.meta.maxT).max()!, headMax)
        let drop = retentionDrops(current, meta: \.meta, cutoff: newest - options.retention, sizeLimit: options.retentionSize)
        return try dropBlocks(drop, what: "block")
    }

    /// The oldest timestamp the store accepts: retention behind the newest data (or now).
    public var minAcceptedTime: Int64 {
        TimeUtil.nowMillis() - options.retention
    }
}

@inline(__always) func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}
