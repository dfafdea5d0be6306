import ArgusModel
import ArgusStorage
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import ServiceLifecycle

/// One target to scrape, after relabeling.
public final class ScrapeTarget: @unchecked Sendable {
    public let job: ScrapeJob
    public let url: String
    /// The target's labels (job, instance and the static/relabeled ones), no `__` labels.
    public let labels: Labels
    /// Series written by the last successful scrape (for staleness markers).
    var previous = Set<Labels>()

    init(job: ScrapeJob, url: String, labels: Labels) {
        self.job = job
        self.url = url
        self.labels = labels
    }

    /// Builds a job's targets from its static configs and relabel rules.
    public static func targets(for job: ScrapeJob) -> [ScrapeTarget] {
        var out: [ScrapeTarget] = []
        for sc in job.staticConfigs {
            for address in sc.targets {
                var ls = sc.labels
                ls["job"] = job.name
                ls["__address__"] = address
                ls["__scheme__"] = job.scheme
                ls["__metrics_path__"] = job.metricsPath
                ls["__scrape_interval__"] = PromDuration.format(job.interval)
                ls["__scrape_timeout__"] = PromDuration.format(job.timeout)
                for (k, v) in job.params { if let first = v.first { ls["__param_" + k] = first } }
                guard var final = RelabelConfig.apply(job.relabel, to: ls), let addr = final["__address__"], !addr.isEmpty else { continue }
                if final["instance"] == nil { final["instance"] = addr }
                var query: [String] = []
                for (k, v) in final where k.hasPrefix("__param_") {
                    query.append(k.dropFirst(8).addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed)! + "=" + v.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed)!)
                }
                for (k, vs) in job.params where vs.count > 1 {
                    for v in vs.dropFirst() { query.append(k + "=" + (v.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? v)) }
                }
                let url = (final["__scheme__"] ?? "http") + "://" + addr + (final["__metrics_path__"] ?? "/metrics") + (query.isEmpty ? "" : "?" + query.sorted().joined(separator: "&"))
                let visible = final.filter { !$0.key.hasPrefix("__") }
                out.append(ScrapeTarget(job: job, url: url, labels: Labels(visible)))
            }
        }
        return out
    }
}

/// Scrapes `/metrics` targets on their intervals and stores what they expose, with Prometheus'
/// `up`, `scrape_duration_seconds`, `scrape_samples_scraped`, `scrape_samples_post_metric_relabeling`
/// and `scrape_series_added`, and staleness markers for series (and targets) that disappear.
/// Every target runs in its own task, so one that hangs or fails never delays the others.
public struct Scraper: Service {
    let store: MetricStore
    public let targets: [ScrapeTarget]
    let logger: Logger
    static let accept = "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4,*/*;q=0.1"
    static let maxBody = 64 << 20

    public init(store: MetricStore, jobs: [ScrapeJob], logger: Logger) {
        self.store = store
        self.targets = jobs.flatMap { ScrapeTarget.targets(for: $0) }
        self.logger = logger
    }

    public func run() async throws {
        await withDiscardingTaskGroup { group in
            for t in targets {
                group.addTask { await loop(t) }
            }
        }
    }

