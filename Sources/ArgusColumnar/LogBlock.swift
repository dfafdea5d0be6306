import ArgusModel
import Foundation

/// The log block format: two files in a block directory. See docs/format.md.
///
/// - `chunks` (magic `ARGL`): the column frames of every chunk, back to back. A chunk holds up
///   to `chunkRecords` records of one stream sorted by time; each column is one zstd frame.
///   Version 2: time, observed time, severity, body templates, body values, trace/span ids,
///   attributes, then one column per frequent attribute. Version 3: as version 2, and after the
///   chunks one more frame, the hex ids that several chunks repeat (`LogSharedIDs`), which the
///   chunks' body values refer to by position. Version 1 (still read): time, observed time,
///   severity, body, ids, attributes.
/// - `index` (magic `ARGX`): u32 raw length, then one zstd frame with the stream table (labels)
///   and the chunk table: stream, record count, time range, body bytes, each column's offset,
///   compressed and raw size and CRC-32C (version 1: and the chunk's token filter); version 3
///   ends with the shared ids frame's offset, size, raw size and CRC-32C.
public enum LogBlockFormat {
    public static let version: UInt16 = 3
    public static let chunksMagic = "ARGL"
    public static let indexMagic = "ARGX"
    public static let chunkRecords = 16384
    public static let chunkBodyBytes = 4 << 20
    /// Version 1 chunk limits.
    public static let v1ChunkRecords = 8192
    public static let v1ChunkBodyBytes = 2 << 20
    public static let v1ColumnCount = 6
    /// Version 2: columns before the frequent-attribute columns.
    public static let fixedColumnCount = 7

    /// Version 1 column numbers inside a chunk (part of the format).
    public enum Column: Int {
        case time = 0, observed = 1, severity = 2, body = 3, ids = 4, attributes = 5
    }

    /// Version 2 column numbers inside a chunk (part of the format); frequent attribute
    /// columns follow from `fixedColumnCount` on.
    public enum Column2: Int {
        case time = 0, observed = 1, severity = 2, templates = 3, values = 4, ids = 5, attributes = 6
    }
}

public struct LogBlockStats: Sendable {
    public var streams = 0
    public var chunks = 0
    public var records = 0
    public var bodyBytes = 0
    public var minT = Int64.max
    public var maxT = Int64.min
    public var bytes = 0
}

/// One chunk's entry in the index.
public struct LogChunkMeta: Sendable {
    public var stream: Int
    public var count: Int
    public var minT: Int64
    public var maxT: Int64
    public var bodyBytes: Int
    public var offsets: [Int]
    public var sizes: [Int]
    public var rawSizes: [Int]
    public var crcs: [UInt32]
    /// The token filter (version 1 blocks); nil in version 2, where the body templates serve.
    public var filter: TokenFilter?
}

/// Writes a log block. Streams are added whole, each with its records sorted by time.
public struct LogBlockWriter {
    let dir: String
    let level: Int32
    /// The format version written: 3, or 2 or 1 (kept so tests can check old blocks still read).
    public let version: UInt16
    var data = ByteWriter()
    var streams: [[(name: String, value: String)]] = []
    var chunks: [LogChunkMeta] = []
    /// Version 3: chunks are encoded at `finish`, once the ids they share are known.
    var pending: [(stream: Int, records: ArraySlice<LogRecord>)] = []
    public private(set) var stats = LogBlockStats()

    public init(dir: String, zstdLevel: Int32 = 3, version: UInt16 = LogBlockFormat.version) {
        self.dir = dir
        level = zstdLevel
        self.version = version
        ColumnFile.header(magic: LogBlockFormat.chunksMagic, version: version, into: &data)
    }

