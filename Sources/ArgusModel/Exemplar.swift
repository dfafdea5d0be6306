/// An exemplar: one traced observation attached to a series (in Prometheus' sense), typically
/// with `trace_id` and `span_id` labels that lead from a metric to the trace behind it.
public struct Exemplar: Sendable, Equatable {
    public var labels: Labels
    public var t: Int64
    public var v: Double

    public init(labels: Labels, t: Int64, v: Double) {
        self.labels = labels
        self.t = t
        self.v = v
    }

    /// Prometheus' limit on an exemplar's label set: names and values together at most 128
    /// UTF-8 characters.
    public static let maxLabelCharacters = 128

    public static func == (a: Exemplar, b: Exemplar) -> Bool {
        a.t == b.t && a.v.bitPattern == b.v.bitPattern && a.labels == b.labels
    }
}
