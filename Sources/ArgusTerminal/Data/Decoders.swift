import Foundation

/// An answer from a data source that is an error, or is not what its API documents.
public struct DataSourceError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Series names and label text.
public enum SeriesName {
    /// `name{a="1", b="2"}` as Prometheus prints a series.
    public static func labelText(_ m: [String: String]) -> String {
        let name = m["__name__"] ?? ""
        let rest = m.filter { $0.key != "__name__" }.sorted { $0.key < $1.key }.map { "\($0.key)=\"\($0.value)\"" }
        return rest.isEmpty ? (name.isEmpty ? "{}" : name) : name + "{" + rest.joined(separator: ", ") + "}"
    }

    /// A legend template (`{{label}}`, Grafana's legendFormat) filled from labels; the label
    /// text when there is no template.
    public static func format(_ legend: String?, _ labels: [String: String]) -> String {
        guard let legend, !legend.isEmpty else { return labelText(labels) }
        var out = ""
        var rest = Substring(legend)
        while let open = rest.range(of: "{{") {
            out += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].range(of: "}}") else { out += rest[open.lowerBound...]; return out }
            let key = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            out += labels[key] ?? ""
            rest = rest[close.upperBound...]
        }
        return out + rest
    }
}

/// Decodes the Prometheus HTTP API's JSON (`{"status":"success","data":{…}}`).
public enum PromDecoder {
    static func envelope(_ data: [UInt8]) throws -> [String: Any] {
        guard let obj = try? JSONSerialization.jsonObject(with: Data(data)) as? [String: Any] else {
            throw DataSourceError("the answer is not JSON: " + String(decoding: data.prefix(160), as: UTF8.self))
        }
        if obj["status"] as? String != "success" {
            throw DataSourceError(obj["error"] as? String ?? "the server reported an error")
        }
        return obj
    }

    static func number(_ v: Any?) -> Double? {
        if let d = v as? Double { return d }
        if let s = v as? String { return Double(s) ?? (s == "+Inf" ? .infinity : s == "-Inf" ? -.infinity : nil) }
        if let n = v as? NSNumber { return n.doubleValue }
        return nil
    }

    /// A `query_range` answer as series (a vector or scalar answer becomes one-point series).
    public static func matrix(_ data: [UInt8], legend: String? = nil) throws -> [SeriesData] {
        let d = try envelope(data)["data"] as? [String: Any] ?? [:]
        switch d["resultType"] as? String {
        case "matrix":
            return (d["result"] as? [[String: Any]] ?? []).map { s in
                let labels = s["metric"] as? [String: String] ?? [:]
                var ts: [Double] = [], vs: [Double] = []
                for p in s["values"] as? [[Any]] ?? [] where p.count == 2 {
                    guard let t = number(p[0]), let v = number(p[1]) else { continue }
                    ts.append(t)
                    vs.append(v)
                }
                return SeriesData(labels: labels, name: SeriesName.format(legend, labels), times: ts, values: vs)
            }
        case "vector":
            return try vector(data, legend: legend).map { SeriesData(labels: $0.labels, name: $0.name, times: [$0.time], values: [$0.value]) }
        case "scalar":
            let r = d["result"] as? [Any] ?? []
            guard r.count == 2, let t = number(r[0]), let v = number(r[1]) else { return [] }
            return [SeriesData(labels: [:], name: legend ?? "scalar", times: [t], values: [v])]
        default:
            throw DataSourceError("unexpected resultType \(d["resultType"] ?? "none")")
        }
    }

    /// A `query` answer as samples (a scalar becomes one unlabelled sample).
    public static func vector(_ data: [UInt8], legend: String? = nil) throws -> [VectorSample] {
        let d = try envelope(data)["data"] as? [String: Any] ?? [:]
        switch d["resultType"] as? String {
        case "vector":
            return (d["result"] as? [[String: Any]] ?? []).compactMap { s in
                let labels = s["metric"] as? [String: String] ?? [:]
                guard let p = s["value"] as? [Any], p.count == 2, let t = number(p[0]), let v = number(p[1]) else { return nil }
                return VectorSample(labels: labels, name: SeriesName.format(legend, labels), time: t, value: v)
            }
        case "scalar":
            let r = d["result"] as? [Any] ?? []
            guard r.count == 2, let t = number(r[0]), let v = number(r[1]) else { return [] }
            return [VectorSample(labels: [:], name: legend ?? "scalar", time: t, value: v)]
        case "matrix":
            return try matrix(data, legend: legend).compactMap { s in
                guard let t = s.times.last, let v = s.values.last else { return nil }
                return VectorSample(labels: s.labels, name: s.name, time: t, value: v)
            }
        default:
            throw DataSourceError("unexpected resultType \(d["resultType"] ?? "none")")
        }
    }

