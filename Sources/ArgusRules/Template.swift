import ArgusModel
import Foundation

/// A value inside a template: what Go's text/template would hold in an `interface{}`.
public indirect enum TemplateValue: Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case map([String: String])
    /// A query result element: `.Labels` and `.Value`.
    case sample(labels: [String: String], value: Double)
    case list([TemplateValue])
    /// The template's data (`.`): labels, value, external labels and URL.
    case data(TemplateData)

    var truthy: Bool {
        switch self {
        case .null: return false
        case let .bool(b): return b
        case let .int(i): return i != 0
        case let .float(f): return f != 0
        case let .string(s): return !s.isEmpty
        case let .map(m): return !m.isEmpty
        case .sample, .data: return true
        case let .list(l): return !l.isEmpty
        }
    }

    /// Go's `%v` rendering.
    var text: String {
        switch self {
        case .null: return "<no value>"
        case let .bool(b): return b ? "true" : "false"
        case let .int(i): return String(i)
        case let .float(f): return GoFloat.format(f, verb: "g", precision: nil)
        case let .string(s): return s
        case let .map(m): return "map[" + m.keys.sorted().map { "\($0):\(m[$0]!)" }.joined(separator: " ") + "]"
        case let .sample(l, v): return "{map[" + l.keys.sorted().map { "\($0):\(l[$0]!)" }.joined(separator: " ") + "] \(GoFloat.format(v, verb: "g", precision: nil))}"
        case let .list(l): return "[" + l.map(\.text).joined(separator: " ") + "]"
        case .data: return "{...}"
        }
    }
}

/// The data an alert template sees: Prometheus' `.Labels`, `.Value`, `.ExternalLabels`, `.ExternalURL`.
public struct TemplateData: Sendable {
    public var labels: [String: String]
    public var value: Double
    public var externalLabels: [String: String]
    public var externalURL: String

    public init(labels: [String: String], value: Double, externalLabels: [String: String] = [:], externalURL: String = "") {
        self.labels = labels
        self.value = value
        self.externalLabels = externalLabels
        self.externalURL = externalURL
    }
}

/// An error from parsing or running a template, printed as Go prints them:
/// `template: NAME:LINE: message`.
public struct TemplateError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
}

/// A parsed Go text/template, the subset Prometheus alert templates use: text, `{{ pipeline }}`,
/// `if`/`else if`/`else`/`end`, `range`, `with`, variables (`$x := ...`), trim markers
/// (`{{-` `-}}`), comments, pipelines with `|`, and Prometheus' template functions.
public struct Template: Sendable {
    indirect enum Node: Sendable {
        case text(String)
        case action(Pipeline, line: Int)
        case ifNode(Pipeline, then: [Node], else: [Node], line: Int)
        case rangeNode(Pipeline, body: [Node], else: [Node], line: Int)
        case withNode(Pipeline, body: [Node], else: [Node], line: Int)
    }

    struct Pipeline: Sendable {
        var declare: String?
        var commands: [[Operand]]
    }

    indirect enum Operand: Sendable {
        case dot
        case field(base: Operand?, path: [String])   // `.A.B` (base nil: dot) or `$x.A`
        case variable(String)
        case literal(TemplateValue)
        case function(String)
        case sub(Pipeline)
    }

    let nodes: [Node]
    let name: String

    /// Parses `text`; `name` appears in error messages (`template: NAME:1: ...`).
    public static func parse(_ text: String, name: String) throws -> Template {
        var p = TemplateParser(text: text, name: name)
        let nodes = try p.parseList(until: [])
        return Template(nodes: nodes.0, name: name)
    }

    /// Expands the template. `query` answers the `query` function.
    public func execute(_ data: TemplateData, query: ((String) throws -> [TemplateValue])? = nil) throws -> String {
        var ex = TemplateExecutor(name: name, query: query)
        ex.vars = [("$", .data(data)), ("$labels", .map(data.labels)), ("$externalLabels", .map(data.externalLabels)),
                   ("$externalURL", .string(data.externalURL)), ("$value", .float(data.value))]
        var out = ""
        try ex.run(nodes, dot: .data(data), into: &out)
        return out
    }

