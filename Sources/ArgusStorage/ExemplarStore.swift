import ArgusModel

/// The newest exemplars of all series in one fixed-size circular buffer, as in Prometheus: when
/// it is full the oldest exemplar of any series makes room. Each slot links to the next exemplar
/// of the same series, so a series' exemplars are read without scanning the buffer.
///
/// Exemplars are written to the WAL with the samples they came with and replayed at start; they
/// are not part of blocks, so after a head cut only those still in the WAL survive a restart.
public final class ExemplarStore: @unchecked Sendable {
    struct Slot {
        var ref: SeriesRef
        var exemplar: Exemplar
        var next: Int32  // next (newer) exemplar of the same series, -1 when none
    }

    struct Chain {
        var oldest: Int32
        var newest: Int32
    }

    public let capacity: Int
    let lock = Lock()
    var slots: [Slot?]
    var nextSlot = 0
    var chains: [SeriesRef: Chain] = [:]
    public private(set) var stored = 0
    var counters = (appended: 0, outOfOrder: 0, duplicate: 0, invalid: 0)

    public init(capacity: Int) {
        self.capacity = max(0, capacity)
        slots = [Slot?](repeating: nil, count: max(0, capacity))
    }

    public enum Verdict: Sendable {
        case ok, duplicate, outOfOrder, invalid(String)
    }

    /// Whether `e` may be added to series `ref` (Prometheus' rules: labels within 128 characters,
    /// not older than the series' newest exemplar; an exact repeat of it is a duplicate).
    public func check(_ ref: SeriesRef, _ e: Exemplar) -> Verdict {
        var chars = 0
        for l in e.labels.items { chars += l.name.count + l.value.count }
        if chars > Exemplar.maxLabelCharacters {
            return .invalid("exemplar label set is \(chars) UTF-8 characters, over the limit of \(Exemplar.maxLabelCharacters)")
        }
        return lock.withLock {
            guard let c = chains[ref], let newest = slots[Int(c.newest)] else { return .ok }
            if newest.exemplar == e { return .duplicate }
            if e.t < newest.exemplar.t { return .outOfOrder }
            return .ok
        }
    }

    /// Adds exemplars that passed `check` (and the WAL).
    func add(_ items: [(SeriesRef, Exemplar)]) {
        guard capacity > 0 else { return }
        lock.withLock {
            for (ref, e) in items { addLocked(ref, e) }
        }
    }

    func addLocked(_ ref: SeriesRef, _ e: Exemplar) {
        if let c = chains[ref], let newest = slots[Int(c.newest)], newest.exemplar == e || e.t < newest.exemplar.t { return }
        let i = nextSlot
        nextSlot = (nextSlot + 1) % capacity
        if let old = slots[i] {
            // The oldest slot of the buffer is the oldest exemplar of its series.
            if var c = chains[old.ref] {
                if old.next < 0 {
                    chains[old.ref] = nil
                } else {
                    c.oldest = old.next
                    chains[old.ref] = c
                }
            }
            stored -= 1
        }
        slots[i] = Slot(ref: ref, exemplar: e, next: -1)
        if var c = chains[ref] {
            slots[Int(c.newest)]!.next = Int32(i)
            c.newest = Int32(i)
            chains[ref] = c
        } else {
            chains[ref] = Chain(oldest: Int32(i), newest: Int32(i))
        }
        stored += 1
        counters.appended += 1
    }

    /// The exemplars of `ref` with mint <= t <= maxt, oldest first.
    public func exemplars(of ref: SeriesRef, mint: Int64, maxt: Int64) -> [Exemplar] {
        lock.withLock {
            guard let c = chains[ref] else { return [] }
            var out: [Exemplar] = []
            var i = c.oldest
            while i >= 0, let s = slots[Int(i)] {
                if s.exemplar.t >= mint && s.exemplar.t <= maxt { out.append(s.exemplar) }
                i = s.next
            }
            return out
        }
    }

    func count(_ verdict: Verdict) {
        lock.withLock {
            switch verdict {
            case .ok: break
            case .duplicate: counters.duplicate += 1
            case .outOfOrder: counters.outOfOrder += 1
            case .invalid: counters.invalid += 1
            }
        }
    }

    /// Appended exemplars and those refused, by reason (self-monitoring).
    public func stats() -> (stored: Int, appended: Int, outOfOrder: Int, duplicate: Int, invalid: Int) {
        lock.withLock { (stored, counters.appended, counters.outOfOrder, counters.duplicate, counters.invalid) }
    }
}
