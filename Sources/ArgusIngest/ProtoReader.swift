import ArgusModel
import Glibc

/// A zero-copy reader of protobuf wire format, for the hot ingest decoders.
/// Every read is bounds-checked and throws a `badInput` error instead of trapping.
public struct ProtoReader {
    public let base: UnsafeRawBufferPointer
    public var pos: Int
    public let end: Int

    public init(_ base: UnsafeRawBufferPointer) {
        self.base = base
        pos = 0
        end = base.count
    }

    init(_ base: UnsafeRawBufferPointer, from: Int, to: Int) {
        self.base = base
        pos = from
        end = to
    }

    public enum WireType: UInt8 {
        case varint = 0, fixed64 = 1, bytes = 2, startGroup = 3, endGroup = 4, fixed32 = 5
    }

    static func fail(_ why: String) -> ArgusError { ArgusError(.badInput, "invalid protobuf: \(why)") }

    public var isAtEnd: Bool { pos >= end }

    /// The next field number and wire type.
    @inline(__always) public mutating func tag() throws -> (field: Int, wire: WireType) {
        let key = try varint()
        guard let w = WireType(rawValue: UInt8(key & 7)) else { throw ProtoReader.fail("unknown wire type \(key & 7)") }
        let field = Int(key >> 3)
        guard field > 0 else { throw ProtoReader.fail("field number 0") }
        return (field, w)
    }

    @inline(__always) public mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard pos < end else { throw ProtoReader.fail("truncated varint") }
            let b = base[pos]
            pos += 1
            result |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return result }
            shift += 7
            if shift >= 64 { throw ProtoReader.fail("varint longer than 10 bytes") }
        }
    }

    @inline(__always) public mutating func fixed64() throws -> UInt64 {
        guard end - pos >= 8 else { throw ProtoReader.fail("truncated fixed64") }
        defer { pos += 8 }
        return UInt64(littleEndian: base.loadUnaligned(fromByteOffset: pos, as: UInt64.self))
    }

    @inline(__always) public mutating func fixed32() throws -> UInt32 {
        guard end - pos >= 4 else { throw ProtoReader.fail("truncated fixed32") }
        defer { pos += 4 }
        return UInt32(littleEndian: base.loadUnaligned(fromByteOffset: pos, as: UInt32.self))
    }

    /// The byte range of a length-delimited field.
    @inline(__always) public mutating func bytesRange() throws -> Range<Int> {
        let n = try varint()
        guard n <= UInt64(end - pos) else { throw ProtoReader.fail("length \(n) runs past the end of the message") }
        let r = pos..<(pos + Int(n))
        pos += Int(n)
        return r
    }

    /// A reader over a nested message.
    @inline(__always) public mutating func message() throws -> ProtoReader {
        let r = try bytesRange()
        return ProtoReader(base, from: r.lowerBound, to: r.upperBound)
    }

    /// A UTF-8 string field; invalid UTF-8 is an error, as protobuf's `string` requires.
    public mutating func string(_ what: @autoclosure () -> String) throws -> String {
        let r = try bytesRange()
        guard let s = utf8String(UnsafeRawBufferPointer(rebasing: base[r])) else {
            throw ArgusError(.badInput, "\(what()) is not valid UTF-8")
        }
        return s
    }

    public mutating func skip(_ wire: WireType) throws {
        switch wire {
        case .varint: _ = try varint()
        case .fixed64: _ = try fixed64()
        case .fixed32: _ = try fixed32()
        case .bytes: _ = try bytesRange()
        case .startGroup, .endGroup: throw ProtoReader.fail("groups are not supported")
        }
    }
}

extension ProtoReader {
    // Typed reads of a field whose tag was just read: the wire type must match, as protobuf
    // decoders require (`what` names the field in the error).

    static func wrongWire(_ what: StaticString, _ wire: WireType) -> ArgusError {
        ArgusError(.badInput, "invalid protobuf: \(what) has wire type \(wire.rawValue)")
    }

    @inline(__always) public mutating func message(_ wire: WireType, _ what: StaticString) throws -> ProtoReader {
        guard wire == .bytes else { throw ProtoReader.wrongWire(what, wire) }
        return try message()
    }

    @inline(__always) public mutating func bytesRange(_ wire: WireType, _ what: StaticString) throws -> Range<Int> {
        guard wire == .bytes else { throw ProtoReader.wrongWire(what, wire) }
        return try bytesRange()
    }

    @inline(__always) public mutating func string(_ wire: WireType, _ what: StaticString) throws -> String {
        guard wire == .bytes else { throw ProtoReader.wrongWire(what, wire) }
        return try string("\(what)")
    }

    @inline(__always) public mutating func varint(_ wire: WireType, _ what: StaticString) throws -> UInt64 {
        guard wire == .varint else { throw ProtoReader.wrongWire(what, wire) }
        return try varint()
    }

    @inline(__always) public mutating func fixed64(_ wire: WireType, _ what: StaticString) throws -> UInt64 {
        guard wire == .fixed64 else { throw ProtoReader.wrongWire(what, wire) }
        return try fixed64()
    }

    @inline(__always) public mutating func fixed32(_ wire: WireType, _ what: StaticString) throws -> UInt32 {
        guard wire == .fixed32 else { throw ProtoReader.wrongWire(what, wire) }
        return try fixed32()
    }

