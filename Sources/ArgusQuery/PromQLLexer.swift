/// Splits a PromQL query into tokens in one pass over its UTF-8 bytes, with Prometheus' lexical rules
/// and error messages.
///
/// The lexer is context-sensitive like Prometheus': inside `{...}` keywords are plain identifiers and
/// only matcher operators are recognised; inside `[...]` only durations, numbers and `:` are.
/// Comments (`# ...` to the end of the line) are skipped. Errors are thrown as `PromQLParseError`
/// ranging from the offending text to the end of the query, as Prometheus reports lexer errors.
public struct PromQLLexer {
    public let query: String
    private let bytes: [UInt8]
    private var pos = 0
    private var parenDepth = 0
    private var braceOpen = false
    private var bracketOpen = false
    /// Just after `[`: the next token must start the range.
    private var bracketStart = false
    private var gotColon = false

    public init(_ query: String) {
        self.query = query
        self.bytes = Array(query.utf8)
    }

    /// Lexes a whole query into tokens, ending with `.eof`.
    public static func tokenize(_ query: String) throws -> [PromQLToken] {
        var lexer = PromQLLexer(query)
        var tokens: [PromQLToken] = []
        while true {
            let token = try lexer.next()
            tokens.append(token)
            if token.kind == .eof { return tokens }
        }
    }

    /// The next token; `.eof` at the end (and again on every later call).
    public mutating func next() throws -> PromQLToken {
        while true {
            if braceOpen {
                if let token = try lexInsideBraces() { return token }
            } else if bracketStart {
                return try lexBracketStart()
            } else if let token = try lexStatement() {
                return token
            }
        }
    }

    // MARK: - States

    /// Top level (and inside `[...]` after the first duration). Returns nil after skipping space or a comment.
    private mutating func lexStatement() throws -> PromQLToken? {
        guard pos < bytes.count else {
            if parenDepth != 0 { throw error("unclosed left parenthesis", at: pos) }
            if bracketOpen { throw error("unclosed left bracket", at: pos) }
            return PromQLToken(kind: .eof, start: pos, end: pos, text: "")
        }
        let start = pos
        let c = bytes[pos]
        switch c {
        case UInt8(ascii: "#"):
            skipComment()
            return nil
        case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"):
            skipSpaces()
            return nil
        case UInt8(ascii: ","): return single(.comma)
        case UInt8(ascii: "*"): return single(.mul)
        case UInt8(ascii: "/"): return single(.div)
        case UInt8(ascii: "%"): return single(.mod)
        case UInt8(ascii: "+"): return single(.add)
        case UInt8(ascii: "-"): return single(.sub)
        case UInt8(ascii: "^"): return single(.pow)
        case UInt8(ascii: "@"): return single(.at)
        case UInt8(ascii: "="):
            let n = peekByte(1)
            if n == UInt8(ascii: "=") { return double(.eqlc) }
            if n == UInt8(ascii: "~") { throw error("unexpected character after '=': '~'", at: start) }
            return single(.assign)
        case UInt8(ascii: "!"):
            if peekByte(1) == UInt8(ascii: "=") { return double(.neq) }
            throw error("unexpected character after '!': " + GoFormat.quoteRune(scalar(at: pos + 1)), at: start)
        case UInt8(ascii: "<"):
            return peekByte(1) == UInt8(ascii: "=") ? double(.lte) : single(.lss)
        case UInt8(ascii: ">"):
            return peekByte(1) == UInt8(ascii: "=") ? double(.gte) : single(.gtr)
        case UInt8(ascii: "\""), UInt8(ascii: "'"):
            return try lexString()
        case UInt8(ascii: "`"):
            return try lexRawString()
        case UInt8(ascii: "("):
            parenDepth += 1
            return single(.leftParen)
        case UInt8(ascii: ")"):
            let token = single(.rightParen)
            parenDepth -= 1
            if parenDepth < 0 { throw error("unexpected right parenthesis ')'", at: pos) }
            return token
        case UInt8(ascii: "{"):
            braceOpen = true
            return single(.leftBrace)
        case UInt8(ascii: "["):
            if bracketOpen { throw error("unexpected left bracket '['", at: start) }
            gotColon = false
            let token = single(.leftBracket)
            skipSpaces()
            bracketOpen = true
            bracketStart = true
            return token
        case UInt8(ascii: "]"):
            if !bracketOpen { throw error("unexpected right bracket ']'", at: start) }
            bracketOpen = false
            return single(.rightBracket)
        default:
            if isDigit(c) || (c == UInt8(ascii: ".") && isDigit(peekByte(1))) {
                return try lexNumberOrDuration()
            }
            if isAlpha(c) || c == UInt8(ascii: ":") {
                if !bracketOpen { return lexKeywordOrIdentifier() }
                if c == UInt8(ascii: ":") {
                    if gotColon { throw error("unexpected colon ':'", at: start) }
                    gotColon = true
                    return single(.colon)
                }
                throw error("unexpected character: " + GoFormat.quoteRune(scalar(at: pos)) + ", expected ':'", at: start)
            }
            throw error("unexpected character: " + GoFormat.quoteRune(scalar(at: pos)), at: start)
        }
    }