    public mutating func add(stream labels: [(name: String, value: String)], records: [LogRecord]) throws {
        guard !records.isEmpty else { return }
        let s = streams.count
        streams.append(labels)
        stats.streams += 1
        let maxRecords = version == 1 ? LogBlockFormat.v1ChunkRecords : LogBlockFormat.chunkRecords
        let maxBytes = version == 1 ? LogBlockFormat.v1ChunkBodyBytes : LogBlockFormat.chunkBodyBytes
        var start = 0
        while start < records.count {
            var end = start
            var bytes = 0
            while end < records.count && end - start < maxRecords && bytes < maxBytes {
                bytes += records[end].body.utf8.count
                end += 1
            }
            switch version {
            case 1: try addChunkV1(stream: s, records[start..<end])
            case 2: try addChunk(stream: s, records[start..<end], shared: nil)
            default: pending.append((s, records[start..<end]))
            }
            start = end
        }
    }

    /// The hex ids found in more than one pending chunk, ordered by the time each first appears.
    func sharedIDs() -> LogSharedIDs {
        var seen: [UInt64: (chunks: UInt32, last: Int32, first: Int64)] = [:]
        var repeated: [(first: Int64, hash: UInt64, id: [UInt8])] = []
        var scratch: [UInt8] = []
        for (c, p) in pending.enumerated() {
            let chunk = Int32(c)
            for ri in p.records.indices {
                // Field by field: copying whole records retains every one of their strings and arrays.
                let time = p.records[ri].time
                var body = p.records[ri].body
                body.withUTF8 { line in
                    LogSharedIDs.forEachID(in: UnsafeRawBufferPointer(line), scratch: &scratch) { id in
                        let h = LogSharedIDs.hash(id)
                        if let i = seen.index(forKey: h) {
                            guard seen.values[i].last != chunk else { return }
                            seen.values[i].last = chunk
                            seen.values[i].chunks += 1
                            if seen.values[i].chunks == 2 { repeated.append((seen.values[i].first, h, Array(id))) }
                        } else {
                            seen[h] = (1, chunk, time)
                        }
                    }
                }
            }
        }
        repeated.sort { ($0.first, $0.hash) < ($1.first, $1.hash) }
        var shared = LogSharedIDs()
        for r in repeated { shared.append(r.id) }
        return shared
    }

    mutating func addChunk(stream: Int, _ recs: ArraySlice<LogRecord>, shared: LogSharedIDs?) throws {
        var cols = [ByteWriter](repeating: ByteWriter(), count: LogBlockFormat.fixedColumnCount)
        // Time: deltas divided by the largest power of ten dividing every time.
        var e = 9
        while e > 0 && !recs.allSatisfy({ $0.time % LogBodyCodec.pow10[e] == 0 }) { e -= 1 }
        let scale = LogBodyCodec.pow10[e]
        cols[0].u8(UInt8(e))
        var prev: Int64 = 0
        // Severity: (number, text) pairs as a dictionary, one index per record.
        var sevIndex: [String: Int] = [:]
        var sevRows = ByteWriter()
        var body = LogBodyEncoder()
        var bodyBytes = 0
        var lastSev: (UInt8, String, Int) = (0, "", -1)
        for ri in recs.indices {
            // Field by field: copying whole records retains every one of their strings and arrays.
            let time = recs[ri].time, observed = recs[ri].observedTime
            cols[0].varint((time / scale) &- (prev / scale))
            prev = time
            cols[1].uvarint(observed == 0 ? 0 : zigzag(observed &- time) &+ 1)
            let sevNumber = recs[ri].severityNumber
            let sevText = recs[ri].severityText
            if lastSev.2 >= 0 && lastSev.0 == sevNumber && lastSev.1 == sevText {
                sevRows.uvarint(UInt64(lastSev.2))
            } else {
                let key = String(sevNumber) + " " + sevText
                let k: Int
                if let x = sevIndex[key] {
                    k = x
                } else {
                    k = sevIndex.count
                    sevIndex[key] = k
                    cols[2].u8(sevNumber)
                    cols[2].string(sevText)
                }
                sevRows.uvarint(UInt64(k))
                lastSev = (sevNumber, sevText, k)
            }
            var b = recs[ri].body
            b.withUTF8 { p in
                body.append(UnsafeRawBufferPointer(p), time: time)
                bodyBytes += p.count
            }
        }
        var sev = ByteWriter()
        sev.uvarint(UInt64(sevIndex.count))
        sev.append(cols[2].bytes)
        sev.append(sevRows.bytes)
        cols[2] = sev
        var tw = ByteWriter(), vw = ByteWriter()
        body.finish(templates: &tw, values: &vw, version: version, shared: shared)
        cols[3] = tw
        cols[4] = vw
        LogIDColumn.encode(recs, into: &cols[5])
        var attrs = ByteWriter()
        let extra = LogAttributeColumns.encode(recs, into: &attrs)
        cols[6] = attrs
        cols.append(contentsOf: extra)
        try appendChunk(stream: stream, recs, cols: cols, bodyBytes: bodyBytes, filter: nil)
    }

