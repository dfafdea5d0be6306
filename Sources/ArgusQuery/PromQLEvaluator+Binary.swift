import ArgusModel
import Foundation

extension Expr.BinaryOp {
    /// Arithmetic operators change what a value means, so their results drop the metric name.
    var dropsMetricName: Bool {
        switch self {
        case .add, .sub, .mul, .div, .mod, .pow, .atan2: return true
        default: return false
        }
    }
}

/// The value of `lhs op rhs` for floats, and whether the element is kept (false for comparisons
/// that do not hold). Comparisons return `lhs` as the value.
@inline(__always)
func binaryElement(_ op: Expr.BinaryOp, _ lhs: Double, _ rhs: Double) -> (Double, Bool) {
    switch op {
    case .add: return (lhs + rhs, true)
    case .sub: return (lhs - rhs, true)
    case .mul: return (lhs * rhs, true)
    case .div: return (lhs / rhs, true)
    case .pow: return (Foundation.pow(lhs, rhs), true)
    case .mod: return (Foundation.fmod(lhs, rhs), true)
    case .atan2: return (Foundation.atan2(lhs, rhs), true)
    case .eql: return (lhs, lhs == rhs)
    case .neq: return (lhs, lhs != rhs)
    case .gtr: return (lhs, lhs > rhs)
    case .lss: return (lhs, lhs < rhs)
    case .gte: return (lhs, lhs >= rhs)
    case .lte: return (lhs, lhs <= rhs)
    case .and, .or, .unless: return (lhs, true)
    }
}

extension PromQLEvaluator {
    func evalBinary(_ b: Expr.Binary, _ grid: PromQLGrid) throws -> Value {
        let lhs = try eval(b.lhs, grid)
        let rhs = try eval(b.rhs, grid)
        switch (lhs, rhs) {
        case (.scalar(let l), .scalar(let r)):
            var out = l
            for i in out.indices {
                let (v, keep) = binaryElement(b.op, l[i], r[i])
                out[i] = b.op.isComparison ? (keep ? 1 : 0) : v
            }
            return .scalar(out)
        case (.vector(let l), .scalar(let r)):
            return .vector(try vectorScalar(b, l, r, scalarOnLeft: false))
        case (.scalar(let l), .vector(let r)):
            return .vector(try vectorScalar(b, r, l, scalarOnLeft: true))
        case (.vector(let l), .vector(let r)):
            let matching = b.matching ?? Expr.VectorMatching(card: b.op.isSetOperator ? .manyToMany : .oneToOne)
            switch b.op {
            case .and, .unless: return .vector(setAndUnless(b.op, l, r, matching))
            case .or: return .vector(try setOr(l, r, matching))
            default: return .vector(try vectorVector(b, l, r, matching))
            }
        default:
            throw ArgusError(.execution, "binary expression must contain only scalar and instant vector types")
        }
    }

    // MARK: - Vector and scalar

    private func vectorScalar(_ b: Expr.Binary, _ v: GridVector, _ s: [Double], scalarOnLeft: Bool) throws -> GridVector {
        let op = b.op
        let returnBool = b.returnBool
        let isComparison = op.isComparison
        return try mapVector(v, dropName: op.dropsMetricName || returnBool) { x, j in
            let (value, keep) = scalarOnLeft ? binaryElement(op, s[j], x) : binaryElement(op, x, s[j])
            if returnBool { return keep ? 1 : 0 }
            if !keep { return Absent.value }
            // A comparison keeps the vector's value even when the scalar is on the left.
            return isComparison ? x : value
        }
    }

    // MARK: - Matching

    /// Assigns each row of both sides a dense ordinal of its matching signature (the `on` labels,
    /// or all labels but the `ignoring` ones and the name).
    private func signatures(_ l: GridVector, _ r: GridVector, _ m: Expr.VectorMatching) -> ([Int], [Int], Int) {
        let names = Set(m.matchingLabels)
        let ignored = names.union([Labels.metricName])
        var index: [Labels: Int] = [:]
        func ordinal(_ labels: Labels) -> Int {
            let key = m.on ? labels.keeping(names) : labels.removing(ignored)
            if let o = index[key] { return o }
            let o = index.count
            index[key] = o
            return o
        }
        let ls = l.labels.map(ordinal)
        let rs = r.labels.map(ordinal)
        return (ls, rs, index.count)
    }

    private func setAndUnless(_ op: Expr.BinaryOp, _ l: GridVector, _ r: GridVector, _ m: Expr.VectorMatching) -> GridVector {
        let (ls, rs, count) = signatures(l, r, m)
        var out = l
        var stamp = [Int32](repeating: -1, count: count)
        let keepMatched = op == .and
        for j in 0..<l.steps {
            let step = Int32(truncatingIfNeeded: j)
            for i in 0..<r.rowCount where !Absent.check(r[i, j]) { stamp[rs[i]] = step }
            for i in 0..<l.rowCount {
                let matched = stamp[ls[i]] == step
                if matched != keepMatched { out[i, j] = Absent.value }
            }
        }
        out.compact()
        return out
    }

