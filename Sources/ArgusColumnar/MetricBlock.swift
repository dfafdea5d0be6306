/// The metric block format (version 1): three files in a block directory.
///
/// - `timestamps` (magic `ARGT`) and `values` (magic `ARGV`): column files whose bodies are
///   sequences of zstd frames, one per granule. A granule holds the encoded chunks of
///   consecutive series (by ref), so reading one series decompresses one frame per column.
/// - `index` (magic `ARGI`): u32 raw length, then one zstd frame holding the granule table and,
///   per series (ascending ref): ref delta, sample count, min time, time span, granule delta,
///   and the byte lengths of its timestamp and value chunks inside the granule.
///
/// See docs/format.md.
public enum MetricBlockFormat {
    public static let version: UInt16 = 1
    public static let indexMagic = "ARGI"
    public static let timestampsMagic = "ARGT"
    public static let valuesMagic = "ARGV"
    public static let granuleTarget = 256 * 1024
    /// A series' samples are cut into chunks of at most this many samples, each with its own
    /// index entry (consecutive entries with the same ref), so a query decodes only the chunks
    /// that overlap its time range.
    public static let chunkSamples = 480
}

public struct MetricBlockStats: Sendable {
    public var series = 0
    public var samples = 0
    public var minT = Int64.max
    public var maxT = Int64.min
    public var bytes = 0
}

/// Writes a metric block. Series must be added in ascending ref order, each with its samples
/// sorted by time and without duplicate timestamps.
public struct MetricBlockWriter {
    let dir: String
    let level: Int32
    var tsFile = ByteWriter()
    var valFile = ByteWriter()
    var tsRaw = ByteWriter()
    var valRaw = ByteWriter()
    var index = ByteWriter()
    var granules = ByteWriter()
    var granuleCount = 0
    var seriesInGranule = 0
    var lastRef: UInt32 = 0
    var lastGranule = 0
    /// Index entries (chunks) written.
    var entries = 0
    public private(set) var stats = MetricBlockStats()

    public init(dir: String, zstdLevel: Int32 = 3) {
        self.dir = dir
        self.level = zstdLevel
        ColumnFile.header(magic: MetricBlockFormat.timestampsMagic, version: MetricBlockFormat.version, into: &tsFile)
        ColumnFile.header(magic: MetricBlockFormat.valuesMagic, version: MetricBlockFormat.version, into: &valFile)
    }

    public mutating func add(ref: UInt32, timestamps: UnsafeBufferPointer<Int64>, values: UnsafeBufferPointer<Double>) throws {
        precondition(timestamps.count == values.count)
        guard timestamps.count > 0 else { return }
        precondition(stats.series == 0 || ref > lastRef, "series must be added in ascending ref order")
        let firstEntry = stats.series == 0
        var start = 0
        while start < timestamps.count {
            let end = min(start + MetricBlockFormat.chunkSamples, timestamps.count)
            try addChunk(ref: ref, UnsafeBufferPointer(rebasing: timestamps[start..<end]), UnsafeBufferPointer(rebasing: values[start..<end]),
                         isFirstEntryOfBlock: firstEntry && start == 0)
            start = end
        }
        stats.series += 1
        stats.samples += timestamps.count
        stats.minT = min(stats.minT, timestamps[0])
        stats.maxT = max(stats.maxT, timestamps[timestamps.count - 1])
    }

    mutating func addChunk(ref: UInt32, _ timestamps: UnsafeBufferPointer<Int64>, _ values: UnsafeBufferPointer<Double>,
                           isFirstEntryOfBlock: Bool) throws {
        let tsBefore = tsRaw.count
        let valBefore = valRaw.count
        TimestampCodec.encode(timestamps, into: &tsRaw)
        ValueCodec.encode(values, into: &valRaw)
        let minT = timestamps[0]
        let maxT = timestamps[timestamps.count - 1]
        index.uvarint(UInt64(ref &- (isFirstEntryOfBlock ? 0 : lastRef)))
        index.uvarint(UInt64(timestamps.count))
        index.varint(minT)
        index.uvarint(UInt64(maxT &- minT))
        index.uvarint(UInt64(granuleCount - lastGranule))
        index.uvarint(UInt64(tsRaw.count - tsBefore))
        index.uvarint(UInt64(valRaw.count - valBefore))
        lastGranule = granuleCount
        lastRef = ref
        entries += 1
        seriesInGranule += 1
        if tsRaw.count + valRaw.count >= MetricBlockFormat.granuleTarget { try cutGranule() }
    }