    /// Appends one zstd frame to the chunks file: (offset, size, raw size, CRC-32C).
    mutating func appendFrame(_ c: ByteWriter) throws -> (Int, Int, Int, UInt32) {
        let off = data.count
        try c.bytes.withUnsafeBytes { try Zstd.compress($0, level: level, into: &data.bytes) }
        let frame = data.bytes.withUnsafeBytes { UnsafeRawBufferPointer(rebasing: $0[off...]) }
        return (off, data.count - off, c.count, CRC32C.checksum(frame))
    }

    mutating func appendChunk(stream: Int, _ recs: ArraySlice<LogRecord>, cols: [ByteWriter], bodyBytes: Int, filter: TokenFilter?) throws {
        var meta = LogChunkMeta(stream: stream, count: recs.count, minT: recs.map(\.time).min()!, maxT: recs.map(\.time).max()!,
                                bodyBytes: bodyBytes, offsets: [], sizes: [], rawSizes: [], crcs: [], filter: filter)
        for c in cols {
            let (off, size, raw, crc) = try appendFrame(c)
            meta.offsets.append(off)
            meta.sizes.append(size)
            meta.rawSizes.append(raw)
            meta.crcs.append(crc)
        }
        chunks.append(meta)
        stats.chunks += 1
        stats.records += recs.count
        stats.bodyBytes += bodyBytes
        stats.minT = min(stats.minT, meta.minT)
        stats.maxT = max(stats.maxT, meta.maxT)
    }

    mutating func addChunkV1(stream: Int, _ recs: ArraySlice<LogRecord>) throws {
        var cols = [ByteWriter](repeating: ByteWriter(), count: LogBlockFormat.v1ColumnCount)
        var prev: Int64 = 0
        var sevText = DictionaryColumnWriter()
        var keys = DictionaryColumnWriter()
        var attrRows = ByteWriter()
        var bodyBytes = 0
        var hashes = Set<UInt64>()
        for r in recs {
            cols[0].varint(r.time &- prev)
            prev = r.time
            cols[1].varint(r.observedTime == 0 ? Int64.min : r.observedTime &- r.time)
            cols[2].u8(r.severityNumber)
            sevText.append(r.severityText)
            var flags: UInt8 = 0
            if !r.traceID.isEmpty { flags |= 1 }
            if !r.spanID.isEmpty { flags |= 2 }
            cols[4].u8(flags)
            if !r.traceID.isEmpty { cols[4].uvarint(UInt64(r.traceID.count)); cols[4].append(r.traceID) }
            if !r.spanID.isEmpty { cols[4].uvarint(UInt64(r.spanID.count)); cols[4].append(r.spanID) }
            attrRows.uvarint(UInt64(r.attributes.count))
            for a in r.attributes {
                keys.append(a.name)
                attrRows.string(a.value)
            }
        }
        for r in recs { cols[3].uvarint(UInt64(r.body.utf8.count)) }
        for r in recs {
            var b = r.body
            b.withUTF8 { p in
                cols[3].bytes.append(contentsOf: p)
                bodyBytes += p.count
                TokenFilter.forEachToken(UnsafeRawBufferPointer(p)) { hashes.insert($0) }
            }
        }
        sevText.finish(into: &cols[2])
        keys.finishDictionary(into: &cols[5])
        cols[5].u32(UInt32(keys.rows))
        cols[5].append(keys.indexes.bytes)
        cols[5].append(attrRows.bytes)
        var filter = TokenFilter(capacity: hashes.count)
        for h in hashes { filter.insert(h) }
        try appendChunk(stream: stream, recs, cols: cols, bodyBytes: bodyBytes, filter: filter)
    }

