import ArgusColumnar
import Testing

@Suite struct TimestampCodecTests {
    func roundTrip(_ ts: [Int64]) throws -> (decoded: [Int64], size: Int, tag: UInt8?) {
        var w = ByteWriter()
        TimestampCodec.encode(ts, into: &w)
        var out = [Int64](repeating: 0, count: ts.count)
        let used = try w.bytes.withUnsafeBytes { src in
            try out.withUnsafeMutableBufferPointer { try TimestampCodec.decode(src, count: ts.count, into: $0.baseAddress!) }
        }
        #expect(used == w.count)
        return (out, w.count, w.bytes.first)
    }

    @Test func constantStepIsThreeVarints() throws {
        let ts = (0..<1000).map { 1_700_000_000_000 + Int64($0) * 15_000 }
        let r = try roundTrip(ts)
        #expect(r.decoded == ts)
        #expect(r.tag == TimestampCodec.Tag.constantStep.rawValue)
        // tag + zigzag varint of 1.7e12 (6 bytes) + zigzag varint of 15000 (3 bytes)
        #expect(r.size == 1 + 6 + 3)
    }

    @Test func jitteredGridUsesResiduals() throws {
        var rng = SystemRandomNumberGenerator()
        let ts = (0..<500).map { 1_700_000_000_000 + Int64($0) * 15_000 + Int64.random(in: 0...5, using: &rng) }
        let r = try roundTrip(ts)
        #expect(r.decoded == ts)
        #expect(r.tag == TimestampCodec.Tag.gridResidual.rawValue)
        #expect(r.size < 1 + 6 + 3 + 500 + 1)
    }

    @Test func irregularUsesDeltaOfDelta() throws {
        var ts: [Int64] = [1000]
        var step: Int64 = 10
        for i in 0..<300 {
            step += Int64(i % 7) * 1000  // growing gaps defeat a fixed grid
            ts.append(ts.last! + step)
        }
        let r = try roundTrip(ts)
        #expect(r.decoded == ts)
        #expect(r.tag == TimestampCodec.Tag.deltaOfDelta.rawValue)
    }

    @Test(arguments: [[Int64](), [42], [-5_000, -4_000], [Int64.min / 4, 0, Int64.max / 4]])
    func edgeCases(_ ts: [Int64]) throws {
        #expect(try roundTrip(ts).decoded == ts)
    }

    @Test func truncatedInputThrows() throws {
        var w = ByteWriter()
        TimestampCodec.encode([1, 5, 7, 100, 1000, 1001], into: &w)
        var out = [Int64](repeating: 0, count: 6)
        let cut = Array(w.bytes.dropLast(2))
        #expect(throws: (any Error).self) {
            try cut.withUnsafeBytes { src in
                try out.withUnsafeMutableBufferPointer { try TimestampCodec.decode(src, count: 6, into: $0.baseAddress!) }
            }
        }
    }
}
