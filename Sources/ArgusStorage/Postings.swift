import ArgusModel

/// The in-memory inverted index: label name → value → sorted series refs.
struct Postings {
    var map: [String: [String: [SeriesRef]]] = [:]

    mutating func add(_ ref: SeriesRef, _ labels: Labels) {
        for l in labels.items {
            map[l.name, default: [:]][l.value, default: []].insertSorted(ref)
        }
    }

    mutating func remove(_ ref: SeriesRef, _ labels: Labels) {
        for l in labels.items {
            guard var values = map[l.name], var list = values[l.value] else { continue }
            if let i = list.binarySearch(ref) { list.remove(at: i) }
            if list.isEmpty { values[l.value] = nil } else { values[l.value] = list }
            map[l.name] = values.isEmpty ? nil : values
        }
    }

    /// The refs of series matching every matcher, ascending. `all` lists every live ref.
    func select(_ matchers: [Matcher], all: () -> [SeriesRef]) -> [SeriesRef] {
        var result: [SeriesRef]?
        // Positive matchers (that do not match the empty string) narrow the set first.
        for m in matchers where !m.matchesEmpty {
            let refs = lookup(m)
            result = result.map { intersect($0, refs) } ?? refs
            if result!.isEmpty { return [] }
        }
        var out = result ?? all()
        // Matchers that match "" keep series without the label; remove those whose value fails.
        for m in matchers where m.matchesEmpty {
            guard let values = map[m.name] else { continue }
            var failing: [[SeriesRef]] = []
            for (v, refs) in values where !m.matches(v) { failing.append(refs) }
            if failing.isEmpty { continue }
            out = subtract(out, union(failing))
            if out.isEmpty { return [] }
        }
        return out
    }

    func lookup(_ m: Matcher) -> [SeriesRef] {
        guard let values = map[m.name] else { return [] }
        if m.kind == .equal { return values[m.value] ?? [] }
        var lists: [[SeriesRef]] = []
        for (v, refs) in values where m.matches(v) { lists.append(refs) }
        return union(lists)
    }

    func values(_ name: String) -> [String] { map[name].map { Array($0.keys) } ?? [] }
    var names: [String] { Array(map.keys) }
}

func intersect(_ a: [SeriesRef], _ b: [SeriesRef]) -> [SeriesRef] {
    var out: [SeriesRef] = []
    var i = 0, j = 0
    while i < a.count && j < b.count {
        if a[i] < b[j] { i += 1 } else if a[i] > b[j] { j += 1 } else {
            out.append(a[i])
            i += 1
            j += 1
        }
    }
    return out
}

func subtract(_ a: [SeriesRef], _ b: [SeriesRef]) -> [SeriesRef] {
    var out: [SeriesRef] = []
    out.reserveCapacity(a.count)
    var j = 0
    for x in a {
        while j < b.count && b[j] < x { j += 1 }
        if j < b.count && b[j] == x { continue }
        out.append(x)
    }
    return out
}

func union(_ lists: [[SeriesRef]]) -> [SeriesRef] {
    if lists.isEmpty { return [] }
    if lists.count == 1 { return lists[0] }
    var all = lists.flatMap { $0 }
    all.sort()
    var out: [SeriesRef] = []
    out.reserveCapacity(all.count)
    for x in all where out.last != x { out.append(x) }
    return out
}

extension Array where Element == SeriesRef {
    mutating func insertSorted(_ x: SeriesRef) {
        if let last = self.last, last >= x {
            var lo = 0, hi = count
            while lo < hi {
                let mid = (lo + hi) >> 1
                if self[mid] < x { lo = mid + 1 } else { hi = mid }
            }
            if lo < count && self[lo] == x { return }
            insert(x, at: lo)
        } else {
            append(x)
        }
    }

    func binarySearch(_ x: SeriesRef) -> Int? {
        var lo = 0, hi = count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if self[mid] < x { lo = mid + 1 } else { hi = mid }
        }
        return lo < count && self[lo] == x ? lo : nil
    }
}
