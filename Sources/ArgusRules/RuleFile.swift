import ArgusModel
import ArgusQuery
import Foundation
import Yams

/// The query language of a rule group: PromQL (Prometheus) or LogQL metric queries (Loki's ruler).
public enum RuleLanguage: String, Sendable {
    case promql
    case logql
}

/// One rule as written in a rule file: a recording rule (`record`) or an alerting rule (`alert`).
public struct RuleSpec: Sendable {
    public var record: String?
    public var alert: String?
    public var expr: String
    /// Milliseconds a condition must hold before the alert fires.
    public var forMs: Int64 = 0
    /// Milliseconds an alert keeps firing after its condition cleared.
    public var keepFiringForMs: Int64 = 0
    public var labels: [(String, String)] = []
    public var annotations: [(String, String)] = []
    /// Line of the rule's first key in its file (1-based), for error messages.
    public var line = 0
    /// Line and column of the `expr` value.
    public var exprMark = (line: 0, column: 0)

    public var name: String { record ?? alert ?? "" }
    public var isAlert: Bool { alert != nil }
}

/// One rule group as written in a rule file.
public struct RuleGroupSpec: Sendable {
    public var name: String
    public var file: String
    /// Milliseconds between evaluations; nil means the global default.
    public var intervalMs: Int64?
    /// Most series a rule may produce (0: no limit).
    public var limit = 0
    public var queryOffsetMs: Int64 = 0
    public var labels: [(String, String)] = []
    public var language = RuleLanguage.promql
    public var rules: [RuleSpec] = []
    public var line = 0
}

/// A problem in a rule file, printed as promtool prints it: `FILE: LINE:COL: message` or
/// `FILE: message`.
public struct RuleFileError: Error, CustomStringConvertible, Sendable {
    public var file: String
    public var line: Int
    public var column: Int
    public var message: String

    public init(file: String, line: Int = 0, column: Int = 0, _ message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String {
        if line > 0 { return "\(file): \(line):\(column): \(message)" }
        return "\(file): \(message)"
    }
}

/// Reads Prometheus rule files (`groups:` with `name`, `interval`, `limit`, `query_offset`,
/// `labels`, `rules`; rules with `record` or `alert`, `expr`, `for`, `keep_firing_for`,
/// `labels`, `annotations`) and Loki's `language: logql` groups.
///
/// Every problem found is reported, each with the file and the line it is on; a file with any
/// problem yields no groups.
public enum RuleFileLoader {
    /// Parses and checks one file's text. Throws the list of problems (at least one).
    public static func parse(_ text: String, file: String) throws(RuleFileErrors) -> [RuleGroupSpec] {
        var errors: [RuleFileError] = []
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch {
            throw RuleFileErrors([yamlError(error, file: file)])
        }
        guard let root else { return [] }
        guard let top = root.mapping else {
            throw RuleFileErrors([RuleFileError(file: file, line: root.mark?.line ?? 0, "yaml: expected a mapping with groups")])
        }
        for (k, _) in top where k.string != "groups" {
            errors.append(RuleFileError(file: file, "yaml: unmarshal errors:\n  line \(k.mark?.line ?? 0): field \(k.string ?? "?") not found in type rulefmt.RuleGroups"))
        }
        var groups: [RuleGroupSpec] = []
        if let gnode = top["groups"] {
            guard let list = gnode.sequence else {
                throw RuleFileErrors([RuleFileError(file: file, line: gnode.mark?.line ?? 0, "groups: expected a list of groups")])
            }
            var names = Set<String>()
            for g in list {
                if let group = parseGroup(g, file: file, errors: &errors) {
                    if !names.insert(group.name).inserted {
                        errors.append(RuleFileError(file: file, line: group.line, column: g.mark?.column ?? 0, "groupname: \"\(group.name)\" is repeated in the same file"))
                    }
                    groups.append(group)
                }
            }
        }
        if !errors.isEmpty { throw RuleFileErrors(errors) }
        return groups
    }

    /// Reads and parses one file.
    public static func load(path: String) throws(RuleFileErrors) -> [RuleGroupSpec] {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw RuleFileErrors([RuleFileError(file: path, "cannot read the rule file: \(error.localizedDescription)")])
        }
        return try parse(text, file: path)
    }

