import ArgusColumnar
import ArgusModel
import ArgusStorage
import Foundation

/// A matched span and the attributes shown with it (those the query read).
public struct TraceQLMatchedSpan: Sendable {
    public var span: Span
    public var attributes: [SpanAttribute]
}

/// A set of matched spans of one trace (one per `by()` group).
public struct TraceQLSpanSet: Sendable {
    public var spans: [TraceQLMatchedSpan]
    public var matched: Int
    /// `by(...)` values and aggregate results, as Tempo labels them.
    public var attributes: [SpanAttribute]
}

/// One trace a search found.
public struct TraceQLTraceResult: Sendable {
    public var traceID: TraceID
    public var rootServiceName: String
    public var rootTraceName: String
    public var startNanos: Int64
    public var durationNanos: Int64
    public var spanSets: [TraceQLSpanSet]
    /// Spans and error spans per service.
    public var serviceStats: [String: (spans: Int, errors: Int)]
}

public struct TraceQLSearchResult: Sendable {
    public var traces: [TraceQLTraceResult]
    /// Trace fragments (and their spans) in the time range the search looked at, those the
    /// prefilters rejected included.
    public var inspectedTraces = 0
    public var inspectedSpans = 0
    /// Of those, the fragments whose spans were built and evaluated in full.
    public var evaluatedTraces = 0
    public var evaluatedSpans = 0
    public var inspectedBytes = 0
    public var totalBlocks = 0
}

/// Evaluates TraceQL over a span store.
public struct TraceQLEngine: Sendable {
    public init() {}

    /// Finds up to `limit` traces with a span overlapping [startNanos, endNanos] that match,
    /// newest first; each spanset lists at most `spansPerSpanSet` spans.
    public func search(_ query: TraceQLQuery, store: SpanStore, startNanos: Int64, endNanos: Int64,
                       limit: Int = 20, spansPerSpanSet: Int = 3) throws -> TraceQLSearchResult {
        var found: [TraceID: [TraceQLSpanSet]] = [:]
        var order: [TraceID] = []
        var result = TraceQLSearchResult(traces: [])
        let evaluator = TraceQLEvaluator(query: query)
        result.totalBlocks = store.blockMetas.count
        let prune = evaluator.traceLevelPrune()
        let columnFilter = TraceQLColumnFilter(evaluator: evaluator)
        /// Traces and spans the prefilters rejected.
        final class Rejected { var traces = 0, spans = 0 }
        let rejected = Rejected()
        let granuleFilter: ((inout SpanGranule, inout [Int]) throws -> Void)? = columnFilter.map { f in
            { granule, traces in
                let r = granule.reader
                let before = traces.count, spansBefore = traces.reduce(0) { $0 + Int(r.traceSpans[$1]) }
                try f.filter(&granule, &traces)
                rejected.traces += before - traces.count
                rejected.spans += spansBefore - traces.reduce(0) { $0 + Int(r.traceSpans[$1]) }
            }
        }
        let headFilter: (([Span], [Int32]) -> Bool)? = columnFilter.map { f in
            { spans, rows in
                if f.mayMatch(spans: spans, rows: rows) { return true }
                rejected.traces += 1
                rejected.spans += rows.count
                return false
            }
        }
        let inspectedBytes = try store.scan(startNanos: startNanos, endNanos: endNanos, prune: prune, granuleFilter: granuleFilter,
                                            headFilter: headFilter) { frag in
            result.evaluatedTraces += 1
            result.evaluatedSpans += frag.spans.count
            let sets = evaluator.evaluate(frag.spans)
            if sets.isEmpty { return true }
            if found[frag.traceID] == nil {
                if order.count >= limit { return false }
                order.append(frag.traceID)
                found[frag.traceID] = sets
            } else {
                found[frag.traceID]! += sets
            }
            return true
        }
        result.inspectedBytes = inspectedBytes
        result.inspectedTraces = result.evaluatedTraces + rejected.traces
        result.inspectedSpans = result.evaluatedSpans + rejected.spans
        for id in order {
            let spans = try store.trace(id)
            var stats: [String: (spans: Int, errors: Int)] = [:]
            for s in spans {
                var e = stats[s.service] ?? (0, 0)
                e.spans += 1
                if s.status == .error { e.errors += 1 }
                stats[s.service] = e
            }
            let root = spans.first(where: { $0.parentSpanID == 0 })
            let start = spans.map(\.startNanos).min() ?? 0
            let end = spans.map(\.endNanos).max() ?? 0
            var sets = found[id]!
            for i in sets.indices {
                sets[i].spans.sort { $0.span.startNanos < $1.span.startNanos }
                if sets[i].spans.count > spansPerSpanSet { sets[i].spans.removeLast(sets[i].spans.count - spansPerSpanSet) }
            }
            result.traces.append(TraceQLTraceResult(
                traceID: id, rootServiceName: root?.service ?? "<root span not yet received>",
                rootTraceName: root?.name ?? "", startNanos: start, durationNanos: end - start,
                spanSets: sets, serviceStats: stats))
        }
        result.traces.sort { $0.startNanos > $1.startNanos }
        return result
    }
}