    /// Writes both files durably and returns the block's statistics.
    public mutating func finish() throws -> LogBlockStats {
        var sharedFrame = (0, 0, 0, UInt32(0))
        if version >= 3 {
            let shared = sharedIDs()
            let work = pending
            pending = []
            for p in work { try addChunk(stream: p.stream, p.records, shared: shared) }
            if shared.count > 0 {
                var w = ByteWriter()
                shared.serialize(into: &w)
                sharedFrame = try appendFrame(w)
            }
        }
        ColumnFile.seal(&data)
        var idx = ByteWriter()
        idx.uvarint(UInt64(streams.count))
        for s in streams {
            idx.uvarint(UInt64(s.count))
            for l in s {
                idx.string(l.name)
                idx.string(l.value)
            }
        }
        idx.uvarint(UInt64(chunks.count))
        for c in chunks {
            idx.uvarint(UInt64(c.stream))
            idx.uvarint(UInt64(c.count))
            idx.varint(c.minT)
            idx.uvarint(UInt64(c.maxT &- c.minT))
            idx.uvarint(UInt64(c.bodyBytes))
            if version >= 2 { idx.uvarint(UInt64(c.offsets.count)) }
            for i in c.offsets.indices {
                idx.uvarint(UInt64(c.offsets[i]))
                idx.uvarint(UInt64(c.sizes[i]))
                idx.uvarint(UInt64(c.rawSizes[i]))
                idx.u32(c.crcs[i])
            }
            if version == 1, let f = c.filter {
                idx.u8(UInt8(f.k))
                idx.uvarint(UInt64(f.bits.count))
                for w in f.bits { idx.u64(w) }
            }
        }
        if version >= 3 {
            idx.uvarint(UInt64(sharedFrame.0))
            idx.uvarint(UInt64(sharedFrame.1))
            idx.uvarint(UInt64(sharedFrame.2))
            idx.u32(sharedFrame.3)
        }
        var file = ByteWriter()
        ColumnFile.header(magic: LogBlockFormat.indexMagic, version: version, into: &file)
        file.u32(UInt32(idx.count))
        try idx.bytes.withUnsafeBytes { try Zstd.compress($0, level: level, into: &file.bytes) }
        ColumnFile.seal(&file)
        try writeFileDurably(data.bytes, to: dir + "/chunks")
        try writeFileDurably(file.bytes, to: dir + "/index")
        fsyncDirectory(dir)
        stats.bytes = data.count + file.count
        return stats
    }
}

/// Reads a log block: the index is decoded at open, chunk columns on demand (each frame's
/// checksum is verified when it is read).
public final class LogBlockReader: @unchecked Sendable {
    public let dir: String
    public let version: UInt16
    let file: MappedFile
    public let streams: [[(name: String, value: String)]]
    public let chunks: [LogChunkMeta]
    /// Version 3: the shared ids frame (offset, size, raw size, CRC-32C; size 0 when none).
    let sharedFrame: (Int, Int, Int, UInt32)
    private let sharedLock = NSLock()
    private var sharedCache: LogSharedIDs?

