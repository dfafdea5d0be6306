import ArgusIngest
import ArgusModel
import ArgusQuery
import ArgusStorage
import Foundation
import Hummingbird
import NIOCore

/// The Prometheus HTTP API (`/api/v1/...`) with Prometheus' JSON, so promtool, Grafana and any
/// Prometheus client work against Argus.
struct PrometheusAPI {
    let store: MetricStore
    let engine: PromQLEngine
    let options: ServerOptions
    let monitoring: SelfMonitoring

    func register(_ router: Router<BasicRequestContext>) {
        for method in [HTTPRequest.Method.get, .post] {
            router.on("/api/v1/query", method: method) { request, _ in await respondQuery { try await query(request) } }
            router.on("/api/v1/query_range", method: method) { request, _ in await respondQuery { try await queryRange(request) } }
            router.on("/api/v1/series", method: method) { request, _ in await respond { try await series(request) } }
            router.on("/api/v1/labels", method: method) { request, _ in await respond { try await labels(request) } }
        }
        router.get("/api/v1/label/{name}/values") { request, context in
            await respond { try await labelValues(request, name: context.parameters.get("name") ?? "") }
        }
        router.get("/api/v1/metadata") { request, _ in await respond { try metadata(FormParameters(request.uri.query ?? "")) } }
        for method in [HTTPRequest.Method.get, .post] {
            router.on("/api/v1/query_exemplars", method: method) { request, _ in await respond { try await queryExemplars(request) } }
        }
        router.get("/api/v1/status/buildinfo") { _, _ in
            success("{\"version\":\"\(ArgusVersion.current)\",\"revision\":\"\",\"branch\":\"main\",\"buildUser\":\"argus\",\"buildDate\":\"\",\"goVersion\":\"swift\"}")
        }
        router.get("/api/v1/status/tsdb") { _, _ in await respond { tsdbStatus() } }
    }

    func respond(_ body: () async throws -> String) async -> Response {
        do {
            return success(try await body())
        } catch {
            return HTTPErrors.json(error)
        }
    }

    func respondQuery(_ body: () async throws -> PromQLResult) async -> Response {
        do {
            let r = try await body()
            return success(PrometheusAPI.encode(r.value), warnings: r.warnings, infos: r.infos)
        } catch {
            return HTTPErrors.json(error)
        }
    }

    func success(_ data: String, warnings: [String] = [], infos: [String] = []) -> Response {
        var out = "{\"status\":\"success\",\"data\":" + data
        if !warnings.isEmpty { out += ",\"warnings\":[" + warnings.map(JSON.quoted).joined(separator: ",") + "]" }
        if !infos.isEmpty { out += ",\"infos\":[" + infos.map(JSON.quoted).joined(separator: ",") + "]" }
        return JSON.response(out + "}")
    }

    func params(_ request: Request) async throws -> FormParameters {
        var r = request
        return try await FormParameters.from(&r, maxBody: options.maxBodyBytes)
    }
}

extension PrometheusAPI {
    static let maxPoints = 11_000

    func time(_ p: FormParameters, _ name: String, default d: Int64) throws -> Int64 {
        guard let s = p.get(name), !s.isEmpty else { return d }
        return try parseAPITime(s, name: name)
    }

    func duration(_ s: String, name: String) throws -> Int64 {
        if let d = Double(s), d.isFinite {
            guard let ms = Int64(exactly: (d * 1000).rounded()) else {
                throw ArgusError(.badInput, "invalid parameter \"\(name)\": cannot parse \"\(s)\" to a valid duration")
            }
            return ms
        }
        do { return try PromDuration.parseMillis(s) } catch {
            throw ArgusError(.badInput, "invalid parameter \"\(name)\": cannot parse \"\(s)\" to a valid duration")
        }
    }

