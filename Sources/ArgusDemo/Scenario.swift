import ArgusStorage

/// A failure (or load) scenario of the demo shop. Every service and the load generator hold the
/// current one and act on the parts that concern them; `argus-demo scenario NAME` (or
/// `POST /admin/scenario/NAME` on any of them) changes it while everything runs.
public enum Scenario: String, CaseIterable, Sendable, Codable {
    /// Normal traffic, nothing broken.
    case steady
    /// Five times the configured load.
    case spike
    /// The bank answers 503: payments retries, then its circuit breaker opens.
    case paymentsOutage = "payments-outage"
    /// The bank answers after 2 s: payments' calls time out, retries, then the breaker opens.
    case bankSlow = "bank-slow"
    /// Catalog adds 400 ms to every answer.
    case slowCatalog = "slow-catalog"
    /// Recommendations answers 503: the gateway falls back to a static list.
    case recommendationsDown = "recommendations-down"
    /// Inventory fails a third of its reservations with 500.
    case inventoryErrors = "inventory-errors"
    /// Checkouts come in bursts with idle gaps longer than notifications' keep-warm time, so
    /// every burst wakes a new notifications instance (a cold start).
    case coldStarts = "cold-starts"

    /// Accepts the names and a few aliases (`payments-down`, `bank-down`, `normal`).
    public init?(name: String) {
        switch name.lowercased() {
        case "payments-down", "bank-down", "bank-errors": self = .paymentsOutage
        case "normal", "none", "off": self = .steady
        case "bank-timeouts": self = .bankSlow
        case "notification-burst", "notifications-burst": self = .coldStarts
        default:
            guard let s = Scenario(rawValue: name.lowercased()) else { return nil }
            self = s
        }
    }

    public static var namesList: String { allCases.map(\.rawValue).joined(separator: ", ") }
}

/// The current scenario of one process, shared by its handlers.
public final class ScenarioState: Sendable {
    let box: LockedBox<Scenario>
    public init(_ initial: Scenario = .steady) { box = LockedBox(initial) }
    public var current: Scenario {
        get { box.withLock { $0 } }
    }
    public func set(_ s: Scenario) { box.withLock { $0 = s } }
}
