import ArgusModel

/// A recursive-descent LogQL parser. Errors carry line and column as Loki prints them.
struct LogQLParser {
    let lexer: LogQLLexer
    var toks: [LogQLToken]
    var i = 0

    static let rangeOps: Set<String> = [
        "count_over_time", "rate", "bytes_over_time", "bytes_rate", "absent_over_time",
        "sum_over_time", "avg_over_time", "min_over_time", "max_over_time", "stddev_over_time",
        "stdvar_over_time", "quantile_over_time", "first_over_time", "last_over_time", "rate_counter",
    ]
    static let unwrapOps: Set<String> = [
        "sum_over_time", "avg_over_time", "min_over_time", "max_over_time", "stddev_over_time",
        "stdvar_over_time", "quantile_over_time", "first_over_time", "last_over_time", "rate_counter",
    ]
    static let vectorOps: Set<String> = ["sum", "avg", "min", "max", "count", "stddev", "stdvar", "topk", "bottomk", "sort", "sort_desc"]

    init(_ q: String) throws {
        lexer = LogQLLexer(q)
        toks = try lexer.tokenize()
    }

    /// Parses a whole query.
    static func parse(_ q: String) throws -> LogQLQuery {
        var p = try LogQLParser(q)
        if p.toks.count == 1 { throw p.lexer.error("syntax error: unexpected $end", at: 0) }
        let query: LogQLQuery
        if p.peek.kind == .symbol && p.peek.text == "{" {
            query = .logs(try p.parseLogExpr(allowUnwrap: false))
        } else {
            query = .metric(try p.parseMetric(0))
        }
        guard p.peek.kind == .end else { throw p.unexpected() }
        return query
    }

    // MARK: tokens

    var peek: LogQLToken { toks[i] }
    func peek(_ k: Int) -> LogQLToken { toks[min(i + k, toks.count - 1)] }

    mutating func next() -> LogQLToken {
        let t = toks[i]
        if i < toks.count - 1 { i += 1 }
        return t
    }

    func isSymbol(_ s: String) -> Bool { peek.kind == .symbol && peek.text == s }
    func isIdent(_ s: String) -> Bool { peek.kind == .identifier && peek.text == s }

    func unexpected(expecting: String? = nil) -> LogQLParseError {
        var m = "syntax error: unexpected \(peek.yaccName)"
        if let expecting { m += ", expecting \(expecting)" }
        return lexer.error(m, at: peek.pos)
    }

    func fail(_ message: String, at pos: Int? = nil) -> LogQLParseError {
        lexer.error(message, at: pos ?? peek.pos)
    }

    mutating func expectSymbol(_ s: String) throws {
        guard isSymbol(s) else { throw unexpected(expecting: s) }
        _ = next()
    }

    mutating func expect(_ kind: LogQLToken.Kind, _ name: String) throws -> LogQLToken {
        guard peek.kind == kind else { throw unexpected(expecting: name) }
        return next()
    }

    // MARK: log expressions

    mutating func parseSelector() throws -> [Matcher] {
        let open = peek.pos
        try expectSymbol("{")
        var ms: [Matcher] = []
        while !isSymbol("}") {
            let name = try expect(.identifier, "IDENTIFIER")
            guard peek.kind == .symbol, ["=", "!=", "=~", "!~"].contains(peek.text) else { throw unexpected(expecting: "= or != or =~ or !~") }
            let op = next().text
            let value = try expect(.string, "STRING")
            do {
                ms.append(try Matcher(Matcher.Kind(rawValue: op)!, name.text, value.text))
            } catch let e as ArgusError {
                throw fail("syntax error: \(e.message)", at: value.pos)
            }
            if isSymbol(",") { _ = next(); continue }
            guard isSymbol("}") else { throw unexpected(expecting: ", or }") }
        }
        _ = next()
        if ms.isEmpty || ms.allSatisfy({ $0.matchesEmpty }) {
            throw fail("queries require at least one regexp or equality matcher that does not have an empty-compatible value. For instance, app=~\".*\" does not meet this requirement, but app=~\".+\" will", at: open)
        }
        return ms
    }