    func query(_ request: Request) async throws -> PromQLResult {
        let p = try await params(request)
        guard let q = p.get("query") else { throw ArgusError(.badInput, "invalid parameter \"query\": query must not be empty") }
        let t = try time(p, "time", default: TimeUtil.nowMillis())
        let started = TimeUtil.monotonicNanos()
        defer { monitoring.registry.observe("argus_query_duration_seconds", [("type", "instant")], Double(TimeUtil.monotonicNanos() - started) / 1e9) }
        return try await PrometheusAPI.queryParam { try await engine.instantQuery(q, at: t, store: store) }
    }

    func queryRange(_ request: Request) async throws -> PromQLResult {
        let p = try await params(request)
        guard let q = p.get("query") else { throw ArgusError(.badInput, "invalid parameter \"query\": query must not be empty") }
        guard let s = p.get("start") else { throw ArgusError(.badInput, "invalid parameter \"start\": cannot parse \"\" to a valid timestamp") }
        guard let e = p.get("end") else { throw ArgusError(.badInput, "invalid parameter \"end\": cannot parse \"\" to a valid timestamp") }
        guard let st = p.get("step") else { throw ArgusError(.badInput, "invalid parameter \"step\": cannot parse \"\" to a valid duration") }
        let start = try parseAPITime(s, name: "start")
        let end = try parseAPITime(e, name: "end")
        let step = try duration(st, name: "step")
        if end < start { throw ArgusError(.badInput, "invalid parameter \"end\": end timestamp must not be before start time") }
        if step <= 0 { throw ArgusError(.badInput, "invalid parameter \"step\": zero or negative query resolution step widths are not accepted. Try a positive integer") }
        if (end - start) / step > Int64(PrometheusAPI.maxPoints) {
            throw ArgusError(.badInput, "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)")
        }
        let started = TimeUtil.monotonicNanos()
        defer { monitoring.registry.observe("argus_query_duration_seconds", [("type", "range")], Double(TimeUtil.monotonicNanos() - started) / 1e9) }
        return try await PrometheusAPI.queryParam { try await engine.rangeQuery(q, start: start, end: end, step: step, store: store) }
    }

    func matchers(_ p: FormParameters, required: Bool) throws -> [[Matcher]] {
        let m = p.getAll("match[]")
        if m.isEmpty && required { throw ArgusError(.badInput, "no match[] parameter provided") }
        return try m.map { try SelectorParser.parse($0) }
    }

    func series(_ request: Request) async throws -> String {
        let p = try await params(request)
        let sets = try matchers(p, required: true)
        let start = try time(p, "start", default: Int64.min / 2)
        let end = try time(p, "end", default: Int64.max / 2)
        let q = store.querier(mint: start, maxt: end)
        var seen = Set<SeriesRef>()
        var out: [String] = []
        for ms in sets {
            let set = q.select(ms, hints: SelectHints(labelsOnly: true))
            while let s = set.next() {
                if seen.insert(s.ref).inserted { out.append(PrometheusAPI.labelsJSON(s.labels)) }
            }
            if let e = set.error { throw e }
        }
        return "[" + out.joined(separator: ",") + "]"
    }

    /// `/api/v1/metadata`: `{"metric":[{"type","help","unit"}]}`, with `metric`, `limit` and
    /// `limit_per_metric` as in Prometheus.
    func metadata(_ p: FormParameters) throws -> String {
        func intParam(_ name: String) throws -> Int {
            guard let s = p.get(name), !s.isEmpty else { return -1 }
            guard let n = Int(s) else { throw ArgusError(.badInput, "invalid parameter \"\(name)\": strconv.ParseInt: parsing \(JSON.quoted(s)): invalid syntax") }
            return n
        }
        let limit = try intParam("limit")
        let perMetric = try intParam("limit_per_metric")
        let only = p.get("metric")
        var out: [String] = []
        for (name, list) in store.metadata.snapshot().sorted(by: { $0.key < $1.key }) {
            if let only, !only.isEmpty, only != name { continue }
            if limit >= 0 && out.count >= limit { break }
            let items = (perMetric > 0 ? Array(list.suffix(perMetric)) : list).map { m in
                "{\"type\":\(JSON.quoted(m.type)),\"help\":\(JSON.quoted(m.help)),\"unit\":\(JSON.quoted(m.unit))}"
            }
            out.append(JSON.quoted(name) + ":[" + items.joined(separator: ",") + "]")
        }
        return "{" + out.joined(separator: ",") + "}"
    }

