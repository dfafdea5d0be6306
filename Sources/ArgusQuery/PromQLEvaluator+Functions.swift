import ArgusModel
import Foundation

extension PromQLEvaluator {
    // MARK: - Calls

    func evalCall(_ c: Expr.Call, _ grid: PromQLGrid) throws -> Value {
        let name = c.function.name
        if let fn = PromQLRangeFunction(name: name) {
            return .vector(try evalRangeFunction(fn, c, grid))
        }
        switch name {
        case "time":
            return .scalar((0..<grid.count).map { Double(grid.time($0)) / 1000 })
        case "pi":
            return .scalar([Double](repeating: .pi, count: grid.count))
        case "vector":
            let s = try evalScalar(c.args[0], grid)
            var out = GridVector(steps: grid.count)
            s.withUnsafeBufferPointer { out.addRow(Labels(), $0) }
            return .vector(out)
        case "scalar":
            let v = try evalVector(c.args[0], grid)
            var out = [Double](repeating: .nan, count: grid.count)
            for j in 0..<grid.count {
                var found = 0
                var value = Double.nan
                for r in 0..<v.rowCount {
                    let x = v[r, j]
                    if Absent.check(x) { continue }
                    found += 1
                    value = x
                    if found > 1 { break }
                }
                out[j] = found == 1 ? value : .nan
            }
            return .scalar(out)
        case "timestamp":
            if case .vectorSelector(let sel) = unwrapParens(c.args[0]) {
                let v = try evalVectorSelector(sel, grid, timestamps: true)
                return .vector(try mapVector(v, dropName: true) { x, _ in x })
            }
            let v = try evalVector(c.args[0], grid)
            return .vector(try mapVector(v, dropName: true) { _, j in Double(grid.time(j)) / 1000 })
        case "absent":
            let v = try evalVector(c.args[0], grid)
            var out = GridVector(steps: grid.count)
            var row = [Double](repeating: Absent.value, count: grid.count)
            var any = false
            for j in 0..<grid.count {
                var present = false
                for r in 0..<v.rowCount where !Absent.check(v[r, j]) {
                    present = true
                    break
                }
                if !present {
                    row[j] = 1
                    any = true
                }
            }
            if any { row.withUnsafeBufferPointer { out.addRow(absentLabels(c.args[0]), $0) } }
            return .vector(out)
        case "label_replace":
            return .vector(try evalLabelReplace(c, grid))
        case "label_join":
            return .vector(try evalLabelJoin(c, grid))
        case "sort", "sort_desc":
            var v = try evalVector(c.args[0], grid)
            if isInstant && grid.count == 1 && v.rowCount > 1 {
                let desc = name == "sort_desc"
                let order = (0..<v.rowCount).sorted { a, b in
                    let x = v[a, 0], y = v[b, 0]
                    // NaN sorts last either way.
                    if x.isNaN || y.isNaN { return !x.isNaN && y.isNaN }
                    return desc ? x > y : x < y
                }
                v = reorder(v, order)
            }
            return .vector(v)
        case "sort_by_label", "sort_by_label_desc":
            var v = try evalVector(c.args[0], grid)
            let names = try c.args.dropFirst().map { try stringArg($0) }
            let desc = name == "sort_by_label_desc"
            let order = (0..<v.rowCount).sorted { a, b in
                let la = v.labels[a], lb = v.labels[b]
                for n in names {
                    let x = la.value(n), y = lb.value(n)
                    if x == y { continue }
                    return desc ? !PromQLMath.naturalLess(x, y) : PromQLMath.naturalLess(x, y)
                }
                let cmp = compareLabels(la, lb)
                return desc ? cmp > 0 : cmp < 0
            }
            v = reorder(v, order)
            return .vector(v)
        case "clamp", "clamp_min", "clamp_max":
            let v = try evalVector(c.args[0], grid)
            var lower = [Double](repeating: -.infinity, count: grid.count)
            var upper = [Double](repeating: .infinity, count: grid.count)
            switch name {
            case "clamp":
                lower = try evalScalar(c.args[1], grid)
                upper = try evalScalar(c.args[2], grid)
            case "clamp_min": lower = try evalScalar(c.args[1], grid)
            default: upper = try evalScalar(c.args[1], grid)
            }
            return .vector(try mapVector(v, dropName: true) { x, j in
                if upper[j] < lower[j] { return Absent.value }
                return goMax(lower[j], goMin(upper[j], x))
            })
        case "round":
            let v = try evalVector(c.args[0], grid)
            let nearest = c.args.count > 1 ? try evalScalar(c.args[1], grid) : [Double](repeating: 1, count: grid.count)
            return .vector(try mapVector(v, dropName: true) { x, j in
                let inverse = 1.0 / nearest[j]
                return (x * inverse + 0.5).rounded(.down) / inverse
            })
        case "histogram_quantile":
            return .vector(try evalHistogramQuantile(c, grid))
        case "histogram_fraction":
            return .vector(try evalHistogramFraction(c, grid))
        case "histogram_avg", "histogram_count", "histogram_sum", "histogram_stddev", "histogram_stdvar":
            // Only native histograms have these; float series contribute nothing.
            _ = try evalVector(c.args[0], grid)
            return .vector(GridVector(steps: grid.count))
        case "day_of_month", "day_of_week", "day_of_year", "days_in_month", "hour", "minute", "month", "year":
            let field: (PromQLMath.CivilTime) -> Int
            switch name {
            case "day_of_month": field = { $0.day }
            case "day_of_week": field = { $0.weekday }
            case "day_of_year": field = { $0.dayOfYear }
            case "days_in_month": field = { $0.daysInMonth }
            case "hour": field = { $0.hour }
            case "minute": field = { $0.minute }
            case "month": field = { $0.month }
            default: field = { $0.year }
            }
            if c.args.isEmpty {
                var out = GridVector(steps: grid.count)
                let row = (0..<grid.count).map { j -> Double in
                    let t = grid.time(j)
                    return Double(field(PromQLMath.civil(floorDiv(t, 1000))))
                }
                row.withUnsafeBufferPointer { out.addRow(Labels(), $0) }
                return .vector(out)
            }
            let v = try evalVector(c.args[0], grid)
            return .vector(try mapVector(v, dropName: true) { x, _ in
                // Go converts NaN and out-of-range floats to math.MinInt64 on amd64.
                return Double(field(PromQLMath.civil(goInt64(x) ?? Int64.min)))
            })
        default:
            if let f = Self.mathFunctions[name] {
                let v = try evalVector(c.args[0], grid)
                return .vector(try mapVector(v, dropName: true) { x, _ in f(x) })
            }
            throw ArgusError(.execution, "function \"\(name)\" is not supported")
        }
    }