    /// Rule files in a directory (`*.yml`, `*.yaml`, sorted by name), or the path itself when it
    /// is a file. Unit-test files (`*.test.yml`, `*_test.yml`, `*.test.yaml`, `*_test.yaml`) are skipped.
    public static func files(in path: String) -> [String] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { return [] }
        if !isDir.boolValue { return [path] }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.filter { n in
            (n.hasSuffix(".yml") || n.hasSuffix(".yaml"))
                && !(n.hasSuffix(".test.yml") || n.hasSuffix("_test.yml") || n.hasSuffix(".test.yaml") || n.hasSuffix("_test.yaml"))
        }.sorted().map { path + "/" + $0 }
    }

    static func yamlError(_ error: any Error, file: String) -> RuleFileError {
        if let e = error as? YamlError, case let .parser(_, problem, mark, _) = e {
            return RuleFileError(file: file, line: mark.line, column: mark.column, "yaml: \(problem)")
        }
        if let e = error as? YamlError, case let .scanner(_, problem, mark, _) = e {
            return RuleFileError(file: file, line: mark.line, column: mark.column, "yaml: \(problem)")
        }
        return RuleFileError(file: file, "yaml: \(error)")
    }

    static func parseGroup(_ node: Node, file: String, errors: inout [RuleFileError]) -> RuleGroupSpec? {
        let line = node.mark?.line ?? 0
        guard let m = node.mapping else {
            errors.append(RuleFileError(file: file, line: line, "a group must be a mapping with name and rules"))
            return nil
        }
        let known: Set<String> = ["name", "interval", "limit", "query_offset", "labels", "rules", "language", "source_tenants", "evaluation_delay"]
        for (k, _) in m where !known.contains(k.string ?? "") {
            errors.append(RuleFileError(file: file, "yaml: unmarshal errors:\n  line \(k.mark?.line ?? 0): field \(k.string ?? "?") not found in type rulefmt.RuleGroup"))
        }
        guard let name = m["name"]?.string, !name.isEmpty else {
            errors.append(RuleFileError(file: file, line: line, "Groupname must not be empty"))
            return nil
        }
        var g = RuleGroupSpec(name: name, file: file)
        g.line = line
        if let v = m["interval"] {
            if let d = duration(v, file: file, what: "group \"\(name)\": interval", errors: &errors) {
                if d <= 0 {
                    errors.append(RuleFileError(file: file, line: v.mark?.line ?? 0, "group \"\(name)\": interval must be positive"))
                } else {
                    g.intervalMs = d
                }
            }
        }
        if let v = m["query_offset"] ?? m["evaluation_delay"] {
            g.queryOffsetMs = duration(v, file: file, what: "group \"\(name)\": query_offset", errors: &errors) ?? 0
        }
        if let v = m["limit"] {
            if let n = v.int, n >= 0 { g.limit = n } else {
                errors.append(RuleFileError(file: file, line: v.mark?.line ?? 0, "group \"\(name)\": limit must be a non-negative integer"))
            }
        }
        if let v = m["language"] {
            switch v.string {
            case "promql"?: g.language = .promql
            case "logql"?: g.language = .logql
            default:
                errors.append(RuleFileError(file: file, line: v.mark?.line ?? 0, "group \"\(name)\": language must be promql or logql"))
            }
        }
        if let v = m["labels"] {
            g.labels = stringMap(v, file: file, what: "group \"\(name)\": labels", errors: &errors)
            for (k, _) in g.labels where !NameRules.isValidLabelName(k) {
                errors.append(RuleFileError(file: file, line: v.mark?.line ?? 0, "group \"\(name)\": invalid label name: \(k)"))
            }
        }
        guard let rnode = m["rules"] else { return g }
        guard let rules = rnode.sequence else {
            errors.append(RuleFileError(file: file, line: rnode.mark?.line ?? 0, "group \"\(name)\": rules must be a list"))
            return g
        }
        for (i, r) in rules.enumerated() {
            if let rule = parseRule(r, index: i + 1, group: g, errors: &errors) { g.rules.append(rule) }
        }
        return g
    }

    static func parseRule(_ node: Node, index: Int, group: RuleGroupSpec, errors: inout [RuleFileError]) -> RuleSpec? {
        let file = group.file
        let line = node.mark?.line ?? 0
        guard let m = node.mapping else {
            errors.append(RuleFileError(file: file, line: line, "group \"\(group.name)\", rule \(index): a rule must be a mapping"))
            return nil
        }
        let known: Set<String> = ["record", "alert", "expr", "for", "keep_firing_for", "labels", "annotations"]
        var unknown = false
        for (k, _) in m where !known.contains(k.string ?? "") {
            errors.append(RuleFileError(file: file, "yaml: unmarshal errors:\n  line \(k.mark?.line ?? 0): field \(k.string ?? "?") not found in type rulefmt.RuleNode"))
            unknown = true
        }
        if unknown { return nil }
        let record = m["record"]?.string
        let alert = m["alert"]?.string
        let exprNode = m["expr"]
        let name = alert ?? record ?? ""
        let prefix = "group \"\(group.name)\", rule \(index), \(GoQuote.quote(name)): "
        func fail(_ n: Node?, _ msg: String) {
            errors.append(RuleFileError(file: file, line: n?.mark?.line ?? line, column: n?.mark?.column ?? 0, prefix + msg))
        }
        var rule = RuleSpec(record: record, alert: alert, expr: exprNode?.string ?? "")
        rule.line = line
        rule.exprMark = (exprNode?.mark?.line ?? line, exprNode?.mark?.column ?? 0)
        if record != nil && alert != nil {
            let a = m["alert"]?.mark
            fail(m["record"], "\(a?.line ?? 0):\(a?.column ?? 0): " + prefix + "only one of 'record' and 'alert' must be set")
            errors[errors.count - 1].message = String(errors[errors.count - 1].message.dropFirst(prefix.count))
            return nil
        }
        if record == nil && alert == nil { fail(node, "one of 'record' or 'alert' must be set"); return nil }
        if let r = record, !NameRules.isValidMetricName(r) { fail(m["record"], "invalid recording rule name: \(r)") }
        if let a = alert, a.isEmpty { fail(m["alert"], "alert name must not be empty") }
        if rule.expr.isEmpty {
            fail(exprNode, "field 'expr' must be set in rule")
        } else if group.language == .promql {
            do { _ = try PromQLEngine.parse(rule.expr) } catch {
                fail(exprNode, "could not parse expression: \(error)")
            }
        }
        if let v = m["for"] {
            if record != nil { fail(v, "invalid field 'for' in recording rule") }
            rule.forMs = duration(v, file: file, what: prefix + "for", errors: &errors) ?? 0
        }
        if let v = m["keep_firing_for"] {
            if record != nil { fail(v, "invalid field 'keep_firing_for' in recording rule") }
            rule.keepFiringForMs = duration(v, file: file, what: prefix + "keep_firing_for", errors: &errors) ?? 0
        }
        if let v = m["labels"] {
            rule.labels = stringMap(v, file: file, what: prefix + "labels", errors: &errors)
            for (k, val) in rule.labels {
                if !NameRules.isValidLabelName(k) { fail(v, "invalid label name: \(k)") }
                if k == "__name__" && record != nil { fail(v, "invalid label name: \(k)") }
                if alert != nil {
                    do { _ = try Template.parse(val, name: "__alert_" + name) } catch {
                        fail(v, "label \(GoQuote.quote(k)): \(error)")
                    }
                }
            }
        }
        if let v = m["annotations"] {
            if record != nil { fail(v, "invalid field 'annotations' in recording rule") }
            rule.annotations = stringMap(v, file: file, what: prefix + "annotations", errors: &errors)
            for (k, val) in rule.annotations {
                if !NameRules.isValidLabelName(k) { fail(v, "invalid annotation name: \(k)") }
                do { _ = try Template.parse(val, name: "__alert_" + name) } catch {
                    errors.append(RuleFileError(file: file, prefix + "annotation \(GoQuote.quote(k)): \(error)"))
                }
            }
        }
        return rule
    }

    static func duration(_ n: Node, file: String, what: String, errors: inout [RuleFileError]) -> Int64? {
        guard let s = n.string else {
            errors.append(RuleFileError(file: file, line: n.mark?.line ?? 0, "\(what): expected a duration such as 1m"))
            return nil
        }
        do { return try PromDuration.parseMillis(s) } catch {
            errors.append(RuleFileError(file: file, line: n.mark?.line ?? 0, column: n.mark?.column ?? 0, "\(what): not a valid duration string: \(GoQuote.quote(s))"))
            return nil
        }
    }

    static func stringMap(_ n: Node, file: String, what: String, errors: inout [RuleFileError]) -> [(String, String)] {
        if let s = n.scalar, ["", "~", "null"].contains(s.string) { return [] }
        guard let m = n.mapping else {
            errors.append(RuleFileError(file: file, line: n.mark?.line ?? 0, "\(what): expected a mapping of names to strings"))
            return []
        }
        var out: [(String, String)] = []
        for (k, v) in m {
            guard let key = k.string else { continue }
            if v.mapping != nil || v.sequence != nil {
                errors.append(RuleFileError(file: file, line: v.mark?.line ?? 0, "\(what): value of \(key) must be a string"))
                continue
            }
            out.append((key, v.string ?? ""))
        }
        return out
    }
}

/// All problems found in one rule file.
public struct RuleFileErrors: Error, CustomStringConvertible, Sendable {
    public var errors: [RuleFileError]
    public init(_ errors: [RuleFileError]) { self.errors = errors }
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}

/// Go's `%q` for the ASCII texts rule names are.
enum GoQuote {
    static func quote(_ s: String) -> String { quoteLabelValue(s) }
}
