/// Writes bits most-significant first (Gorilla-style chunks). Bits gather in a 64-bit
/// accumulator and reach `bytes` eight bytes at a time; `withBytes` shows the complete stream.
public struct BitWriter {
    /// Complete bytes; the newest bits are still in `acc`.
    public private(set) var bytes: [UInt8] = []
    var acc: UInt64 = 0
    var accBits = 0

    public init() {}

    public var bitCount: Int { bytes.count * 8 + accBits }

    /// Bytes held, for memory accounting.
    public var capacity: Int { bytes.capacity + 16 }

    @inline(__always) public mutating func bit(_ b: Bool) { bits(b ? 1 : 0, 1) }

    /// Writes the low `n` bits of `v` (1 ≤ n ≤ 64), most significant first.
    @inline(__always) public mutating func bits(_ v: UInt64, _ n: Int) {
        let value = n == 64 ? v : v & ((1 << UInt64(n)) &- 1)
        let free = 64 - accBits
        if n < free {
            acc = (acc << UInt64(n)) | value
            accBits += n
            return
        }
        // Fill the accumulator, flush it, keep the rest.
        let rest = n - free
        let full = free == 64 ? value >> UInt64(rest) : (acc << UInt64(free)) | (value >> UInt64(rest))
        flush(full)
        acc = rest == 0 ? 0 : value & ((1 << UInt64(rest)) &- 1)
        accBits = rest
    }

    @inline(__always) mutating func flush(_ word: UInt64) {
        var shift: UInt64 = 56
        for _ in 0..<8 {
            bytes.append(UInt8(truncatingIfNeeded: word >> shift))
            shift &-= 8
        }
    }

    /// Calls `body` with the whole stream (complete bytes plus the partial tail, zero-padded)
    /// and its length in bits.
    public func withBytes<R>(_ body: (UnsafeRawBufferPointer, Int) throws -> R) rethrows -> R {
        let tailBytes = (accBits + 7) / 8
        let total = bytes.count + tailBytes
        return try withUnsafeTemporaryAllocation(byteCount: max(total, 1), alignment: 8) { buf in
            bytes.withUnsafeBytes { src in
                if src.count > 0 { buf.baseAddress!.copyMemory(from: src.baseAddress!, byteCount: src.count) }
            }
            if accBits > 0 {
                let tail = acc << UInt64(64 - accBits)
                for k in 0..<tailBytes {
                    buf[bytes.count + k] = UInt8(truncatingIfNeeded: tail >> UInt64(56 - 8 * k))
                }
            }
            return try body(UnsafeRawBufferPointer(rebasing: buf[0..<total]), bitCount)
        }
    }

    /// The whole stream as bytes (the tail zero-padded).
    public var finishedBytes: [UInt8] { withBytes { p, _ in Array(p) } }
}

/// Reads what `BitWriter` wrote.
public struct BitReader {
    let base: UnsafeRawBufferPointer
    var pos: Int = 0  // bit position
    let limit: Int

    public init(_ base: UnsafeRawBufferPointer, bitCount: Int? = nil) {
        self.base = base
        self.limit = bitCount ?? base.count * 8
    }

    @inline(__always) public mutating func bit() throws -> Bool {
        guard pos < limit else { throw ColumnarError.truncated }
        let b = base[pos >> 3] & (0x80 >> UInt8(pos & 7))
        pos += 1
        return b != 0
    }

    @inline(__always) public mutating func bits(_ n: Int) throws -> UInt64 {
        guard pos + n <= limit else { throw ColumnarError.truncated }
        var v: UInt64 = 0
        var n = n
        while n > 0 {
            let bitInByte = pos & 7
            let avail = 8 - bitInByte
            let take = min(avail, n)
            let byte = UInt64(base[pos >> 3])
            let part = (byte >> UInt64(avail - take)) & ((1 << UInt64(take)) - 1)
            v = (v << UInt64(take)) | part
            pos += take
            n -= take
        }
        return v
    }
}
