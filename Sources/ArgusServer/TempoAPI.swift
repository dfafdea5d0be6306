import ArgusIngest
import ArgusModel
import ArgusQuery
import ArgusStorage
import Foundation
import Hummingbird
import NIOCore

/// Tempo's HTTP API over the span store: trace by id (v1 and v2, OTLP JSON or protobuf),
/// TraceQL search, tag names and tag values, in Tempo's JSON. Errors are plain text, as Tempo
/// answers them.
struct TempoAPI {
    let store: SpanStore
    let engine = TraceQLEngine()

    func register(_ router: Router<BasicRequestContext>) {
        let store = self.store
        let engine = self.engine
        router.get("/api/echo") { _, _ in "echo" }
        for v2 in [false, true] {
            router.get(v2 ? "/api/v2/traces/{traceID}" : "/api/traces/{traceID}") { request, context -> Response in
                do {
                    let raw = context.parameters.get("traceID") ?? ""
                    guard let id = TraceID(hex: raw) else {
                        throw ArgusError(.badInput, "invalid trace id \"\(raw)\": expected up to 32 hex digits")
                    }
                    let spans = try await runBlocking { try store.trace(id) }
                    guard !spans.isEmpty else { throw ArgusError(.notFound, "trace not found") }
                    let accept = request.headers[.accept]?.lowercased() ?? ""
                    if accept.contains("application/protobuf") || accept.contains("application/x-protobuf") {
                        var buf = ByteBuffer()
                        buf.writeBytes(try OTLPSpanConversion.tempoProtobuf(spans, v2: v2))
                        return Response(status: .ok, headers: [.contentType: "application/protobuf"], body: .init(byteBuffer: buf))
                    }
                    return JSON.response(try OTLPSpanConversion.tempoJSON(spans, v2: v2))
                } catch {
                    return HTTPErrors.text(error)
                }
            }
        }
        router.get("/api/search") { request, _ -> Response in
            do {
                let p = FormParameters(request.uri.query ?? "")
                let q = try TempoAPI.query(p)
                let parsed: TraceQLQuery
                do { parsed = try TraceQLParser.parse(q) } catch let e as TraceQLParseError {
                    throw ArgusError(.badInput, "invalid TraceQL query: \(e)")
                }
                let now = TimeUtil.nowNanos()
                let start = try p.get("start").map { try TempoAPI.seconds($0, "start") * 1_000_000_000 } ?? 0
                let end = try p.get("end").map { try TempoAPI.seconds($0, "end") * 1_000_000_000 + 999_999_999 } ?? (now + 86_400_000_000_000)
                guard end >= start else { throw ArgusError(.badInput, "invalid start and end: end is before start") }
                let limit = try p.get("limit").map { try TempoAPI.positive($0, "limit") } ?? 20
                let spss = try p.get("spss").map { try TempoAPI.positive($0, "spss") } ?? 3
                let r = try await runBlocking {
                    try engine.search(parsed, store: store, startNanos: start, endNanos: end, limit: limit, spansPerSpanSet: spss)
                }
                return JSON.response(TempoAPI.searchJSON(r))
            } catch {
                return HTTPErrors.text(error)
            }
        }
        router.get("/api/search/tags") { request, _ -> Response in
            let scope = FormParameters(request.uri.query ?? "").get("scope")
            let t = store.tags()
            var names = Set<String>()
            if scope == nil || scope == "span" || scope == "all" || scope == "" { names.formUnion(t[0].keys) }
            if scope == nil || scope == "resource" || scope == "all" || scope == "" { names.formUnion(t[1].keys) }
            return JSON.response("{\"tagNames\":" + TempoAPI.stringArray(names.sorted()) + "}")
        }
        router.get("/api/v2/search/tags") { request, _ -> Response in
            let scope = FormParameters(request.uri.query ?? "").get("scope") ?? "all"
            guard ["all", "", "span", "resource", "intrinsic"].contains(scope) else {
                return HTTPErrors.text(ArgusError(.badInput, "unknown scope \"\(scope)\": use span, resource, intrinsic or all"))
            }
            let t = store.tags()
            var parts: [String] = []
            if scope == "all" || scope == "" || scope == "resource" { parts.append("{\"name\":\"resource\",\"tags\":" + TempoAPI.stringArray(t[1].keys.sorted()) + "}") }
            if scope == "all" || scope == "" || scope == "span" { parts.append("{\"name\":\"span\",\"tags\":" + TempoAPI.stringArray(t[0].keys.sorted()) + "}") }
            if scope == "all" || scope == "" || scope == "intrinsic" { parts.append("{\"name\":\"intrinsic\",\"tags\":" + TempoAPI.stringArray(TempoAPI.intrinsics) + "}") }
            return JSON.response("{\"scopes\":[" + parts.joined(separator: ",") + "]}")
        }
        router.get("/api/search/tag/{name}/values") { _, context -> Response in
            let name = context.parameters.get("name") ?? ""
            let t = store.tags()
            var values = Set<String>()
            values.formUnion(t[0][name] ?? [])
            values.formUnion(t[1][name] ?? [])
            if let i = TempoAPI.intrinsicValues(name) { values.formUnion(i) }
            return JSON.response("{\"tagValues\":" + TempoAPI.stringArray(values.sorted()) + "}")
        }
        router.get("/api/v2/search/tag/{name}/values") { _, context -> Response in
            let name = context.parameters.get("name") ?? ""
            let t = store.tags()
            var typed: [(String, String)] = []
            if let i = TempoAPI.intrinsicValues(name) {
                let type = name == "status" || name == "kind" ? "keyword" : "string"
                typed = i.sorted().map { (type, $0) }
            } else {
                var values = Set<String>()
                if name.hasPrefix("span.") { values.formUnion(t[0][String(name.dropFirst(5))] ?? []) }
                else if name.hasPrefix("resource.") { values.formUnion(t[1][String(name.dropFirst(9))] ?? []) }
                else {
                    let n = name.hasPrefix(".") ? String(name.dropFirst()) : name
                    values.formUnion(t[0][n] ?? [])
                    values.formUnion(t[1][n] ?? [])
                }
                typed = values.sorted().map { v in (Int64(v) != nil ? "int" : Double(v) != nil ? "float" : v == "true" || v == "false" ? "bool" : "string", v) }
            }
            var out = "{\"tagValues\":["
            for (i, (type, v)) in typed.enumerated() {
                if i > 0 { out += "," }
                out += "{\"type\":\"\(type)\",\"value\":"
                JSON.appendString(v, to: &out)
                out += "}"
            }
            return JSON.response(out + "]}")
        }
    }

