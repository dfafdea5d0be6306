import Foundation
import ArgusModel

/// A LogQL parse error, printed as Loki prints it:
/// `parse error at line 1, col 23: syntax error: unexpected IDENTIFIER, expecting STRING`.
public struct LogQLParseError: Error, CustomStringConvertible, Sendable, Equatable {
    public let message: String
    public let line: Int
    public let column: Int

    public var description: String { "parse error at line \(line), col \(column): \(message)" }

    public var argusError: ArgusError { ArgusError(.badInput, description) }
}

/// A LogQL token.
struct LogQLToken: Equatable {
    enum Kind: Equatable {
        case identifier, string, number, duration, bytes
        case symbol  // { } ( ) [ ] , | |= != |~ !~ = =~ == > >= < <= + - * / % ^ |>
        case end
    }
    var kind: Kind
    var text: String
    /// Byte offset of the token's start.
    var pos: Int

    /// The token as Loki's parser names it in errors.
    var yaccName: String {
        switch kind {
        case .identifier:
            switch text {
            case "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset", "and", "or", "unless": return text
            default: return "IDENTIFIER"
            }
        case .string: return "STRING"
        case .number: return "NUMBER"
        case .duration: return "DURATION"
        case .bytes: return "BYTES"
        case .symbol: return text
        case .end: return "$end"
        }
    }
}

/// Splits a LogQL query into tokens. `#` starts a comment to the end of the line.
struct LogQLLexer {
    let query: String
    let bytes: [UInt8]

    init(_ q: String) {
        query = q
        bytes = Array(q.utf8)
    }

    func error(_ msg: String, at pos: Int) -> LogQLParseError {
        var line = 1, col = 1
        for i in 0..<min(pos, bytes.count) {
            if bytes[i] == 0x0A { line += 1; col = 1 } else { col += 1 }
        }
        return LogQLParseError(message: msg, line: line, column: col)
    }

    static func isIdentStart(_ c: UInt8) -> Bool { (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F }
    static func isIdentChar(_ c: UInt8) -> Bool { isIdentStart(c) || (c >= 0x30 && c <= 0x39) }
    static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }

    static let durationUnits: Set<String> = ["ns", "us", "µs", "ms", "s", "m", "h", "d", "w", "y"]
    static let byteUnits: Set<String> = ["b", "kb", "mb", "gb", "tb", "pb", "kib", "mib", "gib", "tib", "pib", "B", "KB", "MB", "GB", "TB", "PB", "KiB", "MiB", "GiB", "TiB", "PiB", "k", "K", "M", "G", "T", "P", "Ki", "Mi", "Gi", "Ti", "Pi"]

    func tokenize() throws -> [LogQLToken] {
        var out: [LogQLToken] = []
        var i = 0
        let n = bytes.count
        let two: Set<String> = ["|=", "!=", "|~", "!~", "=~", "==", ">=", "<=", "|>", "!>"]
        while i < n {
            let c = bytes[i]
            if c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { i += 1; continue }
            if c == UInt8(ascii: "#") {
                while i < n && bytes[i] != 0x0A { i += 1 }
                continue
            }
            let start = i
            if c == UInt8(ascii: "\"") || c == UInt8(ascii: "`") {
                out.append(LogQLToken(kind: .string, text: try readString(&i), pos: start))
                continue
            }
            if LogQLLexer.isDigit(c) || (c == UInt8(ascii: ".") && i + 1 < n && LogQLLexer.isDigit(bytes[i + 1])) {
                out.append(readNumber(&i))
                continue
            }
            if LogQLLexer.isIdentStart(c) {
                while i < n && (LogQLLexer.isIdentChar(bytes[i]) || bytes[i] == UInt8(ascii: ".")) { i += 1 }
                out.append(LogQLToken(kind: .identifier, text: String(decoding: bytes[start..<i], as: UTF8.self), pos: start))
                continue
            }
            if i + 1 < n {
                let t = String(decoding: bytes[i..<(i + 2)], as: UTF8.self)
                if two.contains(t) {
                    out.append(LogQLToken(kind: .symbol, text: t, pos: start))
                    i += 2
                    continue
                }
            }
            if "{}()[],|=><+-*/%^!".utf8.contains(c) {
                out.append(LogQLToken(kind: .symbol, text: String(UnicodeScalar(c)), pos: start))
                i += 1
                continue
            }
            throw error("syntax error: unexpected character \(quoteLabelValue(String(decoding: [c], as: UTF8.self)))", at: start)
        }
        out.append(LogQLToken(kind: .end, text: "", pos: n))
        return out
    }

