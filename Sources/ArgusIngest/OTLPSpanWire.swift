import ArgusModel

/// Decodes a binary OTLP `ExportTraceServiceRequest` straight from the wire into `Span`s,
/// without building SwiftProtobuf messages first (building them and converting cost about four
/// times the rest of the ingest path).
///
/// It accepts what the SwiftProtobuf decoder accepts and gives the same spans: fields in any
/// order, unknown fields skipped, the last occurrence of a scalar winning, repeated resource
/// and scope messages merged. A field with the wrong wire type, a truncated message or a string
/// that is not UTF-8 fails the whole request, as it does there.
public enum OTLPSpanWire {
    /// The valid spans of a request body, and what was rejected (invalid ids or times).
    public static func spans(_ body: [UInt8], counts: inout IngestCounts) throws -> [Span] {
        try body.withUnsafeBytes { raw in
            var decoder = Decoder()
            var r = ProtoReader(raw)
            while !r.isAtEnd {
                let (field, wire) = try r.tag()
                if field == 1 {
                    var m = try message(&r, wire, "ExportTraceServiceRequest.resource_spans")
                    try decoder.resourceSpans(&m, &counts)
                } else {
                    try r.skip(wire)
                }
            }
            return decoder.out
        }
    }

    @inline(__always) static func message(_ r: inout ProtoReader, _ wire: ProtoReader.WireType, _ what: StaticString) throws -> ProtoReader {
        guard wire == .bytes else { throw wrongWire(what, wire) }
        return try r.message()
    }

    static func wrongWire(_ what: StaticString, _ wire: ProtoReader.WireType) -> ArgusError {
        ArgusError(.badInput, "invalid protobuf: \(what) has wire type \(wire.rawValue)")
    }

    struct Decoder {
        var out: [Span] = []
        /// Byte ranges of one ResourceSpans' scope_spans, or one ScopeSpans' spans (read after
        /// the resource or scope, which may come later on the wire).
        var scopeRanges: [Range<Int>] = []
        var spanRanges: [Range<Int>] = []
        /// Recent names and keys, so repeated ones share one String.
        var strings = StringInterner()

        mutating func resourceSpans(_ r: inout ProtoReader, _ counts: inout IngestCounts) throws {
            var resource: [SpanAttribute] = []
            scopeRanges.removeAll(keepingCapacity: true)
            while !r.isAtEnd {
                let (field, wire) = try r.tag()
                switch field {
                case 1:
                    var m = try message(&r, wire, "ResourceSpans.resource")
                    while !m.isAtEnd {
                        let (f, w) = try m.tag()
                        if f == 1 {
                            var kv = try message(&m, w, "Resource.attributes")
                            resource.append(try attribute(&kv))
                        } else {
                            try m.skip(w)
                        }
                    }
                case 2:
                    guard wire == .bytes else { throw wrongWire("ResourceSpans.scope_spans", wire) }
                    scopeRanges.append(try r.bytesRange())
                default:
                    try r.skip(wire)
                }
            }
            var service = SpanOrigin.unknownService
            if case .string(let s)? = resource.value("service.name") { service = s }
            let scopes = scopeRanges
            for range in scopes {
                var m = ProtoReader(r.base, from: range.lowerBound, to: range.upperBound)
                try scopeSpans(&m, service: service, resource: resource, &counts)
            }
        }

        mutating func scopeSpans(_ r: inout ProtoReader, service: String, resource: [SpanAttribute], _ counts: inout IngestCounts) throws {
            var scopeName = "", scopeVersion = ""
            spanRanges.removeAll(keepingCapacity: true)
            while !r.isAtEnd {
                let (field, wire) = try r.tag()
                switch field {
                case 1:
                    var m = try message(&r, wire, "ScopeSpans.scope")
                    while !m.isAtEnd {
                        let (f, w) = try m.tag()
                        switch f {
                        case 1: scopeName = try string(&m, w, "InstrumentationScope.name")
                        case 2: scopeVersion = try string(&m, w, "InstrumentationScope.version")
                        default: try m.skip(w)
                        }
                    }
                case 2:
                    guard wire == .bytes else { throw wrongWire("ScopeSpans.spans", wire) }
                    spanRanges.append(try r.bytesRange())
                default:
                    try r.skip(wire)
                }
            }
            let origin = SpanOrigin(service: service, resource: resource, scopeName: scopeName, scopeVersion: scopeVersion)
            out.reserveForAppending(spanRanges.count)
            let spans = spanRanges
            for range in spans {
                var m = ProtoReader(r.base, from: range.lowerBound, to: range.upperBound)
                if let span = try span(&m, origin, &counts) { out.append(span) }
            }
        }

