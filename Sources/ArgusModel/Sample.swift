/// A sample: a millisecond timestamp and a float value.
public struct Sample: Equatable, Sendable {
    public var t: Int64
    public var v: Double
    public init(t: Int64, v: Double) {
        self.t = t
        self.v = v
    }

    /// Bit-level equality, so NaN payloads (the staleness marker) compare exactly.
    public static func == (a: Sample, b: Sample) -> Bool {
        a.t == b.t && a.v.bitPattern == b.v.bitPattern
    }
}

/// Prometheus' staleness marker: a NaN with a fixed payload.
public enum StaleNaN {
    public static let bits: UInt64 = 0x7ff0_0000_0000_0002
    public static let value = Double(bitPattern: bits)
    @inline(__always) public static func isStale(_ v: Double) -> Bool { v.bitPattern == bits }
}

/// A series reference handed out by the store: dense, stable for the life of the data directory.
public typealias SeriesRef = UInt32