    public init(dir: String) throws {
        self.dir = dir
        let indexFile = try MappedFile(path: dir + "/index")
        let (body, version) = try ColumnFile.open(indexFile.bytes, magic: LogBlockFormat.indexMagic, maxVersion: LogBlockFormat.version)
        self.version = version
        var hr = ByteReader(body)
        let raw = Int(try hr.u32())
        let idx = try Zstd.decompress(UnsafeRawBufferPointer(rebasing: body[hr.offset...]), size: raw)
        file = try MappedFile(path: dir + "/chunks")
        guard file.bytes.count >= ColumnFile.headerSize + ColumnFile.trailerSize,
              Array(UnsafeRawBufferPointer(rebasing: file.bytes[0..<4])) == Array(LogBlockFormat.chunksMagic.utf8) else {
            throw ColumnarError.corrupt("chunks file: bad magic or truncated")
        }
        let dataSize = file.bytes.count
        (streams, chunks, sharedFrame) = try idx.withUnsafeBytes { p -> ([[(name: String, value: String)]], [LogChunkMeta], (Int, Int, Int, UInt32)) in
            var r = ByteReader(p)
            let ns = try r.uvarintInt()
            guard ns <= r.remaining else { throw ColumnarError.corrupt("stream count") }
            var streams: [[(name: String, value: String)]] = []
            for _ in 0..<ns {
                let nl = try r.uvarintInt()
                guard nl <= r.remaining else { throw ColumnarError.corrupt("label count") }
                var ls: [(name: String, value: String)] = []
                for _ in 0..<nl { ls.append((try r.string(), try r.string())) }
                streams.append(ls)
            }
            let nc = try r.uvarintInt()
            guard nc <= r.remaining else { throw ColumnarError.corrupt("chunk count") }
            var chunks: [LogChunkMeta] = []
            chunks.reserveCapacity(nc)
            for _ in 0..<nc {
                let stream = try r.uvarintInt()
                guard stream < streams.count else { throw ColumnarError.corrupt("chunk stream \(stream) of \(streams.count)") }
                let count = try r.uvarintInt()
                let minT = try r.varint()
                let maxT = minT &+ Int64(bitPattern: try r.uvarint())
                let bodyBytes = try r.uvarintInt()
                var m = LogChunkMeta(stream: stream, count: count, minT: minT, maxT: maxT, bodyBytes: bodyBytes,
                                     offsets: [], sizes: [], rawSizes: [], crcs: [], filter: nil)
                let ncols: Int
                if version >= 2 {
                    ncols = try r.uvarintInt()
                    guard ncols >= LogBlockFormat.fixedColumnCount, ncols <= r.remaining else { throw ColumnarError.corrupt("column count \(ncols)") }
                } else {
                    ncols = LogBlockFormat.v1ColumnCount
                }
                for _ in 0..<ncols {
                    let off = try r.uvarintInt(), size = try r.uvarintInt()
                    guard off >= ColumnFile.headerSize, size >= 0, off + size <= dataSize else { throw ColumnarError.corrupt("column frame out of the file") }
                    m.offsets.append(off)
                    m.sizes.append(size)
                    m.rawSizes.append(try r.uvarintInt())
                    m.crcs.append(try r.u32())
                }
                if version == 1 {
                    let k = Int(try r.u8())
                    let words = try r.uvarintInt()
                    guard words <= r.remaining / 8, words > 0, words & (words - 1) == 0 else { throw ColumnarError.corrupt("token filter size") }
                    var bits = [UInt64](repeating: 0, count: words)
                    for i in 0..<words { bits[i] = try r.u64() }
                    m.filter = TokenFilter(bits: bits, k: k)
                }
                chunks.append(m)
            }
            var shared = (0, 0, 0, UInt32(0))
            if version >= 3 {
                shared = (try r.uvarintInt(), try r.uvarintInt(), try r.uvarintInt(), try r.u32())
                guard shared.1 == 0 || (shared.0 >= ColumnFile.headerSize && shared.0 + shared.1 <= dataSize) else {
                    throw ColumnarError.corrupt("shared ids frame out of the file")
                }
            }
            return (streams, chunks, shared)
        }
    }

