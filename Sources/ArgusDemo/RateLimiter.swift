/// A token bucket per key: each key may spend `burst` requests at once and earns `ratePerSecond`
/// tokens back per second. Time is passed in (monotonic nanoseconds).
public struct RateLimiter: Sendable {
    struct Bucket: Sendable {
        var tokens: Double
        var updated: UInt64
    }

    public let ratePerSecond: Double
    public let burst: Double
    var buckets: [String: Bucket] = [:]
    /// Buckets untouched this long are dropped, so the table does not grow with every client ever seen.
    let idleNanos: UInt64 = 60_000_000_000

    public init(ratePerSecond: Double, burst: Int) {
        precondition(ratePerSecond > 0 && burst >= 1, "rate must be positive and burst at least 1")
        self.ratePerSecond = ratePerSecond
        self.burst = Double(burst)
    }

    /// Takes a token for `key` if one is left; returns whether the request may go on.
    public mutating func allow(_ key: String, now: UInt64) -> Bool {
        var b = buckets[key] ?? Bucket(tokens: burst, updated: now)
        if now > b.updated {
            b.tokens = min(burst, b.tokens + Double(now - b.updated) / 1e9 * ratePerSecond)
            b.updated = now
        }
        let ok = b.tokens >= 1
        if ok { b.tokens -= 1 }
        buckets[key] = b
        if buckets.count > 10_000 { buckets = buckets.filter { now &- $0.value.updated < idleNanos } }
        return ok
    }

    /// Seconds until `key` has a token again (0 if it has one now).
    public func retryAfter(_ key: String, now: UInt64) -> Double {
        guard let b = buckets[key] else { return 0 }
        let tokens = min(burst, b.tokens + Double(now &- b.updated) / 1e9 * ratePerSecond)
        return tokens >= 1 ? 0 : (1 - tokens) / ratePerSecond
    }
}
