import ArgusModel
import Hummingbird
import NIOCore

/// Backpressure for ingest: request bodies in flight may take at most `maxBytes` (a request is
/// always let through when nothing else is in flight). Past that, ingest paths answer 503 with
/// `Retry-After`, which Prometheus remote_write, OpenTelemetry exporters and Loki clients retry,
/// so a producer sending more than Argus can sustain is slowed down instead of filling memory.
final class IngestGate: @unchecked Sendable {
    let maxBytes: Int
    private let state = LockedBox(0)

    init(maxBytes: Int) { self.maxBytes = maxBytes }

    func tryAcquire(_ n: Int) -> Bool {
        state.withLock { inflight in
            if inflight > 0 && inflight + n > maxBytes { return false }
            inflight += n
            return true
        }
    }

    func release(_ n: Int) { state.withLock { $0 -= n } }

    var inflight: Int { state.withLock { $0 } }
}

import ArgusStorage

/// Applies the gate to POSTs on the ingest paths, by their Content-Length.
struct IngestGateMiddleware<Context: RequestContext>: RouterMiddleware {
    let gate: IngestGate
    let monitoring: SelfMonitoring
    static var paths: Set<String> { ["/api/v1/write", "/api/v1/import/prometheus", "/v1/metrics", "/v1/logs", "/v1/traces", "/loki/api/v1/push"] }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .post, IngestGateMiddleware.paths.contains(request.uri.path) else {
            return try await next(request, context)
        }
        let n = request.headers[.contentLength].flatMap { Int($0) } ?? 64 * 1024
        guard gate.tryAcquire(n) else {
            monitoring.rejectRequest(protocol: IngestGateMiddleware.protocolName(request.uri.path), signal: "any", reason: "overloaded")
            var buf = ByteBuffer()
            buf.writeString("ingest is over its in-flight budget of \(gate.maxBytes) bytes (--ingest.max-inflight-bytes); retry later\n")
            return Response(status: .serviceUnavailable, headers: [.retryAfter: "1", .contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: buf))
        }
        defer { gate.release(n) }
        return try await next(request, context)
    }

    static func protocolName(_ path: String) -> String {
        switch path {
        case "/api/v1/write": return "remote_write"
        case "/api/v1/import/prometheus": return "import"
        case "/loki/api/v1/push": return "loki"
        default: return "otlp"
        }
    }
}
