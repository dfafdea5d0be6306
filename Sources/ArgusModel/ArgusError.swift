/// The error type shared across Argus' module boundaries.
///
/// `code` is extensible; the HTTP layer maps codes to statuses in one place.
public struct ArgusError: Error, CustomStringConvertible, Sendable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        public init(_ name: String) { self.name = name }
        public var description: String { name }

        /// Input the caller sent is wrong (HTTP 400).
        public static let badInput = Code("bad_data")
        /// A sample is older than the newest one of its series.
        public static let outOfOrder = Code("out_of_order")
        /// A sample repeats a timestamp with another value.
        public static let duplicateSample = Code("duplicate_sample")
        /// Data on disk failed a check.
        public static let corrupt = Code("corrupt")
        /// A limit was exceeded.
        public static let limit = Code("limit")
        /// The system cannot take more now (HTTP 503/429).
        public static let unavailable = Code("unavailable")
        /// Something failed at the operating system level.
        public static let io = Code("io")
        /// A query failed while it ran (HTTP 422).
        public static let execution = Code("execution")
        /// A query took too long (HTTP 503).
        public static let timeout = Code("timeout")
        /// The API path or resource is unknown (HTTP 404).
        public static let notFound = Code("not_found")
        public static let `internal` = Code("internal")
    }

    public var code: Code
    public var message: String
    public var cause: (any Error)?
    /// For an error about one item of a batch (a sample of a commit): its index in the batch.
    public var itemIndex: Int?

    public init(_ code: Code, _ message: String, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String {
        if let cause { return "\(message): \(cause)" }
        return message
    }
}