    func readString(_ i: inout Int) throws -> String {
        let quote = bytes[i]
        let start = i
        i += 1
        var out: [UInt8] = []
        while i < bytes.count {
            let c = bytes[i]
            if c == quote {
                i += 1
                return String(decoding: out, as: UTF8.self)
            }
            if c == UInt8(ascii: "\\") && quote == UInt8(ascii: "\"") {
                i += 1
                guard i < bytes.count else { break }
                let e = bytes[i]
                // Go's escapes, as Loki unquotes strings.
                func digits(_ count: Int, radix: UInt32) throws -> UInt32 {
                    guard i + count < bytes.count, let v = UInt32(String(decoding: bytes[(i + 1)...(i + count)], as: UTF8.self), radix: Int(radix)) else {
                        throw error("syntax error: invalid escape in string", at: i - 1)
                    }
                    i += count
                    return v
                }
                switch e {
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "a"): out.append(0x07)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "v"): out.append(0x0B)
                case UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: "'"): out.append(e)
                case UInt8(ascii: "x"):
                    out.append(UInt8(try digits(2, radix: 16)))
                case UInt8(ascii: "0")...UInt8(ascii: "7"):
                    i -= 1
                    let v = try digits(3, radix: 8)
                    guard v <= 255 else { throw error("syntax error: invalid escape in string", at: i - 3) }
                    out.append(UInt8(v))
                case UInt8(ascii: "u"), UInt8(ascii: "U"):
                    let v = try digits(e == UInt8(ascii: "u") ? 4 : 8, radix: 16)
                    guard let s = UnicodeScalar(v) else { throw error("syntax error: invalid escape in string", at: i - 1) }
                    out.append(contentsOf: Array(String(Character(s)).utf8))
                default:
                    throw error("syntax error: unknown escape sequence \\\(String(UnicodeScalar(e)))", at: i - 1)
                }
                i += 1
                continue
            }
            out.append(c)
            i += 1
        }
        throw error("syntax error: unterminated string", at: start)
    }

    func readNumber(_ i: inout Int) -> LogQLToken {
        let start = i
        let n = bytes.count
        // A number, possibly followed by unit letters: a duration (5m, 1h30m) or bytes (10KB).
        while i < n && (LogQLLexer.isDigit(bytes[i]) || bytes[i] == UInt8(ascii: ".")) { i += 1 }
        if i < n && (bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E")),
           i + 1 < n, LogQLLexer.isDigit(bytes[i + 1]) || ((bytes[i + 1] == UInt8(ascii: "-") || bytes[i + 1] == UInt8(ascii: "+")) && i + 2 < n && LogQLLexer.isDigit(bytes[i + 2])) {
            i += 2
            while i < n && LogQLLexer.isDigit(bytes[i]) { i += 1 }
            return LogQLToken(kind: .number, text: String(decoding: bytes[start..<i], as: UTF8.self), pos: start)
        }
        if i < n && (LogQLLexer.isIdentStart(bytes[i]) || bytes[i] == 0xC2) {
            var j = i
            while j < n && (LogQLLexer.isIdentChar(bytes[j]) || bytes[j] >= 0x80) { j += 1 }
            let text = String(decoding: bytes[start..<j], as: UTF8.self)
            if LogQLDuration.parseNanos(text) != nil {
                i = j
                return LogQLToken(kind: .duration, text: text, pos: start)
            }
            if LogQLBytes.parse(text) != nil {
                i = j
                return LogQLToken(kind: .bytes, text: text, pos: start)
            }
        }
        return LogQLToken(kind: .number, text: String(decoding: bytes[start..<i], as: UTF8.self), pos: start)
    }
}

/// Go-style durations (`1h30m`, `250ms`, `1.5s`) plus `d`, `w`, `y`, in nanoseconds.
public enum LogQLDuration {
    public static func parseNanos(_ s: String) -> Int64? {
        let u = Array(s.utf8)
        var i = 0
        var total = 0.0
        var any = false
        while i < u.count {
            let ns = i
            while i < u.count && (LogQLLexer.isDigit(u[i]) || u[i] == UInt8(ascii: ".")) { i += 1 }
            guard i > ns, let v = Double(String(decoding: u[ns..<i], as: UTF8.self)) else { return nil }
            let us = i
            while i < u.count && !(LogQLLexer.isDigit(u[i]) || u[i] == UInt8(ascii: ".")) { i += 1 }
            let unit = String(decoding: u[us..<i], as: UTF8.self)
            let mult: Double
            switch unit {
            case "ns": mult = 1
            case "us", "µs": mult = 1e3
            case "ms": mult = 1e6
            case "s": mult = 1e9
            case "m": mult = 60e9
            case "h": mult = 3600e9
            case "d": mult = 86400e9
            case "w": mult = 7 * 86400e9
            case "y": mult = 365 * 86400e9
            default: return nil
            }
            total += v * mult
            any = true
        }
        guard any, total < 9.2e18 else { return nil }
        return Int64(total)
    }

    /// Seconds, for `| unwrap duration(label)` and duration label filters (Go durations; a
    /// plain number is seconds).
    public static func seconds(_ s: String) -> Double? {
        if let d = Double(s) { return d }
        var t = s
        var sign = 1.0
        if t.hasPrefix("-") { sign = -1; t.removeFirst() } else if t.hasPrefix("+") { t.removeFirst() }
        guard let ns = parseNanos(t) else { return nil }
        return sign * Double(ns) / 1e9
    }
}

/// Byte sizes as Loki reads them (humanize: `10KB` = 10 000, `10KiB` = 10 240).
public enum LogQLBytes {
    public static func parse(_ s: String) -> Double? {
        if let d = Double(s) { return d }
        let u = Array(s.utf8)
        var i = 0
        while i < u.count && (LogQLLexer.isDigit(u[i]) || u[i] == UInt8(ascii: ".")) { i += 1 }
        guard i > 0, let v = Double(String(decoding: u[0..<i], as: UTF8.self)) else { return nil }
        let unit = String(decoding: u[i...], as: UTF8.self).trimmingCharacters(in: .whitespaces).lowercased()
        let m: Double
        switch unit {
        case "b", "": m = 1
        case "kb", "k": m = 1e3
        case "mb", "m": m = 1e6
        case "gb", "g": m = 1e9
        case "tb", "t": m = 1e12
        case "pb", "p": m = 1e15
        case "kib", "ki": m = 1024
        case "mib", "mi": m = 1_048_576
        case "gib", "gi": m = 1_073_741_824
        case "tib", "ti": m = 1_099_511_627_776
        case "pib", "pi": m = 1_125_899_906_842_624
        default: return nil
        }
        return v * m
    }
}
