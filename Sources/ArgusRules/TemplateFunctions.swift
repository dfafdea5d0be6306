import ArgusModel
import Foundation

/// Prometheus' template functions (humanize, humanizeDuration, printf, reReplaceAll, first,
/// value, label, ...) and the Go builtins alert templates use (eq, ne, lt, and, or, not, len,
/// index, print).
enum TemplateFunctions {
    static let names: Set<String> = [
        "humanize", "humanize1024", "humanizeDuration", "humanizePercentage", "humanizeTimestamp",
        "printf", "print", "println", "toUpper", "toLower", "title", "reReplaceAll", "match", "query",
        "first", "value", "label", "strvalue", "sortByLabel", "args", "safeHtml", "stripPort", "stripDomain",
        "eq", "ne", "lt", "le", "gt", "ge", "and", "or", "not", "len", "index", "toTime", "parseDuration",
        "urlquery", "html", "js", "pathPrefix", "externalURL", "tableLink", "graphLink",
    ]

    static func fail(_ m: String) -> TemplateError { TemplateError(message: m) }

    static func number(_ v: TemplateValue) throws -> Double {
        switch v {
        case let .int(i): return Double(i)
        case let .float(f): return f
        case let .string(s):
            if let d = Double(s.trimmingCharacters(in: .whitespaces)) { return d }
            let lower = s.lowercased()
            if lower == "nan" { return .nan }
            if lower == "+inf" || lower == "inf" { return .infinity }
            if lower == "-inf" { return -.infinity }
            throw fail("strconv.ParseFloat: parsing \(GoQuote.quote(s)): invalid syntax")
        case let .sample(_, value): return value
        default: throw fail("can't convert \(v.text) to float")
        }
    }

    static func string(_ v: TemplateValue) -> String { v.text }

