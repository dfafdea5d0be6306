import ArgusModel
import ArgusOTLP
import ArgusStorage
import Foundation

/// Turns OTLP log requests (and Loki pushes, which `LokiPush` decodes into the same shape) into
/// log store records and stores them durably.
///
/// OTLP follows Loki's OTLP ingestion: the resource attributes in `LogStreamLabels.promoted`
/// become stream labels (`service.name` → `service_name`; `unknown_service` when absent); the
/// other resource attributes, the record's attributes and the scope name (`scope_name`) become
/// structured metadata. Loki pushes keep their stream labels as they are.
public struct OTLPLogIngester: Sendable {
    public let store: LogStore

    public init(store: LogStore) { self.store = store }

    public enum LabelMode: Sendable {
        /// OTLP: promote the Loki default resource attributes, the rest is structured metadata.
        case otlp
        /// Loki push: every resource attribute is a stream label.
        case loki
    }

    /// Validates and stores the request's records; returns when they are durable.
    public func ingest(_ req: OTLPLogsRequest, mode: LabelMode = .otlp, now: Int64 = TimeUtil.nowNanos()) throws -> IngestCounts {
        var counts = IngestCounts()
        let batches = OTLPLogIngester.convert(req, mode: mode, now: now, counts: &counts)
        if !batches.isEmpty { try store.append(batches) }
        return counts
    }

    /// A binary `ExportLogsServiceRequest`, decoded from the wire (the fast path).
    public func ingest(protobuf body: [UInt8], mode: LabelMode = .otlp, now: Int64 = TimeUtil.nowNanos()) throws -> IngestCounts {
        var counts = IngestCounts()
        let batches = try OTLPLogWire.batches(body, mode: mode, now: now, counts: &counts)
        if !batches.isEmpty { try store.append(batches) }
        return counts
    }

    /// The request as log store batches; invalid records are counted in `counts` and skipped.
    public static func convert(_ req: OTLPLogsRequest, mode: LabelMode, now: Int64, counts: inout IngestCounts) -> [LogStreamBatch] {
        var builder = LogBatchBuilder(mode: mode)
        for rl in req.resourceLogs {
            let (labels, resourceMeta) = builder.stream(rl.resource.attributes.map { ($0.key, OTLPValues.string($0.value)) })
            var records: [LogRecord] = []
            for sl in rl.scopeLogs {
                let scope = sl.scope.name
                records.reserveForAppending(sl.logRecords.count)
                for rec in sl.logRecords {
                    guard builder.validIDs(traceID: rec.traceID.count, spanID: rec.spanID.count, &counts) else { continue }
                    var attrs: [(name: String, value: String)] = []
                    attrs.reserveCapacity(rec.attributes.count + resourceMeta.count + 1)
                    for kv in rec.attributes { attrs.append((builder.attributeName(kv.key), OTLPValues.string(kv.value))) }
                    builder.finish(&attrs, resourceMeta: resourceMeta, scope: scope)
                    let body: String
                    if case .stringValue(let s)? = rec.body.value { body = s } else { body = OTLPValues.string(rec.body) }
                    records.append(LogRecord(time: LogBatchBuilder.time(rec.timeUnixNano, observed: rec.observedTimeUnixNano, now: now),
                                             observedTime: Int64(truncatingIfNeeded: rec.observedTimeUnixNano),
                                             severityNumber: UInt8(clamping: rec.severityNumber.rawValue),
                                             severityText: rec.severityText, body: body, attributes: attrs,
                                             traceID: [UInt8](rec.traceID), spanID: [UInt8](rec.spanID)))
                    counts.samples += 1
                }
            }
            builder.add(labels, records)
        }
        return builder.batches
    }

