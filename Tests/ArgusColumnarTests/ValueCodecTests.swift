import ArgusColumnar
import ArgusModel
import Testing

@Suite struct ValueCodecTests {
    func roundTrip(_ vs: [Double]) throws -> (decoded: [Double], size: Int, tag: UInt8?) {
        var w = ByteWriter()
        ValueCodec.encode(vs, into: &w)
        var out = [Double](repeating: 0, count: vs.count)
        let used = try w.bytes.withUnsafeBytes { src in
            try out.withUnsafeMutableBufferPointer { try ValueCodec.decode(src, count: vs.count, into: $0.baseAddress!) }
        }
        #expect(used == w.count)
        return (out, w.count, w.bytes.first)
    }

    func bits(_ vs: [Double]) -> [UInt64] { vs.map(\.bitPattern) }

    @Test func constantIsNineBytes() throws {
        let r = try roundTrip([Double](repeating: 1, count: 500))
        #expect(r.size == 9)
        #expect(r.tag == ValueCodec.Tag.constant.rawValue)
        #expect(r.decoded == [Double](repeating: 1, count: 500))
    }

    @Test func countersUseDecimalDeltas() throws {
        var v = 1000.0
        let vs = (0..<200).map { i -> Double in v += Double(i % 5); return v }
        let r = try roundTrip(vs)
        #expect(r.tag == ValueCodec.Tag.decimalDelta.rawValue)
        #expect(bits(r.decoded) == bits(vs))
        // tag + exponent + first mantissa (2 bytes) + 199 one-byte deltas
        #expect(r.size == 2 + 2 + 199)
    }

    @Test func decimalsRoundTripBitExactly() throws {
        let vs = [0.1, 0.2, 0.30000000000000004, 12.345, -7.5, 1e-9, 123456.789, 0]
        let r = try roundTrip(vs)
        #expect(bits(r.decoded) == bits(vs))
    }

    @Test func specialValuesAreExact() throws {
        let vs = [1.0, StaleNaN.value, .nan, .infinity, -.infinity, -0.0, 2.5, Double(bitPattern: 0x7ff8_0000_0000_1234)]
        let r = try roundTrip(vs)
        #expect(r.tag == ValueCodec.Tag.xor.rawValue)
        #expect(bits(r.decoded) == bits(vs))
        #expect(StaleNaN.isStale(r.decoded[1]))
    }

    @Test func randomFloatsRoundTrip() throws {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<50 {
            let vs = (0..<Int.random(in: 1...300, using: &rng)).map { _ in Double(bitPattern: UInt64.random(in: 0...UInt64.max, using: &rng)) }
            #expect(bits(try roundTrip(vs).decoded) == bits(vs))
            let ds = (0..<Int.random(in: 1...300, using: &rng)).map { _ in Double(Int.random(in: -1_000_000...1_000_000, using: &rng)) / 1000 }
            #expect(bits(try roundTrip(ds).decoded) == bits(ds))
        }
    }

    @Test func largeRoundNumbersUseNegativeExponents() throws {
        let vs: [Double] = [1e20, 2e20, 3.5e20]
        let r = try roundTrip(vs)
        #expect(r.tag == ValueCodec.Tag.decimalDelta.rawValue || r.tag == ValueCodec.Tag.decimalDoubleDelta.rawValue)
        #expect(bits(r.decoded) == bits(vs))
    }
}
