import ArgusIngest
import ArgusModel
import ArgusQuery
import ArgusStorage
import Foundation
import Hummingbird
import NIOCore

/// The Loki HTTP API (`/loki/api/v1/...`) with Loki's JSON, so Grafana's Loki data source,
/// logcli and `argus logs` work against Argus. Errors are plain text with a 4xx/5xx status, as
/// Loki answers them.
struct LokiAPI {
    let logs: LogStore
    let engine: LogQLEngine
    let options: ServerOptions
    let monitoring: SelfMonitoring

    static let categorizeHeader = "X-Loki-Response-Encoding-Flags"

    func register(_ router: Router<BasicRequestContext>) {
        for method in [HTTPRequest.Method.get, .post] {
            router.on("/loki/api/v1/query", method: method) { request, _ in await respond { try await query(request, range: false) } }
            router.on("/loki/api/v1/query_range", method: method) { request, _ in await respond { try await query(request, range: true) } }
            router.on("/loki/api/v1/labels", method: method) { request, _ in await respond { try await labels(request) } }
            router.on("/loki/api/v1/series", method: method) { request, _ in await respond { try await series(request) } }
            router.on("/loki/api/v1/index/stats", method: method) { request, _ in await respond { try await indexStats(request) } }
        }
        router.get("/loki/api/v1/label/{name}/values") { request, context in
            await respond { try await labelValues(request, name: context.parameters.get("name") ?? "") }
        }
        router.post("/loki/api/v1/admin/flush") { _, _ in
            await respond {
                let logs = self.logs
                let r = try await runBlocking { try logs.flush() }
                return "{\"blocksWritten\":\(r.blocksWritten),\"blocksCompacted\":\(r.blocksCompacted),\"blocksDropped\":\(r.blocksDropped)}"
            }
        }
        router.get("/loki/api/v1/status/buildinfo") { _, _ in
            JSON.response("{\"version\":\"\(ArgusVersion.current)\",\"revision\":\"\",\"branch\":\"main\",\"buildUser\":\"argus\",\"buildDate\":\"\",\"goVersion\":\"swift\"}")
        }
    }

    func respond(_ body: () async throws -> String) async -> Response {
        do {
            return JSON.response(try await body())
        } catch {
            return HTTPErrors.text(error)
        }
    }

    func params(_ request: Request) async throws -> FormParameters {
        var r = request
        return try await FormParameters.from(&r, maxBody: options.maxBodyBytes)
    }

    // MARK: parameters

    /// Loki's timestamps: RFC 3339, unix seconds with a fraction, or integers (seconds when at
    /// most 10 digits, else nanoseconds). Returns nanoseconds.
    static func time(_ s: String?, name: String, default d: Int64) throws -> Int64 {
        guard let s, !s.isEmpty else { return d }
        if let ns = TimeUtil.lokiNanos(s) { return ns }
        throw ArgusError(.badInput, "invalid \(name): cannot parse \"\(s)\" as a timestamp (use nanoseconds, unix seconds or RFC 3339)")
    }

    /// A step or interval: float seconds or a duration such as `30s`. Returns nanoseconds.
    static func duration(_ s: String, name: String) throws -> Int64 {
        if let d = Double(s), d.isFinite, let ns = Int64(exactly: (d * 1e9).rounded()) { return ns }
        if let ns = LogQLDuration.parseNanos(s) { return ns }
        throw ArgusError(.badInput, "invalid \(name): cannot parse \"\(s)\" to a valid duration")
    }

    static func limit(_ p: FormParameters) throws -> Int {
        guard let s = p.get("limit"), !s.isEmpty else { return 100 }
        guard let n = Int(s), n >= 0 else { throw ArgusError(.badInput, "invalid limit: \"\(s)\" is not a non-negative integer") }
        return n
    }

    static func direction(_ p: FormParameters) throws -> LogQLDirection {
        guard let s = p.get("direction"), !s.isEmpty else { return .backward }
        guard let d = LogQLDirection(rawValue: s.lowercased()) else {
            throw ArgusError(.badInput, "invalid direction \"\(s)\": use forward or backward")
        }
        return d
    }

    // MARK: handlers

