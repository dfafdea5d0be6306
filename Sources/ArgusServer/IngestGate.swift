import Foundation
import ArgusModel
import Hummingbird
import NIOCore

/// Backpressure for ingest: request bodies in flight may take at most `maxBytes` (a request is
/// always let through when nothing else is in flight). Past that, ingest paths answer 503 with
/// `Retry-After`, which Prometheus remote_write, OpenTelemetry exporters and Loki clients retry,
/// so a producer sending more than Argus can sustain is slowed down instead of filling memory.
final class IngestGate: @unchecked Sendable {
    let maxBytes: Int
    /// Resident memory above which ingest is refused (0: no budget). Refusing starts at 90% so
    /// the requests already in flight fit under it.
    let memoryBudget: Int
    private let state = LockedBox(0)
    private let rss = LockedBox((bytes: 0, at: UInt64(0)))

    /// Called (at most every 10 s) when memory is past 75% of the budget: the server cuts the head into
    /// blocks early, so memory held by recent data is released and ingest can resume.
    let onPressure: @Sendable () -> Void
    private let lastPressure = LockedBox(UInt64(0))

    init(maxBytes: Int, memoryBudget: Int = 0, onPressure: @escaping @Sendable () -> Void = {}) {
        self.maxBytes = maxBytes
        self.memoryBudget = memoryBudget
        self.onPressure = onPressure
    }

    func pressure() {
        let now = TimeUtil.monotonicNanos()
        let fire = lastPressure.withLock { t -> Bool in
            if t != 0 && now &- t < 10_000_000_000 { return false }
            t = now
            return true
        }
        if fire { onPressure() }
    }

    enum MemoryLevel { case ok, high, over }

    /// Where resident memory stands against the budget: `over` past 90% (refuse ingest), `high`
    /// past 75% (accept, but cut the head into blocks now: the cut itself needs memory, so it
    /// must start before the refusing point). /proc is read at most every 10 ms.
    func memoryLevel() -> MemoryLevel {
        guard memoryBudget > 0 else { return .ok }
        let now = TimeUtil.monotonicNanos()
        let current = rss.withLock { r -> Int in
            if now &- r.at > 10_000_000 {
                r.bytes = IngestGate.residentBytes()
                r.at = now
            }
            return r.bytes
        }
        if current > memoryBudget / 10 * 9 { return .over }
        return current > memoryBudget / 4 * 3 ? .high : .ok
    }

    /// Resident set size of this process, from /proc/self/statm.
    static func residentBytes() -> Int {
        let fd = open("/proc/self/statm", O_RDONLY)
        guard fd >= 0 else { return 0 }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: 128)
        let n = read(fd, &buf, buf.count)
        guard n > 0 else { return 0 }
        let fields = buf[0..<n].split(separator: 0x20)
        guard fields.count > 1, let pages = Int(String(decoding: fields[1], as: UTF8.self)) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

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
        let level = gate.memoryLevel()
        if level != .ok { gate.pressure() }
        if level == .over {
            monitoring.rejectRequest(protocol: IngestGateMiddleware.protocolName(request.uri.path), signal: "any", reason: "memory_budget")
            var buf = ByteBuffer()
            buf.writeString("ingest is paused: resident memory is over 90% of the memory budget of \(gate.memoryBudget) bytes (--memory.budget); retry later\n")
            return Response(status: .serviceUnavailable, headers: [.retryAfter: "1", .contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: buf))
        }
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
