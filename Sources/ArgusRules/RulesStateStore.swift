import ArgusModel
import ArgusStorage
import Foundation
import GRDB

/// One notification log entry: what a receiver was last told about one alert group.
public struct NotificationLogEntry: Sendable, Equatable {
    /// Fingerprints of the firing alerts in the last notification.
    public var firing: Set<String>
    /// Fingerprints of the resolved alerts in the last notification.
    public var resolved: Set<String>
    /// When it was sent (ms).
    public var sentAt: Int64

    public init(firing: Set<String>, resolved: Set<String>, sentAt: Int64) {
        self.firing = firing
        self.resolved = resolved
        self.sentAt = sentAt
    }
}

/// Where alert state and the notification log live across restarts: tables of the catalog
/// (migration "rules-v1"), written in one transaction per change so a crash leaves the old or
/// the new state, never a mix.
///
/// Tables: `rule_alerts` (one row per pending, firing or retained resolved alert, keyed by
/// group, rule and label fingerprint) and `notification_log` (one row per receiver and group key).
public final class RulesStateStore: Sendable {
    let db: DatabaseQueue

    public init(catalog: Catalog) throws {
        db = catalog.database
        var m = DatabaseMigrator()
        m.registerMigration("rules-v1") { db in
            try db.execute(sql: """
                CREATE TABLE rule_alerts (
                    group_key TEXT NOT NULL, rule TEXT NOT NULL, fingerprint TEXT NOT NULL,
                    labels TEXT NOT NULL, annotations TEXT NOT NULL, state TEXT NOT NULL, value REAL NOT NULL,
                    active_at INTEGER NOT NULL, fired_at INTEGER NOT NULL, resolved_at INTEGER NOT NULL,
                    keep_firing_since INTEGER NOT NULL,
                    PRIMARY KEY (group_key, rule, fingerprint));
                CREATE TABLE notification_log (
                    receiver TEXT NOT NULL, group_key TEXT NOT NULL, firing TEXT NOT NULL, resolved TEXT NOT NULL,
                    sent_at INTEGER NOT NULL,
                    PRIMARY KEY (receiver, group_key));
                CREATE TABLE silences (
                    id TEXT PRIMARY KEY, matchers TEXT NOT NULL, starts_at INTEGER NOT NULL, ends_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL, created_by TEXT NOT NULL, comment TEXT NOT NULL);
                """)
        }
        do { try m.migrate(db) } catch {
            throw ArgusError(.io, "cannot prepare the alert state tables in the catalog", cause: error)
        }
    }

    /// Replaces the stored alerts of one rule group.
    public func saveGroup(_ groupKey: String, alerts: [(rule: String, alert: Alert)]) throws {
        try db.write { db in
            try db.execute(sql: "DELETE FROM rule_alerts WHERE group_key = ?", arguments: [groupKey])
            for (rule, a) in alerts {
                try db.execute(sql: """
                    INSERT OR REPLACE INTO rule_alerts(group_key, rule, fingerprint, labels, annotations, state, value,
                        active_at, fired_at, resolved_at, keep_firing_since) VALUES (?,?,?,?,?,?,?,?,?,?,?)
                    """, arguments: [groupKey, rule, a.fingerprint, Self.encode(a.labels), Self.encode(a.annotations), a.state.rawValue,
                                     a.value.isFinite ? a.value : 0, a.activeAt, a.firedAt, a.resolvedAt, a.keepFiringSince])
            }
        }
    }

    /// Every stored alert, by group key and rule name.
    public func loadAlerts() throws -> [String: [String: [Alert]]] {
        try db.read { db in
            var out: [String: [String: [Alert]]] = [:]
            let rows = try Row.fetchCursor(db, sql: "SELECT group_key, rule, labels, annotations, state, value, active_at, fired_at, resolved_at, keep_firing_since FROM rule_alerts")
            while let r = try rows.next() {
                let g: String = r[0], rule: String = r[1]
                guard let state = AlertState(rawValue: r[4]) else { continue }
                var a = Alert(labels: Self.decode(r[2]), annotations: Self.decode(r[3]), state: state, value: r[5], activeAt: r[6])
                a.firedAt = r[7]
                a.resolvedAt = r[8]
                a.keepFiringSince = r[9]
                out[g, default: [:]][rule, default: []].append(a)
            }
            return out
        }
    }

    public func notificationLog(receiver: String, groupKey: String) throws -> NotificationLogEntry? {
        try db.read { db in
            guard let r = try Row.fetchOne(db, sql: "SELECT firing, resolved, sent_at FROM notification_log WHERE receiver = ? AND group_key = ?",
                                           arguments: [receiver, groupKey]) else { return nil }
            let f: String = r[0], res: String = r[1]
            return NotificationLogEntry(firing: Set(f.split(separator: ",").map(String.init)),
                                        resolved: Set(res.split(separator: ",").map(String.init)), sentAt: r[2])
        }
    }

    /// Records a sent notification; an entry with no firing alert left is kept (it says the
    /// receiver was told everything resolved) until `prune` removes old ones.
    public func recordNotification(receiver: String, groupKey: String, _ e: NotificationLogEntry) throws {
        try db.write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO notification_log(receiver, group_key, firing, resolved, sent_at) VALUES (?,?,?,?,?)",
                           arguments: [receiver, groupKey, e.firing.sorted().joined(separator: ","), e.resolved.sorted().joined(separator: ","), e.sentAt])
        }
    }

    /// Drops log entries older than `before` (ms) that have no firing alert.
    public func prune(before: Int64) throws {
        try db.write { db in
            try db.execute(sql: "DELETE FROM notification_log WHERE sent_at < ? AND firing = ''", arguments: [before])
        }
    }

    static func encode(_ l: Labels) -> String {
        var out = "{"
        for (i, item) in l.items.enumerated() {
            if i > 0 { out += "," }
            JSONText.appendQuoted(item.name, to: &out)
            out += ":"
            JSONText.appendQuoted(item.value, to: &out)
        }
        return out + "}"
    }

    static func decode(_ s: String) -> Labels {
        guard let obj = try? JSONSerialization.jsonObject(with: Data(s.utf8)) as? [String: String] else { return Labels() }
        return Labels(obj)
    }
}
