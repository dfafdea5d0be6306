import ArgusModel
import Testing
@testable import ArgusQuery

struct InvalidQuery: Sendable, CustomTestStringConvertible {
    let query: String
    let error: String
    init(_ query: String, _ error: String) {
        self.query = query
        self.error = error
    }
    var testDescription: String { query.count > 60 ? String(query.prefix(60)) + "..." : query }
}

/// Invalid queries and the exact error Prometheus prints for them (`line:column: parse error: ...`).
let invalidQueries: [InvalidQuery] = [
    // Empty input and lexer errors.
    InvalidQuery("", "unknown position: parse error: no expression found in input"),
    InvalidQuery("# just a comment\n\n", "1:1: parse error: no expression found in input"),
    InvalidQuery("   ", "1:1: parse error: no expression found in input"),
    InvalidQuery(".", "1:1: parse error: unexpected character: '.'"),
    InvalidQuery("2.5.", "1:1: parse error: bad number or duration syntax: \"2.5.\""),
    InvalidQuery("100..4", "1:1: parse error: bad number or duration syntax: \"100..\""),
    InvalidQuery("0deadbeef", "1:1: parse error: bad number or duration syntax: \"0de\""),
    InvalidQuery("1e", "1:1: parse error: bad number or duration syntax: \"1e\""),
    InvalidQuery("1_", "1:1: parse error: bad number or duration syntax: \"1_\""),
    InvalidQuery("1__2", "1:1: parse error: bad number or duration syntax: \"1__\""),
    InvalidQuery(String(repeating: "9", count: 309),
                 "1:1: parse error: error parsing number: strconv.ParseFloat: parsing \"" + String(repeating: "9", count: 309)
                     + "\": value out of range"),
    InvalidQuery("(1))", "1:5: parse error: unexpected right parenthesis ')'"),
    InvalidQuery("1 + )", "1:6: parse error: unexpected right parenthesis ')'"),
    InvalidQuery("((1)", "1:5: parse error: unclosed left parenthesis"),
    InvalidQuery("(", "1:2: parse error: unclosed left parenthesis"),
    InvalidQuery("sum(", "1:5: parse error: unclosed left parenthesis"),
    InvalidQuery("sum(rate(foo[5m])", "1:18: parse error: unclosed left parenthesis"),
    InvalidQuery("1 !~ 1", "1:3: parse error: unexpected character after '!': '~'"),
    InvalidQuery("1 =~ 1", "1:3: parse error: unexpected character after '=': '~'"),
    InvalidQuery("foo !bar", "1:5: parse error: unexpected character after '!': 'b'"),
    InvalidQuery("}", "1:1: parse error: unexpected character: '}'"),
    InvalidQuery("some}", "1:5: parse error: unexpected character: '}'"),
    InvalidQuery("foo]", "1:4: parse error: unexpected right bracket ']'"),
    InvalidQuery("foo ; bar", "1:5: parse error: unexpected character: ';'"),
    InvalidQuery("foo € bar", "1:5: parse error: unexpected character: '€'"),
    InvalidQuery("{", "1:2: parse error: unexpected end of input inside braces"),
    InvalidQuery("some{", "1:6: parse error: unexpected end of input inside braces"),
    InvalidQuery("foo{bar=\"baz\"", "1:14: parse error: unexpected end of input inside braces"),
    InvalidQuery("foo +\n  bar{", "2:7: parse error: unexpected end of input inside braces"),
    InvalidQuery("some_metric{a:b=\"b\"}", "1:14: parse error: unexpected character inside braces: ':'"),
    InvalidQuery("foo{a*\"b\"}", "1:6: parse error: unexpected character inside braces: '*'"),
    InvalidQuery("foo{a>=\"b\"}", "1:6: parse error: unexpected character inside braces: '>'"),
    InvalidQuery("foo{1}", "1:5: parse error: unexpected character inside braces: '1'"),
    InvalidQuery("foo{a!b=\"c\"}", "1:6: parse error: unexpected character after '!' inside braces: 'b'"),
    InvalidQuery("foo{a={}}", "1:7: parse error: unexpected left brace '{'"),
    InvalidQuery("\"abc", "1:1: parse error: unterminated quoted string"),
    InvalidQuery("\"a\nb\"", "1:1: parse error: unterminated quoted string"),
    InvalidQuery("sum by (\"foo)(some_metric{})", "1:9: parse error: unterminated quoted string"),
    InvalidQuery("`\\``", "1:4: parse error: unterminated raw string"),
    InvalidQuery("\"\\", "1:1: parse error: escape sequence not terminated"),
    InvalidQuery("\"\\c\"", "1:1: parse error: unknown escape sequence U+0063 'c'"),
    InvalidQuery("\"\\'\"", "1:1: parse error: unknown escape sequence U+0027 '''"),
    InvalidQuery("'\\\"'", "1:1: parse error: unknown escape sequence U+0022 '\"'"),
    InvalidQuery("\"\\x.\"", "1:1: parse error: illegal character U+002E '.' in escape sequence"),
    InvalidQuery("\"\\u12\"", "1:1: parse error: illegal character U+0022 '\"' in escape sequence"),
    InvalidQuery("\"\\x4", "1:1: parse error: escape sequence not terminated"),
    InvalidQuery("\"\\400\"", "1:1: parse error: escape sequence is an invalid Unicode code point"),
    InvalidQuery("\"\\uD800\"", "1:1: parse error: escape sequence is an invalid Unicode code point"),
    InvalidQuery("foo[5mm]", "1:5: parse error: bad number or duration syntax: \"5mm\""),
    InvalidQuery("foo[5m1]", "1:5: parse error: bad number or duration syntax: \"5m1\""),
    InvalidQuery("foo[5m:1m1]", "1:8: parse error: bad number or duration syntax: \"1m1\""),
    InvalidQuery("foo[5m:1m:]", "1:10: parse error: unexpected colon ':'"),
    InvalidQuery("foo[5s x 5s]", "1:8: parse error: unexpected character: 'x', expected ':'"),
    InvalidQuery("foo[5s s 5s]", "1:8: parse error: unexpected character: 's', expected ':'"),
    InvalidQuery("foo[\"5m\"]", "1:5: parse error: unexpected character in duration expression: '\"'"),
    InvalidQuery("foo[[5m]", "1:5: parse error: unexpected character in duration expression: '['"),
    InvalidQuery("foo[:5m]", "1:6: parse error: unexpected colon before duration in duration expression"),
    InvalidQuery("foo{bar=\"baz\"}[", "1:16: parse error: unexpected end of input in duration expression"),
    InvalidQuery("foo[5m", "1:7: parse error: unclosed left bracket"),
    InvalidQuery("some_metric[5m] OFFSET 1mm", "1:24: parse error: bad number or duration syntax: \"1mm\""),

    // Syntax errors.
    InvalidQuery("1+", "1:3: parse error: unexpected end of input"),
    InvalidQuery("1 /", "1:4: parse error: unexpected end of input"),
    InvalidQuery("*1", "1:1: parse error: unexpected <op:*>"),
    InvalidQuery("*test", "1:1: parse error: unexpected <op:*>"),
    InvalidQuery("@@", "1:1: parse error: unexpected <op:@>"),
    InvalidQuery("-=", "1:2: parse error: unexpected \"=\""),
    InvalidQuery("++-++-+-+-<", "1:11: parse error: unexpected <op:<>"),
    InvalidQuery("e-+=/(0)", "1:4: parse error: unexpected \"=\""),
    InvalidQuery("foo bar", "1:5: parse error: unexpected identifier \"bar\""),
    InvalidQuery("foo 1", "1:5: parse error: unexpected number \"1\""),
    InvalidQuery("foo \"a long string here\"", "1:5: parse error: unexpected string \"\\\"a long st\"..."),
    InvalidQuery("foo a:b", "1:5: parse error: unexpected metric identifier \"a:b\""),
    InvalidQuery("foo 5m", "1:5: parse error: unexpected duration \"5m\""),
    InvalidQuery("(1 2)", "1:4: parse error: unexpected number \"2\""),
    InvalidQuery("()", "1:2: parse error: unexpected \")\""),
    InvalidQuery("rate(foo bar)", "1:10: parse error: unexpected identifier \"bar\""),
    InvalidQuery("rate(,)", "1:6: parse error: unexpected \",\""),
    InvalidQuery("foo:bar(x)", "1:8: parse error: unexpected \"(\""),
    InvalidQuery("a - on(b) ignoring(c) d", "1:11: parse error: unexpected <ignoring>"),
    InvalidQuery("foo + group_left(baz) bar", "1:7: parse error: unexpected <group_left>"),
    InvalidQuery("foo == on(a) bool bar", "1:14: parse error: unexpected <bool>"),
    InvalidQuery("foo + on bar", "1:10: parse error: unexpected identifier \"bar\" in grouping opts, expected \"(\""),
    InvalidQuery("foo * on(a) group_left (b)", "1:27: parse error: unexpected end of input"),
    InvalidQuery("on", "1:1: parse error: unexpected <on>"),
    InvalidQuery("some_metric{a=b}", "1:15: parse error: unexpected identifier \"b\" in label matching, expected string"),
    InvalidQuery("foo{gibberish}", "1:14: parse error: unexpected \"}\" in label matching, expected label matching operator"),
    InvalidQuery("foo{__name__= =}", "1:15: parse error: unexpected \"=\" in label matching, expected string"),
    InvalidQuery("foo{,}", "1:5: parse error: unexpected \",\" in label matching, expected identifier or \"}\""),
    InvalidQuery("foo{a=\"b\",,}", "1:11: parse error: unexpected \",\" in label matching, expected identifier or \"}\""),
    InvalidQuery("foo{__name__ == \"bar\"}", "1:15: parse error: unexpected \"=\" in label matching, expected string"),
    InvalidQuery("foo{__name__=\"bar\" lol}",
                 "1:20: parse error: unexpected identifier \"lol\" in label matching, expected \",\" or \"}\""),
    InvalidQuery("foo{a=\"b\" c=\"d\"}", "1:11: parse error: unexpected identifier \"c\" in label matching, expected \",\" or \"}\""),
    InvalidQuery("foo{\"a\"=}", "1:9: parse error: unexpected \"}\" in label matching, expected string"),
    InvalidQuery("foo{!=\"a\"}", "1:5: parse error: unexpected <op:!=> in label matching, expected identifier or \"}\""),
    InvalidQuery("sum without(==)(some_metric)", "1:13: parse error: unexpected <op:==> in grouping opts, expected label"),
    InvalidQuery("sum without(,)(some_metric)", "1:13: parse error: unexpected \",\" in grouping opts, expected label"),
    InvalidQuery("sum without(foo,,)(some_metric)", "1:17: parse error: unexpected \",\" in grouping opts, expected label"),
    InvalidQuery("sum without(foo bar)(x)",
                 "1:17: parse error: unexpected identifier \"bar\" in grouping opts, expected \",\" or \")\""),
    InvalidQuery("sum by (without) (x)", "1:9: parse error: unexpected <without> in grouping opts, expected label"),
    InvalidQuery("sum by (nan) (x)", "1:9: parse error: unexpected number \"nan\" in grouping opts, expected label"),
    InvalidQuery("sum(x) by (\"\")", "1:12: parse error: invalid label name for grouping: \"\""),
    InvalidQuery("sum some_metric by (test)", "1:5: parse error: unexpected identifier \"some_metric\""),
    InvalidQuery("sum (some_metric) by test", "1:22: parse error: unexpected identifier \"test\" in grouping opts, expected \"(\""),
    InvalidQuery("sum by", "1:7: parse error: unexpected end of input in grouping opts, expected \"(\""),
    InvalidQuery("sum by (a) bar", "1:12: parse error: unexpected identifier \"bar\" in aggregation"),
    InvalidQuery("sum(foo bar)", "1:9: parse error: unexpected identifier \"bar\" in aggregation"),
    InvalidQuery("sum(rate(foo bar))", "1:14: parse error: unexpected identifier \"bar\" in aggregation"),
    InvalidQuery("MIN keep_common (some_metric)", "1:5: parse error: unexpected identifier \"keep_common\""),
    InvalidQuery("MIN (some_metric) keep_common", "1:19: parse error: unexpected identifier \"keep_common\""),
    InvalidQuery("sum (some_metric) without (test) by (test)", "1:34: parse error: unexpected <by>"),
    InvalidQuery("sum without (test) (some_metric) by (test)", "1:34: parse error: unexpected <by>"),
    InvalidQuery("foo[]", "1:5: parse error: unexpected \"]\" in subquery selector, expected number or duration"),
    InvalidQuery("foo[5m 1m]", "1:8: parse error: unexpected duration \"1m\" in subquery or range, expected \":\" or \"]\""),
    InvalidQuery("foo[5m:1m 1m]", "1:11: parse error: unexpected duration \"1m\" in subquery selector, expected \"]\""),
    InvalidQuery("foo[5m:@]", "1:8: parse error: unexpected <op:@> in subquery selector, expected number or duration or \"]\""),
    InvalidQuery("some_metric[5m] OFFSET", "1:23: parse error: unexpected end of input in offset, expected number or duration"),
    InvalidQuery("foo offset +5m", "1:12: parse error: unexpected <op:+> in offset, expected number or duration"),
    InvalidQuery("some_metric[5m] @", "1:18: parse error: unexpected end of input in @, expected timestamp"),
    InvalidQuery("foo @ start", "1:12: parse error: unexpected end of input in @, expected timestamp"),
    InvalidQuery("foo @ bar", "1:7: parse error: unexpected identifier \"bar\" in @, expected timestamp"),

    // Errors found while building the tree.
    InvalidQuery("a>b()", "1:3: parse error: unknown function with name \"b\""),
    InvalidQuery("non_existent_function_far_bar()", "1:1: parse error: unknown function with name \"non_existent_function_far_bar\""),
    InvalidQuery("info(x)", "1:1: parse error: unknown function with name \"info\""),
    InvalidQuery("RATE(x[5m])", "1:1: parse error: unknown function with name \"RATE\""),
    InvalidQuery("start()", "1:6: parse error: unexpected \"(\""),
    InvalidQuery("topk(some_metric,)", "1:17: parse error: trailing commas not allowed in function call args"),
    InvalidQuery("rate(x[5m],)", "1:11: parse error: trailing commas not allowed in function call args"),
    InvalidQuery("sum () by (test)", "1:1: parse error: no arguments for aggregate expression provided"),
    InvalidQuery("topk(some_metric)", "1:1: parse error: wrong number of arguments for aggregate expression provided, expected 2, got 1"),
    InvalidQuery("sum(x, y)", "1:1: parse error: wrong number of arguments for aggregate expression provided, expected 1, got 2"),
    InvalidQuery("1 offset 1d", "1:1: parse error: offset modifier must be preceded by an instant vector selector or range vector selector or a subquery"),
    InvalidQuery("sum(x) offset 1d", "1:1: parse error: offset modifier must be preceded by an instant vector selector or range vector selector or a subquery"),
    InvalidQuery("(foo) offset 1d", "1:1: parse error: offset modifier must be preceded by an instant vector selector or range vector selector or a subquery"),
    InvalidQuery("foo offset 1s offset 2s", "1:1: parse error: offset may not be set multiple times"),
    InvalidQuery("foo[5m] offset 1s offset 2s", "1:1: parse error: offset may not be set multiple times"),
    InvalidQuery("foo[5m:] offset 1s offset 2s", "1:1: parse error: offset may not be set multiple times"),
    InvalidQuery("rate(some_metric[5m]) @ 1234", "1:1: parse error: @ modifier must be preceded by an instant vector selector or range vector selector or a subquery"),
    InvalidQuery("1 @ 5", "1:1: parse error: @ modifier must be preceded by an instant vector selector or range vector selector or a subquery"),
    InvalidQuery("foo @ 1 offset 5m @ 2", "1:1: parse error: @ <timestamp> may not be set multiple times"),
    InvalidQuery("foo @ start() @ end()", "1:1: parse error: @ <timestamp> may not be set multiple times"),
    InvalidQuery("foo[5m:] @ 1 @ 2", "1:1: parse error: @ <timestamp> may not be set multiple times"),
    InvalidQuery("foo @ +Inf", "1:1: parse error: timestamp out of bounds for @ modifier: +Inf"),
    InvalidQuery("foo @ -Inf", "1:1: parse error: timestamp out of bounds for @ modifier: -Inf"),
    InvalidQuery("foo @ NaN", "1:1: parse error: timestamp out of bounds for @ modifier: NaN"),
    InvalidQuery("foo @ 9223372036854775808", "1:1: parse error: timestamp out of bounds for @ modifier: 9223372036854775808.000000"),
    InvalidQuery("foo @ -9223372036854775809", "1:1: parse error: timestamp out of bounds for @ modifier: -9223372036854775808.000000"),
    InvalidQuery("foo[5m1h]", "1:5: parse error: not a valid duration string: \"5m1h\""),
    InvalidQuery("foo[5m1m]", "1:5: parse error: not a valid duration string: \"5m1m\""),
    InvalidQuery("foo[1.5h]", "1:5: parse error: not a valid duration string: \"1.5h\""),
    InvalidQuery("foo[0m]", "1:5: parse error: duration must be greater than 0"),
    InvalidQuery("foo[0]", "1:5: parse error: duration must be greater than 0"),
    InvalidQuery("foo[0:1m]", "1:5: parse error: duration must be greater than 0"),
    InvalidQuery("foo offset 9.5e10", "1:12: parse error: duration out of range"),
    InvalidQuery("foo[9.5e10]", "1:5: parse error: duration out of range"),
    InvalidQuery("foo[300y]", "1:5: parse error: duration out of range"),
    InvalidQuery("foo[99999999999999999999y]", "1:5: parse error: duration out of range"),
    InvalidQuery("some_metric OFFSET 1m[5m]", "1:22: parse error: no offset modifiers allowed before range"),
    InvalidQuery("some_metric @ 1234 [5m]", "1:20: parse error: no @ modifiers allowed before range"),
    InvalidQuery("some_metric @ start() [5m]", "1:23: parse error: no @ modifiers allowed before range"),
    InvalidQuery("some_metric @ end()[5m]", "1:20: parse error: no @ modifiers allowed before range"),
    InvalidQuery("(foo + bar)[5m]", "1:12: parse error: ranges only allowed for vector selectors"),
    InvalidQuery("(foo)[5m]", "1:6: parse error: ranges only allowed for vector selectors"),
    InvalidQuery("foo[5m][5m]", "1:8: parse error: ranges only allowed for vector selectors"),
    InvalidQuery("rate(food[1m])[1h] offset 1h", "1:15: parse error: ranges only allowed for vector selectors"),
    InvalidQuery("-1[5m]", "1:3: parse error: ranges only allowed for vector selectors"),

    // Type errors.
    InvalidQuery("1 and 1", "1:1: parse error: set operator \"and\" not allowed in binary scalar expression"),
    InvalidQuery("1 or 1", "1:1: parse error: set operator \"or\" not allowed in binary scalar expression"),
    InvalidQuery("1 unless 1", "1:1: parse error: set operator \"unless\" not allowed in binary scalar expression"),
    InvalidQuery("foo and 1", "1:1: parse error: set operator \"and\" not allowed in binary scalar expression"),
    InvalidQuery("1 unless foo", "1:1: parse error: set operator \"unless\" not allowed in binary scalar expression"),
    InvalidQuery("1 == 1", "1:3: parse error: comparisons between scalars must use BOOL modifier"),
    InvalidQuery("1 < 2", "1:3: parse error: comparisons between scalars must use BOOL modifier"),
    InvalidQuery("1 or on(bar) foo", "1:1: parse error: vector matching only allowed between instant vectors"),
    InvalidQuery("foo == on(bar) 10", "1:1: parse error: vector matching only allowed between instant vectors"),
    InvalidQuery("foo and on(bar) group_left(baz) bar", "1:1: parse error: no grouping allowed for \"and\" operation"),
    InvalidQuery("foo or on(bar) group_right(baz) bar", "1:1: parse error: no grouping allowed for \"or\" operation"),
    InvalidQuery("foo unless ignoring(bar) group_left bar", "1:1: parse error: no grouping allowed for \"unless\" operation"),
    InvalidQuery("http_requests{group=\"production\"} + on(instance) group_left(job,instance) cpu_count{type=\"smp\"}",
                 "1:35: parse error: label \"instance\" must not occur in ON and GROUP clause at once"),
    InvalidQuery("foo + bool bar", "1:5: parse error: bool modifier can only be used on comparison operators"),
    InvalidQuery("foo + bool 10", "1:5: parse error: bool modifier can only be used on comparison operators"),
    InvalidQuery("foo and bool 10", "1:5: parse error: bool modifier can only be used on comparison operators"),
    InvalidQuery("foo\n  * bool bar", "2:3: parse error: bool modifier can only be used on comparison operators"),
    InvalidQuery("foo + \"a\"", "1:7: parse error: binary expression must contain only scalar and instant vector types"),
    InvalidQuery("foo[5m] + 1", "1:1: parse error: binary expression must contain only scalar and instant vector types"),
    InvalidQuery("1 + foo[5m:]", "1:5: parse error: binary expression must contain only scalar and instant vector types"),
    InvalidQuery("-\"string\"", "1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got \"string\""),
    InvalidQuery("-test[5m]", "1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got \"range vector\""),
    InvalidQuery("{}", "1:1: parse error: vector selector must contain at least one non-empty matcher"),
    InvalidQuery("{x=\"\"}", "1:1: parse error: vector selector must contain at least one non-empty matcher"),
    InvalidQuery("{x=~\".*\"}", "1:1: parse error: vector selector must contain at least one non-empty matcher"),
    InvalidQuery("{x!~\".+\"}", "1:1: parse error: vector selector must contain at least one non-empty matcher"),
    InvalidQuery("{x!=\"a\"}", "1:1: parse error: vector selector must contain at least one non-empty matcher"),
    InvalidQuery("rate({x=\"\"}[5m])", "1:6: parse error: vector selector must contain at least one non-empty matcher"),
    InvalidQuery("foo{__name__=\"bar\"}", "1:1: parse error: metric name must not be set twice: \"foo\" or \"bar\""),
    InvalidQuery("foo{\"bar\"}", "1:1: parse error: metric name must not be set twice: \"foo\" or \"bar\""),
    InvalidQuery("test[5d] OFFSET 10s [10m:5s]", "1:1: parse error: subquery is only allowed on instant vector, got matrix instead"),
    InvalidQuery("(foo + bar{nm=\"val\"})[5m:][10m:5s]", "1:1: parse error: subquery is only allowed on instant vector, got matrix instead"),
    InvalidQuery("1[5m:]", "1:1: parse error: subquery is only allowed on instant vector, got scalar instead"),
    InvalidQuery("topk(some_metric, other_metric)", "1:6: parse error: expected type scalar in aggregation parameter, got instant vector"),
    InvalidQuery("count_values(5, other_metric)", "1:14: parse error: expected type string in aggregation parameter, got scalar"),
    InvalidQuery("sum(x[5m])", "1:5: parse error: expected type instant vector in aggregation expression, got range vector"),
    InvalidQuery("sum(1)", "1:5: parse error: expected type instant vector in aggregation expression, got scalar"),
    InvalidQuery("floor()", "1:1: parse error: expected 1 argument(s) in call to \"floor\", got 0"),
    InvalidQuery("floor(some_metric, other_metric)", "1:1: parse error: expected 1 argument(s) in call to \"floor\", got 2"),
    InvalidQuery("rate(some_metric[5m], 1)", "1:1: parse error: expected 1 argument(s) in call to \"rate\", got 2"),
    InvalidQuery("floor(1)", "1:7: parse error: expected type instant vector in call to function \"floor\", got scalar"),
    InvalidQuery("hour(some_metric, some_metric, some_metric)", "1:1: parse error: expected at most 1 argument(s) in call to \"hour\", got 3"),
    InvalidQuery("round(x, 1, 2)", "1:1: parse error: expected at most 2 argument(s) in call to \"round\", got 3"),
    InvalidQuery("label_join(x, \"a\")", "1:1: parse error: expected at least 3 argument(s) in call to \"label_join\", got 2"),
    InvalidQuery("sort_by_label()", "1:1: parse error: expected at least 1 argument(s) in call to \"sort_by_label\", got 0"),
    InvalidQuery("time(some_metric)", "1:1: parse error: expected 0 argument(s) in call to \"time\", got 1"),
    InvalidQuery("rate(some_metric)", "1:6: parse error: expected type range vector in call to function \"rate\", got instant vector"),
    InvalidQuery("rate(avg)", "1:6: parse error: expected type range vector in call to function \"rate\", got instant vector"),
    InvalidQuery("clamp(x, \"a\", 1)", "1:10: parse error: expected type scalar in call to function \"clamp\", got string"),
    InvalidQuery("label_join(x, \"a\", \",\", \"b\", 1)", "1:30: parse error: expected type string in call to function \"label_join\", got scalar"),
    InvalidQuery("sum(rate(x[5m]) + foo[1m])", "1:19: parse error: binary expression must contain only scalar and instant vector types"),
]

