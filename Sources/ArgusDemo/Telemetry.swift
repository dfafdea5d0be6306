import ArgusModel
import Logging
import Metrics
import OTel
import ServiceLifecycle
import Tracing

/// How one demo process reports: swift-log, swift-metrics and swift-distributed-tracing, all
/// bootstrapped onto swift-otel's OTLP/HTTP exporters pointed at the collector, plus a
/// Prometheus text registry for `/metrics` and a stderr log stream.
public struct TelemetryOptions: Sendable {
    /// The collector's base URL; `/v1/metrics`, `/v1/logs`, `/v1/traces` are appended.
    public var collector = "http://127.0.0.1:4318"
    public var metricsInterval: Duration = .seconds(5)
    public var batchDelay: Duration = .milliseconds(500)
    public var logLevel: Logger.Level = .info
    /// Lines also go to stderr (with trace_id and span_id).
    public var stderrLogs = true

    public init() {}
}

public enum Telemetry {
    /// The metadata provider that puts the current trace and span ids on every log line
    /// (keys `trace_id`, `span_id`, `trace_flags`).
    public static let traceMetadata: Logger.MetadataProvider = OTel.makeLoggingMetadataProvider()

    /// The current trace id (32 hex digits), if a span is active.
    public static var currentTraceID: String? {
        if case .string(let s)? = traceMetadata.get()["trace_id"] { return s }
        return nil
    }

    /// Bootstraps the three ecosystem APIs for this process (once per process) and returns the
    /// exporters' services, which must run in the process' service group, and the registry that
    /// `/metrics` renders.
    public static func bootstrap(service: String, instance: String, options: TelemetryOptions) throws -> (services: [any Service], registry: MetricsRegistry) {
        var config = OTel.Configuration.default
        config.serviceName = service
        config.resourceAttributes = ["service.instance.id": instance, "deployment.environment": "demo"]
        config.diagnosticLogLevel = .error
        let base = options.collector.hasSuffix("/") ? String(options.collector.dropLast()) : options.collector
        config.metrics.exportInterval = options.metricsInterval
        config.metrics.otlpExporter.endpoint = base + "/v1/metrics"
        config.metrics.otlpExporter.protocol = .httpProtobuf
        config.logs.otlpExporter.endpoint = base + "/v1/logs"
        config.logs.otlpExporter.protocol = .httpProtobuf
        config.logs.batchLogRecordProcessor.scheduleDelay = options.batchDelay
        config.logs.level = .init(options.logLevel)
        config.traces.otlpExporter.endpoint = base + "/v1/traces"
        config.traces.otlpExporter.protocol = .httpProtobuf
        config.traces.batchSpanProcessor.scheduleDelay = options.batchDelay
        config.propagators = [.traceContext]
        // Short export deadlines: a process stopping while the collector is away ends in seconds.
        config.metrics.exportTimeout = .seconds(2)
        config.metrics.otlpExporter.timeout = .seconds(2)
        config.logs.batchLogRecordProcessor.exportTimeout = .seconds(2)
        config.logs.otlpExporter.timeout = .seconds(2)
        config.traces.batchSpanProcessor.exportTimeout = .seconds(2)
        config.traces.otlpExporter.timeout = .seconds(2)

        let (metricsFactory, metricsService) = try OTel.makeMetricsBackend(configuration: config)
        let (logFactory, logsService) = try OTel.makeLoggingBackend(configuration: config)
        let (tracer, tracesService) = try OTel.makeTracingBackend(configuration: config)

        let registry = MetricsRegistry()
        MetricsSystem.bootstrap(MultiplexMetricsHandler(factories: [metricsFactory, RegistryMetricsFactory(registry: registry)]))
        let level = options.logLevel
        let toStderr = options.stderrLogs
        LoggingSystem.bootstrap({ label, _ -> any LogHandler in
            var otel = TraceContextLogHandler(wrapping: logFactory(label), provider: traceMetadata)
            otel.logLevel = level
            guard toStderr else { return otel }
            var stream = StreamLogHandler.standardError(label: label, metadataProvider: traceMetadata)
            stream.logLevel = level
            return MultiplexLogHandler([otel, stream])
        }, metadataProvider: traceMetadata)
        InstrumentationSystem.bootstrap(tracer)
        return ([metricsService, logsService, tracesService], registry)
    }
}

extension OTel.Configuration.LogLevel {
    init(_ level: Logger.Level) {
        switch level {
        case .trace: self = .trace
        case .debug: self = .debug
        case .info, .notice: self = .info
        case .warning: self = .warning
        case .error, .critical: self = .error
        }
    }
}

/// Puts the metadata provider's fields (trace and span id) on each record before handing it to
/// a handler that does not read metadata providers itself (swift-otel's OTLP log handler).
struct TraceContextLogHandler: LogHandler {
    var inner: any LogHandler
    let provider: Logger.MetadataProvider

    init(wrapping inner: any LogHandler, provider: Logger.MetadataProvider) {
        self.inner = inner
        self.provider = provider
    }

    var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue }
    }

    var logLevel: Logger.Level {
        get { inner.logLevel }
        set { inner.logLevel = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue }
    }

    func log(event: LogEvent) {
        let extra = provider.get()
        guard !extra.isEmpty else { return inner.log(event: event) }
        var e = event
        e.metadata = extra.merging(event.metadata ?? [:], uniquingKeysWith: { $1 })
        inner.log(event: e)
    }
}
