import ArgusModel

/// Parses PromQL queries into `Expr` trees with Prometheus 3 semantics.
///
/// A precedence-climbing recursive-descent parser over `PromQLLexer` tokens, read lazily one token
/// ahead so that errors come out in the order Prometheus' yacc parser reports them. Precedence, from
/// loosest: `or`; `and unless`; comparisons; `+ -`; `* / % atan2`; `^` (right-associative). A unary
/// sign binds like `*` (so `-1^2` is `-(1^2)`), and `[...]`, `offset` and `@` bind tightest.
/// After parsing, `PromQLTypeChecker` checks types. Errors are `PromQLParseError`s.
public enum PromQLParser {
    /// The deepest nesting of parentheses, arguments and operands a query may have.
    public static let maxNesting = 500

    /// Parses and type-checks a query.
    public static func parse(_ query: String) throws -> Expr {
        var parser = State(query: query)
        let expr = try parser.parseQuery()
        var checker = PromQLTypeChecker(query: query)
        return try checker.check(expr)
    }

    struct State {
        let query: String
        var lexer: PromQLLexer
        var lookahead: PromQLToken?
        /// The end of the last consumed token.
        var lastEnd = 0
        /// > 0 while inside an aggregation's arguments, where Prometheus reports syntax errors "in aggregation".
        var aggregationDepth = 0
        /// How many sub-expressions enclose the one being parsed (parentheses, arguments, operands).
        var nesting = 0

        init(query: String) {
            self.query = query
            self.lexer = PromQLLexer(query)
        }

        // MARK: Tokens

        mutating func peek() throws -> PromQLToken {
            if let token = lookahead { return token }
            let token = try lexer.next()
            lookahead = token
            return token
        }

        @discardableResult
        mutating func consume() -> PromQLToken {
            let token = lookahead!
            lookahead = nil
            lastEnd = token.end
            return token
        }

        func error(_ message: String, _ range: PromQLPositionRange) -> PromQLParseError {
            PromQLParseError(message: message, positionRange: range, query: query)
        }

        func unexpected(_ token: PromQLToken, in context: String, expected: String) -> PromQLParseError {
            var message = "unexpected " + token.errorDescription
            if !context.isEmpty { message += " in " + context }
            if !expected.isEmpty { message += ", expected " + expected }
            return error(message, token.positionRange)
        }

        func tooDeep(_ token: PromQLToken) -> PromQLParseError {
            error("query is nested too deeply: more than \(PromQLParser.maxNesting) levels", token.positionRange)
        }

        /// An unexpected token where no more specific rule applies.
        func unexpected(_ token: PromQLToken) -> PromQLParseError {
            unexpected(token, in: aggregationDepth > 0 ? "aggregation" : "", expected: "")
        }

        // MARK: Expressions

        mutating func parseQuery() throws -> Expr {
            let first = try peek()
            if first.kind == .eof {
                throw error("no expression found in input", PromQLPositionRange(start: 0, end: 0))
            }
            let expr = try parseExpr(minPrecedence: 0)
            let next = try peek()
            guard next.kind == .eof else { throw unexpected(next) }
            return expr
        }

        mutating func parseExpr(minPrecedence: Int) throws -> Expr {
            // Parsing, checking and printing recurse into nested sub-expressions; bound the depth so a
            // pathological query fails cleanly instead of overflowing the stack. Chains of binary
            // operators (`a + b + c ...`) do not nest and are not limited.
            nesting += 1
            defer { nesting -= 1 }
            if nesting > PromQLParser.maxNesting { throw tooDeep(try peek()) }
            var lhs = try parseUnary()
            while true {
                let token = try peek()
                guard let op = Self.binaryOp(token.kind), op.precedence >= minPrecedence else { return lhs }
                consume()
                var returnBool = false
                var matching = Expr.VectorMatching()
                if try peek().kind == .bool {
                    consume()
                    returnBool = true
                }
                let next = try peek()
                if next.kind == .on || next.kind == .ignoring {
                    consume()
                    matching.on = next.kind == .on
                    matching.matchingLabels = try parseGroupingLabels()
                    let group = try peek()
                    if group.kind == .groupLeft || group.kind == .groupRight {
                        consume()
                        matching.card = group.kind == .groupLeft ? .manyToOne : .oneToMany
                        if try peek().kind == .leftParen { matching.include = try parseGroupingLabels() }
                    }
                }
                let rhs = try parseExpr(minPrecedence: op.isRightAssociative ? op.precedence : op.precedence + 1)
                let range = PromQLPositionRange(start: lhs.positionRange.start, end: rhs.positionRange.end)
                lhs = .binary(Expr.Binary(op, lhs, rhs, returnBool: returnBool, matching: matching, positionRange: range))
            }
        }

