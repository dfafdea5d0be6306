import ArgusModel

/// Prints an `Expr` back to PromQL with Prometheus' printer conventions: `sum by (job) (rate(x[5m]))`,
/// `a + on (b) group_left (c) d`, matchers sorted and joined by `,`, durations as `1h30m`, `@` times
/// as seconds with three decimals, numbers in plain decimal notation (`+Inf`, `NaN`), strings quoted.
///
/// Parsing the output gives back an equal `Expr` (parentheses are AST nodes, so none are added).
public enum PromQLPrinter {
    public static func format(_ expr: Expr) -> String {
        var out = ""
        write(expr, into: &out)
        return out
    }

    /// A float as Go's `strconv.FormatFloat(v, 'f', -1, 64)`: shortest round-trip digits, no exponent.
    public static func formatNumber(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Inf" : "+Inf" }
        let negative = value.sign == .minus
        let text = value.magnitude.description
        var mantissa = Substring(text)
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = text[..<e]
            exponent = Int(text[text.index(after: e)...]) ?? 0
        }
        var digits = ""
        var pointPosition: Int
        if let dot = mantissa.firstIndex(of: ".") {
            digits = String(mantissa[..<dot]) + String(mantissa[mantissa.index(after: dot)...])
            pointPosition = mantissa.distance(from: mantissa.startIndex, to: dot) + exponent
        } else {
            digits = String(mantissa)
            pointPosition = digits.count + exponent
        }
        while digits.count > 1, digits.first == "0" {
            digits.removeFirst()
            pointPosition -= 1
        }
        while digits.count > 1, digits.last == "0" { digits.removeLast() }
        var out = negative ? "-" : ""
        if digits == "0" { return out + "0" }
        if pointPosition <= 0 {
            out += "0." + String(repeating: "0", count: -pointPosition) + digits
        } else if pointPosition >= digits.count {
            out += digits + String(repeating: "0", count: pointPosition - digits.count)
        } else {
            let split = digits.index(digits.startIndex, offsetBy: pointPosition)
            out += digits[..<split] + "." + digits[split...]
        }
        return out
    }

    /// A millisecond timestamp as seconds with three decimals, as in `@ 1609746000.000`.
    public static func formatTimestamp(_ ms: Int64) -> String {
        let magnitude = ms.magnitude
        let fraction = String(magnitude % 1000)
        return (ms < 0 ? "-" : "") + String(magnitude / 1000) + "." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }

    /// A label name as written in a selector or label list: bare when the lexer reads it back as a
    /// label name, quoted otherwise.
    public static func formatLabelName(_ name: String) -> String {
        if NameRules.isValidLabelName(name) {
            switch name.lowercased() {
            case "inf", "nan", "without": break // Lexed as a number or a keyword not allowed in label lists.
            default: return name
            }
        }
        return quoteLabelValue(name)
    }

    public static func formatMatcher(_ m: Matcher) -> String {
        formatLabelName(m.name) + m.kind.rawValue + quoteLabelValue(m.value)
    }

    // MARK: - Writers

    static func write(_ expr: Expr, into out: inout String) {
        switch expr {
        case .number(let n):
            out += formatNumber(n.value)
        case .string(let s):
            out += quoteLabelValue(s.value)
        case .vectorSelector(let v):
            writeSelector(v, into: &out)
            writeModifiers(at: v.at, offset: v.offset, into: &out)
        case .matrixSelector(let m):
            writeSelector(m.vectorSelector, into: &out)
            out += "[" + PromDuration.format(m.range) + "]"
            writeModifiers(at: m.vectorSelector.at, offset: m.vectorSelector.offset, into: &out)
        case .subquery(let s):
            write(s.expr, into: &out)
            out += "[" + PromDuration.format(s.range) + ":"
            if let step = s.step { out += PromDuration.format(step) }
            out += "]"
            writeModifiers(at: s.at, offset: s.offset, into: &out)
        case .paren(let p):
            out += "("
            write(p.expr, into: &out)
            out += ")"
        case .unary(let u):
            out += u.op.rawValue
            write(u.expr, into: &out)
        case .binary(let top):
            // Left operands are printed iteratively, so long chains do not deepen the stack.
            var spine = [top]
            while case .binary(let inner) = spine[spine.count - 1].lhs { spine.append(inner) }
            write(spine[spine.count - 1].lhs, into: &out)
            for b in spine.reversed() {
                out += " " + b.op.rawValue
                if b.returnBool { out += " bool" }
                if let vm = b.matching { writeMatching(vm, into: &out) }
                out += " "
                write(b.rhs, into: &out)
            }
        case .aggregate(let a):
            out += a.op.rawValue
            if a.without {
                out += " without ("
                writeLabels(a.grouping, into: &out)
                out += ") "
            } else if !a.grouping.isEmpty {
                out += " by ("
                writeLabels(a.grouping, into: &out)
                out += ") "
            }
            out += "("
            if let param = a.param {
                write(param, into: &out)
                out += ", "
            }
            write(a.expr, into: &out)
            out += ")"
        case .call(let c):
            out += c.function.name + "("
            for (i, arg) in c.args.enumerated() {
                if i > 0 { out += ", " }
                write(arg, into: &out)
            }
            out += ")"
        }
    }

    private static func writeSelector(_ v: Expr.VectorSelector, into out: inout String) {
        out += v.name
        var parts: [String] = []
        parts.reserveCapacity(v.matchers.count)
        for m in v.matchers {
            if !v.name.isEmpty, m.name == Labels.metricName, m.kind == .equal, m.value == v.name { continue }
            parts.append(formatMatcher(m))
        }
        if !parts.isEmpty {
            parts.sort()
            out += "{" + parts.joined(separator: ",") + "}"
        }
    }

    private static func writeModifiers(at: Expr.AtModifier?, offset: Int64, into out: inout String) {
        switch at {
        case .timestamp(let t)?: out += " @ " + formatTimestamp(t)
        case .start?: out += " @ start()"
        case .end?: out += " @ end()"
        case nil: break
        }
        if offset > 0 {
            out += " offset " + PromDuration.format(offset)
        } else if offset < 0 {
            out += " offset -" + PromDuration.format(0 - offset)
        }
    }

    private static func writeMatching(_ vm: Expr.VectorMatching, into out: inout String) {
        let grouped = vm.card == .manyToOne || vm.card == .oneToMany
        if !vm.matchingLabels.isEmpty || vm.on || grouped {
            out += vm.on ? " on (" : " ignoring ("
            writeLabels(vm.matchingLabels, into: &out)
            out += ")"
        }
        if grouped {
            out += vm.card == .manyToOne ? " group_left (" : " group_right ("
            writeLabels(vm.include, into: &out)
            out += ")"
        }
    }

    private static func writeLabels(_ labels: [String], into out: inout String) {
        for (i, label) in labels.enumerated() {
            if i > 0 { out += ", " }
            out += formatLabelName(label)
        }
    }
}

