import ArgusModel
import Foundation

/// An unanchored regular expression for `|~` and `regexp` (Go's `(?P<name>…)` groups accepted).
public final class LogQLRegex: @unchecked Sendable {
    public let source: String
    let regex: NSRegularExpression
    /// Capture group names in order (`regexp` extracts them as labels).
    public let names: [String]
    /// A literal the line must contain for the regex to match, when the pattern is plain text.
    let literal: [UInt8]?

    public init(_ source: String) throws {
        self.source = source
        let ns = source.replacingOccurrences(of: "(?P<", with: "(?<")
        do {
            regex = try NSRegularExpression(pattern: ns, options: [])
        } catch {
            throw ArgusError(.badInput, "invalid regular expression \(quoteLabelValue(source))")
        }
        var names: [String] = []
        let u = Array(ns.utf8)
        var i = 0
        while i + 3 < u.count {
            if u[i] == UInt8(ascii: "("), u[i + 1] == UInt8(ascii: "?"), u[i + 2] == UInt8(ascii: "<"),
               u[i + 3] != UInt8(ascii: "="), u[i + 3] != UInt8(ascii: "!") {
                var j = i + 3
                while j < u.count && u[j] != UInt8(ascii: ">") { j += 1 }
                names.append(String(decoding: u[(i + 3)..<j], as: UTF8.self))
                i = j
            }
            i += 1
        }
        self.names = names
        literal = AnchoredRegex.isPlainText(source) ? Array(source.utf8) : nil
    }

    public func matches(_ line: String) -> Bool {
        regex.firstMatch(in: line, options: [], range: NSRange(line.startIndex..., in: line)) != nil
    }

    /// Named groups of the first match.
    public func captures(_ line: String) -> [(String, String)] {
        guard let m = regex.firstMatch(in: line, options: [], range: NSRange(line.startIndex..., in: line)) else { return [] }
        var out: [(String, String)] = []
        for n in names {
            let r = m.range(withName: n)
            if r.location != NSNotFound, let rr = Range(r, in: line) { out.append((n, String(line[rr]))) }
        }
        return out
    }
}

extension AnchoredRegex {
    static func isPlainText(_ s: String) -> Bool {
        !s.isEmpty && !s.unicodeScalars.contains { "\\.+*?()[]{}|^$".unicodeScalars.contains($0) }
    }
}

/// Loki's `pattern` parser: literals and `<name>` captures (`<_>` skips).
public struct LogQLPattern: Sendable {
    enum Part: Sendable {
        case literal([UInt8])
        case capture(String?)
    }
    let parts: [Part]
    public let source: String

    public init(_ source: String) throws {
        self.source = source
        var parts: [Part] = []
        let u = Array(source.utf8)
        var i = 0
        var lit: [UInt8] = []
        while i < u.count {
            if u[i] == UInt8(ascii: "<"), let close = u[(i + 1)...].firstIndex(of: UInt8(ascii: ">")) {
                let name = String(decoding: u[(i + 1)..<close], as: UTF8.self)
                if name == "_" || (!name.isEmpty && NameRules.isValidLabelName(name)) {
                    if !lit.isEmpty { parts.append(.literal(lit)); lit = [] }
                    if case .capture? = parts.last {
                        throw ArgusError(.badInput, "invalid pattern \(quoteLabelValue(source)): consecutive captures are not allowed")
                    }
                    parts.append(.capture(name == "_" ? nil : name))
                    i = close + 1
                    continue
                }
            }
            lit.append(u[i])
            i += 1
        }
        if !lit.isEmpty { parts.append(.literal(lit)) }
        guard parts.contains(where: { if case .capture(let n) = $0 { return n != nil } else { return false } }) else {
            throw ArgusError(.badInput, "invalid pattern \(quoteLabelValue(source)): at least one capture is required")
        }
        self.parts = parts
    }

    public func extract(_ line: String) -> [(String, String)] {
        let u = Array(line.utf8)
        var out: [(String, String)] = []
        var pos = 0
        var k = 0
        while k < parts.count {
            switch parts[k] {
            case .literal(let l):
                guard let at = find(u, l, from: pos) else { return out }
                // A literal at the start must match at the start.
                if k == 0 && at != 0 { return [] }
                pos = at + l.count
            case .capture(let name):
                var end = u.count
                if k + 1 < parts.count, case .literal(let next) = parts[k + 1] {
                    guard let at = find(u, next, from: pos) else { return out }
                    end = at
                }
                if let name { out.append((name, String(decoding: u[pos..<end], as: UTF8.self))) }
                pos = end
            }
            k += 1
        }
        return out
    }

    func find(_ hay: [UInt8], _ needle: [UInt8], from: Int) -> Int? {
        if needle.isEmpty { return from }
        guard hay.count >= needle.count else { return nil }
        var i = from
        while i + needle.count <= hay.count {
            if hay[i] == needle[0] && Array(hay[i..<(i + needle.count)]) == needle { return i }
            i += 1
        }
        return nil
    }
}

/// The part of Go's text/template that `line_format` and `label_format` use in practice:
/// text, `{{ .label }}`, `{{ __line__ }}`, `{{ __timestamp__ }}`, and pipes through
/// `ToUpper`/`upper`, `ToLower`/`lower`, `TrimSpace`/`trim`, `default "x"`.
public struct LogQLTemplate: Sendable {
    enum Piece: Sendable {
        case text(String)
        case action(source: String, funcs: [(name: String, arg: String?)])
    }
    let pieces: [Piece]
    public let source: String

