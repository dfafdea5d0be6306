import ArgusIngest
import ArgusModel
import ArgusStorage
import Hummingbird
import Logging
import ServiceLifecycle

/// Argus' own metrics: what every ingest path took and rejected, request durations, the WAL,
/// the head and the blocks. Served at `/metrics` and written into the store by `SelfScrape`.
public struct SelfMonitoring: Sendable {
    public let registry: MetricsRegistry

    public init(store: MetricStore, logs: LogStore? = nil, spans: SpanStore? = nil) {
        let r = MetricsRegistry()
        r.describe("argus_ingested_samples_total", .counter, "Samples stored, by protocol.")
        r.describe("argus_ingested_log_records_total", .counter, "Log records stored, by protocol.")
        r.describe("argus_ingested_spans_total", .counter, "Spans stored, by protocol.")
        r.describe("argus_ingest_rejected_total", .counter, "Items rejected, by protocol, signal and reason.")
        r.describe("argus_http_requests_total", .counter, "HTTP requests, by handler and status code.")
        r.describe("argus_http_request_duration_seconds", .histogram, "HTTP request durations, by handler.")
        r.describe("argus_wal_fsyncs_total", .counter, "WAL fsync calls.")
        r.describe("argus_wal_fsync_duration_seconds_total", .counter, "Seconds spent in WAL fsync.")
        r.describe("argus_wal_bytes", .gauge, "Size of the metrics WAL on disk.")
        r.describe("argus_head_series", .gauge, "Series in the head.")
        r.describe("argus_head_samples", .gauge, "Samples in the head.")
        r.describe("argus_blocks", .gauge, "Metric blocks served.")
        r.describe("argus_block_bytes", .gauge, "Bytes of metric blocks on disk.")
        r.describe("argus_log_streams", .gauge, "Streams in the log store.")
        r.describe("argus_log_head_records", .gauge, "Log records in the log store's head.")
        r.describe("argus_log_blocks", .gauge, "Log blocks served.")
        r.describe("argus_log_block_bytes", .gauge, "Bytes of log blocks on disk.")
        r.describe("argus_log_wal_bytes", .gauge, "Size of the log WAL on disk.")
        r.describe("argus_span_head_spans", .gauge, "Spans in the span store's head.")
        r.describe("argus_span_blocks", .gauge, "Span blocks served.")
        r.describe("argus_span_block_bytes", .gauge, "Bytes of span blocks on disk.")
        r.describe("argus_span_block_spans", .gauge, "Spans in span blocks.")
        r.describe("argus_build_info", .gauge, "Always 1; labels carry the version.")
        r.describe("argus_query_duration_seconds", .histogram, "PromQL query durations, by type (instant, range).")
        r.set("argus_build_info", [("version", ArgusVersion.current)], 1)
        r.addCollector { reg in
            let st = store.stats()
            let wal = store.walStats()
            reg.set("argus_wal_fsyncs_total", [], Double(wal.fsyncs))
            reg.set("argus_wal_fsync_duration_seconds_total", [], wal.fsyncSeconds)
            reg.set("argus_wal_bytes", [], Double(wal.bytes))
            reg.set("argus_head_series", [], Double(st.headSeries))
            reg.set("argus_head_samples", [], Double(st.headSamples))
            reg.set("argus_blocks", [], Double(st.blocks))
            reg.set("argus_block_bytes", [], Double(st.blockBytes))
            if let logs {
                let ls = logs.stats()
                reg.set("argus_log_streams", [], Double(ls.streams))
                reg.set("argus_log_head_records", [], Double(ls.headRecords))
                reg.set("argus_log_blocks", [], Double(ls.blocks))
                reg.set("argus_log_block_bytes", [], Double(ls.blockBytes))
                reg.set("argus_log_wal_bytes", [], Double(ls.walBytes))
            }
            if let spans {
                let ss = spans.stats()
                reg.set("argus_span_head_spans", [], Double(ss.headSpans))
                reg.set("argus_span_blocks", [], Double(ss.blocks))
                reg.set("argus_span_block_bytes", [], Double(ss.blockBytes))
                reg.set("argus_span_block_spans", [], Double(ss.blockSpans))
            }
        }
        registry = r
    }

    /// Records what an ingest request stored and rejected.
    public func record(_ counts: IngestCounts, protocol proto: String, signal: String) {
        let name: String
        switch signal {
        case "logs": name = "argus_ingested_log_records_total"
        case "traces": name = "argus_ingested_spans_total"
        default: name = "argus_ingested_samples_total"
        }
        registry.add(name, [("protocol", proto)], Double(counts.samples))
        for (reason, n) in counts.rejected {
            registry.add("argus_ingest_rejected_total", [("protocol", proto), ("signal", signal), ("reason", reason)], Double(n))
        }
    }

    public func rejectRequest(protocol proto: String, signal: String, reason: String) {
        registry.add("argus_ingest_rejected_total", [("protocol", proto), ("signal", signal), ("reason", reason)], 1)
    }
}

public enum ArgusVersion {
    public static let current = "0.1.0"
}

/// Times every request and counts it by handler and status.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let registry: MetricsRegistry

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = TimeUtil.monotonicNanos()
        var code = 500
        defer {
            let handler = context.endpointPath ?? "other"
            registry.observe("argus_http_request_duration_seconds", [("handler", handler)], Double(TimeUtil.monotonicNanos() - start) / 1e9)
            registry.add("argus_http_requests_total", [("handler", handler), ("code", String(code))])
        }
        do {
            let r = try await next(request, context)
            code = r.status.code
            return r
        } catch let e as any HTTPResponseError {
            code = e.status.code
            throw e
        }
    }
}

/// Writes Argus' own metrics into its store every `interval`, as a scrape of itself would
/// (job "argus", instance the listen address, plus `up`).
public struct SelfScrape: Service {
    let store: MetricStore
    let registry: MetricsRegistry
    let interval: Duration
    let instance: @Sendable () -> String
    let logger: Logger

    public init(store: MetricStore, registry: MetricsRegistry, interval: Duration, instance: @escaping @Sendable () -> String, logger: Logger) {
        self.store = store
        self.registry = registry
        self.interval = interval
        self.instance = instance
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            if Task.isShuttingDownGracefully || Task.isCancelled { break }
            do {
                try await scrapeOnce()
            } catch {
                logger.warning("self-scrape failed", metadata: ["error": "\(error)"])
            }
        }
    }

    public func scrapeOnce() async throws {
        let t = TimeUtil.nowMillis()
        let inst = instance()
        var samples = registry.samples()
        samples.append((Labels([("__name__", "up")]), 1))
        let store = self.store
        _ = try await runBlocking {
            let app = store.appender()
            for (l, v) in samples {
                try app.append(l.setting("job", "argus").setting("instance", inst), t, v)
            }
            return try app.commit(skipInvalid: true)
        }
    }
}
