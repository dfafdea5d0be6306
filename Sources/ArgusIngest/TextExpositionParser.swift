import Foundation
import ArgusModel
import ArgusStorage

/// One parsed sample line of the text exposition format.
public struct ParsedSample: Sendable {
    public var labels: Labels
    public var value: Double
    /// Milliseconds, when the line carried a timestamp.
    public var timestamp: Int64?
    /// 1-based line number in the input.
    public var line: Int
}

/// Parses Prometheus' text exposition format (0.0.4) sample lines, as VictoriaMetrics' import
/// endpoint takes them: `name{label="value",...} value [timestamp_ms]`; `#` lines are skipped.
///
/// Errors name the 1-based line and say what is wrong: `line 3: invalid metric name "3x"`.
public struct TextExpositionParser {
    /// Prometheus text 0.0.4 (millisecond timestamps) or OpenMetrics 1.0 (timestamps in
    /// seconds, exemplars after ` # `, `# EOF` at the end).
    public enum Format: Sendable { case prometheusText, openMetrics }

    public let format: Format

    public init(format: Format = .prometheusText) { self.format = format }

    public func parse(_ bytes: [UInt8]) throws -> [ParsedSample] {
        var metadata: [String: MetricMetadata]?
        return try parse(bytes, metadata: &metadata)
    }

    /// Parses the samples and, in the same pass, the `# HELP name text`, `# TYPE name type`
    /// (and OpenMetrics' `# UNIT name unit`) comments by metric family name (when `metadata`
    /// is not nil). Malformed comments are ignored, as Prometheus does.
    public func parse(_ bytes: [UInt8], metadata: inout [String: MetricMetadata]?) throws -> [ParsedSample] {
        var out: [ParsedSample] = []
        var lineNo = 0
        var start = 0
        let n = bytes.count
        try bytes.withUnsafeBufferPointer { p in
            while start < n {
                lineNo += 1
                var end = start
                while end < n && p[end] != 0x0A { end += 1 }
                var lineEnd = end
                if lineEnd > start && p[lineEnd - 1] == 0x0D { lineEnd -= 1 }
                if format == .openMetrics && lineEnd - start == 5 && Array(p[start..<lineEnd]) == Array("# EOF".utf8) { return }
                if lineEnd - start > 7 && p[start] == 0x23 {
                    if metadata != nil { TextExpositionParser.comment(UnsafeBufferPointer(rebasing: p[start..<lineEnd]), into: &metadata!) }
                } else if let s = try parseLine(p, start, lineEnd, lineNo) {
                    out.append(s)
                }
                start = end + 1
            }
        }
        return out
    }

