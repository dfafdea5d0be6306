/// Writes bits most-significant first into a byte array (Gorilla-style chunks).
public struct BitWriter {
    public var bytes: [UInt8] = []
    /// Bits still free in the last byte (0 when a new byte is needed).
    public var free: UInt8 = 0

    public init() {}

    public var bitCount: Int { bytes.count * 8 - Int(free) }

    @inline(__always) public mutating func bit(_ b: Bool) {
        if free == 0 {
            bytes.append(0)
            free = 8
        }
        free -= 1
        if b { bytes[bytes.count - 1] |= 1 << free }
    }

    /// Writes the low `n` bits of `v` (n ≤ 64), most significant first.
    @inline(__always) public mutating func bits(_ v: UInt64, _ n: Int) {
        var n = n
        while n > 0 {
            if free == 0 {
                bytes.append(0)
                free = 8
            }
            let take = min(Int(free), n)
            let shift = n - take
            let part = UInt8(truncatingIfNeeded: (v >> UInt64(shift)) & ((1 << UInt64(take)) - 1))
            free -= UInt8(take)
            bytes[bytes.count - 1] |= part << free
            n -= take
        }
    }
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