    /// Expands an alert's label or annotation template; on error returns the error text, as
    /// Prometheus does (`<error expanding template: ...>`).
    public static func expand(_ text: String, name: String, data: TemplateData, query: ((String) throws -> [TemplateValue])? = nil) -> String {
        guard text.contains("{{") else { return text }
        do {
            return try parse(text, name: name).execute(data, query: query)
        } catch {
            return "<error expanding template: \(error)>"
        }
    }
}

struct TemplateParser {
    let chars: [Character]
    let name: String
    var i = 0
    var line = 1
    var trimNext = false

    init(text: String, name: String) {
        chars = Array(text)
        self.name = name
    }

    func err(_ msg: String) -> TemplateError { TemplateError(message: "template: \(name):\(line): \(msg)") }

    /// Parses nodes until one of the keywords (`end`, `else`); returns the nodes and the keyword
    /// action text that stopped it.
    mutating func parseList(until stops: Set<String>) throws -> ([Template.Node], String) {
        var nodes: [Template.Node] = []
        while true {
            // Text up to the next "{{".
            var text = ""
            while i < chars.count {
                if chars[i] == "{" && i + 1 < chars.count && chars[i + 1] == "{" { break }
                if chars[i] == "\n" { line += 1 }
                text.append(chars[i])
                i += 1
            }
            if trimNext {
                while let f = text.first, f.isWhitespace { text.removeFirst() }
                trimNext = false
            }
            if i >= chars.count {
                if !text.isEmpty { nodes.append(.text(text)) }
                if !stops.isEmpty { throw err("unexpected EOF") }
                return (nodes, "")
            }
            i += 2
            if i < chars.count && chars[i] == "-" && i + 1 < chars.count && chars[i + 1].isWhitespace {
                i += 1
                while let l = text.last, l.isWhitespace { text.removeLast() }
            }
            if !text.isEmpty { nodes.append(.text(text)) }
            // Action text up to "}}" (outside of string literals).
            let startLine = line
            var action = ""
            var closed = false
            var quote: Character? = nil
            while i < chars.count {
                let c = chars[i]
                if let q = quote {
                    action.append(c)
                    if c == "\\" && q == "\"" && i + 1 < chars.count { action.append(chars[i + 1]); i += 2; continue }
                    if c == q { quote = nil }
                    i += 1
                    continue
                }
                if c == "\"" || c == "`" || c == "'" { quote = c; action.append(c); i += 1; continue }
                if c == "\n" { line += 1 }
                if c == "-" && i + 2 < chars.count && chars[i + 1] == "}" && chars[i + 2] == "}" && (action.last?.isWhitespace ?? false) {
                    trimNext = true
                    i += 3
                    closed = true
                    break
                }
                if c == "}" && i + 1 < chars.count && chars[i + 1] == "}" {
                    i += 2
                    closed = true
                    break
                }
                action.append(c)
                i += 1
            }
            if !closed { line = startLine; throw err(quote != nil ? "unterminated quoted string" : "unclosed action") }
            let trimmed = action.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.hasPrefix("/*") {
                guard trimmed.hasSuffix("*/") else { throw err("unclosed comment") }
                continue
            }
            let (keyword, rest) = splitKeyword(trimmed)
            switch keyword {
            case "end":
                guard stops.contains("end") else { throw err("unexpected {{end}}") }
                return (nodes, "end")
            case "else":
                guard stops.contains("else") else { throw err("unexpected {{else}}") }
                return (nodes, "else " + rest)
            case "if", "range", "with":
                let pipe = try parsePipeline(rest, line: startLine)
                let (body, stop) = try parseList(until: ["end", "else"])
                var elseNodes: [Template.Node] = []
                if stop.hasPrefix("else") {
                    let elseRest = String(stop.dropFirst(5)).trimmingCharacters(in: .whitespaces)
                    if !elseRest.isEmpty && keyword != "if" { throw err("unexpected \"\(elseRest)\" after else") }
                    elseNodes = try parseElseChain(elseRest)
                }
                switch keyword {
                case "if": nodes.append(.ifNode(pipe, then: body, else: elseNodes, line: startLine))
                case "range": nodes.append(.rangeNode(pipe, body: body, else: elseNodes, line: startLine))
                default: nodes.append(.withNode(pipe, body: body, else: elseNodes, line: startLine))
                }
            case "define", "template", "block", "break", "continue":
                throw err("\(keyword) is not supported in alert templates")
            default:
                if trimmed.isEmpty { throw err("missing value for command") }
                nodes.append(.action(try parsePipeline(trimmed, line: startLine), line: startLine))
            }
        }
    }

