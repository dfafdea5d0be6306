import ArgusModel

/// Lexes and parses TraceQL (Tempo's trace query language) into a `TraceQLQuery`.
/// Errors carry the line and column of the offending token.
public struct TraceQLParser {
    enum Kind: Equatable {
        case lbrace, rbrace, lparen, rparen, pipe, comma, not
        case and, or
        case eq, ne, gt, ge, lt, le, re, nre, desc, anc, tilde
        /// Spanset operators only: `!>` `!>>` `!<` `!<<` (`!~` is `nre`) and `&>` `&>>` `&<` `&<<` `&~`.
        case notChild, notDesc, notParent, notAnc
        case unionChild, unionDesc, unionParent, unionAnc, unionSibling
        case string(String)
        case int(Int64)
        case float(Double)
        case duration(Int64)
        case word(String)
        case eof

        var text: String {
            switch self {
            case .lbrace: return "{"
            case .rbrace: return "}"
            case .lparen: return "("
            case .rparen: return ")"
            case .pipe: return "|"
            case .comma: return ","
            case .not: return "!"
            case .and: return "&&"
            case .or: return "||"
            case .eq: return "="
            case .ne: return "!="
            case .gt: return ">"
            case .ge: return ">="
            case .lt: return "<"
            case .le: return "<="
            case .re: return "=~"
            case .nre: return "!~"
            case .desc: return ">>"
            case .anc: return "<<"
            case .tilde: return "~"
            case .notChild: return "!>"
            case .notDesc: return "!>>"
            case .notParent: return "!<"
            case .notAnc: return "!<<"
            case .unionChild: return "&>"
            case .unionDesc: return "&>>"
            case .unionParent: return "&<"
            case .unionAnc: return "&<<"
            case .unionSibling: return "&~"
            case .string(let s): return JSONText.quoted(s)
            case .int(let i): return String(i)
            case .float(let f): return "\(f)"
            case .duration(let d): return TraceQLStatic.formatDuration(d)
            case .word(let w): return w
            case .eof: return "end of input"
            }
        }
    }

    struct Token {
        var kind: Kind
        var offset: Int
    }

    let query: String
    let bytes: [UInt8]
    var tokens: [Token] = []
    var pos = 0

    public static func parse(_ query: String) throws -> TraceQLQuery {
        var p = TraceQLParser(query: query)
        try p.lex()
        return try p.parseQuery()
    }

    init(query: String) {
        self.query = query
        bytes = Array(query.utf8)
    }

    func error(_ message: String, at offset: Int) -> TraceQLParseError {
        var line = 1, col = 1
        for b in bytes[0..<min(offset, bytes.count)] {
            if b == UInt8(ascii: "\n") {
                line += 1
                col = 1
            } else if b & 0xC0 != 0x80 {
                col += 1
            }
        }
        return TraceQLParseError(message: message, offset: offset, line: line, column: col, query: query)
    }

    // MARK: lexer

    static func isWordByte(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F || c == 0x2E || c == 0x3A || c == 0x2F || c >= 0x80
    }

