import ArgusModel
import ArgusOTLP
import Foundation

/// Loki's push API (`POST /loki/api/v1/push`, JSON): streams of `[timestamp_ns, line]` or
/// `[timestamp_ns, line, {structured metadata}]` become OTLP log records, the stream labels
/// their resource attributes, so the log store reads one format.
public enum LokiPush {
    public static func decodeJSON(_ body: [UInt8], now: Int64) throws -> (OTLPLogsRequest, Int) {
        let obj: Any
        do {
            obj = try JSONSerialization.jsonObject(with: Data(body))
        } catch {
            throw ArgusError(.badInput, "loghttp.PushRequest: cannot parse the JSON body: \(error.localizedDescription)")
        }
        guard let root = obj as? [String: Any], let streams = root["streams"] as? [Any] else {
            throw ArgusError(.badInput, "loghttp.PushRequest: expected an object with a \"streams\" array")
        }
        var req = OTLPLogsRequest()
        var count = 0
        for (si, s) in streams.enumerated() {
            guard let stream = s as? [String: Any] else { throw ArgusError(.badInput, "streams[\(si)]: expected an object") }
            let labels = stream["stream"] as? [String: Any] ?? stream["labels"].flatMap { _ in nil } ?? [:]
            var rl = Opentelemetry_Proto_Logs_V1_ResourceLogs()
            for (k, v) in labels.sorted(by: { $0.key < $1.key }) {
                guard let sv = v as? String else { throw ArgusError(.badInput, "streams[\(si)].stream.\(k): label values must be strings") }
                guard NameRules.isValidLabelName(k) else { throw ArgusError(.badInput, "streams[\(si)]: invalid label name \(quoteLabelValue(k))") }
                var kv = Opentelemetry_Proto_Common_V1_KeyValue()
                kv.key = k
                kv.value.stringValue = sv
                rl.resource.attributes.append(kv)
            }
            guard !rl.resource.attributes.isEmpty else { throw ArgusError(.badInput, "streams[\(si)]: a stream needs at least one label") }
            guard let values = stream["values"] as? [Any] else { throw ArgusError(.badInput, "streams[\(si)]: expected a \"values\" array") }
            var sl = Opentelemetry_Proto_Logs_V1_ScopeLogs()
            for (vi, e) in values.enumerated() {
                guard let entry = e as? [Any], entry.count >= 2, let tsText = entry[0] as? String, let line = entry[1] as? String else {
                    throw ArgusError(.badInput, "streams[\(si)].values[\(vi)]: expected [\"<unix epoch in nanoseconds>\", \"<log line>\"]")
                }
                guard let ns = UInt64(tsText) else {
                    throw ArgusError(.badInput, "streams[\(si)].values[\(vi)]: timestamp \"\(tsText)\" is not a unix epoch in nanoseconds")
                }
                var rec = Opentelemetry_Proto_Logs_V1_LogRecord()
                rec.timeUnixNano = ns
                rec.observedTimeUnixNano = UInt64(now) * 1_000_000
                rec.body.stringValue = line
                if entry.count >= 3, let meta = entry[2] as? [String: Any] {
                    for (k, v) in meta.sorted(by: { $0.key < $1.key }) {
                        guard let sv = v as? String else { continue }
                        var kv = Opentelemetry_Proto_Common_V1_KeyValue()
                        kv.key = k
                        kv.value.stringValue = sv
                        rec.attributes.append(kv)
                        if k == "trace_id" || k == "traceID", let id = OTLPDecoding.hexBytes(sv), id.count == 16 { rec.traceID = Data(id) }
                    }
                }
                sl.logRecords.append(rec)
                count += 1
            }
            rl.scopeLogs = [sl]
            req.resourceLogs.append(rl)
        }
        return (req, count)
    }
}

