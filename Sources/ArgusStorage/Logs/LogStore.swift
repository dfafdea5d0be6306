import ArgusColumnar
import ArgusModel
import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Settings of the log store. Durations are milliseconds; record times are nanoseconds.
public struct LogStoreOptions: Sendable {
    /// The store's directory (`<data-dir>/logs`): `wal/` and `blocks/` inside.
    public var dir: String
    public var blockDuration: Int64 = 2 * 3_600_000
    public var retention: Int64 = 15 * 86_400_000
    public var retentionSize: Int64 = 0
    public var walSegmentSize: Int = 128 << 20
    /// Most streams the store creates (0: no limit).
    public var maxStreams = 0
    public var flushZstdLevel: Int32 = 3
    public var compactZstdLevel: Int32 = 6

    public init(dir: String) { self.dir = dir }

    /// The log store's options derived from the metric store's (same life cycle settings).
    public init(storage: StorageOptions) {
        dir = storage.dataDir + "/logs"
        blockDuration = storage.blockDuration
        retention = storage.retention
        retentionSize = storage.retentionSize
    }

    public var compactionRanges: [Int64] {
        var s = StorageOptions(dataDir: dir)
        s.blockDuration = blockDuration
        s.retention = retention
        return s.compactionRanges
    }
}

/// The records of one stream to append.
public struct LogStreamBatch: Sendable {
    public var labels: Labels
    public var records: [LogRecord]
    public init(labels: Labels, records: [LogRecord]) {
        self.labels = labels
        self.records = records
    }
}

/// One stream's records in the head, in arrival order (sorted when read).
final class HeadLogStream: @unchecked Sendable {
    let id: Int
    let labels: Labels
    var records: [LogRecord] = []
    var sorted = true
    var bytes = 0
    init(id: Int, labels: Labels) {
        self.id = id
        self.labels = labels
    }

    func append(_ r: LogRecord) {
        if let last = records.last, r.time < last.time { sorted = false }
        bytes += r.body.utf8.count
        records.append(r)
    }

    /// The records sorted by time (stable, so equal times keep arrival order).
    func sortedRecords() -> [LogRecord] {
        if sorted { return records }
        let s = records.enumerated().sorted { ($0.element.time, $0.offset) < ($1.element.time, $1.offset) }.map(\.element)
        records = s
        sorted = true
        return s
    }
}

final class LogBlockHandle: @unchecked Sendable {
    let meta: BlockMeta
    let reader: LogBlockReader
    /// The block's streams as label sets (sorted), parallel to `reader.streams`.
    let labels: [Labels]
    init(meta: BlockMeta, reader: LogBlockReader) {
        self.meta = meta
        self.reader = reader
        labels = reader.streams.map { Labels($0.map { ($0.name, $0.value) }) }
    }
}

/// Head data being written into blocks: still visible to queries until the blocks are in.
final class FrozenLogs: @unchecked Sendable {
    let streams: [(labels: Labels, records: [LogRecord])]
    init(_ s: [(labels: Labels, records: [LogRecord])]) { streams = s }
}

/// The log store: records grouped into streams by their labels, written durably through a WAL
/// into an in-memory head, cut into columnar blocks (`LogBlockWriter`) every block period,
/// compacted and dropped by retention like metric blocks. Block metadata lives in the shared
/// catalog with kind `logs`; times there are nanoseconds.
public final class LogStore: @unchecked Sendable {
    public let options: LogStoreOptions
    let logger: Logger
    let catalog: Catalog
    let wal: WAL
    let blocksDir: String

    let lock = Lock()
    var streams: [HeadLogStream] = []
    var byLabels: [Labels: Int] = [:]
    /// Whether a stream's labels are in the current WAL segment (re-logged after a cut).
    var logged: [Bool] = []
    var blocks: [LogBlockHandle] = []
    var frozen: [FrozenLogs] = []
    var headRecords = 0
    var headBytes = 0
    var newest: Int64 = .min
    var closed = false
    let maintenance = Lock()
    /// Called after every commit (live tailing wakes up on it).
    let appended = LockedBox<UInt64>(0)

    static let kind = "logs"
    static let checkpointKey = "logs.wal_checkpoint"

    public private(set) var replayedRecords = 0

