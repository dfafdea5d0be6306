import ArgusColumnar
import ArgusModel
import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// A span block the store serves, with its catalog row.
public final class SpanBlockHandle: @unchecked Sendable {
    public let meta: BlockMeta
    public let reader: SpanBlockReader
    init(meta: BlockMeta, reader: SpanBlockReader) {
        self.meta = meta
        self.reader = reader
    }
}

/// Spans of one trace from one source (the head, a frozen head or a block). A trace whose
/// spans arrived across block cuts has one fragment per source.
public struct TraceFragment: Sendable {
    public var traceID: TraceID
    public var spans: [Span]
    public init(traceID: TraceID, spans: [Span]) {
        self.traceID = traceID
        self.spans = spans
    }
}

/// The span store: WAL, head, columnar blocks with a trace-id index, compaction and retention,
/// with the same life cycle as the metric store. Data lives under `<data-dir>/traces/`; block
/// rows are in the shared catalog with kind `spans` (series = traces, samples = spans).
public final class SpanStore: @unchecked Sendable {
    public let options: StorageOptions
    let logger: Logger
    let catalog: Catalog
    let wal: WAL
    public let dir: String
    let blocksDir: String

    /// Guards the head, the frozen heads and the block list.
    let lock = Lock()
    var head: [Span] = []
    var headIndex: [TraceID: [Int32]] = [:]
    var headMaxNanos: Int64 = .min
    var frozen: [[Span]] = []
    var blocks: [SpanBlockHandle] = []
    /// Attribute names and values seen in the head (span, resource), capped per name.
    var headTags: [[String: Set<String>]] = [[:], [:]]
    let maintenance = Lock()
    var closed = false
    public private(set) var refusedBlocks: [RefusedBlock] = []
    public private(set) var replayedSpans = 0

    static let kind = "spans"
    static let checkpointKey = "spans.wal_checkpoint"

    /// WAL payload type of a span batch. Numbered explicitly: part of the disk format.
    static let walSpans: UInt8 = 1

    public init(options: StorageOptions, logger: Logger = Logger(label: "argus.spans")) throws {
        self.options = options
        self.logger = logger
        dir = options.dataDir + "/traces"
        blocksDir = dir + "/blocks"
        try FileManager.default.createDirectory(atPath: blocksDir, withIntermediateDirectories: true)
        catalog = try Catalog(path: options.dataDir + "/catalog.sqlite")
        wal = try WAL(dir: dir + "/wal", segmentSize: options.walSegmentSize, logger: logger)
        try openBlocks()
        try replayWAL()
        try wal.openForAppend()
    }

    func openBlocks() throws {
        let metas = try catalog.loadBlocks(kind: SpanStore.kind)
        let known = Set(metas.map(\.id))
        for name in (try? FileManager.default.contentsOfDirectory(atPath: blocksDir)) ?? [] where !known.contains(name) {
            logger.info("removing a span block directory the catalog does not list (left by an interrupted write)", metadata: ["dir": "\(blocksDir)/\(name)"])
            try? FileManager.default.removeItem(atPath: blocksDir + "/" + name)
        }
        for m in metas {
            let d = blocksDir + "/" + m.id
            do {
                blocks.append(SpanBlockHandle(meta: m, reader: try SpanBlockReader(dir: d)))
            } catch {
                logger.error("refusing a damaged span block; serving the others", metadata: ["block": "\(d)", "reason": "\(error)"])
                refusedBlocks.append(RefusedBlock(id: m.id, reason: "\(error)"))
            }
        }
    }

    func replayWAL() throws {
        let checkpoint = Int(try catalog.meta(SpanStore.checkpointKey) ?? "0") ?? 0
        wal.removeSegments(upTo: checkpoint)
        var spans: [Span] = []
        _ = try wal.replay(after: checkpoint) { payload in
            var r = ByteReader(payload)
            let type = try r.u8()
            guard type == SpanStore.walSpans else { throw ArgusError(.corrupt, "unknown span WAL record type \(type)") }
            try SpanRecordCoding.decode(&r, into: &spans)
        }
        replayedSpans = spans.count
        lock.withLock { addToHeadLocked(spans) }
        if !spans.isEmpty { logger.info("replayed the span WAL", metadata: ["spans": "\(spans.count)"]) }
    }

