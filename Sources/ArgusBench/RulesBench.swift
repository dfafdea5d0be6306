import ArgusModel
import ArgusQuery
import ArgusRules
import ArgusStorage
import Foundation

/// `argus-bench rules [--series N] [--evals E]`: rule group evaluation over a store (PromQL,
/// recording output written back, an alerting rule with templates producing one alert per
/// series), the alert state machine alone, and webhook payload encoding.
func runRulesBench(_ args: [String]) async throws {
    var series = 10_000
    var evals = 20
    var i = 0
    while i < args.count {
        switch args[i] {
        case "--series": series = Int(args[i + 1]) ?? series; i += 2
        case "--evals": evals = Int(args[i + 1]) ?? evals; i += 2
        default: FileHandle.standardError.write(Data("unknown option \(args[i])\n".utf8)); exit(2)
        }
    }
    let dir = NSTemporaryDirectory() + "argus-rules-bench-" + UUID().uuidString
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var opts = StorageOptions(dataDir: dir)
    opts.retention = 100 * 365 * 86_400_000
    let store = try MetricStore(options: opts)
    defer { store.close() }
    // One hour of 15 s samples per series, counters rising at per-series rates.
    let step: Int64 = 15_000
    let t0: Int64 = 1_700_000_000_000
    let points = 240
    var labels: [Labels] = []
    for s in 0..<series {
        labels.append(Labels([("__name__", "bench_requests_total"), ("service", "svc-\(s % 50)"), ("instance", "i-\(s)"), ("job", "bench")]))
    }
    for p in 0..<points {
        let app = store.appender()
        for (s, l) in labels.enumerated() { try app.append(l, t0 + Int64(p) * step, Double(p * (1 + s % 7))) }
        try app.commit()
    }
    let spec = try RuleFileLoader.parse("""
        groups:
          - name: bench
            rules:
              - record: service:bench_requests:rate5m
                expr: sum by (service) (rate(bench_requests_total[5m]))
              - alert: BenchBusy
                expr: rate(bench_requests_total[5m]) > 0
                labels:
                  severity: warning
                annotations:
                  summary: "{{ $labels.instance }} of {{ $labels.service }} serves {{ $value | humanize }} requests/s"
                  ratio: "{{ printf \\"%.2f\\" $value }}"
        """, file: "bench.yml")[0]
    var group = RuleGroup(spec: spec, defaultIntervalMs: 15_000)
    let query = RuleQueryFuncs.forPromQL(engine: PromQLEngine(), store: store)
    let start = t0 + 3_600_000 - Int64(evals) * step
    let written = LockedBox(0)
    let wall0 = TimeUtil.monotonicNanos()
    let cpu0 = cpuNanos()
    for e in 0..<evals {
        let ts = start + Int64(e) * step
        await group.evaluate(at: ts, query: query, externalLabels: Labels(), externalURL: "http://bench") { samples, stale, ts in
            let app = store.appender()
            for (l, v) in samples { _ = try? app.append(l, ts, v) }
            for l in stale { _ = try? app.append(l, ts, StaleNaN.value) }
            _ = try? app.commit(skipInvalid: true)
            written.withLock { $0 += samples.count }
        }
    }
    let wall = Double(TimeUtil.monotonicNanos() - wall0) / 1e9
    let cpu = Double(cpuNanos() - cpu0) / 1e9
    let alerts = group.rules[1].state?.alerts.count ?? 0
    print("rule group: \(series) series, \(evals) evaluations, \(alerts) alerts: \(fmt(wall / Double(evals) * 1000, 1)) ms per evaluation "
          + "(\(fmt(cpu / Double(evals) * 1000, 1)) ms CPU), \(fmt(Double(series * evals) / cpu / 1000, 1)) k alerts evaluated per CPU-second "
          + "(query, templates, state, ALERTS written), \(written.withLock { $0 }) samples written")

    // The state machine alone, with pre-expanded results.
    var state = AlertingRuleState(name: "BenchBusy", forMs: 60_000, keepFiringForMs: 0)
    let results = labels.map { (labels: $0.withoutMetricName.setting("alertname", "BenchBusy"), annotations: Labels([("summary", "x")]), value: 1.0) }
    let stateSeconds = seconds {
        for e in 0..<evals { _ = state.evaluate(results, at: start + Int64(e) * step) }
    }
    print("alert state machine: \(fmt(Double(series * evals) / stateSeconds / 1e6, 2)) M alert updates/s")

    // Template expansion alone.
    let tmpl = try Template.parse("{{ $labels.instance }} of {{ $labels.service }} serves {{ $value | humanize }} requests/s", name: "__alert_BenchBusy")
    let data = TemplateData(labels: ["instance": "i-1", "service": "svc-1"], value: 1234.5)
    let n = 200_000
    let tmplSeconds = try seconds {
        for _ in 0..<n { _ = try tmpl.execute(data) }
    }
    print("template expansion: \(fmt(Double(n) / tmplSeconds / 1000, 0)) k expansions/s")

    // Webhook payloads.
    let nalerts = group.rules[1].state!.alerts.prefix(1000).map {
        NotifierAlert(labels: $0.labels, annotations: $0.annotations, startsAt: $0.activeAt, endsAt: $0.activeAt + 240_000, generatorURL: "http://bench/graph")
    }
    var bytes = 0
    let payloads = 200
    let encSeconds = seconds {
        for _ in 0..<payloads {
            bytes += WebhookPayload.encode(receiver: "r", groupKey: "{}:{alertname=\"BenchBusy\"}", groupLabels: Labels([("alertname", "BenchBusy")]),
                                           alerts: nalerts, maxAlerts: 0, externalURL: "http://bench", now: start).utf8.count
        }
    }
    print("webhook payload: \(nalerts.count) alerts, \(bytes / payloads) bytes, \(fmt(encSeconds / Double(payloads) * 1000, 2)) ms per message, "
          + "\(fmt(Double(bytes) / encSeconds / 1e6, 0)) MB/s")
}