    static func call(_ name: String, _ a: [TemplateValue]) throws -> TemplateValue {
        func want(_ n: Int) throws {
            if a.count != n { throw fail("wrong number of args for \(name): want \(n) got \(a.count)") }
        }
        switch name {
        case "humanize":
            try want(1)
            return .string(humanize(try number(a[0])))
        case "humanize1024":
            try want(1)
            return .string(humanize1024(try number(a[0])))
        case "humanizeDuration":
            try want(1)
            return .string(humanizeDuration(try number(a[0])))
        case "humanizePercentage":
            try want(1)
            return .string(GoFloat.format(try number(a[0]) * 100, verb: "g", precision: 4) + "%")
        case "humanizeTimestamp":
            try want(1)
            let v = try number(a[0])
            if v.isNaN || v.isInfinite { return .string(GoFloat.format(v, verb: "g", precision: 4)) }
            return .string(formatTime(v))
        case "toTime":
            try want(1)
            return .string(formatTime(try number(a[0])))
        case "printf":
            guard let f = a.first else { throw fail("wrong number of args for printf: want at least 1 got 0") }
            return .string(GoPrintf.format(f.text, Array(a.dropFirst())))
        case "print":
            var out = ""
            for (i, v) in a.enumerated() {
                // Go's fmt.Sprint adds spaces between operands when neither is a string.
                if i > 0, !isString(v), !isString(a[i - 1]) { out += " " }
                out += v.text
            }
            return .string(out)
        case "println":
            return .string(a.map(\.text).joined(separator: " ") + "\n")
        case "toUpper": try want(1); return .string(a[0].text.uppercased())
        case "toLower": try want(1); return .string(a[0].text.lowercased())
        case "title":
            try want(1)
            var out = ""
            var prevLetter = false
            for ch in a[0].text {
                let isL = ch.isLetter || ch.isNumber || ch == "_" || ch == "'"
                out += (!prevLetter && ch.isLetter) ? ch.uppercased() : String(ch)
                prevLetter = isL
            }
            return .string(out)
        case "reReplaceAll":
            try want(3)
            let re: NSRegularExpression
            do { re = try NSRegularExpression(pattern: a[0].text) } catch { throw fail("error parsing regexp: \(a[0].text)") }
            let s = a[2].text
            let tmpl = goTemplateToNS(a[1].text)
            return .string(re.stringByReplacingMatches(in: s, range: NSRange(s.startIndex..., in: s), withTemplate: tmpl))
        case "match":
            try want(2)
            guard let re = try? NSRegularExpression(pattern: a[0].text) else { throw fail("error parsing regexp: \(a[0].text)") }
            let s = a[1].text
            return .bool(re.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil)
        case "first":
            try want(1)
            guard case let .list(l) = a[0], let f = l.first else { throw fail("first() called on vector with no elements") }
            return f
        case "value":
            try want(1)
            guard case let .sample(_, v) = a[0] else { throw fail("value() needs a query result element") }
            return .float(v)
        case "label":
            try want(2)
            guard case let .sample(l, _) = a[1] else { throw fail("label() needs a query result element") }
            return .string(l[a[0].text] ?? "")
        case "strvalue":
            try want(1)
            guard case let .sample(l, _) = a[0] else { return .string("") }
            return .string(l["__value__"] ?? "")
        case "sortByLabel":
            try want(2)
            guard case let .list(l) = a[1] else { return a[1] }
            let key = a[0].text
            return .list(l.sorted { x, y in
                if case let .sample(lx, _) = x, case let .sample(ly, _) = y { return (lx[key] ?? "") < (ly[key] ?? "") }
                return false
            })
        case "args":
            var m: [String: String] = [:]
            for (i, v) in a.enumerated() { m["arg\(i)"] = v.text }
            return .map(m)
        case "safeHtml", "html", "js": try want(1); return .string(a[0].text)
        case "urlquery":
            return .string(a.map(\.text).joined().addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
        case "stripPort":
            try want(1)
            let s = a[0].text
            if s.hasPrefix("["), let close = s.firstIndex(of: "]") { return .string(String(s[s.index(after: s.startIndex)..<close])) }
            if let c = s.lastIndex(of: ":"), s.filter({ $0 == ":" }).count == 1 { return .string(String(s[..<c])) }
            return .string(s)
        case "stripDomain":
            try want(1)
            let s = a[0].text
            var host = s, port = ""
            if let c = s.lastIndex(of: ":"), s.filter({ $0 == ":" }).count == 1 { host = String(s[..<c]); port = String(s[c...]) }
            if host.first?.isNumber == true { return .string(s) }
            return .string(String(host.split(separator: ".").first ?? "") + port)
        case "parseDuration":
            try want(1)
            let ms = try PromDurationText.parse(a[0].text)
            return .float(Double(ms) / 1000)
        case "pathPrefix", "externalURL": return .string("")
        case "tableLink", "graphLink":
            try want(1)
            let q = a[0].text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            return .string("/graph?g0.expr=\(q)&g0.tab=\(name == "tableLink" ? 1 : 0)")
        case "eq":
            guard a.count >= 2 else { throw fail("missing argument for comparison") }
            return .bool(a.dropFirst().contains { equal(a[0], $0) })
        case "ne": try want(2); return .bool(!equal(a[0], a[1]))
        case "lt", "le", "gt", "ge":
            try want(2)
            let c: Bool
            if isString(a[0]) && isString(a[1]) {
                let x = a[0].text, y = a[1].text
                c = name == "lt" ? x < y : name == "le" ? x <= y : name == "gt" ? x > y : x >= y
            } else {
                let x = try number(a[0]), y = try number(a[1])
                c = name == "lt" ? x < y : name == "le" ? x <= y : name == "gt" ? x > y : x >= y
            }
            return .bool(c)
        case "and":
            guard !a.isEmpty else { throw fail("wrong number of args for and") }
            for v in a where !v.truthy { return v }
            return a.last!
        case "or":
            guard !a.isEmpty else { throw fail("wrong number of args for or") }
            for v in a where v.truthy { return v }
            return a.last!
        case "not": try want(1); return .bool(!a[0].truthy)
        case "len":
            try want(1)
            switch a[0] {
            case let .list(l): return .int(l.count)
            case let .map(m): return .int(m.count)
            case let .string(s): return .int(s.utf8.count)
            default: throw fail("len of type \(a[0].text)")
            }
        case "index":
            guard a.count >= 2 else { throw fail("wrong number of args for index") }
            switch (a[0], a[1]) {
            case let (.map(m), k): return m[k.text].map { .string($0) } ?? .string("")
            case let (.list(l), .int(i)):
                guard i >= 0 && i < l.count else { throw fail("index out of range: \(i)") }
                return l[i]
            default: throw fail("can't index item of type \(a[0].text)")
            }
        default:
            throw fail("function \"\(name)\" not defined")
        }
    }

    static func isString(_ v: TemplateValue) -> Bool {
        if case .string = v { return true }
        return false
    }

    static func equal(_ a: TemplateValue, _ b: TemplateValue) -> Bool {
        switch (a, b) {
        case let (.string(x), .string(y)): return x == y
        case let (.bool(x), .bool(y)): return x == y
        case (.null, .null): return true
        default:
            if let x = try? number(a), let y = try? number(b), !isString(a), !isString(b) { return x == y }
            return a.text == b.text
        }
    }

    /// Go's regexp replacement uses `$1`/`${1}`/`${name}`; NSRegularExpression uses `$1`.
    static func goTemplateToNS(_ t: String) -> String {
        var out = ""
        var cs = Array(t)[...]
        while let c = cs.first {
            cs = cs.dropFirst()
            if c == "\\" { out += "\\\\"; continue }
            if c == "$", cs.first == "{", let close = cs.firstIndex(of: "}") {
                out += "$" + String(cs[cs.index(after: cs.startIndex)..<close])
                cs = cs[cs.index(after: close)...]
                continue
            }
            out.append(c)
        }
        return out
    }

    static func formatTime(_ seconds: Double) -> String {
        let date = Date(timeIntervalSince1970: seconds)
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd HH:mm:ss.SSS"
        var s = f.string(from: date)
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        return s + " +0000 UTC"
    }

    static func humanize(_ v0: Double) -> String {
        var v = v0
        if v == 0 || v.isNaN || v.isInfinite { return GoFloat.format(v, verb: "g", precision: 4) }
        if abs(v) >= 1 {
            var prefix = ""
            for p in ["k", "M", "G", "T", "P", "E", "Z", "Y"] {
                if abs(v) < 1000 { break }
                prefix = p
                v /= 1000
            }
            return GoFloat.format(v, verb: "g", precision: 4) + prefix
        }
        var prefix = ""
        for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
            if abs(v) >= 1 { break }
            prefix = p
            v *= 1000
        }
        return GoFloat.format(v, verb: "g", precision: 4) + prefix
    }

