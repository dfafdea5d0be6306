import ArgusModel
import ArgusOTLP
import ArgusStorage
import Foundation

public typealias OTLPMetricsRequest = Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceRequest
typealias OTLPKeyValue = Opentelemetry_Proto_Common_V1_KeyValue
typealias OTLPAnyValue = Opentelemetry_Proto_Common_V1_AnyValue

/// Turns OTLP metrics into Prometheus series, as Prometheus' OTLP receiver names them, and
/// stores them. Invalid data points are rejected and counted (OTLP partial success); the rest
/// is stored.
///
/// - Gauge → one series per point; Sum: monotonic cumulative → `…_total` counter, non-monotonic
///   cumulative → gauge; delta sums and delta histograms are rejected (Prometheus needs
///   cumulative data); Histogram → `_bucket{le}` (cumulative), `_sum`, `_count`;
///   Summary → `{quantile}`, `_sum`, `_count`; exponential histograms are rejected.
/// - Resource `service.namespace`/`service.name` → `job`, `service.instance.id` → `instance`;
///   the other resource attributes go to a `target_info` series.
/// - A point flagged "no recorded value" is stored as a staleness marker.
public struct OTLPMetricsIngester {
    let store: MetricStore
    let limits: IngestLimits

    public init(store: MetricStore, limits: IngestLimits) {
        self.store = store
        self.limits = limits
    }

