import ArgusModel
import Testing
@testable import ArgusQuery

struct ValidQuery: Sendable, CustomTestStringConvertible {
    let query: String
    let expected: Expr
    init(_ query: String, _ expected: Expr) {
        self.query = query
        self.expected = expected
    }
    var testDescription: String { query }
}

private let inf = Double.infinity

/// Valid queries and the trees they must parse to (positions are not compared).
let validQueries: [ValidQuery] = [
    // Numbers and scalar arithmetic.
    ValidQuery("1", num(1)),
    ValidQuery("+Inf", num(inf)),
    ValidQuery("-Inf", num(-inf)),
    ValidQuery("inf", num(inf)),
    ValidQuery("NaN", num(.nan)),
    ValidQuery("nan", num(.nan)),
    ValidQuery(".5", num(0.5)),
    ValidQuery("5.", num(5)),
    ValidQuery("123.4567", num(123.4567)),
    ValidQuery("5e-3", num(0.005)),
    ValidQuery("5e3", num(5000)),
    ValidQuery("1E3", num(1000)),
    ValidQuery("0xc", num(12)),
    ValidQuery("0x1F", num(31)),
    ValidQuery("0X1f", num(31)),
    ValidQuery("0755", num(493)),
    ValidQuery("08", num(8)),
    ValidQuery("1_000", num(1000)),
    ValidQuery("+5.5e-3", num(0.0055)),
    ValidQuery("-0755", num(-493)),
    ValidQuery("5m", num(300)),
    ValidQuery("1h30m", num(5400)),
    ValidQuery("500ms", num(0.5)),
    ValidQuery("1y", num(31_536_000)),
    ValidQuery("1 + 1", bin(.add, num(1), num(1))),
    ValidQuery("1 - 1", bin(.sub, num(1), num(1))),
    ValidQuery("1 * 1", bin(.mul, num(1), num(1))),
    ValidQuery("1 % 1", bin(.mod, num(1), num(1))),
    ValidQuery("1 / 1", bin(.div, num(1), num(1))),
    ValidQuery("1 ^ 2", bin(.pow, num(1), num(2))),
    ValidQuery("1 atan2 2", bin(.atan2, num(1), num(2))),
    ValidQuery("1 == bool 1", bin(.eql, num(1), num(1), bool: true)),
    ValidQuery("1 != bool 1", bin(.neq, num(1), num(1), bool: true)),
    ValidQuery("1 > bool 1", bin(.gtr, num(1), num(1), bool: true)),
    ValidQuery("1 >= bool 1", bin(.gte, num(1), num(1), bool: true)),
    ValidQuery("1 < bool 1", bin(.lss, num(1), num(1), bool: true)),
    ValidQuery("1 <= bool 1", bin(.lte, num(1), num(1), bool: true)),
    ValidQuery("-1^2", neg(bin(.pow, num(1), num(2)))),
    ValidQuery("-1*2", bin(.mul, num(-1), num(2))),
    ValidQuery("-1+2", bin(.add, num(-1), num(2))),
    ValidQuery("-1^-2", neg(bin(.pow, num(1), num(-2)))),
    ValidQuery("+1 + -2 * 1", bin(.add, num(1), bin(.mul, num(-2), num(1)))),
    ValidQuery("1 + 2/(3*1)", bin(.add, num(1), bin(.div, num(2), paren(bin(.mul, num(3), num(1)))))),
    ValidQuery("1 < bool 2 - 1 * 2", bin(.lss, num(1), bin(.sub, num(2), bin(.mul, num(1), num(2))), bool: true)),
    ValidQuery("--1", num(1)),
    ValidQuery("time() - 5m", bin(.sub, call("time"), num(300))),

    // Vector arithmetic, matching and set operators.
    ValidQuery("-some_metric", neg(vs("some_metric"))),
    ValidQuery("+some_metric", plus(vs("some_metric"))),
    ValidQuery(" +{\"some_metric\"}", plus(vs(braces([eq("__name__", "some_metric")])))),
    ValidQuery("foo * bar", bin(.mul, vs("foo"), vs("bar"))),
    ValidQuery("foo * sum", bin(.mul, vs("foo"), vs("sum"))),
    ValidQuery("foo == 1", bin(.eql, vs("foo"), num(1))),
    ValidQuery("foo == bool 1", bin(.eql, vs("foo"), num(1), bool: true)),
    ValidQuery("2.5 / bar", bin(.div, num(2.5), vs("bar"))),
    ValidQuery("foo atan2 bar", bin(.atan2, vs("foo"), vs("bar"))),
    ValidQuery("foo and bar", bin(.and, vs("foo"), vs("bar"))),
    ValidQuery("foo or bar", bin(.or, vs("foo"), vs("bar"))),
    ValidQuery("foo unless bar", bin(.unless, vs("foo"), vs("bar"))),
    ValidQuery("foo AND bar", bin(.and, vs("foo"), vs("bar"))),
    ValidQuery("foo + bar or bla and blub",
               bin(.or, bin(.add, vs("foo"), vs("bar")), bin(.and, vs("bla"), vs("blub")))),
    ValidQuery("foo and bar unless baz or qux",
               bin(.or, bin(.unless, bin(.and, vs("foo"), vs("bar")), vs("baz")), vs("qux"))),
    ValidQuery("bar + on(foo) bla / on(baz, buz) group_right(test) blub",
               bin(.add, vs("bar"),
                   bin(.div, vs("bla"), vs("blub"),
                       matching: .init(card: .oneToMany, on: true, matchingLabels: ["baz", "buz"], include: ["test"])),
                   matching: .init(card: .oneToOne, on: true, matchingLabels: ["foo"]))),
    ValidQuery("foo * on(test,blub) bar",
               bin(.mul, vs("foo"), vs("bar"), matching: .init(card: .oneToOne, on: true, matchingLabels: ["test", "blub"]))),
    ValidQuery("foo * on(test,blub) group_left bar",
               bin(.mul, vs("foo"), vs("bar"), matching: .init(card: .manyToOne, on: true, matchingLabels: ["test", "blub"]))),
    ValidQuery("foo and on(test,blub) bar",
               bin(.and, vs("foo"), vs("bar"), matching: .init(card: .manyToMany, on: true, matchingLabels: ["test", "blub"]))),
    ValidQuery("foo and on() bar", bin(.and, vs("foo"), vs("bar"), matching: .init(card: .manyToMany, on: true))),
    ValidQuery("foo and ignoring(test,blub) bar",
               bin(.and, vs("foo"), vs("bar"), matching: .init(card: .manyToMany, matchingLabels: ["test", "blub"]))),
    ValidQuery("foo and ignoring() bar", bin(.and, vs("foo"), vs("bar"))),
    ValidQuery("foo unless on(bar) baz",
               bin(.unless, vs("foo"), vs("baz"), matching: .init(card: .manyToMany, on: true, matchingLabels: ["bar"]))),
    ValidQuery("foo / on(test,blub) group_left(bar) bar",
               bin(.div, vs("foo"), vs("bar"),
                   matching: .init(card: .manyToOne, on: true, matchingLabels: ["test", "blub"], include: ["bar"]))),
    ValidQuery("foo / ignoring(test,blub) group_left(blub) bar",
               bin(.div, vs("foo"), vs("bar"), matching: .init(card: .manyToOne, matchingLabels: ["test", "blub"], include: ["blub"]))),
    ValidQuery("foo - on(test,blub) group_right(bar,foo) bar",
               bin(.sub, vs("foo"), vs("bar"),
                   matching: .init(card: .oneToMany, on: true, matchingLabels: ["test", "blub"], include: ["bar", "foo"]))),
    ValidQuery("foo - ignoring(test,blub) group_right(bar,foo) bar",
               bin(.sub, vs("foo"), vs("bar"),
                   matching: .init(card: .oneToMany, matchingLabels: ["test", "blub"], include: ["bar", "foo"]))),
    ValidQuery("foo > bool on(a) bar",
               bin(.gtr, vs("foo"), vs("bar"), bool: true, matching: .init(card: .oneToOne, on: true, matchingLabels: ["a"]))),
    ValidQuery("foo == on() 1", bin(.eql, vs("foo"), num(1))),
    ValidQuery("foo offset 5s-8", bin(.sub, vs("foo", offset: 5 * second), num(8))),
    ValidQuery("foo offset -1^1", bin(.pow, vs("foo", offset: -second), num(1))),
    ValidQuery("foo # a comment\n + bar", bin(.add, vs("foo"), vs("bar"))),

    // Vector selectors.
    ValidQuery("foo", vs("foo")),
    ValidQuery("min", vs("min")),
    ValidQuery("sum", vs("sum")),
    ValidQuery("offset", vs("offset")),
    ValidQuery("start", vs("start")),
    ValidQuery("end", vs("end")),
    ValidQuery("and", vs("and")),
    ValidQuery("foo offset 5m", vs("foo", offset: 5 * minute)),
    ValidQuery("foo offset -7m", vs("foo", offset: -7 * minute)),
    ValidQuery("foo OFFSET 1h30m", vs("foo", offset: 90 * minute)),
    ValidQuery("foo OFFSET 1m30ms", vs("foo", offset: minute + 30)),
    ValidQuery("foo offset 60", vs("foo", offset: minute)),
    ValidQuery("foo offset 1.5", vs("foo", offset: 1500)),
    ValidQuery("foo offset 0", vs("foo")),
    ValidQuery("foo @ 1603774568", vs("foo", at: .timestamp(1_603_774_568_000))),
    ValidQuery("foo @ -100", vs("foo", at: .timestamp(-100_000))),
    ValidQuery("foo @ .3", vs("foo", at: .timestamp(300))),
    ValidQuery("foo @ 3.", vs("foo", at: .timestamp(3000))),
    ValidQuery("foo @ 3.33", vs("foo", at: .timestamp(3330))),
    ValidQuery("foo @ 3.3333", vs("foo", at: .timestamp(3333))),
    ValidQuery("foo @ 3.3335", vs("foo", at: .timestamp(3334))),
    ValidQuery("foo @ 3e2", vs("foo", at: .timestamp(300_000))),
    ValidQuery("foo @ 3e-1", vs("foo", at: .timestamp(300))),
    ValidQuery("foo @ 0xA", vs("foo", at: .timestamp(10_000))),
    ValidQuery("foo @ -3.3e1", vs("foo", at: .timestamp(-33_000))),
    ValidQuery("foo @ 1m", vs("foo", at: .timestamp(60_000))),
    ValidQuery("foo @ start()", vs("foo", at: .start)),
    ValidQuery("foo @ end()", vs("foo", at: .end)),
    ValidQuery("foo offset 5m @ 10", vs("foo", offset: 5 * minute, at: .timestamp(10_000))),
    ValidQuery("foo @ 10 offset 5m", vs("foo", offset: 5 * minute, at: .timestamp(10_000))),
    ValidQuery("foo:bar{a=\"bc\"}", vs("foo:bar", [eq("a", "bc")])),
    ValidQuery("{\"foo\"}", vs(braces([eq("__name__", "foo")]))),
    ValidQuery("{__name__=\"foo\"}", vs(braces([eq("__name__", "foo")]))),
    ValidQuery(#"{'foo\'bar', 'a\\dos\\path'='boo\\urns'}"#,
               vs(braces([eq("__name__", "foo'bar"), eq(#"a\dos\path"#, #"boo\urns"#)]))),
    ValidQuery(#"{'foo\'bar', `a\dos\path`="boo"}"#, vs(braces([eq("__name__", "foo'bar"), eq(#"a\dos\path"#, "boo")]))),
    ValidQuery("{\"foo\", a=\"bc\"}", vs(braces([eq("__name__", "foo"), eq("a", "bc")]))),
    ValidQuery("{\"some.metric\", \"service.name\"=\"api\"}",
               vs(braces([eq("__name__", "some.metric"), eq("service.name", "api")]))),
    ValidQuery("foo{NaN='bc'}", vs("foo", [eq("NaN", "bc")])),
    ValidQuery("foo{bar='}'}", vs("foo", [eq("bar", "}")])),
    ValidQuery("foo{a=\"b\", foo!=\"bar\", test=~\"test\", bar!~\"baz\"}",
               vs("foo", [eq("a", "b"), neq("foo", "bar"), re("test", "test"), nre("bar", "baz")])),
    ValidQuery("{a=\"b\", foo!=\"bar\", \"foo\", test=~\"test\", bar!~\"baz\"}",
               vs(braces([eq("a", "b"), neq("foo", "bar"), eq("__name__", "foo"), re("test", "test"), nre("bar", "baz")]))),
    ValidQuery("foo{a=\"b\", foo!=\"bar\", test=~\"test\", bar!~\"baz\",}",
               vs("foo", [eq("a", "b"), neq("foo", "bar"), re("test", "test"), nre("bar", "baz")])),
    ValidQuery("{__name__=~\"bar\", __name__!~\"baz\"}", vs(braces([re("__name__", "bar"), nre("__name__", "baz")]))),
    ValidQuery("{__name__=\"bar\", __name__=\"baz\"}", vs(braces([eq("__name__", "bar"), eq("__name__", "baz")]))),
    ValidQuery("{\"bar\", __name__=\"baz\"}", vs(braces([eq("__name__", "bar"), eq("__name__", "baz")]))),
    ValidQuery("foo{}", vs("foo")),
    ValidQuery("foo { a = \"b\" # comment\n }", vs("foo", [eq("a", "b")])),
    ValidQuery("start{end=\"foo\"}", vs("start", [eq("end", "foo")])),
    ValidQuery("end{start=\"foo\"}", vs("end", [eq("start", "foo")])),
    ValidQuery("foo unless on(start) bar",
               bin(.unless, vs("foo"), vs("bar"), matching: .init(card: .manyToMany, on: true, matchingLabels: ["start"]))),

    // Range vector selectors.
    ValidQuery("test[1000ms]", matrix(sel("test"), 1000)),
    ValidQuery("test[1001ms]", matrix(sel("test"), 1001)),
    ValidQuery("test[5s]", matrix(sel("test"), 5 * second)),
    ValidQuery("test[5m]", matrix(sel("test"), 5 * minute)),
    ValidQuery("foo[5m30s]", matrix(sel("foo"), 5 * minute + 30 * second)),
    ValidQuery("foo[ 5m ]", matrix(sel("foo"), 5 * minute)),
    ValidQuery("test[5h] OFFSET 5m", matrix(sel("test", offset: 5 * minute), 5 * hour)),
    ValidQuery("test[5d] OFFSET 10s", matrix(sel("test", offset: 10 * second), 5 * day)),
    ValidQuery("test[5w] offset 2w", matrix(sel("test", offset: 2 * week), 5 * week)),
    ValidQuery("test{a=\"b\"}[5y] OFFSET 3d", matrix(sel("test", [eq("a", "b")], offset: 3 * day), 5 * year)),
    ValidQuery("test{a=\"b\"}[5m] OFFSET 3600", matrix(sel("test", [eq("a", "b")], offset: hour), 5 * minute)),
    ValidQuery("foo[3ms] @ 2.345", matrix(sel("foo", at: .timestamp(2345)), 3)),
    ValidQuery("foo[4s180ms] @ 2.345", matrix(sel("foo", at: .timestamp(2345)), 4180)),
    ValidQuery("foo[4.18] @ 2.345", matrix(sel("foo", at: .timestamp(2345)), 4180)),
    ValidQuery("foo[4s18ms] @ 2.345", matrix(sel("foo", at: .timestamp(2345)), 4018)),
    ValidQuery("foo[4.018] @ 2.345", matrix(sel("foo", at: .timestamp(2345)), 4018)),
    ValidQuery("test{a=\"b\"}[5y] @ 1603774699", matrix(sel("test", [eq("a", "b")], at: .timestamp(1_603_774_699_000)), 5 * year)),
    ValidQuery("test[5]", matrix(sel("test"), 5 * second)),
    ValidQuery("test[0x10]", matrix(sel("test"), 16 * second)),
    ValidQuery("some_metric[5m] @ 1m", matrix(sel("some_metric", at: .timestamp(60_000)), 5 * minute)),
    ValidQuery("test[5y] @ start()", matrix(sel("test", at: .start), 5 * year)),
    ValidQuery("test[5y] @ end()", matrix(sel("test", at: .end), 5 * year)),
    ValidQuery("offset{step=\"1s\"}[5m]", matrix(sel("offset", [eq("step", "1s")]), 5 * minute)),
    ValidQuery("step{offset=\"1s\"}[5m]", matrix(sel("step", [eq("offset", "1s")]), 5 * minute)),

    // Aggregations.
    ValidQuery("sum by (foo)(some_metric)", agg(.sum, vs("some_metric"), by: ["foo"])),
    ValidQuery("avg by (foo)(some_metric)", agg(.avg, vs("some_metric"), by: ["foo"])),
    ValidQuery("max by (foo)(some_metric)", agg(.max, vs("some_metric"), by: ["foo"])),
    ValidQuery("sum without (foo) (some_metric)", agg(.sum, vs("some_metric"), by: ["foo"], without: true)),
    ValidQuery("sum (some_metric) without (foo)", agg(.sum, vs("some_metric"), by: ["foo"], without: true)),
    ValidQuery("stddev(some_metric)", agg(.stddev, vs("some_metric"))),
    ValidQuery("stdvar by (foo)(some_metric)", agg(.stdvar, vs("some_metric"), by: ["foo"])),
    ValidQuery("sum by ()(some_metric)", agg(.sum, vs("some_metric"))),
    ValidQuery("sum by (foo,bar,)(some_metric)", agg(.sum, vs("some_metric"), by: ["foo", "bar"])),
    ValidQuery("sum by (foo,)(some_metric)", agg(.sum, vs("some_metric"), by: ["foo"])),
    ValidQuery("topk(5, some_metric)", agg(.topk, vs("some_metric"), param: num(5))),
    ValidQuery("bottomk(3, x)", agg(.bottomk, vs("x"), param: num(3))),
    ValidQuery("quantile(0.9, x)", agg(.quantile, vs("x"), param: num(0.9))),
    ValidQuery("limitk(2, x)", agg(.limitk, vs("x"), param: num(2))),
    ValidQuery("limit_ratio(0.5, x)", agg(.limitRatio, vs("x"), param: num(0.5))),
    ValidQuery("count_values(\"value\", some_metric)", agg(.countValues, vs("some_metric"), param: str("value"))),
    ValidQuery("group(x)", agg(.group, vs("x"))),
    ValidQuery("count(x)", agg(.count, vs("x"))),
    ValidQuery("min(x)", agg(.min, vs("x"))),
    ValidQuery("SUM BY (job) (x)", agg(.sum, vs("x"), by: ["job"])),
    ValidQuery("sum without(and, by, avg, count, alert, annotations)(some_metric)",
               agg(.sum, vs("some_metric"), by: ["and", "by", "avg", "count", "alert", "annotations"], without: true)),
    ValidQuery("sum by (\"foo bar\")({\"some.metric\"})",
               agg(.sum, vs(braces([eq("__name__", "some.metric")])), by: ["foo bar"])),
    ValidQuery("sum by (\"foo\", bar, 'baz')({\"some.metric\"})",
               agg(.sum, vs(braces([eq("__name__", "some.metric")])), by: ["foo", "bar", "baz"])),
    ValidQuery("sum by (a:b) (x)", agg(.sum, vs("x"), by: ["a:b"])),
    ValidQuery("sum(sum)", agg(.sum, vs("sum"))),
    ValidQuery("a + sum", bin(.add, vs("a"), vs("sum"))),
    ValidQuery("sum by (job) (rate(x[5m]))", agg(.sum, call("rate", matrix(sel("x"), 5 * minute)), by: ["job"])),
    ValidQuery("(sum(foo))", paren(agg(.sum, vs("foo")))),
    ValidQuery("topk(scalar(x), y)", agg(.topk, vs("y"), param: call("scalar", vs("x")))),

    // Function calls.
    ValidQuery("time()", call("time")),
    ValidQuery("pi()", call("pi")),
    ValidQuery("floor(some_metric{foo!=\"bar\"})", call("floor", vs("some_metric", [neq("foo", "bar")]))),
    ValidQuery("rate(some_metric[5m])", call("rate", matrix(sel("some_metric"), 5 * minute))),
    ValidQuery("round(some_metric)", call("round", vs("some_metric"))),
    ValidQuery("round(some_metric, 5)", call("round", vs("some_metric"), num(5))),
    ValidQuery("hour()", call("hour")),
    ValidQuery("hour(x)", call("hour", vs("x"))),
    ValidQuery("vector(1)", call("vector", num(1))),
    ValidQuery("scalar(x)", call("scalar", vs("x"))),
    ValidQuery("clamp(x, 0, 1)", call("clamp", vs("x"), num(0), num(1))),
    ValidQuery("predict_linear(x[1h], 3600)", call("predict_linear", matrix(sel("x"), hour), num(3600))),
    ValidQuery("quantile_over_time(0.5, x[5m])", call("quantile_over_time", num(0.5), matrix(sel("x"), 5 * minute))),
    ValidQuery("histogram_quantile(0.9, sum by (le) (rate(x[5m])))",
               call("histogram_quantile", num(0.9), agg(.sum, call("rate", matrix(sel("x"), 5 * minute)), by: ["le"]))),
    ValidQuery("label_replace(up, \"a\", \"$1\", \"b\", \"(.*)\")",
               call("label_replace", vs("up"), str("a"), str("$1"), str("b"), str("(.*)"))),
    ValidQuery("label_join(x, \"dst\", \",\", \"a\", \"b\", \"c\")",
               call("label_join", vs("x"), str("dst"), str(","), str("a"), str("b"), str("c"))),
    ValidQuery("sort_by_label(x, \"a\", \"b\")", call("sort_by_label", vs("x"), str("a"), str("b"))),
    ValidQuery("sort_by_label_desc(x, \"a\")", call("sort_by_label_desc", vs("x"), str("a"))),
    ValidQuery("double_exponential_smoothing(x[5m], 0.5, 0.5)",
               call("double_exponential_smoothing", matrix(sel("x"), 5 * minute), num(0.5), num(0.5))),
    ValidQuery("mad_over_time(x[5m])", call("mad_over_time", matrix(sel("x"), 5 * minute))),
    ValidQuery("ts_of_min_over_time(x[5m])", call("ts_of_min_over_time", matrix(sel("x"), 5 * minute))),
    ValidQuery("ts_of_max_over_time(x[5m])", call("ts_of_max_over_time", matrix(sel("x"), 5 * minute))),
    ValidQuery("ts_of_last_over_time(x[5m])", call("ts_of_last_over_time", matrix(sel("x"), 5 * minute))),
    ValidQuery("absent(nonexistent{job=\"x\"})", call("absent", vs("nonexistent", [eq("job", "x")]))),
    ValidQuery("timestamp(foo @ 10)", call("timestamp", vs("foo", at: .timestamp(10_000)))),

    // Subqueries.
    ValidQuery("foo{bar=\"baz\"}[10m:6s]", subquery(vs("foo", [eq("bar", "baz")]), 10 * minute, step: 6 * second)),
    ValidQuery("foo{bar=\"baz\"}[10m5s:1h6ms]",
               subquery(vs("foo", [eq("bar", "baz")]), 10 * minute + 5 * second, step: hour + 6)),
    ValidQuery("foo[10m:]", subquery(vs("foo"), 10 * minute)),
    ValidQuery("foo[10m:0s]", subquery(vs("foo"), 10 * minute)),
    ValidQuery("foo[600:30]", subquery(vs("foo"), 10 * minute, step: 30 * second)),
    ValidQuery("min_over_time(rate(foo{bar=\"baz\"}[2s])[5m:5s])",
               call("min_over_time", subquery(call("rate", matrix(sel("foo", [eq("bar", "baz")]), 2 * second)),
                                              5 * minute, step: 5 * second))),
    ValidQuery("min_over_time(rate(foo{bar=\"baz\"}[2s])[5m:])[4m:3s]",
               subquery(call("min_over_time", subquery(call("rate", matrix(sel("foo", [eq("bar", "baz")]), 2 * second)),
                                                       5 * minute)), 4 * minute, step: 3 * second)),
    ValidQuery("min_over_time(rate(foo{bar=\"baz\"}[2s])[5m:] offset 4m)[4m:3s]",
               subquery(call("min_over_time", subquery(call("rate", matrix(sel("foo", [eq("bar", "baz")]), 2 * second)),
                                                       5 * minute, offset: 4 * minute)), 4 * minute, step: 3 * second)),
    ValidQuery("min_over_time(rate(foo{bar=\"baz\"}[2s])[5m:] @ 1603775091)[4m:3s]",
               subquery(call("min_over_time", subquery(call("rate", matrix(sel("foo", [eq("bar", "baz")]), 2 * second)),
                                                       5 * minute, at: .timestamp(1_603_775_091_000))),
                        4 * minute, step: 3 * second)),
    ValidQuery("min_over_time(rate(foo{bar=\"baz\"}[2s])[5m:] @ -160377509)[4m:3s]",
               subquery(call("min_over_time", subquery(call("rate", matrix(sel("foo", [eq("bar", "baz")]), 2 * second)),
                                                       5 * minute, at: .timestamp(-160_377_509_000))),
                        4 * minute, step: 3 * second)),
    ValidQuery("sum without(and, by, avg, count, alert, annotations)(some_metric) [30m:10s]",
               subquery(agg(.sum, vs("some_metric"), by: ["and", "by", "avg", "count", "alert", "annotations"], without: true),
                        30 * minute, step: 10 * second)),
    ValidQuery("some_metric OFFSET 1m [10m:5s]", subquery(vs("some_metric", offset: minute), 10 * minute, step: 5 * second)),
    ValidQuery("some_metric @ 123 [10m:5s]",
               subquery(vs("some_metric", at: .timestamp(123_000)), 10 * minute, step: 5 * second)),
    ValidQuery("some_metric @ 123 offset 1m [10m:5s]",
               subquery(vs("some_metric", offset: minute, at: .timestamp(123_000)), 10 * minute, step: 5 * second)),
    ValidQuery("some_metric offset 1m @ 123 [10m:5s]",
               subquery(vs("some_metric", offset: minute, at: .timestamp(123_000)), 10 * minute, step: 5 * second)),
    ValidQuery("some_metric[10m:5s] offset 1m @ 123",
               subquery(vs("some_metric"), 10 * minute, step: 5 * second, offset: minute, at: .timestamp(123_000))),
    ValidQuery("(foo + bar{nm=\"val\"})[5m:]", subquery(paren(bin(.add, vs("foo"), vs("bar", [eq("nm", "val")]))), 5 * minute)),
    ValidQuery("(foo + bar{nm=\"val\"})[5m:] offset 10m",
               subquery(paren(bin(.add, vs("foo"), vs("bar", [eq("nm", "val")]))), 5 * minute, offset: 10 * minute)),
    ValidQuery("(foo + bar{nm=\"val\"} @ 1234)[5m:] @ 1603775019",
               subquery(paren(bin(.add, vs("foo"), vs("bar", [eq("nm", "val")], at: .timestamp(1_234_000)))), 5 * minute,
                        at: .timestamp(1_603_775_019_000))),
    ValidQuery("foo[10m:6s] @ start()", subquery(vs("foo"), 10 * minute, step: 6 * second, at: .start)),
    ValidQuery("foo[10m:6s] @ end()", subquery(vs("foo"), 10 * minute, step: 6 * second, at: .end)),
    ValidQuery("foo[10m:6s] offset -1m", subquery(vs("foo"), 10 * minute, step: 6 * second, offset: -minute)),

    // Strings.
    ValidQuery(#""double-quoted string \" with escaped quote""#, str("double-quoted string \" with escaped quote")),
    ValidQuery(#"'single-quoted string \' with escaped quote'"#, str("single-quoted string ' with escaped quote")),
    ValidQuery("`backtick-quoted string`", str("backtick-quoted string")),
    ValidQuery(#""\a\b\f\n\r\t\v\\\" - \u1234\U00010111\U0001011111☺""#,
               str("\u{07}\u{08}\u{0C}\n\r\t\u{0B}\\\" - \u{1234}\u{10111}\u{10111}11☺")),
    ValidQuery(#"'\a\b\f\n\r\t\v\\\' - \u1234\U00010111\U0001011111☺'"#,
               str("\u{07}\u{08}\u{0C}\n\r\t\u{0B}\\' - \u{1234}\u{10111}\u{10111}11☺")),
    ValidQuery("`" + #"\a\b\f\n\r\t\v\\\"\' - \xFF\377\u1234\U00010111\U0001011111☺"# + "`",
               str(#"\a\b\f\n\r\t\v\\\"\' - \xFF\377\u1234\U00010111\U0001011111☺"#)),
    ValidQuery("`multi\nline`", str("multi\nline")),
]

@Suite("PromQL parser: valid queries")
struct PromQLParserValidTests {
    @Test("parses to the expected tree", arguments: validQueries)
    func parsesToExpectedTree(_ c: ValidQuery) throws {
        let parsed = try PromQLParser.parse(c.query)
        #expect(parsed == c.expected, "parsed: \(parsed)")
    }

    @Test("printing round-trips to an equal tree", arguments: validQueries)
    func printRoundTrips(_ c: ValidQuery) throws {
        let parsed = try PromQLParser.parse(c.query)
        let printed = parsed.description
        let reparsed = try PromQLParser.parse(printed)
        #expect(reparsed == parsed, "printed: \(printed)")
        #expect(reparsed.description == printed)
    }

    @Test("trees compare unequal when they differ")
    func inequality() throws {
        #expect(try PromQLParser.parse("foo") != PromQLParser.parse("bar"))
        #expect(try PromQLParser.parse("foo offset 1m") != PromQLParser.parse("foo"))
        #expect(try PromQLParser.parse("foo[5m]") != PromQLParser.parse("foo[1m]"))
        #expect(try PromQLParser.parse("a + b") != PromQLParser.parse("a - b"))
        #expect(try PromQLParser.parse("a + b") != PromQLParser.parse("(a + b)"))
        #expect(try PromQLParser.parse("a * on(x) b") != PromQLParser.parse("a * ignoring(x) b"))
        #expect(try PromQLParser.parse("sum by (a) (x)") != PromQLParser.parse("sum without (a) (x)"))
        #expect(try PromQLParser.parse("foo{a=\"b\"}") != PromQLParser.parse("foo{a=~\"b\"}"))
        #expect(try PromQLParser.parse("{__name__=\"foo\"}") != PromQLParser.parse("foo"))
        // Matcher order does not matter.
        #expect(try PromQLParser.parse("foo{a=\"1\",b=\"2\"}") == PromQLParser.parse("foo{b=\"2\",a=\"1\"}"))
    }

    @Test("the bytes of escapes are decoded as UTF-8")
    func byteEscapes() throws {
        #expect(try PromQLParser.parse(#""\xc3\xa9\303\251""#) == str("éé"))
        #expect(try PromQLParser.parse(#""\x41\102\u00e9\U0001F600""#) == str("ABé😀"))
        // A lone byte that is not UTF-8 becomes U+FFFD.
        #expect(try PromQLParser.parse(#""\xFF\377""#) == str("\u{FFFD}\u{FFFD}"))
    }

    @Test("node types", arguments: [
        ("1", PromQLValueType.scalar), ("\"a\"", .string), ("foo", .vector), ("foo[5m]", .matrix),
        ("foo[5m:1m]", .matrix), ("(1)", .scalar), ("-foo", .vector), ("1 + 1", .scalar), ("foo + 1", .vector),
        ("1 < bool 2", .scalar), ("sum(foo)", .vector), ("time()", .scalar), ("rate(foo[1m])", .vector),
        ("scalar(foo)", .scalar), ("(foo[5m:])", .matrix),
    ])
    func nodeTypes(_ query: String, _ type: PromQLValueType) throws {
        #expect(try PromQLParser.parse(query).type == type)
    }

    @Test("positions of nodes")
    func positions() throws {
        let e = try PromQLParser.parse("sum by (job) (rate(http_requests_total[30m]))")
        #expect(e.positionRange == PromQLPositionRange(start: 0, end: 45))
        guard case .aggregate(let a) = e, case .call(let c) = a.expr, case .matrixSelector(let m) = c.args[0] else {
            Issue.record("unexpected tree \(e)")
            return
        }
        #expect(c.positionRange == PromQLPositionRange(start: 14, end: 44))
        #expect(m.positionRange == PromQLPositionRange(start: 19, end: 43))
        #expect(m.vectorSelector.positionRange == PromQLPositionRange(start: 19, end: 38))
        let n = try PromQLParser.parse(" -1")
        #expect(n.positionRange == PromQLPositionRange(start: 1, end: 3))
    }

    @Test("children and walk visit every node")
    func walking() throws {
        let e = try PromQLParser.parse("topk(3, sum by (a) (rate(x[5m])) + on(a) group_left y) or -z")
        var kinds: [String] = []
        e.walk { node in
            switch node {
            case .binary(let b): kinds.append(b.op.rawValue)
            case .aggregate(let a): kinds.append(a.op.rawValue)
            case .call(let c): kinds.append(c.function.name)
            case .vectorSelector(let v): kinds.append(v.name)
            case .matrixSelector: kinds.append("[]")
            case .number(let n): kinds.append(n.description)
            case .unary(let u): kinds.append("u" + u.op.rawValue)
            default: kinds.append("?")
            }
        }
        #expect(kinds == ["or", "topk", "3", "+", "sum", "rate", "[]", "x", "y", "u-", "z"])
        #expect(e.children.count == 2)
    }

    @Test("long operator chains parse, check, print and compare without deep recursion")
    func longChains() throws {
        let terms = 5000
        let query = Array(repeating: "a", count: terms).joined(separator: " or ")
        let e = try PromQLParser.parse(query)
        var operations = 0
        e.walk { if case .binary = $0 { operations += 1 } }
        #expect(operations == terms - 1)
        #expect(e.type == .vector)
        #expect(e.description == query)
        #expect(try PromQLParser.parse(e.description) == e)
        let sum = Array(repeating: "1", count: terms).joined(separator: "+")
        #expect(try PromQLParser.parse(sum).type == .scalar)
    }

    @Test("nesting is limited so that pathological queries fail instead of overflowing the stack")
    func nestingLimit() throws {
        let limit = PromQLParser.maxNesting
        let deepest = String(repeating: "(", count: limit - 1) + "1" + String(repeating: ")", count: limit - 1)
        #expect(try PromQLParser.parse(deepest).type == .scalar)
        let tooDeep = String(repeating: "(", count: limit) + "1" + String(repeating: ")", count: limit)
        #expect(parseError(tooDeep) == "1:\(limit + 1): parse error: query is nested too deeply: more than \(limit) levels")
        let calls = String(repeating: "abs(", count: limit) + "x" + String(repeating: ")", count: limit)
        #expect(parseError(calls)?.hasSuffix("parse error: query is nested too deeply: more than \(limit) levels") == true)
        let subqueries = "x" + String(repeating: "[5m:]", count: limit + 1)
        #expect(parseError(subqueries)?.hasSuffix("parse error: query is nested too deeply: more than \(limit) levels") == true)
    }
}
