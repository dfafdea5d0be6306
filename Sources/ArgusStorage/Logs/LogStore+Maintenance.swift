import ArgusColumnar
import ArgusModel
import Foundation

#if canImport(Glibc)
import Glibc
#endif

extension LogStore {
    /// Cuts the head into blocks (one per block-duration window), then compacts and applies
    /// retention. Returns when the data is in blocks.
    @discardableResult
    public func flush() throws -> MetricStore.MaintenanceResult {
        try maintenance.withLock {
            var result = MetricStore.MaintenanceResult()
            result.blocksWritten = try cutHeadLocked()
            result.blocksCompacted = try compactLocked()
            result.blocksDropped = try applyRetentionLocked()
            return result
        }
    }

    /// Only compaction and retention. Windows still being filled wait for their data to be
    /// complete, unless `all`.
    @discardableResult
    public func compact(all: Bool = false) throws -> MetricStore.MaintenanceResult {
        try maintenance.withLock {
            var result = MetricStore.MaintenanceResult()
            result.blocksCompacted = try compactLocked(all: all)
            result.blocksDropped = try applyRetentionLocked()
            return result
        }
    }

    func cutHeadLocked() throws -> Int {
        let segment: Int = try lock.withLock {
            if closed { throw ArgusError(.unavailable, "the log store is closed") }
            let seg = try wal.cut()
            var data: [(labels: Labels, records: [LogRecord])] = []
            for s in streams where !s.records.isEmpty {
                data.append((s.labels, s.sortedRecords()))
                s.records = []
                s.bytes = 0
            }
            for i in logged.indices { logged[i] = false }
            headRecords = 0
            headBytes = 0
            frozen.append(FrozenLogs(data))
            return seg
        }
        let all = lock.withLock { frozen }
        var written: [LogBlockHandle] = []
        do {
            written = try writeFrozen(all)
            try catalog.commit(add: written.map(\.meta), meta: [LogStore.checkpointKey: String(segment)])
        } catch {
            for b in written { try? FileManager.default.removeItem(atPath: blocksDir + "/" + b.meta.id) }
            throw ArgusError(.io, "cannot write log head data to blocks", cause: error)
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

    /// One block per block-duration window (record times are nanoseconds).
    func writeFrozen(_ heads: [FrozenLogs]) throws -> [LogBlockHandle] {
        var merged: [Labels: [LogRecord]] = [:]
        for f in heads {
            for s in f.streams { merged[s.labels, default: []].append(contentsOf: s.records) }
        }
        let width = options.blockDuration * 1_000_000
        var windows: [Int64: [(Labels, [LogRecord])]] = [:]
        for (labels, var recs) in merged {
            if heads.count > 1 { recs.sort { $0.time < $1.time } }
            var start = 0
            while start < recs.count {
                let w = floorDiv(recs[start].time, width)
                var end = start + 1
                while end < recs.count && floorDiv(recs[end].time, width) == w { end += 1 }
                windows[w, default: []].append((labels, Array(recs[start..<end])))
                start = end
            }
        }
        var out: [LogBlockHandle] = []
        for w in windows.keys.sorted() {
            out.append(try writeBlock(windows[w]!, level: 0, zstdLevel: options.flushZstdLevel))
        }
        return out
    }

    func writeBlock(_ streams: [(Labels, [LogRecord])], level: Int, zstdLevel: Int32) throws -> LogBlockHandle {
        let id = MetricStore.newBlockID()
        let tmp = blocksDir + "/" + id + ".tmp"
        try? FileManager.default.removeItem(atPath: tmp)
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        var writer = LogBlockWriter(dir: tmp, zstdLevel: zstdLevel)
        for (labels, recs) in streams.sorted(by: { compareLabelSets($0.0, $1.0) }) {
            try writer.add(stream: labels.items.map { ($0.name, $0.value) }, records: recs)
        }
        let st = try writer.finish()
        let dir = blocksDir + "/" + id
        if rename(tmp, dir) != 0 { throw ArgusError(.io, "cannot rename log block \(tmp): \(String(cString: strerror(errno)))") }
        fsyncDirectory(blocksDir)
        let meta = BlockMeta(id: id, kind: LogStore.kind, minT: st.minT, maxT: st.maxT, series: st.streams,
                             samples: st.records, bytes: st.bytes, version: Int(LogBlockFormat.version), level: level)
        return LogBlockHandle(meta: meta, reader: try LogBlockReader(dir: dir))
    }

    /// Merges blocks that fall in the same window of each compaction range.
    func compactLocked(all: Bool = false) throws -> Int {
        // Log block times are nanoseconds; compaction ranges are milliseconds.
        try compactByWindows(ranges: options.compactionRanges.map { $0 * 1_000_000 }, all: all, current: { lock.withLock { blocks } },
                             meta: \.meta) { try mergeBlocks($0) }
    }

    func mergeBlocks(_ group: [LogBlockHandle]) throws {
        var merged: [Labels: [LogRecord]] = [:]
        for b in group {
            for c in b.reader.chunks.indices {
                merged[b.labels[b.reader.chunks[c].stream], default: []].append(contentsOf: try b.reader.records(c))
            }
        }
        let streams = merged.map { (labels, recs) in
            // Blocks of different windows usually follow each other: sort (stably) only when needed.
            if zip(recs, recs.dropFirst()).allSatisfy({ $0.time <= $1.time }) { return (labels, recs) }
            return (labels, recs.enumerated().sorted { ($0.element.time, $0.offset) < ($1.element.time, $1.offset) }.map(\.element))
        }
        let level = (group.map(\.meta.level).max() ?? 0) + 1
        let handle = try writeBlock(streams, level: level, zstdLevel: options.compactZstdLevel)
        try installMerged(handle, replacing: group, what: "log block")
    }

    /// Drops blocks past the retention time (behind the newest record) or over the size limit.
    func applyRetentionLocked() throws -> Int {
        let (current, newestT) = lock.withLock { (blocks, newest) }
        guard !current.isEmpty else { return 0 }
        let retentionNs = options.retention.multipliedReportingOverflow(by: 1_000_000)
        let cutoff = retentionNs.overflow ? nil : newestT &- retentionNs.partialValue
        let drop = retentionDrops(current, meta: \.meta, cutoff: cutoff, sizeLimit: options.retentionSize)
        return try dropBlocks(drop, what: "log block")
    }
}

func compareLabelSets(_ a: Labels, _ b: Labels) -> Bool {
    for (x, y) in zip(a.items, b.items) where x != y { return x < y }
    return a.count < b.count
}
