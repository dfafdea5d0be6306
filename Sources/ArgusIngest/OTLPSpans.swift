import ArgusModel
import ArgusOTLP
import ArgusStorage
import Foundation
import Logging
import SwiftProtobuf

typealias PBAnyValue = Opentelemetry_Proto_Common_V1_AnyValue
typealias PBKeyValue = Opentelemetry_Proto_Common_V1_KeyValue
typealias PBSpan = Opentelemetry_Proto_Trace_V1_Span

/// Converts between OTLP trace messages and `Span`s.
public enum OTLPSpanConversion {
    static func value(_ v: PBAnyValue) -> SpanValue {
        switch v.value {
        case .stringValue(let s)?: return .string(s)
        case .intValue(let i)?: return .int(i)
        case .doubleValue(let d)?: return .double(d)
        case .boolValue(let b)?: return .bool(b)
        case nil: return .string("")
        default: return .raw((try? v.serializedBytes()) ?? [])
        }
    }

    static func attributes(_ kvs: [PBKeyValue]) -> [SpanAttribute] {
        if kvs.isEmpty { return [] }
        var out: [SpanAttribute] = []
        out.reserveCapacity(kvs.count)
        for kv in kvs { out.append(SpanAttribute(kv.key, value(kv.value))) }
        return out
    }

    static func pbValue(_ v: SpanValue) -> PBAnyValue {
        var out = PBAnyValue()
        switch v {
        case .string(let s): out.stringValue = s
        case .int(let i): out.intValue = i
        case .double(let d): out.doubleValue = d
        case .bool(let b): out.boolValue = b
        case .raw(let r): out = (try? PBAnyValue(serializedBytes: r)) ?? PBAnyValue()
        }
        return out
    }

    static func pbAttributes(_ attrs: [SpanAttribute]) -> [PBKeyValue] {
        attrs.map { a in
            var kv = PBKeyValue()
            kv.key = a.key
            kv.value = pbValue(a.value)
            return kv
        }
    }

    /// The valid spans of a request, and what was rejected.
    public static func spans(_ req: OTLPTracesRequest, counts: inout IngestCounts) -> [Span] {
        var out: [Span] = []
        for rs in req.resourceSpans {
            let res = attributes(rs.resource.attributes)
            var service = SpanOrigin.unknownService
            if case .string(let s)? = res.value("service.name") { service = s }
            for ss in rs.scopeSpans {
                let origin = SpanOrigin(service: service, resource: res, scopeName: ss.scope.name, scopeVersion: ss.scope.version)
                out.reserveForAppending(ss.spans.count)
                for sp in ss.spans {
                    guard let tid = TraceID(bytes: sp.traceID), !tid.isZero else {
                        counts.reject("invalid_trace_id", 1, "span \"\(sp.name)\" has an invalid trace id (\(sp.traceID.count) bytes; expected 16, not all zero)")
                        continue
                    }
                    guard let sid = spanID(bytes: sp.spanID), sid != 0 else {
                        counts.reject("invalid_span_id", 1, "span \"\(sp.name)\" has an invalid span id (\(sp.spanID.count) bytes; expected 8, not all zero)")
                        continue
                    }
                    var pid: UInt64 = 0
                    if !sp.parentSpanID.isEmpty {
                        guard let p = spanID(bytes: sp.parentSpanID) else {
                            counts.reject("invalid_parent_id", 1, "span \"\(sp.name)\" has a parent span id of \(sp.parentSpanID.count) bytes (expected 8)")
                            continue
                        }
                        pid = p
                    }
                    let start = Int64(truncatingIfNeeded: sp.startTimeUnixNano)
                    let end = Int64(truncatingIfNeeded: sp.endTimeUnixNano)
                    guard sp.endTimeUnixNano >= sp.startTimeUnixNano, sp.endTimeUnixNano <= UInt64(Int64.max) else {
                        counts.reject("invalid_time", 1, "span \"\(sp.name)\" ends (\(sp.endTimeUnixNano)) before it starts (\(sp.startTimeUnixNano))")
                        continue
                    }
                    let events = sp.events.map { SpanEvent(timeNanos: Int64(truncatingIfNeeded: $0.timeUnixNano), name: $0.name, attributes: attributes($0.attributes)) }
                    let links: [SpanLink] = sp.links.compactMap { l in
                        guard let lt = TraceID(bytes: l.traceID), let ls = spanID(bytes: l.spanID) else { return nil }
                        return SpanLink(traceID: lt, spanID: ls, traceState: l.traceState, attributes: attributes(l.attributes))
                    }
                    out.append(Span(traceID: tid, spanID: sid, parentSpanID: pid, traceState: sp.traceState, flags: sp.flags,
                                    name: sp.name, kind: SpanKind(rawValue: UInt8(clamping: sp.kind.rawValue)) ?? .unspecified,
                                    startNanos: start, durationNanos: end - start,
                                    status: SpanStatus(rawValue: UInt8(clamping: sp.status.code.rawValue)) ?? .unset,
                                    statusMessage: sp.status.message, attributes: attributes(sp.attributes),
                                    events: events, links: links, origin: origin))
                    counts.samples += 1
                }
            }
        }
        return out
    }

