import ArgusColumnar
import ArgusModel
import Foundation
import Logging
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

extension SpanStore {
    /// Cuts the head into blocks (one per block-duration window of span start times), then
    /// (unless `compact` is false) compacts and applies retention. Returns when the spans are
    /// in blocks.
    @discardableResult
    public func flush(compact: Bool = true) throws -> MetricStore.MaintenanceResult {
        try maintenance.withLock {
            var result = MetricStore.MaintenanceResult()
            result.blocksWritten = try cutHeadLocked()
            if compact {
                result.blocksCompacted = try compactLocked()
                result.blocksDropped = try applyRetentionLocked()
            }
            return result
        }
    }

    func cutHeadLocked() throws -> Int {
        let segment: Int = try lock.withLock {
            if closed { throw ArgusError(.unavailable, "the span store is closed") }
            let seg = try wal.cut()
            if !head.isEmpty {
                frozen.append(head)
                head = []
                headIndex = [:]
                headTags = [[:], [:]]
            }
            return seg
        }
        let all = lock.withLock { frozen }
        var written: [SpanBlockHandle] = []
        do {
            if !all.isEmpty { written = try writeBlocks(all.flatMap { $0 }, level: 0, window: true) }
            try catalog.commit(add: written.map(\.meta), meta: [SpanStore.checkpointKey: String(segment)])
        } catch {
            for b in written { try? FileManager.default.removeItem(atPath: blocksDir + "/" + b.meta.id) }
            throw ArgusError(.io, "cannot write spans to blocks", cause: error)
        }
        lock.withLock {
            blocks.append(contentsOf: written)
            blocks.sort { ($0.meta.minT, $0.meta.id) < ($1.meta.minT, $1.meta.id) }
            frozen.removeFirst(min(all.count, frozen.count))
        }
        wal.removeSegments(upTo: segment)
        return written.count
    }

    /// Writes spans into blocks: one per block-duration window of start times (`window`), or one.
    func writeBlocks(_ spans: [Span], level: Int, window: Bool) throws -> [SpanBlockHandle] {
        let width = options.blockDuration * 1_000_000
        var byWindow: [Int64: [Span]] = [:]
        if window {
            for s in spans { byWindow[floorDiv(s.startNanos, width), default: []].append(s) }
        } else {
            byWindow[0] = spans
        }
        var out: [SpanBlockHandle] = []
        for w in byWindow.keys.sorted() {
            var group = SpanStore.dedupeSorted(byWindow[w]!)
            if group.isEmpty { continue }
            group.sort { a, b in a.traceID != b.traceID ? a.traceID < b.traceID : (a.startNanos, a.spanID) < (b.startNanos, b.spanID) }
            let id = MetricStore.newBlockID()
            let tmp = blocksDir + "/" + id + ".tmp"
            try? FileManager.default.removeItem(atPath: tmp)
            try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
            var writer = SpanBlockWriter(dir: tmp, zstdLevel: level == 0 ? options.flushZstdLevel : options.compactZstdLevel)
            var i = 0
            while i < group.count {
                var j = i + 1
                while j < group.count && group[j].traceID == group[i].traceID { j += 1 }
                try writer.add(trace: group[i].traceID, spans: group[i..<j])
                i = j
            }
            out.append(try finishBlock(id: id, writer: &writer, level: level))
        }
        return out
    }

    /// Finishes a block written in `<id>.tmp`, renames it into place and opens it; not yet in
    /// the catalog.
    func finishBlock(id: String, writer: inout SpanBlockWriter, level: Int) throws -> SpanBlockHandle {
        let st = try writer.finish()
        let tmp = blocksDir + "/" + id + ".tmp"
        let final = blocksDir + "/" + id
        if rename(tmp, final) != 0 { throw ArgusError.io("cannot rename span block", tmp, errno: errno) }
        fsyncDirectory(blocksDir)
        let meta = BlockMeta(id: id, kind: SpanStore.kind, minT: floorDiv(st.minNanos, 1_000_000), maxT: floorDiv(st.maxNanos, 1_000_000),
                             series: st.traces, samples: st.spans, bytes: st.bytes, version: Int(SpanBlockFormat.version), level: level)
        return SpanBlockHandle(meta: meta, reader: try SpanBlockReader(dir: final))
    }

