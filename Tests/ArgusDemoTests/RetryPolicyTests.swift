import ArgusDemo
import Testing

@Suite struct RetryPolicyTests {
    @Test func ceilingDoublesUpToTheCap() {
        let p = RetryPolicy(maxAttempts: 6, baseDelayNanos: 100, maxDelayNanos: 700)
        #expect(p.ceiling(beforeRetry: 1) == 100)
        #expect(p.ceiling(beforeRetry: 2) == 200)
        #expect(p.ceiling(beforeRetry: 3) == 400)
        #expect(p.ceiling(beforeRetry: 4) == 700)
        #expect(p.ceiling(beforeRetry: 80) == 700)
    }

    @Test func jitteredDelayStaysWithinHalfAndFullCeiling() {
        let p = RetryPolicy(maxAttempts: 4, baseDelayNanos: 50_000_000, maxDelayNanos: 400_000_000)
        var rng = SystemRandomNumberGenerator()
        for retry in 1...4 {
            let c = p.ceiling(beforeRetry: retry)
            var seen = Set<UInt64>()
            for _ in 0..<500 {
                let d = p.delay(beforeRetry: retry, using: &rng)
                #expect(d >= c / 2 && d <= c, "retry \(retry): \(d) outside [\(c / 2), \(c)]")
                seen.insert(d)
            }
            // Jitter: the delays are spread, not one fixed value.
            #expect(seen.count > 100)
        }
    }

    @Test func deterministicGeneratorGivesRepeatableDelays() {
        struct Fixed: RandomNumberGenerator {
            var state: UInt64
            mutating func next() -> UInt64 { state = state &* 6364136223846793005 &+ 1; return state }
        }
        let p = RetryPolicy()
        var a = Fixed(state: 7), b = Fixed(state: 7)
        #expect((1...3).map { p.delay(beforeRetry: $0, using: &a) } == (1...3).map { p.delay(beforeRetry: $0, using: &b) })
    }
}