    /// Opens the store, sharing `catalog` (the metric store's) or opening its own.
    public init(options: LogStoreOptions, catalog: Catalog? = nil, logger: Logger = Logger(label: "argus.logs")) throws {
        self.options = options
        self.logger = logger
        try FileManager.default.createDirectory(atPath: options.dir, withIntermediateDirectories: true)
        blocksDir = options.dir + "/blocks"
        try FileManager.default.createDirectory(atPath: blocksDir, withIntermediateDirectories: true)
        self.catalog = try catalog ?? Catalog(path: options.dir + "/catalog.sqlite")
        wal = try WAL(dir: options.dir + "/wal", segmentSize: options.walSegmentSize, logger: logger)
        try openBlocks()
        try replayWAL()
        try wal.openForAppend()
    }

    /// Opens the log store under the metric store's data directory, sharing its catalog.
    public convenience init(options: LogStoreOptions, sharingCatalogOf store: MetricStore, logger: Logger = Logger(label: "argus.logs")) throws {
        try self.init(options: options, catalog: store.catalog, logger: logger)
    }

    func openBlocks() throws {
        let metas = try catalog.loadBlocks(kind: LogStore.kind)
        let known = Set(metas.map(\.id))
        for name in (try? FileManager.default.contentsOfDirectory(atPath: blocksDir)) ?? [] where !known.contains(name) {
            logger.info("removing a log block directory the catalog does not list (left by an interrupted write)", metadata: ["dir": "\(blocksDir)/\(name)"])
            try? FileManager.default.removeItem(atPath: blocksDir + "/" + name)
        }
        for m in metas {
            do {
                blocks.append(LogBlockHandle(meta: m, reader: try LogBlockReader(dir: blocksDir + "/" + m.id)))
            } catch {
                logger.error("refusing a damaged log block; serving the others", metadata: ["block": "\(m.id)", "reason": "\(error)"])
            }
        }
        for b in blocks { newest = max(newest, b.meta.maxT) }
    }

    func replayWAL() throws {
        let checkpoint = Int(try catalog.meta(LogStore.checkpointKey) ?? "0") ?? 0
        wal.removeSegments(upTo: checkpoint)
        var ids: [Int: Int] = [:]  // id in the WAL → stream index
        var n = 0
        _ = try wal.replay(after: checkpoint) { payload in
            var r = ByteReader(payload)
            let type = try r.u8()
            switch type {
            case LogWALRecord.streams.rawValue:
                let c = Int(try r.uvarint())
                for _ in 0..<c {
                    let id = Int(try r.uvarint())
                    let labels = try LabelsCoding.decode(&r)
                    ids[id] = streamLocked(labels)
                }
            case LogWALRecord.records.rawValue:
                let c = Int(try r.uvarint())
                for _ in 0..<c {
                    let id = Int(try r.uvarint())
                    guard let s = ids[id] else { throw ArgusError(.corrupt, "log record for unknown stream \(id)") }
                    let rec = try LogWALRecord.decodeRecord(&r)
                    applyLocked(s, rec)
                    n += 1
                }
            default:
                throw ArgusError(.corrupt, "unknown log WAL record type \(type)")
            }
        }
        // Stream ids are renumbered densely at start: every stream is logged again when used.
        for i in logged.indices { logged[i] = false }
        replayedRecords = n
        if n > 0 { logger.info("replayed the log WAL", metadata: ["records": "\(n)"]) }
    }

    @discardableResult
    func streamLocked(_ labels: Labels) -> Int {
        if let i = byLabels[labels] { return i }
        let i = streams.count
        streams.append(HeadLogStream(id: i, labels: labels))
        logged.append(false)
        byLabels[labels] = i
        return i
    }

    @inline(__always) func applyLocked(_ s: Int, _ r: LogRecord) {
        streams[s].append(r)
        headRecords += 1
        headBytes += r.body.utf8.count
        if r.time > newest { newest = r.time }
    }

    // MARK: writing

