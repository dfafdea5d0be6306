import ArgusColumnar
import ArgusModel
import ArgusStorage

/// Rejects traces of a span-block granule that cannot match a query, from the columns the
/// query's filters reference and before any `Span` is built. It is conservative: a term it
/// cannot decide from columns (event names, trace-level intrinsics, ids, attribute-to-attribute
/// comparisons) counts as "maybe", in three-valued logic, and a trace is rejected only when the
/// query cannot hold whatever the maybes are. The surviving traces are evaluated exactly by
/// `TraceQLEvaluator`. Per row it reads flat arrays and answers string comparisons once per
/// string id of the block, so a scan allocates per granule, not per span.
final class TraceQLColumnFilter {
    /// Three-valued truth.
    typealias Tri = UInt8
    static let no: Tri = 0, yes: Tri = 1, maybe: Tri = 2

    /// Which filters must have a matching span for the trace to match.
    indirect enum Need {
        case always
        case some(Int)
        case all([Need])
        case either([Need])
    }

    /// A filter term compiled against one block.
    indirect enum Node {
        case and(Node, Node), or(Node, Node), not(Node)
        case constant(Tri)
        /// A string column compared: answers per string id in `stringAnswers[slot]`.
        case nameCmp(Int), messageCmp(Int)
        case status(TraceQLCompareOp, TraceQLEvaluator.Value)
        case kind(TraceQLCompareOp, TraceQLEvaluator.Value)
        case duration(TraceQLCompareOp, TraceQLEvaluator.Value)
        /// A resource attribute: an answer per origin.
        case resource([Tri])
        /// A span attribute compared with a value; `fallback` (per origin) answers when the
        /// span lacks it (unscoped attributes), else the answer is no.
        case spanAttr(key: UInt32?, slot: Int, op: TraceQLCompareOp, value: TraceQLEvaluator.Value, fallback: [Tri]?)
        /// `= nil` (`present` false) / `!= nil` (`present` true) on a span attribute, with the
        /// per-origin presence for unscoped attributes.
        case spanAttrPresence(key: UInt32?, present: Bool, fallback: [Bool]?)
    }

    let evaluator: TraceQLEvaluator
    let filters: [TraceQLFieldExpr]
    let need: Need
    /// `{ filter } | count() op n` (select stages aside): the number of matching spans is
    /// known from the columns when no row is a maybe.
    let count: (filter: Int, op: TraceQLCompareOp, value: Double)?
    let columns: [SpanColumn]

    // Per block.
    private var block: ObjectIdentifier?
    private var nodes: [Node] = []
    private var stringSlots: [(op: TraceQLCompareOp, value: TraceQLEvaluator.Value)] = []
    private var stringAnswers: [[Int8]] = []
    private var strings: [String] = []

    /// Nil when the query gives nothing to reject traces by.
    init?(evaluator: TraceQLEvaluator) {
        self.evaluator = evaluator
        let query = evaluator.query
        var filters: [TraceQLFieldExpr] = []
        func need(_ e: TraceQLSpansetExpr) -> Need {
            switch e {
            case .filter(nil): return .always
            case .filter(let f?):
                filters.append(f)
                return .some(filters.count - 1)
            case .binary(let op, let l, let r):
                // Every operator but `||` needs matching spans on both sides (see the evaluator).
                return op == .or ? .either([need(l), need(r)]) : .all([need(l), need(r)])
            }
        }
        var parts = [need(query.spanset)]
        var count: (Int, TraceQLCompareOp, Double)?
        var rowsChanged = false
        for stage in query.stages {
            switch stage {
            case .filter(let e):
                parts.append(need(e))
                rowsChanged = true
            case .select: break
            case .by: rowsChanged = true
            case .aggregate(let f, _, let op, let v):
                if !rowsChanged, f == .count, case .filter(_?) = query.spanset, let n = v.number { count = (0, op, n) }
                rowsChanged = true
            }
        }
        self.filters = filters
        self.need = .all(parts)
        self.count = count
        var cols = Set<Int>()
        for f in filters { TraceQLColumnFilter.columns(f, into: &cols) }
        columns = cols.sorted().compactMap { SpanColumn(rawValue: $0) }
        if filters.isEmpty { return nil }
    }

    static func columns(_ e: TraceQLFieldExpr, into out: inout Set<Int>) {
        switch e {
        case .and(let l, let r), .or(let l, let r):
            columns(l, into: &out)
            columns(r, into: &out)
        case .not(let x): columns(x, into: &out)
        case .operand: break
        case .compare(let l, _, _):
            guard case .attribute(let a) = l else { return }
            switch a.scope {
            case .span: out.insert(SpanColumn.attributes.rawValue)
            case .resource: out.insert(SpanColumn.origin.rawValue)
            case .unscoped:
                out.insert(SpanColumn.attributes.rawValue)
                out.insert(SpanColumn.origin.rawValue)
            case .intrinsic:
                switch a.intrinsic {
                case .name?: out.insert(SpanColumn.name.rawValue)
                case .statusMessage?: out.insert(SpanColumn.statusMessage.rawValue)
                case .status?, .kind?: out.insert(SpanColumn.kindStatus.rawValue)
                case .duration?: out.insert(SpanColumn.duration.rawValue)
                default: break
                }
            default: break
            }
        }
    }

