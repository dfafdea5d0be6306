import Foundation

/// A fixed 12-panel dashboard with deterministic data, one panel of every kind: the golden
/// screens in the tests and `argus-bench dash` draw it, so their figures are comparable.
public enum SampleDashboard {
    public static let end: Double = 1_700_000_000  // 2023-11-14T22:13:20Z
    public static let start: Double = end - 3600

    public static func dashboard() -> Dashboard {
        func t(_ e: String, _ l: String? = nil) -> [Target] { [Target(expr: e, legend: l)] }
        let green = Color.named("green")!, orange = Color.named("orange")!, red = Color.named("red")!
        return Dashboard(title: "Shop overview", source: "sample.yaml",
                         variables: [Variable(name: "service", kind: .custom(["cart", "checkout", "payments"]), includeAll: true)],
                         rangeMillis: 3_600_000, refreshMillis: 10_000, panels: [
            Panel(title: "Requests", type: .row, width: 24, height: 1),
            Panel(title: "Request rate", type: .timeseries, width: 12, height: 8, targets: t("rate", "{{service}}"), unit: "reqps",
                  thresholds: [Threshold(value: nil, color: green), Threshold(value: 40, color: red)]),
            Panel(title: "p95 latency", type: .timeseries, width: 12, height: 8, targets: t("p95", "{{service}}"), unit: "s"),
            Panel(title: "Errors", type: .stat, width: 6, height: 6, targets: t("errors"),
                  thresholds: [Threshold(value: nil, color: green), Threshold(value: 5, color: orange), Threshold(value: 20, color: red)]),
            Panel(title: "Availability", type: .gauge, width: 6, height: 6, targets: t("avail"), unit: "percentunit", min: 0, max: 1,
                  thresholds: [Threshold(value: nil, color: red), Threshold(value: 0.99, color: green)]),
            Panel(title: "Calls between services", type: .bargauge, width: 6, height: 6, targets: t("graph", "{{client}} → {{server}}"), unit: "reqps"),
            Panel(title: "Notes", type: .text, width: 6, height: 6, content: "# Shop\nSpan metrics from the **demo shop**; 日本語 wide text."),
            Panel(title: "Slowest operations", type: .table, width: 12, height: 8, targets: t("slow"), unit: "s"),
            Panel(title: "Latency heatmap", type: .heatmap, width: 12, height: 8, targets: t("heat"), unit: "s"),
            Panel(title: "Logs", type: .logs, width: 12, height: 9, targets: t("{service_name=~\".+\"}")),
            Panel(title: "Error traces", type: .traces, width: 12, height: 9, targets: t("{ status = error }")),
            Panel(title: "Service map", type: .unsupported, width: 24, height: 3, targets: t("x"),
                  content: "panel type \"nodeGraph\" is not supported by argus dash", unsupportedType: "nodeGraph"),
        ])
    }

