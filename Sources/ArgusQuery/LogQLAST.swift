import ArgusModel

/// A parsed LogQL query: a log query (selector and pipeline) or a metric query.
public enum LogQLQuery: Sendable {
    case logs(LogQLLogExpr)
    case metric(LogQLMetricExpr)
}

/// `{matchers} pipeline`.
public struct LogQLLogExpr: Sendable {
    public var matchers: [Matcher]
    public var stages: [LogQLStage]
}

public enum LogQLLineFilterOp: String, Sendable {
    case contains = "|=", notContains = "!=", regex = "|~", notRegex = "!~", pattern = "|>", notPattern = "!>"
}

/// A comparison inside a label filter.
public enum LogQLCompareOp: String, Sendable {
    case eq = "=", eqeq = "==", ne = "!=", gt = ">", ge = ">=", lt = "<", le = "<=", re = "=~", nre = "!~"
}

/// A label filter expression: comparisons joined by `and`/`or`.
public indirect enum LogQLLabelFilter: Sendable {
    case string(name: String, op: LogQLCompareOp, value: String, regex: AnchoredRegex?)
    case number(name: String, op: LogQLCompareOp, value: Double)
    case duration(name: String, op: LogQLCompareOp, seconds: Double)
    case bytes(name: String, op: LogQLCompareOp, value: Double)
    case and(LogQLLabelFilter, LogQLLabelFilter)
    case or(LogQLLabelFilter, LogQLLabelFilter)
}

public enum LogQLStage: Sendable {
    /// One line filter; `or` alternatives are extra needles of the same operator.
    case lineFilter(op: LogQLLineFilterOp, needles: [String], regexes: [LogQLRegex])
    case json(params: [(label: String, path: String)])
    case logfmt(params: [(label: String, key: String)], strict: Bool, keepEmpty: Bool)
    case regexp(LogQLRegex)
    case pattern(LogQLPattern)
    case unpack
    case labelFilter(LogQLLabelFilter)
    case lineFormat(LogQLTemplate)
    case labelFormat([(dst: String, src: String?, template: LogQLTemplate?)])
    case drop([LogQLDropKeep])
    case keep([LogQLDropKeep])
    case decolorize
    /// Only inside a range aggregation: the label whose value becomes the sample.
    case unwrap(label: String, conversion: String)
}

/// A `drop`/`keep` item: a name, or a name with a matcher (`level="debug"`).
public struct LogQLDropKeep: Sendable {
    public var name: String
    public var matcher: Matcher?
}

/// `count_over_time({…} | … [5m] offset 1m)` and friends.
public struct LogQLRangeAggregation: Sendable {
    public var op: String
    public var log: LogQLLogExpr
    /// Nanoseconds.
    public var range: Int64
    public var offset: Int64
    public var param: Double?
    public var grouping: [String]?
    public var without: Bool
    public var unwrap: (label: String, conversion: String)? {
        for s in log.stages { if case .unwrap(let l, let c) = s { return (l, c) } }
        return nil
    }
}

/// Vector matching of a binary operation, as PromQL writes it.
public struct LogQLVectorMatching: Sendable {
    public var on: Bool
    public var labels: [String]
    public var group: String?  // "group_left" / "group_right"
    public var include: [String]
}

public indirect enum LogQLMetricExpr: Sendable {
    case range(LogQLRangeAggregation)
    case number(Double)
    case aggregate(op: String, grouping: [String]?, without: Bool, param: LogQLMetricExpr?, expr: LogQLMetricExpr)
    case binary(op: String, bool: Bool, matching: LogQLVectorMatching?, lhs: LogQLMetricExpr, rhs: LogQLMetricExpr)
    case paren(LogQLMetricExpr)
    case labelReplace(LogQLMetricExpr, dst: String, replacement: String, src: String, regex: String)
    case vector(Double)

    /// The range aggregations (leaves) of the expression, in order.
    var leaves: [LogQLRangeAggregation] {
        switch self {
        case .range(let r): return [r]
        case .number, .vector: return []
        case .aggregate(_, _, _, let p, let e): return (p?.leaves ?? []) + e.leaves
        case .binary(_, _, _, let l, let r): return l.leaves + r.leaves
        case .paren(let e): return e.leaves
        case .labelReplace(let e, _, _, _, _): return e.leaves
        }
    }
}
