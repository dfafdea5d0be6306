import ArgusModel
import ArgusQuery
import ArgusStorage
import Foundation

/// One element of a rule query's result.
public struct RuleSample: Sendable {
    public var labels: Labels
    public var value: Double
    public init(labels: Labels, value: Double) {
        self.labels = labels
        self.value = value
    }
}

/// How rules reach a query engine: `(expr, time in ms) async throws -> samples`, one per
/// language (Prometheus' `QueryFunc`). `templateQuery` answers the `query` template function.
public struct RuleQueryFuncs: Sendable {
    public typealias QueryFunc = @Sendable (_ expr: String, _ time: Int64) async throws -> [RuleSample]
    public var promql: QueryFunc
    /// LogQL metric queries; nil until a LogQL engine is plugged in, and then `language: logql`
    /// groups fail to load with a clear message.
    public var logql: QueryFunc?
    public var templateQuery: (@Sendable (_ expr: String, _ time: Int64) throws -> [RuleSample])?

    public init(promql: @escaping QueryFunc, logql: QueryFunc? = nil,
                templateQuery: (@Sendable (String, Int64) throws -> [RuleSample])? = nil) {
        self.promql = promql
        self.logql = logql
        self.templateQuery = templateQuery
    }

    /// PromQL over a metric store through `engine`.
    public static func forPromQL(engine: PromQLEngine, store: MetricStore) -> RuleQueryFuncs {
        let sync: @Sendable (String, Int64) throws -> [RuleSample] = { expr, t in
            let r = try engine.evaluate(try PromQLEngine.parse(expr), start: t, end: t, step: 0, store: store, query: expr)
            switch r.value {
            case let .vector(v): return v.map { RuleSample(labels: $0.labels, value: $0.v) }
            case let .scalar(_, v): return [RuleSample(labels: Labels(), value: v)]
            default: throw ArgusError(.badInput, "rule result is not a vector or scalar")
            }
        }
        return RuleQueryFuncs(promql: { expr, t in try sync(expr, t) }, templateQuery: sync)
    }
}

/// The health of a rule after its last evaluation, as Prometheus' API shows it.
public enum RuleHealth: String, Sendable {
    case unknown
    case ok
    case err
}

/// One rule at run time: its spec, its parsed templates, its last evaluation and, for an
/// alerting rule, its alert state.
public struct RuleRuntime: Sendable {
    public let spec: RuleSpec
    public var state: AlertingRuleState?
    public var health = RuleHealth.unknown
    public var lastError = ""
    public var lastEvaluation: Int64 = 0
    public var evaluationSeconds = 0.0
    /// Series written at the last evaluation, to mark stale when they disappear.
    var lastSeries = Set<Labels>()

    init(spec: RuleSpec) {
        self.spec = spec
        if spec.isAlert {
            state = AlertingRuleState(name: spec.name, forMs: spec.forMs, keepFiringForMs: spec.keepFiringForMs)
        }
    }
}

/// Stores one rule's output at the evaluation time: its samples, and staleness markers for
/// series it wrote last time and not now. Called after each rule, so later rules of the group
/// see earlier rules' output at the same timestamp (as in Prometheus).
public typealias RuleSampleWriter = @Sendable (_ samples: [(Labels, Double)], _ stale: [Labels], _ ts: Int64) async -> Void

/// A rule group at run time: rules evaluated in order at one timestamp every `intervalMs`.
public struct RuleGroup: Sendable {
    public let spec: RuleGroupSpec
    public let intervalMs: Int64
    public var rules: [RuleRuntime]
    public var lastEvaluation: Int64 = 0
    public var evaluationSeconds = 0.0

    /// The group's identity across reloads and restarts: file and name.
    public var key: String { spec.file + ";" + spec.name }

    public init(spec: RuleGroupSpec, defaultIntervalMs: Int64) {
        self.spec = spec
        intervalMs = spec.intervalMs ?? defaultIntervalMs
        rules = spec.rules.map(RuleRuntime.init)
    }

    /// Takes the alert state of rules with the same name and query from `old` (a reload keeps
    /// pending and firing alerts).
    public mutating func inherit(from old: RuleGroup) {
        for i in rules.indices where rules[i].spec.isAlert {
            if let o = old.rules.first(where: { $0.spec.name == rules[i].spec.name && $0.spec.expr == rules[i].spec.expr && $0.state != nil }) {
                rules[i].state?.restore(o.state!.alerts)
                rules[i].lastSeries = o.lastSeries
            }
        }
    }