    static let intrinsics = ["duration", "event:name", "event:timeSinceStart", "kind", "name", "rootName", "rootServiceName", "span:duration", "span:kind", "span:name",
                             "span:status", "span:statusMessage", "status", "statusMessage", "trace:duration", "trace:rootName", "trace:rootService"]

    static func intrinsicValues(_ name: String) -> Set<String>? {
        switch name {
        case "status", "span:status": return Set(SpanStatus.allCases.map(\.traceQLName))
        case "kind", "span:kind": return Set(SpanKind.allCases.map(\.traceQLName))
        default: return nil
        }
    }

    /// The TraceQL query of a search: `q`, or Tempo's older `tags` / `minDuration` /
    /// `maxDuration` parameters turned into one.
    static func query(_ p: FormParameters) throws -> String {
        if let q = p.get("q"), !q.trimmingCharacters(in: .whitespaces).isEmpty { return q }
        var conds: [String] = []
        if let tags = p.get("tags"), !tags.isEmpty {
            for pair in tags.split(separator: " ") {
                let kv = pair.split(separator: "=", maxSplits: 1)
                guard kv.count == 2 else { throw ArgusError(.badInput, "invalid tags parameter \"\(tags)\": use key=value pairs separated by spaces") }
                let key = String(kv[0])
                let v = String(kv[1]).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                let attr = key == "name" || key == "status" ? key : "." + key
                conds.append("\(attr) = \(JSONText.quoted(v))")
            }
        }
        if let d = p.get("minDuration"), !d.isEmpty { conds.append("duration >= \(d)") }
        if let d = p.get("maxDuration"), !d.isEmpty { conds.append("duration <= \(d)") }
        return "{ " + conds.joined(separator: " && ") + " }"
    }

    static func seconds(_ s: String, _ name: String) throws -> Int64 {
        guard let v = Int64(s) else { throw ArgusError(.badInput, "invalid \(name) \"\(s)\": expected unix epoch seconds") }
        return v
    }

