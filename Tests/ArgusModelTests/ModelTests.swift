import ArgusModel
import Testing

@Suite struct ModelTests {
    @Test func labelsAreSortedAndPrinted() {
        let l = Labels([("job", "api"), ("__name__", "up"), ("a", "x\"y"), ("empty", "")])
        #expect(l.items.map(\.name) == ["__name__", "a", "job"])
        #expect(l.description == "up{a=\"x\\\"y\", job=\"api\"}")
        #expect(Labels([("a", "1")]).description == "{a=\"1\"}")
    }

    @Test(arguments: [("15d", 1_296_000_000 as Int64), ("1h30m", 5_400_000), ("500ms", 500), ("10y", 315_360_000_000), ("0", 0), ("2w", 1_209_600_000)])
    func durations(_ text: String, _ ms: Int64) throws {
        #expect(try PromDuration.parseMillis(text) == ms)
    }

    @Test(arguments: ["", "5", "1x", "m", "30m1h", "1.5h", "-1h"])
    func badDurations(_ text: String) {
        #expect(throws: ArgusError.self) { try PromDuration.parseMillis(text) }
    }

    @Test func formatDurations() {
        #expect(PromDuration.format(5_400_000) == "1h30m")
        #expect(PromDuration.format(1_209_600_000) == "2w")
        #expect(PromDuration.format(0) == "0s")
    }

    @Test func selectorParser() throws {
        let m = try SelectorParser.parse("http_requests_total{job=~\"api|web\", code!=\"500\"}")
        #expect(m.count == 3)
        #expect(m[0].description == "__name__=\"http_requests_total\"")
        #expect(m[1].matches("web") && !m[1].matches("webx"))
        #expect(throws: ArgusError.self) { try SelectorParser.parse("{job=~\".*\"}") }
        #expect(throws: ArgusError.self) { try SelectorParser.parse("up{job=\"a\"") }
        #expect(try SelectorParser.parse("{__name__=~\".+\"}").count == 1)
    }

    @Test func regexFastPathsAgreeWithFullRegex() throws {
        let cases: [(String, String, Bool)] = [
            (".*", "", true), (".+", "", false), ("abc", "abc", true), ("abc", "abcd", false),
            ("a|b", "b", true), ("foo.*", "foobar", true), ("foo.*", "xfoo", false), ("a.c", "abc", true),
            ("(?i)ABC", "abc", true), ("a\\.b", "a.b", true), ("a\\.b", "axb", false),
        ]
        for (re, s, expected) in cases {
            #expect(try Matcher(.regexMatch, "l", re).matches(s) == expected, "\(re) ~ \(s)")
        }
    }
}
