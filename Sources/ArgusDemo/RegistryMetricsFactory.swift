import ArgusModel
import CoreMetrics
import Foundation

/// A swift-metrics backend that keeps values in an Argus `MetricsRegistry`, which renders them
/// in the Prometheus text format at each service's `/metrics` (so the scraper has real
/// targets). Timers are recorded in seconds; `unit`/`description` dimensions are dropped.
struct RegistryMetricsFactory: MetricsFactory {
    let registry: MetricsRegistry

    static func labels(_ dims: [(String, String)]) -> [(String, String)] {
        dims.filter { $0.0 != "unit" && $0.0 != "description" }
    }

    final class CounterBox: CounterHandler, FloatingPointCounterHandler, @unchecked Sendable {
        let registry: MetricsRegistry, name: String, labels: [(String, String)]
        init(_ r: MetricsRegistry, _ n: String, _ l: [(String, String)]) { registry = r; name = n; labels = l }
        func increment(by: Int64) { registry.add(name, labels, Double(by)) }
        func increment(by: Double) { registry.add(name, labels, by) }
        func reset() { registry.set(name, labels, 0) }
    }

    final class GaugeBox: RecorderHandler, MeterHandler, @unchecked Sendable {
        let registry: MetricsRegistry, name: String, labels: [(String, String)], histogram: Bool
        init(_ r: MetricsRegistry, _ n: String, _ l: [(String, String)], histogram: Bool) { registry = r; name = n; labels = l; self.histogram = histogram }
        func record(_ value: Int64) { record(Double(value)) }
        func record(_ value: Double) { histogram ? registry.observe(name, labels, value) : registry.set(name, labels, value) }
        func set(_ value: Int64) { registry.set(name, labels, Double(value)) }
        func set(_ value: Double) { registry.set(name, labels, value) }
        func increment(by: Double) { registry.add(name, labels, by) }
        func decrement(by: Double) { registry.add(name, labels, -by) }
    }

    final class TimerBox: TimerHandler, @unchecked Sendable {
        let registry: MetricsRegistry, name: String, labels: [(String, String)]
        init(_ r: MetricsRegistry, _ n: String, _ l: [(String, String)]) { registry = r; name = n; labels = l }
        func recordNanoseconds(_ duration: Int64) { registry.observe(name, labels, Double(duration) / 1e9) }
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> CounterHandler {
        registry.describe(label, .counter, "Demo shop counter \(label).")
        return CounterBox(registry, label, Self.labels(dimensions))
    }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> FloatingPointCounterHandler {
        registry.describe(label, .counter, "Demo shop counter \(label).")
        return CounterBox(registry, label, Self.labels(dimensions))
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> RecorderHandler {
        registry.describe(label, aggregate ? .histogram : .gauge, "Demo shop \(aggregate ? "histogram" : "gauge") \(label).")
        return GaugeBox(registry, label, Self.labels(dimensions), histogram: aggregate)
    }

    func makeMeter(label: String, dimensions: [(String, String)]) -> MeterHandler {
        registry.describe(label, .gauge, "Demo shop gauge \(label).")
        return GaugeBox(registry, label, Self.labels(dimensions), histogram: false)
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> TimerHandler {
        registry.describe(label, .histogram, "Demo shop duration \(label), in seconds.")
        return TimerBox(registry, label, Self.labels(dimensions))
    }

    func destroyCounter(_ handler: CounterHandler) {}
    func destroyFloatingPointCounter(_ handler: FloatingPointCounterHandler) {}
    func destroyRecorder(_ handler: RecorderHandler) {}
    func destroyMeter(_ handler: MeterHandler) {}
    func destroyTimer(_ handler: TimerHandler) {}
}
