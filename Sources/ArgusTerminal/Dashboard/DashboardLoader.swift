import ArgusModel
import Foundation
import Yams

/// Reads `dashboards/*.yaml` (format in docs/dashboards.md). Every error names the file, line
/// and column; a directory load keeps going past a broken file so the others still render.
public enum DashboardLoader {
    /// Loads every `.yaml`/`.yml` file in `directory` (sorted by name) and every Grafana
    /// `.json` file in it, each to a dashboard or an error.
    public static func loadDirectory(_ directory: String) -> [LoadedDashboard] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
        var out: [LoadedDashboard] = []
        for n in names where n.hasSuffix(".yaml") || n.hasSuffix(".yml") || n.hasSuffix(".json") {
            let path = (directory as NSString).appendingPathComponent(n)
            out.append(loadFile(path))
        }
        return out
    }

    /// Loads one file: YAML, or Grafana JSON when it ends in `.json`.
    public static func loadFile(_ path: String) -> LoadedDashboard {
        guard let data = FileManager.default.contents(atPath: path) else {
            return .failed(DashboardError(file: path, message: "cannot read the file"))
        }
        let text = String(decoding: data, as: UTF8.self)
        do {
            if path.hasSuffix(".json") { return .ok(try GrafanaImporter.load(json: data, source: path)) }
            return .ok(try load(yaml: text, source: path))
        } catch let e as DashboardError {
            return .failed(e)
        } catch {
            return .failed(DashboardError(file: path, message: "\(error)"))
        }
    }

    /// Parses a dashboard from YAML text; `source` names it in errors.
    public static func load(yaml text: String, source: String) throws -> Dashboard {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let e as YamlError {
            throw yamlError(e, source)
        }
        guard let root else { throw DashboardError(file: source, line: 1, message: "the file is empty") }
        let r = Reader(source: source)
        return try r.dashboard(root)
    }

    static func yamlError(_ e: YamlError, _ source: String) -> DashboardError {
        switch e {
        case .scanner(let ctx, let problem, let mark, _), .parser(let ctx, let problem, let mark, _), .composer(let ctx, let problem, let mark, _):
            let c = ctx.map { $0.text + " " } ?? ""
            return DashboardError(file: source, line: mark.line, column: mark.column, message: "YAML: " + c + problem)
        default:
            return DashboardError(file: source, message: "YAML: \(e)")
        }
    }

    /// Walks the YAML node tree, with positions for every error.
    struct Reader {
        let source: String

        func fail(_ node: Node?, _ message: String) -> DashboardError {
            DashboardError(file: source, line: node?.mark?.line ?? 0, column: node?.mark?.column ?? 0, message: message)
        }

        func mapping(_ node: Node, _ what: String, allowed: Set<String>) throws -> [String: (key: Node, value: Node)] {
            guard case .mapping(let m) = node else { throw fail(node, "\(what) must be a mapping") }
            var out: [String: (key: Node, value: Node)] = [:]
            for (k, v) in m {
                guard let name = k.string else { throw fail(k, "\(what): keys must be strings") }
                guard allowed.contains(name) else {
                    throw fail(k, "\(what): unknown field \"\(name)\" (known: \(allowed.sorted().joined(separator: ", ")))")
                }
                out[name] = (k, v)
            }
            return out
        }

        func string(_ node: Node, _ what: String) throws -> String {
            guard case .scalar(let s) = node else { throw fail(node, "\(what) must be a string") }
            return s.string
        }

        func int(_ node: Node, _ what: String) throws -> Int {
            guard case .scalar(let s) = node, let i = Int(s.string) else { throw fail(node, "\(what) must be an integer") }
            return i
        }

        func double(_ node: Node, _ what: String) throws -> Double {
            guard case .scalar(let s) = node, let d = Double(s.string) else { throw fail(node, "\(what) must be a number") }
            return d
        }

        func duration(_ node: Node, _ what: String) throws -> Int64 {
            let s = try string(node, what)
            let t = s.hasPrefix("now-") ? String(s.dropFirst(4)) : s
            do { return try PromDuration.parseMillis(t) } catch {
                throw fail(node, "\(what): \"\(s)\" is not a duration (like 30s, 5m, 1h)")
            }
        }

        func strings(_ node: Node, _ what: String) throws -> [String] {
            switch node {
            case .sequence(let seq): return try seq.map { try string($0, what) }
            case .scalar(let s): return s.string.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            default: throw fail(node, "\(what) must be a list of strings")
            }
        }

        func sequence(_ node: Node, _ what: String) throws -> Node.Sequence {
            guard case .sequence(let s) = node else { throw fail(node, "\(what) must be a list") }
            return s
        }

        func dashboard(_ root: Node) throws -> Dashboard {
            let m = try mapping(root, "dashboard", allowed: ["title", "refresh", "time", "variables", "panels", "rows", "description", "tags"])
            guard let t = m["title"] else { throw fail(root, "dashboard: missing \"title\"") }
            var d = Dashboard(title: try string(t.value, "title"), source: source)
            if let v = m["refresh"] { d.refreshMillis = try duration(v.value, "refresh") }
            if let v = m["time"] { d.rangeMillis = try duration(v.value, "time") }
            if d.rangeMillis <= 0 { throw fail(m["time"]?.value, "time must be more than 0s") }
            if let v = m["variables"] {
                for n in try sequence(v.value, "variables") { d.variables.append(try variable(n)) }
                var seen = Set<String>()
                for (i, v) in d.variables.enumerated() where !seen.insert(v.name).inserted {
                    throw fail(try sequence(m["variables"]!.value, "variables")[i], "variables: \"\(v.name)\" is defined twice")
                }
            }
            if let v = m["panels"] {
                for n in try sequence(v.value, "panels") { d.panels.append(try panel(n)) }
            }
            if let v = m["rows"] {
                for n in try sequence(v.value, "rows") {
                    let rm = try mapping(n, "row", allowed: ["title", "collapsed", "panels"])
                    var row = Panel(title: try rm["title"].map { try string($0.value, "row title") } ?? "", type: .row, width: 24, height: 1, line: n.mark?.line ?? 0)
                    row.collapsed = try rm["collapsed"].map { try bool($0.value, "collapsed") } ?? false
                    var inner: [Panel] = []
                    if let p = rm["panels"] { for pn in try sequence(p.value, "row panels") { inner.append(try panel(pn)) } }
                    if row.collapsed {
                        row.children = inner
                        d.panels.append(row)
                    } else {
                        d.panels.append(row)
                        d.panels += inner
                    }
                }
            }
            if d.panels.isEmpty { throw fail(root, "dashboard: no panels (add \"panels\" or \"rows\")") }
            return d
        }

        func bool(_ node: Node, _ what: String) throws -> Bool {
            guard let b = node.bool else { throw fail(node, "\(what) must be true or false") }
            return b
        }

        func variable(_ node: Node) throws -> Variable {
            let m = try mapping(node, "variable", allowed: ["name", "label", "query", "values", "interval", "constant", "all", "default"])
            guard let n = m["name"] else { throw fail(node, "variable: missing \"name\"") }
            let name = try string(n.value, "variable name")
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                throw fail(n.value, "variable name \"\(name)\" must be letters, digits and _")
            }
            let kinds = ["query", "values", "interval", "constant"].filter { m[$0] != nil }
            guard kinds.count == 1 else {
                throw fail(node, "variable \(name): give exactly one of query, values, interval, constant")
            }
            let kind: Variable.Kind
            switch kinds[0] {
            case "query":
                let q = try string(m["query"]!.value, "query")
                guard LabelValuesQuery(q) != nil else {
                    throw fail(m["query"]!.value, "variable \(name): query must be label_values(label) or label_values(selector, label)")
                }
                kind = .query(q)
            case "values": kind = .custom(try strings(m["values"]!.value, "values"))
            case "interval":
                let v = try strings(m["interval"]!.value, "interval")
                for s in v where (try? PromDuration.parseMillis(s)) == nil {
                    throw fail(m["interval"]!.value, "variable \(name): \"\(s)\" is not a duration")
                }
                kind = .interval(v)
            default: kind = .constant(try string(m["constant"]!.value, "constant"))
            }
            return Variable(name: name, label: try m["label"].map { try string($0.value, "label") }, kind: kind,
                            includeAll: try m["all"].map { try bool($0.value, "all") } ?? false,
                            current: try m["default"].map { try string($0.value, "default") })
        }

        static let panelFields: Set<String> = [
            "title", "type", "query", "legend", "queries", "unit", "decimals", "min", "max", "thresholds",
            "width", "height", "grid", "text", "limit", "description",
        ]

        func panel(_ node: Node) throws -> Panel {
            let m = try mapping(node, "panel", allowed: Reader.panelFields)
            let typeName = try m["type"].map { try string($0.value, "type") } ?? "timeseries"
            guard let type = PanelType(rawValue: typeName), type != .row, type != .unsupported else {
                let known = PanelType.allCases.filter { $0 != .row && $0 != .unsupported }.map(\.rawValue)
                throw fail(m["type"]?.value, "unknown panel type \"\(typeName)\" (known: \(known.joined(separator: ", ")))")
            }
            var p = Panel(title: try m["title"].map { try string($0.value, "title") } ?? "", type: type, line: node.mark?.line ?? 0)
            if let q = m["query"] {
                p.targets.append(Target(expr: try string(q.value, "query"), legend: try m["legend"].map { try string($0.value, "legend") }))
            }
            if let qs = m["queries"] {
                for (i, qn) in try sequence(qs.value, "queries").enumerated() {
                    if case .scalar = qn {
                        p.targets.append(Target(expr: try string(qn, "query"), refId: refId(p.targets.count)))
                        continue
                    }
                    let qm = try mapping(qn, "query", allowed: ["expr", "legend"])
                    guard let e = qm["expr"] else { throw fail(qn, "queries[\(i)]: missing \"expr\"") }
                    p.targets.append(Target(expr: try string(e.value, "expr"), legend: try qm["legend"].map { try string($0.value, "legend") },
                                            refId: refId(p.targets.count)))
                }
            }
            for t in p.targets where t.expr.trimmingCharacters(in: .whitespaces).isEmpty {
                throw fail(m["query"]?.value ?? m["queries"]?.value, "panel \"\(p.title)\": empty query")
            }
            if type != .text, p.targets.isEmpty { throw fail(node, "panel \"\(p.title)\" (\(typeName)) needs a query") }
            if let v = m["unit"] { p.unit = try string(v.value, "unit") }
            if let v = m["decimals"] { p.decimals = try int(v.value, "decimals") }
            if let v = m["min"] { p.min = try double(v.value, "min") }
            if let v = m["max"] { p.max = try double(v.value, "max") }
            if let v = m["text"] { p.content = try string(v.value, "text") }
            if let v = m["limit"] { p.limit = try int(v.value, "limit") }
            switch type {
            case .stat, .gauge: p.width = 6; p.height = 5
            case .bargauge: p.width = 8; p.height = 6
            case .text: p.width = 8; p.height = 5
            case .logs, .traces: p.width = 24; p.height = 10
            default: break
            }
            if let v = m["width"] {
                p.width = try int(v.value, "width")
                guard (1...24).contains(p.width) else { throw fail(v.value, "width must be 1…24 grid columns") }
            }
            if let v = m["height"] {
                p.height = try int(v.value, "height")
                guard (2...500).contains(p.height) else { throw fail(v.value, "height must be 2…500 grid rows") }
            }
            if let g = m["grid"] {
                let gm = try mapping(g.value, "grid", allowed: ["x", "y", "w", "h"])
                func gi(_ k: String) throws -> Int {
                    guard let n = gm[k] else { throw fail(g.value, "grid: missing \"\(k)\"") }
                    return try int(n.value, "grid.\(k)")
                }
                let pos = GridPos(x: try gi("x"), y: try gi("y"), w: try gi("w"), h: try gi("h"))
                guard pos.x >= 0, pos.w >= 1, pos.x + pos.w <= 24, pos.y >= 0, pos.y <= 10_000, pos.h >= 1, pos.h <= 500 else {
                    throw fail(g.value, "grid: x+w must be within 24 columns, 0 ≤ y ≤ 10000, 1 ≤ h ≤ 500")
                }
                p.grid = pos
            }
            if let t = m["thresholds"] { p.thresholds = try thresholds(t.value) }
            return p
        }

        func refId(_ i: Int) -> String { String(UnicodeScalar(UInt8(65 + i % 26))) }

        /// `[{value: 80, color: red}, …]` or a mapping `{0: green, 80: red}`; a step without a
        /// value (or `base`) is the base.
        func thresholds(_ node: Node) throws -> [Threshold] {
            var out: [Threshold] = []
            func color(_ n: Node) throws -> Color {
                let s = try string(n, "threshold colour")
                guard let c = Color.named(s) else { throw fail(n, "unknown colour \"\(s)\" (green, red, yellow, orange, blue, purple or #rrggbb)") }
                return c
            }
            switch node {
            case .sequence(let seq):
                for n in seq {
                    let m = try mapping(n, "threshold", allowed: ["value", "color"])
                    guard let c = m["color"] else { throw fail(n, "threshold: missing \"color\"") }
                    var v: Double?
                    if let vn = m["value"], vn.value.null == nil, vn.value.string != "base" { v = try double(vn.value, "threshold value") }
                    out.append(Threshold(value: v, color: try color(c.value)))
                }
            case .mapping(let map):
                for (k, v) in map {
                    let ks = try string(k, "threshold")
                    if ks == "base" { out.append(Threshold(value: nil, color: try color(v))); continue }
                    guard let d = Double(ks) else { throw fail(k, "threshold \"\(ks)\" must be a number or base") }
                    out.append(Threshold(value: d, color: try color(v)))
                }
            default: throw fail(node, "thresholds must be a list or a mapping")
            }
            out.sort { ($0.value ?? -.infinity) < ($1.value ?? -.infinity) }
            return out
        }
    }
}

/// `label_values(label)` or `label_values(selector, label)`: a variable's query.
public struct LabelValuesQuery: Sendable, Equatable {
    public var selector: String?
    public var label: String

    public init?(_ q: String) {
        let t = q.trimmingCharacters(in: .whitespaces)
        guard t.hasPrefix("label_values("), t.hasSuffix(")") else { return nil }
        let inner = t.dropFirst("label_values(".count).dropLast()
        // The label is after the last comma outside braces.
        var depth = 0
        var split: String.Index?
        for i in inner.indices {
            switch inner[i] {
            case "{", "(": depth += 1
            case "}", ")": depth -= 1
            case "," where depth == 0: split = i
            default: break
            }
        }
        if let split {
            selector = inner[..<split].trimmingCharacters(in: .whitespaces)
            label = inner[inner.index(after: split)...].trimmingCharacters(in: .whitespaces)
        } else {
            selector = nil
            label = inner.trimmingCharacters(in: .whitespaces)
        }
        guard !label.isEmpty, label.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else { return nil }
    }
}
