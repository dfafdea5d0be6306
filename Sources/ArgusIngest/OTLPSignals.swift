import ArgusModel
import ArgusOTLP
import ArgusStorage

public typealias OTLPLogsRequest = Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceRequest
public typealias OTLPTracesRequest = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest

// OTLP logs go to the log store through `OTLPLogIngester`, spans to the span store through
// `OTLPSpanIngester`. Records left in the durable signal logs of earlier versions
// (data/signals/logs, data/signals/traces) are imported into those stores at start.
