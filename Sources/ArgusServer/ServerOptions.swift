import ArgusIngest

/// Settings of the HTTP server.
public struct ServerOptions: Sendable {
    public var host = "127.0.0.1"
    public var port = 4318
    /// Largest request body accepted (bytes).
    public var maxBodyBytes = 20 << 20
    /// Request bodies that may be in flight on ingest paths before they get 503 + Retry-After.
    public var maxInflightBytes = 256 << 20
    /// Resident memory budget in bytes (0: none); over 90% of it ingest answers 503 + Retry-After.
    public var memoryBudget = 0
    public var ingestLimits = IngestLimits()

    public init() {}

    /// Parses `HOST:PORT` (`[::1]:4318` for IPv6).
    public static func parseListen(_ text: String) throws -> (String, Int) {
        guard let colon = text.lastIndex(of: ":") else {
            throw ServerError("--listen takes HOST:PORT, for example 127.0.0.1:4318; got \"\(text)\"")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw ServerError("--listen: the port in \"\(text)\" is not a number from 0 to 65535")
        }
        return (host.isEmpty ? "0.0.0.0" : host, port)
    }
}

public struct ServerError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}