    /// The spans as an OTLP request (Tempo's `Trace`: the same field numbers), grouped by
    /// resource and scope in order of first appearance.
    public static func request(_ spans: [Span]) -> OTLPTracesRequest {
        var req = OTLPTracesRequest()
        var groupOf: [SpanOrigin: Int] = [:]
        var groups: [(SpanOrigin, [Span])] = []
        for s in spans {
            if let g = groupOf[s.origin] { groups[g].1.append(s) } else {
                groupOf[s.origin] = groups.count
                groups.append((s.origin, [s]))
            }
        }
        var resIndex: [[SpanAttribute]: Int] = [:]
        for (o, ss) in groups {
            var scope = Opentelemetry_Proto_Trace_V1_ScopeSpans()
            scope.scope.name = o.scopeName
            scope.scope.version = o.scopeVersion
            scope.spans = ss.map(pbSpan)
            if let r = resIndex[o.resource] {
                req.resourceSpans[r].scopeSpans.append(scope)
            } else {
                var rs = Opentelemetry_Proto_Trace_V1_ResourceSpans()
                rs.resource.attributes = pbAttributes(o.resource)
                rs.scopeSpans = [scope]
                resIndex[o.resource] = req.resourceSpans.count
                req.resourceSpans.append(rs)
            }
        }
        return req
    }

    /// The spans as a binary OTLP `ExportTraceServiceRequest` body.
    public static func protobuf(_ spans: [Span]) throws -> [UInt8] {
        try request(spans).serializedBytes()
    }

    static func pbSpan(_ s: Span) -> PBSpan {
        var p = PBSpan()
        p.traceID = Data(s.traceID.bytes)
        p.spanID = Data(spanIDBytes(s.spanID))
        if s.parentSpanID != 0 { p.parentSpanID = Data(spanIDBytes(s.parentSpanID)) }
        p.traceState = s.traceState
        p.flags = s.flags
        p.name = s.name
        p.kind = PBSpan.SpanKind(rawValue: Int(s.kind.rawValue)) ?? .unspecified
        p.startTimeUnixNano = UInt64(max(0, s.startNanos))
        p.endTimeUnixNano = UInt64(max(0, s.endNanos))
        p.attributes = pbAttributes(s.attributes)
        p.events = s.events.map { e in
            var pe = PBSpan.Event()
            pe.timeUnixNano = UInt64(max(0, e.timeNanos))
            pe.name = e.name
            pe.attributes = pbAttributes(e.attributes)
            return pe
        }
        p.links = s.links.map { l in
            var pl = PBSpan.Link()
            pl.traceID = Data(l.traceID.bytes)
            pl.spanID = Data(spanIDBytes(l.spanID))
            pl.traceState = l.traceState
            pl.attributes = pbAttributes(l.attributes)
            return pl
        }
        if s.status != .unset || !s.statusMessage.isEmpty {
            p.status.code = Opentelemetry_Proto_Trace_V1_Status.StatusCode(rawValue: Int(s.status.rawValue)) ?? .unset
            p.status.message = s.statusMessage
        }
        return p
    }

