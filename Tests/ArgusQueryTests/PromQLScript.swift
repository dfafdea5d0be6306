import ArgusModel
import Foundation
@testable import ArgusQuery

/// A parsed PromQL test script (Prometheus' `promqltest` format; see
/// `../shared/conformance/promql/README.md`): `load`, `clear` and `eval` commands.
struct PromQLScript {
    struct LoadedSeries {
        var labels: Labels
        /// (milliseconds, value); staleness markers are `StaleNaN.value`.
        var samples: [(Int64, Double)]
    }

    struct Load {
        var line: Int
        var series: [LoadedSeries]
        /// Metric names of series that need native histograms (their lines are not loaded).
        var nativeHistogramNames: Set<String>
        /// Label sets of those series (for `load_with_nhcb`, the converted histograms' labels).
        var nativeHistogramSeries: [Labels] = []
    }

    struct ExpectedSeries {
        var labels: Labels
        /// One value per step (nil where no point is expected); a single value for instant queries.
        var values: [Double?]
        /// 1-based position in the expectation (for ordered results).
        var position: Int
    }

    struct Expectation {
        var kind: String // ordered, fail, warn, no_warn, info, no_info
        var message: String?
        var regex: String?
    }

    struct Eval {
        var line: Int
        var query: String
        var isRange: Bool
        var start: Int64
        var end: Int64
        var step: Int64
        var fail = false
        var ordered = false
        var warn = false
        var info = false
        var failMessage: String?
        var failRegex: String?
        var expectations: [Expectation] = []
        var scalar: Double?
        var series: [ExpectedSeries] = []
        var expectedString: String?
        /// Set by `expect range vector from .. to .. step ..` on an instant query.
        var rangeVector: (start: Int64, end: Int64, step: Int64)?
        /// The expectation holds native histogram values (`{{...}}`).
        var needsNativeHistograms = false

        var isFail: Bool { fail || expectations.contains { $0.kind == "fail" } }
        var isOrdered: Bool { ordered || expectations.contains { $0.kind == "ordered" } }
    }

    enum Command {
        case load(Load)
        case clear
        case eval(Eval)
        /// A line the parser could not read (reported as a failing case).
        case invalid(line: Int, text: String, reason: String)
    }

    var commands: [Command] = []

    init(_ text: String) {
        let lines = text.components(separatedBy: "\n").map { raw -> String in
            let l = raw.trimmingCharacters(in: .whitespaces)
            return l.hasPrefix("#") ? "" : l
        }
        var i = 0
        while i < lines.count {
            let l = lines[i]
            if l.isEmpty {
                i += 1
                continue
            }
            let word = l.split(whereSeparator: { $0 == " " || $0 == "\t" }).first.map(String.init)?.lowercased() ?? ""
            if word == "clear" {
                commands.append(.clear)
                i += 1
            } else if word.hasPrefix("load") {
                i = parseLoad(lines, i)
            } else if word.hasPrefix("eval") {
                i = parseEval(lines, i)
            } else {
                commands.append(.invalid(line: i + 1, text: l, reason: "unknown command"))
                i += 1
            }
        }
    }

    // MARK: - load

    private mutating func parseLoad(_ lines: [String], _ start: Int) -> Int {
        let header = lines[start]
        let parts = header.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        let nhcb = parts.first?.lowercased() == "load_with_nhcb"
        guard parts.count == 2, let interval = try? PromDuration.parseMillis(parts[1]) else {
            commands.append(.invalid(line: start + 1, text: header, reason: "invalid load command"))
            var i = start + 1
            while i < lines.count && !lines[i].isEmpty { i += 1 }
            return i
        }
        var load = Load(line: start + 1, series: [], nativeHistogramNames: [])
        var index: [Labels: Int] = [:]
        var i = start + 1
        while i < lines.count && !lines[i].isEmpty {
            let l = lines[i]
            defer { i += 1 }
            guard let (labels, valuesText) = Self.splitSeries(l) else {
                commands.append(.invalid(line: i + 1, text: l, reason: "cannot parse series"))
                continue
            }
            if valuesText.contains("{{") {
                load.nativeHistogramNames.insert(labels.metricName ?? "")
                load.nativeHistogramSeries.append(labels)
                continue
            }
            guard let values = Self.parseValues(valuesText, allowStale: true) else {
                commands.append(.invalid(line: i + 1, text: l, reason: "cannot parse values"))
                continue
            }
            var samples: [(Int64, Double)] = []
            for (k, v) in values.enumerated() {
                if let v { samples.append((Int64(k) * interval, v)) }
            }
            if nhcb, let name = labels.metricName {
                for suffix in ["_bucket", "_count", "_sum"] where name.hasSuffix(suffix) {
                    let base = String(name.dropLast(suffix.count))
                    load.nativeHistogramNames.insert(base)
                    load.nativeHistogramSeries.append(labels.removing(["le"]).setting(Labels.metricName, base))
                }
            }
            // A later definition of the same series replaces an earlier one, as in Prometheus.
            if let existing = index[labels] {
                load.series[existing].samples = samples
            } else {
                index[labels] = load.series.count
                load.series.append(LoadedSeries(labels: labels, samples: samples))
            }
        }
        commands.append(.load(load))
        return i
    }

