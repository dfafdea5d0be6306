import AsyncHTTPClient
import Foundation
import NIOCore

/// Fetches panel data over HTTP: the Prometheus API for metric panels (so a plain Prometheus
/// works too), Loki's API for logs, Tempo's for traces. One base URL serves all three on Argus.
public struct DataClient: Sendable {
    public let baseURL: String
    public var timeout: TimeAmount = .seconds(30)

    public init(baseURL: String) {
        var b = baseURL
        while b.hasSuffix("/") { b.removeLast() }
        self.baseURL = b
    }

    /// Percent-encodes a query parameter value (everything but unreserved characters, so `+`
    /// and `&` in PromQL survive form decoding).
    public static func encode(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }

    public static func queryString(_ params: [(String, String)]) -> String {
        params.map { "\($0.0)=\(encode($0.1))" }.joined(separator: "&")
    }

    /// GETs `path?params` and returns the body; a status of 400 and above with a body is still
    /// returned so the decoders can read the API's error envelope.
    public func get(_ path: String, _ params: [(String, String)]) async throws -> [UInt8] {
        let url = baseURL + path + (params.isEmpty ? "" : "?" + DataClient.queryString(params))
        let req = HTTPClientRequest(url: url)
        do {
            let resp = try await HTTPClient.shared.execute(req, timeout: timeout)
            let body = Array(try await resp.body.collect(upTo: 64 << 20).readableBytesView)
            if resp.status.code >= 400, body.isEmpty || body.first != UInt8(ascii: "{") {
                throw DataSourceError("\(path): HTTP \(resp.status.code) \(String(decoding: body.prefix(200), as: UTF8.self))")
            }
            return body
        } catch let e as DataSourceError {
            throw e
        } catch {
            throw DataSourceError("cannot reach \(baseURL): \(error)")
        }
    }

    static func fmt(_ s: Double) -> String { String(format: "%.3f", s) }

    public func queryRange(_ expr: String, start: Double, end: Double, step: Double, legend: String? = nil) async throws -> [SeriesData] {
        try PromDecoder.matrix(try await get("/api/v1/query_range", [("query", expr), ("start", DataClient.fmt(start)), ("end", DataClient.fmt(end)), ("step", DataClient.fmt(step))]), legend: legend)
    }

    public func query(_ expr: String, time: Double, legend: String? = nil) async throws -> [VectorSample] {
        try PromDecoder.vector(try await get("/api/v1/query", [("query", expr), ("time", DataClient.fmt(time))]), legend: legend)
    }

    public func labelValues(_ label: String, match: String?, start: Double, end: Double) async throws -> [String] {
        var p = [("start", DataClient.fmt(start)), ("end", DataClient.fmt(end))]
        if let match { p.append(("match[]", match)) }
        return try PromDecoder.labelValues(try await get("/api/v1/label/\(label)/values", p))
    }

    /// Exemplars of a query's series; an API that does not answer the exemplar path gives none.
    public func exemplars(_ expr: String, start: Double, end: Double, legend: String? = nil) async -> [ExemplarPoint] {
        guard let body = try? await get("/api/v1/query_exemplars", [("query", expr), ("start", DataClient.fmt(start)), ("end", DataClient.fmt(end))]) else { return [] }
        return (try? PromDecoder.exemplars(body, legend: legend)) ?? []
    }

    public func logs(_ query: String, start: Double, end: Double, limit: Int) async throws -> [LogLine] {
        let p = [("query", query), ("start", String(Int64(start * 1e9))), ("end", String(Int64(end * 1e9))),
                 ("limit", String(limit)), ("direction", "backward")]
        return try LokiDecoder.streams(try await get("/loki/api/v1/query_range", p))
    }

    public func searchTraces(_ query: String, start: Double, end: Double, limit: Int) async throws -> [TraceSummary] {
        let p = [("q", query), ("start", String(Int64(start))), ("end", String(Int64(end.rounded(.up)))), ("limit", String(limit))]
        return try TempoDecoder.search(try await get("/api/search", p))
    }

    public func trace(_ id: String) async throws -> [TraceSpan] {
        try TempoDecoder.trace(try await get("/api/traces/\(id)", []))
    }
}