/// Evaluates a query against the spans of one trace.
public struct TraceQLEvaluator: @unchecked Sendable {
    let query: TraceQLQuery
    let shown: [TraceQLAttribute]
    let regexes: RegexCache
    /// The query relates spans to their parents (structural operators): index spans by id.
    let structural: Bool

    public init(query: TraceQLQuery) {
        self.query = query
        func hasStructural(_ e: TraceQLSpansetExpr) -> Bool {
            guard case .binary(let op, let l, let r) = e else { return false }
            return (op != .and && op != .or) || hasStructural(l) || hasStructural(r)
        }
        structural = hasStructural(query.spanset) || query.stages.contains { if case .filter(let e) = $0 { return hasStructural(e) } else { return false } }
        var seen = Set<TraceQLAttribute>()
        shown = query.attributes.filter { a in
            if a.scope == .intrinsic, a.intrinsic == .duration || a.intrinsic == .name { return false }
            return seen.insert(a).inserted
        }
        regexes = RegexCache()
    }

    /// A test on a block's trace-level columns that rejects traces the query cannot match,
    /// before their spans are decoded: the `&&` terms of a lone `{ }` filter that compare
    /// `trace:rootService`, `trace:rootName` or `trace:duration` with a value. Nil when there
    /// are none.
    public func traceLevelPrune() -> ((SpanStore.TraceSummary) -> Bool)? {
        guard case .filter(let e?) = query.spanset else { return nil }
        var terms: [(TraceQLIntrinsic, TraceQLCompareOp, TraceQLOperand)] = []
        func collect(_ e: TraceQLFieldExpr) {
            switch e {
            case .and(let l, let r):
                collect(l)
                collect(r)
            case .compare(.attribute(let a), let op, let r):
                if case .literal(let v) = r, v != .nil, let i = a.intrinsic, [.rootService, .rootName, .traceDuration].contains(i) {
                    terms.append((i, op, r))
                }
            default:
                break
            }
        }
        collect(e)
        if terms.isEmpty { return nil }
        return { s in
            for (i, op, r) in terms {
                let v: Value?
                switch i {
                case .rootService: v = s.rootService.map { .string($0) }
                case .rootName: v = s.rootName.map { .string($0) }
                default: v = .duration(s.durationNanos)
                }
                guard let v, let rv = operand(r, 0, nil), compare(v, op, rv) else { return false }
            }
            return true
        }
    }

    /// Per-trace context: spans, id → position, trace-level values.
    struct Context {
        let spans: [Span]
        let index: [UInt64: Int]
        let rootService: String?
        let rootName: String?
        let traceDuration: Int64

        init(_ spans: [Span], structural: Bool) {
            self.spans = spans
            var idx: [UInt64: Int] = [:]
            if structural {
                idx.reserveCapacity(spans.count)
                for (i, s) in spans.enumerated() { idx[s.spanID] = i }
            }
            index = idx
            var root: Span?
            var st = Int64.max, en = Int64.min
            for s in spans {
                if root == nil && s.parentSpanID == 0 { root = s }
                st = min(st, s.startNanos)
                en = max(en, s.endNanos)
            }
            rootService = root?.service
            rootName = root?.name
            traceDuration = spans.isEmpty ? 0 : en - st
        }

