import Foundation

/// Argus' own metrics (counters, gauges, histograms with fixed buckets), rendered in the
/// Prometheus text format at `/metrics` and written into the store by the self-scrape.
public final class MetricsRegistry: @unchecked Sendable {
    public enum Kind: String { case counter, gauge, histogram }

    struct Family {
        var help: String
        var kind: Kind
        var buckets: [Double]
        var series: [Labels: Series] = [:]
    }

    struct Series {
        var value = 0.0
        var counts: [UInt64] = []
        var sum = 0.0
        var count: UInt64 = 0
    }

    private let lock = NSLock()
    private var families: [String: Family] = [:]
    /// Gauges computed when read (head series, bytes on disk, ...).
    private var collectors: [@Sendable (MetricsRegistry) -> Void] = []

    public init() {}

    public static let durationBuckets: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    public func describe(_ name: String, _ kind: Kind, _ help: String, buckets: [Double] = MetricsRegistry.durationBuckets) {
        lock.withLock {
            if families[name] == nil { families[name] = Family(help: help, kind: kind, buckets: kind == .histogram ? buckets : []) }
        }
    }

    public func add(_ name: String, _ labels: [(String, String)] = [], _ v: Double = 1) {
        let l = Labels(labels)
        lock.withLock { families[name]?.series[l, default: Series()].value += v }
    }

    public func set(_ name: String, _ labels: [(String, String)] = [], _ v: Double) {
        let l = Labels(labels)
        lock.withLock { families[name]?.series[l, default: Series()].value = v }
    }

    public func observe(_ name: String, _ labels: [(String, String)] = [], _ v: Double) {
        let l = Labels(labels)
        lock.withLock {
            guard let buckets = families[name]?.buckets else { return }
            var s = families[name]!.series[l] ?? Series(counts: [UInt64](repeating: 0, count: buckets.count))
            for (i, b) in buckets.enumerated() where v <= b { s.counts[i] += 1 }
            s.sum += v
            s.count += 1
            families[name]!.series[l] = s
        }
    }

    public func addCollector(_ c: @escaping @Sendable (MetricsRegistry) -> Void) {
        lock.withLock { collectors.append(c) }
    }

    /// Every sample as (labels with __name__, value), collectors run first.
    public func samples() -> [(Labels, Double)] {
        let cs = lock.withLock { collectors }
        for c in cs { c(self) }
        return lock.withLock {
            var out: [(Labels, Double)] = []
            for (name, f) in families.sorted(by: { $0.key < $1.key }) {
                for (l, s) in f.series {
                    switch f.kind {
                    case .counter, .gauge:
                        out.append((l.setting(Labels.metricName, name), s.value))
                    case .histogram:
                        for (i, b) in f.buckets.enumerated() {
                            out.append((l.setting(Labels.metricName, name + "_bucket").setting("le", formatLe(b)), Double(s.counts[i])))
                        }
                        out.append((l.setting(Labels.metricName, name + "_bucket").setting("le", "+Inf"), Double(s.count)))
                        out.append((l.setting(Labels.metricName, name + "_sum"), s.sum))
                        out.append((l.setting(Labels.metricName, name + "_count"), Double(s.count)))
                    }
                }
            }
            return out
        }
    }

    /// The text exposition format 0.0.4.
    public func render() -> String {
        let all = samples()
        let meta = lock.withLock { families.mapValues { ($0.kind, $0.help) } }
        var out = ""
        var lastFamily = ""
        for (l, v) in all {
            var name = l.metricName ?? ""
            var family = name
            for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) && meta[String(name.dropLast(suffix.count))]?.0 == .histogram {
                family = String(name.dropLast(suffix.count))
            }
            if family != lastFamily, let m = meta[family] {
                out += "# HELP \(family) \(m.1)\n# TYPE \(family) \(m.0.rawValue)\n"
                lastFamily = family
            }
            let rest = l.withoutMetricName
            if !rest.isEmpty {
                name += "{" + rest.items.map { "\($0.name)=\(quoteLabelValue($0.value))" }.joined(separator: ",") + "}"
            }
            out += name + " " + formatValue(v) + "\n"
        }
        return out
    }

    func formatLe(_ b: Double) -> String { b == b.rounded() ? String(Int(b)) : "\(b)" }
    func formatValue(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "+Inf" : "-Inf" }
        if v == v.rounded() && abs(v) < 1e15 { return String(Int64(v)) }
        return "\(v)"
    }
}
