import ArgusColumnar
import ArgusModel
import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// The write-ahead log: numbered segment files of framed records.
///
/// Record framing: u32 payload length, u32 CRC-32C of the payload, payload (little endian).
/// `append` writes a record with one `write(2)`; `waitDurable` blocks until an fsync covers it,
/// and concurrent committers share fsyncs (group commit).
public final class WAL: @unchecked Sendable {
    public static let maxRecord = 1 << 30
    let dir: String
    let logger: Logger
    let segmentSize: Int
    let lock = Lock()

    var fd: Int32 = -1
    public private(set) var segment: Int = 0
    var segmentBytes = 0
    /// Bytes written and bytes known durable, counted over the life of this object.
    var written: UInt64 = 0
    var synced: UInt64 = 0
    var syncing = false
    var syncError: ArgusError?

    /// fsync timings, for self-monitoring.
    public private(set) var fsyncCount = 0
    public private(set) var fsyncSeconds = 0.0

    public init(dir: String, segmentSize: Int = 128 << 20, logger: Logger) throws {
        self.dir = dir
        self.segmentSize = segmentSize
        self.logger = logger
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        } catch {
            throw ArgusError(.io, "cannot create the WAL directory \(dir)", cause: error)
        }
    }

    deinit {
        if fd >= 0 { Glibc.close(fd) }
    }

    static func segmentName(_ n: Int) -> String {
        let s = String(n)
        return String(repeating: "0", count: max(0, 8 - s.count)) + s
    }

    func path(_ n: Int) -> String { dir + "/" + WAL.segmentName(n) }

    /// The segment numbers present, ascending.
    public func segments() -> [Int] {
        guard let d = opendir(dir) else { return [] }
        defer { closedir(d) }
        var out: [Int] = []
        while let e = readdir(d) {
            let name = withUnsafePointer(to: e.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name.count == 8, let n = Int(name) { out.append(n) }
        }
        return out.sorted()
    }

    /// Reads every record of the segments after `checkpoint`, in order. A torn or corrupt record
    /// ends its segment: the segment is truncated there and the damage is logged with file and
    /// offset; records before it are kept and later segments are still read.
    public func replay(after checkpoint: Int, _ handle: (UnsafeRawBufferPointer) throws -> Void) throws -> (records: Int, truncated: Int) {
        var records = 0
        var truncated = 0
        for n in segments() where n > checkpoint {
            let p = path(n)
            let file = try MappedFile(path: p)
            let bytes = file.bytes
            var off = 0
            var bad: String?
            while off < bytes.count {
                if bytes.count - off < 8 {
                    bad = "torn record header"
                    break
                }
                let len = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: off, as: UInt32.self)))
                let crc = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: off + 4, as: UInt32.self))
                if len == 0 && crc == 0 {
                    bad = "zeroed bytes"
                    break
                }
                if len > WAL.maxRecord || off + 8 + len > bytes.count {
                    bad = "torn record (length \(len) runs past the end of the file)"
                    break
                }
                let payload = UnsafeRawBufferPointer(rebasing: bytes[(off + 8)..<(off + 8 + len)])
                if CRC32C.checksum(payload) != crc {
                    bad = "checksum mismatch"
                    break
                }
                do {
                    try handle(payload)
                } catch {
                    bad = "undecodable record: \(error)"
                    break
                }
                records += 1
                off += 8 + len
            }
            if let bad {
                logger.error("WAL segment is damaged; truncating it and keeping the records before the damage",
                             metadata: ["file": "\(p)", "offset": "\(off)", "reason": "\(bad)", "bytes_dropped": "\(bytes.count - off)"])
                truncated += 1
                if truncate(p, off_t(off)) != 0 {
                    throw ArgusError.io("cannot truncate", p, errno: errno)
                }
            }
        }
        return (records, truncated)
    }

    /// Opens a fresh segment after the existing ones for appending.
    public func openForAppend() throws {
        try lock.withLock {
            let next = (segments().last ?? 0) + 1
            try openSegment(next)
        }
    }

    private func openSegment(_ n: Int) throws {
        let p = path(n)
        let f = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        if f < 0 { throw ArgusError.io("cannot create WAL segment", p, errno: errno) }
        fd = f
        segment = n
        segmentBytes = 0
        fsyncDirectory(dir)
    }

    /// Starts a record buffer: 8 bytes reserved for the frame header, then the payload.
    public static func recordBuffer(capacity: Int = 64) -> ByteWriter {
        var w = ByteWriter(capacity: capacity + 8)
        w.u64(0)
        return w
    }

    /// Appends one record built with `recordBuffer` (its header is filled in here) with a single
    /// write. Returns the position to pass to `waitDurable`.
    public func append(_ record: inout ByteWriter) throws -> UInt64 {
        let len = record.count - 8
        let crc = record.bytes.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[8...])) }
        record.patchU32(at: 0, UInt32(len))
        record.patchU32(at: 4, crc)
        return try lock.withLock {
            if let e = syncError { throw e }
            if segmentBytes >= segmentSize { try rotateLocked() }
            let total = record.count
            var done = 0
            try record.bytes.withUnsafeBytes { p in
                while done < total {
                    let n = write(fd, p.baseAddress! + done, total - done)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw ArgusError.io("cannot write WAL segment", path(segment), errno: errno)
                    }
                    done += n
                }
            }
            segmentBytes += total
            written += UInt64(total)
            return written
        }
    }

    /// Blocks until everything up to `position` is fsync'd. One fsync serves every waiter.
    public func waitDurable(_ position: UInt64) throws {
        lock.lock()
        defer { lock.unlock() }
        while synced < position {
            if let e = syncError { throw e }
            if syncing {
                lock.wait()
                continue
            }
            syncing = true
            let target = written
            let f = fd
            lock.unlock()
            let start = TimeUtil.monotonicNanos()
            let r = fsync(f)
            let err = errno
            lock.lock()
            fsyncCount += 1
            fsyncSeconds += Double(TimeUtil.monotonicNanos() - start) / 1e9
            syncing = false
            if r == 0 {
                if target > synced { synced = target }
            } else {
                syncError = ArgusError.io("fsync failed on WAL segment", path(segment), errno: err)
            }
            lock.broadcast()
        }
    }

    private func rotateLocked() throws {
        while syncing { lock.wait() }
        if fd >= 0 {
            if fsync(fd) != 0 { throw ArgusError.io("fsync failed on WAL segment", path(segment), errno: errno) }
            synced = written
            Glibc.close(fd)
            fd = -1
        }
        try openSegment(segment + 1)
        lock.broadcast()
    }

    /// Ends the current segment (durably) and starts a new one; returns the ended segment's
    /// number. Every record appended before the call is in segments up to that number.
    public func cut() throws -> Int {
        try lock.withLock {
            let ended = segment
            try rotateLocked()
            return ended
        }
    }

    /// Deletes segments up to and including `n` (their data is in blocks).
    public func removeSegments(upTo n: Int) {
        for s in segments() where s <= n && s != segment {
            unlink(path(s))
        }
    }

    public var sizeBytes: Int {
        var total = 0
        for s in segments() {
            var st = stat()
            if stat(path(s), &st) == 0 { total += Int(st.st_size) }
        }
        return total
    }

    public func close() {
        lock.withLock {
            while syncing { lock.wait() }
            if fd >= 0 {
                fsync(fd)
                Glibc.close(fd)
                fd = -1
            }
        }
    }
}
