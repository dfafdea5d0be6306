import ArgusModel
import Foundation

/// The state of one alert: pending while its `for` duration runs, firing after, inactive once
/// resolved (kept for a while so the resolved notification goes out).
public enum AlertState: String, Sendable, Codable {
    case inactive
    case pending
    case firing
}

/// One alert instance of an alerting rule (one label set). Times are milliseconds since the
/// epoch; 0 means "not set".
public struct Alert: Sendable, Equatable {
    /// Final labels: the query result's labels without `__name__`, the rule's labels, `alertname`.
    public var labels: Labels
    public var annotations: Labels
    public var state: AlertState
    public var value: Double
    public var activeAt: Int64
    public var firedAt: Int64 = 0
    public var resolvedAt: Int64 = 0
    public var keepFiringSince: Int64 = 0
    /// Until when a firing alert stays valid without a new evaluation (its `endsAt` while firing).
    public var validUntil: Int64 = 0

    public init(labels: Labels, annotations: Labels, state: AlertState, value: Double, activeAt: Int64) {
        self.labels = labels
        self.annotations = annotations
        self.state = state
        self.value = value
        self.activeAt = activeAt
    }

    public static func == (a: Alert, b: Alert) -> Bool {
        a.labels == b.labels && a.annotations == b.annotations && a.state == b.state && a.activeAt == b.activeAt
            && a.firedAt == b.firedAt && a.resolvedAt == b.resolvedAt && a.keepFiringSince == b.keepFiringSince
            && (a.value == b.value || (a.value.isNaN && b.value.isNaN))
    }

    /// Alertmanager's fingerprint of the labels, as 16 hex digits.
    public var fingerprint: String { Fingerprint.hex(labels) }
}

/// Alertmanager's label-set fingerprint: FNV-1a 64 over the sorted names and values, each
/// followed by the byte 0xff.
public enum Fingerprint {
    public static func of(_ labels: Labels) -> UInt64 {
        var h: UInt64 = 14_695_981_039_346_656_037
        @inline(__always) func add(_ b: UInt8) {
            h ^= UInt64(b)
            h = h &* 1_099_511_628_211
        }
        for l in labels.items {
            for b in l.name.utf8 { add(b) }
            add(0xff)
            for b in l.value.utf8 { add(b) }
            add(0xff)
        }
        return h
    }

    public static func hex(_ labels: Labels) -> String {
        let s = String(of(labels), radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}

/// The state machine of one alerting rule: given each evaluation's query result it moves
/// alerts inactive → pending → firing → resolved (inactive), honouring `for` and
/// `keep_firing_for`, and says which `ALERTS` / `ALERTS_FOR_STATE` samples to write.
///
/// A value type with no I/O: the evaluation time and the query result come in, the alerts and
/// samples go out.
public struct AlertingRuleState: Sendable {
    public let name: String
    public let forMs: Int64
    public let keepFiringForMs: Int64
    /// How long a resolved alert is kept (and re-sent) after it resolved: Prometheus' 15 minutes.
    public static let resolvedRetention: Int64 = 15 * 60_000

    /// Alerts by the hash of their label set (pending, firing and recently resolved).
    public private(set) var active: [Labels: Alert] = [:]

    public init(name: String, forMs: Int64, keepFiringForMs: Int64) {
        self.name = name
        self.forMs = forMs
        self.keepFiringForMs = keepFiringForMs
    }

    /// Puts back alerts restored from persisted state.
    public mutating func restore(_ alerts: [Alert]) {
        for a in alerts { active[a.labels] = a }
    }

    /// One evaluation at `ts`: `results` are the alerts the query produced now (labels and
    /// annotations already expanded). Returns the `ALERTS` and `ALERTS_FOR_STATE` samples.
    public mutating func evaluate(_ results: [(labels: Labels, annotations: Labels, value: Double)], at ts: Int64) -> [(Labels, Double)] {
        var seen = Set<Labels>()
        for r in results {
            seen.insert(r.labels)
            if var a = active[r.labels], a.state != .inactive {
                a.value = r.value
                a.annotations = r.annotations
                active[r.labels] = a
                continue
            }
            active[r.labels] = Alert(labels: r.labels, annotations: r.annotations, state: .pending, value: r.value, activeAt: ts)
        }
        var samples: [(Labels, Double)] = []
        for key in Array(active.keys) {
            var a = active[key]!
            if !seen.contains(key) {
                var keepFiring = false
                if a.state == .firing && keepFiringForMs > 0 {
                    if a.keepFiringSince == 0 { a.keepFiringSince = ts }
                    if ts - a.keepFiringSince < keepFiringForMs { keepFiring = true }
                }
                if a.state == .pending || (a.resolvedAt != 0 && ts - a.resolvedAt > Self.resolvedRetention) {
                    active[key] = nil
                    continue
                }
                if a.state != .inactive && !keepFiring {
                    a.state = .inactive
                    a.resolvedAt = ts
                }
                if !keepFiring {
                    active[key] = a
                    continue
                }
            } else {
                a.keepFiringSince = 0
            }
            if a.state == .pending && ts - a.activeAt >= forMs {
                a.state = .firing
                a.firedAt = ts
            }
            active[key] = a
            var alertsLabels = a.labels.setting(Labels.metricName, "ALERTS").setting("alertstate", a.state.rawValue)
            samples.append((alertsLabels, 1))
            alertsLabels = a.labels.setting(Labels.metricName, "ALERTS_FOR_STATE")
            samples.append((alertsLabels, Double(a.activeAt / 1000)))
        }
        return samples
    }

    /// Alerts worth showing and notifying: pending, firing and resolved ones still retained,
    /// in a stable order (by label fingerprint).
    public var alerts: [Alert] {
        active.values.map { (Fingerprint.of($0.labels), $0) }.sorted { $0.0 < $1.0 }.map(\.1)
    }
}
