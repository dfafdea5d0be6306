/// Settings of the metric store. Durations are milliseconds.
public struct StorageOptions: Sendable {
    public var dataDir: String
    /// Head cut period and the width of the smallest block window.
    public var blockDuration: Int64 = 2 * 3_600_000
    /// Blocks whose newest sample is older than this (relative to the newest data) are dropped.
    public var retention: Int64 = 15 * 86_400_000
    /// Oldest blocks are dropped while the blocks take more bytes than this; 0 means no limit.
    public var retentionSize: Int64 = 0
    /// How far behind a series' newest sample a sample may be and still be accepted.
    public var outOfOrderWindow: Int64 = 0
    public var walSegmentSize: Int = 128 << 20
    /// Most series the store creates (0: no limit); new series beyond it are refused.
    public var maxSeries = 0
    /// Most series one metric name may have (0: no limit).
    public var maxSeriesPerMetric = 0
    /// Size of the exemplar buffer (newest exemplars of all series); 0 keeps none.
    public var maxExemplars = 100_000
    public var flushZstdLevel: Int32 = 3
    public var compactZstdLevel: Int32 = 9

    public init(dataDir: String) {
        self.dataDir = dataDir
    }

    /// Window widths compaction merges into: 3×, 9×, 27×… the block duration, up to a tenth of
    /// the retention (at most 31 days), as Prometheus sizes its blocks.
    public var compactionRanges: [Int64] {
        let cap = min(max(retention / 10, blockDuration * 3), 31 * 86_400_000)
        var out: [Int64] = []
        var r = blockDuration * 3
        while r <= cap {
            out.append(r)
            r *= 3
        }
        return out
    }
}