    /// `/api/v1/query_exemplars`: exemplars of the series the query's selectors match, in
    /// [start, end], grouped by series as Prometheus returns them.
    func queryExemplars(_ request: Request) async throws -> String {
        let p = try await params(request)
        guard let q = p.get("query"), !q.isEmpty else { throw ArgusError(.badInput, "invalid parameter \"query\": query must not be empty") }
        let start = try time(p, "start", default: Int64.min / 2)
        let end = try time(p, "end", default: Int64.max / 2)
        if end < start { throw ArgusError(.badInput, "invalid parameter \"end\": end timestamp must not be before start timestamp") }
        let expr: Expr
        do { expr = try PromQLParser.parse(q) } catch {
            throw ArgusError(.badInput, "invalid parameter \"query\": \(error)")
        }
        var selectors: [[Matcher]] = []
        expr.walk { e in
            if case .vectorSelector(let v) = e { selectors.append(v.matchers) }
        }
        var seen = Set<SeriesRef>()
        var out: [String] = []
        for ms in selectors {
            for (ref, labels) in store.matchingSeries(ms) where !seen.contains(ref) {
                let ex = store.exemplars.exemplars(of: ref, mint: start, maxt: end)
                guard !ex.isEmpty else { continue }
                seen.insert(ref)
                let items = ex.map { e in
                    "{\"labels\":" + PrometheusAPI.labelsJSON(e.labels) + ",\"value\":" + JSON.quoted(PrometheusAPI.value(e.v)) + ",\"timestamp\":" + PrometheusAPI.ts(e.t) + "}"
                }
                out.append("{\"seriesLabels\":" + PrometheusAPI.labelsJSON(labels) + ",\"exemplars\":[" + items.joined(separator: ",") + "]}")
            }
        }
        return "[" + out.joined(separator: ",") + "]"
    }

    func labels(_ request: Request) async throws -> String {
        let p = try await params(request)
        let sets = try matchers(p, required: false)
        let start = try time(p, "start", default: Int64.min / 2)
        let end = try time(p, "end", default: Int64.max / 2)
        let q = store.querier(mint: start, maxt: end)
        var names = Set<String>()
        if sets.isEmpty { names.formUnion(q.labelNames()) }
        for ms in sets { names.formUnion(q.labelNames(ms)) }
        return "[" + names.sorted().map(JSON.quoted).joined(separator: ",") + "]"
    }

    func labelValues(_ request: Request, name: String) async throws -> String {
        let p = try await params(request)
        let sets = try matchers(p, required: false)
        let start = try time(p, "start", default: Int64.min / 2)
        let end = try time(p, "end", default: Int64.max / 2)
        let q = store.querier(mint: start, maxt: end)
        var values = Set<String>()
        if sets.isEmpty { values.formUnion(q.labelValues(name)) }
        for ms in sets { values.formUnion(q.labelValues(name, ms)) }
        return "[" + values.sorted().map(JSON.quoted).joined(separator: ",") + "]"
    }