    /// Inside `{...}`: identifiers, strings, `,` and the matcher operators. Nil after space or a comment.
    private mutating func lexInsideBraces() throws -> PromQLToken? {
        guard pos < bytes.count else { throw error("unexpected end of input inside braces", at: pos) }
        let start = pos
        let c = bytes[pos]
        switch c {
        case UInt8(ascii: "#"):
            skipComment()
            return nil
        case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"):
            skipSpaces()
            return nil
        case UInt8(ascii: ","): return single(.comma)
        case UInt8(ascii: "\""), UInt8(ascii: "'"): return try lexString()
        case UInt8(ascii: "`"): return try lexRawString()
        case UInt8(ascii: "="):
            return peekByte(1) == UInt8(ascii: "~") ? double(.eqlRegex) : single(.assign)
        case UInt8(ascii: "!"):
            let n = peekByte(1)
            if n == UInt8(ascii: "~") { return double(.neqRegex) }
            if n == UInt8(ascii: "=") { return double(.neq) }
            throw error("unexpected character after '!' inside braces: " + GoFormat.quoteRune(scalar(at: pos + 1)), at: start)
        case UInt8(ascii: "{"):
            throw error("unexpected left brace '{'", at: start)
        case UInt8(ascii: "}"):
            braceOpen = false
            return single(.rightBrace)
        default:
            if isAlpha(c) {
                while pos < bytes.count, isAlphaNumeric(bytes[pos]) { pos += 1 }
                return token(.identifier, from: start)
            }
            throw error("unexpected character inside braces: " + GoFormat.quoteRune(scalar(at: pos)), at: start)
        }
    }

    /// Right after `[`: the range must start with a number or duration (or the bracket closes).
    private mutating func lexBracketStart() throws -> PromQLToken {
        skipSpaces()
        guard pos < bytes.count else { throw error("unexpected end of input in duration expression", at: pos) }
        let c = bytes[pos]
        if c == UInt8(ascii: "]") {
            bracketStart = false
            bracketOpen = false
            gotColon = false
            return single(.rightBracket)
        }
        if c == UInt8(ascii: ":") {
            pos += 1
            throw error("unexpected colon before duration in duration expression", at: pos)
        }
        if isDigit(c) || (c == UInt8(ascii: ".") && isDigit(peekByte(1))) {
            bracketStart = false
            return try lexNumberOrDuration()
        }
        throw error("unexpected character in duration expression: " + GoFormat.quoteRune(scalar(at: pos)), at: pos)
    }

    // MARK: - Words, numbers, strings

