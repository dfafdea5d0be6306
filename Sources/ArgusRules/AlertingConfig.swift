import ArgusModel
import Foundation
import Yams

/// A webhook receiver endpoint (Alertmanager's `webhook_configs` entry).
public struct WebhookConfig: Sendable {
    public var url: String
    public var sendResolved = true
    /// Most alerts in one message; 0 means all (the rest are counted in `truncatedAlerts`).
    public var maxAlerts = 0
    /// `Authorization` header value, from `http_config` (bearer token or basic auth).
    public var authorization: String?
    public var timeoutMs: Int64 = 10_000

    public init(url: String) { self.url = url }
}

public struct ReceiverConfig: Sendable {
    public var name: String
    public var webhooks: [WebhookConfig] = []
}

/// One node of the routing tree. Children inherit what they do not set.
public final class Route: Sendable {
    public let receiver: String
    /// Label names to group by; nil with `groupByAll` means every label (`...`).
    public let groupBy: [String]
    public let groupByAll: Bool
    public let groupWaitMs: Int64
    public let groupIntervalMs: Int64
    public let repeatIntervalMs: Int64
    public let matchers: [Matcher]
    public let continueMatching: Bool
    public let routes: [Route]
    /// Alertmanager's route key: `{}` for the root, `{}/{severity="page"}` below it.
    public let key: String

    init(receiver: String, groupBy: [String], groupByAll: Bool, groupWaitMs: Int64, groupIntervalMs: Int64,
         repeatIntervalMs: Int64, matchers: [Matcher], continueMatching: Bool, routes: [Route], key: String) {
        self.receiver = receiver
        self.groupBy = groupBy
        self.groupByAll = groupByAll
        self.groupWaitMs = groupWaitMs
        self.groupIntervalMs = groupIntervalMs
        self.repeatIntervalMs = repeatIntervalMs
        self.matchers = matchers
        self.continueMatching = continueMatching
        self.routes = routes
        self.key = key
    }

    /// The routes an alert with `labels` goes to: the deepest matching ones, as Alertmanager walks the tree.
    public func match(_ labels: Labels) -> [Route] {
        guard matchers.allSatisfy({ $0.matches(labels.value($0.name)) }) else { return [] }
        var all: [Route] = []
        for child in routes {
            let m = child.match(labels)
            if !m.isEmpty {
                all += m
                if !child.continueMatching { break }
            }
        }
        return all.isEmpty ? [self] : all
    }

    /// The labels an alert is grouped by on this route.
    public func groupLabels(_ labels: Labels) -> Labels {
        if groupByAll { return labels }
        return labels.keeping(Set(groupBy))
    }
}

public struct InhibitRule: Sendable {
    public var source: [Matcher]
    public var target: [Matcher]
    public var equal: [String]
}

/// The notifier's configuration: a subset of Alertmanager's `alertmanager.yml` (route tree,
/// receivers with webhook_configs, inhibit_rules).
public struct AlertingConfig: Sendable {
    public var route: Route
    public var receivers: [String: ReceiverConfig]
    public var inhibitRules: [InhibitRule] = []
    public var resolveTimeoutMs: Int64 = 300_000

    /// A configuration with one receiver posting every alert to `url` (for tests and simple setups).
    public static func single(url: String, groupWaitMs: Int64 = 30_000, groupIntervalMs: Int64 = 300_000, repeatIntervalMs: Int64 = 4 * 3_600_000) -> AlertingConfig {
        let route = Route(receiver: "default", groupBy: ["alertname"], groupByAll: false, groupWaitMs: groupWaitMs, groupIntervalMs: groupIntervalMs,
                          repeatIntervalMs: repeatIntervalMs, matchers: [], continueMatching: false, routes: [], key: "{}")
        var r = ReceiverConfig(name: "default")
        r.webhooks = [WebhookConfig(url: url)]
        return AlertingConfig(route: route, receivers: ["default": r])
    }

