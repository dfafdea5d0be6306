import ArgusModel
import Foundation

extension PromQLEvaluator {
    func evalAggregate(_ a: Expr.Aggregate, _ grid: PromQLGrid) throws -> GridVector {
        if a.op == .countValues { return try evalCountValues(a, grid) }
        var param: [Double] = []
        if let p = a.param { param = try evalScalar(p, grid) }
        let input = try evalVector(a.expr, grid)
        let grouping = Set(a.grouping)
        let without = grouping.union([Labels.metricName])
        func groupLabels(_ l: Labels) -> Labels {
            if a.without { return l.removing(without) }
            if grouping.isEmpty { return Labels() }
            return l.keeping(grouping)
        }
        var groupIndex: [Labels: Int] = [:]
        var groups: [Labels] = []
        var rowGroup: [Int] = []
        rowGroup.reserveCapacity(input.rowCount)
        for l in input.labels {
            let key = groupLabels(l)
            if let g = groupIndex[key] {
                rowGroup.append(g)
            } else {
                groupIndex[key] = groups.count
                rowGroup.append(groups.count)
                groups.append(key)
            }
        }
        switch a.op {
        case .topk, .bottomk, .limitk, .limitRatio:
            return try aggregateK(a, input, rowGroup, groups.count, param, grid)
        case .quantile:
            return try aggregateQuantile(a, input, rowGroup, groups, param)
        default:
            return try aggregateSimple(a.op, input, rowGroup, groups)
        }
    }

    /// sum, avg, count, min, max, group, stddev and stdvar, accumulated series by series into
    /// per-group, per-step state (series order is Prometheus' summation order).
    private func aggregateSimple(_ op: Expr.AggregateOp, _ input: GridVector, _ rowGroup: [Int], _ groups: [Labels]) throws -> GridVector {
        let steps = input.steps
        var out = GridVector(steps: steps)
        for g in groups { out.addRow(g) }
        let cells = groups.count * steps
        var count = [Double](repeating: 0, count: cells)
        var value = [Double](repeating: 0, count: cells)
        var aux = [Double](repeating: 0, count: (op == .avg || op == .sum || op == .stddev || op == .stdvar) ? cells : 0)
        var mean = [Double](repeating: 0, count: (op == .avg || op == .stddev || op == .stdvar) ? cells : 0)
        var incremental = [Bool](repeating: false, count: op == .avg ? cells : 0)
        input.values.withUnsafeBufferPointer { inValues in
            count.withUnsafeMutableBufferPointer { count in
            value.withUnsafeMutableBufferPointer { value in
            aux.withUnsafeMutableBufferPointer { aux in
            mean.withUnsafeMutableBufferPointer { mean in
            incremental.withUnsafeMutableBufferPointer { incremental in
                for r in 0..<input.rowCount {
                    let inBase = r &* steps
                    let gBase = rowGroup[r] &* steps
                    for j in 0..<steps {
                        let f = inValues[inBase &+ j]
                        if Absent.check(f) { continue }
                        let k = gBase &+ j
                        if count[k] == 0 {
                            count[k] = 1
                            switch op {
                            case .stddev, .stdvar:
                                value[k] = (f.isNaN || f.isInfinite) ? .nan : 0
                                mean[k] = f
                            case .avg:
                                value[k] = f
                                mean[k] = f
                            case .group: value[k] = 1
                            default: value[k] = f
                            }
                            continue
                        }
                        switch op {
                        case .sum:
                            (value[k], aux[k]) = PromQLMath.kahanInc(f, value[k], aux[k])
                            count[k] += 1
                        case .avg:
                            count[k] += 1
                            let n = count[k]
                            if !incremental[k] {
                                let (newSum, newC) = PromQLMath.kahanInc(f, value[k], aux[k])
                                if !newSum.isInfinite {
                                    value[k] = newSum
                                    aux[k] = newC
                                    continue
                                }
                                incremental[k] = true
                                mean[k] = value[k] / (n - 1)
                                aux[k] /= (n - 1)
                            }
                            let q = (n - 1) / n
                            (mean[k], aux[k]) = PromQLMath.kahanInc(f / n, q * mean[k], q * aux[k])
                        case .count:
                            count[k] += 1
                        case .min:
                            if value[k] > f || value[k].isNaN { value[k] = f }
                        case .max:
                            if value[k] < f || value[k].isNaN { value[k] = f }
                        case .group:
                            break
                        case .stddev, .stdvar:
                            count[k] += 1
                            let delta = f - mean[k]
                            mean[k] += delta / count[k]
                            value[k] += delta * (f - mean[k])
                        default:
                            break
                        }
                    }
                }
            }}}}}
        }
        for k in 0..<cells where count[k] > 0 {
            let result: Double
            switch op {
            case .sum: result = value[k] + aux[k]
            case .avg: result = incremental[k] ? mean[k] + aux[k] : value[k] / count[k] + aux[k] / count[k]
            case .count: result = count[k]
            case .stdvar: result = value[k] / count[k]
            case .stddev: result = (value[k] / count[k]).squareRoot()
            default: result = value[k]
            }
            out.values[k] = result
        }
        out.compact()
        return out
    }

