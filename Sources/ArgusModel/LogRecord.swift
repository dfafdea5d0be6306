import Foundation

/// One log record as the log store keeps it: OTLP's LogRecord with its resource reduced to the
/// stream it belongs to (see `LogStreamLabels`).
///
/// `attributes` is Loki's structured metadata: record attributes, resource attributes that are
/// not stream labels, and the scope name, with dots in names replaced by underscores. Trace and
/// span ids are raw bytes (16 and 8) or empty.
public struct LogRecord: Sendable, Equatable {
    /// Nanoseconds since the epoch (OTLP `time_unix_nano`, or the observed time when it is 0).
    public var time: Int64
    public var observedTime: Int64
    /// OTLP severity number, 0 (unspecified) to 24.
    public var severityNumber: UInt8
    public var severityText: String
    public var body: String
    public var attributes: [(name: String, value: String)]
    public var traceID: [UInt8]
    public var spanID: [UInt8]

    public init(time: Int64, observedTime: Int64 = 0, severityNumber: UInt8 = 0, severityText: String = "", body: String,
                attributes: [(name: String, value: String)] = [], traceID: [UInt8] = [], spanID: [UInt8] = []) {
        self.time = time
        self.observedTime = observedTime
        self.severityNumber = severityNumber
        self.severityText = severityText
        self.body = body
        self.attributes = attributes
        self.traceID = traceID
        self.spanID = spanID
    }

    public static func == (a: LogRecord, b: LogRecord) -> Bool {
        a.time == b.time && a.observedTime == b.observedTime && a.severityNumber == b.severityNumber
            && a.severityText == b.severityText && a.body == b.body && a.traceID == b.traceID && a.spanID == b.spanID
            && a.attributes.map(\.name) == b.attributes.map(\.name) && a.attributes.map(\.value) == b.attributes.map(\.value)
    }

    public var traceIDHex: String { LogRecord.hex(traceID) }
    public var spanIDHex: String { LogRecord.hex(spanID) }

    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The level Loki would detect (`detected_level`): from the severity number, else the
    /// severity text, else a `level`-like attribute or stream label, else a `level=…` or
    /// `"level":"…"` in the line, else `unknown`.
    public func detectedLevel(streamLevel: String? = nil) -> String {
        if let l = LogSeverity.level(number: severityNumber) { return l }
        if !severityText.isEmpty, let l = LogSeverity.level(text: severityText) { return l }
        for a in attributes where a.name == "level" || a.name == "severity" || a.name == "lvl" {
            if let l = LogSeverity.level(text: a.value) { return l }
        }
        if let s = streamLevel, let l = LogSeverity.level(text: s) { return l }
        return LogSeverity.level(inLine: body) ?? "unknown"
    }

    /// Structured metadata as queries see it: the stored attributes plus `detected_level`,
    /// `severity_text`/`severity_number` when set, and `trace_id`/`span_id` as hex when set.
    /// `level` is added too when the record carries a severity and no `level` attribute, so
    /// `sum by (level)` works on OTLP logs as on Loki streams labelled with a level.
    public func structuredMetadata(streamLevel: String? = nil) -> [(name: String, value: String)] {
        var out = attributes
        if !traceID.isEmpty, !out.contains(where: { $0.name == "trace_id" }) { out.append(("trace_id", traceIDHex)) }
        if !spanID.isEmpty, !out.contains(where: { $0.name == "span_id" }) { out.append(("span_id", spanIDHex)) }
        if !severityText.isEmpty { out.append(("severity_text", severityText)) }
        if severityNumber != 0 { out.append(("severity_number", String(severityNumber))) }
        let detected = detectedLevel(streamLevel: streamLevel)
        if !out.contains(where: { $0.name == "detected_level" }) { out.append(("detected_level", detected)) }
        if streamLevel == nil && (severityNumber != 0 || !severityText.isEmpty) && !out.contains(where: { $0.name == "level" }) {
            out.append(("level", detected))
        }
        return out
    }
}

/// Severity names, as Loki's level detection maps them.
public enum LogSeverity {
    /// `trace`, `debug`, `info`, `warn`, `error` or `fatal` for OTLP severity numbers 1–24.
    public static func level(number n: UInt8) -> String? {
        switch n {
        case 1...4: return "trace"
        case 5...8: return "debug"
        case 9...12: return "info"
        case 13...16: return "warn"
        case 17...20: return "error"
        case 21...24: return "fatal"
        default: return nil
        }
    }

    public static func level(text: String) -> String? {
        switch text.lowercased() {
        case "trace", "trc": return "trace"
        case "debug", "dbg", "d": return "debug"
        case "info", "inf", "information", "informational", "notice", "i": return "info"
        case "warn", "warning", "wrn", "w": return "warn"
        case "error", "err", "eror", "e": return "error"
        case "fatal", "critical", "crit", "panic", "emergency", "alert", "f": return "fatal"
        default: return nil
        }
    }

    /// A level written in the line as logfmt (`level=warn`) or JSON (`"level":"warn"`).
    public static func level(inLine line: String) -> String? {
        var s = Substring(line)
        for key in ["level=", "\"level\":\"", "\"level\": \"", "lvl=", "severity="] {
            guard let r = s.range(of: key) else { continue }
            s = s[r.upperBound...]
            let word = s.prefix { $0.isLetter }
            if let l = level(text: String(word)) { return l }
            s = Substring(line)
        }
        return nil
    }

    /// The OTLP severity number of a level name (the first of its range), 0 when unknown.
    public static func number(level: String) -> UInt8 {
        switch LogSeverity.level(text: level) {
        case "trace": return 1
        case "debug": return 5
        case "info": return 9
        case "warn": return 13
        case "error": return 17
        case "fatal": return 21
        default: return 0
        }
    }
}

/// How OTLP resource attributes become Loki stream labels (Loki's default OTLP ingestion):
/// these attributes are promoted to labels with `.` and `-` replaced by `_`; every other
/// attribute becomes structured metadata. A stream without `service.name` gets
/// `service_name="unknown_service"`.
public enum LogStreamLabels {
    public static let promoted: Set<String> = [
        "service.name", "service.namespace", "service.instance.id", "deployment.environment",
        "deployment.environment.name", "host.name", "cloud.region", "cloud.availability_zone",
        "container.name", "k8s.cluster.name", "k8s.namespace.name", "k8s.pod.name", "k8s.container.name",
        "k8s.deployment.name", "k8s.replicaset.name", "k8s.statefulset.name", "k8s.daemonset.name",
        "k8s.cronjob.name", "k8s.job.name",
    ]

    /// `service.name` → `service_name`: characters outside [A-Za-z0-9_] become `_`.
    public static func sanitize(_ name: String) -> String {
        var u = Array(name.utf8)
        for i in u.indices {
            let c = u[i]
            let ok = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F
            if !ok { u[i] = 0x5F }
        }
        if let f = u.first, f >= 0x30 && f <= 0x39 { u.insert(0x5F, at: 0) }
        return String(decoding: u, as: UTF8.self)
    }
}
