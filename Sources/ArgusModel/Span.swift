/// A 128-bit trace id (OTLP `trace_id`, 16 bytes big endian).
public struct TraceID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var hi: UInt64
    public var lo: UInt64

    public init(hi: UInt64, lo: UInt64) {
        self.hi = hi
        self.lo = lo
    }

    /// From 16 bytes; nil for any other length.
    public init?<C: Collection>(bytes: C) where C.Element == UInt8 {
        guard bytes.count == 16 else { return nil }
        var h: UInt64 = 0, l: UInt64 = 0
        for (i, b) in bytes.enumerated() {
            if i < 8 { h = h << 8 | UInt64(b) } else { l = l << 8 | UInt64(b) }
        }
        hi = h
        lo = l
    }

    /// From up to 32 hex digits; shorter ids are left-padded with zeros, as Tempo does.
    public init?(hex: String) {
        let u = Array(hex.utf8)
        guard !u.isEmpty, u.count <= 32 else { return nil }
        var h: UInt64 = 0, l: UInt64 = 0
        for c in u {
            guard let v = hexDigit(c) else { return nil }
            h = h << 4 | l >> 60
            l = l << 4 | UInt64(v)
        }
        hi = h
        lo = l
    }

    public var bytes: [UInt8] {
        var out = [UInt8](repeating: 0, count: 16)
        for i in 0..<8 {
            out[i] = UInt8(truncatingIfNeeded: hi >> (56 - 8 * UInt64(i)))
            out[8 + i] = UInt8(truncatingIfNeeded: lo >> (56 - 8 * UInt64(i)))
        }
        return out
    }

    /// 32 lowercase hex digits.
    public var hex: String { hex64(hi) + hex64(lo) }
    public var description: String { hex }
    public var isZero: Bool { hi == 0 && lo == 0 }

    public static func < (a: TraceID, b: TraceID) -> Bool { a.hi != b.hi ? a.hi < b.hi : a.lo < b.lo }
}

/// 16 lowercase hex digits of a 64-bit id (a span id).
public func hex64(_ v: UInt64) -> String {
    let digits: [UInt8] = Array("0123456789abcdef".utf8)
    var out = [UInt8](repeating: 0, count: 16)
    for i in 0..<16 { out[i] = digits[Int((v >> (60 - 4 * UInt64(i))) & 0xF)] }
    return String(decoding: out, as: UTF8.self)
}

/// A span id from 16 hex digits (or fewer, left-padded); nil when not hex.
public func spanID(hex: String) -> UInt64? {
    let u = Array(hex.utf8)
    guard !u.isEmpty, u.count <= 16 else { return nil }
    var v: UInt64 = 0
    for c in u {
        guard let d = hexDigit(c) else { return nil }
        v = v << 4 | UInt64(d)
    }
    return v
}

/// A span id from 8 big-endian bytes; nil for any other length.
public func spanID<C: Collection>(bytes: C) -> UInt64? where C.Element == UInt8 {
    guard bytes.count == 8 else { return nil }
    return bytes.reduce(0) { $0 << 8 | UInt64($1) }
}

public func spanIDBytes(_ v: UInt64) -> [UInt8] {
    (0..<8).map { UInt8(truncatingIfNeeded: v >> (56 - 8 * UInt64($0))) }
}

@inline(__always) func hexDigit(_ c: UInt8) -> UInt8? {
    switch c {
    case 0x30...0x39: return c - 0x30
    case 0x61...0x66: return c - 0x61 + 10
    case 0x41...0x46: return c - 0x41 + 10
    default: return nil
    }
}

/// An attribute value. Arrays, key-value lists and byte strings keep their OTLP `AnyValue`
/// protobuf encoding in `raw`, so they round-trip exactly.
public enum SpanValue: Sendable, Equatable, Hashable {
    case string(String)
    case int(Int64)
    case double(Double)
    case bool(Bool)
    case raw([UInt8])

    /// The value as TraceQL and the Tempo tag API show it.
    public var text: String {
        switch self {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .double(let d): return d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : "\(d)"
        case .bool(let b): return b ? "true" : "false"
        case .raw(let r): return "<\(r.count) bytes>"
        }
    }

    /// Tempo's type name for the v2 tag values API.
    public var typeName: String {
        switch self {
        case .string: return "string"
        case .int: return "int"
        case .double: return "float"
        case .bool: return "bool"
        case .raw: return "string"
        }
    }
}