    /// `/api/v1/label/<name>/values`: the values.
    public static func labelValues(_ data: [UInt8]) throws -> [String] {
        try envelope(data)["data"] as? [String] ?? []
    }

    /// `/api/v1/query_exemplars`: `data` is a list of `{seriesLabels, exemplars: [{labels, value, timestamp}]}`.
    public static func exemplars(_ data: [UInt8], legend: String? = nil) throws -> [ExemplarPoint] {
        var out: [ExemplarPoint] = []
        for s in try envelope(data)["data"] as? [[String: Any]] ?? [] {
            let series = s["seriesLabels"] as? [String: String] ?? [:]
            for e in s["exemplars"] as? [[String: Any]] ?? [] {
                guard let v = number(e["value"]), let t = number(e["timestamp"]) else { continue }
                out.append(ExemplarPoint(seriesName: SeriesName.format(legend, series), labels: e["labels"] as? [String: String] ?? [:], time: t, value: v))
            }
        }
        return out.sorted { $0.time < $1.time }
    }
}

/// Decodes Loki's `/loki/api/v1/query_range` streams answer.
public enum LokiDecoder {
    /// Lines of a `streams` result, newest first (as Loki returns with direction=backward).
    public static func streams(_ data: [UInt8]) throws -> [LogLine] {
        let d = try PromDecoder.envelope(data)["data"] as? [String: Any] ?? [:]
        guard d["resultType"] as? String == "streams" else {
            throw DataSourceError("expected a streams result (a log query), got \(d["resultType"] ?? "none")")
        }
        var out: [LogLine] = []
        for s in d["result"] as? [[String: Any]] ?? [] {
            let labels = s["stream"] as? [String: String] ?? [:]
            for v in s["values"] as? [[Any]] ?? [] where v.count >= 2 {
                guard let ts = v[0] as? String, let ns = Int64(ts), let line = v[1] as? String else { continue }
                var meta: [String: String] = [:]
                if v.count >= 3, let m = v[2] as? [String: Any] {
                    // Loki 3 sends {"structuredMetadata": {...}, "parsed": {...}} with categorize-labels,
                    // a flat object without it.
                    if let sm = m["structuredMetadata"] as? [String: String] { meta.merge(sm) { a, _ in a } }
                    if let p = m["parsed"] as? [String: String] { meta.merge(p) { a, _ in a } }
                    for (k, val) in m { if let s = val as? String { meta[k] = s } }
                }
                out.append(LogLine(timeNanos: ns, line: line, labels: labels, metadata: meta))
            }
        }
        return out.sorted { $0.timeNanos > $1.timeNanos }
    }
}

/// Decodes Tempo's search and trace-by-id answers.
public enum TempoDecoder {
    /// `/api/search`: `{"traces":[{traceID, rootServiceName, rootTraceName, startTimeUnixNano, durationMs}]}`.
    public static func search(_ data: [UInt8]) throws -> [TraceSummary] {
        guard let obj = try? JSONSerialization.jsonObject(with: Data(data)) as? [String: Any] else {
            throw DataSourceError("the answer is not JSON: " + String(decoding: data.prefix(160), as: UTF8.self))
        }
        if let e = obj["error"] as? String ?? obj["message"] as? String, obj["traces"] == nil { throw DataSourceError(e) }
        return (obj["traces"] as? [[String: Any]] ?? []).map { t in
            TraceSummary(traceID: t["traceID"] as? String ?? "",
                         rootService: t["rootServiceName"] as? String ?? "<root span not yet received>",
                         rootName: t["rootTraceName"] as? String ?? "",
                         startNanos: Int64(t["startTimeUnixNano"] as? String ?? "") ?? Int64(PromDecoder.number(t["startTimeUnixNano"]) ?? 0),
                         durationMs: PromDecoder.number(t["durationMs"]) ?? 0)
        }
    }