    /// Spans from a protobuf `TracesData` / Tempo `Trace` body (as `/api/traces/<id>` returns
    /// it with `Accept: application/protobuf`).
    public static func spans(fromProtobuf bytes: [UInt8]) throws -> [Span] {
        let req: OTLPTracesRequest
        do { req = try OTLPTracesRequest(serializedBytes: bytes) } catch {
            throw ArgusError(.badInput, "cannot decode the trace protobuf: \(error)")
        }
        var counts = IngestCounts()
        return spans(req, counts: &counts)
    }

    /// Tempo's `/api/traces/<id>` JSON: `{"batches":[...]}` (OTLP JSON, ids in base64 as
    /// Tempo's protobuf JSON marshaller writes them).
    public static func tempoJSON(_ spans: [Span], v2: Bool) throws -> String {
        let req = request(spans)
        var opts = JSONEncodingOptions()
        opts.preserveProtoFieldNames = false
        let text = String(decoding: try req.jsonUTF8Data(options: opts), as: UTF8.self)
        // The message is {"resourceSpans":[...]} (or {} when empty).
        let body = text.hasPrefix("{\"resourceSpans\":") ? String(text.dropFirst("{\"resourceSpans\":".count).dropLast()) : "[]"
        return v2 ? "{\"trace\":{\"resourceSpans\":\(body)}}" : "{\"batches\":\(body)}"
    }

    /// The protobuf body Tempo serves: `Trace` (v1) or `TraceByIDResponse{trace=1}` (v2).
    public static func tempoProtobuf(_ spans: [Span], v2: Bool) throws -> [UInt8] {
        let inner: [UInt8] = try request(spans).serializedBytes()
        if !v2 { return inner }
        var w = ProtoWriter()
        w.tag(1, .bytes)
        w.varint(UInt64(inner.count))
        w.bytes += inner
        return w.bytes
    }
}

/// Stores OTLP spans in the span store (durably, before the request is answered) and feeds
/// span metrics.
public final class OTLPSpanIngester: @unchecked Sendable {
    public let store: SpanStore
    public let metrics: SpanMetrics?

    public init(store: SpanStore, metrics: SpanMetrics? = nil) {
        self.store = store
        self.metrics = metrics
    }

    public func ingest(_ req: OTLPTracesRequest) throws -> IngestCounts {
        var counts = IngestCounts()
        let spans = OTLPSpanConversion.spans(req, counts: &counts)
        try ingest(spans)
        return counts
    }

    /// A binary `ExportTraceServiceRequest`, decoded from the wire (the fast path).
    public func ingest(protobuf body: [UInt8]) throws -> IngestCounts {
        var counts = IngestCounts()
        let spans = try OTLPSpanWire.spans(body, counts: &counts)
        try ingest(spans)
        return counts
    }

    public func ingest(_ spans: [Span]) throws {
        try store.append(spans)
        metrics?.observe(spans)
    }

    /// Moves spans accepted before the span store existed (`signals/traces`, the durable span
    /// log) into the store once, then removes that directory. Returns the spans imported.
    @discardableResult
    public func importSignalLog(dir: String, logger: Logger) throws -> Int {
        guard FileManager.default.fileExists(atPath: dir) else { return 0 }
        let reader = try WAL(dir: dir, logger: logger)
        var total = 0
        var batch: [Span] = []
        _ = try reader.replay(after: 0) { payload in
            let req = try OTLPTracesRequest(serializedBytes: Array(payload))
            var counts = IngestCounts()
            batch += OTLPSpanConversion.spans(req, counts: &counts)
            if batch.count >= 10_000 {
                try store.append(batch)
                total += batch.count
                batch.removeAll(keepingCapacity: true)
            }
        }
        try store.append(batch)
        total += batch.count
        try FileManager.default.removeItem(atPath: dir)
        if total > 0 { logger.notice("imported spans from the signal log into the span store", metadata: ["spans": "\(total)", "dir": "\(dir)"]) }
        return total
    }
}
