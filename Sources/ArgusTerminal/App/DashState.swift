import Foundation

/// The dashboard's interaction state and its key handling, as a value-type state machine: a
/// key goes in, the state changes and the actions the app must run come out. No I/O here, so
/// every interaction is tested directly.
public struct DashState: Sendable, Equatable {
    public enum Mode: Equatable, Sendable {
        case dashboard, enlarged, help, variables, variableOptions(Int), filter, switcher, exemplars, trace, spanLogs
    }

    /// A mode on the stack; Esc pops it. `selection` is the highlighted row of its list.
    public struct Frame: Equatable, Sendable {
        public var mode: Mode
        public var selection = 0
        public init(_ mode: Mode, selection: Int = 0) {
            self.mode = mode
            self.selection = selection
        }
    }

    public var dashboards: [LoadedDashboard]
    /// Index into `dashboards` of the one shown (always a loaded one, when any loaded).
    public var current: Int
    public var frames: [Frame] = [Frame(.dashboard)]
    /// Index into the current dashboard's `panels` of the focused panel.
    public var focus = 0
    public var rangeMillis: Int64
    /// End of the time range; nil follows now (live).
    public var endMillis: Int64?
    public var paused = false
    public var filter = ""
    var filterBefore = ""
    public var variableValues: [String: String] = [:]
    /// Spans folded in the trace view.
    public var folded: Set<String> = []

    public static let minRangeMillis: Int64 = 10_000
    public static let maxRangeMillis: Int64 = 90 * 86_400_000

    public init(dashboards: [LoadedDashboard], current: Int = 0) {
        var next = 1
        let all: [LoadedDashboard] = dashboards.map {
            guard case .ok(let d) = $0 else { return $0 }
            let (numbered, n) = d.numberingPanels(from: next)
            next = n
            return .ok(numbered)
        }
        let firstOK = all.indices.first { all[$0].dashboard != nil } ?? 0
        let chosen = all.indices.contains(current) && all[current].dashboard != nil ? current : firstOK
        self.dashboards = all
        self.current = chosen
        rangeMillis = all.indices.contains(chosen) ? all[chosen].dashboard?.rangeMillis ?? 3_600_000 : 3_600_000
        resetVariables()
    }

    public var dashboard: Dashboard? {
        dashboards.indices.contains(current) ? dashboards[current].dashboard : nil
    }

    public var mode: Mode { frames.last!.mode }
    public var selection: Int { frames.last!.selection }

    public var focusedPanel: Panel? {
        guard let d = dashboard, d.panels.indices.contains(focus) else { return nil }
        return d.panels[focus]
    }

    /// The time range to query, in unix seconds.
    public func timeRange(nowMillis: Int64) -> (start: Double, end: Double) {
        let end = endMillis ?? nowMillis
        return (Double(end - rangeMillis) / 1000, Double(end) / 1000)
    }

    /// Each variable's value: the chosen one, the default, or the first option.
    mutating func resetVariables() {
        variableValues = [:]
        for v in dashboard?.variables ?? [] {
            if let c = v.current { variableValues[v.name] = c } else if v.includeAll { variableValues[v.name] = "All" } else if let f = v.staticOptions.first { variableValues[v.name] = f }
        }
    }

    /// A variable's options, with "All" first when it offers it.
    public func options(_ v: Variable, data: DashData) -> [String] {
        let base: [String]
        if case .query = v.kind { base = data.variableOptions[v.name] ?? [] } else { base = v.staticOptions }
        return (v.includeAll ? ["All"] : []) + base
    }

    /// After variable options arrive: a value no longer offered falls back to the first option.
    public mutating func settleVariables(_ data: DashData) {
        for v in dashboard?.variables ?? [] {
            let opts = options(v, data: data)
            if let cur = variableValues[v.name], opts.contains(cur) || (opts.isEmpty && cur.isEmpty) { continue }
            if let cur = variableValues[v.name], v.current == cur, opts.isEmpty { continue }
            variableValues[v.name] = opts.first ?? ""
        }
    }

