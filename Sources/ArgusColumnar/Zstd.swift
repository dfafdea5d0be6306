import CZstd

/// zstd frames: every column is a sequence of these.
public enum Zstd {
    /// Compresses `src` into one zstd frame appended to `out`.
    public static func compress(_ src: UnsafeRawBufferPointer, level: Int32 = 3, into out: inout [UInt8]) throws {
        let bound = ZSTD_compressBound(src.count)
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: bound))
        let written = out.withUnsafeMutableBytes { dst in
            ZSTD_compress(dst.baseAddress! + start, bound, src.baseAddress, src.count, level)
        }
        if ZSTD_isError(written) != 0 {
            throw ColumnarError.zstd(String(cString: ZSTD_getErrorName(written)))
        }
        out.removeLast(bound - written)
    }

    public static func compress(_ src: [UInt8], level: Int32 = 3) throws -> [UInt8] {
        var out: [UInt8] = []
        try src.withUnsafeBytes { try compress($0, level: level, into: &out) }
        return out
    }

    /// Decompresses one frame whose decompressed size is known to be `size`.
    public static func decompress(_ src: UnsafeRawBufferPointer, size: Int) throws -> [UInt8] {
        // Not zero-filled first: zstd writes every byte it reports, and a frame that holds
        // fewer than `size` bytes is refused below (the array is then cut to what was written).
        var n = 0
        let out = [UInt8](unsafeUninitializedCapacity: max(size, 1)) { dst, initialized in
            n = ZSTD_decompress(dst.baseAddress, size, src.baseAddress, src.count)
            initialized = ZSTD_isError(n) != 0 ? 0 : min(n, size)
        }
        if ZSTD_isError(n) != 0 { throw ColumnarError.zstd(String(cString: ZSTD_getErrorName(n))) }
        if n != size { throw ColumnarError.corrupt("zstd frame holds \(n) bytes, expected \(size)") }
        return out
    }

    /// Decompresses a frame of unknown size, refusing more than `limit` bytes (decompression bombs).
    public static func decompress(_ src: UnsafeRawBufferPointer, limit: Int) throws -> [UInt8] {
        let declared = ZSTD_getFrameContentSize(src.baseAddress, src.count)
        if declared != ZSTD_CONTENTSIZE_UNKNOWN && declared != ZSTD_CONTENTSIZE_ERROR {
            if declared > UInt64(limit) { throw ColumnarError.corrupt("zstd frame declares \(declared) bytes, over the limit of \(limit)") }
            return try decompress(src, size: Int(declared))
        }
        guard let ctx = ZSTD_createDStream() else { throw ColumnarError.zstd("cannot create a stream") }
        defer { ZSTD_freeDStream(ctx) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var input = ZSTD_inBuffer(src: src.baseAddress, size: src.count, pos: 0)
        while true {
            var produced = 0
            let ret = chunk.withUnsafeMutableBytes { c -> Int in
                var output = ZSTD_outBuffer(dst: c.baseAddress, size: c.count, pos: 0)
                let r = ZSTD_decompressStream(ctx, &output, &input)
                produced = output.pos
                return r
            }
            if ZSTD_isError(ret) != 0 { throw ColumnarError.zstd(String(cString: ZSTD_getErrorName(ret))) }
            out.append(contentsOf: chunk[0..<produced])
            if out.count > limit { throw ColumnarError.corrupt("decompressed data over the limit of \(limit) bytes") }
            if ret == 0 { return out }
            if input.pos == input.size && produced < chunk.count { throw ColumnarError.truncated }
        }
    }
}
