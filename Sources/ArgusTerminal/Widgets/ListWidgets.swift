import Foundation

/// Table, logs, traces, text and unsupported panels.
enum ListWidgets {
    /// First visible row so that `selection` stays on screen.
    static func scrollTop(selection: Int?, rows: Int, visible: Int) -> Int {
        guard let sel = selection, visible > 0 else { return 0 }
        return max(0, min(sel - visible + 1 + visible / 2, rows - visible, sel))
    }

    /// An instant vector as a table: one column per label, then the value.
    static func table(_ panel: Panel, _ samples: [VectorSample], in r: Rect, on s: inout Screen, ctx: RenderContext) {
        let rows = samples.filter { ctx.matches($0.name) }
        if rows.isEmpty {
            s.put(r.x + max(0, (r.width - 7) / 2), r.y + r.height / 2, "No data", RenderContext.dim, clip: r)
            return
        }
        // With legends, a "Series" column of the names comes first and __name__ goes.
        let seriesKey = "\u{0}series"
        let named = rows.contains { $0.name != SeriesName.labelText($0.labels) }
        var keys = Array(Set(rows.flatMap { $0.labels.keys })).sorted()
        // A label with one value in every row says nothing; leave it out (Grafana hides none,
        // but a terminal is narrow).
        if rows.count > 1 { keys = keys.filter { k in Set(rows.map { $0.labels[k] ?? "" }).count > 1 } }
        if named { keys = [seriesKey] + keys.filter { $0 != "__name__" } }
        func cell(_ row: VectorSample, _ k: String) -> String { k == seriesKey ? row.name : row.labels[k] ?? "" }
        func header(_ k: String) -> String { k == seriesKey ? "Series" : k }
        let values = rows.map { ValueFormat.format($0.value, unit: panel.unit, decimals: panel.decimals) }
        let valueW = max(5, values.map { DisplayWidth.of($0) }.max() ?? 5)
        let avail = r.width - valueW - 1
        var widths = keys.map { k in max(DisplayWidth.of(header(k)), rows.map { DisplayWidth.of(cell($0, k)) }.max() ?? 0) }
        let total = widths.reduce(0) { $0 + $1 + 1 }
        if total > avail, !widths.isEmpty {
            let each = max(3, avail / widths.count - 1)
            widths = widths.map { min($0, each) }
        }
        var x = r.x
        let head = Style(attrs: Style.bold | Style.underline)
        for (k, w) in zip(keys, widths) { s.put(x, r.y, DisplayWidth.pad(header(k), to: w), head, clip: r); x += w + 1 }
        s.put(r.maxX - valueW, r.y, DisplayWidth.padLeft("Value", to: valueW), head, clip: r)
        let visible = r.height - 1
        let top = scrollTop(selection: ctx.selection, rows: rows.count, visible: visible)
        for i in 0..<min(visible, rows.count - top) {
            let row = rows[top + i]
            let y = r.y + 1 + i
            let sel = ctx.selection == top + i
            if sel { s.fill(Rect(x: r.x, y: y, width: r.width, height: 1), " ", RenderContext.selected) }
            var x = r.x
            for (k, w) in zip(keys, widths) {
                s.put(x, y, DisplayWidth.pad(cell(row, k), to: w), sel ? RenderContext.selected : .plain, clip: r)
                x += w + 1
            }
            let color = panel.thresholdColor(row.value) ?? .default
            s.put(r.maxX - valueW, y, DisplayWidth.padLeft(values[top + i], to: valueW), sel ? RenderContext.selected : Style(fg: color), clip: r)
        }
    }

    /// Log lines, newest first: time, level (coloured), the line.
    static func logs(_ lines: [LogLine], in r: Rect, on s: inout Screen, ctx: RenderContext) {
        let shown = ctx.filter.isEmpty ? lines : lines.filter { ctx.matches($0.line) }
        if shown.isEmpty {
            s.put(r.x + max(0, (r.width - 7) / 2), r.y + r.height / 2, lines.isEmpty ? "No logs" : "No match", RenderContext.dim, clip: r)
            return
        }
        let top = scrollTop(selection: ctx.selection, rows: shown.count, visible: r.height)
        for i in 0..<min(r.height, shown.count - top) {
            let l = shown[top + i]
            let y = r.y + i
            let sel = ctx.selection == top + i
            let base: Style = sel ? RenderContext.selected : .plain
            if sel { s.fill(Rect(x: r.x, y: y, width: r.width, height: 1), " ", base) }
            var x = r.x
            x += s.put(x, y, ValueFormat.clock(Double(l.timeNanos) / 1e9, zone: ctx.zone) + " ", sel ? base : RenderContext.dim, clip: r)
            let sev = l.severity
            let sevText = DisplayWidth.pad(sev.isEmpty ? "" : String(sev.prefix(5)).uppercased(), to: 5) + " "
            x += s.put(x, y, sevText, sel ? base : Style(fg: RenderContext.severityColor(sev), attrs: Style.bold), clip: r)
            if let svc = l.labels["service_name"] ?? l.labels["service"] ?? l.labels["job"], r.width > 60 {
                x += s.put(x, y, DisplayWidth.pad(svc, to: 12) + " ", sel ? base : Style(fg: .cyan), clip: r)
            }
            let text = l.line.replacingOccurrences(of: "\n", with: "⏎").replacingOccurrences(of: "\t", with: " ")
            s.put(x, y, text, sel ? base : Style(fg: sev == "error" || sev == "fatal" ? RenderContext.severityColor(sev) : .default), clip: r)
        }
    }

