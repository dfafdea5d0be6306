import ArgusModel
import ArgusOTLP
import ArgusStorage

/// Decodes a binary OTLP `ExportLogsServiceRequest` straight from the wire into log store
/// batches, giving what `OTLPLogIngester.convert` gives for the decoded message (the same
/// streams, records, attributes and rejections) without building the messages first.
/// Fields may come in any order; unknown fields are skipped; a wrong wire type, a truncated
/// message or a string that is not UTF-8 fails the request, as in SwiftProtobuf.
public enum OTLPLogWire {
    public static func batches(_ body: [UInt8], mode: OTLPLogIngester.LabelMode, now: Int64, counts: inout IngestCounts) throws -> [LogStreamBatch] {
        try body.withUnsafeBytes { raw in
            var d = Decoder(builder: LogBatchBuilder(mode: mode), now: now)
            var r = ProtoReader(raw)
            while !r.isAtEnd {
                let (field, wire) = try r.tag()
                if field == 1 {
                    var m = try r.message(wire, "ExportLogsServiceRequest.resource_logs")
                    try d.resourceLogs(&m, &counts)
                } else {
                    try r.skip(wire)
                }
            }
            return d.builder.batches
        }
    }

    struct Decoder {
        var builder: LogBatchBuilder
        let now: Int64
        var strings = ProtoStringCache()

        init(builder: LogBatchBuilder, now: Int64) {
            self.builder = builder
            self.now = now
        }

        mutating func resourceLogs(_ r: inout ProtoReader, _ counts: inout IngestCounts) throws {
            var resource: [(String, String)] = []
            var scopeRanges: [Range<Int>] = []
            try r.otlpContainer("ResourceLogs", children: &scopeRanges) { f, w, m in
                if f == 1 {
                    var kv = try m.message(w, "Resource.attributes")
                    resource.append(try keyValue(&kv))
                } else {
                    try m.skip(w)
                }
            }
            let (labels, resourceMeta) = builder.stream(resource)
            var records: [LogRecord] = []
            for range in scopeRanges {
                var m = r.reader(over: range)
                try scopeLogs(&m, resourceMeta, into: &records, &counts)
            }
            builder.add(labels, records)
        }

        mutating func scopeLogs(_ r: inout ProtoReader, _ resourceMeta: [(name: String, value: String)], into records: inout [LogRecord],
                                _ counts: inout IngestCounts) throws {
            var scope = ""
            var recordRanges: [Range<Int>] = []
            try r.otlpContainer("ScopeLogs", children: &recordRanges) { f, w, m in
                if f == 1 { scope = try strings.read(&m, w, "InstrumentationScope.name") } else { try m.skip(w) }
            }
            records.reserveForAppending(recordRanges.count)
            for range in recordRanges {
                var m = r.reader(over: range)
                if let rec = try record(&m, resourceMeta, scope, &counts) { records.append(rec) }
            }
        }

        mutating func record(_ r: inout ProtoReader, _ resourceMeta: [(name: String, value: String)], _ scope: String,
                             _ counts: inout IngestCounts) throws -> LogRecord? {
            var time: UInt64 = 0, observed: UInt64 = 0
            var severity: UInt8 = 0
            var severityText = "", body = ""
            var attrs: [(name: String, value: String)] = []
            var traceID: Range<Int> = 0..<0, spanID: Range<Int> = 0..<0
            while !r.isAtEnd {
                let (f, w) = try r.tag()
                switch f {
                case 1: time = try r.fixed64(w, "LogRecord.time_unix_nano")
                case 2: severity = try r.enumByte(w, "LogRecord.severity_number")
                case 3: severityText = try strings.read(&r, w, "LogRecord.severity_text")
                case 5:
                    var m = try r.message(w, "LogRecord.body")
                    body = try anyValue(&m)
                case 6:
                    var kv = try r.message(w, "LogRecord.attributes")
                    if attrs.isEmpty { attrs.reserveCapacity(4 + resourceMeta.count) }
                    let (k, v) = try keyValue(&kv)
                    attrs.append((builder.attributeName(k), v))
                case 9: traceID = try r.bytesRange(w, "LogRecord.trace_id")
                case 10: spanID = try r.bytesRange(w, "LogRecord.span_id")
                case 11: observed = try r.fixed64(w, "LogRecord.observed_time_unix_nano")
                default: try r.skip(w)
                }
            }
            guard builder.validIDs(traceID: traceID.count, spanID: spanID.count, &counts) else { return nil }
            builder.finish(&attrs, resourceMeta: resourceMeta, scope: scope)
            counts.samples += 1
            return LogRecord(time: LogBatchBuilder.time(time, observed: observed, now: now), observedTime: Int64(truncatingIfNeeded: observed),
                             severityNumber: severity, severityText: severityText, body: body, attributes: attrs,
                             traceID: traceID.isEmpty ? [] : Array(r.bytes(traceID)), spanID: spanID.isEmpty ? [] : Array(r.bytes(spanID)))
        }

        mutating func keyValue(_ r: inout ProtoReader) throws -> (String, String) {
            var key = "", value = ""
            while !r.isAtEnd {
                let (f, w) = try r.tag()
                switch f {
                case 1: key = try strings.read(&r, w, "KeyValue.key")
                case 2:
                    var m = try r.message(w, "KeyValue.value")
                    value = try anyValue(&m)
                default: try r.skip(w)
                }
            }
            return (key, value)
        }

        /// An `AnyValue` as the log store's text (as `OTLPValues.string` renders it); arrays,
        /// maps and bytes, which are rare, go through the message decoder.
        mutating func anyValue(_ r: inout ProtoReader) throws -> String {
            let whole = r.pos..<r.end
            var value = ""
            while !r.isAtEnd {
                let (f, w) = try r.tag()
                switch f {
                case 1: value = try r.string(w, "AnyValue.string_value")
                case 2: value = try r.varint(w, "AnyValue.bool_value") != 0 ? "true" : "false"
                case 3: value = String(Int64(bitPattern: try r.varint(w, "AnyValue.int_value")))
                case 4: value = OTLPNaming.formatFloat(Double(bitPattern: try r.fixed64(w, "AnyValue.double_value")))
                case 5, 6, 7:
                    _ = try r.bytesRange(w, "AnyValue")
                    do {
                        value = OTLPValues.string(try OTLPAnyValue(serializedBytes: Array(r.bytes(whole))))
                    } catch {
                        throw ArgusError(.badInput, "cannot decode an OTLP AnyValue: \(error)")
                    }
                default: try r.skip(w)
                }
            }
            return value
        }
    }
}
