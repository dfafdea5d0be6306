import ArgusModel
import ArgusColumnar
import Foundation

/// The head's in-memory chunk for one series.
///
/// Samples go first into an open Gorilla-style bit stream (appendable in place). Every
/// `subChunkSize` samples the open stream is re-encoded with the block codecs (constant-step or
/// grid timestamps, decimal or XOR values), which take about half the memory for typical
/// counters and gauges, and appended to `closed`.
///
/// Open stream: timestamps as the first in 64 bits, then delta-of-deltas in buckets
/// (`0`; `10`+7 bits; `110`+14; `1110`+20; `11110`+32; `11111`+64); values Gorilla XOR.
/// Closed: per sub-chunk, uvarint sample count, u16 timestamp byte length, timestamp bytes,
/// value bytes.
struct HeadChunk {
    static let subChunkSize: Int32 = 64

    var closed: [UInt8] = []
    var closedCount: Int32 = 0
    var stream = BitWriter()
    var openCount: Int32 = 0
    var lastT: Int64 = 0
    var lastDelta: Int64 = 0
    var xor = XORValueEncoder()

    var count: Int32 { closedCount + openCount }
    var isEmpty: Bool { count == 0 }

    mutating func append(_ t: Int64, _ v: Double) {
        if openCount == 0 {
            stream.bits(UInt64(bitPattern: t), 64)
            lastDelta = 0
        } else {
            let delta = t &- lastT
            let dod = delta &- lastDelta
            HeadChunk.putDoD(dod, &stream)
            lastDelta = delta
        }
        xor.append(v, into: &stream)
        lastT = t
        openCount += 1
        if openCount >= HeadChunk.subChunkSize { closeSubChunk() }
    }

    mutating func closeSubChunk() {
        let n = Int(openCount)
        withUnsafeTemporaryAllocation(of: Int64.self, capacity: n) { ts in
            withUnsafeTemporaryAllocation(of: Double.self, capacity: n) { vs in
                decodeOpen(ts.baseAddress!, vs.baseAddress!)
                var w = ByteWriter()
                swap(&w.bytes, &closed)
                w.uvarint(UInt64(n))
                let lenAt = w.count
                w.u16(0)
                TimestampCodec.encode(UnsafeBufferPointer(ts), into: &w)
                let tsLen = w.count - lenAt - 2
                w.bytes[lenAt] = UInt8(truncatingIfNeeded: tsLen)
                w.bytes[lenAt + 1] = UInt8(truncatingIfNeeded: tsLen >> 8)
                ValueCodec.encode(UnsafeBufferPointer(vs), into: &w)
                // Keep the capacity exact: the head holds many of these.
                let src = w.bytes
                closed = [UInt8](unsafeUninitializedCapacity: src.count) { buf, count in
                    _ = src.withUnsafeBytes { memcpy(buf.baseAddress!, $0.baseAddress!, src.count) }
                    count = src.count
                }
            }
        }
        closedCount += openCount
        stream = BitWriter()
        openCount = 0
        xor = XORValueEncoder()
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
        ts.reserveForAppending(n)
        vs.reserveForAppending(n)
        if closedCount > 0 {
            closed.withUnsafeBytes { p in
                var r = ByteReader(p)
                do {
                    while !r.isAtEnd {
                        let c = Int(try r.uvarint())
                        let tsLen = Int(try r.u16())
                        let tsBytes = try r.bytes(tsLen)
                        let base = ts.count
                        ts.append(contentsOf: repeatElement(0, count: c))
                        vs.append(contentsOf: repeatElement(0, count: c))
                        try ts.withUnsafeMutableBufferPointer { try TimestampCodec.decode(tsBytes, count: c, into: $0.baseAddress! + base) }
                        let used = try vs.withUnsafeMutableBufferPointer {
                            try ValueCodec.decode(UnsafeRawBufferPointer(rebasing: p[r.offset...]), count: c, into: $0.baseAddress! + base)
                        }
                        r.offset += used
                    }
                } catch {
                    preconditionFailure("head chunk decode failed: \(error)")
                }
            }
        }
        decodeOpen(into: &ts, &vs)
    }

    func decodeOpen(into ts: inout [Int64], _ vs: inout [Double]) {
        let n = Int(openCount)
        if n == 0 { return }
        let base = ts.count
        ts.append(contentsOf: repeatElement(0, count: n))
        vs.append(contentsOf: repeatElement(0, count: n))
        ts.withUnsafeMutableBufferPointer { t in
            vs.withUnsafeMutableBufferPointer { v in decodeOpen(t.baseAddress! + base, v.baseAddress! + base) }
        }
    }

    /// Decodes the open stream's `openCount` samples into the two buffers.
    func decodeOpen(_ ts: UnsafeMutablePointer<Int64>, _ vs: UnsafeMutablePointer<Double>) {
        let n = Int(openCount)
        if n == 0 { return }
        stream.withBytes { p, bitCount in
            var br = BitReader(p, bitCount: bitCount)
            var dec = XORValueDecoder()
            do {
                var t = Int64(bitPattern: try br.bits(64))
                var delta: Int64 = 0
                ts[0] = t
                vs[0] = try dec.next(&br)
                for k in 1..<n {
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
                    ts[k] = t
                    vs[k] = try dec.next(&br)
                }
            } catch {
                // The stream is written and read by this process only; a failure is a bug.
                preconditionFailure("head chunk decode failed: \(error)")
            }
        }
    }

    var memoryBytes: Int { closed.capacity + stream.capacity + 64 }
}
