import ArgusModel
import ArgusStorage

/// Evaluates one PromQL query. Single use, not thread-safe.
///
/// Every node is evaluated once over all points of its grid (the query's steps, or a subquery's),
/// producing a dense `GridVector` (or a scalar column). Selectors read storage once for the whole
/// time range their grid needs, one series at a time. `samples` counts the points held in memory
/// (results of nodes still needed, plus the window being processed) against `maxSamples`.
final class PromQLEvaluator {
    /// The metric store selectors read; nil when every selector is a leaf of `leafSource`.
    let store: MetricStore?
    /// Supplies the values of selectors that stand for something else (LogQL's range
    /// aggregations); nil answers fall through to the store.
    var leafSource: ((Expr.VectorSelector, PromQLGrid) throws -> GridVector?)?
    let options: PromQLEngineOptions
    /// The query's start and end, which `@ start()` and `@ end()` refer to at any depth.
    let queryStart: Int64
    let queryEnd: Int64
    let rootGrid: PromQLGrid
    let isInstant: Bool
    let deadline: UInt64
    var annotations = PromQLAnnotations()
    /// Points currently held; never above `options.maxSamples`.
    var samples = 0
    /// Samples read from storage by the selectors (for statistics).
    var samplesRead = 0
    /// Scratch space for sorting window values (quantile_over_time, mad_over_time).
    var scratch: [Double] = []
    /// The query's text, for messages that quote parts of it.
    var queryText = ""
    /// The most grid cells (present or not) the rows of one result may take: results are dense
    /// over their steps, so sparse data costs more memory than its points; this bounds it.
    let maxCells: Int

    static let sameLabelsetError = ArgusError(.execution, "vector cannot contain metrics with the same labelset")
    static let tooManySamplesError = ArgusError(
        .execution, "query processing would load too many samples into memory in query execution")

    /// A node's value over its grid.
    enum Value {
        case scalar([Double])
        case string(String)
        case vector(GridVector)
        case matrix([RangeSeries])

        var pointCount: Int {
            switch self {
            case .scalar(let s): return s.count
            case .string: return 0
            case .vector(let v): return v.pointCount
            case .matrix(let m): return m.reduce(0) { $0 + $1.ts.count }
            }
        }
    }

    /// One series of a range vector: its points in a window, stale markers removed.
    struct RangeSeries {
        var labels: Labels
        var ts: [Int64]
        var vs: [Double]
    }

    init(store: MetricStore?, options: PromQLEngineOptions, start: Int64, end: Int64, step: Int64, isInstant: Bool) {
        self.store = store
        self.options = options
        queryStart = start
        queryEnd = end
        rootGrid = PromQLGrid(start: start, end: end, step: step)
        self.isInstant = isInstant
        maxCells = options.maxSamples.multipliedReportingOverflow(by: 4).overflow ? Int.max : options.maxSamples * 4
        let timeout = max(0, options.timeout)
        let nanos = timeout >= 1e9 ? UInt64.max / 2 : UInt64(timeout * 1e9)
        deadline = TimeUtil.monotonicNanos() &+ nanos
    }

    // MARK: - Entry

