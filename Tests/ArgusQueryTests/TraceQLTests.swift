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
/// order.items = n % 5 + 1. The exception event of a failed trace has attributes
/// exception.type = "CardDeclined" and exception.escaped = false; in trace n with n % 3 == 0
/// placeOrder links to span 0xabc + n of trace n + 1 with link attribute reason = "retry".
/// Each trace is GET /checkout > POST /orders > placeOrder > (SELECT orders, charge).
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
            var spans = fx.shopTrace(UInt64(n), start: base + Int64(n) * 1_000_000_000, slow: isSlow(n), fail: fails(n))
            for k in spans.indices {
                for e in spans[k].events.indices where spans[k].events[e].name == "exception" {
                    spans[k].events[e].attributes = [SpanAttribute("exception.type", .string("CardDeclined")), SpanAttribute("exception.escaped", .bool(false))]
                }
                if spans[k].name == "placeOrder" && n % 3 == 0 {
                    spans[k].links = [SpanLink(traceID: SpanFixtures.traceID(UInt64(n + 1)), spanID: 0xabc + UInt64(n), traceState: "",
                                               attributes: [SpanAttribute("reason", .string("retry"))])]
                }
            }
            try store.append(spans)
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
            // Negated structural operators: right-hand spans without the relation (both sides
            // must have spans, as in Tempo).
            (#"{ name = "charge" } !> { name = "SELECT orders" }"#, { _ in true }),
            (#"{ resource.service.name = "checkout" } !> { resource.service.name = "payment" }"#, { _ in false }),
            (#"{ kind = client } !> { }"#, { _ in true }),
            (#"{ status = error } !>> { name = "charge" }"#, TraceQLTests.fails),
            (#"{ name = "POST /orders" } !>> { name = "charge" }"#, { _ in false }),
            (#"{ name = "charge" } !< { name = "placeOrder" }"#, { _ in false }),
            (#"{ name = "charge" } !< { kind = server && resource.service.name = "frontend" }"#, { _ in true }),
            (#"{ name = "charge" } !<< { resource.service.name = "frontend" }"#, { _ in false }),
            (#"{ name = "SELECT orders" } !<< { name = "charge" }"#, { _ in true }),
            (#"{ name = "charge" } !~ { name = "SELECT orders" }"#, { _ in false }),
            (#"{ name = "charge" } !~ { kind = server }"#, { _ in true }),
            (#"{ status = error } !~ { name = "placeOrder" }"#, TraceQLTests.fails),
            // Union structural operators.
            (#"{ status = error } &> { }"#, { _ in false }),
            (#"{ status = error } &< { }"#, TraceQLTests.fails),
            (#"{ status = error } &<< { name = "GET /checkout" }"#, TraceQLTests.fails),
            (#"{ name = "charge" } &~ { span.db.system = "postgresql" }"#, { _ in true }),
            (#"{ name = "charge" } &>> { }"#, { _ in false }),
            // Event and link scopes and intrinsics.
            (#"{ event.exception.type = "CardDeclined" }"#, TraceQLTests.fails),
            (#"{ event.exception.escaped = false && name = "charge" }"#, TraceQLTests.fails),
            (#"{ event.exception.type = nil && name = "charge" }"#, { !TraceQLTests.fails($0) }),
            (#"{ event:name = "exception" && event.exception.type =~ "Card.*" }"#, TraceQLTests.fails),
            (#"{ link.reason = "retry" }"#, { $0 % 3 == 0 }),
            (#"{ link.reason != nil && kind = server }"#, { $0 % 3 == 0 }),
            (#"{ link:traceID = "\#(SpanFixtures.traceID(4).hex)" }"#, { $0 == 3 }),
            (#"{ link:spanID = "\#(hex64(0xabc + 6))" }"#, { $0 == 6 }),
            (#"{ link:traceID = nil && name = "placeOrder" }"#, { $0 % 3 != 0 }),
            // The exception event comes 10 ms after the charge span starts.
            (#"{ event:timeSinceStart > 5ms }"#, TraceQLTests.fails),
            (#"{ event:timeSinceStart = 10ms && name = "charge" }"#, TraceQLTests.fails),
            (#"{ event:timeSinceStart > 15ms }"#, { _ in false }),
        ]
        for (q, pred) in cases {
            let got = try matches(q, store)
            #expect(got == expected(pred), "query \(q)")
        }
    }

    /// The span names a query returns for trace 1 (every span of the spansets).
    func spanNames(_ q: String, _ store: SpanStore) throws -> Set<String> {
        let r = try TraceQLEngine().search(TraceQLParser.parse(q), store: store, startNanos: 0, endNanos: .max / 2,
                                           limit: 1000, spansPerSpanSet: 100)
        let t = try #require(r.traces.first { $0.traceID == SpanFixtures.traceID(1) })
        return Set(t.spanSets.flatMap { $0.spans.map(\.span.name) })
    }

    @Test func structuralOperatorsReturnTempoSpans() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let store = try TraceQLTests.makeStore(dir)
        let cases: [(String, Set<String>)] = [
            (#"{ name = "placeOrder" } > { }"#, ["SELECT orders", "charge"]),
            (#"{ name = "placeOrder" } &> { }"#, ["placeOrder", "SELECT orders", "charge"]),
            (#"{ name = "POST /orders" } &>> { kind = server }"#, ["POST /orders", "placeOrder", "charge"]),
            (#"{ name = "charge" } &< { }"#, ["charge", "placeOrder"]),
            (#"{ name = "SELECT orders" } &<< { resource.service.name = "frontend" }"#, ["SELECT orders", "GET /checkout", "POST /orders"]),
            (#"{ name = "charge" } &~ { }"#, ["charge", "SELECT orders"]),
            (#"{ kind = server } !> { }"#, ["GET /checkout", "placeOrder"]),
            (#"{ name = "charge" } !< { }"#, ["GET /checkout", "POST /orders", "SELECT orders", "charge"]),
            (#"{ kind = client } !>> { }"#, ["GET /checkout", "POST /orders"]),
            (#"{ name = "charge" } !<< { }"#, ["SELECT orders", "charge"]),
            (#"{ name = "charge" } !~ { }"#, ["GET /checkout", "POST /orders", "placeOrder", "charge"]),
        ]
        for (q, want) in cases {
            #expect(try spanNames(q, store) == want, "query \(q)")
        }
    }

    /// In blocks, the column filter rejects traces before their spans are built: only the
    /// matching traces reach the evaluator.
    @Test func columnFilterBuildsSpansOnlyForCandidateTraces() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let store = try TraceQLTests.makeStore(dir)
        try store.flush()
        func evaluated(_ q: String) throws -> (traces: Int, matched: Int) {
            let r = try TraceQLEngine().search(TraceQLParser.parse(q), store: store, startNanos: 0, endNanos: .max / 2, limit: 1000)
            #expect(r.inspectedTraces == TraceQLTests.count && r.inspectedSpans == 5 * TraceQLTests.count)
            return (r.evaluatedTraces, r.traces.count)
        }
        #expect(try evaluated(#"{ span.amount > 30 }"#) == (10, 10))
        #expect(try evaluated(#"{ span.http.status_code = 500 && resource.service.name = "frontend" }"#) == (8, 8))
        #expect(try evaluated(#"{ resource.service.name = "checkout" } | count() = 3"#) == (0, 0))
        #expect(try evaluated(#"{ name = "charge" && duration >= 300ms }"#) == (10, 10))
        #expect(try evaluated(#"{ kind = server && status = error }"#) == (8, 8))
        #expect(try evaluated(#"{ name =~ "SEL.*" } >> { name = "nothing" }"#) == (0, 0))
        // Undecidable from columns (an event name): every trace is evaluated.
        #expect(try evaluated(#"{ event:name = "exception" }"#) == (TraceQLTests.count, 8))
    }

    /// The column filter (blocks) and the span filter (head) only ever reject traces the
    /// evaluator would reject: for each query, the search finds exactly the traces whose spans,
    /// fully built, match; over a store with half its traces in the head, then all in blocks.
    @Test(arguments: [false, true]) func prefiltersAgreeWithFullEvaluation(flushed: Bool) throws {
        let dir = TempDir()
        defer { dir.remove() }
        let store = try TraceQLTests.makeStore(dir)
        if flushed { try store.flush() }
        let queries = [
            #"{ !(span.amount > 10) }"#, #"{ span.amount != 10.5 }"#, #"{ .http.status_code != 200 }"#,
            #"{ resource.service.name != "frontend" }"#, #"{ name !~ "GET.*" }"#, #"{ span.missing != nil }"#,
            #"{ !(span.missing = nil) }"#, #"{ status != error && kind != client }"#, #"{ .service.name = "payment" }"#,
            #"{ span.service.name = "payment" }"#, #"{ resource.missing = nil && name = "charge" }"#,
            #"{ statusMessage = "failed" }"#, #"{ name > "P" && name < "S" }"#, #"{ duration <= 5ms }"#,
            #"{ span.order.items = 3 || span.amount < 2 }"#, #"{ true }"#, #"{ false || name = "charge" }"#,
            #"{ span.http.method = "GET" && !(resource.service.name =~ "front.*") }"#, #"{ span.amount = 7 }"#,
            #"{ span.amount >= 7.5 && span.amount <= 9.5 }"#, #"{ .db.system =~ "post.*" && !(kind = server) }"#,
            #"{ !(status = ok || status = unset) }"#, #"{ span.http.status_code = "500" }"#, #"{ resource.service.name }"#,
            #"{ span.order.items > 2 } | count() = 1"#, #"{ kind = server } | count() >= 3"#, #"{ } | count() = 5"#,
            #"{ name = "charge" } !< { kind = server }"#, #"{ event:name = "exception" || span.amount < 3 }"#,
            #"{ trace:duration > 300ms && status = error }"#, #"{ span:id != nil && name = "placeOrder" && span.order.items < 3 }"#,
        ]
        for q in queries {
            let parsed = try TraceQLParser.parse(q)
            let ev = TraceQLEvaluator(query: parsed)
            var want = Set<TraceID>()
            try store.scan(startNanos: 0, endNanos: .max / 2) { frag in
                if !ev.evaluate(frag.spans).isEmpty { want.insert(frag.traceID) }
                return true
            }
            let got = try TraceQLEngine().search(parsed, store: store, startNanos: 0, endNanos: .max / 2, limit: 1000)
            #expect(Set(got.traces.map(\.traceID)) == want, "query \(q)")
        }
        // Traces 21…39 are in the head: only the matching ones (amount = n + 0.5 > 30) are
        // copied out and evaluated.
        let r = try TraceQLEngine().search(TraceQLParser.parse(#"{ span.amount > 30 }"#), store: store, startNanos: 0, endNanos: .max / 2, limit: 1000)
        #expect(r.traces.count == 10 && r.evaluatedTraces == 10 && r.inspectedTraces == TraceQLTests.count)
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
            (#"{ event:timeSinceStart < 3 }"#, #"parse error at line 1, col 26: invalid comparison: event:timeSinceStart is a duration, not 3"#),
            (#"{ foo = 1 }"#, "parse error at line 1, col 3: syntax error: unexpected IDENTIFIER foo: attributes need a scope (span.foo, resource.foo, event.foo, link.foo or .foo)"),
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
            #"{ .a = 1 } !> { .b = 2 } !>> { } !< { } !<< { } !~ { event.x = 1 }"#,
            #"{ .a = 1 } &> { link.y = "z" } &>> { } &< { } &<< { } &~ { link:traceID = "ab" && link:spanID != nil }"#,
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
