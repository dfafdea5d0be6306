/// Float value column encodings, chosen per chunk by the smaller result.
///
/// Every encoding reproduces values bit-exactly (NaN payloads such as Prometheus' staleness
/// marker, ±Inf and -0.0 included): the decimal encodings are only chosen when a check shows
/// each value decodes to the same bits.
public enum ValueCodec {
    public enum Tag: UInt8 {
        /// One 8-byte value repeated.
        case constant = 1
        /// exponent (i8), then mantissas as zigzag varint deltas: v = m / 10^e.
        case decimalDelta = 2
        /// exponent (i8), then mantissas as zigzag varint delta-of-deltas.
        case decimalDoubleDelta = 3
        /// Gorilla XOR bit stream (uvarint byte length, then bytes).
        case xor = 4
    }

    static let pow10: [Double] = (0...22).map { e in
        var x = 1.0
        for _ in 0..<e { x *= 10 }
        return x
    }
    static let maxMantissa: Double = 9_007_199_254_740_992  // 2^53

    @inline(__always) static func decode(mantissa m: Int64, exponent e: Int) -> Double {
        e >= 0 ? Double(m) / pow10[e] : Double(m) * pow10[-e]
    }

    /// The smallest exponent that represents `v` exactly, or nil.
    @inline(__always) static func exponent(of v: Double) -> Int? {
        if !v.isFinite { return nil }
        if v == 0 { return v.bitPattern == 0 ? 0 : nil }
        if v == v.rounded(), abs(v) < maxMantissa {
            // An integer: try to strip trailing zeros for large round numbers only when needed.
            return 0
        }
        for e in 1...15 {
            let m = (v * pow10[e]).rounded()
            if abs(m) < maxMantissa, m / pow10[e] == v { return e }
        }
        for e in 1...15 {
            let m = (v / pow10[e]).rounded()
            if abs(m) < maxMantissa, m * pow10[e] == v { return -e }
        }
        return nil
    }

    /// Encodes `vs` into `w`, choosing the smallest of the encodings.
    public static func encode(_ vs: UnsafeBufferPointer<Double>, into w: inout ByteWriter) {
        let n = vs.count
        if n == 0 { return }
        let firstBits = vs[0].bitPattern
        var constant = true
        for v in vs where v.bitPattern != firstBits {
            constant = false
            break
        }
        if constant {
            w.u8(Tag.constant.rawValue)
            w.u64(firstBits)
            return
        }
        let done: Bool = withUnsafeTemporaryAllocation(of: Int64.self, capacity: n) { mantissas in
            guard let e = decimal(vs, into: mantissas) else { return false }
            var deltaSize = 0
            var dodSize = 0
            var prev: Int64 = 0
            var prevDelta: Int64 = 0
            for i in 0..<n {
                let m = mantissas[i]
                let d = m &- prev
                deltaSize += varintSize(zigzag(d))
                dodSize += varintSize(zigzag(i == 0 ? m : d &- prevDelta))
                prevDelta = d
                prev = m
            }
            if deltaSize <= dodSize {
                w.u8(Tag.decimalDelta.rawValue)
                w.u8(UInt8(bitPattern: Int8(e)))
                var p: Int64 = 0
                for i in 0..<n {
                    w.varint(mantissas[i] &- p)
                    p = mantissas[i]
                }
            } else {
                w.u8(Tag.decimalDoubleDelta.rawValue)
                w.u8(UInt8(bitPattern: Int8(e)))
                var p: Int64 = 0
                var pd: Int64 = 0
                for i in 0..<n {
                    let m = mantissas[i]
                    let d = m &- p
                    w.varint(i == 0 ? m : d &- pd)
                    pd = d
                    p = m
                }
            }
            return true
        }
        if done { return }
        w.u8(Tag.xor.rawValue)
        let bits = xorEncode(vs)
        w.uvarint(UInt64(bits.count))
        w.append(bits)
    }

    public static func encode(_ vs: [Double], into w: inout ByteWriter) {
        vs.withUnsafeBufferPointer { encode($0, into: &w) }
    }

    /// The common exponent, with the mantissas written to `out`, when every value round-trips
    /// exactly; nil otherwise.
    static func decimal(_ vs: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Int64>) -> Int? {
        var e = Int.min
        for v in vs {
            guard let ve = exponent(of: v) else { return nil }
            if ve > e { e = ve }
        }
        for (i, v) in vs.enumerated() {
            let m = e >= 0 ? (v * pow10[e]).rounded() : (v / pow10[-e]).rounded()
            guard abs(m) < maxMantissa else { return nil }
            let mi = Int64(m)
            guard decode(mantissa: mi, exponent: e).bitPattern == v.bitPattern else { return nil }
            out[i] = mi
        }
        return e
    }