    private static let keywords: [String: PromQLToken.Kind] = [
        "and": .land, "or": .lor, "unless": .lunless, "atan2": .atan2,
        "sum": .sum, "avg": .avg, "count": .count, "min": .min, "max": .max, "group": .group,
        "stddev": .stddev, "stdvar": .stdvar, "topk": .topk, "bottomk": .bottomk,
        "count_values": .countValues, "quantile": .quantile, "limitk": .limitk, "limit_ratio": .limitRatio,
        "offset": .offset, "by": .by, "without": .without, "on": .on, "ignoring": .ignoring,
        "group_left": .groupLeft, "group_right": .groupRight, "bool": .bool,
        "start": .start, "end": .end,
        "inf": .number, "nan": .number,
    ]

    private mutating func lexKeywordOrIdentifier() -> PromQLToken {
        let start = pos
        var hasColon = false
        var hasUpper = false
        while pos < bytes.count {
            let c = bytes[pos]
            if c == UInt8(ascii: ":") {
                hasColon = true
            } else if !isAlphaNumeric(c) {
                break
            }
            if c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z") { hasUpper = true }
            pos += 1
        }
        let text = String(decoding: bytes[start..<pos], as: UTF8.self)
        let lower = hasUpper ? text.lowercased() : text
        if let kind = Self.keywords[lower] {
            return PromQLToken(kind: kind, start: start, end: pos, text: text)
        }
        return PromQLToken(kind: hasColon ? .metricIdentifier : .identifier, start: start, end: pos, text: text)
    }

    private mutating func lexNumberOrDuration() throws -> PromQLToken {
        let start = pos
        if scanNumber() { return token(.number, from: start) }
        if acceptRemainingDuration() { return token(.duration, from: start) }
        let text = String(decoding: bytes[start..<pos], as: UTF8.self)
        throw error("bad number or duration syntax: " + GoFormat.quote(text), at: start)
    }

    /// Scans a decimal, octal, hexadecimal or floating point number the way Prometheus does, including
    /// its refusals (`1..2`, `1e`, `1_`, fractional hex). Leaves `pos` where scanning stopped.
    private mutating func scanNumber() -> Bool {
        let initial = pos
        var hex = false
        if accept(UInt8(ascii: "0")) && (accept(UInt8(ascii: "x")) || accept(UInt8(ascii: "X"))) {
            _ = accept(UInt8(ascii: "_"))
            hex = true
        }
        func isNumberDigit(_ c: UInt8) -> Bool { hex ? isHexDigit(c) : isDigit(c) }
        _ = accept(UInt8(ascii: "."))
        if pos < bytes.count, isNumberDigit(bytes[pos]) { pos += 1 }
        var dotSeen = false
        var exponentSeen = false
        while pos < bytes.count {
            let c = bytes[pos]
            let isDot = c == UInt8(ascii: ".")
            let isExponent = c == UInt8(ascii: "e") || c == UInt8(ascii: "E")
            let isUnderscore = c == UInt8(ascii: "_")
            guard isNumberDigit(c) || isDot || isExponent || isUnderscore else { break }
            if isDot {
                pos += 1
                if dotSeen { return false }
                dotSeen = true
                if acceptAny("_.") { return false }
                if hex { return false }
                continue
            }
            if isExponent {
                pos += 1
                if exponentSeen { return false }
                exponentSeen = true
                _ = acceptAny("+-")
                if acceptAny("._eE") || pos >= bytes.count { return false }
                continue
            }
            if isUnderscore {
                pos += 1
                if acceptAny("._eE") || pos >= bytes.count { return false }
                continue
            }
            while pos < bytes.count, isNumberDigit(bytes[pos]) { pos += 1 }
        }
        if pos == initial { return false }
        return !(pos < bytes.count && isAlphaNumeric(bytes[pos]))
    }