    func query(_ request: Request, range: Bool) async throws -> String {
        let p = try await params(request)
        guard let q = p.get("query"), !q.isEmpty else { throw ArgusError(.badInput, "query parameter is required") }
        let now = TimeUtil.nowNanos()
        let limit = try LokiAPI.limit(p)
        let direction = try LokiAPI.direction(p)
        var start: Int64, end: Int64, step: Int64
        if range {
            end = try LokiAPI.time(p.get("end"), name: "end", default: now)
            start = try LokiAPI.time(p.get("start"), name: "start", default: end - 3_600_000_000_000)
            if end < start { throw ArgusError(.badInput, "the end timestamp must not be before the start time") }
            if let s = p.get("step"), !s.isEmpty {
                step = try LokiAPI.duration(s, name: "step")
            } else {
                step = max((end - start) / 1_000_000_000 / 250, 1) * 1_000_000_000
            }
            if step <= 0 { throw ArgusError(.badInput, "zero or negative query resolution step widths are not accepted. Try a positive integer") }
        } else {
            end = try LokiAPI.time(p.get("time"), name: "time", default: now)
            start = end
            step = 0
        }
        let categorize = request.headers.contains { $0.name.canonicalName == LokiAPI.categorizeHeader.lowercased() && $0.value.contains("categorize-labels") }
        let engine = self.engine, logs = self.logs
        let started = TimeUtil.monotonicNanos()
        defer { monitoring.registry.observe("argus_query_duration_seconds", [("type", range ? "logql_range" : "logql_instant")], Double(TimeUtil.monotonicNanos() - started) / 1e9) }
        let (s0, e0, st) = (start, end, step)
        let r = try await runBlocking { try engine.query(q, start: s0, end: e0, step: st, limit: limit, direction: direction, store: logs) }
        return LokiAPI.encode(r, categorize: categorize)
    }

    func labels(_ request: Request) async throws -> String {
        let p = try await params(request)
        let (start, end) = try window(p)
        var names = Set<String>()
        for l in try streams(p, start: start, end: end) { for item in l.items { names.insert(item.name) } }
        return "{\"status\":\"success\",\"data\":[" + names.sorted().map(JSON.quoted).joined(separator: ",") + "]}"
    }

    func labelValues(_ request: Request, name: String) async throws -> String {
        let p = try await params(request)
        let (start, end) = try window(p)
        var values = Set<String>()
        for l in try streams(p, start: start, end: end) { if let v = l[name] { values.insert(v) } }
        return "{\"status\":\"success\",\"data\":[" + values.sorted().map(JSON.quoted).joined(separator: ",") + "]}"
    }

    func series(_ request: Request) async throws -> String {
        let p = try await params(request)
        let (start, end) = try window(p)
        var selectors = p.getAll("match[]") + p.getAll("match")
        if selectors.isEmpty, let q = p.get("query") { selectors = [q] }
        let sets: [[Matcher]] = selectors.isEmpty ? [[]] : try selectors.map { try LokiAPI.selector($0) }
        var seen = Set<Labels>()
        var out: [String] = []
        for ms in sets {
            for l in logs.streams(matching: ms, start: start, end: end) where seen.insert(l).inserted {
                out.append(LokiAPI.labelsJSON(l))
            }
        }
        return "{\"status\":\"success\",\"data\":[" + out.joined(separator: ",") + "]}"
    }

    func indexStats(_ request: Request) async throws -> String {
        let p = try await params(request)
        let (start, end) = try window(p)
        guard let q = p.get("query"), !q.isEmpty else { throw ArgusError(.badInput, "query parameter is required") }
        let ms = try LokiAPI.selector(q)
        let s = logs.indexStats(matching: ms, start: start, end: end)
        return "{\"streams\":\(s.streams),\"chunks\":\(s.chunks),\"entries\":\(s.entries),\"bytes\":\(s.bytes)}"
    }

    func window(_ p: FormParameters) throws -> (Int64, Int64) {
        let now = TimeUtil.nowNanos()
        let end = try LokiAPI.time(p.get("end"), name: "end", default: now)
        let start = try LokiAPI.time(p.get("start"), name: "start", default: end - 6 * 3_600_000_000_000)
        return (start, end + 1)
    }

    func streams(_ p: FormParameters, start: Int64, end: Int64) throws -> [Labels] {
        if let q = p.get("query"), !q.isEmpty {
            return logs.streams(matching: try LokiAPI.selector(q), start: start, end: end)
        }
        return logs.streams(matching: [], start: start, end: end)
    }

    /// The stream selector of a LogQL query (a pipeline after it is allowed and ignored).
    static func selector(_ q: String) throws -> [Matcher] {
        switch try LogQLEngine.parse(q) {
        case .logs(let l): return l.matchers
        case .metric: throw ArgusError(.badInput, "expected a stream selector such as {service_name=\"checkout\"}, got a metric query")
        }
    }

    // MARK: encoding

    static func labelsJSON(_ l: Labels) -> String {
        "{" + l.items.map { JSON.quoted($0.name) + ":" + JSON.quoted($0.value) }.joined(separator: ",") + "}"
    }

    static func pairsJSON(_ l: [(name: String, value: String)]) -> String {
        "{" + l.map { JSON.quoted($0.name) + ":" + JSON.quoted($0.value) }.joined(separator: ",") + "}"
    }

