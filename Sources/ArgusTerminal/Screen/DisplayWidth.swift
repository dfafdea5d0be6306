/// Terminal display width of text: how many cells a character takes.
///
/// Combining marks, zero-width joiners and variation selectors take none; East Asian wide and
/// fullwidth characters and emoji shown as emoji take two; everything else one. This follows
/// what terminals using wcwidth (xterm, VTE, kitty) do, so the cell grid and the real screen agree.
public enum DisplayWidth {
    /// Width of one Unicode scalar (0, 1 or 2). Control characters count as 0.
    @inline(__always)
    public static func of(_ s: Unicode.Scalar) -> Int {
        let v = s.value
        if v < 0x300 { return v < 0x20 || (v >= 0x7F && v < 0xA0) ? 0 : 1 }
        if isZeroWidth(s) { return 0 }
        return isWide(v) ? 2 : 1
    }

    /// Width of a grapheme cluster: its base character's width, or 2 when an emoji
    /// presentation selector (U+FE0F) turns a text symbol into an emoji.
    public static func of(_ c: Character) -> Int {
        if let a = c.asciiValue { return a >= 0x20 && a < 0x7F ? 1 : 0 }
        var w = 0
        var emojiSelector = false
        for s in c.unicodeScalars {
            if s.value == 0xFE0F { emojiSelector = true }
            w = max(w, of(s))
        }
        if emojiSelector, w == 1 { return 2 }
        return min(w, 2)
    }

    /// Width of a string: the sum of its characters' widths.
    public static func of(_ text: String) -> Int {
        var w = 0
        for c in text { w += of(c) }
        return w
    }

    static func isZeroWidth(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if v == 0x200B || v == 0x200C || v == 0x200D || v == 0x2060 || v == 0xFEFF { return true }
        if (0xFE00...0xFE0F).contains(v) || (0xE0100...0xE01EF).contains(v) { return true }
        if (0x1160...0x11FF).contains(v) { return true }  // Hangul jungseong/jongseong join the syllable
        switch s.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format: return true
        default: return false
        }
    }

    static func isWide(_ v: UInt32) -> Bool {
        if v < 0x1100 { return false }
        return (0x1100...0x115F).contains(v) || (0x231A...0x231B).contains(v) || (0x2329...0x232A).contains(v)
            || (0x23E9...0x23EC).contains(v) || v == 0x23F0 || v == 0x23F3 || (0x25FD...0x25FE).contains(v)
            || (0x2614...0x2615).contains(v) || (0x2648...0x2653).contains(v) || v == 0x267F || v == 0x2693
            || v == 0x26A1 || (0x26AA...0x26AB).contains(v) || (0x26BD...0x26BE).contains(v)
            || (0x26C4...0x26C5).contains(v) || v == 0x26CE || v == 0x26D4 || v == 0x26EA
            || (0x26F2...0x26F3).contains(v) || v == 0x26F5 || v == 0x26FA || v == 0x26FD || v == 0x2705
            || (0x270A...0x270B).contains(v) || v == 0x2728 || v == 0x274C || v == 0x274E
            || (0x2753...0x2755).contains(v) || v == 0x2757 || (0x2795...0x2797).contains(v) || v == 0x27B0
            || v == 0x27BF || (0x2B1B...0x2B1C).contains(v) || v == 0x2B50 || v == 0x2B55
            || (0x2E80...0x303E).contains(v) || (0x3041...0x33FF).contains(v) || (0x3400...0x4DBF).contains(v)
            || (0x4E00...0x9FFF).contains(v) || (0xA000...0xA4CF).contains(v) || (0xA960...0xA97F).contains(v)
            || (0xAC00...0xD7A3).contains(v) || (0xF900...0xFAFF).contains(v) || (0xFE10...0xFE19).contains(v)
            || (0xFE30...0xFE6F).contains(v) || (0xFF00...0xFF60).contains(v) || (0xFFE0...0xFFE6).contains(v)
            || (0x16FE0...0x16FE4).contains(v) || (0x17000...0x18CFF).contains(v) || (0x1B000...0x1B2FF).contains(v)
            || v == 0x1F004 || v == 0x1F0CF || v == 0x1F18E || (0x1F191...0x1F19A).contains(v)
            || (0x1F200...0x1F251).contains(v) || (0x1F300...0x1F320).contains(v) || (0x1F32D...0x1F335).contains(v)
            || (0x1F337...0x1F37C).contains(v) || (0x1F37E...0x1F393).contains(v) || (0x1F3A0...0x1F3CA).contains(v)
            || (0x1F3CF...0x1F3D3).contains(v) || (0x1F3E0...0x1F3F0).contains(v) || v == 0x1F3F4
            || (0x1F3F8...0x1F43E).contains(v) || v == 0x1F440 || (0x1F442...0x1F4FC).contains(v)
            || (0x1F4FF...0x1F53D).contains(v) || (0x1F54B...0x1F54E).contains(v) || (0x1F550...0x1F567).contains(v)
            || v == 0x1F57A || (0x1F595...0x1F596).contains(v) || v == 0x1F5A4 || (0x1F5FB...0x1F64F).contains(v)
            || (0x1F680...0x1F6C5).contains(v) || v == 0x1F6CC || (0x1F6D0...0x1F6D2).contains(v)
            || (0x1F6D5...0x1F6D7).contains(v) || (0x1F6DC...0x1F6DF).contains(v) || (0x1F6EB...0x1F6EC).contains(v)
            || (0x1F6F4...0x1F6FC).contains(v) || (0x1F7E0...0x1F7EB).contains(v) || v == 0x1F7F0
            || (0x1F90C...0x1F93A).contains(v) || (0x1F93C...0x1F945).contains(v) || (0x1F947...0x1F9FF).contains(v)
            || (0x1FA70...0x1FAFF).contains(v) || (0x20000...0x2FFFD).contains(v) || (0x30000...0x3FFFD).contains(v)
    }

    /// The longest prefix of `text` that fits in `width` cells, with "…" when it was cut.
    public static func truncate(_ text: String, to width: Int) -> String {
        if width <= 0 { return "" }
        if of(text) <= width { return text }
        var out = ""
        var w = 0
        for c in text {
            let cw = of(c)
            if w + cw > width - 1 { break }
            out.append(c)
            w += cw
        }
        return out + "…"
    }

    /// `text` cut or padded with spaces to exactly `width` cells.
    public static func pad(_ text: String, to width: Int) -> String {
        let t = truncate(text, to: width)
        return t + String(repeating: " ", count: max(0, width - of(t)))
    }

    /// `text` right-aligned in `width` cells.
    public static func padLeft(_ text: String, to width: Int) -> String {
        let t = truncate(text, to: width)
        return String(repeating: " ", count: max(0, width - of(t))) + t
    }
}
