/// The rows of a trace waterfall: spans in tree order (children after their parent, by start
/// time), with depth, and with the descendants of folded spans left out.
public enum TraceTree {
    public struct Row: Equatable, Sendable {
        public var span: TraceSpan
        public var depth: Int
        public var childCount: Int
        public var folded: Bool
    }

    public static func rows(_ spans: [TraceSpan], folded: Set<String>) -> [Row] {
        let ids = Set(spans.map(\.spanID))
        var children: [String: [TraceSpan]] = [:]
        var roots: [TraceSpan] = []
        for s in spans {
            if s.parentID.isEmpty || !ids.contains(s.parentID) || s.parentID == s.spanID { roots.append(s) } else { children[s.parentID, default: []].append(s) }
        }
        var out: [Row] = []
        var seen = Set<String>()
        func walk(_ s: TraceSpan, _ depth: Int) {
            guard seen.insert(s.spanID).inserted else { return }  // a cycle in bad data
            let kids = (children[s.spanID] ?? []).sorted { $0.startNanos < $1.startNanos }
            let isFolded = folded.contains(s.spanID)
            out.append(Row(span: s, depth: depth, childCount: kids.count, folded: isFolded))
            if !isFolded { for k in kids { walk(k, depth + 1) } }
        }
        for r in roots.sorted(by: { $0.startNanos < $1.startNanos }) { walk(r, 0) }
        return out
    }
}