    /// A protobuf enum (int32 on the wire) as a byte; negative and large values clamp to 0 and
    /// 255, which no OTLP enum uses, so they read as unknown.
    @inline(__always) public mutating func enumByte(_ wire: WireType, _ what: StaticString) throws -> UInt8 {
        UInt8(clamping: Int32(truncatingIfNeeded: try varint(wire, what)))
    }

    /// A reader over `range` of the same buffer (a field remembered to be read later).
    public func reader(over range: Range<Int>) -> ProtoReader { ProtoReader(base, from: range.lowerBound, to: range.upperBound) }

    /// The bytes of `range` as a buffer.
    @inline(__always) public func bytes(_ range: Range<Int>) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: base[range]) }
}

extension ProtoReader {
    /// Reads an OTLP container message (ResourceSpans, ScopeSpans, ResourceLogs, ScopeLogs):
    /// field 1 is its header (the resource or the scope), whose fields `header` reads or skips
    /// one by one; field 2 repeats the children, whose ranges are collected into `children` to
    /// be read once the header is known (it may come after them on the wire).
    mutating func otlpContainer(_ what: StaticString, children: inout [Range<Int>],
                                header: (_ field: Int, _ wire: WireType, _ r: inout ProtoReader) throws -> Void) throws {
        children.removeAll(keepingCapacity: true)
        while !isAtEnd {
            let (field, wire) = try tag()
            switch field {
            case 1:
                var m = try message(wire, what)
                while !m.isAtEnd {
                    let (f, w) = try m.tag()
                    try header(f, w, &m)
                }
            case 2: children.append(try bytesRange(wire, what))
            default: try skip(wire)
            }
        }
    }
}

/// A small direct-mapped cache of recently decoded strings: span names and attribute keys repeat
/// from item to item, and sharing one String saves an allocation and UTF-8 validation each.
struct ProtoStringCache {
    static let slots = 256
    // Parallel arrays, not an array of optional tuples: tuple metadata is looked up at run time.
    var keys: [[UInt8]] = Array(repeating: [], count: ProtoStringCache.slots)
    var values: [String] = Array(repeating: "", count: ProtoStringCache.slots)

    mutating func string(_ bytes: UnsafeRawBufferPointer, _ what: StaticString) throws -> String {
        // Short strings are stored inline in String: no allocation to save.
        if bytes.count <= 15 {
            guard let s = utf8String(bytes) else { throw ArgusError(.badInput, "\(what) is not valid UTF-8") }
            return s
        }
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        let slot = Int(truncatingIfNeeded: h & UInt64(ProtoStringCache.slots - 1))
        let hit = keys[slot].withUnsafeBytes { k in k.count == bytes.count && memcmp(k.baseAddress!, bytes.baseAddress!, k.count) == 0 }
        if hit { return values[slot] }
        guard let s = utf8String(bytes) else { throw ArgusError(.badInput, "\(what) is not valid UTF-8") }
        keys[slot] = Array(bytes)
        values[slot] = s
        return s
    }

    /// A string field read through the cache.
    @inline(__always) mutating func read(_ r: inout ProtoReader, _ wire: ProtoReader.WireType, _ what: StaticString) throws -> String {
        let range = try r.bytesRange(wire, what)
        return try string(r.bytes(range), what)
    }
}

/// Writes protobuf wire format (for clients, tests and benchmarks).
public struct ProtoWriter {
    public var bytes: [UInt8] = []
    public init() {}

    public mutating func varint(_ v: UInt64) {
        var x = v
        while x >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: x) | 0x80)
            x >>= 7
        }
        bytes.append(UInt8(x))
    }

    public mutating func tag(_ field: Int, _ wire: ProtoReader.WireType) { varint(UInt64(field << 3) | UInt64(wire.rawValue)) }

    public mutating func int64(_ field: Int, _ v: Int64) {
        tag(field, .varint)
        varint(UInt64(bitPattern: v))
    }

    public mutating func double(_ field: Int, _ v: Double) {
        tag(field, .fixed64)
        var b = v.bitPattern.littleEndian
        withUnsafeBytes(of: &b) { bytes.append(contentsOf: $0) }
    }

    public mutating func string(_ field: Int, _ s: String) {
        tag(field, .bytes)
        varint(UInt64(s.utf8.count))
        bytes.append(contentsOf: s.utf8)
    }

    public mutating func message(_ field: Int, _ m: ProtoWriter) {
        tag(field, .bytes)
        varint(UInt64(m.bytes.count))
        bytes.append(contentsOf: m.bytes)
    }
}

/// The bytes as a String, or nil when they are not valid UTF-8. ASCII (nearly every name and
/// value on the wire) is checked eight bytes at a time and decoded directly;
/// `String(validating:as:)` is generic and unspecialized in the standard library, and its
/// runtime metadata lookups cost more than the decoding itself.
@inline(__always) func utf8String(_ bytes: UnsafeRawBufferPointer) -> String? {
    let n = bytes.count
    var i = 0
    var high: UInt64 = 0
    while i + 8 <= n {
        high |= bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)
        i += 8
    }
    while i < n {
        high |= UInt64(bytes[i])
        i += 1
    }
    if high & 0x8080_8080_8080_8080 == 0 { return String(decoding: bytes, as: UTF8.self) }
    return String(validating: bytes, as: UTF8.self)
}