    /// After `else if ... {{else ...}}`: either `if COND` (another link) or nothing (the final else).
    mutating func parseElseChain(_ rest: String) throws -> [Template.Node] {
        if rest.hasPrefix("if ") {
            let pipe = try parsePipeline(String(rest.dropFirst(3)), line: line)
            let (body, stop) = try parseList(until: ["end", "else"])
            var e: [Template.Node] = []
            if stop.hasPrefix("else") { e = try parseElseChain(String(stop.dropFirst(5)).trimmingCharacters(in: .whitespaces)) }
            return [.ifNode(pipe, then: body, else: e, line: line)]
        }
        guard rest.isEmpty else { throw err("unexpected \"\(rest)\" after else") }
        let (e, stop) = try parseList(until: ["end"])
        guard stop == "end" else { throw err("expected end") }
        return e
    }

    func splitKeyword(_ s: String) -> (String, String) {
        let word = s.prefix { $0.isLetter }
        let rest = s.dropFirst(word.count)
        if rest.isEmpty || rest.first!.isWhitespace {
            return (String(word), rest.trimmingCharacters(in: .whitespaces))
        }
        return ("", s)
    }

    // MARK: pipelines

    func parsePipeline(_ text: String, line: Int) throws -> Template.Pipeline {
        var toks = try tokenize(text, line: line)
        var pos = 0
        return try pipeline(&toks, &pos, line: line, top: true)
    }

    enum Tok: Equatable {
        case word(String)     // identifier, field chain, variable, number
        case str(String)
        case pipe
        case lparen, rparen
        case declare          // :=
        case assign           // =
    }

    func tokenize(_ text: String, line: Int) throws -> [Tok] {
        let cs = Array(text)
        var out: [Tok] = []
        var j = 0
        func e(_ m: String) -> TemplateError { TemplateError(message: "template: \(name):\(line): \(m)") }
        while j < cs.count {
            let c = cs[j]
            if c.isWhitespace { j += 1; continue }
            if c == "|" { out.append(.pipe); j += 1; continue }
            if c == "(" { out.append(.lparen); j += 1; continue }
            if c == ")" { out.append(.rparen); j += 1; continue }
            if c == ":" && j + 1 < cs.count && cs[j + 1] == "=" { out.append(.declare); j += 2; continue }
            if c == "=" { out.append(.assign); j += 1; continue }
            if c == "\"" {
                var s = ""
                j += 1
                var done = false
                while j < cs.count {
                    let d = cs[j]
                    if d == "\\" && j + 1 < cs.count {
                        let n = cs[j + 1]
                        switch n {
                        case "n": s.append("\n")
                        case "t": s.append("\t")
                        case "\\": s.append("\\")
                        case "\"": s.append("\"")
                        default: s.append("\\"); s.append(n)
                        }
                        j += 2
                        continue
                    }
                    if d == "\"" { done = true; j += 1; break }
                    s.append(d)
                    j += 1
                }
                if !done { throw e("unterminated quoted string") }
                out.append(.str(s))
                continue
            }
            if c == "`" {
                var s = ""
                j += 1
                var done = false
                while j < cs.count {
                    if cs[j] == "`" { done = true; j += 1; break }
                    s.append(cs[j])
                    j += 1
                }
                if !done { throw e("unterminated raw quoted string") }
                out.append(.str(s))
                continue
            }
            var w = ""
            while j < cs.count, !cs[j].isWhitespace, !"|()\"`".contains(cs[j]), !(cs[j] == ":" && j + 1 < cs.count && cs[j + 1] == "=") {
                if cs[j] == "=" && !w.isEmpty { break }
                w.append(cs[j])
                j += 1
            }
            if w.isEmpty { throw e("unexpected \"\(c)\" in command") }
            out.append(.word(w))
        }
        return out
    }

