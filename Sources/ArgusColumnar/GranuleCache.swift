import Foundation

/// Decompressed granules of metric blocks, shared by all queries, within a byte budget. Repeated
/// queries over the same data skip zstd (Prometheus gets the same from the page cache over its
/// mmap'd chunks). Least recently used granules are evicted first, in batches.
public final class GranuleCache: @unchecked Sendable {
    public static let shared = GranuleCache(capacityBytes: 256 << 20)

    struct Key: Hashable {
        let reader: UInt64
        let granule: Int
    }

    struct Entry {
        var ts: [UInt8]
        var vals: [UInt8]
        var bytes: Int
        var stamp: UInt64
    }

    private let lock = NSLock()
    private var map: [Key: Entry] = [:]
    private var bytes = 0
    private var clock: UInt64 = 0
    private var capacity: Int
    private var counters = (hits: 0, misses: 0, evictions: 0)

    public init(capacityBytes: Int) { capacity = capacityBytes }

    /// The budget in bytes; 0 turns the cache off.
    public var capacityBytes: Int {
        get { lock.withLock { capacity } }
        set {
            lock.withLock {
                capacity = max(0, newValue)
                evictLocked(to: capacity)
            }
        }
    }

    func get(_ reader: UInt64, _ granule: Int) -> (ts: [UInt8], vals: [UInt8])? {
        lock.withLock {
            let k = Key(reader: reader, granule: granule)
            guard var e = map[k] else { counters.misses += 1; return nil }
            clock &+= 1
            e.stamp = clock
            map[k] = e
            counters.hits += 1
            return (e.ts, e.vals)
        }
    }

    func put(_ reader: UInt64, _ granule: Int, ts: [UInt8], vals: [UInt8]) {
        let size = ts.count + vals.count + 64
        lock.withLock {
            guard size <= capacity / 4 else { return }
            let k = Key(reader: reader, granule: granule)
            if let old = map[k] { bytes -= old.bytes }
            clock &+= 1
            map[k] = Entry(ts: ts, vals: vals, bytes: size, stamp: clock)
            bytes += size
            if bytes > capacity { evictLocked(to: capacity / 10 * 8) }
        }
    }

    /// Forgets every granule of a reader (its block was closed).
    func drop(_ reader: UInt64) {
        lock.withLock {
            for (k, e) in map where k.reader == reader {
                bytes -= e.bytes
                map[k] = nil
            }
        }
    }

    private func evictLocked(to target: Int) {
        guard bytes > target else { return }
        let byAge = map.sorted { $0.value.stamp < $1.value.stamp }
        for (k, e) in byAge {
            if bytes <= target { break }
            map[k] = nil
            bytes -= e.bytes
            counters.evictions += 1
        }
    }

    public func stats() -> (bytes: Int, entries: Int, hits: Int, misses: Int, evictions: Int) {
        lock.withLock { (bytes, map.count, counters.hits, counters.misses, counters.evictions) }
    }

    private static let idLock = NSLock()
    nonisolated(unsafe) private static var lastID: UInt64 = 0
    static func nextReaderID() -> UInt64 {
        idLock.withLock {
            lastID += 1
            return lastID
        }
    }
}
