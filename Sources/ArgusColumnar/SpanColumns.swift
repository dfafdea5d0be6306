import ArgusModel

/// Type tags of attribute values, on disk and in the WAL. Numbered explicitly: part of the format.
public enum SpanValueTag: UInt8 {
    case string = 1
    case int = 2
    case double = 3
    case boolFalse = 4
    case boolTrue = 5
    /// An OTLP `AnyValue` (array, key-value list, bytes) in protobuf, as a byte string.
    case raw = 6
}

/// A block's string dictionary while it is written: each distinct string gets a dense id.
public struct SpanStringTable {
    public private(set) var strings: [String] = [""]
    var ids: [String: UInt32] = ["": 0]

    public init() {}

    @inline(__always) public mutating func id(_ s: String) -> UInt32 {
        if let i = ids[s] { return i }
        let i = UInt32(strings.count)
        strings.append(s)
        ids[s] = i
        return i
    }
}

/// Raw byte strings (OTLP `AnyValue` protobuf) are kept in the string table as Latin-1 text:
/// one character per byte, so any bytes round-trip.
@inline(__always) func rawString(_ bytes: [UInt8]) -> String {
    String(bytes.map { Character(Unicode.Scalar($0)) })
}

@inline(__always) func rawBytes(_ s: String) -> [UInt8] {
    s.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) }
}

/// Attribute lists with strings as dictionary ids (blocks) or inline (WAL records).
public enum SpanAttributeCoding {
    public static func encode(_ attrs: [SpanAttribute], table: inout SpanStringTable, into w: inout ByteWriter) {
        w.uvarint(UInt64(attrs.count))
        for a in attrs {
            w.uvarint(UInt64(table.id(a.key)))
            switch a.value {
            case .string(let s):
                w.u8(SpanValueTag.string.rawValue)
                w.uvarint(UInt64(table.id(s)))
            case .int(let i):
                w.u8(SpanValueTag.int.rawValue)
                w.varint(i)
            case .double(let d):
                w.u8(SpanValueTag.double.rawValue)
                w.u64(d.bitPattern)
            case .bool(let b):
                w.u8(b ? SpanValueTag.boolTrue.rawValue : SpanValueTag.boolFalse.rawValue)
            case .raw(let r):
                w.u8(SpanValueTag.raw.rawValue)
                w.uvarint(UInt64(table.id(rawString(r))))
            }
        }
    }

    public static func decode(_ r: inout ByteReader, strings: [String]) throws -> [SpanAttribute] {
        let n = try r.uvarintInt()
        guard n <= r.remaining else { throw ColumnarError.corrupt("attribute count \(n)") }
        if n == 0 { return [] }
        var out: [SpanAttribute] = []
        out.reserveCapacity(n)
        @inline(__always) func str(_ r: inout ByteReader) throws -> String {
            let i = try r.uvarintInt()
            guard i < strings.count else { throw ColumnarError.corrupt("string id \(i) out of range") }
            return strings[i]
        }
        for _ in 0..<n {
            let key = try str(&r)
            let tag = try r.u8()
            let v: SpanValue
            switch tag {
            case SpanValueTag.string.rawValue: v = .string(try str(&r))
            case SpanValueTag.int.rawValue: v = .int(try r.varint())
            case SpanValueTag.double.rawValue: v = .double(Double(bitPattern: try r.u64()))
            case SpanValueTag.boolFalse.rawValue: v = .bool(false)
            case SpanValueTag.boolTrue.rawValue: v = .bool(true)
            case SpanValueTag.raw.rawValue: v = .raw(rawBytes(try str(&r)))
            default: throw ColumnarError.corrupt("unknown attribute value tag \(tag)")
            }
            out.append(SpanAttribute(key, v))
        }
        return out
    }

    /// Moves past one attribute list in dictionary form.
    public static func skip(_ r: inout ByteReader) throws {
        let n = try r.uvarintInt()
        guard n <= r.remaining else { throw ColumnarError.corrupt("attribute count \(n)") }
        for _ in 0..<n {
            _ = try r.uvarint()
            let tag = try r.u8()
            switch tag {
            case SpanValueTag.string.rawValue, SpanValueTag.raw.rawValue: _ = try r.uvarint()
            case SpanValueTag.int.rawValue: _ = try r.varint()
            case SpanValueTag.double.rawValue: _ = try r.u64()
            case SpanValueTag.boolFalse.rawValue, SpanValueTag.boolTrue.rawValue: break
            default: throw ColumnarError.corrupt("unknown attribute value tag \(tag)")
            }
        }
    }

    public static func encodeInline(_ attrs: [SpanAttribute], into w: inout ByteWriter) {
        w.uvarint(UInt64(attrs.count))
        for a in attrs {
            w.string(a.key)
            switch a.value {
            case .string(let s):
                w.u8(SpanValueTag.string.rawValue)
                w.string(s)
            case .int(let i):
                w.u8(SpanValueTag.int.rawValue)
                w.varint(i)
            case .double(let d):
                w.u8(SpanValueTag.double.rawValue)
                w.u64(d.bitPattern)
            case .bool(let b):
                w.u8(b ? SpanValueTag.boolTrue.rawValue : SpanValueTag.boolFalse.rawValue)
            case .raw(let r):
                w.u8(SpanValueTag.raw.rawValue)
                w.uvarint(UInt64(r.count))
                w.append(r)
            }
        }
    }

