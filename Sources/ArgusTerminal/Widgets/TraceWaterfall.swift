/// The trace view: a folding span tree on the left, bars on the trace's time axis on the right
/// (coloured by service, errors marked), and the selected span's details below.
enum TraceWaterfall {
    static func serviceColors(_ spans: [TraceSpan]) -> [String: Color] {
        var out: [String: Color] = [:]
        for s in spans where out[s.service] == nil { out[s.service] = Color.palette[out.count % Color.palette.count] }
        return out
    }

    static func render(_ traceID: String, _ load: DashData.Load<[TraceSpan]>?, rows: [TraceTree.Row], selection: Int,
                       in r: Rect, on s: inout Screen, ctx: RenderContext) {
        s.box(r, title: "Trace " + traceID, style: Style(fg: .brightCyan), heavy: true)
        let inner = r.inset(1)
        switch load {
        case nil, .loading?:
            s.put(inner.x + 1, inner.y, "Loading trace…", RenderContext.dim)
            return
        case .failed(let msg)?:
            s.put(inner.x + 1, inner.y, "Cannot load the trace: " + msg, RenderContext.errorStyle, clip: inner)
            return
        case .loaded(let spans)?:
            guard !spans.isEmpty else { s.put(inner.x + 1, inner.y, "The trace has no spans", RenderContext.dim); return }
            let t0 = spans.map(\.startNanos).min()!, t1 = spans.map(\.endNanos).max()!
            let total = max(1, t1 - t0)
            let colors = serviceColors(spans)
            let errors = spans.filter(\.isError).count
            var summary = "\(spans.count) spans · \(colors.count) services · \(ValueFormat.nanos(total))"
            if errors > 0 { summary += " · \(errors) errors" }
            s.put(inner.x, inner.y, summary, Style(attrs: Style.bold), clip: inner)
            let detailH = min(8 + 4, max(4, inner.height / 3))
            let listTop = inner.y + 2
            let listH = inner.height - 2 - detailH
            let treeW = min(inner.width / 2, max(24, inner.width * 2 / 5))
            let barX = inner.x + treeW + 1, barW = inner.maxX - barX - 9
            // Time axis header.
            s.put(inner.x, inner.y + 1, DisplayWidth.pad("Span", to: treeW), Style(attrs: Style.underline))
            if barW > 10 {
                s.put(barX, inner.y + 1, "0", RenderContext.dim)
                let mid = ValueFormat.nanos(total / 2), end = ValueFormat.nanos(total)
                s.put(barX + (barW - mid.count) / 2, inner.y + 1, mid, RenderContext.dim)
                s.put(barX + barW - end.count, inner.y + 1, end, RenderContext.dim)
            }
            let top = ListWidgets.scrollTop(selection: selection, rows: rows.count, visible: listH)
            for i in 0..<max(0, min(listH, rows.count - top)) {
                let row = rows[top + i]
                let sp = row.span
                let y = listTop + i
                let sel = top + i == selection
                if sel { s.fill(Rect(x: inner.x, y: y, width: inner.width, height: 1), " ", RenderContext.selected) }
                let base: Style = sel ? RenderContext.selected : .plain
                let marker = row.childCount == 0 ? "  " : row.folded ? (ctx.charset == .ascii ? "+ " : "▸ ") : (ctx.charset == .ascii ? "- " : "▾ ")
                var x = inner.x + min(row.depth * 2, treeW / 2)
                x += s.put(x, y, marker, base)
                if sp.isError { x += s.put(x, y, ctx.charset == .ascii ? "! " : "✖ ", sel ? base : RenderContext.errorStyle.adding(Style.bold)) }
                x += s.put(x, y, sp.service + " ", sel ? base : Style(fg: colors[sp.service] ?? .default), maxWidth: inner.x + treeW - x)
                s.put(x, y, sp.name, base, maxWidth: max(0, inner.x + treeW - x))
                if barW > 4 {
                    let a = Int(Double(sp.startNanos - t0) / Double(total) * Double(barW))
                    let b = max(a + 1, Int((Double(sp.endNanos - t0) / Double(total) * Double(barW)).rounded()))
                    let color = sp.isError ? RenderContext.errorStyle.fg : (colors[sp.service] ?? .default)
                    for bx in a..<min(barW, b) { s.put(barX + bx, y, ctx.charset.full, Style(fg: color, bg: sel ? .gray : .default)) }
                    s.put(inner.maxX - 8, y, DisplayWidth.padLeft(ValueFormat.nanos(sp.durationNanos), to: 8), base)
                }
            }
            // Details of the selected span.
            let dy = inner.maxY - detailH
            s.put(inner.x, dy, String(repeating: ctx.charset.horizontal, count: inner.width), RenderContext.dim)
            guard rows.indices.contains(selection) else { return }
            let sp = rows[selection].span
            var lines: [(String, Style)] = [
                ("\(sp.service) · \(sp.name)" + (sp.kind.isEmpty ? "" : " · \(sp.kind)"), Style(fg: colors[sp.service] ?? .default, attrs: Style.bold)),
                ("span \(sp.spanID)  parent \(sp.parentID.isEmpty ? "-" : sp.parentID)  start +\(ValueFormat.nanos(sp.startNanos - t0))  duration \(ValueFormat.nanos(sp.durationNanos))", .plain),
                ("status " + (sp.statusCode == 2 ? "ERROR" : sp.statusCode == 1 ? "OK" : "UNSET") + (sp.statusMessage.isEmpty ? "" : ": " + sp.statusMessage),
                 sp.isError ? RenderContext.errorStyle.adding(Style.bold) : .plain),
            ]
            for (k, v) in sp.attributes { lines.append(("  \(k) = \(v)", RenderContext.dim)) }
            for (i, l) in lines.prefix(detailH - 1).enumerated() { s.put(inner.x, dy + 1 + i, l.0, l.1, clip: inner) }
        }
    }
}
