@testable import ArgusTerminal
import Testing

/// A two-dashboard set: "Main" (variable, a row, four panels) and "Other", plus a failed file.
func sampleDashboards() -> [LoadedDashboard] {
    let main = Dashboard(title: "Main", source: "main.yaml",
                         variables: [Variable(name: "service", kind: .query("label_values(up, service)"), includeAll: true),
                                     Variable(name: "env", kind: .custom(["prod", "dev"]))],
                         rangeMillis: 3_600_000, refreshMillis: 5000,
                         panels: [
                            Panel(title: "Rate", type: .timeseries, targets: [Target(expr: "rate(x[1m])")]),
                            Panel(title: "Errors", type: .stat, width: 6, height: 5, targets: [Target(expr: "errors")]),
                            Panel(title: "Logs", type: .logs, width: 24, targets: [Target(expr: "{service_name=~\".+\"}")]),
                            Panel(title: "Traces", type: .traces, width: 24, targets: [Target(expr: "{ status = error }")]),
                            Panel(title: "More", type: .row, collapsed: true,
                                  children: [Panel(title: "Hidden", type: .text, content: "hi")]),
                         ])
    let other = Dashboard(title: "Other", source: "other.yaml", rangeMillis: 900_000,
                          panels: [Panel(title: "Up", type: .gauge, targets: [Target(expr: "up")])])
    return [.ok(main), .failed(DashboardError(file: "bad.yaml", line: 3, column: 5, message: "broken")), .ok(other)]
}

func spansForTest() -> [TraceSpan] {
    [TraceSpan(traceID: "t1", spanID: "a", parentID: "", name: "GET /", service: "web", startNanos: 0, endNanos: 100),
     TraceSpan(traceID: "t1", spanID: "b", parentID: "a", name: "pay", service: "payments", startNanos: 10, endNanos: 60, statusCode: 2),
     TraceSpan(traceID: "t1", spanID: "c", parentID: "b", name: "db", service: "payments", startNanos: 20, endNanos: 30)]
}

@Suite struct DashStateTests {
    let now: Int64 = 1_700_000_000_000

    func press(_ s: inout DashState, _ keys: Key..., data: DashData = DashData()) -> [DashAction] {
        var out: [DashAction] = []
        for k in keys { out += s.handle(k, data: data, nowMillis: now) }
        return out
    }

    @Test func focusMovesWithTabAndShiftTabAndWraps() {
        var s = DashState(dashboards: sampleDashboards())
        #expect(s.focusedPanel?.title == "Rate")
        _ = press(&s, .tab, .tab)
        #expect(s.focusedPanel?.title == "Logs")
        _ = press(&s, .backTab, .backTab, .backTab)
        #expect(s.focusedPanel?.title == "More")
        _ = press(&s, .tab)
        #expect(s.focusedPanel?.title == "Rate")
    }

    @Test func enterEnlargesEscGoesBackAndQQuits() {
        var s = DashState(dashboards: sampleDashboards())
        _ = press(&s, .enter)
        #expect(s.mode == .enlarged)
        _ = press(&s, .esc)
        #expect(s.mode == .dashboard)
        #expect(press(&s, .char("q")) == [.quit])
        #expect(press(&s, .char("?")) == [])
        #expect(s.mode == .help)
        _ = press(&s, .esc)
        #expect(s.mode == .dashboard)
        #expect(press(&s, .ctrlC) == [.quit])
    }

    @Test func enterOnARowOpensAndClosesIt() {
        var s = DashState(dashboards: sampleDashboards())
        s.focus = 4
        _ = press(&s, .enter)
        #expect(s.dashboard!.panels.map(\.title) == ["Rate", "Errors", "Logs", "Traces", "More", "Hidden"])
        #expect(s.dashboard!.panels[4].collapsed == false)
        _ = press(&s, .enter)
        #expect(s.dashboard!.panels.map(\.title) == ["Rate", "Errors", "Logs", "Traces", "More"])
        #expect(s.dashboard!.panels[4].children.map(\.title) == ["Hidden"])
    }

    @Test func zoomAndPanTheTimeRange() {
        var s = DashState(dashboards: sampleDashboards())
        #expect(press(&s, .char("+")) == [.refresh])
        #expect(s.rangeMillis == 1_800_000 && s.endMillis == nil)
        _ = press(&s, .char("-"), .char("-"))
        #expect(s.rangeMillis == 7_200_000)
        #expect(press(&s, .char("]")) == [])  // live: nothing later to pan to
        #expect(press(&s, .char("[")) == [.refresh])
        #expect(s.endMillis == now - 3_600_000)
        #expect(s.timeRange(nowMillis: now) == (Double(now - 10_800_000) / 1000, Double(now - 3_600_000) / 1000))
        // Zooming a fixed range keeps its middle.
        _ = press(&s, .char("+"))
        #expect(s.rangeMillis == 3_600_000)
        #expect(s.endMillis == now - 3_600_000 - 1_800_000)
        _ = press(&s, .char("]"), .char("]"), .char("]"))
        #expect(s.endMillis == nil)  // back to live
        for _ in 0..<20 { _ = press(&s, .char("+")) }
        #expect(s.rangeMillis == DashState.minRangeMillis)
    }

    @Test func pauseAndRefresh() {
        var s = DashState(dashboards: sampleDashboards())
        #expect(press(&s, .char("p")) == [])
        #expect(s.paused)
        #expect(press(&s, .char("p")) == [.refresh])
        #expect(press(&s, .char("r")) == [.refresh])
    }