        /// A signed expression binds like `*`: its operand takes only `^` and the postfix modifiers.
        mutating func parseUnary() throws -> Expr {
            let token = try peek()
            guard token.kind == .add || token.kind == .sub else { return try parsePostfix(parsePrimary()) }
            consume()
            let operand = try parseExpr(minPrecedence: Expr.BinaryOp.pow.precedence)
            if case .number(var literal) = operand {
                if token.kind == .sub { literal.value = -literal.value }
                literal.positionRange.start = token.start
                return .number(literal)
            }
            let range = PromQLPositionRange(start: token.start, end: operand.positionRange.end)
            return .unary(Expr.Unary(token.kind == .sub ? .minus : .plus, operand, positionRange: range))
        }

        mutating func parsePrimary() throws -> Expr {
            let token = try peek()
            switch token.kind {
            case .number:
                consume()
                return .number(Expr.NumberLiteral(try numberValue(token), positionRange: token.positionRange))
            case .duration:
                consume()
                let ms = try durationMillis(token)
                return .number(Expr.NumberLiteral(Double(ms) / 1000, positionRange: token.positionRange))
            case .string:
                consume()
                return .string(Expr.StringLiteral(token.stringValue ?? "", positionRange: token.positionRange))
            case .leftParen:
                consume()
                let inner = try parseExpr(minPrecedence: 0)
                let close = try peek()
                guard close.kind == .rightParen else { throw unexpected(close) }
                consume()
                return .paren(Expr.Paren(inner, positionRange: PromQLPositionRange(start: token.start, end: close.end)))
            case .leftBrace:
                return try parseVectorSelector(name: nil)
            case .identifier:
                consume()
                if try peek().kind == .leftParen { return try parseCall(name: token) }
                return try parseVectorSelector(name: token)
            default:
                if token.kind.isAggregator {
                    consume()
                    let next = try peek()
                    if next.kind == .leftParen || next.kind == .by || next.kind == .without {
                        return try parseAggregate(op: token)
                    }
                    return try parseVectorSelector(name: token)
                }
                if token.kind.canBeMetricName {
                    consume()
                    return try parseVectorSelector(name: token)
                }
                throw unexpected(token)
            }
        }

        /// Range and subquery brackets, `offset` and `@` after an expression.
        mutating func parsePostfix(_ expr: Expr) throws -> Expr {
            var expr = expr
            var brackets = 0
            while true {
                let token = try peek()
                switch token.kind {
                case .leftBracket:
                    // Each subquery wraps the expression once more.
                    brackets += 1
                    if nesting + brackets > PromQLParser.maxNesting { throw tooDeep(token) }
                    expr = try parseBrackets(expr)
                case .offset: expr = try parseOffset(expr)
                case .at: expr = try parseAt(expr)
                default: return expr
                }
            }
        }

        // MARK: Selectors

        mutating func parseVectorSelector(name: PromQLToken?) throws -> Expr {
            var matchers: [Matcher] = []
            let next = try peek()
            var range = name?.positionRange ?? PromQLPositionRange(start: next.start, end: next.end)
            if next.kind == .leftBrace {
                let (parsed, end) = try parseLabelMatchers()
                matchers = parsed
                range.end = end
            }
            if let name { matchers.append(Matcher.eq(Labels.metricName, name.text)) }
            return .vectorSelector(Expr.VectorSelector(name: name?.text ?? "", matchers: matchers, positionRange: range))
        }