    public func ingest(_ req: OTLPMetricsRequest, now: Int64) throws -> IngestCounts {
        var counts = IngestCounts()
        let app = store.appender()
        let minTime = store.minAcceptedTime
        let maxTime = now + limits.maxFuture
        for rm in req.resourceMetrics {
            var base: [(String, String)] = []
            var infoAttrs: [(String, String)] = []
            var serviceName = "", serviceNamespace = "", instance = ""
            for kv in rm.resource.attributes {
                let v = OTLPValues.string(kv.value)
                switch kv.key {
                case "service.name": serviceName = v
                case "service.namespace": serviceNamespace = v
                case "service.instance.id": instance = v
                default: infoAttrs.append((kv.key, v))
                }
            }
            let job = serviceNamespace.isEmpty ? serviceName : serviceNamespace + "/" + serviceName
            if !serviceName.isEmpty { base.append(("job", job)) }
            if !instance.isEmpty { base.append(("instance", instance)) }
            var newest: Int64 = 0
            @discardableResult
            func add(_ name: String, _ attrs: [OTLPKeyValue], _ extra: [(String, String)], _ t: Int64, _ v: Double) -> SeriesRef? {
                do {
                    guard t <= maxTime else { throw ArgusError(.badInput, "timestamp \(t) is too far in the future") }
                    guard t >= minTime else { throw ArgusError(.badInput, "timestamp \(t) is before the retention window") }
                    let labels = try makeLabels(name, attrs, base + extra)
                    let ref = try app.append(labels, t, v)
                    newest = max(newest, t)
                    return ref
                } catch let e as ArgusError {
                    counts.reject(e.code == .limit ? "limit" : "invalid", 1, "\(name): \(e.message)")
                } catch {
                    counts.reject("invalid", 1, "\(name): \(error)")
                }
                return nil
            }
            func attach(_ ref: SeriesRef?, _ exemplars: [Opentelemetry_Proto_Metrics_V1_Exemplar], _ t: Int64) {
                guard let ref else { return }
                for e in exemplars {
                    app.appendExemplar(ref: ref, exemplar(e, defaultTime: t))
                    counts.exemplars += 1
                }
            }
            func time(_ ns: UInt64) -> Int64 { ns == 0 ? now : Int64(ns / 1_000_000) }
            for sm in rm.scopeMetrics {
                for m in sm.metrics {
                    switch m.data {
                    case .gauge(let g)?:
                        let name = OTLPNaming.metricName(m.name, unit: m.unit, kind: .gauge)
                        store.metadata.record(name, MetricMetadata(type: "gauge", help: m.description_p, unit: m.unit))
                        for p in g.dataPoints {
                            let t = time(p.timeUnixNano)
                            attach(add(name, p.attributes, [], t, value(p)), p.exemplars, t)
                        }
                    case .sum(let s)?:
                        if s.aggregationTemporality != .cumulative {
                            counts.reject("delta_temporality", s.dataPoints.count, "\(m.name): delta (or unspecified) temporality is not supported; export cumulative sums")
                            continue
                        }
                        let name = OTLPNaming.metricName(m.name, unit: m.unit, kind: s.isMonotonic ? .counter : .upDownSum)
                        store.metadata.record(name, MetricMetadata(type: s.isMonotonic ? "counter" : "gauge", help: m.description_p, unit: m.unit))
                        for p in s.dataPoints {
                            let t = time(p.timeUnixNano)
                            attach(add(name, p.attributes, [], t, value(p)), p.exemplars, t)
                        }
                    case .histogram(let h)?:
                        if h.aggregationTemporality != .cumulative {
                            counts.reject("delta_temporality", h.dataPoints.count, "\(m.name): delta (or unspecified) temporality is not supported; export cumulative histograms")
                            continue
                        }
                        let name = OTLPNaming.metricName(m.name, unit: m.unit, kind: .histogram)
                        store.metadata.record(name, MetricMetadata(type: "histogram", help: m.description_p, unit: m.unit))
                        for p in h.dataPoints {
                            let t = time(p.timeUnixNano)
                            let stale = p.flags & 1 != 0
                            guard stale || p.bucketCounts.count == p.explicitBounds.count + 1 || p.bucketCounts.isEmpty else {
                                counts.reject("invalid", 1, "\(m.name): \(p.bucketCounts.count) bucket counts for \(p.explicitBounds.count) bounds (expected one more)")
                                continue
                            }
                            var cumulative: UInt64 = 0
                            var bucketRefs: [SeriesRef?] = []
                            for (i, bound) in p.explicitBounds.enumerated() {
                                cumulative &+= i < p.bucketCounts.count ? p.bucketCounts[i] : 0
                                bucketRefs.append(add(name + "_bucket", p.attributes, [("le", OTLPNaming.formatFloat(bound))], t, stale ? StaleNaN.value : Double(cumulative)))
                            }
                            bucketRefs.append(add(name + "_bucket", p.attributes, [("le", "+Inf")], t, stale ? StaleNaN.value : Double(p.count)))
                            if p.hasSum { add(name + "_sum", p.attributes, [], t, stale ? StaleNaN.value : p.sum) }
                            add(name + "_count", p.attributes, [], t, stale ? StaleNaN.value : Double(p.count))
                            // Each exemplar goes to the first bucket whose bound is >= its value, as
                            // Prometheus' OTLP translator places them.
                            for e in p.exemplars {
                                let v = exemplarValue(e)
                                let i = p.explicitBounds.firstIndex(where: { v <= $0 }) ?? p.explicitBounds.count
                                attach(bucketRefs[i], [e], t)
                            }
                        }
                    case .summary(let s)?:
                        let name = OTLPNaming.metricName(m.name, unit: m.unit, kind: .summary)
                        store.metadata.record(name, MetricMetadata(type: "summary", help: m.description_p, unit: m.unit))
                        for p in s.dataPoints {
                            let t = time(p.timeUnixNano)
                            let stale = p.flags & 1 != 0
                            for q in p.quantileValues {
                                add(name, p.attributes, [("quantile", OTLPNaming.formatFloat(q.quantile))], t, stale ? StaleNaN.value : q.value)
                            }
                            add(name + "_sum", p.attributes, [], t, stale ? StaleNaN.value : p.sum)
                            add(name + "_count", p.attributes, [], t, stale ? StaleNaN.value : Double(p.count))
                        }
                    case .exponentialHistogram(let e)?:
                        counts.reject("exponential_histogram", e.dataPoints.count, "\(m.name): exponential histograms are not supported; configure the SDK for explicit-bucket histograms")
                    case nil:
                        counts.reject("invalid", 1, "\(m.name): metric without data")
                    }
                }
            }
            if !infoAttrs.isEmpty && newest > 0 {
                add("target_info", infoAttrs.map { kv in
                    var k = OTLPKeyValue()
                    k.key = kv.0
                    k.value.stringValue = kv.1
                    return k
                }, [], newest, 1)
            }
        }
        let result = try app.commit(skipInvalid: true)
        counts.samples = result.appended
        if result.rejected > 0, let e = result.firstError {
            counts.reject(e.code == .outOfOrder ? "out_of_order" : "duplicate_timestamp", result.rejected, e.message)
        }
        return counts
    }

