import ArgusModel

/// The span block format (version 1): two files in a block directory.
///
/// - `spans` (magic `ARGS`): column file whose body is a sequence of zstd frames, one per
///   column per granule. Rows are sorted by trace id, then start time; a granule holds whole
///   traces (about `granuleRows` rows), so reading one trace decompresses one granule.
/// - `index` (magic `ARGX`): u32 raw length, then one zstd frame holding the string table, the
///   origin table (service, resource, scope), the granule table, the trace table (the trace-id
///   index, with trace-level columns: root service, root span name, start, duration, span and
///   error counts) and the tag summary.
///
/// See docs/format.md.
public enum SpanBlockFormat {
    public static let version: UInt16 = 1
    public static let spansMagic = "ARGS"
    public static let indexMagic = "ARGX"
    public static let granuleRows = 4096
    /// Distinct values the tag summary keeps per attribute name.
    public static let maxTagValues = 100
}

/// Columns of a granule, in file order. Numbered explicitly: part of the format.
public enum SpanColumn: Int, CaseIterable {
    /// u64 span id per row.
    case spanID = 0
    /// uvarint per row: 0 no parent, 1 parent id in `parentRaw`, k+2 parent is the row k rows back.
    case parentRef = 1
    /// u64 parent id, for rows whose `parentRef` is 1.
    case parentRaw = 2
    /// uvarint string id of the span name.
    case name = 3
    /// uvarint origin id.
    case origin = 4
    /// u8: kind | status << 4.
    case kindStatus = 5
    /// uvarint string id of the status message.
    case statusMessage = 6
    /// varint start (ns) minus the previous row's start (the first row: minus 0).
    case start = 7
    /// uvarint duration (ns).
    case duration = 8
    /// attribute list per row (see `SpanAttributeCoding`).
    case attributes = 9
    /// per row: trace state id, flags, events, links.
    case extras = 10
}

public struct SpanBlockStats: Sendable {
    public var traces = 0
    public var spans = 0
    public var minNanos = Int64.max
    public var maxNanos = Int64.min
    public var bytes = 0
}

/// Writes a span block. Traces must be added in ascending trace id order, each once, with
/// its spans sorted by start time.
public struct SpanBlockWriter {
    let dir: String
    let level: Int32
    var file = ByteWriter()
    var cols: [ByteWriter] = Array(repeating: ByteWriter(), count: SpanColumn.allCases.count)
    var table = SpanStringTable()
    var origins: [SpanOrigin: UInt32] = [:]
    var originList: [SpanOrigin] = []
    var granules = ByteWriter()
    var granuleCount = 0
    var rowsInGranule = 0
    var prevStart: Int64 = 0
    var traces = ByteWriter()
    var lastTraceStart: Int64 = 0
    var lastTraceGranule = 0
    var tags: [[String: Set<String>]] = [[:], [:]]
    public private(set) var stats = SpanBlockStats()

    public init(dir: String, zstdLevel: Int32 = 3) {
        self.dir = dir
        self.level = zstdLevel
        ColumnFile.header(magic: SpanBlockFormat.spansMagic, version: SpanBlockFormat.version, into: &file)
    }

    mutating func originID(_ o: SpanOrigin) -> UInt32 {
        if let i = origins[o] { return i }
        let i = UInt32(originList.count)
        origins[o] = i
        originList.append(o)
        for a in o.resource { noteTag(1, a) }
        return i
    }

    mutating func noteTag(_ scope: Int, _ a: SpanAttribute) {
        if tags[scope][a.key]?.count ?? 0 >= SpanBlockFormat.maxTagValues { return }
        tags[scope][a.key, default: []].insert(a.value.text)
    }

