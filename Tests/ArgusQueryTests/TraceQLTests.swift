import ArgusModel
import ArgusQuery
import ArgusStorage
import ArgusTestKit
import Foundation
import Logging
import Testing

/// TraceQL over generated shop traces whose answers follow from how they were generated:
/// trace n is slow when n % 4 == 0 (payment 300 ms, root 400 ms) and fails when n % 5 == 0
/// (payment status error, http.status_code 500, an "exception" event); amount = n + 0.5,
/// order.items = n % 5 + 1.
@Suite(.serialized) struct TraceQLTests {
    static let count = 40
    static let base: Int64 = 1_700_000_000_000_000_000

    static func isSlow(_ n: Int) -> Bool { n % 4 == 0 }
    static func fails(_ n: Int) -> Bool { n % 5 == 0 }

    /// A store with half the traces in blocks and half in the head.
    static func makeStore(_ dir: TempDir) throws -> SpanStore {
        var o = StorageOptions(dataDir: dir.path)
        o.retention = 100 * 365 * 86_400_000
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let store = try SpanStore(options: o, logger: logger)
        var fx = SpanFixtures()
        for n in 0..<count {
            try store.append(fx.shopTrace(UInt64(n), start: base + Int64(n) * 1_000_000_000, slow: isSlow(n), fail: fails(n)))
            if n == count / 2 { try store.flush() }
        }
        return store
    }

    func matches(_ q: String, _ store: SpanStore) throws -> Set<Int> {
        let r = try TraceQLEngine().search(TraceQLParser.parse(q), store: store, startNanos: 0, endNanos: .max / 2, limit: 1000)
        var out = Set<Int>()
        for t in r.traces {
            let n = (0..<TraceQLTests.count).first { SpanFixtures.traceID(UInt64($0)) == t.traceID }!
            out.insert(n)
        }
        return out
    }

    func expected(_ pred: (Int) -> Bool) -> Set<Int> { Set((0..<TraceQLTests.count).filter(pred)) }

