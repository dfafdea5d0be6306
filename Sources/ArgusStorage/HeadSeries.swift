import ArgusModel

/// One series in the head: its identity, its in-memory chunk, and what validation needs.
final class HeadSeries {
    let ref: SeriesRef
    let labels: Labels
    var chunk = HeadChunk()
    /// Samples accepted inside the out-of-order window, sorted by time.
    var ooo: [Sample] = []
    /// The newest timestamp of the series anywhere (head or blocks) and its value's bits.
    var lastT = Int64.min
    var lastV: UInt64 = 0
    /// False when `lastT` came from a block at start-up and its value has not been read.
    var lastVKnown = true
    // Per-commit scratch state, so a batch validates against itself without a dictionary.
    var scratchGen: UInt32 = 0
    var scratchT: Int64 = 0
    var scratchV: UInt64 = 0

    init(ref: SeriesRef, labels: Labels) {
        self.ref = ref
        self.labels = labels
    }

    var hasData: Bool { !chunk.isEmpty || !ooo.isEmpty }

    /// Adds a validated sample.
    @inline(__always) func apply(_ t: Int64, _ v: Double) {
        if t > lastT {
            chunk.append(t, v)
            lastT = t
            lastV = v.bitPattern
            lastVKnown = true
        } else if t < lastT {
            insertOOO(Sample(t: t, v: v))
        }
    }

    func insertOOO(_ s: Sample) {
        var lo = 0, hi = ooo.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if ooo[mid].t < s.t { lo = mid + 1 } else { hi = mid }
        }
        if lo < ooo.count && ooo[lo].t == s.t { return }
        ooo.insert(s, at: lo)
    }

    /// The head's samples for this series (chunk and out-of-order samples merged).
    func snapshot() -> HeadSnapshot { HeadSnapshot(chunk: chunk, ooo: ooo) }
}

/// A copy of a series' head data taken under the lock and decoded outside it.
struct HeadSnapshot {
    var chunk: HeadChunk
    var ooo: [Sample]

    var isEmpty: Bool { chunk.isEmpty && ooo.isEmpty }

    func decode(into ts: inout [Int64], _ vs: inout [Double]) {
        var t: [Int64] = []
        var v: [Double] = []
        chunk.decode(into: &t, &v)
        if !ooo.isEmpty {
            mergeSamples(&t, &v, ooo.map { $0.t }, ooo.map { $0.v }, preferSecond: false)
        }
        ts.append(contentsOf: t)
        vs.append(contentsOf: v)
    }
}

/// Merges (bt, bv) into (at, av), both sorted by time; on equal timestamps keeps the second's
/// sample when `preferSecond`, else the first's.
func mergeSamples(_ at: inout [Int64], _ av: inout [Double], _ bt: [Int64], _ bv: [Double], preferSecond: Bool) {
    if bt.isEmpty { return }
    if at.isEmpty {
        at = bt
        av = bv
        return
    }
    if at[at.count - 1] < bt[0] {
        at.append(contentsOf: bt)
        av.append(contentsOf: bv)
        return
    }
    var ot: [Int64] = []
    var ov: [Double] = []
    ot.reserveCapacity(at.count + bt.count)
    ov.reserveCapacity(at.count + bt.count)
    var i = 0, j = 0
    while i < at.count || j < bt.count {
        if j >= bt.count || (i < at.count && at[i] < bt[j]) {
            ot.append(at[i]); ov.append(av[i]); i += 1
        } else if i >= at.count || bt[j] < at[i] {
            ot.append(bt[j]); ov.append(bv[j]); j += 1
        } else {
            ot.append(at[i]); ov.append(preferSecond ? bv[j] : av[i]); i += 1; j += 1
        }
    }
    at = ot
    av = ov
}
