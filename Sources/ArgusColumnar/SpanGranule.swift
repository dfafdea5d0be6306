import ArgusModel

/// An attribute value as a block stores it: strings as ids into the block's string table.
public enum SpanStoredValue: Equatable {
    case string(UInt32)
    case int(Int64)
    case double(Double)
    case bool(Bool)
    /// An OTLP `AnyValue` kept as a string id (one character per byte).
    case raw(UInt32)
}

/// One granule of a span block, its columns decompressed on demand: a search reads only the
/// columns its filters reference, row by row from flat arrays (no per-span allocation), and
/// builds `Span`s only for the traces that can match (`SpanBlockReader.decodeTraces`).
public struct SpanGranule {
    public let reader: SpanBlockReader
    public let index: Int
    public let rows: Int
    /// Decompressed bytes per column (`SpanColumn` order); nil until loaded.
    var raw: [[UInt8]?]
    /// Per row, filled by `load`: name string id, origin id, kind | status << 4, status
    /// message string id, duration (ns).
    public private(set) var names: [UInt32] = []
    public private(set) var origins: [UInt32] = []
    public private(set) var kindStatus: [UInt8] = []
    public private(set) var statusMessages: [UInt32] = []
    public private(set) var durations: [Int64] = []
    /// Where each row's attribute list starts in the attributes column (`rows + 1` entries).
    public private(set) var attributeOffsets: [Int32] = []

    init(reader: SpanBlockReader, index: Int) {
        self.reader = reader
        self.index = index
        rows = reader.granuleRows[index]
        raw = Array(repeating: nil, count: SpanColumn.allCases.count)
    }

    public func isLoaded(_ c: SpanColumn) -> Bool { raw[c.rawValue] != nil }

    /// Decompresses column `c` (once) and decodes its per-row values where the column has them.
    public mutating func load(_ c: SpanColumn) throws {
        if raw[c.rawValue] != nil { return }
        let bytes = try reader.column(index, c)
        raw[c.rawValue] = bytes
        let n = rows
        try bytes.withUnsafeBytes { p in
            var r = ByteReader(p)
            switch c {
            case .name, .origin, .statusMessage:
                var a = [UInt32](repeating: 0, count: n)
                for i in 0..<n { a[i] = UInt32(truncatingIfNeeded: try r.uvarint()) }
                if c == .name { names = a } else if c == .origin { origins = a } else { statusMessages = a }
            case .kindStatus:
                guard p.count >= n else { throw ColumnarError.corrupt("\(reader.dir): kind column short") }
                kindStatus = Array(p[0..<n])
            case .duration:
                var a = [Int64](repeating: 0, count: n)
                for i in 0..<n { a[i] = Int64(truncatingIfNeeded: try r.uvarint()) }
                durations = a
            case .attributes:
                var a = [Int32](repeating: 0, count: n + 1)
                for i in 0..<n {
                    a[i] = Int32(r.offset)
                    try SpanAttributeCoding.skip(&r)
                }
                a[n] = Int32(r.offset)
                attributeOffsets = a
            default:
                break
            }
        }
    }

    /// The value of the first attribute of `row` whose key has string id `key` (attributes
    /// column loaded), or nil.
    public func attribute(row: Int, key: UInt32) -> SpanStoredValue? {
        raw[SpanColumn.attributes.rawValue]!.withUnsafeBytes { p -> SpanStoredValue? in
            var r = ByteReader(p, offset: Int(attributeOffsets[row]))
            guard let n = try? r.uvarint() else { return nil }
            for _ in 0..<n {
                guard let k = try? r.uvarint(), let tag = try? r.u8() else { return nil }
                let v: SpanStoredValue
                switch tag {
                case SpanValueTag.string.rawValue: guard let x = try? r.uvarint() else { return nil }; v = .string(UInt32(truncatingIfNeeded: x))
                case SpanValueTag.int.rawValue: guard let x = try? r.varint() else { return nil }; v = .int(x)
                case SpanValueTag.double.rawValue: guard let x = try? r.u64() else { return nil }; v = .double(Double(bitPattern: x))
                case SpanValueTag.boolFalse.rawValue: v = .bool(false)
                case SpanValueTag.boolTrue.rawValue: v = .bool(true)
                case SpanValueTag.raw.rawValue: guard let x = try? r.uvarint() else { return nil }; v = .raw(UInt32(truncatingIfNeeded: x))
                default: return nil
                }
                if k == UInt64(key) { return v }
            }
            return nil
        }
    }
}

extension SpanBlockReader {
    /// The id of `s` in the block's string table, or nil when no string of the block is `s`.
    public func stringID(_ s: String) -> UInt32? {
        for (i, x) in strings.enumerated() where x == s { return UInt32(i) }
        return nil
    }
}