    mutating func parseLogExpr(allowUnwrap: Bool) throws -> LogQLLogExpr {
        let ms = try parseSelector()
        return LogQLLogExpr(matchers: ms, stages: try parsePipeline(allowUnwrap: allowUnwrap))
    }

    mutating func parsePipeline(allowUnwrap: Bool) throws -> [LogQLStage] {
        var stages: [LogQLStage] = []
        while true {
            if peek.kind == .symbol, let op = LogQLLineFilterOp(rawValue: peek.text) {
                _ = next()
                var needles = [try expect(.string, "STRING").text]
                while isIdent("or") && peek(1).kind == .string {
                    _ = next()
                    needles.append(next().text)
                }
                var regexes: [LogQLRegex] = []
                if op == .regex || op == .notRegex {
                    for n in needles {
                        do { regexes.append(try LogQLRegex(n)) } catch let e as ArgusError { throw fail("syntax error: \(e.message)", at: toks[i - 1].pos) }
                    }
                }
                if op == .pattern || op == .notPattern {
                    for n in needles {
                        do { _ = try LogQLLinePattern(n) } catch let e as ArgusError { throw fail("syntax error: \(e.message)", at: toks[i - 1].pos) }
                    }
                }
                stages.append(.lineFilter(op: op, needles: needles, regexes: regexes))
                continue
            }
            guard isSymbol("|") else { break }
            _ = next()
            let t = peek
            guard t.kind == .identifier || isSymbol("(") else { throw unexpected(expecting: "IDENTIFIER") }
            if t.kind == .identifier && !(peek(1).kind == .symbol && ["=", "!=", "=~", "!~", "==", ">", ">=", "<", "<="].contains(peek(1).text)) {
                switch t.text {
                case "json":
                    _ = next()
                    var params: [(String, String)] = []
                    while peek.kind == .identifier && peek(1).kind == .symbol && peek(1).text == "=" {
                        let l = next().text
                        _ = next()
                        params.append((l, try expect(.string, "STRING").text))
                        if isSymbol(",") { _ = next() } else { break }
                    }
                    stages.append(.json(params: params))
                case "logfmt":
                    _ = next()
                    var strict = false, keepEmpty = false
                    while isSymbol("-") && peek(1).kind == .symbol && peek(1).text == "-" {
                        _ = next(); _ = next()
                        let f = try expect(.identifier, "IDENTIFIER")
                        switch f.text {
                        case "strict": strict = true
                        case "keep-empty", "keep": keepEmpty = true
                            if isSymbol("-") { _ = next(); _ = try expect(.identifier, "IDENTIFIER") }
                        default: throw fail("syntax error: unknown logfmt flag --\(f.text)", at: f.pos)
                        }
                    }
                    var params: [(String, String)] = []
                    while peek.kind == .identifier && peek(1).kind == .symbol && peek(1).text == "=" {
                        let l = next().text
                        _ = next()
                        params.append((l, try expect(.string, "STRING").text))
                        if isSymbol(",") { _ = next() } else { break }
                    }
                    stages.append(.logfmt(params: params, strict: strict, keepEmpty: keepEmpty))
                case "regexp":
                    _ = next()
                    let s = try expect(.string, "STRING")
                    do {
                        let r = try LogQLRegex(s.text)
                        if r.names.isEmpty { throw ArgusError(.badInput, "at least one named capture must be supplied") }
                        stages.append(.regexp(r))
                    } catch let e as ArgusError { throw fail("syntax error: invalid regexp \(e.message)", at: s.pos) }
                case "pattern":
                    _ = next()
                    let s = try expect(.string, "STRING")
                    do { stages.append(.pattern(try LogQLPattern(s.text))) } catch let e as ArgusError { throw fail("syntax error: \(e.message)", at: s.pos) }
                case "unpack":
                    _ = next()
                    stages.append(.unpack)
                case "decolorize":
                    _ = next()
                    stages.append(.decolorize)
                case "line_format":
                    _ = next()
                    let s = try expect(.string, "STRING")
                    do { stages.append(.lineFormat(try LogQLTemplate(s.text))) } catch let e as ArgusError { throw fail("syntax error: \(e.message)", at: s.pos) }
                case "label_format":
                    _ = next()
                    var items: [(String, String?, LogQLTemplate?)] = []
                    repeat {
                        if isSymbol(",") { _ = next() }
                        let dst = try expect(.identifier, "IDENTIFIER")
                        try expectSymbol("=")
                        if peek.kind == .identifier {
                            items.append((dst.text, next().text, nil))
                        } else {
                            let s = try expect(.string, "STRING or IDENTIFIER")
                            do { items.append((dst.text, nil, try LogQLTemplate(s.text))) } catch let e as ArgusError { throw fail("syntax error: \(e.message)", at: s.pos) }
                        }
                    } while isSymbol(",")
                    stages.append(.labelFormat(items))
                case "drop", "keep":
                    let kw = next().text
                    var items: [LogQLDropKeep] = []
                    repeat {
                        if isSymbol(",") { _ = next() }
                        let name = try expect(.identifier, "IDENTIFIER")
                        var m: Matcher?
                        if peek.kind == .symbol, let k = Matcher.Kind(rawValue: peek.text) {
                            _ = next()
                            let v = try expect(.string, "STRING")
                            m = try? Matcher(k, name.text, v.text)
                        }
                        items.append(LogQLDropKeep(name: name.text, matcher: m))
                    } while isSymbol(",")
                    stages.append(kw == "drop" ? .drop(items) : .keep(items))
                case "unwrap":
                    let u = next()
                    guard allowUnwrap else { throw fail("syntax error: unexpected unwrap outside a range aggregation", at: u.pos) }
                    var conv = ""
                    var label = try expect(.identifier, "IDENTIFIER")
                    if isSymbol("(") {
                        guard ["duration", "duration_seconds", "bytes"].contains(label.text) else {
                            throw fail("syntax error: unknown unwrap conversion \(label.text) (use duration, duration_seconds or bytes)", at: label.pos)
                        }
                        conv = label.text
                        _ = next()
                        label = try expect(.identifier, "IDENTIFIER")
                        try expectSymbol(")")
                    }
                    stages.append(.unwrap(label: label.text, conversion: conv))
                default:
                    throw unexpected(expecting: "a parser (json, logfmt, regexp, pattern, unpack), a formatter (line_format, label_format), drop, keep, decolorize or a label filter")
                }
                continue
            }
            stages.append(.labelFilter(try parseLabelFilterOr()))
        }
        return stages
    }