extension Expr: CustomStringConvertible {
    /// The expression as PromQL.
    public var description: String { PromQLPrinter.format(self) }
}

extension Expr.NumberLiteral: CustomStringConvertible {
    public var description: String { PromQLPrinter.format(.number(self)) }
}

extension Expr.StringLiteral: CustomStringConvertible {
    public var description: String { PromQLPrinter.format(.string(self)) }
}

extension Expr.VectorSelector: CustomStringConvertible {
    public var description: String { PromQLPrinter.format(.vectorSelector(self)) }
}

extension Expr.MatrixSelector: CustomStringConvertible {
    public var description: String { PromQLPrinter.format(.matrixSelector(self)) }
}

extension Expr.Subquery: CustomStringConvertible {
    public var description: String { PromQLPrinter.format(.subquery(self)) }
}

extension Expr.Paren: CustomStringConvertible {
    public var description: String { PromQLPrinter.format(.paren(self)) }
}

extension Expr.Unary: CustomStringConvertible {
    public var description: String { PromQLPrinter.format(.unary(self)) }
}

extension Expr.Binary: CustomStringConvertible {
    public var description: String { PromQLPrinter.format(.binary(self)) }
}

extension Expr.Aggregate: CustomStringConvertible {
    public var description: String { PromQLPrinter.format(.aggregate(self)) }
}

extension Expr.Call: CustomStringConvertible {
    public var description: String { PromQLPrinter.format(.call(self)) }
}
