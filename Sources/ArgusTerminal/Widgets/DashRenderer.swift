import Foundation

/// Draws the whole dashboard screen from state and data; pure, so tests assert on frames.
public struct DashRenderer {
    public var charset: Charset
    public var zone: TimeZone

    public init(charset: Charset = .braille, zone: TimeZone = TimeZone(identifier: "UTC")!) {
        self.charset = charset
        self.zone = zone
    }

    static let headerStyle = Style(fg: .black, bg: .rgb(0x56, 0x94, 0xF2))
    static let footerStyle = Style(fg: .default, bg: .indexed(236))
    static let focusStyle = Style(fg: .brightCyan)
    static let borderStyle = Style(fg: .gray)

    public func render(_ state: DashState, _ data: DashData, width: Int, height: Int, nowMillis: Int64) -> Screen {
        var s = Screen(width: width, height: height)
        guard width >= 20, height >= 6 else {
            s.put(0, 0, "terminal too small", .plain)
            return s
        }
        let (start, end) = state.timeRange(nowMillis: nowMillis)
        let body = Rect(x: 0, y: 1, width: width, height: height - 2)
        header(state, &s, nowMillis: nowMillis)
        // The view under any overlays.
        let baseIndex = state.frames.lastIndex { [.dashboard, .enlarged, .trace, .spanLogs].contains($0.mode) } ?? 0
        let base = state.frames[baseIndex]
        var ctx = RenderContext(charset: charset, zone: zone, start: start, end: end, filter: state.filter)
        if let d = state.dashboard {
            switch base.mode {
            case .enlarged:
                if let p = state.focusedPanel {
                    ctx.selection = [.traces, .logs, .table].contains(p.type) || base.selection > 0 ? base.selection : nil
                    let selEx = state.mode == .exemplars ? state.selection : nil
                    panel(p, data.panels[p.id], in: body, on: &s, focused: true, ctx: ctx, selectedExemplar: selEx)
                }
            case .trace:
                TraceWaterfall.render(data.traceID, data.trace, rows: state.traceRows(data), selection: base.selection, in: body, on: &s, ctx: ctx)
            case .spanLogs:
                s.box(body, title: "Logs: " + data.spanLogsQuery, style: DashRenderer.focusStyle, heavy: true)
                var c = ctx
                c.selection = base.selection
                switch data.spanLogs {
                case .loaded(let lines)?: ListWidgets.logs(lines, in: body.inset(1), on: &s, ctx: c)
                case .failed(let m)?: s.put(body.x + 2, body.y + 1, "Cannot load logs: " + m, RenderContext.errorStyle, clip: body.inset(1))
                default: s.put(body.x + 2, body.y + 1, "Loading logs…", RenderContext.dim)
                }
            default:
                grid(d, state, data, in: body, on: &s, ctx: ctx)
            }
        } else {
            s.put(1, 2, "No dashboard could be loaded:", RenderContext.errorStyle.adding(Style.bold))
            var y = 3
            for l in state.dashboards { if let e = l.error { for line in ListWidgets.wrap(e.description, width - 4) where y < height - 1 { s.put(3, y, line, RenderContext.errorStyle); y += 1 } } }
        }
        // Overlays above the base view.
        for f in state.frames[(baseIndex + 1)...] {
            switch f.mode {
            case .help: help(&s)
            case .variables: variables(state, data, selection: f.selection, &s)
            case .variableOptions(let i): variableOptions(state, data, index: i, selection: f.selection, &s)
            case .switcher: switcher(state, selection: f.selection, &s)
            case .exemplars: exemplars(state, data, selection: f.selection, &s)
            default: break
            }
        }
        footer(state, &s)
        return s
    }