        /// `{ matcher, ... }` where a matcher is `name op "value"`, `"name" op "value"` or a quoted metric name.
        mutating func parseLabelMatchers() throws -> ([Matcher], Int) {
            consume() // {
            var matchers: [Matcher] = []
            if try peek().kind == .rightBrace { return (matchers, consume().end) }
            while true {
                let label = try peek()
                switch label.kind {
                case .identifier, .string:
                    consume()
                    let labelName = label.kind == .string ? (label.stringValue ?? "") : label.text
                    let op = try peek()
                    guard let kind = Self.matchKind(op.kind) else {
                        if label.kind == .string {
                            matchers.append(try makeMatcher(.equal, Labels.metricName, labelName, label.positionRange))
                            break
                        }
                        throw unexpected(op, in: "label matching", expected: "label matching operator")
                    }
                    consume()
                    let value = try peek()
                    guard value.kind == .string else { throw unexpected(value, in: "label matching", expected: "string") }
                    consume()
                    let range = PromQLPositionRange(start: label.start, end: value.end)
                    matchers.append(try makeMatcher(kind, labelName, value.stringValue ?? "", range))
                default:
                    throw unexpected(label, in: "label matching", expected: "identifier or \"}\"")
                }
                let next = try peek()
                if next.kind == .comma {
                    consume()
                    if try peek().kind == .rightBrace { return (matchers, consume().end) }
                    continue
                }
                if next.kind == .rightBrace { return (matchers, consume().end) }
                throw unexpected(next, in: "label matching", expected: "\",\" or \"}\"")
            }
        }

        func makeMatcher(_ kind: Matcher.Kind, _ name: String, _ value: String, _ range: PromQLPositionRange) throws -> Matcher {
            do {
                return try Matcher(kind, name, value)
            } catch let e as ArgusError {
                throw error(e.message, range)
            } catch let e {
                throw error("\(e)", range)
            }
        }

        /// `[range]` or `[range:step]`.
        mutating func parseBrackets(_ expr: Expr) throws -> Expr {
            let open = consume()
            let rangeToken = try peek()
            guard rangeToken.kind == .number || rangeToken.kind == .duration else {
                throw unexpected(rangeToken, in: "subquery selector", expected: "number or duration")
            }
            consume()
            let range = try durationMillis(rangeToken)
            if range <= 0 { throw error("duration must be greater than 0", rangeToken.positionRange) }
            let next = try peek()
            switch next.kind {
            case .rightBracket:
                consume()
                let bracketRange = PromQLPositionRange(start: open.start, end: next.end)
                guard case .vectorSelector(let selector) = expr else {
                    throw error("ranges only allowed for vector selectors", bracketRange)
                }
                if selector.offset != 0 { throw error("no offset modifiers allowed before range", bracketRange) }
                if selector.at != nil { throw error("no @ modifiers allowed before range", bracketRange) }
                let whole = PromQLPositionRange(start: selector.positionRange.start, end: next.end)
                return .matrixSelector(Expr.MatrixSelector(selector, range: range, positionRange: whole))
            case .colon:
                consume()
                var step: Int64?
                var close = try peek()
                if close.kind == .number || close.kind == .duration {
                    consume()
                    let ms = try durationMillis(close)
                    if ms < 0 { throw error("duration must be greater than 0", close.positionRange) }
                    step = ms == 0 ? nil : ms
                    close = try peek()
                    guard close.kind == .rightBracket else { throw unexpected(close, in: "subquery selector", expected: "\"]\"") }
                } else if close.kind != .rightBracket {
                    throw unexpected(close, in: "subquery selector", expected: "number or duration or \"]\"")
                }
                consume()
                let whole = PromQLPositionRange(start: expr.positionRange.start, end: close.end)
                return .subquery(Expr.Subquery(expr, range: range, step: step, positionRange: whole))
            default:
                throw unexpected(next, in: "subquery or range", expected: "\":\" or \"]\"")
            }
        }

        mutating func parseOffset(_ expr: Expr) throws -> Expr {
            consume() // offset
            var token = try peek()
            var negative = false
            if token.kind == .sub {
                consume()
                negative = true
                token = try peek()
            }
            guard token.kind == .number || token.kind == .duration else {
                throw unexpected(token, in: "offset", expected: "number or duration")
            }
            consume()
            var offset = try durationMillis(token)
            if negative { offset = -offset }
            let alreadySet = "offset may not be set multiple times"
            switch expr {
            case .vectorSelector(var v):
                if v.offset != 0 { throw error(alreadySet, v.positionRange) }
                v.offset = offset
                v.positionRange.end = token.end
                return .vectorSelector(v)
            case .matrixSelector(var m):
                if m.vectorSelector.offset != 0 { throw error(alreadySet, m.positionRange) }
                m.vectorSelector.offset = offset
                m.positionRange.end = token.end
                return .matrixSelector(m)
            case .subquery(var s):
                if s.offset != 0 { throw error(alreadySet, s.positionRange) }
                s.offset = offset
                s.positionRange.end = token.end
                return .subquery(s)
            default:
                throw error("offset modifier must be preceded by an instant vector selector or range vector selector or a subquery",
                            expr.positionRange)
            }
        }