    // MARK: keys

    /// Applies one key; returns what the app must do.
    public mutating func handle(_ key: Key, data: DashData, nowMillis: Int64) -> [DashAction] {
        if key == .ctrlC { return [.quit] }
        if key == .ctrlL { return [.redraw] }
        switch mode {
        case .dashboard, .enlarged: return handleMain(key, data: data, nowMillis: nowMillis)
        case .help:
            if key == .esc || key == .char("?") || key == .char("q") || key == .enter { frames.removeLast() }
            return []
        case .filter: return handleFilter(key)
        case .variables: return handleVariables(key, data: data)
        case .variableOptions(let i): return handleVariableOptions(i, key, data: data)
        case .switcher: return handleSwitcher(key)
        case .exemplars: return handleExemplars(key, data: data)
        case .trace: return handleTrace(key, data: data)
        case .spanLogs:
            if key == .esc { frames.removeLast(); return [] }
            if key == .char("q") { return [.quit] }
            moveSelection(key, count: filteredLogs(data.spanLogs?.value ?? []).count)
            return []
        }
    }

    mutating func setSelection(_ s: Int) { frames[frames.count - 1].selection = s }

    /// Up/down, j/k, page keys, home/end move the selection within `count` rows; returns
    /// whether the key was one of them.
    @discardableResult
    mutating func moveSelection(_ key: Key, count: Int, page: Int = 10) -> Bool {
        var s = selection
        switch key {
        case .up, .char("k"): s -= 1
        case .down, .char("j"): s += 1
        case .pageUp: s -= page
        case .pageDown: s += page
        case .home, .char("g"): s = 0
        case .end, .char("G"): s = count - 1
        default: return false
        }
        setSelection(max(0, min(count - 1, s)))
        return true
    }

    mutating func handleMain(_ key: Key, data: DashData, nowMillis: Int64) -> [DashAction] {
        let n = dashboard?.panels.count ?? 0
        let enlarged = mode == .enlarged
        switch key {
        case .char("q"): return [.quit]
        case .char("?"): frames.append(Frame(.help)); return []
        case .tab:
            if n > 0 { focus = (focus + 1) % n }
            if enlarged { setSelection(0) }
            return []
        case .backTab:
            if n > 0 { focus = (focus + n - 1) % n }
            if enlarged { setSelection(0) }
            return []
        case .esc:
            if enlarged { frames.removeLast() } else if !filter.isEmpty { filter = "" }
            return []
        case .char("+"), .char("="): return zoom(in: true, nowMillis: nowMillis)
        case .char("-"), .char("_"): return zoom(in: false, nowMillis: nowMillis)
        case .char("["): return pan(-1, nowMillis: nowMillis)
        case .char("]"): return pan(1, nowMillis: nowMillis)
        case .char("p"):
            paused.toggle()
            return paused ? [] : [.refresh]
        case .char("r"): return [.refresh]
        case .char("v"): frames.append(Frame(.variables)); return []
        case .char("/"):
            filterBefore = filter
            frames.append(Frame(.filter))
            return []
        case .char(":"): frames.append(Frame(.switcher, selection: current)); return []
        case .char("e"):
            if focusedPanel?.type == .timeseries { frames.append(Frame(.exemplars)) }
            return []
        default: break
        }
        guard let panel = focusedPanel else { return [] }
        if !enlarged {
            switch key {
            case .right, .down, .char("l"), .char("j"): if n > 0 { focus = (focus + 1) % n }
            case .left, .up, .char("h"), .char("k"): if n > 0 { focus = (focus + n - 1) % n }
            case .enter:
                if panel.type == .row { toggleRow(focus) } else { frames.append(Frame(.enlarged)) }
            default: break
            }
            return []
        }
        // Enlarged: lists scroll, Enter opens what the selected row points at.
        let rows = rowCount(panel, data: data)
        if moveSelection(key, count: rows) { return [] }
        if key == .enter {
            switch panel.type {
            case .traces:
                if case .traces(let list)? = data.panels[panel.id], list.indices.contains(selection) {
                    return openTrace(list[selection].traceID)
                }
            case .timeseries:
                frames.append(Frame(.exemplars))
            case .logs:
                if case .logs(let lines)? = data.panels[panel.id] {
                    let shown = filteredLogs(lines)
                    if shown.indices.contains(selection), let t = shown[selection].metadata["trace_id"] ?? shown[selection].labels["trace_id"], !t.isEmpty {
                        return openTrace(t)
                    }
                }
            default: break
            }
        }
        return []
    }