    func header(_ state: DashState, _ s: inout Screen, nowMillis: Int64) {
        let w = s.width
        s.fill(Rect(x: 0, y: 0, width: w, height: 1), " ", DashRenderer.headerStyle)
        var left = " argus ▸ " + (state.dashboard?.title ?? "no dashboard")
        for v in state.dashboard?.variables ?? [] { left += "  $\(v.name)=\(state.variableValues[v.name] ?? "")" }
        var right = "last " + ValueFormat.range(state.rangeMillis)
        if let e = state.endMillis { right += " to " + ValueFormat.clock(Double(e) / 1000, zone: zone) } else { right += " · live" }
        if state.paused { right += " · ⏸ paused" } else if let r = state.dashboard?.refreshMillis, r > 0 { right += " · ⟳ " + ValueFormat.range(r) }
        right += " · " + ValueFormat.clock(Double(nowMillis) / 1000, zone: zone) + " "
        let rw = DisplayWidth.of(right)
        s.put(0, 0, DisplayWidth.truncate(left, to: max(0, w - rw - 1)), DashRenderer.headerStyle.adding(Style.bold))
        s.put(max(0, w - rw), 0, right, DashRenderer.headerStyle)
    }

    func footer(_ state: DashState, _ s: inout Screen) {
        let y = s.height - 1
        s.fill(Rect(x: 0, y: y, width: s.width, height: 1), " ", DashRenderer.footerStyle)
        let keyStyle = DashRenderer.footerStyle.with(fg: .brightYellow).adding(Style.bold)
        if state.mode == .filter {
            let x = s.put(0, y, " /", keyStyle)
            s.put(x, y, state.filter + "▏", DashRenderer.footerStyle)
            return
        }
        let hints: [(String, String)]
        switch state.mode {
        case .trace: hints = [("↑↓", "span"), ("←→", "fold"), ("l", "span logs"), ("esc", "back"), ("q", "quit")]
        case .spanLogs: hints = [("↑↓", "scroll"), ("esc", "back"), ("q", "quit")]
        case .exemplars: hints = [("↑↓", "exemplar"), ("enter", "open trace"), ("esc", "back")]
        case .variables, .variableOptions, .switcher: hints = [("↑↓", "choose"), ("enter", "select"), ("esc", "back")]
        case .enlarged: hints = [("esc", "back"), ("↑↓", "select"), ("enter", "open"), ("e", "exemplars"), ("+/-", "zoom"), ("[/]", "pan"), ("/", "filter"), ("?", "help"), ("q", "quit")]
        default: hints = [("?", "help"), ("tab", "panel"), ("enter", "enlarge"), ("+/-", "zoom"), ("[/]", "pan"), ("p", "pause"), ("v", "vars"), ("/", "filter"), (":", "dashboards"), ("q", "quit")]
        }
        var x = 1
        for (k, label) in hints {
            if x + DisplayWidth.of(k) + DisplayWidth.of(label) + 2 > s.width { break }
            x += s.put(x, y, k, keyStyle)
            x += s.put(x + 1, y, label, DashRenderer.footerStyle) + 3
        }
        var right = ""
        if !state.filter.isEmpty { right = "filter: " + state.filter + " " }
        let failed = state.dashboards.compactMap(\.error)
        if let e = failed.first {
            let text = "⚠ " + (failed.count > 1 ? "\(failed.count) dashboards failed, first: " : "") + e.shortDescription + " "
            let avail = s.width - x - DisplayWidth.of(right) - 1
            if avail > 10 {
                let t = DisplayWidth.truncate(text, to: avail)
                s.put(s.width - DisplayWidth.of(right) - DisplayWidth.of(t), y, t, DashRenderer.footerStyle.with(fg: .brightRed))
            }
        }
        if !right.isEmpty { s.put(s.width - DisplayWidth.of(right), y, right, DashRenderer.footerStyle.with(fg: .brightCyan)) }
    }

    func grid(_ d: Dashboard, _ state: DashState, _ data: DashData, in body: Rect, on s: inout Screen, ctx: RenderContext) {
        let (rects, contentH) = GridLayout.rects(d.panels, in: body)
        // Scroll so the focused panel is on screen.
        var offset = 0
        if contentH > body.height, rects.indices.contains(state.focus) {
            let f = rects[state.focus]
            if f.maxY > body.height { offset = min(contentH - body.height, f.maxY - body.height) }
            if f.y < offset { offset = f.y }
        }
        for (i, p) in d.panels.enumerated() {
            var r = rects[i]
            r.y += body.y - offset
            guard r.maxY > body.y, r.y < body.maxY else { continue }
            var clipped = r
            if clipped.maxY > body.maxY { clipped.height = body.maxY - clipped.y }
            if clipped.y < body.y { continue }
            // A panel cut to less than a line of content waits for scrolling.
            if p.type != .row, clipped.height < 3 { continue }
            panel(p, data.panels[p.id], in: clipped, on: &s, focused: i == state.focus, ctx: ctx)
        }
        if contentH > body.height {
            let more = offset + body.height < contentH ? " ↓ more " : " ↑ "
            s.put(body.maxX - DisplayWidth.of(more) - 1, body.maxY - 1, more, RenderContext.dim)
        }
    }

