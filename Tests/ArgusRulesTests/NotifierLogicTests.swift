import ArgusModel
@testable import ArgusRules
import Foundation
import Testing

/// Routing, grouping, dedup decisions, inhibition, retry schedule and the payload, with no I/O.
@Suite struct NotifierLogicTests {
    static let config = """
        global:
          resolve_timeout: 5m
        route:
          receiver: default
          group_by: [alertname, service]
          group_wait: 10s
          routes:
            - matchers: ['severity="page"']
              receiver: pager
              group_wait: 5s
              continue: true
            - match_re:
                service: pay.*
              receiver: payments
              group_by: ['...']
        receivers:
          - name: default
            webhook_configs:
              - url: http://127.0.0.1:9/default
          - name: pager
            webhook_configs:
              - url: https://pager.example/hook
                send_resolved: false
                max_alerts: 2
                http_config:
                  basic_auth: {username: u, password: p}
          - name: payments
            webhook_configs:
              - url: http://127.0.0.1:9/payments
        inhibit_rules:
          - source_matchers: [alertname="CircuitOpen"]
            target_matchers: [alertname="HighErrorRatio"]
            equal: [service]
        """

    @Test func routingTree() throws {
        let c = try AlertingConfig.parse(Self.config)
        let page = Labels([("alertname", "Down"), ("service", "payments"), ("severity", "page")])
        let routes = c.route.match(page)
        #expect(routes.map(\.receiver) == ["pager", "payments"])
        #expect(routes[0].groupWaitMs == 5000)
        #expect(routes[0].groupIntervalMs == 300_000)
        #expect(routes[0].key == "{}/{severity=\"page\"}")
        #expect(routes[1].groupLabels(page) == page)
        #expect(c.route.match(Labels([("alertname", "X"), ("service", "cart")])).map(\.receiver) == ["default"])
        #expect(c.route.groupLabels(page) == Labels([("alertname", "Down"), ("service", "payments")]))
        #expect(c.receivers["pager"]?.webhooks.first?.sendResolved == false)
        #expect(c.receivers["pager"]?.webhooks.first?.maxAlerts == 2)
        #expect(c.receivers["pager"]?.webhooks.first?.authorization == "Basic dTpw")
        #expect(c.receivers["default"]?.webhooks.first?.sendResolved == true)
    }

    @Test func badConfigsAreRejectedWithALine() {
        #expect(throws: ArgusError.self) { try AlertingConfig.parse("route:\n  receiver: nobody\nreceivers: []\n") }
        do {
            _ = try AlertingConfig.parse("route:\n  receiver: a\nreceivers:\n  - name: a\n    webhook_configs:\n      - url: ftp://x\n")
            Issue.record("accepted an ftp URL")
        } catch {
            #expect("\(error)".contains(":6: receiver \"a\": webhook url must be an http or https URL"))
        }
    }

