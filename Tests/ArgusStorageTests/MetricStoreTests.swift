import ArgusModel
import ArgusStorage
import ArgusTestKit
import Foundation
import Testing

@Suite struct MetricStoreTests {
    @Test func appendCommitSelect() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let store = try openStore(dir)
        let app = store.appender()
        let a = try app.append(L("http_requests_total", ("job", "api"), ("code", "200")), 1000, 1)
        app.append(ref: a, 2000, 2)
        try app.append(L("http_requests_total", ("job", "api"), ("code", "500")), 1000, 7)
        try app.append(L("up", ("job", "db")), 1000, 1)
        #expect(try app.commit().appended == 4)
        let all = try dump(store)
        #expect(all.count == 3)
        #expect(all["http_requests_total{code=\"200\", job=\"api\"}"] == [Sample(t: 1000, v: 1), Sample(t: 2000, v: 2)])
        // Time range is inclusive on both ends.
        let ranged = try dump(store, mint: 2000, maxt: 2000)
        #expect(ranged.count == 1)
        #expect(ranged.values.first == [Sample(t: 2000, v: 2)])
    }

    @Test func matchersHavePrometheusSemantics() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let store = try openStore(dir)
        let app = store.appender()
        try app.append(L("m", ("env", "prod"), ("code", "200")), 1, 1)
        try app.append(L("m", ("env", "dev"), ("code", "500")), 1, 1)
        try app.append(L("m", ("code", "404")), 1, 1)
        try app.commit()
        func names(_ ms: [Matcher]) throws -> Set<String> { Set(try dump(store, ms).keys) }
        let m = Matcher.eq("__name__", "m")
        #expect(try names([m, Matcher(.equal, "env", "prod")]).count == 1)
        // != and !~ keep series without the label (absent = empty string).
        #expect(try names([m, Matcher(.notEqual, "env", "prod")]).count == 2)
        #expect(try names([m, Matcher(.regexNoMatch, "env", "pr.*")]).count == 2)
        // Regexes are fully anchored.
        #expect(try names([m, Matcher(.regexMatch, "code", "20")]).isEmpty)
        #expect(try names([m, Matcher(.regexMatch, "code", "2..|404")]).count == 2)
        // env="" selects series without env.
        #expect(try names([m, Matcher(.equal, "env", "")]) == ["m{code=\"404\"}"])
        #expect(try names([m, Matcher(.regexMatch, "env", ".+")]).count == 2)
        #expect(try names([Matcher(.regexMatch, "__name__", "x|m"), Matcher(.regexMatch, "code", "5.*")]).count == 1)
    }

    @Test func rollbackStoresNothing() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let store = try openStore(dir)
        let app = store.appender()
        try app.append(L("a"), 1, 1)
        app.rollback()
        #expect(try dump(store).isEmpty)
    }

    @Test func outOfOrderAndDuplicates() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let store = try openStore(dir)
        let ref = try store.seriesRef(for: L("a"))
        var app = store.appender()
        app.append(ref: ref, 1000, 1)
        app.append(ref: ref, 2000, 2)
        try app.commit()
        // Same timestamp, same value: ignored.
        app = store.appender()
        app.append(ref: ref, 2000, 2)
        #expect(try app.commit().duplicates == 1)
        // Same timestamp, different value: error.
        app = store.appender()
        app.append(ref: ref, 2000, 3)
        #expect { try app.commit() } throws: { ($0 as? ArgusError)?.code == .duplicateSample }
        // Older: out of order.
        app = store.appender()
        app.append(ref: ref, 1500, 3)
        #expect { try app.commit() } throws: { ($0 as? ArgusError)?.code == .outOfOrder }
        // Out of order within one batch.
        app = store.appender()
        app.append(ref: ref, 5000, 5)
        app.append(ref: ref, 4000, 4)
        #expect(throws: ArgusError.self) { try app.commit() }
        #expect(try dump(store)["a"] == [Sample(t: 1000, v: 1), Sample(t: 2000, v: 2)])
    }

    @Test func aRejectedBatchStoresNothing() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let store = try openStore(dir)
        var app = store.appender()
        try app.append(L("a"), 5000, 1)
        try app.commit()
        app = store.appender()
        try app.append(L("b"), 1000, 1)
        try app.append(L("c"), 1000, 1)
        try app.append(L("a"), 10, 1)  // out of order: the whole batch fails
        #expect(throws: ArgusError.self) { try app.commit() }
        #expect(Set(try dump(store).keys) == ["a"])
    }

    @Test func outOfOrderWindow() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let store = try openStore(dir) { $0.outOfOrderWindow = 10_000 }
        var app = store.appender()
        try app.append(L("a"), 20_000, 2)
        try app.append(L("a"), 15_000, 1.5)  // inside the window
        try app.commit()
        app = store.appender()
        try app.append(L("a"), 5_000, 0.5)  // 15 s behind: outside
        #expect { try app.commit() } throws: { ($0 as? ArgusError)?.code == .outOfOrder }
        #expect(try dump(store)["a"] == [Sample(t: 15_000, v: 1.5), Sample(t: 20_000, v: 2)])
        try store.flush()
        app = store.appender()
        try app.append(L("a"), 12_000, 1.2)
        try app.commit()
        #expect(try dump(store)["a"] == [Sample(t: 12_000, v: 1.2), Sample(t: 15_000, v: 1.5), Sample(t: 20_000, v: 2)])
    }

    @Test func specialValuesSurviveHeadWALAndBlocks() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let values = [1.0, StaleNaN.value, .nan, .infinity, -.infinity, -0.0, 0.1]
        let expected = values.enumerated().map { Sample(t: Int64($0.offset + 1) * 1000, v: $0.element) }
        var store = try openStore(dir)
        let app = store.appender()
        for s in expected { try app.append(L("x"), s.t, s.v) }
        try app.commit()
        #expect(try dump(store)["x"] == expected)  // head
        store.close()
        store = try openStore(dir)
        #expect(try dump(store)["x"] == expected)  // WAL replay
        try store.flush()
        #expect(try dump(store)["x"] == expected)  // block
        store.close()
        store = try openStore(dir)
        #expect(try dump(store)["x"] == expected)  // block after restart
        #expect(StaleNaN.isStale(try dump(store)["x"]![1].v))
    }

    @Test func headAcrossManySubChunks() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let store = try openStore(dir)
        var expected: [Sample] = []
        var v = 0.0
        for i in 0..<1000 {
            v += Double(i % 13) + 0.25
            expected.append(Sample(t: 1_700_000_000_000 + Int64(i) * 15_000 + Int64(i % 5), v: v))
        }
        for chunk in stride(from: 0, to: expected.count, by: 100) {
            let app = store.appender()
            for s in expected[chunk..<(chunk + 100)] { try app.append(L("c"), s.t, s.v) }
            try app.commit()
        }
        #expect(try dump(store)["c"] == expected)
    }
}

@Suite struct SeriesLimitTests {
    @Test func seriesLimitsRefuseNewSeriesOnly() throws {
        let dir = TempDir()
        defer { dir.remove() }
        var store = try openStore(dir) { $0.maxSeries = 3; $0.maxSeriesPerMetric = 2 }
        _ = try store.seriesRef(for: L("a", ("i", "1")))
        _ = try store.seriesRef(for: L("a", ("i", "2")))
        #expect { try store.seriesRef(for: L("a", ("i", "3"))) } throws: { ($0 as? ArgusError)?.code == .limit }
        _ = try store.seriesRef(for: L("b"))
        #expect { try store.seriesRef(for: L("c")) } throws: { "\($0)".hasPrefix("series limit reached") }
        // Existing series keep working.
        _ = try store.seriesRef(for: L("a", ("i", "1")))
        let app = store.appender()
        try app.append(L("a", ("i", "2")), 1000, 1)
        try app.commit()
        // The per-metric count survives a restart.
        store.close()
        store = try openStore(dir) { $0.maxSeries = 10; $0.maxSeriesPerMetric = 2 }
        #expect(throws: ArgusError.self) { try store.seriesRef(for: L("a", ("i", "9"))) }
    }
}