    func pipeline(_ toks: inout [Tok], _ pos: inout Int, line: Int, top: Bool) throws -> Template.Pipeline {
        func e(_ m: String) -> TemplateError { TemplateError(message: "template: \(name):\(line): \(m)") }
        var declare: String? = nil
        if top, pos + 1 < toks.count, case let .word(v) = toks[pos], v.hasPrefix("$"), toks[pos + 1] == .declare || toks[pos + 1] == .assign {
            declare = v
            pos += 2
        }
        var commands: [[Template.Operand]] = []
        var cmd: [Template.Operand] = []
        while pos < toks.count {
            let t = toks[pos]
            switch t {
            case .pipe:
                if cmd.isEmpty { throw e("missing command") }
                commands.append(cmd)
                cmd = []
                pos += 1
            case .rparen:
                if top { throw e("unexpected right paren") }
                if cmd.isEmpty { throw e("missing command") }
                commands.append(cmd)
                return Template.Pipeline(declare: declare, commands: commands)
            case .lparen:
                pos += 1
                let sub = try pipeline(&toks, &pos, line: line, top: false)
                guard pos < toks.count, toks[pos] == .rparen else { throw e("unclosed left paren") }
                pos += 1
                // A field access after a parenthesised pipeline, e.g. (query "x" | first).Value
                if pos < toks.count, case let .word(w) = toks[pos], w.hasPrefix(".") {
                    cmd.append(.field(base: .sub(sub), path: w.split(separator: ".").map(String.init)))
                    pos += 1
                } else {
                    cmd.append(.sub(sub))
                }
            case let .str(s):
                cmd.append(.literal(.string(s)))
                pos += 1
            case .declare, .assign:
                throw e("unexpected \"=\" in operand")
            case let .word(w):
                cmd.append(try operand(w, line: line))
                pos += 1
            }
        }
        if !top { throw e("unclosed left paren") }
        if cmd.isEmpty {
            if commands.isEmpty { throw e("missing value for command") }
            throw e("missing command")
        }
        commands.append(cmd)
        return Template.Pipeline(declare: declare, commands: commands)
    }

    func operand(_ w: String, line: Int) throws -> Template.Operand {
        if w == "." { return .dot }
        if w.hasPrefix(".") { return .field(base: nil, path: w.split(separator: ".").map(String.init)) }
        if w.hasPrefix("$") {
            let parts = w.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            if parts.count == 1 { return .variable(w) }
            return .field(base: .variable(parts[0]), path: Array(parts.dropFirst()))
        }
        if w == "true" { return .literal(.bool(true)) }
        if w == "false" { return .literal(.bool(false)) }
        if w == "nil" { return .literal(.null) }
        if let f = w.first, f.isNumber || f == "-" || f == "+" {
            if let n = Int(w) { return .literal(.int(n)) }
            if let d = Double(w) { return .literal(.float(d)) }
            throw TemplateError(message: "template: \(name):\(line): bad number syntax: \"\(w)\"")
        }
        guard TemplateFunctions.names.contains(w) else {
            throw TemplateError(message: "template: \(name):\(line): function \"\(w)\" not defined")
        }
        return .function(w)
    }
}

struct TemplateExecutor {
    let name: String
    let query: ((String) throws -> [TemplateValue])?
    var vars: [(String, TemplateValue)] = []

    func err(_ line: Int, _ m: String) -> TemplateError { TemplateError(message: "template: \(name):\(line): \(m)") }

