/// One label: a name and a value.
public struct Label: Hashable, Sendable, Comparable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }

    public static func < (a: Label, b: Label) -> Bool {
        a.name < b.name || (a.name == b.name && a.value < b.value)
    }
}

/// A series identity: a label set sorted by name, with unique names and no empty values.
///
/// Invariant: `items` is sorted by name, names are unique, and no value is empty
/// (an empty value means "label absent", as in Prometheus).
public struct Labels: Hashable, Sendable, CustomStringConvertible {
    public private(set) var items: [Label]

    public static let metricName = "__name__"

    public init() { items = [] }

    /// Builds a label set from pairs in any order; empty values are dropped, and a later
    /// duplicate name replaces an earlier one.
    public init(_ pairs: [(String, String)]) {
        var list: [Label] = []
        list.reserveCapacity(pairs.count)
        for (n, v) in pairs where !v.isEmpty { list.append(Label(n, v)) }
        self.init(unsorted: list)
    }

    public init(_ dict: [String: String]) {
        self.init(dict.map { ($0.key, $0.value) })
    }

    public init(unsorted: [Label]) {
        var list = unsorted.filter { !$0.value.isEmpty }
        list.sort { $0.name < $1.name }
        var out: [Label] = []
        out.reserveCapacity(list.count)
        for l in list {
            if let last = out.last, last.name == l.name { out[out.count - 1] = l } else { out.append(l) }
        }
        items = out
    }

    /// Wraps labels the caller guarantees are sorted, unique and non-empty.
    public init(sorted: [Label]) { items = sorted }

    public var count: Int { items.count }
    public var isEmpty: Bool { items.isEmpty }

    public subscript(name: String) -> String? {
        for l in items where l.name == name { return l.value }
        return nil
    }

    /// The value of a label, or "" when it is absent (Prometheus semantics).
    public func value(_ name: String) -> String { self[name] ?? "" }

    public var metricName: String? { self[Labels.metricName] }

    public func setting(_ name: String, _ value: String) -> Labels {
        var list = items.filter { $0.name != name }
        if !value.isEmpty { list.append(Label(name, value)) }
        list.sort { $0.name < $1.name }
        return Labels(sorted: list)
    }

    public func removing(_ names: Set<String>) -> Labels {
        Labels(sorted: items.filter { !names.contains($0.name) })
    }

    public func keeping(_ names: Set<String>) -> Labels {
        Labels(sorted: items.filter { names.contains($0.name) })
    }

    public var withoutMetricName: Labels { removing([Labels.metricName]) }

    /// Prometheus' text form: `name{a="b", c="d"}`.
    public var description: String {
        var out = ""
        var rest = items[...]
        if let first = rest.first, first.name == Labels.metricName {
            out = first.value
            rest = rest.dropFirst()
        }
        if rest.isEmpty && !out.isEmpty { return out }
        out += "{"
        var firstItem = true
        for l in rest {
            if !firstItem { out += ", " }
            firstItem = false
            out += l.name + "=" + quoteLabelValue(l.value)
        }
        return out + "}"
    }

}

/// Quotes a label value as Prometheus does (Go's %q for valid UTF-8).
public func quoteLabelValue(_ s: String) -> String {
    var out = "\""
    for ch in s.unicodeScalars {
        switch ch {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case "\r": out += "\\r"
        default: out.unicodeScalars.append(ch)
        }
    }
    return out + "\""
}

/// Name rules of the Prometheus data model.
public enum NameRules {
    /// `[a-zA-Z_:][a-zA-Z0-9_:]*`
    public static func isValidMetricName(_ s: String) -> Bool {
        var first = true
        if s.isEmpty { return false }
        for b in s.utf8 {
            let ok = (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || b == 0x5F || b == 0x3A
                || (!first && b >= 0x30 && b <= 0x39)
            if !ok { return false }
            first = false
        }
        return true
    }

    /// `[a-zA-Z_][a-zA-Z0-9_]*`
    public static func isValidLabelName(_ s: String) -> Bool {
        var first = true
        if s.isEmpty { return false }
        for b in s.utf8 {
            let ok = (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || b == 0x5F
                || (!first && b >= 0x30 && b <= 0x39)
            if !ok { return false }
            first = false
        }
        return true
    }
}
