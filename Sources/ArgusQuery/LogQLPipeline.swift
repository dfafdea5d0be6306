import ArgusModel
import ArgusStorage
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The labels of one entry while it runs through a pipeline: the stream's labels, then
/// structured metadata and extracted labels in the order they were added.
struct LogQLEntryLabels {
    var stream: Labels
    /// Structured metadata and labels added by parsers and formatters.
    var extra: [(name: String, value: String, parsed: Bool)] = []
    var dropped: Set<String> = []

    func get(_ name: String) -> String? {
        if dropped.contains(name) { return nil }
        for e in extra.reversed() where e.name == name { return e.value }
        return stream[name]
    }

    func has(_ name: String) -> Bool { get(name) != nil }

    /// Sets a label (replacing an existing extra label of that name).
    mutating func set(_ name: String, _ value: String, parsed: Bool = true) {
        dropped.remove(name)
        if let i = extra.lastIndex(where: { $0.name == name }) {
            extra[i].value = value
        } else {
            extra.append((name, value, parsed))
        }
    }

    /// Adds a parsed label as Loki does: a name that is already a stream label gets `_extracted`.
    mutating func addParsed(_ name: String, _ value: String) {
        if stream[name] != nil && !dropped.contains(name) {
            set(name + "_extracted", value)
        } else {
            set(name, value)
        }
    }

    mutating func remove(_ name: String) {
        extra.removeAll { $0.name == name }
        if stream[name] != nil { dropped.insert(name) }
    }

    /// Every label, sorted (what a metric query's series or a log query's stream is keyed by).
    var all: Labels {
        var items: [Label] = []
        for l in stream.items where !dropped.contains(l.name) { items.append(l) }
        var seen = Set<String>()
        for e in extra.reversed() where seen.insert(e.name).inserted {
            if let k = items.firstIndex(where: { $0.name == e.name }) { items[k].value = e.value } else { items.append(Label(e.name, e.value)) }
        }
        return Labels(unsorted: items)
    }

    /// A cheap key of the current label values (order-stable), for grouping entries.
    var key: [String] {
        var k: [String] = []
        k.reserveCapacity(extra.count * 2 + dropped.count + 1)
        for d in dropped.sorted() { k.append("-" + d) }
        for e in extra {
            k.append(e.name)
            k.append(e.value)
        }
        return k
    }
}

/// A compiled log pipeline. Leading line filters run on the line's bytes (no String); the
/// rest of the stages run on a String line and `LogQLEntryLabels`.
final class LogQLPipeline {
    struct ByteFilter {
        let op: LogQLLineFilterOp
        let needles: [[UInt8]]
        let regexes: [LogQLRegex]
        let patterns: [LogQLLinePattern]
    }
    let leading: [ByteFilter]
    let rest: [LogQLStage]
    /// True when no stage after the leading filters changes the line or the labels.
    let onlyFilters: Bool

    init(_ stages: [LogQLStage]) {
        var leading: [ByteFilter] = []
        var k = 0
        while k < stages.count, case .lineFilter(let op, let needles, let regexes) = stages[k] {
            leading.append(ByteFilter(op: op, needles: needles.map { Array($0.utf8) }, regexes: regexes, patterns: LogQLPipeline.patterns(op, needles)))
            k += 1
        }
        self.leading = leading
        rest = Array(stages[k...])
        onlyFilters = rest.isEmpty
    }

    /// Token-filter hints for the store: one element per leading `|=` filter.
    static func tokenHint(_ stages: [LogQLStage]) -> [[[UInt64]]] {
        var out: [[[UInt64]]] = []
        for s in stages {
            guard case .lineFilter(let op, let needles, _) = s else { break }
            if op == .contains { out.append(needles.map { LogSelectQuery.requiredTokens(of: $0) }) }
        }
        return out
    }

    /// The compiled patterns of a `|>` / `!>` filter (the parser has checked them).
    static func patterns(_ op: LogQLLineFilterOp, _ needles: [String]) -> [LogQLLinePattern] {
        guard op == .pattern || op == .notPattern else { return [] }
        return needles.compactMap { try? LogQLLinePattern($0) }
    }

