import ArgusModel
import ArgusStorage
import Logging
import ServiceLifecycle

/// RED metrics and a service graph derived from spans as they arrive, written into the metric
/// store under the names of Tempo's metrics generator:
///
/// - `traces_spanmetrics_calls_total`, `traces_spanmetrics_latency_bucket/_sum/_count`
///   by `service`, `span_name`, `span_kind` (`SPAN_KIND_SERVER`…), `status_code` (`STATUS_CODE_OK`…);
/// - `traces_service_graph_request_total`, `traces_service_graph_request_failed_total`,
///   `traces_service_graph_request_server_seconds_bucket/_sum/_count` and
///   `traces_service_graph_request_client_seconds_bucket/_sum/_count` by `client` and `server`,
///   from client (or producer) spans paired with their server (or consumer) child spans.
///
/// Counters are cumulative from process start; `flush` writes the current values of every
/// series that changed since the last flush (a `SpanMetricsService` calls it periodically).
/// Each `traces_spanmetrics_latency_bucket` series written gets an exemplar (labels `trace_id`,
/// `span_id`; value the duration in seconds; time the span's end, at most the flush time) for
/// the latest-ending span observed into that bucket since the last flush, as Tempo's
/// generator does, so `/api/v1/query_exemplars` leads from a latency panel to traces.
public final class SpanMetrics: @unchecked Sendable {
    /// Tempo's default latency buckets, in seconds.
    public static let buckets: [Double] = [0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048, 4.096, 8.192, 16.384]
    /// Unpaired service-graph spans wait this long (ns of wall clock) for their other side.
    public static let pairingWait: Int64 = 30_000_000_000
    public static let maxPending = 100_000

    struct CallKey: Hashable {
        var service: String, name: String, kind: SpanKind, status: SpanStatus
    }
    struct EdgeKey: Hashable {
        var client: String, server: String
    }
    /// A span to show as the exemplar of the bucket it fell into.
    struct ExemplarNote {
        var trace: TraceID
        var span: UInt64
        var seconds: Double
        var endMillis: Int64
    }
    struct Histogram {
        var count: Double = 0
        var sum: Double = 0
        var buckets = [Double](repeating: 0, count: SpanMetrics.buckets.count)
        /// Per bucket (the last one is +Inf), the latest-ending span since the last flush;
        /// empty until a span with an exemplar is observed.
        var exemplars: [ExemplarNote?] = []

        mutating func observe(_ seconds: Double, exemplar: ExemplarNote? = nil) {
            count += 1
            sum += seconds
            var first = SpanMetrics.buckets.count
            for (i, b) in SpanMetrics.buckets.enumerated() where seconds <= b {
                buckets[i] += 1
                if i < first { first = i }
            }
            if let exemplar {
                if exemplars.isEmpty { exemplars = Array(repeating: nil, count: SpanMetrics.buckets.count + 1) }
                if exemplars[first].map({ $0.endMillis <= exemplar.endMillis }) ?? true { exemplars[first] = exemplar }
            }
        }
    }
    struct Edge {
        var total: Double = 0
        var failed: Double = 0
        var server = Histogram()
        var client = Histogram()
    }
    struct PendingKey: Hashable {
        var trace: TraceID
        var span: UInt64
    }
    struct Pending {
        var service: String
        var seconds: Double
        var failed: Bool
        var arrived: Int64
    }

    let store: MetricStore
    let logger: Logger
    let lock = Lock()
    var calls: [CallKey: Histogram] = [:]
    var edges: [EdgeKey: Edge] = [:]
    var dirtyCalls = Set<CallKey>()
    var dirtyEdges = Set<EdgeKey>()
    /// Client spans waiting for their server child (keyed by the client's span id) and server
    /// spans waiting for their client parent (keyed by the parent id).
    var pendingClients: [PendingKey: Pending] = [:]
    var pendingServers: [PendingKey: Pending] = [:]

    public init(store: MetricStore, logger: Logger = Logger(label: "argus.spanmetrics")) {
        self.store = store
        self.logger = logger
    }

    /// Counts the spans (cheap: in memory; `flush` writes).
    public func observe(_ spans: [Span], now: Int64 = TimeUtil.nowNanos()) {
        lock.withLock {
            for s in spans {
                let key = CallKey(service: s.service, name: s.name, kind: s.kind, status: s.status)
                let seconds = Double(s.durationNanos) / 1e9
                calls[key, default: Histogram()].observe(seconds, exemplar: ExemplarNote(trace: s.traceID, span: s.spanID, seconds: seconds,
                                                                                         endMillis: s.endNanos / 1_000_000))
                dirtyCalls.insert(key)
                switch s.kind {
                case .client, .producer:
                    let k = PendingKey(trace: s.traceID, span: s.spanID)
                    let me = Pending(service: s.service, seconds: seconds, failed: s.status == .error, arrived: now)
                    if let server = pendingServers.removeValue(forKey: k) {
                        pair(client: me, server: server)
                    } else if pendingClients.count < SpanMetrics.maxPending {
                        pendingClients[k] = me
                    }
                case .server, .consumer:
                    guard s.parentSpanID != 0 else { continue }
                    let k = PendingKey(trace: s.traceID, span: s.parentSpanID)
                    let me = Pending(service: s.service, seconds: seconds, failed: s.status == .error, arrived: now)
                    if let client = pendingClients.removeValue(forKey: k) {
                        pair(client: client, server: me)
                    } else if pendingServers.count < SpanMetrics.maxPending {
                        pendingServers[k] = me
                    }
                default:
                    break
                }
            }
        }
    }