public struct SpanAttribute: Sendable, Equatable, Hashable {
    public var key: String
    public var value: SpanValue
    public init(_ key: String, _ value: SpanValue) {
        self.key = key
        self.value = value
    }
}

extension Array where Element == SpanAttribute {
    /// The value of the first attribute named `key`.
    @inline(__always) public func value(_ key: String) -> SpanValue? {
        for a in self where a.key == key { return a.value }
        return nil
    }
}

public struct SpanEvent: Sendable, Equatable {
    public var timeNanos: Int64
    public var name: String
    public var attributes: [SpanAttribute]
    public init(timeNanos: Int64, name: String, attributes: [SpanAttribute] = []) {
        self.timeNanos = timeNanos
        self.name = name
        self.attributes = attributes
    }
}

public struct SpanLink: Sendable, Equatable {
    public var traceID: TraceID
    public var spanID: UInt64
    public var traceState: String
    public var attributes: [SpanAttribute]
    public init(traceID: TraceID, spanID: UInt64, traceState: String = "", attributes: [SpanAttribute] = []) {
        self.traceID = traceID
        self.spanID = spanID
        self.traceState = traceState
        self.attributes = attributes
    }
}

/// Where a span comes from: its resource (with the service name pulled out) and its
/// instrumentation scope. Spans of one OTLP `ScopeSpans` share one origin.
public struct SpanOrigin: Sendable, Equatable, Hashable {
    public var service: String
    public var resource: [SpanAttribute]
    public var scopeName: String
    public var scopeVersion: String
    public init(service: String, resource: [SpanAttribute], scopeName: String = "", scopeVersion: String = "") {
        self.service = service
        self.resource = resource
        self.scopeName = scopeName
        self.scopeVersion = scopeVersion
    }

    /// The origin of spans whose resource has no `service.name` (OTLP's default name).
    public static let unknownService = "unknown_service"
}

/// OTLP span kinds (numbers as in the OTLP protobuf).
public enum SpanKind: UInt8, Sendable, CaseIterable {
    case unspecified = 0, `internal` = 1, server = 2, client = 3, producer = 4, consumer = 5

    /// TraceQL's name (`kind = server`).
    public var traceQLName: String {
        switch self {
        case .unspecified: return "unspecified"
        case .internal: return "internal"
        case .server: return "server"
        case .client: return "client"
        case .producer: return "producer"
        case .consumer: return "consumer"
        }
    }

    /// OTLP's enum name (`SPAN_KIND_SERVER`), as Tempo's metrics generator labels it.
    public var otlpName: String { "SPAN_KIND_" + traceQLName.uppercased() }
}

/// OTLP status codes.
public enum SpanStatus: UInt8, Sendable, CaseIterable {
    case unset = 0, ok = 1, error = 2

    public var traceQLName: String {
        switch self {
        case .unset: return "unset"
        case .ok: return "ok"
        case .error: return "error"
        }
    }

    public var otlpName: String { "STATUS_CODE_" + traceQLName.uppercased() }
}

/// One span. Times are nanoseconds since the Unix epoch. A parent id of 0 means a root span.
public struct Span: Sendable, Equatable {
    public var traceID: TraceID
    public var spanID: UInt64
    public var parentSpanID: UInt64
    public var traceState: String
    public var flags: UInt32
    public var name: String
    public var kind: SpanKind
    public var startNanos: Int64
    public var durationNanos: Int64
    public var status: SpanStatus
    public var statusMessage: String
    public var attributes: [SpanAttribute]
    public var events: [SpanEvent]
    public var links: [SpanLink]
    public var origin: SpanOrigin

    public init(traceID: TraceID, spanID: UInt64, parentSpanID: UInt64 = 0, traceState: String = "", flags: UInt32 = 0,
                name: String, kind: SpanKind = .internal, startNanos: Int64, durationNanos: Int64,
                status: SpanStatus = .unset, statusMessage: String = "", attributes: [SpanAttribute] = [],
                events: [SpanEvent] = [], links: [SpanLink] = [], origin: SpanOrigin) {
        self.traceID = traceID
        self.spanID = spanID
        self.parentSpanID = parentSpanID
        self.traceState = traceState
        self.flags = flags
        self.name = name
        self.kind = kind
        self.startNanos = startNanos
        self.durationNanos = durationNanos
        self.status = status
        self.statusMessage = statusMessage
        self.attributes = attributes
        self.events = events
        self.links = links
        self.origin = origin
    }

    public var service: String { origin.service }
    public var endNanos: Int64 { startNanos &+ durationNanos }
    public var isRoot: Bool { parentSpanID == 0 }
}