        func parent(_ i: Int) -> Int? {
            let p = spans[i].parentSpanID
            return p == 0 ? nil : index[p]
        }
    }

    /// The matching spansets of the trace (empty when the trace does not match).
    public func evaluate(_ spans: [Span]) -> [TraceQLSpanSet] {
        let ctx = Context(spans, structural: structural)
        let matched = evalSpanset(query.spanset, ctx)
        if matched.isEmpty { return [] }
        var sets: [(rows: [Int], attrs: [SpanAttribute])] = [(matched, [])]
        var selected: [TraceQLAttribute] = []
        for stage in query.stages {
            switch stage {
            case .filter(let e):
                let keep = Set(evalSpanset(e, ctx))
                sets = sets.compactMap { s in
                    let r = s.rows.filter { keep.contains($0) }
                    return r.isEmpty ? nil : (r, s.attrs)
                }
            case .by(let attrs):
                var out: [(rows: [Int], attrs: [SpanAttribute])] = []
                for s in sets {
                    var groups: [[String]: [Int]] = [:]
                    var keys: [[String]] = []
                    var vals: [[String]: [SpanAttribute]] = [:]
                    for r in s.rows {
                        var key: [String] = []
                        var kv: [SpanAttribute] = []
                        for a in attrs {
                            let v = value(a, r, ctx)
                            key.append(v?.displayText ?? "nil")
                            if let v { kv.append(SpanAttribute("by(\(a))", v.spanValue)) }
                        }
                        if groups[key] == nil {
                            keys.append(key)
                            vals[key] = kv
                        }
                        groups[key, default: []].append(r)
                    }
                    for k in keys { out.append((groups[k]!, s.attrs + vals[k]!)) }
                }
                sets = out
            case .select(let attrs):
                selected += attrs
            case .aggregate(let f, let arg, let op, let v):
                sets = sets.compactMap { s in
                    let agg: Double?
                    switch f {
                    case .count: agg = Double(s.rows.count)
                    default:
                        let xs = s.rows.compactMap { r -> Double? in value(arg!, r, ctx)?.number }
                        if xs.isEmpty { agg = nil } else {
                            switch f {
                            case .avg: agg = xs.reduce(0, +) / Double(xs.count)
                            case .min: agg = xs.min()
                            case .max: agg = xs.max()
                            case .sum: agg = xs.reduce(0, +)
                            case .count: agg = nil
                            }
                        }
                    }
                    guard let agg, let want = v.number, TraceQLEvaluator.compare(agg, op, want) else { return nil }
                    let key = f == .count ? "count()" : "\(f.rawValue)(\(arg!))"
                    let shownValue: SpanValue = f == .count ? .int(Int64(agg)) : .double(agg)
                    return (s.rows, s.attrs + [SpanAttribute(key, shownValue)])
                }
            }
            if sets.isEmpty { return [] }
        }
        let show = shown + selected
        return sets.map { s in
            TraceQLSpanSet(spans: s.rows.map { r in
                var attrs: [SpanAttribute] = []
                var keys = Set<String>()
                for a in show {
                    guard let v = value(a, r, ctx), keys.insert(a.outputKey).inserted else { continue }
                    attrs.append(SpanAttribute(a.outputKey, v.spanValue))
                }
                return TraceQLMatchedSpan(span: ctx.spans[r], attributes: attrs)
            }, matched: s.rows.count, attributes: s.attrs)
        }
    }

    func evalSpanset(_ e: TraceQLSpansetExpr, _ ctx: Context) -> [Int] {
        switch e {
        case .filter(nil):
            return Array(ctx.spans.indices)
        case .filter(let f?):
            var out: [Int] = []
            for i in ctx.spans.indices where test(f, i, ctx) { out.append(i) }
            return out
        case .binary(let op, let l, let r):
            let a = evalSpanset(l, ctx)
            // As in Tempo, every operator but `||` needs spans on both sides, the negated
            // structural ones included.
            if a.isEmpty && op != .or { return [] }
            let b = evalSpanset(r, ctx)
            switch op {
            case .and: return b.isEmpty ? [] : union(a, b)
            case .or: return union(a, b)
            default:
                if b.isEmpty { return [] }
                return structural(op, a, b, ctx)
            }
        }
    }

