import ArgusModel
import ArgusStorage

extension PromQLEvaluator {
    // MARK: - Instant vector selectors

    /// `name{matchers} offset o @ t` at every point of `grid`: the newest sample in
    /// `(ref - lookbackDelta, ref]` with `ref = time - o` (or `t - o` with `@`), unless that sample
    /// is a staleness marker. With `timestamps`, a point's value is its sample's timestamp in
    /// seconds (for `timestamp()`).
    func evalVectorSelector(_ sel: Expr.VectorSelector, _ grid: PromQLGrid, timestamps: Bool = false) throws -> GridVector {
        var out = GridVector(steps: grid.count)
        guard grid.count > 0 else { return out }
        let lookback = options.lookbackDelta
        let fixed = atTime(sel.at).map { $0 &- sel.offset }
        let firstRef = fixed ?? (grid.start &- sel.offset)
        let lastRef = fixed ?? (grid.end &- sel.offset)
        let set = try metricStore().querier(mint: firstRef &- lookback &+ 1, maxt: lastRef).select(sel.matchers)
        var row = [Double](repeating: Absent.value, count: grid.count)
        while let s = set.next() {
            try checkDeadline()
            samplesRead += s.timestamps.count
            var present = 0
            s.timestamps.withUnsafeBufferPointer { ts in
                s.values.withUnsafeBufferPointer { vs in
                    row.withUnsafeMutableBufferPointer { out in
                        let n = ts.count
                        if let ref = fixed {
                            let v = Self.sampleAt(ts, vs, ref: ref, lookback: lookback, timestamps: timestamps)
                            for j in 0..<out.count { out[j] = v }
                            if !Absent.check(v) { present = out.count }
                            return
                        }
                        var p = 0
                        for j in 0..<out.count {
                            let ref = grid.time(j) &- sel.offset
                            while p < n && ts[p] <= ref { p &+= 1 }
                            var v = Absent.value
                            if p > 0 {
                                let k = p &- 1
                                let x = vs[k]
                                if ts[k] > ref &- lookback && !StaleNaN.isStale(x) {
                                    v = timestamps ? Double(ts[k]) / 1000 : Absent.normalize(x)
                                    present &+= 1
                                }
                            }
                            out[j] = v
                        }
                    }
                }
            }
            if present > 0 {
                try account(present)
                try checkCells(rows: out.rowCount + 1, steps: grid.count)
                row.withUnsafeBufferPointer { out.addRow(s.labels, $0) }
            }
        }
        if let error = set.error { throw ArgusError(.execution, "expanding series: \(error)", cause: error) }
        return out
    }

    /// The value an instant selector sees at `ref`, or `Absent.value`.
    @inline(__always)
    static func sampleAt(_ ts: UnsafeBufferPointer<Int64>, _ vs: UnsafeBufferPointer<Double>, ref: Int64,
                         lookback: Int64, timestamps: Bool) -> Double {
        // The last index with ts <= ref.
        var lo = 0, hi = ts.count
        while lo < hi {
            let mid = (lo &+ hi) >> 1
            if ts[mid] <= ref { lo = mid &+ 1 } else { hi = mid }
        }
        guard lo > 0 else { return Absent.value }
        let k = lo &- 1
        let x = vs[k]
        if ts[k] <= ref &- lookback || StaleNaN.isStale(x) { return Absent.value }
        return timestamps ? Double(ts[k]) / 1000 : Absent.normalize(x)
    }

    // MARK: - Range vectors

    /// Where a range-vector argument's windows end: at `time(i) - offset`, or at the fixed
    /// `@` time minus offset for every step.
    struct RangeWindows {
        let range: Int64
        let offset: Int64
        /// The window end when an `@` modifier pins it.
        let fixedEnd: Int64?

        @inline(__always) func end(_ grid: PromQLGrid, _ i: Int) -> Int64 {
            fixedEnd ?? (grid.time(i) &- offset)
        }
    }

    /// The grid a subquery evaluates its expression on for an outer `grid`: from the first
    /// multiple of the step after `start - offset - range` up to `end - offset` (with `@`, both
    /// ends taken at the pinned time).
    func subqueryGrid(_ sq: Expr.Subquery, outer grid: PromQLGrid) -> PromQLGrid {
        let step = max(1, sq.step ?? options.defaultSubqueryStep)
        let endRef: Int64
        let startRef: Int64
        if let at = atTime(sq.at) {
            endRef = at &- sq.offset
            startRef = endRef
        } else {
            endRef = grid.end &- sq.offset
            startRef = grid.start &- sq.offset
        }
        let lowest = startRef &- sq.range
        var start = step &* (lowest / step)
        if start <= lowest { start &+= step }
        return PromQLGrid(start: start, end: endRef, step: step)
    }