extension LokiPush {
    /// Loki's protobuf push (`logproto.PushRequest`, already snappy-decompressed): streams (1)
    /// of labels in Prometheus' text form (1) and entries (2) with a `google.protobuf.Timestamp`
    /// (1: seconds, nanos), the line (2) and structured metadata pairs (3: name, value).
    public static func decodeProtobuf(_ body: [UInt8], now: Int64) throws -> (OTLPLogsRequest, Int) {
        var req = OTLPLogsRequest()
        var count = 0
        try body.withUnsafeBytes { raw in
            var r = ProtoReader(raw)
            var si = 0
            while !r.isAtEnd {
                let (field, wire) = try r.tag()
                guard field == 1, wire == .bytes else { try r.skip(wire); continue }
                var s = try r.message()
                var labelText = ""
                var records: [Opentelemetry_Proto_Logs_V1_LogRecord] = []
                while !s.isAtEnd {
                    let (f, w) = try s.tag()
                    switch (f, w) {
                    case (1, .bytes): labelText = try s.string("the stream's labels")
                    case (2, .bytes):
                        var e = try s.message()
                        var rec = Opentelemetry_Proto_Logs_V1_LogRecord()
                        rec.observedTimeUnixNano = UInt64(now) * 1_000_000
                        var seconds: Int64 = 0, nanos: Int64 = 0
                        while !e.isAtEnd {
                            let (ef, ew) = try e.tag()
                            switch (ef, ew) {
                            case (1, .bytes):
                                var ts = try e.message()
                                while !ts.isAtEnd {
                                    let (tf, tw) = try ts.tag()
                                    switch (tf, tw) {
                                    case (1, .varint): seconds = Int64(bitPattern: try ts.varint())
                                    case (2, .varint): nanos = Int64(Int32(truncatingIfNeeded: try ts.varint()))
                                    default: try ts.skip(tw)
                                    }
                                }
                            case (2, .bytes): rec.body.stringValue = try e.string("a log line")
                            case (3, .bytes):
                                var p = try e.message()
                                var name = "", value = ""
                                while !p.isAtEnd {
                                    let (pf, pw) = try p.tag()
                                    switch (pf, pw) {
                                    case (1, .bytes): name = try p.string("a structured metadata name")
                                    case (2, .bytes): value = try p.string("a structured metadata value")
                                    default: try p.skip(pw)
                                    }
                                }
                                var kv = Opentelemetry_Proto_Common_V1_KeyValue()
                                kv.key = name
                                kv.value.stringValue = value
                                rec.attributes.append(kv)
                                if name == "trace_id" || name == "traceID", let id = OTLPDecoding.hexBytes(value), id.count == 16 { rec.traceID = Data(id) }
                            default: try e.skip(ew)
                            }
                        }
                        // (Past 2262 nanoseconds since the epoch no longer fit in 64 bits.)
                        guard seconds >= 0, seconds < Int64.max / 1_000_000_000, nanos >= 0, nanos < 1_000_000_000 else {
                            throw ArgusError(.badInput, "streams[\(si)].entries[\(records.count)]: invalid timestamp \(seconds)s \(nanos)ns")
                        }
                        rec.timeUnixNano = UInt64(seconds) * 1_000_000_000 + UInt64(nanos)
                        records.append(rec)
                    default: try s.skip(w)
                    }
                }
                let matchers: [Matcher]
                do { matchers = try SelectorParser.parse(labelText) } catch {
                    throw ArgusError(.badInput, "streams[\(si)]: cannot parse the labels \(quoteLabelValue(labelText)): \(error)")
                }
                var rl = Opentelemetry_Proto_Logs_V1_ResourceLogs()
                for m in matchers.sorted(by: { $0.name < $1.name }) {
                    guard m.kind == .equal, NameRules.isValidLabelName(m.name) else {
                        throw ArgusError(.badInput, "streams[\(si)]: labels must be name=\"value\" pairs, got \(quoteLabelValue(labelText))")
                    }
                    var kv = Opentelemetry_Proto_Common_V1_KeyValue()
                    kv.key = m.name
                    kv.value.stringValue = m.value
                    rl.resource.attributes.append(kv)
                }
                guard !rl.resource.attributes.isEmpty else { throw ArgusError(.badInput, "streams[\(si)]: a stream needs at least one label") }
                var sl = Opentelemetry_Proto_Logs_V1_ScopeLogs()
                sl.logRecords = records
                count += records.count
                rl.scopeLogs = [sl]
                req.resourceLogs.append(rl)
                si += 1
            }
        }
        return (req, count)
    }
}
