/// One series of a range query: its labels, display name and points (seconds, value).
public struct SeriesData: Sendable, Equatable {
    public var labels: [String: String]
    public var name: String
    public var times: [Double]
    public var values: [Double]

    public init(labels: [String: String], name: String, times: [Double], values: [Double]) {
        self.labels = labels
        self.name = name
        self.times = times
        self.values = values
    }

    public var last: Double? { values.last(where: { $0.isFinite }) }
    public var min: Double? { values.filter(\.isFinite).min() }
    public var max: Double? { values.filter(\.isFinite).max() }
}

/// One sample of an instant query.
public struct VectorSample: Sendable, Equatable {
    public var labels: [String: String]
    public var name: String
    public var time: Double
    public var value: Double
    public init(labels: [String: String], name: String, time: Double, value: Double) {
        self.labels = labels
        self.name = name
        self.time = time
        self.value = value
    }
}

/// An exemplar from `/api/v1/query_exemplars`: a sample with a trace id.
public struct ExemplarPoint: Sendable, Equatable {
    public var seriesName: String
    public var labels: [String: String]
    public var time: Double
    public var value: Double
    public init(seriesName: String, labels: [String: String], time: Double, value: Double) {
        self.seriesName = seriesName
        self.labels = labels
        self.time = time
        self.value = value
    }
    /// The trace id, under the names OpenTelemetry and Prometheus clients use.
    public var traceID: String? { labels["trace_id"] ?? labels["traceID"] ?? labels["traceId"] }
}

/// A log line from Loki's query_range streams.
public struct LogLine: Sendable, Equatable {
    public var timeNanos: Int64
    public var line: String
    public var labels: [String: String]
    /// Structured metadata (Loki 3), e.g. trace_id, span_id, severity_text.
    public var metadata: [String: String]

    public init(timeNanos: Int64, line: String, labels: [String: String], metadata: [String: String] = [:]) {
        self.timeNanos = timeNanos
        self.line = line
        self.labels = labels
        self.metadata = metadata
    }

    /// The level from labels or metadata (`level`, `detected_level`, `severity_text`), else one
    /// guessed from the line's text; lower case.
    public var severity: String {
        for k in ["level", "detected_level", "severity_text", "severity"] {
            if let v = metadata[k] ?? labels[k], !v.isEmpty { return v.lowercased() }
        }
        let head = line.prefix(200).lowercased()
        for l in ["fatal", "error", "warn", "info", "debug", "trace"] where head.contains("level=\(l)") || head.contains("\"level\":\"\(l)") || head.contains("[\(l)") || head.hasPrefix(l) {
            return l
        }
        return ""
    }
}

/// A trace found by Tempo's search.
public struct TraceSummary: Sendable, Equatable {
    public var traceID: String
    public var rootService: String
    public var rootName: String
    public var startNanos: Int64
    public var durationMs: Double
    public init(traceID: String, rootService: String, rootName: String, startNanos: Int64, durationMs: Double) {
        self.traceID = traceID
        self.rootService = rootService
        self.rootName = rootName
        self.startNanos = startNanos
        self.durationMs = durationMs
    }
}

/// One span of a fetched trace.
public struct TraceSpan: Sendable, Equatable {
    public var traceID: String
    public var spanID: String
    public var parentID: String
    public var name: String
    public var service: String
    public var kind: String
    public var startNanos: Int64
    public var endNanos: Int64
    /// OTLP status code: 0 unset, 1 ok, 2 error.
    public var statusCode: Int
    public var statusMessage: String
    public var attributes: [(String, String)]

    public init(traceID: String, spanID: String, parentID: String, name: String, service: String, kind: String = "",
                startNanos: Int64, endNanos: Int64, statusCode: Int = 0, statusMessage: String = "", attributes: [(String, String)] = []) {
        self.traceID = traceID
        self.spanID = spanID
        self.parentID = parentID
        self.name = name
        self.service = service
        self.kind = kind
        self.startNanos = startNanos
        self.endNanos = endNanos
        self.statusCode = statusCode
        self.statusMessage = statusMessage
        self.attributes = attributes
    }

    public var isError: Bool { statusCode == 2 }
    public var durationNanos: Int64 { max(0, endNanos - startNanos) }

    public static func == (a: TraceSpan, b: TraceSpan) -> Bool {
        a.traceID == b.traceID && a.spanID == b.spanID && a.parentID == b.parentID && a.name == b.name && a.service == b.service
            && a.kind == b.kind && a.startNanos == b.startNanos && a.endNanos == b.endNanos && a.statusCode == b.statusCode
            && a.statusMessage == b.statusMessage && a.attributes.map { $0.0 + "=" + $0.1 } == b.attributes.map { $0.0 + "=" + $0.1 }
    }
}

/// What a panel has to show.
public enum PanelData: Sendable, Equatable {
    case loading
    case series([SeriesData], exemplars: [ExemplarPoint])
    case vector([VectorSample])
    case logs([LogLine])
    case traces([TraceSummary])
    case error(String)
}