    /// The leading `|=` and `!=` filters, for the store to apply (and to pick lines by). A
    /// leading `|~` whose every alternative starts with literal text adds a `|=` on that text:
    /// a line the regex matches contains it, so the store can skip chunks and lines by it (the
    /// regex still runs on what is left).
    static func storeFilters(_ stages: [LogQLStage]) -> [LogLineFilter] {
        var out: [LogLineFilter] = []
        for s in stages {
            guard case .lineFilter(let op, let needles, _) = s else { break }
            if op == .contains || op == .notContains {
                out.append(LogLineFilter(negate: op == .notContains, needles: needles.map { Array($0.utf8) }))
            } else if op == .regex {
                let literals = needles.map(requiredLiteral)
                if !literals.isEmpty, literals.allSatisfy({ $0 != nil }) {
                    out.append(LogLineFilter(negate: false, needles: literals.map { Array($0!.utf8) }))
                }
            }
        }
        return out
    }

    /// Text every match of the Go regular expression `pattern` contains: its leading run of
    /// plain characters, when at least three long. Nil for patterns with alternation or flags
    /// (`(?i)` would make the text case-insensitive), or without such a run.
    static func requiredLiteral(_ pattern: String) -> String? {
        if pattern.contains("|") || pattern.contains("(?") { return nil }
        var chars = Array(pattern.unicodeScalars)
        if chars.first == "^" { chars.removeFirst() }
        var lit: [UnicodeScalar] = []
        var i = 0
        func plain(_ c: UnicodeScalar) -> Bool {
            c.isASCII && (c.properties.isAlphabetic || ("0"..."9").contains(c) || " -_:/=@,;<>'\"!%#~&".unicodeScalars.contains(c))
        }
        while i < chars.count {
            var c = chars[i]
            var width = 1
            if c == "\\" {
                // An escaped punctuation character is itself; `\d`, `\b`, `\w`… end the run.
                guard i + 1 < chars.count, chars[i + 1].isASCII, !chars[i + 1].properties.isAlphabetic,
                      !("0"..."9").contains(chars[i + 1]) else { break }
                c = chars[i + 1]
                width = 2
            } else if !plain(c) {
                break
            }
            let next = i + width < chars.count ? chars[i + width] : nil
            if next == "*" || next == "?" || next == "{" { break }  // this character may be absent
            lit.append(c)
            if next == "+" { break }  // repeated: what follows is not next to it
            i += width
        }
        guard lit.count >= 3 else { return nil }
        var out = ""
        out.unicodeScalars.append(contentsOf: lit)
        return out
    }

    @inline(__always) static func contains(_ hay: UnsafeRawBufferPointer, _ needle: [UInt8]) -> Bool {
        if needle.isEmpty { return true }
        if hay.count < needle.count { return false }
        return needle.withUnsafeBytes { n in
            // memchr for the first byte, memcmp for the rest.
            let first = Int32(n[0])
            let len = n.count
            var p = hay.baseAddress!
            let last = hay.baseAddress! + (hay.count - len)
            while p <= last {
                guard let f = memchr(p, first, last - p + 1) else { return false }
                if memcmp(f, n.baseAddress!, len) == 0 { return true }
                p = UnsafeRawPointer(f) + 1
            }
            return false
        }
    }

    /// Whether the line passes the leading line filters.
    @inline(__always) func prefilter(_ line: UnsafeRawBufferPointer) -> Bool {
        for f in leading {
            switch f.op {
            case .contains:
                var any = false
                for n in f.needles where LogQLPipeline.contains(line, n) { any = true; break }
                if !any { return false }
            case .notContains:
                for n in f.needles where LogQLPipeline.contains(line, n) { return false }
            case .regex, .notRegex:
                let s = String(decoding: line, as: UTF8.self)
                var any = false
                for r in f.regexes where r.matches(s) { any = true; break }
                if any != (f.op == .regex) { return false }
            case .pattern, .notPattern:
                var any = false
                for p in f.patterns where p.matches(line) { any = true; break }
                if any != (f.op == .pattern) { return false }
            }
        }
        return true
    }

