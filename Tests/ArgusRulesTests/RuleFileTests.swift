import ArgusModel
import ArgusRules
import Testing

/// Rule files load as Prometheus reads them, and every problem is reported with file:line.
@Suite struct RuleFileTests {
    @Test func loadsEveryField() throws {
        let groups = try RuleFileLoader.parse("""
            groups:
              - name: shop
                interval: 30s
                limit: 10
                query_offset: 1m
                labels:
                  team: shop
                rules:
                  - record: job:up:sum
                    expr: sum by (job) (up)
                    labels:
                      source: rules
                  - alert: InstanceDown
                    expr: up == 0
                    for: 5m
                    keep_firing_for: 10m
                    labels:
                      severity: page
                    annotations:
                      summary: "{{ $labels.instance }} down"
              - name: logs
                language: logql
                rules:
                  - alert: Burst
                    expr: sum(count_over_time({app="x"}[5m])) > 1
            """, file: "shop.yml")
        #expect(groups.count == 2)
        let g = groups[0]
        #expect(g.name == "shop" && g.intervalMs == 30_000 && g.limit == 10 && g.queryOffsetMs == 60_000)
        #expect(g.labels.map { "\($0.0)=\($0.1)" } == ["team=shop"])
        #expect(g.rules.count == 2)
        #expect(g.rules[0].record == "job:up:sum" && !g.rules[0].isAlert)
        #expect(g.rules[1].alert == "InstanceDown" && g.rules[1].forMs == 300_000 && g.rules[1].keepFiringForMs == 600_000)
        #expect(g.rules[1].line == 13)
        #expect(groups[1].language == .logql && groups[1].intervalMs == nil)
    }

    func errors(_ text: String) -> [String] {
        do {
            _ = try RuleFileLoader.parse(text, file: "bad.yml")
            return []
        } catch {
            return error.errors.map(\.description)
        }
    }

    @Test func reportsProblemsWithFileAndLine() {
        #expect(errors("""
            groups:
              - name: example
                rules:
                  - record: job:up:sum
                    expr: sum by (job) (up
            """) == ["bad.yml: 5:15: group \"example\", rule 1, \"job:up:sum\": could not parse expression: 1:17: parse error: unclosed left parenthesis"])
        #expect(errors("""
            groups:
              - name: example
                rules:
                  - alert: X
                    expr: up == 0
                    forr: 5m
            """) == ["bad.yml: yaml: unmarshal errors:\n  line 6: field forr not found in type rulefmt.RuleNode"])
        #expect(errors("""
            groups:
              - name: example
                rules:
                  - alert: X
                    expr: up == 0
                    annotations:
                      a: "{{ $labels.instance "
            """) == ["bad.yml: group \"example\", rule 1, \"X\": annotation \"a\": template: __alert_X:1: unclosed action"])
        let e = errors("""
            groups:
              - name: a
                rules:
                  - record: bad name
                    expr: up
              - name: a
                rules:
                  - alert: Y
                    record: z
                    expr: up
            """)
        #expect(e.count == 3)
        // The positions promtool reports for the same file.
        #expect(e.contains("bad.yml: 4:17: group \"a\", rule 1, \"bad name\": invalid recording rule name: bad name"))
        #expect(e.contains("bad.yml: 6:5: groupname: \"a\" is repeated in the same file"))
        #expect(e.contains("bad.yml: 9:17: 8:16: group \"a\", rule 1, \"Y\": only one of 'record' and 'alert' must be set"))
        #expect(errors("groups:\n  - name: x\n    interval: 5 minutes\n    rules: []\n").first?.contains("not a valid duration string") == true)
        #expect(errors("groups: [\n").first?.hasPrefix("bad.yml: 2:") == true)
    }

    @Test func expandingSeriesNotation() throws {
        #expect(try SeriesNotation.expand("1+1x3") == [1, 2, 3, 4])
        #expect(try SeriesNotation.expand("-2+4x3") == [-2, 2, 6, 10])
        #expect(try SeriesNotation.expand("10-2x2 _x2 5x1") == [10, 8, 6, nil, nil, 5, 5])
        // Not hexadecimal: zero, three more times.
        #expect(try SeriesNotation.expand("0x3") == [0, 0, 0, 0])
        let s = try SeriesNotation.expand("1 stale _")
        #expect(s.count == 3 && StaleNaN.isStale(s[1]!) && s[2] == nil)
        #expect(throws: ArgusError.self) { try SeriesNotation.expand("1+x") }
        #expect(try SeriesNotation.parseMetric("up{job=\"a\", instance=\"x\"}") == Labels([("__name__", "up"), ("job", "a"), ("instance", "x")]))
    }
}
