import ArgusColumnar
import ArgusModel
import Dispatch
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A line filter the store applies itself, exactly: `|=` (a line must contain one of
/// `needles`) or, with `negate`, `!=` (a line must contain none of them).
public struct LogLineFilter: Sendable {
    public var negate: Bool
    public var needles: [[UInt8]]
    let finders: [ByteSearch.Finder]
    public init(negate: Bool, needles: [[UInt8]]) {
        self.negate = negate
        self.needles = needles
        finders = needles.map { ByteSearch.Finder($0) }
    }

    /// Sets `keep[i]` to false for every line of `body` that fails the filter. The needles are
    /// searched for over the whole buffer at once, not line by line.
    func apply(_ body: UnsafeRawBufferPointer, _ offsets: [Int], _ keep: inout [Bool]) {
        let n = offsets.count - 1
        var hit = [Bool](repeating: false, count: n)
        for finder in finders {
            let len = finder.needle.count
            if len == 0 { for i in 0..<n { hit[i] = true }; continue }
            var from = 0  // first possible start
            var line = 0
            while let start = finder.next(in: body, from: from) {
                while offsets[line + 1] <= start { line += 1 }
                if start + len <= offsets[line + 1] {
                    hit[line] = true
                    from = offsets[line + 1]
                    line += 1
                    if line == n { break }
                } else {
                    from = start + 1
                }
            }
        }
        for i in 0..<n where hit[i] == negate { keep[i] = false }
    }
}

/// What a log scan reads: streams matching `matchers`, records with `start <= time < end`
/// (nanoseconds).
///
/// `lineFilters` are applied by the store, so batches hold only lines that pass them; in
/// version 2 blocks the `|=` filters also pick, from each chunk's body templates, the lines
/// that can match at all (see `LogBodyCodec`), and chunks without any are skipped unread.
/// `tokenHint` lets version 1 chunks be skipped by their token filters: a chunk is read only
/// when, for every element (a line filter), one of its alternatives has all its tokens in the
/// chunk's filter. An alternative with no tokens always passes.
public struct LogSelectQuery: Sendable {
    public var matchers: [Matcher]
    public var start: Int64
    public var end: Int64
    public var tokenHint: [[[UInt64]]]
    public var lineFilters: [LogLineFilter]
    /// The order batches should come in when it helps the caller (a log query with a limit):
    /// true newest first, false oldest first, nil any. Only a hint: batches may overlap in time.
    public var newestFirst: Bool?

    public init(matchers: [Matcher], start: Int64, end: Int64, tokenHint: [[[UInt64]]] = [], lineFilters: [LogLineFilter] = []) {
        self.matchers = matchers
        self.start = start
        self.end = end
        self.tokenHint = tokenHint
        self.lineFilters = lineFilters
    }

    /// Per `|=` filter, per alternative, the literal runs a matching line's template holds.
    var templateRuns: [[[[UInt8]]]] {
        lineFilters.filter { !$0.negate }.map { f in f.needles.map { LogBodyCodec.literalRuns(of: $0) } }
    }

    /// The token hashes a line holding `needle` must contain (see `TokenFilter.requiredTokens`).
    public static func requiredTokens(of needle: String) -> [UInt64] { TokenFilter.requiredTokens(of: needle) }

    func mayMatch(_ f: TokenFilter?) -> Bool {
        guard let f else { return true }
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
    /// Chunks skipped because their token filter (version 1) or their body templates
    /// (version 2) rule the line filters out.
    public var chunksSkippedByFilter = 0
    public var chunksRead = 0
    public var headRecords = 0
    /// Lines decoded (and, with line filters, searched); a chunk's lines whose template cannot
    /// match are not decoded.
    public var linesRead = 0
    /// Bytes of the lines decoded.
    public var bytesRead = 0
    /// Records of the chunks read, decoded or not.
    public var linesCovered = 0
    public init() {}

    mutating func add(_ o: LogScanStats) {
        chunksTotal += o.chunksTotal
        chunksSkippedByFilter += o.chunksSkippedByFilter
        chunksRead += o.chunksRead
        headRecords += o.headRecords
        linesRead += o.linesRead
        bytesRead += o.bytesRead
        linesCovered += o.linesCovered
    }
}

/// A run of one stream's records, sorted by time: times and bodies decoded, the other columns
/// only when `records()` is called (the records of the batch's lines, in its order).
public final class LogBatch: @unchecked Sendable {
    public let labels: Labels
    public let times: [Int64]
    public let body: [UInt8]
    /// `times.count + 1` offsets into `body`.
    public let offsets: [Int]
    /// Bytes of lines the store decoded for this batch (more than `body` when it filtered).
    public let scannedBytes: Int
    let load: () throws -> [LogRecord]
    var cached: [LogRecord]?

    init(labels: Labels, times: [Int64], body: [UInt8], offsets: [Int], scannedBytes: Int, load: @escaping () throws -> [LogRecord]) {
        self.labels = labels
        self.times = times
        self.body = body
        self.offsets = offsets
        self.scannedBytes = scannedBytes
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
        scannedBytes = body.count
        cached = records
        load = { records }
    }

    /// The batch keeping only `keep` (sorted indexes into it).
    func subset(_ keep: [Int]) -> LogBatch {
        var body: [UInt8] = [], offsets = [0], ts: [Int64] = [], recs: [LogRecord] = []
        let all = cached
        for i in keep {
            body.append(contentsOf: self.body[self.offsets[i]..<self.offsets[i + 1]])
            offsets.append(body.count)
            ts.append(times[i])
            if let all { recs.append(all[i]) }
        }
        let b = LogBatch(labels: labels, times: ts, body: body, offsets: offsets, scannedBytes: scannedBytes, load: { recs })
        b.cached = recs
        return b
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
        var work: [(LogBlockHandle, Int)] = []
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
                work.append((b, c))
            }
        }
        if let newest = q.newestFirst {
            let metas = work.map { $0.0.reader.chunks[$0.1] }
            let order = work.indices.sorted { newest ? metas[$0].maxT > metas[$1].maxT : metas[$0].minT < metas[$1].minT }
            work = order.map { work[$0] }
        }
        // The head holds the newest records: first when newest first is asked for.
        func visitHead() throws -> Bool {
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
                var batch = LogBatch(labels: labels, records: slice)
                stats.bytesRead += batch.body.count
                if !q.lineFilters.isEmpty {
                    let keep = batch.body.withUnsafeBytes { LogStore.passing(q.lineFilters, $0, batch.offsets) }
                    if keep.isEmpty { continue }
                    if keep.count < batch.count { batch = batch.subset(keep) }
                }
                if try !visit(batch) { return false }
            }
            return true
        }
        if q.newestFirst == true, try !visitHead() { return }
        // Chunks are decoded (and filtered) on every core, a window at a time, and visited in order.
        let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, 8))
        let window = workers == 1 ? 1 : workers * 4
        let runs = q.templateRuns
        var at = 0
        while at < work.count {
            let part = Array(work[at..<min(work.count, at + window)])
            at += part.count
            let results = ScanResults(part.count)
            let job = { (k: Int) in
                let (b, c) = part[k]
                var st = LogScanStats()
                do {
                    let batch = try LogStore.readChunk(b, c, q, runs, &st)
                    results.set(k, .success(batch), st)
                } catch {
                    results.set(k, .failure(error), st)
                }
            }
            if part.count == 1 { job(0) } else { DispatchQueue.concurrentPerform(iterations: part.count, execute: job) }
            for k in 0..<part.count {
                let (result, st) = results.get(k)
                stats.add(st)
                guard let batch = try result.get() else { continue }
                if try !visit(batch) { return }
            }
        }
        if q.newestFirst != true { _ = try visitHead() }
    }

    /// Indexes of the lines that pass every filter.
    static func passing(_ filters: [LogLineFilter], _ body: UnsafeRawBufferPointer, _ offsets: [Int]) -> [Int] {
        var keep = [Bool](repeating: true, count: offsets.count - 1)
        for f in filters { f.apply(body, offsets, &keep) }
        return keep.indices.filter { keep[$0] }
    }

    /// One chunk as a batch: with `|=` filters only its lines whose template can match are
    /// decoded, and with any line filter only the lines that pass are kept. Nil when none is left.
    static func readChunk(_ b: LogBlockHandle, _ c: Int, _ q: LogSelectQuery, _ runs: [[[[UInt8]]]], _ st: inout LogScanStats) throws -> LogBatch? {
        let r = b.reader
        let m = r.chunks[c]
        var rows: [Int]?
        var templates: LogBodyTemplates?
        var cand: [Bool] = []
        if r.version >= 2 && !runs.isEmpty {
            let tm = try r.templates(c)!
            cand = tm.candidates(runs)
            if !cand.contains(true) {
                st.chunksSkippedByFilter += 1
                return nil
            }
            templates = tm
        }
        let ts = try r.times(c)
        if let tm = templates {
            var picked: [Int] = []
            for i in 0..<m.count where cand[Int(tm.rows[i])] && ts[i] >= q.start && ts[i] < q.end { picked.append(i) }
            if picked.isEmpty {
                st.chunksSkippedByFilter += 1
                return nil
            }
            if picked.count < m.count { rows = picked }
        }
        st.chunksRead += 1
        st.linesCovered += m.count
        let labels = b.labels[m.stream]
        if !q.lineFilters.isEmpty {
            // Lines are rebuilt into a reused buffer; only those passing the filters are copied out.
            var scratch = ScratchBuffers.shared.take()
            defer { ScratchBuffers.shared.give(scratch) }
            let offsets = try r.bodies(c, rows: rows, times: ts, templates: templates, into: &scratch)
            let n = offsets.count - 1
            st.linesRead += n
            st.bytesRead += offsets[n]
            let keep = scratch.withUnsafeBytes { passing(q.lineFilters, UnsafeRawBufferPointer(rebasing: $0[0..<offsets[n]]), offsets) }
            if keep.isEmpty { return nil }
            var kb: [UInt8] = [], ko = [0], kt: [Int64] = [], kr: [Int] = []
            for i in keep {
                kb.append(contentsOf: scratch[offsets[i]..<offsets[i + 1]])
                ko.append(kb.count)
                let row = rows?[i] ?? i
                kr.append(row)
                kt.append(ts[row])
            }
            return LogBatch(labels: labels, times: kt, body: kb, offsets: ko, scannedBytes: offsets[n],
                            load: { [kb, ko] in try r.records(c, rows: kr, body: (kb, ko), times: ts) })
        }
        let (body, offsets) = try r.bodies(c, rows: rows, times: ts, templates: templates)
        let n = offsets.count - 1
        st.linesRead += n
        st.bytesRead += body.count
        let batchTimes = rows.map { $0.map { ts[$0] } } ?? ts
        let rowsCopy = rows
        return LogBatch(labels: labels, times: batchTimes, body: body, offsets: offsets, scannedBytes: body.count,
                        load: { try r.records(c, rows: rowsCopy, body: (body, offsets), times: ts) })
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

/// Results of one window of chunks decoded in parallel.
final class ScanResults: @unchecked Sendable {
    let lock = Lock()
    var results: [Result<LogBatch?, any Error>]
    var stats: [LogScanStats]
    init(_ n: Int) {
        results = Array(repeating: .success(nil), count: n)
        stats = Array(repeating: LogScanStats(), count: n)
    }
    func set(_ k: Int, _ r: Result<LogBatch?, any Error>, _ st: LogScanStats) {
        lock.withLock {
            results[k] = r
            stats[k] = st
        }
    }
    func get(_ k: Int) -> (Result<LogBatch?, any Error>, LogScanStats) { lock.withLock { (results[k], stats[k]) } }
}

/// Reusable line buffers for scans with line filters (one per chunk being decoded at a time).
final class ScratchBuffers: @unchecked Sendable {
    static let shared = ScratchBuffers()
    let lock = Lock()
    var free: [[UInt8]] = []

    func take() -> [UInt8] { lock.withLock { free.popLast() ?? [] } }
    /// At most four kept (a scan decodes one chunk per core at a time; each buffer is up to 4 MiB).
    func give(_ b: [UInt8]) { lock.withLock { if free.count < 4 { free.append(b) } } }
}
