import ArgusModel
import ArgusQuery
import ArgusRules
import Foundation
import Hummingbird
import NIOCore

/// What the HTTP layer needs of the rule engine: the manager (for its groups and alerts) and a
/// reload action (rule files and alerting configuration), which returns the problems found.
public struct RulesRuntime: Sendable {
    public let manager: RuleManager
    public let reload: @Sendable () async -> [String]
    public let silences: SilenceStore?

    public init(manager: RuleManager, silences: SilenceStore? = nil, reload: @escaping @Sendable () async -> [String]) {
        self.manager = manager
        self.silences = silences
        self.reload = reload
    }
}

/// `/api/v1/rules`, `/api/v1/alerts` (Prometheus' JSON) and `POST /-/reload`.
struct RulesAPI {
    let runtime: RulesRuntime?

    func register(_ router: Router<BasicRequestContext>) {
        let runtime = self.runtime
        router.get("/api/v1/rules") { request, _ in
            let p = FormParameters(request.uri.query ?? "")
            return JSON.response("{\"status\":\"success\",\"data\":{\"groups\":" + RulesAPI.rulesJSON(runtime?.manager.groups ?? [], p) + "}}")
        }
        router.get("/api/v1/alerts") { _, _ in
            JSON.response("{\"status\":\"success\",\"data\":{\"alerts\":" + RulesAPI.alertsJSON(runtime?.manager.groups ?? []) + "}}")
        }
        registerSilences(router)
        for method in [HTTPRequest.Method.post, .put] {
            router.on("/-/reload", method: method) { _, _ -> Response in
                guard let runtime else {
                    return RulesAPI.text("Argus runs without rules (start it with --rules DIR or an alerts/ directory)\n", status: .ok)
                }
                let errors = await runtime.reload()
                if errors.isEmpty { return RulesAPI.text("", status: .ok) }
                return RulesAPI.text("failed to reload config: " + errors.joined(separator: "\n") + "\n", status: .internalServerError)
            }
        }
    }

    /// Alertmanager's v2 silence API: list, create (or update by id), expire.
    func registerSilences(_ router: Router<BasicRequestContext>) {
        let silences = runtime?.silences
        router.get("/api/v2/silences") { _, _ -> Response in
            let now = TimeUtil.nowMillis()
            return JSON.response("[" + (silences?.list() ?? []).map { RulesAPI.silenceJSON($0, now: now) }.joined(separator: ",") + "]")
        }
        router.post("/api/v2/silences") { request, _ -> Response in
            guard let silences else { return RulesAPI.text("silences need rules: start Argus with --rules\n", status: .notFound) }
            do {
                var req = request
                let body = try await req.collectBody(upTo: 1 << 20)
                let s = try RulesAPI.parseSilence(Data(body.readableBytesView))
                let id = try silences.add(s)
                return JSON.response("{\"silenceID\":" + JSON.quoted(id) + "}")
            } catch {
                return HTTPErrors.text(error)
            }
        }
        router.delete("/api/v2/silence/{id}") { _, context -> Response in
            guard let silences else { return RulesAPI.text("silence not found\n", status: .notFound) }
            do {
                try silences.expire(context.parameters.get("id") ?? "")
                return RulesAPI.text("", status: .ok)
            } catch {
                return HTTPErrors.text(error)
            }
        }
    }