    /// Evaluates every rule at `ts` (ms). Errors end up in each rule's health, never thrown.
    public mutating func evaluate(at ts: Int64, query: RuleQueryFuncs, externalLabels: Labels, externalURL: String,
                                  write: RuleSampleWriter) async {
        let groupStart = TimeUtil.monotonicNanos()
        let queryFunc: RuleQueryFuncs.QueryFunc
        if spec.language == .logql {
            guard let l = query.logql else {
                for i in rules.indices {
                    rules[i].health = .err
                    rules[i].lastError = "LogQL rules need the LogQL engine, which this build does not have"
                }
                return
            }
            queryFunc = l
        } else {
            queryFunc = query.promql
        }
        let ext = Dictionary(externalLabels.items.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
        for i in rules.indices {
            let start = TimeUtil.monotonicNanos()
            var produced: [(Labels, Double)] = []
            do {
                let result = try await queryFunc(rules[i].spec.expr, ts - spec.queryOffsetMs)
                if rules[i].spec.isAlert {
                    var rule = rules[i]
                    defer { rules[i] = rule }
                    produced = try evaluateAlert(&rule, result, at: ts, ext: ext, externalURL: externalURL, query: query)
                } else {
                    produced = try evaluateRecording(rules[i].spec, result)
                }
                rules[i].health = .ok
                rules[i].lastError = ""
            } catch {
                rules[i].health = .err
                rules[i].lastError = "\(error)"
            }
            var now = Set<Labels>()
            for (l, _) in produced { now.insert(l) }
            let stale = rules[i].lastSeries.filter { !now.contains($0) }
            if !produced.isEmpty || !stale.isEmpty { await write(produced, Array(stale), ts) }
            rules[i].lastSeries = now
            rules[i].lastEvaluation = ts
            rules[i].evaluationSeconds = Double(TimeUtil.monotonicNanos() - start) / 1e9
        }
        lastEvaluation = ts
        evaluationSeconds = Double(TimeUtil.monotonicNanos() - groupStart) / 1e9
    }

    func evaluateRecording(_ spec: RuleSpec, _ result: [RuleSample]) throws -> [(Labels, Double)] {
        var out: [(Labels, Double)] = []
        var seen = Set<Labels>()
        for s in result {
            var l = s.labels.setting(Labels.metricName, spec.record!)
            for (k, v) in spec.labels { l = l.setting(k, v) }
            for (k, v) in self.spec.labels where l[k] == nil { l = l.setting(k, v) }
            guard seen.insert(l).inserted else {
                throw ArgusError(.execution, "vector contains metrics with the same labelset after applying rule labels")
            }
            out.append((l, s.value))
        }
        if self.spec.limit > 0 && out.count > self.spec.limit {
            throw ArgusError(.limit, "exceeded limit of \(self.spec.limit) with \(out.count) series")
        }
        return out
    }

    func evaluateAlert(_ rule: inout RuleRuntime, _ result: [RuleSample], at ts: Int64, ext: [String: String],
                       externalURL: String, query: RuleQueryFuncs) throws -> [(Labels, Double)] {
        let spec = rule.spec
        var expanded: [(labels: Labels, annotations: Labels, value: Double)] = []
        var seen = Set<Labels>()
        let tq = query.templateQuery
        let templateQuery: ((String) throws -> [TemplateValue])? = tq.map { f in
            { q in
                try f(q, ts).map { s in
                    .sample(labels: Dictionary(s.labels.items.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a }), value: s.value)
                }
            }
        }
        let tmplName = "__alert_" + spec.name
        for s in result {
            let labelMap = Dictionary(s.labels.items.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
            let data = TemplateData(labels: labelMap, value: s.value, externalLabels: ext, externalURL: externalURL)
            var l = s.labels.withoutMetricName
            for (k, v) in spec.labels { l = l.setting(k, Template.expand(v, name: tmplName, data: data, query: templateQuery)) }
            for (k, v) in self.spec.labels where l[k] == nil { l = l.setting(k, v) }
            l = l.setting("alertname", spec.name)
            var ann: [(String, String)] = []
            for (k, v) in spec.annotations { ann.append((k, Template.expand(v, name: tmplName, data: data, query: templateQuery))) }
            guard seen.insert(l).inserted else {
                throw ArgusError(.execution, "vector contains metrics with the same labelset after applying alert labels")
            }
            expanded.append((l, Labels(ann), s.value))
        }
        if self.spec.limit > 0 && expanded.count > self.spec.limit {
            // Prometheus drops every alert of the rule when the limit is exceeded.
            _ = rule.state!.evaluate([], at: ts)
            throw ArgusError(.limit, "exceeded limit of \(self.spec.limit) with \(expanded.count) alerts")
        }
        return rule.state!.evaluate(expanded, at: ts)
    }
}
