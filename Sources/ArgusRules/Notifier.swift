import ArgusModel
import ArgusStorage
import Foundation
import Logging
import ServiceLifecycle

/// Alertmanager's dispatcher in-process: routes alerts through the routing tree into
/// aggregation groups, waits `group_wait` / `group_interval`, drops inhibited alerts, asks the
/// persisted notification log whether the receiver must hear about the group (new firing
/// alerts, newly resolved ones, or `repeat_interval` elapsed), and delivers webhook messages.
///
/// Because the notification log is written only after a successful delivery and survives a
/// restart, a restarted Argus neither repeats a notification before `repeat_interval` nor
/// forgets to send one it owed.
public final class Notifier: Service, Sendable {
    struct AggregationGroup {
        var route: Route
        var labels: Labels
        var groupKey: String
        var alerts: [String: NotifierAlert] = [:]
        var nextFlush: Int64
        var hasFlushed = false
        var flushing = false
    }

    struct State {
        var config: AlertingConfig?
        var groups: [String: AggregationGroup] = [:]
        /// Every alert received, by fingerprint (for inhibition).
        var alerts: [String: NotifierAlert] = [:]
        /// The notification log when no catalog is given (tests, `argus rules test`).
        var memoryLog: [String: NotificationLogEntry] = [:]
        var amLastSent: [String: (Int64, Bool)] = [:]
    }

    let state: LockedBox<State>
    let store: RulesStateStore?
    let sender: WebhookSender
    let externalURL: String
    let alertmanagerURL: String?
    let logger: Logger
    let tickMs: Int64
    let stats = LockedBox(NotifierStats())
    /// Silences: matching alerts are not notified while a silence is active.
    public let silences: SilenceStore?

    public init(config: AlertingConfig?, store: RulesStateStore?, externalURL: String, alertmanagerURL: String? = nil,
                silences: SilenceStore? = nil, logger: Logger, retryBaseMs: Int64 = 500, tickMs: Int64 = 100) {
        state = LockedBox(State(config: config))
        self.silences = silences
        self.store = store
        self.externalURL = externalURL
        self.alertmanagerURL = alertmanagerURL
        self.logger = logger
        self.tickMs = tickMs
        sender = WebhookSender(logger: logger, retryBaseMs: retryBaseMs)
    }

    /// Replaces the configuration (on reload). Groups keep their alerts and are re-routed.
    public func setConfig(_ config: AlertingConfig?) {
        let alerts = state.withLock { s -> [NotifierAlert] in
            s.config = config
            s.groups = [:]
            return Array(s.alerts.values)
        }
        receive(alerts)
    }

    /// Takes the current alerts of a rule group (firing, and resolved ones with their end time).
    public func receive(_ alerts: [NotifierAlert]) {
        let now = TimeUtil.nowMillis()
        var toAM: [NotifierAlert] = []
        state.withLock { s in
            for a in alerts {
                s.alerts[a.fingerprint] = a
                if alertmanagerURL != nil {
                    let resolved = a.isResolved(at: now)
                    let last = s.amLastSent[a.fingerprint]
                    if last == nil || last!.1 != resolved || (!resolved && now - last!.0 >= 60_000) {
                        s.amLastSent[a.fingerprint] = (now, resolved)
                        toAM.append(a)
                    }
                }
                guard let config = s.config else { continue }
                for route in config.route.match(a.labels) {
                    let gl = route.groupLabels(a.labels)
                    let key = route.key + ":" + Self.labelSetString(gl)
                    if s.groups[key] == nil {
                        s.groups[key] = AggregationGroup(route: route, labels: gl, groupKey: key, nextFlush: now + route.groupWaitMs)
                    }
                    s.groups[key]!.alerts[a.fingerprint] = a
                    // An alert older than group_wait need not wait (Alertmanager flushes such groups at once).
                    if !s.groups[key]!.hasFlushed && a.startsAt + route.groupWaitMs <= now {
                        s.groups[key]!.nextFlush = min(s.groups[key]!.nextFlush, now)
                    }
                }
            }
        }
        if let am = alertmanagerURL, !toAM.isEmpty {
            let sender = self.sender
            let logger = self.logger
            Task {
                let r = await sender.postToAlertmanager(am, alerts: toAM)
                if !r.delivered { logger.error("sending alerts to Alertmanager failed", metadata: ["url": "\(am)", "error": "\(r.lastError)"]) }
            }
        }
    }

