/// Timestamp column encodings, chosen per chunk by the smaller result.
///
/// Format tags are numbered explicitly; they are part of the on-disk format (docs/format.md).
public enum TimestampCodec {
    public enum Tag: UInt8 {
        /// first (varint), step (varint): t[i] = first + i*step.
        case constantStep = 1
        /// first, step, then per sample the residual from the grid (zigzag varints).
        case gridResidual = 2
        /// first, first delta, then per sample delta-of-delta (zigzag varints).
        case deltaOfDelta = 3
    }

    /// Encodes `ts` (sorted ascending) into `w`. The count is not written: the index holds it.
    public static func encode(_ ts: UnsafeBufferPointer<Int64>, into w: inout ByteWriter) {
        let n = ts.count
        if n == 0 { return }
        if n == 1 {
            w.u8(Tag.constantStep.rawValue)
            w.varint(ts[0])
            w.varint(0)
            return
        }
        let first = ts[0]
        let span = ts[n - 1] &- first
        let step = (span + Int64(n - 1) / 2) / Int64(n - 1)
        var constant = true
        var gridSize = 0
        var dodSize = 0
        var prevDelta = ts[1] &- ts[0]
        for i in 0..<n {
            let r = ts[i] &- (first &+ Int64(i) &* step)
            if r != 0 { constant = false }
            gridSize += varintSize(zigzag(r))
            if i >= 2 {
                let d = ts[i] &- ts[i - 1]
                dodSize += varintSize(zigzag(d &- prevDelta))
                prevDelta = d
            }
        }
        if constant {
            w.u8(Tag.constantStep.rawValue)
            w.varint(first)
            w.varint(step)
        } else if gridSize <= dodSize + varintSize(zigzag(ts[1] &- ts[0])) {
            w.u8(Tag.gridResidual.rawValue)
            w.varint(first)
            w.varint(step)
            for i in 0..<n { w.varint(ts[i] &- (first &+ Int64(i) &* step)) }
        } else {
            w.u8(Tag.deltaOfDelta.rawValue)
            w.varint(first)
            var delta = ts[1] &- ts[0]
            w.varint(delta)
            for i in 2..<n {
                let d = ts[i] &- ts[i - 1]
                w.varint(d &- delta)
                delta = d
            }
        }
    }

    public static func encode(_ ts: [Int64], into w: inout ByteWriter) {
        ts.withUnsafeBufferPointer { encode($0, into: &w) }
    }

    /// Decodes `count` timestamps from `src` into `out`; returns the bytes consumed.
    @discardableResult
    public static func decode(_ src: UnsafeRawBufferPointer, count n: Int, into out: UnsafeMutablePointer<Int64>) throws -> Int {
        if n == 0 { return 0 }
        var r = FastReader(src)
        guard let tag = Tag(rawValue: try r.u8()) else { throw ColumnarError.corrupt("unknown timestamp encoding") }
        let first = unzigzag(try r.uvarint())
        switch tag {
        case .constantStep:
            let step = unzigzag(try r.uvarint())
            var t = first
            for i in 0..<n {
                out[i] = t
                t &+= step
            }
        case .gridResidual:
            let step = unzigzag(try r.uvarint())
            var g = first
            for i in 0..<n {
                out[i] = g &+ unzigzag(try r.uvarint())
                g &+= step
            }
        case .deltaOfDelta:
            out[0] = first
            if n > 1 {
                var delta = unzigzag(try r.uvarint())
                var t = first &+ delta
                out[1] = t
                for i in 2..<n {
                    delta &+= unzigzag(try r.uvarint())
                    t &+= delta
                    out[i] = t
                }
            }
        }
        return r.pos
    }
}

@inline(__always) public func varintSize(_ v: UInt64) -> Int {
    v == 0 ? 1 : (64 - v.leadingZeroBitCount + 6) / 7
}

/// A minimal, fast reader for decode loops (bounds-checked, no existential dispatch).
@usableFromInline struct FastReader {
    @usableFromInline let p: UnsafePointer<UInt8>
    @usableFromInline let end: Int
    @usableFromInline var pos: Int = 0

    @inlinable init(_ src: UnsafeRawBufferPointer) {
        p = src.baseAddress.map { $0.assumingMemoryBound(to: UInt8.self) } ?? UnsafePointer(bitPattern: 1)!
        end = src.count
    }

    @inlinable @inline(__always) mutating func u8() throws -> UInt8 {
        guard pos < end else { throw ColumnarError.truncated }
        defer { pos += 1 }
        return p[pos]
    }

    @inlinable @inline(__always) mutating func u64() throws -> UInt64 {
        guard pos + 8 <= end else { throw ColumnarError.truncated }
        defer { pos += 8 }
        return UInt64(littleEndian: UnsafeRawPointer(p + pos).loadUnaligned(as: UInt64.self))
    }

    @inlinable @inline(__always) mutating func uvarint() throws -> UInt64 {
        guard pos < end else { throw ColumnarError.truncated }
        let b0 = p[pos]
        if b0 < 0x80 {
            pos += 1
            return UInt64(b0)
        }
        var result: UInt64 = UInt64(b0 & 0x7F)
        var shift: UInt64 = 7
        pos += 1
        while true {
            guard pos < end else { throw ColumnarError.truncated }
            let b = p[pos]
            pos += 1
            if b < 0x80 { return result | UInt64(b) << shift }
            result |= UInt64(b & 0x7F) << shift
            shift += 7
            if shift > 63 { throw ColumnarError.corrupt("varint overflows 64 bits") }
        }
    }
}