    /// How many selectable rows an enlarged panel has.
    public func rowCount(_ panel: Panel, data: DashData) -> Int {
        switch data.panels[panel.id] {
        case .logs(let l)?: return filteredLogs(l).count
        case .traces(let t)?: return t.count
        case .vector(let v)?: return v.filter { matchesFilter($0.name) }.count
        case .series(let s, _)?: return s.filter { matchesFilter($0.name) }.count
        default: return 0
        }
    }

    public func matchesFilter(_ text: String) -> Bool {
        filter.isEmpty || text.range(of: filter, options: .caseInsensitive) != nil
    }

    public func filteredLogs(_ lines: [LogLine]) -> [LogLine] {
        filter.isEmpty ? lines : lines.filter { matchesFilter($0.line) }
    }

    mutating func openTrace(_ id: String) -> [DashAction] {
        folded = []
        frames.append(Frame(.trace))
        return [.openTrace(id)]
    }

    mutating func zoom(in zoomIn: Bool, nowMillis: Int64) -> [DashAction] {
        let old = rangeMillis
        let new = zoomIn ? max(DashState.minRangeMillis, old / 2) : min(DashState.maxRangeMillis, old * 2)
        if new == old { return [] }
        if let end = endMillis {
            // A fixed range zooms around its middle.
            let mid = end - old / 2
            let e = mid + new / 2
            endMillis = e >= nowMillis ? nil : e
        }
        rangeMillis = new
        return [.refresh]
    }

    mutating func pan(_ dir: Int, nowMillis: Int64) -> [DashAction] {
        let end = endMillis ?? nowMillis
        let e = end + Int64(dir) * rangeMillis / 2
        if dir > 0, endMillis == nil { return [] }  // already live
        endMillis = e >= nowMillis ? nil : e
        return [.refresh]
    }

    /// Expands a collapsed row (its panels move into the dashboard after it) or collapses an
    /// open one (the panels after it, up to the next row, move into it).
    public mutating func toggleRow(_ index: Int) {
        guard case .ok(var d) = dashboards[current], d.panels.indices.contains(index), d.panels[index].type == .row else { return }
        if d.panels[index].collapsed {
            let kids = d.panels[index].children
            d.panels[index].children = []
            d.panels[index].collapsed = false
            d.panels.insert(contentsOf: kids, at: index + 1)
        } else {
            var end = index + 1
            while end < d.panels.count, d.panels[end].type != .row { end += 1 }
            d.panels[index].children = Array(d.panels[(index + 1)..<end])
            d.panels.removeSubrange((index + 1)..<end)
            d.panels[index].collapsed = true
        }
        dashboards[current] = .ok(d)
    }

    mutating func handleFilter(_ key: Key) -> [DashAction] {
        switch key {
        case .enter: frames.removeLast()
        case .esc:
            filter = filterBefore
            frames.removeLast()
        case .backspace: if !filter.isEmpty { filter.removeLast() }
        case .char(let c): filter.append(c)
        default: break
        }
        return []
    }

