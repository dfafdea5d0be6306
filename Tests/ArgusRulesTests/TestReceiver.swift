import ArgusStorage
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// A real webhook receiver on a loopback port (Hummingbird on port 0) that records every POST
/// and answers with scripted statuses (then 200).
final class TestReceiver: @unchecked Sendable {
    struct Received: Sendable {
        var body: String
        var authorization: String?
        var status: Int
        var path: String
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]) ?? [:] }
    }

    let received = LockedBox<[Received]>([])
    let script: LockedBox<[(Int, String?)]>
    private(set) var port = 0
    private var task: Task<Void, Error>?
    private var group: ServiceGroup?

    /// `script`: statuses (with an optional Retry-After) to answer before answering 200.
    init(script: [(Int, String?)] = []) async throws {
        self.script = LockedBox(script)
        let router = Router()
        let received = self.received
        let scriptBox = self.script
        let handler: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, _ in
            var req = request
            let body = try await req.collectBody(upTo: 1 << 20)
            let (status, retryAfter) = scriptBox.withLock { s -> (Int, String?) in s.isEmpty ? (200, nil) : s.removeFirst() }
            received.withLock { $0.append(Received(body: String(buffer: body), authorization: request.headers[.authorization], status: status, path: request.uri.path)) }
            var headers: HTTPFields = [:]
            if let retryAfter { headers[.retryAfter] = retryAfter }
            return Response(status: .init(code: status), headers: headers)
        }
        router.post("/hook", use: handler)
        router.post("/api/v2/alerts", use: handler)
        let portBox = LockedBox(0)
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { ch in portBox.withLock { $0 = ch.localAddress?.port ?? 0 } })
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: Logger(label: "test-receiver")))
        self.group = group
        task = Task { try await group.run() }
        let deadline = Date().addingTimeInterval(20)
        while portBox.withLock({ $0 }) == 0 {
            if Date() > deadline { throw TestFailure("the test receiver did not start") }
            try await Task.sleep(for: .milliseconds(20))
        }
        port = portBox.withLock { $0 }
    }

    var url: String { "http://127.0.0.1:\(port)/hook" }

    /// Successful deliveries (2xx answers), in order.
    var delivered: [Received] { received.withLock { $0.filter { (200..<300).contains($0.status) } } }

    /// Waits until `condition` holds on the deliveries or the timeout passes.
    @discardableResult
    func wait(seconds: Double, until condition: ([Received]) -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition(delivered) { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return condition(delivered)
    }

    func stop() async {
        await group?.triggerGracefulShutdown()
        _ = try? await task?.value
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
