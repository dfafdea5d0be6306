/// Parses a series selector (`name{a="b", c=~"d"}` or `{__name__="x"}`) into matchers, as the
/// `match[]` parameters of the Prometheus and VictoriaMetrics APIs take it.
public enum SelectorParser {
    public static func parse(_ text: String) throws -> [Matcher] {
        let s = Array(text.unicodeScalars)
        var i = 0
        var matchers: [Matcher] = []
        func err(_ why: String) -> ArgusError {
            ArgusError(.badInput, "1:\(i + 1): parse error: \(why)")
        }
        func skipSpace() { while i < s.count && (s[i] == " " || s[i] == "\t" || s[i] == "\n") { i += 1 } }
        func isNameChar(_ c: Unicode.Scalar, first: Bool, metric: Bool) -> Bool {
            (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c == "_" || (metric && c == ":") || (!first && c >= "0" && c <= "9")
        }
        skipSpace()
        var name = ""
        while i < s.count && isNameChar(s[i], first: name.isEmpty, metric: true) {
            name.unicodeScalars.append(s[i])
            i += 1
        }
        if !name.isEmpty { matchers.append(Matcher.eq(Labels.metricName, name)) }
        skipSpace()
        if i < s.count && s[i] == "{" {
            i += 1
            while true {
                skipSpace()
                guard i < s.count else { throw err("unexpected end of input inside braces") }
                if s[i] == "}" {
                    i += 1
                    break
                }
                var lname = ""
                if s[i] == "\"" {
                    lname = try quoted()
                } else {
                    while i < s.count && isNameChar(s[i], first: lname.isEmpty, metric: false) {
                        lname.unicodeScalars.append(s[i])
                        i += 1
                    }
                }
                guard !lname.isEmpty else { throw err("unexpected character inside braces: \"\(s[i])\"") }
                skipSpace()
                var op: Matcher.Kind
                if i + 1 < s.count && s[i] == "=" && s[i + 1] == "~" { op = .regexMatch; i += 2 }
                else if i + 1 < s.count && s[i] == "!" && s[i + 1] == "=" { op = .notEqual; i += 2 }
                else if i + 1 < s.count && s[i] == "!" && s[i + 1] == "~" { op = .regexNoMatch; i += 2 }
                else if i < s.count && s[i] == "=" { op = .equal; i += 1 }
                else { throw err("expected a label matching operator after \"\(lname)\"") }
                skipSpace()
                guard i < s.count, s[i] == "\"" || s[i] == "'" || s[i] == "`" else { throw err("expected a quoted label value") }
                let value = try quoted()
                matchers.append(try Matcher(op, lname, value))
                skipSpace()
                if i < s.count && s[i] == "," { i += 1; continue }
                guard i < s.count && s[i] == "}" else { throw err("expected \",\" or \"}\"") }
            }
        }
        skipSpace()
        if i < s.count { throw err("unexpected character: \"\(s[i])\"") }
        if matchers.isEmpty { throw ArgusError(.badInput, "1:1: parse error: empty selector") }
        if matchers.allSatisfy({ $0.matchesEmpty }) {
            throw ArgusError(.badInput, "1:1: parse error: vector selector must contain at least one non-empty matcher")
        }
        return matchers

        func quoted() throws -> String {
            let q = s[i]
            i += 1
            var out = ""
            while i < s.count && s[i] != q {
                if s[i] == "\\" && q != "`" && i + 1 < s.count {
                    i += 1
                    switch s[i] {
                    case "n": out += "\n"
                    case "t": out += "\t"
                    case "r": out += "\r"
                    case "\\": out += "\\"
                    case "\"": out += "\""
                    case "'": out += "'"
                    default: out += "\\"; out.unicodeScalars.append(s[i])
                    }
                    i += 1
                    continue
                }
                out.unicodeScalars.append(s[i])
                i += 1
            }
            guard i < s.count else { throw err("unterminated quoted string") }
            i += 1
            return out
        }
    }
}
