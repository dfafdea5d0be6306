import ArgusDemo
import Testing

@Suite struct CircuitBreakerTests {
    let second: UInt64 = 1_000_000_000

    @Test func opensAfterThresholdConsecutiveFailures() {
        var b = CircuitBreaker(failureThreshold: 3, openDurationNanos: 5 * second)
        #expect(b.decide(now: 0) == .allow)
        b.recordFailure(now: 1)
        b.recordFailure(now: 2)
        #expect(b.state == .closed(consecutiveFailures: 2))
        #expect(b.state.gaugeValue == 0)
        b.recordFailure(now: 3)
        #expect(b.state == .open(until: 3 + 5 * second))
        #expect(b.state.gaugeValue == 2)
        #expect(b.decide(now: 4) == .reject)
        #expect(b.decide(now: 3 + 5 * second - 1) == .reject)
    }

    @Test func successResetsTheFailureCount() {
        var b = CircuitBreaker(failureThreshold: 3, openDurationNanos: second)
        b.recordFailure(now: 0)
        b.recordFailure(now: 0)
        b.recordSuccess()
        b.recordFailure(now: 0)
        b.recordFailure(now: 0)
        #expect(b.state == .closed(consecutiveFailures: 2))
        #expect(b.decide(now: 0) == .allow)
    }

    @Test func halfOpenLetsOneTrialThroughAndItsSuccessCloses() {
        var b = CircuitBreaker(failureThreshold: 1, openDurationNanos: second)
        b.recordFailure(now: 10)
        #expect(b.decide(now: 10 + second) == .allow)
        #expect(b.state == .halfOpen(trialInFlight: true))
        #expect(b.state.gaugeValue == 1)
        // A second caller while the trial runs is refused.
        #expect(b.decide(now: 10 + second + 1) == .reject)
        b.recordSuccess()
        #expect(b.state == .closed(consecutiveFailures: 0))
        #expect(b.decide(now: 10 + second + 2) == .allow)
    }

    @Test func failedTrialOpensAgainForAnotherPeriod() {
        var b = CircuitBreaker(failureThreshold: 2, openDurationNanos: second)
        b.recordFailure(now: 0)
        b.recordFailure(now: 0)
        #expect(b.decide(now: second) == .allow)
        b.recordFailure(now: second + 5)
        #expect(b.state == .open(until: 2 * second + 5))
        #expect(b.decide(now: 2 * second) == .reject)
        #expect(b.decide(now: 2 * second + 5) == .allow)
    }

    @Test func lateFailureDoesNotExtendTheOpenPeriod() {
        var b = CircuitBreaker(failureThreshold: 1, openDurationNanos: second)
        b.recordFailure(now: 0)
        b.recordFailure(now: second / 2)
        #expect(b.state == .open(until: second))
    }
}