    mutating func parseLabelFilterOr() throws -> LogQLLabelFilter {
        var l = try parseLabelFilterAnd()
        while isIdent("or") && peek(1).kind != .string {
            _ = next()
            l = .or(l, try parseLabelFilterAnd())
        }
        return l
    }

    mutating func parseLabelFilterAnd() throws -> LogQLLabelFilter {
        var l = try parseLabelFilterPrimary()
        while isIdent("and") || (isSymbol(",") && peek(1).kind == .identifier) {
            _ = next()
            l = .and(l, try parseLabelFilterPrimary())
        }
        return l
    }

    mutating func parseLabelFilterPrimary() throws -> LogQLLabelFilter {
        if isSymbol("(") {
            _ = next()
            let f = try parseLabelFilterOr()
            try expectSymbol(")")
            return f
        }
        let name = try expect(.identifier, "IDENTIFIER")
        guard peek.kind == .symbol, let op = LogQLCompareOp(rawValue: peek.text) else {
            throw unexpected(expecting: "a comparison operator")
        }
        _ = next()
        let v = peek
        switch v.kind {
        case .string:
            _ = next()
            guard [.eq, .eqeq, .ne, .re, .nre].contains(op) else { throw fail("syntax error: unexpected STRING, expecting NUMBER or DURATION or BYTES", at: v.pos) }
            var re: AnchoredRegex?
            if op == .re || op == .nre {
                do { re = try AnchoredRegex(v.text) } catch let e as ArgusError { throw fail("syntax error: \(e.message)", at: v.pos) }
            }
            return .string(name: name.text, op: op == .eqeq ? .eq : op, value: v.text, regex: re)
        case .number:
            _ = next()
            guard op != .re && op != .nre else { throw fail("syntax error: unexpected NUMBER, expecting STRING", at: v.pos) }
            guard let d = Double(v.text) else { throw fail("syntax error: invalid number \(v.text)", at: v.pos) }
            return .number(name: name.text, op: op, value: d)
        case .duration:
            _ = next()
            guard op != .re && op != .nre else { throw fail("syntax error: unexpected DURATION, expecting STRING", at: v.pos) }
            return .duration(name: name.text, op: op, seconds: Double(LogQLDuration.parseNanos(v.text)!) / 1e9)
        case .bytes:
            _ = next()
            guard op != .re && op != .nre else { throw fail("syntax error: unexpected BYTES, expecting STRING", at: v.pos) }
            return .bytes(name: name.text, op: op, value: LogQLBytes.parse(v.text)!)
        default:
            throw unexpected(expecting: "STRING or NUMBER or DURATION or BYTES")
        }
    }

