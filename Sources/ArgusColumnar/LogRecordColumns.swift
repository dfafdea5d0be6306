import ArgusModel

/// Trace and span ids of a version 2 chunk, with repeats collapsed: the lines one request logs
/// share a trace id, the lines of one span a span id.
///
/// Layout: `count` × `u8 flags` (1: trace id, 2: span id); `uvarint` length of the reference
/// section, then per present id in row order (trace before span) `uvarint ref`: 0 for an id
/// not seen before in this chunk (its bytes follow in the new-id section), k ≥ 1 for the k-th
/// most recently first-seen id of its kind; then the new-id section: per new id `u8 length` +
/// bytes, in order of first appearance.
public enum LogIDColumn {
    public static func encode(_ recs: ArraySlice<LogRecord>, into w: inout ByteWriter) {
        var refs = ByteWriter()
        var fresh = ByteWriter()
        var seen: [[[UInt8]: Int]] = [[:], [:]]
        var counts = [0, 0]
        for r in recs {
            var flags: UInt8 = 0
            if !r.traceID.isEmpty { flags |= 1 }
            if !r.spanID.isEmpty { flags |= 2 }
            w.u8(flags)
        }
        for r in recs {
            for (kind, id) in [(0, r.traceID), (1, r.spanID)] where !id.isEmpty {
                if let at = seen[kind][id] {
                    refs.uvarint(UInt64(counts[kind] - at))
                } else {
                    refs.uvarint(0)
                    seen[kind][id] = counts[kind]
                    counts[kind] += 1
                    fresh.u8(UInt8(clamping: id.count))
                    fresh.append(Array(id.prefix(255)))
                }
            }
        }
        w.uvarint(UInt64(refs.count))
        w.append(refs.bytes)
        w.append(fresh.bytes)
    }

    /// Sets the trace and span ids of `out` (the records of `want`, rows of the chunk).
    static func decode(_ raw: [UInt8], rows n: Int, want: [Int], into out: inout [LogRecord]) throws {
        try raw.withUnsafeBytes { p in
            var r = ByteReader(p)
            let flags = try r.bytes(n)
            let refLen = try r.uvarintInt()
            var refs = ByteReader(try r.bytes(refLen))
            var fresh = r
            // Per kind: the offsets of the ids in first-seen order; per row: the index.
            var tables: [[Int]] = [[], []]
            var ids = [[Int32]](repeating: [Int32](repeating: -1, count: n), count: 2)
            for i in 0..<n {
                let f = flags[i]
                for kind in 0..<2 where f & (kind == 0 ? 1 : 2) != 0 {
                    let ref = try refs.uvarintInt()
                    if ref == 0 {
                        tables[kind].append(fresh.offset)
                        let l = Int(try fresh.u8())
                        _ = try fresh.bytes(l)
                        ids[kind][i] = Int32(tables[kind].count - 1)
                    } else {
                        guard ref <= tables[kind].count else { throw ColumnarError.corrupt("id reference \(ref) of \(tables[kind].count)") }
                        ids[kind][i] = Int32(tables[kind].count - ref)
                    }
                }
            }
            for (k, i) in want.enumerated() {
                for kind in 0..<2 where ids[kind][i] >= 0 {
                    let off = tables[kind][Int(ids[kind][i])]
                    let l = Int(p[off])
                    let bytes = Array(UnsafeRawBufferPointer(rebasing: p[(off + 1)..<(off + 1 + l)]))
                    if kind == 0 { out[k].traceID = bytes } else { out[k].spanID = bytes }
                }
            }
        }
    }
}