    static func humanize1024(_ v0: Double) -> String {
        var v = v0
        if abs(v) <= 1 || v.isNaN || v.isInfinite { return GoFloat.format(v, verb: "g", precision: 4) }
        var prefix = ""
        for p in ["ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"] {
            if abs(v) < 1024 { break }
            prefix = p
            v /= 1024
        }
        return GoFloat.format(v, verb: "g", precision: 4) + prefix
    }

    static func humanizeDuration(_ v0: Double) -> String {
        var v = v0
        if v.isNaN || v.isInfinite { return GoFloat.format(v, verb: "g", precision: 4) }
        if v == 0 { return GoFloat.format(v, verb: "g", precision: 4) + "s" }
        if abs(v) >= 1 {
            var sign = ""
            if v < 0 { sign = "-"; v = -v }
            let d = Int64(v)
            let s = d % 60, m = (d / 60) % 60, h = (d / 3600) % 24, days = d / 86400
            if days != 0 { return "\(sign)\(days)d \(h)h \(m)m \(s)s" }
            if h != 0 { return "\(sign)\(h)h \(m)m \(s)s" }
            if m != 0 { return "\(sign)\(m)m \(s)s" }
            return sign + GoFloat.format(v, verb: "g", precision: 4) + "s"
        }
        var prefix = ""
        for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
            if abs(v) >= 1 { break }
            prefix = p
            v *= 1000
        }
        return GoFloat.format(v, verb: "g", precision: 4) + prefix + "s"
    }
}