    @Test func variablesPickerSetsAValue() {
        var s = DashState(dashboards: sampleDashboards())
        var data = DashData()
        data.variableOptions["service"] = ["cart", "web"]
        #expect(s.variableValues == ["service": "All", "env": "prod"])
        _ = press(&s, .char("v"), data: data)
        #expect(s.mode == .variables)
        _ = press(&s, .enter, data: data)
        #expect(s.mode == .variableOptions(0))
        #expect(s.selection == 0)  // "All" is selected now
        #expect(press(&s, .down, .down, .enter, data: data) == [.reloadVariables])
        #expect(s.variableValues["service"] == "web")
        #expect(s.mode == .dashboard)
        _ = press(&s, .char("v"), .down, .enter, .down, .enter, data: data)
        #expect(s.variableValues["env"] == "dev")
    }

    @Test func settlingReplacesValuesThatAreNoLongerOffered() {
        var s = DashState(dashboards: sampleDashboards())
        s.variableValues["service"] = "gone"
        var data = DashData()
        data.variableOptions["service"] = ["cart"]
        s.settleVariables(data)
        #expect(s.variableValues["service"] == "All")
    }

    @Test func filterIsLiveAndEscRestoresThePreviousOne() {
        var s = DashState(dashboards: sampleDashboards())
        _ = press(&s, .char("/"), .char("e"), .char("r"), .char("x"), .backspace)
        #expect(s.mode == .filter && s.filter == "er")
        _ = press(&s, .enter)
        #expect(s.mode == .dashboard && s.filter == "er")
        _ = press(&s, .char("/"), .char("z"), .esc)
        #expect(s.filter == "er")
        _ = press(&s, .esc)
        #expect(s.filter == "")
        #expect(s.matchesFilter("anything"))
    }

    @Test func switcherSkipsFailedDashboards() {
        var s = DashState(dashboards: sampleDashboards())
        s.rangeMillis = 60_000
        _ = press(&s, .char(":"))
        #expect(s.mode == .switcher && s.selection == 0)
        #expect(press(&s, .down, .enter) == [])  // the failed one
        #expect(s.current == 0 && s.mode == .switcher)
        #expect(press(&s, .down, .enter) == [.reloadVariables])
        #expect(s.current == 2 && s.dashboard?.title == "Other")
        #expect(s.rangeMillis == 900_000)
        #expect(s.mode == .dashboard && s.focus == 0)
        #expect(s.variableValues.isEmpty)
    }

    @Test func exemplarToTraceToSpanLogs() {
        var s = DashState(dashboards: sampleDashboards())
        let rate = s.dashboard!.panels[0]
        var data = DashData()
        data.panels[rate.id] = .series([], exemplars: [
            ExemplarPoint(seriesName: "x", labels: ["trace_id": "t0"], time: 1, value: 1),
            ExemplarPoint(seriesName: "x", labels: [:], time: 2, value: 2),  // no trace id: not offered
            ExemplarPoint(seriesName: "x", labels: ["trace_id": "t1"], time: 3, value: 3),
        ])
        _ = press(&s, .char("e"), data: data)
        #expect(s.mode == .exemplars)
        #expect(s.exemplars(data).count == 2)
        #expect(press(&s, .down, .down, .enter, data: data) == [.openTrace("t1")])
        #expect(s.mode == .trace)
        data.traceID = "t1"
        data.trace = .loaded(spansForTest())
        #expect(s.traceRows(data).map(\.span.spanID) == ["a", "b", "c"])
        _ = press(&s, .down, .left, data: data)  // fold "b"
        #expect(s.traceRows(data).map(\.span.spanID) == ["a", "b"])
        _ = press(&s, .right, data: data)
        #expect(s.traceRows(data).count == 3)
        _ = press(&s, .down, .left, data: data)  // "c" has no children: go to its parent
        #expect(s.selection == 1)
        let actions = press(&s, .char("l"), data: data)
        guard case .openLogs(let q, let start, let end)? = actions.first, actions.count == 1 else {
            Issue.record("expected openLogs, got \(actions)")
            return
        }
        #expect(q == "{service_name=\"payments\"} | trace_id=\"t1\"")
        #expect(abs(start - (10e-9 - 60)) < 1e-6 && abs(end - (60e-9 + 60)) < 1e-6)
        #expect(s.mode == .spanLogs)
        _ = press(&s, .esc, .esc, .esc, data: data)
        #expect(s.mode == .dashboard)
    }

    @Test func tracesPanelOpensTheSelectedTraceAndLogsOpenTheirTrace() {
        var s = DashState(dashboards: sampleDashboards())
        var data = DashData()
        let traces = s.dashboard!.panels[3], logs = s.dashboard!.panels[2]
        data.panels[traces.id] = .traces([TraceSummary(traceID: "aa", rootService: "web", rootName: "GET", startNanos: 0, durationMs: 1),
                                          TraceSummary(traceID: "bb", rootService: "web", rootName: "GET", startNanos: 0, durationMs: 1)])
        data.panels[logs.id] = .logs([LogLine(timeNanos: 2, line: "ok", labels: [:]),
                                      LogLine(timeNanos: 1, line: "failed", labels: [:], metadata: ["trace_id": "cc"])])
        s.focus = 3
        #expect(press(&s, .enter, .down, .down, .down, .enter, data: data) == [.openTrace("bb")])
        s = DashState(dashboards: sampleDashboards())
        s.focus = 2
        #expect(press(&s, .enter, .enter, data: data) == [])  // first line has no trace
        #expect(press(&s, .char("j"), .enter, data: data) == [.openTrace("cc")])
        // The filter narrows the rows the selection moves over.
        s = DashState(dashboards: sampleDashboards())
        s.focus = 2
        s.filter = "fail"
        #expect(press(&s, .enter, .enter, data: data) == [.openTrace("cc")])
    }
}
