import Testing
@testable import ArgusQuery

@Suite("PromQL lexer")
struct PromQLLexerTests {
    private func kinds(_ query: String) throws -> [PromQLToken.Kind] {
        try PromQLLexer.tokenize(query).map(\.kind)
    }

    private func texts(_ query: String) throws -> [String] {
        try PromQLLexer.tokenize(query).dropLast().map(\.text)
    }

    @Test("operators")
    func operators() throws {
        #expect(try kinds("+ - * / % ^ == != > < >= <= = , @ atan2 and or unless") == [
            .add, .sub, .mul, .div, .mod, .pow, .eqlc, .neq, .gtr, .lss, .gte, .lte, .assign, .comma, .at,
            .atan2, .land, .lor, .lunless, .eof,
        ])
        #expect(try texts("a>=b<=c!=d==e") == ["a", ">=", "b", "<=", "c", "!=", "d", "==", "e"])
    }

    @Test("keywords, aggregators and preprocessors are case-insensitive; identifiers keep their text")
    func keywords() throws {
        #expect(try kinds("by without on ignoring group_left group_right bool offset start end") == [
            .by, .without, .on, .ignoring, .groupLeft, .groupRight, .bool, .offset, .start, .end, .eof,
        ])
        #expect(try kinds("sum avg count min max group stddev stdvar topk bottomk count_values quantile limitk limit_ratio") == [
            .sum, .avg, .count, .min, .max, .group, .stddev, .stdvar, .topk, .bottomk, .countValues, .quantile,
            .limitk, .limitRatio, .eof,
        ])
        #expect(try kinds("AND Or UnLess SUM By OFFSET") == [.land, .lor, .lunless, .sum, .by, .offset, .eof])
        #expect(try texts("SUM By") == ["SUM", "By"])
        #expect(try kinds("foo foo:bar :x _x x1 rate") == [.identifier, .metricIdentifier, .metricIdentifier, .identifier,
                                                            .identifier, .identifier, .eof])
    }

    @Test("inside braces keywords are identifiers and matcher operators are lexed")
    func braces() throws {
        #expect(try kinds("{by=\"a\", sum!=\"b\", on=~\"c\", offset!~\"d\", \"x.y\"}") == [
            .leftBrace, .identifier, .assign, .string, .comma, .identifier, .neq, .string, .comma,
            .identifier, .eqlRegex, .string, .comma, .identifier, .neqRegex, .string, .comma, .string, .rightBrace, .eof,
        ])
    }

    @Test("brackets take durations, numbers and a colon")
    func brackets() throws {
        #expect(try kinds("x[5m:1m]") == [.identifier, .leftBracket, .duration, .colon, .duration, .rightBracket, .eof])
        #expect(try kinds("x[ 300 : 30 ]") == [.identifier, .leftBracket, .number, .colon, .number, .rightBracket, .eof])
        #expect(try kinds("x[5m:]") == [.identifier, .leftBracket, .duration, .colon, .rightBracket, .eof])
    }

    @Test("@ modifiers and parentheses")
    func atModifiers() throws {
        #expect(try kinds("foo @ start() @ end() @ 1.5") == [
            .identifier, .at, .start, .leftParen, .rightParen, .at, .end, .leftParen, .rightParen, .at, .number, .eof,
        ])
    }

    @Test("numbers", arguments: ["1", "1.5", ".5", "5.", "1e3", "1E-3", "2.5e+10", "0x1F", "0X_ff", "0755", "1_000",
                                 "Inf", "inf", "NaN", "nan", "INF"])
    func numbers(_ text: String) throws {
        let tokens = try PromQLLexer.tokenize(text)
        #expect(tokens.map(\.kind) == [.number, .eof])
        #expect(tokens[0].text == text)
    }

    @Test("durations", arguments: ["5m", "1h30m", "500ms", "1y", "2w", "3d", "10s", "1y2w3d4h5m6s7ms"])
    func durations(_ text: String) throws {
        let tokens = try PromQLLexer.tokenize(text)
        #expect(tokens.map(\.kind) == [.duration, .eof])
        #expect(tokens[0].text == text)
    }

    @Test("strings in three quote styles, unescaped in one pass", arguments: [
        (#""plain""#, "plain"),
        (#"'single'"#, "single"),
        ("`raw \\n`", "raw \\n"),
        (#""\n\t\\\"""#, "\n\t\\\""),
        (#"'\''"#, "'"),
        (#""'""#, "'"),
        (#"'"'"#, "\""),
        (#""\a\b\f\v\r""#, "\u{07}\u{08}\u{0C}\u{0B}\r"),
        (#""\x41\102""#, "AB"),
        (#""\u00e9\u00E9""#, "éé"),
        (#""\U0001F600""#, "😀"),
        (#""\xc3\xa9""#, "é"),
        (#""\000""#, "\u{0}"),
        (#""日本語""#, "日本語"),
    ])
    func strings(_ source: String, _ value: String) throws {
        let tokens = try PromQLLexer.tokenize(source)
        #expect(tokens.map(\.kind) == [.string, .eof])
        #expect(tokens[0].stringValue == value)
        #expect(tokens[0].text == source)
    }

    @Test("comments are skipped, at top level and inside braces")
    func comments() throws {
        #expect(try kinds("# only a comment") == [.eof])
        #expect(try kinds("foo # comment\n+ bar # another") == [.identifier, .add, .identifier, .eof])
        #expect(try kinds("{a=\"b\" # comment\n}") == [.leftBrace, .identifier, .assign, .string, .rightBrace, .eof])
        #expect(try texts("\"# not a comment\"") == ["\"# not a comment\""])
    }

    @Test("token positions are byte offsets")
    func positions() throws {
        let tokens = try PromQLLexer.tokenize("rate(x{a=\"é\"}[5m])")
        #expect(tokens.map(\.start) == [0, 4, 5, 6, 7, 8, 9, 13, 14, 15, 17, 18, 19])
        #expect(tokens[6].end == 13)
        #expect(tokens.last?.kind == .eof)
    }

    @Test("lexer errors range to the end of the input")
    func errors() {
        var lexer = PromQLLexer("foo $ bar")
        #expect(throws: PromQLParseError(message: "unexpected character: '$'",
                                         positionRange: PromQLPositionRange(start: 4, end: 9), query: "foo $ bar")) {
            while try lexer.next().kind != .eof {}
        }
    }

    @Test("token descriptions in error messages")
    func errorDescriptions() throws {
        let tokens = try PromQLLexer.tokenize("foo a:b 1 5m \"str\" \"0123456789ab\" ( + sum by start == )")
        #expect(tokens.map(\.errorDescription) == [
            "identifier \"foo\"", "metric identifier \"a:b\"", "number \"1\"", "duration \"5m\"", "string \"\\\"str\\\"\"",
            "string \"\\\"012345678\"...", "\"(\"", "<op:+>", "<aggr:sum>", "<by>", "\"start\"", "<op:==>", "\")\"", "end of input",
        ])
    }
}
