import ArgusColumnar
import ArgusModel

/// Binary form of a label set used by the WAL and the catalog: count, then name/value strings.
enum LabelsCoding {
    static func encode(_ labels: Labels, into w: inout ByteWriter) {
        w.uvarint(UInt64(labels.count))
        for l in labels.items {
            w.string(l.name)
            w.string(l.value)
        }
    }

    static func encode(_ labels: Labels) -> [UInt8] {
        var w = ByteWriter()
        encode(labels, into: &w)
        return w.bytes
    }

    static func decode(_ r: inout ByteReader) throws -> Labels {
        let n = Int(try r.uvarint())
        guard n <= r.remaining else { throw ColumnarError.corrupt("label count") }
        var items: [Label] = []
        items.reserveCapacity(n)
        for _ in 0..<n { items.append(Label(try r.string(), try r.string())) }
        return Labels(sorted: items)
    }

    static func decode(_ bytes: [UInt8]) throws -> Labels {
        try bytes.withUnsafeBytes { p in
            var r = ByteReader(p)
            return try decode(&r)
        }
    }
}
