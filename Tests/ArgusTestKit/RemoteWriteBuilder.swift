import ArgusIngest

/// Builds Prometheus remote_write 1.0 `WriteRequest` bodies (uncompressed protobuf).
public struct RemoteWriteBuilder {
    public struct Series {
        public var labels: [(String, String)]
        public var samples: [(Int64, Double)]
        public init(_ labels: [(String, String)], _ samples: [(Int64, Double)]) {
            self.labels = labels
            self.samples = samples
        }
    }

    public static func build(_ series: [Series]) -> [UInt8] {
        var req = ProtoWriter()
        for s in series {
            var ts = ProtoWriter()
            for (n, v) in s.labels {
                var l = ProtoWriter()
                l.string(1, n)
                l.string(2, v)
                ts.message(1, l)
            }
            for (t, v) in s.samples {
                var sm = ProtoWriter()
                sm.double(1, v)
                sm.int64(2, t)
                ts.message(2, sm)
            }
            req.message(1, ts)
        }
        return req.bytes
    }
}
