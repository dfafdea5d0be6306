/// How charts are drawn: braille dots (2×4 per cell), block quadrants (2×2) or plain ASCII (1×3).
public enum Charset: String, Sendable, CaseIterable {
    case braille, block, ascii

    /// Dots per cell, horizontally and vertically.
    public var resolution: (x: Int, y: Int) {
        switch self {
        case .braille: return (2, 4)
        case .block: return (2, 2)
        case .ascii: return (1, 3)
        }
    }

    /// Characters for bar levels 0…8 (sparklines, heat cells).
    public var levels: [String] {
        switch self {
        case .braille, .block: return [" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]
        case .ascii: return [" ", ".", ".", "_", "-", "-", "=", "#", "#"]
        }
    }

    /// The fill character of bars and gauges.
    public var full: String { self == .ascii ? "#" : "█" }
    public var horizontal: String { self == .ascii ? "-" : "─" }
}

/// A dot canvas over a cell rectangle: plot dots and lines in dot coordinates (origin at the
/// top left), then draw the cells onto a screen. Each cell takes the colour of the last series
/// that set a dot in it.
public struct Canvas {
    public let charset: Charset
    public let cols: Int, rows: Int
    public var dotWidth: Int { cols * charset.resolution.x }
    public var dotHeight: Int { rows * charset.resolution.y }
    private var bits: [UInt8]
    private var colors: [Color]

    public init(cols: Int, rows: Int, charset: Charset) {
        self.cols = max(0, cols)
        self.rows = max(0, rows)
        self.charset = charset
        bits = [UInt8](repeating: 0, count: self.cols * self.rows)
        colors = [Color](repeating: .default, count: self.cols * self.rows)
    }

    /// Sets the dot at (x, y) in dot coordinates; outside dots are ignored.
    @inline(__always)
    public mutating func set(_ x: Int, _ y: Int, _ color: Color) {
        guard x >= 0, y >= 0, x < dotWidth, y < dotHeight else { return }
        let (rx, ry) = charset.resolution
        let i = (y / ry) * cols + x / rx
        bits[i] |= Canvas.bit(charset, x % rx, y % ry)
        colors[i] = color
    }

    /// A straight line between two dots.
    public mutating func line(_ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int, _ color: Color) {
        let n = max(abs(x1 - x0), abs(y1 - y0), 1)
        for k in 0...n { set(x0 + (x1 - x0) * k / n, y0 + (y1 - y0) * k / n, color) }
    }

    @inline(__always)
    static func bit(_ cs: Charset, _ dx: Int, _ dy: Int) -> UInt8 {
        switch cs {
        case .braille:
            // Braille dot numbering: column 0 holds dots 1,2,3,7; column 1 holds 4,5,6,8.
            return brailleBits[dy * 2 + dx]
        case .block: return UInt8(1) << UInt8(dy * 2 + dx)  // 1 top-left, 2 top-right, 4 bottom-left, 8 bottom-right
        case .ascii: return UInt8(1) << UInt8(dy)
        }
    }

    static let brailleBits: [UInt8] = [0x01, 0x08, 0x02, 0x10, 0x04, 0x20, 0x40, 0x80]
    static let quadrants = [" ", "▘", "▝", "▀", "▖", "▌", "▞", "▛", "▗", "▚", "▐", "▜", "▄", "▙", "▟", "█"]
    static let asciiDots = [" ", "'", "-", "'", ".", ":", ":", "|"]

    /// The character for a cell's dot bits.
    public func glyph(_ b: UInt8) -> String {
        switch charset {
        case .braille: return String(Character(Unicode.Scalar(0x2800 + UInt32(b))!))
        case .block: return Canvas.quadrants[Int(b & 0x0F)]
        case .ascii: return Canvas.asciiDots[Int(b & 0x07)]
        }
    }

    /// Draws the cells with dots onto `screen` at (x, y); empty cells are left as they are.
    public func draw(on screen: inout Screen, x: Int, y: Int, background: Style = .plain) {
        for r in 0..<rows {
            for c in 0..<cols {
                let b = bits[r * cols + c]
                if b == 0 { continue }
                screen.setCell(x + c, y + r, Cell(glyph(b), background.with(fg: colors[r * cols + c])))
            }
        }
    }
}
