import ArgusModel

/// A parsed PromQL expression.
///
/// An indirect enum over plain structs, so a tree walk is a `switch` per node. Durations, offsets
/// and `@` timestamps are Int64 milliseconds. Equality ignores source positions and the order of a
/// selector's matchers, so a query and its printed form compare equal. `description` prints PromQL
/// (see `PromQLPrinter`).
public indirect enum Expr: Sendable {
    case number(NumberLiteral)
    case string(StringLiteral)
    case vectorSelector(VectorSelector)
    case matrixSelector(MatrixSelector)
    case subquery(Subquery)
    case paren(Paren)
    case unary(Unary)
    case binary(Binary)
    case aggregate(Aggregate)
    case call(Call)
}

extension Expr {
    /// A number such as `1`, `0x1F`, `1e3`, `Inf`, or a duration used as a number (`5m` is 300).
    public struct NumberLiteral: Sendable {
        public var value: Double
        public var positionRange: PromQLPositionRange

        public init(_ value: Double, positionRange: PromQLPositionRange = .init(start: 0, end: 0)) {
            self.value = value
            self.positionRange = positionRange
        }
    }

    /// A string literal; `value` is unescaped.
    public struct StringLiteral: Sendable {
        public var value: String
        public var positionRange: PromQLPositionRange

        public init(_ value: String, positionRange: PromQLPositionRange = .init(start: 0, end: 0)) {
            self.value = value
            self.positionRange = positionRange
        }
    }

    /// The evaluation time an `@` modifier pins a selector or subquery to.
    public enum AtModifier: Hashable, Sendable {
        /// Milliseconds since the epoch.
        case timestamp(Int64)
        /// `@ start()`: the start of the range query (the evaluation time of an instant query).
        case start
        /// `@ end()`: the end of the range query (the evaluation time of an instant query).
        case end
    }

    /// An instant vector selector: `name{matchers} @ t offset d`.
    ///
    /// `name` is the metric name written outside the braces ("" when there is none); when set, the
    /// matchers end with the matching `__name__` equality matcher, as in Prometheus. A name written
    /// inside the braces (`{__name__="x"}` or `{"x"}`) is only a matcher.
    public struct VectorSelector: Sendable {
        public var name: String
        public var matchers: [Matcher]
        /// Milliseconds; 0 means no offset, negative values look into the future.
        public var offset: Int64
        public var at: AtModifier?
        public var positionRange: PromQLPositionRange

        public init(name: String = "", matchers: [Matcher], offset: Int64 = 0, at: AtModifier? = nil,
                    positionRange: PromQLPositionRange = .init(start: 0, end: 0)) {
            self.name = name
            self.matchers = matchers
            self.offset = offset
            self.at = at
            self.positionRange = positionRange
        }

        /// A selector for `name`, with its `__name__` matcher appended after `extra`.
        public init(metric name: String, _ extra: [Matcher] = []) {
            self.init(name: name, matchers: extra + [Matcher.eq(Labels.metricName, name)])
        }
    }

    /// A range vector selector: `selector[range]`; the selector holds the offset and `@`.
    public struct MatrixSelector: Sendable {
        public var vectorSelector: VectorSelector
        /// Milliseconds, > 0.
        public var range: Int64
        public var positionRange: PromQLPositionRange

        public init(_ vectorSelector: VectorSelector, range: Int64,
                    positionRange: PromQLPositionRange = .init(start: 0, end: 0)) {
            self.vectorSelector = vectorSelector
            self.range = range
            self.positionRange = positionRange
        }
    }

    /// `expr[range:step] @ t offset d`.
    public struct Subquery: Sendable {
        public var expr: Expr
        /// Milliseconds, > 0.
        public var range: Int64
        /// Milliseconds, or nil for the default evaluation interval (`[5m:]`; `[5m:0s]` is the same).
        public var step: Int64?
        public var offset: Int64
        public var at: AtModifier?
        public var positionRange: PromQLPositionRange

