/// One cell of the grid: a grapheme cluster and its style. A wide character occupies its cell
/// and the next one, which holds an empty `text` (a continuation cell).
public struct Cell: Hashable, Sendable {
    public var text: String
    public var style: Style

    public init(_ text: String = " ", _ style: Style = .plain) {
        self.text = text
        self.style = style
    }

    public static let blank = Cell()
    public var isContinuation: Bool { text.isEmpty }
}

/// A rectangle of cells.
public struct Rect: Hashable, Sendable {
    public var x: Int, y: Int, width: Int, height: Int
    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x; self.y = y; self.width = max(0, width); self.height = max(0, height)
    }
    public var maxX: Int { x + width }
    public var maxY: Int { y + height }
    /// The rectangle shrunk by `n` cells on every side.
    public func inset(_ n: Int) -> Rect { Rect(x: x + n, y: y + n, width: width - 2 * n, height: height - 2 * n) }
}

/// An in-memory screen: the renderer draws here, tests read it, `DiffWriter` sends the changes
/// to the terminal. Drawing outside the bounds is clipped.
public struct Screen: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public private(set) var cells: [Cell]

    public init(width: Int, height: Int) {
        self.width = max(0, width)
        self.height = max(0, height)
        cells = [Cell](repeating: .blank, count: self.width * self.height)
    }

    public subscript(x: Int, y: Int) -> Cell {
        get { cells[y * width + x] }
        set { cells[y * width + x] = newValue }
    }

    /// Writes `text` from (x, y), at most `maxWidth` cells (default: to the right edge or the
    /// clip rectangle); returns the cells used. A wide character that would not fit is
    /// replaced by a space.
    @discardableResult
    public mutating func put(_ x: Int, _ y: Int, _ text: String, _ style: Style = .plain, maxWidth: Int? = nil, clip: Rect? = nil) -> Int {
        guard y >= 0, y < height else { return 0 }
        let limit = min(width, clip.map { $0.maxX } ?? width, maxWidth.map { x + $0 } ?? Int.max)
        if let clip, y < clip.y || y >= clip.maxY { return 0 }
        let minX = max(0, clip?.x ?? 0)
        var cx = x
        for ch in text {
            let w = DisplayWidth.of(ch)
            if w == 0 {
                // A lone combining mark or control character: attach to the previous cell.
                if cx > minX, cx - 1 < limit, ch.unicodeScalars.first.map({ $0.value >= 0x20 }) ?? false {
                    cells[y * width + cx - 1].text.append(ch)
                }
                continue
            }
            if cx + w > limit { if cx < limit, cx >= minX { setCell(cx, y, Cell(" ", style)) }; cx = limit; break }
            if cx >= minX {
                setCell(cx, y, Cell(String(ch), style))
                if w == 2 { setCell(cx + 1, y, Cell("", style)) }
            }
            cx += w
        }
        return cx - x
    }

    /// Sets one cell, repairing a wide character it overwrites half of.
    public mutating func setCell(_ x: Int, _ y: Int, _ cell: Cell) {
        guard x >= 0, x < width, y >= 0, y < height else { return }
        let i = y * width + x
        if cells[i].isContinuation, x > 0 { cells[i - 1].text = " " }
        if x + 1 < width, cells[i + 1].isContinuation, !cells[i].isContinuation, DisplayWidth.of(cells[i].text) == 2 {
            cells[i + 1].text = " "
        }
        cells[i] = cell
    }

    /// Fills a rectangle with one character and style.
    public mutating func fill(_ r: Rect, _ text: String = " ", _ style: Style = .plain) {
        for y in max(0, r.y)..<min(height, r.maxY) {
            for x in max(0, r.x)..<min(width, r.maxX) { setCell(x, y, Cell(text, style)) }
        }
    }

    /// Sets the style of cells in a rectangle, keeping their text.
    public mutating func restyle(_ r: Rect, _ f: (inout Style) -> Void) {
        for y in max(0, r.y)..<min(height, r.maxY) {
            for x in max(0, r.x)..<min(width, r.maxX) { f(&cells[y * width + x].style) }
        }
    }

    /// A box with a single-line border and a title in the top edge.
    public mutating func box(_ r: Rect, title: String = "", style: Style = .plain, titleStyle: Style? = nil, heavy: Bool = false) {
        guard r.width >= 2, r.height >= 2 else { return }
        let (h, v, tl, tr, bl, br) = heavy ? ("━", "┃", "┏", "┓", "┗", "┛") : ("─", "│", "╭", "╮", "╰", "╯")
        put(r.x, r.y, tl + String(repeating: h, count: r.width - 2) + tr, style)
        put(r.x, r.maxY - 1, bl + String(repeating: h, count: r.width - 2) + br, style)
        for y in (r.y + 1)..<(r.maxY - 1) {
            put(r.x, y, v, style)
            put(r.maxX - 1, y, v, style)
        }
        if !title.isEmpty, r.width > 4 {
            put(r.x + 1, r.y, " " + DisplayWidth.truncate(title, to: r.width - 4) + " ", titleStyle ?? style.adding(Style.bold))
        }
    }

    /// The text of row `y` (continuation cells skipped), trailing spaces kept.
    public func line(_ y: Int) -> String {
        var s = ""
        for x in 0..<width where !self[x, y].isContinuation { s += self[x, y].text }
        return s
    }

    /// The whole screen as text, one line per row, trailing spaces removed.
    public var text: String {
        (0..<height).map { String(line($0).reversed().drop(while: { $0 == " " }).reversed()) }.joined(separator: "\n")
    }

    /// Row and column of the first occurrence of `needle` in the screen text, if any.
    public func find(_ needle: String) -> (x: Int, y: Int)? {
        for y in 0..<height {
            let l = line(y)
            if let r = l.range(of: needle) { return (DisplayWidth.of(String(l[..<r.lowerBound])), y) }
        }
        return nil
    }
}

extension Screen: CustomStringConvertible {
    /// Short, so a failed test expectation that mentions a screen stays readable.
    public var description: String { "Screen(\(width)×\(height))" }
}