        mutating func parseAt(_ expr: Expr) throws -> Expr {
            consume() // @
            var token = try peek()
            let at: Expr.AtModifier
            var end: Int
            if token.kind == .start || token.kind == .end {
                consume()
                for expected in [PromQLToken.Kind.leftParen, .rightParen] {
                    let paren = try peek()
                    guard paren.kind == expected else { throw unexpected(paren, in: "@", expected: "timestamp") }
                    consume()
                }
                at = token.kind == .start ? .start : .end
                end = lastEnd
            } else {
                var negative = false
                if token.kind == .add || token.kind == .sub {
                    consume()
                    negative = token.kind == .sub
                    token = try peek()
                }
                guard token.kind == .number || token.kind == .duration else {
                    throw unexpected(token, in: "@", expected: "timestamp")
                }
                consume()
                var seconds = token.kind == .number ? try numberValue(token) : Double(try durationMillis(token)) / 1000
                if negative { seconds = -seconds }
                let ms = (seconds * 1000).rounded()
                guard seconds.isFinite, seconds < 9.223372036854775807e18, seconds > -9.223372036854775808e18,
                      ms < 9.223372036854775807e18, ms > -9.223372036854775808e18 else {
                    throw error("timestamp out of bounds for @ modifier: " + GoFormat.formatF(seconds), expr.positionRange)
                }
                at = .timestamp(Int64(ms))
                end = token.end
            }
            let alreadySet = "@ <timestamp> may not be set multiple times"
            switch expr {
            case .vectorSelector(var v):
                if v.at != nil { throw error(alreadySet, v.positionRange) }
                v.at = at
                v.positionRange.end = end
                return .vectorSelector(v)
            case .matrixSelector(var m):
                if m.vectorSelector.at != nil { throw error(alreadySet, m.positionRange) }
                m.vectorSelector.at = at
                m.positionRange.end = end
                return .matrixSelector(m)
            case .subquery(var s):
                if s.at != nil { throw error(alreadySet, s.positionRange) }
                s.at = at
                s.positionRange.end = end
                return .subquery(s)
            default:
                throw error("@ modifier must be preceded by an instant vector selector or range vector selector or a subquery",
                            expr.positionRange)
            }
        }

        // MARK: Aggregations and calls

        mutating func parseAggregate(op token: PromQLToken) throws -> Expr {
            let op = Self.aggregateOp(token.kind)
            var grouping: [String] = []
            var without = false
            var modifierFirst = false
            let first = try peek()
            if first.kind == .by || first.kind == .without {
                consume()
                without = first.kind == .without
                grouping = try parseGroupingLabels()
                modifierFirst = true
                let open = try peek()
                guard open.kind == .leftParen else { throw unexpected(open, in: "aggregation", expected: "") }
            }
            aggregationDepth += 1
            let (args, close) = try parseArguments()
            aggregationDepth -= 1
            var end = close.end
            if !modifierFirst {
                let next = try peek()
                if next.kind == .by || next.kind == .without {
                    consume()
                    without = next.kind == .without
                    grouping = try parseGroupingLabels()
                    end = lastEnd
                }
            }
            let range = PromQLPositionRange(start: token.start, end: end)
            if args.isEmpty { throw error("no arguments for aggregate expression provided", range) }
            let wanted = op.hasParameter ? 2 : 1
            if args.count != wanted {
                throw error("wrong number of arguments for aggregate expression provided, expected \(wanted), got \(args.count)", range)
            }
            return .aggregate(Expr.Aggregate(op, args[wanted - 1], param: op.hasParameter ? args[0] : nil,
                                             grouping: grouping, without: without, positionRange: range))
        }

        mutating func parseCall(name: PromQLToken) throws -> Expr {
            let (args, close) = try parseArguments()
            guard let function = PromQLFunction.named(name.text) else {
                throw error("unknown function with name " + GoFormat.quote(name.text), name.positionRange)
            }
            return .call(Expr.Call(function, args, positionRange: PromQLPositionRange(start: name.start, end: close.end)))
        }