        public init(_ expr: Expr, range: Int64, step: Int64? = nil, offset: Int64 = 0, at: AtModifier? = nil,
                    positionRange: PromQLPositionRange = .init(start: 0, end: 0)) {
            self.expr = expr
            self.range = range
            self.step = step
            self.offset = offset
            self.at = at
            self.positionRange = positionRange
        }
    }

    /// `( expr )`, kept so that printing reproduces the grouping.
    public struct Paren: Sendable {
        public var expr: Expr
        public var positionRange: PromQLPositionRange

        public init(_ expr: Expr, positionRange: PromQLPositionRange = .init(start: 0, end: 0)) {
            self.expr = expr
            self.positionRange = positionRange
        }
    }

    public enum UnaryOp: String, Hashable, Sendable {
        case plus = "+"
        case minus = "-"
    }

    /// `-expr` or `+expr` (a sign in front of a number literal is folded into the literal instead).
    public struct Unary: Sendable {
        public var op: UnaryOp
        public var expr: Expr
        public var positionRange: PromQLPositionRange

        public init(_ op: UnaryOp, _ expr: Expr, positionRange: PromQLPositionRange = .init(start: 0, end: 0)) {
            self.op = op
            self.expr = expr
            self.positionRange = positionRange
        }
    }

    /// A binary operator; `rawValue` is its PromQL spelling.
    public enum BinaryOp: String, Hashable, Sendable, CaseIterable {
        case add = "+", sub = "-", mul = "*", div = "/", mod = "%", pow = "^", atan2
        case eql = "==", neq = "!=", gtr = ">", lss = "<", gte = ">=", lte = "<="
        case and, or, unless

        /// Binding strength: `or` 1, `and`/`unless` 2, comparisons 3, `+ -` 4, `* / % atan2` 5, `^` 6.
        public var precedence: Int {
            switch self {
            case .or: return 1
            case .and, .unless: return 2
            case .eql, .neq, .gtr, .lss, .gte, .lte: return 3
            case .add, .sub: return 4
            case .mul, .div, .mod, .atan2: return 5
            case .pow: return 6
            }
        }

        /// Only `^` groups to the right.
        public var isRightAssociative: Bool { self == .pow }

        public var isComparison: Bool {
            switch self {
            case .eql, .neq, .gtr, .lss, .gte, .lte: return true
            default: return false
            }
        }

        public var isSetOperator: Bool { self == .and || self == .or || self == .unless }
    }

    /// How the series of two instant vectors are paired.
    public enum Cardinality: String, Hashable, Sendable {
        case oneToOne = "one-to-one"
        /// `group_left`.
        case manyToOne = "many-to-one"
        /// `group_right`.
        case oneToMany = "one-to-many"
        /// Set operators.
        case manyToMany = "many-to-many"
    }

    /// The `on`/`ignoring` and `group_left`/`group_right` part of a binary operation between vectors.
    public struct VectorMatching: Hashable, Sendable {
        public var card: Cardinality
        /// True for `on(...)`, false for `ignoring(...)` (or no clause).
        public var on: Bool
        public var matchingLabels: [String]
        /// The extra labels of `group_left(...)`/`group_right(...)`.
        public var include: [String]

        public init(card: Cardinality = .oneToOne, on: Bool = false, matchingLabels: [String] = [], include: [String] = []) {
            self.card = card
            self.on = on
            self.matchingLabels = matchingLabels
            self.include = include
        }
    }

    /// `lhs op [bool] [on|ignoring(...)] [group_left|group_right(...)] rhs`.
    ///
    /// `matching` is nil unless both sides are instant vectors; set operators are many-to-many.
    public struct Binary: Sendable {
        public var op: BinaryOp
        public var lhs: Expr
        public var rhs: Expr
        public var returnBool: Bool
        public var matching: VectorMatching?
        public var positionRange: PromQLPositionRange

        public init(_ op: BinaryOp, _ lhs: Expr, _ rhs: Expr, returnBool: Bool = false,
                    matching: VectorMatching? = nil, positionRange: PromQLPositionRange = .init(start: 0, end: 0)) {
            self.op = op
            self.lhs = lhs
            self.rhs = rhs
            self.returnBool = returnBool
            self.matching = matching
            self.positionRange = positionRange
        }
    }