    mutating func lex() throws {
        var i = 0
        let b = bytes
        while i < b.count {
            let c = b[i]
            if c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { i += 1; continue }
            let start = i
            func two(_ s: String) -> Bool { i + 1 < b.count && b[i] == s.utf8.first! && b[i + 1] == s.utf8.last! }
            func two3(_ s: String) -> Bool { i + 2 < b.count && b[i..<(i + 3)].elementsEqual(s.utf8) }
            var k: Kind
            switch c {
            case UInt8(ascii: "{"): k = .lbrace; i += 1
            case UInt8(ascii: "}"): k = .rbrace; i += 1
            case UInt8(ascii: "("): k = .lparen; i += 1
            case UInt8(ascii: ")"): k = .rparen; i += 1
            case UInt8(ascii: ","): k = .comma; i += 1
            case UInt8(ascii: "~"): k = .tilde; i += 1
            case UInt8(ascii: "|"):
                if two("||") { k = .or; i += 2 } else { k = .pipe; i += 1 }
            case UInt8(ascii: "&"):
                if two("&&") { k = .and; i += 2 } else if two("&>") {
                    if two3("&>>") { k = .unionDesc; i += 3 } else { k = .unionChild; i += 2 }
                } else if two("&<") {
                    if two3("&<<") { k = .unionAnc; i += 3 } else { k = .unionParent; i += 2 }
                } else if two("&~") { k = .unionSibling; i += 2 } else {
                    throw error("syntax error: unexpected \"&\", expected \"&&\" or a structural operator (&>, &>>, &<, &<<, &~)", at: i)
                }
            case UInt8(ascii: "="):
                if two("=~") { k = .re; i += 2 } else { k = .eq; i += 1 }
            case UInt8(ascii: "!"):
                if two("!=") { k = .ne; i += 2 } else if two("!~") { k = .nre; i += 2 } else if two("!>") {
                    if two3("!>>") { k = .notDesc; i += 3 } else { k = .notChild; i += 2 }
                } else if two("!<") {
                    if two3("!<<") { k = .notAnc; i += 3 } else { k = .notParent; i += 2 }
                } else { k = .not; i += 1 }
            case UInt8(ascii: ">"):
                if two(">=") { k = .ge; i += 2 } else if two(">>") { k = .desc; i += 2 } else { k = .gt; i += 1 }
            case UInt8(ascii: "<"):
                if two("<=") { k = .le; i += 2 } else if two("<<") { k = .anc; i += 2 } else { k = .lt; i += 1 }
            case UInt8(ascii: "\""), UInt8(ascii: "`"):
                k = .string(try lexString(&i))
            case UInt8(ascii: "-"), 0x30...0x39:
                if c == UInt8(ascii: "-") && !(i + 1 < b.count && b[i + 1] >= 0x30 && b[i + 1] <= 0x39) {
                    throw error("syntax error: unexpected \"-\"", at: i)
                }
                k = try lexNumber(&i)
            default:
                if c == UInt8(ascii: ".") || TraceQLParser.isWordByte(c) {
                    var j = i
                    while j < b.count {
                        if TraceQLParser.isWordByte(b[j]) {
                            j += 1
                        } else if b[j] == UInt8(ascii: "\""), j > i, b[j - 1] == UInt8(ascii: ".") {
                            // A quoted attribute name: span."name with spaces".
                            var q = j
                            let s = try lexString(&q)
                            let prefix = String(decoding: b[i..<j], as: UTF8.self)
                            tokens.append(Token(kind: .word(prefix + s), offset: start))
                            i = q
                            j = -1
                            break
                        } else {
                            break
                        }
                    }
                    if j < 0 { continue }
                    k = .word(String(decoding: b[i..<j], as: UTF8.self))
                    i = j
                } else {
                    throw error("syntax error: unexpected character \"\(String(decoding: [c], as: UTF8.self))\"", at: i)
                }
            }
            tokens.append(Token(kind: k, offset: start))
        }
        tokens.append(Token(kind: .eof, offset: b.count))
    }