    func tsdbStatus() -> String {
        let st = store.stats()
        let q = store.querier(mint: Int64.min / 2, maxt: Int64.max / 2)
        var byName: [String: Int] = [:]
        var pairs: [String: Int] = [:]
        var valuesPerName: [String: Set<String>] = [:]
        let set = q.select([try! Matcher(.regexMatch, "__name__", ".+")], hints: SelectHints(labelsOnly: true))
        var labelPairs = 0
        while let s = set.next() {
            byName[s.labels.metricName ?? "", default: 0] += 1
            for l in s.labels.items {
                pairs["\(l.name)=\(l.value)", default: 0] += 1
                valuesPerName[l.name, default: []].insert(l.value)
                labelPairs += 1
            }
        }
        func top(_ d: [String: Int]) -> String {
            "[" + d.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(10)
                .map { "{\"name\":\(JSON.quoted($0.key)),\"value\":\($0.value)}" }.joined(separator: ",") + "]"
        }
        let minT = st.minT == .max ? 0 : st.minT
        let maxT = st.maxT == .min ? 0 : st.maxT
        return "{\"headStats\":{\"numSeries\":\(st.headSeries),\"numLabelPairs\":\(labelPairs),\"chunkCount\":\(st.headSeries),\"minTime\":\(minT),\"maxTime\":\(maxT)},"
            + "\"seriesCountByMetricName\":\(top(byName)),"
            + "\"labelValueCountByLabelName\":\(top(valuesPerName.mapValues(\.count))),"
            + "\"memoryInBytesByLabelName\":\(top(valuesPerName.mapValues { $0.reduce(0) { $0 + $1.utf8.count } })),"
            + "\"seriesCountByLabelValuePair\":\(top(pairs))}"
    }
}

extension PrometheusAPI {
    /// Bad queries are reported as Prometheus does: `invalid parameter "query": 1:5: parse error: …`.
    static func queryParam(_ body: () async throws -> PromQLResult) async throws -> PromQLResult {
        do {
            return try await body()
        } catch let e as ArgusError where e.code == .badInput {
            throw ArgusError(.badInput, "invalid parameter \"query\": " + e.message)
        }
    }

    /// Prometheus' timestamp form: seconds, and milliseconds as three digits when not zero.
    static func ts(_ t: Int64) -> String {
        var out = t < 0 ? "-" : ""
        let a = t < 0 ? -t : t
        out += String(a / 1000)
        let f = a % 1000
        if f != 0 {
            out += "."
            if f < 100 { out += "0" }
            if f < 10 { out += "0" }
            out += String(f)
        }
        return out
    }

    /// Prometheus' sample value form: strconv.FormatFloat(v, 'f', -1, 64), NaN, +Inf, -Inf.
    static func value(_ v: Double) -> String { OTLPNaming.formatFloat(v) }

    static func labelsJSON(_ l: Labels) -> String {
        "{" + l.items.map { JSON.quoted($0.name) + ":" + JSON.quoted($0.value) }.joined(separator: ",") + "}"
    }

    static func encode(_ v: PromQLValue) -> String {
        switch v {
        case .scalar(let t, let x):
            return "{\"resultType\":\"scalar\",\"result\":[\(ts(t)),\"\(value(x))\"]}"
        case .string(let t, let s):
            return "{\"resultType\":\"string\",\"result\":[\(ts(t)),\(JSON.quoted(s))]}"
        case .vector(let samples):
            var out = "{\"resultType\":\"vector\",\"result\":["
            for (i, s) in samples.enumerated() {
                if i > 0 { out += "," }
                out += "{\"metric\":" + labelsJSON(s.labels) + ",\"value\":[" + ts(s.t) + ",\"" + value(s.v) + "\"]}"
            }
            return out + "]}"
        case .matrix(let series):
            var out = "{\"resultType\":\"matrix\",\"result\":["
            for (i, s) in series.enumerated() {
                if i > 0 { out += "," }
                out += "{\"metric\":" + labelsJSON(s.labels) + ",\"values\":["
                for (j, p) in s.samples.enumerated() {
                    if j > 0 { out += "," }
                    out += "[" + ts(p.t) + ",\"" + value(p.v) + "\"]"
                }
                out += "]}"
            }
            return out + "]}"
        }
    }
}
