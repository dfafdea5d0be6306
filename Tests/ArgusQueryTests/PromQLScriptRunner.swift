import ArgusModel
import ArgusStorage
import ArgusTestKit
import Foundation
@testable import ArgusQuery

/// Runs `PromQLScript`s against a real `MetricStore` the way Prometheus' `promqltest` does:
/// every instant `eval` is also run with `@` pinned on its selectors at other evaluation times
/// and as a range query around its time, and must give the same result each way.
///
/// Cases that need native histograms are skipped: those whose expectation holds `{{...}}`
/// values, and those that fail while their query names a metric loaded as native histograms.
final class PromQLScriptRunner {
    struct Failure: CustomStringConvertible {
        var file: String
        var line: Int
        var query: String
        var difference: String
        var description: String { "\(file):\(line): \(query)\n    \(difference)" }
    }

    struct Summary {
        var passed = 0
        var failed = 0
        /// Cases whose expected values are native histograms.
        var skippedNativeValues = 0
        /// Cases that fail while their query selects series loaded as native histograms.
        var skippedNativeInput = 0
        var skipped: Int { skippedNativeValues + skippedNativeInput }
    }

    let engine: PromQLEngine
    private(set) var failures: [Failure] = []
    private(set) var summaries: [(file: String, summary: Summary)] = []

    init(engine: PromQLEngine = PromQLEngine()) {
        self.engine = engine
    }

    /// Runs one script; `name` labels its failures.
    func run(_ text: String, name: String) async {
        let script = PromQLScript(text)
        var summary = Summary()
        var dir = TempDir("argus-promql")
        var store: MetricStore? = nil
        var nativeNames: Set<String> = []
        var nativeSeries: [Labels] = []
        func openStore() {
            store?.close()
            dir.remove()
            dir = TempDir("argus-promql")
            store = try? MetricStore(options: StorageOptions(dataDir: dir.path))
            nativeNames = []
            nativeSeries = []
        }
        openStore()
        defer {
            store?.close()
            dir.remove()
        }
        for command in script.commands {
            switch command {
            case .clear:
                openStore()
            case .invalid(let line, let text, let reason):
                summary.failed += 1
                failures.append(Failure(file: name, line: line, query: text, difference: "script: \(reason)"))
            case .load(let load):
                nativeNames.formUnion(load.nativeHistogramNames)
                nativeSeries += load.nativeHistogramSeries
                guard let store else { continue }
                do {
                    let app = store.appender()
                    for s in load.series {
                        let ref = try store.seriesRef(for: s.labels)
                        for (t, v) in s.samples { app.append(ref: ref, t, v) }
                    }
                    try app.commit()
                } catch {
                    summary.failed += 1
                    failures.append(Failure(file: name, line: load.line, query: "load", difference: "load failed: \(error)"))
                }
            case .eval(let eval):
                guard let store else { continue }
                if eval.needsNativeHistograms {
                    summary.skippedNativeValues += 1
                    continue
                }
                if let problem = await check(eval, store) {
                    if selects(eval.query, nativeSeries) {
                        summary.skippedNativeInput += 1
                        if ProcessInfo.processInfo.environment["ARGUS_PROMQL_VERBOSE"] != nil {
                            print("skipped \(name):\(eval.line): \(eval.query)\n    \(problem)")
                        }
                    } else {
                        summary.failed += 1
                        failures.append(Failure(file: name, line: eval.line, query: eval.query, difference: problem))
                    }
                } else {
                    summary.passed += 1
                }
            }
        }
        summaries.append((name, summary))
    }

    private func mentions(_ query: String, _ names: Set<String>) -> Bool {
        if names.isEmpty { return false }
        var word = ""
        for ch in query.unicodeScalars {
            if ch.properties.isAlphabetic && ch.isASCII || ch == "_" || ch == ":" || (ch >= "0" && ch <= "9" && !word.isEmpty) {
                word.unicodeScalars.append(ch)
            } else {
                if names.contains(word) { return true }
                word = ""
            }
        }
        return names.contains(word)
    }

