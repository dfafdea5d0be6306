import Foundation
import ArgusModel
import ArgusStorage

/// Counters an ingest path reports (self-monitoring reads them).
public struct IngestCounts: Sendable {
    public var samples = 0
    public var series = 0
    public var exemplars = 0
    public var metadata = 0
    /// Rejected items by reason.
    public var rejected: [String: Int] = [:]
    public var firstError: String?

    public init() {}

    mutating func reject(_ reason: String, _ n: Int = 1, _ message: @autoclosure () -> String) {
        rejected[reason, default: 0] += n
        if firstError == nil { firstError = message() }
    }

    public var rejectedTotal: Int { rejected.values.reduce(0, +) }
}

/// Decodes Prometheus remote_write 1.0 `WriteRequest`s (already snappy-decompressed) and
/// stores their samples.
///
/// A series' label bytes, as the sender encoded them, map to its series ref through a cache,
/// so a steady sender costs one hash lookup per series per request instead of building labels.
/// Invalid series and samples are skipped and counted; the rest is stored (the caller answers
/// 400 with the first reason when anything was skipped, so the sender does not retry).
public final class RemoteWriteIngester: @unchecked Sendable {
    let store: MetricStore
    let limits: IngestLimits
    let cache = LockedBox<[LabelKey: SeriesRef]>([:])
    static let maxCached = 4_000_000

    public init(store: MetricStore, limits: IngestLimits) {
        self.store = store
        self.limits = limits
    }

    public func ingest(_ body: [UInt8], now: Int64) throws -> IngestCounts {
        var counts = IngestCounts()
        let app = store.appender()
        var newKeys: [LabelKey: SeriesRef] = [:]
        let minTime = store.minAcceptedTime
        let maxTime = now + limits.maxFuture
        try body.withUnsafeBytes { raw in
            var r = ProtoReader(raw)
            // One lock per request: a reference to the cache (copied only if it is written while
            // this request still holds it, i.e. when new series arrive concurrently).
            let cached = cache.withLock { $0 }
            while !r.isAtEnd {
                let (field, wire) = try r.tag()
                switch (field, wire) {
                case (1, .bytes):
                    var ts = try r.message()
                    try timeSeries(&ts, raw, cached, app, &newKeys, &counts, minTime, maxTime)
                case (3, .bytes):
                    var m = try r.message()
                    try metadata(&m)
                    counts.metadata += 1
                default:
                    try r.skip(wire)
                }
            }
        }
        if !newKeys.isEmpty {
            cache.withLock { c in
                if c.count > RemoteWriteIngester.maxCached { c.removeAll() }
                for (k, ref) in newKeys { c[k] = ref }
            }
        }
        let result = try app.commit(skipInvalid: true)
        counts.samples = result.appended
        if result.rejected > 0, let e = result.firstError {
            counts.reject(e.code == .outOfOrder ? "out_of_order" : "duplicate_timestamp", result.rejected, e.message)
        }
        return counts
    }

