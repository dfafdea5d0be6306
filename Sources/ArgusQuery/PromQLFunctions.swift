/// A PromQL function's signature: what the parser uses to resolve and type-check calls.
///
/// `variadic` follows Prometheus: 0 means exactly `argTypes.count` arguments; otherwise the last
/// argument type is optional and may repeat, up to `variadic` more times (or without limit when -1).
public struct PromQLFunction: Hashable, Sendable, CustomStringConvertible {
    public let name: String
    public let argTypes: [PromQLValueType]
    public let variadic: Int
    public let returnType: PromQLValueType
    /// Prometheus gates these behind `--enable-feature=promql-experimental-functions`; Argus accepts them.
    public let experimental: Bool

    public init(name: String, argTypes: [PromQLValueType], variadic: Int = 0,
                returnType: PromQLValueType, experimental: Bool = false) {
        self.name = name
        self.argTypes = argTypes
        self.variadic = variadic
        self.returnType = returnType
        self.experimental = experimental
    }

    /// The fewest arguments a call may pass.
    public var minArgs: Int { variadic == 0 ? argTypes.count : argTypes.count - 1 }

    /// The most arguments a call may pass, or nil when unbounded.
    public var maxArgs: Int? {
        if variadic == 0 { return argTypes.count }
        if variadic < 0 { return nil }
        return argTypes.count - 1 + variadic
    }

    /// The expected type of argument `index`, or nil past the end of a fixed signature.
    public func argType(at index: Int) -> PromQLValueType? {
        if index < argTypes.count { return argTypes[index] }
        return variadic == 0 ? nil : argTypes.last
    }

    public var description: String { name }

    /// Looks a function up by its (case-sensitive) name.
    public static func named(_ name: String) -> PromQLFunction? { all[name] }

    /// Every function of Prometheus 3 PromQL (except `info`), keyed by name.
    public static let all: [String: PromQLFunction] = {
        var table: [String: PromQLFunction] = [:]
        for f in list { table[f.name] = f }
        return table
    }()

    private static let list: [PromQLFunction] = {
        let s = PromQLValueType.scalar, v = PromQLValueType.vector, m = PromQLValueType.matrix, str = PromQLValueType.string
        func fn(_ name: String, _ args: [PromQLValueType], variadic: Int = 0, returns: PromQLValueType = .vector,
                experimental: Bool = false) -> PromQLFunction {
            PromQLFunction(name: name, argTypes: args, variadic: variadic, returnType: returns, experimental: experimental)
        }
        var list: [PromQLFunction] = []
        // Element-wise math on instant vectors.
        for name in ["abs", "acos", "acosh", "asin", "asinh", "atan", "atanh", "ceil", "cos", "cosh", "deg", "exp",
                     "floor", "ln", "log10", "log2", "rad", "sgn", "sin", "sinh", "sqrt", "tan", "tanh"] {
            list.append(fn(name, [v]))
        }
        // Other instant-vector functions.
        for name in ["absent", "sort", "sort_desc", "timestamp",
                     "histogram_avg", "histogram_count", "histogram_sum", "histogram_stddev", "histogram_stdvar"] {
            list.append(fn(name, [v]))
        }
        // Range-vector functions.
        for name in ["absent_over_time", "avg_over_time", "changes", "count_over_time", "delta", "deriv", "idelta",
                     "increase", "irate", "last_over_time", "max_over_time", "min_over_time", "present_over_time",
                     "rate", "resets", "stddev_over_time", "stdvar_over_time", "sum_over_time"] {
            list.append(fn(name, [m]))
        }
        // Date functions with an optional vector argument.
        for name in ["day_of_month", "day_of_week", "day_of_year", "days_in_month", "hour", "minute", "month", "year"] {
            list.append(fn(name, [v], variadic: 1))
        }
        list += [
            fn("clamp", [v, s, s]),
            fn("clamp_max", [v, s]),
            fn("clamp_min", [v, s]),
            fn("histogram_fraction", [s, s, v]),
            fn("histogram_quantile", [s, v]),
            fn("label_replace", [v, str, str, str, str]),
            fn("label_join", [v, str, str, str], variadic: -1),
            fn("pi", [], returns: s),
            fn("predict_linear", [m, s]),
            fn("quantile_over_time", [s, m]),
            fn("round", [v, s], variadic: 1),
            fn("scalar", [v], returns: s),
            fn("time", [], returns: s),
            fn("vector", [s]),
            // Experimental in Prometheus 3.
            fn("double_exponential_smoothing", [m, s, s], experimental: true),
            fn("mad_over_time", [m], experimental: true),
            fn("ts_of_min_over_time", [m], experimental: true),
            fn("ts_of_max_over_time", [m], experimental: true),
            fn("ts_of_last_over_time", [m], experimental: true),
            fn("sort_by_label", [v, str], variadic: -1, experimental: true),
            fn("sort_by_label_desc", [v, str], variadic: -1, experimental: true),
        ]
        return list
    }()
}
