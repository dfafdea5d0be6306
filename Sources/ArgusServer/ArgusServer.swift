import ArgusColumnar
import ArgusIngest
import ArgusModel
import ArgusQuery
import ArgusStorage
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import ServiceLifecycle

/// Builds the collector's HTTP application over a store.
public struct ArgusServer {
    public let store: MetricStore
    public let options: ServerOptions
    public let logger: Logger
    public let monitoring: SelfMonitoring
    public let engine: PromQLEngine
    /// The rule engine behind /api/v1/rules, /api/v1/alerts and /-/reload (nil: no rules).
    public var rules: RulesRuntime?
    public let logs: LogStore
    public let logEngine: LogQLEngine
    public let spans: OTLPSpanIngester

    public init(store: MetricStore, logs: LogStore, spans: OTLPSpanIngester, options: ServerOptions, engine: PromQLEngine = PromQLEngine(),
                logEngine: LogQLEngine = LogQLEngine(), logger: Logger) {
        self.store = store
        self.logs = logs
        self.logEngine = logEngine
        self.spans = spans
        self.options = options
        self.logger = logger
        self.engine = engine
        monitoring = SelfMonitoring(store: store, logs: logs, spans: spans.store)
    }

    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        let monitoring = self.monitoring
        router.middlewares.add(RequestMetricsMiddleware(registry: monitoring.registry))
        router.middlewares.add(IngestGateMiddleware(gate: IngestGate(maxBytes: options.maxInflightBytes, memoryBudget: options.memoryBudget, onPressure: { [store, logger] in
            logger.warning("resident memory is over 75% of --memory.budget: emptying the block cache and cutting the head into blocks early (ingest is refused over 90%)")
            Task.detached {
                _ = try? await runBlocking { try store.cutHead() }
                // Drop decompressed granules (they refill on demand) and hand freed heap back to the system.
                let cache = GranuleCache.shared.capacityBytes
                GranuleCache.shared.capacityBytes = 0
                GranuleCache.shared.capacityBytes = cache
                _ = glibcMallocTrim(0)
            }
        }), monitoring: monitoring))
        router.get("/metrics") { _, _ -> Response in
            var buf = ByteBuffer()
            buf.writeString(monitoring.registry.render())
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"], body: .init(byteBuffer: buf))
        }
        router.get("/-/healthy") { _, _ in "Argus is Healthy.\n" }
        router.get("/-/ready") { _, _ in "Argus is Ready.\n" }
        let store = self.store
        let options = self.options
        router.post("/api/v1/import/prometheus") { request, _ -> Response in
            do {
                var req = request
                let buffer = try await req.collectBody(upTo: options.maxBodyBytes)
                let bytes = Array(buffer.readableBytesView)
                let n = try await ImportHandler(store: store, limits: options.ingestLimits).importText(bytes)
                var c = IngestCounts()
                c.samples = n
                monitoring.record(c, protocol: "import", signal: "metrics")
                return Response(status: .noContent)
            } catch {
                monitoring.rejectRequest(protocol: "import", signal: "metrics", reason: "bad_request")
                return HTTPErrors.text(error)
            }
        }
        OTLPRoutes(store: store, logs: OTLPLogIngester(store: logs), spans: spans, options: options, monitoring: monitoring).register(router)
        LokiAPI(logs: logs, engine: logEngine, options: options, monitoring: monitoring).register(router)
        LokiTail(logs: logs, engine: logEngine).registerPlain(router)
        TempoAPI(store: spans.store).register(router)
        PrometheusAPI(store: store, engine: engine, options: options, monitoring: monitoring).register(router)
        RulesAPI(runtime: rules).register(router)
        let remoteWrite = RemoteWriteIngester(store: store, limits: options.ingestLimits)
        router.post("/api/v1/write") { request, _ -> Response in
            do {
                var req = request
                let buffer = try await req.collectBody(upTo: options.maxBodyBytes)
                var bytes = Array(buffer.readableBytesView)
                let encoding = request.headers[.contentEncoding]?.lowercased() ?? "snappy"
                guard encoding == "snappy" else {
                    throw ArgusError(.badInput, "unsupported Content-Encoding \"\(encoding)\": remote write bodies are snappy-compressed")
                }
                // The protobuf message is named by the Content-Type's proto parameter (remote write 2.0).
                let ct = (request.headers[.contentType] ?? "application/x-protobuf").lowercased().replacingOccurrences(of: " ", with: "")
                var proto = "prometheus.writerequest"
                if let r = ct.range(of: "proto=") { proto = String(ct[r.upperBound...].prefix { $0 != ";" }) }
                guard ct.hasPrefix("application/x-protobuf"), proto == "prometheus.writerequest" || proto == "io.prometheus.write.v2.request" else {
                    return HTTPErrors.text(HTTPError(.unsupportedMediaType, message: "unsupported Content-Type \"\(ct)\": send application/x-protobuf with proto=prometheus.WriteRequest (1.0) or proto=io.prometheus.write.v2.Request (2.0)"))
                }
                bytes = try Snappy.decompress(bytes, limit: options.maxBodyBytes * 8)
                let body = bytes
                if proto == "io.prometheus.write.v2.request" {
                    let (counts, written) = try await runBlocking { try remoteWrite.ingestV2(body, now: TimeUtil.nowMillis()) }
                    monitoring.record(counts, protocol: "remote_write", signal: "metrics")
                    var headers = HTTPFields()
                    headers[HTTPField.Name("X-Prometheus-Remote-Write-Samples-Written")!] = String(written.samples)
                    headers[HTTPField.Name("X-Prometheus-Remote-Write-Histograms-Written")!] = String(written.histograms)
                    headers[HTTPField.Name("X-Prometheus-Remote-Write-Exemplars-Written")!] = String(written.exemplars)
                    if let first = counts.firstError {
                        var r = HTTPErrors.text(ArgusError(.badInput, "\(counts.rejectedTotal) of the request's items were rejected (the rest were stored); first: \(first)"))
                        for f in headers { r.headers.append(f) }
                        return r
                    }
                    return Response(status: .noContent, headers: headers)
                }
                let counts = try await runBlocking { try remoteWrite.ingest(body, now: TimeUtil.nowMillis()) }
                monitoring.record(counts, protocol: "remote_write", signal: "metrics")
                if let first = counts.firstError {
                    return HTTPErrors.text(ArgusError(.badInput, "\(counts.rejectedTotal) of the request's samples were rejected (the rest were stored); first: \(first)"))
                }
                return Response(status: .noContent)
            } catch let e as ArgusError where e.code == .limit {
                monitoring.rejectRequest(protocol: "remote_write", signal: "metrics", reason: "too_large")
                return HTTPErrors.text(HTTPError(.contentTooLarge, message: e.message))
            } catch {
                monitoring.rejectRequest(protocol: "remote_write", signal: "metrics", reason: "bad_request")
                return HTTPErrors.text(error)
            }
        }
        router.get("/api/v1/export") { request, _ -> Response in
            do {
                return try ExportHandler(store: store).export(FormParameters(request.uri.query ?? ""))
            } catch {
                return HTTPErrors.text(error)
            }
        }
        router.post("/api/v1/admin/tsdb/flush") { _, _ -> Response in
            do {
                // Head cut, then a full compaction (windows still being filled too).
                let r = try await runBlocking { () throws -> MetricStore.MaintenanceResult in
                    var r = try store.flush()
                    let c = try store.compact(all: true)
                    r.blocksCompacted += c.blocksCompacted
                    r.blocksDropped += c.blocksDropped
                    return r
                }
                return JSON.response("{\"status\":\"success\",\"data\":{\"blocksWritten\":\(r.blocksWritten),\"blocksCompacted\":\(r.blocksCompacted),\"blocksDropped\":\(r.blocksDropped)}}")
            } catch {
                return HTTPErrors.json(error)
            }
        }
        return router
    }

    /// The application, ready to run in a ServiceGroup. `onRunning` receives the bound port.
    public func application(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let webSocketRouter = Router(context: BasicWebSocketRequestContext.self)
        LokiTail(logs: logs, engine: logEngine).register(webSocketRouter)
        return Application(
            router: router(),
            server: .http1WebSocketUpgrade(webSocketRouter: webSocketRouter),
            configuration: .init(address: .hostname(options.host, port: options.port), serverName: "argus"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            logger: logger
        )
    }
}