    /// Whether a selector of `query` matches one of `series`.
    private func selects(_ query: String, _ series: [Labels]) -> Bool {
        guard !series.isEmpty, let expr = try? PromQLParser.parse(query) else { return false }
        var found = false
        expr.walk { e in
            guard case .vectorSelector(let sel) = e else { return }
            for l in series where sel.matchers.allSatisfy({ $0.matches(l.value($0.name)) }) { found = true }
        }
        return found
    }

    // MARK: - Checking one eval

    /// nil when the case passes, else the first difference.
    private func check(_ eval: PromQLScript.Eval, _ store: MetricStore) async -> String? {
        if eval.isRange {
            return await checkOne(eval, query: eval.query, at: nil, store)
        }
        if let problem = await checkOne(eval, query: eval.query, at: eval.start, store) { return problem }
        // The same query with `@` pinned on its selectors, at other times.
        guard let expr = try? PromQLParser.parse(eval.query), !containsAtUnsafeFunction(expr) else { return nil }
        let pinned = PromQLPrinter.format(pinAt(expr, eval.start))
        // Strings with invalid UTF-8 cannot be printed back as they were written.
        if pinned.unicodeScalars.contains("\u{FFFD}") { return nil }
        let ts = eval.start
        let times: [Int64] = ts == 0 ? [-1000, 0, 1000] : [-10 * ts, 0, ts / 5, ts, 10 * ts]
        for t in times {
            if let problem = await checkOne(eval, query: pinned, at: t, store) {
                return "(as \(pinned) at \(t)ms) " + problem
            }
        }
        return nil
    }