    func lexString(_ i: inout Int) throws -> String {
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
            if c == UInt8(ascii: "\\") && quote == UInt8(ascii: "\"") && i + 1 < bytes.count {
                let n = bytes[i + 1]
                switch n {
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "\\"), UInt8(ascii: "\""): out.append(n)
                default:
                    out.append(UInt8(ascii: "\\"))
                    out.append(n)
                }
                i += 2
                continue
            }
            out.append(c)
            i += 1
        }
        throw error("syntax error: unterminated string", at: start)
    }

    func lexNumber(_ i: inout Int) throws -> Kind {
        let start = i
        var j = i
        if bytes[j] == UInt8(ascii: "-") { j += 1 }
        while j < bytes.count, (bytes[j] >= 0x30 && bytes[j] <= 0x39) || bytes[j] == UInt8(ascii: ".") || bytes[j] == UInt8(ascii: "e") && j + 1 < bytes.count && (bytes[j + 1] >= 0x30 && bytes[j + 1] <= 0x39 || bytes[j + 1] == UInt8(ascii: "-")) {
            if bytes[j] == UInt8(ascii: "e") { j += 1 }
            j += 1
        }
        let num = String(decoding: bytes[start..<j], as: UTF8.self)
        // A duration: number followed by a unit, possibly several (1h30m).
        var u = j
        while u < bytes.count, (bytes[u] >= 0x61 && bytes[u] <= 0x7A) || bytes[u] >= 0x80 { u += 1 }
        if u > j {
            var k = start
            var total: Double = 0
            while k < bytes.count {
                var e = k
                if bytes[e] == UInt8(ascii: "-") { e += 1 }
                while e < bytes.count, (bytes[e] >= 0x30 && bytes[e] <= 0x39) || bytes[e] == UInt8(ascii: ".") { e += 1 }
                guard e > k, let n = Double(String(decoding: bytes[k..<e], as: UTF8.self)) else { break }
                var f = e
                while f < bytes.count, (bytes[f] >= 0x61 && bytes[f] <= 0x7A) || bytes[f] >= 0x80 { f += 1 }
                let unit = String(decoding: bytes[e..<f], as: UTF8.self)
                let scale: Double
                switch unit {
                case "ns": scale = 1
                case "us", "µs": scale = 1e3
                case "ms": scale = 1e6
                case "s": scale = 1e9
                case "m": scale = 60e9
                case "h": scale = 3600e9
                case "d": scale = 86400e9
                default: throw error("syntax error: invalid duration unit \"\(unit)\" (use ns, us, ms, s, m, h or d)", at: e)
                }
                total += n * scale
                k = f
                if k >= bytes.count || !(bytes[k] >= 0x30 && bytes[k] <= 0x39) { break }
            }
            i = k
            return .duration(Int64(total.rounded()))
        }
        i = j
        if let v = Int64(num) { return .int(v) }
        if let v = Double(num) { return .float(v) }
        throw error("syntax error: invalid number \"\(num)\"", at: start)
    }

    // MARK: parser

    var peek: Kind { tokens[pos].kind }
    var offset: Int { tokens[pos].offset }

    mutating func next() -> Token {
        let t = tokens[pos]
        if pos < tokens.count - 1 { pos += 1 }
        return t
    }

    func unexpected() -> TraceQLParseError {
        error("syntax error: unexpected \(peek.text)", at: offset)
    }

    mutating func expect(_ k: Kind) throws {
        guard peek == k else { throw error("syntax error: unexpected \(peek.text), expecting \(k.text)", at: offset) }
        _ = next()
    }

    mutating func parseQuery() throws -> TraceQLQuery {
        let spanset = try parseSpansetOr()
        var stages: [TraceQLStage] = []
        while peek == .pipe {
            _ = next()
            stages.append(try parseStage())
        }
        guard peek == .eof else { throw unexpected() }
        return TraceQLQuery(spanset: spanset, stages: stages)
    }

    mutating func parseSpansetOr() throws -> TraceQLSpansetExpr {
        var l = try parseSpansetAnd()
        while peek == .or {
            _ = next()
            l = .binary(.or, l, try parseSpansetAnd())
        }
        return l
    }

    mutating func parseSpansetAnd() throws -> TraceQLSpansetExpr {
        var l = try parseSpansetStructural()
        while peek == .and {
            _ = next()
            l = .binary(.and, l, try parseSpansetStructural())
        }
        return l
    }

    mutating func parseSpansetStructural() throws -> TraceQLSpansetExpr {
        var l = try parseSpansetPrimary()
        while true {
            let op: TraceQLSpansetOp
            switch peek {
            case .gt: op = .child
            case .desc: op = .descendant
            case .lt: op = .parent
            case .anc: op = .ancestor
            case .tilde: op = .sibling
            case .notChild: op = .notChild
            case .notDesc: op = .notDescendant
            case .notParent: op = .notParent
            case .notAnc: op = .notAncestor
            case .nre: op = .notSibling
            case .unionChild: op = .unionChild
            case .unionDesc: op = .unionDescendant
            case .unionParent: op = .unionParent
            case .unionAnc: op = .unionAncestor
            case .unionSibling: op = .unionSibling
            default: return l
            }
            _ = next()
            l = .binary(op, l, try parseSpansetPrimary())
        }
    }

    mutating func parseSpansetPrimary() throws -> TraceQLSpansetExpr {
        switch peek {
        case .lbrace:
            _ = next()
            if peek == .rbrace {
                _ = next()
                return .filter(nil)
            }
            let e = try parseFieldOr()
            try expect(.rbrace)
            return .filter(e)
        case .lparen:
            _ = next()
            let e = try parseSpansetOr()
            try expect(.rparen)
            return e
        default:
            throw error("syntax error: unexpected \(peek.text), expecting { or (", at: offset)
        }
    }

    mutating func parseFieldOr() throws -> TraceQLFieldExpr {
        var l = try parseFieldAnd()
        while peek == .or {
            _ = next()
            l = .or(l, try parseFieldAnd())
        }
        return l
    }

    mutating func parseFieldAnd() throws -> TraceQLFieldExpr {
        var l = try parseFieldUnary()
        while peek == .and {
            _ = next()
            l = .and(l, try parseFieldUnary())
        }
        return l
    }

    mutating func parseFieldUnary() throws -> TraceQLFieldExpr {
        if peek == .not {
            _ = next()
            return .not(try parseFieldUnary())
        }
        if peek == .lparen {
            _ = next()
            let e = try parseFieldOr()
            try expect(.rparen)
            return e
        }
        let lOffset = offset
        let l = try parseOperand()
        let op: TraceQLCompareOp
        switch peek {
        case .eq: op = .eq
        case .ne: op = .ne
        case .gt: op = .gt
        case .ge: op = .ge
        case .lt: op = .lt
        case .le: op = .le
        case .re: op = .re
        case .nre: op = .nre
        default:
            if case .literal(let s) = l, case .bool = s { return .operand(l) }
            if case .attribute = l { return .operand(l) }
            throw error("syntax error: unexpected \(peek.text), expecting a comparison operator", at: offset)
        }
        _ = next()
        let rOffset = offset
        let r = try parseOperand()
        try check(l, op, r, at: lOffset, rOffset)
        return .compare(l, op, r)
    }

    /// Rejects comparisons whose types can never match (Tempo refuses them too).
    func check(_ l: TraceQLOperand, _ op: TraceQLCompareOp, _ r: TraceQLOperand, at lOffset: Int, _ rOffset: Int) throws {
        guard case .attribute(let a) = l, a.scope == .intrinsic, let i = a.intrinsic, case .literal(let v) = r else {
            if (op == .re || op == .nre), case .literal(let v) = r {
                guard case .string = v else { throw error("syntax error: \(op.rawValue) needs a string (a regular expression) on its right", at: rOffset) }
            }
            return
        }
        if case .nil = v { return }
        func bad(_ want: String) -> TraceQLParseError {
            error("invalid comparison: \(a) is \(want), not \(v)", at: rOffset)
        }
        switch i {
        case .duration, .traceDuration, .eventTimeSinceStart:
            guard case .duration = v else { throw bad("a duration") }
        case .status:
            guard case .status = v, op == .eq || op == .ne else { throw bad("a status (error, ok, unset) compared with = or !=") }
        case .kind:
            guard case .kind = v, op == .eq || op == .ne else { throw bad("a span kind (server, client, producer, consumer, internal, unspecified) compared with = or !=") }
        case .name, .statusMessage, .rootService, .rootName, .spanID, .parentID, .traceID, .eventName, .linkTraceID, .linkSpanID:
            guard case .string = v else { throw bad("a string") }
        }
        if op == .re || op == .nre, case .string = v {} else if op == .re || op == .nre { throw bad("a string") }
    }

    static let kinds: [String: SpanKind] = Dictionary(uniqueKeysWithValues: SpanKind.allCases.map { ($0.traceQLName, $0) })
    static let statuses: [String: SpanStatus] = Dictionary(uniqueKeysWithValues: SpanStatus.allCases.map { ($0.traceQLName, $0) })

    mutating func parseOperand() throws -> TraceQLOperand {
        let t = next()
        switch t.kind {
        case .string(let s): return .literal(.string(s))
        case .int(let i): return .literal(.int(i))
        case .float(let f): return .literal(.float(f))
        case .duration(let d): return .literal(.duration(d))
        case .word(let w):
            switch w {
            case "true": return .literal(.bool(true))
            case "false": return .literal(.bool(false))
            case "nil": return .literal(.nil)
            default: break
            }
            if let s = TraceQLParser.statuses[w] { return .literal(.status(s)) }
            if let k = TraceQLParser.kinds[w] { return .literal(.kind(k)) }
            return .attribute(try attribute(w, at: t.offset))
        default:
            pos -= 1
            throw error("syntax error: unexpected \(t.kind.text), expecting an attribute or a value", at: t.offset)
        }
    }

    func attribute(_ w: String, at off: Int) throws -> TraceQLAttribute {
        if let i = TraceQLIntrinsic.spellings[w] { return TraceQLAttribute(scope: .intrinsic, name: w, intrinsic: i) }
        func strip(_ s: String) -> String {
            s.count >= 2 && s.hasPrefix("\"") && s.hasSuffix("\"") ? String(s.dropFirst().dropLast()) : s
        }
        if w.hasPrefix("span.") && w.count > 5 { return TraceQLAttribute(scope: .span, name: strip(String(w.dropFirst(5)))) }
        if w.hasPrefix("resource.") && w.count > 9 { return TraceQLAttribute(scope: .resource, name: strip(String(w.dropFirst(9)))) }
        if w.hasPrefix("event.") && w.count > 6 { return TraceQLAttribute(scope: .event, name: strip(String(w.dropFirst(6)))) }
        if w.hasPrefix("link.") && w.count > 5 { return TraceQLAttribute(scope: .link, name: strip(String(w.dropFirst(5)))) }
        if w.hasPrefix(".") && w.count > 1 { return TraceQLAttribute(scope: .unscoped, name: strip(String(w.dropFirst()))) }
        if w.contains(":") {
            throw error("syntax error: unknown intrinsic \(w) (known: \(TraceQLIntrinsic.spellings.keys.sorted().joined(separator: ", ")))", at: off)
        }
        throw error("syntax error: unexpected IDENTIFIER \(w): attributes need a scope (span.\(w), resource.\(w), event.\(w), link.\(w) or .\(w))", at: off)
    }

    mutating func parseAttributeList() throws -> [TraceQLAttribute] {
        try expect(.lparen)
        var out: [TraceQLAttribute] = []
        while true {
            let t = next()
            guard case .word(let w) = t.kind else {
                pos -= 1
                throw error("syntax error: unexpected \(t.kind.text), expecting an attribute", at: t.offset)
            }
            out.append(try attribute(w, at: t.offset))
            if peek == .comma {
                _ = next()
                continue
            }
            try expect(.rparen)
            return out
        }
    }

    mutating func parseStage() throws -> TraceQLStage {
        if peek == .lbrace || peek == .lparen { return .filter(try parseSpansetOr()) }
        let t = next()
        guard case .word(let w) = t.kind else {
            pos -= 1
            throw error("syntax error: unexpected \(t.kind.text), expecting a pipeline stage", at: t.offset)
        }
        switch w {
        case "by": return .by(try parseAttributeList())
        case "select": return .select(try parseAttributeList())
        case "count", "avg", "min", "max", "sum":
            let f = TraceQLAggregate(rawValue: w)!
            var arg: TraceQLAttribute?
            if f == .count {
                try expect(.lparen)
                try expect(.rparen)
            } else {
                let a = try parseAttributeList()
                guard a.count == 1 else { throw error("syntax error: \(w)() takes one attribute", at: t.offset) }
                arg = a[0]
            }
            let op: TraceQLCompareOp
            switch peek {
            case .eq: op = .eq
            case .ne: op = .ne
            case .gt: op = .gt
            case .ge: op = .ge
            case .lt: op = .lt
            case .le: op = .le
            default: throw error("syntax error: unexpected \(peek.text), expecting a comparison after \(w)()", at: offset)
            }
            _ = next()
            let vt = next()
            let v: TraceQLStatic
            switch vt.kind {
            case .int(let i): v = .int(i)
            case .float(let x): v = .float(x)
            case .duration(let d): v = .duration(d)
            default:
                pos -= 1
                throw error("syntax error: unexpected \(vt.kind.text), expecting a number or a duration", at: vt.offset)
            }
            return .aggregate(f, arg, op, v)
        default:
            throw error("syntax error: unexpected IDENTIFIER \(w), expecting a pipeline stage (count, avg, min, max, sum, by, select or a spanset)", at: t.offset)
        }
    }
}