    static func comment(_ bytes: UnsafeBufferPointer<UInt8>, into out: inout [String: MetricMetadata]) {
        let line = String(decoding: bytes, as: UTF8.self)
        let parts = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: true)
        guard parts.count >= 3 && parts[0] == "#" else { return }
        let name = String(parts[2])
        let rest = parts.count > 3 ? String(parts[3]).trimmingCharacters(in: .whitespacesAndNewlines) : ""
        var m = out[name] ?? MetricMetadata(type: "unknown", help: "")
        switch parts[1] {
        case "HELP": m.help = rest.replacingOccurrences(of: "\\n", with: "\n").replacingOccurrences(of: "\\\\", with: "\\")
        case "TYPE": m.type = rest.isEmpty ? "unknown" : rest
        case "UNIT": m.unit = rest
        default: return
        }
        out[name] = m
    }

    func fail(_ line: Int, _ why: String) -> ArgusError {
        ArgusError(.badInput, "line \(line): \(why)")
    }

    @inline(__always) func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 }

    func parseLine(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, _ line: Int) throws -> ParsedSample? {
        var i = start
        while i < end && isSpace(p[i]) { i += 1 }
        if i == end || p[i] == 0x23 { return nil }  // blank or comment
        // Metric name.
        let nameStart = i
        while i < end && !isSpace(p[i]) && p[i] != 0x7B { i += 1 }
        let name = try string(p, nameStart, i, line, what: "metric name")
        guard NameRules.isValidMetricName(name) else { throw fail(line, "invalid metric name \(quoteLabelValue(name))") }
        var labels: [Label] = [Label(Labels.metricName, name)]
        while i < end && isSpace(p[i]) { i += 1 }
        if i < end && p[i] == 0x7B {
            i += 1
            var seen = Set<String>()
            while true {
                while i < end && isSpace(p[i]) { i += 1 }
                guard i < end else { throw fail(line, "unterminated label set: expected \"}\"") }
                if p[i] == 0x7D {
                    i += 1
                    break
                }
                let ls = i
                while i < end && p[i] != 0x3D && !isSpace(p[i]) && p[i] != 0x2C && p[i] != 0x7D { i += 1 }
                let lname = try string(p, ls, i, line, what: "label name")
                guard NameRules.isValidLabelName(lname) else { throw fail(line, "invalid label name \(quoteLabelValue(lname))") }
                guard lname != Labels.metricName else { throw fail(line, "label name \"__name__\" is reserved for the metric name") }
                guard seen.insert(lname).inserted else { throw fail(line, "duplicate label name \(quoteLabelValue(lname))") }
                while i < end && isSpace(p[i]) { i += 1 }
                guard i < end && p[i] == 0x3D else { throw fail(line, "expected \"=\" after label name \(quoteLabelValue(lname))") }
                i += 1
                while i < end && isSpace(p[i]) { i += 1 }
                guard i < end && p[i] == 0x22 else { throw fail(line, "expected a quoted value for label \(quoteLabelValue(lname))") }
                i += 1
                var value: [UInt8] = []
                var closed = false
                while i < end {
                    let b = p[i]
                    if b == 0x5C {
                        guard i + 1 < end else { break }
                        switch p[i + 1] {
                        case 0x5C: value.append(0x5C)
                        case 0x22: value.append(0x22)
                        case 0x6E: value.append(0x0A)
                        default: throw fail(line, "invalid escape sequence \"\\\(String(UnicodeScalar(p[i + 1])))\" in the value of label \(quoteLabelValue(lname))")
                        }
                        i += 2
                        continue
                    }
                    if b == 0x22 {
                        closed = true
                        i += 1
                        break
                    }
                    value.append(b)
                    i += 1
                }
                guard closed else { throw fail(line, "unterminated value of label \(quoteLabelValue(lname))") }
                guard let v = value.withUnsafeBytes({ utf8String($0) }) else {
                    throw fail(line, "the value of label \(quoteLabelValue(lname)) is not valid UTF-8")
                }
                if !v.isEmpty { labels.append(Label(lname, v)) }
                while i < end && isSpace(p[i]) { i += 1 }
                if i < end && p[i] == 0x2C {
                    i += 1
                    continue
                }
                guard i < end && p[i] == 0x7D else { throw fail(line, "expected \",\" or \"}\" after the value of label \(quoteLabelValue(lname))") }
            }
        }
        while i < end && isSpace(p[i]) { i += 1 }
        var end = end
        if format == .openMetrics {
            // Drop an exemplar: everything from " # ".
            var k = i
            while k + 2 < end {
                if p[k] == 0x20 && p[k + 1] == 0x23 && p[k + 2] == 0x20 {
                    end = k
                    break
                }
                k += 1
            }
        }
        let vs = i
        while i < end && !isSpace(p[i]) { i += 1 }
        guard i > vs else { throw fail(line, "missing sample value") }
        let vtext = try string(p, vs, i, line, what: "value")
        guard let value = parseFloat(vtext) else { throw fail(line, "invalid sample value \(quoteLabelValue(vtext))") }
        while i < end && isSpace(p[i]) { i += 1 }
        var ts: Int64?
        if i < end {
            let tstart = i
            while i < end && !isSpace(p[i]) { i += 1 }
            let ttext = try string(p, tstart, i, line, what: "timestamp")
            if format == .openMetrics {
                guard let secs = Double(ttext), secs.isFinite, let ms = Int64(exactly: (secs * 1000).rounded()) else {
                    throw fail(line, "invalid timestamp \(quoteLabelValue(ttext)): expected seconds")
                }
                ts = ms
            } else {
                guard let t = Int64(ttext) else { throw fail(line, "invalid timestamp \(quoteLabelValue(ttext)): expected integer milliseconds") }
                ts = t
            }
            while i < end && isSpace(p[i]) { i += 1 }
            if i < end { throw fail(line, "unexpected text after the timestamp") }
        }
        return ParsedSample(labels: Labels(unsorted: labels), value: value, timestamp: ts, line: line)
    }

    func string(_ p: UnsafeBufferPointer<UInt8>, _ a: Int, _ b: Int, _ line: Int, what: String) throws -> String {
        guard let s = utf8String(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: p[a..<b]))) else {
            throw fail(line, "the \(what) is not valid UTF-8")
        }
        return s
    }
}

/// Parses a float as Go's strconv.ParseFloat does for exposition values (NaN, ±Inf included).
public func parseFloat(_ s: String) -> Double? {
    switch s.lowercased() {
    case "nan": return .nan
    case "+inf", "inf", "+infinity", "infinity": return .infinity
    case "-inf", "-infinity": return -.infinity
    default:
        guard let first = s.utf8.first, first == 0x2B || first == 0x2D || first == 0x2E || (first >= 0x30 && first <= 0x39) else { return nil }
        return Double(s)
    }
}