    static func xorEncode(_ vs: UnsafeBufferPointer<Double>) -> [UInt8] {
        var bw = BitWriter()
        var enc = XORValueEncoder()
        for v in vs { enc.append(v, into: &bw) }
        return bw.finishedBytes
    }

    /// Decodes `n` values from `src` into `out`; returns the bytes consumed.
    @discardableResult
    public static func decode(_ src: UnsafeRawBufferPointer, count n: Int, into out: UnsafeMutablePointer<Double>) throws -> Int {
        if n == 0 { return 0 }
        var r = FastReader(src)
        guard let tag = Tag(rawValue: try r.u8()) else { throw ColumnarError.corrupt("unknown value encoding") }
        switch tag {
        case .constant:
            let v = Double(bitPattern: try r.u64())
            for i in 0..<n { out[i] = v }
        case .decimalDelta:
            let e = Int(Int8(bitPattern: try r.u8()))
            guard e >= -22, e <= 22 else { throw ColumnarError.corrupt("decimal exponent \(e)") }
            var m: Int64 = 0
            if e >= 0 {
                let d = pow10[e]
                for i in 0..<n {
                    m &+= unzigzag(try r.uvarint())
                    out[i] = Double(m) / d
                }
            } else {
                let d = pow10[-e]
                for i in 0..<n {
                    m &+= unzigzag(try r.uvarint())
                    out[i] = Double(m) * d
                }
            }
        case .decimalDoubleDelta:
            let e = Int(Int8(bitPattern: try r.u8()))
            guard e >= -22, e <= 22 else { throw ColumnarError.corrupt("decimal exponent \(e)") }
            var m = unzigzag(try r.uvarint())
            // The first mantissa is also the first delta (from zero).
            var d: Int64 = m
            out[0] = decode(mantissa: m, exponent: e)
            for i in 1..<n {
                d &+= unzigzag(try r.uvarint())
                m &+= d
                out[i] = decode(mantissa: m, exponent: e)
            }
        case .xor:
            let lenU = try r.uvarint()
            guard lenU <= UInt64(max(0, r.end - r.pos)) else { throw ColumnarError.truncated }
            let len = Int(lenU)
            var br = BitReader(UnsafeRawBufferPointer(start: r.p + r.pos, count: len))
            var dec = XORValueDecoder()
            for i in 0..<n { out[i] = try dec.next(&br) }
            r.pos += len
        }
        return r.pos
    }
}

/// Gorilla's XOR float compression, streaming.
public struct XORValueEncoder {
    var prev: UInt64 = 0
    var leading: Int = 0xFF
    var trailing: Int = 0
    var count = 0

    public init() {}

    @inline(__always) public mutating func append(_ v: Double, into bw: inout BitWriter) {
        let bits = v.bitPattern
        defer {
            prev = bits
            count += 1
        }
        if count == 0 {
            bw.bits(bits, 64)
            return
        }
        let x = bits ^ prev
        if x == 0 {
            bw.bit(false)
            return
        }
        bw.bit(true)
        var lz = x.leadingZeroBitCount
        let tz = x.trailingZeroBitCount
        if lz > 31 { lz = 31 }
        if leading != 0xFF && lz >= leading && tz >= trailing {
            bw.bit(false)
            bw.bits(x >> UInt64(trailing), 64 - leading - trailing)
        } else {
            leading = lz
            trailing = tz
            bw.bit(true)
            bw.bits(UInt64(lz), 5)
            let sig = 64 - lz - tz
            bw.bits(UInt64(sig == 64 ? 0 : sig), 6)
            bw.bits(x >> UInt64(tz), sig)
        }
    }
}

public struct XORValueDecoder {
    var prev: UInt64 = 0
    var leading = 0
    var trailing = 0
    var count = 0

    public init() {}

    @inline(__always) public mutating func next(_ br: inout BitReader) throws -> Double {
        defer { count += 1 }
        if count == 0 {
            prev = try br.bits(64)
            return Double(bitPattern: prev)
        }
        if try !br.bit() { return Double(bitPattern: prev) }
        if try br.bit() {
            leading = Int(try br.bits(5))
            var sig = Int(try br.bits(6))
            if sig == 0 { sig = 64 }
            trailing = 64 - leading - sig
            if trailing < 0 { throw ColumnarError.corrupt("xor stream") }
        }
        let sig = 64 - leading - trailing
        let x = try br.bits(sig) << UInt64(trailing)
        prev ^= x
        return Double(bitPattern: prev)
    }
}