    /// Version 3: the block's shared hex ids (read once, then kept).
    public func sharedIDs() throws -> LogSharedIDs? {
        let (offset, size, rawSize, crc) = sharedFrame
        guard version >= 3, size > 0 else { return nil }
        sharedLock.lock()
        defer { sharedLock.unlock() }
        if let s = sharedCache { return s }
        let frame = UnsafeRawBufferPointer(rebasing: file.bytes[offset..<(offset + size)])
        guard CRC32C.checksum(frame) == crc else { throw ColumnarError.corrupt("\(dir)/chunks: checksum mismatch in the shared ids") }
        let raw = try Zstd.decompress(frame, size: rawSize)
        let s = try raw.withUnsafeBytes { try LogSharedIDs(deserializing: $0) }
        sharedCache = s
        return s
    }

    /// The raw (decompressed) bytes of column `c` of a chunk.
    public func column(_ chunk: Int, _ c: Int) throws -> [UInt8] {
        let m = chunks[chunk]
        guard c < m.offsets.count else { throw ColumnarError.corrupt("chunk \(chunk) has no column \(c)") }
        let frame = UnsafeRawBufferPointer(rebasing: file.bytes[m.offsets[c]..<(m.offsets[c] + m.sizes[c])])
        guard CRC32C.checksum(frame) == m.crcs[c] else {
            throw ColumnarError.corrupt("\(dir)/chunks: checksum mismatch in chunk \(chunk) column \(c)")
        }
        return try Zstd.decompress(frame, size: m.rawSizes[c])
    }

    public func column(_ chunk: Int, _ col: LogBlockFormat.Column) throws -> [UInt8] { try column(chunk, col.rawValue) }
    public func column(_ chunk: Int, _ col: LogBlockFormat.Column2) throws -> [UInt8] { try column(chunk, col.rawValue) }

    public func times(_ chunk: Int) throws -> [Int64] {
        let raw = try column(chunk, 0)
        let n = chunks[chunk].count
        return try raw.withUnsafeBytes { p in
            var r = ByteReader(p)
            var scale: Int64 = 1
            if version >= 2 {
                let e = Int(try r.u8())
                guard e <= 9 else { throw ColumnarError.corrupt("time scale \(e)") }
                scale = LogBodyCodec.pow10[e]
            }
            var out = [Int64](repeating: 0, count: n)
            var t: Int64 = 0
            for i in 0..<n {
                t = t &+ (try r.varint())
                out[i] = t &* scale
            }
            return out
        }
    }

    /// The body templates of a version 2 chunk (nil for version 1).
    public func templates(_ chunk: Int) throws -> LogBodyTemplates? {
        guard version >= 2 else { return nil }
        let raw = try column(chunk, LogBlockFormat.Column2.templates)
        return try raw.withUnsafeBytes { try LogBodyTemplates($0, count: chunks[chunk].count) }
    }

    /// The lines of `rows` (sorted ascending; nil: all) as one buffer and `rows + 1` offsets.
    /// `times` and `templates` may be passed when already decoded.
    public func bodies(_ chunk: Int, rows: [Int]? = nil, times: [Int64]? = nil, templates: LogBodyTemplates? = nil) throws -> (bytes: [UInt8], offsets: [Int]) {
        let m = chunks[chunk]
        if version == 1 {
            let raw = try column(chunk, LogBlockFormat.Column.body)
            let (bytes, offsets) = try raw.withUnsafeBytes { p in
                var r = ByteReader(p)
                return try BytesColumn.decode(&r, rows: m.count)
            }
            guard let rows else { return (bytes, offsets) }
            var out: [UInt8] = [], offs = [0]
            for i in rows {
                out.append(contentsOf: bytes[offsets[i]..<offsets[i + 1]])
                offs.append(out.count)
            }
            return (out, offs)
        }
        let tm = try templates ?? self.templates(chunk)!
        let ts = try times ?? self.times(chunk)
        let values = try column(chunk, LogBlockFormat.Column2.values)
        let dec = try LogBodyDecoder(templates: tm, values: values, version: version, shared: try sharedIDs())
        let out = try dec.decode(rows: rows, times: ts, capacity: m.bodyBytes)
        if rows == nil && out.offsets[m.count] != m.bodyBytes {
            throw ColumnarError.corrupt("\(dir): chunk \(chunk) lines hold \(out.offsets[m.count]) bytes, expected \(m.bodyBytes)")
        }
        return out
    }

