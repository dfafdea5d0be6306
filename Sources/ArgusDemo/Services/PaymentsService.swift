import ArgusModel
import ArgusStorage
import Foundation
import Hummingbird
import Logging
import Metrics
import Tracing

/// `payments`: charges through the bank with a timeout per attempt, retries with backoff and
/// jitter, and a circuit breaker that stops calling the bank after repeated failures
/// (`circuit_breaker_state{service="payments",target="bank"}`: 0 closed, 1 half-open, 2 open).
public enum PaymentsService {
    public struct Options: Sendable {
        public var bankTimeout: Duration = .milliseconds(300)
        public var retry = RetryPolicy(maxAttempts: 3, baseDelayNanos: 50_000_000, maxDelayNanos: 400_000_000)
        public var breakerThreshold = 5
        public var breakerOpen: Duration = .seconds(5)
        public init() {}
    }

    public static func routes(_ router: ShopRouter, env: ServiceEnvironment, options: Options) {
        let openNanos = UInt64(options.breakerOpen.components.seconds) * 1_000_000_000 + UInt64(options.breakerOpen.components.attoseconds / 1_000_000_000)
        let breaker = LockedBox(CircuitBreaker(failureThreshold: options.breakerThreshold, openDurationNanos: openNanos))
        let gauge = Gauge(label: ShopMetrics.circuitBreakerState, dimensions: [("service", env.name), ("target", "bank")])
        gauge.record(0)
        let retries = Counter(label: ShopMetrics.paymentsRetries, dimensions: [("service", env.name), ("target", "bank")])

        /// Applies a change to the breaker, publishes the gauge and logs transitions.
        @Sendable func update<T>(_ body: (inout CircuitBreaker) -> T) -> T {
            let (result, old, new) = breaker.withLock { b -> (T, CircuitBreaker.State, CircuitBreaker.State) in
                let old = b.state
                let r = body(&b)
                return (r, old, b.state)
            }
            gauge.record(new.gaugeValue)
            if old.name != new.name {
                let level: Logger.Level = new.name == "open" ? .error : .notice
                env.logger.log(level: level, "circuit breaker \(old.name) → \(new.name)", metadata: ["target": "bank"])
            }
            return result
        }

        router.get("/breaker") { _, _ in
            ScenarioRoutes.Body(scenario: breaker.withLock { $0.state.name }, service: env.name)
        }
        router.post("/charge") { request, context in
            let charge = try await request.decode(as: ChargeRequest.self, context: context)
            guard charge.amount > 0 else { throw HTTPError(.badRequest, message: "amount must be positive") }
            var attempt = 0
            var lastError: PeerError?
            while attempt < options.retry.maxAttempts {
                if update({ $0.decide(now: TimeUtil.monotonicNanos()) }) == .reject {
                    env.logger.warning("charge refused: circuit breaker open", metadata: ["order_id": "\(charge.order_id)", "attempts": "\(attempt)"])
                    throw HTTPError(.serviceUnavailable, message: "payment provider unavailable (circuit breaker open)" + (lastError.map { "; last error: \($0)" } ?? ""))
                }
                attempt += 1
                do {
                    let reply = try await env.client.call("bank", .POST, "/authorize", json: charge, timeout: options.bankTimeout)
                    update { $0.recordSuccess() }
                    let auth = try reply.decode(BankAuthorization.self)
                    env.logger.info("charge approved", metadata: ["order_id": "\(charge.order_id)", "attempts": "\(attempt)"])
                    return ChargeReply(payment_id: auth.authorization, attempts: attempt)
                } catch let e as PeerError where e.status == 402 || e.status == 400 {
                    // The bank answered: a decline is not the bank failing.
                    update { $0.recordSuccess() }
                    throw HTTPError(.paymentRequired, message: e.message)
                } catch let e as PeerError {
                    lastError = e
                    update { $0.recordFailure(now: TimeUtil.monotonicNanos()) }
                    guard attempt < options.retry.maxAttempts else { break }
                    let delay = options.retry.delay(beforeRetry: attempt)
                    retries.increment()
                    env.logger.warning("bank call failed, retrying", metadata: [
                        "order_id": "\(charge.order_id)", "attempt": "\(attempt)", "error": "\(e)",
                        "backoff_ms": "\(delay / 1_000_000)",
                    ])
                    try await withSpan("backoff", ofKind: .internal) { span in
                        span.attributes["retry.attempt"] = attempt
                        span.attributes["retry.delay_ms"] = Int(delay / 1_000_000)
                        try await Task.sleep(for: .nanoseconds(Int64(delay)))
                    }
                }
            }
            env.logger.error("charge failed after \(attempt) attempts", metadata: ["order_id": "\(charge.order_id)"])
            throw HTTPError(.serviceUnavailable, message: "payment provider failed after \(attempt) attempts: \(lastError.map { "\($0)" } ?? "unknown")")
        }
    }
}
