import ArgusModel

/// The evaluation times of one (sub)expression: `start`, `start + step`, ... up to `end`.
///
/// An instant query is a grid of one point. A subquery evaluates its inner expression on its own
/// grid, aligned to multiples of its step.
struct PromQLGrid: Equatable {
    let start: Int64
    let end: Int64
    let step: Int64
    /// Number of points; 0 when `end < start`.
    let count: Int

    init(start: Int64, end: Int64, step: Int64) {
        self.start = start
        self.end = end
        self.step = step
        if end < start {
            count = 0
        } else {
            // Absurd spans count as "too many points" (the evaluator refuses them) instead of trapping.
            let (span, overflow) = end.subtractingReportingOverflow(start)
            count = overflow || span / step >= Int64.max - 1 ? Int.max : Int(span / step) + 1
        }
    }

    @inline(__always) func time(_ i: Int) -> Int64 { start &+ Int64(i) &* step }
}

/// Marks a missing point in a `GridVector`: a signalling NaN with a payload no arithmetic
/// produces (operations quiet NaNs) and that storage values are normalised away from.
enum Absent {
    static let bits: UInt64 = 0x7FF4_0000_0000_0A0B
    static let value = Double(bitPattern: bits)

    @inline(__always) static func check(_ v: Double) -> Bool { v.bitPattern == bits }

    /// A value read from storage or computed, never confused with the marker.
    @inline(__always) static func normalize(_ v: Double) -> Double { v.bitPattern == bits ? .nan : v }
}

/// An instant vector evaluated at every point of a grid: one row per series, dense over the
/// grid's points (row-major, `Absent.value` where the series has no value).
struct GridVector {
    let steps: Int
    var labels: [Labels] = []
    var values: [Double] = []

    init(steps: Int) { self.steps = steps }

    var rowCount: Int { labels.count }

    @discardableResult
    mutating func addRow(_ l: Labels) -> Int {
        labels.append(l)
        values.append(contentsOf: repeatElement(Absent.value, count: steps))
        return labels.count - 1
    }

    /// Adds a row with the given values (`steps` of them).
    mutating func addRow(_ l: Labels, _ row: UnsafeBufferPointer<Double>) {
        labels.append(l)
        values.append(contentsOf: row)
    }

    @inline(__always) subscript(row: Int, step: Int) -> Double {
        get { values[row &* steps &+ step] }
        set { values[row &* steps &+ step] = newValue }
    }

    /// Number of present points.
    var pointCount: Int {
        var n = 0
        values.withUnsafeBufferPointer { buffer in
            for v in buffer where !Absent.check(v) { n &+= 1 }
        }
        return n
    }

    /// Whether a row has at least one present point.
    func rowHasPoints(_ row: Int) -> Bool {
        let base = row * steps
        for j in 0..<steps where !Absent.check(values[base + j]) { return true }
        return false
    }

    /// Drops rows without any present point.
    mutating func compact() {
        var keep: [Int] = []
        for r in 0..<rowCount where rowHasPoints(r) { keep.append(r) }
        if keep.count == rowCount { return }
        var out = GridVector(steps: steps)
        out.labels.reserveCapacity(keep.count)
        out.values.reserveCapacity(keep.count * steps)
        values.withUnsafeBufferPointer { buffer in
            for r in keep {
                out.addRow(labels[r], UnsafeBufferPointer(rebasing: buffer[(r * steps)..<(r * steps + steps)]))
            }
        }
        self = out
    }
}

/// Builds a `GridVector` whose rows are keyed by labels: writing two values for the same labels
/// at the same step is Prometheus' "vector cannot contain metrics with the same labelset".
struct GridBuilder {
    var out: GridVector
    var index: [Labels: Int] = [:]

    init(steps: Int) { out = GridVector(steps: steps) }

    mutating func row(for l: Labels) -> Int {
        if let r = index[l] { return r }
        let r = out.addRow(l)
        index[l] = r
        return r
    }

    /// `row(for:)` for outputs whose row count is not bounded by their inputs' (a new row past
    /// `maxCells` cells in all is the sample limit's error).
    mutating func row(for l: Labels, maxCells: Int) throws -> Int {
        if let r = index[l] { return r }
        if (out.rowCount + 1) * out.steps > maxCells { throw PromQLEvaluator.tooManySamplesError }
        return row(for: l)
    }

    @inline(__always)
    mutating func set(_ row: Int, _ step: Int, _ v: Double) throws {
        let k = row &* out.steps &+ step
        if !Absent.check(out.values[k]) { throw PromQLEvaluator.sameLabelsetError }
        out.values[k] = v
    }
}

/// Warnings and infos collected while evaluating, deduplicated, in the order first seen.
struct PromQLAnnotations {
    private(set) var warnings: [String] = []
    private(set) var infos: [String] = []
    private var seen: Set<String> = []

    mutating func warn(_ message: String) {
        let text = "PromQL warning: " + message
        if seen.insert(text).inserted { warnings.append(text) }
    }

    mutating func info(_ message: String) {
        let text = "PromQL info: " + message
        if seen.insert(text).inserted { infos.append(text) }
    }
}