    /// Moves the records of a pre-log-store signal log (`data/signals/logs`, one OTLP request
    /// per record) into the store, then removes the directory. Nothing is removed unless every
    /// record was stored durably. Returns the number of records imported.
    public func importSignalLog(dir: String) throws -> Int {
        guard FileManager.default.fileExists(atPath: dir) else { return 0 }
        let reader = try WAL(dir: dir, logger: .init(label: "argus.signal-log.import"))
        var total = 0
        var failure: (any Error)?
        // The handler never throws: the WAL reader truncates a segment at a record whose
        // handler fails, and an import must not cut anything off the old log.
        _ = try reader.replay(after: 0) { payload in
            if failure != nil { return }
            guard let req = try? OTLPLogsRequest(serializedBytes: Array(payload)) else { return }
            var counts = IngestCounts()
            let batches = OTLPLogIngester.convert(req, mode: .otlp, now: TimeUtil.nowNanos(), counts: &counts)
            do {
                if !batches.isEmpty { total += try store.append(batches) }
            } catch {
                failure = error
            }
        }
        if let failure { throw ArgusError(.io, "cannot import the signal log \(dir) into the log store; it is kept", cause: failure) }
        try FileManager.default.removeItem(atPath: dir)
        return total
    }
}

/// Builds log store batches from OTLP resources and records, the same way for the message
/// converter and the wire decoder: stream labels from the resource (Loki's OTLP rules),
/// structured metadata from the rest, records grouped by stream.
struct LogBatchBuilder {
    let mode: OTLPLogIngester.LabelMode
    var byLabels: [Labels: Int] = [:]
    var batches: [LogStreamBatch] = []
    var nameCache: [String: String] = [:]

    init(mode: OTLPLogIngester.LabelMode) { self.mode = mode }

    /// An attribute name as a label or structured-metadata name (`service.name` → `service_name`).
    mutating func clean(_ k: String) -> String {
        if let c = nameCache[k] { return c }
        let c = LogStreamLabels.sanitize(k)
        nameCache[k] = c
        return c
    }

    @inline(__always) mutating func attributeName(_ k: String) -> String { mode == .loki ? k : clean(k) }

    /// The stream labels of a resource, and its attributes that become structured metadata.
    mutating func stream(_ attributes: [(String, String)]) -> (Labels, [(name: String, value: String)]) {
        var labelItems: [(String, String)] = []
        var resourceMeta: [(name: String, value: String)] = []
        for (k, v) in attributes {
            switch mode {
            case .loki: labelItems.append((k, v))
            case .otlp:
                if LogStreamLabels.promoted.contains(k) {
                    labelItems.append((clean(k), v))
                } else {
                    resourceMeta.append((clean(k), v))
                }
            }
        }
        if mode == .otlp && !labelItems.contains(where: { $0.0 == "service_name" }) {
            labelItems.append(("service_name", "unknown_service"))
        }
        return (Labels(labelItems), resourceMeta)
    }

    /// Trace and span ids are empty or 16 and 8 bytes; otherwise the record is rejected.
    func validIDs(traceID: Int, spanID: Int, _ counts: inout IngestCounts) -> Bool {
        if !(traceID == 0 || traceID == 16) {
            counts.reject("invalid_trace_id", 1, "log record with a trace id of \(traceID) bytes (expected 16)")
            return false
        }
        if !(spanID == 0 || spanID == 8) {
            counts.reject("invalid_span_id", 1, "log record with a span id of \(spanID) bytes (expected 8)")
            return false
        }
        return true
    }

    /// Appends the resource's structured metadata and the scope name to a record's attributes.
    @inline(__always) func finish(_ attrs: inout [(name: String, value: String)], resourceMeta: [(name: String, value: String)], scope: String) {
        attrs.append(contentsOf: resourceMeta)
        if !scope.isEmpty && mode == .otlp { attrs.append(("scope_name", scope)) }
    }

    /// The record's time: `time_unix_nano`, else the observed time, else now.
    @inline(__always) static func time(_ t: UInt64, observed: UInt64, now: Int64) -> Int64 {
        let time = Int64(truncatingIfNeeded: t)
        if time > 0 { return time }
        let o = Int64(truncatingIfNeeded: observed)
        return o > 0 ? o : now
    }

    mutating func add(_ labels: Labels, _ records: [LogRecord]) {
        if records.isEmpty { return }
        if let i = byLabels[labels] {
            batches[i].records.append(contentsOf: records)
        } else {
            byLabels[labels] = batches.count
            batches.append(LogStreamBatch(labels: labels, records: records))
        }
    }
}
