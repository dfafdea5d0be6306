import ArgusColumnar

/// The head's in-memory chunk for one series: a Gorilla-style bit stream, appended in place.
///
/// Timestamps: the first as 64 bits, then delta-of-deltas in buckets
/// (`0`; `10`+7 bits; `110`+14; `1110`+20; `11110`+32; `11111`+64).
/// Values: Gorilla XOR.
struct HeadChunk {
    var stream = BitWriter()
    var count: Int32 = 0
    var lastT: Int64 = 0
    var lastDelta: Int64 = 0
    var xor = XORValueEncoder()

    var isEmpty: Bool { count == 0 }

    mutating func append(_ t: Int64, _ v: Double) {
        if count == 0 {
            stream.bits(UInt64(bitPattern: t), 64)
        } else {
            let delta = t &- lastT
            let dod = delta &- lastDelta
            HeadChunk.putDoD(dod, &stream)
            lastDelta = delta
        }
        xor.append(v, into: &stream)
        lastT = t
        count += 1
    }

    @inline(__always) static func putDoD(_ dod: Int64, _ bw: inout BitWriter) {
        if dod == 0 {
            bw.bit(false)
        } else if dod >= -64 && dod <= 63 {
            bw.bits(0b10, 2)
            bw.bits(UInt64(bitPattern: dod) & 0x7F, 7)
        } else if dod >= -8192 && dod <= 8191 {
            bw.bits(0b110, 3)
            bw.bits(UInt64(bitPattern: dod) & 0x3FFF, 14)
        } else if dod >= -524_288 && dod <= 524_287 {
            bw.bits(0b1110, 4)
            bw.bits(UInt64(bitPattern: dod) & 0xFFFFF, 20)
        } else if dod >= -2_147_483_648 && dod <= 2_147_483_647 {
            bw.bits(0b11110, 5)
            bw.bits(UInt64(bitPattern: dod) & 0xFFFF_FFFF, 32)
        } else {
            bw.bits(0b11111, 5)
            bw.bits(UInt64(bitPattern: dod), 64)
        }
    }

    @inline(__always) static func signExtend(_ v: UInt64, _ bits: Int) -> Int64 {
        let shift = UInt64(64 - bits)
        return Int64(bitPattern: v << shift) >> Int64(shift)
    }

    /// Appends the chunk's samples to `ts` and `vs`.
    func decode(into ts: inout [Int64], _ vs: inout [Double]) {
        let n = Int(count)
        if n == 0 { return }
        ts.reserveCapacity(ts.count + n)
        vs.reserveCapacity(vs.count + n)
        stream.bytes.withUnsafeBytes { p in
            var br = BitReader(p, bitCount: stream.bitCount)
            var dec = XORValueDecoder()
            do {
                var t = Int64(bitPattern: try br.bits(64))
                var delta: Int64 = 0
                ts.append(t)
                vs.append(try dec.next(&br))
                for _ in 1..<n {
                    var dod: Int64
                    if try !br.bit() {
                        dod = 0
                    } else if try !br.bit() {
                        dod = HeadChunk.signExtend(try br.bits(7), 7)
                    } else if try !br.bit() {
                        dod = HeadChunk.signExtend(try br.bits(14), 14)
                    } else if try !br.bit() {
                        dod = HeadChunk.signExtend(try br.bits(20), 20)
                    } else if try !br.bit() {
                        dod = HeadChunk.signExtend(try br.bits(32), 32)
                    } else {
                        dod = Int64(bitPattern: try br.bits(64))
                    }
                    delta &+= dod
                    t &+= delta
                    ts.append(t)
                    vs.append(try dec.next(&br))
                }
            } catch {
                // The chunk is written and read by this process only; a failure is a bug.
                preconditionFailure("head chunk decode failed: \(error)")
            }
        }
    }

    var memoryBytes: Int { stream.bytes.capacity + 48 }
}