    static func positive(_ s: String, _ name: String) throws -> Int {
        guard let v = Int(s), v > 0 else { throw ArgusError(.badInput, "invalid \(name) \"\(s)\": expected a positive integer") }
        return v
    }

    static func stringArray(_ xs: [String]) -> String {
        var out = "["
        for (i, x) in xs.enumerated() {
            if i > 0 { out += "," }
            JSON.appendString(x, to: &out)
        }
        return out + "]"
    }

    static func attributeJSON(_ a: SpanAttribute, to out: inout String) {
        out += "{\"key\":"
        JSON.appendString(a.key, to: &out)
        out += ",\"value\":{"
        switch a.value {
        case .string(let s):
            out += "\"stringValue\":"
            JSON.appendString(s, to: &out)
        case .int(let i): out += "\"intValue\":\"\(i)\""
        case .double(let d): out += "\"doubleValue\":\(d.isFinite ? "\(d)" : "\"\(d)\"")"
        case .bool(let b): out += "\"boolValue\":\(b)"
        case .raw(let r):
            out += "\"stringValue\":"
            JSON.appendString(String(decoding: r, as: UTF8.self), to: &out)
        }
        out += "}}"
    }

    static func spanSetJSON(_ s: TraceQLSpanSet, to out: inout String) {
        out += "{\"spans\":["
        for (i, m) in s.spans.enumerated() {
            if i > 0 { out += "," }
            out += "{\"spanID\":\"\(hex64(m.span.spanID))\",\"name\":"
            JSON.appendString(m.span.name, to: &out)
            out += ",\"startTimeUnixNano\":\"\(m.span.startNanos)\",\"durationNanos\":\"\(m.span.durationNanos)\""
            if !m.attributes.isEmpty {
                out += ",\"attributes\":["
                for (j, a) in m.attributes.enumerated() {
                    if j > 0 { out += "," }
                    attributeJSON(a, to: &out)
                }
                out += "]"
            }
            out += "}"
        }
        out += "],\"matched\":\(s.matched)"
        if !s.attributes.isEmpty {
            out += ",\"attributes\":["
            for (j, a) in s.attributes.enumerated() {
                if j > 0 { out += "," }
                attributeJSON(a, to: &out)
            }
            out += "]"
        }
        out += "}"
    }

    /// Tempo's `SearchResponse` JSON.
    static func searchJSON(_ r: TraceQLSearchResult) -> String {
        var out = "{\"traces\":["
        for (i, t) in r.traces.enumerated() {
            if i > 0 { out += "," }
            out += "{\"traceID\":\"\(t.traceID.hex)\",\"rootServiceName\":"
            JSON.appendString(t.rootServiceName, to: &out)
            if !t.rootTraceName.isEmpty {
                out += ",\"rootTraceName\":"
                JSON.appendString(t.rootTraceName, to: &out)
            }
            out += ",\"startTimeUnixNano\":\"\(t.startNanos)\""
            let ms = t.durationNanos / 1_000_000
            if ms > 0 { out += ",\"durationMs\":\(ms)" }
            if let first = t.spanSets.first {
                out += ",\"spanSet\":"
                spanSetJSON(first, to: &out)
            }
            out += ",\"spanSets\":["
            for (j, s) in t.spanSets.enumerated() {
                if j > 0 { out += "," }
                spanSetJSON(s, to: &out)
            }
            out += "],\"serviceStats\":{"
            for (j, svc) in t.serviceStats.keys.sorted().enumerated() {
                if j > 0 { out += "," }
                let st = t.serviceStats[svc]!
                JSON.appendString(svc, to: &out)
                out += ":{\"spanCount\":\(st.spans)"
                if st.errors > 0 { out += ",\"errorCount\":\(st.errors)" }
                out += "}"
            }
            out += "}}"
        }
        out += "],\"metrics\":{\"inspectedTraces\":\(r.inspectedTraces),\"inspectedBytes\":\"\(r.inspectedBytes)\",\"inspectedSpans\":\"\(r.inspectedSpans)\",\"totalBlocks\":\(r.totalBlocks),\"completedJobs\":1,\"totalJobs\":1}}"
        return out
    }
}