    /// The five relations between a right-hand span `x` and left-hand spans, plain, negated and
    /// unioned (see `TraceQLSpansetOp`). Index sets, no per-span allocation beyond them.
    func structural(_ op: TraceQLSpansetOp, _ a: [Int], _ b: [Int], _ ctx: Context) -> [Int] {
        enum Relation { case child, descendant, parent, ancestor, sibling }
        let rel: Relation, mode: Int  // 0 plain, 1 negated, 2 union
        switch op {
        case .child: (rel, mode) = (.child, 0)
        case .descendant: (rel, mode) = (.descendant, 0)
        case .parent: (rel, mode) = (.parent, 0)
        case .ancestor: (rel, mode) = (.ancestor, 0)
        case .sibling: (rel, mode) = (.sibling, 0)
        case .notChild: (rel, mode) = (.child, 1)
        case .notDescendant: (rel, mode) = (.descendant, 1)
        case .notParent: (rel, mode) = (.parent, 1)
        case .notAncestor: (rel, mode) = (.ancestor, 1)
        case .notSibling: (rel, mode) = (.sibling, 1)
        case .unionChild: (rel, mode) = (.child, 2)
        case .unionDescendant: (rel, mode) = (.descendant, 2)
        case .unionParent: (rel, mode) = (.parent, 2)
        case .unionAncestor: (rel, mode) = (.ancestor, 2)
        case .unionSibling: (rel, mode) = (.sibling, 2)
        case .and, .or: return []
        }
        /// Every proper ancestor of the spans `xs`.
        func ancestors(_ xs: [Int]) -> Set<Int> {
            var out = Set<Int>()
            for i in xs {
                var p = ctx.parent(i)
                var steps = 0
                while let x = p, steps < ctx.spans.count, out.insert(x).inserted {
                    p = ctx.parent(x)
                    steps += 1
                }
            }
            return out
        }
        func hasAncestor(_ i: Int, in set: Set<Int>) -> Bool {
            var p = ctx.parent(i)
            var steps = 0
            while let x = p, steps < ctx.spans.count {
                if set.contains(x) { return true }
                p = ctx.parent(x)
                steps += 1
            }
            return false
        }
        func parentCounts(_ xs: [Int]) -> [Int: Int] {
            var c: [Int: Int] = [:]
            for i in xs { if let p = ctx.parent(i) { c[p, default: 0] += 1 } }
            return c
        }
        /// `x` (right) is related to some span of `ys` (left), given `ys` prepared per relation.
        func related(_ x: Int, _ rel: Relation, _ ys: [Int], _ set: Set<Int>, _ derived: Set<Int>, _ counts: [Int: Int]) -> Bool {
            switch rel {
            case .child: return ctx.parent(x).map(set.contains) ?? false
            case .descendant: return hasAncestor(x, in: set)
            case .parent: return derived.contains(x)
            case .ancestor: return derived.contains(x)
            case .sibling:
                guard let p = ctx.parent(x), let n = counts[p] else { return false }
                return n - (set.contains(x) ? 1 : 0) > 0
            }
        }
        func prepare(_ ys: [Int], _ rel: Relation) -> (Set<Int>, Set<Int>, [Int: Int]) {
            let set = Set(ys)
            switch rel {
            case .parent: return (set, Set(ys.compactMap { ctx.parent($0) }), [:])
            case .ancestor: return (set, ancestors(ys), [:])
            case .sibling: return (set, [], parentCounts(ys))
            default: return (set, [], [:])
            }
        }
        let (setA, derivedA, countsA) = prepare(a, rel)
        var out = b.filter { related($0, rel, a, setA, derivedA, countsA) != (mode == 1) }
        if mode == 2 {
            // The left-hand spans at the other end: the converse relation against the right side.
            let converse: Relation
            switch rel {
            case .child: converse = .parent
            case .parent: converse = .child
            case .descendant: converse = .ancestor
            case .ancestor: converse = .descendant
            case .sibling: converse = .sibling
            }
            let (setB, derivedB, countsB) = prepare(b, converse)
            let left = a.filter { related($0, converse, b, setB, derivedB, countsB) }
            out = union(out, left)
        }
        return out
    }

