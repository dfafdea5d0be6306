@testable import ArgusQuery
import ArgusModel
import ArgusStorage
import ArgusTestKit
import Foundation
import Logging
import Testing

/// LogQL over a real log store (head and blocks) in a temporary directory.
@Suite struct LogQLEngineTests {
    static let t0: Int64 = 1_700_000_000_000_000_000
    static let sec: Int64 = 1_000_000_000

    /// checkout: 10 JSON lines, one per second from t0 (even: payment timeouts, severity error;
    /// odd: ok, info). cart: 12 logfmt lines, one per second from t0, no severity.
    func withStore(flush: Bool = false, _ body: (LogStore) throws -> Void) throws {
        let dir = TempDir()
        defer { dir.remove() }
        let store = try openStore(dir)
        defer { store.close() }
        var checkout: [LogRecord] = []
        for i in 0..<10 {
            let even = i % 2 == 0
            let body = even ? #"{"msg":"payment timeout","duration":"\#(i)s","status":\#(500 + i)}"# : #"{"msg":"ok","duration":"100ms","status":200}"#
            checkout.append(LogRecord(time: Self.t0 + Int64(i) * Self.sec, severityNumber: even ? 17 : 9, severityText: even ? "ERROR" : "INFO",
                                      body: body, attributes: [("order_id", "ord-\(i)")], traceID: even ? Array(repeating: UInt8(i), count: 16) : []))
        }
        var cart: [LogRecord] = []
        for i in 0..<12 {
            cart.append(LogRecord(time: Self.t0 + Int64(i) * Self.sec, body: "level=info msg=\"added item\" user=u\(i) bytes=\(i * 100)"))
        }
        try store.append([LogStreamBatch(labels: Labels([("service_name", "checkout")]), records: checkout),
                          LogStreamBatch(labels: Labels([("service_name", "cart")]), records: cart)])
        if flush { try store.flush() }
        try body(store)
    }

    /// An empty log store in `dir` that keeps everything.
    func openStore(_ dir: TempDir) throws -> LogStore {
        var o = LogStoreOptions(dir: dir.path + "/logs")
        o.retention = 100 * 365 * 86_400_000
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return try LogStore(options: o, logger: logger)
    }

    func lines(_ r: LogQLResult) -> [String] {
        guard case .streams(let e) = r.value else { return ["not streams"] }
        return e.map(\.line)
    }

    func vector(_ r: LogQLResult) -> [String: Double] {
        guard case .vector(let v) = r.value else { return [:] }
        return Dictionary(uniqueKeysWithValues: v.map { ($0.labels.description, $0.v) })
    }

    let engine = LogQLEngine()
    let all = (Self.t0 - 60 * Self.sec, Self.t0 + 60 * Self.sec)

    @Test(arguments: [false, true])
    func lineFilterParserAndTypedLabelFilter(flush: Bool) throws {
        try withStore(flush: flush) { (store: LogStore) throws in
            let q = #"{service_name="checkout"} |= "timeout" | json | duration > 2s"#
            let r = try engine.query(q, start: all.0, end: all.1, step: 0, limit: 100, direction: .backward, store: store)
            guard case .streams(let e) = r.value else { Issue.record("not streams"); return }
            #expect(e.map(\.time) == [8, 6, 4].map { Self.t0 + $0 * Self.sec })
            #expect(e[0].parsed.map(\.name) == ["duration", "msg", "status"])
            #expect(e[0].structuredMetadata.contains { $0.name == "order_id" && $0.value == "ord-8" })
            #expect(e[0].structuredMetadata.contains { $0.name == "trace_id" && $0.value == String(repeating: "08", count: 16) })
            #expect(e[0].structuredMetadata.contains { $0.name == "detected_level" && $0.value == "error" })
            #expect(e[0].stream == Labels([("service_name", "checkout")]))
            let fwd = try engine.query(q, start: all.0, end: all.1, step: 0, limit: 2, direction: .forward, store: store)
            #expect(fwd.value.entryTimes == [4, 6].map { Self.t0 + $0 * Self.sec })
        }
    }

    @Test func orAlternativesNegationsAndRegex() throws {
        try withStore { (store: LogStore) throws in
            func count(_ q: String) throws -> Int { try lines(engine.query(q, start: all.0, end: all.1, step: 0, store: store)).count }
            #expect(try count(#"{service_name=~".+"} |= "timeout" or "user=u1 ""#) == 6)
            #expect(try count(#"{service_name="cart"} != "user=u1" "#) == 9)  // u1, u10, u11 excluded
            #expect(try count(#"{service_name="cart"} |~ "user=u1[01]""#) == 2)
            #expect(try count(#"{service_name="cart"} !~ "bytes=[0-9]00$""#) == 3)  // bytes=0, 1000 and 1100
        }
    }