    func timeSeries(_ r: inout ProtoReader, _ raw: UnsafeRawBufferPointer, _ cached: [LabelKey: SeriesRef], _ app: Appender,
                    _ newKeys: inout [LabelKey: SeriesRef], _ counts: inout IngestCounts, _ minTime: Int64, _ maxTime: Int64) throws {
        var key: [UInt8] = []
        var labelRanges: [Range<Int>] = []
        var samples: [(Int64, Double)] = []
        var exemplars: [Exemplar] = []
        var histograms = 0
        while !r.isAtEnd {
            let (field, wire) = try r.tag()
            switch (field, wire) {
            case (1, .bytes):
                let range = try r.bytesRange()
                labelRanges.append(range)
                key.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[range]))
                key.append(0xFF)  // separator: never a valid protobuf tag byte sequence end
            case (2, .bytes):
                var s = try r.message()
                var v = 0.0
                var t: Int64 = 0
                while !s.isAtEnd {
                    let (f, w) = try s.tag()
                    switch (f, w) {
                    case (1, .fixed64): v = Double(bitPattern: try s.fixed64())
                    case (2, .varint): t = Int64(bitPattern: try s.varint())
                    default: try s.skip(w)
                    }
                }
                samples.append((t, v))
            case (3, .bytes):
                var e = try r.message()
                do {
                    exemplars.append(try exemplar(&e))
                } catch let err as ArgusError {
                    counts.reject("invalid_exemplar", 1, err.message)
                }
            case (4, .bytes):
                _ = try r.bytesRange()
                histograms += 1
            default:
                try r.skip(wire)
            }
        }
        if histograms > 0 {
            counts.reject("native_histogram", histograms, "native histograms are not supported; send classic histograms")
        }
        if samples.isEmpty { return }
        // Series new in this request are published to the shared cache after it.
        var ref = cached[LabelKey(key)] ?? newKeys[LabelKey(key)]
        if ref == nil {
            do {
                let labels = try decodeLabels(raw, labelRanges)
                let newRef = try store.seriesRef(for: labels)
                newKeys[LabelKey(key)] = newRef
                counts.series += 1
                ref = newRef
            } catch let e as ArgusError {
                counts.reject(e.code == .limit ? "limit" : "invalid_labels", samples.count, e.message)
                return
            }
        }
        appendInBounds(samples, ref: ref!, app, &counts, minTime, maxTime)
        for e in exemplars {
            app.appendExemplar(ref: ref!, e)
            counts.exemplars += 1
        }
    }

    /// Appends the samples inside [minTime, maxTime]; the others are rejected and counted (both
    /// remote write versions).
    func appendInBounds(_ samples: [(Int64, Double)], ref: SeriesRef, _ app: Appender, _ counts: inout IngestCounts,
                        _ minTime: Int64, _ maxTime: Int64) {
        for (t, v) in samples {
            if t > maxTime {
                counts.reject("too_far_in_future", 1, "sample timestamp \(t) is too far in the future")
                continue
            }
            if t < minTime {
                counts.reject("out_of_bounds", 1, "sample timestamp \(t) is before the retention window")
                continue
            }
            app.append(ref: ref, t, v)
        }
    }

    /// `prometheus.Exemplar`: labels (1), value (2), timestamp in ms (3).
    func exemplar(_ r: inout ProtoReader) throws -> Exemplar {
        var items: [Label] = []
        var v = 0.0
        var t: Int64 = 0
        while !r.isAtEnd {
            let (f, w) = try r.tag()
            switch (f, w) {
            case (1, .bytes):
                var lr = try r.message()
                var name = "", value = ""
                while !lr.isAtEnd {
                    let (lf, lw) = try lr.tag()
                    switch (lf, lw) {
                    case (1, .bytes): name = try lr.string("an exemplar label name")
                    case (2, .bytes): value = try lr.string("the value of exemplar label \(quoteLabelValue(name))")
                    default: try lr.skip(lw)
                    }
                }
                guard NameRules.isValidLabelName(name) else { throw ArgusError(.badInput, "invalid exemplar label name \(quoteLabelValue(name))") }
                if !value.isEmpty { items.append(Label(name, value)) }
            case (2, .fixed64): v = Double(bitPattern: try r.fixed64())
            case (3, .varint): t = Int64(bitPattern: try r.varint())
            default: try r.skip(w)
            }
        }
        items.sort { $0.name < $1.name }
        for i in items.indices.dropFirst() where items[i].name == items[i - 1].name {
            throw ArgusError(.badInput, "duplicate exemplar label name \(quoteLabelValue(items[i].name))")
        }
        return Exemplar(labels: Labels(sorted: items), t: t, v: v)
    }

    /// `prometheus.MetricMetadata`: type (1), metric_family_name (2), help (4), unit (5).
    func metadata(_ r: inout ProtoReader) throws {
        var type: UInt64 = 0
        var name = "", help = "", unit = ""
        while !r.isAtEnd {
            let (f, w) = try r.tag()
            switch (f, w) {
            case (1, .varint): type = try r.varint()
            case (2, .bytes): name = try r.string("a metric family name")
            case (4, .bytes): help = try r.string("a metric's help text")
            case (5, .bytes): unit = try r.string("a metric's unit")
            default: try r.skip(w)
            }
        }
        store.metadata.record(name, MetricMetadata(type: MetadataStore.typeName(remoteWrite: type), help: help, unit: unit))
    }

    func decodeLabels(_ raw: UnsafeRawBufferPointer, _ ranges: [Range<Int>]) throws -> Labels {
        guard ranges.count <= limits.maxLabelsPerSeries else {
            throw ArgusError(.limit, "series has \(ranges.count) labels, over the limit of \(limits.maxLabelsPerSeries)")
        }
        var items: [Label] = []
        items.reserveCapacity(ranges.count)
        for range in ranges {
            var lr = ProtoReader(raw, from: range.lowerBound, to: range.upperBound)
            var name = "", value = ""
            while !lr.isAtEnd {
                let (f, w) = try lr.tag()
                switch (f, w) {
                case (1, .bytes): name = try lr.string("a label name")
                case (2, .bytes): value = try lr.string("the value of label \(quoteLabelValue(name))")
                default: try lr.skip(w)
                }
            }
            try LabelRules.check(name: name, value: value, limits: limits)
            items.append(Label(name, value))
        }
        return try LabelRules.makeLabels(items)
    }
}

