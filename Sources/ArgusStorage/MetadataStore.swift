/// Metric metadata (type, help, unit) by metric family name, as senders describe their metrics:
/// remote_write metadata, OTLP metric descriptions and scraped `# TYPE` / `# HELP` lines.
/// Kept in memory, like Prometheus' scrape cache; `/api/v1/metadata` reads it.
public struct MetricMetadata: Hashable, Sendable {
    /// Prometheus' type names: counter, gauge, histogram, gaugehistogram, summary, info,
    /// stateset, unknown.
    public var type: String
    public var help: String
    public var unit: String

    public init(type: String, help: String, unit: String = "") {
        self.type = type
        self.help = help
        self.unit = unit
    }
}

public final class MetadataStore: @unchecked Sendable {
    let box = LockedBox<[String: [MetricMetadata]]>([:])
    /// Distinct descriptions kept per metric (senders may disagree), newest last.
    static let perMetric = 10
    static let maxMetrics = 100_000

    public init() {}

    public func record(_ metric: String, _ m: MetricMetadata) {
        guard !metric.isEmpty else { return }
        box.withLock { all in
            var list = all[metric] ?? []
            if list.last == m { return }
            if all[metric] == nil && all.count >= MetadataStore.maxMetrics { return }
            list.removeAll { $0 == m }
            list.append(m)
            if list.count > MetadataStore.perMetric { list.removeFirst(list.count - MetadataStore.perMetric) }
            all[metric] = list
        }
    }

    public func snapshot() -> [String: [MetricMetadata]] { box.withLock { $0 } }

    /// Prometheus' remote_write `MetricMetadata.MetricType` numbers as type names.
    public static func typeName(remoteWrite n: UInt64) -> String {
        switch n {
        case 1: return "counter"
        case 2: return "gauge"
        case 3: return "histogram"
        case 4: return "gaugehistogram"
        case 5: return "summary"
        case 6: return "info"
        case 7: return "stateset"
        default: return "unknown"
        }
    }
}
