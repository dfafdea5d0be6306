/// Turns a new screen into the bytes that update the terminal from the previous one: only the
/// cells that changed are written, with cursor moves and colour changes only where needed, so
/// a refresh does not flicker and costs little.
public struct DiffWriter {
    public var mode: ColorMode
    private var previous: Screen?

    public init(mode: ColorMode) {
        self.mode = mode
    }

    /// Forgets what the terminal shows, so the next frame is drawn in full (after a resize, or
    /// when something else wrote to the terminal).
    public mutating func invalidate() { previous = nil }

    /// The bytes that make the terminal show `next`; the writer then assumes it does.
    public mutating func frame(_ next: Screen) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(4096)
        let full = previous == nil || previous!.width != next.width || previous!.height != next.height
        if full {
            out += Array("\u{1B}[0m\u{1B}[2J".utf8)
        }
        var cursorX = -1, cursorY = -1
        // Every frame ends with the attributes reset, so the terminal starts each one plain.
        var current: Style? = .plain
        let w = next.width
        for y in 0..<next.height {
            var x = 0
            while x < w {
                let cell = next[x, y]
                var changed = full || previous![x, y] != cell
                // A wide character's continuation changing means its head must be written again.
                if !changed, x + 1 < w, DisplayWidth.of(cell.text) == 2, previous![x + 1, y] != next[x + 1, y] { changed = true }
                if cell.isContinuation {
                    x += 1
                    continue
                }
                if !changed {
                    x += 1
                    continue
                }
                if full, cell == .blank, current == .plain {
                    // The cleared screen already shows this.
                    x += 1
                    continue
                }
                if cursorY != y || cursorX != x { appendMove(x, y, to: &out) }
                if current != cell.style {
                    appendSGR(cell.style, to: &out)
                    current = cell.style
                }
                out.append(contentsOf: cell.text.utf8)
                let cw = max(1, DisplayWidth.of(cell.text))
                x += cw
                cursorX = x
                cursorY = y
            }
        }
        if current != .plain { out += Array("\u{1B}[0m".utf8) }
        previous = next
        return out
    }

    /// CSI row;col H, written digit by digit (this runs for every changed run of cells).
    @inline(__always)
    private func appendMove(_ x: Int, _ y: Int, to out: inout [UInt8]) {
        out.append(0x1B)
        out.append(UInt8(ascii: "["))
        appendNumber(y + 1, to: &out)
        out.append(UInt8(ascii: ";"))
        appendNumber(x + 1, to: &out)
        out.append(UInt8(ascii: "H"))
    }

    @inline(__always)
    private func appendNumber(_ n: Int, to out: inout [UInt8]) {
        if n >= 10 { appendNumber(n / 10, to: &out) }
        out.append(UInt8(48 + n % 10))
    }

    /// The SGR sequence for a style, starting from a reset.
    public func sgr(_ style: Style) -> String {
        var out: [UInt8] = []
        appendSGR(style, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    private func appendSGR(_ style: Style, to out: inout [UInt8]) {
        var s = "\u{1B}[0"
        if style.attrs & Style.bold != 0 { s += ";1" }
        if style.attrs & Style.dim != 0 { s += ";2" }
        if style.attrs & Style.underline != 0 { s += ";4" }
        if style.attrs & Style.reverse != 0 { s += ";7" }
        if mode != .none {
            s += colorCode(style.fg, foreground: true)
            s += colorCode(style.bg, foreground: false)
        }
        s += "m"
        out.append(contentsOf: s.utf8)
    }

    private func colorCode(_ c: Color, foreground: Bool) -> String {
        switch c {
        case .default: return ""
        case .indexed(let i):
            if i < 8 { return ";\((foreground ? 30 : 40) + Int(i))" }
            if i < 16 { return ";\((foreground ? 90 : 100) + Int(i) - 8)" }
            return foreground ? ";38;5;\(i)" : ";48;5;\(i)"
        case .rgb(let r, let g, let b):
            if mode == .truecolor { return foreground ? ";38;2;\(r);\(g);\(b)" : ";48;2;\(r);\(g);\(b)" }
            return foreground ? ";38;5;\(c.indexed256)" : ";48;5;\(c.indexed256)"
        }
    }
}

extension Screen {
    /// The screen as lines of text with SGR colour sequences (none for `.none`), for printing a
    /// snapshot to a pipe or a terminal's normal screen.
    public func ansiText(_ mode: ColorMode) -> String {
        if mode == .none { return text }
        let w = DiffWriter(mode: mode)
        var out = ""
        for y in 0..<height {
            var current = Style.plain
            var line = ""
            for x in 0..<width {
                let c = self[x, y]
                if c.isContinuation { continue }
                if c.style != current { line += w.sgr(c.style); current = c.style }
                line += c.text
            }
            if current != .plain { line += "\u{1B}[0m" }
            out += line + (y + 1 < height ? "\n" : "")
        }
        return out
    }
}