/// Prometheus durations for `parseDuration`, through ArgusModel's parser.
enum PromDurationText {
    static func parse(_ s: String) throws -> Int64 {
        do { return try PromDuration.parseMillis(s) } catch {
            throw TemplateError(message: "not a valid duration string: \(GoQuote.quote(s))")
        }
    }
}

/// Go's float formatting (`strconv.FormatFloat` with verbs g, e, f), which alert texts print
/// through `%v`, `%g`, `%.4g` (humanize) and `printf`.
enum GoFloat {
    /// The decimal digits of `v` (no leading zeros, no trailing zeros) and the position of the
    /// decimal point relative to them: v = 0.DIGITS × 10^dp. `precision` nil means shortest.
    static func digits(_ v: Double, precision: Int?) -> (digits: [UInt8], dp: Int) {
        let a = abs(v)
        if a == 0 { return ([], 0) }
        let text: String
        if let p = precision {
            text = String(format: "%.\(max(p - 1, 0))e", a)
        } else {
            text = "\(a)"
        }
        var mantissa = text
        var exp = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = String(text[..<e])
            exp = Int(text[text.index(after: e)...].replacingOccurrences(of: "+", with: "")) ?? 0
        }
        var intPart = mantissa
        var frac = ""
        if let dot = mantissa.firstIndex(of: ".") {
            intPart = String(mantissa[..<dot])
            frac = String(mantissa[mantissa.index(after: dot)...])
        }
        var ds = Array((intPart + frac).utf8).map { $0 - 48 }
        var dp = intPart.count + exp
        while let f = ds.first, f == 0, !ds.isEmpty { ds.removeFirst(); dp -= 1 }
        while let l = ds.last, l == 0 { ds.removeLast() }
        return (ds, dp)
    }

    static func format(_ v: Double, verb: Character, precision: Int?) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "+Inf" : "-Inf" }
        let neg = v.sign == .minus && v != 0 || (v == 0 && v.sign == .minus)
        let sign = neg ? "-" : ""
        switch verb {
        case "f":
            return String(format: "%.\(precision ?? 6)f", v)
        case "e":
            if precision == nil {
                let (ds, dp) = digits(v, precision: nil)
                return sign + fmtE(ds.isEmpty ? [0] : ds, dp: ds.isEmpty ? 1 : dp, prec: max(ds.count - 1, 0))
            }
            return String(format: "%.\(precision!)e", v)
        default:
            var prec = precision ?? -1
            if prec == 0 { prec = 1 }
            let (ds0, dp0) = digits(v, precision: precision == nil ? nil : prec)
            let ds = ds0.isEmpty ? [UInt8(0)] : ds0
            let dp = ds0.isEmpty ? 1 : dp0
            var eprec = prec
            if precision == nil { eprec = 6 } else if eprec > ds.count && ds.count >= dp { eprec = ds.count }
            let exp = dp - 1
            if exp < -4 || exp >= eprec {
                var p = precision == nil ? ds.count : prec
                if p > ds.count { p = ds.count }
                return sign + fmtE(ds, dp: dp, prec: p - 1)
            }
            var p = precision == nil ? ds.count : prec
            if p > dp { p = ds.count }
            return sign + fmtF(ds, dp: dp, prec: max(p - dp, 0))
        }
    }

    static func fmtE(_ ds: [UInt8], dp: Int, prec: Int) -> String {
        var out = String(ds[0])
        if prec > 0 {
            out += "."
            for i in 1...prec { out += i < ds.count ? String(ds[i]) : "0" }
        }
        let exp = ds == [0] ? 0 : dp - 1
        out += exp < 0 ? "e-" : "e+"
        let e = abs(exp)
        out += e < 10 ? "0\(e)" : "\(e)"
        return out
    }

    static func fmtF(_ ds: [UInt8], dp: Int, prec: Int) -> String {
        var out = ""
        if dp > 0 {
            for i in 0..<dp { out += i < ds.count ? String(ds[i]) : "0" }
        } else {
            out = "0"
        }
        if prec > 0 {
            out += "."
            for i in 0..<prec {
                let idx = dp + i
                out += idx >= 0 && idx < ds.count ? String(ds[idx]) : "0"
            }
        }
        return out
    }
}

