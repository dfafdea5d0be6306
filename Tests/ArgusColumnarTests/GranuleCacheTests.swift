@testable import ArgusColumnar
import Foundation
import Testing

@Suite struct GranuleCacheTests {
    @Test func evictsLeastRecentlyUsedWithinItsBudget() {
        let c = GranuleCache(capacityBytes: 10_000)
        let chunk = [UInt8](repeating: 7, count: 900)
        for g in 0..<5 { c.put(1, g, ts: chunk, vals: chunk) }  // 5 × 1,864 bytes fit in 10,000
        #expect(c.stats().entries == 5)
        _ = c.get(1, 0)  // granule 0 is now the most recently used
        c.put(1, 5, ts: chunk, vals: chunk)  // over budget: evicts down to 80%, oldest first
        #expect(c.stats().bytes <= 10_000)
        #expect(c.get(1, 0) != nil)
        #expect(c.get(1, 1) == nil)
        #expect(c.get(1, 5) != nil)
        c.drop(1)
        #expect(c.stats().entries == 0 && c.stats().bytes == 0)
        c.capacityBytes = 0
        c.put(2, 0, ts: chunk, vals: chunk)
        #expect(c.get(2, 0) == nil)
    }

    @Test func secondScanOfABlockComesFromTheCacheWithTheSameData() throws {
        let dir = NSTemporaryDirectory() + "argus-cache-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var w = MetricBlockWriter(dir: dir)
        for s in 0..<600 {
            let ts = (0..<480).map { Int64($0 * 15_000 + s) }
            let vs = (0..<480).map { Double(($0 * 7919 + s * 104_729) % 100_003) / 7 }  // poorly compressible
            try w.add(ref: UInt32(s + 1), timestamps: ts, values: vs)
        }
        _ = try w.finish()
        let r = try MetricBlockReader(dir: dir)
        #expect(r.granules.count > 1)
        func scan() throws -> ([Int64], [Double]) {
            var cursor = MetricBlockReader.Cursor()
            var ts: [Int64] = [], vs: [Double] = []
            for i in 0..<r.seriesCount { try r.decode(series: i, cursor: &cursor, ts: &ts, vs: &vs) }
            return (ts, vs)
        }
        let first = try scan()
        let hits0 = GranuleCache.shared.stats().hits
        let second = try scan()
        #expect(GranuleCache.shared.stats().hits - hits0 >= r.granules.count)
        #expect(first.0 == second.0)
        #expect(first.1 == second.1)
        #expect(first.0.count == 600 * 480)
    }
}