        /// One span, or nil (counted) when its ids or times are invalid.
        mutating func span(_ r: inout ProtoReader, _ origin: SpanOrigin, _ counts: inout IngestCounts) throws -> Span? {
            var traceID: Range<Int> = 0..<0, spanIDRange: Range<Int> = 0..<0, parentRange: Range<Int> = 0..<0
            var traceState = "", name = "", statusMessage = ""
            var flags: UInt32 = 0
            var kind = SpanKind.unspecified, status = SpanStatus.unset
            var startNanos: UInt64 = 0, endNanos: UInt64 = 0
            var attributes: [SpanAttribute] = []
            var events: [SpanEvent] = []
            var links: [SpanLink] = []
            while !r.isAtEnd {
                let (field, wire) = try r.tag()
                switch field {
                case 1: traceID = try bytes(&r, wire, "Span.trace_id")
                case 2: spanIDRange = try bytes(&r, wire, "Span.span_id")
                case 3: traceState = try string(&r, wire, "Span.trace_state")
                case 4: parentRange = try bytes(&r, wire, "Span.parent_span_id")
                case 5: name = try internedString(&r, wire, "Span.name")
                case 6: kind = SpanKind(rawValue: enumValue(try varint(&r, wire, "Span.kind"))) ?? .unspecified
                case 7: startNanos = try fixed64(&r, wire, "Span.start_time_unix_nano")
                case 8: endNanos = try fixed64(&r, wire, "Span.end_time_unix_nano")
                case 9:
                    var kv = try message(&r, wire, "Span.attributes")
                    if attributes.isEmpty { attributes.reserveCapacity(8) }
                    attributes.append(try attribute(&kv))
                case 11:
                    var m = try message(&r, wire, "Span.events")
                    events.append(try event(&m))
                case 13:
                    var m = try message(&r, wire, "Span.links")
                    if let link = try link(&m) { links.append(link) }
                case 15:
                    var m = try message(&r, wire, "Span.status")
                    while !m.isAtEnd {
                        let (f, w) = try m.tag()
                        switch f {
                        case 2: statusMessage = try string(&m, w, "Status.message")
                        case 3: status = SpanStatus(rawValue: enumValue(try varint(&m, w, "Status.code"))) ?? .unset
                        default: try m.skip(w)
                        }
                    }
                case 16:
                    guard wire == .fixed32 else { throw wrongWire("Span.flags", wire) }
                    flags = try r.fixed32()
                default:
                    try r.skip(wire)
                }
            }
            let base = r.base
            guard traceID.count == 16, let tid = TraceID(bytes: UnsafeRawBufferPointer(rebasing: base[traceID])), !tid.isZero else {
                counts.reject("invalid_trace_id", 1, "span \"\(name)\" has an invalid trace id (\(traceID.count) bytes; expected 16, not all zero)")
                return nil
            }
            guard spanIDRange.count == 8, let sid = ArgusModel.spanID(bytes: UnsafeRawBufferPointer(rebasing: base[spanIDRange])), sid != 0 else {
                counts.reject("invalid_span_id", 1, "span \"\(name)\" has an invalid span id (\(spanIDRange.count) bytes; expected 8, not all zero)")
                return nil
            }
            var pid: UInt64 = 0
            if !parentRange.isEmpty {
                guard let p = ArgusModel.spanID(bytes: UnsafeRawBufferPointer(rebasing: base[parentRange])) else {
                    counts.reject("invalid_parent_id", 1, "span \"\(name)\" has a parent span id of \(parentRange.count) bytes (expected 8)")
                    return nil
                }
                pid = p
            }
            let start = Int64(truncatingIfNeeded: startNanos)
            guard endNanos >= startNanos, endNanos <= UInt64(Int64.max) else {
                counts.reject("invalid_time", 1, "span \"\(name)\" ends (\(endNanos)) before it starts (\(startNanos))")
                return nil
            }
            counts.samples += 1
            return Span(traceID: tid, spanID: sid, parentSpanID: pid, traceState: traceState, flags: flags, name: name, kind: kind,
                        startNanos: start, durationNanos: Int64(truncatingIfNeeded: endNanos) - start, status: status,
                        statusMessage: statusMessage, attributes: attributes, events: events, links: links, origin: origin)
        }

        mutating func event(_ r: inout ProtoReader) throws -> SpanEvent {
            var e = SpanEvent(timeNanos: 0, name: "")
            while !r.isAtEnd {
                let (f, w) = try r.tag()
                switch f {
                case 1: e.timeNanos = Int64(truncatingIfNeeded: try fixed64(&r, w, "Event.time_unix_nano"))
                case 2: e.name = try internedString(&r, w, "Event.name")
                case 3:
                    var kv = try message(&r, w, "Event.attributes")
                    e.attributes.append(try attribute(&kv))
                default: try r.skip(w)
                }
            }
            return e
        }