    /// Calls `body` with each series of a range-vector expression (a matrix selector or a
    /// subquery, parentheses allowed) with the points `body` may need for windows on `grid`, in
    /// time order, staleness markers removed. Returns how the windows are placed.
    func forEachRangeSeries(_ expr: Expr, _ grid: PromQLGrid,
                            _ body: (Labels, UnsafeBufferPointer<Int64>, UnsafeBufferPointer<Double>) throws -> Void) throws -> RangeWindows {
        switch expr {
        case .paren(let p):
            return try forEachRangeSeries(p.expr, grid, body)
        case .matrixSelector(let m):
            let sel = m.vectorSelector
            let windows = RangeWindows(range: m.range, offset: sel.offset, fixedEnd: atTime(sel.at).map { $0 &- sel.offset })
            guard grid.count > 0 else { return windows }
            let lastEnd = windows.end(grid, grid.count - 1)
            let firstEnd = windows.end(grid, 0)
            let set = try metricStore().querier(mint: firstEnd &- m.range &+ 1, maxt: lastEnd).select(sel.matchers)
            var ts: [Int64] = []
            var vs: [Double] = []
            while let s = set.next() {
                try checkDeadline()
                samplesRead += s.timestamps.count
                var clean = true
                for v in s.values where StaleNaN.isStale(v) || Absent.check(v) {
                    clean = false
                    break
                }
                if clean {
                    try s.timestamps.withUnsafeBufferPointer { t in
                        try s.values.withUnsafeBufferPointer { v in try body(s.labels, t, v) }
                    }
                    continue
                }
                ts.removeAll(keepingCapacity: true)
                vs.removeAll(keepingCapacity: true)
                for k in s.timestamps.indices where !StaleNaN.isStale(s.values[k]) {
                    ts.append(s.timestamps[k])
                    vs.append(Absent.normalize(s.values[k]))
                }
                try ts.withUnsafeBufferPointer { t in
                    try vs.withUnsafeBufferPointer { v in try body(s.labels, t, v) }
                }
            }
            if let error = set.error { throw ArgusError(.execution, "expanding series: \(error)", cause: error) }
            return windows
        case .subquery(let sq):
            let windows = RangeWindows(range: sq.range, offset: sq.offset, fixedEnd: atTime(sq.at).map { $0 &- sq.offset })
            let inner = subqueryGrid(sq, outer: grid)
            guard grid.count > 0, inner.count > 0 else { return windows }
            let iv = try evalVector(sq.expr, inner)
            var ts: [Int64] = []
            var vs: [Double] = []
            ts.reserveCapacity(inner.count)
            vs.reserveCapacity(inner.count)
            for r in 0..<iv.rowCount {
                try checkDeadline()
                ts.removeAll(keepingCapacity: true)
                vs.removeAll(keepingCapacity: true)
                for j in 0..<inner.count {
                    let x = iv[r, j]
                    if !Absent.check(x) {
                        ts.append(inner.time(j))
                        vs.append(x)
                    }
                }
                if ts.isEmpty { continue }
                try ts.withUnsafeBufferPointer { t in
                    try vs.withUnsafeBufferPointer { vb in try body(iv.labels[r], t, vb) }
                }
            }
            return windows
        default:
            throw ArgusError(.execution, "expected a range vector, got \(expr)")
        }
    }

    /// How the windows of a range-vector expression (matrix selector or subquery) are placed.
    func rangeWindows(_ expr: Expr) throws -> RangeWindows {
        switch expr {
        case .paren(let p): return try rangeWindows(p.expr)
        case .matrixSelector(let m):
            let sel = m.vectorSelector
            return RangeWindows(range: m.range, offset: sel.offset, fixedEnd: atTime(sel.at).map { $0 &- sel.offset })
        case .subquery(let sq):
            return RangeWindows(range: sq.range, offset: sq.offset, fixedEnd: atTime(sq.at).map { $0 &- sq.offset })
        default:
            throw ArgusError(.execution, "expected a range vector, got \(expr)")
        }
    }

    /// A range-vector expression evaluated at `time` (an instant query such as `foo[5m]`): each
    /// series' points in `(time - offset - range, time - offset]`.
    func evalMatrixExpr(_ expr: Expr, at time: Int64) throws -> [RangeSeries] {
        let grid = PromQLGrid(start: time, end: time, step: 1)
        let windows = try rangeWindows(expr)
        let end = windows.end(grid, 0)
        let startExclusive = end &- windows.range
        var out: [RangeSeries] = []
        _ = try forEachRangeSeries(expr, grid) { labels, ts, vs in
            var lo = 0
            while lo < ts.count && ts[lo] <= startExclusive { lo &+= 1 }
            var hi = lo
            while hi < ts.count && ts[hi] <= end { hi &+= 1 }
            if hi > lo {
                try account(hi - lo)
                out.append(RangeSeries(labels: labels, ts: Array(ts[lo..<hi]), vs: Array(vs[lo..<hi])))
            }
        }
        return out
    }
}

extension PromQLEvaluator {
    func metricStore() throws -> MetricStore {
        guard let store else { throw ArgusError(.execution, "this query has no metric store to read series from") }
        return store
    }
}