    // MARK: metric expressions

    static func precedence(_ op: String) -> Int {
        switch op {
        case "or": return 1
        case "and", "unless": return 2
        case "==", "!=", "<=", "<", ">=", ">": return 3
        case "+", "-": return 4
        case "*", "/", "%": return 5
        case "^": return 6
        default: return 0
        }
    }

    var binaryOp: String? {
        if peek.kind == .symbol && LogQLParser.precedence(peek.text) > 0 { return peek.text }
        if peek.kind == .identifier && ["or", "and", "unless"].contains(peek.text) { return peek.text }
        return nil
    }

    mutating func parseMetric(_ minPrec: Int) throws -> LogQLMetricExpr {
        var lhs = try parseUnary()
        while let op = binaryOp, LogQLParser.precedence(op) > minPrec || (op == "^" && LogQLParser.precedence(op) >= minPrec && minPrec == 6) {
            _ = next()
            var isBool = false
            if isIdent("bool") {
                isBool = true
                _ = next()
            }
            var matching: LogQLVectorMatching?
            if isIdent("on") || isIdent("ignoring") {
                let on = next().text == "on"
                let labels = try parseLabelList()
                var m = LogQLVectorMatching(on: on, labels: labels, group: nil, include: [])
                if isIdent("group_left") || isIdent("group_right") {
                    m.group = next().text
                    if isSymbol("(") { m.include = try parseLabelList() }
                }
                matching = m
            }
            let prec = LogQLParser.precedence(op)
            let rhs = try parseMetric(op == "^" ? prec - 1 : prec)
            lhs = .binary(op: op, bool: isBool, matching: matching, lhs: lhs, rhs: rhs)
        }
        return lhs
    }

    mutating func parseLabelList() throws -> [String] {
        try expectSymbol("(")
        var out: [String] = []
        while !isSymbol(")") {
            out.append(try expect(.identifier, "IDENTIFIER").text)
            if isSymbol(",") { _ = next() } else { break }
        }
        try expectSymbol(")")
        return out
    }

    mutating func parseUnary() throws -> LogQLMetricExpr {
        if isSymbol("-") || isSymbol("+") {
            let neg = next().text == "-"
            let e = try parseUnary()
            if case .number(let v) = e { return .number(neg ? -v : v) }
            return neg ? .binary(op: "*", bool: false, matching: nil, lhs: .number(-1), rhs: e) : e
        }
        return try parsePrimary()
    }

