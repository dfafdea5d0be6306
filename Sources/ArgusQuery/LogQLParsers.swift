import ArgusModel
import Foundation

/// The `json`, `logfmt` and `unpack` parsers and `decolorize`, with Loki's label naming:
/// nested JSON keys joined by `_`, characters outside [A-Za-z0-9_] replaced by `_`.
enum LogQLParsers {
    static func sanitize(_ k: String) -> String { LogStreamLabels.sanitize(k) }

    static func jsonObject(_ line: String) -> [String: Any]? {
        guard let d = line.data(using: .utf8),
              let o = try? JSONSerialization.jsonObject(with: d, options: [.fragmentsAllowed]) as? [String: Any] else { return nil }
        return o
    }

    static func text(_ v: Any) -> String? {
        switch v {
        case let s as String: return s
        case let n as NSNumber:
            let type = String(cString: n.objCType)
            if type == "c" || type == "B" { return n.boolValue ? "true" : "false" }
            let d = n.doubleValue
            if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
            return "\(d)"
        case is NSNull: return ""
        default: return nil
        }
    }

    static func json(_ line: String, params: [(label: String, path: String)], into labels: inout LogQLEntryLabels) {
        guard let obj = jsonObject(line) else {
            labels.set("__error__", "JSONParserErr")
            return
        }
        if !params.isEmpty {
            for (label, path) in params {
                guard let v = lookup(obj, path) else { continue }
                if let t = text(v) {
                    labels.addParsed(label, t)
                } else if let d = try? JSONSerialization.data(withJSONObject: v, options: [.sortedKeys]) {
                    labels.addParsed(label, String(decoding: d, as: UTF8.self))
                }
            }
            return
        }
        flatten(obj, prefix: "", into: &labels)
    }

    static func flatten(_ obj: [String: Any], prefix: String, into labels: inout LogQLEntryLabels) {
        for k in obj.keys.sorted() {
            let name = prefix.isEmpty ? sanitize(k) : prefix + "_" + sanitize(k)
            let v = obj[k]!
            if let o = v as? [String: Any] {
                flatten(o, prefix: name, into: &labels)
            } else if let t = text(v) {
                labels.addParsed(name, t)
            }
        }
    }

    /// `a.b`, `a["b"]`, `servers[0]`.
    static func lookup(_ root: Any, _ path: String) -> Any? {
        var cur: Any? = root
        var i = path.startIndex
        var key = ""
        func step(_ k: String) {
            if let o = cur as? [String: Any] { cur = o[k] } else { cur = nil }
        }
        while i < path.endIndex {
            let c = path[i]
            if c == "." {
                if !key.isEmpty { step(key); key = "" }
                i = path.index(after: i)
            } else if c == "[" {
                if !key.isEmpty { step(key); key = "" }
                guard let close = path[i...].firstIndex(of: "]") else { return nil }
                var inner = String(path[path.index(after: i)..<close])
                if inner.hasPrefix("\"") && inner.hasSuffix("\"") && inner.count >= 2 {
                    inner = String(inner.dropFirst().dropLast())
                    step(inner)
                } else if let n = Int(inner) {
                    if let a = cur as? [Any], n >= 0, n < a.count { cur = a[n] } else { cur = nil }
                } else {
                    return nil
                }
                i = path.index(after: close)
            } else {
                key.append(c)
                i = path.index(after: i)
            }
        }
        if !key.isEmpty { step(key) }
        return cur
    }

    static func unpack(_ line: inout String, into labels: inout LogQLEntryLabels) {
        guard let obj = jsonObject(line) else {
            labels.set("__error__", "JSONParserErr")
            return
        }
        for (k, v) in obj.sorted(by: { $0.key < $1.key }) {
            guard let s = v as? String else { continue }
            if k == "_entry" { line = s } else { labels.addParsed(sanitize(k), s) }
        }
    }

    static func logfmt(_ line: String, params: [(label: String, key: String)], strict: Bool, keepEmpty: Bool, into labels: inout LogQLEntryLabels) {
        let u = Array(line.utf8)
        var i = 0
        var pairs: [(String, String)] = []
        var failed = false
        while i < u.count {
            while i < u.count && (u[i] == 0x20 || u[i] == 0x09) { i += 1 }
            if i >= u.count { break }
            let ks = i
            while i < u.count && u[i] != UInt8(ascii: "=") && u[i] != 0x20 && u[i] != UInt8(ascii: "\"") { i += 1 }
            let key = String(decoding: u[ks..<i], as: UTF8.self)
            if key.isEmpty {
                failed = true
                // Skip the junk up to the next space.
                while i < u.count && u[i] != 0x20 { i += 1 }
                if strict { break }
                continue
            }
            var value = ""
            if i < u.count && u[i] == UInt8(ascii: "=") {
                i += 1
                if i < u.count && u[i] == UInt8(ascii: "\"") {
                    i += 1
                    var out: [UInt8] = []
                    var closed = false
                    while i < u.count {
                        if u[i] == UInt8(ascii: "\\") && i + 1 < u.count {
                            let e = u[i + 1]
                            switch e {
                            case UInt8(ascii: "n"): out.append(0x0A)
                            case UInt8(ascii: "t"): out.append(0x09)
                            default: out.append(e)
                            }
                            i += 2
                            continue
                        }
                        if u[i] == UInt8(ascii: "\"") { closed = true; i += 1; break }
                        out.append(u[i])
                        i += 1
                    }
                    if !closed { failed = true; if strict { break } }
                    value = String(decoding: out, as: UTF8.self)
                } else {
                    let vs = i
                    while i < u.count && u[i] != 0x20 { i += 1 }
                    value = String(decoding: u[vs..<i], as: UTF8.self)
                }
            }
            pairs.append((key, value))
        }
        if failed && strict {
            labels.set("__error__", "LogfmtParserErr")
            return
        }
        if !params.isEmpty {
            for (label, key) in params {
                if let v = pairs.last(where: { $0.0 == key })?.1 { labels.addParsed(label, v) }
            }
            return
        }
        for (k, v) in pairs where keepEmpty || !v.isEmpty {
            labels.addParsed(sanitize(k), v)
        }
    }

    /// Removes ANSI escape sequences (colours) from a line.
    static func decolorize(_ line: String) -> String {
        let u = Array(line.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(u.count)
        var i = 0
        while i < u.count {
            if u[i] == 0x1B, i + 1 < u.count, u[i + 1] == UInt8(ascii: "[") {
                i += 2
                while i < u.count && !((u[i] >= 0x40 && u[i] <= 0x7E)) { i += 1 }
                i += 1
                continue
            }
            out.append(u[i])
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }
}
