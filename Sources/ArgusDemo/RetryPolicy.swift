/// Retries with exponential backoff and "equal jitter": before retry `n` (1-based) the caller
/// waits a random time in [d/2, d] where d = min(maxDelay, baseDelay · 2^(n-1)). Half of the
/// delay is kept so retries never stampede at zero; the random half spreads clients apart.
public struct RetryPolicy: Sendable {
    /// Attempts in all, the first one included.
    public var maxAttempts: Int
    public var baseDelayNanos: UInt64
    public var maxDelayNanos: UInt64

    public init(maxAttempts: Int = 3, baseDelayNanos: UInt64 = 100_000_000, maxDelayNanos: UInt64 = 1_000_000_000) {
        precondition(maxAttempts >= 1, "maxAttempts must be at least 1")
        self.maxAttempts = maxAttempts
        self.baseDelayNanos = baseDelayNanos
        self.maxDelayNanos = maxDelayNanos
    }

    /// The un-jittered ceiling before retry `retry` (1 for the first retry).
    public func ceiling(beforeRetry retry: Int) -> UInt64 {
        precondition(retry >= 1)
        let shift = min(retry - 1, 62)
        let (product, overflow) = baseDelayNanos.multipliedReportingOverflow(by: UInt64(1) << UInt64(shift))
        return overflow ? maxDelayNanos : min(maxDelayNanos, product)
    }

    /// The delay before retry `retry`, drawn from [ceiling/2, ceiling].
    public func delay<G: RandomNumberGenerator>(beforeRetry retry: Int, using rng: inout G) -> UInt64 {
        let c = ceiling(beforeRetry: retry)
        let half = c / 2
        return half + UInt64.random(in: 0...(c - half), using: &rng)
    }

    public func delay(beforeRetry retry: Int) -> UInt64 {
        var rng = SystemRandomNumberGenerator()
        return delay(beforeRetry: retry, using: &rng)
    }
}