/// Attributes (structured metadata) of a version 2 chunk: keys present in at least half of the
/// chunk's records get a column of their own; the others share the attributes column.
///
/// Attributes column: `uvarint` key count + keys (strings); `uvarint` layout count, per layout
/// `uvarint` length + key indexes (a record's exact key sequence); `uvarint` frequent-key count
/// + their key indexes (column 7 holds the first, …); per record `uvarint` layout; then, per
/// record, the values (strings) of its keys that are not frequent.
///
/// A frequent-key column holds the values of the records that have the key, in row order,
/// after `u8 encoding`: 0 dictionary (`uvarint n`, n strings, then per value `uvarint` index),
/// 1 strings (per value `uvarint length`, then all bytes), 2 integers (per value `varint`
/// difference from the previous value, from 0; only when every value is a canonical decimal
/// Int64).
public enum LogAttributeColumns {
    public static func encode(_ recs: ArraySlice<LogRecord>, into w: inout ByteWriter) -> [ByteWriter] {
        var keyIndex: [String: Int] = [:]
        var keys: [String] = []
        var layoutIndex: [[Int]: Int] = [:]
        var layouts: [[Int]] = []
        var rowLayouts: [Int] = []
        rowLayouts.reserveCapacity(recs.count)
        var counts: [Int] = []
        var layout: [Int] = []
        for r in recs {
            layout.removeAll(keepingCapacity: true)
            for a in r.attributes {
                let k: Int
                if let x = keyIndex[a.name] {
                    k = x
                } else {
                    k = keys.count
                    keyIndex[a.name] = k
                    keys.append(a.name)
                    counts.append(0)
                }
                counts[k] += 1
                layout.append(k)
            }
            if let l = layoutIndex[layout] {
                rowLayouts.append(l)
            } else {
                layoutIndex[layout] = layouts.count
                rowLayouts.append(layouts.count)
                layouts.append(layout)
            }
        }
        let frequent = keys.indices.filter { counts[$0] * 2 >= recs.count }
        var column = [Int](repeating: -1, count: keys.count)
        for (c, k) in frequent.enumerated() { column[k] = c }
        var values = [[String]](repeating: [], count: frequent.count)
        w.uvarint(UInt64(keys.count))
        for k in keys { w.string(k) }
        w.uvarint(UInt64(layouts.count))
        for l in layouts {
            w.uvarint(UInt64(l.count))
            for k in l { w.uvarint(UInt64(k)) }
        }
        w.uvarint(UInt64(frequent.count))
        for k in frequent { w.uvarint(UInt64(k)) }
        for l in rowLayouts { w.uvarint(UInt64(l)) }
        for (i, r) in recs.enumerated() {
            let l = layouts[rowLayouts[i]]
            for (j, a) in r.attributes.enumerated() {
                let c = column[l[j]]
                if c >= 0 { values[c].append(a.value) } else { w.string(a.value) }
            }
        }
        return values.map(encodeColumn)
    }

    static func encodeColumn(_ vs: [String]) -> ByteWriter {
        var w = ByteWriter()
        var dict: [String: Int] = [:]
        var entries: [String] = []
        for v in vs where dict[v] == nil {
            dict[v] = entries.count
            entries.append(v)
        }
        if entries.count * 4 <= vs.count {
            w.u8(0)
            w.uvarint(UInt64(entries.count))
            for e in entries { w.string(e) }
            for v in vs { w.uvarint(UInt64(dict[v]!)) }
            return w
        }
        var ints: [Int64] = []
        ints.reserveCapacity(vs.count)
        for v in vs {
            guard let x = Int64(v), String(x) == v else { break }
            ints.append(x)
        }
        if ints.count == vs.count {
            w.u8(2)
            var prev: Int64 = 0
            for x in ints {
                w.varint(x &- prev)
                prev = x
            }
            return w
        }
        w.u8(1)
        for v in vs { w.uvarint(UInt64(v.utf8.count)) }
        for v in vs { w.append(Array(v.utf8)) }
        return w
    }

    /// One frequent-key column, decoded lazily per value.
    enum Column {
        case dictionary([String], [Int32])
        case strings([UInt8], [Int])
        case ints([Int64])

