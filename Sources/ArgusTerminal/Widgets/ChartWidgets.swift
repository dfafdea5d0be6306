import Foundation

/// Time series, stat, gauge, bar gauge and heatmap panels.
enum ChartWidgets {
    /// A line chart with a y axis, a time axis, threshold lines, exemplar marks and a legend
    /// with last/min/max.
    static func timeseries(_ panel: Panel, _ series: [SeriesData], exemplars: [ExemplarPoint], in r: Rect, on s: inout Screen,
                           ctx: RenderContext, selectedExemplar: Int? = nil) {
        let shown = series.filter { ctx.matches($0.name) }
        if shown.isEmpty || shown.allSatisfy({ $0.values.isEmpty }) {
            s.put(r.x + max(0, (r.width - 7) / 2), r.y + r.height / 2, "No data", RenderContext.dim, clip: r)
            return
        }
        // Legend: one line per series, as many as fit in a third of the height.
        let legendRows = min(shown.count, max(1, r.height / 3))
        let chartH = r.height - legendRows - 1
        guard chartH >= 2 else { return }
        var lo = panel.min ?? shown.compactMap(\.min).min() ?? 0
        var hi = panel.max ?? shown.compactMap(\.max).max() ?? 1
        if panel.min == nil, lo > 0, lo < hi * 0.5 { lo = 0 }
        if lo == hi { lo -= lo == 0 ? 0 : abs(lo) * 0.1; hi += hi == 0 ? 1 : abs(hi) * 0.1 }
        let labels = [hi, (hi + lo) / 2, lo].map { ValueFormat.format($0, unit: panel.unit, decimals: panel.decimals) }
        let axisW = min(max(4, labels.map { DisplayWidth.of($0) }.max() ?? 4), r.width / 3)
        let plotX = r.x + axisW + 1
        let plotW = r.maxX - plotX
        guard plotW >= 4 else { return }
        for (i, l) in labels.enumerated() {
            let y = i == 0 ? r.y : i == 1 ? r.y + (chartH - 1) / 2 : r.y + chartH - 1
            s.put(r.x, y, DisplayWidth.padLeft(l, to: axisW), RenderContext.dim)
        }
        for y in r.y..<(r.y + chartH) { s.put(plotX - 1, y, ctx.charset == .ascii ? "|" : "│", RenderContext.dim) }
        var canvas = Canvas(cols: plotW, rows: chartH, charset: ctx.charset)
        let span = max(ctx.end - ctx.start, 1e-9)
        func px(_ t: Double) -> Int { Int(((t - ctx.start) / span * Double(canvas.dotWidth - 1)).rounded()) }
        func py(_ v: Double) -> Int { canvas.dotHeight - 1 - Int(((v - lo) / (hi - lo) * Double(canvas.dotHeight - 1)).rounded()) }
        // Thresholds (after the base step) as dotted lines.
        for t in panel.thresholds {
            guard let v = t.value, v > lo, v < hi else { continue }
            let y = py(v)
            var x = 0
            while x < canvas.dotWidth { canvas.set(x, y, t.color); x += 3 }
        }
        for (i, ser) in shown.enumerated() {
            let color = Color.palette[i % Color.palette.count]
            var last: (Int, Int)?
            for k in ser.times.indices {
                let v = ser.values[k]
                guard v.isFinite else { last = nil; continue }
                let p = (px(ser.times[k]), py(v))
                if let l = last { canvas.line(l.0, l.1, p.0, p.1, color) } else { canvas.set(p.0, p.1, color) }
                last = p
            }
        }
        canvas.draw(on: &s, x: plotX, y: r.y)
        // Exemplars: a diamond at the cell of each.
        let marks = exemplars.filter { $0.traceID != nil && $0.time >= ctx.start && $0.time <= ctx.end }
        for (i, e) in marks.enumerated() {
            let cx = plotX + px(e.time) / ctx.charset.resolution.x
            let cy = r.y + max(0, min(canvas.dotHeight - 1, py(e.value))) / ctx.charset.resolution.y
            let st = i == selectedExemplar ? Style(fg: .black, bg: .brightYellow, attrs: Style.bold) : Style(fg: .brightYellow, attrs: Style.bold)
            s.put(cx, cy, ctx.charset == .ascii ? "*" : "◆", st, clip: Rect(x: plotX, y: r.y, width: plotW, height: chartH))
        }
        // Time axis.
        let axisY = r.y + chartH
        let left = ValueFormat.clock(ctx.start, zone: ctx.zone, seconds: false), right = ValueFormat.clock(ctx.end, zone: ctx.zone, seconds: false)
        s.put(plotX, axisY, left, RenderContext.dim)
        if plotW > 20 {
            let mid = ValueFormat.clock((ctx.start + ctx.end) / 2, zone: ctx.zone, seconds: false)
            s.put(plotX + (plotW - mid.count) / 2, axisY, mid, RenderContext.dim)
        }
        s.put(r.maxX - right.count, axisY, right, RenderContext.dim)
        // Legend, with last/min/max when the panel is wide enough for them.
        func f(_ v: Double?) -> String { v.map { ValueFormat.format($0, unit: panel.unit, decimals: panel.decimals) } ?? "-" }
        let stats = shown.prefix(legendRows).map { [f($0.last), f($0.min), f($0.max)] }
        let valueW = stats.flatMap { $0 }.map { DisplayWidth.of($0) }.max() ?? 1
        let statsW = 3 * (valueW + 6)
        let showStats = r.width >= statsW + 16
        for i in 0..<legendRows {
            let ser = shown[i]
            let y = axisY + 1 + i
            let color = Color.palette[i % Color.palette.count]
            s.put(r.x, y, ctx.charset == .ascii ? "--" : "━━", Style(fg: color))
            if i == legendRows - 1, shown.count > legendRows {
                s.put(r.x + 3, y, "+\(shown.count - legendRows + 1) more series", RenderContext.dim, clip: r)
                continue
            }
            let nameW = showStats ? r.width - 4 - statsW : r.width - 3
            s.put(r.x + 3, y, DisplayWidth.truncate(ser.name, to: nameW), .plain, clip: r)
            if showStats {
                let st = stats[i]
                let text = " last " + DisplayWidth.padLeft(st[0], to: valueW) + " min " + DisplayWidth.padLeft(st[1], to: valueW)
                    + " max " + DisplayWidth.padLeft(st[2], to: valueW)
                s.put(r.maxX - statsW, y, text, RenderContext.dim, clip: r)
            }
        }
    }