    func union(_ a: [Int], _ b: [Int]) -> [Int] {
        var s = Set(a)
        var out = a
        for x in b where s.insert(x).inserted { out.append(x) }
        return out.sorted()
    }

    /// A value an operand takes for one span.
    enum Value {
        case string(String)
        case number(Double)
        case duration(Int64)
        case bool(Bool)
        case status(SpanStatus)
        case kind(SpanKind)

        var number: Double? {
            switch self {
            case .number(let d): return d
            case .duration(let d): return Double(d)
            default: return nil
            }
        }

        var displayText: String {
            switch self {
            case .string(let s): return s
            case .number(let d): return SpanValue.double(d).text
            case .duration(let d): return TraceQLStatic.formatDuration(d)
            case .bool(let b): return b ? "true" : "false"
            case .status(let s): return s.traceQLName
            case .kind(let k): return k.traceQLName
            }
        }

        var spanValue: SpanValue {
            switch self {
            case .string(let s): return .string(s)
            case .number(let d): return d == d.rounded() && abs(d) < 9e15 ? .int(Int64(d)) : .double(d)
            case .duration(let d): return .int(d)
            case .bool(let b): return .bool(b)
            case .status(let s): return .string(s.traceQLName)
            case .kind(let k): return .string(k.traceQLName)
            }
        }
    }

    @inline(__always) static func fromSpanValue(_ v: SpanValue) -> Value {
        switch v {
        case .string(let s): return .string(s)
        case .int(let i): return .number(Double(i))
        case .double(let d): return .number(d)
        case .bool(let b): return .bool(b)
        case .raw(let r): return .string(String(decoding: r, as: UTF8.self))
        }
    }

    /// The attribute's value depends on the whole trace (`trace:duration`, `trace:rootService`,
    /// `trace:rootName`), not on the span alone.
    static func isTraceLevel(_ a: TraceQLAttribute) -> Bool {
        a.scope == .intrinsic && (a.intrinsic == .traceDuration || a.intrinsic == .rootService || a.intrinsic == .rootName)
    }

    func value(_ a: TraceQLAttribute, _ i: Int, _ ctx: Context) -> Value? {
        if TraceQLEvaluator.isTraceLevel(a) {
            switch a.intrinsic! {
            case .traceDuration: return .duration(ctx.traceDuration)
            case .rootService: return ctx.rootService.map { .string($0) }
            default: return ctx.rootName.map { .string($0) }
            }
        }
        return spanValue(a, ctx.spans[i])
    }

    /// The value of an attribute that is not trace-level (see `isTraceLevel`) for span `s`.
    func spanValue(_ a: TraceQLAttribute, _ s: Span) -> Value? {
        switch a.scope {
        case .span:
            return s.attributes.value(a.name).map(TraceQLEvaluator.fromSpanValue)
        case .resource:
            if let v = s.origin.resource.value(a.name) { return TraceQLEvaluator.fromSpanValue(v) }
            return a.name == "service.name" ? .string(s.service) : nil
        case .unscoped:
            if let v = s.attributes.value(a.name) { return TraceQLEvaluator.fromSpanValue(v) }
            if let v = s.origin.resource.value(a.name) { return TraceQLEvaluator.fromSpanValue(v) }
            return a.name == "service.name" ? .string(s.service) : nil
        case .event:
            for e in s.events { if let v = e.attributes.value(a.name) { return TraceQLEvaluator.fromSpanValue(v) } }
            return nil
        case .link:
            for l in s.links { if let v = l.attributes.value(a.name) { return TraceQLEvaluator.fromSpanValue(v) } }
            return nil
        case .intrinsic:
            switch a.intrinsic! {
            case .name: return .string(s.name)
            case .status: return .status(s.status)
            case .statusMessage: return .string(s.statusMessage)
            case .kind: return .kind(s.kind)
            case .duration: return .duration(s.durationNanos)
            case .spanID: return .string(hex64(s.spanID))
            case .parentID: return s.parentSpanID == 0 ? nil : .string(hex64(s.parentSpanID))
            case .traceDuration, .rootService, .rootName: return nil
            case .traceID: return .string(s.traceID.hex)
            case .eventName: return s.events.first.map { .string($0.name) }
            case .eventTimeSinceStart: return s.events.first.map { .duration($0.timeNanos &- s.startNanos) }
            case .linkTraceID: return s.links.first.map { .string($0.traceID.hex) }
            case .linkSpanID: return s.links.first.map { .string(hex64($0.spanID)) }
            }
        }
    }

