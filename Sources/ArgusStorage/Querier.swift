import ArgusColumnar
import ArgusModel

/// Hints a caller may pass to `select` (the query engine pushes its needs down here).
public struct SelectHints: Sendable {
    /// Only labels are needed, not samples (series and label APIs).
    public var labelsOnly = false
    public init(labelsOnly: Bool = false) { self.labelsOnly = labelsOnly }
}

/// One series and its samples in the querier's range, sorted by time.
public struct SeriesData: Sendable {
    public let ref: SeriesRef
    public let labels: Labels
    public var timestamps: [Int64]
    public var values: [Double]
}

/// Reads series over [mint, maxt] from the head, head data being flushed, and blocks.
public final class Querier: @unchecked Sendable {
    public let mint: Int64
    public let maxt: Int64
    let store: MetricStore
    let blocks: [BlockHandle]
    let frozen: [FrozenHead]

    init(store: MetricStore, mint: Int64, maxt: Int64, blocks: [BlockHandle], frozen: [FrozenHead]) {
        self.store = store
        self.mint = mint
        self.maxt = maxt
        self.blocks = blocks
        self.frozen = frozen
    }

    /// The series matching every matcher that have samples in range, ascending by ref.
    /// Errors (a damaged block) are reported once by the returned set, at the end.
    public func select(_ matchers: [Matcher], hints: SelectHints = SelectHints()) -> SeriesSet {
        let items: [(SeriesRef, Labels, HeadSnapshot?)] = store.lock.withLock {
            let refs = store.postings.select(matchers) {
                store.series.compactMap { $0?.ref }
            }
            return refs.map { ref in
                let s = store.series[Int(ref)]!
                return (ref, s.labels, s.hasData ? s.snapshot() : nil)
            }
        }
        return SeriesSet(querier: self, items: items, labelsOnly: hints.labelsOnly)
    }

    /// Label names of series matching `matchers` (all series when empty), sorted.
    public func labelNames(_ matchers: [Matcher] = []) -> [String] {
        if matchers.isEmpty {
            return store.lock.withLock { store.postings.names }.sorted()
        }
        var names = Set<String>()
        let set = select(matchers)
        while let s = set.next() { for l in s.labels.items { names.insert(l.name) } }
        return names.sorted()
    }

    /// Values of label `name` among series matching `matchers`, sorted.
    public func labelValues(_ name: String, _ matchers: [Matcher] = []) -> [String] {
        if matchers.isEmpty {
            return store.lock.withLock { store.postings.values(name) }.sorted()
        }
        var values = Set<String>()
        let set = select(matchers)
        while let s = set.next() { if let v = s.labels[name] { values.insert(v) } }
        return values.sorted()
    }
}

/// An iterator of series. `error` is set when iteration stopped early because of a failure.
public final class SeriesSet: IteratorProtocol, Sequence {
    let querier: Querier
    let items: [(SeriesRef, Labels, HeadSnapshot?)]
    let labelsOnly: Bool
    var index = 0
    var cursors: [MetricBlockReader.Cursor]
    public private(set) var error: (any Error)?

    init(querier: Querier, items: [(SeriesRef, Labels, HeadSnapshot?)], labelsOnly: Bool) {
        self.querier = querier
        self.items = items
        self.labelsOnly = labelsOnly
        cursors = Array(repeating: MetricBlockReader.Cursor(), count: querier.blocks.count)
    }

    public func next() -> SeriesData? {
        while index < items.count, error == nil {
            let (ref, labels, head) = items[index]
            index += 1
            do {
                if let s = try load(ref, labels, head) { return s }
            } catch {
                self.error = error
                return nil
            }
        }
        return nil
    }

    func load(_ ref: SeriesRef, _ labels: Labels, _ head: HeadSnapshot?) throws -> SeriesData? {
        let mint = querier.mint, maxt = querier.maxt
        var ts: [Int64] = []
        var vs: [Double] = []
        for (bi, b) in querier.blocks.enumerated() {
            let r = b.reader
            // Decode only the chunks that overlap the range (they are in time order).
            var bt: [Int64] = [], bv: [Double] = []
            for i in r.entries(of: ref) where r.maxTs[i] >= mint && r.minTs[i] <= maxt {
                if labelsOnly { return SeriesData(ref: ref, labels: labels, timestamps: [], values: []) }
                try r.decode(series: i, cursor: &cursors[bi], ts: &bt, vs: &bv)
            }
            if bt.isEmpty { continue }
            mergeSamples(&ts, &vs, bt, bv, preferSecond: true)
        }
        for f in querier.frozen {
            guard let snap = f.find(ref) else { continue }
            if labelsOnly { return SeriesData(ref: ref, labels: labels, timestamps: [], values: []) }
            var ft: [Int64] = [], fv: [Double] = []
            snap.decode(into: &ft, &fv)
            mergeSamples(&ts, &vs, ft, fv, preferSecond: true)
        }
        if let head {
            if labelsOnly { return SeriesData(ref: ref, labels: labels, timestamps: [], values: []) }
            var ht: [Int64] = [], hv: [Double] = []
            head.decode(into: &ht, &hv)
            mergeSamples(&ts, &vs, ht, hv, preferSecond: true)
        }
        if labelsOnly || ts.isEmpty { return nil }
        // Trim to [mint, maxt].
        if ts[0] < mint || ts[ts.count - 1] > maxt {
            let lo = lowerBound(ts, mint)
            let hi = lowerBound(ts, maxt &+ 1)
            if lo >= hi { return nil }
            ts = Array(ts[lo..<hi])
            vs = Array(vs[lo..<hi])
        }
        return SeriesData(ref: ref, labels: labels, timestamps: ts, values: vs)
    }
}

/// The first index whose timestamp is ≥ t.
@inline(__always) public func lowerBound(_ ts: [Int64], _ t: Int64) -> Int {
    var lo = 0, hi = ts.count
    while lo < hi {
        let mid = (lo + hi) >> 1
        if ts[mid] < t { lo = mid + 1 } else { hi = mid }
    }
    return lo
}