    /// Big value with threshold colour and a sparkline under it.
    static func stat(_ panel: Panel, _ series: [SeriesData], in r: Rect, on s: inout Screen, ctx: RenderContext) {
        let shown = series.filter { ctx.matches($0.name) }
        guard let first = shown.first, let v = first.last else {
            s.put(r.x + max(0, (r.width - 7) / 2), r.y + r.height / 2, "No data", RenderContext.dim, clip: r)
            return
        }
        let color = panel.thresholdColor(v) ?? Color.palette[0]
        let text = ValueFormat.format(v, unit: panel.unit, decimals: panel.decimals)
        let valueY = r.y + max(0, (r.height - (r.height >= 3 ? 2 : 1)) / 2)
        s.put(r.x + max(0, (r.width - DisplayWidth.of(text)) / 2), valueY, text, Style(fg: color, attrs: Style.bold), clip: r)
        if shown.count > 1, r.height >= 4 {
            let more = "\(shown.count) series: \(first.name)"
            s.put(r.x + max(0, (r.width - DisplayWidth.of(more)) / 2), r.y, DisplayWidth.truncate(more, to: r.width), RenderContext.dim, clip: r)
        }
        // Sparkline on the rows below the value.
        let sparkY = valueY + 1
        guard sparkY < r.maxY, first.values.count > 1 else { return }
        sparkline(first.values, in: Rect(x: r.x, y: sparkY, width: r.width, height: r.maxY - sparkY), on: &s, color: color, charset: ctx.charset)
    }

