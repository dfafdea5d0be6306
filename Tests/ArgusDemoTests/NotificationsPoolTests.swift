@testable import ArgusDemo
import Logging
import Testing

/// The serverless model of notifications: a cold start per burst, warm within it, scaled to
/// zero after the keep-warm time.
@Suite struct NotificationsPoolTests {
    func pool(coldStart: Duration = .milliseconds(50), keepWarm: Duration = .milliseconds(200)) -> NotificationsService.FunctionPool {
        var o = NotificationsService.Options()
        o.coldStart = coldStart
        o.keepWarm = keepWarm
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return NotificationsService.FunctionPool(options: o, logger: logger, service: "notifications")
    }

    @Test func coldStartOncePerBurstThenScaledToZero() async throws {
        let p = pool()
        let clock = ContinuousClock()
        let start = clock.now
        let (first, cold1) = try await p.acquire()
        #expect(cold1 && first == 1)
        #expect(clock.now - start >= .milliseconds(50), "the cold start took no time")
        let (second, cold2) = try await p.acquire()
        #expect(!cold2 && second == 1)
        // Within keep-warm the reaper keeps the instance.
        await p.reap()
        #expect(await p.warm == 1)
        try await Task.sleep(for: .milliseconds(300))
        await p.reap()
        #expect(await p.warm == nil)
        let (third, cold3) = try await p.acquire()
        #expect(cold3 && third == 2)
    }

    @Test func concurrentEventsShareOneColdStart() async throws {
        let p = pool(coldStart: .milliseconds(150))
        let results = try await withThrowingTaskGroup(of: (Int, Bool).self) { group in
            for _ in 0..<5 { group.addTask { try await p.acquire() } }
            var out: [(Int, Bool)] = []
            for try await r in group { out.append(r) }
            return out
        }
        #expect(Set(results.map(\.0)) == [1])
        #expect(results.filter(\.1).count == 1)
    }
}
