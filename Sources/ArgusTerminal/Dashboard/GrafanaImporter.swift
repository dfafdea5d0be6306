import ArgusModel
import Foundation

/// Reads Grafana's dashboard JSON model (as exported from Grafana, with or without the API's
/// `{"dashboard": …}` wrapper) into a `Dashboard`. Panels Argus cannot draw stay in place as
/// `.unsupported` panels that name what they were.
public enum GrafanaImporter {
    public static func load(json data: Data, source: String) throws -> Dashboard {
        let obj: Any
        do {
            obj = try JSONSerialization.jsonObject(with: data)
        } catch {
            let (line, col) = jsonErrorPosition(data)
            throw DashboardError(file: source, line: line, column: col, message: "not valid JSON")
        }
        guard var root = obj as? [String: Any] else { throw DashboardError(file: source, line: 1, message: "a Grafana dashboard is a JSON object") }
        if let inner = root["dashboard"] as? [String: Any] { root = inner }
        guard root["panels"] != nil || root["rows"] != nil else {
            throw DashboardError(file: source, line: 1, message: "no \"panels\" (or legacy \"rows\"): not a Grafana dashboard")
        }
        var d = Dashboard(title: root["title"] as? String ?? (source as NSString).lastPathComponent, source: source)
        if let time = root["time"] as? [String: Any], let from = time["from"] as? String, from.hasPrefix("now-"),
           let ms = try? PromDuration.parseMillis(String(from.dropFirst(4))), ms > 0 {
            d.rangeMillis = ms
        }
        if let r = root["refresh"] as? String, let ms = try? PromDuration.parseMillis(r) { d.refreshMillis = ms }
        if let templ = (root["templating"] as? [String: Any])?["list"] as? [[String: Any]] {
            d.variables = templ.compactMap(variable)
        }
        if let panels = root["panels"] as? [[String: Any]] {
            for p in panels {
                var panel = self.panel(p)
                if panel.type == .row, panel.collapsed {
                    panel.children = (p["panels"] as? [[String: Any]] ?? []).map(self.panel)
                }
                d.panels.append(panel)
            }
        } else if let rows = root["rows"] as? [[String: Any]] {
            // Schema before 16: rows with panels sized by span (12 columns) and a pixel height.
            for r in rows {
                var row = Panel(title: r["title"] as? String ?? "", type: .row, width: 24, height: 1)
                row.collapsed = r["collapse"] as? Bool ?? false
                let h = max(3, (number(r["height"]) ?? 250) / 30)
                let inner = (r["panels"] as? [[String: Any]] ?? []).map { p -> Panel in
                    var panel = self.panel(p)
                    panel.grid = nil
                    panel.width = max(1, min(24, Int((number(p["span"]) ?? 12) * 2)))
                    panel.height = Int(h)
                    return panel
                }
                if row.collapsed { row.children = inner; d.panels.append(row) } else { d.panels.append(row); d.panels += inner }
            }
        }
        return d
    }

    static func number(_ v: Any?) -> Double? {
        if let d = v as? Double { return d }
        if let i = v as? Int { return Double(i) }
        if let s = v as? String { return Double(s) ?? Double(s.prefix { $0.isNumber || $0 == "." }) }
        if let n = v as? NSNumber { return n.doubleValue }
        return nil
    }

