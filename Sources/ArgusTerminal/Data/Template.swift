import Foundation

/// Variable substitution in query text, as Grafana does it: `$name`, `${name}`, `[[name]]`,
/// and the built-ins `$__interval`, `$__rate_interval`, `$__range`.
public enum Template {
    /// Regular-expression-escapes a value for an `=~` matcher inside a PromQL double-quoted
    /// string, where the regex's backslash is itself escaped (`a.b` → `a\\.b`), as Grafana does.
    static func regexEscape(_ s: String) -> String {
        var out = ""
        for c in s {
            if "\\.+*?()|[]{}^$".contains(c) { out.append("\\\\") }
            out.append(c)
        }
        return out
    }

    /// The text a variable's value stands for: "All" is every option as an alternation (or
    /// `.*` when the options are unknown).
    public static func value(of v: Variable, state: DashState, data: DashData) -> String {
        let cur = state.variableValues[v.name] ?? ""
        if v.includeAll, cur == "All" {
            let opts = state.options(v, data: data).filter { $0 != "All" }
            return opts.isEmpty ? ".*" : "(" + opts.map(regexEscape).joined(separator: "|") + ")"
        }
        return cur
    }

    /// `text` with every known variable replaced; unknown names are left as they are.
    public static func substitute(_ text: String, values: [String: String], stepSeconds: Double, rangeMillis: Int64) -> String {
        var all = values
        let step = max(1, Int(stepSeconds.rounded(.up)))
        all["__interval"] = "\(step)s"
        all["__rate_interval"] = "\(max(step + 15, 60))s"
        all["__range"] = ValueFormat.range(rangeMillis)
        all["__range_s"] = String(rangeMillis / 1000)
        var out = ""
        let chars = Array(text)
        var i = 0
        func isName(_ c: Character) -> Bool { c.isLetter || c.isNumber || c == "_" }
        while i < chars.count {
            let c = chars[i]
            if c == "$" {
                if i + 1 < chars.count, chars[i + 1] == "{", let close = chars[(i + 2)...].firstIndex(of: "}") {
                    let name = String(chars[(i + 2)..<close]).split(separator: ":").first.map(String.init) ?? ""
                    if let v = all[name] { out += v; i = close + 1; continue }
                }
                var j = i + 1
                while j < chars.count, isName(chars[j]) { j += 1 }
                let name = String(chars[(i + 1)..<j])
                if !name.isEmpty, let v = all[name] { out += v; i = j; continue }
            } else if c == "[", i + 1 < chars.count, chars[i + 1] == "[" {
                if let close = text.range(of: "]]", range: text.index(text.startIndex, offsetBy: i)..<text.endIndex) {
                    let end = text.distance(from: text.startIndex, to: close.lowerBound)
                    let name = String(chars[(i + 2)..<end])
                    if let v = all[name] { out += v; i = end + 2; continue }
                }
            }
            out.append(c)
            i += 1
        }
        return out
    }
}

/// Fetches what the current dashboard needs, panel by panel, into `DashData` values; shared by
/// the live dashboard and the one-frame snapshot.
public struct DashFetcher: Sendable {
    public let client: DataClient
    public init(client: DataClient) { self.client = client }

    /// Steps between points of a range query: about 240 points over the range (60 for heatmaps).
    public static func step(rangeMillis: Int64, points: Int = 240) -> Double {
        max(1, (Double(rangeMillis) / 1000 / Double(points)).rounded(.up))
    }

    func values(_ state: DashState, _ data: DashData) -> [String: String] {
        var out: [String: String] = [:]
        for v in state.dashboard?.variables ?? [] { out[v.name] = Template.value(of: v, state: state, data: data) }
        return out
    }

    /// Options of every query variable (in order, so one may use the ones before it).
    public func variableOptions(_ state: DashState, data: DashData, nowMillis: Int64) async -> [String: [String]] {
        var result = data.variableOptions
        let (start, end) = state.timeRange(nowMillis: nowMillis)
        var d = data
        for v in state.dashboard?.variables ?? [] {
            guard case .query(let q) = v.kind, let lv = LabelValuesQuery(q) else { continue }
            let sel = lv.selector.map { Template.substitute($0, values: values(state, d), stepSeconds: 60, rangeMillis: state.rangeMillis) }
            if let opts = try? await client.labelValues(lv.label, match: sel, start: start, end: end) {
                result[v.name] = opts
                d.variableOptions[v.name] = opts
            }
        }
        return result
    }

    /// One panel's data (errors become `.error` with the source's message).
    public func panelData(_ p: Panel, state: DashState, data: DashData, nowMillis: Int64) async -> PanelData {
        let (start, end) = state.timeRange(nowMillis: nowMillis)
        let step = DashFetcher.step(rangeMillis: state.rangeMillis, points: p.type == .heatmap ? 60 : 240)
        let vals = values(state, data)
        func expr(_ t: Target) -> String { Template.substitute(t.expr, values: vals, stepSeconds: step, rangeMillis: state.rangeMillis) }
        do {
            switch p.type {
            case .timeseries, .stat, .heatmap:
                var series: [SeriesData] = []
                var ex: [ExemplarPoint] = []
                for t in p.targets {
                    series += try await client.queryRange(expr(t), start: start, end: end, step: step, legend: t.legend)
                    if p.type == .timeseries { ex += await client.exemplars(expr(t), start: start, end: end, legend: t.legend) }
                }
                return .series(series, exemplars: ex)
            case .gauge, .bargauge, .table:
                var out: [VectorSample] = []
                for t in p.targets { out += try await client.query(expr(t), time: end, legend: t.legend) }
                return .vector(out)
            case .logs:
                var out: [LogLine] = []
                for t in p.targets { out += try await client.logs(expr(t), start: start, end: end, limit: p.limit) }
                return .logs(out.sorted { $0.timeNanos > $1.timeNanos })
            case .traces:
                var out: [TraceSummary] = []
                for t in p.targets { out += try await client.searchTraces(expr(t), start: start, end: end, limit: p.limit) }
                return .traces(out.sorted { $0.startNanos > $1.startNanos })
            case .text, .row, .unsupported:
                return .loading
            }
        } catch {
            return .error("\(error)")
        }
    }

    /// Every panel of the current dashboard, concurrently; returns the data with them filled.
    public func refreshAll(_ state: DashState, data: DashData, nowMillis: Int64) async -> DashData {
        var d = data
        let panels = (state.dashboard?.panels ?? []).filter { !$0.targets.isEmpty && $0.type != .row && $0.type != .unsupported }
        await withTaskGroup(of: (Int, PanelData).self) { group in
            for p in panels {
                group.addTask { (p.id, await self.panelData(p, state: state, data: data, nowMillis: nowMillis)) }
            }
            for await (id, pd) in group { d.panels[id] = pd }
        }
        d.refreshedAt = nowMillis
        return d
    }
}