    static let mathFunctions: [String: (Double) -> Double] = [
        "abs": { Swift.abs($0) },
        "ceil": { $0.rounded(.up) },
        "floor": { $0.rounded(.down) },
        "exp": { Foundation.exp($0) },
        "sqrt": { $0.squareRoot() },
        "ln": { Foundation.log($0) },
        "log2": { Foundation.log2($0) },
        "log10": { Foundation.log10($0) },
        "sin": { Foundation.sin($0) },
        "cos": { Foundation.cos($0) },
        "tan": { Foundation.tan($0) },
        "asin": { Foundation.asin($0) },
        "acos": { Foundation.acos($0) },
        "atan": { Foundation.atan($0) },
        "sinh": { Foundation.sinh($0) },
        "cosh": { Foundation.cosh($0) },
        "tanh": { Foundation.tanh($0) },
        "asinh": { Foundation.asinh($0) },
        "acosh": { Foundation.acosh($0) },
        "atanh": { Foundation.atanh($0) },
        "rad": { $0 * Double.pi / 180 },
        "deg": { $0 * 180 / Double.pi },
        "sgn": { $0 < 0 ? -1 : ($0 > 0 ? 1 : $0) },
    ]

    // MARK: - Helpers

    func unwrapParens(_ e: Expr) -> Expr {
        if case .paren(let p) = e { return unwrapParens(p.expr) }
        return e
    }

