/// The type of value a PromQL expression evaluates to.
public enum PromQLValueType: String, Hashable, Sendable, CustomStringConvertible {
    /// No value (only for malformed trees).
    case none
    case scalar
    /// An instant vector.
    case vector
    /// A range vector.
    case matrix
    case string

    /// The name Prometheus uses in messages: `instant vector`, `range vector`, `scalar`, `string`.
    public var documentedName: String {
        switch self {
        case .vector: return "instant vector"
        case .matrix: return "range vector"
        case .scalar: return "scalar"
        case .string: return "string"
        case .none: return "none"
        }
    }

    public var description: String { rawValue }
}