    private func aggregateQuantile(_ a: Expr.Aggregate, _ input: GridVector, _ rowGroup: [Int], _ groups: [Labels],
                                   _ q: [Double]) throws -> GridVector {
        var warned = Set<UInt64>()
        for x in q where x.isNaN || x < 0 || x > 1 {
            if warned.insert(x.bitPattern).inserted {
                annotations.warn("quantile value should be between 0 and 1, got \(goFormatV(x))")
            }
        }
        let steps = input.steps
        var out = GridVector(steps: steps)
        for g in groups { out.addRow(g) }
        var values = [[Double]](repeating: [], count: groups.count)
        for j in 0..<steps {
            for g in values.indices { values[g].removeAll(keepingCapacity: true) }
            for r in 0..<input.rowCount {
                let f = input[r, j]
                if !Absent.check(f) { values[rowGroup[r]].append(f) }
            }
            for g in values.indices where !values[g].isEmpty {
                out[g, j] = PromQLMath.quantile(q[j], &values[g])
            }
        }
        out.compact()
        return out
    }

    // MARK: - topk, bottomk, limitk, limit_ratio

    private func aggregateK(_ a: Expr.Aggregate, _ input: GridVector, _ rowGroup: [Int], _ groupCount: Int,
                            _ param: [Double], _ grid: PromQLGrid) throws -> GridVector {
        let steps = input.steps
        var finite = param.filter { !$0.isNaN }
        finite.sort()
        let hasNaN = finite.count != param.count
        let lowest = finite.first ?? .nan
        let highest = finite.last ?? .nan
        switch a.op {
        case .limitRatio:
            if highest == 0 && lowest == 0 && !hasNaN { return GridVector(steps: steps) }
            if hasNaN { throw ArgusError(.execution, "Ratio value is NaN") }
            if highest > 1 { annotations.warn("ratio value should be between -1 and 1, got \(goFormatV(highest)), capping to 1") }
            if lowest < -1 { annotations.warn("ratio value should be between -1 and 1, got \(goFormatV(lowest)), capping to -1") }
        default:
            if highest < 1 && !hasNaN { return GridVector(steps: steps) }
            if hasNaN { throw ArgusError(.execution, "Parameter value is NaN") }
            if lowest <= -9.223372036854775808e18 {
                throw ArgusError(.execution, "Scalar value \(goFormatV(lowest)) underflows int64")
            }
            if highest >= 9.223372036854775807e18 {
                throw ArgusError(.execution, "Scalar value \(goFormatV(highest)) overflows int64")
            }
        }
        var ratioOffsets: [Double] = []
        if a.op == .limitRatio {
            ratioOffsets = input.labels.map { Double(labelsHash($0)) / Double(UInt64.max) }
        }
        // Rows selected at each step, in output order (for an instant query, the order of the result).
        var out = GridVector(steps: steps)
        var heaps = [[Int]](repeating: [], count: groupCount)
        var chosenOrder: [Int] = []
        var isOutRow = [Int](repeating: -1, count: input.rowCount)
        var outRowLabels: [Labels] = []
        var outValues: [(row: Int, step: Int, v: Double)] = []
        for j in 0..<steps {
            let k = min(goInt64(param[j]) ?? 0, Int64(input.rowCount))
            var ratio = 0.0
            if a.op == .limitRatio {
                if param[j] == 0 { continue }
                ratio = max(-1, min(1, param[j]))
            } else if k < 1 {
                continue
            }
            for g in heaps.indices { heaps[g].removeAll(keepingCapacity: true) }
            var groupOrder: [Int] = []
            var groupSeen = [Bool](repeating: false, count: groupCount)
            for r in 0..<input.rowCount {
                let f = input[r, j]
                if Absent.check(f) { continue }
                let g = rowGroup[r]
                if !groupSeen[g] {
                    groupSeen[g] = true
                    groupOrder.append(g)
                }
                switch a.op {
                case .topk:
                    if heaps[g].count < Int(k) {
                        heapPush(&heaps[g], r) { input[$0, j] }
                    } else {
                        let top = input[heaps[g][0], j]
                        if top < f || (top.isNaN && !f.isNaN) {
                            heaps[g][0] = r
                            if k > 1 { heapFix(&heaps[g], 0) { input[$0, j] } }
                        }
                    }
                case .bottomk:
                    if heaps[g].count < Int(k) {
                        heapPush(&heaps[g], r) { -input[$0, j] }
                    } else {
                        let top = input[heaps[g][0], j]
                        if top > f || (top.isNaN && !f.isNaN) {
                            heaps[g][0] = r
                            if k > 1 { heapFix(&heaps[g], 0) { -input[$0, j] } }
                        }
                    }
                case .limitk:
                    if heaps[g].count < Int(k) { heaps[g].append(r) }
                default:
                    let offset = ratioOffsets[r]
                    if (ratio >= 0 && offset < ratio) || (ratio < 0 && offset >= 1 + ratio) { heaps[g].append(r) }
                }
            }
            for g in groupOrder {
                var rows = heaps[g]
                switch a.op {
                case .topk:
                    rows.sort { x, y in PromQLMath.lessNaNFirst(input[y, j], input[x, j]) }
                case .bottomk:
                    rows.sort { x, y in
                        let u = input[x, j], v = input[y, j]
                        if u.isNaN { return false }
                        if v.isNaN { return true }
                        return u < v
                    }
                default:
                    break
                }
                for r in rows {
                    if isOutRow[r] < 0 {
                        isOutRow[r] = outRowLabels.count
                        outRowLabels.append(input.labels[r])
                        chosenOrder.append(r)
                    }
                    outValues.append((row: isOutRow[r], step: j, v: input[r, j]))
                }
            }
        }
        for l in outRowLabels { out.addRow(l) }
        for p in outValues { out[p.row, p.step] = p.v }
        return out
    }

