import ArgusModel
import Foundation

/// Where the shop's services listen: a small JSON file that `argus-demo up` writes and every
/// service reads (`--registry FILE`), or `--peer NAME=URL` flags.
///
/// ```json
/// {"services": {"gateway": "http://127.0.0.1:8080", "auth": "http://127.0.0.1:8081"},
///  "pids": {"gateway": 4242, "auth": 4243}, "collector": "http://127.0.0.1:4318"}
/// ```
public struct ServiceRegistry: Codable, Sendable, Equatable {
    public var services: [String: String]
    /// Process ids of the children `argus-demo up` started (for tools and tests that check them).
    public var pids: [String: Int32]
    public var collector: String?

    public init(services: [String: String] = [:], pids: [String: Int32] = [:], collector: String? = nil) {
        self.services = services
        self.pids = pids
        self.collector = collector
    }

    public static func load(_ path: String) throws -> ServiceRegistry {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ArgusError(.badInput, "cannot read the registry file \(path)")
        }
        do {
            return try JSONDecoder().decode(ServiceRegistry.self, from: data)
        } catch {
            throw ArgusError(.badInput, "the registry file \(path) is not a valid registry (want {\"services\": {\"NAME\": \"http://HOST:PORT\"}})", cause: error)
        }
    }

    /// Writes the file atomically (a reader never sees half of it).
    public func save(_ path: String) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try enc.encode(self).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    /// Adds `NAME=URL` peers given on the command line.
    public mutating func add(peers: [String]) throws {
        for p in peers {
            guard let eq = p.firstIndex(of: "="), eq != p.startIndex else {
                throw ArgusError(.badInput, "--peer wants NAME=URL, got \"\(p)\"")
            }
            let url = String(p[p.index(after: eq)...])
            guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
                throw ArgusError(.badInput, "--peer \(p): the URL must start with http:// or https://")
            }
            services[String(p[..<eq])] = url.hasSuffix("/") ? String(url.dropLast()) : url
        }
    }

    public func url(of service: String) -> String? { services[service] }
}