    /// An aggregation operator; `rawValue` is its PromQL spelling.
    public enum AggregateOp: String, Hashable, Sendable, CaseIterable {
        case sum, avg, count, min, max, group, stddev, stdvar, topk, bottomk
        case countValues = "count_values"
        case quantile, limitk
        case limitRatio = "limit_ratio"

        /// True for the operators whose first argument is a parameter.
        public var hasParameter: Bool {
            switch self {
            case .topk, .bottomk, .countValues, .quantile, .limitk, .limitRatio: return true
            default: return false
            }
        }

        /// The type the parameter must have (string for `count_values`, scalar otherwise).
        public var parameterType: PromQLValueType? {
            guard hasParameter else { return nil }
            return self == .countValues ? .string : .scalar
        }
    }

    /// `op [by|without (labels)] ([param,] expr)`.
    public struct Aggregate: Sendable {
        public var op: AggregateOp
        public var expr: Expr
        public var param: Expr?
        public var grouping: [String]
        public var without: Bool
        public var positionRange: PromQLPositionRange

        public init(_ op: AggregateOp, _ expr: Expr, param: Expr? = nil, grouping: [String] = [], without: Bool = false,
                    positionRange: PromQLPositionRange = .init(start: 0, end: 0)) {
            self.op = op
            self.expr = expr
            self.param = param
            self.grouping = grouping
            self.without = without
            self.positionRange = positionRange
        }
    }

    /// A function call.
    public struct Call: Sendable {
        public var function: PromQLFunction
        public var args: [Expr]
        public var positionRange: PromQLPositionRange

        public init(_ function: PromQLFunction, _ args: [Expr], positionRange: PromQLPositionRange = .init(start: 0, end: 0)) {
            self.function = function
            self.args = args
            self.positionRange = positionRange
        }
    }
}

// MARK: - Properties

extension Expr {
    /// The type of value the expression evaluates to.
    public var type: PromQLValueType {
        switch self {
        case .number: return .scalar
        case .string: return .string
        case .vectorSelector: return .vector
        case .matrixSelector, .subquery: return .matrix
        case .paren(let p): return p.expr.type
        case .unary(let u): return u.expr.type
        case .binary(var b):
            // Scalar only if every operand down the chain of left operands is (walked without recursion).
            while true {
                if b.rhs.type != .scalar { return .vector }
                guard case .binary(let inner) = b.lhs else { return b.lhs.type == .scalar ? .scalar : .vector }
                b = inner
            }
        case .aggregate: return .vector
        case .call(let c): return c.function.returnType
        }
    }

    /// The part of the query the node was parsed from.
    public var positionRange: PromQLPositionRange {
        switch self {
        case .number(let n): return n.positionRange
        case .string(let s): return s.positionRange
        case .vectorSelector(let v): return v.positionRange
        case .matrixSelector(let m): return m.positionRange
        case .subquery(let s): return s.positionRange
        case .paren(let p): return p.positionRange
        case .unary(let u): return u.positionRange
        case .binary(let b): return b.positionRange
        case .aggregate(let a): return a.positionRange
        case .call(let c): return c.positionRange
        }
    }

    /// The direct sub-expressions, in source order.
    public var children: [Expr] {
        switch self {
        case .number, .string, .vectorSelector: return []
        case .matrixSelector(let m): return [.vectorSelector(m.vectorSelector)]
        case .subquery(let s): return [s.expr]
        case .paren(let p): return [p.expr]
        case .unary(let u): return [u.expr]
        case .binary(let b): return [b.lhs, b.rhs]
        case .aggregate(let a): return a.param.map { [$0, a.expr] } ?? [a.expr]
        case .call(let c): return c.args
        }
    }