    /// As `bodies`, for a version 2 chunk, into a reusable `scratch` buffer; returns the
    /// offsets (the lines end at the last one).
    public func bodies(_ chunk: Int, rows: [Int]?, times: [Int64], templates: LogBodyTemplates?, into scratch: inout [UInt8]) throws -> [Int] {
        let m = chunks[chunk]
        guard version >= 2 else {
            let (b, o) = try bodies(chunk, rows: rows)
            scratch = b
            return o
        }
        let tm = try templates ?? self.templates(chunk)!
        let values = try column(chunk, LogBlockFormat.Column2.values)
        let dec = try LogBodyDecoder(templates: tm, values: values, version: version, shared: try sharedIDs())
        let offsets = try dec.decode(rows: rows, times: times, capacity: m.bodyBytes, into: &scratch)
        if rows == nil && offsets[m.count] != m.bodyBytes {
            throw ColumnarError.corrupt("\(dir): chunk \(chunk) lines hold \(offsets[m.count]) bytes, expected \(m.bodyBytes)")
        }
        return offsets
    }

    /// Records of a chunk, fully decoded: all of them, or those of `rows` (sorted ascending).
    /// `body` may carry the lines of exactly those rows when already decoded.
    public func records(_ chunk: Int, rows: [Int]? = nil, body: (bytes: [UInt8], offsets: [Int])? = nil, times: [Int64]? = nil) throws -> [LogRecord] {
        if version == 1 {
            let all = try recordsV1(chunk)
            guard let rows else { return all }
            return rows.map { all[$0] }
        }
        let n = chunks[chunk].count
        let ts = try times ?? self.times(chunk)
        let (bb, bo) = try body ?? bodies(chunk, rows: rows, times: ts)
        let obs = try column(chunk, LogBlockFormat.Column2.observed), sev = try column(chunk, LogBlockFormat.Column2.severity)
        let ids = try column(chunk, LogBlockFormat.Column2.ids), attrs = try column(chunk, LogBlockFormat.Column2.attributes)
        var extra: [[UInt8]] = []
        for c in LogBlockFormat.fixedColumnCount..<chunks[chunk].offsets.count { extra.append(try column(chunk, c)) }
        let want = rows ?? Array(0..<n)
        guard bo.count == want.count + 1 else { throw ColumnarError.corrupt("body rows do not match") }
        var out: [LogRecord] = []
        out.reserveCapacity(want.count)
        try obs.withUnsafeBytes { op in
        try sev.withUnsafeBytes { sp in
            var or = ByteReader(op), sr = ByteReader(sp)
            let ns = try sr.uvarintInt()
            guard ns <= sr.remaining else { throw ColumnarError.corrupt("severity count \(ns)") }
            var pairs: [(UInt8, String)] = []
            for _ in 0..<ns { pairs.append((try sr.u8(), try sr.string())) }
            var sevNums = [UInt8](repeating: 0, count: n), sevTexts = [String](repeating: "", count: n)
            for i in 0..<n {
                let k = try sr.uvarintInt()
                guard k < ns else { throw ColumnarError.corrupt("severity \(k) of \(ns)") }
                (sevNums[i], sevTexts[i]) = pairs[k]
            }
            // 0: no observed time, else zigzag(observed − t) + 1.
            var obsDeltas = [Int64](repeating: Int64.min, count: n)
            for i in 0..<n {
                let u = try or.uvarint()
                if u != 0 { obsDeltas[i] = unzigzag(u &- 1) }
            }
            for (k, i) in want.enumerated() {
                guard i < n else { throw ColumnarError.corrupt("row \(i) of \(n)") }
                let body = bb.withUnsafeBufferPointer { String(decoding: UnsafeBufferPointer(rebasing: $0[bo[k]..<bo[k + 1]]), as: UTF8.self) }
                let od = obsDeltas[i]
                out.append(LogRecord(time: ts[i], observedTime: od == Int64.min ? 0 : ts[i] &+ od,
                                     severityNumber: sevNums[i], severityText: sevTexts[i], body: body))
            }
        }}
        try LogIDColumn.decode(ids, rows: n, want: want, into: &out)
        try LogAttributeColumns.decode(attrs, extra: extra, rows: n, want: want, into: &out)
        return out
    }