    /// Vertical bars of the values resampled to the width, eight levels per row.
    static func sparkline(_ values: [Double], in r: Rect, on s: inout Screen, color: Color, charset: Charset) {
        guard r.width > 0, r.height > 0, !values.isEmpty else { return }
        let finite = values.filter(\.isFinite)
        guard let lo = finite.min(), let hi = finite.max() else { return }
        let levels = charset.levels
        for col in 0..<r.width {
            let idx = min(values.count - 1, col * values.count / r.width)
            let v = values[idx]
            guard v.isFinite else { continue }
            let frac = hi == lo ? 0.5 : (v - lo) / (hi - lo)
            var eighths = Int((frac * Double(r.height * 8)).rounded())
            eighths = max(1, eighths)
            for row in 0..<r.height {
                let fromBottom = row * 8
                let level = max(0, min(8, eighths - fromBottom))
                if level == 0 { break }
                s.put(r.x + col, r.maxY - 1 - row, levels[level], Style(fg: color, attrs: Style.dim))
            }
        }
    }

    static func gaugeRange(_ panel: Panel) -> (Double, Double) {
        let lo = panel.min ?? 0
        let hi = panel.max ?? (panel.unit == "percentunit" ? 1 : 100)
        return (lo, hi > lo ? hi : lo + 1)
    }

    /// A value over a bar from min to max (default 0–100, or 0–1 for percentunit).
    static func gauge(_ panel: Panel, _ samples: [VectorSample], in r: Rect, on s: inout Screen, ctx: RenderContext) {
        guard let first = samples.first(where: { ctx.matches($0.name) }) else {
            s.put(r.x + max(0, (r.width - 7) / 2), r.y + r.height / 2, "No data", RenderContext.dim, clip: r)
            return
        }
        let v = first.value
        let (lo, hi) = gaugeRange(panel)
        let color = panel.thresholdColor(v) ?? Color.palette[0]
        let text = ValueFormat.format(v, unit: panel.unit, decimals: panel.decimals)
        let y = r.y + max(0, (r.height - 2) / 2)
        s.put(r.x + max(0, (r.width - DisplayWidth.of(text)) / 2), y, text, Style(fg: color, attrs: Style.bold), clip: r)
        if y + 1 < r.maxY {
            bar(fraction: (v - lo) / (hi - lo), in: Rect(x: r.x + 1, y: y + 1, width: r.width - 2, height: 1), on: &s, color: color, charset: ctx.charset)
        }
    }

    /// A horizontal bar filled to `fraction` (clamped to 0…1), the rest shaded.
    static func bar(fraction: Double, in r: Rect, on s: inout Screen, color: Color, charset: Charset) {
        guard r.width > 0 else { return }
        let f = fraction.isFinite ? max(0, min(1, fraction)) : 0
        let filled = Int((f * Double(r.width)).rounded())
        for x in 0..<r.width {
            if x < filled { s.put(r.x + x, r.y, charset.full, Style(fg: color)) } else { s.put(r.x + x, r.y, charset == .ascii ? "." : "░", RenderContext.dim) }
        }
    }

    /// One bar per series: name, bar, value.
    static func barGauge(_ panel: Panel, _ samples: [VectorSample], in r: Rect, on s: inout Screen, ctx: RenderContext) {
        let shown = samples.filter { ctx.matches($0.name) }
        if shown.isEmpty {
            s.put(r.x + max(0, (r.width - 7) / 2), r.y + r.height / 2, "No data", RenderContext.dim, clip: r)
            return
        }
        let (lo, defaultHi) = gaugeRange(panel)
        let hi = panel.max ?? max(defaultHi == 100 ? (shown.map(\.value).max() ?? 1) : defaultHi, lo + 1e-9)
        let nameW = min(r.width / 3, shown.map { DisplayWidth.of($0.name) }.max() ?? 0)
        let values = shown.map { ValueFormat.format($0.value, unit: panel.unit, decimals: panel.decimals) }
        let valueW = values.map { DisplayWidth.of($0) }.max() ?? 0
        for (i, smp) in shown.prefix(r.height).enumerated() {
            let y = r.y + i
            let color = panel.thresholdColor(smp.value) ?? Color.palette[i % Color.palette.count]
            s.put(r.x, y, DisplayWidth.pad(smp.name, to: nameW), .plain)
            bar(fraction: (smp.value - lo) / (hi - lo), in: Rect(x: r.x + nameW + 1, y: y, width: r.width - nameW - valueW - 2, height: 1),
                on: &s, color: color, charset: ctx.charset)
            s.put(r.maxX - valueW, y, DisplayWidth.padLeft(values[i], to: valueW), Style(fg: color, attrs: Style.bold))
        }
    }

