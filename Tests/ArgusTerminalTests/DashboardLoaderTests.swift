@testable import ArgusTerminal
import ArgusTestKit
import Foundation
import Testing

@Suite struct DashboardLoaderTests {
    @Test func loadsRowsPanelsVariablesAndThresholds() throws {
        let yaml = """
        title: Demo
        refresh: 5s
        time: 2h
        variables:
          - name: service
            query: label_values(up, service)
            all: true
          - name: env
            values: [prod, staging]
          - name: iv
            interval: 1m, 5m
        rows:
          - title: First
            panels:
              - title: Rate
                query: rate(x[$iv])
                legend: "{{service}}"
                unit: reqps
                width: 8
                thresholds: [{color: green}, {value: 10, color: red}]
              - title: Big
                type: stat
                queries: [up, {expr: down, legend: d}]
                thresholds: {base: blue, 5: "#ff0000"}
          - title: Hidden
            collapsed: true
            panels:
              - title: Notes
                type: text
                text: hello
        """
        let d = try DashboardLoader.load(yaml: yaml, source: "demo.yaml")
        #expect(d.title == "Demo")
        #expect(d.refreshMillis == 5000)
        #expect(d.rangeMillis == 7_200_000)
        #expect(d.variables.map(\.name) == ["service", "env", "iv"])
        #expect(d.variables[0].kind == .query("label_values(up, service)"))
        #expect(d.variables[0].includeAll)
        #expect(d.variables[1].kind == .custom(["prod", "staging"]))
        #expect(d.variables[2].kind == .interval(["1m", "5m"]))
        #expect(d.panels.map(\.type) == [.row, .timeseries, .stat, .row])
        #expect(d.panels[1].targets == [Target(expr: "rate(x[$iv])", legend: "{{service}}")])
        #expect(d.panels[1].width == 8)
        #expect(d.panels[1].thresholdColor(3) == Color.named("green"))
        #expect(d.panels[1].thresholdColor(12) == Color.named("red"))
        #expect(d.panels[2].targets.map(\.expr) == ["up", "down"])
        #expect(d.panels[2].targets.map(\.refId) == ["A", "B"])
        #expect(d.panels[2].thresholdColor(7) == .rgb(255, 0, 0))
        #expect(d.panels[2].thresholdColor(1) == Color.named("blue"))
        #expect(d.panels[3].collapsed)
        #expect(d.panels[3].children.map(\.title) == ["Notes"])
        #expect(d.panels[1].line == 15)
    }

    @Test func errorsNameFileLineAndColumn() {
        func err(_ yaml: String) -> String {
            do { _ = try DashboardLoader.load(yaml: yaml, source: "d.yaml"); return "no error" } catch { return "\(error)" }
        }
        #expect(err("title: x\npanels:\n  - title: a\n    qurey: up\n")
                .hasPrefix("d.yaml:4:5: panel: unknown field \"qurey\""))
        #expect(err("title: x\npanels:\n  - title: a\n    type: pie\n    query: up\n")
                == "d.yaml:4:11: unknown panel type \"pie\" (known: timeseries, stat, gauge, bargauge, table, heatmap, logs, traces, text)")
        #expect(err("title: x\nrefresh: soon\npanels: []\n") == "d.yaml:2:10: refresh: \"soon\" is not a duration (like 30s, 5m, 1h)")
        #expect(err("title: x\npanels:\n  - title: a\n") == "d.yaml:3:5: panel \"a\" (timeseries) needs a query")
        #expect(err("title: [x\n").hasPrefix("d.yaml:2:1: YAML:"))
        #expect(err("panels: []\n") == "d.yaml:1:1: dashboard: missing \"title\"")
        #expect(err("title: x\nvariables:\n  - name: v\n    query: up\npanels: [{title: a, query: up}]\n")
                == "d.yaml:4:12: variable v: query must be label_values(label) or label_values(selector, label)")
        #expect(err("title: x\npanels:\n  - {title: a, query: up, grid: {x: 20, y: 0, w: 8, h: 4}}\n")
                .hasPrefix("d.yaml:3:33: grid: x+w must be within 24 columns"))
    }

    @Test func aBrokenFileDoesNotStopTheOthers() throws {
        let dir = TempDir("dash")
        defer { dir.remove() }
        try "title: A\npanels: [{title: p, query: up}]\n".write(toFile: dir.path + "/a.yaml", atomically: true, encoding: .utf8)
        try "title: B\npanels:\n  - title: p\n    query: up\n    width: 30\n".write(toFile: dir.path + "/b.yaml", atomically: true, encoding: .utf8)
        try "title: C\npanels: [{title: q, type: text, text: hi}]\n".write(toFile: dir.path + "/c.yml", atomically: true, encoding: .utf8)
        try "not a dashboard".write(toFile: dir.path + "/notes.txt", atomically: true, encoding: .utf8)
        let all = DashboardLoader.loadDirectory(dir.path)
        #expect(all.count == 3)
        #expect(all[0].dashboard?.title == "A")
        #expect(all[1].error?.description == dir.path + "/b.yaml:5:12: width must be 1…24 grid columns")
        #expect(all[2].dashboard?.title == "C")
        // The dashboard still renders, with the error in the footer.
        let state = DashState(dashboards: all)
        let screen = DashRenderer().render(state, DashData(), width: 160, height: 20, nowMillis: 1_700_000_000_000)
        #expect(screen.line(0).contains("argus ▸ A"))
        #expect(screen.line(19).contains("⚠ b.yaml:5:12: width must be 1…24"))
    }

    @Test func shippedDashboardsLoad() throws {
        let all = DashboardLoader.loadDirectory(packageRoot + "/dashboards")
        #expect(all.count >= 2)
        for d in all { #expect(d.error == nil, "\(d.error?.description ?? "")") }
        let shop = try #require(all.compactMap(\.dashboard).first { $0.title == "Shop overview" })
        let exprs = shop.panels.flatMap(\.targets).map(\.expr)
        #expect(exprs.contains { $0.contains("traces_spanmetrics_calls_total") })
        #expect(exprs.contains { $0.contains("traces_spanmetrics_latency_bucket") })
        #expect(exprs.contains { $0.contains("traces_service_graph_request_total") })
        #expect(shop.panels.contains { $0.type == .logs && $0.targets.first?.expr == "{service_name=~\".+\"}" })
        #expect(shop.panels.contains { $0.type == .traces && $0.targets.first?.expr == "{ status = error }" })
        let argus = try #require(all.compactMap(\.dashboard).first { $0.title == "Argus self-monitoring" })
        let aexprs = argus.panels.flatMap(\.targets).map(\.expr).joined(separator: "\n")
        for m in ["argus_ingested_samples_total", "argus_ingest_rejected_total", "argus_wal_fsync_duration_seconds_total",
                  "argus_head_series", "argus_query_duration_seconds_bucket"] {
            #expect(aexprs.contains(m), "\(m)")
        }
    }
}