    /// After a number that is followed by letters: accepts duration units (`5m`, `1h30m`, `500ms`).
    private mutating func acceptRemainingDuration() -> Bool {
        guard acceptAny("smhdwy") else { return false }
        _ = accept(UInt8(ascii: "s"))
        while pos < bytes.count, isDigit(bytes[pos]) {
            while pos < bytes.count, isDigit(bytes[pos]) { pos += 1 }
            guard acceptAny("smhdw") else { return false }
            _ = accept(UInt8(ascii: "s"))
        }
        if pos < bytes.count, isAlphaNumeric(bytes[pos]) {
            pos += 1 // Prometheus consumes the offending character before giving up.
            return false
        }
        return true
    }

    /// A `"..."` or `'...'` string with Go escapes; the value is unescaped in the same pass.
    private mutating func lexString() throws -> PromQLToken {
        let start = pos
        let quote = bytes[pos]
        pos += 1
        var value: [UInt8]? = nil
        var segmentStart = pos
        while true {
            guard pos < bytes.count, bytes[pos] != UInt8(ascii: "\n") else {
                throw error("unterminated quoted string", at: start)
            }
            let c = bytes[pos]
            if c == quote {
                let decoded: String
                if var buffer = value {
                    buffer.append(contentsOf: bytes[segmentStart..<pos])
                    decoded = String(decoding: buffer, as: UTF8.self)
                } else {
                    decoded = String(decoding: bytes[segmentStart..<pos], as: UTF8.self)
                }
                pos += 1
                return PromQLToken(kind: .string, start: start, end: pos,
                                   text: String(decoding: bytes[start..<pos], as: UTF8.self), stringValue: decoded)
            }
            if c == UInt8(ascii: "\\") {
                var buffer = value ?? []
                buffer.append(contentsOf: bytes[segmentStart..<pos])
                pos += 1
                try lexEscape(quote: quote, stringStart: start, into: &buffer)
                value = buffer
                segmentStart = pos
                continue
            }
            pos += 1
        }
    }