    public static func load(path: String) throws -> AlertingConfig {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ArgusError(.badInput, "\(path): cannot read the alerting configuration: \(error.localizedDescription)")
        }
        return try parse(text, file: path)
    }

    public static func parse(_ text: String, file: String = "<alerting config>") throws -> AlertingConfig {
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch {
            throw ArgusError(.badInput, RuleFileLoader.yamlError(error, file: file).description)
        }
        guard let top = root?.mapping else { throw ArgusError(.badInput, "\(file): expected a mapping with route and receivers") }
        func fail(_ n: Node?, _ m: String) -> ArgusError {
            ArgusError(.badInput, "\(file):\(n?.mark?.line ?? 0): \(m)")
        }
        // Time intervals and notification templates are not supported: refused, not ignored.
        let known: Set<String> = ["global", "route", "receivers", "inhibit_rules"]
        for (k, _) in top where !known.contains(k.string ?? "") {
            throw fail(k, "field \(k.string ?? "?") not found in the alerting configuration")
        }
        var resolveTimeout: Int64 = 300_000
        if let g = top["global"]?.mapping, let rt = g["resolve_timeout"] {
            resolveTimeout = try dur(rt, fail)
        }
        var receivers: [String: ReceiverConfig] = [:]
        for r in top["receivers"]?.sequence ?? [] {
            guard let m = r.mapping, let name = m["name"]?.string, !name.isEmpty else { throw fail(r, "a receiver needs a name") }
            guard receivers[name] == nil else { throw fail(r, "notification config name \"\(name)\" is not unique") }
            var rc = ReceiverConfig(name: name)
            for (k, _) in m where !["name", "webhook_configs"].contains(k.string ?? "") {
                throw fail(k, "receiver \"\(name)\": \(k.string ?? "?") is not supported (only webhook_configs)")
            }
            for w in m["webhook_configs"]?.sequence ?? [] {
                guard let wm = w.mapping else { throw fail(w, "a webhook config must be a mapping") }
                guard let url = wm["url"]?.string, let u = URL(string: url), u.scheme == "http" || u.scheme == "https", u.host != nil else {
                    throw fail(w, "receiver \"\(name)\": webhook url must be an http or https URL")
                }
                var wc = WebhookConfig(url: url)
                if let s = wm["send_resolved"] {
                    guard let b = s.bool else { throw fail(s, "send_resolved must be true or false") }
                    wc.sendResolved = b
                }
                if let s = wm["max_alerts"] {
                    guard let n = s.int, n >= 0 else { throw fail(s, "max_alerts must be a non-negative integer") }
                    wc.maxAlerts = n
                }
                if let t = wm["timeout"] { wc.timeoutMs = try dur(t, fail) }
                if let hc = wm["http_config"]?.mapping {
                    if let b = hc["bearer_token"]?.string { wc.authorization = "Bearer " + b }
                    if let a = hc["authorization"]?.mapping {
                        let type = a["type"]?.string ?? "Bearer"
                        guard let cred = a["credentials"]?.string else { throw fail(hc["authorization"], "authorization needs credentials") }
                        wc.authorization = type + " " + cred
                    }
                    if let b = hc["basic_auth"]?.mapping {
                        let user = b["username"]?.string ?? ""
                        let pass = b["password"]?.string ?? ""
                        wc.authorization = "Basic " + Data((user + ":" + pass).utf8).base64EncodedString()
                    }
                }
                rc.webhooks.append(wc)
            }
            receivers[name] = rc
        }
        guard let routeNode = top["route"] else { throw fail(nil, "no route provided in config") }
        let route = try parseRoute(routeNode, parent: nil, fail: fail)
        guard !route.receiver.isEmpty else { throw fail(routeNode, "root route must specify a default receiver") }
        guard route.matchers.isEmpty else { throw fail(routeNode, "root route must not have any matchers") }
        func checkReceivers(_ r: Route) throws {
            guard receivers[r.receiver] != nil else { throw fail(routeNode, "undefined receiver \"\(r.receiver)\" used in route") }
            for c in r.routes { try checkReceivers(c) }
        }
        try checkReceivers(route)
        var inhibit: [InhibitRule] = []
        for n in top["inhibit_rules"]?.sequence ?? [] {
            guard let m = n.mapping else { throw fail(n, "an inhibit rule must be a mapping") }
            let src = try matchers(m, prefix: "source_", fail)
            let tgt = try matchers(m, prefix: "target_", fail)
            let eq = (m["equal"]?.sequence ?? []).compactMap(\.string)
            inhibit.append(InhibitRule(source: src, target: tgt, equal: eq))
        }
        var cfg = AlertingConfig(route: route, receivers: receivers, inhibitRules: inhibit)
        cfg.resolveTimeoutMs = resolveTimeout
        return cfg
    }

    static func dur(_ n: Node, _ fail: (Node?, String) -> ArgusError) throws -> Int64 {
        guard let s = n.string, let d = try? PromDuration.parseMillis(s) else { throw fail(n, "not a valid duration: \(n.string ?? "")") }
        return d
    }

    static func parseRoute(_ n: Node, parent: Route?, fail: (Node?, String) -> ArgusError) throws -> Route {
        guard let m = n.mapping else { throw fail(n, "a route must be a mapping") }
        let known: Set<String> = ["receiver", "group_by", "group_wait", "group_interval", "repeat_interval", "matchers", "match", "match_re",
                                  "continue", "routes"]
        for (k, _) in m where !known.contains(k.string ?? "") { throw fail(k, "route: field \(k.string ?? "?") is not supported") }
        var groupBy = parent?.groupBy ?? []
        var all = parent?.groupByAll ?? false
        if let g = m["group_by"]?.sequence {
            groupBy = g.compactMap(\.string)
            all = groupBy.contains("...")
            if all && groupBy.count > 1 { throw fail(m["group_by"], "cannot have wildcard group_by (`...`) and other other labels at the same time") }
            for l in groupBy where l != "..." && !NameRules.isValidLabelName(l) { throw fail(m["group_by"], "invalid label name \"\(l)\" in group_by list") }
        }
        let ms = try matchers(m, prefix: "", fail)
        var key = "{}"
        if let p = parent {
            key = p.key + "/{" + ms.map(\.description).joined(separator: ",") + "}"
        }
        let wait = try m["group_wait"].map { try dur($0, fail) } ?? parent?.groupWaitMs ?? 30_000
        let interval = try m["group_interval"].map { try dur($0, fail) } ?? parent?.groupIntervalMs ?? 300_000
        let repeatI = try m["repeat_interval"].map { try dur($0, fail) } ?? parent?.repeatIntervalMs ?? 4 * 3_600_000
        guard interval > 0 else { throw fail(m["group_interval"], "group_interval cannot be zero") }
        guard repeatI > 0 else { throw fail(m["repeat_interval"], "repeat_interval cannot be zero") }
        let receiver = m["receiver"]?.string ?? parent?.receiver ?? ""
        let cont = m["continue"]?.bool ?? false
        // Children need this route as their parent for inheritance; build a provisional one.
        let provisional = Route(receiver: receiver, groupBy: groupBy, groupByAll: all, groupWaitMs: wait, groupIntervalMs: interval,
                                repeatIntervalMs: repeatI, matchers: ms, continueMatching: cont, routes: [], key: key)
        var children: [Route] = []
        for c in m["routes"]?.sequence ?? [] { children.append(try parseRoute(c, parent: provisional, fail: fail)) }
        return Route(receiver: receiver, groupBy: groupBy, groupByAll: all, groupWaitMs: wait, groupIntervalMs: interval,
                     repeatIntervalMs: repeatI, matchers: ms, continueMatching: cont, routes: children, key: key)
    }

    /// `matchers` (strings such as `severity="page"` or `alertname=~"A|B"`), legacy `match` and
    /// `match_re` maps, each with an optional prefix (`source_`, `target_`).
    static func matchers(_ m: Node.Mapping, prefix: String, _ fail: (Node?, String) -> ArgusError) throws -> [Matcher] {
        var out: [Matcher] = []
        for (k, v) in m[prefix + "match"]?.mapping ?? Node.Mapping([]) {
            out.append(.eq(k.string ?? "", v.string ?? ""))
        }
        for (k, v) in m[prefix + "match_re"]?.mapping ?? Node.Mapping([]) {
            do { out.append(try Matcher(.regexMatch, k.string ?? "", v.string ?? "")) } catch {
                throw fail(v, "invalid regular expression \(v.string ?? ""): \(error)")
            }
        }
        for n in m[prefix + "matchers"]?.sequence ?? [] {
            guard let s = n.string else { throw fail(n, "a matcher must be a string such as severity=\"page\"") }
            do { out += try parseMatcher(s) } catch {
                throw fail(n, "bad matcher \(s): \(error)")
            }
        }
        return out
    }

    /// One Alertmanager matcher string: `name op value` with op one of = != =~ !~; the value may
    /// be quoted or bare. A `{...}` list is accepted too.
    public static func parseMatcher(_ s: String) throws -> [Matcher] {
        var t = s.trimmingCharacters(in: .whitespaces)
        if t.hasPrefix("{") && t.hasSuffix("}") {
            t = String(t.dropFirst().dropLast())
            var out: [Matcher] = []
            for part in t.split(separator: ",") where !part.trimmingCharacters(in: .whitespaces).isEmpty {
                out += try parseMatcher(String(part))
            }
            return out
        }
        for op in ["=~", "!~", "!=", "="] {
            if let r = t.range(of: op) {
                let name = t[..<r.lowerBound].trimmingCharacters(in: .whitespaces)
                var value = t[r.upperBound...].trimmingCharacters(in: .whitespaces)
                guard NameRules.isValidLabelName(name) else { throw ArgusError(.badInput, "bad matcher format: \(s): invalid label name \(name)") }
                if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
                    var unquoted = ""
                    var escaped = false
                    for c in value.dropFirst().dropLast() {
                        if escaped {
                            unquoted.append(c == "n" ? "\n" : c)
                            escaped = false
                        } else if c == "\\" {
                            escaped = true
                        } else {
                            unquoted.append(c)
                        }
                    }
                    value = unquoted
                }
                let kind: Matcher.Kind = op == "=" ? .equal : op == "!=" ? .notEqual : op == "=~" ? .regexMatch : .regexNoMatch
                return [try Matcher(kind, name, value)]
            }
        }
        throw ArgusError(.badInput, "bad matcher format: \(s)")
    }
}