        /// `( expr, ... )`; returns the arguments and the closing parenthesis.
        mutating func parseArguments() throws -> ([Expr], PromQLToken) {
            consume() // (
            var args: [Expr] = []
            var token = try peek()
            if token.kind == .rightParen { return (args, consume()) }
            while true {
                args.append(try parseExpr(minPrecedence: 0))
                token = try peek()
                if token.kind == .comma {
                    consume()
                    if try peek().kind == .rightParen {
                        throw error("trailing commas not allowed in function call args", token.positionRange)
                    }
                    continue
                }
                if token.kind == .rightParen { return (args, consume()) }
                throw unexpected(token)
            }
        }

        /// `( label, ... )` after `by`, `without`, `on`, `ignoring`, `group_left`, `group_right`.
        mutating func parseGroupingLabels() throws -> [String] {
            let open = try peek()
            guard open.kind == .leftParen else { throw unexpected(open, in: "grouping opts", expected: "\"(\"") }
            consume()
            var labels: [String] = []
            if try peek().kind == .rightParen {
                consume()
                return labels
            }
            while true {
                let label = try peek()
                if label.kind.canBeGroupingLabel {
                    labels.append(label.text)
                } else if label.kind == .string {
                    let value = label.stringValue ?? ""
                    if value.isEmpty {
                        throw error("invalid label name for grouping: " + GoFormat.quote(value), label.positionRange)
                    }
                    labels.append(value)
                } else {
                    throw unexpected(label, in: "grouping opts", expected: "label")
                }
                consume()
                let next = try peek()
                if next.kind == .comma {
                    consume()
                    if try peek().kind == .rightParen {
                        consume()
                        return labels
                    }
                    continue
                }
                if next.kind == .rightParen {
                    consume()
                    return labels
                }
                throw unexpected(next, in: "grouping opts", expected: "\",\" or \")\"")
            }
        }

        // MARK: Literals

        func numberValue(_ token: PromQLToken) throws -> Double {
            switch Self.parseNumber(token.text) {
            case .success(let value): return value
            case .failure(let reason):
                throw error("error parsing number: strconv.ParseFloat: parsing \(GoFormat.quote(token.text)): \(reason.text)",
                            token.positionRange)
            }
        }

        /// A number (seconds) or duration token as milliseconds, within Prometheus' ±292 year limit.
        func durationMillis(_ token: PromQLToken) throws -> Int64 {
            var outOfRange: PromQLParseError { error("duration out of range", token.positionRange) }
            if token.kind == .number {
                let seconds = try numberValue(token)
                guard !seconds.isNaN, seconds <= Self.maxDurationSeconds, seconds >= -Self.maxDurationSeconds else { throw outOfRange }
                return Int64(seconds * 1000)
            }
            // Estimate first: PromDuration.parseMillis must not be handed a sum that overflows Int64.
            var estimate = 0.0
            var number = 0.0
            var index = token.text.utf8.startIndex
            let utf8 = token.text.utf8
            while index < utf8.endIndex {
                let c = utf8[index]
                if c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") {
                    number = number * 10 + Double(c - UInt8(ascii: "0"))
                } else {
                    estimate += number * Self.unitMillis(c)
                    number = 0
                }
                index = utf8.index(after: index)
            }
            guard estimate < 9e18 else { throw outOfRange }
            let ms: Int64
            do {
                ms = try PromDuration.parseMillis(token.text)
            } catch let e as ArgusError {
                throw error(e.message, token.positionRange)
            }
            guard ms <= Self.maxDurationMillis else { throw outOfRange }
            return ms
        }

        static let maxDurationSeconds = 9_223_372_036.854_775_807
        static let maxDurationMillis: Int64 = 9_223_372_036_854

        static func unitMillis(_ c: UInt8) -> Double {
            switch c {
            case UInt8(ascii: "y"): return 365 * 86_400_000
            case UInt8(ascii: "w"): return 7 * 86_400_000
            case UInt8(ascii: "d"): return 86_400_000
            case UInt8(ascii: "h"): return 3_600_000
            case UInt8(ascii: "m"): return 60_000
            case UInt8(ascii: "s"): return 1000
            default: return 0
            }
        }

        struct NumberError: Error {
            let text: String
        }