/// Label checks shared by the ingest paths.
public enum LabelRules {
    public static func check(name: String, value: String, limits: IngestLimits) throws {
        if name == Labels.metricName {
            guard NameRules.isValidMetricName(value) else { throw ArgusError(.badInput, "invalid metric name \(quoteLabelValue(value))") }
        } else {
            guard NameRules.isValidLabelName(name) else { throw ArgusError(.badInput, "invalid label name \(quoteLabelValue(name))") }
        }
        if name.utf8.count > limits.maxLabelNameLength {
            throw ArgusError(.limit, "label name \"\(name.prefix(32))…\" is longer than \(limits.maxLabelNameLength) bytes")
        }
        if value.utf8.count > limits.maxLabelValueLength {
            throw ArgusError(.limit, "the value of label \(quoteLabelValue(name)) is longer than \(limits.maxLabelValueLength) bytes")
        }
    }

    /// Sorted labels; duplicate names and a missing metric name are errors.
    public static func makeLabels(_ items: [Label]) throws -> Labels {
        var sorted = items.filter { !$0.value.isEmpty }
        sorted.sort { $0.name < $1.name }
        for i in sorted.indices.dropFirst() where sorted[i].name == sorted[i - 1].name {
            throw ArgusError(.badInput, "duplicate label name \(quoteLabelValue(sorted[i].name))")
        }
        guard sorted.contains(where: { $0.name == Labels.metricName }) else {
            throw ArgusError(.badInput, "series has no metric name (label __name__)")
        }
        return Labels(sorted: sorted)
    }
}

/// A series' label bytes as a dictionary key, hashed in one pass over the bytes (an array of
/// bytes as a key would feed the hasher one byte at a time: a third of remote_write's CPU).
struct LabelKey: Hashable {
    let bytes: [UInt8]
    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func hash(into h: inout Hasher) {
        bytes.withUnsafeBytes { h.combine(bytes: $0) }
    }

    static func == (a: LabelKey, b: LabelKey) -> Bool {
        guard a.bytes.count == b.bytes.count else { return false }
        if a.bytes.isEmpty { return true }
        return a.bytes.withUnsafeBytes { x in b.bytes.withUnsafeBytes { y in memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0 } }
    }
}