    /// Adds one trace's spans (sorted by start).
    public mutating func add(trace: TraceID, spans: ArraySlice<Span>) throws {
        guard !spans.isEmpty else { return }
        if rowsInGranule >= SpanBlockFormat.granuleRows { try cutGranule() }
        let first = rowsInGranule
        var rootService: UInt32 = 0, rootName: UInt32 = 0
        var minStart = Int64.max, maxEnd = Int64.min, errors = 0
        var rowOf: [UInt64: Int] = [:]
        if spans.count > 8 {
            for (k, s) in spans.enumerated() { rowOf[s.spanID] = first + k }
        }
        for (k, s) in spans.enumerated() {
            let row = first + k
            cols[SpanColumn.spanID.rawValue].u64(s.spanID)
            if s.parentSpanID == 0 {
                cols[SpanColumn.parentRef.rawValue].uvarint(0)
            } else {
                var prow: Int?
                if spans.count > 8 {
                    prow = rowOf[s.parentSpanID]
                } else {
                    for (j, p) in spans.enumerated() where p.spanID == s.parentSpanID {
                        prow = first + j
                        break
                    }
                }
                if let p = prow, p < row {
                    cols[SpanColumn.parentRef.rawValue].uvarint(UInt64(row - p + 1))
                } else {
                    cols[SpanColumn.parentRef.rawValue].uvarint(1)
                    cols[SpanColumn.parentRaw.rawValue].u64(s.parentSpanID)
                }
            }
            cols[SpanColumn.name.rawValue].uvarint(UInt64(table.id(s.name)))
            let oid = originID(s.origin)
            cols[SpanColumn.origin.rawValue].uvarint(UInt64(oid))
            cols[SpanColumn.kindStatus.rawValue].u8(s.kind.rawValue | s.status.rawValue << 4)
            cols[SpanColumn.statusMessage.rawValue].uvarint(UInt64(table.id(s.statusMessage)))
            cols[SpanColumn.start.rawValue].varint(s.startNanos &- prevStart)
            prevStart = s.startNanos
            cols[SpanColumn.duration.rawValue].uvarint(UInt64(max(0, s.durationNanos)))
            SpanAttributeCoding.encode(s.attributes, table: &table, into: &cols[SpanColumn.attributes.rawValue])
            for a in s.attributes { noteTag(0, a) }
            var x = cols[SpanColumn.extras.rawValue]
            cols[SpanColumn.extras.rawValue] = ByteWriter()
            x.uvarint(UInt64(table.id(s.traceState)))
            x.uvarint(UInt64(s.flags))
            x.uvarint(UInt64(s.events.count))
            for e in s.events {
                x.varint(e.timeNanos &- s.startNanos)
                x.uvarint(UInt64(table.id(e.name)))
                SpanAttributeCoding.encode(e.attributes, table: &table, into: &x)
            }
            x.uvarint(UInt64(s.links.count))
            for l in s.links {
                x.u64(l.traceID.hi)
                x.u64(l.traceID.lo)
                x.u64(l.spanID)
                x.uvarint(UInt64(table.id(l.traceState)))
                SpanAttributeCoding.encode(l.attributes, table: &table, into: &x)
            }
            cols[SpanColumn.extras.rawValue] = x
            if s.parentSpanID == 0 && rootName == 0 {
                rootService = table.id(s.origin.service) + 1
                rootName = table.id(s.name) + 1
            }
            minStart = min(minStart, s.startNanos)
            maxEnd = max(maxEnd, s.endNanos)
            if s.status == .error { errors += 1 }
        }
        rowsInGranule += spans.count
        traces.u64(trace.hi)
        traces.u64(trace.lo)
        traces.uvarint(UInt64(granuleCount - lastTraceGranule))
        lastTraceGranule = granuleCount
        traces.uvarint(UInt64(first))
        traces.uvarint(UInt64(spans.count))
        traces.uvarint(UInt64(rootService))
        traces.uvarint(UInt64(rootName))
        traces.varint(minStart &- lastTraceStart)
        lastTraceStart = minStart
        traces.uvarint(UInt64(max(0, maxEnd &- minStart)))
        traces.uvarint(UInt64(errors))
        stats.traces += 1
        stats.spans += spans.count
        stats.minNanos = min(stats.minNanos, minStart)
        stats.maxNanos = max(stats.maxNanos, maxEnd)
    }

    mutating func cutGranule() throws {
        guard rowsInGranule > 0 else { return }
        granules.uvarint(UInt64(rowsInGranule))
        for c in 0..<cols.count {
            let off = file.count
            try cols[c].bytes.withUnsafeBytes { try Zstd.compress($0, level: level, into: &file.bytes) }
            granules.uvarint(UInt64(off))
            granules.uvarint(UInt64(file.count - off))
            granules.uvarint(UInt64(cols[c].count))
            cols[c].bytes.removeAll(keepingCapacity: true)
        }
        granuleCount += 1
        rowsInGranule = 0
        prevStart = 0
    }