    /// Calls `visit` on this node and every descendant, parents before children.
    public func walk(_ visit: (Expr) throws -> Void) rethrows {
        try visit(self)
        switch self {
        case .number, .string, .vectorSelector: return
        case .matrixSelector(let m): try visit(.vectorSelector(m.vectorSelector))
        case .subquery(let s): try s.expr.walk(visit)
        case .paren(let p): try p.expr.walk(visit)
        case .unary(let u): try u.expr.walk(visit)
        case .binary(let top):
            // Visit the chain of left operands iteratively, in the same order recursion would.
            var spine = [top]
            while case .binary(let inner) = spine[spine.count - 1].lhs {
                try visit(spine[spine.count - 1].lhs)
                spine.append(inner)
            }
            try spine[spine.count - 1].lhs.walk(visit)
            for b in spine.reversed() { try b.rhs.walk(visit) }
        case .aggregate(let a):
            try a.param?.walk(visit)
            try a.expr.walk(visit)
        case .call(let c):
            for arg in c.args { try arg.walk(visit) }
        }
    }
}

// MARK: - Equality (ignores positions)

extension Expr: Equatable {
    public static func == (a: Expr, b: Expr) -> Bool {
        switch (a, b) {
        case (.number(let x), .number(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.vectorSelector(let x), .vectorSelector(let y)): return x == y
        case (.matrixSelector(let x), .matrixSelector(let y)): return x == y
        case (.subquery(let x), .subquery(let y)): return x == y
        case (.paren(let x), .paren(let y)): return x == y
        case (.unary(let x), .unary(let y)): return x == y
        case (.binary(let x), .binary(let y)): return x == y
        case (.aggregate(let x), .aggregate(let y)): return x == y
        case (.call(let x), .call(let y)): return x == y
        default: return false
        }
    }
}

extension Expr.NumberLiteral: Equatable {
    /// NaN equals NaN here, so parsed queries compare equal to their printed form.
    public static func == (a: Self, b: Self) -> Bool {
        a.value == b.value || (a.value.isNaN && b.value.isNaN)
    }
}

extension Expr.StringLiteral: Equatable {
    public static func == (a: Self, b: Self) -> Bool { a.value == b.value }
}

extension Expr.VectorSelector: Equatable {
    /// Matchers compare as a multiset: their order does not change what a selector selects.
    public static func == (a: Self, b: Self) -> Bool {
        guard a.name == b.name, a.offset == b.offset, a.at == b.at, a.matchers.count == b.matchers.count else { return false }
        func key(_ m: Matcher) -> String { m.name + "\u{0}" + m.kind.rawValue + "\u{0}" + m.value }
        if zip(a.matchers, b.matchers).allSatisfy({ key($0) == key($1) }) { return true }
        return a.matchers.map(key).sorted() == b.matchers.map(key).sorted()
    }
}

extension Expr.MatrixSelector: Equatable {
    public static func == (a: Self, b: Self) -> Bool { a.range == b.range && a.vectorSelector == b.vectorSelector }
}

extension Expr.Subquery: Equatable {
    public static func == (a: Self, b: Self) -> Bool {
        a.range == b.range && a.step == b.step && a.offset == b.offset && a.at == b.at && a.expr == b.expr
    }
}

extension Expr.Paren: Equatable {
    public static func == (a: Self, b: Self) -> Bool { a.expr == b.expr }
}

extension Expr.Unary: Equatable {
    public static func == (a: Self, b: Self) -> Bool { a.op == b.op && a.expr == b.expr }
}

extension Expr.Binary: Equatable {
    /// Compares down the chain of left operands without recursing.
    public static func == (a: Self, b: Self) -> Bool {
        var x = a
        var y = b
        while true {
            guard x.op == y.op, x.returnBool == y.returnBool, x.matching == y.matching, x.rhs == y.rhs else { return false }
            guard case .binary(let xl) = x.lhs, case .binary(let yl) = y.lhs else { return x.lhs == y.lhs }
            x = xl
            y = yl
        }
    }
}

extension Expr.Aggregate: Equatable {
    /// `by ()` and no grouping are the same aggregation.
    public static func == (a: Self, b: Self) -> Bool {
        a.op == b.op && a.without == b.without && a.grouping == b.grouping && a.param == b.param && a.expr == b.expr
    }
}

extension Expr.Call: Equatable {
    public static func == (a: Self, b: Self) -> Bool { a.function == b.function && a.args == b.args }
}