/// Go's `fmt.Sprintf` for the verbs alert templates use: %s %v %d %f %g %e %q %x %t %%, with
/// flags, width and precision.
enum GoPrintf {
    static func format(_ f: String, _ args: [TemplateValue]) -> String {
        var out = ""
        var cs = Array(f)
        var i = 0
        var argi = 0
        cs.append("\0")
        while i < cs.count - 1 {
            let c = cs[i]
            if c != "%" { out.append(c); i += 1; continue }
            i += 1
            var flags = ""
            while "+-# 0".contains(cs[i]) && cs[i] != "\0" { flags.append(cs[i]); i += 1 }
            var width = ""
            while cs[i].isNumber { width.append(cs[i]); i += 1 }
            var precision: Int? = nil
            if cs[i] == "." {
                i += 1
                var p = ""
                while cs[i].isNumber { p.append(cs[i]); i += 1 }
                precision = Int(p) ?? 0
            }
            let verb = cs[i]
            i += 1
            if verb == "%" { out += "%"; continue }
            if verb == "\0" { out += "%!(NOVERB)"; break }
            guard argi < args.count else { out += "%!\(verb)(MISSING)"; continue }
            let a = args[argi]
            argi += 1
            var s: String
            switch verb {
            case "s", "v":
                if case let .float(d) = a, verb == "v" { s = GoFloat.format(d, verb: "g", precision: precision) } else { s = a.text }
                if verb == "s", let p = precision { s = String(s.prefix(p)) }
            case "q": s = GoQuote.quote(a.text)
            case "t": s = a.text
            case "d":
                switch a {
                case let .int(n): s = String(n)
                case let .float(d): s = "%!d(float64=\(GoFloat.format(d, verb: "g", precision: nil)))"
                case let .string(t): s = "%!d(string=\(t))"
                default: s = "%!d(\(a.text))"
                }
                if flags.contains("+"), !s.hasPrefix("-"), !s.hasPrefix("%") { s = "+" + s }
            case "f", "F", "e", "g":
                let d: Double
                switch a {
                case let .int(n): out += "%!\(verb)(int=\(n))"; continue
                case let .float(x): d = x
                case let .string(t): out += "%!\(verb)(string=\(t))"; continue
                default: d = (try? TemplateFunctions.number(a)) ?? .nan
                }
                s = GoFloat.format(d, verb: verb == "F" ? "f" : verb, precision: precision)
                if flags.contains("+"), d >= 0 || d.isNaN { s = "+" + s }
            case "x", "X":
                switch a {
                case let .int(n): s = String(n, radix: 16, uppercase: verb == "X")
                default: s = a.text.utf8.map { String(format: verb == "X" ? "%02X" : "%02x", $0) }.joined()
                }
            default:
                s = "%!\(verb)(\(a.text))"
            }
            if let w = Int(width), s.count < w {
                let pad = String(repeating: flags.contains("0") && !flags.contains("-") ? "0" : " ", count: w - s.count)
                if flags.contains("-") { s += pad } else if pad.first == "0", s.hasPrefix("-") { s = "-" + pad + s.dropFirst() } else { s = pad + s }
            }
            out += s
        }
        if argi < args.count {
            out += "%!(EXTRA " + args[argi...].map { a -> String in
                switch a {
                case .string: return "string=" + a.text
                case .int: return "int=" + a.text
                case .float: return "float64=" + a.text
                default: return a.text
                }
            }.joined(separator: ", ") + ")"
        }
        return out
    }
}
