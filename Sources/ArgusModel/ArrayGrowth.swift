extension Array {
    /// Makes room for `extra` more elements, growing geometrically. (`reserveCapacity(count + n)`
    /// allocates exactly what it is asked for, so calling it before every batch of appends
    /// copies the whole array each time: quadratic.)
    @inline(__always) public mutating func reserveForAppending(_ extra: Int) {
        let needed = count + extra
        if needed > capacity { reserveCapacity(Swift.max(needed, capacity * 2)) }
    }
}
