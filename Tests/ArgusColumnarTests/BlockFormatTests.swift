import ArgusColumnar
import Foundation
import Testing

@Suite struct BlockFormatTests {
    @Test func crc32cKnownVector() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8]()) == 0)
    }

    @Test func zstdRoundTripAndLimit() throws {
        let src = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 % 251) }
        let frame = try Zstd.compress(src)
        #expect(frame.count < src.count / 10)
        let back = try frame.withUnsafeBytes { try Zstd.decompress($0, size: src.count) }
        #expect(back == src)
        #expect(throws: (any Error).self) { try frame.withUnsafeBytes { try Zstd.decompress($0, limit: 1000) } }
    }

    func makeBlock(_ dir: String, series: Int) throws -> ([UInt32: ([Int64], [Double])], MetricBlockStats) {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var w = MetricBlockWriter(dir: dir)
        var expected: [UInt32: ([Int64], [Double])] = [:]
        for s in 0..<series {
            let ref = UInt32(s * 3 + 1)
            let n = 1 + (s * 37) % 1500  // up to three chunks of 480
            let ts = (0..<n).map { Int64(1_000_000 + $0 * 15_000 + (s % 3)) }
            let vs = (0..<n).map { Double($0 * (s % 11)) / 4 }
            try w.add(ref: ref, timestamps: ts, values: vs)
            expected[ref] = (ts, vs)
        }
        return (expected, try w.finish())
    }

    @Test func blockRoundTrip() throws {
        let dir = NSTemporaryDirectory() + "argus-block-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (expected, stats) = try makeBlock(dir, series: 3000)
        #expect(stats.series == 3000)
        let r = try MetricBlockReader(dir: dir)
        #expect(Set(r.refs).count == 3000)
        #expect(r.seriesCount > 3000)  // long series take several chunk entries
        var cursor = MetricBlockReader.Cursor()
        var total = 0
        for (ref, e) in expected.sorted(by: { $0.key < $1.key }) {
            var ts: [Int64] = [], vs: [Double] = []
            let entries = r.entries(of: ref)
            #expect(entries.count == (e.0.count + MetricBlockFormat.chunkSamples - 1) / MetricBlockFormat.chunkSamples)
            for i in entries {
                #expect(Int(r.counts[i]) <= MetricBlockFormat.chunkSamples)
                try r.decode(series: i, cursor: &cursor, ts: &ts, vs: &vs)
            }
            #expect(ts == e.0)
            #expect(vs == e.1)
            total += ts.count
        }
        #expect(total == stats.samples)
        #expect(r.find(4) != nil)
        #expect(r.find(5) == nil)
        #expect(r.entries(of: 5).isEmpty)
    }

    @Test(arguments: ["index", "timestamps", "values"])
    func damagedFileIsRefusedNamingIt(_ file: String) throws {
        let dir = NSTemporaryDirectory() + "argus-block-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try makeBlock(dir, series: 50)
        let path = dir + "/" + file
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[bytes.count / 2] ^= 0x5A
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        do {
            _ = try MetricBlockReader(dir: dir)
            Issue.record("a damaged \(file) was accepted")
        } catch {
            #expect("\(error)".contains(path))
        }
    }

    @Test func truncatedFileIsRefused() throws {
        let dir = NSTemporaryDirectory() + "argus-block-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try makeBlock(dir, series: 50)
        let path = dir + "/values"
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        try bytes.prefix(bytes.count - 7).write(to: URL(fileURLWithPath: path))
        #expect(throws: (any Error).self) { _ = try MetricBlockReader(dir: dir) }
    }
}
