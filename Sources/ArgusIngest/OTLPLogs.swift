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

    /// The request as log store batches; invalid records are counted in `counts` and skipped.
    public static func convert(_ req: OTLPLogsRequest, mode: LabelMode, now: Int64, counts: inout IngestCounts) -> [LogStreamBatch] {
        var byLabels: [Labels: Int] = [:]
        var batches: [LogStreamBatch] = []
        var nameCache: [String: String] = [:]
        func clean(_ k: String) -> String {
            if let c = nameCache[k] { return c }
            let c = LogStreamLabels.sanitize(k)
            nameCache[k] = c
            return c
        }
        for rl in req.resourceLogs {
            var labelItems: [(String, String)] = []
            var resourceMeta: [(name: String, value: String)] = []
            for kv in rl.resource.attributes {
                let v = OTLPValues.string(kv.value)
                switch mode {
                case .loki: labelItems.append((kv.key, v))
                case .otlp:
                    if LogStreamLabels.promoted.contains(kv.key) {
                        labelItems.append((clean(kv.key), v))
                    } else {
                        resourceMeta.append((clean(kv.key), v))
                    }
                }
            }
            if mode == .otlp && !labelItems.contains(where: { $0.0 == "service_name" }) {
                labelItems.append(("service_name", "unknown_service"))
            }
            let labels = Labels(labelItems)
            var records: [LogRecord] = []
            for sl in rl.scopeLogs {
                let scope = sl.scope.name
                records.reserveForAppending(sl.logRecords.count)
                for rec in sl.logRecords {
                    if !(rec.traceID.isEmpty || rec.traceID.count == 16) {
                        counts.reject("invalid_trace_id", 1, "log record with a trace id of \(rec.traceID.count) bytes (expected 16)")
                        continue
                    }
                    if !(rec.spanID.isEmpty || rec.spanID.count == 8) {
                        counts.reject("invalid_span_id", 1, "log record with a span id of \(rec.spanID.count) bytes (expected 8)")
                        continue
                    }
                    var attrs: [(name: String, value: String)] = []
                    attrs.reserveCapacity(rec.attributes.count + resourceMeta.count + 1)
                    for kv in rec.attributes { attrs.append((mode == .loki ? kv.key : clean(kv.key), OTLPValues.string(kv.value))) }
                    attrs.append(contentsOf: resourceMeta)
                    if !scope.isEmpty && mode == .otlp { attrs.append(("scope_name", scope)) }
                    let observed = Int64(truncatingIfNeeded: rec.observedTimeUnixNano)
                    var t = Int64(truncatingIfNeeded: rec.timeUnixNano)
                    if t <= 0 { t = observed > 0 ? observed : now }
                    let body: String
                    if case .stringValue(let s)? = rec.body.value { body = s } else { body = OTLPValues.string(rec.body) }
                    records.append(LogRecord(time: t, observedTime: observed, severityNumber: UInt8(clamping: rec.severityNumber.rawValue),
                                             severityText: rec.severityText, body: body, attributes: attrs,
                                             traceID: [UInt8](rec.traceID), spanID: [UInt8](rec.spanID)))
                    counts.samples += 1
                }
            }
            if records.isEmpty { continue }
            if let i = byLabels[labels] {
                batches[i].records.append(contentsOf: records)
            } else {
                byLabels[labels] = batches.count
                batches.append(LogStreamBatch(labels: labels, records: records))
            }
        }
        return batches
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
