import AsyncHTTPClient
import Foundation
import Instrumentation
import Logging
import NIOCore
import NIOHTTP1
import NIOFoundationCompat
import Tracing

/// A failed call to another service: the peer's status (0 when there was no answer) and why.
public struct PeerError: Error, CustomStringConvertible, Sendable {
    public var service: String
    public var status: Int
    public var message: String
    public var isTimeout: Bool

    public var description: String {
        status == 0 ? "\(service): \(message)" : "\(service) answered \(status): \(message)"
    }
}

/// Outgoing calls between the shop's services: each is a client span whose context goes out in
/// the W3C `traceparent` header, with a timeout; a 5xx, a timeout or a refused connection is
/// recorded on the span as an error.
public struct ServiceClient: Sendable {
    public let registry: ServiceRegistry
    let http: HTTPClient

    /// One client per process, with AsyncHTTPClient's own tracing off: it would add a second
    /// `traceparent` header next to ours, and a server reading the two joined finds neither valid.
    public static let http: HTTPClient = {
        var config = HTTPClient.Configuration()
        config.tracing.tracer = nil
        config.timeout.connect = .seconds(2)
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
    }()

    public init(registry: ServiceRegistry, http: HTTPClient = ServiceClient.http) {
        self.registry = registry
        self.http = http
    }

    public struct Reply: Sendable {
        public var status: Int
        public var body: Data
        public func decode<T: Decodable>(_ type: T.Type) throws -> T { try JSONDecoder().decode(T.self, from: body) }
    }

    /// Calls `method path` on `service` and returns its answer if it is 2xx; throws `PeerError`
    /// otherwise.
    @discardableResult
    public func call(_ service: String, _ method: HTTPMethod, _ path: String, json body: (some Encodable)? = Optional<Empty>.none,
                     headers extra: [(String, String)] = [], timeout: Duration = .seconds(5)) async throws -> Reply {
        guard let base = registry.url(of: service) else {
            throw PeerError(service: service, status: 0, message: "not in the registry (start it, or pass --peer \(service)=URL)", isTimeout: false)
        }
        return try await withSpan("\(method.rawValue) \(service)\(Self.routeTemplate(path))", ofKind: .client) { span in
            span.attributes["http.request.method"] = method.rawValue
            span.attributes["url.full"] = base + path
            span.attributes["peer.service"] = service
            var req = HTTPClientRequest(url: base + path)
            req.method = method
            for (k, v) in extra { req.headers.add(name: k, value: v) }
            InstrumentationSystem.instrument.inject(ServiceContext.current ?? .topLevel, into: &req.headers, using: HTTPHeadersInjector())
            if let body {
                req.headers.add(name: "content-type", value: "application/json")
                req.body = .bytes(ByteBuffer(data: try JSONEncoder().encode(body)))
            }
            let status: Int
            let data: Data
            do {
                let resp = try await http.execute(req, timeout: .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000))
                status = Int(resp.status.code)
                let buf = try await resp.body.collect(upTo: 8 << 20)
                data = Data(buffer: buf)
            } catch {
                let timedOut = (error as? HTTPClientError) == .deadlineExceeded || (error as? HTTPClientError) == .readTimeout
                span.setStatus(SpanStatus(code: .error, message: timedOut ? "timeout" : "\(error)"))
                span.recordError(error)
                throw PeerError(service: service, status: 0, message: timedOut ? "timed out after \(timeout)" : "\(error)", isTimeout: timedOut)
            }
            span.attributes["http.response.status_code"] = status
            guard (200..<300).contains(status) else {
                // Hummingbird's error body is {"error":{"message":"..."}}: pass the message on.
                let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
                let text = (obj?["error"] as? [String: Any])?["message"] as? String ?? String(decoding: data.prefix(300), as: UTF8.self)
                let err = PeerError(service: service, status: status, message: text, isTimeout: false)
                if status >= 500 { span.setStatus(SpanStatus(code: .error, message: "HTTP \(status)")) }
                span.recordError(err)
                throw err
            }
            return Reply(status: status, body: data)
        }
    }

    /// `/carts/alice/items` → `/carts/{id}/items`, so span names do not grow with every user.
    static func routeTemplate(_ path: String) -> String {
        let p = path.split(separator: "?", maxSplits: 1).first.map(String.init) ?? path
        return "/" + p.split(separator: "/").enumerated().map { i, seg in
            i > 0 && (seg.first?.isNumber == true || seg.hasPrefix("user-") || seg.hasPrefix("ord-")) ? "{id}" : String(seg)
        }.joined(separator: "/")
    }
}

/// An empty JSON body.
public struct Empty: Codable, Sendable {
    public init() {}
}

struct HTTPHeadersInjector: Injector {
    func inject(_ value: String, forKey key: String, into headers: inout HTTPHeaders) {
        headers.replaceOrAdd(name: key, value: value)
    }
}

extension HTTPMethodName {
    var nio: HTTPMethod { self == .get ? .GET : .POST }
}
