import ArgusModel
import Foundation

/// One relabeling step with Prometheus' semantics (`relabel_configs`, `metric_relabel_configs`).
public struct RelabelConfig: Sendable {
    public enum Action: String, Sendable {
        case replace, keep, drop, labeldrop, labelkeep, labelmap, hashmod, lowercase, uppercase, keepequal, dropequal
    }

    public var sourceLabels: [String] = []
    public var separator = ";"
    public var regex: RelabelRegex
    public var modulus: UInt64 = 0
    public var targetLabel = ""
    public var replacement = "$1"
    public var action: Action = .replace

    public init(sourceLabels: [String] = [], separator: String = ";", regex: String = "(.*)", modulus: UInt64 = 0,
                targetLabel: String = "", replacement: String = "$1", action: Action = .replace) throws {
        self.sourceLabels = sourceLabels
        self.separator = separator
        self.regex = try RelabelRegex(regex)
        self.modulus = modulus
        self.targetLabel = targetLabel
        self.replacement = replacement
        self.action = action
        try validate()
    }

    func validate() throws {
        switch action {
        case .replace, .lowercase, .uppercase, .hashmod, .keepequal, .dropequal:
            if targetLabel.isEmpty { throw ArgusError(.badInput, "relabel configuration for \(action.rawValue) action requires 'target_label' value") }
        default: break
        }
        if action == .hashmod && modulus == 0 { throw ArgusError(.badInput, "relabel configuration for hashmod requires non-zero modulus") }
        if (action == .labeldrop || action == .labelkeep) && (!sourceLabels.isEmpty || !targetLabel.isEmpty) {
            throw ArgusError(.badInput, "\(action.rawValue) action requires only 'regex', and no other fields")
        }
    }

    /// Applies a list of steps; nil means the target or series is dropped.
    public static func apply(_ configs: [RelabelConfig], to labels: [String: String]) -> [String: String]? {
        var ls = labels
        for c in configs {
            guard let next = c.apply(ls) else { return nil }
            ls = next
        }
        return ls
    }

    func apply(_ labels: [String: String]) -> [String: String]? {
        var ls = labels
        let value = sourceLabels.map { labels[$0] ?? "" }.joined(separator: separator)
        switch action {
        case .drop:
            if regex.matches(value) { return nil }
        case .keep:
            if !regex.matches(value) { return nil }
        case .keepequal:
            if value != (labels[targetLabel] ?? "") { return nil }
        case .dropequal:
            if value == (labels[targetLabel] ?? "") { return nil }
        case .replace:
            guard let groups = regex.groups(value) else { break }
            let target = RelabelRegex.expand(targetLabel, groups)
            guard NameRules.isValidLabelName(target) else { break }
            let v = RelabelRegex.expand(replacement, groups)
            if v.isEmpty { ls[target] = nil } else { ls[target] = v }
        case .lowercase:
            ls[targetLabel] = value.lowercased()
        case .uppercase:
            ls[targetLabel] = value.uppercased()
        case .hashmod:
            ls[targetLabel] = String(RelabelConfig.md5Mod(value, modulus))
        case .labelmap:
            for (k, v) in labels {
                if let groups = regex.groups(k) {
                    let n = RelabelRegex.expand(replacement, groups)
                    if NameRules.isValidLabelName(n) { ls[n] = v }
                }
            }
        case .labeldrop:
            for k in labels.keys where regex.matches(k) { ls[k] = nil }
        case .labelkeep:
            for k in labels.keys where !regex.matches(k) { ls[k] = nil }
        }
        return ls
    }

    /// Prometheus' hashmod: the last 8 bytes of the MD5 sum, big endian, modulo `m`.
    static func md5Mod(_ s: String, _ m: UInt64) -> UInt64 {
        let d = MD5.digest(Array(s.utf8))
        var x: UInt64 = 0
        for b in d[8..<16] { x = x << 8 | UInt64(b) }
        return x % m
    }
}

/// A fully anchored relabel regex with `$1`, `${1}` and `${name}` expansion.
public struct RelabelRegex: @unchecked Sendable {
    public let source: String
    let re: NSRegularExpression

    public init(_ source: String) throws {
        self.source = source
        do {
            re = try NSRegularExpression(pattern: "^(?:" + source + ")$", options: [.dotMatchesLineSeparators])
        } catch {
            throw ArgusError(.badInput, "invalid regular expression \(quoteLabelValue(source)) in a relabel configuration")
        }
    }

    func matches(_ s: String) -> Bool {
        re.firstMatch(in: s, range: NSRange(location: 0, length: (s as NSString).length)) != nil
    }

    /// Capture groups by number and by name, or nil when it does not match.
    func groups(_ s: String) -> [String: String]? {
        let ns = s as NSString
        guard let m = re.firstMatch(in: s, range: NSRange(location: 0, length: ns.length)) else { return nil }
        var out: [String: String] = [:]
        for i in 0..<m.numberOfRanges {
            let r = m.range(at: i)
            out[String(i)] = r.location == NSNotFound ? "" : ns.substring(with: r)
        }
        // Named groups: (?P<name>...) or (?<name>...).
        let names = RelabelRegex.groupNames(source)
        for (i, name) in names.enumerated() where i + 1 < m.numberOfRanges {
            if let name { out[name] = out[String(i + 1)] }
        }
        return out
    }

    static func groupNames(_ pattern: String) -> [String?] {
        var names: [String?] = []
        let p = Array(pattern)
        var i = 0
        while i < p.count {
            if p[i] == "\\" { i += 2; continue }
            if p[i] == "(" {
                if i + 1 < p.count && p[i + 1] == "?" {
                    var j = i + 2
                    if j < p.count && p[j] == "P" { j += 1 }
                    if j < p.count && p[j] == "<" && j + 1 < p.count && p[j + 1] != "=" && p[j + 1] != "!" {
                        var name = ""
                        j += 1
                        while j < p.count && p[j] != ">" { name.append(p[j]); j += 1 }
                        names.append(name)
                    }
                } else {
                    names.append(nil)
                }
            }
            i += 1
        }
        return names
    }

    /// Go's regexp.Expand: `$1`, `${1}`, `$name`, `${name}`, `$$`.
    static func expand(_ template: String, _ groups: [String: String]) -> String {
        var out = ""
        let t = Array(template)
        var i = 0
        while i < t.count {
            if t[i] != "$" || i + 1 >= t.count {
                out.append(t[i])
                i += 1
                continue
            }
            if t[i + 1] == "$" {
                out.append("$")
                i += 2
                continue
            }
            var name = ""
            var j = i + 1
            if t[j] == "{" {
                j += 1
                while j < t.count && t[j] != "}" { name.append(t[j]); j += 1 }
                if j >= t.count { out.append(t[i]); i += 1; continue }
                j += 1
            } else {
                while j < t.count && (t[j].isLetter || t[j].isNumber || t[j] == "_") { name.append(t[j]); j += 1 }
            }
            if name.isEmpty {
                out.append(t[i])
                i += 1
                continue
            }
            out += groups[name] ?? ""
            i = j
        }
        return out
    }
}
