import ArgusIngest
import ArgusModel
import ArgusOTLP
import ArgusStorage
import Hummingbird
import NIOCore
import SwiftProtobuf

/// OTLP/HTTP: `/v1/metrics`, `/v1/logs`, `/v1/traces`, protobuf or JSON, optionally gzip'd.
struct OTLPRoutes {
    let store: MetricStore
    let logs: OTLPLogIngester
    let spans: OTLPSpanIngester
    let options: ServerOptions
    let monitoring: SelfMonitoring

    func register(_ router: Router<BasicRequestContext>) {
        registerLoki(router)
        let metrics = OTLPMetricsIngester(store: store, limits: options.ingestLimits)
        let logs = self.logs
        let spans = self.spans
        let monitoring = self.monitoring
        router.post("/v1/metrics") { request, _ in
            await handle(request, as: OTLPMetricsRequest.self) { req, format in
                let counts = try await runBlocking { try metrics.ingest(req, now: TimeUtil.nowMillis()) }
                monitoring.record(counts, protocol: "otlp", signal: "metrics")
                var resp = Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceResponse()
                if let first = counts.firstError {
                    resp.partialSuccess.rejectedDataPoints = Int64(counts.rejectedTotal)
                    resp.partialSuccess.errorMessage = first
                }
                return try OTLPDecoding.encode(resp, format: format)
            }
        }
        router.post("/v1/logs") { request, _ in
            await handleBody(request) { bytes, format in
                let counts = try await runBlocking {
                    switch format {
                    case .protobuf: return try logs.ingest(protobuf: bytes)
                    case .json: return try logs.ingest(try OTLPDecoding.decode(OTLPLogsRequest.self, bytes, format: .json))
                    }
                }
                monitoring.record(counts, protocol: "otlp", signal: "logs")
                var resp = Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceResponse()
                if let first = counts.firstError {
                    resp.partialSuccess.rejectedLogRecords = Int64(counts.rejectedTotal)
                    resp.partialSuccess.errorMessage = first
                }
                return try OTLPDecoding.encode(resp, format: format)
            }
        }
        router.post("/v1/traces") { request, _ in
            await handleBody(request) { bytes, format in
                let counts = try await runBlocking {
                    switch format {
                    case .protobuf: return try spans.ingest(protobuf: bytes)
                    case .json: return try spans.ingest(try OTLPDecoding.decode(OTLPTracesRequest.self, bytes, format: .json))
                    }
                }
                monitoring.record(counts, protocol: "otlp", signal: "traces")
                var resp = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceResponse()
                if let first = counts.firstError {
                    resp.partialSuccess.rejectedSpans = Int64(counts.rejectedTotal)
                    resp.partialSuccess.errorMessage = first
                }
                return try OTLPDecoding.encode(resp, format: format)
            }
        }
    }

    /// Loki push (JSON, optionally gzip'd): stored like OTLP logs.
    func registerLoki(_ router: Router<BasicRequestContext>) {
        let logs = self.logs
        let options = self.options
        let monitoring = self.monitoring
        router.post("/loki/api/v1/push") { request, _ -> Response in
            do {
                let ct = request.headers[.contentType]?.lowercased() ?? "application/json"
                let isProtobuf = ct.hasPrefix("application/x-protobuf")
                guard ct.hasPrefix("application/json") || isProtobuf else {
                    throw ArgusError(.badInput, "unsupported Content-Type \"\(ct)\": Loki pushes are application/json or snappy-compressed application/x-protobuf")
                }
                var req = request
                let buffer = try await req.collectBody(upTo: options.maxBodyBytes)
                var bytes = Array(buffer.readableBytesView)
                if let enc = request.headers[.contentEncoding]?.lowercased(), enc == "gzip" || enc == "deflate" {
                    bytes = try Gzip.decompress(bytes, limit: options.maxBodyBytes)
                }
                let (pushed, _) = isProtobuf
                    ? try LokiPush.decodeProtobuf(try Snappy.decompress(bytes, limit: options.maxBodyBytes * 8), now: TimeUtil.nowMillis())
                    : try LokiPush.decodeJSON(bytes, now: TimeUtil.nowMillis())
                let counts = try await runBlocking { try logs.ingest(pushed, mode: .loki) }
                monitoring.record(counts, protocol: "loki", signal: "logs")
                if let first = counts.firstError { throw ArgusError(.badInput, first) }
                return Response(status: .noContent)
            } catch let e as ArgusError where e.code == .limit {
                return HTTPErrors.text(HTTPError(.contentTooLarge, message: e.message))
            } catch {
                return HTTPErrors.text(error)
            }
        }
    }

    func handle<M: SwiftProtobuf.Message & Sendable>(
        _ request: Request, as: M.Type, _ body: @escaping (M, OTLPDecoding.Format) async throws -> [UInt8]
    ) async -> Response {
        await handleBody(request) { bytes, format in
            try await body(try OTLPDecoding.decode(M.self, bytes, format: format), format)
        }
    }

    /// Reads, size-checks and decompresses an OTLP body; `body` decodes and stores it and
    /// returns the response message. Errors become OTLP status replies.
    func handleBody(_ request: Request, _ body: @escaping ([UInt8], OTLPDecoding.Format) async throws -> [UInt8]) async -> Response {
        var format = OTLPDecoding.Format.protobuf
        do {
            format = try OTLPDecoding.format(contentType: request.headers[.contentType])
        } catch {
            return reply(.unsupportedMediaType, OTLPDecoding.status("\(error)", code: 3, format: .json), .json)
        }
        do {
            var req = request
            let buffer = try await req.collectBody(upTo: options.maxBodyBytes)
            var bytes = Array(buffer.readableBytesView)
            switch request.headers[.contentEncoding]?.lowercased() {
            case nil, "identity": break
            case "gzip", "deflate": bytes = try Gzip.decompress(bytes, limit: options.maxBodyBytes)
            case let other?: throw ArgusError(.badInput, "unsupported Content-Encoding \"\(other)\": use gzip or none")
            }
            return reply(.ok, try await body(bytes, format), format)
        } catch let e as ArgusError where e.code == .limit {
            return reply(.contentTooLarge, OTLPDecoding.status(e.message, code: 3, format: format), format)
        } catch {
            let status = HTTPErrors.status(for: error)
            monitoring.rejectRequest(protocol: "otlp", signal: String(request.uri.path.split(separator: "/").last ?? "unknown"), reason: "bad_request")
            return reply(status, OTLPDecoding.status(HTTPErrors.message(for: error), code: status.code >= 500 ? 13 : 3, format: format), format)
        }
    }

    func reply(_ status: HTTPResponse.Status, _ bytes: [UInt8], _ format: OTLPDecoding.Format) -> Response {
        var buf = ByteBuffer()
        buf.writeBytes(bytes)
        return Response(status: status, headers: [.contentType: format == .json ? "application/json" : "application/x-protobuf"],
                        body: .init(byteBuffer: buf))
    }
}