    @Test func querySetReturnsExactlyTheKnownTraces() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let store = try TraceQLTests.makeStore(dir)
        defer { store.close() }
        let cases: [(String, (Int) -> Bool)] = [
            (#"{ resource.service.name = "payment" && status = error }"#, TraceQLTests.fails),
            (#"{ duration > 200ms }"#, TraceQLTests.isSlow),
            (#"{ span:duration >= 300ms && name = "charge" }"#, TraceQLTests.isSlow),
            (#"{ resource.service.name = "frontend" } >> { name = "charge" && status = error }"#, TraceQLTests.fails),
            (#"{ name = "placeOrder" } > { name = "charge" }"#, { _ in true }),
            (#"{ name = "charge" } > { name = "placeOrder" }"#, { _ in false }),
            (#"{ name = "charge" } < { name = "placeOrder" }"#, { _ in true }),
            (#"{ name = "charge" } << { name = "GET /checkout" }"#, { _ in true }),
            (#"{ name = "GET /checkout" } << { name = "charge" }"#, { _ in false }),
            (#"{ name = "charge" } ~ { name = "SELECT orders" }"#, { _ in true }),
            (#"{ name = "charge" } ~ { name = "charge" }"#, { _ in false }),
            (#"{ .db.system = "postgresql" } ~ { span.amount > 30 }"#, { $0 >= 30 }),
            (#"{ span.http.status_code = 500 }"#, TraceQLTests.fails),
            (#"{ span.order.items >= 4 }"#, { $0 % 5 >= 3 }),
            (#"{ trace:rootService = "frontend" && trace:duration > 300ms }"#, TraceQLTests.isSlow),
            (#"{ rootName = "GET /checkout" && traceDuration < 300ms }"#, { !TraceQLTests.isSlow($0) }),
            (#"{ event:name = "exception" }"#, TraceQLTests.fails),
            (#"{ kind = server && name =~ "GET.*" }"#, { _ in true }),
            (#"{ name =~ "GET" }"#, { _ in false }),
            (#"{ name !~ "(GET|POST) .*" && kind = client && resource.service.name = "checkout" }"#, { _ in true }),
            (#"{ resource.service.name = "payment" } | count() > 1"#, { _ in false }),
            (#"{ resource.service.name = "checkout" } | count() = 2"#, { _ in true }),
            (#"{ name = "charge" } | avg(span.amount) > 20"#, { $0 >= 20 }),
            (#"{ } | max(duration) >= 400ms"#, TraceQLTests.isSlow),
            (#"{ status = error } || { duration > 350ms }"#, { TraceQLTests.fails($0) || TraceQLTests.isSlow($0) }),
            (#"{ status = error } && { duration > 350ms }"#, { TraceQLTests.fails($0) && TraceQLTests.isSlow($0) }),
            (#"{ name = "charge" } && { name = "nonexistent" }"#, { _ in false }),
            (#"{ span.missing = nil && name = "charge" }"#, { _ in true }),
            (#"{ span.amount != nil && span.amount < 5 }"#, { $0 <= 4 }),
            (#"{ !(status = error) && name = "charge" }"#, { !TraceQLTests.fails($0) }),
            (#"{ span.http.status_code != 200 }"#, TraceQLTests.fails),
            (#"{ .http.method = "GET" } | by(resource.service.name) | count() = 1"#, { _ in true }),
            (#"{ status = error } | { resource.service.name = "frontend" }"#, { _ in false }),
            (#"({ name = "charge" } || { name = "GET /checkout" }) | count() = 2"#, { _ in true }),
            (#"{ span:parentID = nil && kind = server }"#, { _ in true }),
            (#"{ trace:id = "\#(SpanFixtures.traceID(7).hex)" }"#, { $0 == 7 }),
        ]
        for (q, pred) in cases {
            let got = try matches(q, store)
            #expect(got == expected(pred), "query \(q)")
        }
    }

    @Test func resultsCarryRootsSpanSetsAndAttributes() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let store = try TraceQLTests.makeStore(dir)
        defer { store.close() }
        let q = try TraceQLParser.parse(#"{ resource.service.name = "checkout" } | select(span.db.system)"#)
        let r = try TraceQLEngine().search(q, store: store, startNanos: 0, endNanos: .max / 2, limit: 5, spansPerSpanSet: 1)
        #expect(r.traces.count == 5)
        // Newest first.
        #expect(r.traces.map(\.startNanos) == r.traces.map(\.startNanos).sorted(by: >))
        let t = r.traces[0]
        #expect(t.rootServiceName == "frontend")
        #expect(t.rootTraceName == "GET /checkout")
        #expect(t.spanSets[0].matched == 2)
        #expect(t.spanSets[0].spans.count == 1)
        #expect(t.serviceStats["checkout"]?.spans == 2)
        let attrs = t.spanSets[0].spans[0].attributes
        #expect(attrs.contains(SpanAttribute("service.name", .string("checkout"))))
        let grouped = try TraceQLEngine().search(TraceQLParser.parse(#"{ } | by(resource.service.name)"#), store: store,
                                                 startNanos: 0, endNanos: .max / 2, limit: 1)
        #expect(grouped.traces[0].spanSets.count == 3)
        #expect(Set(grouped.traces[0].spanSets.map(\.matched)) == [1, 2])
        // The time range limits what is searched.
        let one = try TraceQLEngine().search(TraceQLParser.parse("{ }"), store: store, startNanos: TraceQLTests.base + 3_000_000_000,
                                             endNanos: TraceQLTests.base + 3_500_000_000, limit: 100)
        #expect(one.traces.map(\.traceID) == [SpanFixtures.traceID(3)])
    }

    @Test func parseErrorsCarryThePosition() {
        let cases: [(String, String)] = [
            (#"{ name = "x" "#, #"parse error at line 1, col 14: syntax error: unexpected end of input, expecting }"#),
            (#"{ duration > "abc" }"#, #"parse error at line 1, col 14: invalid comparison: duration is a duration, not "abc""#),
            (#"{ foo = 1 }"#, "parse error at line 1, col 3: syntax error: unexpected IDENTIFIER foo: attributes need a scope (span.foo, resource.foo or .foo)"),
            ("{ .a = 1 }\n  | count() > \"x\"", #"parse error at line 2, col 15: syntax error: unexpected "x", expecting a number or a duration"#),
            (#"{ .a = 1 } && "#, "parse error at line 1, col 15: syntax error: unexpected end of input, expecting { or ("),
            (#"{ .a = 1 } }"#, "parse error at line 1, col 12: syntax error: unexpected }"),
            (#"{ status = 200 }"#, "parse error at line 1, col 12: invalid comparison: status is a status (error, ok, unset) compared with = or !=, not 200"),
            (#"{ duration > 5parsecs }"#, #"parse error at line 1, col 15: syntax error: invalid duration unit "parsecs" (use ns, us, ms, s, m, h or d)"#),
            (#"{ span:bogus = 1 }"#, "parse error at line 1, col 3: syntax error: unknown intrinsic span:bogus"),
            (#"{ name = "unterminated }"#, "parse error at line 1, col 10: syntax error: unterminated string"),
            (#"{ .a = 1 } | frobnicate()"#, "parse error at line 1, col 14: syntax error: unexpected IDENTIFIER frobnicate, expecting a pipeline stage"),
        ]
        for (q, want) in cases {
            do {
                _ = try TraceQLParser.parse(q)
                Issue.record("no error for \(q)")
            } catch let e as TraceQLParseError {
                #expect(e.description.hasPrefix(want), "query \(q): got \(e.description)")
            } catch {
                Issue.record("unexpected error \(error)")
            }
        }
    }

    @Test func printedQueriesParseBack() throws {
        let queries = [
            #"{ resource.service.name = "checkout" && duration > 200ms }"#,
            #"{ .a = 1 || !(span.b != "x") } >> { kind = client } ~ { status = error }"#,
            #"{ } | by(resource.service.name) | count() >= 2 | select(span.http.url)"#,
            #"{ name =~ "a.*" } < ({ .x = true } || { .y = 1.5 })"#,
            #"{ span."with space" = `raw\n` && duration < 1h30m }"#,
        ]
        for q in queries {
            let a = try TraceQLParser.parse(q)
            let b = try TraceQLParser.parse(a.description)
            #expect(a.description == b.description, "query \(q)")
        }
    }

    @Test func traceLevelColumnsPruneBeforeDecoding() throws {
        let ev = TraceQLEvaluator(query: try TraceQLParser.parse(#"{ trace:rootService = "frontend" && trace:duration > 300ms && span.x = 1 }"#))
        let prune = try #require(ev.traceLevelPrune())
        func summary(_ root: String?, _ ms: Int64) -> SpanStore.TraceSummary {
            SpanStore.TraceSummary(traceID: TraceID(hi: 1, lo: 1), startNanos: 0, durationNanos: ms * 1_000_000, rootService: root, rootName: "x")
        }
        #expect(prune(summary("frontend", 400)))
        #expect(!prune(summary("frontend", 200)))
        #expect(!prune(summary("checkout", 400)))
        #expect(!prune(summary(nil, 400)))
        // Nothing to prune on: no trace-level terms, or terms under || or !.
        #expect(TraceQLEvaluator(query: try TraceQLParser.parse(#"{ span.x = 1 }"#)).traceLevelPrune() == nil)
        #expect(TraceQLEvaluator(query: try TraceQLParser.parse(#"{ trace:duration > 1s || span.x = 1 }"#)).traceLevelPrune() == nil)
        #expect(TraceQLEvaluator(query: try TraceQLParser.parse(#"{ !(trace:duration > 1s) }"#)).traceLevelPrune() == nil)
    }
}