@Suite struct GrafanaImporterTests {
    @Test func importsTheExampleDashboard() throws {
        let path = packageRoot + "/dashboards/grafana/argus-overview.json"
        let loaded = DashboardLoader.loadFile(path)
        let d = try #require(loaded.dashboard, "\(loaded.error?.description ?? "")")
        #expect(d.title == "Argus overview (Grafana)")
        #expect(d.rangeMillis == 15 * 60_000)
        #expect(d.refreshMillis == 10_000)
        #expect(d.variables.map(\.name) == ["job", "quantile", "window"])
        #expect(d.variables[0].kind == .query("label_values(up, job)"))
        #expect(d.variables[0].current == "argus")
        #expect(d.variables[1].kind == .custom(["0.5", "0.9", "0.99"]))
        #expect(d.variables[2].kind == .interval(["1m", "5m", "10m"]))
        #expect(d.panels.map(\.type) == [.row, .timeseries, .stat, .gauge, .row, .timeseries, .bargauge, .stat, .table, .text, .unsupported, .row])
        let ts = d.panels[1]
        #expect(ts.grid == GridPos(x: 0, y: 1, w: 12, h: 8))
        #expect(ts.targets == [Target(expr: "sum by (protocol) (rate(argus_ingested_samples_total{job=\"$job\"}[$window]))", legend: "{{protocol}}", refId: "A")])
        #expect(ts.thresholds == [Threshold(value: nil, color: Color.named("green")!), Threshold(value: 100000, color: Color.named("red")!)])
        #expect(d.panels[3].unit == "percentunit")
        #expect(d.panels[3].max == 1)
        #expect(d.panels[5].unit == "reqps")  // legacy graph: yaxes[0].format
        let single = d.panels[7]
        #expect(single.unit == "bytes")
        #expect(single.thresholds.count == 3)
        #expect(single.thresholdColor(5e8) == .rgb(0xd4, 0x4a, 0x3a))
        #expect(d.panels[9].content.hasPrefix("# Argus"))
        #expect(d.panels[10].unsupportedType == "piechart")
        #expect(d.panels[10].content == "panel type \"piechart\" is not supported by argus dash")
        #expect(d.panels[11].collapsed)
        #expect(d.panels[11].children.map(\.title) == ["Query duration p$quantile"])
    }

    @Test func badJSONIsReportedWithItsLine() {
        let r = DashboardLoader.loadFile(writeTemp("{\n  \"title\": \"x\",\n  \"panels\": [ }\n]}", "bad.json"))
        #expect(r.error?.line == 3)
        #expect(r.error?.message == "not valid JSON")
        let r2 = DashboardLoader.loadFile(writeTemp("{\"title\": \"x\"}", "nopanels.json"))
        #expect(r2.error?.message == "no \"panels\" (or legacy \"rows\"): not a Grafana dashboard")
    }

    @Test func legacyRowsAndAPIWrapper() throws {
        let json = """
        {"dashboard": {"title": "Old", "rows": [
          {"title": "R", "height": "300px", "panels": [
            {"type": "graph", "title": "g", "span": 6, "targets": [{"expr": "up"}]},
            {"type": "singlestat", "title": "s", "span": 6, "targets": [{"expr": "up", "hide": true}]}
          ]}]}, "meta": {}}
        """
        let d = try GrafanaImporter.load(json: Data(json.utf8), source: "old.json")
        #expect(d.title == "Old")
        #expect(d.panels.map(\.type) == [.row, .timeseries, .stat])
        #expect(d.panels[1].width == 12)
        #expect(d.panels[1].height == 10)
        #expect(d.panels[2].targets.isEmpty)
        #expect(d.panels[2].content == "no query (targets[].expr) in this panel")
    }

    func writeTemp(_ text: String, _ name: String) -> String {
        let path = NSTemporaryDirectory() + "argus-dash-" + UUID().uuidString.prefix(6) + "-" + name
        try? text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}