    /// Runs the remaining stages; returns false when the entry is filtered out.
    func process(line: inout String, time: Int64, labels: inout LogQLEntryLabels) -> Bool {
        for stage in rest {
            switch stage {
            case .lineFilter(let op, let needles, let regexes):
                var ok = true
                switch op {
                case .contains: ok = needles.contains { line.contains($0) || $0.isEmpty }
                case .notContains: ok = !needles.contains { !$0.isEmpty && line.contains($0) }
                case .regex: ok = regexes.contains { $0.matches(line) }
                case .notRegex: ok = !regexes.contains { $0.matches(line) }
                case .pattern, .notPattern:
                    var s = line
                    let any = s.withUTF8 { p in LogQLPipeline.patterns(op, needles).contains { $0.matches(UnsafeRawBufferPointer(p)) } }
                    ok = any == (op == .pattern)
                }
                if !ok { return false }
            case .json(let params):
                LogQLParsers.json(line, params: params, into: &labels)
            case .logfmt(let params, let strict, let keepEmpty):
                LogQLParsers.logfmt(line, params: params, strict: strict, keepEmpty: keepEmpty, into: &labels)
            case .regexp(let r):
                for (n, v) in r.captures(line) { labels.addParsed(n, v) }
            case .pattern(let p):
                for (n, v) in p.extract(line) { labels.addParsed(n, v) }
            case .unpack:
                LogQLParsers.unpack(&line, into: &labels)
            case .labelFilter(let f):
                if !LogQLPipeline.evaluate(f, &labels) { return false }
            case .lineFormat(let t):
                let l = labels
                line = t.render(line: line, time: time) { l.get($0) }
            case .labelFormat(let items):
                var updates: [(String, String?)] = []
                for it in items {
                    if let src = it.src {
                        updates.append((it.dst, labels.get(src)))
                        if src != it.dst { labels.remove(src) }
                    } else if let t = it.template {
                        let l = labels
                        updates.append((it.dst, t.render(line: line, time: time) { l.get($0) }))
                    }
                }
                for (n, v) in updates { if let v { labels.set(n, v) } else { labels.remove(n) } }
            case .drop(let items):
                for it in items {
                    if let m = it.matcher {
                        if let v = labels.get(it.name), m.matches(v) { labels.remove(it.name) }
                    } else {
                        labels.remove(it.name)
                    }
                }
            case .keep(let items):
                var keepNames = Set<String>()
                var conditional: [String: Matcher] = [:]
                for it in items {
                    keepNames.insert(it.name)
                    if let m = it.matcher { conditional[it.name] = m }
                }
                let names = labels.all.items.map(\.name)
                for n in names {
                    if !keepNames.contains(n) {
                        labels.remove(n)
                    } else if let m = conditional[n], let v = labels.get(n), !m.matches(v) {
                        labels.remove(n)
                    }
                }
            case .decolorize:
                line = LogQLParsers.decolorize(line)
            case .unwrap:
                break
            }
        }
        return true
    }

    static func compare(_ a: Double, _ op: LogQLCompareOp, _ b: Double) -> Bool {
        switch op {
        case .eq, .eqeq: return a == b
        case .ne: return a != b
        case .gt: return a > b
        case .ge: return a >= b
        case .lt: return a < b
        case .le: return a <= b
        case .re, .nre: return false
        }
    }

    /// A label filter; a value that cannot be converted sets `__error__` and keeps the entry,
    /// as Loki does.
    static func evaluate(_ f: LogQLLabelFilter, _ labels: inout LogQLEntryLabels) -> Bool {
        switch f {
        case .string(let name, let op, let value, let regex):
            let v = labels.get(name) ?? ""
            switch op {
            case .eq, .eqeq: return v == value
            case .ne: return v != value
            case .re: return regex!.matches(v)
            case .nre: return !regex!.matches(v)
            default: return false
            }
        case .number(let name, let op, let value):
            guard let v = labels.get(name).flatMap({ Double($0.trimmingCharacters(in: .whitespaces)) }) else {
                labels.set("__error__", "LabelFilterErr")
                return true
            }
            return compare(v, op, value)
        case .duration(let name, let op, let seconds):
            guard let v = labels.get(name).flatMap({ LogQLDuration.seconds($0) }) else {
                labels.set("__error__", "LabelFilterErr")
                return true
            }
            return compare(v, op, seconds)
        case .bytes(let name, let op, let value):
            guard let v = labels.get(name).flatMap({ LogQLBytes.parse($0.replacingOccurrences(of: " ", with: "")) }) else {
                labels.set("__error__", "LabelFilterErr")
                return true
            }
            return compare(v, op, value)
        case .and(let a, let b):
            return evaluate(a, &labels) && evaluate(b, &labels)
        case .or(let a, let b):
            return evaluate(a, &labels) || evaluate(b, &labels)
        }
    }
}

