import ArgusModel
import CSnappy

/// Snappy block format (as remote_write and Loki's protobuf push use it), through libsnappy.
public enum Snappy {
    /// Decompresses `src`, refusing output larger than `limit` bytes (decompression bombs).
    public static func decompress(_ src: [UInt8], limit: Int) throws -> [UInt8] {
        var size = 0
        let ok = src.withUnsafeBufferPointer { p in
            p.withMemoryRebound(to: CChar.self) { snappy_uncompressed_length($0.baseAddress, p.count, &size) }
        }
        guard ok == SNAPPY_OK else { throw ArgusError(.badInput, "snappy: corrupt input (cannot read the decompressed length)") }
        guard size <= limit else {
            throw ArgusError(.limit, "snappy: decompressed body would be \(size) bytes, over the limit of \(limit)")
        }
        var out = [UInt8](repeating: 0, count: size)
        var outLen = size
        let rc = src.withUnsafeBufferPointer { p in
            p.withMemoryRebound(to: CChar.self) { sp in
                out.withUnsafeMutableBufferPointer { o in
                    o.withMemoryRebound(to: CChar.self) { snappy_uncompress(sp.baseAddress, p.count, $0.baseAddress, &outLen) }
                }
            }
        }
        guard rc == SNAPPY_OK, outLen == size else { throw ArgusError(.badInput, "snappy: corrupt input") }
        return out
    }

    public static func compress(_ src: [UInt8]) -> [UInt8] {
        var outLen = snappy_max_compressed_length(src.count)
        var out = [UInt8](repeating: 0, count: outLen)
        _ = src.withUnsafeBufferPointer { p in
            p.withMemoryRebound(to: CChar.self) { sp in
                out.withUnsafeMutableBufferPointer { o in
                    o.withMemoryRebound(to: CChar.self) { snappy_compress(sp.baseAddress, p.count, $0.baseAddress, &outLen) }
                }
            }
        }
        out.removeLast(out.count - outLen)
        return out
    }
}