    func pair(client: Pending, server: Pending) {
        let k = EdgeKey(client: client.service, server: server.service)
        var e = edges[k] ?? Edge()
        e.total += 1
        if client.failed || server.failed { e.failed += 1 }
        e.server.observe(server.seconds)
        e.client.observe(client.seconds)
        edges[k] = e
        dirtyEdges.insert(k)
    }

    /// Writes the current value of every changed series at time `t` (ms); drops unpaired
    /// service-graph spans that waited too long. Returns the samples written.
    @discardableResult
    public func flush(t: Int64 = TimeUtil.nowMillis(), now: Int64 = TimeUtil.nowNanos()) throws -> Int {
        var samples: [(Labels, Double, Exemplar?)] = []
        lock.withLock {
            for k in dirtyCalls {
                let h = calls[k]!
                let base: [(String, String)] = [("service", k.service), ("span_name", k.name), ("span_kind", k.kind.otlpName), ("status_code", k.status.otlpName)]
                append(&samples, "traces_spanmetrics_calls_total", base, h.count)
                appendHistogram(&samples, "traces_spanmetrics_latency", base, h, exemplarTime: t)
                calls[k]!.exemplars = []
            }
            for k in dirtyEdges {
                let e = edges[k]!
                let base = [("client", k.client), ("server", k.server)]
                append(&samples, "traces_service_graph_request_total", base, e.total)
                append(&samples, "traces_service_graph_request_failed_total", base, e.failed)
                appendHistogram(&samples, "traces_service_graph_request_server_seconds", base, e.server)
                appendHistogram(&samples, "traces_service_graph_request_client_seconds", base, e.client)
            }
            dirtyCalls.removeAll(keepingCapacity: true)
            dirtyEdges.removeAll(keepingCapacity: true)
            let cutoff = now - SpanMetrics.pairingWait
            pendingClients = pendingClients.filter { $0.value.arrived >= cutoff }
            pendingServers = pendingServers.filter { $0.value.arrived >= cutoff }
        }
        if samples.isEmpty { return 0 }
        let app = store.appender()
        app.reserve(samples.count)
        for (l, v, e) in samples {
            let ref = try app.append(l, t, v)
            if let e { app.appendExemplar(ref: ref, e) }
        }
        return try app.commit(skipInvalid: true).appended
    }

    func append(_ out: inout [(Labels, Double, Exemplar?)], _ name: String, _ labels: [(String, String)], _ v: Double, _ e: Exemplar? = nil) {
        out.append((Labels([("__name__", name)] + labels), v, e))
    }

    /// The bucket, sum and count samples of `h`; with `exemplarTime`, bucket samples carry the
    /// histogram's exemplars (their time at most `exemplarTime`, ms).
    func appendHistogram(_ out: inout [(Labels, Double, Exemplar?)], _ name: String, _ labels: [(String, String)], _ h: Histogram,
                         exemplarTime: Int64? = nil) {
        func exemplar(_ i: Int) -> Exemplar? {
            guard let t = exemplarTime, i < h.exemplars.count, let n = h.exemplars[i] else { return nil }
            return Exemplar(labels: Labels([("trace_id", n.trace.hex), ("span_id", hex64(n.span))]), t: min(n.endMillis, t), v: n.seconds)
        }
        for (i, b) in SpanMetrics.buckets.enumerated() {
            append(&out, name + "_bucket", labels + [("le", "\(b)")], h.buckets[i], exemplar(i))
        }
        append(&out, name + "_bucket", labels + [("le", "+Inf")], h.count, exemplar(SpanMetrics.buckets.count))
        append(&out, name + "_sum", labels, h.sum)
        append(&out, name + "_count", labels, h.count)
    }
}

/// Flushes span metrics into the metric store every `interval`.
public struct SpanMetricsService: Service {
    let metrics: SpanMetrics
    let interval: Duration

    public init(metrics: SpanMetrics, interval: Duration) {
        self.metrics = metrics
        self.interval = interval
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            if Task.isCancelled { break }
            let m = metrics
            do {
                try await runBlocking { try m.flush() }
            } catch {
                m.logger.warning("span metrics flush failed", metadata: ["error": "\(error)"])
            }
            if Task.isShuttingDownGracefully { break }
        }
    }
}