    /// Tempo search results: start, trace id, root service and name, duration with a bar.
    static func traces(_ list: [TraceSummary], in r: Rect, on s: inout Screen, ctx: RenderContext) {
        if list.isEmpty {
            s.put(r.x + max(0, (r.width - 9) / 2), r.y + r.height / 2, "No traces", RenderContext.dim, clip: r)
            return
        }
        let head = Style(attrs: Style.bold | Style.underline)
        let nameW = max(10, r.width - 9 - 17 - 10 - 14 - 4)
        s.put(r.x, r.y, DisplayWidth.pad("Start", to: 9) + DisplayWidth.pad("Trace", to: 17) + DisplayWidth.pad("Service", to: 14)
              + DisplayWidth.pad("Name", to: nameW) + DisplayWidth.padLeft("Duration", to: 10), head, clip: r)
        let maxDur = list.map(\.durationMs).max() ?? 1
        let visible = r.height - 1
        let top = scrollTop(selection: ctx.selection, rows: list.count, visible: visible)
        for i in 0..<min(visible, list.count - top) {
            let t = list[top + i]
            let y = r.y + 1 + i
            let sel = ctx.selection == top + i
            let st: Style = sel ? RenderContext.selected : .plain
            if sel { s.fill(Rect(x: r.x, y: y, width: r.width, height: 1), " ", st) }
            var x = r.x
            x += s.put(x, y, DisplayWidth.pad(ValueFormat.clock(Double(t.startNanos) / 1e9, zone: ctx.zone), to: 9), sel ? st : RenderContext.dim, clip: r)
            x += s.put(x, y, DisplayWidth.pad(String(t.traceID.prefix(16)), to: 17), sel ? st : Style(fg: .cyan), clip: r)
            x += s.put(x, y, DisplayWidth.pad(t.rootService, to: 14), st, clip: r)
            x += s.put(x, y, DisplayWidth.pad(t.rootName, to: nameW), st, clip: r)
            s.put(x, y, DisplayWidth.padLeft(ValueFormat.format(t.durationMs, unit: "ms"), to: 10), st.adding(Style.bold), clip: r)
            x += 10
            if r.maxX - x > 3 {
                ChartWidgets.bar(fraction: t.durationMs / max(maxDur, 1e-9), in: Rect(x: x + 1, y: y, width: r.maxX - x - 1, height: 1),
                                 on: &s, color: Color.palette[2], charset: ctx.charset)
            }
        }
    }

    /// Text content, markdown markers stripped, wrapped to the width.
    static func text(_ content: String, in r: Rect, on s: inout Screen) {
        var y = r.y
        for raw in content.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = String(raw)
            var style = Style.plain
            if line.hasPrefix("#") {
                line = String(line.drop(while: { $0 == "#" })).trimmingCharacters(in: .whitespaces)
                style = Style(attrs: Style.bold)
            }
            line = line.replacingOccurrences(of: "**", with: "").replacingOccurrences(of: "`", with: "")
            for chunk in wrap(line, r.width) {
                guard y < r.maxY else { return }
                s.put(r.x, y, chunk, style, clip: r)
                y += 1
            }
        }
    }

    /// Greedy word wrap by display width.
    static func wrap(_ text: String, _ width: Int) -> [String] {
        guard width > 0 else { return [] }
        if text.isEmpty { return [""] }
        var out: [String] = []
        var cur = ""
        for word in text.split(separator: " ", omittingEmptySubsequences: false) {
            let w = String(word)
            if cur.isEmpty { cur = w } else if DisplayWidth.of(cur) + 1 + DisplayWidth.of(w) <= width { cur += " " + w } else { out.append(cur); cur = w }
            while DisplayWidth.of(cur) > width {
                var head = ""
                for c in cur { if DisplayWidth.of(head) + DisplayWidth.of(c) > width { break }; head.append(c) }
                out.append(head)
                cur = String(cur.dropFirst(head.count))
            }
        }
        out.append(cur)
        return out
    }
}