    func exemplarValue(_ e: Opentelemetry_Proto_Metrics_V1_Exemplar) -> Double {
        switch e.value {
        case .asDouble(let d)?: return d
        case .asInt(let i)?: return Double(i)
        case nil: return 0
        }
    }

    /// An OTLP exemplar as Prometheus keeps it: `trace_id` and `span_id` in lower-case hex plus
    /// the filtered attributes as labels.
    func exemplar(_ e: Opentelemetry_Proto_Metrics_V1_Exemplar, defaultTime: Int64) -> Exemplar {
        var items: [Label] = []
        for kv in e.filteredAttributes {
            let n = OTLPNaming.labelName(kv.key)
            if !n.isEmpty { items.append(Label(n, OTLPValues.string(kv.value))) }
        }
        if !e.traceID.isEmpty { items.append(Label("trace_id", lowerHex(e.traceID))) }
        if !e.spanID.isEmpty { items.append(Label("span_id", lowerHex(e.spanID))) }
        var seen = Set<String>()
        items = items.filter { !$0.value.isEmpty && seen.insert($0.name).inserted }
        items.sort { $0.name < $1.name }
        let t = e.timeUnixNano == 0 ? defaultTime : Int64(e.timeUnixNano / 1_000_000)
        return Exemplar(labels: Labels(sorted: items), t: t, v: exemplarValue(e))
    }

    func value(_ p: Opentelemetry_Proto_Metrics_V1_NumberDataPoint) -> Double {
        if p.flags & 1 != 0 { return StaleNaN.value }
        switch p.value {
        case .asDouble(let d)?: return d
        case .asInt(let i)?: return Double(i)
        case nil: return 0
        }
    }

    func makeLabels(_ name: String, _ attrs: [OTLPKeyValue], _ extra: [(String, String)]) throws -> Labels {
        guard NameRules.isValidMetricName(name) else { throw ArgusError(.badInput, "invalid metric name \(quoteLabelValue(name))") }
        var byName: [String: String] = [:]
        // Attribute keys that sanitise to the same label name have their values joined with ";"
        // in key order, as Prometheus does.
        for kv in attrs.sorted(by: { $0.key < $1.key }) {
            let n = OTLPNaming.labelName(kv.key)
            guard !n.isEmpty else { continue }
            let v = OTLPValues.string(kv.value)
            if let old = byName[n] { byName[n] = old + ";" + v } else { byName[n] = v }
        }
        for (k, v) in extra { byName[k] = v }
        byName[Labels.metricName] = name
        guard byName.count <= limits.maxLabelsPerSeries else {
            throw ArgusError(.limit, "series has \(byName.count) labels, over the limit of \(limits.maxLabelsPerSeries)")
        }
        var items: [Label] = []
        for (k, v) in byName {
            try LabelRules.check(name: k, value: v, limits: limits)
            items.append(Label(k, v))
        }
        return try LabelRules.makeLabels(items)
    }
}

/// OTLP attribute values as label strings.
enum OTLPValues {
    static func string(_ v: OTLPAnyValue) -> String {
        switch v.value {
        case .stringValue(let s)?: return s
        case .boolValue(let b)?: return b ? "true" : "false"
        case .intValue(let i)?: return String(i)
        case .doubleValue(let d)?: return OTLPNaming.formatFloat(d)
        case .bytesValue(let b)?: return Data(b).base64EncodedString()
        case .arrayValue(let a)?: return "[" + a.values.map { json($0) }.joined(separator: ",") + "]"
        case .kvlistValue(let l)?: return "{" + l.values.map { "\"\($0.key)\":" + json($0.value) }.joined(separator: ",") + "}"
        case nil: return ""
        }
    }

    static func json(_ v: OTLPAnyValue) -> String {
        switch v.value {
        case .stringValue(let s)?:
            return "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        case nil: return "null"
        default: return string(v)
        }
    }
}

/// Bytes as lower-case hex (trace and span ids).
fileprivate func lowerHex(_ bytes: Data) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out = [UInt8]()
    out.reserveCapacity(bytes.count * 2)
    for b in bytes {
        out.append(digits[Int(b >> 4)])
        out.append(digits[Int(b & 15)])
    }
    return String(decoding: out, as: UTF8.self)
}