        /// A link, or nil when its ids are malformed (dropped, as the message converter does).
        mutating func link(_ r: inout ProtoReader) throws -> SpanLink? {
            var traceID: Range<Int> = 0..<0, spanIDRange: Range<Int> = 0..<0
            var traceState = ""
            var attributes: [SpanAttribute] = []
            while !r.isAtEnd {
                let (f, w) = try r.tag()
                switch f {
                case 1: traceID = try bytes(&r, w, "Link.trace_id")
                case 2: spanIDRange = try bytes(&r, w, "Link.span_id")
                case 3: traceState = try string(&r, w, "Link.trace_state")
                case 4:
                    var kv = try message(&r, w, "Link.attributes")
                    attributes.append(try attribute(&kv))
                default: try r.skip(w)
                }
            }
            guard let tid = TraceID(bytes: UnsafeRawBufferPointer(rebasing: r.base[traceID])),
                  let sid = ArgusModel.spanID(bytes: UnsafeRawBufferPointer(rebasing: r.base[spanIDRange])) else { return nil }
            return SpanLink(traceID: tid, spanID: sid, traceState: traceState, attributes: attributes)
        }

        /// A `KeyValue`. A missing value is the empty string; arrays, key-value lists and bytes
        /// keep their `AnyValue` encoding.
        mutating func attribute(_ r: inout ProtoReader) throws -> SpanAttribute {
            var key = ""
            var value = SpanValue.string("")
            while !r.isAtEnd {
                let (f, w) = try r.tag()
                switch f {
                case 1: key = try internedString(&r, w, "KeyValue.key")
                case 2:
                    guard w == .bytes else { throw wrongWire("KeyValue.value", w) }
                    let range = try r.bytesRange()
                    var v = ProtoReader(r.base, from: range.lowerBound, to: range.upperBound)
                    value = try anyValue(&v, range)
                default: try r.skip(w)
                }
            }
            return SpanAttribute(key, value)
        }

        mutating func anyValue(_ r: inout ProtoReader, _ whole: Range<Int>) throws -> SpanValue {
            var value = SpanValue.string("")
            while !r.isAtEnd {
                let (f, w) = try r.tag()
                switch f {
                case 1: value = .string(try string(&r, w, "AnyValue.string_value"))
                case 2: value = .bool(try varint(&r, w, "AnyValue.bool_value") != 0)
                case 3: value = .int(Int64(bitPattern: try varint(&r, w, "AnyValue.int_value")))
                case 4: value = .double(Double(bitPattern: try fixed64(&r, w, "AnyValue.double_value")))
                case 5, 6, 7:
                    _ = try bytes(&r, w, "AnyValue")
                    value = .raw(Array(UnsafeRawBufferPointer(rebasing: r.base[whole])))
                default: try r.skip(w)
                }
            }
            return value
        }

        @inline(__always) mutating func internedString(_ r: inout ProtoReader, _ wire: ProtoReader.WireType, _ what: StaticString) throws -> String {
            guard wire == .bytes else { throw wrongWire(what, wire) }
            let range = try r.bytesRange()
            return try strings.string(UnsafeRawBufferPointer(rebasing: r.base[range]), what)
        }
    }

    @inline(__always) static func enumValue(_ v: UInt64) -> UInt8 {
        // Enums are int32 on the wire; negative and large values are unknown kinds.
        UInt8(clamping: Int32(truncatingIfNeeded: v))
    }

    @inline(__always) static func bytes(_ r: inout ProtoReader, _ wire: ProtoReader.WireType, _ what: StaticString) throws -> Range<Int> {
        guard wire == .bytes else { throw wrongWire(what, wire) }
        return try r.bytesRange()
    }

    @inline(__always) static func string(_ r: inout ProtoReader, _ wire: ProtoReader.WireType, _ what: StaticString) throws -> String {
        guard wire == .bytes else { throw wrongWire(what, wire) }
        return try r.string("\(what)")
    }

    @inline(__always) static func varint(_ r: inout ProtoReader, _ wire: ProtoReader.WireType, _ what: StaticString) throws -> UInt64 {
        guard wire == .varint else { throw wrongWire(what, wire) }
        return try r.varint()
    }

    @inline(__always) static func fixed64(_ r: inout ProtoReader, _ wire: ProtoReader.WireType, _ what: StaticString) throws -> UInt64 {
        guard wire == .fixed64 else { throw wrongWire(what, wire) }
        return try r.fixed64()
    }
}

/// A small direct-mapped cache of recently decoded strings: span names and attribute keys repeat
/// from span to span, and sharing one String saves an allocation and UTF-8 validation each.
struct StringInterner {
    static let slots = 256
    var entries: [(bytes: [UInt8], string: String)?] = Array(repeating: nil, count: StringInterner.slots)

    mutating func string(_ bytes: UnsafeRawBufferPointer, _ what: StaticString) throws -> String {
        // Short strings are stored inline in String: no allocation to save.
        if bytes.count <= 15 {
            guard let s = String(validating: bytes, as: UTF8.self) else { throw ArgusError(.badInput, "\(what) is not valid UTF-8") }
            return s
        }
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        let slot = Int(truncatingIfNeeded: h & UInt64(StringInterner.slots - 1))
        if let e = entries[slot], e.bytes.elementsEqual(bytes) { return e.string }
        guard let s = String(validating: bytes, as: UTF8.self) else { throw ArgusError(.badInput, "\(what) is not valid UTF-8") }
        entries[slot] = (Array(bytes), s)
        return s
    }
}