    /// Evaluates the whole query and converts the result to the API's shapes.
    func run(_ expr: Expr) throws -> PromQLValue {
        if isInstant, expr.type == .matrix {
            let series = try evalMatrixExpr(expr, at: queryStart)
            return .matrix(series.filter { !$0.ts.isEmpty }.map { s in
                PromQLSeries(labels: s.labels, samples: zip(s.ts, s.vs).map { (t: $0, v: $1) })
            })
        }
        let value = try eval(expr, rootGrid)
        let t = queryStart
        switch value {
        case .scalar(let s):
            if isInstant { return .scalar(t: t, v: s.first ?? .nan) }
            var points: [(t: Int64, v: Double)] = []
            points.reserveCapacity(s.count)
            for (i, v) in s.enumerated() { points.append((t: rootGrid.time(i), v: v)) }
            return .matrix([PromQLSeries(labels: Labels(), samples: points)])
        case .string(let s):
            return .string(t: t, v: s)
        case .vector(let v):
            if isInstant {
                var out: [PromQLSample] = []
                out.reserveCapacity(v.rowCount)
                for r in 0..<v.rowCount where v.steps > 0 {
                    let x = v[r, 0]
                    if !Absent.check(x) { out.append(PromQLSample(labels: v.labels[r], t: t, v: x)) }
                }
                return .vector(out)
            }
            var out: [PromQLSeries] = []
            for r in 0..<v.rowCount {
                var points: [(t: Int64, v: Double)] = []
                for j in 0..<v.steps {
                    let x = v[r, j]
                    if !Absent.check(x) { points.append((t: rootGrid.time(j), v: x)) }
                }
                if !points.isEmpty { out.append(PromQLSeries(labels: v.labels[r], samples: points)) }
            }
            out.sort { compareLabels($0.labels, $1.labels) < 0 }
            return .matrix(out)
        case .matrix(let m):
            return .matrix(m.map { s in PromQLSeries(labels: s.labels, samples: zip(s.ts, s.vs).map { (t: $0, v: $1) }) })
        }
    }

    // MARK: - Limits

    @inline(__always)
    func account(_ n: Int) throws {
        samples &+= n
        if samples > options.maxSamples { throw Self.tooManySamplesError }
    }

    func checkDeadline() throws {
        if TimeUtil.monotonicNanos() >= deadline {
            throw ArgusError(.timeout, "query timed out in expression evaluation")
        }
        if Task.isCancelled {
            throw ArgusError(.timeout, "query was canceled in expression evaluation")
        }
    }

    // MARK: - Dispatch

    /// Evaluates `expr` on `grid`. The points of the children are released when the node is done;
    /// the node's own result stays counted until its parent finishes.
    func eval(_ expr: Expr, _ grid: PromQLGrid) throws -> Value {
        try checkDeadline()
        if grid.count > options.maxSamples { throw Self.tooManySamplesError }
        let before = samples
        let value = try evalNode(expr, grid)
        samples = before
        try account(value.pointCount)
        return value
    }

    private func evalNode(_ expr: Expr, _ grid: PromQLGrid) throws -> Value {
        switch expr {
        case .number(let n):
            return .scalar([Double](repeating: n.value, count: grid.count))
        case .string(let s):
            return .string(s.value)
        case .paren(let p):
            return try evalNode(p.expr, grid)
        case .vectorSelector(let v):
            if let leafSource, let leaf = try leafSource(v, grid) { return .vector(leaf) }
            return .vector(try evalVectorSelector(v, grid))
        case .matrixSelector, .subquery:
            throw ArgusError(.execution, "range vector \(expr) can only be evaluated as a function argument or an instant query")
        case .unary(let u):
            return try evalUnary(u, grid)
        case .binary(let b):
            return try evalBinary(b, grid)
        case .aggregate(let a):
            return .vector(try evalAggregate(a, grid))
        case .call(let c):
            return try evalCall(c, grid)
        }
    }

    func evalVector(_ expr: Expr, _ grid: PromQLGrid) throws -> GridVector {
        guard case .vector(let v) = try eval(expr, grid) else {
            throw ArgusError(.execution, "expected an instant vector from \(expr)")
        }
        return v
    }

    func evalScalar(_ expr: Expr, _ grid: PromQLGrid) throws -> [Double] {
        guard case .scalar(let s) = try eval(expr, grid) else {
            throw ArgusError(.execution, "expected a scalar from \(expr)")
        }
        return s
    }

    /// The time an `@` modifier pins evaluation to.
    func atTime(_ at: Expr.AtModifier?) -> Int64? {
        switch at {
        case .none: return nil
        case .timestamp(let t): return t
        case .start: return queryStart
        case .end: return queryEnd
        }
    }

    // MARK: - Unary