    func test(_ e: TraceQLFieldExpr, _ i: Int, _ ctx: Context) -> Bool {
        switch e {
        case .and(let l, let r): return test(l, i, ctx) && test(r, i, ctx)
        case .or(let l, let r): return test(l, i, ctx) || test(r, i, ctx)
        case .not(let x): return !test(x, i, ctx)
        case .operand(let o):
            switch o {
            case .literal(.bool(let b)): return b
            case .attribute(let a):
                if case .bool(let b)? = value(a, i, ctx) { return b }
                return false
            default: return false
            }
        case .compare(let l, let op, let r):
            return testCompare(l, op, r, ctx.spans[i]) { operand($0, i, ctx) }
        }
    }

    /// `l op r` for span `s`, operands valued by `operandValue`.
    @inline(__always) func testCompare(_ l: TraceQLOperand, _ op: TraceQLCompareOp, _ r: TraceQLOperand, _ s: Span,
                                       _ operandValue: (TraceQLOperand) -> Value?) -> Bool {
        // An event or link attribute matches when it matches for one event / link of the
        // span; `= nil` when no event / link has it.
        if case .attribute(let a) = l, a.perEventOrLink {
            if case .literal(.nil) = r {
                let present = anyValue(a, s) { _ in true }
                return op == .eq ? !present : op == .ne ? present : false
            }
            guard let rv = operandValue(r) else { return false }
            return anyValue(a, s) { compare($0, op, rv) }
        }
        let lv = operandValue(l)
        if case .literal(.nil) = r {
            switch op {
            case .eq: return lv == nil
            case .ne: return lv != nil
            default: return false
            }
        }
        guard let lv, let rv = operandValue(r) else { return false }
        return compare(lv, op, rv)
    }

    /// `e` for span `s` alone, in three-valued logic (`TraceQLColumnFilter.Tri`): terms that
    /// need the trace (trace-level intrinsics) are maybe.
    func testSpan(_ e: TraceQLFieldExpr, _ s: Span) -> UInt8 {
        switch e {
        case .and(let l, let r):
            let x = testSpan(l, s)
            if x == 0 { return 0 }
            let y = testSpan(r, s)
            if y == 0 { return 0 }
            return x == 1 && y == 1 ? 1 : 2
        case .or(let l, let r):
            let x = testSpan(l, s)
            if x == 1 { return 1 }
            let y = testSpan(r, s)
            if y == 1 { return 1 }
            return x == 0 && y == 0 ? 0 : 2
        case .not(let x):
            let v = testSpan(x, s)
            return v == 2 ? 2 : 1 - v
        case .operand(let o):
            switch o {
            case .literal(.bool(let b)): return b ? 1 : 0
            case .attribute(let a):
                if TraceQLEvaluator.isTraceLevel(a) { return 2 }
                if case .bool(let b)? = spanValue(a, s) { return b ? 1 : 0 }
                return 0
            default: return 0
            }
        case .compare(let l, let op, let r):
            if case .attribute(let a) = l, TraceQLEvaluator.isTraceLevel(a) { return 2 }
            if case .attribute(let a) = r, TraceQLEvaluator.isTraceLevel(a) { return 2 }
            return testCompare(l, op, r, s) { o in
                if case .attribute(let a) = o { return spanValue(a, s) }
                return operand(o, 0, nil)
            } ? 1 : 0
        }
    }

