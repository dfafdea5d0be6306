import ArgusIngest

/// Builds Prometheus remote_write 1.0 `WriteRequest` bodies (uncompressed protobuf).
public struct RemoteWriteBuilder {
    public struct Series {
        public var labels: [(String, String)]
        public var samples: [(Int64, Double)]
        /// Exemplars: labels, value, timestamp (ms).
        public var exemplars: [([(String, String)], Double, Int64)]
        public init(_ labels: [(String, String)], _ samples: [(Int64, Double)], exemplars: [([(String, String)], Double, Int64)] = []) {
            self.labels = labels
            self.samples = samples
            self.exemplars = exemplars
        }
    }

    /// Metric metadata: remote_write type number (1 counter, 2 gauge, 3 histogram...), family name, help, unit.
    public struct Metadata {
        public var type: UInt64
        public var name: String
        public var help: String
        public var unit: String
        public init(type: UInt64, name: String, help: String, unit: String = "") {
            self.type = type
            self.name = name
            self.help = help
            self.unit = unit
        }
    }

    public static func build(_ series: [Series], metadata: [Metadata] = []) -> [UInt8] {
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
            for (labels, v, t) in s.exemplars {
                var e = ProtoWriter()
                for (n, lv) in labels {
                    var l = ProtoWriter()
                    l.string(1, n)
                    l.string(2, lv)
                    e.message(1, l)
                }
                e.double(2, v)
                e.int64(3, t)
                ts.message(3, e)
            }
            req.message(1, ts)
        }
        for m in metadata {
            var w = ProtoWriter()
            w.int64(1, Int64(m.type))
            w.string(2, m.name)
            w.string(4, m.help)
            w.string(5, m.unit)
            req.message(3, w)
        }
        return req.bytes
    }
}