    /// Past the first thousand entries, lines older (backward) or newer (forward) than the
    /// worst kept one are skipped unparsed; the result is still the `limit` best, in order.
    @Test func limitKeepsTheNewestOrOldestWhenLinesAreSkippedByTime() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let store = try openStore(dir)
        defer { store.close() }
        // Two streams interleaved in time, appended in shuffled batches.
        var batches: [LogStreamBatch] = []
        for part in [3, 0, 2, 1] {
            for (k, svc) in ["a", "b"].enumerated() {
                let recs = (0..<1000).map { i -> LogRecord in
                    let n = part * 2000 + i * 2 + k
                    return LogRecord(time: Self.t0 + Int64(n) * 1_000_000, body: "level=info n=\(n) status=\(n % 7 == 0 ? 500 : 200)")
                }
                batches.append(LogStreamBatch(labels: Labels([("service_name", svc)]), records: recs))
            }
        }
        // The first half (the newest and the oldest part) in blocks, the rest in the head.
        for (k, b) in batches.enumerated() {
            try store.append([b])
            if k == 3 { try store.flush() }
        }
        let q = #"{service_name=~"a|b"} | logfmt | status >= 500"#
        let want = (0..<8000).filter { $0 % 7 == 0 }.map { Self.t0 + Int64($0) * 1_000_000 }
        for (dir, expected) in [(LogQLDirection.backward, Array(want.reversed().prefix(10))), (.forward, Array(want.prefix(10)))] {
            let r = try engine.query(q, start: Self.t0, end: Self.t0 + 10 * Self.sec, step: 0, limit: 10, direction: dir, store: store)
            #expect(r.value.entryTimes == expected, "\(dir)")
        }
    }

    /// A `|~` hands the store the literal text every match starts with; results stay those of
    /// the regex alone, in the head and in blocks.
    @Test(arguments: [false, true])
    func regexFiltersPrefilterByTheirLiteralText(flush: Bool) throws {
        #expect(LogQLPipeline.requiredLiteral("user=u1[01]") == "user=u1")
        #expect(LogQLPipeline.requiredLiteral(#"^ord-9999[0-9]{2}\b"#) == "ord-9999")
        #expect(LogQLPipeline.requiredLiteral(#"a\.b\-cd?e"#) == "a.b-c")
        #expect(LogQLPipeline.requiredLiteral("abcd+ef") == "abcd")
        #expect(LogQLPipeline.requiredLiteral("abc*") == nil)  // "ab" is too short
        #expect(LogQLPipeline.requiredLiteral("timeout|error") == nil)
        #expect(LogQLPipeline.requiredLiteral("(?i)timeout") == nil)
        #expect(LogQLPipeline.requiredLiteral(#"\dabc"#) == nil)
        #expect(LogQLPipeline.requiredLiteral(".*timeout") == nil)
        try withStore(flush: flush) { (store: LogStore) throws in
            func count(_ q: String) throws -> Int { try lines(engine.query(q, start: all.0, end: all.1, step: 0, store: store)).count }
            #expect(try count(#"{service_name="cart"} |~ "user=u1[01]""#) == 2)
            #expect(try count(#"{service_name="cart"} |~ "added item.*bytes=1[01]00""#) == 2)
            #expect(try count(#"{service_name=~".+"} |~ "payment timeout\",\"duration\":\"[48]s""#) == 2)
            #expect(try count(#"{service_name=~".+"} |~ "level=info" or "msg\":\"ok""#) == 17)  // 12 cart + 5 odd checkout
            #expect(try count(#"{service_name=~".+"} |~ "no such text[0-9]""#) == 0)
        }
    }

    @Test func logfmtFormattingAndDropKeep() throws {
        try withStore { (store: LogStore) throws in
            let r = try engine.query(#"{service_name="cart"} | logfmt | bytes >= 1KB | line_format "{{.user | ToUpper}}: {{.msg}}" | keep user, service_name"#,
                                     start: all.0, end: all.1, step: 0, direction: .forward, store: store)
            #expect(lines(r) == ["U10: added item", "U11: added item"])
            guard case .streams(let e) = r.value else { return }
            #expect(e[0].allLabels == Labels([("service_name", "cart"), ("user", "u10")]))
            let f = try engine.query(#"{service_name="cart"} | logfmt | label_format who=user, tag="{{.level}}-x" | drop msg, bytes, level, detected_level | who="u3""#,
                                     start: all.0, end: all.1, step: 0, store: store)
            guard case .streams(let e2) = f.value, let first = e2.first else { Issue.record("no result"); return }
            #expect(first.allLabels == Labels([("service_name", "cart"), ("tag", "info-x"), ("who", "u3")]))
        }
    }

    @Test(arguments: [false, true])
    func metricQueriesReusePromQLAggregation(flush: Bool) throws {
        try withStore(flush: flush) { (store: LogStore) throws in
            func at(_ q: String, _ s: Int64) throws -> [String: Double] {
                let t = Self.t0 + s * Self.sec
                return vector(try engine.query(q, start: t, end: t, step: 0, store: store))
            }
            #expect(try at(#"sum by (level) (count_over_time({service_name=~".+"}[1m]))"#, 20)
                == [#"{level="error"}"#: 5, #"{level="info"}"#: 5, "{}": 12])
            #expect(try at(#"sum(rate({service_name="cart"}[10s]))"#, 10) == ["{}": 1.0])
            #expect(try at(#"sum(sum_over_time({service_name="cart"} | logfmt | unwrap bytes [1m]) by (service_name))"#, 20) == ["{}": 6600])
            #expect(try at(#"topk(1, sum by (service_name) (count_over_time({service_name=~".+"}[1m])))"#, 20) == [#"{service_name="cart"}"#: 12])
            #expect(try at(#"sum(count_over_time({service_name="cart"}[1m])) / sum(count_over_time({service_name="checkout"}[1m]))"#, 20) == ["{}": 1.2])
            #expect(try at(#"max(max_over_time({service_name="checkout"} | json | unwrap duration(duration) [1m]) by (service_name))"#, 20) == ["{}": 8])
            #expect(try at(#"quantile_over_time(0.5, {service_name="cart"} | logfmt | unwrap bytes [1m]) by (service_name)"#, 20) == [#"{service_name="cart"}"#: 550])
            #expect(try at(#"sum(bytes_over_time({service_name="cart"} |= "user=u1 " [1m]))"#, 20) == ["{}": 45])
            #expect(try at(#"absent_over_time({service_name="nope"}[1m])"#, 20) == [#"{service_name="nope"}"#: 1])
            #expect(try at(#"sum(count_over_time({service_name="checkout"}[1m])) > bool 100"#, 20) == ["{}": 0])
        }
    }

    @Test func rangeQueryIsAMatrix() throws {
        try withStore { (store: LogStore) throws in
            let r = try engine.query(#"sum(count_over_time({service_name="checkout"}[5s]))"#,
                                     start: Self.t0 + 5 * Self.sec, end: Self.t0 + 10 * Self.sec, step: 5 * Self.sec, store: store)
            guard case .matrix(let m) = r.value else { Issue.record("not a matrix"); return }
            #expect(m.count == 1)
            #expect(m[0].samples.map(\.v) == [5, 4])
            #expect(m[0].samples.map(\.t) == [1_700_000_005_000, 1_700_000_010_000])
        }
    }

    @Test func ruleShapedEvaluation() throws {
        try withStore { (store: LogStore) throws in
            let v = try engine.instantVector(#"sum(count_over_time({service_name="cart"}[1m]))"#, at: 1_700_000_020_000, store: store)
            #expect(v.map(\.v) == [12])
            #expect(throws: ArgusError.self) { try engine.instantVector(#"{service_name="cart"}"#, at: 1_700_000_020_000, store: store) }
        }
    }

    @Test func limitsEndQueriesWithClearErrors() throws {
        try withStore { (store: LogStore) throws in
            do {
                _ = try engine.query(#"{service_name="cart"}"#, start: all.0, end: all.1, step: 0, limit: 6000, store: store)
                Issue.record("no error")
            } catch let e as ArgusError {
                #expect(e.message == "max entries limit per query exceeded, limit > max_entries_limit (6000 > 5000)")
            }
            var o = LogQLEngineOptions()
            o.maxSeries = 3
            let small = LogQLEngine(options: o)
            #expect(throws: ArgusError.self) {
                try small.query(#"count_over_time({service_name="cart"} | logfmt [1m])"#, start: all.1, end: all.1, step: 0, store: store)
            }
            o = LogQLEngineOptions()
            o.maxBytesRead = 100
            let tight = LogQLEngine(options: o)
            do {
                _ = try tight.query(#"{service_name=~".+"}"#, start: all.0, end: all.1, step: 0, store: store)
                Issue.record("no error")
            } catch let e as ArgusError {
                #expect(e.code == .limit)
                #expect(e.message.contains("too many bytes"))
            }
            #expect(throws: ArgusError.self) { try engine.query(#"{service_name="cart"}"#, start: all.1, end: all.1, step: 0, store: store) }
        }
    }

    @Test(arguments: [false, true])
    func patternLineFilters(flush: Bool) throws {
        try withStore(flush: flush) { (store: LogStore) throws in
            func ls(_ q: String) throws -> [String] { try lines(engine.query(q, start: all.0, end: all.1, step: 0, direction: .forward, store: store)) }
            #expect(try ls(#"{service_name="cart"} |> "<_> user=u1 <_>""#) == [#"level=info msg="added item" user=u1 bytes=100"#])
            #expect(try ls(#"{service_name="cart"} |> "level=info <_> bytes=<b>""#).count == 12)
            #expect(try ls(#"{service_name="cart"} |> "<_> bytes=0""#) == [#"level=info msg="added item" user=u0 bytes=0"#])
            #expect(try ls(#"{service_name="cart"} !> "<_> bytes=0""#).count == 11)
            #expect(try ls(#"{service_name="cart"} |> "<_> user=u1 <_>" or "<_> user=u2 <_>""#).count == 2)
            // After a parser stage the filter runs on the line as it is then.
            #expect(try ls(#"{service_name="checkout"} | json |> "<_>\"msg\":\"ok\",<_>""#).count == 5)
            #expect(try ls(#"{service_name="checkout"} |> "{<_>\"msg\":\"ok\"<_>}""#).isEmpty)  // the capture after "{" would be empty
        }
        #expect(throws: ArgusError.self) { try LogQLEngine.parse(#"{a="b"} |> "<_><_>""#) }
    }

    @Test func linePatternMatchesAsLoki() throws {
        func m(_ p: String, _ line: String) throws -> Bool {
            let pat = try LogQLLinePattern(p)
            var l = line
            return l.withUTF8 { pat.matches(UnsafeRawBufferPointer($0)) }
        }
        #expect(try m("foo <_>", "foo bar baz"))
        #expect(try !m("<_> bar", "foo bar baz"))
        #expect(try m("<_> baz", "foo bar baz"))
        #expect(try !m("<_> bar <_>", " bar "))  // empty captures do not match
        #expect(try m("<_>bar<_>", " bar "))
        #expect(try !m("<_> x", ""))
        #expect(try m("<method> <path> <status>", "GET /api 200"))
    }

    @Test func rateCounterTreatsUnwrappedValuesAsACounterWithResets() throws {
        let dir = TempDir()
        defer { dir.remove() }
        var o = LogStoreOptions(dir: dir.path + "/logs")
        o.retention = 100 * 365 * 86_400_000
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let store = try LogStore(options: o, logger: logger)
        defer { store.close() }
        // 10, 20, 30, reset to 5, 15: increase 5 + 30 = 35 over 40 s.
        let values = [10, 20, 30, 5, 15]
        let recs = values.enumerated().map { LogRecord(time: Self.t0 + Int64($0.offset) * 10 * Self.sec, body: "requests_total=\($0.element)") }
        try store.append([LogStreamBatch(labels: Labels([("service_name", "c")]), records: recs)])
        let at = Self.t0 + 40 * Self.sec
        let r = try engine.query(#"rate_counter({service_name="c"} | logfmt | unwrap requests_total [1m])"#, start: at, end: at, step: 0, store: store)
        // Extrapolated as Loki does: the zero point (40 s · 10/35 ≈ 11.4 s before the first
        // sample) is past 1.1 × the 10 s spacing, so half a spacing is added at the start and
        // nothing at the end (the window ends at the last sample): 35 · 45/40 / 60 s.
        #expect(vector(r) == [#"{detected_level="unknown", service_name="c"}"#: 0.65625])
        let one = try engine.query(#"rate_counter({service_name="c"} | logfmt | unwrap requests_total [5s])"#, start: at, end: at, step: 0, store: store)
        #expect(vector(one) == [#"{detected_level="unknown", service_name="c"}"#: 0])  // one sample: 0, as in Loki
        #expect(LogQLEngine.rateCounter([(0, 1), (Self.sec, 2), (2 * Self.sec, 3)], range: 2 * Self.sec) > 0)
    }

    @Test func lineFilterSkipsChunksByToken() throws {
        try withStore(flush: true) { (store: LogStore) throws in
            let r = try engine.query(#"{service_name=~".+"} |= "user=u7 bytes""#, start: all.0, end: all.1, step: 0, store: store)
            #expect(lines(r) == [#"level=info msg="added item" user=u7 bytes=700"#])
            #expect(r.stats.chunksTotal == 2)
            #expect(r.stats.chunksSkippedByFilter == 1)  // the checkout chunk has no token "u7"
        }
    }
}

extension LogQLValue {
    var entryTimes: [Int64] {
        if case .streams(let e) = self { return e.map(\.time) }
        return []
    }
}
