import ArgusModel
import ArgusQuery
import ArgusStorage
import Foundation
import Yams
#if canImport(Glibc)
import Glibc
#endif

/// Runs rule unit tests in promtool's format (`promtool test rules`): `rule_files`,
/// `evaluation_interval`, `group_eval_order`, and `tests` with `interval`, `input_series`
/// (expanding notation with `_` and `stale`), `alert_rule_test` (`exp_alerts`) and
/// `promql_expr_test` (`exp_samples`), `external_labels`, `external_url`.
///
/// Messages match promtool's, so existing rule tests and the habits around them carry over.
public struct RuleUnitTester {
    public var engine: PromQLEngine
    public var logql: RuleQueryFuncs.QueryFunc?

    public init(engine: PromQLEngine = PromQLEngine(), logql: RuleQueryFuncs.QueryFunc? = nil) {
        self.engine = engine
        self.logql = logql
    }

    /// Runs one test file; returns the failures (empty: it passed).
    public func run(file: String) async -> [String] {
        let text: String
        do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
            return ["open \(file): \(error.localizedDescription)"]
        }
        let doc: [String: Any]
        do {
            guard let d = try Yams.load(yaml: text) as? [String: Any] else { return ["\(file): expected a mapping with rule_files and tests"] }
            doc = d
        } catch {
            return ["\(file): \(RuleFileLoader.yamlError(error, file: file).message)"]
        }
        let known: Set<String> = ["rule_files", "evaluation_interval", "group_eval_order", "tests", "fuzzy_compare"]
        for k in doc.keys where !known.contains(k) { return ["yaml: unmarshal errors:\n  field \(k) not found in type main.unitTestFile"] }
        let base = (file as NSString).deletingLastPathComponent
        var ruleFiles: [String] = []
        for rf in (doc["rule_files"] as? [Any] ?? []).map({ "\($0)" }) {
            let path = rf.hasPrefix("/") ? rf : (base.isEmpty ? rf : base + "/" + rf)
            let matches = Self.glob(path)
            if matches.isEmpty { FileHandle.standardError.write(Data("  WARNING: no file match pattern \(path)\n".utf8)) }
            ruleFiles += matches
        }
        var evalInterval: Int64 = 60_000
        if let e = doc["evaluation_interval"] {
            guard let d = try? PromDuration.parseMillis("\(e)"), d > 0 else { return ["evaluation_interval: not a valid duration string: \"\(e)\""] }
            evalInterval = d
        }
        let order = (doc["group_eval_order"] as? [Any] ?? []).map { "\($0)" }
        var orderMap: [String: Int] = [:]
        for (i, g) in order.enumerated() {
            if orderMap[g] != nil { return ["group name repeated in evaluation order: \(g)"] }
            orderMap[g] = i
        }
        var errs: [String] = []
        for (i, t) in (doc["tests"] as? [Any] ?? []).enumerated() {
            guard let tg = t as? [String: Any] else { errs.append("tests[\(i)]: expected a mapping"); continue }
            errs += await runGroup(tg, evalInterval: evalInterval, orderMap: orderMap, ruleFiles: ruleFiles)
        }
        return errs
    }

    static func glob(_ pattern: String) -> [String] {
        if !pattern.contains("*") && !pattern.contains("?") && !pattern.contains("[") {
            return FileManager.default.fileExists(atPath: pattern) ? [pattern] : []
        }
        var g = glob_t()
        defer { globfree(&g) }
        guard Glibc.glob(pattern, 0, nil, &g) == 0 else { return [] }
        var out: [String] = []
        for i in 0..<Int(g.gl_pathc) {
            if let p = g.gl_pathv[i] { out.append(String(cString: p)) }
        }
        return out.sorted()
    }

    func runGroup(_ tg: [String: Any], evalInterval: Int64, orderMap: [String: Int], ruleFiles: [String]) async -> [String] {
        let known: Set<String> = ["interval", "input_series", "alert_rule_test", "promql_expr_test", "external_labels", "external_url", "name"]
        for k in tg.keys where !known.contains(k) { return ["yaml: unmarshal errors:\n  field \(k) not found in type main.testGroup"] }
        var interval = evalInterval
        if let v = tg["interval"] {
            guard let d = try? PromDuration.parseMillis("\(v)") else { return ["interval: not a valid duration string: \"\(v)\""] }
            interval = d
        }
        let testName = tg["name"].map { "\($0)" } ?? ""
        let namePrefix = testName.isEmpty ? "" : "    name: \(testName),\n"
        let ext = Labels((tg["external_labels"] as? [String: Any] ?? [:]).map { ($0.key, "\($0.value)") })
        let extURL = tg["external_url"].map { "\($0)" } ?? ""

        // A scratch store in a temporary directory.
        // tmpfs when there is one: the scratch store's fsyncs then cost nothing.
        let tmp = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm/" : NSTemporaryDirectory()
        let dir = tmp + "argus-rules-test-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var opts = StorageOptions(dataDir: dir)
        opts.retention = 100 * 365 * 86_400_000
        let store: MetricStore
        do { store = try MetricStore(options: opts) } catch { return ["cannot create a scratch store: \(error)"] }
        defer { store.close() }

        // Input series.
        do {
            let app = store.appender()
            for (i, s) in (tg["input_series"] as? [Any] ?? []).enumerated() {
                guard let m = s as? [String: Any], let series = m["series"].map({ "\($0)" }) else {
                    return ["input_series[\(i)]: expected series and values"]
                }
                let labels: Labels
                do { labels = try SeriesNotation.parseMetric(series) } catch {
                    return ["\(error)"]
                }
                let values: [Double?]
                do { values = try SeriesNotation.expand(m["values"].map { "\($0)" } ?? "") } catch {
                    return ["series \(series): \(error)"]
                }
                for (j, v) in values.enumerated() {
                    guard let v else { continue }
                    try app.append(labels, Int64(j) * interval, v)
                }
            }
            try app.commit()
        } catch {
            return ["loading input series: \(error)"]
        }

        // Rule groups.
        var groups: [RuleGroup] = []
        for f in ruleFiles {
            do {
                for spec in try RuleFileLoader.load(path: f) {
                    if spec.language == .logql && logql == nil {
                        return ["\(f): group \"\(spec.name)\": language logql needs the LogQL engine, which this build of Argus does not have yet"]
                    }
                    groups.append(RuleGroup(spec: spec, defaultIntervalMs: interval))
                }
            } catch {
                return error.errors.map(\.description)
            }
        }
        groups.sort { (orderMap[$0.spec.name] ?? 0) < (orderMap[$1.spec.name] ?? 0) }
        var query = RuleQueryFuncs.forPromQL(engine: engine, store: store)
        query.logql = logql

        // Alert tests by eval time.
        var alertTests: [Int64: [(name: String, exp: [(Labels, Labels)])]] = [:]
        var maxT: Int64 = 0
        for (i, a) in (tg["alert_rule_test"] as? [Any] ?? []).enumerated() {
            guard let m = a as? [String: Any] else { return ["alert_rule_test[\(i)]: expected a mapping"] }
            guard let name = m["alertname"].map({ "\($0)" }), !name.isEmpty else {
                return ["an item under alert_rule_test misses required attribute alertname at eval_time \(m["eval_time"].map { "\($0)" } ?? "0s")" + (testName.isEmpty ? "" : " (in TestGroup \(testName))")]
            }
            guard let t = try? PromDuration.parseMillis(m["eval_time"].map { "\($0)" } ?? "0s") else { return ["alert_rule_test[\(i)]: bad eval_time"] }
            var exp: [(Labels, Labels)] = []
            for e in m["exp_alerts"] as? [Any] ?? [] {
                let em = e as? [String: Any] ?? [:]
                var l = (em["exp_labels"] as? [String: Any] ?? [:]).map { ($0.key, "\($0.value)") }
                l.append(("alertname", name))
                let ann = (em["exp_annotations"] as? [String: Any] ?? [:]).map { ($0.key, "\($0.value)") }
                exp.append((Labels(l), Labels(ann)))
            }
            alertTests[t, default: []].append((name, exp))
            maxT = max(maxT, t)
        }
        var exprTests: [(expr: String, t: Int64, exp: [(String, Double)])] = []
        for (i, p) in (tg["promql_expr_test"] as? [Any] ?? []).enumerated() {
            guard let m = p as? [String: Any], let expr = m["expr"].map({ "\($0)" }) else { return ["promql_expr_test[\(i)]: expected expr"] }
            guard let t = try? PromDuration.parseMillis(m["eval_time"].map { "\($0)" } ?? "0s") else { return ["promql_expr_test[\(i)]: bad eval_time"] }
            var exp: [(String, Double)] = []
            for s in m["exp_samples"] as? [Any] ?? [] {
                let sm = s as? [String: Any] ?? [:]
                let v: Double
                switch sm["value"] {
                case let d as Double: v = d
                case let n as Int: v = Double(n)
                case let x?: v = SeriesNotation.number("\(x)") ?? .nan
                case nil: v = 0
                }
                exp.append((sm["labels"].map { "\($0)" } ?? "", v))
            }
            exprTests.append((expr, t, exp))
            maxT = max(maxT, t)
        }
        let alertTimes = alertTests.keys.sorted()
        var curr = 0
        var errs: [String] = []
        var ts: Int64 = 0
        while ts <= maxT {
            var evalErrs: [String] = []
            for gi in groups.indices {
                await groups[gi].evaluate(at: ts, query: query, externalLabels: ext, externalURL: extURL) { samples, stale, ts in
                    let app = store.appender()
                    for (l, v) in samples { _ = try? app.append(l, ts, v) }
                    for l in stale { _ = try? app.append(l, ts, StaleNaN.value) }
                    _ = try? app.commit(skipInvalid: true)
                }
                for r in groups[gi].rules where r.health == .err {
                    evalErrs.append("    rule: \(r.spec.name), time: \(Self.goDuration(ts)), err: \(r.lastError)")
                }
            }
            errs += evalErrs
            if !evalErrs.isEmpty { return errs }
            while curr < alertTimes.count && ts <= alertTimes[curr] && alertTimes[curr] < ts + evalInterval {
                let t = alertTimes[curr]
                for test in alertTests[t]! {
                    var got: [(Labels, Labels)] = []
                    for g in groups {
                        for r in g.rules where r.spec.alert == test.name {
                            for a in r.state?.alerts ?? [] where a.state == .firing { got.append((a.labels, a.annotations)) }
                        }
                    }
                    let exp = test.exp.sorted(by: Self.lessAlert)
                    got.sort(by: Self.lessAlert)
                    if exp.count != got.count || zip(exp, got).contains(where: { $0.0 != $1.0 || $0.1 != $1.1 }) {
                        errs.append("\(namePrefix)    alertname: \(test.name), time: \(PromDuration.format(t)), \n        exp:\(Self.indent(Self.alertsString(exp), "            ")), \n        got:\(Self.indent(Self.alertsString(got), "            "))")
                    }
                }
                curr += 1
            }
            ts += evalInterval
        }
        outer: for test in exprTests {
            let got: [RuleSample]
            do { got = try query.templateQuery!(test.expr, test.t) } catch {
                errs.append("    expr: \(GoQuote.quote(test.expr)), time: \(PromDuration.format(test.t)), err: \(error)")
                continue
            }
            var exp: [(Labels, Double)] = []
            for (ls, v) in test.exp {
                do { exp.append((try SeriesNotation.parseMetric(ls), v)) } catch {
                    errs.append("    expr: \(GoQuote.quote(test.expr)), time: \(PromDuration.format(test.t)), err: labels \(GoQuote.quote(ls)): \(error)")
                    continue outer
                }
            }
            let gotS = got.map { ($0.labels, $0.value) }.sorted { Self.labelsLess($0.0, $1.0) }
            exp.sort { Self.labelsLess($0.0, $1.0) }
            let same = exp.count == gotS.count && zip(exp, gotS).allSatisfy { e, g in
                e.0 == g.0 && (e.1 == g.1 || (e.1.isNaN && g.1.isNaN)) && !(StaleNaN.isStale(e.1) != StaleNaN.isStale(g.1))
            }
            if !same {
                errs.append("    expr: \(GoQuote.quote(test.expr)), time: \(PromDuration.format(test.t)),\n        exp: \(Self.samplesString(exp))\n        got: \(Self.samplesString(gotS))")
            }
        }
        return errs
    }

    static func labelsLess(_ a: Labels, _ b: Labels) -> Bool {
        let n = min(a.items.count, b.items.count)
        for i in 0..<n {
            if a.items[i].name != b.items[i].name { return a.items[i].name < b.items[i].name }
            if a.items[i].value != b.items[i].value { return a.items[i].value < b.items[i].value }
        }
        return a.items.count < b.items.count
    }

    static func lessAlert(_ a: (Labels, Labels), _ b: (Labels, Labels)) -> Bool {
        if a.0 != b.0 { return labelsLess(a.0, b.0) }
        return labelsLess(a.1, b.1)
    }

    /// Go's `labels.Labels.String()`: `{a="b", c="d"}`.
    public static func goLabels(_ l: Labels) -> String { Notifier.labelSetString(l) }

    static func alertsString(_ a: [(Labels, Labels)]) -> String {
        if a.isEmpty { return "[]" }
        var s = "[\n0:" + indent("\nLabels:" + goLabels(a[0].0) + "\nAnnotations:" + goLabels(a[0].1), "  ")
        for (i, x) in a.dropFirst().enumerated() {
            s += ",\n\(i + 1):" + indent("\nLabels:" + goLabels(x.0) + "\nAnnotations:" + goLabels(x.1), "  ")
        }
        return s + "\n]"
    }

    static func indent(_ lines: String, _ prefix: String) -> String {
        let parts = lines.split(separator: "\n", omittingEmptySubsequences: false)
        var out = ""
        for (i, l) in parts.enumerated() {
            if i > 0 { out += prefix }
            out += l
            if i != parts.count - 1 { out += "\n" }
        }
        return out
    }

    static func samplesString(_ s: [(Labels, Double)]) -> String {
        if s.isEmpty { return "nil" }
        return s.map { goLabels($0.0) + " " + goFloatE($0.1) }.joined(separator: ", ")
    }

    /// `strconv.FormatFloat(v, 'E', -1, 64)`.
    static func goFloatE(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "+Inf" : "-Inf" }
        return GoFloat.format(v, verb: "e", precision: nil).uppercased()
    }

    /// `strconv.FormatFloat(v, 'e', -1, 64)`, as Prometheus' API prints alert values.
    public static func goFloatLowerE(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "+Inf" : "-Inf" }
        return GoFloat.format(v, verb: "e", precision: nil)
    }

    /// Go's `time.Duration.String()` for whole milliseconds: `0s`, `1m0s`, `1h2m3.5s`.
    static func goDuration(_ ms: Int64) -> String {
        if ms == 0 { return "0s" }
        var out = ""
        let h = ms / 3_600_000, m = (ms / 60_000) % 60, s = ms % 60_000
        if ms < 1000 { return "\(ms)ms" }
        if h > 0 { out += "\(h)h" }
        if h > 0 || m > 0 { out += "\(m)m" }
        if s % 1000 == 0 { out += "\(s / 1000)s" } else {
            var frac = String(format: "%03d", Int(s % 1000))
            while frac.hasSuffix("0") { frac.removeLast() }
            out += "\(s / 1000).\(frac)s"
        }
        return out
    }
}

