@testable import ArgusQuery
import ArgusModel
import Testing

@Suite struct LogQLParserTests {
    func error(_ q: String) -> String {
        do {
            _ = try LogQLEngine.parse(q)
            return "no error"
        } catch let e as ArgusError {
            return e.message
        } catch {
            return "\(error)"
        }
    }

    @Test(arguments: [
        #"{service_name="checkout"}"#,
        #"{service_name="checkout", level!="debug"} |= "timeout" != "retry" |~ "t.me" !~ "x+""#,
        #"{a="b"} |= "x" or "y""#,
        #"{a="b"} | json | duration > 2s and status >= 500 or size < 10KB"#,
        #"{a="b"} | logfmt --strict | level="error", msg=~"time.*""#,
        #"{a="b"} | json first="servers[0]", nested="a.b" | line_format "{{.first}} {{ .nested | ToUpper }}""#,
        #"{a="b"} | regexp "(?P<method>\\w+) (?P<path>\\S+)" | pattern "<_> <code>" | unpack | decolorize"#,
        #"{a="b"} | label_format new=old, tpl="{{.x}}-y" | drop a, b="c" | keep service_name"#,
        #"count_over_time({a="b"}[5m])"#,
        #"sum by (level) (count_over_time({service_name=~".+"}[5m]))"#,
        #"topk(3, sum without (pod) (rate({a="b"} |= "x" [1m])))"#,
        #"quantile_over_time(0.99, {a="b"} | json | unwrap duration(latency) [5m]) by (route)"#,
        #"sum(rate({a="b"}[5m])) / sum(rate({a="c"}[5m])) > bool 0.5"#,
        #"sum by (x) (bytes_rate({a="b"}[1m])) * on(x) group_left(y) sum by (x, y) (count_over_time({a="c"}[1m]))"#,
        #"sort_desc(sum by (a) (count_over_time({a="b"}[1h] offset 5m)))"#,
        #"absent_over_time({a="b"}[5m]) + 1"#,
        #"count_over_time(({a="b"} | json)[5m])"#,
    ])
    func validQueriesParse(_ q: String) throws {
        _ = try LogQLEngine.parse(q)
    }

    @Test func errorsCarryLokiPositionAndMessage() {
        #expect(error(#"{service_name="checkout"} |= "#) == "parse error at line 1, col 30: syntax error: unexpected $end, expecting STRING")
        #expect(error(#"{service_name="checkout"} |= "timeout" | json | duration > "#)
            == "parse error at line 1, col 60: syntax error: unexpected $end, expecting STRING or NUMBER or DURATION or BYTES")
        #expect(error(#"{service_name="a" | json"#) == "parse error at line 1, col 19: syntax error: unexpected |, expecting , or }")
        #expect(error("{a=\"b\"}\n| foo") .hasPrefix("parse error at line 2, col 3: syntax error: unexpected IDENTIFIER"))
        #expect(error(#"sum(count_over_time({a="b"}[5x]))"#).hasPrefix("parse error at line 1, col 29: syntax error: unexpected"))
        #expect(error(#"{a=~".*"}"#).hasPrefix("parse error at line 1, col 1: queries require at least one regexp or equality matcher"))
        #expect(error(#"sum_over_time({a="b"}[5m])"#) == "parse error at line 1, col 1: invalid aggregation sum_over_time without unwrap")
        #expect(error(#"{a="b"} | regexp "(unclosed""#).hasPrefix("parse error at line 1, col 18: syntax error: invalid regexp"))
        #expect(error("") == "parse error at line 1, col 1: syntax error: unexpected $end")
    }

    /// Strings unquote with Go's escapes, as Loki's do (`|~ "\\bword\\b"` needs `\\b`; a plain
    /// `\b` is a backspace).
    @Test func stringsUnquoteWithGoEscapes() throws {
        let toks = try LogQLLexer(#"|= "\a\b\f\v\x41\101\u0041\U00000041\t\"\\" |~ "\\bx\\b""#).tokenize()
        let strings = toks.filter { $0.kind == .string }.map(\.text)
        #expect(strings == ["\u{07}\u{08}\u{0C}\u{0B}AAAA\t\"\\", #"\bx\b"#])
        for bad in [#"{a="b"} |= "\q""#, #"{a="b"} |= "\x4""#, #"{a="b"} |= "\400""#, #"{a="b"} |= "\UFFFFFFFF""#] {
            #expect(error(bad).hasPrefix("parse error at line 1, col"), "\(bad)")
        }
    }

    @Test func metricQueriesBecomePromQLWithLeafSelectors() throws {
        guard case .metric(let m) = try LogQLEngine.parse(#"sum by (level) (rate({a="b"}[5m])) / on(level) group_left sum by (level) (count_over_time({a="c"}[5m]))"#) else {
            Issue.record("not a metric query")
            return
        }
        var n = 0
        let text = LogQLEngine.promQL(m, &n)
        #expect(n == 2)
        #expect(text == #"(sum by (level) ({__logql_leaf__="0"})) / on(level) group_left() (sum by (level) ({__logql_leaf__="1"}))"#)
        _ = try PromQLEngine.parse(text)
    }

    @Test func durationsAndBytes() {
        #expect(LogQLDuration.parseNanos("1h30m") == 5_400_000_000_000)
        #expect(LogQLDuration.parseNanos("250ms") == 250_000_000)
        #expect(LogQLDuration.seconds("1.5s") == 1.5)
        #expect(LogQLDuration.parseNanos("5x") == nil)
        #expect(LogQLBytes.parse("10KB") == 10_000)
        #expect(LogQLBytes.parse("2MiB") == 2_097_152)
    }
}