    public static func decodeInline(_ r: inout ByteReader) throws -> [SpanAttribute] {
        let n = try r.uvarintInt()
        guard n <= r.remaining else { throw ColumnarError.corrupt("attribute count \(n)") }
        var out: [SpanAttribute] = []
        out.reserveCapacity(n)
        for _ in 0..<n {
            let key = try r.string()
            let tag = try r.u8()
            let v: SpanValue
            switch tag {
            case SpanValueTag.string.rawValue: v = .string(try r.string())
            case SpanValueTag.int.rawValue: v = .int(try r.varint())
            case SpanValueTag.double.rawValue: v = .double(Double(bitPattern: try r.u64()))
            case SpanValueTag.boolFalse.rawValue: v = .bool(false)
            case SpanValueTag.boolTrue.rawValue: v = .bool(true)
            case SpanValueTag.raw.rawValue:
                let len = try r.uvarintInt()
                v = .raw(Array(try r.bytes(len)))
            default: throw ColumnarError.corrupt("unknown attribute value tag \(tag)")
            }
            out.append(SpanAttribute(key, v))
        }
        return out
    }
}

/// The span WAL record payload (after the record type byte): the batch's distinct origins,
/// then its spans, each naming its origin by index. Strings are inline.
public enum SpanRecordCoding {
    public static func encode(_ spans: [Span], into w: inout ByteWriter) {
        var origins: [SpanOrigin: Int] = [:]
        var order: [SpanOrigin] = []
        var idx = [Int](repeating: 0, count: spans.count)
        var last: (SpanOrigin, Int)?
        for (i, s) in spans.enumerated() {
            if let l = last, l.0 == s.origin {
                idx[i] = l.1
                continue
            }
            let k: Int
            if let e = origins[s.origin] {
                k = e
            } else {
                k = order.count
                origins[s.origin] = k
                order.append(s.origin)
            }
            idx[i] = k
            last = (s.origin, k)
        }
        w.uvarint(UInt64(order.count))
        for o in order {
            w.string(o.service)
            SpanAttributeCoding.encodeInline(o.resource, into: &w)
            w.string(o.scopeName)
            w.string(o.scopeVersion)
        }
        w.uvarint(UInt64(spans.count))
        for (i, s) in spans.enumerated() {
            w.uvarint(UInt64(idx[i]))
            w.u64(s.traceID.hi)
            w.u64(s.traceID.lo)
            w.u64(s.spanID)
            w.u64(s.parentSpanID)
            w.string(s.traceState)
            w.uvarint(UInt64(s.flags))
            w.string(s.name)
            w.u8(s.kind.rawValue)
            w.u8(s.status.rawValue)
            w.string(s.statusMessage)
            w.varint(s.startNanos)
            w.varint(s.durationNanos)
            SpanAttributeCoding.encodeInline(s.attributes, into: &w)
            w.uvarint(UInt64(s.events.count))
            for e in s.events {
                w.varint(e.timeNanos &- s.startNanos)
                w.string(e.name)
                SpanAttributeCoding.encodeInline(e.attributes, into: &w)
            }
            w.uvarint(UInt64(s.links.count))
            for l in s.links {
                w.u64(l.traceID.hi)
                w.u64(l.traceID.lo)
                w.u64(l.spanID)
                w.string(l.traceState)
                SpanAttributeCoding.encodeInline(l.attributes, into: &w)
            }
        }
    }

    public static func decode(_ r: inout ByteReader, into out: inout [Span]) throws {
        let no = try r.uvarintInt()
        guard no <= r.remaining else { throw ColumnarError.corrupt("origin count \(no)") }
        var origins: [SpanOrigin] = []
        for _ in 0..<no {
            let service = try r.string()
            let res = try SpanAttributeCoding.decodeInline(&r)
            origins.append(SpanOrigin(service: service, resource: res, scopeName: try r.string(), scopeVersion: try r.string()))
        }
        let n = try r.uvarintInt()
        guard n <= r.remaining else { throw ColumnarError.corrupt("span count \(n)") }
        out.reserveForAppending(n)
        for _ in 0..<n {
            let oi = try r.uvarintInt()
            guard oi < origins.count else { throw ColumnarError.corrupt("origin index \(oi)") }
            let tid = TraceID(hi: try r.u64(), lo: try r.u64())
            let sid = try r.u64()
            let pid = try r.u64()
            let ts = try r.string()
            let flags = UInt32(truncatingIfNeeded: try r.uvarint())
            let name = try r.string()
            let kind = SpanKind(rawValue: try r.u8()) ?? .unspecified
            let status = SpanStatus(rawValue: try r.u8()) ?? .unset
            let msg = try r.string()
            let start = try r.varint()
            let dur = try r.varint()
            let attrs = try SpanAttributeCoding.decodeInline(&r)
            let ne = try r.uvarintInt()
            guard ne <= r.remaining else { throw ColumnarError.corrupt("event count") }
            var events: [SpanEvent] = []
            for _ in 0..<ne {
                let t = start &+ (try r.varint())
                events.append(SpanEvent(timeNanos: t, name: try r.string(), attributes: try SpanAttributeCoding.decodeInline(&r)))
            }
            let nl = try r.uvarintInt()
            guard nl <= r.remaining else { throw ColumnarError.corrupt("link count") }
            var links: [SpanLink] = []
            for _ in 0..<nl {
                let lt = TraceID(hi: try r.u64(), lo: try r.u64())
                let ls = try r.u64()
                links.append(SpanLink(traceID: lt, spanID: ls, traceState: try r.string(), attributes: try SpanAttributeCoding.decodeInline(&r)))
            }
            out.append(Span(traceID: tid, spanID: sid, parentSpanID: pid, traceState: ts, flags: flags, name: name, kind: kind,
                            startNanos: start, durationNanos: dur, status: status, statusMessage: msg, attributes: attrs,
                            events: events, links: links, origin: origins[oi]))
        }
    }
}
