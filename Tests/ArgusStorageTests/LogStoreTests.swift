import ArgusColumnar
import ArgusModel
import ArgusStorage
import ArgusTestKit
import Foundation
import Logging
import Testing

func openLogStore(_ dir: TempDir, configure: (inout LogStoreOptions) -> Void = { _ in }) throws -> LogStore {
    var o = LogStoreOptions(dir: dir.path + "/logs")
    o.retention = 100 * 365 * 86_400_000
    configure(&o)
    var logger = Logger(label: "test")
    logger.logLevel = .critical
    return try LogStore(options: o, logger: logger)
}

/// Every record of the store matching `matchers`, per stream, sorted by time.
func dumpLogs(_ store: LogStore, _ matchers: [Matcher] = [try! Matcher(.regexMatch, "service_name", ".+")],
              start: Int64 = .min / 2, end: Int64 = .max / 2, stats: UnsafeMutablePointer<LogScanStats>? = nil) throws -> [String: [LogRecord]] {
    var out: [String: [LogRecord]] = [:]
    var st = LogScanStats()
    try store.scan(LogSelectQuery(matchers: matchers, start: start, end: end), stats: &st) { batch in
        for r in try batch.records() where r.time >= start && r.time < end { out[batch.labels.description, default: []].append(r) }
        return true
    }
    stats?.pointee = st
    return out.mapValues { $0.sorted { $0.time < $1.time } }
}

func sampleRecord(_ i: Int, base: Int64 = 1_700_000_000_000_000_000) -> LogRecord {
    LogRecord(time: base + Int64(i) * 1_000_000, observedTime: base + Int64(i) * 1_000_000 + 5,
              severityNumber: UInt8(i % 24 + 1), severityText: i % 2 == 0 ? "INFO" : "ERROR",
              body: "request \(i) took \(i % 97)ms path=/api/orders/\(i * 7919 % 10007)",
              attributes: i % 3 == 0 ? [] : [("order_id", "ord-\(i)"), ("http_method", i % 2 == 0 ? "GET" : "POST")],
              traceID: i % 5 == 0 ? [] : (0..<16).map { UInt8(truncatingIfNeeded: $0 &* 17 &+ i) },
              spanID: i % 5 == 0 ? [] : (0..<8).map { UInt8(truncatingIfNeeded: $0 &+ i) })
}

@Suite struct LogStoreTests {
    let checkout = Labels([("service_name", "checkout"), ("deployment_environment", "prod")])
    let cart = Labels([("service_name", "cart")])