    func stringArg(_ e: Expr) throws -> String {
        guard case .string(let s) = unwrapParens(e) else {
            if case .string(let s) = try eval(e, PromQLGrid(start: 0, end: 0, step: 1)) { return s }
            throw ArgusError(.execution, "expected a string argument, got \(e)")
        }
        return s.value
    }

    /// The labels `absent()` and `absent_over_time()` give their result: those the selector
    /// matches exactly with a single equality (a label constrained twice is left out).
    func absentLabels(_ arg: Expr) -> Labels {
        let matchers: [Matcher]
        switch unwrapParens(arg) {
        case .vectorSelector(let v): matchers = v.matchers
        case .matrixSelector(let m): matchers = m.vectorSelector.matchers
        default: return Labels()
        }
        var values: [String: String] = [:]
        var has: Set<String> = []
        var order: [String] = []
        for m in matchers where m.name != Labels.metricName {
            if m.kind == .equal && !has.contains(m.name) {
                values[m.name] = m.value
                has.insert(m.name)
                order.append(m.name)
            } else {
                values[m.name] = nil
            }
        }
        return Labels(order.compactMap { n in values[n].map { (n, $0) } })
    }

    func reorder(_ v: GridVector, _ order: [Int]) -> GridVector {
        var out = GridVector(steps: v.steps)
        out.labels.reserveCapacity(v.rowCount)
        out.values.reserveCapacity(v.values.count)
        v.values.withUnsafeBufferPointer { buffer in
            for r in order {
                out.addRow(v.labels[r], UnsafeBufferPointer(rebasing: buffer[(r * v.steps)..<(r * v.steps + v.steps)]))
            }
        }
        return out
    }

    // MARK: - Range-vector functions

