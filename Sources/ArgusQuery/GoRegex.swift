import Foundation

/// A regular expression with the parts of Go's `regexp` semantics PromQL's `label_replace` needs:
/// fully anchored matching with `.` matching newlines, `(?P<name>...)` groups, and `Expand`-style
/// templates (`$1`, `${1}`, `$name`, `${name}`, `$$`).
final class GoRegex {
    private let regex: NSRegularExpression
    /// Capturing group names by group number (index 0 is the whole match; "" when unnamed).
    private let groupNames: [String]

    /// Compiles `pattern` to match whole strings only.
    init(anchored pattern: String) throws {
        let translated = pattern.replacingOccurrences(of: "(?P<", with: "(?<")
        regex = try NSRegularExpression(pattern: "\\A(?s:" + translated + ")\\z", options: [])
        groupNames = [""] + GoRegex.captureGroupNames(translated)
    }

    /// When the whole of `s` matches, `template` with group references replaced; otherwise nil.
    func replaceWholeMatch(_ s: String, template: String) -> String? {
        let ns = s as NSString
        guard let m = regex.firstMatch(in: s, options: [], range: NSRange(location: 0, length: ns.length)) else { return nil }
        func group(_ i: Int) -> String {
            guard i < m.numberOfRanges else { return "" }
            let r = m.range(at: i)
            return r.location == NSNotFound ? "" : ns.substring(with: r)
        }
        var out = ""
        var scalars = Array(template.unicodeScalars)[...]
        while let dollar = scalars.firstIndex(of: "$") {
            out.unicodeScalars.append(contentsOf: scalars[scalars.startIndex..<dollar])
            var rest = scalars[(dollar + 1)...]
            if rest.first == "$" {
                out += "$"
                scalars = rest.dropFirst()
                continue
            }
            var name = ""
            var braced = false
            if rest.first == "{" {
                braced = true
                rest = rest.dropFirst()
            }
            var end = rest.startIndex
            while end < rest.endIndex, GoRegex.isNameChar(rest[end]) {
                name.unicodeScalars.append(rest[end])
                end += 1
            }
            if braced {
                guard end < rest.endIndex, rest[end] == "}", !name.isEmpty else {
                    out += "$"
                    scalars = scalars[(dollar + 1)...]
                    continue
                }
                end += 1
            } else if name.isEmpty {
                out += "$"
                scalars = scalars[(dollar + 1)...]
                continue
            }
            scalars = rest[end...]
            if let number = Int(name), name.unicodeScalars.allSatisfy({ $0.properties.numericType == .decimal && $0.isASCII }) {
                out += group(number)
            } else if let index = groupNames.firstIndex(of: name) {
                out += group(index)
            }
        }
        out.unicodeScalars.append(contentsOf: scalars)
        return out
    }

    private static func isNameChar(_ c: Unicode.Scalar) -> Bool {
        (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || c == "_"
    }

    /// The names of a pattern's capturing groups in order ("" for unnamed ones).
    private static func captureGroupNames(_ pattern: String) -> [String] {
        let chars = Array(pattern.unicodeScalars)
        var names: [String] = []
        var i = 0
        var inClass = false
        while i < chars.count {
            let c = chars[i]
            if c == "\\" {
                i += 2
                continue
            }
            if inClass {
                if c == "]" { inClass = false }
                i += 1
                continue
            }
            if c == "[" {
                inClass = true
                i += 1
                // A leading ']' (after an optional '^') is literal.
                if i < chars.count && chars[i] == "^" { i += 1 }
                if i < chars.count && chars[i] == "]" { i += 1 }
                continue
            }
            if c == "(" {
                if i + 1 < chars.count && chars[i + 1] == "?" {
                    if i + 2 < chars.count && chars[i + 2] == "<" && i + 3 < chars.count && chars[i + 3] != "=" && chars[i + 3] != "!" {
                        var j = i + 3
                        var name = ""
                        while j < chars.count && chars[j] != ">" {
                            name.unicodeScalars.append(chars[j])
                            j += 1
                        }
                        names.append(name)
                    }
                } else {
                    names.append("")
                }
            }
            i += 1
        }
        return names
    }
}