    func addToHeadLocked(_ spans: [Span]) {
        head.reserveForAppending(spans.count)
        for s in spans {
            headIndex[s.traceID, default: []].append(Int32(head.count))
            head.append(s)
            if s.endNanos > headMaxNanos { headMaxNanos = s.endNanos }
            for a in s.attributes { noteTag(0, a) }
        }
        if let s = spans.first {
            for a in s.origin.resource { noteTag(1, a) }
            var last = s.origin
            for s in spans where s.origin != last {
                last = s.origin
                for a in s.origin.resource { noteTag(1, a) }
            }
        }
    }

    @inline(__always) func noteTag(_ scope: Int, _ a: SpanAttribute) {
        if let set = headTags[scope][a.key], set.count >= SpanBlockFormat.maxTagValues { return }
        headTags[scope][a.key, default: []].insert(a.value.text)
    }

    // MARK: writing

    /// Stores the spans durably (WAL, fsync'd) and makes them visible; returns when durable.
    public func append(_ spans: [Span]) throws {
        if spans.isEmpty { return }
        var rec = WAL.recordBuffer(capacity: spans.count * 160)
        rec.u8(SpanStore.walSpans)
        SpanRecordCoding.encode(spans, into: &rec)
        let pos: UInt64 = try lock.withLock {
            if closed { throw ArgusError(.unavailable, "the span store is closed") }
            let p = try wal.append(&rec)
            addToHeadLocked(spans)
            return p
        }
        try wal.waitDurable(pos)
    }

    // MARK: reading

    /// Every stored span of the trace (head and blocks), sorted by start; duplicates (a span
    /// id seen twice) keep the newest copy.
    public func trace(_ id: TraceID) throws -> [Span] {
        let (h, fr, bs) = lock.withLock { () -> ([Span], [[Span]], [SpanBlockHandle]) in
            let h = headIndex[id].map { $0.map { head[Int($0)] } } ?? []
            let fr = frozen.map { $0.filter { $0.traceID == id } }
            return (h, fr, blocks)
        }
        var out: [Span] = []
        for b in bs {
            if let i = b.reader.find(id) { out += try b.reader.spans(trace: i) }
        }
        for f in fr { out += f }
        out += h
        return SpanStore.dedupe(out)
    }

    /// How many blocks hold spans of the trace (the trace-id index answers without reading them).
    public func blocksHolding(_ id: TraceID) -> Int {
        lock.withLock { blocks }.filter { $0.reader.find(id) != nil }.count
    }

    static func dedupe(_ spans: [Span]) -> [Span] {
        var seen: [UInt64: Int] = [:]
        var out: [Span] = []
        out.reserveCapacity(spans.count)
        for s in spans {
            if let i = seen[s.spanID] {
                out[i] = s
            } else {
                seen[s.spanID] = out.count
                out.append(s)
            }
        }
        out.sort { ($0.startNanos, $0.spanID) < ($1.startNanos, $1.spanID) }
        return out
    }

    /// Trace-level facts a block's trace table holds, for pruning before spans are decoded.
    public struct TraceSummary: Sendable {
        public var traceID: TraceID
        public var startNanos: Int64
        public var durationNanos: Int64
        public var rootService: String?
        public var rootName: String?

        public init(traceID: TraceID, startNanos: Int64, durationNanos: Int64, rootService: String?, rootName: String?) {
            self.traceID = traceID
            self.startNanos = startNanos
            self.durationNanos = durationNanos
            self.rootService = rootService
            self.rootName = rootName
        }
    }

