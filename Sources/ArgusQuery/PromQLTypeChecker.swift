import ArgusModel

/// Checks a parsed PromQL tree the way Prometheus' `checkAST` does, with the same messages and in the
/// same order (children before parents), and normalises binary vector matching: set operators become
/// many-to-many, and matching is dropped when a side is not an instant vector.
struct PromQLTypeChecker {
    let query: String
    private let bytes: [UInt8]

    init(query: String) {
        self.query = query
        self.bytes = Array(query.utf8)
    }

    /// The checked (and normalised) expression.
    mutating func check(_ expr: Expr) throws -> Expr {
        try visit(expr).expr
    }

    private func error(_ message: String, _ range: PromQLPositionRange) -> PromQLParseError {
        PromQLParseError(message: message, positionRange: range, query: query)
    }

    private func expectType(_ expr: Expr, _ want: PromQLValueType, _ context: String) throws -> Expr {
        let (checked, type) = try visit(expr)
        if type != want {
            throw error("expected type \(want.documentedName) in \(context), got \(type.documentedName)", expr.positionRange)
        }
        return checked
    }

    private func visit(_ expr: Expr) throws -> (expr: Expr, type: PromQLValueType) {
        switch expr {
        case .number:
            return (expr, .scalar)
        case .string:
            return (expr, .string)
        case .vectorSelector(let v):
            try checkSelector(v)
            return (expr, .vector)
        case .matrixSelector(let m):
            try checkSelector(m.vectorSelector)
            return (expr, .matrix)
        case .paren(var p):
            let (inner, type) = try visit(p.expr)
            p.expr = inner
            return (.paren(p), type)
        case .unary(var u):
            let (inner, type) = try visit(u.expr)
            if type != .scalar && type != .vector {
                throw error("unary expression only allowed on expressions of type scalar or instant vector, got "
                            + GoFormat.quote(type.documentedName), u.positionRange)
            }
            u.expr = inner
            return (.unary(u), type)
        case .subquery(var s):
            let (inner, type) = try visit(s.expr)
            if type != .vector {
                throw error("subquery is only allowed on instant vector, got \(type.rawValue) instead", s.positionRange)
            }
            s.expr = inner
            return (.subquery(s), .matrix)
        case .aggregate(var a):
            a.expr = try expectType(a.expr, .vector, "aggregation expression")
            if let param = a.param, let want = a.op.parameterType {
                a.param = try expectType(param, want, "aggregation parameter")
            }
            return (.aggregate(a), .vector)
        case .call(var c):
            try checkArgumentCount(c)
            for i in c.args.indices {
                guard let want = c.function.argType(at: i) else { break }
                let (arg, type) = try visit(c.args[i])
                if type != want {
                    throw error("expected type \(want.documentedName) in call to function \(GoFormat.quote(c.function.name)), "
                                + "got \(type.documentedName)", c.args[i].positionRange)
                }
                c.args[i] = arg
            }
            return (.call(c), c.function.returnType)
        case .binary(let b):
            return try checkBinaryChain(b)
        }
    }

    private func checkSelector(_ v: Expr.VectorSelector) throws {
        if !v.name.isEmpty {
            // The last matcher is the one for the name outside the braces.
            for m in v.matchers.dropLast() where m.name == Labels.metricName {
                throw error("metric name must not be set twice: \(GoFormat.quote(v.name)) or \(GoFormat.quote(m.value))",
                            v.positionRange)
            }
            return
        }
        if !v.matchers.contains(where: { !$0.matchesEmpty }) {
            throw error("vector selector must contain at least one non-empty matcher", v.positionRange)
        }
    }

    private func checkArgumentCount(_ c: Expr.Call) throws {
        let f = c.function
        let name = GoFormat.quote(f.name)
        let got = c.args.count
        if f.variadic == 0 {
            if got != f.argTypes.count {
                throw error("expected \(f.argTypes.count) argument(s) in call to \(name), got \(got)", c.positionRange)
            }
        } else if got < f.minArgs {
            throw error("expected at least \(f.minArgs) argument(s) in call to \(name), got \(got)", c.positionRange)
        } else if let maximum = f.maxArgs, got > maximum {
            throw error("expected at most \(maximum) argument(s) in call to \(name), got \(got)", c.positionRange)
        }
    }

    /// Checks a chain of binary operations down its left operands without recursing, so long chains such
    /// as `a + b + c + ...` do not deepen the stack; errors come out in the same order as with recursion.
    private func checkBinaryChain(_ top: Expr.Binary) throws -> (expr: Expr, type: PromQLValueType) {
        var spine = [top]
        while case .binary(let inner) = spine[spine.count - 1].lhs { spine.append(inner) }
        var (current, currentType) = try visit(spine[spine.count - 1].lhs)
        for b in spine.reversed() {
            (current, currentType) = try checkBinary(b, lhs: current, lhsType: currentType)
        }
        return (current, currentType)
    }

    private func checkBinary(_ input: Expr.Binary, lhs: Expr, lhsType lt: PromQLValueType) throws -> (expr: Expr, type: PromQLValueType) {
        var b = input
        let (rhs, rt) = try visit(b.rhs)
        b.lhs = lhs
        b.rhs = rhs
        let op = b.op
        if b.returnBool && !op.isComparison {
            throw error("bool modifier can only be used on comparison operators", operatorRange(b))
        }
        if op.isComparison && !b.returnBool && lt == .scalar && rt == .scalar {
            throw error("comparisons between scalars must use BOOL modifier", operatorRange(b))
        }
        var matching = b.matching ?? Expr.VectorMatching()
        if op.isSetOperator && matching.card == .oneToOne { matching.card = .manyToMany }
        if matching.on {
            for label in matching.matchingLabels where matching.include.contains(label) {
                throw error("label \(GoFormat.quote(label)) must not occur in ON and GROUP clause at once", operatorRange(b))
            }
        }
        if lt != .scalar && lt != .vector {
            throw error("binary expression must contain only scalar and instant vector types", b.lhs.positionRange)
        }
        if rt != .scalar && rt != .vector {
            throw error("binary expression must contain only scalar and instant vector types", b.rhs.positionRange)
        }
        if lt != .vector || rt != .vector {
            if !matching.matchingLabels.isEmpty {
                throw error("vector matching only allowed between instant vectors", b.positionRange)
            }
            b.matching = nil
        } else {
            if op.isSetOperator {
                if matching.card == .oneToMany || matching.card == .manyToOne {
                    throw error("no grouping allowed for \(GoFormat.quote(op.rawValue)) operation", b.positionRange)
                }
                if matching.card != .manyToMany {
                    throw error("set operations must always be many-to-many", b.positionRange)
                }
            }
            b.matching = matching
        }
        if (lt == .scalar || rt == .scalar) && op.isSetOperator {
            throw error("set operator \(GoFormat.quote(op.rawValue)) not allowed in binary scalar expression", b.positionRange)
        }
        return (.binary(b), lt == .scalar && rt == .scalar ? .scalar : .vector)
    }

    /// The operator and its modifiers: from the first non-space after the left operand.
    private func operatorRange(_ b: Expr.Binary) -> PromQLPositionRange {
        var start = b.lhs.positionRange.end
        while start < bytes.count, isSpace(bytes[start]) { start += 1 }
        var end = b.rhs.positionRange.start
        while end > start, isSpace(bytes[end - 1]) { end -= 1 }
        return PromQLPositionRange(start: start, end: end)
    }
}
