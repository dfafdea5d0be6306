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
