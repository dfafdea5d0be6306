import ArgusIngest
import ArgusModel
import ArgusStorage
import ArgusTestKit
import Foundation
import Logging
import Testing

@Suite struct RemoteWriteTests {
    func store(_ dir: TempDir) throws -> MetricStore {
        var o = StorageOptions(dataDir: dir.path)
        o.retention = 100 * 365 * 86_400_000
        var logger = Logger(label: "t")
        logger.logLevel = .critical
        return try MetricStore(options: o, logger: logger)
    }

    func all(_ s: MetricStore) -> [String: [Sample]] {
        let set = s.querier(mint: .min / 2, maxt: .max / 2).select([try! Matcher(.regexMatch, "__name__", ".+")])
        var out: [String: [Sample]] = [:]
        while let x = set.next() { out[x.labels.description] = zip(x.timestamps, x.values).map { Sample(t: $0, v: $1) } }
        return out
    }

    @Test func snappyRoundTripAndBombLimit() throws {
        let src = Array(String(repeating: "remote write ", count: 1000).utf8)
        let c = Snappy.compress(src)
        #expect(c.count < src.count / 5)
        #expect(try Snappy.decompress(c, limit: src.count) == src)
        #expect(throws: ArgusError.self) { try Snappy.decompress(c, limit: src.count - 1) }
        #expect(throws: ArgusError.self) { try Snappy.decompress([0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 1, 2], limit: 1 << 20) }
    }

    @Test func storesSamplesAndReusesSeriesAcrossRequests() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let s = try store(dir)
        let ing = RemoteWriteIngester(store: s, limits: IngestLimits())
        let body1 = RemoteWriteBuilder.build([
            .init([("__name__", "up"), ("job", "a")], [(1000, 1), (2000, 0)]),
            .init([("job", "b"), ("__name__", "up")], [(1000, 1)]),
        ])
        var c = try ing.ingest(body1, now: 10_000)
        #expect(c.samples == 3)
        #expect(c.series == 2)
        #expect(c.firstError == nil)
        c = try ing.ingest(RemoteWriteBuilder.build([.init([("__name__", "up"), ("job", "a")], [(3000, 1)])]), now: 10_000)
        #expect(c.series == 0)  // served from the label-bytes cache
        #expect(all(s)["up{job=\"a\"}"] == [Sample(t: 1000, v: 1), Sample(t: 2000, v: 0), Sample(t: 3000, v: 1)])
        #expect(all(s)["up{job=\"b\"}"] == [Sample(t: 1000, v: 1)])
    }

    @Test func invalidItemsAreSkippedAndCounted() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let s = try store(dir)
        let ing = RemoteWriteIngester(store: s, limits: IngestLimits())
        _ = try ing.ingest(RemoteWriteBuilder.build([.init([("__name__", "a")], [(5000, 1)])]), now: 10_000)
        let c = try ing.ingest(RemoteWriteBuilder.build([
            .init([("__name__", "a")], [(4000, 1), (6000, 2)]),          // one out of order
            .init([("__name__", "b"), ("1bad", "x")], [(1000, 1)]),      // invalid label name
            .init([("__name__", "c"), ("x", "1"), ("x", "2")], [(1000, 1)]),  // duplicate name
            .init([("__name__", "d")], [(10_000_000, 1)]),                // too far in the future
            .init([("__name__", "e")], [(7000, 7)]),
        ]), now: 10_000)
        #expect(c.samples == 2)
        #expect(c.rejected["invalid_labels"] == 2)
        #expect(c.rejected["too_far_in_future"] == 1)
        #expect(c.rejected["out_of_order"] == 1)
        #expect(c.firstError != nil)
        #expect(all(s)["a"] == [Sample(t: 5000, v: 1), Sample(t: 6000, v: 2)])
        #expect(all(s)["e"] == [Sample(t: 7000, v: 7)])
        #expect(all(s).count == 2)
    }

    /// Thousands of mutated valid payloads: every one is decoded or refused, none crashes.
    @Test func fuzzMutatedPayloads() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let s = try store(dir)
        let ing = RemoteWriteIngester(store: s, limits: IngestLimits())
        let valid = RemoteWriteBuilder.build((0..<20).map { i in
            .init([("__name__", "fuzz"), ("i", "\(i)"), ("job", "x")], [(Int64(1000 + i), Double(i)), (Int64(2000 + i), 1.5)])
        })
        var rng = SystemRandomNumberGenerator()
        var refused = 0, accepted = 0
        for round in 0..<4000 {
            var b = valid
            switch round % 4 {
            case 0:  // flip bytes
                for _ in 0..<Int.random(in: 1...8, using: &rng) { b[Int.random(in: 0..<b.count, using: &rng)] ^= UInt8.random(in: 1...255, using: &rng) }
            case 1:  // truncate
                b = Array(b.prefix(Int.random(in: 0..<b.count, using: &rng)))
            case 2:  // insert garbage
                b.insert(contentsOf: (0..<Int.random(in: 1...16, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }, at: Int.random(in: 0..<b.count, using: &rng))
            default:  // splice two pieces
                let cut = Int.random(in: 0..<b.count, using: &rng)
                b = Array(b[cut...] + b[..<cut])
            }
            do {
                _ = try ing.ingest(b, now: 1_000_000)
                accepted += 1
            } catch is ArgusError {
                refused += 1
            }
            // Snappy decoding of garbage must not crash either.
            _ = try? Snappy.decompress(b, limit: 1 << 20)
        }
        #expect(refused > 0)
        #expect(accepted + refused == 4000)
    }
}
