@testable import ArgusTerminal
import Foundation
import Testing

/// Golden screens: the sample dashboard rendered at the sizes the issue names, compared with
/// files under golden/. Set ARGUS_UPDATE_GOLDEN=1 to rewrite them after a deliberate change
/// (and read the diff).
@Suite struct RenderTests {
    let nowMillis = Int64(SampleDashboard.end * 1000)

    func sampleState() -> DashState { DashState(dashboards: [.ok(SampleDashboard.dashboard())]) }

    func render(_ state: DashState, _ data: DashData, _ w: Int, _ h: Int, charset: Charset = .braille) -> Screen {
        DashRenderer(charset: charset).render(state, data, width: w, height: h, nowMillis: nowMillis)
    }

    func golden(_ name: String, _ screen: Screen) {
        let path = packageRoot + "/Tests/ArgusTerminalTests/golden/" + name + ".txt"
        let text = screen.text + "\n"
        if ProcessInfo.processInfo.environment["ARGUS_UPDATE_GOLDEN"] != nil {
            try? text.write(toFile: path, atomically: true, encoding: .utf8)
            return
        }
        guard let want = try? String(contentsOfFile: path, encoding: .utf8) else {
            Issue.record("missing golden file \(path); run with ARGUS_UPDATE_GOLDEN=1")
            return
        }
        if want != text {
            let a = want.split(separator: "\n", omittingEmptySubsequences: false), b = text.split(separator: "\n", omittingEmptySubsequences: false)
            let first = zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }
            Issue.record("\(name) differs at line \((first?.offset ?? min(a.count, b.count)) + 1):\nwant: \(first.map { String($0.element.0) } ?? "")\ngot:  \(first.map { String($0.element.1) } ?? "")")
        }
    }

    @Test(arguments: [(80, 24), (120, 40), (200, 60)])
    func dashboardGoldenScreens(_ size: (Int, Int)) {
        let state = sampleState()
        let screen = render(state, SampleDashboard.data(for: state), size.0, size.1)
        golden("dashboard-\(size.0)x\(size.1)", screen)
    }

    @Test func everyPanelShowsItsContentAt200x60() {
        let state = sampleState()
        let s = render(state, SampleDashboard.data(for: state), 200, 60)
        for needle in ["Request rate", "p95 latency", "web → cart", "41.2 req/s", "99.73%", "POST /charge", "1.42 s",
                       "payment declined: card expired", "ERROR", "4bf92f3577b34da6", "812 ms", "日本語 wide",
                       "panel type \"nodeGraph\" is not supported", "$service=All", "last 1h · live"] {
            #expect(s.find(needle) != nil, "\(needle) not on screen")
        }
        // The braille chart has dots; the legend shows last/min/max.
        #expect(s.text.unicodeScalars.contains { (0x2801...0x28FF).contains($0.value) })
        #expect(s.find("last ") != nil && s.find(" max ") != nil)
    }

    @Test func coloursFollowThresholdsSeverityAndFocus() throws {
        let state = sampleState()
        let data = SampleDashboard.data(for: state)
        let s = render(state, data, 200, 60)
        // The stat's last value is between 5 and 20: orange.
        let d = state.dashboard!
        guard case .series(let ser, _)? = data.panels[d.panels[3].id], let last = ser[0].last else { Issue.record("no stat data"); return }
        let text = ValueFormat.format(last, unit: "")
        let pos = try #require(s.find(text))
        #expect(s[pos.x, pos.y].style.fg == Color.named("orange"))
        #expect(s[pos.x, pos.y].style.attrs & Style.bold != 0)
        // Gauge at 99.73% is past the 0.99 step: green.
        let g = try #require(s.find("99.73%"))
        #expect(s[g.x, g.y].style.fg == Color.named("green"))
        // Log severities.
        let e = try #require(s.find("ERROR"))
        #expect(s[e.x, e.y].style.fg == .rgb(0xF2, 0x49, 0x5C))
        let w = try #require(s.find("WARN"))
        #expect(s[w.x, w.y].style.fg == .rgb(0xFA, 0xDE, 0x2A))
        // The focused panel (the row header) is highlighted; the first chart is not focused.
        let row = try #require(s.find("▾ Requests"))
        #expect(s[row.x, row.y].style.attrs & Style.reverse != 0)
        let chart = try #require(s.find("Request rate"))
        #expect(s[chart.x - 2, chart.y].text == "─" || s[chart.x - 2, chart.y].text == "╭")
    }

    @Test func focusMovesTheHeavyBorder() throws {
        var state = sampleState()
        _ = state.handle(.tab, data: DashData(), nowMillis: nowMillis)
        let s = render(state, SampleDashboard.data(for: state), 120, 40)
        let t = try #require(s.find("Request rate"))
        #expect(s[t.x - 2, t.y].text == "┏")
        #expect(s[t.x, t.y].style.fg == .brightCyan)
    }

    @Test func charsetFallbacksUseNoBraille() {
        let state = sampleState()
        let data = SampleDashboard.data(for: state)
        let block = render(state, data, 120, 40, charset: .block)
        #expect(!block.text.unicodeScalars.contains { (0x2801...0x28FF).contains($0.value) })
        #expect(block.text.unicodeScalars.contains { "▘▝▀▖▌▞▛▗▚▐▜▄▙▟".unicodeScalars.contains($0) })
        let ascii = render(state, data, 120, 40, charset: .ascii)
        #expect(!ascii.text.unicodeScalars.contains { (0x2801...0x28FF).contains($0.value) || (0x2580...0x259F).contains($0.value) })
    }

    @Test func enlargedPanelsOverlaysAndTheTraceWaterfall() throws {
        var state = sampleState()
        var data = SampleDashboard.data(for: state)
        func press(_ k: Key...) -> [DashAction] { k.flatMap { state.handle($0, data: data, nowMillis: nowMillis) } }
        _ = press(.tab, .enter)
        var s = render(state, data, 120, 40)
        #expect(s.find("┏ Request rate") != nil && s.find("p95 latency") == nil)
        #expect(s.find("◆") != nil)  // exemplars marked
        #expect(press(.char("e")) == [])
        s = render(state, data, 120, 40)
        #expect(s.find("Exemplars") != nil && s.find("4bf92f3577b34da6a3ce929d0e0e4736") != nil)
        #expect(press(.enter) == [.openTrace("4bf92f3577b34da6a3ce929d0e0e4736")])
        data.traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
        data.trace = .loaded(SampleDashboard.trace())
        _ = press(.down, .down, .down)
        s = render(state, data, 120, 40)
        golden("trace-120x40", s)
        #expect(s.find("4 spans · 4 services · 812ms · 3 errors") != nil)
        #expect(s.find("status ERROR: card expired") != nil)
        #expect(s.find("http.status_code = 402") != nil)
        let err = try #require(s.find("✖"))
        #expect(s[err.x, err.y].style.fg == .rgb(0xF2, 0x49, 0x5C))
        _ = press(.esc, .esc, .esc, .char("?"))
        s = render(state, data, 80, 24)
        #expect(s.find("Keys") != nil && s.find("zoom the time range") != nil)
        _ = press(.esc, .char("v"))
        s = render(state, data, 80, 24)
        #expect(s.find("Variables") != nil && s.find("All") != nil)
        _ = press(.esc, .char("/"), .char("c"), .char("a"), .char("r"))
        s = render(state, data, 120, 40)
        #expect(s.line(39).contains("/car▏"))
        _ = press(.enter)
        s = render(state, data, 120, 40)
        #expect(s.line(39).contains("filter: car"))
        #expect(s.find("payments") == nil || s.find("cart") != nil)
    }

    @Test func tablesNameSeriesByLegendAndDropConstantLabels() {
        let panel = Panel(title: "T", type: .table, targets: [Target(expr: "x", legend: "{{k}} blocks")], unit: "bytes",
                          thresholds: [Threshold(value: nil, color: .default), Threshold(value: 1000, color: Color.named("red")!)])
        let state = DashState(dashboards: [.ok(Dashboard(title: "D", panels: [panel]))])
        var data = DashData()
        let id = state.dashboard!.panels[0].id
        data.panels[id] = .vector([
            VectorSample(labels: ["__name__": "m", "job": "a", "k": "x"], name: "x blocks", time: 0, value: 512),
            VectorSample(labels: ["__name__": "m", "job": "a", "k": "y"], name: "y blocks", time: 0, value: 2048),
        ])
        let s = render(state, data, 60, 10)
        #expect(s.find("Series   k") != nil, "\(s.text)")
        #expect(s.find("job") == nil)  // the same in every row
        #expect(s.find("x blocks x") != nil)
        let big = s.find("2 KiB")!
        #expect(s[big.x, big.y].style.fg == Color.named("red"))
        let small = s.find("512 B")!
        #expect(s[small.x, small.y].style.fg == .default)
    }

    @Test func smallAndResizedScreensReflow() {
        let state = sampleState()
        let data = SampleDashboard.data(for: state)
        let a = render(state, data, 100, 30), b = render(state, data, 160, 50)
        #expect(a.width == 100 && b.width == 160)
        #expect(a.find("Request rate") != nil && b.find("Request rate") != nil)
        #expect(render(state, data, 10, 3).text == "terminal t\n\n")
        // Resizing through the writer redraws in full.
        var w = DiffWriter(mode: .ansi256)
        _ = w.frame(a)
        let bytes = String(decoding: w.frame(b), as: UTF8.self)
        #expect(bytes.hasPrefix("\u{1B}[0m\u{1B}[2J"))
    }
}