    func evalRangeFunction(_ fn: PromQLRangeFunction, _ c: Expr.Call, _ grid: PromQLGrid) throws -> GridVector {
        guard let matrixIndex = c.args.firstIndex(where: { $0.type == .matrix }) else {
            throw ArgusError(.execution, "\(c.function.name) needs a range vector argument")
        }
        let arg = c.args[matrixIndex]
        // Scalar parameters, in argument order.
        var params: [[Double]] = []
        for (i, a) in c.args.enumerated() where i != matrixIndex {
            params.append(try evalScalar(a, grid))
        }
        if fn == .quantileOverTime, let q = params.first {
            var warned = Set<UInt64>()
            for x in q where x.isNaN || x < 0 || x > 1 {
                if warned.insert(x.bitPattern).inserted {
                    annotations.warn("quantile value should be between 0 and 1, got \(goFormatV(x))")
                }
            }
        }
        let windows = try rangeWindows(arg)
        let steps = grid.count
        var out = GridVector(steps: steps)
        var row = [Double](repeating: Absent.value, count: steps)
        var scratch = self.scratch
        var nonCounterNames: [String] = []
        // The names of the series with results (dropping different names can make labels collide).
        var inputNames: [Labels] = []
        var lastName: String?? = .none
        var invalidParam: ArgusError?
        let p0 = params.count > 0 ? params[0] : []
        let p1 = params.count > 1 ? params[1] : []
        let pinned = windows.fixedEnd != nil && !fn.usesEvalTime
        _ = try forEachRangeSeries(arg, grid) { labels, ts, vs in
            var present = 0
            var largestWindow = 0
            var lo = 0, hi = 0
            let n = ts.count
            for j in 0..<steps {
                if pinned && j > 0 {
                    row[j] = row[0]
                    if !Absent.check(row[0]) { present &+= 1 }
                    continue
                }
                let end = windows.end(grid, j)
                let start = end &- windows.range
                if windows.fixedEnd != nil && j > 0 {
                    // Same window as step 0.
                } else {
                    while hi < n && ts[hi] <= end { hi &+= 1 }
                    while lo < hi && ts[lo] <= start { lo &+= 1 }
                }
                if hi <= lo {
                    row[j] = Absent.value
                    continue
                }
                if hi - lo > largestWindow {
                    largestWindow = hi - lo
                    if samples &+ largestWindow > options.maxSamples { throw Self.tooManySamplesError }
                }
                let a = p0.isEmpty ? 0 : p0[j]
                let b = p1.isEmpty ? 0 : p1[j]
                if fn == .doubleExponentialSmoothing && invalidParam == nil {
                    if !(a > 0 && a < 1) {
                        invalidParam = ArgusError(.execution, "invalid smoothing factor. Expected: 0 < sf < 1, got: \(GoFormat.formatF(a))")
                    } else if !(b > 0 && b < 1) {
                        invalidParam = ArgusError(.execution, "invalid trend factor. Expected: 0 < tf < 1, got: \(GoFormat.formatF(b))")
                    }
                    if let e = invalidParam { throw e }
                }
                let w = RangeWindow(ts: ts, vs: vs, lo: lo, hi: hi, windowEnd: end, range: windows.range,
                                    evalTime: grid.time(j))
                let value = fn.apply(w, a, b, &scratch)
                row[j] = value
                if !Absent.check(value) { present &+= 1 }
            }
            if present > 0 {
                try account(present)
                try checkCells(rows: out.rowCount + 1, steps: steps)
                let outLabels = fn.keepsMetricName ? labels : labels.withoutMetricName
                row.withUnsafeBufferPointer { out.addRow(outLabels, $0) }
                let name = labels.metricName
                if lastName != .some(name) {
                    lastName = .some(name)
                    inputNames.append(labels)
                }
                if fn == .rate || fn == .increase, let metric = labels.metricName,
                   !(metric.hasSuffix("_total") || metric.hasSuffix("_sum") || metric.hasSuffix("_count") || metric.hasSuffix("_bucket")) {
                    nonCounterNames.append(metric)
                }
            }
        }
        self.scratch = scratch
        for metric in nonCounterNames {
            annotations.info("metric might not be a counter, name does not end in _total/_sum/_count/_bucket: \(GoFormat.quote(metric))")
        }
        if fn == .absentOverTime {
            return absentOverTime(out, labels: absentLabels(arg))
        }
        if !fn.keepsMetricName && !sharesOneName(inputNames) {
            var seen = Set<Labels>()
            for l in out.labels where !seen.insert(l).inserted { throw Self.sameLabelsetError }
        }
        return out
    }

    /// `absent_over_time`: 1 at the steps where no series had a sample in its window.
    private func absentOverTime(_ found: GridVector, labels: Labels) -> GridVector {
        var out = GridVector(steps: found.steps)
        var row = [Double](repeating: 1, count: found.steps)
        for r in 0..<found.rowCount {
            for j in 0..<found.steps where !Absent.check(found[r, j]) { row[j] = Absent.value }
        }
        if row.contains(where: { !Absent.check($0) }) {
            row.withUnsafeBufferPointer { out.addRow(labels, $0) }
        }
        return out
    }

    // MARK: - Label functions

    private func evalLabelReplace(_ c: Expr.Call, _ grid: PromQLGrid) throws -> GridVector {
        let dst = try stringArg(c.args[1])
        let replacement = try stringArg(c.args[2])
        let src = try stringArg(c.args[3])
        let pattern = try stringArg(c.args[4])
        let regex: GoRegex
        do {
            regex = try GoRegex(anchored: pattern)
        } catch {
            throw ArgusError(.execution, "invalid regular expression in label_replace(): \(pattern)")
        }
        if !isValidLabelName(dst) {
            throw ArgusError(.execution, "invalid destination label name in label_replace(): \(dst)")
        }
        let v = try evalVector(c.args[0], grid)
        let (builder, rowMap, merged) = relabel(v.labels, steps: v.steps) { l in
            let value = l.value(src)
            guard let expanded = regex.replaceWholeMatch(value, template: replacement) else { return l }
            return l.setting(dst, expanded)
        }
        return try fill(builder, rowMap, merged, from: v)
    }