    func loop(_ t: ScrapeTarget) async {
        let interval = t.job.interval
        // Spread targets over the interval, stably per target.
        var h: UInt64 = 1469598103934665603
        for b in t.url.utf8 { h = (h ^ UInt64(b)) &* 1099511628211 }
        let now = TimeUtil.nowMillis()
        let offset = Int64(h % UInt64(interval))
        var next = (now / interval) * interval + offset
        if next < now { next += interval }
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let wait = next - TimeUtil.nowMillis()
            if wait > 0 {
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(wait)) }
            }
            if Task.isCancelled || Task.isShuttingDownGracefully { break }
            await scrapeOnce(t)
            next += interval
            let late = TimeUtil.nowMillis()
            if next <= late { next += ((late - next) / interval + 1) * interval }
        }
    }

    /// Scrapes a target once and stores the result; never throws (failures become `up` 0).
    public func scrapeOnce(_ t: ScrapeTarget) async {
        let start = TimeUtil.nowMillis()
        let t0 = TimeUtil.monotonicNanos()
        var parsed: [ParsedSample] = []
        var failure: String?
        do {
            parsed = try await fetch(t)
        } catch {
            failure = "\(error)"
        }
        let duration = Double(TimeUtil.monotonicNanos() - t0) / 1e9
        let store = self.store
        do {
            try await runBlocking { try Scraper.store(parsed, failure: failure, into: store, target: t, at: start, duration: duration) }
        } catch {
            logger.warning("storing a scrape failed", metadata: ["target": "\(t.url)", "error": "\(error)"])
        }
        if let failure {
            logger.debug("scrape failed", metadata: ["target": "\(t.url)", "error": "\(failure)"])
        }
    }

    func fetch(_ t: ScrapeTarget) async throws -> [ParsedSample] {
        var req = HTTPClientRequest(url: t.url)
        req.headers.add(name: "Accept", value: Scraper.accept)
        req.headers.add(name: "User-Agent", value: "Argus")
        req.headers.add(name: "X-Prometheus-Scrape-Timeout-Seconds", value: String(Double(t.job.timeout) / 1000))
        let timeout = t.job.timeout
        return try await withThrowingTaskGroup(of: [ParsedSample]?.self) { group in
            group.addTask {
                let resp = try await HTTPClient.shared.execute(req, timeout: .milliseconds(timeout))
                guard resp.status == .ok else { throw ArgusError(.unavailable, "server returned HTTP status \(resp.status.code) \(resp.status.reasonPhrase)") }
                let body = try await resp.body.collect(upTo: Scraper.maxBody)
                let ct = resp.headers.first(name: "content-type")?.lowercased() ?? ""
                let format: TextExpositionParser.Format = ct.hasPrefix("application/openmetrics-text") ? .openMetrics : .prometheusText
                let bytes = Array(body.readableBytesView)
                var metadata: [String: MetricMetadata]? = [:]
                let parsed = try TextExpositionParser(format: format).parse(bytes, metadata: &metadata)
                for (name, m) in metadata ?? [:] { store.metadata.record(name, m) }
                return parsed
            }
            group.addTask {
                try await Task.sleep(for: .milliseconds(timeout))
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let result = first else {
                throw ArgusError(.timeout, "context deadline exceeded (scrape timeout \(PromDuration.format(timeout)))")
            }
            return result
        }
    }

    /// Appends one scrape's samples, report series and staleness markers.
    static func store(_ parsed: [ParsedSample], failure: String?, into store: MetricStore, target t: ScrapeTarget,
                      at time: Int64, duration: Double) throws {
        let app = store.appender()
        var current = Set<Labels>()
        var added = 0
        var postRelabel = 0
        if failure == nil {
            for s in parsed {
                guard let labels = merge(s.labels, t) else { continue }
                postRelabel += 1
                let ts = t.job.honorTimestamps ? (s.timestamp ?? time) : time
                if (try? app.append(labels, ts, s.value)) != nil {
                    if current.insert(labels).inserted && !t.previous.contains(labels) { added += 1 }
                }
            }
        }
        // Series that were there last time and are gone now (or the whole target, on failure).
        for gone in t.previous.subtracting(current) {
            _ = try? app.append(gone, time, StaleNaN.value)
        }
        t.previous = current
        func report(_ name: String, _ v: Double) {
            _ = try? app.append(t.labels.setting(Labels.metricName, name), time, v)
        }
        report("up", failure == nil ? 1 : 0)
        report("scrape_duration_seconds", duration)
        report("scrape_samples_scraped", Double(failure == nil ? parsed.count : 0))
        report("scrape_samples_post_metric_relabeling", Double(postRelabel))
        report("scrape_series_added", Double(added))
        try app.commit(skipInvalid: true)
    }

    /// Merges target labels into a scraped series (honor_labels rules) and applies
    /// metric_relabel_configs; nil when the series is dropped.
    static func merge(_ sample: Labels, _ t: ScrapeTarget) -> Labels? {
        var ls: [String: String] = [:]
        for l in sample.items { ls[l.name] = l.value }
        for l in t.labels.items {
            if let existing = ls[l.name] {
                if t.job.honorLabels { continue }
                var exported = "exported_" + l.name
                while ls[exported] != nil { exported = "exported_" + exported }
                ls[exported] = existing
            }
            ls[l.name] = l.value
        }
        if !t.job.metricRelabel.isEmpty {
            guard let r = RelabelConfig.apply(t.job.metricRelabel, to: ls) else { return nil }
            ls = r
        }
        let labels = Labels(ls)
        return labels.metricName == nil ? nil : labels
    }
}
