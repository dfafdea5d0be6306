import ArgusModel
import Testing
@testable import ArgusQuery

@Suite("PromQL printer")
struct PromQLPrinterTests {
    @Test("prints with Prometheus' conventions", arguments: [
        ("sum by (job)(rate(x[5m]))", "sum by (job) (rate(x[5m]))"),
        ("sum(x) without (a,b)", "sum without (a, b) (x)"),
        ("sum by () (x)", "sum(x)"),
        ("sum without () (x)", "sum without () (x)"),
        ("topk(5,x)", "topk(5, x)"),
        ("count_values('v', x)", "count_values(\"v\", x)"),
        ("SUM(x)", "sum(x)"),
        ("foo{b=\"1\",a=\"2\"}", "foo{a=\"2\",b=\"1\"}"),
        ("foo{}", "foo"),
        ("{__name__=\"foo\"}", "{__name__=\"foo\"}"),
        ("{\"foo.bar\", \"a.b\"=\"c\"}", "{\"a.b\"=\"c\",__name__=\"foo.bar\"}"),
        ("foo{a=~\"x.*\", b!~'y', c!=`z`}", "foo{a=~\"x.*\",b!~\"y\",c!=\"z\"}"),
        ("foo offset -7m", "foo offset -7m"),
        ("foo offset 90s", "foo offset 1m30s"),
        ("foo offset 1w", "foo offset 1w"),
        ("foo @ 1603774568", "foo @ 1603774568.000"),
        ("foo @ -1.5", "foo @ -1.500"),
        ("foo @ 0.001", "foo @ 0.001"),
        ("foo offset 1d @ start()", "foo @ start() offset 1d"),
        ("foo[1h30m] offset 1d @ end()", "foo[1h30m] @ end() offset 1d"),
        ("foo[90]", "foo[1m30s]"),
        ("foo[1500ms]", "foo[1s500ms]"),
        ("foo[5m:]", "foo[5m:]"),
        ("foo[5m:1m] offset 1m @ 10", "foo[5m:1m] @ 10.000 offset 1m"),
        ("rate(x[5m])[30m:1m]", "rate(x[5m])[30m:1m]"),
        ("a+on(b)group_left(c)d", "a + on (b) group_left (c) d"),
        ("a * ignoring(b) group_right d", "a * ignoring (b) group_right () d"),
        ("a * on() b", "a * on () b"),
        ("a and ignoring(b) c", "a and ignoring (b) c"),
        ("a and ignoring() c", "a and c"),
        ("a>bool b", "a > bool b"),
        ("1==bool 2", "1 == bool 2"),
        ("a atan2 b", "a atan2 b"),
        ("a unless b", "a unless b"),
        ("-(1)", "-(1)"),
        ("-1^2", "-1 ^ 2"),
        ("2^-1", "2 ^ -1"),
        ("-foo", "-foo"),
        ("- - foo", "--foo"),
        ("5m", "300"),
        ("1e3", "1000"),
        ("1e-5", "0.00001"),
        ("1.5e20", "150000000000000000000"),
        ("0x1F", "31"),
        ("0.1", "0.1"),
        ("-0", "-0"),
        ("Inf", "+Inf"),
        ("-inf", "-Inf"),
        ("nan", "NaN"),
        ("\"a\\nb\\\"c\\\\\"", "\"a\\nb\\\"c\\\\\""),
        ("`raw\"`", "\"raw\\\"\""),
        ("sum by (\"foo bar\", a) (x)", "sum by (\"foo bar\", a) (x)"),
        ("sum by (\"inf\", \"x\") (x)", "sum by (\"inf\", x) (x)"),
        ("label_join(x, \"d\", \",\", \"a\", \"b\")", "label_join(x, \"d\", \",\", \"a\", \"b\")"),
        ("time()", "time()"),
        ("( foo )", "(foo)"),
    ])
    func prints(_ query: String, _ expected: String) throws {
        let e = try PromQLParser.parse(query)
        #expect(e.description == expected)
        #expect(try PromQLParser.parse(expected) == e)
    }

    @Test("every node type prints on its own")
    func nodeDescriptions() {
        #expect(Expr.NumberLiteral(2.5).description == "2.5")
        #expect(Expr.StringLiteral("x").description == "\"x\"")
        #expect(Expr.VectorSelector(metric: "up", [eq("job", "a")]).description == "up{job=\"a\"}")
        #expect(Expr.MatrixSelector(sel("up"), range: 5 * minute).description == "up[5m]")
        #expect(Expr.Subquery(vs("up"), range: hour, step: minute).description == "up[1h:1m]")
        #expect(Expr.Paren(num(1)).description == "(1)")
        #expect(Expr.Unary(.minus, vs("up")).description == "-up")
        #expect(Expr.Binary(.add, vs("a"), num(1)).description == "a + 1")
        #expect(Expr.Aggregate(.quantile, vs("a"), param: num(0.5), grouping: ["x"]).description == "quantile by (x) (0.5, a)")
        #expect(Expr.Call(PromQLFunction.named("abs")!, [vs("a")]).description == "abs(a)")
    }

    @Test("number formatting matches Go's FormatFloat(v, 'f', -1, 64)", arguments: [
        (0.0, "0"), (1.0, "1"), (-2.5, "-2.5"), (1e21, "1000000000000000000000"), (1.25e-7, "0.000000125"),
        (123456.789, "123456.789"), (0.30000000000000004, "0.30000000000000004"), (1.5e300, "15" + String(repeating: "0", count: 299)),
        (5e-324, "0." + String(repeating: "0", count: 323) + "5"),
    ])
    func numberFormatting(_ value: Double, _ expected: String) {
        #expect(PromQLPrinter.formatNumber(value) == expected)
        #expect(Double(PromQLPrinter.formatNumber(value)) == value)
    }
}