    private func evalLabelJoin(_ c: Expr.Call, _ grid: PromQLGrid) throws -> GridVector {
        let dst = try stringArg(c.args[1])
        let separator = try stringArg(c.args[2])
        var sources: [String] = []
        for a in c.args.dropFirst(3) {
            let s = try stringArg(a)
            if !isValidLabelName(s) { throw ArgusError(.execution, "invalid source label name in label_join(): \(s)") }
            sources.append(s)
        }
        if !isValidLabelName(dst) {
            throw ArgusError(.execution, "invalid destination label name in label_join(): \(dst)")
        }
        let v = try evalVector(c.args[0], grid)
        let (builder, rowMap, merged) = relabel(v.labels, steps: v.steps) { l in
            l.setting(dst, sources.map { l.value($0) }.joined(separator: separator))
        }
        return try fill(builder, rowMap, merged, from: v)
    }

    /// Copies `v`'s points into the relabelled rows, checking for collisions when rows merged.
    func fill(_ builder: GridBuilder, _ rowMap: [Int], _ merged: Bool, from v: GridVector) throws -> GridVector {
        var b = builder
        if !merged {
            b.out.values = v.values
            return b.out
        }
        for r in 0..<v.rowCount {
            for j in 0..<v.steps {
                let x = v[r, j]
                if !Absent.check(x) { try b.set(rowMap[r], j, x) }
            }
        }
        return b.out
    }

    /// Prometheus 3 accepts any valid UTF-8 label name; invalid bytes decode to U+FFFD here.
    func isValidLabelName(_ name: String) -> Bool {
        !name.isEmpty && !name.unicodeScalars.contains("\u{FFFD}")
    }

    // MARK: - Classic histograms

    private struct BucketGroups {
        /// Output labels per group (the group's labels without the name).
        var labels: [Labels] = []
        var rowGroup: [Int] = []
        var rowBound: [Double] = []
    }

    /// Groups a vector's rows into classic histograms (all labels but `le`), warning about rows
    /// whose `le` is not a number.
    private func bucketGroups(_ v: GridVector) -> BucketGroups {
        var g = BucketGroups()
        var index: [Labels: Int] = [:]
        for l in v.labels {
            let le = l.value("le")
            guard let bound = PromQLMath.parseGoFloat(le) else {
                annotations.warn("bucket label \"le\" is missing or has a malformed value of \(GoFormat.quote(le)) for metric name \"\"")
                g.rowGroup.append(-1)
                g.rowBound.append(.nan)
                continue
            }
            let key = l.removing(["le"])
            let gi: Int
            if let existing = index[key] {
                gi = existing
            } else {
                gi = g.labels.count
                index[key] = gi
                g.labels.append(key.withoutMetricName)
            }
            g.rowGroup.append(gi)
            g.rowBound.append(bound)
        }
        return g
    }

    private func evalHistogramQuantile(_ c: Expr.Call, _ grid: PromQLGrid) throws -> GridVector {
        let q = try evalScalar(c.args[0], grid)
        let v = try evalVector(c.args[1], grid)
        var warned = Set<UInt64>()
        for x in q where x.isNaN || x < 0 || x > 1 {
            if warned.insert(x.bitPattern).inserted {
                annotations.warn("quantile value should be between 0 and 1, got \(goFormatV(x))")
            }
        }
        return try histogramGroups(v, grid) { buckets, j in
            let (value, forced) = PromQLMath.bucketQuantile(q[j], buckets)
            if forced {
                annotations.info("input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile) for metric name \"\"")
            }
            return value
        }
    }

