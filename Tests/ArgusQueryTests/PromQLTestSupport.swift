import ArgusModel
@testable import ArgusQuery

// Small constructors so expected trees in the tables read close to the PromQL they stand for.

func eq(_ name: String, _ value: String) -> Matcher { try! Matcher(.equal, name, value) }
func neq(_ name: String, _ value: String) -> Matcher { try! Matcher(.notEqual, name, value) }
func re(_ name: String, _ value: String) -> Matcher { try! Matcher(.regexMatch, name, value) }
func nre(_ name: String, _ value: String) -> Matcher { try! Matcher(.regexNoMatch, name, value) }

/// A selector with a metric name outside the braces (its `__name__` matcher is appended).
func sel(_ name: String, _ matchers: [Matcher] = [], offset: Int64 = 0, at: Expr.AtModifier? = nil) -> Expr.VectorSelector {
    var v = Expr.VectorSelector(metric: name, matchers)
    v.offset = offset
    v.at = at
    return v
}

/// A selector with only matchers inside braces.
func braces(_ matchers: [Matcher], offset: Int64 = 0, at: Expr.AtModifier? = nil) -> Expr.VectorSelector {
    Expr.VectorSelector(matchers: matchers, offset: offset, at: at)
}

func vs(_ name: String, _ matchers: [Matcher] = [], offset: Int64 = 0, at: Expr.AtModifier? = nil) -> Expr {
    .vectorSelector(sel(name, matchers, offset: offset, at: at))
}

func vs(_ selector: Expr.VectorSelector) -> Expr { .vectorSelector(selector) }

func num(_ value: Double) -> Expr { .number(Expr.NumberLiteral(value)) }
func str(_ value: String) -> Expr { .string(Expr.StringLiteral(value)) }
func paren(_ e: Expr) -> Expr { .paren(Expr.Paren(e)) }
func neg(_ e: Expr) -> Expr { .unary(Expr.Unary(.minus, e)) }
func plus(_ e: Expr) -> Expr { .unary(Expr.Unary(.plus, e)) }

func matrix(_ selector: Expr.VectorSelector, _ range: Int64) -> Expr {
    .matrixSelector(Expr.MatrixSelector(selector, range: range))
}

func subquery(_ e: Expr, _ range: Int64, step: Int64? = nil, offset: Int64 = 0, at: Expr.AtModifier? = nil) -> Expr {
    .subquery(Expr.Subquery(e, range: range, step: step, offset: offset, at: at))
}

/// A binary expression; without an explicit `matching`, vector/vector operations get the parser's
/// default (one-to-one, or many-to-many for set operators) and anything involving a scalar gets none.
func bin(_ op: Expr.BinaryOp, _ lhs: Expr, _ rhs: Expr, bool: Bool = false, matching: Expr.VectorMatching? = nil) -> Expr {
    var m = matching
    if m == nil, lhs.type == .vector, rhs.type == .vector {
        m = Expr.VectorMatching(card: op.isSetOperator ? .manyToMany : .oneToOne)
    }
    return .binary(Expr.Binary(op, lhs, rhs, returnBool: bool, matching: m))
}

func agg(_ op: Expr.AggregateOp, _ e: Expr, param: Expr? = nil, by: [String] = [], without: Bool = false) -> Expr {
    .aggregate(Expr.Aggregate(op, e, param: param, grouping: by, without: without))
}

func call(_ name: String, _ args: Expr...) -> Expr {
    .call(Expr.Call(PromQLFunction.named(name)!, args))
}

let second: Int64 = 1000
let minute: Int64 = 60 * second
let hour: Int64 = 60 * minute
let day: Int64 = 24 * hour
let week: Int64 = 7 * day
let year: Int64 = 365 * day

/// The tree with every binary operation parenthesised, to show how a query grouped.
func grouping(_ e: Expr) -> String {
    switch e {
    case .binary(let b): return "(" + grouping(b.lhs) + " " + b.op.rawValue + " " + grouping(b.rhs) + ")"
    case .unary(let u): return u.op.rawValue + grouping(u.expr)
    case .paren(let p): return "(" + grouping(p.expr) + ")"
    default: return e.description
    }
}

/// The error a query fails with, as Prometheus prints it, or nil when it parses.
func parseError(_ query: String) -> String? {
    do {
        _ = try PromQLParser.parse(query)
        return nil
    } catch let e as PromQLParseError {
        return e.description
    } catch {
        return "unexpected error type: \(error)"
    }
}
