/// A half-open range of UTF-8 byte offsets into a PromQL query.
///
/// Parse errors and AST nodes carry one so that messages can point at the text they are about.
/// Offsets count bytes, as Prometheus does, so columns printed from them match Prometheus' messages.
public struct PromQLPositionRange: Hashable, Sendable, CustomStringConvertible {
    public var start: Int
    public var end: Int

    public init(start: Int, end: Int) {
        self.start = start
        self.end = end
    }

    /// The 1-based line and column of `start` in `query`; the column counts bytes from the line start.
    public func lineAndColumn(in query: String) -> (line: Int, column: Int) {
        var line = 1
        var lastBreak = -1
        var index = 0
        for byte in query.utf8 {
            if index >= start { break }
            if byte == 0x0A {
                line += 1
                lastBreak = index
            }
            index += 1
        }
        return (line, start - lastBreak)
    }

    public var description: String { "\(start)..<\(end)" }
}
