import ArgusColumnar
import ArgusModel
import ArgusStorage
import ArgusTestKit
import Foundation
import Logging
import Testing

func openSpanStore(_ dir: TempDir, configure: (inout StorageOptions) -> Void = { _ in }) throws -> SpanStore {
    var o = StorageOptions(dataDir: dir.path)
    o.retention = 100 * 365 * 86_400_000
    configure(&o)
    var logger = Logger(label: "test")
    logger.logLevel = .critical
    return try SpanStore(options: o, logger: logger)
}

/// A span with every field set, values of every type, events and links.
func richSpan(_ trace: TraceID, id: UInt64, parent: UInt64, start: Int64) -> Span {
    Span(traceID: trace, spanID: id, parentSpanID: parent, traceState: "vendor=1", flags: 1, name: "op-\(id)", kind: .client,
         startNanos: start, durationNanos: 1_234_567, status: .error, statusMessage: "boom",
         attributes: [SpanAttribute("s", .string("text ✓")), SpanAttribute("i", .int(-42)), SpanAttribute("d", .double(2.5)),
                      SpanAttribute("b", .bool(true)), SpanAttribute("raw", .raw([0x0A, 0x02, 0x68, 0x69, 0xFF]))],
         events: [SpanEvent(timeNanos: start + 10, name: "exception", attributes: [SpanAttribute("exception.type", .string("IOError"))])],
         links: [SpanLink(traceID: TraceID(hi: 1, lo: 2), spanID: 77, traceState: "x=y", attributes: [SpanAttribute("l", .int(1))])],
         origin: SpanOrigin(service: "svc", resource: [SpanAttribute("service.name", .string("svc")), SpanAttribute("host", .string("h1"))],
                            scopeName: "lib", scopeVersion: "2.0"))
}