    static func encode(_ r: LogQLResult, categorize: Bool) -> String {
        var out = "{\"status\":\"success\",\"data\":{\"resultType\":"
        var returned = 0
        switch r.value {
        case .streams(let entries):
            returned = entries.count
            out += "\"streams\",\"result\":["
            // Streams in order of their first entry; entries keep the query's order.
            var index: [Labels: Int] = [:]
            var groups: [(Labels, [LogQLEntry])] = []
            for e in entries {
                let key = categorize ? e.stream : e.allLabels
                if let i = index[key] { groups[i].1.append(e) } else {
                    index[key] = groups.count
                    groups.append((key, [e]))
                }
            }
            for (gi, (labels, es)) in groups.enumerated() {
                if gi > 0 { out += "," }
                out += "{\"stream\":" + labelsJSON(labels) + ",\"values\":["
                for (i, e) in es.enumerated() {
                    if i > 0 { out += "," }
                    out += "[\"\(e.time)\","
                    JSON.appendString(e.line, to: &out)
                    if categorize && (!e.structuredMetadata.isEmpty || !e.parsed.isEmpty) {
                        var parts: [String] = []
                        if !e.structuredMetadata.isEmpty { parts.append("\"structuredMetadata\":" + pairsJSON(e.structuredMetadata)) }
                        if !e.parsed.isEmpty { parts.append("\"parsed\":" + pairsJSON(e.parsed)) }
                        out += ",{" + parts.joined(separator: ",") + "}"
                    }
                    out += "]"
                }
                out += "]}"
            }
            out += "]"
        case .vector(let v):
            returned = v.count
            out += "\"vector\",\"result\":["
            out += v.map { "{\"metric\":" + labelsJSON($0.labels) + ",\"value\":[" + PrometheusAPI.ts($0.t) + ",\"" + PrometheusAPI.value($0.v) + "\"]}" }.joined(separator: ",")
            out += "]"
        case .matrix(let m):
            returned = m.count
            out += "\"matrix\",\"result\":["
            out += m.map { s in
                "{\"metric\":" + labelsJSON(s.labels) + ",\"values\":[" + s.samples.map { "[" + PrometheusAPI.ts($0.t) + ",\"" + PrometheusAPI.value($0.v) + "\"]" }.joined(separator: ",") + "]}"
            }.joined(separator: ",")
            out += "]"
        case .scalar(let t, let v):
            out += "\"scalar\",\"result\":[" + PrometheusAPI.ts(t) + ",\"" + PrometheusAPI.value(v) + "\"]"
        }
        out += ",\"stats\":" + statsJSON(r, returned: returned) + "}}"
        return out
    }

    static func statsJSON(_ r: LogQLResult, returned: Int) -> String {
        let s = r.stats
        let secs = max(r.seconds, 1e-9)
        let blockBytes = s.bytesRead, lines = s.linesRead
        return "{\"summary\":{\"bytesProcessedPerSecond\":\(Int(Double(blockBytes) / secs)),\"linesProcessedPerSecond\":\(Int(Double(lines) / secs)),"
            + "\"totalBytesProcessed\":\(blockBytes),\"totalLinesProcessed\":\(lines),\"execTime\":\(r.seconds),\"queueTime\":0,"
            + "\"subqueries\":0,\"totalEntriesReturned\":\(returned),\"splits\":0,\"shards\":0,\"totalPostFilterLines\":\(lines),"
            + "\"totalStructuredMetadataBytesProcessed\":0},"
            + "\"querier\":{\"store\":{\"totalChunksRef\":\(s.chunksTotal),\"totalChunksDownloaded\":\(s.chunksRead),\"chunksDownloadTime\":0,"
            + "\"queryReferencedStructured\":false,\"chunkRefsFetchTime\":0,\"congestionControlLatency\":0,\"pipelineWrapperFilteredLines\":0,"
            + "\"chunk\":{\"headChunkBytes\":0,\"headChunkLines\":\(s.headRecords),\"decompressedBytes\":\(blockBytes),"
            + "\"decompressedLines\":\(lines - s.headRecords),\"compressedBytes\":0,\"totalDuplicates\":0,\"postFilterLines\":\(lines),"
            + "\"headChunkStructuredMetadataBytes\":0,\"decompressedStructuredMetadataBytes\":0}}},"
            + "\"ingester\":{\"totalReached\":0,\"totalChunksMatched\":0,\"totalBatches\":0,\"totalLinesSent\":0,\"store\":{\"totalChunksRef\":0,"
            + "\"totalChunksDownloaded\":0,\"chunksDownloadTime\":0,\"queryReferencedStructured\":false,\"chunkRefsFetchTime\":0,"
            + "\"congestionControlLatency\":0,\"pipelineWrapperFilteredLines\":0,\"chunk\":{\"headChunkBytes\":0,\"headChunkLines\":0,"
            + "\"decompressedBytes\":0,\"decompressedLines\":0,\"compressedBytes\":0,\"totalDuplicates\":0,\"postFilterLines\":0,"
            + "\"headChunkStructuredMetadataBytes\":0,\"decompressedStructuredMetadataBytes\":0}}},"
            + "\"argus\":{\"chunksSkippedByTokenFilter\":\(s.chunksSkippedByFilter)}}"
    }
}