    /// Drops repeated copies of a span (same trace and span id), keeping the last.
    static func dedupeSorted(_ spans: [Span]) -> [Span] {
        var seen: [TraceID: [UInt64: Int]] = [:]
        var out: [Span] = []
        out.reserveCapacity(spans.count)
        for s in spans {
            if let i = seen[s.traceID]?[s.spanID] {
                out[i] = s
            } else {
                seen[s.traceID, default: [:]][s.spanID] = out.count
                out.append(s)
            }
        }
        return out
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

    /// Merges blocks that fall in the same window of each compaction range; spans of a trace
    /// that arrived late (in separate blocks) end up together.
    func compactLocked(all: Bool = false) throws -> Int {
        try compactByWindows(ranges: options.compactionRanges, all: all, current: { lock.withLock { blocks } }, meta: \.meta) { try mergeBlocks($0) }
    }

    /// Merges blocks into one, trace by trace in trace-id order (each block's traces are in
    /// that order and a trace lies in one granule of a block), holding one decoded granule per
    /// block at a time: memory stays flat however many spans the window holds. A span stored
    /// twice keeps the copy of the later block in `group`.
    func mergeBlocks(_ group: [SpanBlockHandle]) throws {
        let level = (group.map(\.meta.level).max() ?? 0) + 1
        let id = MetricStore.newBlockID()
        let tmp = blocksDir + "/" + id + ".tmp"
        try? FileManager.default.removeItem(atPath: tmp)
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        var writer = SpanBlockWriter(dir: tmp, zstdLevel: options.compactZstdLevel)
        var granule = [Int](repeating: 0, count: group.count)
        var rows = [[Span]](repeating: [], count: group.count)
        var pos = [Int](repeating: 0, count: group.count)
        /// Whether block k has a span left, decoding its next granule when needed.
        func fill(_ k: Int) throws -> Bool {
            while pos[k] >= rows[k].count {
                guard granule[k] < group[k].reader.granuleCount else { return false }
                rows[k] = try group[k].reader.decodeGranule(granule[k])
                granule[k] += 1
                pos[k] = 0
            }
            return true
        }
        var trace: [Span] = []
        do {
            while true {
                var next: TraceID?
                for k in group.indices where try fill(k) {
                    let t = rows[k][pos[k]].traceID
                    if next == nil || t < next! { next = t }
                }
                guard let tid = next else { break }
                trace.removeAll(keepingCapacity: true)
                for k in group.indices where try fill(k) {
                    while pos[k] < rows[k].count && rows[k][pos[k]].traceID == tid {
                        trace.append(rows[k][pos[k]])
                        pos[k] += 1
                    }
                }
                var spans = group.count > 1 ? SpanStore.dedupeSorted(trace) : trace
                spans.sort { ($0.startNanos, $0.spanID) < ($1.startNanos, $1.spanID) }
                try writer.add(trace: tid, spans: spans[...])
            }
        } catch {
            try? FileManager.default.removeItem(atPath: tmp)
            throw error
        }
        let written = try finishBlock(id: id, writer: &writer, level: level)
        try installMerged(written, replacing: group, what: "span block")
    }

    /// Drops blocks past the retention time (relative to the newest span) or over the size limit.
    func applyRetentionLocked() throws -> Int {
        let current = lock.withLock { blocks }
        guard !current.isEmpty else { return 0 }
        let headMax = lock.withLock { headMaxNanos == .min ? Int64.min : headMaxNanos / 1_000_000 }
        let newest = max(current.map(\.meta.maxT).max()!, headMax)
        let drop = retentionDrops(current, meta: \.meta, cutoff: newest - options.retention, sizeLimit: options.retentionSize)
        return try dropBlocks(drop, what: "span block")
    }
}
