import ArgusModel

/// Collects samples and stores them all or none. Single use: after `commit` or `rollback` it
/// takes nothing more.
///
/// `append(_:_:_:)` returns the series ref; callers cache it and use `append(ref:_:_:)` for
/// later samples of the same series.
public final class Appender {
    let store: MetricStore
    var refs: [SeriesRef] = []
    var ts: [Int64] = []
    var vs: [Double] = []
    var exemplars: [(SeriesRef, Exemplar)] = []
    var finished = false

    init(store: MetricStore) { self.store = store }

    @discardableResult
    public func append(_ labels: Labels, _ t: Int64, _ v: Double) throws -> SeriesRef {
        let ref = try store.seriesRef(for: labels)
        append(ref: ref, t, v)
        return ref
    }

    @inline(__always)
    public func append(ref: SeriesRef, _ t: Int64, _ v: Double) {
        precondition(!finished, "an appender is single use")
        refs.append(ref)
        ts.append(t)
        vs.append(v)
    }

    /// Attaches an exemplar to series `ref`, stored with this commit.
    public func appendExemplar(ref: SeriesRef, _ e: Exemplar) {
        precondition(!finished, "an appender is single use")
        exemplars.append((ref, e))
    }

    public func reserve(_ n: Int) {
        refs.reserveCapacity(n)
        ts.reserveCapacity(n)
        vs.reserveCapacity(n)
    }

    public var count: Int { refs.count }

    /// Stores every sample, durably, or throws and stores none. With `skipInvalid`, samples
    /// that are out of order or conflict with a stored sample are skipped and counted in the
    /// result instead, and the rest is stored.
    @discardableResult
    public func commit(skipInvalid: Bool = false) throws -> CommitResult {
        precondition(!finished, "an appender is single use")
        finished = true
        defer {
            refs = []
            ts = []
            vs = []
            exemplars = []
        }
        return try store.commit(refs: refs, ts: ts, vs: vs, exemplars: exemplars, skipInvalid: skipInvalid)
    }

    public func rollback() {
        finished = true
        refs = []
        ts = []
        vs = []
    }
}
