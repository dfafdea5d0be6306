#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A read-only memory map of a whole file. The mapping lives as long as this object, so a
/// reader keeps working on a block that compaction has already unlinked.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    public let bytes: UnsafeRawBufferPointer

    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY)
        if fd < 0 { throw ColumnarError.corrupt("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) != 0 { throw ColumnarError.corrupt("cannot stat \(path)") }
        let size = Int(st.st_size)
        if size == 0 {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw ColumnarError.corrupt("cannot map \(path): \(String(cString: strerror(errno)))")
        }
        bytes = UnsafeRawBufferPointer(start: p, count: size)
    }

    deinit {
        if let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
    }
}

/// Writes a whole file durably: to `path.tmp`, fsync, rename.
public func writeFileDurably(_ bytes: [UInt8], to path: String) throws {
    let tmp = path + ".tmp"
    let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    if fd < 0 { throw ColumnarError.corrupt("cannot create \(tmp): \(String(cString: strerror(errno)))") }
    var off = 0
    let ok: Bool = bytes.withUnsafeBytes { p in
        while off < p.count {
            let n = write(fd, p.baseAddress! + off, p.count - off)
            if n <= 0 {
                if n < 0 && errno == EINTR { continue }
                return false
            }
            off += n
        }
        return true
    }
    if !ok || fsync(fd) != 0 {
        close(fd)
        throw ColumnarError.corrupt("cannot write \(tmp): \(String(cString: strerror(errno)))")
    }
    close(fd)
    if rename(tmp, path) != 0 { throw ColumnarError.corrupt("cannot rename \(tmp): \(String(cString: strerror(errno)))") }
}

/// fsyncs a directory so a rename or create inside it is durable.
public func fsyncDirectory(_ path: String) {
    let fd = open(path, O_RDONLY | O_DIRECTORY)
    if fd >= 0 {
        fsync(fd)
        close(fd)
    }
}