    /// Stores the batches; returns the number of records once they are durable.
    @discardableResult
    public func append(_ batches: [LogStreamBatch]) throws -> Int {
        var total = 0
        for b in batches { total += b.records.count }
        if total == 0 { return 0 }
        var rec = WAL.recordBuffer(capacity: 64 + total * 96)
        let position: UInt64 = try lock.withLock {
            if closed { throw ArgusError(.unavailable, "the log store is closed") }
            var ids: [Int] = []
            ids.reserveCapacity(batches.count)
            var newStreams: [Int] = []
            for b in batches {
                if let i = byLabels[b.labels] {
                    ids.append(i)
                } else {
                    if options.maxStreams > 0 && streams.count >= options.maxStreams {
                        throw ArgusError(.limit, "stream limit reached: the log store holds \(options.maxStreams) streams; refusing new stream \(b.labels)")
                    }
                    ids.append(streamLocked(b.labels))
                }
                let i = ids[ids.count - 1]
                if !logged[i] {
                    logged[i] = true
                    newStreams.append(i)
                }
            }
            if !newStreams.isEmpty {
                var sr = WAL.recordBuffer()
                sr.u8(LogWALRecord.streams.rawValue)
                sr.uvarint(UInt64(newStreams.count))
                for i in newStreams {
                    sr.uvarint(UInt64(i))
                    LabelsCoding.encode(streams[i].labels, into: &sr)
                }
                _ = try wal.append(&sr)
            }
            rec.u8(LogWALRecord.records.rawValue)
            rec.uvarint(UInt64(total))
            for (k, b) in batches.enumerated() {
                for r in b.records {
                    rec.uvarint(UInt64(ids[k]))
                    LogWALRecord.encodeRecord(r, into: &rec)
                }
            }
            let pos = try wal.append(&rec)
            for (k, b) in batches.enumerated() {
                for r in b.records { applyLocked(ids[k], r) }
            }
            return pos
        }
        try wal.waitDurable(position)
        appended.withLock { $0 &+= 1 }
        return total
    }

    public struct Stats: Sendable {
        public var streams = 0
        public var headRecords = 0
        public var headBytes = 0
        public var blocks = 0
        public var blockRecords = 0
        public var blockBytes = 0
        public var walBytes = 0
    }

    public func stats() -> Stats {
        var st = lock.withLock { () -> Stats in
            var st = Stats()
            st.streams = streams.count
            st.headRecords = headRecords
            st.headBytes = headBytes
            st.blocks = blocks.count
            for b in blocks {
                st.blockRecords += b.meta.samples
                st.blockBytes += b.meta.bytes
            }
            return st
        }
        st.walBytes = wal.sizeBytes
        return st
    }

    public var blockMetas: [BlockMeta] { lock.withLock { blocks.map(\.meta) } }

    /// A counter that moves after every commit (for live tailing).
    public var commitCount: UInt64 { appended.withLock { $0 } }

    public func close() {
        maintenance.withLock {
            lock.withLock { closed = true }
            wal.close()
        }
    }
}

/// Log WAL payload types (first byte of a record). Numbered explicitly: part of the disk format.
enum LogWALRecord: UInt8 {
    /// count, then per stream: id (uvarint), labels.
    case streams = 1
    /// count, then per record: stream id (uvarint) and the record (see `encodeRecord`).
    case records = 2

    /// time (varint), observed time (varint), severity number (u8), severity text, body,
    /// attribute count and name/value pairs, trace id and span id (length-prefixed).
    static func encodeRecord(_ r: LogRecord, into w: inout ByteWriter) {
        w.varint(r.time)
        w.varint(r.observedTime)
        w.u8(r.severityNumber)
        w.string(r.severityText)
        w.string(r.body)
        w.uvarint(UInt64(r.attributes.count))
        for a in r.attributes {
            w.string(a.name)
            w.string(a.value)
        }
        w.uvarint(UInt64(r.traceID.count))
        w.append(r.traceID)
        w.uvarint(UInt64(r.spanID.count))
        w.append(r.spanID)
    }

    static func decodeRecord(_ r: inout ByteReader) throws -> LogRecord {
        let t = try r.varint()
        let o = try r.varint()
        let sn = try r.u8()
        let st = try r.string()
        let body = try r.string()
        let na = Int(try r.uvarint())
        guard na <= r.remaining else { throw ArgusError(.corrupt, "attribute count \(na)") }
        var attrs: [(name: String, value: String)] = []
        attrs.reserveCapacity(na)
        for _ in 0..<na { attrs.append((try r.string(), try r.string())) }
        let tl = Int(try r.uvarint())
        let trace = Array(try r.bytes(tl))
        let sl = Int(try r.uvarint())
        let span = Array(try r.bytes(sl))
        return LogRecord(time: t, observedTime: o, severityNumber: sn, severityText: st, body: body, attributes: attrs, traceID: trace, spanID: span)
    }
}