    public mutating func add(ref: UInt32, timestamps: [Int64], values: [Double]) throws {
        try timestamps.withUnsafeBufferPointer { t in
            try values.withUnsafeBufferPointer { v in try add(ref: ref, timestamps: t, values: v) }
        }
    }

    mutating func cutGranule() throws {
        guard seriesInGranule > 0 else { return }
        let tsOff = tsFile.count
        try tsRaw.bytes.withUnsafeBytes { try Zstd.compress($0, level: level, into: &tsFile.bytes) }
        let valOff = valFile.count
        try valRaw.bytes.withUnsafeBytes { try Zstd.compress($0, level: level, into: &valFile.bytes) }
        granules.uvarint(UInt64(tsOff))
        granules.uvarint(UInt64(tsFile.count - tsOff))
        granules.uvarint(UInt64(tsRaw.count))
        granules.uvarint(UInt64(valOff))
        granules.uvarint(UInt64(valFile.count - valOff))
        granules.uvarint(UInt64(valRaw.count))
        tsRaw.bytes.removeAll(keepingCapacity: true)
        valRaw.bytes.removeAll(keepingCapacity: true)
        granuleCount += 1
        seriesInGranule = 0
    }

    /// Writes the three files durably and returns what the block holds.
    public mutating func finish() throws -> MetricBlockStats {
        try cutGranule()
        var body = ByteWriter()
        body.uvarint(UInt64(granuleCount))
        body.append(granules.bytes)
        body.uvarint(UInt64(entries))
        body.append(index.bytes)
        var idx = ByteWriter()
        ColumnFile.header(magic: MetricBlockFormat.indexMagic, version: MetricBlockFormat.version, into: &idx)
        idx.u32(UInt32(body.count))
        try body.bytes.withUnsafeBytes { try Zstd.compress($0, level: level, into: &idx.bytes) }
        ColumnFile.seal(&idx)
        ColumnFile.seal(&tsFile)
        ColumnFile.seal(&valFile)
        try writeFileDurably(tsFile.bytes, to: dir + "/timestamps")
        try writeFileDurably(valFile.bytes, to: dir + "/values")
        try writeFileDurably(idx.bytes, to: dir + "/index")
        fsyncDirectory(dir)
        stats.bytes = tsFile.count + valFile.count + idx.count
        return stats
    }
}

/// Reads a metric block: the index is decoded at open, granules are decompressed on demand.
public final class MetricBlockReader: @unchecked Sendable {
    public let dir: String
    /// Identifies this reader's granules in the shared cache (never reused).
    let cacheID = GranuleCache.nextReaderID()

    deinit { GranuleCache.shared.drop(cacheID) }
    let tsMap: MappedFile
    let valMap: MappedFile
    let tsBody: UnsafeRawBufferPointer
    let valBody: UnsafeRawBufferPointer

    struct Granule {
        var tsOff: Int, tsLen: Int, tsRaw: Int
        var valOff: Int, valLen: Int, valRaw: Int
    }
    let granules: [Granule]
    public let refs: [UInt32]
    public let counts: [Int32]
    public let minTs: [Int64]
    public let maxTs: [Int64]
    let granuleOf: [Int32]
    let tsOffsets: [Int32]
    let valOffsets: [Int32]
    public let totalBytes: Int