    /// Version 1: every record of a chunk.
    func recordsV1(_ chunk: Int) throws -> [LogRecord] {
        let n = chunks[chunk].count
        let ts = try times(chunk)
        let (bb, bo) = try bodies(chunk)
        let obs = try column(chunk, LogBlockFormat.Column.observed), sev = try column(chunk, LogBlockFormat.Column.severity)
        let ids = try column(chunk, LogBlockFormat.Column.ids), attrs = try column(chunk, LogBlockFormat.Column.attributes)
        var out: [LogRecord] = []
        out.reserveCapacity(n)
        try obs.withUnsafeBytes { op in
        try sev.withUnsafeBytes { sp in
        try ids.withUnsafeBytes { ip in
        try attrs.withUnsafeBytes { ap in
            var or = ByteReader(op), ir = ByteReader(ip), ar = ByteReader(ap)
            var sr = ByteReader(sp)
            let sevNums = Array(try sr.bytes(n))
            let sevTexts = try DictionaryColumn.decode(&sr, rows: n)
            let nk = try ar.uvarintInt()
            guard nk <= ar.remaining else { throw ColumnarError.corrupt("attribute key count") }
            var keys: [String] = []
            keys.reserveCapacity(nk)
            for _ in 0..<nk { keys.append(try ar.string()) }
            for i in 0..<n {
                let obsDelta = try or.varint()
                let flags = try ir.u8()
                var trace: [UInt8] = [], span: [UInt8] = []
                if flags & 1 != 0 { let l = try ir.uvarintInt(); trace = Array(try ir.bytes(l)) }
                if flags & 2 != 0 { let l = try ir.uvarintInt(); span = Array(try ir.bytes(l)) }
                let body = bb.withUnsafeBufferPointer { String(decoding: UnsafeBufferPointer(rebasing: $0[bo[i]..<bo[i + 1]]), as: UTF8.self) }
                out.append(LogRecord(time: ts[i], observedTime: obsDelta == Int64.min ? 0 : ts[i] &+ obsDelta,
                                     severityNumber: sevNums[i], severityText: sevTexts[i], body: body,
                                     attributes: [], traceID: trace, spanID: span))
            }
            try LogBlockReader.decodeAttributesV1(&ar, keys: keys, into: &out)
        }}}}
        return out
    }

    /// After the key dictionary: u32 attribute total, one key index per attribute (uvarint,
    /// row order), then per row its attribute count and values.
    static func decodeAttributesV1(_ r: inout ByteReader, keys: [String], into out: inout [LogRecord]) throws {
        let total = Int(try r.u32())
        var idx = [Int](repeating: 0, count: total)
        for i in 0..<total {
            let k = try r.uvarintInt()
            guard k < keys.count else { throw ColumnarError.corrupt("attribute key \(k) of \(keys.count)") }
            idx[i] = k
        }
        var a = 0
        for i in out.indices {
            let c = try r.uvarintInt()
            guard a + c <= total else { throw ColumnarError.corrupt("attribute rows exceed the key indexes") }
            var attrs: [(name: String, value: String)] = []
            attrs.reserveCapacity(c)
            for _ in 0..<c {
                attrs.append((keys[idx[a]], try r.string()))
                a += 1
            }
            out[i].attributes = attrs
        }
    }
}
