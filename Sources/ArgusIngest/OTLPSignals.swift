import ArgusModel
import ArgusOTLP
import ArgusStorage

public typealias OTLPLogsRequest = Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceRequest
public typealias OTLPTracesRequest = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest

/// Validates OTLP span requests and stores what is valid in a durable signal log. (Logs go to
/// the log store through `OTLPLogIngester`.)
public struct OTLPSignalIngester {
    public let traces: SignalLog

    public init(traces: SignalLog) {
        self.traces = traces
    }

    /// Keeps spans with a 16-byte trace id, an 8-byte span id and a valid parent id.
    public func ingest(_ req: OTLPTracesRequest) throws -> IngestCounts {
        var counts = IngestCounts()
        var kept = req
        for r in kept.resourceSpans.indices {
            for s in kept.resourceSpans[r].scopeSpans.indices {
                kept.resourceSpans[r].scopeSpans[s].spans.removeAll { span in
                    if span.traceID.count != 16 || span.traceID.allSatisfy({ $0 == 0 }) {
                        counts.reject("invalid_trace_id", 1, "span \"\(span.name)\" has an invalid trace id (\(span.traceID.count) bytes; expected 16, not all zero)")
                        return true
                    }
                    if span.spanID.count != 8 || span.spanID.allSatisfy({ $0 == 0 }) {
                        counts.reject("invalid_span_id", 1, "span \"\(span.name)\" has an invalid span id (\(span.spanID.count) bytes; expected 8, not all zero)")
                        return true
                    }
                    if !(span.parentSpanID.isEmpty || span.parentSpanID.count == 8) {
                        counts.reject("invalid_parent_id", 1, "span \"\(span.name)\" has a parent span id of \(span.parentSpanID.count) bytes (expected 8)")
                        return true
                    }
                    counts.samples += 1
                    return false
                }
            }
        }
        if counts.samples > 0 { try traces.append(try kept.serializedBytes()) }
        return counts
    }
}
