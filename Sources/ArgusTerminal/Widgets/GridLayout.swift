/// Places panels on the screen: grid positions from the 24-column grid (explicit `grid`, or
/// automatic flow left to right and then down), columns scaled to the width, grid rows scaled
/// so the dashboard fills the height (row headers stay one line), never below a readable size.
public enum GridLayout {
    /// Grid positions for every panel, in order.
    public static func positions(_ panels: [Panel]) -> [GridPos] {
        var out: [GridPos] = []
        // Automatic flow: the lowest free y at the current x run, like Grafana's packing.
        var colBottom = [Int](repeating: 0, count: 24)
        var cursorX = 0
        for p in panels {
            if let g = p.grid {
                out.append(g)
                for c in g.x..<min(24, g.x + g.w) { colBottom[c] = max(colBottom[c], g.y + g.h) }
                cursorX = g.x + g.w >= 24 ? 0 : g.x + g.w
                continue
            }
            let w = p.type == .row ? 24 : max(1, min(24, p.width))
            let h = p.type == .row ? 1 : max(1, p.height)
            if p.type == .row || cursorX + w > 24 { cursorX = 0 }
            if p.type == .row {
                let y = colBottom.max() ?? 0
                out.append(GridPos(x: 0, y: y, w: 24, h: 1))
                for c in 0..<24 { colBottom[c] = y + 1 }
                cursorX = 0
                continue
            }
            let y = colBottom[cursorX..<(cursorX + w)].max() ?? 0
            out.append(GridPos(x: cursorX, y: y, w: w, h: h))
            for c in cursorX..<(cursorX + w) { colBottom[c] = y + h }
            cursorX += w
            if cursorX >= 24 { cursorX = 0 }
        }
        return out
    }

    /// Screen rectangles for `panels` in `area` (y relative to the top of the content, which
    /// may be taller than the area; the caller scrolls) and the content height.
    public static func rects(_ panels: [Panel], in area: Rect, minPanelRows: Int = 4) -> (rects: [Rect], height: Int) {
        let pos = positions(panels)
        let bottom = pos.map { $0.y + $0.h }.max() ?? 0
        // Grid lines taken by row headers are drawn one screen line each.
        var headerLines = Set<Int>()
        for (p, g) in zip(panels, pos) where p.type == .row { headerLines.insert(g.y) }
        let scalable = max(1, bottom - headerLines.count)
        var f = Double(area.height - headerLines.count) / Double(scalable)
        let smallest = pos.enumerated().filter { panels[$0.offset].type != .row }.map { $0.element.h }.min() ?? 1
        f = max(f, Double(minPanelRows) / Double(smallest))
        f = min(f, 3)
        // Screen line of grid line u: headers above count 1, other units f.
        var lineOf = [Int](repeating: 0, count: bottom + 1)
        var acc = 0.0
        for u in 0..<bottom {
            lineOf[u] = Int(acc.rounded())
            acc += headerLines.contains(u) ? 1 : f
        }
        lineOf[bottom] = Int(acc.rounded())
        let rects = pos.map { g -> Rect in
            let x0 = area.x + g.x * area.width / 24, x1 = area.x + (g.x + g.w) * area.width / 24
            let y0 = lineOf[g.y], y1 = lineOf[min(bottom, g.y + g.h)]
            return Rect(x: x0, y: y0, width: x1 - x0, height: max(1, y1 - y0))
        }
        return (rects, lineOf[bottom])
    }
}