        /// Go's `strconv.ParseInt(s, 0, 64)` falling back to `strconv.ParseFloat(s, 64)`, as Prometheus
        /// parses number literals: `0x1F` hex, `0755` octal, `1_000` digit separators, `Inf`, `NaN`.
        static func parseNumber(_ text: String) -> Result<Double, NumberError> {
            let invalid = NumberError(text: "invalid syntax")
            let lower = text.lowercased()
            if lower == "inf" { return .success(.infinity) }
            if lower == "nan" { return .success(.nan) }
            var s = Array(text.utf8)
            var isHex = false
            if s.count >= 2, s[0] == UInt8(ascii: "0"), s[1] == UInt8(ascii: "x") || s[1] == UInt8(ascii: "X") {
                isHex = true
            }
            if s.contains(UInt8(ascii: "_")) {
                // Underscores may only separate digits (or follow the 0x prefix).
                for i in s.indices where s[i] == UInt8(ascii: "_") {
                    let before = i > 0 ? s[i - 1] : 0
                    let after = i + 1 < s.count ? s[i + 1] : 0
                    let beforeOK = isHex ? (isHexDigit(before) || (i == 2)) : isDecimal(before)
                    let afterOK = isHex ? isHexDigit(after) : isDecimal(after)
                    if !beforeOK || !afterOK { return .failure(invalid) }
                }
                s.removeAll { $0 == UInt8(ascii: "_") }
            }
            if isHex {
                let digits = s.dropFirst(2)
                guard !digits.isEmpty, digits.allSatisfy(isHexDigit) else { return .failure(invalid) }
                var value: UInt64 = 0
                for d in digits {
                    let (shifted, overflow) = value.multipliedReportingOverflow(by: 16)
                    if overflow || shifted > UInt64(Int64.max) - UInt64(hexValue(d)) { return .failure(invalid) }
                    value = shifted + UInt64(hexValue(d))
                }
                return .success(Double(value))
            }
            if !s.isEmpty, s.allSatisfy(isDecimal) {
                let octal = s.count > 1 && s[0] == UInt8(ascii: "0")
                if !octal || s.allSatisfy({ $0 <= UInt8(ascii: "7") }) {
                    let base: UInt64 = octal ? 8 : 10
                    var value: UInt64 = 0
                    var overflow = false
                    for d in s {
                        let (shifted, o1) = value.multipliedReportingOverflow(by: base)
                        let (sum, o2) = shifted.addingReportingOverflow(UInt64(d - UInt8(ascii: "0")))
                        if o1 || o2 || sum > UInt64(Int64.max) {
                            overflow = true
                            break
                        }
                        value = sum
                    }
                    if !overflow { return .success(Double(value)) }
                }
            }
            guard let value = Double(String(decoding: s, as: UTF8.self)) else { return .failure(invalid) }
            if value.isInfinite { return .failure(NumberError(text: "value out of range")) }
            return .success(value)
        }

        // MARK: Token classes

        static func binaryOp(_ kind: PromQLToken.Kind) -> Expr.BinaryOp? {
            switch kind {
            case .add: return .add
            case .sub: return .sub
            case .mul: return .mul
            case .div: return .div
            case .mod: return .mod
            case .pow: return .pow
            case .atan2: return .atan2
            case .eqlc: return .eql
            case .neq: return .neq
            case .gtr: return .gtr
            case .lss: return .lss
            case .gte: return .gte
            case .lte: return .lte
            case .land: return .and
            case .lor: return .or
            case .lunless: return .unless
            default: return nil
            }
        }

        static func matchKind(_ kind: PromQLToken.Kind) -> Matcher.Kind? {
            switch kind {
            case .assign: return .equal
            case .neq: return .notEqual
            case .eqlRegex: return .regexMatch
            case .neqRegex: return .regexNoMatch
            default: return nil
            }
        }

        static func aggregateOp(_ kind: PromQLToken.Kind) -> Expr.AggregateOp {
            switch kind {
            case .sum: return .sum
            case .avg: return .avg
            case .count: return .count
            case .min: return .min
            case .max: return .max
            case .group: return .group
            case .stddev: return .stddev
            case .stdvar: return .stdvar
            case .topk: return .topk
            case .bottomk: return .bottomk
            case .countValues: return .countValues
            case .quantile: return .quantile
            case .limitk: return .limitk
            default: return .limitRatio
            }
        }
    }
}

private func isDecimal(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }

private func isHexDigit(_ c: UInt8) -> Bool {
    isDecimal(c) || (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "f")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "F"))
}

private func hexValue(_ c: UInt8) -> UInt8 {
    if isDecimal(c) { return c - UInt8(ascii: "0") }
    if c >= UInt8(ascii: "a") { return c - UInt8(ascii: "a") + 10 }
    return c - UInt8(ascii: "A") + 10
}