    /// Writes both files durably and returns what the block holds.
    public mutating func finish() throws -> SpanBlockStats {
        try cutGranule()
        // Origins and tags may add strings: encode them first, the string table last in order.
        var originsW = ByteWriter()
        originsW.uvarint(UInt64(originList.count))
        for o in originList {
            originsW.uvarint(UInt64(table.id(o.service)))
            SpanAttributeCoding.encode(o.resource, table: &table, into: &originsW)
            originsW.uvarint(UInt64(table.id(o.scopeName)))
            originsW.uvarint(UInt64(table.id(o.scopeVersion)))
        }
        var tagsW = ByteWriter()
        for scope in 0..<2 {
            let keys = tags[scope].keys.sorted()
            tagsW.uvarint(UInt64(keys.count))
            for k in keys {
                tagsW.uvarint(UInt64(table.id(k)))
                let vs = tags[scope][k]!.sorted()
                tagsW.uvarint(UInt64(vs.count))
                for v in vs { tagsW.uvarint(UInt64(table.id(v))) }
            }
        }
        var body = ByteWriter()
        body.uvarint(UInt64(table.strings.count))
        for s in table.strings { body.string(s) }
        body.append(originsW.bytes)
        body.uvarint(UInt64(granuleCount))
        body.append(granules.bytes)
        body.uvarint(UInt64(stats.traces))
        body.append(traces.bytes)
        body.append(tagsW.bytes)
        var idx = ByteWriter()
        ColumnFile.header(magic: SpanBlockFormat.indexMagic, version: SpanBlockFormat.version, into: &idx)
        idx.u32(UInt32(body.count))
        try body.bytes.withUnsafeBytes { try Zstd.compress($0, level: level, into: &idx.bytes) }
        ColumnFile.seal(&idx)
        ColumnFile.seal(&file)
        try writeFileDurably(file.bytes, to: dir + "/spans")
        try writeFileDurably(idx.bytes, to: dir + "/index")
        fsyncDirectory(dir)
        stats.bytes = file.count + idx.count
        return stats
    }
}

/// Reads a span block: the index (string table, origins, trace table) is decoded at open;
/// granules are decompressed on demand.
public final class SpanBlockReader: @unchecked Sendable {
    public let dir: String
    let map: MappedFile
    let body: UnsafeRawBufferPointer
    public let strings: [String]
    public let origins: [SpanOrigin]
    struct Column { var off: Int, len: Int, raw: Int }
    let granuleRows: [Int]
    let granuleCols: [[Column]]
    /// Index of the first trace of each granule, plus the trace count at the end.
    public let granuleFirstTrace: [Int]
    /// The trace table, sorted by id: the trace-id index and trace-level columns.
    public let traceHi: [UInt64]
    public let traceLo: [UInt64]
    public let traceGranule: [Int32]
    public let traceRow: [Int32]
    public let traceSpans: [Int32]
    /// String id + 1 of the root span's service and name; 0 when the block holds no root span.
    public let rootService: [UInt32]
    public let rootName: [UInt32]
    public let traceStart: [Int64]
    public let traceDuration: [Int64]
    public let traceErrors: [Int32]
    /// Attribute names and (up to `maxTagValues`) values: [0] span, [1] resource.
    public let tags: [[String: [String]]]
    public let totalBytes: Int

    public var traceCount: Int { traceHi.count }
    public var granuleCount: Int { granuleRows.count }

