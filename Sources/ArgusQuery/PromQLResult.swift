import ArgusModel

/// One element of an instant vector: a series' labels and its value at `t` (milliseconds).
public struct PromQLSample: Sendable, Equatable, CustomStringConvertible {
    public var labels: Labels
    public var t: Int64
    public var v: Double

    public init(labels: Labels, t: Int64, v: Double) {
        self.labels = labels
        self.t = t
        self.v = v
    }

    /// NaN equals NaN, so results compare as Prometheus' test framework compares them.
    public static func == (a: Self, b: Self) -> Bool {
        a.labels == b.labels && a.t == b.t && (a.v == b.v || (a.v.isNaN && b.v.isNaN))
    }

    public var description: String { "\(labels) => \(PromQLPrinter.formatNumber(v)) @\(t)" }
}

/// One series of a range vector (or of a range query's result): its labels and its points,
/// sorted by time (milliseconds).
public struct PromQLSeries: Sendable, CustomStringConvertible {
    public var labels: Labels
    public var samples: [(t: Int64, v: Double)]

    public init(labels: Labels, samples: [(t: Int64, v: Double)]) {
        self.labels = labels
        self.samples = samples
    }

    public var description: String {
        "\(labels) => [" + samples.map { "\(PromQLPrinter.formatNumber($0.v)) @\($0.t)" }.joined(separator: ", ") + "]"
    }
}

/// The value a PromQL query evaluates to, in the shapes of Prometheus' HTTP API
/// (`resultType` scalar, string, vector or matrix).
///
/// Instant queries return any of the four (`matrix` for a range-vector expression such as
/// `foo[5m]`); range queries always return `matrix`, sorted by labels.
public enum PromQLValue: Sendable {
    case scalar(t: Int64, v: Double)
    case string(t: Int64, v: String)
    case vector([PromQLSample])
    case matrix([PromQLSeries])

    /// `scalar`, `string`, `vector` or `matrix`, as the API's `resultType`.
    public var resultType: String {
        switch self {
        case .scalar: return "scalar"
        case .string: return "string"
        case .vector: return "vector"
        case .matrix: return "matrix"
        }
    }
}

/// A query's value with the annotations Prometheus returns beside it: `warnings` (text starts
/// with `PromQL warning: `) and `infos` (`PromQL info: `).
public struct PromQLResult: Sendable {
    public var value: PromQLValue
    public var warnings: [String]
    public var infos: [String]
    /// Samples the selectors read from storage.
    public var samplesRead = 0

    public init(value: PromQLValue, warnings: [String] = [], infos: [String] = [], samplesRead: Int = 0) {
        self.value = value
        self.warnings = warnings
        self.infos = infos
        self.samplesRead = samplesRead
    }
}