    /// Removes from `traces` (trace-table positions of `granule`) those that cannot match.
    func filter(_ granule: inout SpanGranule, _ traces: inout [Int]) throws {
        let r = granule.reader
        if block != ObjectIdentifier(r) { compile(r) }
        for c in columns { try granule.load(c) }
        var kept = 0
        for t in traces {
            let r0 = Int(r.traceRow[t]), r1 = r0 + Int(r.traceSpans[t])
            if mayMatch(need, r0..<r1, granule) {
                if let (k, op, n) = count {
                    var yes = 0, maybe = false
                    for row in r0..<r1 {
                        let v = eval(nodes[k], row, granule)
                        if v == TraceQLColumnFilter.yes { yes += 1 } else if v == TraceQLColumnFilter.maybe { maybe = true }
                    }
                    if !maybe && !TraceQLEvaluator.compare(Double(yes), op, n) { continue }
                }
                traces[kept] = t
                kept += 1
            }
        }
        traces.removeLast(traces.count - kept)
    }

    /// Whether the trace made of `spans[rows]` (spans in memory: the head) may match, by the
    /// same rule as for a granule, each span tested alone (`TraceQLEvaluator.testSpan`).
    func mayMatch(spans: [Span], rows: [Int32]) -> Bool {
        func may(_ n: Need) -> Bool {
            switch n {
            case .always: return !rows.isEmpty
            case .some(let k):
                let f = filters[k]
                for r in rows where evaluator.testSpan(f, spans[Int(r)]) != TraceQLColumnFilter.no { return true }
                return false
            case .all(let ns):
                for x in ns where !may(x) { return false }
                return true
            case .either(let ns):
                for x in ns where may(x) { return true }
                return false
            }
        }
        guard may(need) else { return false }
        if let (k, op, n) = count {
            var yes = 0
            for r in rows {
                let v = evaluator.testSpan(filters[k], spans[Int(r)])
                if v == TraceQLColumnFilter.maybe { return true }
                if v == TraceQLColumnFilter.yes { yes += 1 }
            }
            return TraceQLEvaluator.compare(Double(yes), op, n)
        }
        return true
    }

    func mayMatch(_ n: Need, _ rows: Range<Int>, _ g: SpanGranule) -> Bool {
        switch n {
        case .always: return !rows.isEmpty
        case .some(let k):
            let node = nodes[k]
            for row in rows where eval(node, row, g) != TraceQLColumnFilter.no { return true }
            return false
        case .all(let ns):
            for x in ns where !mayMatch(x, rows, g) { return false }
            return true
        case .either(let ns):
            for x in ns where mayMatch(x, rows, g) { return true }
            return false
        }
    }

    func eval(_ n: Node, _ row: Int, _ g: SpanGranule) -> Tri {
        switch n {
        case .and(let a, let b):
            let x = eval(a, row, g)
            if x == TraceQLColumnFilter.no { return x }
            let y = eval(b, row, g)
            if y == TraceQLColumnFilter.no { return y }
            return x == TraceQLColumnFilter.yes && y == TraceQLColumnFilter.yes ? TraceQLColumnFilter.yes : TraceQLColumnFilter.maybe
        case .or(let a, let b):
            let x = eval(a, row, g)
            if x == TraceQLColumnFilter.yes { return x }
            let y = eval(b, row, g)
            if y == TraceQLColumnFilter.yes { return y }
            return x == TraceQLColumnFilter.no && y == TraceQLColumnFilter.no ? TraceQLColumnFilter.no : TraceQLColumnFilter.maybe
        case .not(let a):
            let x = eval(a, row, g)
            return x == TraceQLColumnFilter.maybe ? x : (x == TraceQLColumnFilter.yes ? TraceQLColumnFilter.no : TraceQLColumnFilter.yes)
        case .constant(let t):
            return t
        case .nameCmp(let slot):
            return stringAnswer(slot, g.names[row])
        case .messageCmp(let slot):
            return stringAnswer(slot, g.statusMessages[row])
        case .status(let op, let v):
            let s = SpanStatus(rawValue: g.kindStatus[row] >> 4) ?? .unset
            return tri(evaluator.compare(.status(s), op, v))
        case .kind(let op, let v):
            let k = SpanKind(rawValue: g.kindStatus[row] & 0x0F) ?? .unspecified
            return tri(evaluator.compare(.kind(k), op, v))
        case .duration(let op, let v):
            return tri(evaluator.compare(.duration(g.durations[row]), op, v))
        case .resource(let perOrigin):
            let o = Int(g.origins[row])
            return o < perOrigin.count ? perOrigin[o] : TraceQLColumnFilter.maybe
        case .spanAttr(let key, let slot, let op, let value, let fallback):
            if let key, let v = g.attribute(row: row, key: key) {
                switch v {
                case .string(let id): return stringAnswer(slot, id)
                case .int(let i): return tri(evaluator.compare(.number(Double(i)), op, value))
                case .double(let d): return tri(evaluator.compare(.number(d), op, value))
                case .bool(let b): return tri(evaluator.compare(.bool(b), op, value))
                case .raw: return TraceQLColumnFilter.maybe
                }
            }
            guard let fallback else { return TraceQLColumnFilter.no }
            let o = Int(g.origins[row])
            return o < fallback.count ? fallback[o] : TraceQLColumnFilter.maybe
        case .spanAttrPresence(let key, let present, let fallback):
            var has = key.map { g.attribute(row: row, key: $0) != nil } ?? false
            if !has, let fallback {
                let o = Int(g.origins[row])
                guard o < fallback.count else { return TraceQLColumnFilter.maybe }
                has = fallback[o]
            }
            return tri(has == present)
        }
    }