    /// One escape sequence; the backslash has been consumed.
    private mutating func lexEscape(quote: UInt8, stringStart: Int, into buffer: inout [UInt8]) throws {
        guard pos < bytes.count else { throw error("escape sequence not terminated", at: stringStart) }
        let c = bytes[pos]
        let simple: UInt8?
        switch c {
        case UInt8(ascii: "a"): simple = 0x07
        case UInt8(ascii: "b"): simple = 0x08
        case UInt8(ascii: "f"): simple = 0x0C
        case UInt8(ascii: "n"): simple = 0x0A
        case UInt8(ascii: "r"): simple = 0x0D
        case UInt8(ascii: "t"): simple = 0x09
        case UInt8(ascii: "v"): simple = 0x0B
        case UInt8(ascii: "\\"): simple = c
        case quote: simple = c
        default: simple = nil
        }
        if let simple {
            buffer.append(simple)
            pos += 1
            return
        }
        var digits: Int
        var base: UInt32
        var maximum: UInt32
        var isByte = true
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "7"):
            (digits, base, maximum) = (3, 8, 255)
        case UInt8(ascii: "x"):
            (digits, base, maximum) = (2, 16, 255)
            pos += 1
        case UInt8(ascii: "u"):
            (digits, base, maximum) = (4, 16, 0x10FFFF)
            isByte = false
            pos += 1
        case UInt8(ascii: "U"):
            (digits, base, maximum) = (8, 16, 0x10FFFF)
            isByte = false
            pos += 1
        default:
            throw error("unknown escape sequence " + GoFormat.unicodeNotation(scalar(at: pos)), at: stringStart)
        }
        var value: UInt32 = 0
        while digits > 0 {
            guard pos < bytes.count else { throw error("escape sequence not terminated", at: stringStart) }
            let d = digitValue(bytes[pos])
            if d >= base {
                throw error("illegal character " + GoFormat.unicodeNotation(scalar(at: pos)) + " in escape sequence", at: stringStart)
            }
            value = value &* base &+ d
            digits -= 1
            pos += 1
        }
        if value > maximum || (0xD800..<0xE000).contains(value) {
            throw error("escape sequence is an invalid Unicode code point", at: stringStart)
        }
        if isByte {
            buffer.append(UInt8(value))
        } else if let scalar = Unicode.Scalar(value) {
            buffer.append(contentsOf: Array(String(Character(scalar)).utf8))
        }
    }

    /// A `` `...` `` string: no escapes, may span lines.
    private mutating func lexRawString() throws -> PromQLToken {
        let start = pos
        pos += 1
        let contentStart = pos
        while pos < bytes.count, bytes[pos] != UInt8(ascii: "`") { pos += 1 }
        guard pos < bytes.count else { throw error("unterminated raw string", at: start) }
        let value = String(decoding: bytes[contentStart..<pos], as: UTF8.self)
        pos += 1
        return PromQLToken(kind: .string, start: start, end: pos,
                           text: String(decoding: bytes[start..<pos], as: UTF8.self), stringValue: value)
    }

    // MARK: - Helpers

    private func error(_ message: String, at start: Int) -> PromQLParseError {
        PromQLParseError(message: message, positionRange: PromQLPositionRange(start: start, end: bytes.count), query: query)
    }

    private mutating func single(_ kind: PromQLToken.Kind) -> PromQLToken {
        pos += 1
        return token(kind, from: pos - 1)
    }

    private mutating func double(_ kind: PromQLToken.Kind) -> PromQLToken {
        pos += 2
        return token(kind, from: pos - 2)
    }

    private func token(_ kind: PromQLToken.Kind, from start: Int) -> PromQLToken {
        PromQLToken(kind: kind, start: start, end: pos, text: String(decoding: bytes[start..<pos], as: UTF8.self))
    }

    private func peekByte(_ offset: Int) -> UInt8 {
        pos + offset < bytes.count ? bytes[pos + offset] : 0
    }

    private mutating func accept(_ c: UInt8) -> Bool {
        if pos < bytes.count, bytes[pos] == c {
            pos += 1
            return true
        }
        return false
    }

    private mutating func acceptAny(_ set: StaticString) -> Bool {
        guard pos < bytes.count else { return false }
        let c = bytes[pos]
        let found = set.withUTF8Buffer { $0.contains(c) }
        if found { pos += 1 }
        return found
    }

    private mutating func skipSpaces() {
        while pos < bytes.count, isSpace(bytes[pos]) { pos += 1 }
    }

    private mutating func skipComment() {
        while pos < bytes.count, bytes[pos] != UInt8(ascii: "\n"), bytes[pos] != UInt8(ascii: "\r") { pos += 1 }
    }

    /// The Unicode scalar starting at byte `index`, or nil at the end of the input.
    private func scalar(at index: Int) -> Unicode.Scalar? {
        guard index < bytes.count else { return nil }
        var end = index + 1
        while end < bytes.count, end - index < 4, bytes[end] & 0xC0 == 0x80 { end += 1 }
        return String(decoding: bytes[index..<end], as: UTF8.self).unicodeScalars.first
    }

    private func digitValue(_ c: UInt8) -> UInt32 {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(c - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(c - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(c - UInt8(ascii: "A") + 10)
        default: return 16
        }
    }
}

@inline(__always) func isSpace(_ c: UInt8) -> Bool {
    c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") || c == UInt8(ascii: "\n") || c == UInt8(ascii: "\r")
}

@inline(__always) private func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }

@inline(__always) private func isHexDigit(_ c: UInt8) -> Bool {
    isDigit(c) || (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "f")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "F"))
}

@inline(__always) private func isAlpha(_ c: UInt8) -> Bool {
    c == UInt8(ascii: "_") || (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
}

@inline(__always) private func isAlphaNumeric(_ c: UInt8) -> Bool { isAlpha(c) || isDigit(c) }