    private func checkOne(_ eval: PromQLScript.Eval, query: String, at time: Int64?, _ store: MetricStore) async -> String? {
        let result: PromQLResult
        do {
            if let time {
                result = try await engine.instantQuery(query, at: time, store: store)
            } else {
                result = try await engine.rangeQuery(query, start: eval.start, end: eval.end, step: eval.step, store: store)
            }
        } catch {
            guard eval.isFail else { return "unexpected error: \(message(of: error))" }
            return checkFailure(eval, message(of: error))
        }
        if eval.isFail { return "expected an error, got \(describe(result.value))" }
        if let problem = checkAnnotations(eval, result) { return problem }
        if let problem = compare(eval, result.value, isRange: time == nil) { return problem }
        // Range mode: the instant result must equal the middle step of a range query around it.
        guard let time, !eval.isOrdered, eval.rangeVector == nil, eval.expectedString == nil,
              query.range(of: #"(start|end|range|step)\(\)"#, options: .regularExpression) == nil else { return nil }
        do {
            let r = try await engine.rangeQuery(query, start: time - 60_000, end: time + 60_000, step: 60_000, store: store)
            guard case .matrix(let series) = r.value else { return "range mode: not a matrix" }
            for i in series.indices.dropFirst() where compareLabels(series[i - 1].labels, series[i].labels) > 0 {
                return "range mode: result not sorted by labels"
            }
            var vector: [PromQLSample] = []
            for s in series {
                if let p = s.samples.first(where: { $0.t == time }) { vector.append(PromQLSample(labels: s.labels, t: time, v: p.v)) }
            }
            let value: PromQLValue
            if case .scalar = result.value { value = .scalar(t: time, v: vector.first?.v ?? .nan) } else { value = .vector(vector) }
            if let problem = compare(eval, value, isRange: false) { return "range mode: " + problem }
        } catch {
            return "range mode: unexpected error: \(message(of: error))"
        }
        return nil
    }

    private func message(of error: Error) -> String {
        if let e = error as? ArgusError { return e.message }
        return "\(error)"
    }

    private func checkFailure(_ eval: PromQLScript.Eval, _ message: String) -> String? {
        if let expected = eval.failMessage, expected != message {
            return "expected error \(expected.debugDescription), got \(message.debugDescription)"
        }
        if let pattern = eval.failRegex, message.range(of: pattern, options: .regularExpression) == nil {
            return "expected error matching \(pattern.debugDescription), got \(message.debugDescription)"
        }
        if let e = eval.expectations.first(where: { $0.kind == "fail" }) {
            if let m = e.message, m != message { return "expected error \(m.debugDescription), got \(message.debugDescription)" }
            if let r = e.regex, message.range(of: r, options: .regularExpression) == nil {
                return "expected error matching \(r.debugDescription), got \(message.debugDescription)"
            }
        }
        return nil
    }

    private func checkAnnotations(_ eval: PromQLScript.Eval, _ result: PromQLResult) -> String? {
        if eval.warn && result.warnings.isEmpty { return "expected warnings, got none" }
        if eval.info && result.infos.isEmpty { return "expected info annotations, got none" }
        for (kind, actual) in [("warn", result.warnings), ("info", result.infos)] {
            let expected = eval.expectations.filter { $0.kind == kind }
            if expected.isEmpty { continue }
            if actual.isEmpty { return "expected \(kind) annotations, got none" }
            for e in expected where !actual.contains(where: { matches(e, $0) }) {
                return "expected \(kind) annotation \((e.message ?? e.regex ?? "").debugDescription), got \(actual)"
            }
            for a in actual where !expected.contains(where: { matches(e: $0, a) }) {
                return "unexpected \(kind) annotation \(a.debugDescription)"
            }
        }
        if eval.expectations.contains(where: { $0.kind == "no_warn" }) && !result.warnings.isEmpty {
            return "unexpected warnings \(result.warnings)"
        }
        if eval.expectations.contains(where: { $0.kind == "no_info" }) && !result.infos.isEmpty {
            return "unexpected infos \(result.infos)"
        }
        return nil
    }

    private func matches(_ e: PromQLScript.Expectation, _ text: String) -> Bool { matches(e: e, text) }

    private func matches(e: PromQLScript.Expectation, _ text: String) -> Bool {
        if let m = e.message { return m == text }
        if let r = e.regex { return text.range(of: r, options: .regularExpression) != nil }
        return true
    }

    // MARK: - Comparing values

    private func compare(_ eval: PromQLScript.Eval, _ value: PromQLValue, isRange: Bool) -> String? {
        switch value {
        case .scalar(_, let v):
            guard let expected = eval.scalar else { return "expected a vector, got scalar \(v)" }
            return almostEqual(expected, v) ? nil : "expected scalar \(expected), got \(v)"
        case .string(_, let s):
            guard let expected = eval.expectedString else { return "unexpected string \(s.debugDescription)" }
            return expected == s ? nil : "expected string \(expected.debugDescription), got \(s.debugDescription)"
        case .vector(let samples):
            if eval.scalar != nil { return "expected a scalar, got vector \(samples)" }
            var expected: [Labels: PromQLScript.ExpectedSeries] = [:]
            for e in eval.series { expected[e.labels] = e }
            var seen = Set<Labels>()
            for (pos, s) in samples.enumerated() {
                guard let e = expected[s.labels] else { return "unexpected series \(s.labels) with value \(s.v)" }
                seen.insert(s.labels)
                if eval.isOrdered && e.position != pos + 1 {
                    return "expected \(s.labels) at position \(e.position), was at \(pos + 1)"
                }
                guard let ev = e.values.first ?? nil else { return "no expected value for \(s.labels)" }
                if !almostEqual(ev, s.v) { return "expected \(ev) for \(s.labels), got \(s.v)" }
            }
            for e in eval.series where !seen.contains(e.labels) {
                return "expected series \(e.labels) not found (got \(samples.count) series)"
            }
            return nil
        case .matrix(let series):
            if eval.scalar != nil { return "expected a scalar, got a matrix" }
            if eval.isOrdered { return "expected ordered result, but query returned a matrix" }
            let start: Int64, end: Int64, step: Int64
            if isRange {
                (start, end, step) = (eval.start, eval.end, eval.step)
            } else if let r = eval.rangeVector {
                (start, end, step) = r
            } else {
                return "unexpected matrix result with \(series.count) series"
            }
            var expected: [Labels: PromQLScript.ExpectedSeries] = [:]
            for e in eval.series { expected[e.labels] = e }
            var seen = Set<Labels>()
            for s in series {
                guard let e = expected[s.labels] else { return "unexpected series \(s)" }
                seen.insert(s.labels)
                var points: [(Int64, Double)] = []
                for (i, v) in e.values.enumerated() {
                    let t = start + Int64(i) * step
                    if t > end { return "expected \(e.values.count) points for \(s.labels), more than the range has" }
                    if let v { points.append((t, v)) }
                }
                if points.count != s.samples.count {
                    return "expected \(points.count) points for \(s.labels), got \(s.samples.count): \(s)"
                }
                for (k, p) in points.enumerated() {
                    let a = s.samples[k]
                    if a.t != p.0 { return "expected point \(k) of \(s.labels) at \(p.0), got it at \(a.t): \(s)" }
                    if !almostEqual(p.1, a.v) { return "expected \(p.1) at \(p.0) for \(s.labels), got \(a.v): \(s)" }
                }
            }
            for e in eval.series where !seen.contains(e.labels) { return "expected series \(e.labels) not found" }
            return nil
        }
    }

    private func describe(_ value: PromQLValue) -> String {
        switch value {
        case .scalar(_, let v): return "scalar \(v)"
        case .string(_, let s): return "string \(s.debugDescription)"
        case .vector(let v): return "vector of \(v.count)"
        case .matrix(let m): return "matrix of \(m.count)"
        }
    }

    // MARK: - @ pinning

    private static let atUnsafe: Set<String> = ["days_in_month", "day_of_month", "day_of_week", "day_of_year", "hour",
                                                "minute", "month", "year", "predict_linear", "time", "timestamp"]

    private func containsAtUnsafeFunction(_ expr: Expr) -> Bool {
        var found = false
        expr.walk { e in
            if case .call(let c) = e, Self.atUnsafe.contains(c.function.name) { found = true }
        }
        return found
    }

    /// Sets `@ t` on every selector and subquery that has none, except inside a subquery that
    /// has one (which is then pinned as a whole).
    private func pinAt(_ expr: Expr, _ t: Int64) -> Expr {
        switch expr {
        case .number, .string: return expr
        case .vectorSelector(var v):
            if v.at == nil { v.at = .timestamp(t) }
            return .vectorSelector(v)
        case .matrixSelector(var m):
            if m.vectorSelector.at == nil { m.vectorSelector.at = .timestamp(t) }
            return .matrixSelector(m)
        case .subquery(var s):
            if s.at == nil { s.at = .timestamp(t) }
            return .subquery(s)
        case .paren(var p):
            p.expr = pinAt(p.expr, t)
            return .paren(p)
        case .unary(var u):
            u.expr = pinAt(u.expr, t)
            return .unary(u)
        case .binary(var b):
            b.lhs = pinAt(b.lhs, t)
            b.rhs = pinAt(b.rhs, t)
            return .binary(b)
        case .aggregate(var a):
            a.expr = pinAt(a.expr, t)
            a.param = a.param.map { pinAt($0, t) }
            return .aggregate(a)
        case .call(var c):
            c.args = c.args.map { pinAt($0, t) }
            return .call(c)
        }
    }
}

/// Prometheus' `almost.Equal` with the test framework's epsilon (1e-6 relative); NaN equals NaN.
func almostEqual(_ a: Double, _ b: Double, epsilon: Double = 1e-6) -> Bool {
    if a.isNaN && b.isNaN { return true }
    if a == b { return true }
    let minNormal = 2.2250738585072014e-308
    let absSum = abs(a) + abs(b)
    let diff = abs(a - b)
    if a == 0 || b == 0 || absSum < minNormal { return diff < epsilon * minNormal }
    return diff / min(absSum, Double.greatestFiniteMagnitude) < epsilon
}
