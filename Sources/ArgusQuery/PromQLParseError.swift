import ArgusModel

/// A PromQL lexing, parsing or type-checking error, printed as Prometheus prints it:
/// `1:17: parse error: unexpected "}"`.
///
/// It keeps the query and the byte range the error is about, so a CLI can show where it is
/// (`caretDisplay`), and converts to an `ArgusError` with code `.badInput` for the API layer.
public struct PromQLParseError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The message without the position prefix, e.g. `unexpected end of input`.
    public let message: String
    public let positionRange: PromQLPositionRange
    public let query: String

    public init(message: String, positionRange: PromQLPositionRange, query: String) {
        self.message = message
        self.positionRange = positionRange
        self.query = query
    }

    /// 1-based line of the error's start.
    public var line: Int { positionRange.lineAndColumn(in: query).line }

    /// 1-based column of the error's start, counted in bytes as Prometheus does.
    public var column: Int { positionRange.lineAndColumn(in: query).column }

    public var description: String {
        if query.isEmpty { return "unknown position: parse error: " + message }
        let (line, column) = positionRange.lineAndColumn(in: query)
        return "\(line):\(column): parse error: \(message)"
    }

    /// The query line holding the error, and under it a caret at the error's column:
    ///
    ///     sum(rate(foo[5m]}
    ///                     ^
    public var caretDisplay: String {
        let bytes = Array(query.utf8)
        let start = max(0, min(positionRange.start, bytes.count))
        var lineStart = start
        while lineStart > 0, bytes[lineStart - 1] != UInt8(ascii: "\n") { lineStart -= 1 }
        var lineEnd = start
        while lineEnd < bytes.count, bytes[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
        var lineText = String(decoding: bytes[lineStart..<lineEnd], as: UTF8.self)
        if lineText.hasSuffix("\r") { lineText.removeLast() }
        var padding = ""
        for scalar in String(decoding: bytes[lineStart..<start], as: UTF8.self).unicodeScalars {
            padding += scalar == "\t" ? "\t" : " "
        }
        return lineText + "\n" + padding + "^"
    }

    /// `description` followed by `caretDisplay`, for terminal output.
    public var descriptionWithCaret: String { description + "\n" + caretDisplay }

    /// The error as Argus' shared error type (code `.badInput`, message `description`).
    public var argusError: ArgusError { ArgusError(.badInput, description, cause: nil) }
}