    @inline(__always) func tri(_ b: Bool) -> Tri { b ? TraceQLColumnFilter.yes : TraceQLColumnFilter.no }

    @inline(__always) func stringAnswer(_ slot: Int, _ id: UInt32) -> Tri {
        let i = Int(id)
        guard i < strings.count else { return TraceQLColumnFilter.maybe }
        let known = stringAnswers[slot][i]
        if known >= 0 { return Tri(known) }
        let s = stringSlots[slot]
        let t = tri(evaluator.compare(.string(strings[i]), s.op, s.value))
        stringAnswers[slot][i] = Int8(t)
        return t
    }

    // MARK: compiling against a block

    func compile(_ r: SpanBlockReader) {
        block = ObjectIdentifier(r)
        strings = r.strings
        stringSlots = []
        stringAnswers = []
        nodes = filters.map { compile($0, r) }
    }

    func newStringSlot(_ op: TraceQLCompareOp, _ v: TraceQLEvaluator.Value) -> Int {
        stringSlots.append((op, v))
        stringAnswers.append([Int8](repeating: -1, count: strings.count))
        return stringSlots.count - 1
    }

    /// The value of resource attribute `name` for each origin of the block, as the evaluator
    /// reads it.
    func resourceValues(_ name: String, _ r: SpanBlockReader) -> [TraceQLEvaluator.Value?] {
        r.origins.map { o in
            if let v = o.resource.value(name) { return TraceQLEvaluator.fromSpanValue(v) }
            return name == "service.name" ? .string(o.service) : nil
        }
    }

    func compile(_ e: TraceQLFieldExpr, _ r: SpanBlockReader) -> Node {
        switch e {
        case .and(let a, let b): return .and(compile(a, r), compile(b, r))
        case .or(let a, let b): return .or(compile(a, r), compile(b, r))
        case .not(let a): return .not(compile(a, r))
        case .operand(.literal(.bool(let b))): return .constant(tri(b))
        case .operand(.literal): return .constant(TraceQLColumnFilter.no)
        case .operand(.attribute): return .constant(TraceQLColumnFilter.maybe)
        case .compare(let l, let op, let rhs):
            guard case .attribute(let a) = l, case .literal(let lit) = rhs else { return .constant(TraceQLColumnFilter.maybe) }
            if lit == .nil {
                guard op == .eq || op == .ne else { return .constant(TraceQLColumnFilter.no) }
                let present = op == .ne
                switch a.scope {
                case .span: return .spanAttrPresence(key: r.stringID(a.name), present: present, fallback: nil)
                case .unscoped: return .spanAttrPresence(key: r.stringID(a.name), present: present, fallback: resourceValues(a.name, r).map { $0 != nil })
                case .resource: return .resource(resourceValues(a.name, r).map { tri(($0 != nil) == present) })
                default: return .constant(TraceQLColumnFilter.maybe)
                }
            }
            guard let v = evaluator.operand(rhs, 0, nil) else { return .constant(TraceQLColumnFilter.no) }
            func perOrigin() -> [Tri] {
                resourceValues(a.name, r).map { x in x.map { tri(evaluator.compare($0, op, v)) } ?? TraceQLColumnFilter.no }
            }
            switch a.scope {
            case .span: return .spanAttr(key: r.stringID(a.name), slot: newStringSlot(op, v), op: op, value: v, fallback: nil)
            case .unscoped: return .spanAttr(key: r.stringID(a.name), slot: newStringSlot(op, v), op: op, value: v, fallback: perOrigin())
            case .resource: return .resource(perOrigin())
            case .intrinsic:
                switch a.intrinsic {
                case .name?: return .nameCmp(newStringSlot(op, v))
                case .statusMessage?: return .messageCmp(newStringSlot(op, v))
                case .status?: return .status(op, v)
                case .kind?: return .kind(op, v)
                case .duration?: return .duration(op, v)
                default: return .constant(TraceQLColumnFilter.maybe)
                }
            default: return .constant(TraceQLColumnFilter.maybe)
            }
        }
    }
}