/// Prometheus' series notation for test input: a metric (`name{a="b"}`) and values in
/// expanding notation (`1+2x3`, `5x2`, `_`, `_x3`, `stale`).
public enum SeriesNotation {
    public static func parseMetric(_ s: String) throws -> Labels {
        let matchers: [Matcher]
        do { matchers = try SelectorParser.parse(s.trimmingCharacters(in: .whitespaces)) } catch {
            throw ArgusError(.badInput, "cannot parse series \(GoQuote.quote(s)): \(error)")
        }
        var pairs: [(String, String)] = []
        for m in matchers {
            guard m.kind == .equal else { throw ArgusError(.badInput, "series \(GoQuote.quote(s)): only = label matchers describe a series") }
            pairs.append((m.name, m.value))
        }
        return Labels(pairs)
    }

    static func number(_ s: String) -> Double? {
        switch s.lowercased() {
        case "inf", "+inf": return .infinity
        case "-inf": return -.infinity
        case "nan": return .nan
        default: break
        }
        return Double(s)
    }

    /// Expands the values; nil entries are missing samples (`_`).
    public static func expand(_ text: String) throws -> [Double?] {
        var out: [Double?] = []
        for tok in text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }) {
            let t = String(tok)
            if t == "_" { out.append(nil); continue }
            if t == "stale" { out.append(StaleNaN.value); continue }
            if let x = t.firstIndex(of: "x") {
                let head = String(t[..<x])
                guard let n = Int(t[t.index(after: x)...]), n >= 0 else { throw ArgusError(.badInput, "invalid repetition in series values \(GoQuote.quote(t))") }
                if head == "_" { out += Array(repeating: nil, count: n); continue }
                // head is a, a+b or a-b (a may itself be signed).
                var split: String.Index? = nil
                var i = head.index(after: head.startIndex)
                while i < head.endIndex {
                    let c = head[i]
                    if (c == "+" || c == "-"), head[head.index(before: i)] != "e", head[head.index(before: i)] != "E" { split = i; break }
                    i = head.index(after: i)
                }
                var a: Double, b = 0.0
                if let sp = split {
                    guard let av = number(String(head[..<sp])), let bv = number(String(head[head.index(after: sp)...])) else {
                        throw ArgusError(.badInput, "invalid value in series values \(GoQuote.quote(t))")
                    }
                    a = av
                    b = head[sp] == "-" ? -bv : bv
                } else {
                    guard let av = number(head) else { throw ArgusError(.badInput, "invalid value in series values \(GoQuote.quote(t))") }
                    a = av
                }
                out.append(a)
                for _ in 0..<n {
                    a += b
                    out.append(a)
                }
                continue
            }
            guard let v = number(t) else { throw ArgusError(.badInput, "invalid value in series values \(GoQuote.quote(t))") }
            out.append(v)
        }
        return out
    }
}