    public init(_ source: String) throws {
        self.source = source
        var pieces: [Piece] = []
        var rest = Substring(source)
        while let open = rest.range(of: "{{") {
            if open.lowerBound > rest.startIndex { pieces.append(.text(String(rest[..<open.lowerBound]))) }
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                throw ArgusError(.badInput, "invalid template \(quoteLabelValue(source)): unclosed action")
            }
            var inner = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            if inner.hasPrefix("-") { inner.removeFirst() }
            if inner.hasSuffix("-") { inner.removeLast() }
            let stages = inner.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let first = stages.first, first == "__line__" || first == "__timestamp__" || first.hasPrefix(".") else {
                throw ArgusError(.badInput, "invalid template \(quoteLabelValue(source)): unsupported action {{\(inner)}} (use {{.label}}, {{__line__}} or {{__timestamp__}}, optionally piped to ToUpper, ToLower, TrimSpace or default)")
            }
            var funcs: [(String, String?)] = []
            for f in stages.dropFirst() {
                let parts = f.split(separator: " ", maxSplits: 1).map(String.init)
                let name = parts[0]
                guard ["ToUpper", "upper", "ToLower", "lower", "TrimSpace", "trim", "default", "title"].contains(name) else {
                    throw ArgusError(.badInput, "invalid template \(quoteLabelValue(source)): function \"\(name)\" not defined")
                }
                var arg: String?
                if parts.count > 1 { arg = parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"` ")) }
                funcs.append((name, arg))
            }
            pieces.append(.action(source: first, funcs: funcs))
            rest = rest[close.upperBound...]
        }
        if !rest.isEmpty { pieces.append(.text(String(rest))) }
        self.pieces = pieces
    }

    /// Renders with `label` giving a label's value (empty when missing).
    public func render(line: String, time: Int64, label: (String) -> String?) -> String {
        var out = ""
        for p in pieces {
            switch p {
            case .text(let t): out += t
            case .action(let src, let funcs):
                var v: String
                if src == "__line__" { v = line } else if src == "__timestamp__" {
                    v = LogQLTemplate.rfc3339(time)
                } else {
                    v = label(String(src.dropFirst())) ?? ""
                }
                for f in funcs {
                    switch f.name {
                    case "ToUpper", "upper": v = v.uppercased()
                    case "ToLower", "lower": v = v.lowercased()
                    case "TrimSpace", "trim": v = v.trimmingCharacters(in: .whitespacesAndNewlines)
                    case "title": v = v.capitalized
                    case "default": if v.isEmpty { v = f.arg ?? "" }
                    default: break
                    }
                }
                out += v
            }
        }
        return out
    }

    static func rfc3339(_ ns: Int64) -> String {
        let d = Date(timeIntervalSince1970: Double(ns) / 1e9)
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: d)
    }
}

/// The pattern of a `|>` / `!>` line filter: literals and `<name>` or `<_>` placeholders, as in
/// the `pattern` parser but with no capture required. A line matches, as in Loki, when each
/// literal is found (first occurrence) after the previous one, every placeholder between two
/// literals covers at least one byte, and the line ends with the last literal when the pattern
/// does, or goes on past it when the pattern ends with a placeholder. A leading literal is
/// searched for like the others (it need not start the line). An empty line matches only an
/// empty pattern.
public struct LogQLLinePattern: Sendable {
    enum Part: Sendable {
        case literal([UInt8])
        case capture
    }
    let parts: [Part]

    public init(_ source: String) throws {
        var parts: [Part] = []
        let u = Array(source.utf8)
        var i = 0
        var lit: [UInt8] = []
        while i < u.count {
            if u[i] == UInt8(ascii: "<"), let close = u[(i + 1)...].firstIndex(of: UInt8(ascii: ">")) {
                let name = String(decoding: u[(i + 1)..<close], as: UTF8.self)
                if name == "_" || (!name.isEmpty && NameRules.isValidLabelName(name)) {
                    if !lit.isEmpty { parts.append(.literal(lit)); lit = [] }
                    if case .capture? = parts.last {
                        throw ArgusError(.badInput, "invalid pattern \(quoteLabelValue(source)): consecutive captures are not allowed")
                    }
                    parts.append(.capture)
                    i = close + 1
                    continue
                }
            }
            lit.append(u[i])
            i += 1
        }
        if !lit.isEmpty { parts.append(.literal(lit)) }
        self.parts = parts
    }

    /// Whether `line` matches the pattern.
    public func matches(_ line: UnsafeRawBufferPointer) -> Bool {
        if line.isEmpty || parts.isEmpty { return line.isEmpty && parts.isEmpty }
        var off = 0
        for (k, p) in parts.enumerated() {
            guard case .literal(let l) = p else { continue }
            guard let j = l.withUnsafeBytes({ LogQLLinePattern.index(UnsafeRawBufferPointer(rebasing: line[off...]), $0) }) else { return false }
            if k != 0 && j == 0 { return false }
            off += j + l.count
        }
        let endsOnCapture: Bool
        if case .capture = parts[parts.count - 1] { endsOnCapture = true } else { endsOnCapture = false }
        return endsOnCapture == (off != line.count)
    }

    static func index(_ hay: UnsafeRawBufferPointer, _ needle: UnsafeRawBufferPointer) -> Int? {
        let n = needle.count
        if n == 0 { return 0 }
        if hay.count < n { return nil }
        var i = 0
        while i + n <= hay.count {
            if hay[i] == needle[0] && memcmp(hay.baseAddress! + i, needle.baseAddress!, n) == 0 { return i }
            i += 1
        }
        return nil
    }
}
