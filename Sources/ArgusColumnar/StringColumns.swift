/// Column encodings for log blocks: dictionary-encoded strings, length-prefixed byte columns,
/// and the per-chunk token filter.

/// Strings as a dictionary (first-seen order) and one uvarint index per row.
/// Layout: uvarint dictionary size, each entry as uvarint length + bytes, then the indexes.
public struct DictionaryColumnWriter {
    var dict: [String: Int] = [:]
    var entries: [String] = []
    public private(set) var indexes = ByteWriter()

    public init() {}

    public mutating func append(_ s: String) {
        rows += 1
        if let i = dict[s] {
            indexes.uvarint(UInt64(i))
        } else {
            dict[s] = entries.count
            indexes.uvarint(UInt64(entries.count))
            entries.append(s)
        }
    }

    public private(set) var rows = 0

    public func finish(into w: inout ByteWriter) {
        finishDictionary(into: &w)
        w.append(indexes.bytes)
    }

    /// Only the dictionary; the caller places `indexes` itself.
    public func finishDictionary(into w: inout ByteWriter) {
        w.uvarint(UInt64(entries.count))
        for e in entries { w.string(e) }
    }
}

public enum DictionaryColumn {
    /// Decodes `rows` strings written by `DictionaryColumnWriter`.
    public static func decode(_ r: inout ByteReader, rows: Int) throws -> [String] {
        let n = try r.uvarintInt()
        guard n <= r.remaining else { throw ColumnarError.corrupt("dictionary of \(n) entries in \(r.remaining) bytes") }
        var dict: [String] = []
        dict.reserveCapacity(n)
        for _ in 0..<n { dict.append(try r.string()) }
        var out: [String] = []
        out.reserveCapacity(rows)
        for _ in 0..<rows {
            let i = try r.uvarintInt()
            guard i < dict.count else { throw ColumnarError.corrupt("dictionary index \(i) of \(dict.count)") }
            out.append(dict[i])
        }
        return out
    }
}

/// Variable-length byte strings: all lengths (uvarint) first, then all bytes, so zstd sees the
/// text contiguously. Decoded into one buffer plus row offsets, without a String per row.
public enum BytesColumn {
    public static func encode(_ rows: [[UInt8]], into w: inout ByteWriter) {
        for r in rows { w.uvarint(UInt64(r.count)) }
        for r in rows { w.append(r) }
    }

    /// Returns the concatenated bytes and `rows + 1` offsets into them.
    public static func decode(_ r: inout ByteReader, rows: Int) throws -> (bytes: [UInt8], offsets: [Int]) {
        var offsets = [Int](repeating: 0, count: rows + 1)
        var total = 0
        for i in 0..<rows {
            let n = try r.uvarintInt()
            guard n <= r.remaining else { throw ColumnarError.corrupt("byte string of \(n) bytes in \(r.remaining)") }
            total += n
            offsets[i + 1] = total
        }
        let b = try r.bytes(total)
        return (Array(b), offsets)
    }
}

/// A Bloom filter over the tokens of a chunk's lines, so a line filter for a word skips chunks
/// that cannot hold it. Tokens are maximal runs of ASCII letters, digits, `_` and any byte
/// ≥ 0x80 (case-sensitive, like Loki's `|=`). Bits are a power of two; `k` probes by double
/// hashing of a 64-bit FNV-1a hash.
public struct TokenFilter: Equatable, Sendable {
    public var bits: [UInt64]
    public let k: Int

    public static let bitsPerToken = 10
    public static let probes = 7

    public init(bits: [UInt64], k: Int) {
        self.bits = bits
        self.k = k
    }

    /// A filter sized for `tokens` distinct tokens.
    public init(capacity tokens: Int) {
        var words = 1
        while words * 64 < max(64, tokens * TokenFilter.bitsPerToken) { words <<= 1 }
        bits = [UInt64](repeating: 0, count: words)
        k = TokenFilter.probes
    }

    @inline(__always) public static func isTokenByte(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F || c >= 0x80
    }

    @inline(__always) public static func hash(_ p: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in p {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01b3
        }
        // Final mix so both halves are well distributed.
        h ^= h >> 33
        h = h &* 0xff51_afd7_ed55_8ccd
        h ^= h >> 33
        return h
    }

    /// Calls `body` with the hash of every token in `text`.
    @inline(__always) public static func forEachToken(_ text: UnsafeRawBufferPointer, _ body: (UInt64) -> Void) {
        let n = text.count
        var i = 0
        while i < n {
            while i < n && !isTokenByte(text[i]) { i &+= 1 }
            let start = i
            while i < n && isTokenByte(text[i]) { i &+= 1 }
            if i > start { body(hash(UnsafeRawBufferPointer(rebasing: text[start..<i]))) }
        }
    }

    public mutating func insert(_ h: UInt64) {
        let mask = UInt64(bits.count * 64 - 1)
        let h1 = h, h2 = (h >> 32) | 1
        bits.withUnsafeMutableBufferPointer { b in
            for i in 0..<k {
                let bit = (h1 &+ UInt64(i) &* h2) & mask
                b[Int(bit >> 6)] |= 1 << (bit & 63)
            }
        }
    }

    public func mayContain(_ h: UInt64) -> Bool {
        let mask = UInt64(bits.count * 64 - 1)
        let h1 = h, h2 = (h >> 32) | 1
        for i in 0..<k {
            let bit = (h1 &+ UInt64(i) &* h2) & mask
            if bits[Int(bit >> 6)] & (1 << (bit & 63)) == 0 { return false }
        }
        return true
    }

    /// The hashes of the tokens of `needle` that a line containing `needle` must hold as whole
    /// tokens: those bounded on both sides by a non-token byte inside the needle. A token at the
    /// needle's edge may be part of a longer token in the line, so it cannot be used.
    public static func requiredTokens(of needle: String) -> [UInt64] {
        var out: [UInt64] = []
        var s = needle
        s.withUTF8 { p in
            let raw = UnsafeRawBufferPointer(p)
            let n = raw.count
            var i = 0
            while i < n {
                while i < n && !isTokenByte(raw[i]) { i &+= 1 }
                let start = i
                while i < n && isTokenByte(raw[i]) { i &+= 1 }
                if i > start && start > 0 && i < n {
                    out.append(hash(UnsafeRawBufferPointer(rebasing: raw[start..<i])))
                }
            }
        }
        return out
    }
}