/// `POST /api/v1/import/prometheus`: all lines are stored, or none.
struct ImportHandler {
    let store: MetricStore
    let limits: IngestLimits

    /// Stores the lines; returns how many samples were stored.
    func importText(_ bytes: [UInt8]) async throws -> Int {
        var samples = try TextExpositionParser().parse(bytes)
        try ImportValidator(limits: limits).validate(&samples, now: TimeUtil.nowMillis(), minTime: store.minAcceptedTime)
        if samples.isEmpty { return 0 }
        let store = self.store
        let batch = samples
        return try await runBlocking {
            let app = store.appender()
            app.reserve(batch.count)
            var cache: [Labels: SeriesRef] = [:]
            for s in batch {
                if let ref = cache[s.labels] {
                    app.append(ref: ref, s.timestamp!, s.value)
                } else {
                    do {
                        cache[s.labels] = try app.append(s.labels, s.timestamp!, s.value)
                    } catch let e as ArgusError {
                        throw ArgusError(.badInput, "line \(s.line): \(e.message)")
                    }
                }
            }
            do {
                return try app.commit().appended
            } catch let e as ArgusError where e.code == .outOfOrder || e.code == .duplicateSample {
                // The appender's samples are the batch's, in order: the index names the line.
                guard let i = e.itemIndex, i < batch.count else { throw e }
                throw ArgusError(e.code, "line \(batch[i].line): " + e.message)
            }
        }
    }
}