    private func setOr(_ l: GridVector, _ r: GridVector, _ m: Expr.VectorMatching) throws -> GridVector {
        let (ls, rs, count) = signatures(l, r, m)
        var b = GridBuilder(steps: l.steps, rows: l.labels)
        b.out.values = l.values
        var rightRows: [Int] = []
        for labels in r.labels { rightRows.append(b.row(for: labels)) }
        var stamp = [Int32](repeating: -1, count: count)
        for j in 0..<l.steps {
            let step = Int32(truncatingIfNeeded: j)
            for i in 0..<l.rowCount where !Absent.check(l[i, j]) { stamp[ls[i]] = step }
            for i in 0..<r.rowCount {
                let x = r[i, j]
                if Absent.check(x) || stamp[rs[i]] == step { continue }
                try b.set(rightRows[i], j, x)
            }
        }
        b.out.compact()
        return b.out
    }

    /// Arithmetic and comparisons between two vectors: one-to-one, or many-to-one with
    /// `group_left`/`group_right` (the "one" side's `include` labels are copied over).
    private func vectorVector(_ bin: Expr.Binary, _ lhs: GridVector, _ rhs: GridVector, _ m: Expr.VectorMatching) throws -> GridVector {
        let op = bin.op
        let returnBool = bin.returnBool
        let swapped = m.card == .oneToMany
        let many = swapped ? rhs : lhs
        let one = swapped ? lhs : rhs
        let (manySig, oneSig, sigCount) = swapped
            ? { let (a, b, c) = signatures(lhs, rhs, m); return (b, a, c) }()
            : signatures(lhs, rhs, m)
        let steps = lhs.steps
        var b = GridBuilder(steps: steps)
        // Per signature, the "one"-side row present at the current step.
        var oneRow = [Int32](repeating: -1, count: sigCount)
        var oneStamp = [Int32](repeating: -1, count: sigCount)
        var matchedStamp = [Int32](repeating: -1, count: sigCount)
        // Per output row, the step and signature that last produced it (many-to-one uniqueness).
        var outStamp: [Int32] = []
        var outSig: [Int32] = []
        // Output rows by (many row, one row).
        var pairs: [Int: Int] = [:]
        var lastOne = [Int32](repeating: -1, count: many.rowCount)
        var lastOut = [Int32](repeating: -1, count: many.rowCount)
        let names = Set(m.matchingLabels)

        func resultLabels(_ manyLabels: Labels, _ oneLabels: Labels) -> Labels {
            var l = manyLabels
            if op.dropsMetricName { l = l.withoutMetricName }
            if m.card == .oneToOne {
                l = m.on ? l.keeping(names) : l.removing(names)
            }
            for name in m.include {
                l = l.setting(name, oneLabels.value(name))
            }
            if returnBool { l = l.withoutMetricName }
            return l
        }

        for j in 0..<steps {
            if j & 63 == 0 { try checkDeadline() }
            let step = Int32(truncatingIfNeeded: j)
            for i in 0..<one.rowCount where !Absent.check(one[i, j]) {
                let s = oneSig[i]
                if oneStamp[s] == step {
                    let first = Int(oneRow[s])
                    let matched = m.on ? one.labels[i].keeping(names) : one.labels[i].removing(names.union([Labels.metricName]))
                    throw ArgusError(.execution, "found duplicate series for the match group \(matched) on the "
                                     + (swapped ? "left" : "right") + " hand-side of the operation: [\(one.labels[i]), \(one.labels[first])]"
                                     + ";many-to-many matching not allowed: matching labels must be unique on one side")
                }
                oneStamp[s] = step
                oneRow[s] = Int32(truncatingIfNeeded: i)
            }
            for i in 0..<many.rowCount {
                let x = many[i, j]
                if Absent.check(x) { continue }
                let s = manySig[i]
                guard oneStamp[s] == step else { continue }
                let o = Int(oneRow[s])
                let y = one[o, j]
                let (value, keepElement) = swapped ? binaryElement(op, y, x) : binaryElement(op, x, y)
                // The output row for this pair.
                var out: Int
                if lastOne[i] == Int32(truncatingIfNeeded: o) {
                    out = Int(lastOut[i])
                } else {
                    let key = i &* one.rowCount &+ o
                    if let existing = pairs[key] {
                        out = existing
                    } else {
                        out = try b.row(for: resultLabels(many.labels[i], one.labels[o]), maxCells: maxCells)
                        pairs[key] = out
                        while outStamp.count <= out {
                            outStamp.append(-1)
                            outSig.append(-1)
                        }
                    }
                    lastOne[i] = Int32(truncatingIfNeeded: o)
                    lastOut[i] = Int32(truncatingIfNeeded: out)
                }
                if m.card == .oneToOne {
                    if matchedStamp[s] == step {
                        throw ArgusError(.execution, "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)")
                    }
                    matchedStamp[s] = step
                } else {
                    if outStamp[out] == step && outSig[out] == Int32(truncatingIfNeeded: s) {
                        throw ArgusError(.execution, "multiple matches for labels: grouping labels must ensure unique matches")
                    }
                    outStamp[out] = step
                    outSig[out] = Int32(truncatingIfNeeded: s)
                }
                var result = value
                if returnBool {
                    result = keepElement ? 1 : 0
                } else if !keepElement {
                    continue
                }
                try b.set(out, j, result)
            }
        }
        b.out.compact()
        return b.out
    }
}
