import ArgusModel

/// Names OTLP metrics and attributes as Prometheus' own OTLP receiver does (with suffixes):
/// `http.server.duration` in `s` as a histogram → `http_server_duration_seconds`, a monotonic
/// sum → `…_total`, a gauge in unit `1` → `…_ratio`; attribute keys → valid label names.
public enum OTLPNaming {
    public enum Kind { case gauge, counter, histogram, summary, upDownSum }

    static let unitNames: [String: String] = [
        "d": "days", "h": "hours", "min": "minutes", "s": "seconds", "ms": "milliseconds",
        "us": "microseconds", "ns": "nanoseconds",
        "By": "bytes", "KiBy": "kibibytes", "MiBy": "mebibytes", "GiBy": "gibibytes", "TiBy": "tibibytes",
        "KBy": "kilobytes", "MBy": "megabytes", "GBy": "gigabytes", "TBy": "terabytes",
        "m": "meters", "V": "volts", "A": "amperes", "J": "joules", "W": "watts", "g": "grams",
        "Cel": "celsius", "Hz": "hertz", "%": "percent",
    ]
    static let perUnitNames: [String: String] = [
        "s": "second", "m": "minute", "h": "hour", "d": "day", "w": "week", "mo": "month", "y": "year",
    ]

    @inline(__always) static func isAlnum(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
    }

    static func tokens(_ s: String) -> [String] {
        s.utf8.split(whereSeparator: { !isAlnum($0) }).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The Prometheus metric name for an OTLP metric.
    public static func metricName(_ name: String, unit: String, kind: Kind) -> String {
        var toks = tokens(name)
        // Units: drop annotations in braces, split "main/per".
        var u = unit
        while let open = u.firstIndex(of: "{"), let close = u[open...].firstIndex(of: "}") {
            u.removeSubrange(open...close)
        }
        u = u.trimmingSpaces
        if !u.isEmpty && u != "1" {
            let parts = u.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            let main = parts[0].trimmingSpaces
            if !main.isEmpty {
                let mapped = unitNames[main] ?? main
                for t in tokens(mapped) where !toks.contains(t) { toks.append(t) }
            }
            if parts.count > 1 {
                let per = parts[1].trimmingSpaces
                if !per.isEmpty {
                    let mapped = perUnitNames[per] ?? per
                    let perToks = ["per"] + tokens(mapped)
                    if !(toks.count >= perToks.count && Array(toks.suffix(perToks.count)) == perToks) { toks += perToks }
                }
            }
        }
        if kind == .counter {
            toks.removeAll { $0 == "total" }
            toks.append("total")
        }
        if unit == "1" && kind == .gauge {
            toks.removeAll { $0 == "ratio" }
            toks.append("ratio")
        }
        var out = toks.joined(separator: "_")
        if let f = out.utf8.first, f >= 0x30 && f <= 0x39 { out = "_" + out }
        return out
    }

    /// A valid label name for an attribute key.
    public static func labelName(_ key: String) -> String {
        if key.isEmpty { return "" }
        var bytes = Array(key.utf8).map { isAlnum($0) || $0 == 0x5F ? $0 : 0x5F }
        var s = String(decoding: bytes, as: UTF8.self)
        if let f = bytes.first, f >= 0x30 && f <= 0x39 { s = "key_" + s }
        else if bytes.first == 0x5F && !(bytes.count > 1 && bytes[1] == 0x5F) { s = "key" + s }
        bytes = []
        return s
    }

    /// A float as Go's strconv.FormatFloat(v, 'f', -1, 64) prints it, for `le` and `quantile`.
    public static func formatFloat(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "+Inf" : "-Inf" }
        if v == v.rounded() && abs(v) < 1e15 { return String(Int64(v)) }
        var s = "\(v)"
        // Swift may use exponent notation (1e-05); expand it.
        if let e = s.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            let mantissa = String(s[..<e])
            let exp = Int(s[s.index(after: e)...])!
            let neg = mantissa.hasPrefix("-")
            let digitsPart = neg ? String(mantissa.dropFirst()) : mantissa
            let pieces = digitsPart.split(separator: ".", omittingEmptySubsequences: false)
            let intPart = String(pieces[0])
            let frac = pieces.count > 1 ? String(pieces[1]) : ""
            var digits = intPart + frac
            var point = intPart.count + exp
            if point <= 0 {
                digits = String(repeating: "0", count: -point + 1) + digits
                point = 1
            } else if point > digits.count {
                digits += String(repeating: "0", count: point - digits.count)
            }
            var r = String(digits.prefix(point)) + "." + String(digits.dropFirst(point))
            while r.hasSuffix("0") { r.removeLast() }
            if r.hasSuffix(".") { r.removeLast() }
            s = (neg ? "-" : "") + r
        }
        return s
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
