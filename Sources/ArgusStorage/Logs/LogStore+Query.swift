import ArgusColumnar
import ArgusModel

/// What a log scan reads: streams matching `matchers`, records with `start <= time < end`
/// (nanoseconds). `tokenHint` lets chunks be skipped by their token filters: a chunk is read
/// only when, for every element (a line filter), one of its alternatives has all its tokens
/// in the chunk's filter. An alternative with no tokens always passes.
public struct LogSelectQuery: Sendable {
    public var matchers: [Matcher]
    public var start: Int64
    public var end: Int64
    public var tokenHint: [[[UInt64]]]

    public init(matchers: [Matcher], start: Int64, end: Int64, tokenHint: [[[UInt64]]] = []) {
        self.matchers = matchers
        self.start = start
        self.end = end
        self.tokenHint = tokenHint
    }

    /// The token hashes a line holding `needle` must contain (see `TokenFilter.requiredTokens`).
    public static func requiredTokens(of needle: String) -> [UInt64] { TokenFilter.requiredTokens(of: needle) }

    func mayMatch(_ f: TokenFilter) -> Bool {
        for filter in tokenHint {
            var any = false
            for alt in filter where alt.allSatisfy({ f.mayContain($0) }) {
                any = true
                break
            }
            if !any { return false }
        }
        return true
    }

    func matches(_ l: Labels) -> Bool {
        matchers.allSatisfy { $0.matches(l.value($0.name)) }
    }
}

/// Counters of one scan.
public struct LogScanStats: Sendable {
    public var chunksTotal = 0
    /// Chunks skipped because their token filter rules the line filters out.
    public var chunksSkippedByFilter = 0
    public var chunksRead = 0
    public var headRecords = 0
    public var linesRead = 0
    public var bytesRead = 0
    public init() {}
}

/// A run of one stream's records, sorted by time: times and bodies decoded, the other columns
/// only when `records()` is called.
public final class LogBatch {
    public let labels: Labels
    public let times: [Int64]
    public let body: [UInt8]
    /// `times.count + 1` offsets into `body`.
    public let offsets: [Int]
    let load: () throws -> [LogRecord]
    var cached: [LogRecord]?

    init(labels: Labels, times: [Int64], body: [UInt8], offsets: [Int], load: @escaping () throws -> [LogRecord]) {
        self.labels = labels
        self.times = times
        self.body = body
        self.offsets = offsets
        self.load = load
    }

    init(labels: Labels, records: [LogRecord]) {
        self.labels = labels
        times = records.map(\.time)
        var body: [UInt8] = []
        var offsets = [0]
        offsets.reserveCapacity(records.count + 1)
        for r in records {
            body.append(contentsOf: r.body.utf8)
            offsets.append(body.count)
        }
        self.body = body
        self.offsets = offsets
        cached = records
        load = { records }
    }

    public var count: Int { times.count }

    /// All records of the batch, fully decoded.
    public func records() throws -> [LogRecord] {
        if let c = cached { return c }
        let r = try load()
        cached = r
        return r
    }
}