    /// Prometheus' `model.LabelSet` text: `{a="b", c="d"}`.
    static func labelSetString(_ l: Labels) -> String {
        "{" + l.items.map { "\($0.name)=\(quoteLabelValue($0.value))" }.joined(separator: ", ") + "}"
    }

    public func run() async throws {
        await withDiscardingTaskGroup { tasks in
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                let now = TimeUtil.nowMillis()
                let due = state.withLock { s -> [String] in
                    var keys: [String] = []
                    for (k, g) in s.groups where g.nextFlush <= now && !g.flushing {
                        s.groups[k]!.flushing = true
                        s.groups[k]!.nextFlush = now + g.route.groupIntervalMs
                        s.groups[k]!.hasFlushed = true
                        keys.append(k)
                    }
                    return keys
                }
                for k in due { tasks.addTask { await self.flush(k) } }
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(self.tickMs)) }
            }
            // Shutting down: deliveries still retrying stop (the notification log says what is owed).
            tasks.cancelAll()
        }
        await sender.shutdown()
    }

    /// Sends what one aggregation group owes its receiver, if anything.
    func flush(_ key: String) async {
        let now = TimeUtil.nowMillis()
        guard let snapshot = state.withLock({ s -> (AggregationGroup, AlertingConfig, [NotifierAlert])? in
            guard let g = s.groups[key], let c = s.config else { return nil }
            return (g, c, Array(s.alerts.values))
        }) else { return }
        let (group, config, allAlerts) = snapshot
        var firing: [NotifierAlert] = []
        var resolved: [NotifierAlert] = []
        for a in group.alerts.values {
            if a.isResolved(at: now) {
                resolved.append(a)
            } else if !Self.inhibited(a, by: config.inhibitRules, among: allAlerts, now: now) && !(silences?.isSilenced(a.labels, at: now) ?? false) {
                firing.append(a)
            }
        }
        let firingSet = Set(firing.map(\.fingerprint))
        let resolvedSet = Set(resolved.map(\.fingerprint))
        var allDelivered = true
        let receiverName = group.route.receiver
        for (i, hook) in (config.receivers[receiverName]?.webhooks ?? []).enumerated() {
            let logKey = "\(receiverName)/webhook/\(i)"
            let entry: NotificationLogEntry?
            do { entry = try await runBlocking { try self.readLog(logKey, key) } } catch {
                logger.error("cannot read the notification log; skipping this flush", metadata: ["error": "\(error)"])
                allDelivered = false
                continue
            }
            guard Self.needsUpdate(entry, firing: firingSet, resolved: hook.sendResolved ? resolvedSet : [],
                                   repeatMs: group.route.repeatIntervalMs, sendResolved: hook.sendResolved, now: now) else { continue }
            let payloadAlerts = firing + (hook.sendResolved ? resolved : [])
            if !payloadAlerts.isEmpty {
                let body = WebhookPayload.encode(receiver: receiverName, groupKey: group.groupKey, groupLabels: group.labels,
                                                 alerts: payloadAlerts, maxAlerts: hook.maxAlerts, externalURL: externalURL, now: now)
                let budget = min(max(group.route.groupIntervalMs, 10_000), 5 * 60_000)
                let outcome = await sender.deliver(body, to: hook, maxElapsedMs: budget)
                stats.withLock {
                    $0.attempts += outcome.attempts
                    if outcome.delivered { $0.sent += 1 } else { $0.failed += 1 }
                }
                guard outcome.delivered else {
                    logger.error("notification failed; the next flush tries again", metadata: [
                        "receiver": "\(receiverName)", "group": "\(group.groupKey)", "error": "\(outcome.lastError)", "attempts": "\(outcome.attempts)"])
                    allDelivered = false
                    continue
                }
                logger.info("notified", metadata: ["receiver": "\(receiverName)", "group": "\(group.groupKey)",
                                                   "firing": "\(firing.count)", "resolved": "\(resolved.count)"])
            }
            do {
                let entry = NotificationLogEntry(firing: firingSet, resolved: hook.sendResolved ? resolvedSet : [], sentAt: now)
                try await runBlocking { try self.writeLog(logKey, key, entry) }
            } catch {
                logger.error("cannot write the notification log", metadata: ["error": "\(error)"])
            }
        }
        state.withLock { s in
            guard var g = s.groups[key] else { return }
            g.flushing = false
            if allDelivered {
                // Resolved alerts the receiver has now heard about leave the group (unless they changed meanwhile).
                for r in resolved where g.alerts[r.fingerprint] == r { g.alerts[r.fingerprint] = nil }
            }
            if g.alerts.isEmpty {
                s.groups[key] = nil
            } else {
                s.groups[key] = g
            }
            for r in resolved where s.alerts[r.fingerprint] == r && !s.groups.values.contains(where: { $0.alerts[r.fingerprint] != nil }) {
                s.alerts[r.fingerprint] = nil
            }
        }
    }

    func readLog(_ receiver: String, _ key: String) throws -> NotificationLogEntry? {
        if let store { return try store.notificationLog(receiver: receiver, groupKey: key) }
        return state.withLock { $0.memoryLog[receiver + "\u{0}" + key] }
    }

    func writeLog(_ receiver: String, _ key: String, _ e: NotificationLogEntry) throws {
        if let store { return try store.recordNotification(receiver: receiver, groupKey: key, e) }
        state.withLock { $0.memoryLog[receiver + "\u{0}" + key] = e }
    }

    /// Alertmanager's dedup decision: notify when there is no record and something fires, when
    /// a firing alert is new to the receiver, when everything it was told about resolved, when
    /// (with send_resolved) an alert newly resolved, or when `repeat_interval` has passed.
    public static func needsUpdate(_ entry: NotificationLogEntry?, firing: Set<String>, resolved: Set<String>,
                                   repeatMs: Int64, sendResolved: Bool, now: Int64) -> Bool {
        guard let entry else { return !firing.isEmpty }
        if !firing.isSubset(of: entry.firing) { return true }
        if firing.isEmpty { return !entry.firing.isEmpty }
        if sendResolved && !resolved.isSubset(of: entry.resolved) { return true }
        return entry.sentAt < now - repeatMs
    }

    /// Whether a firing source alert inhibits `a` (Alertmanager's inhibit_rules).
    static func inhibited(_ a: NotifierAlert, by rules: [InhibitRule], among all: [NotifierAlert], now: Int64) -> Bool {
        for r in rules where r.target.allSatisfy({ $0.matches(a.labels.value($0.name)) }) {
            for s in all where s.fingerprint != a.fingerprint && !s.isResolved(at: now) {
                guard r.source.allSatisfy({ $0.matches(s.labels.value($0.name)) }) else { continue }
                if r.equal.allSatisfy({ s.labels.value($0) == a.labels.value($0) }) { return true }
            }
        }
        return false
    }

    /// Delivery counters, for tests and self-monitoring.
    public var deliveryStats: NotifierStats { stats.withLock { $0 } }

    /// Groups currently held, by group key, with their alert count.
    public var groupSummary: [String: Int] {
        state.withLock { s in s.groups.mapValues { $0.alerts.count } }
    }
}

public struct NotifierStats: Sendable {
    public var sent = 0
    public var failed = 0
    public var attempts = 0
}
