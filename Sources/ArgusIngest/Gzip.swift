import ArgusModel
import CZlib

/// gzip (and zlib) request bodies, through zlib, with an output limit against decompression bombs.
public enum Gzip {
    public static func decompress(_ src: [UInt8], limit: Int) throws -> [UInt8] {
        var stream = z_stream()
        // 15 + 32: accept gzip and zlib headers.
        guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw ArgusError(.internal, "gzip: cannot initialise zlib")
        }
        defer { inflateEnd(&stream) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        return try src.withUnsafeBufferPointer { input -> [UInt8] in
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
            stream.avail_in = UInt32(input.count)
            while true {
                let (rc, produced) = chunk.withUnsafeMutableBufferPointer { c -> (Int32, Int) in
                    stream.next_out = c.baseAddress
                    stream.avail_out = UInt32(c.count)
                    let rc = inflate(&stream, Z_NO_FLUSH)
                    return (rc, c.count - Int(stream.avail_out))
                }
                out.append(contentsOf: chunk[0..<produced])
                if out.count > limit {
                    throw ArgusError(.limit, "gzip: decompressed body is over the limit of \(limit) bytes")
                }
                switch rc {
                case Z_STREAM_END: return out
                case Z_OK: if stream.avail_in == 0 && produced == 0 { throw ArgusError(.badInput, "gzip: body ends early (truncated)") }
                case Z_BUF_ERROR: if stream.avail_in == 0 { throw ArgusError(.badInput, "gzip: body ends early (truncated)") }
                default: throw ArgusError(.badInput, "gzip: corrupt body")
                }
            }
        }
    }

    public static func compress(_ src: [UInt8]) -> [UInt8] {
        var stream = z_stream()
        deflateInit2_(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        defer { deflateEnd(&stream) }
        var out = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(src.count))) + 32)
        src.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { o in
                stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
                stream.avail_in = UInt32(input.count)
                stream.next_out = o.baseAddress
                stream.avail_out = UInt32(o.count)
                deflate(&stream, Z_FINISH)
            }
        }
        out.removeLast(Int(stream.avail_out))
        return out
    }
}