    mutating func parsePrimary() throws -> LogQLMetricExpr {
        let t = peek
        switch t.kind {
        case .number:
            _ = next()
            guard let v = Double(t.text) else { throw fail("syntax error: invalid number \(t.text)", at: t.pos) }
            return .number(v)
        case .symbol where t.text == "(":
            _ = next()
            let e = try parseMetric(0)
            try expectSymbol(")")
            return .paren(e)
        case .identifier where LogQLParser.rangeOps.contains(t.text):
            return .range(try parseRangeAggregation())
        case .identifier where LogQLParser.vectorOps.contains(t.text):
            return try parseVectorAggregation()
        case .identifier where t.text == "vector":
            _ = next()
            try expectSymbol("(")
            let n = try expect(.number, "NUMBER")
            try expectSymbol(")")
            return .vector(Double(n.text) ?? 0)
        case .identifier where t.text == "label_replace":
            _ = next()
            try expectSymbol("(")
            let e = try parseMetric(0)
            var args: [String] = []
            for _ in 0..<4 {
                try expectSymbol(",")
                args.append(try expect(.string, "STRING").text)
            }
            try expectSymbol(")")
            return .labelReplace(e, dst: args[0], replacement: args[1], src: args[2], regex: args[3])
        case .symbol where t.text == "{":
            throw fail("syntax error: unexpected {, a log query cannot be combined with a metric query (wrap it in a range aggregation such as count_over_time({…}[5m]))", at: t.pos)
        default:
            throw unexpected()
        }
    }

    mutating func parseGrouping() throws -> ([String], Bool)? {
        guard isIdent("by") || isIdent("without") else { return nil }
        let without = next().text == "without"
        return (try parseLabelList(), without)
    }

    mutating func parseRangeAggregation() throws -> LogQLRangeAggregation {
        let opTok = next()
        let op = opTok.text
        try expectSymbol("(")
        var param: Double?
        if op == "quantile_over_time" {
            let n = try expect(.number, "NUMBER")
            param = Double(n.text)
            try expectSymbol(",")
        }
        let unwrapAllowed = LogQLParser.unwrapOps.contains(op)
        var log: LogQLLogExpr
        var range: Int64
        if isSymbol("(") {
            _ = next()
            log = try parseLogExpr(allowUnwrap: unwrapAllowed)
            try expectSymbol(")")
            range = try parseRange()
        } else {
            let ms = try parseSelector()
            if isSymbol("[") {
                range = try parseRange()
                log = LogQLLogExpr(matchers: ms, stages: try parsePipeline(allowUnwrap: unwrapAllowed))
            } else {
                log = LogQLLogExpr(matchers: ms, stages: try parsePipeline(allowUnwrap: unwrapAllowed))
                range = try parseRange()
            }
        }
        var offset: Int64 = 0
        if isIdent("offset") {
            _ = next()
            let d = try expect(.duration, "DURATION")
            offset = LogQLDuration.parseNanos(d.text)!
        }
        try expectSymbol(")")
        var agg = LogQLRangeAggregation(op: op, log: log, range: range, offset: offset, param: param, grouping: nil, without: false)
        if let (g, w) = try parseGrouping() {
            guard unwrapAllowed else { throw fail("syntax error: grouping is only allowed on unwrapped range aggregations", at: toks[i - 1].pos) }
            agg.grouping = g
            agg.without = w
        }
        if unwrapAllowed && agg.unwrap == nil {
            throw fail("invalid aggregation \(op) without unwrap", at: opTok.pos)
        }
        if !unwrapAllowed && agg.unwrap != nil {
            throw fail("invalid aggregation \(op) with unwrap", at: opTok.pos)
        }
        return agg
    }

    mutating func parseRange() throws -> Int64 {
        try expectSymbol("[")
        let d = try expect(.duration, "DURATION")
        try expectSymbol("]")
        let ns = LogQLDuration.parseNanos(d.text)!
        guard ns > 0 else { throw fail("syntax error: range must be positive", at: d.pos) }
        return ns
    }

    mutating func parseVectorAggregation() throws -> LogQLMetricExpr {
        let op = next().text
        var grouping = try parseGrouping()
        try expectSymbol("(")
        var param: LogQLMetricExpr?
        if op == "topk" || op == "bottomk" {
            let n = try expect(.number, "NUMBER")
            param = .number(Double(n.text) ?? 0)
            try expectSymbol(",")
        }
        let e = try parseMetric(0)
        try expectSymbol(")")
        if grouping == nil { grouping = try parseGrouping() }
        if (op == "sort" || op == "sort_desc") && grouping != nil {
            throw fail("syntax error: \(op) does not take a grouping")
        }
        return .aggregate(op: op, grouping: grouping?.0, without: grouping?.1 ?? false, param: param, expr: e)
    }
}