    /// Opens and verifies the block; throws naming the file that failed.
    public init(dir: String) throws {
        self.dir = dir
        func fail(_ file: String, _ e: any Error) -> ColumnarError {
            .corrupt("\(dir)/\(file): \(e)")
        }
        let idxMap: MappedFile
        do {
            idxMap = try MappedFile(path: dir + "/index")
            tsMap = try MappedFile(path: dir + "/timestamps")
            valMap = try MappedFile(path: dir + "/values")
        } catch { throw error }
        totalBytes = idxMap.bytes.count + tsMap.bytes.count + valMap.bytes.count
        do { tsBody = try ColumnFile.open(tsMap.bytes, magic: MetricBlockFormat.timestampsMagic, maxVersion: MetricBlockFormat.version).body } catch { throw fail("timestamps", error) }
        do { valBody = try ColumnFile.open(valMap.bytes, magic: MetricBlockFormat.valuesMagic, maxVersion: MetricBlockFormat.version).body } catch { throw fail("values", error) }
        let idxBody: UnsafeRawBufferPointer
        do { idxBody = try ColumnFile.open(idxMap.bytes, magic: MetricBlockFormat.indexMagic, maxVersion: MetricBlockFormat.version).body } catch { throw fail("index", error) }
        do {
            var hr = ByteReader(idxBody)
            let rawLen = Int(try hr.u32())
            let raw = try Zstd.decompress(UnsafeRawBufferPointer(rebasing: idxBody[hr.offset...]), size: rawLen)
            var gs: [Granule] = []
            var refs: [UInt32] = [], counts: [Int32] = [], minTs: [Int64] = [], maxTs: [Int64] = []
            var granuleOf: [Int32] = [], tsOffsets: [Int32] = [], valOffsets: [Int32] = []
            let tsBodyCount = tsBody.count, valBodyCount = valBody.count
            try raw.withUnsafeBytes { p in
                var r = ByteReader(p)
                let gn = try r.uvarintInt()
                guard gn <= p.count else { throw ColumnarError.corrupt("granule count") }
                for _ in 0..<gn {
                    let g = Granule(tsOff: try r.uvarintInt(), tsLen: try r.uvarintInt(), tsRaw: try r.uvarintInt(),
                                    valOff: try r.uvarintInt(), valLen: try r.uvarintInt(), valRaw: try r.uvarintInt())
                    guard g.tsOff + g.tsLen <= tsBodyCount + ColumnFile.headerSize,
                          g.valOff + g.valLen <= valBodyCount + ColumnFile.headerSize else {
                        throw ColumnarError.corrupt("granule outside its column file")
                    }
                    gs.append(g)
                }
                let sn = try r.uvarintInt()
                guard sn <= p.count else { throw ColumnarError.corrupt("series count") }
                refs.reserveCapacity(sn); counts.reserveCapacity(sn); minTs.reserveCapacity(sn); maxTs.reserveCapacity(sn)
                granuleOf.reserveCapacity(sn); tsOffsets.reserveCapacity(sn); valOffsets.reserveCapacity(sn)
                var ref: UInt32 = 0, g = 0, tsOff = 0, valOff = 0
                for i in 0..<sn {
                    let delta = try r.uvarint()
                    ref = i == 0 ? UInt32(truncatingIfNeeded: delta) : ref &+ UInt32(truncatingIfNeeded: delta)
                    let c = Int32(truncatingIfNeeded: try r.uvarint())
                    let mint = try r.varint()
                    let span = Int64(bitPattern: try r.uvarint())
                    let gd = try r.uvarintInt()
                    if gd != 0 || i == 0 {
                        g += gd
                        tsOff = 0
                        valOff = 0
                    }
                    guard g < gn, c > 0 else { throw ColumnarError.corrupt("series entry \(i)") }
                    let tl = try r.uvarintInt(), vl = try r.uvarintInt()
                    guard tsOff + tl <= gs[g].tsRaw, valOff + vl <= gs[g].valRaw else { throw ColumnarError.corrupt("series entry \(i) outside its granule") }
                    refs.append(ref); counts.append(c); minTs.append(mint); maxTs.append(mint &+ span)
                    granuleOf.append(Int32(g)); tsOffsets.append(Int32(tsOff)); valOffsets.append(Int32(valOff))
                    tsOff += tl
                    valOff += vl
                }
            }
            granules = gs
            self.refs = refs; self.counts = counts; self.minTs = minTs; self.maxTs = maxTs
            self.granuleOf = granuleOf; self.tsOffsets = tsOffsets; self.valOffsets = valOffsets
        } catch {
            throw fail("index", error)
        }
    }