@Suite struct SpanStoreTests {
    @Test func blockRoundTripsEveryField() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let t = TraceID(hi: 9, lo: 9)
        // Parent before child (relative ref), parent after child (explicit id) and a missing parent.
        let spans = [richSpan(t, id: 1, parent: 0, start: 1_000), richSpan(t, id: 2, parent: 1, start: 2_000),
                     richSpan(t, id: 3, parent: 4, start: 3_000), richSpan(t, id: 4, parent: 1, start: 4_000),
                     richSpan(t, id: 5, parent: 999, start: 5_000)]
        var w = SpanBlockWriter(dir: dir.path)
        try w.add(trace: t, spans: spans[...])
        let st = try w.finish()
        #expect(st.spans == 5 && st.traces == 1)
        let r = try SpanBlockReader(dir: dir.path)
        #expect(try r.spans(trace: r.find(t)!) == spans)
        #expect(r.find(TraceID(hi: 9, lo: 8)) == nil)
        #expect(r.rootServiceName(0) == "svc")
        #expect(r.rootSpanName(0) == "op-1")
        #expect(r.traceErrors[0] == 5)
        #expect(r.tags[1]["host"] == ["h1"])
    }

    /// Trace by id builds spans for the trace's rows only; the rows before it in the granule
    /// (rich spans: attributes of every type, events, links, parents by row and by id) are
    /// stepped over, and the granule's columns read into a `SpanGranule` answer per row.
    @Test func partialGranuleDecodeMatchesTheWholeGranule() throws {
        let dir = TempDir()
        defer { dir.remove() }
        var w = SpanBlockWriter(dir: dir.path)
        var all: [[Span]] = []
        for k in 1...30 {
            let t = TraceID(hi: 3, lo: UInt64(k))
            let b = UInt64(k * 10)
            let spans = [richSpan(t, id: b + 1, parent: 0, start: 1_000), richSpan(t, id: b + 2, parent: b + 1, start: 2_000),
                         richSpan(t, id: b + 3, parent: b + 4, start: 3_000), richSpan(t, id: b + 4, parent: b + 1, start: 4_000)]
            try w.add(trace: t, spans: spans[...])
            all.append(spans)
        }
        _ = try w.finish()
        let r = try SpanBlockReader(dir: dir.path)
        #expect(r.granuleCount == 1)
        #expect(try r.decodeGranule(0) == all.flatMap { $0 })
        for (k, spans) in all.enumerated() {
            #expect(try r.spans(trace: r.find(spans[0].traceID)!) == spans, "trace \(k)")
        }
        var g = r.granule(0)
        #expect(try r.decodeTraces(&g, [29, 4, 17]) == [all[29], all[4], all[17]])
        #expect(g.names.count == 120 && r.strings[Int(g.names[5])] == "op-22")
        #expect(g.durations[0] == all[0][0].durationNanos)
        let key = try #require(r.stringID(all[0][0].attributes[0].key))
        if case .string(let id)? = g.attribute(row: 7, key: key) {
            guard case .string(let want) = all[1][3].attributes[0].value else { Issue.record("fixture changed"); return }
            #expect(r.strings[Int(id)] == want)
        } else {
            Issue.record("no attribute \(all[0][0].attributes[0].key) in row 7")
        }
        #expect(r.stringID("no such string") == nil)
    }

    @Test func corruptBlockIsRefusedWithItsFile() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let t = TraceID(hi: 1, lo: 1)
        var w = SpanBlockWriter(dir: dir.path)
        try w.add(trace: t, spans: [richSpan(t, id: 1, parent: 0, start: 5)][...])
        _ = try w.finish()
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir.path + "/spans")))
        bytes[12] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: dir.path + "/spans"))
        #expect(throws: ColumnarError.self) { try SpanBlockReader(dir: dir.path) }
    }

    @Test func headBlocksReplayAndLateSpansMerge() throws {
        let dir = TempDir()
        defer { dir.remove() }
        var fx = SpanFixtures()
        let base: Int64 = 1_700_000_000_000_000_000
        var traces: [[Span]] = []
        for n in 0..<50 { traces.append(fx.shopTrace(UInt64(n), start: base + Int64(n) * 1_000_000_000)) }
        do {
            let store = try openSpanStore(dir)
            // First three spans of every trace, cut into a block, then the rest (late spans).
            try store.append(traces.flatMap { $0.prefix(3) })
            let r = try store.flush()
            #expect(r.blocksWritten == 1)
            try store.append(traces.flatMap { $0.suffix(2) })
            for tr in traces {
                #expect(try store.trace(tr[0].traceID) == tr)
            }
            store.close()
        }
        // Reopen: the block is in the catalog, the late spans come back from the WAL.
        let store = try openSpanStore(dir)
        #expect(store.replayedSpans == 100)
        #expect(store.blockMetas.count == 1)
        for tr in traces { #expect(try store.trace(tr[0].traceID) == tr) }
        // The second block lies in the first one's compaction window: they merge, and every
        // trace is whole inside the merged block.
        let r2 = try store.flush()
        #expect(r2.blocksWritten == 1 && r2.blocksCompacted == 2)
        #expect(store.blockMetas.count == 1 && store.blockMetas[0].level == 1)
        for tr in traces {
            #expect(try store.trace(tr[0].traceID) == tr)
            #expect(store.blocksHolding(tr[0].traceID) == 1)
        }
        // A resent span replaces the first copy instead of duplicating it.
        var again = traces[0][4]
        again.statusMessage = "resent"
        try store.append([again])
        let got = try store.trace(traces[0][0].traceID)
        #expect(got.count == 5)
        #expect(got.last?.statusMessage == "resent")
        #expect(try store.trace(TraceID(hi: 1, lo: 1)).isEmpty)
        // Cut into a block of its own, then merged with the older block (trace by trace): the
        // resent copy wins and the trace still has 5 spans, in one block.
        let r3 = try store.flush()
        #expect(r3.blocksWritten == 1 && r3.blocksCompacted == 2)
        #expect(store.blockMetas.count == 1 && store.blockMetas[0].samples == traces.count * 5)
        let merged = try store.trace(traces[0][0].traceID)
        #expect(merged.count == 5)
        #expect(merged.last?.statusMessage == "resent")
        for tr in traces.dropFirst() { #expect(try store.trace(tr[0].traceID) == tr) }
        store.close()
    }

    @Test func traceIndexSkipsBlocksWithoutTheTrace() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let store = try openSpanStore(dir) { $0.blockDuration = 3_600_000 }
        var fx = SpanFixtures()
        let base: Int64 = 1_700_000_000_000_000_000
        var ids: [TraceID] = []
        // Batches 40 days apart: farther than the widest compaction window, so six blocks stay.
        for b in 0..<6 {
            var batch: [Span] = []
            for n in 0..<20 {
                let tr = fx.shopTrace(UInt64(b * 100 + n), start: base + Int64(b) * 40 * 86_400_000_000_000 + Int64(n) * 1_000_000)
                batch += tr
                ids.append(tr[0].traceID)
            }
            try store.append(batch)
            try store.flush()
        }
        #expect(store.blockMetas.count == 6)
        for id in ids {
            #expect(store.blocksHolding(id) == 1)
            #expect(try store.trace(id).count == 5)
        }
        store.close()
    }

    @Test func compactionMergesAndRetentionDrops() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let store = try openSpanStore(dir) {
            $0.blockDuration = 1000
            $0.retention = 30_000
        }
        var fx = SpanFixtures()
        let base: Int64 = 1_700_000_000_000_000_000
        // Spans 0.4 s apart across ~12 s: several 1-second blocks, merged into 3 s windows.
        var all: [[Span]] = []
        for n in 0..<30 {
            let tr = fx.shopTrace(UInt64(n), start: base + Int64(n) * 400_000_000)
            all.append(tr)
            try store.append(tr)
            if n % 5 == 4 { try store.flush() }
        }
        try store.flush()
        let metas = store.blockMetas
        #expect(metas.contains { $0.level > 0 }, "no block was compacted: \(metas)")
        #expect(metas.reduce(0) { $0 + $1.samples } == 150)
        for tr in all { #expect(try store.trace(tr[0].traceID) == tr) }
        // Far newer spans push the old blocks out of the 30 s retention.
        let late = fx.shopTrace(999, start: base + 120_000_000_000)
        try store.append(late)
        let r = try store.flush()
        #expect(r.blocksDropped > 0)
        #expect(try store.trace(all[0][0].traceID).isEmpty)
        #expect(try store.trace(late[0].traceID) == late)
        store.close()
    }

    @Test func scanFindsFragmentsInRange() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let store = try openSpanStore(dir)
        var fx = SpanFixtures()
        let base: Int64 = 1_700_000_000_000_000_000
        for n in 0..<10 { try store.append(fx.shopTrace(UInt64(n), start: base + Int64(n) * 10_000_000_000)) }
        try store.flush()
        for n in 10..<20 { try store.append(fx.shopTrace(UInt64(n), start: base + Int64(n) * 10_000_000_000)) }
        var seen = Set<TraceID>()
        try store.scan(startNanos: base + 45_000_000_000, endNanos: base + 155_000_000_000) { f in
            #expect(f.spans.count == 5)
            seen.insert(f.traceID)
            return true
        }
        #expect(seen == Set((5...15).map { SpanFixtures.traceID(UInt64($0)) }))
        store.close()
    }

    @Test func assemblyMarksOrphansSkewAndCriticalPath() throws {
        var fx = SpanFixtures()
        let t = SpanFixtures.traceID(1)
        let root = fx.span(t, "frontend", "GET /", kind: .server, start: 1_000_000_000, durationMs: 100)
        let a = fx.span(t, "frontend", "auth", parent: root, start: 1_001_000_000, durationMs: 30)
        let b = fx.span(t, "frontend", "render", parent: root, start: 1_020_000_000, durationMs: 70)
        // Another service whose clock runs 500 ms ahead: its span starts after the parent ended.
        let skewed = fx.span(t, "backend", "query", parent: b, kind: .server, start: 1_530_000_000, durationMs: 50)
        var orphan = fx.span(t, "worker", "job", start: 1_005_000_000, durationMs: 1)
        orphan.parentSpanID = 0xDEAD
        let tree = TraceTree(spans: [skewed, orphan, b, a, root])
        #expect(tree.nodes.map(\.span.name) == ["GET /", "auth", "render", "query", "job"])
        #expect(tree.nodes.map(\.depth) == [0, 1, 1, 2, 0])
        #expect(tree.orphans == 1)
        #expect(tree.nodes[4].parentMissing)
        let q = tree.nodes[3]
        #expect(q.displayStart >= tree.nodes[2].displayStart && q.displayEnd <= tree.nodes[2].displayEnd)
        #expect(tree.root?.name == "GET /")
        // The render branch ends last: root → render → query is critical; auth ran in parallel.
        #expect(tree.nodes.filter(\.critical).map(\.span.name) == ["GET /", "render", "query"])
        #expect(tree.durationNanos == 100_000_000)
    }
}
