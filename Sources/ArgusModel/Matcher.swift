import Foundation

/// A label matcher with Prometheus semantics: an absent label matches as the empty string,
/// and regular expressions are fully anchored.
public struct Matcher: Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case equal = "="
        case notEqual = "!="
        case regexMatch = "=~"
        case regexNoMatch = "!~"
    }

    public let kind: Kind
    public let name: String
    public let value: String
    private let regex: AnchoredRegex?

    public init(_ kind: Kind, _ name: String, _ value: String) throws {
        self.kind = kind
        self.name = name
        self.value = value
        switch kind {
        case .equal, .notEqual: regex = nil
        case .regexMatch, .regexNoMatch: regex = try AnchoredRegex(value)
        }
    }

    public static func eq(_ name: String, _ value: String) -> Matcher {
        try! Matcher(.equal, name, value)
    }

    @inline(__always)
    public func matches(_ v: String) -> Bool {
        switch kind {
        case .equal: return v == value
        case .notEqual: return v != value
        case .regexMatch: return regex!.matches(v)
        case .regexNoMatch: return !regex!.matches(v)
        }
    }

    /// True when the matcher matches the empty string (so series without the label match too).
    public var matchesEmpty: Bool { matches("") }

    public var description: String { "\(name)\(kind.rawValue)\(quoteLabelValue(value))" }
}

/// A fully anchored regular expression with fast paths for the common literal shapes.
public final class AnchoredRegex: @unchecked Sendable {
    enum Fast {
        case any            // .*
        case nonEmpty       // .+
        case literal(String)
        case set(Set<String>)
        case prefix(String) // foo.*
        case none
    }

    public let source: String
    private let fast: Fast
    private let regex: NSRegularExpression?

    public init(_ source: String) throws {
        self.source = source
        let f = AnchoredRegex.analyse(source)
        fast = f
        if case .none = f {
            do {
                regex = try NSRegularExpression(pattern: "^(?:" + source + ")$", options: [.dotMatchesLineSeparators])
            } catch {
                throw ArgusError(.badInput, "invalid regular expression \(quoteLabelValue(source)): \(error)")
            }
        } else {
            regex = nil
        }
    }

    static func isPlain(_ s: Substring) -> Bool {
        for c in s.unicodeScalars {
            if "\\.+*?()[]{}|^$".unicodeScalars.contains(c) { return false }
        }
        return true
    }

    static func analyse(_ s: String) -> Fast {
        if s == ".*" { return .any }
        if s == ".+" { return .nonEmpty }
        if isPlain(Substring(s)) { return .literal(s) }
        if s.hasSuffix(".*"), isPlain(s.dropLast(2)) { return .prefix(String(s.dropLast(2))) }
        let parts = s.split(separator: "|", omittingEmptySubsequences: false)
        if parts.count > 1, parts.allSatisfy({ isPlain($0) }) { return .set(Set(parts.map(String.init))) }
        return .none
    }

    public func matches(_ v: String) -> Bool {
        switch fast {
        case .any: return true
        case .nonEmpty: return !v.isEmpty
        case .literal(let l): return v == l
        case .set(let s): return s.contains(v)
        case .prefix(let p): return v.hasPrefix(p)
        case .none:
            let ns = v as NSString
            return regex!.firstMatch(in: v, options: [], range: NSRange(location: 0, length: ns.length)) != nil
        }
    }
}