    /// Whether `pred` holds for the value of `a` (an event or link attribute or intrinsic) of
    /// one of the span's events or links.
    func anyValue(_ a: TraceQLAttribute, _ s: Span, _ pred: (Value) -> Bool) -> Bool {
        switch a.scope {
        case .event:
            for e in s.events { if let v = e.attributes.value(a.name), pred(TraceQLEvaluator.fromSpanValue(v)) { return true } }
        case .link:
            for l in s.links { if let v = l.attributes.value(a.name), pred(TraceQLEvaluator.fromSpanValue(v)) { return true } }
        default:
            switch a.intrinsic {
            case .eventName?: for e in s.events where pred(.string(e.name)) { return true }
            case .eventTimeSinceStart?: for e in s.events where pred(.duration(e.timeNanos &- s.startNanos)) { return true }
            case .linkTraceID?: for l in s.links where pred(.string(l.traceID.hex)) { return true }
            case .linkSpanID?: for l in s.links where pred(.string(hex64(l.spanID))) { return true }
            default: break
            }
        }
        return false
    }

    @inline(__always) func operand(_ o: TraceQLOperand, _ i: Int, _ ctx: Context?) -> Value? {
        switch o {
        case .attribute(let a): return ctx.flatMap { value(a, i, $0) }
        case .literal(let s):
            switch s {
            case .string(let x): return .string(x)
            case .int(let x): return .number(Double(x))
            case .float(let x): return .number(x)
            case .duration(let d): return .duration(d)
            case .bool(let b): return .bool(b)
            case .nil: return nil
            case .status(let x): return .status(x)
            case .kind(let k): return .kind(k)
            }
        }
    }

    func compare(_ l: Value, _ op: TraceQLCompareOp, _ r: Value) -> Bool {
        switch (l, r) {
        case (.string(let a), .string(let b)):
            switch op {
            case .eq: return a == b
            case .ne: return a != b
            case .gt: return a > b
            case .ge: return a >= b
            case .lt: return a < b
            case .le: return a <= b
            case .re: return regexes.matches(b, a)
            case .nre: return !regexes.matches(b, a)
            }
        case (.bool(let a), .bool(let b)):
            switch op {
            case .eq: return a == b
            case .ne: return a != b
            default: return false
            }
        case (.status(let a), .status(let b)):
            return op == .eq ? a == b : op == .ne ? a != b : false
        case (.status(let a), .string(let b)):
            return op == .eq ? a.traceQLName == b : op == .ne ? a.traceQLName != b : false
        case (.kind(let a), .kind(let b)):
            return op == .eq ? a == b : op == .ne ? a != b : false
        case (.kind(let a), .string(let b)):
            return op == .eq ? a.traceQLName == b : op == .ne ? a.traceQLName != b : false
        default:
            guard let a = l.number, let b = r.number else { return false }
            return TraceQLEvaluator.compare(a, op, b)
        }
    }

    static func compare(_ a: Double, _ op: TraceQLCompareOp, _ b: Double) -> Bool {
        switch op {
        case .eq: return a == b
        case .ne: return a != b
        case .gt: return a > b
        case .ge: return a >= b
        case .lt: return a < b
        case .le: return a <= b
        case .re, .nre: return false
        }
    }
}

/// Compiled, fully anchored regular expressions and their answers per string, shared by one
/// query's evaluation.
final class RegexCache: @unchecked Sendable {
    private var compiled: [String: NSRegularExpression?] = [:]
    private var answers: [String: [String: Bool]] = [:]
    private let lock = NSLock()

    func matches(_ pattern: String, _ s: String) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if let a = answers[pattern]?[s] { return a }
        let re: NSRegularExpression?
        if let c = compiled[pattern] { re = c } else {
            re = try? NSRegularExpression(pattern: "\\A(?s:" + pattern + ")\\z")
            compiled[pattern] = re
        }
        guard let re else { return false }
        let ns = s as NSString
        let ok = re.firstMatch(in: s, range: NSRange(location: 0, length: ns.length)) != nil
        if (answers[pattern]?.count ?? 0) < 100_000 { answers[pattern, default: [:]][s] = ok }
        return ok
    }
}