/// `GET /api/v1/export`: raw samples as JSON lines, in VictoriaMetrics' export format.
struct ExportHandler {
    let store: MetricStore

    func export(_ params: FormParameters) throws -> Response {
        let matches = params.getAll("match[]")
        guard !matches.isEmpty else {
            throw ArgusError(.badInput, "missing \"match[]\" parameter: give a series selector such as match[]={__name__=~\".+\"}")
        }
        let start = try params.get("start").map { try parseAPITime($0, name: "start") } ?? Int64.min / 2
        let end = try params.get("end").map { try parseAPITime($0, name: "end") } ?? TimeUtil.nowMillis() + 86_400_000
        let q = store.querier(mint: start, maxt: end)
        var seen = Set<SeriesRef>()
        var out = ""
        for m in matches {
            let matchers = try SelectorParser.parse(m)
            let set = q.select(matchers)
            while let s = set.next() {
                guard seen.insert(s.ref).inserted else { continue }
                out += "{\"metric\":{"
                var first = true
                for l in s.labels.items {
                    if !first { out += "," }
                    first = false
                    JSON.appendString(l.name, to: &out)
                    out += ":"
                    JSON.appendString(l.value, to: &out)
                }
                out += "},\"values\":["
                for (i, v) in s.values.enumerated() {
                    if i > 0 { out += "," }
                    out += formatExportValue(v)
                }
                out += "],\"timestamps\":["
                for (i, t) in s.timestamps.enumerated() {
                    if i > 0 { out += "," }
                    out += String(t)
                }
                out += "]}\n"
            }
            if let e = set.error { throw ArgusError(.internal, "reading series failed", cause: e) }
        }
        var buf = ByteBuffer()
        buf.writeString(out)
        return Response(status: .ok, headers: [.contentType: "application/stream+json"], body: .init(byteBuffer: buf))
    }
}

/// glibc's malloc_trim (not in the Glibc module map): returns free heap pages to the system.
@_silgen_name("malloc_trim") func glibcMallocTrim(_ pad: Int) -> Int32
