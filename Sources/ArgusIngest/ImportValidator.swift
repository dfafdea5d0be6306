import ArgusModel

/// Limits on samples an ingest path accepts.
public struct IngestLimits: Sendable {
    /// How far ahead of now a timestamp may be (ms).
    public var maxFuture: Int64 = 10 * 60_000
    public var maxLabelsPerSeries = 64
    public var maxLabelNameLength = 1024
    public var maxLabelValueLength = 16 * 1024
    public init() {}
}

/// Checks parsed samples against time bounds and limits; errors name the line.
public struct ImportValidator {
    public let limits: IngestLimits
    public init(limits: IngestLimits = IngestLimits()) { self.limits = limits }

    /// Fills missing timestamps with `now` and throws for the first sample out of bounds.
    public func validate(_ samples: inout [ParsedSample], now: Int64, minTime: Int64) throws {
        for i in samples.indices {
            let s = samples[i]
            let t = s.timestamp ?? now
            samples[i].timestamp = t
            if t > now + limits.maxFuture {
                throw ArgusError(.badInput, "line \(s.line): timestamp \(t) is too far in the future (more than \(PromDuration.format(limits.maxFuture)) ahead of now)")
            }
            if t < minTime {
                throw ArgusError(.badInput, "line \(s.line): timestamp \(t) is before the retention window (oldest accepted: \(minTime))")
            }
            if s.labels.count > limits.maxLabelsPerSeries {
                throw ArgusError(.badInput, "line \(s.line): series has \(s.labels.count) labels, over the limit of \(limits.maxLabelsPerSeries)")
            }
            for l in s.labels.items {
                if l.name.utf8.count > limits.maxLabelNameLength {
                    throw ArgusError(.badInput, "line \(s.line): label name \"\(l.name.prefix(32))…\" is longer than \(limits.maxLabelNameLength) bytes")
                }
                if l.value.utf8.count > limits.maxLabelValueLength {
                    throw ArgusError(.badInput, "line \(s.line): the value of label \(quoteLabelValue(l.name)) is longer than \(limits.maxLabelValueLength) bytes")
                }
            }
        }
    }
}