    /// Calls `body` with trace fragments that have spans overlapping [startNanos, endNanos],
    /// newest data first: the head, heads being written, then blocks from the newest. `prune`
    /// may skip a block's trace from its summary alone; `granuleFilter` may then remove traces
    /// from the list of a granule's trace-table positions by reading the granule's columns,
    /// before any of its spans are built; `headFilter` may skip a trace of the head (or of a
    /// head being written) from its spans in place (`spans[rows]`), before they are copied out.
    /// `body` returns false to stop. Returns the bytes of blocks inspected.
    @discardableResult
    public func scan(startNanos: Int64, endNanos: Int64, prune: ((TraceSummary) -> Bool)? = nil,
                     granuleFilter: ((inout SpanGranule, inout [Int]) throws -> Void)? = nil,
                     headFilter: (([Span], [Int32]) -> Bool)? = nil,
                     _ body: (TraceFragment) throws -> Bool) throws -> Int {
        let (bs, fr, headCopy, idx) = lock.withLock { (blocks, frozen, head, headIndex) }
        var groups: [([Span], [TraceID: [Int32]]?)] = []
        if !headCopy.isEmpty { groups.append((headCopy, idx)) }
        for f in fr.reversed() { groups.append((f, nil)) }
        for (g, given) in groups {
            var byTrace = given ?? [:]
            if given == nil {
                for (i, s) in g.enumerated() { byTrace[s.traceID, default: []].append(Int32(i)) }
            }
            for (tid, rows) in byTrace {
                guard rows.contains(where: { g[Int($0)].startNanos <= endNanos && g[Int($0)].endNanos >= startNanos }) else { continue }
                if let headFilter, !headFilter(g, rows) { continue }
                var spans = rows.map { g[Int($0)] }
                spans.sort { $0.startNanos < $1.startNanos }
                if try !body(TraceFragment(traceID: tid, spans: spans)) { return 0 }
            }
        }
        var inspected = 0
        let startMs = startNanos / 1_000_000, endMs = endNanos / 1_000_000
        for b in bs.reversed() {
            guard b.meta.maxT >= startMs && b.meta.minT <= endMs else { continue }
            let r = b.reader
            inspected += r.totalBytes
            for g in 0..<r.granuleCount {
                let t0 = r.granuleFirstTrace[g], t1 = r.granuleFirstTrace[g + 1]
                var wanted: [Int] = []
                for t in t0..<t1 {
                    let st = r.traceStart[t]
                    if st > endNanos || st + r.traceDuration[t] < startNanos { continue }
                    if let prune, !prune(TraceSummary(traceID: r.traceID(t), startNanos: st, durationNanos: r.traceDuration[t],
                                                        rootService: r.rootServiceName(t), rootName: r.rootSpanName(t))) { continue }
                    wanted.append(t)
                }
                if wanted.isEmpty { continue }
                var granule = r.granule(g)
                if let granuleFilter {
                    try granuleFilter(&granule, &wanted)
                    if wanted.isEmpty { continue }
                }
                let spans = try r.decodeTraces(&granule, wanted)
                for (k, t) in wanted.enumerated() {
                    if try !body(TraceFragment(traceID: r.traceID(t), spans: spans[k])) { return inspected }
                }
            }
        }
        return inspected
    }

    /// Attribute names with up to `SpanBlockFormat.maxTagValues` values each, over the head and
    /// every block: [0] span attributes, [1] resource attributes.
    public func tags() -> [[String: Set<String>]] {
        let (ht, bs, fr) = lock.withLock { (headTags, blocks, frozen) }
        var out = ht
        for b in bs {
            for scope in 0..<2 {
                for (k, vs) in b.reader.tags[scope] {
                    var set = out[scope][k] ?? []
                    for v in vs where set.count < SpanBlockFormat.maxTagValues { set.insert(v) }
                    out[scope][k] = set
                }
            }
        }
        for f in fr {
            for s in f {
                for a in s.attributes where (out[0][a.key]?.count ?? 0) < SpanBlockFormat.maxTagValues { out[0][a.key, default: []].insert(a.value.text) }
                for a in s.origin.resource where (out[1][a.key]?.count ?? 0) < SpanBlockFormat.maxTagValues { out[1][a.key, default: []].insert(a.value.text) }
            }
        }
        return out
    }

    public struct Stats: Sendable {
        public var headSpans = 0
        public var headTraces = 0
        public var blocks = 0
        public var blockBytes = 0
        public var blockSpans = 0
        public var blockTraces = 0
        public var walBytes = 0
    }

    public func stats() -> Stats {
        var st = lock.withLock { () -> Stats in
            var st = Stats()
            st.headSpans = head.count + frozen.reduce(0) { $0 + $1.count }
            st.headTraces = headIndex.count
            st.blocks = blocks.count
            for b in blocks {
                st.blockBytes += b.meta.bytes
                st.blockSpans += b.meta.samples
                st.blockTraces += b.meta.series
            }
            return st
        }
        st.walBytes = wal.sizeBytes
        return st
    }

    public var blockMetas: [BlockMeta] { lock.withLock { blocks.map(\.meta) } }

    public func close() {
        maintenance.withLock {
            lock.withLock { closed = true }
            wal.close()
        }
    }
}
