import ArgusModel
import ArgusOTLP
import ArgusStorage

public typealias OTLPLogsRequest = Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceRequest
public typealias OTLPTracesRequest = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest

/// Validates OTLP log requests and stores what is valid in a durable signal log. (Spans go to
/// the span store through `OTLPSpanIngester`.)
public struct OTLPSignalIngester {
    public let logs: SignalLog

    public init(logs: SignalLog) {
        self.logs = logs
    }

    /// Keeps log records whose trace and span ids are empty or of the right length.
    public func ingest(_ req: OTLPLogsRequest) throws -> IngestCounts {
        var counts = IngestCounts()
        var kept = req
        for r in kept.resourceLogs.indices {
            for s in kept.resourceLogs[r].scopeLogs.indices {
                kept.resourceLogs[r].scopeLogs[s].logRecords.removeAll { rec in
                    if !(rec.traceID.isEmpty || rec.traceID.count == 16) {
                        counts.reject("invalid_trace_id", 1, "log record with a trace id of \(rec.traceID.count) bytes (expected 16)")
                        return true
                    }
                    if !(rec.spanID.isEmpty || rec.spanID.count == 8) {
                        counts.reject("invalid_span_id", 1, "log record with a span id of \(rec.spanID.count) bytes (expected 8)")
                        return true
                    }
                    counts.samples += 1
                    return false
                }
            }
        }
        if counts.samples > 0 { try logs.append(try kept.serializedBytes()) }
        return counts
    }
}