    static func parseSilence(_ data: Data) throws -> Silence {
        guard let obj = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw ArgusError(.badInput, "the body must be a JSON object with matchers, startsAt, endsAt, createdBy and comment")
        }
        var matchers: [Matcher] = []
        for m in obj["matchers"] as? [[String: Any]] ?? [] {
            guard let name = m["name"] as? String, let value = m["value"] as? String else {
                throw ArgusError(.badInput, "a matcher needs a name and a value")
            }
            let isRegex = m["isRegex"] as? Bool ?? false
            let isEqual = m["isEqual"] as? Bool ?? true
            let kind: Matcher.Kind = isRegex ? (isEqual ? .regexMatch : .regexNoMatch) : (isEqual ? .equal : .notEqual)
            matchers.append(try Matcher(kind, name, value))
        }
        let now = TimeUtil.nowMillis()
        let starts = try (obj["startsAt"] as? String).map { try parseAPITime($0, name: "startsAt") } ?? now
        guard let endsText = obj["endsAt"] as? String else { throw ArgusError(.badInput, "endsAt is required") }
        let ends = try parseAPITime(endsText, name: "endsAt")
        return Silence(id: obj["id"] as? String ?? "", matchers: matchers, startsAt: starts, endsAt: ends,
                       createdBy: obj["createdBy"] as? String ?? "", comment: obj["comment"] as? String ?? "")
    }

    static func silenceJSON(_ s: Silence, now: Int64) -> String {
        var out = "{\"id\":" + JSON.quoted(s.id) + ",\"status\":{\"state\":\"" + s.state(at: now) + "\"}"
        out += ",\"updatedAt\":\"" + WebhookPayload.rfc3339(s.updatedAt) + "\",\"comment\":" + JSON.quoted(s.comment)
        out += ",\"createdBy\":" + JSON.quoted(s.createdBy) + ",\"endsAt\":\"" + WebhookPayload.rfc3339(s.endsAt) + "\",\"matchers\":["
        out += s.matchers.map { m in
            "{\"isEqual\":" + (m.kind == .equal || m.kind == .regexMatch ? "true" : "false") + ",\"isRegex\":"
                + (m.kind == .regexMatch || m.kind == .regexNoMatch ? "true" : "false") + ",\"name\":" + JSON.quoted(m.name)
                + ",\"value\":" + JSON.quoted(m.value) + "}"
        }.joined(separator: ",")
        out += "],\"startsAt\":\"" + WebhookPayload.rfc3339(s.startsAt) + "\"}"
        return out
    }

    static func text(_ s: String, status: HTTPResponse.Status) -> Response {
        var buf = ByteBuffer()
        buf.writeString(s)
        return Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: buf))
    }

    static func rulesJSON(_ groups: [RuleGroup], _ p: FormParameters) -> String {
        let type = p.get("type")
        let names = Set(p.getAll("rule_name[]"))
        let groupNames = Set(p.getAll("rule_group[]"))
        let files = Set(p.getAll("file[]"))
        var out = "["
        var firstGroup = true
        for g in groups {
            if !groupNames.isEmpty && !groupNames.contains(g.spec.name) { continue }
            if !files.isEmpty && !files.contains(g.spec.file) { continue }
            var rules: [String] = []
            for r in g.rules {
                if !names.isEmpty && !names.contains(r.spec.name) { continue }
                if type == "alert" && !r.spec.isAlert { continue }
                if type == "record" && r.spec.isAlert { continue }
                rules.append(ruleJSON(r, language: g.spec.language))
            }
            if rules.isEmpty && (!names.isEmpty || type != nil) { continue }
            if !firstGroup { out += "," }
            firstGroup = false
            out += "{\"name\":" + JSON.quoted(g.spec.name) + ",\"file\":" + JSON.quoted(g.spec.file) + ",\"rules\":[" + rules.joined(separator: ",") + "]"
            out += ",\"interval\":" + seconds(g.intervalMs) + ",\"limit\":\(g.spec.limit)"
            out += ",\"evaluationTime\":" + number(g.evaluationSeconds) + ",\"lastEvaluation\":\"" + WebhookPayload.rfc3339(g.lastEvaluation) + "\"}"
        }
        return out + "]"
    }

    static func ruleJSON(_ r: RuleRuntime, language: RuleLanguage) -> String {
        var query = r.spec.expr
        if language == .promql, let e = try? PromQLEngine.parse(r.spec.expr) { query = PromQLPrinter.format(e) }
        var out = "{"
        if let state = r.state {
            let alerts = state.alerts.filter { $0.state != .inactive }
            let ruleState = alerts.contains { $0.state == .firing } ? "firing" : alerts.isEmpty ? "inactive" : "pending"
            out += "\"state\":\"\(ruleState)\",\"name\":" + JSON.quoted(r.spec.name) + ",\"query\":" + JSON.quoted(query)
            out += ",\"duration\":" + seconds(r.spec.forMs) + ",\"keepFiringFor\":" + seconds(r.spec.keepFiringForMs)
            out += ",\"labels\":" + map(r.spec.labels) + ",\"annotations\":" + map(r.spec.annotations)
            out += ",\"alerts\":[" + alerts.map(alertJSON).joined(separator: ",") + "]"
        } else {
            out += "\"name\":" + JSON.quoted(r.spec.name) + ",\"query\":" + JSON.quoted(query) + ",\"labels\":" + map(r.spec.labels)
        }
        out += ",\"health\":\"\(r.health.rawValue)\""
        if r.health == .err { out += ",\"lastError\":" + JSON.quoted(r.lastError) }
        out += ",\"evaluationTime\":" + number(r.evaluationSeconds) + ",\"lastEvaluation\":\"" + WebhookPayload.rfc3339(r.lastEvaluation) + "\""
        out += ",\"type\":\"" + (r.spec.isAlert ? "alerting" : "recording") + "\"}"
        return out
    }

    static func alertsJSON(_ groups: [RuleGroup]) -> String {
        var all: [String] = []
        for g in groups {
            for r in g.rules {
                for a in r.state?.alerts ?? [] where a.state != .inactive { all.append(alertJSON(a)) }
            }
        }
        return "[" + all.joined(separator: ",") + "]"
    }

    static func alertJSON(_ a: Alert) -> String {
        var out = "{\"labels\":" + map(a.labels.items.map { ($0.name, $0.value) }) + ",\"annotations\":" + map(a.annotations.items.map { ($0.name, $0.value) })
        out += ",\"state\":\"\(a.state.rawValue)\",\"activeAt\":\"" + WebhookPayload.rfc3339(a.activeAt) + "\""
        if a.keepFiringSince != 0 { out += ",\"keepFiringSince\":\"" + WebhookPayload.rfc3339(a.keepFiringSince) + "\"" }
        out += ",\"value\":" + JSON.quoted(RuleUnitTester.goFloatLowerE(a.value)) + "}"
        return out
    }

    static func map(_ pairs: [(String, String)]) -> String {
        let sorted = pairs.sorted { $0.0 < $1.0 }
        return "{" + sorted.map { JSON.quoted($0.0) + ":" + JSON.quoted($0.1) }.joined(separator: ",") + "}"
    }

    static func seconds(_ ms: Int64) -> String { number(Double(ms) / 1000) }

    static func number(_ d: Double) -> String {
        if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
        return "\(d)"
    }
}