    func panel(_ p: Panel, _ data: PanelData?, in r: Rect, on s: inout Screen, focused: Bool, ctx: RenderContext, selectedExemplar: Int? = nil) {
        if p.type == .row {
            let st = focused ? Style(fg: .brightCyan, attrs: Style.bold | Style.reverse) : Style(attrs: Style.bold)
            let mark = p.collapsed ? (charset == .ascii ? "+ " : "▸ ") : (charset == .ascii ? "- " : "▾ ")
            var t = mark + p.title
            if p.collapsed { t += " (\(p.children.count) panels)" }
            let x = s.put(r.x, r.y, t, st, maxWidth: r.width)
            s.put(r.x + x + 1, r.y, String(repeating: charset.horizontal, count: max(0, r.width - x - 1)), RenderContext.dim)
            return
        }
        s.box(r, title: p.title, style: focused ? DashRenderer.focusStyle : DashRenderer.borderStyle,
              titleStyle: focused ? DashRenderer.focusStyle.adding(Style.bold) : Style(attrs: Style.bold), heavy: focused)
        let inner = r.inset(1)
        guard inner.width > 0, inner.height > 0 else { return }
        if p.type == .unsupported || (p.type != .text && p.targets.isEmpty) {
            let msg = p.content.isEmpty ? "unsupported panel" : p.content
            var y = inner.y + max(0, (inner.height - 1) / 2)
            for line in ListWidgets.wrap("⚠ " + msg, inner.width) where y < inner.maxY { s.put(inner.x, y, line, Style(fg: .yellow)); y += 1 }
            return
        }
        if p.type == .text { ListWidgets.text(p.content, in: inner, on: &s); return }
        switch data {
        case nil, .loading?:
            s.put(inner.x + max(0, (inner.width - 10) / 2), inner.y + inner.height / 2, "Loading…", RenderContext.dim, clip: inner)
        case .error(let msg)?:
            var y = inner.y
            for line in ListWidgets.wrap("✖ " + msg, inner.width) where y < inner.maxY { s.put(inner.x, y, line, RenderContext.errorStyle); y += 1 }
        case .series(let series, let ex)?:
            switch p.type {
            case .stat: ChartWidgets.stat(p, series, in: inner, on: &s, ctx: ctx)
            case .heatmap: ChartWidgets.heatmap(p, series, in: inner, on: &s, ctx: ctx)
            default: ChartWidgets.timeseries(p, series, exemplars: ex, in: inner, on: &s, ctx: ctx, selectedExemplar: selectedExemplar)
            }
        case .vector(let v)?:
            switch p.type {
            case .gauge: ChartWidgets.gauge(p, v, in: inner, on: &s, ctx: ctx)
            case .bargauge: ChartWidgets.barGauge(p, v, in: inner, on: &s, ctx: ctx)
            default: ListWidgets.table(p, v, in: inner, on: &s, ctx: ctx)
            }
        case .logs(let lines)?: ListWidgets.logs(lines, in: inner, on: &s, ctx: ctx)
        case .traces(let list)?: ListWidgets.traces(list, in: inner, on: &s, ctx: ctx)
        }
    }

    /// A centred box for an overlay; returns its inner rectangle.
    func overlay(_ s: inout Screen, title: String, width: Int, height: Int) -> Rect {
        let w = min(s.width - 4, width), h = min(s.height - 4, height)
        let r = Rect(x: (s.width - w) / 2, y: (s.height - h) / 2, width: w, height: h)
        s.fill(r, " ", .plain)
        s.box(r, title: title, style: DashRenderer.focusStyle, heavy: true)
        return r.inset(1)
    }