    static func variable(_ v: [String: Any]) -> Variable? {
        guard let name = v["name"] as? String, !name.isEmpty else { return nil }
        let type = v["type"] as? String ?? "query"
        var queryText = v["query"] as? String ?? ""
        if let q = v["query"] as? [String: Any] { queryText = q["query"] as? String ?? "" }
        if queryText.isEmpty, let d = v["definition"] as? String { queryText = d }
        let options = (v["options"] as? [[String: Any]] ?? []).compactMap { $0["value"] as? String ?? $0["text"] as? String }
        var current: String?
        if let c = v["current"] as? [String: Any] {
            if let s = c["value"] as? String { current = s } else if let a = c["value"] as? [String], let f = a.first { current = f }
        }
        if current == "$__all" { current = "All" }
        let includeAll = v["includeAll"] as? Bool ?? false
        let label = v["label"] as? String
        let kind: Variable.Kind
        switch type {
        case "query":
            guard LabelValuesQuery(queryText) != nil else {
                kind = .custom(options.filter { $0 != "$__all" })
                break
            }
            kind = .query(queryText)
        case "custom":
            let vals = queryText.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            kind = .custom(vals.isEmpty ? options : vals)
        case "interval":
            kind = .interval(queryText.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && $0 != "auto" })
        case "constant", "textbox":
            kind = .constant(queryText)
        default:
            return nil  // datasource, adhoc: nothing to substitute in a query text
        }
        return Variable(name: name, label: label, kind: kind, includeAll: includeAll, current: current)
    }

    static let typeMap: [String: PanelType] = [
        "timeseries": .timeseries, "graph": .timeseries, "stat": .stat, "singlestat": .stat, "gauge": .gauge,
        "bargauge": .bargauge, "table": .table, "table-old": .table, "text": .text, "row": .row, "heatmap": .heatmap,
        "logs": .logs, "traces": .traces,
    ]

    static func panel(_ p: [String: Any]) -> Panel {
        let typeName = p["type"] as? String ?? "graph"
        var panel = Panel(title: p["title"] as? String ?? "", type: typeMap[typeName] ?? .unsupported)
        if panel.type == .unsupported { panel.unsupportedType = typeName }
        if let g = p["gridPos"] as? [String: Any] {
            let x = Int(number(g["x"]) ?? 0), y = Int(number(g["y"]) ?? 0)
            let w = Int(number(g["w"]) ?? 12), h = Int(number(g["h"]) ?? 8)
            // Bounded so a hostile file cannot make the layout allocate without limit.
            panel.grid = GridPos(x: max(0, min(23, x)), y: max(0, min(10_000, y)), w: max(1, min(24 - max(0, min(23, x)), w)), h: max(1, min(500, h)))
            panel.width = panel.grid!.w
            panel.height = panel.grid!.h
        }
        if panel.type == .row {
            panel.collapsed = p["collapsed"] as? Bool ?? false
            panel.height = 1
            panel.width = 24
            return panel
        }
        for (i, t) in (p["targets"] as? [[String: Any]] ?? []).enumerated() where t["hide"] as? Bool != true {
            let expr = t["expr"] as? String ?? t["query"] as? String ?? ""
            if expr.isEmpty { continue }
            var legend = t["legendFormat"] as? String
            if legend == "__auto" || legend == "" { legend = nil }
            panel.targets.append(Target(expr: expr, legend: legend, refId: t["refId"] as? String ?? String(UnicodeScalar(UInt8(65 + i % 26)))))
        }
        let defaults = (p["fieldConfig"] as? [String: Any])?["defaults"] as? [String: Any] ?? [:]
        panel.unit = defaults["unit"] as? String ?? ""
        panel.decimals = number(defaults["decimals"]).map { Int($0) }
        panel.min = number(defaults["min"])
        panel.max = number(defaults["max"])
        if let steps = (defaults["thresholds"] as? [String: Any])?["steps"] as? [[String: Any]] {
            panel.thresholds = steps.compactMap { s in
                guard let c = Color.named(s["color"] as? String ?? "") else { return nil }
                return Threshold(value: number(s["value"]), color: c)
            }.sorted { ($0.value ?? -.infinity) < ($1.value ?? -.infinity) }
        }
        // Legacy graph and singlestat fields.
        if panel.unit.isEmpty, let yaxes = p["yaxes"] as? [[String: Any]], let f = yaxes.first?["format"] as? String { panel.unit = f }
        if panel.unit.isEmpty, let f = p["format"] as? String { panel.unit = f }
        if panel.thresholds.isEmpty, let t = p["thresholds"] as? String, let colors = p["colors"] as? [String] {
            let values = t.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
            var steps = [Threshold(value: nil, color: Color.named(colors.first ?? "") ?? .default)]
            for (i, v) in values.enumerated() where i + 1 < colors.count {
                steps.append(Threshold(value: v, color: Color.named(colors[i + 1]) ?? .default))
            }
            panel.thresholds = steps
        }
        if panel.type == .text {
            panel.content = (p["options"] as? [String: Any])?["content"] as? String ?? p["content"] as? String ?? ""
        }
        if panel.type == .unsupported {
            panel.content = "panel type \"\(typeName)\" is not supported by argus dash"
        } else if panel.type != .text, panel.targets.isEmpty {
            panel.content = "no query (targets[].expr) in this panel"
        }
        return panel
    }

    /// Line and column of the first byte a strict JSON reader stops at (best effort: it tracks
    /// only structure and strings, enough to point at a typo).
    static func jsonErrorPosition(_ data: Data) -> (Int, Int) {
        let bytes = [UInt8](data)
        var line = 1, col = 1
        var inString = false, escape = false
        var expectValue = true
        var stack: [UInt8] = []
        for b in bytes {
            defer { if b == 10 { line += 1; col = 1 } else { col += 1 } }
            if inString {
                if escape { escape = false } else if b == 92 { escape = true } else if b == 34 { inString = false; expectValue = false }
                continue
            }
            switch b {
            case 32, 9, 10, 13: continue
            case 34: inString = true
            case 123, 91: stack.append(b); expectValue = true
            case 125: if stack.popLast() != 123 { return (line, col) }; expectValue = false
            case 93: if stack.popLast() != 91 { return (line, col) }; expectValue = false
            case 58, 44: if expectValue { return (line, col) }; expectValue = true
            default:
                let ok = (b >= 48 && b <= 57) || b == 45 || b == 43 || b == 46 || (b >= 97 && b <= 122) || (b >= 65 && b <= 90)
                if !ok { return (line, col) }
                expectValue = false
            }
        }
        return (line, col)
    }
}