@Suite("PromQL parser: invalid queries")
struct PromQLParserErrorTests {
    @Test("fails with Prometheus' message and position", arguments: invalidQueries)
    func failsWithMessage(_ c: InvalidQuery) {
        #expect(parseError(c.query) == c.error)
    }

    @Test("errors carry the query, position and a caret display")
    func errorDetails() throws {
        let query = "sum(rate(foo[5m]}"
        let error = try #require(throws: PromQLParseError.self) { try PromQLParser.parse(query) }
        #expect(error.message == "unexpected character: '}'")
        #expect(error.query == query)
        #expect(error.positionRange == PromQLPositionRange(start: 16, end: 17))
        #expect(error.line == 1)
        #expect(error.column == 17)
        #expect(error.description == "1:17: parse error: unexpected character: '}'")
        #expect(error.caretDisplay == "sum(rate(foo[5m]}\n                ^")
        #expect(error.descriptionWithCaret == "1:17: parse error: unexpected character: '}'\nsum(rate(foo[5m]}\n                ^")
        #expect(error.argusError.code == .badInput)
        #expect(error.argusError.message == error.description)
    }

    @Test("the caret points into the right line, past tabs and multi-byte characters")
    func caretOnLaterLine() throws {
        let query = "sum(\n\tfoo{a=\"é\"} +\n\tbar{\n"
        let error = try #require(throws: PromQLParseError.self) { try PromQLParser.parse(query) }
        #expect(error.description == "4:1: parse error: unexpected end of input inside braces")
        #expect(error.caretDisplay == "\n^")
        let typeError = try #require(throws: PromQLParseError.self) { try PromQLParser.parse("x +\n\t\"é\" + \"ü\"") }
        #expect(typeError.description == "2:2: parse error: binary expression must contain only scalar and instant vector types")
        #expect(typeError.caretDisplay == "\t\"é\" + \"ü\"\n\t^")
        let late = try #require(throws: PromQLParseError.self) { try PromQLParser.parse("{a=\"é\"} ! 1") }
        #expect(late.column == 10) // bytes, as Prometheus counts
        #expect(late.caretDisplay == "{a=\"é\"} ! 1\n        ^")
    }

    @Test("an invalid regular expression is reported at its matcher")
    func badRegex() {
        let message = parseError("foo{a=~\"(\"}")
        #expect(message?.hasPrefix("1:5: parse error: invalid regular expression \"(\"") == true)
    }
}
