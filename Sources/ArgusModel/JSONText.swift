/// JSON string quoting, shared by every place that writes JSON by hand (API responses, OTLP
/// error bodies) on paths where building a dictionary for JSONSerialization would cost too much.
public enum JSONText {
    /// Appends `s` as a JSON string literal (quotes included) to `out`.
    public static func appendQuoted(_ s: String, to out: inout String) {
        out += "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if c.value < 0x20 {
                    let h = String(c.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
                } else {
                    out.unicodeScalars.append(c)
                }
            }
        }
        out += "\""
    }

    public static func quoted(_ s: String) -> String {
        var o = ""
        appendQuoted(s, to: &o)
        return o
    }
}
