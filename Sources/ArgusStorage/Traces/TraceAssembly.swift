import ArgusModel

/// The spans of one trace as a tree, ready to draw: depth-first order, children by start time,
/// spans whose parent never arrived marked, clock skew between services corrected for display,
/// and the critical path marked.
public struct TraceTree: Sendable {
    public struct Node: Sendable {
        public var span: Span
        public var depth: Int
        /// Position of the parent in `nodes`; nil for roots and orphans.
        public var parent: Int?
        public var children: [Int] = []
        /// The span names a parent id that is not in the trace (the parent was lost or is late).
        public var parentMissing: Bool
        /// Start and end after clock-skew correction (nanoseconds), for drawing.
        public var displayStart: Int64
        public var displayEnd: Int64
        /// The span contributes to the trace's critical path (the chain of work that set its end).
        public var critical = false
    }

    public private(set) var nodes: [Node] = []
    public private(set) var roots: [Int] = []
    public let startNanos: Int64
    public let endNanos: Int64

    public var durationNanos: Int64 { endNanos - startNanos }
    /// The first root span (parent id 0), else the earliest span.
    public var root: Span? { nodes.first(where: { $0.span.parentSpanID == 0 })?.span ?? nodes.first?.span }
    public var orphans: Int { nodes.filter(\.parentMissing).count }

    public init(spans input: [Span]) {
        // One copy per span id (the last one wins: a late resend replaces the first).
        var byID: [UInt64: Int] = [:]
        var spans: [Span] = []
        for s in input {
            if let i = byID[s.spanID] { spans[i] = s } else {
                byID[s.spanID] = spans.count
                spans.append(s)
            }
        }
        var kids = [[Int]](repeating: [], count: spans.count)
        var tops: [Int] = []
        for (i, s) in spans.enumerated() {
            if s.parentSpanID != 0, let p = byID[s.parentSpanID], p != i {
                kids[p].append(i)
            } else {
                tops.append(i)
            }
        }
        let order: (Int, Int) -> Bool = { (spans[$0].startNanos, spans[$0].spanID) < (spans[$1].startNanos, spans[$1].spanID) }
        tops.sort(by: order)
        for i in kids.indices { kids[i].sort(by: order) }
        // A cycle (a span that is its own ancestor) leaves spans unreachable: show them as tops.
        var reached = [Bool](repeating: false, count: spans.count)
        var out: [Node] = []
        func visit(_ i: Int, depth: Int, parent: Int?, shift: Int64) {
            reached[i] = true
            let s = spans[i]
            var start = s.startNanos &+ shift
            var childShift = shift
            if let p = parent {
                let ps = out[p]
                // Clock skew: a child from another service that does not fit inside its parent
                // is moved (with its subtree) to sit centred in the parent, when it can fit.
                if ps.span.service != s.service && s.durationNanos <= ps.displayEnd - ps.displayStart
                    && (start < ps.displayStart || start + s.durationNanos > ps.displayEnd) {
                    let target = ps.displayStart + (ps.displayEnd - ps.displayStart - s.durationNanos) / 2
                    childShift += target - start
                    start = target
                }
            }
            let me = out.count
            out.append(Node(span: s, depth: depth, parent: parent,
                            parentMissing: parent == nil && s.parentSpanID != 0,
                            displayStart: start, displayEnd: start + s.durationNanos))
            if let p = parent { out[p].children.append(me) }
            for k in kids[i] where !reached[k] { visit(k, depth: depth + 1, parent: me, shift: childShift) }
        }
        for t in tops { visit(t, depth: 0, parent: nil, shift: 0) }
        for i in spans.indices where !reached[i] { visit(i, depth: 0, parent: nil, shift: 0) }
        nodes = out
        roots = out.indices.filter { out[$0].parent == nil }
        startNanos = out.map(\.displayStart).min() ?? 0
        endNanos = out.map(\.displayEnd).max() ?? 0
        for r in roots where out[r].span.parentSpanID == 0 || roots.count == 1 { markCritical(r, until: Int64.max) }
    }

    /// Walks back from the node's end: the child that finished last (before the cursor) is on
    /// the critical path, then the one that finished before that child started, and so on.
    mutating func markCritical(_ n: Int, until limit: Int64) {
        nodes[n].critical = true
        var cursor = min(nodes[n].displayEnd, limit)
        let kids = nodes[n].children.sorted { nodes[$0].displayEnd > nodes[$1].displayEnd }
        var picked = false
        for k in kids {
            if cursor <= nodes[n].displayStart { break }
            // The last-finishing child always counts; after it, only children that finished
            // before the cursor (work that ran in parallel with a critical child does not).
            if nodes[k].displayStart >= cursor || (picked && nodes[k].displayEnd > cursor) { continue }
            markCritical(k, until: cursor)
            cursor = nodes[k].displayStart
            picked = true
        }
    }
}
