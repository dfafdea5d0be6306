import ArgusModel

/// Encodes Prometheus remote_write 1.0 `WriteRequest`s (uncompressed protobuf), for clients,
/// benchmarks and tests.
public struct RemoteWriteEncoder {
    var w = ProtoWriter()
    public init() {}

    /// Adds one time series with its samples (labels are written in the order given).
    public mutating func add(_ labels: Labels, _ samples: [(t: Int64, v: Double)]) {
        var ts = ProtoWriter()
        for l in labels.items {
            var lw = ProtoWriter()
            lw.string(1, l.name)
            lw.string(2, l.value)
            ts.message(1, lw)
        }
        for s in samples {
            var sw = ProtoWriter()
            sw.double(1, s.v)
            sw.int64(2, s.t)
            ts.message(2, sw)
        }
        w.message(1, ts)
    }

    public var isEmpty: Bool { w.bytes.isEmpty }

    /// The encoded request; the encoder starts over.
    public mutating func finish() -> [UInt8] {
        defer { w = ProtoWriter() }
        return w.bytes
    }
}
