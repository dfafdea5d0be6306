import Foundation
import ArgusModel
import Logging
import Dispatch
import ServiceLifecycle

/// Cuts a store's head into blocks every block period, then compacts and applies retention; one
/// per store (metrics, logs, spans). On shutdown it stops; the owner closes the store after every
/// service that writes has stopped (the WAL keeps the head's data for the next start).
public struct StorageService: Service {
    let period: Duration
    let what: String
    let flush: @Sendable () throws -> Void
    let logger: Logger

    init(blockDuration: Int64, what: String, logger: Logger, flush: @escaping @Sendable () throws -> Void) {
        period = .milliseconds(blockDuration)
        self.what = what
        self.flush = flush
        self.logger = logger
    }

    public init(store: MetricStore, logger: Logger) {
        self.init(blockDuration: store.options.blockDuration, what: "metric", logger: logger) { _ = try store.flush() }
    }

    public init(store: LogStore, logger: Logger) {
        self.init(blockDuration: store.options.blockDuration, what: "log", logger: logger) { _ = try store.flush() }
    }

    public init(store: SpanStore, logger: Logger) {
        self.init(blockDuration: store.options.blockDuration, what: "span", logger: logger) { _ = try store.flush() }
    }

    public func run() async throws {
        let flush = self.flush
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: period) }
            if Task.isShuttingDownGracefully || Task.isCancelled { break }
            do {
                try await runBlocking { try flush() }
            } catch {
                logger.error("periodic \(what) head cut failed; data stays in the WAL and the head", metadata: ["error": "\(error)"])
            }
        }
    }
}

/// Plans compaction the same way for every store: per compaction range (in the blocks' time
/// unit), the earliest window holding more than one block that lies wholly inside it is merged,
/// until no window has two. As in Prometheus, a window is merged only once it is complete (all
/// its blocks end before the newest block starts), so a window still being filled is not
/// rewritten at every head cut and each record is rewritten about once per range. Before the
/// ranges, blocks sharing one block-duration window (a third of the first range) are merged at
/// once: late data, late spans, extra head cuts under memory pressure or explicit flushes land
/// in the window of their time, so they never pile up. With `all`, windows still being filled
/// are merged too (an explicit full compaction). Returns how many blocks were merged.
func compactByWindows<Block>(ranges: [Int64], all: Bool = false, current: () -> [Block], meta: (Block) -> BlockMeta,
                             merge: ([Block]) throws -> Void) rethrows -> Int {
    var merged = 0
    // First the block duration itself (a third of the first range): blocks of one head-cut
    // window, from cuts under memory pressure or explicit flushes, are merged right away, so
    // they never pile up while their wider window is being filled. That costs at most one
    // block duration of data per merge.
    let passes = (ranges.first.map { [($0 / 3, true)] } ?? []) + ranges.map { ($0, false) }
    for (width, eager) in passes where width > 0 {
        while true {
            var groups: [Int64: [Block]] = [:]
            let blocks = current()
            let newestStart = blocks.map { meta($0).minT }.max() ?? .min
            for b in blocks {
                let m = meta(b)
                let w = floorDiv(m.minT, width)
                if floorDiv(m.maxT, width) == w { groups[w, default: []].append(b) }
            }
            let ready = groups.filter { $0.value.count > 1 && (all || eager || $0.value.allSatisfy { meta($0).maxT < newestStart }) }
            guard let (_, group) = ready.min(by: { $0.key < $1.key }) else { break }
            try merge(group)
            merged += group.count
        }
    }
    return merged
}

/// Chooses what retention drops, the same way for every store: blocks ending before `cutoff`
/// (in the blocks' time unit; nil: none by age), then the oldest of the rest until they fit in
/// `sizeLimit` bytes (0: no size limit).
func retentionDrops<Block>(_ blocks: [Block], meta: (Block) -> BlockMeta, cutoff: Int64?, sizeLimit: Int64) -> Set<String> {
    var drop = Set<String>()
    if let cutoff {
        for b in blocks where meta(b).maxT < cutoff { drop.insert(meta(b).id) }
    }
    if sizeLimit > 0 {
        var total = blocks.filter { !drop.contains(meta($0).id) }.reduce(0) { $0 + meta($1).bytes }
        for b in blocks.sorted(by: { meta($0).maxT < meta($1).maxT }) where !drop.contains(meta(b).id) {
            if Int64(total) <= sizeLimit { break }
            drop.insert(meta(b).id)
            total -= meta(b).bytes
        }
    }
    return drop
}

/// A block of any store: its catalog row.
protocol StoredBlock {
    var meta: BlockMeta { get }
}

/// What the metric, log and span stores share for their block lists: installing a compacted
/// block in place of its inputs and dropping blocks retention chose.
protocol BlockListStore: AnyObject {
    associatedtype Handle: StoredBlock
    var lock: Lock { get }
    var blocks: [Handle] { get set }
    var catalog: Catalog { get }
    var blocksDir: String { get }
    var logger: Logger { get }
}

extension BlockListStore {
    /// Records `handle` in place of `group` in the catalog (when that fails, the new block's
    /// directory is removed), swaps them in the block list (kept in time order) and removes the
    /// inputs' directories. `what` names the block in the error ("log block").
    func installMerged(_ handle: Handle, replacing group: [Handle], what: String) throws {
        do {
            try catalog.commit(add: [handle.meta], remove: group.map(\.meta.id))
        } catch {
            try? FileManager.default.removeItem(atPath: blocksDir + "/" + handle.meta.id)
            throw ArgusError(.io, "cannot record a compacted \(what) in the catalog", cause: error)
        }
        let ids = Set(group.map(\.meta.id))
        lock.withLock {
            blocks.removeAll { ids.contains($0.meta.id) }
            blocks.append(handle)
            blocks.sort { ($0.meta.minT, $0.meta.id) < ($1.meta.minT, $1.meta.id) }
        }
        for b in group { try? FileManager.default.removeItem(atPath: blocksDir + "/" + b.meta.id) }
    }

    /// Removes the blocks retention chose from the catalog, the block list and the disk;
    /// returns how many.
    func dropBlocks(_ drop: Set<String>, what: String) throws -> Int {
        if drop.isEmpty { return 0 }
        try catalog.commit(remove: Array(drop))
        lock.withLock { blocks.removeAll { drop.contains($0.meta.id) } }
        for id in drop { try? FileManager.default.removeItem(atPath: blocksDir + "/" + id) }
        logger.info("retention dropped \(what)s", metadata: ["count": "\(drop.count)"])
        return drop.count
    }
}

/// Runs blocking work (fsync, file writes) on a thread outside Swift's cooperative pool.
public func runBlocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, any Error>) in
        DispatchQueue.global().async { c.resume(with: Result { try body() }) }
    }
}

extension BlockHandle: StoredBlock {}
extension LogBlockHandle: StoredBlock {}
extension SpanBlockHandle: StoredBlock {}
extension MetricStore: BlockListStore {}
extension LogStore: BlockListStore {}
extension SpanStore: BlockListStore {}