    // MARK: - count_values

    private func evalCountValues(_ a: Expr.Aggregate, _ grid: PromQLGrid) throws -> GridVector {
        guard let p = a.param, case .string(let literal) = unwrapParens(p) else {
            throw ArgusError(.execution, "count_values needs a string parameter")
        }
        let label = literal.value
        if !isValidLabelName(label) {
            throw ArgusError(.execution, "invalid label name \(stringLiteralText(literal))")
        }
        let input = try evalVector(a.expr, grid)
        var grouping = Set(a.grouping)
        if !a.without { grouping.insert(label) }
        let without = grouping.union([Labels.metricName])
        var b = GridBuilder(steps: grid.count)
        var counts: [Int: Double] = [:]
        for j in 0..<grid.count {
            counts.removeAll(keepingCapacity: true)
            var order: [Int] = []
            for r in 0..<input.rowCount {
                let f = input[r, j]
                if Absent.check(f) { continue }
                let withValue = input.labels[r].setting(label, PromQLPrinter.formatNumber(f))
                let key = a.without ? withValue.removing(without) : withValue.keeping(grouping)
                let row = try b.row(for: key, maxCells: maxCells)
                if counts[row] == nil { order.append(row) }
                counts[row, default: 0] += 1
            }
            for row in order { b.out[row, j] = counts[row]! }
        }
        return b.out
    }

    /// The source text of a string literal as Prometheus prints it in messages (Go-quoted).
    func stringLiteralText(_ s: Expr.StringLiteral) -> String {
        if s.value.unicodeScalars.contains("\u{FFFD}") {
            // The value had invalid UTF-8, which Swift strings cannot hold: show the source text,
            // whose escapes are what Go's quoting would print.
            let bytes = Array(queryText.utf8)
            let r = s.positionRange
            if r.start >= 0, r.end <= bytes.count, r.start < r.end, bytes[r.start] == UInt8(ascii: "\"") {
                return String(decoding: bytes[r.start..<r.end], as: UTF8.self)
            }
        }
        return GoFormat.quote(s.value)
    }
}

/// Prometheus' `labels.Hash()`: xxHash64 of `name\xffvalue\xff...`.
func labelsHash(_ l: Labels) -> UInt64 {
    var bytes: [UInt8] = []
    for item in l.items {
        bytes.append(contentsOf: item.name.utf8)
        bytes.append(0xFF)
        bytes.append(contentsOf: item.value.utf8)
        bytes.append(0xFF)
    }
    return PromQLMath.xxhash64(bytes)
}

// MARK: - Binary heap (Go's container/heap, smallest `key` at the root)

@inline(__always)
private func heapPush(_ h: inout [Int], _ x: Int, _ key: (Int) -> Double) {
    h.append(x)
    heapUp(&h, h.count - 1, key)
}

/// Go's `heap.Less` for values: NaN is smallest.
@inline(__always)
private func heapLess(_ a: Double, _ b: Double) -> Bool {
    if a.isNaN { return true }
    return a < b
}

private func heapUp(_ h: inout [Int], _ index: Int, _ key: (Int) -> Double) {
    var j = index
    while true {
        let i = (j - 1) / 2
        if i == j || j <= 0 || !heapLess(key(h[j]), key(h[i])) { break }
        h.swapAt(i, j)
        j = i
    }
}

private func heapDown(_ h: inout [Int], _ i0: Int, _ n: Int, _ key: (Int) -> Double) -> Bool {
    var i = i0
    while true {
        let j1 = 2 * i + 1
        if j1 >= n || j1 < 0 { break }
        var j = j1
        let j2 = j1 + 1
        if j2 < n && heapLess(key(h[j2]), key(h[j1])) { j = j2 }
        if !heapLess(key(h[j]), key(h[i])) { break }
        h.swapAt(i, j)
        i = j
    }
    return i > i0
}

private func heapFix(_ h: inout [Int], _ i: Int, _ key: (Int) -> Double) {
    if !heapDown(&h, i, h.count, key) { heapUp(&h, i, key) }
}
