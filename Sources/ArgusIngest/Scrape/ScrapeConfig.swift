import ArgusModel
import Foundation
import Yams

/// A scrape job from Prometheus' `scrape_configs` format.
public struct ScrapeJob: Sendable {
    public var name: String
    public var interval: Int64 = 60_000
    public var timeout: Int64 = 10_000
    public var metricsPath = "/metrics"
    public var scheme = "http"
    public var params: [String: [String]] = [:]
    public var staticConfigs: [(targets: [String], labels: [String: String])] = []
    public var honorLabels = false
    public var honorTimestamps = true
    public var relabel: [RelabelConfig] = []
    public var metricRelabel: [RelabelConfig] = []

    public init(name: String) { self.name = name }
}

/// Loads a scrape configuration file (the `global` and `scrape_configs` parts of a Prometheus
/// configuration). Errors name the file and the field.
public enum ScrapeConfigLoader {
    public static func load(path: String) throws -> [ScrapeJob] {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ArgusError(.badInput, "\(path): cannot read the scrape configuration: \(error.localizedDescription)")
        }
        return try parse(text, file: path)
    }

    public static func parse(_ text: String, file: String = "<config>") throws -> [ScrapeJob] {
        let root: Any?
        do { root = try Yams.load(yaml: text) } catch {
            throw ArgusError(.badInput, "\(file): invalid YAML: \(error)")
        }
        guard let doc = root as? [String: Any] else {
            if root == nil { return [] }
            throw ArgusError(.badInput, "\(file): expected a mapping with scrape_configs")
        }
        func fail(_ path: String, _ why: String) -> ArgusError { ArgusError(.badInput, "\(file): \(path): \(why)") }
        var globalInterval: Int64 = 60_000
        var globalTimeout: Int64 = 10_000
        for key in doc.keys where !["global", "scrape_configs", "rule_files", "alerting", "remote_write", "remote_read", "storage"].contains(key) {
            throw fail(key, "field \(key) not found in the configuration")
        }
        if let g = doc["global"] as? [String: Any] {
            if let v = g["scrape_interval"] { globalInterval = try duration(v, "global.scrape_interval", fail) }
            if let v = g["scrape_timeout"] { globalTimeout = try duration(v, "global.scrape_timeout", fail) }
        }
        guard let list = doc["scrape_configs"] else { return [] }
        guard let jobs = list as? [Any] else { throw fail("scrape_configs", "expected a list") }
        var out: [ScrapeJob] = []
        var names = Set<String>()
        for (i, j) in jobs.enumerated() {
            let at = "scrape_configs[\(i)]"
            guard let m = j as? [String: Any] else { throw fail(at, "expected a mapping") }
            guard let name = m["job_name"] as? String, !name.isEmpty else { throw fail(at, "job_name is required") }
            guard names.insert(name).inserted else { throw fail(at, "found multiple scrape configs with job name \"\(name)\"") }
            var job = ScrapeJob(name: name)
            job.interval = globalInterval
            job.timeout = min(globalTimeout, globalInterval)
            let known: Set<String> = ["job_name", "scrape_interval", "scrape_timeout", "metrics_path", "scheme", "params", "static_configs",
                                      "honor_labels", "honor_timestamps", "relabel_configs", "metric_relabel_configs"]
            for k in m.keys where !known.contains(k) { throw fail(at, "field \(k) is not supported") }
            if let v = m["scrape_interval"] { job.interval = try duration(v, at + ".scrape_interval", fail) }
            if let v = m["scrape_timeout"] { job.timeout = try duration(v, at + ".scrape_timeout", fail) } else { job.timeout = min(globalTimeout, job.interval) }
            guard job.timeout <= job.interval else {
                throw fail(at, "scrape timeout greater than scrape interval for scrape config with job name \"\(name)\"")
            }
            guard job.interval > 0 else { throw fail(at, "scrape_interval must be positive") }
            if let v = m["metrics_path"] { guard let s = v as? String, s.hasPrefix("/") else { throw fail(at + ".metrics_path", "must start with /") }; job.metricsPath = s }
            if let v = m["scheme"] { guard let s = v as? String, s == "http" || s == "https" else { throw fail(at + ".scheme", "must be http or https") }; job.scheme = s }
            if let v = m["honor_labels"] { guard let b = v as? Bool else { throw fail(at + ".honor_labels", "expected true or false") }; job.honorLabels = b }
            if let v = m["honor_timestamps"] { guard let b = v as? Bool else { throw fail(at + ".honor_timestamps", "expected true or false") }; job.honorTimestamps = b }
            if let v = m["params"] {
                guard let p = v as? [String: Any] else { throw fail(at + ".params", "expected a mapping of lists") }
                for (k, vals) in p {
                    guard let arr = vals as? [Any] else { throw fail(at + ".params." + k, "expected a list") }
                    job.params[k] = arr.map { "\($0)" }
                }
            }
            if let v = m["static_configs"] {
                guard let scs = v as? [Any] else { throw fail(at + ".static_configs", "expected a list") }
                for (si, sc) in scs.enumerated() {
                    guard let scm = sc as? [String: Any] else { throw fail(at + ".static_configs[\(si)]", "expected a mapping") }
                    let targets = (scm["targets"] as? [Any] ?? []).map { "\($0)" }
                    var labels: [String: String] = [:]
                    if let l = scm["labels"] as? [String: Any] {
                        for (k, lv) in l {
                            guard NameRules.isValidLabelName(k) else { throw fail(at + ".static_configs[\(si)].labels", "\"\(k)\" is not a valid label name") }
                            labels[k] = "\(lv)"
                        }
                    }
                    for t in targets where t.contains("/") {
                        throw fail(at + ".static_configs[\(si)]", "\"\(t)\" is not a valid hostname (give host:port; the path goes in metrics_path)")
                    }
                    job.staticConfigs.append((targets, labels))
                }
            }
            job.relabel = try relabels(m["relabel_configs"], at + ".relabel_configs", fail)
            job.metricRelabel = try relabels(m["metric_relabel_configs"], at + ".metric_relabel_configs", fail)
            out.append(job)
        }
        return out
    }

    static func duration(_ v: Any, _ path: String, _ fail: (String, String) -> ArgusError) throws -> Int64 {
        do { return try PromDuration.parseMillis("\(v)") } catch { throw fail(path, "not a valid duration string: \"\(v)\"") }
    }

    static func relabels(_ v: Any?, _ path: String, _ fail: (String, String) -> ArgusError) throws -> [RelabelConfig] {
        guard let v else { return [] }
        guard let list = v as? [Any] else { throw fail(path, "expected a list") }
        return try list.enumerated().map { i, item in
            let at = "\(path)[\(i)]"
            guard let m = item as? [String: Any] else { throw fail(at, "expected a mapping") }
            let known: Set<String> = ["source_labels", "separator", "regex", "modulus", "target_label", "replacement", "action"]
            for k in m.keys where !known.contains(k) { throw fail(at, "field \(k) not found in a relabel configuration") }
            let actionText = (m["action"] as? String ?? "replace").lowercased()
            guard let action = RelabelConfig.Action(rawValue: actionText) else { throw fail(at, "unknown relabel action \"\(actionText)\"") }
            do {
                return try RelabelConfig(
                    sourceLabels: (m["source_labels"] as? [Any] ?? []).map { "\($0)" },
                    separator: m["separator"].map { "\($0)" } ?? ";",
                    regex: m["regex"].map { "\($0)" } ?? "(.*)",
                    modulus: UInt64("\(m["modulus"] ?? 0)") ?? 0,
                    targetLabel: m["target_label"].map { "\($0)" } ?? "",
                    replacement: m["replacement"].map { "\($0)" } ?? "$1",
                    action: action)
            } catch let e as ArgusError {
                throw fail(at, e.message)
            }
        }
    }
}
