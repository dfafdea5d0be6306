/// Appends little-endian integers, varints and bytes into a growing buffer.
/// Encoders write into a caller's `ByteWriter` so one buffer serves a whole column.
public struct ByteWriter {
    public var bytes: [UInt8]

    public init(capacity: Int = 0) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public var count: Int { bytes.count }

    @inline(__always) public mutating func u8(_ v: UInt8) { bytes.append(v) }

    @inline(__always) public mutating func u16(_ v: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: v))
        bytes.append(UInt8(truncatingIfNeeded: v >> 8))
    }

    @inline(__always) public mutating func u32(_ v: UInt32) {
        bytes.append(UInt8(truncatingIfNeeded: v))
        bytes.append(UInt8(truncatingIfNeeded: v >> 8))
        bytes.append(UInt8(truncatingIfNeeded: v >> 16))
        bytes.append(UInt8(truncatingIfNeeded: v >> 24))
    }

    @inline(__always) public mutating func u64(_ v: UInt64) {
        u32(UInt32(truncatingIfNeeded: v))
        u32(UInt32(truncatingIfNeeded: v >> 32))
    }

    @inline(__always) public mutating func uvarint(_ x: UInt64) {
        var v = x
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(truncatingIfNeeded: v))
    }

    @inline(__always) public mutating func varint(_ x: Int64) { uvarint(zigzag(x)) }

    public mutating func append(_ other: [UInt8]) { bytes.append(contentsOf: other) }

    public mutating func append(_ other: UnsafeRawBufferPointer) { bytes.append(contentsOf: other) }

    /// A string as uvarint length + UTF-8 bytes.
    public mutating func string(_ s: String) {
        var s = s
        s.withUTF8 { p in
            uvarint(UInt64(p.count))
            bytes.append(contentsOf: p)
        }
    }

    /// Overwrites a u32 at `offset` (for back-patched lengths).
    public mutating func patchU32(at offset: Int, _ v: UInt32) {
        let le = v.littleEndian
        withUnsafeBytes(of: le) { src in
            for i in 0..<4 { bytes[offset + i] = src[i] }
        }
    }
}

@inline(__always) public func zigzag(_ x: Int64) -> UInt64 { UInt64(bitPattern: (x << 1) ^ (x >> 63)) }
@inline(__always) public func unzigzag(_ u: UInt64) -> Int64 { Int64(bitPattern: u >> 1) ^ -Int64(bitPattern: u & 1) }

/// Reads what `ByteWriter` wrote, with bounds checks that throw instead of trapping.
public struct ByteReader {
    public let base: UnsafeRawBufferPointer
    public var offset: Int

    public init(_ base: UnsafeRawBufferPointer, offset: Int = 0) {
        self.base = base
        self.offset = offset
    }

    public var remaining: Int { base.count - offset }
    public var isAtEnd: Bool { offset >= base.count }

    @inline(__always) mutating func need(_ n: Int) throws {
        if n < 0 || offset + n > base.count { throw ColumnarError.truncated }
    }

    @inline(__always) public mutating func u8() throws -> UInt8 {
        try need(1)
        defer { offset += 1 }
        return base[offset]
    }

    @inline(__always) public mutating func u16() throws -> UInt16 {
        try need(2)
        defer { offset += 2 }
        return UInt16(base[offset]) | UInt16(base[offset + 1]) << 8
    }

    @inline(__always) public mutating func u32() throws -> UInt32 {
        try need(4)
        defer { offset += 4 }
        return UInt32(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    @inline(__always) public mutating func u64() throws -> UInt64 {
        try need(8)
        defer { offset += 8 }
        return UInt64(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    @inline(__always) public mutating func uvarint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < base.count else { throw ColumnarError.truncated }
            let b = base[offset]
            offset += 1
            if b < 0x80 {
                if shift == 63 && b > 1 { throw ColumnarError.corrupt("varint overflows 64 bits") }
                return result | UInt64(b) << shift
            }
            result |= UInt64(b & 0x7F) << shift
            shift += 7
            if shift > 63 { throw ColumnarError.corrupt("varint overflows 64 bits") }
        }
    }

    @inline(__always) public mutating func varint() throws -> Int64 { unzigzag(try uvarint()) }

    /// A `uvarint` count, length or offset: damaged input past 2^48 throws instead of trapping
    /// on conversion (and two of them still add without overflow).
    @inline(__always) public mutating func uvarintInt() throws -> Int {
        let v = try uvarint()
        guard v <= 1 << 48 else { throw ColumnarError.corrupt("count or offset \(v) out of range") }
        return Int(v)
    }

    public mutating func bytes(_ n: Int) throws -> UnsafeRawBufferPointer {
        try need(n)
        defer { offset += n }
        return UnsafeRawBufferPointer(rebasing: base[offset..<offset + n])
    }

    public mutating func string() throws -> String {
        let n = Int(try uvarint())
        let b = try bytes(n)
        return String(decoding: b, as: UTF8.self)
    }
}

/// Errors of the columnar layer; the storage layer wraps them with the file they came from.
public enum ColumnarError: Error, CustomStringConvertible, Equatable {
    case truncated
    case corrupt(String)
    case unsupportedVersion(Int)
    case zstd(String)

    public var description: String {
        switch self {
        case .truncated: return "data ends early (truncated)"
        case .corrupt(let why): return "corrupt data: \(why)"
        case .unsupportedVersion(let v): return "unsupported format version \(v)"
        case .zstd(let why): return "zstd: \(why)"
        }
    }
}