    static let helpLines: [(String, String)] = [
        ("?", "this help"), ("tab / shift-tab", "next / previous panel (also arrows, hjkl)"),
        ("enter", "enlarge panel · open/close row · open trace or exemplars"), ("esc", "back"),
        ("+ / -", "zoom the time range in / out"), ("[ / ]", "pan back / forward"), ("p", "pause live refresh"),
        ("r", "refresh now"), ("v", "variables"), ("/", "filter series and log lines"), (":", "switch dashboard"),
        ("e", "exemplars of a time series → trace"), ("l", "in a trace: the span's logs"), ("q / ctrl-c", "quit"),
    ]

    func help(_ s: inout Screen) {
        let inner = overlay(&s, title: "Keys", width: 72, height: DashRenderer.helpLines.count + 2)
        for (i, (k, v)) in DashRenderer.helpLines.enumerated() where i < inner.height {
            s.put(inner.x + 1, inner.y + i, DisplayWidth.pad(k, to: 16), Style(fg: .brightYellow, attrs: Style.bold))
            s.put(inner.x + 18, inner.y + i, v, .plain, clip: inner)
        }
    }

    func listOverlay(_ s: inout Screen, title: String, items: [(String, Style)], selection: Int, width: Int, empty: String) {
        let inner = overlay(&s, title: title, width: width, height: max(3, min(items.count, 20) + 2))
        if items.isEmpty { s.put(inner.x + 1, inner.y, empty, RenderContext.dim, clip: inner); return }
        let top = ListWidgets.scrollTop(selection: selection, rows: items.count, visible: inner.height)
        for i in 0..<min(inner.height, items.count - top) {
            let (t, st) = items[top + i]
            let sel = top + i == selection
            if sel { s.fill(Rect(x: inner.x, y: inner.y + i, width: inner.width, height: 1), " ", RenderContext.selected) }
            s.put(inner.x + 1, inner.y + i, t, sel ? RenderContext.selected : st, clip: inner)
        }
    }

    func variables(_ state: DashState, _ data: DashData, selection: Int, _ s: inout Screen) {
        let items = (state.dashboard?.variables ?? []).map { v in
            (DisplayWidth.pad(v.label ?? v.name, to: 16) + " " + (state.variableValues[v.name] ?? ""), Style.plain)
        }
        listOverlay(&s, title: "Variables", items: items, selection: selection, width: 60, empty: "This dashboard has no variables")
    }

    func variableOptions(_ state: DashState, _ data: DashData, index: Int, selection: Int, _ s: inout Screen) {
        guard let v = state.dashboard?.variables[safe: index] else { return }
        let cur = state.variableValues[v.name]
        let items = state.options(v, data: data).map { ($0 == cur ? "● " + $0 : "  " + $0, Style.plain) }
        listOverlay(&s, title: "$" + v.name, items: items, selection: selection, width: 50, empty: "No values (yet)")
    }

    func switcher(_ state: DashState, selection: Int, _ s: inout Screen) {
        let items = state.dashboards.enumerated().map { (i, l) -> (String, Style) in
            switch l {
            case .ok(let d): return ((i == state.current ? "● " : "  ") + d.title + "  " + (d.source as NSString).lastPathComponent, .plain)
            case .failed(let e): return ("✖ " + e.description, RenderContext.errorStyle)
            }
        }
        listOverlay(&s, title: "Dashboards", items: items, selection: selection, width: max(60, s.width * 3 / 4), empty: "No dashboards")
    }

    func exemplars(_ state: DashState, _ data: DashData, selection: Int, _ s: inout Screen) {
        let items = state.exemplars(data).map { e in
            (ValueFormat.clock(e.time, zone: zone) + "  " + DisplayWidth.padLeft(ValueFormat.format(e.value, unit: state.focusedPanel?.unit ?? ""), to: 9)
             + "  " + (e.traceID ?? "") + "  " + e.seriesName, Style.plain)
        }
        listOverlay(&s, title: "Exemplars", items: items, selection: selection, width: max(60, s.width * 3 / 4),
                    empty: "No exemplars with a trace id in this range")
    }
}

extension Array {
    subscript(safe i: Int) -> Element? { indices.contains(i) ? self[i] : nil }
}