    private func evalUnary(_ u: Expr.Unary, _ grid: PromQLGrid) throws -> Value {
        let inner = try eval(u.expr, grid)
        if u.op == .plus { return inner }
        switch inner {
        case .scalar(var s):
            for i in s.indices { s[i] = -s[i] }
            return .scalar(s)
        case .vector(let v):
            return .vector(try mapVector(v, dropName: true) { x, _ in -x })
        default:
            throw ArgusError(.execution, "unary minus on a non-numeric value")
        }
    }

    /// Applies `f` to every present point (`f` returns `Absent.value` to drop one), dropping the
    /// metric name when asked; series that end up with the same labels merge, and two values for
    /// the same labels at one step are an error.
    @inline(__always)
    func mapVector(_ v: GridVector, dropName: Bool, _ f: (Double, Int) -> Double) throws -> GridVector {
        let steps = v.steps
        if !dropName || sharesOneName(v.labels) {
            // Rows stay distinct: transform in place.
            var out = v
            if dropName { out.labels = v.labels.map { $0.metricName == nil ? $0 : $0.withoutMetricName } }
            out.values.withUnsafeMutableBufferPointer { buffer in
                for r in 0..<v.rowCount {
                    let base = r &* steps
                    for j in 0..<steps {
                        let x = buffer[base &+ j]
                        if !Absent.check(x) { buffer[base &+ j] = f(x, j) }
                    }
                }
            }
            return out
        }
        let (builder, rowMap, _) = relabel(v.labels, steps: steps) { $0.withoutMetricName }
        var b = builder
        for r in 0..<v.rowCount {
            let o = rowMap[r]
            for j in 0..<steps {
                let x = v[r, j]
                if Absent.check(x) { continue }
                let y = f(x, j)
                if Absent.check(y) { continue }
                try b.set(o, j, y)
            }
        }
        return b.out
    }

    /// Throws the sample limit's error when a result of `rows` rows would take too many cells.
    @inline(__always)
    func checkCells(rows: Int, steps: Int) throws {
        if rows.multipliedReportingOverflow(by: steps).overflow || rows * steps > maxCells {
            throw Self.tooManySamplesError
        }
    }

    /// Whether all label sets have the same metric name (or none has one), so that dropping the
    /// name cannot make two distinct label sets equal.
    func sharesOneName(_ labels: [Labels]) -> Bool {
        guard let first = labels.first else { return true }
        let name = first.metricName
        for l in labels.dropFirst() where l.metricName != name { return false }
        return true
    }

    /// Output rows for `labels` transformed by `transform`: a builder with one row per distinct
    /// result, the input→output row map, and whether any two inputs share an output row.
    func relabel(_ labels: [Labels], steps: Int, _ transform: (Labels) -> Labels) -> (GridBuilder, [Int], Bool) {
        var b = GridBuilder(steps: steps)
        var map: [Int] = []
        map.reserveCapacity(labels.count)
        for l in labels { map.append(b.row(for: transform(l))) }
        return (b, map, b.out.rowCount != labels.count)
    }
}

extension GridBuilder {
    /// A builder for `steps` points per row with rows prepared for `labels` (in order).
    init(steps: Int, rows labels: [Labels]) {
        self.init(steps: steps)
        for l in labels { _ = row(for: l) }
    }
}

/// Prometheus' `labels.Compare`: label by label, name then value, bytewise; a prefix sorts first.
func compareLabels(_ a: Labels, _ b: Labels) -> Int {
    let x = a.items, y = b.items
    let n = min(x.count, y.count)
    for i in 0..<n {
        if x[i].name != y[i].name { return compareBytes(x[i].name, y[i].name) }
        if x[i].value != y[i].value { return compareBytes(x[i].value, y[i].value) }
    }
    return x.count - y.count
}

/// Bytewise comparison of UTF-8 strings, as Go compares strings.
func compareBytes(_ a: String, _ b: String) -> Int {
    if a == b { return 0 }
    return a.utf8.lexicographicallyPrecedes(b.utf8) ? -1 : 1
}