    public init(dir: String) throws {
        self.dir = dir
        let idxMap = try MappedFile(path: dir + "/index")
        map = try MappedFile(path: dir + "/spans")
        totalBytes = idxMap.bytes.count + map.bytes.count
        do { body = try ColumnFile.open(map.bytes, magic: SpanBlockFormat.spansMagic, maxVersion: SpanBlockFormat.version).body } catch {
            throw ColumnarError.corrupt("\(dir)/spans: \(error)")
        }
        let idxBody: UnsafeRawBufferPointer
        do { idxBody = try ColumnFile.open(idxMap.bytes, magic: SpanBlockFormat.indexMagic, maxVersion: SpanBlockFormat.version).body } catch {
            throw ColumnarError.corrupt("\(dir)/index: \(error)")
        }
        do {
            var hr = ByteReader(idxBody)
            let rawLen = Int(try hr.u32())
            let raw = try Zstd.decompress(UnsafeRawBufferPointer(rebasing: idxBody[hr.offset...]), size: rawLen)
            let bodyCount = body.count
            var strings: [String] = [], origins: [SpanOrigin] = []
            var gRows: [Int] = [], gCols: [[Column]] = []
            var tHi: [UInt64] = [], tLo: [UInt64] = [], tG: [Int32] = [], tR: [Int32] = [], tS: [Int32] = []
            var rS: [UInt32] = [], rN: [UInt32] = [], tSt: [Int64] = [], tD: [Int64] = [], tE: [Int32] = []
            var tags: [[String: [String]]] = [[:], [:]]
            try raw.withUnsafeBytes { p in
                var r = ByteReader(p)
                let ns = try r.uvarintInt()
                guard ns <= p.count else { throw ColumnarError.corrupt("string count") }
                strings.reserveCapacity(ns)
                for _ in 0..<ns { strings.append(try r.string()) }
                func str(_ r: inout ByteReader) throws -> String {
                    let i = try r.uvarintInt()
                    guard i < strings.count else { throw ColumnarError.corrupt("string id \(i)") }
                    return strings[i]
                }
                let no = try r.uvarintInt()
                guard no <= p.count else { throw ColumnarError.corrupt("origin count") }
                for _ in 0..<no {
                    let svc = try str(&r)
                    let res = try SpanAttributeCoding.decode(&r, strings: strings)
                    origins.append(SpanOrigin(service: svc, resource: res, scopeName: try str(&r), scopeVersion: try str(&r)))
                }
                let ng = try r.uvarintInt()
                guard ng <= p.count else { throw ColumnarError.corrupt("granule count") }
                for _ in 0..<ng {
                    gRows.append(try r.uvarintInt())
                    var cs: [Column] = []
                    for _ in SpanColumn.allCases {
                        let c = Column(off: try r.uvarintInt(), len: try r.uvarintInt(), raw: try r.uvarintInt())
                        guard c.off >= ColumnFile.headerSize, c.off + c.len <= bodyCount + ColumnFile.headerSize else {
                            throw ColumnarError.corrupt("granule column outside the spans file")
                        }
                        cs.append(c)
                    }
                    gCols.append(cs)
                }
                let nt = try r.uvarintInt()
                guard nt <= p.count else { throw ColumnarError.corrupt("trace count") }
                var g: Int32 = 0, start: Int64 = 0
                for _ in 0..<nt {
                    tHi.append(try r.u64())
                    tLo.append(try r.u64())
                    g += Int32(try r.uvarint())
                    guard Int(g) < ng else { throw ColumnarError.corrupt("trace granule out of range") }
                    tG.append(g)
                    tR.append(Int32(try r.uvarint()))
                    tS.append(Int32(try r.uvarint()))
                    rS.append(UInt32(try r.uvarint()))
                    rN.append(UInt32(try r.uvarint()))
                    start &+= try r.varint()
                    tSt.append(start)
                    tD.append(Int64(try r.uvarint()))
                    tE.append(Int32(try r.uvarint()))
                }
                for scope in 0..<2 {
                    let nk = try r.uvarintInt()
                    for _ in 0..<nk {
                        let k = try str(&r)
                        let nv = try r.uvarintInt()
                        var vs: [String] = []
                        for _ in 0..<nv { vs.append(try str(&r)) }
                        tags[scope][k] = vs
                    }
                }
            }
            self.strings = strings
            self.origins = origins
            granuleRows = gRows
            granuleCols = gCols
            traceHi = tHi
            traceLo = tLo
            traceGranule = tG
            traceRow = tR
            traceSpans = tS
            rootService = rS
            rootName = rN
            traceStart = tSt
            traceDuration = tD
            traceErrors = tE
            self.tags = tags
            var firsts = [Int](repeating: tHi.count, count: gRows.count + 1)
            for i in stride(from: tG.count - 1, through: 0, by: -1) { firsts[Int(tG[i])] = i }
            for gi in stride(from: gRows.count - 1, through: 0, by: -1) where firsts[gi] > firsts[gi + 1] { firsts[gi] = firsts[gi + 1] }
            granuleFirstTrace = firsts
        } catch let e as ColumnarError {
            throw ColumnarError.corrupt("\(dir)/index: \(e)")
        }
    }

