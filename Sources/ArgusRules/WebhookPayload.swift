import ArgusModel
import Foundation

/// An alert as the notifier sees it (Alertmanager's model): labels, annotations, start and end
/// (ms; `endsAt` 0 means not set), the URL of the rule that produced it.
public struct NotifierAlert: Sendable, Equatable {
    public var labels: Labels
    public var annotations: Labels
    public var startsAt: Int64
    public var endsAt: Int64
    public var generatorURL: String
    public let fingerprint: String

    public init(labels: Labels, annotations: Labels, startsAt: Int64, endsAt: Int64, generatorURL: String) {
        self.labels = labels
        self.annotations = annotations
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.generatorURL = generatorURL
        fingerprint = Fingerprint.hex(labels)
    }

    /// Resolved when its end time has passed.
    public func isResolved(at now: Int64) -> Bool { endsAt != 0 && endsAt <= now }
}

/// Alertmanager's webhook message, version "4", written with the field order and formats of
/// Alertmanager's Go structs (times in RFC 3339 with nanoseconds, label maps sorted by name).
public enum WebhookPayload {
    public static func encode(receiver: String, groupKey: String, groupLabels: Labels, alerts all: [NotifierAlert],
                              maxAlerts: Int, externalURL: String, now: Int64) -> String {
        let sorted = sortAlerts(all)
        var alerts = sorted
        var truncated = 0
        if maxAlerts > 0 && alerts.count > maxAlerts {
            truncated = alerts.count - maxAlerts
            alerts = Array(alerts.prefix(maxAlerts))
        }
        let firing = sorted.contains { !$0.isResolved(at: now) }
        var out = "{\"receiver\":"
        JSONText.appendQuoted(receiver, to: &out)
        out += ",\"status\":\"" + (firing ? "firing" : "resolved") + "\",\"alerts\":["
        for (i, a) in alerts.enumerated() {
            if i > 0 { out += "," }
            out += "{\"status\":\"" + (a.isResolved(at: now) ? "resolved" : "firing") + "\",\"labels\":"
            appendMap(a.labels, to: &out)
            out += ",\"annotations\":"
            appendMap(a.annotations, to: &out)
            out += ",\"startsAt\":\"" + rfc3339(a.startsAt) + "\",\"endsAt\":\"" + rfc3339(a.endsAt) + "\",\"generatorURL\":"
            JSONText.appendQuoted(a.generatorURL, to: &out)
            out += ",\"fingerprint\":\"" + a.fingerprint + "\"}"
        }
        out += "],\"groupLabels\":"
        appendMap(groupLabels, to: &out)
        out += ",\"commonLabels\":"
        appendMap(common(sorted.map(\.labels)), to: &out)
        out += ",\"commonAnnotations\":"
        appendMap(common(sorted.map(\.annotations)), to: &out)
        out += ",\"externalURL\":"
        JSONText.appendQuoted(externalURL, to: &out)
        out += ",\"version\":\"4\",\"groupKey\":"
        JSONText.appendQuoted(groupKey, to: &out)
        out += ",\"truncatedAlerts\":\(truncated)}"
        return out
    }

    /// Alertmanager's order: by `job`, then `instance`, then fingerprint.
    static func sortAlerts(_ a: [NotifierAlert]) -> [NotifierAlert] {
        a.sorted { x, y in
            for k in ["job", "instance"] {
                let xv = x.labels[k], yv = y.labels[k]
                if xv != nil || yv != nil {
                    if xv == nil { return true }
                    if yv == nil { return false }
                    if xv! != yv! { return xv! < yv! }
                }
            }
            return Fingerprint.of(x.labels) < Fingerprint.of(y.labels)
        }
    }

    /// Labels present with the same value in every set.
    static func common(_ sets: [Labels]) -> Labels {
        guard var c = sets.first else { return Labels() }
        for s in sets.dropFirst() {
            c = Labels(sorted: c.items.filter { s[$0.name] == $0.value })
        }
        return c
    }

    static func appendMap(_ l: Labels, to out: inout String) {
        out += "{"
        for (i, item) in l.items.enumerated() {
            if i > 0 { out += "," }
            JSONText.appendQuoted(item.name, to: &out)
            out += ":"
            JSONText.appendQuoted(item.value, to: &out)
        }
        out += "}"
    }

    /// Go's RFC 3339 with nanoseconds (trailing zeros dropped) in UTC; 0 is Go's zero time.
    public static func rfc3339(_ ms: Int64) -> String {
        if ms == 0 { return "0001-01-01T00:00:00Z" }
        var secs = ms / 1000
        var frac = ms % 1000
        if frac < 0 { frac += 1000; secs -= 1 }
        var t = time_t(secs)
        var tmv = tm()
        gmtime_r(&t, &tmv)
        var s = String(format: "%04d-%02d-%02dT%02d:%02d:%02d", Int(tmv.tm_year) + 1900, Int(tmv.tm_mon) + 1, Int(tmv.tm_mday),
                       Int(tmv.tm_hour), Int(tmv.tm_min), Int(tmv.tm_sec))
        if frac != 0 {
            var f = String(format: "%03d", Int(frac))
            while f.hasSuffix("0") { f.removeLast() }
            s += "." + f
        }
        return s + "Z"
    }
}
