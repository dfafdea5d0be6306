import Foundation

/// A colour as a panel asks for it; the writer turns it into what the terminal can show.
public enum Color: Hashable, Sendable {
    case `default`
    /// One of the 256 xterm colours (0–15 are the terminal's own palette).
    case indexed(UInt8)
    case rgb(UInt8, UInt8, UInt8)

    public static let black = Color.indexed(0), red = Color.indexed(1), green = Color.indexed(2)
    public static let yellow = Color.indexed(3), blue = Color.indexed(4), magenta = Color.indexed(5)
    public static let cyan = Color.indexed(6), white = Color.indexed(7), gray = Color.indexed(8)
    public static let brightRed = Color.indexed(9), brightGreen = Color.indexed(10), brightYellow = Color.indexed(11)
    public static let brightBlue = Color.indexed(12), brightMagenta = Color.indexed(13), brightCyan = Color.indexed(14)
    public static let brightWhite = Color.indexed(15)

    /// Series colours, in the order Grafana's classic palette assigns them.
    public static let palette: [Color] = [
        .rgb(0x73, 0xBF, 0x69), .rgb(0xF2, 0xCC, 0x0C), .rgb(0x56, 0x94, 0xF2), .rgb(0xFF, 0x98, 0x30),
        .rgb(0xF2, 0x49, 0x5C), .rgb(0xB8, 0x77, 0xD9), .rgb(0x8A, 0xB8, 0xFF), .rgb(0x96, 0xD9, 0x8D),
    ]

    /// A Grafana colour name ("green", "dark-red", "semi-dark-orange", "#FF7383", "rgb(…)")
    /// as a colour; nil when the name is unknown.
    public static func named(_ name: String) -> Color? {
        let n = name.lowercased().trimmingCharacters(in: .whitespaces)
        if n.hasPrefix("#") {
            let hex = n.dropFirst()
            guard hex.count == 6 || hex.count == 8, let v = UInt32(hex.prefix(6), radix: 16) else { return nil }
            return .rgb(UInt8(v >> 16), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF))
        }
        if n.hasPrefix("rgb") {
            let nums = n.split(whereSeparator: { !"0123456789".contains($0) }).compactMap { UInt8($0) }
            return nums.count >= 3 ? .rgb(nums[0], nums[1], nums[2]) : nil
        }
        let base = n.replacingOccurrences(of: "semi-dark-", with: "").replacingOccurrences(of: "dark-", with: "")
            .replacingOccurrences(of: "super-light-", with: "").replacingOccurrences(of: "light-", with: "")
        switch base {
        case "green": return .rgb(0x73, 0xBF, 0x69)
        case "red": return .rgb(0xF2, 0x49, 0x5C)
        case "yellow": return .rgb(0xFA, 0xDE, 0x2A)
        case "orange": return .rgb(0xFF, 0x98, 0x30)
        case "blue": return .rgb(0x56, 0x94, 0xF2)
        case "purple": return .rgb(0xB8, 0x77, 0xD9)
        case "text", "white": return .default
        case "transparent": return .default
        case "gray", "grey": return .gray
        default: return nil
        }
    }

    /// The nearest of the 256 xterm colours.
    public var indexed256: UInt8 {
        switch self {
        case .default: return 7
        case .indexed(let i): return i
        case .rgb(let r, let g, let b):
            func level(_ c: UInt8) -> Int { c < 48 ? 0 : c < 115 ? 1 : Int((Int(c) - 35) / 40) }
            let (lr, lg, lb) = (level(r), level(g), level(b))
            let steps = [0, 95, 135, 175, 215, 255]
            let cube = 16 + 36 * lr + 6 * lg + lb
            let cubeErr = dist(r, g, b, steps[lr], steps[lg], steps[lb])
            let avg = (Int(r) + Int(g) + Int(b)) / 3
            let grayIdx = avg > 238 ? 23 : max(0, (avg - 3) / 10)
            let gv = 8 + 10 * grayIdx
            return dist(r, g, b, gv, gv, gv) < cubeErr ? UInt8(232 + grayIdx) : UInt8(cube)
        }
    }

    private func dist(_ r: UInt8, _ g: UInt8, _ b: UInt8, _ r2: Int, _ g2: Int, _ b2: Int) -> Int {
        let dr = Int(r) - r2, dg = Int(g) - g2, db = Int(b) - b2
        return dr * dr + dg * dg + db * db
    }
}

/// How many colours the terminal shows: none (`NO_COLOR`, or not a terminal), 256, or 24-bit.
public enum ColorMode: String, Sendable, CaseIterable {
    case none, ansi256 = "256", truecolor

    /// From the environment: `NO_COLOR` (any value) turns colour off; `COLORTERM=truecolor|24bit`
    /// allows 24-bit colour; otherwise 256 colours.
    public static func detect(environment: [String: String]) -> ColorMode {
        if let v = environment["NO_COLOR"], !v.isEmpty { return .none }
        if environment["TERM"] == "dumb" { return .none }
        let ct = environment["COLORTERM"]?.lowercased() ?? ""
        if ct == "truecolor" || ct == "24bit" { return .truecolor }
        return .ansi256
    }
}

/// Colours and attributes of one cell.
public struct Style: Hashable, Sendable {
    public var fg: Color
    public var bg: Color
    public var attrs: UInt8

    public static let bold: UInt8 = 1, dim: UInt8 = 2, underline: UInt8 = 4, reverse: UInt8 = 8

    public init(fg: Color = .default, bg: Color = .default, attrs: UInt8 = 0) {
        self.fg = fg
        self.bg = bg
        self.attrs = attrs
    }

    public static let plain = Style()

    public func with(fg: Color) -> Style { var s = self; s.fg = fg; return s }
    public func with(bg: Color) -> Style { var s = self; s.bg = bg; return s }
    public func adding(_ a: UInt8) -> Style { var s = self; s.attrs |= a; return s }
}
