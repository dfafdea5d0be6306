import ArgusModel
import ArgusStorage

/// Limits and defaults of the PromQL engine.
public struct PromQLEngineOptions: Sendable {
    /// The most samples a query may hold in memory at once (Prometheus' `--query.max-samples`).
    public var maxSamples: Int = 50_000_000
    /// How long a query may run, in seconds (Prometheus' `--query.timeout`).
    public var timeout: Double = 120
    /// How far back an instant vector selector looks for a sample, in milliseconds.
    public var lookbackDelta: Int64 = 300_000
    /// The step of a subquery written without one (`x[5m:]`), in milliseconds: the default
    /// rule evaluation interval.
    public var defaultSubqueryStep: Int64 = 60_000

    public init(maxSamples: Int = 50_000_000, timeout: Double = 120, lookbackDelta: Int64 = 300_000,
                defaultSubqueryStep: Int64 = 60_000) {
        self.maxSamples = maxSamples
        self.timeout = timeout
        self.lookbackDelta = lookbackDelta
        self.defaultSubqueryStep = defaultSubqueryStep
    }
}

/// Evaluates PromQL over a `MetricStore` with Prometheus 3 semantics (float samples; native
/// histograms are not supported).
///
/// Errors are `ArgusError`s: `.badInput` for parse errors (message as Prometheus prints it,
/// `1:5: parse error: ...`) and invalid parameters, `.execution` for failures while evaluating
/// (duplicate series in a match group, too many samples, ...), `.timeout` when the query runs
/// longer than `options.timeout`. A limit ends the query, never the process.
///
/// Evaluation is column-wise: every node of the expression is evaluated once over all steps of
/// the query; each selector reads storage once for the whole range it needs.
public final class PromQLEngine: Sendable {
    public let options: PromQLEngineOptions

    public init(options: PromQLEngineOptions = PromQLEngineOptions()) {
        self.options = options
    }

    /// Evaluates `query` at `time` (milliseconds since the epoch).
    public func instantQuery(_ query: String, at time: Int64, store: MetricStore) async throws -> PromQLResult {
        let expr = try Self.parse(query)
        return try evaluate(expr, start: time, end: time, step: 0, store: store, query: query)
    }

    /// Evaluates `query` at every `step` milliseconds from `start` to `end` (inclusive).
    /// The result is a matrix sorted by labels.
    public func rangeQuery(_ query: String, start: Int64, end: Int64, step: Int64, store: MetricStore) async throws -> PromQLResult {
        let expr = try Self.parse(query)
        if step <= 0 {
            throw ArgusError(.badInput, "zero or negative query resolution step widths are not accepted. Try a positive integer")
        }
        if end < start {
            throw ArgusError(.badInput, "end timestamp must not be before start time")
        }
        switch expr.type {
        case .scalar, .vector: break
        default:
            throw ArgusError(.badInput, "invalid expression type \"\(expr.type.documentedName)\" for range query, must be Scalar or instant Vector")
        }
        return try evaluate(expr, start: start, end: end, step: step, store: store, query: query)
    }

    /// Evaluates an already parsed expression; `step` 0 means an instant query at `start`.
    /// `query` is the expression's source text, used in some error messages.
    public func evaluate(_ expr: Expr, start: Int64, end: Int64, step: Int64, store: MetricStore,
                         query: String = "") throws -> PromQLResult {
        let evaluator = PromQLEvaluator(store: store, options: options, start: start, end: end,
                                        step: step == 0 ? 1 : step, isInstant: step == 0)
        evaluator.queryText = query
        let value = try evaluator.run(expr)
        return PromQLResult(value: value, warnings: evaluator.annotations.warnings, infos: evaluator.annotations.infos,
                            samplesRead: evaluator.samplesRead)
    }

    /// Evaluates an expression whose selectors may be answered by `leafSource` (LogQL metric
    /// queries run their aggregations and binary operations through here).
    func evaluate(_ expr: Expr, start: Int64, end: Int64, step: Int64, store: MetricStore?, query: String,
                  leafSource: @escaping (Expr.VectorSelector, PromQLGrid) throws -> GridVector?) throws -> PromQLResult {
        let evaluator = PromQLEvaluator(store: store, options: options, start: start, end: end,
                                        step: step == 0 ? 1 : step, isInstant: step == 0)
        evaluator.queryText = query
        evaluator.leafSource = leafSource
        let value = try evaluator.run(expr)
        return PromQLResult(value: value, warnings: evaluator.annotations.warnings, infos: evaluator.annotations.infos,
                            samplesRead: evaluator.samplesRead)
    }

    /// Parses and type-checks a query, throwing `ArgusError(.badInput)` with Prometheus' message.
    public static func parse(_ query: String) throws -> Expr {
        do {
            return try PromQLParser.parse(query)
        } catch let e as PromQLParseError {
            throw e.argusError
        }
    }
}
