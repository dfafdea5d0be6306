import Foundation

/// Go's `%q`, `%#U` and `%f` renderings, used only to build error messages that read exactly as
/// Prometheus' do (printing of queries themselves uses `quoteLabelValue`).
enum GoFormat {
    /// Go's `strconv.Quote`: double quotes, C-style escapes, non-printable runes as `\x`, `\u`, `\U`.
    static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars { appendEscaped(scalar, quote: "\"", into: &out) }
        out += "\""
        return out
    }

    /// Go's `%.Nq`: the first `maxRunes` runes of `s`, quoted.
    static func quote(_ s: String, maxRunes: Int) -> String {
        var out = "\""
        var count = 0
        for scalar in s.unicodeScalars {
            if count == maxRunes { break }
            appendEscaped(scalar, quote: "\"", into: &out)
            count += 1
        }
        out += "\""
        return out
    }

    /// Go's `%q` for a rune; `nil` stands for end of input, which Go prints as the replacement character.
    static func quoteRune(_ scalar: Unicode.Scalar?) -> String {
        var out = "'"
        appendEscaped(scalar ?? "\u{FFFD}", quote: "'", into: &out)
        out += "'"
        return out
    }

    /// Go's `%#U`: `U+0063 'c'`, without the quoted form when the rune is not printable.
    static func unicodeNotation(_ scalar: Unicode.Scalar?) -> String {
        let value = scalar?.value ?? 0xFFFD
        var hex = String(value, radix: 16, uppercase: true)
        if hex.count < 4 { hex = String(repeating: "0", count: 4 - hex.count) + hex }
        var out = "U+" + hex
        if let scalar, isPrint(scalar) {
            out += " '"
            out.unicodeScalars.append(scalar)
            out += "'"
        }
        return out
    }

    /// Go's `%f`: six decimals, and `+Inf`, `-Inf`, `NaN` for the special values.
    static func formatF(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Inf" : "+Inf" }
        return String(format: "%f", value)
    }

    /// Go's `unicode.IsPrint`: letters, marks, numbers, punctuation, symbols and the ASCII space.
    static func isPrint(_ scalar: Unicode.Scalar) -> Bool {
        let v = scalar.value
        if v < 0x80 { return v >= 0x20 && v < 0x7F }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
             .nonspacingMark, .spacingMark, .enclosingMark,
             .decimalNumber, .letterNumber, .otherNumber,
             .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation,
             .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol:
            return true
        default:
            return false
        }
    }

    private static let hexDigits = Array("0123456789abcdef".unicodeScalars)

    private static func appendEscaped(_ scalar: Unicode.Scalar, quote: Unicode.Scalar, into out: inout String) {
        if scalar == quote || scalar == "\\" {
            out += "\\"
            out.unicodeScalars.append(scalar)
            return
        }
        if isPrint(scalar) {
            out.unicodeScalars.append(scalar)
            return
        }
        switch scalar {
        case "\u{07}": out += "\\a"
        case "\u{08}": out += "\\b"
        case "\u{0C}": out += "\\f"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case "\u{0B}": out += "\\v"
        default:
            let v = scalar.value
            if v < 0x20 || v == 0x7F {
                out += "\\x"
                appendHex(v, digits: 2, into: &out)
            } else if v < 0x10000 {
                out += "\\u"
                appendHex(v, digits: 4, into: &out)
            } else {
                out += "\\U"
                appendHex(v, digits: 8, into: &out)
            }
        }
    }

    private static func appendHex(_ value: UInt32, digits: Int, into out: inout String) {
        var shift = (digits - 1) * 4
        while shift >= 0 {
            out.unicodeScalars.append(hexDigits[Int((value >> UInt32(shift)) & 0xF)])
            shift -= 4
        }
    }
}
