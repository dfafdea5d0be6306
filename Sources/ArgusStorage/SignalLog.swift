import ArgusColumnar
import ArgusModel
import Logging

/// A durable, append-only log of accepted OTLP log and span requests (binary protobuf), one
/// record per request, framed and checksummed like the WAL and fsync'd before the request is
/// acknowledged. It keeps accepted logs and spans safe until the columnar log and span stores
/// read them (those are the logs and traces issues).
public final class SignalLog: @unchecked Sendable {
    let wal: WAL
    public let dir: String
    private let counter = LockedBox((records: 0, bytes: 0))

    public init(dir: String, logger: Logger) throws {
        self.dir = dir
        wal = try WAL(dir: dir, segmentSize: 64 << 20, logger: logger)
        var n = 0, b = 0
        _ = try wal.replay(after: 0) { p in
            n += 1
            b += p.count
        }
        counter.withLock { $0 = (n, b) }
        try wal.openForAppend()
    }

    /// Appends one record and returns when it is durable.
    public func append(_ payload: [UInt8]) throws {
        var rec = WAL.recordBuffer(capacity: payload.count)
        rec.append(payload)
        let pos = try wal.append(&rec)
        try wal.waitDurable(pos)
        counter.withLock {
            $0.records += 1
            $0.bytes += payload.count
        }
    }

    public var records: Int { counter.withLock { $0.records } }
    public var bytes: Int { counter.withLock { $0.bytes } }

    /// Calls `body` with every stored record, oldest first.
    public func forEach(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let reader = try WAL(dir: dir, logger: Logger(label: "argus.signal-log.reader"))
        _ = try reader.replay(after: 0, body)
    }

    public func close() { wal.close() }
}