    mutating func run(_ nodes: [Template.Node], dot: TemplateValue, into out: inout String) throws {
        for n in nodes {
            switch n {
            case let .text(t): out += t
            case let .action(p, line):
                let v = try eval(p, dot: dot, line: line)
                if p.declare == nil { out += v.text }
            case let .ifNode(p, then, els, line):
                let mark = vars.count
                let v = try eval(p, dot: dot, line: line)
                try run(v.truthy ? then : els, dot: dot, into: &out)
                vars.removeLast(vars.count - mark)
            case let .withNode(p, body, els, line):
                let mark = vars.count
                let v = try eval(p, dot: dot, line: line)
                if v.truthy { try run(body, dot: v, into: &out) } else { try run(els, dot: dot, into: &out) }
                vars.removeLast(vars.count - mark)
            case let .rangeNode(p, body, els, line):
                let mark = vars.count
                let v = try eval(p, dot: dot, line: line)
                var items: [TemplateValue] = []
                switch v {
                case let .list(l): items = l
                case let .map(m): items = m.keys.sorted().map { .string(m[$0]!) }
                case let .int(n): items = (0..<max(n, 0)).map { .int($0) }
                case .null: items = []
                default: throw err(line, "range can't iterate over \(v.text)")
                }
                if items.isEmpty { try run(els, dot: dot, into: &out) }
                for item in items { try run(body, dot: item, into: &out) }
                vars.removeLast(vars.count - mark)
            }
        }
    }

    mutating func eval(_ p: Template.Pipeline, dot: TemplateValue, line: Int) throws -> TemplateValue {
        var value: TemplateValue? = nil
        for cmd in p.commands {
            value = try command(cmd, dot: dot, final: value, line: line)
        }
        let v = value ?? .null
        if let d = p.declare {
            if let idx = vars.lastIndex(where: { $0.0 == d }) {
                vars[idx].1 = v
            } else {
                vars.append((d, v))
            }
        }
        return v
    }

    mutating func command(_ ops: [Template.Operand], dot: TemplateValue, final: TemplateValue?, line: Int) throws -> TemplateValue {
        if case let .function(f) = ops[0] {
            var args: [TemplateValue] = []
            for o in ops.dropFirst() { args.append(try operand(o, dot: dot, line: line)) }
            if let final { args.append(final) }
            if f == "query" {
                guard let query else { throw err(line, "error calling query: no query function") }
                guard args.count == 1, case let .string(q) = args[0] else { throw err(line, "wrong number of args for query: want 1 got \(args.count)") }
                do { return .list(try query(q)) } catch {
                    throw err(line, "error calling query: \(error)")
                }
            }
            do { return try TemplateFunctions.call(f, args) } catch let e as TemplateError {
                throw err(line, "error calling \(f): \(e.message)")
            }
        }
        if ops.count > 1 || final != nil {
            throw err(line, "can't give argument to non-function \(ops[0])")
        }
        return try operand(ops[0], dot: dot, line: line)
    }

    mutating func operand(_ o: Template.Operand, dot: TemplateValue, line: Int) throws -> TemplateValue {
        switch o {
        case .dot: return dot
        case let .literal(v): return v
        case let .variable(v):
            guard let x = vars.last(where: { $0.0 == v }) else { throw err(line, "undefined variable: \(v)") }
            return x.1
        case let .function(f): return try command([.function(f)], dot: dot, final: nil, line: line)
        case let .sub(p): return try eval(p, dot: dot, line: line)
        case let .field(base, path):
            var v = try base.map { try operand($0, dot: dot, line: line) } ?? dot
            for f in path where !f.isEmpty { v = try field(v, f, line: line) }
            return v
        }
    }

    func field(_ v: TemplateValue, _ f: String, line: Int) throws -> TemplateValue {
        switch v {
        case let .map(m): return .string(m[f] ?? "")
        case let .data(d):
            switch f {
            case "Labels": return .map(d.labels)
            case "Value": return .float(d.value)
            case "ExternalLabels": return .map(d.externalLabels)
            case "ExternalURL": return .string(d.externalURL)
            default: throw err(line, "can't evaluate field \(f) in type *template.tmplData")
            }
        case let .sample(l, val):
            switch f {
            case "Labels": return .map(l)
            case "Value": return .float(val)
            default: throw err(line, "can't evaluate field \(f) in type *template.sample")
            }
        case .null: return .null
        default: throw err(line, "can't evaluate field \(f) in type \(v.text)")
        }
    }
}