    @Test func headRecordsComeBackWithEveryField() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let store = try openLogStore(dir)
        defer { store.close() }
        let recs = (0..<50).map { sampleRecord($0) }
        #expect(try store.append([LogStreamBatch(labels: checkout, records: recs), LogStreamBatch(labels: cart, records: [sampleRecord(99)])]) == 51)
        let got = try dumpLogs(store)
        #expect(got[checkout.description] == recs)
        #expect(got[cart.description] == [sampleRecord(99)])
    }

    @Test func outOfOrderRecordsAreReadSorted() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let store = try openLogStore(dir)
        defer { store.close() }
        let recs = [sampleRecord(5), sampleRecord(1), sampleRecord(3)]
        try store.append([LogStreamBatch(labels: cart, records: recs)])
        #expect(try dumpLogs(store)[cart.description]?.map(\.time) == [1, 3, 5].map { sampleRecord($0).time })
        try store.flush()
        #expect(try dumpLogs(store)[cart.description]?.map(\.time) == [1, 3, 5].map { sampleRecord($0).time })
    }

    @Test func flushWritesBlocksThatReadBackExactly() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let store = try openLogStore(dir)
        defer { store.close() }
        let recs = (0..<20_000).map { sampleRecord($0) }
        try store.append([LogStreamBatch(labels: checkout, records: recs)])
        let r = try store.flush()
        #expect(r.blocksWritten == 1)
        #expect(store.stats().headRecords == 0)
        #expect(store.blockMetas.first?.samples == 20_000)
        #expect(store.blockMetas.first?.kind == "logs")
        let got = try dumpLogs(store)
        #expect(got[checkout.description] == recs)
        // A time range reads only what it covers.
        let part = try dumpLogs(store, start: recs[100].time, end: recs[200].time)
        #expect(part[checkout.description] == Array(recs[100..<200]))
    }

    @Test func walReplayRestoresTheHeadAfterARestart() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let recs = (0..<300).map { sampleRecord($0) }
        do {
            let store = try openLogStore(dir)
            try store.append([LogStreamBatch(labels: checkout, records: Array(recs[0..<100]))])
            try store.flush()
            try store.append([LogStreamBatch(labels: checkout, records: Array(recs[100..<200]))])
            try store.append([LogStreamBatch(labels: cart, records: Array(recs[200..<300]))])
            store.close()
        }
        let store = try openLogStore(dir)
        defer { store.close() }
        #expect(store.replayedRecords == 200)
        let got = try dumpLogs(store)
        #expect(got[checkout.description] == Array(recs[0..<200]))
        #expect(got[cart.description] == Array(recs[200..<300]))
        // Streams keep working after the restart (new records, another cut, another restart).
        try store.append([LogStreamBatch(labels: cart, records: [sampleRecord(400)])])
        try store.flush()
        store.close()
        let again = try openLogStore(dir)
        defer { again.close() }
        #expect(try dumpLogs(again)[cart.description]?.count == 101)
    }

    @Test func plainWordFilterSkipsChunksByTheirTemplates() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let store = try openLogStore(dir)
        defer { store.close() }
        // 40 streams, one of which has the rare word inside a longer token.
        var batches: [LogStreamBatch] = []
        for s in 0..<40 {
            var recs = (0..<200).map { sampleRecord($0) }
            if s == 7 { recs[50].body = "payment failed error=card_declined_xyzzy code=51" }
            batches.append(LogStreamBatch(labels: Labels([("service_name", "svc\(s)")]), records: recs))
        }
        try store.append(batches)
        try store.flush()
        var st = LogScanStats()
        var hits: [String] = []
        let q = LogSelectQuery(matchers: [try Matcher(.regexMatch, "service_name", ".+")], start: .min / 2, end: .max / 2,
                               lineFilters: [LogLineFilter(negate: false, needles: [Array("xyzzy".utf8)])])
        try store.scan(q, stats: &st) { b in
            for i in 0..<b.count { hits.append(b.labels["service_name"]! + " " + String(decoding: b.body[b.offsets[i]..<b.offsets[i + 1]], as: UTF8.self)) }
            let bodies = try b.records().map(\.body)
            #expect(bodies == (0..<b.count).map { String(decoding: b.body[b.offsets[$0]..<b.offsets[$0 + 1]], as: UTF8.self) })
            return true
        }
        #expect(hits == ["svc7 payment failed error=card_declined_xyzzy code=51"])
        #expect(st.chunksTotal == 40)
        #expect(st.chunksSkippedByFilter == 39)
        #expect(st.chunksRead == 1)
        #expect(st.linesRead == 1)  // only the line whose template holds the word is decoded
    }

    @Test func lineFiltersAreExactOnHeadAndBlocks() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let store = try openLogStore(dir)
        defer { store.close() }
        let recs = (0..<300).map { sampleRecord($0) }
        try store.append([LogStreamBatch(labels: checkout, records: Array(recs[0..<200]))])
        try store.flush()
        try store.append([LogStreamBatch(labels: checkout, records: Array(recs[200...]))])
        for (needle, negate) in [("took 9", false), ("ms path=/api/orders/1", false), ("request 1", true), ("9ms", false)] {
            var got: [LogRecord] = []
            var st = LogScanStats()
            let q = LogSelectQuery(matchers: [], start: .min / 2, end: .max / 2, lineFilters: [LogLineFilter(negate: negate, needles: [Array(needle.utf8)])])
            try store.scan(q, stats: &st) { b in
                got += try b.records()
                return true
            }
            #expect(got.sorted { $0.time < $1.time } == recs.filter { $0.body.contains(needle) != negate }, "\(needle)")
        }
    }

    @Test func frequentAttributesGetColumnsAndRecordsComeBackExactly() throws {
        let dir = TempDir()
        defer { dir.remove() }
        var w = LogBlockWriter(dir: dir.path)
        var recs: [LogRecord] = []
        for i in 0..<1000 {
            var attrs: [(name: String, value: String)] = [("http_method", ["GET", "POST"][i % 2]), ("order_id", "ord-\(i * 7919)"), ("bytes", String(i * 37 - 500))]
            if i % 10 == 0 { attrs.insert(("rare", "r\(i)"), at: 1) }
            if i % 3 == 0 { attrs.reverse() }
            if i % 4 == 0 { attrs.removeAll { $0.name == "bytes" } }
            recs.append(LogRecord(time: 1_700_000_000_000_000_000 + Int64(i) * 1_000_000, severityNumber: 9, severityText: "INFO",
                                  body: "GET /api/orders/\(i) 200", attributes: attrs,
                                  traceID: (0..<16).map { UInt8(truncatingIfNeeded: $0 + i / 4) }, spanID: i % 2 == 0 ? [] : (0..<8).map { UInt8(truncatingIfNeeded: $0 * i) }))
        }
        try w.add(stream: [("service_name", "a")], records: recs)
        _ = try w.finish()
        let r = try LogBlockReader(dir: dir.path)
        #expect(r.version == LogBlockFormat.version)
        #expect(r.chunks[0].offsets.count == LogBlockFormat.fixedColumnCount + 3)  // http_method, order_id, bytes; "rare" stays shared
        #expect(try r.records(0) == recs)
        #expect(try r.records(0, rows: [3, 10, 999]) == [recs[3], recs[10], recs[999]])
    }

    /// Lines of three streams that repeat each other's trace ids (and ids of their own): the
    /// ids found in more than one chunk go to the block's shared table once, the rest stay in
    /// their chunk, and every line (all rows, some rows, a line filter) comes back exactly.
    @Test func idsRepeatedAcrossStreamsAreStoredOncePerBlock() throws {
        let dir = TempDir()
        defer { dir.remove() }
        var rng = SplitMix(seed: 3)
        func hex(_ n: Int) -> String { (0..<n).map { _ in String(format: "%02x", rng.next() & 0xFF) }.joined() }
        var streams: [[LogRecord]] = [[], [], []]
        let base: Int64 = 1_700_000_000_000_000_000
        var sharedTraces: Set<String> = []
        for req in 0..<400 {
            let trace = hex(16)
            let visits = req % 4 == 0 ? [0] : [0, 1 + req % 2, 2]
            if Set(visits).count > 1 { sharedTraces.insert(trace) }
            for (k, s) in visits.enumerated() {
                streams[s].append(LogRecord(time: base + Int64(req) * 1_000_000 + Int64(k), body: "svc\(s) trace_id=\(trace) span_id=\(hex(8)) took=\(req % 97)ms ABCDEF12 beef"))
            }
        }
        for v in [UInt16(2), LogBlockFormat.version] {
            let d = dir.path + "/v\(v)"
            try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
            var w = LogBlockWriter(dir: d, version: v)
            for (s, recs) in streams.enumerated() { try w.add(stream: [("service_name", "s\(s)")], records: recs) }
            _ = try w.finish()
            let r = try LogBlockReader(dir: d)
            #expect(r.version == v)
            if v >= 3 {
                let sh = try #require(try r.sharedIDs())
                #expect(sh.count == sharedTraces.count)
            } else {
                #expect(try r.sharedIDs() == nil)
            }
            for c in r.chunks.indices {
                let recs = streams[r.chunks[c].stream]
                #expect(try r.records(c) == recs)
                #expect(try r.records(c, rows: [1, recs.count - 1]) == [recs[1], recs[recs.count - 1]])
            }
        }
        // Through the store: a filter for one shared trace id finds its lines in every stream.
        let store = try openLogStore(dir)
        defer { store.close() }
        for (s, recs) in streams.enumerated() { try store.append([LogStreamBatch(labels: Labels([("service_name", "s\(s)")]), records: recs)]) }
        try store.flush()
        let trace = sharedTraces.sorted()[0]
        var got: [String] = []
        var st = LogScanStats()
        try store.scan(LogSelectQuery(matchers: [], start: .min / 2, end: .max / 2, lineFilters: [LogLineFilter(negate: false, needles: [Array(trace.utf8)])]), stats: &st) { b in
            got += try b.records().map(\.body)
            return true
        }
        #expect(got.sorted() == streams.flatMap { $0 }.map(\.body).filter { $0.contains(trace) }.sorted())
        #expect(got.count >= 2)
    }

    @Test func damagedSharedIDsAreReportedNotReturned() throws {
        let dir = TempDir()
        defer { dir.remove() }
        var w = LogBlockWriter(dir: dir.path)
        let id = "4bf92f3577b34da6a3ce929d0e0e4736"
        try w.add(stream: [("service_name", "a")], records: [LogRecord(time: 1, body: "a \(id)")])
        try w.add(stream: [("service_name", "b")], records: [LogRecord(time: 2, body: "b \(id)")])
        _ = try w.finish()
        let r = try LogBlockReader(dir: dir.path)
        #expect(try r.sharedIDs()?.count == 1)
        #expect(try r.bodies(1).bytes == Array("b \(id)".utf8))
        // The shared frame is the last one before the trailer: damage its first byte.
        let path = dir.path + "/chunks"
        var bytes = [UInt8](FileManager.default.contents(atPath: path)!)
        let lastColumnEnd = r.chunks.flatMap { c in c.offsets.indices.map { c.offsets[$0] + c.sizes[$0] } }.max()!
        bytes[lastColumnEnd + 1] ^= 0xFF
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        let damaged = try LogBlockReader(dir: dir.path)
        #expect(throws: ColumnarError.self) { try damaged.bodies(0) }
    }

    @Test func versionOneBlocksStillRead() throws {
        let dir = TempDir()
        defer { dir.remove() }
        var w = LogBlockWriter(dir: dir.path, version: 1)
        try w.add(stream: [("service_name", "a")], records: (0..<100).map { sampleRecord($0) })
        _ = try w.finish()
        let r = try LogBlockReader(dir: dir.path)
        #expect(r.version == 1)
        #expect(r.chunks[0].filter != nil)
        #expect(try r.records(0) == (0..<100).map { sampleRecord($0) })
        #expect(try r.records(0, rows: [5]) == [sampleRecord(5)])
    }

    @Test func compactionMergesBlocksAndRetentionDropsOldOnes() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let store = try openLogStore(dir) {
            $0.blockDuration = 1000
            $0.retention = 60_000
        }
        defer { store.close() }
        let base: Int64 = 1_699_999_998_000_000_000  // a multiple of 3 s
        // Three one-second windows inside one 3 s compaction window.
        for w in 0..<3 {
            let recs = (0..<10).map { LogRecord(time: base + Int64(w) * 1_000_000_000 + Int64($0), body: "w\(w) line \($0)") }
            try store.append([LogStreamBatch(labels: cart, records: recs)])
            try store.flush()
        }
        // The 3 s window is still the newest: its blocks stay as cut until a later one arrives.
        #expect(store.blockMetas.count == 3)
        try store.append([LogStreamBatch(labels: cart, records: [LogRecord(time: base + 3_500_000_000, body: "next window")])])
        try store.flush()
        let metas = store.blockMetas.sorted { $0.minT < $1.minT }
        #expect(metas.count == 2)
        #expect(metas[0].level >= 1 && metas[0].samples == 30)  // merged once complete
        #expect(try dumpLogs(store)[cart.description]?.count == 31)
        // Far newer data: the old blocks fall out of retention (60 s behind the newest).
        try store.append([LogStreamBatch(labels: cart, records: [LogRecord(time: base + 3_600_000_000_000, body: "later")])])
        let r = try store.flush()
        #expect(r.blocksDropped == 2)
        #expect(try dumpLogs(store)[cart.description]?.map(\.body) == ["later"])
        let dirs = try FileManager.default.contentsOfDirectory(atPath: dir.path + "/logs/blocks")
        #expect(dirs.count == 1)
    }

    @Test func sharesTheCatalogWithTheMetricStore() throws {
        let dir = TempDir()
        defer { dir.remove() }
        var o = StorageOptions(dataDir: dir.path)
        o.retention = 100 * 365 * 86_400_000
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        do {
            let metrics = try MetricStore(options: o, logger: logger)
            let logs = try LogStore(options: LogStoreOptions(storage: o), sharingCatalogOf: metrics, logger: logger)
            try logs.append([LogStreamBatch(labels: cart, records: [sampleRecord(1)])])
            try logs.flush()
            try metrics.flush()
            logs.close()
            metrics.close()
        }
        let metrics = try MetricStore(options: o, logger: logger)
        let logs = try LogStore(options: LogStoreOptions(storage: o), sharingCatalogOf: metrics, logger: logger)
        defer { logs.close(); metrics.close() }
        #expect(metrics.blockMetas.isEmpty)
        #expect(logs.blockMetas.count == 1)
        #expect(try dumpLogs(logs)[cart.description] == [sampleRecord(1)])
    }

    @Test func streamLimitRefusesNewStreams() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let store = try openLogStore(dir) { $0.maxStreams = 1 }
        defer { store.close() }
        try store.append([LogStreamBatch(labels: cart, records: [sampleRecord(1)])])
        #expect(throws: ArgusError.self) { try store.append([LogStreamBatch(labels: checkout, records: [sampleRecord(2)])]) }
        #expect(try dumpLogs(store).count == 1)
    }
}