    /// `/api/traces/<id>`: OTLP JSON (`batches` or `resourceSpans` → `scopeSpans` (or the older
    /// `instrumentationLibrarySpans`) → `spans`), spans sorted by start time.
    public static func trace(_ data: [UInt8]) throws -> [TraceSpan] {
        guard let obj = try? JSONSerialization.jsonObject(with: Data(data)) as? [String: Any] else {
            throw DataSourceError("the answer is not JSON: " + String(decoding: data.prefix(160), as: UTF8.self))
        }
        let batches = obj["batches"] as? [[String: Any]] ?? obj["resourceSpans"] as? [[String: Any]]
            ?? (obj["trace"] as? [String: Any])?["resourceSpans"] as? [[String: Any]]
        guard let batches else {
            throw DataSourceError(obj["error"] as? String ?? obj["message"] as? String ?? "no batches or resourceSpans in the trace")
        }
        var out: [TraceSpan] = []
        for b in batches {
            let resAttrs = attributes((b["resource"] as? [String: Any])?["attributes"])
            let service = resAttrs.first { $0.0 == "service.name" }?.1 ?? "unknown"
            let scopes = b["scopeSpans"] as? [[String: Any]] ?? b["instrumentationLibrarySpans"] as? [[String: Any]] ?? []
            for sc in scopes {
                for s in sc["spans"] as? [[String: Any]] ?? [] {
                    let status = s["status"] as? [String: Any] ?? [:]
                    var code = 0
                    if let c = status["code"] as? Int { code = c } else if let c = status["code"] as? String {
                        code = c == "STATUS_CODE_ERROR" ? 2 : c == "STATUS_CODE_OK" ? 1 : Int(c) ?? 0
                    }
                    var kind = ""
                    if let k = s["kind"] as? String { kind = k.replacingOccurrences(of: "SPAN_KIND_", with: "").lowercased() }
                    else if let k = s["kind"] as? Int { kind = ["unspecified", "internal", "server", "client", "producer", "consumer"][max(0, min(5, k))] }
                    out.append(TraceSpan(traceID: hexID(s["traceId"] as? String ?? ""), spanID: hexID(s["spanId"] as? String ?? ""),
                                         parentID: hexID(s["parentSpanId"] as? String ?? ""), name: s["name"] as? String ?? "",
                                         service: service, kind: kind,
                                         startNanos: int64(s["startTimeUnixNano"]), endNanos: int64(s["endTimeUnixNano"]),
                                         statusCode: code, statusMessage: status["message"] as? String ?? "",
                                         attributes: attributes(s["attributes"])))
                }
            }
        }
        return out.sorted { $0.startNanos < $1.startNanos }
    }

    static func int64(_ v: Any?) -> Int64 {
        if let s = v as? String { return Int64(s) ?? 0 }
        if let n = v as? NSNumber { return n.int64Value }
        return 0
    }

    /// OTLP JSON ids are hex; protobuf's JSON mapping (which some Tempo versions send) is base64.
    static func hexID(_ s: String) -> String {
        if s.isEmpty { return "" }
        if (s.count == 32 || s.count == 16), s.allSatisfy({ $0.isHexDigit }) { return s.lowercased() }
        if let d = Data(base64Encoded: s) { return d.map { String(format: "%02x", $0) }.joined() }
        return s
    }

    /// OTLP `[{key, value: {stringValue|intValue|doubleValue|boolValue|…}}]` as text pairs.
    static func attributes(_ v: Any?) -> [(String, String)] {
        (v as? [[String: Any]] ?? []).compactMap { a in
            guard let k = a["key"] as? String else { return nil }
            let val = a["value"] as? [String: Any] ?? [:]
            if let s = val["stringValue"] as? String { return (k, s) }
            if let i = val["intValue"] { return (k, "\(i)") }
            if let d = val["doubleValue"] { return (k, "\(d)") }
            if let b = val["boolValue"] as? Bool { return (k, b ? "true" : "false") }
            return (k, val.values.first.map { "\($0)" } ?? "")
        }
    }
}