        init(_ raw: [UInt8]) throws {
            self = try raw.withUnsafeBytes { p in
                var r = ByteReader(p)
                switch try r.u8() {
                case 0:
                    let n = try r.uvarintInt()
                    guard n <= r.remaining else { throw ColumnarError.corrupt("dictionary of \(n)") }
                    var dict: [String] = []
                    for _ in 0..<n { dict.append(try r.string()) }
                    var idx: [Int32] = []
                    while !r.isAtEnd {
                        let i = try r.uvarint()
                        guard i < UInt64(n) else { throw ColumnarError.corrupt("dictionary index \(i) of \(n)") }
                        idx.append(Int32(i))
                    }
                    return .dictionary(dict, idx)
                case 1:
                    // Lengths until their sum reaches the remaining bytes.
                    var lens: [Int] = []
                    var total = 0
                    while total < r.remaining {
                        let l = try r.uvarintInt()
                        guard l <= r.remaining else { throw ColumnarError.corrupt("string of \(l)") }
                        total += l
                        lens.append(l)
                    }
                    guard total == r.remaining else { throw ColumnarError.corrupt("string column lengths") }
                    var offs = [0]
                    for l in lens { offs.append(offs[offs.count - 1] + l) }
                    return .strings(Array(try r.bytes(total)), offs)
                case 2:
                    var out: [Int64] = []
                    var prev: Int64 = 0
                    while !r.isAtEnd {
                        prev = prev &+ (try r.varint())
                        out.append(prev)
                    }
                    return .ints(out)
                case let e:
                    throw ColumnarError.corrupt("attribute column encoding \(e)")
                }
            }
        }

        func value(_ i: Int) throws -> String {
            switch self {
            case .dictionary(let d, let idx):
                guard i < idx.count else { throw ColumnarError.corrupt("attribute column too short") }
                return d[Int(idx[i])]
            case .strings(let b, let o):
                guard i + 1 < o.count else { throw ColumnarError.corrupt("attribute column too short") }
                return b.withUnsafeBufferPointer { String(decoding: UnsafeBufferPointer(rebasing: $0[o[i]..<o[i + 1]]), as: UTF8.self) }
            case .ints(let v):
                guard i < v.count else { throw ColumnarError.corrupt("attribute column too short") }
                return String(v[i])
            }
        }
    }

    /// Sets the attributes of `out` (the records of `want`, sorted rows of the chunk).
    static func decode(_ raw: [UInt8], extra: [[UInt8]], rows n: Int, want: [Int], into out: inout [LogRecord]) throws {
        try raw.withUnsafeBytes { p in
            var r = ByteReader(p)
            let nk = try r.uvarintInt()
            guard nk <= r.remaining else { throw ColumnarError.corrupt("attribute key count \(nk)") }
            var keys: [String] = []
            for _ in 0..<nk { keys.append(try r.string()) }
            let nl = try r.uvarintInt()
            guard nl <= r.remaining else { throw ColumnarError.corrupt("attribute layout count \(nl)") }
            var layouts: [[Int]] = []
            for _ in 0..<nl {
                let c = try r.uvarintInt()
                guard c <= r.remaining else { throw ColumnarError.corrupt("attribute layout length \(c)") }
                var l: [Int] = []
                for _ in 0..<c {
                    let k = try r.uvarintInt()
                    guard k < nk else { throw ColumnarError.corrupt("attribute key \(k) of \(nk)") }
                    l.append(k)
                }
                layouts.append(l)
            }
            let nf = try r.uvarintInt()
            guard nf == extra.count else { throw ColumnarError.corrupt("\(nf) frequent attribute keys, \(extra.count) columns") }
            var column = [Int](repeating: -1, count: nk)
            for c in 0..<nf {
                let k = try r.uvarintInt()
                guard k < nk else { throw ColumnarError.corrupt("attribute key \(k) of \(nk)") }
                column[k] = c
            }
            var rowLayout = [Int](repeating: 0, count: n)
            for i in 0..<n {
                let l = try r.uvarintInt()
                guard l < nl else { throw ColumnarError.corrupt("attribute layout \(l) of \(nl)") }
                rowLayout[i] = l
            }
            let cols = try extra.map(Column.init)
            var pos = [Int](repeating: 0, count: nf)
            var k = 0
            for i in 0..<n {
                let l = layouts[rowLayout[i]]
                let wanted = k < want.count && want[k] == i
                if l.isEmpty {
                    if wanted { k += 1 }
                    continue
                }
                var attrs: [(name: String, value: String)] = []
                if wanted { attrs.reserveCapacity(l.count) }
                for key in l {
                    let c = column[key]
                    if c >= 0 {
                        if wanted { attrs.append((keys[key], try cols[c].value(pos[c]))) }
                        pos[c] += 1
                    } else if wanted {
                        attrs.append((keys[key], try r.string()))
                    } else {
                        let len = try r.uvarintInt()
                        _ = try r.bytes(len)
                    }
                }
                if wanted {
                    out[k].attributes = attrs
                    k += 1
                }
            }
        }
    }
}
