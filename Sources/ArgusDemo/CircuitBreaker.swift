/// A circuit breaker as a value-type state machine: the caller asks before each call and reports
/// each outcome; time is passed in (monotonic nanoseconds), so tests drive it without sleeping.
///
/// closed → (`failureThreshold` consecutive failures) → open → (`openDuration` elapsed) →
/// half-open, which lets one trial call through: its success closes the breaker, its failure
/// opens it again for another `openDuration`.
public struct CircuitBreaker: Sendable {
    public enum State: Equatable, Sendable {
        case closed(consecutiveFailures: Int)
        case open(until: UInt64)
        case halfOpen(trialInFlight: Bool)

        /// The value of the `circuit_breaker_state` gauge: 0 closed, 1 half-open, 2 open.
        public var gaugeValue: Double {
            switch self {
            case .closed: return 0
            case .halfOpen: return 1
            case .open: return 2
            }
        }

        public var name: String {
            switch self {
            case .closed: return "closed"
            case .halfOpen: return "half-open"
            case .open: return "open"
            }
        }
    }

    /// What the caller may do.
    public enum Decision: Equatable, Sendable {
        /// Make the call and report its outcome.
        case allow
        /// Do not call; the breaker is open (or its one half-open trial is still running).
        case reject
    }

    public let failureThreshold: Int
    public let openDuration: UInt64
    public private(set) var state: State = .closed(consecutiveFailures: 0)

    public init(failureThreshold: Int = 5, openDurationNanos: UInt64 = 5_000_000_000) {
        precondition(failureThreshold >= 1, "failureThreshold must be at least 1")
        self.failureThreshold = failureThreshold
        self.openDuration = openDurationNanos
    }

    /// Whether a call may go out now; moves open → half-open once the open period is over.
    public mutating func decide(now: UInt64) -> Decision {
        switch state {
        case .closed:
            return .allow
        case .open(let until):
            if now >= until {
                state = .halfOpen(trialInFlight: true)
                return .allow
            }
            return .reject
        case .halfOpen(let inFlight):
            if inFlight { return .reject }
            state = .halfOpen(trialInFlight: true)
            return .allow
        }
    }

    /// Reports a call's success.
    public mutating func recordSuccess() {
        state = .closed(consecutiveFailures: 0)
    }

    /// Reports a call's failure (an error, a timeout, a 5xx).
    public mutating func recordFailure(now: UInt64) {
        switch state {
        case .closed(let n):
            state = n + 1 >= failureThreshold ? .open(until: now + openDuration) : .closed(consecutiveFailures: n + 1)
        case .halfOpen:
            state = .open(until: now + openDuration)
        case .open:
            // A call that started before the breaker opened: it stays open, the period is not extended.
            break
        }
    }
}