    /// Index entries (chunks); a series has one or more consecutive entries.
    public var seriesCount: Int { refs.count }

    /// The index entries (chunks, in time order) of the series with `ref`; empty when absent.
    public func entries(of ref: UInt32) -> Range<Int> {
        guard let first = find(ref) else { return 0..<0 }
        var end = first + 1
        while end < refs.count && refs[end] == ref { end += 1 }
        return first..<end
    }

    /// The first index entry of the series with `ref`, by binary search.
    public func find(_ ref: UInt32) -> Int? {
        var lo = 0, hi = refs.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if refs[mid] < ref { lo = mid + 1 } else { hi = mid }
        }
        return lo < refs.count && refs[lo] == ref ? lo : nil
    }

    /// Holds the decompressed granule a scan is in, so consecutive series share one decompression.
    public struct Cursor {
        var granule = -1
        var ts: [UInt8] = []
        var vals: [UInt8] = []
        public init() {}
    }

    /// Appends the samples of series `i` to `ts` and `vs`.
    public func decode(series i: Int, cursor: inout Cursor, ts: inout [Int64], vs: inout [Double]) throws {
        let g = Int(granuleOf[i])
        if cursor.granule != g {
            if let hit = GranuleCache.shared.get(cacheID, g) {
                cursor.ts = hit.ts
                cursor.vals = hit.vals
            } else {
                let gr = granules[g]
                do {
                    cursor.ts = try Zstd.decompress(UnsafeRawBufferPointer(rebasing: tsMap.bytes[gr.tsOff..<(gr.tsOff + gr.tsLen)]), size: gr.tsRaw)
                    cursor.vals = try Zstd.decompress(UnsafeRawBufferPointer(rebasing: valMap.bytes[gr.valOff..<(gr.valOff + gr.valLen)]), size: gr.valRaw)
                } catch {
                    throw ColumnarError.corrupt("\(dir): granule \(g): \(error)")
                }
                GranuleCache.shared.put(cacheID, g, ts: cursor.ts, vals: cursor.vals)
            }
            cursor.granule = g
        }
        let n = Int(counts[i])
        let base = ts.count
        ts.reserveCapacity(base + n)
        vs.reserveCapacity(base + n)
        let tOff = Int(tsOffsets[i]), vOff = Int(valOffsets[i])
        try cursor.ts.withUnsafeBytes { src in
            let s = UnsafeRawBufferPointer(rebasing: src[tOff...])
            try appendDecoded(&ts, n) { try TimestampCodec.decode(s, count: n, into: $0) }
        }
        try cursor.vals.withUnsafeBytes { src in
            let s = UnsafeRawBufferPointer(rebasing: src[vOff...])
            try appendDecoded(&vs, n) { try ValueCodec.decode(s, count: n, into: $0) }
        }
    }
}

/// Grows `array` by `n` elements that `fill` writes in place (no per-element appends).
@inline(__always)
func appendDecoded<T>(_ array: inout [T], _ n: Int, _ fill: (UnsafeMutablePointer<T>) throws -> Int) throws {
    var err: (any Error)?
    let extra = [T](unsafeUninitializedCapacity: n) { buf, count in
        do {
            _ = try fill(buf.baseAddress!)
            count = n
        } catch {
            err = error
            count = 0
        }
    }
    if let err { throw err }
    if array.isEmpty { array = extra } else { array.append(contentsOf: extra) }
}