    public func traceID(_ i: Int) -> TraceID { TraceID(hi: traceHi[i], lo: traceLo[i]) }

    /// The trace's position in the trace table (binary search), or nil when the block lacks it.
    public func find(_ id: TraceID) -> Int? {
        var lo = 0, hi = traceHi.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if traceHi[mid] < id.hi || (traceHi[mid] == id.hi && traceLo[mid] < id.lo) { lo = mid + 1 } else { hi = mid }
        }
        if lo < traceHi.count && traceHi[lo] == id.hi && traceLo[lo] == id.lo { return lo }
        return nil
    }

    public func rootServiceName(_ i: Int) -> String? { rootService[i] == 0 ? nil : strings[Int(rootService[i]) - 1] }
    public func rootSpanName(_ i: Int) -> String? { rootName[i] == 0 ? nil : strings[Int(rootName[i]) - 1] }

    func column(_ g: Int, _ c: SpanColumn) throws -> [UInt8] {
        let col = granuleCols[g][c.rawValue]
        let src = UnsafeRawBufferPointer(rebasing: body[(col.off - ColumnFile.headerSize)..<(col.off - ColumnFile.headerSize + col.len)])
        return try Zstd.decompress(src, size: col.raw)
    }

    /// Granule `g` with no column decompressed yet.
    public func granule(_ g: Int) -> SpanGranule { SpanGranule(reader: self, index: g) }

    /// Every span of granule `g`, in row order.
    public func decodeGranule(_ g: Int) throws -> [Span] {
        var gran = granule(g)
        return try decodeTraces(&gran, Array(granuleFirstTrace[g]..<granuleFirstTrace[g + 1])).flatMap { $0 }
    }

    /// The spans of trace `i` (a trace-table position), sorted by start. Only the trace's rows
    /// become spans; rows after it are not read.
    public func spans(trace i: Int) throws -> [Span] {
        var gran = granule(Int(traceGranule[i]))
        return try decodeTraces(&gran, [i])[0]
    }

    /// The spans of each of `traces` (trace-table positions, all in `gran`'s granule), each
    /// sorted by start. Rows of other traces are stepped over without building spans; the
    /// columns `gran` lacks are decompressed into it.
    public func decodeTraces(_ gran: inout SpanGranule, _ traces: [Int]) throws -> [[Span]] {
        let g = gran.index
        let n = granuleRows[g]
        var out = [[Span]](repeating: [], count: traces.count)
        if traces.isEmpty { return out }
        var owner = [Int32](repeating: -1, count: n)
        var end = 0
        for (k, t) in traces.enumerated() {
            guard Int(traceGranule[t]) == g else { throw ColumnarError.corrupt("\(dir): trace \(t) is not in granule \(g)") }
            let r0 = Int(traceRow[t])
            let c = Int(traceSpans[t])
            guard r0 + c <= n else { throw ColumnarError.corrupt("\(dir): trace rows outside granule \(g)") }
            for r in r0..<(r0 + c) { owner[r] = Int32(k) }
            out[k].reserveCapacity(c)
            end = max(end, r0 + c)
        }
        for c in SpanColumn.allCases { try gran.load(c) }
        var sids = [UInt64](repeating: 0, count: end)
        let cols = gran.raw
        try cols[0]!.withUnsafeBytes { p0 in
        try cols[1]!.withUnsafeBytes { p1 in
        try cols[2]!.withUnsafeBytes { p2 in
        try cols[3]!.withUnsafeBytes { p3 in
        try cols[4]!.withUnsafeBytes { p4 in
        try cols[5]!.withUnsafeBytes { p5 in
        try cols[6]!.withUnsafeBytes { p6 in
        try cols[7]!.withUnsafeBytes { p7 in
        try cols[8]!.withUnsafeBytes { p8 in
        try cols[9]!.withUnsafeBytes { p9 in
        try cols[10]!.withUnsafeBytes { p10 in
            var rID = ByteReader(p0), rPR = ByteReader(p1), rPX = ByteReader(p2), rN = ByteReader(p3), rO = ByteReader(p4)
            var rKS = ByteReader(p5), rSM = ByteReader(p6), rST = ByteReader(p7), rD = ByteReader(p8), rA = ByteReader(p9), rX = ByteReader(p10)
            let strings = self.strings
            @inline(__always) func str(_ r: inout ByteReader) throws -> String {
                let i = try r.uvarintInt()
                guard i < strings.count else { throw ColumnarError.corrupt("string id \(i)") }
                return strings[i]
            }
            var start: Int64 = 0
            for row in 0..<end {
                let sid = try rID.u64()
                sids[row] = sid
                let pref = try rPR.uvarint()
                var pid: UInt64 = 0
                if pref == 1 {
                    pid = try rPX.u64()
                } else if pref >= 2 {
                    let back = Int(pref) - 1
                    guard back <= row else { throw ColumnarError.corrupt("\(dir): parent row before the granule") }
                    pid = sids[row - back]
                }
                let k = Int(owner[row])
                if k < 0 {
                    _ = try rN.uvarint()
                    _ = try rO.uvarint()
                    _ = try rKS.u8()
                    _ = try rSM.uvarint()
                    start &+= try rST.varint()
                    _ = try rD.uvarint()
                    try SpanAttributeCoding.skip(&rA)
                    try SpanBlockReader.skipExtras(&rX)
                    continue
                }
                let t = traces[k]
                let name = try str(&rN)
                let oi = Int(try rO.uvarint())
                guard oi < origins.count else { throw ColumnarError.corrupt("origin id") }
                let ks = try rKS.u8()
                let msg = try str(&rSM)
                start &+= try rST.varint()
                let dur = Int64(try rD.uvarint())
                let attrs = try SpanAttributeCoding.decode(&rA, strings: strings)
                let ts = try str(&rX)
                let flags = UInt32(truncatingIfNeeded: try rX.uvarint())
                let ne = Int(try rX.uvarint())
                var events: [SpanEvent] = []
                if ne > 0 {
                    guard ne <= rX.remaining else { throw ColumnarError.corrupt("event count") }
                    for _ in 0..<ne {
                        let et = start &+ (try rX.varint())
                        events.append(SpanEvent(timeNanos: et, name: try str(&rX), attributes: try SpanAttributeCoding.decode(&rX, strings: strings)))
                    }
                }
                let nl = Int(try rX.uvarint())
                var links: [SpanLink] = []
                if nl > 0 {
                    guard nl <= rX.remaining else { throw ColumnarError.corrupt("link count") }
                    for _ in 0..<nl {
                        let lt = TraceID(hi: try rX.u64(), lo: try rX.u64())
                        let ls = try rX.u64()
                        links.append(SpanLink(traceID: lt, spanID: ls, traceState: try str(&rX), attributes: try SpanAttributeCoding.decode(&rX, strings: strings)))
                    }
                }
                out[k].append(Span(traceID: TraceID(hi: traceHi[t], lo: traceLo[t]), spanID: sid, parentSpanID: pid, traceState: ts, flags: flags,
                                   name: name, kind: SpanKind(rawValue: ks & 0x0F) ?? .unspecified, startNanos: start, durationNanos: dur,
                                   status: SpanStatus(rawValue: ks >> 4) ?? .unset, statusMessage: msg, attributes: attrs,
                                   events: events, links: links, origin: origins[oi]))
            }
        }}}}}}}}}}}
        return out
    }

    /// Moves past one row of the extras column.
    static func skipExtras(_ r: inout ByteReader) throws {
        _ = try r.uvarint()
        _ = try r.uvarint()
        let ne = try r.uvarintInt()
        guard ne <= r.remaining else { throw ColumnarError.corrupt("event count") }
        for _ in 0..<ne {
            _ = try r.varint()
            _ = try r.uvarint()
            try SpanAttributeCoding.skip(&r)
        }
        let nl = try r.uvarintInt()
        guard nl <= r.remaining else { throw ColumnarError.corrupt("link count") }
        for _ in 0..<nl {
            _ = try r.u64()
            _ = try r.u64()
            _ = try r.u64()
            _ = try r.uvarint()
            try SpanAttributeCoding.skip(&r)
        }
    }
}