    /// Data for `dashboard()` as numbered by `DashState`.
    public static func data(for state: DashState) -> DashData {
        var data = DashData()
        guard let d = state.dashboard else { return data }
        let times = stride(from: start, through: end, by: 15).map { $0 }
        func wave(_ phase: Double, _ base: Double, _ amp: Double) -> [Double] {
            times.enumerated().map { i, _ in base + amp * sin(Double(i) / 20 + phase) + amp / 3 * sin(Double(i) / 3.7 + phase * 2) }
        }
        let services = ["cart", "checkout", "payments"]
        for p in d.panels {
            switch p.title {
            case "Request rate":
                data.panels[p.id] = .series(services.enumerated().map { i, s in
                    SeriesData(labels: ["service": s], name: s, times: times, values: wave(Double(i), 30 - Double(i) * 8, 6))
                }, exemplars: [ExemplarPoint(seriesName: "checkout", labels: ["trace_id": "4bf92f3577b34da6a3ce929d0e0e4736"], time: start + 1800, value: 25),
                               ExemplarPoint(seriesName: "cart", labels: ["trace_id": "00f067aa0ba902b7aa0ba902b700f067"], time: start + 3000, value: 33)])
            case "p95 latency":
                data.panels[p.id] = .series(services.enumerated().map { i, s in
                    SeriesData(labels: ["service": s], name: s, times: times, values: wave(Double(i) + 0.5, 0.12 + Double(i) * 0.05, 0.03))
                }, exemplars: [])
            case "Errors":
                data.panels[p.id] = .series([SeriesData(labels: [:], name: "errors", times: times, values: wave(0, 9, 3))], exemplars: [])
            case "Availability":
                data.panels[p.id] = .vector([VectorSample(labels: [:], name: "avail", time: end, value: 0.9973)])
            case "Calls between services":
                data.panels[p.id] = .vector([("web", "cart", 41.2), ("web", "checkout", 12.5), ("checkout", "payments", 11.9)].map {
                    VectorSample(labels: ["client": $0.0, "server": $0.1], name: "\($0.0) → \($0.1)", time: end, value: $0.2)
                })
            case "Slowest operations":
                data.panels[p.id] = .vector([("payments", "POST /charge", 1.42), ("checkout", "PlaceOrder", 0.61), ("cart", "GetCart", 0.043)].map {
                    let labels = ["service": $0.0, "span_name": $0.1]
                    return VectorSample(labels: labels, name: SeriesName.labelText(labels), time: end, value: $0.2)
                })
            case "Latency heatmap":
                let les = ["0.005", "0.01", "0.05", "0.1", "0.5", "1", "+Inf"]
                data.panels[p.id] = .series(les.enumerated().map { i, le in
                    SeriesData(labels: ["le": le], name: le, times: times,
                               values: times.indices.map { k in Double(i + 1) * 10 + Double(k % 20) * Double(i) * 0.4 })
                }, exemplars: [])
            case "Logs":
                let base = Int64(end * 1e9)
                data.panels[p.id] = .logs([
                    LogLine(timeNanos: base - 1_000_000_000, line: "payment declined: card expired", labels: ["service_name": "payments", "level": "error"],
                            metadata: ["trace_id": "4bf92f3577b34da6a3ce929d0e0e4736"]),
                    LogLine(timeNanos: base - 2_000_000_000, line: "circuit breaker half-open", labels: ["service_name": "checkout", "level": "warn"]),
                    LogLine(timeNanos: base - 3_000_000_000, line: "order 1042 placed", labels: ["service_name": "checkout", "level": "info"]),
                    LogLine(timeNanos: base - 4_000_000_000, line: "cache miss for cart 77", labels: ["service_name": "cart", "level": "debug"]),
                ])
            case "Error traces":
                let base = Int64(end * 1e9)
                data.panels[p.id] = .traces([
                    TraceSummary(traceID: "4bf92f3577b34da6a3ce929d0e0e4736", rootService: "web", rootName: "POST /checkout", startNanos: base - 1_500_000_000, durationMs: 812),
                    TraceSummary(traceID: "a3ce929d0e0e47364bf92f3577b34da6", rootService: "web", rootName: "GET /cart", startNanos: base - 9_000_000_000, durationMs: 95),
                ])
            default: break
            }
        }
        return data
    }

    /// The trace behind the first exemplar and log line.
    public static func trace() -> [TraceSpan] {
        let t = "4bf92f3577b34da6a3ce929d0e0e4736"
        let b = Int64(end * 1e9) - 1_500_000_000
        return [
            TraceSpan(traceID: t, spanID: "1000000000000001", parentID: "", name: "POST /checkout", service: "web", kind: "server", startNanos: b, endNanos: b + 812_000_000, statusCode: 2),
            TraceSpan(traceID: t, spanID: "1000000000000002", parentID: "1000000000000001", name: "PlaceOrder", service: "checkout", kind: "server", startNanos: b + 5_000_000, endNanos: b + 800_000_000, statusCode: 2,
                      statusMessage: "payment failed"),
            TraceSpan(traceID: t, spanID: "1000000000000003", parentID: "1000000000000002", name: "GetCart", service: "cart", kind: "client", startNanos: b + 10_000_000, endNanos: b + 52_000_000),
            TraceSpan(traceID: t, spanID: "1000000000000004", parentID: "1000000000000002", name: "POST /charge", service: "payments", kind: "client", startNanos: b + 60_000_000, endNanos: b + 790_000_000, statusCode: 2,
                      statusMessage: "card expired", attributes: [("http.status_code", "402"), ("payment.provider", "acme")]),
        ]
    }
}