    // MARK: - eval

    private static let instantPattern = try! NSRegularExpression(
        pattern: #"^eval(?:_(fail|warn|ordered|info))?\s+instant\s+(?:at\s+(.+?))?\s+(.+)$"#)
    private static let rangePattern = try! NSRegularExpression(
        pattern: #"^eval(?:_(fail|warn|info))?\s+range\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+?)\s+(.+)$"#)
    private static let expectPattern = try! NSRegularExpression(
        pattern: #"^expect\s+(ordered|fail|warn|no_warn|info|no_info)(?:\s+(regex|msg):(.+))?$"#)
    private static let expectRangePattern = try! NSRegularExpression(
        pattern: #"^expect range vector\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+)$"#)

    static func groups(_ re: NSRegularExpression, _ s: String) -> [String?]? {
        let ns = s as NSString
        guard let m = re.firstMatch(in: s, range: NSRange(location: 0, length: ns.length)) else { return nil }
        return (0..<m.numberOfRanges).map { i in
            let r = m.range(at: i)
            return r.location == NSNotFound ? nil : ns.substring(with: r)
        }
    }

    private mutating func parseEval(_ lines: [String], _ start: Int) -> Int {
        let header = lines[start]
        var eval: Eval
        var modifier: String?
        if let g = Self.groups(Self.instantPattern, header) {
            modifier = g[1]
            guard let t = try? PromDuration.parseMillis(g[2] ?? "0") else {
                return skipBlock(lines, start, "invalid eval time")
            }
            eval = Eval(line: start + 1, query: g[3]!, isRange: false, start: t, end: t, step: 0)
        } else if let g = Self.groups(Self.rangePattern, header) {
            modifier = g[1]
            guard let from = try? PromDuration.parseMillis(g[2]!), let to = try? PromDuration.parseMillis(g[3]!),
                  let step = try? PromDuration.parseMillis(g[4]!) else {
                return skipBlock(lines, start, "invalid eval range")
            }
            eval = Eval(line: start + 1, query: g[5]!, isRange: true, start: from, end: to, step: step)
        } else {
            return skipBlock(lines, start, "invalid eval command")
        }
        switch modifier {
        case "fail": eval.fail = true
        case "warn": eval.warn = true
        case "ordered": eval.ordered = true
        case "info": eval.info = true
        default: break
        }
        var i = start + 1
        var position = 1
        while i < lines.count && !lines[i].isEmpty {
            let l = lines[i]
            i += 1
            if eval.fail && l.hasPrefix("expected_fail_message") {
                eval.failMessage = String(l.dropFirst("expected_fail_message".count)).trimmingCharacters(in: .whitespaces)
                break
            }
            if eval.fail && l.hasPrefix("expected_fail_regexp") {
                eval.failRegex = String(l.dropFirst("expected_fail_regexp".count)).trimmingCharacters(in: .whitespaces)
                break
            }
            if l.hasPrefix("expect range vector") {
                if let g = Self.groups(Self.expectRangePattern, l), let a = try? PromDuration.parseMillis(g[1]!),
                   let b = try? PromDuration.parseMillis(g[2]!), let c = try? PromDuration.parseMillis(g[3]!) {
                    eval.rangeVector = (a, b, c)
                }
                continue
            }
            if l.hasPrefix("expect string") {
                let text = l.dropFirst("expect string".count).trimmingCharacters(in: .whitespaces)
                eval.expectedString = Self.unquote(text)
                continue
            }
            if l.split(separator: " ").first == "expect" {
                if let g = Self.groups(Self.expectPattern, l) {
                    var e = Expectation(kind: g[1]!)
                    if g[2] == "msg" { e.message = g[3]?.trimmingCharacters(in: .whitespaces) }
                    if g[2] == "regex" { e.regex = g[3]?.trimmingCharacters(in: .whitespaces) }
                    eval.expectations.append(e)
                }
                continue
            }
            if let number = Self.parseNumber(l) {
                eval.scalar = number
                break
            }
            guard let (labels, valuesText) = Self.splitSeries(l) else {
                commands.append(.invalid(line: i, text: l, reason: "cannot parse expected series"))
                continue
            }
            if valuesText.contains("{{") {
                eval.needsNativeHistograms = true
                eval.series.append(ExpectedSeries(labels: labels, values: [], position: position))
                position += 1
                continue
            }
            guard let values = Self.parseValues(valuesText, allowStale: false) else {
                commands.append(.invalid(line: i, text: l, reason: "cannot parse expected values"))
                continue
            }
            eval.series.append(ExpectedSeries(labels: labels, values: values, position: position))
            position += 1
        }
        commands.append(.eval(eval))
        // A block ended by a message or a number continues to its blank line.
        while i < lines.count && !lines[i].isEmpty {
            commands.append(.invalid(line: i + 1, text: lines[i], reason: "unexpected line after expectation"))
            i += 1
        }
        return i
    }

    private mutating func skipBlock(_ lines: [String], _ start: Int, _ reason: String) -> Int {
        commands.append(.invalid(line: start + 1, text: lines[start], reason: reason))
        var i = start + 1
        while i < lines.count && !lines[i].isEmpty { i += 1 }
        return i
    }

    // MARK: - Series descriptions

    /// Splits `name{labels} values` into labels and the values text.
    static func splitSeries(_ line: String) -> (Labels, String)? {
        let chars = Array(line.unicodeScalars)
        var i = 0
        var depth = 0
        var quote: Unicode.Scalar? = nil
        var end = -1
        while i < chars.count {
            let c = chars[i]
            if let q = quote {
                if c == "\\" && q != "`" {
                    i += 2
                    continue
                }
                if c == q { quote = nil }
                i += 1
                continue
            }
            if c == "\"" || c == "'" || c == "`" {
                quote = c
            } else if c == "{" {
                depth += 1
            } else if c == "}" {
                depth -= 1
                if depth == 0 {
                    end = i + 1
                    break
                }
            } else if (c == " " || c == "\t") && depth == 0 {
                end = i
                break
            }
            i += 1
        }
        if end < 0 { end = chars.count }
        var metric = String(String.UnicodeScalarView(chars[0..<end]))
        let rest = String(String.UnicodeScalarView(chars[end...])).trimmingCharacters(in: .whitespaces)
        metric = metric.trimmingCharacters(in: .whitespaces)
        if metric.isEmpty { return nil }
        if metric == "{}" { return (Labels(), rest) }
        guard let expr = try? PromQLParser.parse(metric), case .vectorSelector(let sel) = expr else { return nil }
        var pairs: [(String, String)] = []
        for m in sel.matchers {
            guard m.kind == .equal else { return nil }
            pairs.append((m.name, m.value))
        }
        return (Labels(pairs), rest)
    }

    private static let itemPattern = try! NSRegularExpression(pattern:
        #"^([+-]?(?:[0-9]+\.?[0-9]*(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?|[iI][nN][fF]|[nN][aA][nN]))"#
        + #"(?:([+-])((?:[0-9]+\.?[0-9]*(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?|[iI][nN][fF]|[nN][aA][nN])))?"#
        + #"(?:x([0-9]+))?$"#)

    /// Expands `1 2 _ stale 1+2x3 _x2 5x2 ...` into one optional value per step.
    static func parseValues(_ text: String, allowStale: Bool) -> [Double?]? {
        var out: [Double?] = []
        for item in text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init) {
            if item == "_" {
                out.append(nil)
                continue
            }
            if item.hasPrefix("_x"), let n = Int(item.dropFirst(2)) {
                out.append(contentsOf: repeatElement(nil, count: n))
                continue
            }
            if item == "stale" {
                guard allowStale else { return nil }
                out.append(StaleNaN.value)
                continue
            }
            guard let g = groups(itemPattern, item), let base = number(g[1]!) else { return nil }
            let times = g[4].flatMap { Int($0) }
            if let op = g[2], let incText = g[3], let inc = number(incText) {
                guard let n = times else { return nil }
                var v = base
                let delta = op == "-" ? -inc : inc
                for _ in 0...n {
                    out.append(v)
                    v += delta
                }
            } else if let n = times {
                out.append(contentsOf: repeatElement(Optional(base), count: n + 1))
            } else {
                out.append(base)
            }
        }
        return out
    }

    private static func number(_ s: String) -> Double? {
        switch s.lowercased() {
        case "inf", "+inf": return .infinity
        case "-inf": return -.infinity
        case "nan", "+nan", "-nan": return .nan
        default: return Double(s)
        }
    }

    /// A bare number line (a scalar expectation), as Go's ParseInt(s, 0, 64) then ParseFloat.
    static func parseNumber(_ s: String) -> Double? {
        if s.contains(" ") || s.contains("\t") || s.contains("{") { return nil }
        if case .success(let v) = PromQLParser.State.parseNumber(s.hasPrefix("+") || s.hasPrefix("-") ? String(s.dropFirst()) : s) {
            return s.hasPrefix("-") ? -v : v
        }
        return nil
    }

    private static func unquote(_ s: String) -> String? {
        guard let expr = try? PromQLParser.parse(s), case .string(let lit) = expr else { return nil }
        return lit.value
    }
}