extension LogStore {
    /// Calls `visit` with every batch of matching records (in no particular order across
    /// batches); `visit` returns false to stop. Times and bodies are already filtered to the
    /// range only at chunk granularity: a batch may hold records outside [start, end).
    public func scan(_ q: LogSelectQuery, stats: inout LogScanStats, _ visit: (LogBatch) throws -> Bool) throws {
        let (bs, head) = lock.withLock { () -> ([LogBlockHandle], [(Labels, [LogRecord])]) in
            let bs = blocks.filter { $0.meta.maxT >= q.start && $0.meta.minT < q.end }
            var head: [(Labels, [LogRecord])] = []
            for f in frozen {
                for s in f.streams where q.matches(s.labels) { head.append((s.labels, s.records)) }
            }
            for s in streams where !s.records.isEmpty && q.matches(s.labels) { head.append((s.labels, s.sortedRecords())) }
            return (bs, head)
        }
        for b in bs {
            let r = b.reader
            var streamOK = [Bool](repeating: false, count: b.labels.count)
            for (i, l) in b.labels.enumerated() { streamOK[i] = q.matches(l) }
            for c in r.chunks.indices {
                let m = r.chunks[c]
                guard streamOK[m.stream], m.maxT >= q.start, m.minT < q.end else { continue }
                stats.chunksTotal += 1
                if !q.mayMatch(m.filter) {
                    stats.chunksSkippedByFilter += 1
                    continue
                }
                stats.chunksRead += 1
                stats.linesRead += m.count
                stats.bytesRead += m.bodyBytes
                let ts = try r.times(c)
                let (body, offsets) = try r.bodies(c)
                let batch = LogBatch(labels: b.labels[m.stream], times: ts, body: body, offsets: offsets, load: { try r.records(c) })
                if try !visit(batch) { return }
            }
        }
        for (labels, recs) in head {
            // Only the records in range, so head batches are exact.
            var lo = 0, hi = recs.count
            while lo < hi { let mid = (lo + hi) / 2; if recs[mid].time < q.start { lo = mid + 1 } else { hi = mid } }
            var end = lo
            while end < recs.count && recs[end].time < q.end { end += 1 }
            if end == lo { continue }
            let slice = Array(recs[lo..<end])
            stats.headRecords += slice.count
            stats.linesRead += slice.count
            let batch = LogBatch(labels: labels, records: slice)
            stats.bytesRead += batch.body.count
            if try !visit(batch) { return }
        }
    }

    /// The label sets of streams matching `matchers` with data in [start, end).
    public func streams(matching matchers: [Matcher], start: Int64, end: Int64) -> [Labels] {
        let q = LogSelectQuery(matchers: matchers, start: start, end: end)
        var out = Set<Labels>()
        lock.withLock {
            for b in blocks where b.meta.maxT >= start && b.meta.minT < end {
                var seen = [Bool](repeating: false, count: b.labels.count)
                for m in b.reader.chunks where !seen[m.stream] && m.maxT >= start && m.minT < end {
                    seen[m.stream] = true
                }
                for (i, l) in b.labels.enumerated() where seen[i] && q.matches(l) { out.insert(l) }
            }
            for f in frozen {
                for s in f.streams where q.matches(s.labels) && s.records.contains(where: { $0.time >= start && $0.time < end }) { out.insert(s.labels) }
            }
            for s in streams where q.matches(s.labels) && s.records.contains(where: { $0.time >= start && $0.time < end }) { out.insert(s.labels) }
        }
        return out.sorted { compareLabelSets($0, $1) }
    }

    /// Streams, chunks, entries and body bytes matching `matchers` in [start, end)
    /// (Loki's `/index/stats`).
    public func indexStats(matching matchers: [Matcher], start: Int64, end: Int64) -> (streams: Int, chunks: Int, entries: Int, bytes: Int) {
        let q = LogSelectQuery(matchers: matchers, start: start, end: end)
        var streamSet = Set<Labels>()
        var chunks = 0, entries = 0, bytes = 0
        lock.withLock {
            for b in blocks where b.meta.maxT >= start && b.meta.minT < end {
                for m in b.reader.chunks where m.maxT >= start && m.minT < end && q.matches(b.labels[m.stream]) {
                    streamSet.insert(b.labels[m.stream])
                    chunks += 1
                    entries += m.count
                    bytes += m.bodyBytes
                }
            }
            var heads: [(Labels, [LogRecord])] = []
            for f in frozen { for s in f.streams { heads.append((s.labels, s.records)) } }
            for s in streams { heads.append((s.labels, s.records)) }
            for (l, recs) in heads where q.matches(l) {
                var n = 0
                for r in recs where r.time >= start && r.time < end {
                    n += 1
                    bytes += r.body.utf8.count
                }
                if n > 0 {
                    streamSet.insert(l)
                    chunks += 1
                    entries += n
                }
            }
        }
        return (streamSet.count, chunks, entries, bytes)
    }
}