    /// Histogram buckets over time: `le` series (cumulative, as `rate(x_bucket[…])` returns
    /// them) become per-bucket counts; darker to brighter cells for more.
    static func heatmap(_ panel: Panel, _ series: [SeriesData], in r: Rect, on s: inout Screen, ctx: RenderContext) {
        // Sum series with the same le (other labels merged), sorted by bound.
        var byLE: [Double: [Double: Double]] = [:]
        for ser in series where ctx.matches(ser.name) {
            guard let leText = ser.labels["le"], let le = PromDecoder.number(leText) else { continue }
            for (t, v) in zip(ser.times, ser.values) where v.isFinite { byLE[le, default: [:]][t, default: 0] += v }
        }
        let bounds = byLE.keys.sorted()
        guard !bounds.isEmpty, r.width > 8, r.height > 2 else {
            s.put(r.x + 1, r.y + r.height / 2, "No histogram buckets (series need an le label)", RenderContext.dim, clip: r)
            return
        }
        let times = Set(byLE.values.flatMap(\.keys)).sorted()
        // Per-bucket counts: cumulative minus the bucket below.
        var grid = [[Double]](repeating: [Double](repeating: 0, count: times.count), count: bounds.count)
        for (bi, b) in bounds.enumerated() {
            for (ti, t) in times.enumerated() {
                let cum = byLE[b]?[t] ?? 0
                let below = bi > 0 ? byLE[bounds[bi - 1]]?[t] ?? 0 : 0
                grid[bi][ti] = max(0, cum - below)
            }
        }
        let rows = min(bounds.count, r.height - 1)
        let labelW = 7
        let plotW = r.width - labelW - 1
        let maxCount = grid.flatMap { $0 }.max() ?? 0
        let shades = ctx.charset == .ascii ? [" ", ".", ":", "+", "#"] : [" ", "░", "▒", "▓", "█"]
        // Show the top `rows` buckets by index spread evenly over all bounds.
        for row in 0..<rows {
            let bi = bounds.count - 1 - row * bounds.count / rows
            let y = r.y + row
            let le = bounds[bi]
            s.put(r.x, y, DisplayWidth.padLeft(le.isInfinite ? "+Inf" : ValueFormat.format(le, unit: panel.unit), to: labelW), RenderContext.dim)
            for col in 0..<plotW {
                let ti = min(times.count - 1, col * times.count / max(1, plotW))
                let v = grid[bi][ti]
                guard maxCount > 0, v > 0 else { continue }
                let f = v / maxCount
                let level = max(1, min(4, Int((f * 4).rounded(.up))))
                // 256-colour ramp from dark blue to yellow.
                let ramp: [UInt8] = [17, 24, 30, 71, 148, 184, 226]
                let c = Color.indexed(ramp[min(ramp.count - 1, Int(f * Double(ramp.count - 1)))])
                s.put(r.x + labelW + 1 + col, y, shades[level], Style(fg: c))
            }
        }
        let axisY = r.y + rows
        s.put(r.x + labelW + 1, axisY, ValueFormat.clock(ctx.start, zone: ctx.zone, seconds: false), RenderContext.dim)
        let right = ValueFormat.clock(ctx.end, zone: ctx.zone, seconds: false)
        s.put(r.maxX - right.count, axisY, right, RenderContext.dim)
    }
}