    mutating func handleVariables(_ key: Key, data: DashData) -> [DashAction] {
        let vars = dashboard?.variables ?? []
        if key == .esc || key == .char("v") { frames.removeLast(); return [] }
        if moveSelection(key, count: vars.count) { return [] }
        if key == .enter || key == .right, vars.indices.contains(selection) {
            let v = vars[selection]
            let opts = options(v, data: data)
            frames.append(Frame(.variableOptions(selection), selection: opts.firstIndex(of: variableValues[v.name] ?? "") ?? 0))
        }
        return []
    }

    mutating func handleVariableOptions(_ index: Int, _ key: Key, data: DashData) -> [DashAction] {
        guard let vars = dashboard?.variables, vars.indices.contains(index) else { frames.removeLast(); return [] }
        let v = vars[index]
        let opts = options(v, data: data)
        if key == .esc || key == .left { frames.removeLast(); return [] }
        if moveSelection(key, count: opts.count) { return [] }
        if key == .enter, opts.indices.contains(selection) {
            variableValues[v.name] = opts[selection]
            frames.removeLast()  // options
            frames.removeLast()  // variables
            return [.reloadVariables]
        }
        return []
    }

    mutating func handleSwitcher(_ key: Key) -> [DashAction] {
        if key == .esc { frames.removeLast(); return [] }
        if moveSelection(key, count: dashboards.count) { return [] }
        if key == .enter, dashboards.indices.contains(selection), let d = dashboards[selection].dashboard {
            current = selection
            frames = [Frame(.dashboard)]
            focus = 0
            rangeMillis = d.rangeMillis
            endMillis = nil
            filter = ""
            resetVariables()
            return [.reloadVariables]
        }
        return []
    }

    /// The focused panel's exemplars that carry a trace id.
    public func exemplars(_ data: DashData) -> [ExemplarPoint] {
        guard let p = focusedPanel, case .series(_, let ex)? = data.panels[p.id] else { return [] }
        return ex.filter { $0.traceID != nil }
    }

    mutating func handleExemplars(_ key: Key, data: DashData) -> [DashAction] {
        let list = exemplars(data)
        if key == .esc { frames.removeLast(); return [] }
        if key == .char("q") { return [.quit] }
        if moveSelection(key, count: list.count) { return [] }
        if key == .enter, list.indices.contains(selection), let id = list[selection].traceID {
            return openTrace(id)
        }
        return []
    }

    /// The waterfall's rows as shown.
    public func traceRows(_ data: DashData) -> [TraceTree.Row] {
        TraceTree.rows(data.trace?.value ?? [], folded: folded)
    }

    mutating func handleTrace(_ key: Key, data: DashData) -> [DashAction] {
        let rows = traceRows(data)
        switch key {
        case .esc: frames.removeLast(); return []
        case .char("q"): return [.quit]
        case .char("r"): return data.traceID.isEmpty ? [] : [.openTrace(data.traceID)]
        default: break
        }
        if moveSelection(key, count: rows.count) { return [] }
        guard rows.indices.contains(selection) else { return [] }
        let row = rows[selection]
        switch key {
        case .enter, .char(" "):
            if row.childCount > 0 {
                if folded.contains(row.span.spanID) { folded.remove(row.span.spanID) } else { folded.insert(row.span.spanID) }
            }
        case .left, .char("h"):
            if row.childCount > 0, !row.folded {
                folded.insert(row.span.spanID)
            } else if let parent = rows.firstIndex(where: { $0.span.spanID == row.span.parentID }) {
                setSelection(parent)
            }
        case .right:
            if row.folded { folded.remove(row.span.spanID) }
        case .char("l"):
            let s = row.span
            let query = "{service_name=\"\(s.service)\"} | trace_id=\"\(s.traceID)\""
            frames.append(Frame(.spanLogs))
            // The span's time with a minute either side: logs are often stamped a little apart.
            return [.openLogs(query: query, start: Double(s.startNanos) / 1e9 - 60, end: Double(s.endNanos) / 1e9 + 60)]
        default: break
        }
        return []
    }
}