    @Test func dedupDecision() {
        let now: Int64 = 10_000_000
        let hour: Int64 = 3_600_000
        // No record: notify only when something fires.
        #expect(Notifier.needsUpdate(nil, firing: ["a"], resolved: [], repeatMs: hour, sendResolved: true, now: now))
        #expect(!Notifier.needsUpdate(nil, firing: [], resolved: ["a"], repeatMs: hour, sendResolved: true, now: now))
        let sent = NotificationLogEntry(firing: ["a"], resolved: [], sentAt: now - 1000)
        // Same firing set within repeat_interval: no repeat (the restart case).
        #expect(!Notifier.needsUpdate(sent, firing: ["a"], resolved: [], repeatMs: hour, sendResolved: true, now: now))
        // A new firing alert.
        #expect(Notifier.needsUpdate(sent, firing: ["a", "b"], resolved: [], repeatMs: hour, sendResolved: true, now: now))
        // Everything resolved: notify (even without send_resolved, to clear the log).
        #expect(Notifier.needsUpdate(sent, firing: [], resolved: ["a"], repeatMs: hour, sendResolved: false, now: now))
        // Partly resolved: only with send_resolved.
        let two = NotificationLogEntry(firing: ["a", "b"], resolved: [], sentAt: now - 1000)
        #expect(Notifier.needsUpdate(two, firing: ["a"], resolved: ["b"], repeatMs: hour, sendResolved: true, now: now))
        #expect(!Notifier.needsUpdate(two, firing: ["a"], resolved: ["b"], repeatMs: hour, sendResolved: false, now: now))
        // repeat_interval elapsed.
        #expect(Notifier.needsUpdate(NotificationLogEntry(firing: ["a"], resolved: [], sentAt: now - hour - 1), firing: ["a"], resolved: [],
                                     repeatMs: hour, sendResolved: true, now: now))
        // Already told it resolved: nothing more.
        #expect(!Notifier.needsUpdate(NotificationLogEntry(firing: [], resolved: ["a"], sentAt: now - 1000), firing: [], resolved: ["a"],
                                      repeatMs: hour, sendResolved: true, now: now))
    }

    @Test func inhibition() throws {
        let c = try AlertingConfig.parse(Self.config)
        let now: Int64 = 1_000_000
        let source = NotifierAlert(labels: Labels([("alertname", "CircuitOpen"), ("service", "payments")]), annotations: Labels(),
                                   startsAt: 0, endsAt: now + 60_000, generatorURL: "")
        let target = NotifierAlert(labels: Labels([("alertname", "HighErrorRatio"), ("service", "payments")]), annotations: Labels(),
                                   startsAt: 0, endsAt: now + 60_000, generatorURL: "")
        let other = NotifierAlert(labels: Labels([("alertname", "HighErrorRatio"), ("service", "cart")]), annotations: Labels(),
                                  startsAt: 0, endsAt: now + 60_000, generatorURL: "")
        #expect(Notifier.inhibited(target, by: c.inhibitRules, among: [source, target, other], now: now))
        #expect(!Notifier.inhibited(other, by: c.inhibitRules, among: [source, target, other], now: now))
        var resolvedSource = source
        resolvedSource.endsAt = now - 1
        #expect(!Notifier.inhibited(target, by: c.inhibitRules, among: [resolvedSource, target], now: now))
    }

    @Test func retryScheduleBacksOffWithJitterAndHonoursRetryAfter() {
        var s = RetrySchedule(baseMs: 100, capMs: 1000, maxElapsedMs: 3000)
        #expect(s.nextDelay(retryAfterMs: nil, random: 0) == 50)
        #expect(s.nextDelay(retryAfterMs: nil, random: 0.999) == 199)
        #expect(s.nextDelay(retryAfterMs: nil, random: 0.5) == 300)
        #expect(s.nextDelay(retryAfterMs: nil, random: 0) == 400)
        // Capped at capMs.
        #expect(s.nextDelay(retryAfterMs: nil, random: 0) == 500)
        #expect(s.nextDelay(retryAfterMs: nil, random: 1) == 1000)
        // Retry-After wins when longer; the budget ends the retries.
        var r = RetrySchedule(baseMs: 100, capMs: 1000, maxElapsedMs: 3000)
        #expect(r.nextDelay(retryAfterMs: 2000, random: 0) == 2000)
        #expect(r.nextDelay(retryAfterMs: 2000, random: 0) == nil)
        #expect(RetrySchedule.isRetryable(status: 500) && RetrySchedule.isRetryable(status: 503) && RetrySchedule.isRetryable(status: 429))
        #expect(!RetrySchedule.isRetryable(status: 400) && !RetrySchedule.isRetryable(status: 404))
        #expect(RetrySchedule.parseRetryAfter("7") == 7000)
        #expect(RetrySchedule.parseRetryAfter("soon") == nil)
    }

    @Test func payloadIsAlertmanagerVersion4() {
        let now: Int64 = 1_700_000_100_000
        let a = NotifierAlert(labels: Labels([("alertname", "Down"), ("instance", "b"), ("job", "api")]),
                              annotations: Labels([("summary", "b down")]), startsAt: 1_700_000_000_123, endsAt: now + 240_000,
                              generatorURL: "http://argus/graph?g0.expr=up+%3D%3D+0&g0.tab=1")
        let b = NotifierAlert(labels: Labels([("alertname", "Down"), ("instance", "a"), ("job", "api")]),
                              annotations: Labels([("summary", "a down")]), startsAt: 1_700_000_000_000, endsAt: now - 1,
                              generatorURL: "http://argus/graph?g0.expr=up+%3D%3D+0&g0.tab=1")
        let body = WebhookPayload.encode(receiver: "team", groupKey: "{}:{alertname=\"Down\"}", groupLabels: Labels([("alertname", "Down")]),
                                         alerts: [a, b], maxAlerts: 0, externalURL: "http://argus", now: now)
        let expected = """
            {"receiver":"team","status":"firing","alerts":[\
            {"status":"resolved","labels":{"alertname":"Down","instance":"a","job":"api"},"annotations":{"summary":"a down"},\
            "startsAt":"2023-11-14T22:13:20Z","endsAt":"2023-11-14T22:14:59.999Z","generatorURL":"http://argus/graph?g0.expr=up+%3D%3D+0&g0.tab=1",\
            "fingerprint":"\(Fingerprint.hex(b.labels))"},\
            {"status":"firing","labels":{"alertname":"Down","instance":"b","job":"api"},"annotations":{"summary":"b down"},\
            "startsAt":"2023-11-14T22:13:20.123Z","endsAt":"2023-11-14T22:19:00Z","generatorURL":"http://argus/graph?g0.expr=up+%3D%3D+0&g0.tab=1",\
            "fingerprint":"\(Fingerprint.hex(a.labels))"}],\
            "groupLabels":{"alertname":"Down"},"commonLabels":{"alertname":"Down","job":"api"},"commonAnnotations":{},\
            "externalURL":"http://argus","version":"4","groupKey":"{}:{alertname=\\"Down\\"}","truncatedAlerts":0}
            """
        #expect(body == expected)
        // max_alerts truncates and counts the rest.
        let t = WebhookPayload.encode(receiver: "r", groupKey: "k", groupLabels: Labels(), alerts: [a, b], maxAlerts: 1, externalURL: "", now: now)
        let obj = try? JSONSerialization.jsonObject(with: Data(t.utf8)) as? [String: Any]
        #expect((obj?["alerts"] as? [Any])?.count == 1)
        #expect(obj?["truncatedAlerts"] as? Int == 1)
    }
}
