import ArgusDemo
import Testing

@Suite struct RateLimiterTests {
    let second: UInt64 = 1_000_000_000

    @Test func burstThenRefusesUntilTokensRefill() {
        var l = RateLimiter(ratePerSecond: 2, burst: 3)
        let t0: UInt64 = 1_000 * second
        var results: [Bool] = []
        for _ in 0..<4 { results.append(l.allow("a", now: t0)) }
        #expect(results == [true, true, true, false])
        #expect(l.retryAfter("a", now: t0) == 0.5)
        // Half a second earns one token back.
        let early = l.allow("a", now: t0 + second / 4)
        let refilled = l.allow("a", now: t0 + second / 2 + second / 4)
        let again = l.allow("a", now: t0 + second / 2 + second / 4)
        #expect(!early && refilled && !again)
    }

    @Test func keysAreIndependent() {
        var l = RateLimiter(ratePerSecond: 1, burst: 1)
        let a1 = l.allow("alice", now: 0)
        let a2 = l.allow("alice", now: 0)
        let b1 = l.allow("bob", now: 0)
        #expect(a1 && !a2 && b1)
    }

    @Test func refillIsCappedAtTheBurst() {
        var l = RateLimiter(ratePerSecond: 10, burst: 2)
        _ = l.allow("a", now: 0)
        // An hour idle still gives only `burst` tokens.
        let later = 3_600 * second
        var results: [Bool] = []
        for _ in 0..<3 { results.append(l.allow("a", now: later)) }
        #expect(results == [true, true, false])
    }

    @Test func sustainedRateMatchesTheLimit() {
        var l = RateLimiter(ratePerSecond: 5, burst: 1)
        var allowed = 0
        // One attempt every 10 ms for 10 s: 5/s plus the initial token.
        for i in 0..<1000 where l.allow("k", now: UInt64(i) * 10_000_000) { allowed += 1 }
        #expect(allowed >= 49 && allowed <= 51, "\(allowed)")
    }
}