@Suite struct LogStoreBlockTests {
    @Test func tokenFilterFindsEveryInsertedTokenAndRejectsMostOthers() {
        var f = TokenFilter(capacity: 1000)
        let words = (0..<1000).map { "word\($0)" }
        for w in words { var s = w; s.withUTF8 { f.insert(TokenFilter.hash(UnsafeRawBufferPointer($0))) } }
        for w in words { var s = w; #expect(s.withUTF8 { f.mayContain(TokenFilter.hash(UnsafeRawBufferPointer($0))) }) }
        var falsePositives = 0
        for i in 0..<10_000 {
            var s = "other\(i)"
            if s.withUTF8({ f.mayContain(TokenFilter.hash(UnsafeRawBufferPointer($0))) }) { falsePositives += 1 }
        }
        #expect(falsePositives < 200)  // ~1% expected at 10 bits per token
    }

    @Test func requiredTokensAreOnlyThoseBoundedInsideTheNeedle() {
        #expect(LogSelectQuery.requiredTokens(of: "timeout").isEmpty)
        #expect(LogSelectQuery.requiredTokens(of: " timeout ").count == 1)
        #expect(LogSelectQuery.requiredTokens(of: "order=ord-123 user").count == 2)  // "ord", "123"
    }

    @Test func damagedChunkFrameIsReportedNotReturned() throws {
        let dir = TempDir()
        defer { dir.remove() }
        var w = LogBlockWriter(dir: dir.path)
        try w.add(stream: [("service_name", "a")], records: (0..<100).map { sampleRecord($0) })
        let st = try w.finish()
        #expect(st.records == 100)
        let r = try LogBlockReader(dir: dir.path)
        #expect(try r.records(0) == (0..<100).map { sampleRecord($0) })
        // Flip a byte inside the body column's frame.
        let path = dir.path + "/chunks"
        var bytes = [UInt8](FileManager.default.contents(atPath: path)!)
        let off = r.chunks[0].offsets[LogBlockFormat.Column.body.rawValue] + 3
        bytes[off] ^= 0xFF
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        let damaged = try LogBlockReader(dir: dir.path)
        #expect(throws: ColumnarError.self) { try damaged.bodies(0) }
    }
}
