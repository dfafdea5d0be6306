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
                    var m = try r.message(wire, "ExportTraceServiceRequest.resource_spans")
                    try decoder.resourceSpans(&m, &counts)
                } else {
                    try r.skip(wire)
                }
            }
            return decoder.out
        }
    }

    struct Decoder {
        var out: [Span] = []
        /// Recent names and keys, so repeated ones share one String.
        var strings = ProtoStringCache()

        mutating func resourceSpans(_ r: inout ProtoReader, _ counts: inout IngestCounts) throws {
            var resource: [SpanAttribute] = []
            var scopeRanges: [Range<Int>] = []
            try r.otlpContainer("ResourceSpans", children: &scopeRanges) { f, w, m in
                if f == 1 {
                    var kv = try m.message(w, "Resource.attributes")
                    resource.append(try attribute(&kv))
                } else {
                    try m.skip(w)
                }
            }
            var service = SpanOrigin.unknownService
            if case .string(let s)? = resource.value("service.name") { service = s }
            for range in scopeRanges {
                var m = r.reader(over: range)
                try scopeSpans(&m, service: service, resource: resource, &counts)
            }
        }

        mutating func scopeSpans(_ r: inout ProtoReader, service: String, resource: [SpanAttribute], _ counts: inout IngestCounts) throws {
            var scopeName = "", scopeVersion = ""
            var spanRanges: [Range<Int>] = []
            try r.otlpContainer("ScopeSpans", children: &spanRanges) { f, w, m in
                switch f {
                case 1: scopeName = try m.string(w, "InstrumentationScope.name")
                case 2: scopeVersion = try m.string(w, "InstrumentationScope.version")
                default: try m.skip(w)
                }
            }
            let origin = SpanOrigin(service: service, resource: resource, scopeName: scopeName, scopeVersion: scopeVersion)
            out.reserveForAppending(spanRanges.count)
            for range in spanRanges {
                var m = r.reader(over: range)
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
                case 1: traceID = try r.bytesRange(wire, "Span.trace_id")
                case 2: spanIDRange = try r.bytesRange(wire, "Span.span_id")
                case 3: traceState = try r.string(wire, "Span.trace_state")
                case 4: parentRange = try r.bytesRange(wire, "Span.parent_span_id")
                case 5: name = try strings.read(&r, wire, "Span.name")
                case 6: kind = SpanKind(rawValue: try r.enumByte(wire, "Span.kind")) ?? .unspecified
                case 7: startNanos = try r.fixed64(wire, "Span.start_time_unix_nano")
                case 8: endNanos = try r.fixed64(wire, "Span.end_time_unix_nano")
                case 9:
                    var kv = try r.message(wire, "Span.attributes")
                    if attributes.isEmpty { attributes.reserveCapacity(8) }
                    attributes.append(try attribute(&kv))
                case 11:
                    var m = try r.message(wire, "Span.events")
                    events.append(try event(&m))
                case 13:
                    var m = try r.message(wire, "Span.links")
                    if let link = try link(&m) { links.append(link) }
                case 15:
                    var m = try r.message(wire, "Span.status")
                    while !m.isAtEnd {
                        let (f, w) = try m.tag()
                        switch f {
                        case 2: statusMessage = try m.string(w, "Status.message")
                        case 3: status = SpanStatus(rawValue: try m.enumByte(w, "Status.code")) ?? .unset
                        default: try m.skip(w)
                        }
                    }
                case 16:
                    flags = try r.fixed32(wire, "Span.flags")
                default:
                    try r.skip(wire)
                }
            }
            guard traceID.count == 16, let tid = TraceID(bytes: r.bytes(traceID)), !tid.isZero else {
                counts.reject("invalid_trace_id", 1, "span \"\(name)\" has an invalid trace id (\(traceID.count) bytes; expected 16, not all zero)")
                return nil
            }
            guard spanIDRange.count == 8, let sid = ArgusModel.spanID(bytes: r.bytes(spanIDRange)), sid != 0 else {
                counts.reject("invalid_span_id", 1, "span \"\(name)\" has an invalid span id (\(spanIDRange.count) bytes; expected 8, not all zero)")
                return nil
            }
            var pid: UInt64 = 0
            if !parentRange.isEmpty {
                guard let p = ArgusModel.spanID(bytes: r.bytes(parentRange)) else {
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
                case 1: e.timeNanos = Int64(truncatingIfNeeded: try r.fixed64(w, "Event.time_unix_nano"))
                case 2: e.name = try strings.read(&r, w, "Event.name")
                case 3:
                    var kv = try r.message(w, "Event.attributes")
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
                case 1: traceID = try r.bytesRange(w, "Link.trace_id")
                case 2: spanIDRange = try r.bytesRange(w, "Link.span_id")
                case 3: traceState = try r.string(w, "Link.trace_state")
                case 4:
                    var kv = try r.message(w, "Link.attributes")
                    attributes.append(try attribute(&kv))
                default: try r.skip(w)
                }
            }
            guard let tid = TraceID(bytes: r.bytes(traceID)),
                  let sid = ArgusModel.spanID(bytes: r.bytes(spanIDRange)) else { return nil }
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
                case 1: key = try strings.read(&r, w, "KeyValue.key")
                case 2:
                    let range = try r.bytesRange(w, "KeyValue.value")
                    var v = r.reader(over: range)
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
                case 1: value = .string(try r.string(w, "AnyValue.string_value"))
                case 2: value = .bool(try r.varint(w, "AnyValue.bool_value") != 0)
                case 3: value = .int(Int64(bitPattern: try r.varint(w, "AnyValue.int_value")))
                case 4: value = .double(Double(bitPattern: try r.fixed64(w, "AnyValue.double_value")))
                case 5, 6, 7:
                    _ = try r.bytesRange(w, "AnyValue")
                    value = .raw(Array(r.bytes(whole)))
                default: try r.skip(w)
                }
            }
            return value
        }

    }

}