    private func evalHistogramFraction(_ c: Expr.Call, _ grid: PromQLGrid) throws -> GridVector {
        let lower = try evalScalar(c.args[0], grid)
        let upper = try evalScalar(c.args[1], grid)
        let v = try evalVector(c.args[2], grid)
        return try histogramGroups(v, grid) { buckets, j in
            PromQLMath.bucketFraction(lower[j], upper[j], buckets)
        }
    }

    /// Evaluates `compute` for every classic histogram at every step; histograms whose labels
    /// differ only in the metric name collide in the output.
    private func histogramGroups(_ v: GridVector, _ grid: PromQLGrid,
                                 _ compute: ([PromQLMath.Bucket], Int) -> Double) throws -> GridVector {
        let groups = bucketGroups(v)
        var b = GridBuilder(steps: grid.count)
        let outRow = groups.labels.map { b.row(for: $0) }
        var buckets = [[PromQLMath.Bucket]](repeating: [], count: groups.labels.count)
        for j in 0..<grid.count {
            for gi in buckets.indices { buckets[gi].removeAll(keepingCapacity: true) }
            for r in 0..<v.rowCount {
                let gi = groups.rowGroup[r]
                if gi < 0 { continue }
                let x = v[r, j]
                if Absent.check(x) { continue }
                buckets[gi].append(PromQLMath.Bucket(upperBound: groups.rowBound[r], count: x))
            }
            for gi in buckets.indices where !buckets[gi].isEmpty {
                try b.set(outRow[gi], j, compute(buckets[gi], j))
            }
        }
        b.out.compact()
        return b.out
    }
}

// MARK: - Go numeric semantics

/// Go's `math.Max`: NaN if either is NaN; +0 beats -0.
@inline(__always) func goMax(_ a: Double, _ b: Double) -> Double {
    if a.isNaN || b.isNaN { return .nan }
    if a == 0 && b == 0 { return a.sign == .minus ? b : a }
    return a > b ? a : b
}

/// Go's `math.Min`: NaN if either is NaN; -0 beats +0.
@inline(__always) func goMin(_ a: Double, _ b: Double) -> Double {
    if a.isNaN || b.isNaN { return .nan }
    if a == 0 && b == 0 { return a.sign == .minus ? a : b }
    return a < b ? a : b
}

/// Go's `int64(f)` for values in range (truncation toward zero); nil when out of range or NaN.
func goInt64(_ f: Double) -> Int64? {
    guard f.isFinite, f > -9.223372036854775808e18, f < 9.223372036854775807e18 else { return nil }
    return Int64(f)
}

/// Integer division rounding toward negative infinity.
func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}

/// Go's `%v` of a float64: shortest digits, exponent form below 1e-4 or from 1e6 (`1e+06`).
func goFormatV(_ v: Double) -> String {
    if v.isNaN { return "NaN" }
    if v.isInfinite { return v < 0 ? "-Inf" : "+Inf" }
    if v == 0 { return v.sign == .minus ? "-0" : "0" }
    let plain = PromQLPrinter.formatNumber(v)
    let exponent = Int(Foundation.floor(Foundation.log10(Swift.abs(v))))
    if exponent < -4 || exponent >= 6 {
        // Shortest digits in exponent form, Go style (e+06, e-05).
        var digits = ""
        for ch in plain where ch.isASCIIDigit { digits.append(ch) }
        while digits.hasPrefix("0") { digits.removeFirst() }
        while digits.hasSuffix("0") && digits.count > 1 { digits.removeLast() }
        var mantissa = String(digits.prefix(1))
        if digits.count > 1 { mantissa += "." + digits.dropFirst() }
        let sign = v < 0 ? "-" : ""
        let e = exponent
        let es = e < 0 ? "-" : "+"
        let ev = Swift.abs(e) < 10 ? "0\(Swift.abs(e))" : "\(Swift.abs(e))"
        return sign + mantissa + "e" + es + ev
    }
    return plain
}
