import ArgusModel
import ArgusRules
import ArgusTestKit
import Foundation
import Testing

/// The must-hold notification behaviours, end to end: a real `argus serve` child process
/// evaluates a rule over data posted to it and notifies a real HTTP receiver on loopback.
@Suite(.serialized) struct WebhookDeliveryTests {
    /// A rules dir, an alerting config pointing at `receiverURL`, and the serve arguments.
    struct Setup {
        let dir: TempDir
        var dataDir: String { dir.path + "/data" }
        var args: [String]

        init(receiverURL: String, repeatInterval: String = "1h") throws {
            dir = TempDir("argus-rules-e2e")
            let rulesDir = dir.path + "/rules"
            try FileManager.default.createDirectory(atPath: rulesDir, withIntermediateDirectories: true)
            try """
            groups:
              - name: e2e
                interval: 1s
                rules:
                  - record: queue:depth:max
                    expr: max by (queue) (e2e_queue_depth)
                  - alert: QueueStuck
                    expr: e2e_queue_depth > 10
                    labels:
                      severity: page
                    annotations:
                      summary: "Queue {{ $labels.queue }} holds {{ $value }} items"
            """.write(toFile: rulesDir + "/e2e.yml", atomically: true, encoding: .utf8)
            try """
            route:
              receiver: hook
              group_by: [alertname]
              group_wait: 1s
              group_interval: 1s
              repeat_interval: \(repeatInterval)
            receivers:
              - name: hook
                webhook_configs:
                  - url: \(receiverURL)
                    send_resolved: true
                    http_config:
                      authorization:
                        credentials: s3cret
            """.write(toFile: dir.path + "/alerting.yml", atomically: true, encoding: .utf8)
            args = ["--self-scrape-interval", "0s", "--rules", rulesDir, "--alerting-config", dir.path + "/alerting.yml",
                    "--external-url", "http://argus.example:4318"]
        }
    }

    static func setDepth(_ server: ArgusProcess, _ v: Int) throws {
        let r = try server.client.post("/api/v1/import/prometheus", "e2e_queue_depth{queue=\"mail\"} \(v) \(TimeUtil.nowMillis())\n")
        #expect(r.status == 204, "\(r.text)")
    }

    static let topKeys: Set<String> = ["receiver", "status", "alerts", "groupLabels", "commonLabels", "commonAnnotations",
                                       "externalURL", "version", "groupKey", "truncatedAlerts"]
    static let alertKeys: Set<String> = ["status", "labels", "annotations", "startsAt", "endsAt", "generatorURL", "fingerprint"]

    @Test func firingThenResolvedWithAlertmanagerPayload() async throws {
        let receiver = try await TestReceiver()
        let setup = try Setup(receiverURL: receiver.url)
        defer { setup.dir.remove() }
        let server = try ArgusProcess(dataDir: setup.dataDir, extraArgs: setup.args)
        defer { server.stop() }
        try Self.setDepth(server, 50)
        let fired = await receiver.wait(seconds: 20) { $0.count >= 1 }
        #expect(fired, "no firing notification; stderr:\n\(server.stderr)")
        guard fired else { await receiver.stop(); return }
        let first = receiver.delivered[0]
        #expect(first.authorization == "Bearer s3cret")
        let msg = first.json
        #expect(Set(msg.keys) == Self.topKeys)
        #expect(msg["version"] as? String == "4")
        #expect(msg["status"] as? String == "firing")
        #expect(msg["receiver"] as? String == "hook")
        #expect(msg["groupKey"] as? String == "{}:{alertname=\"QueueStuck\"}")
        #expect(msg["groupLabels"] as? [String: String] == ["alertname": "QueueStuck"])
        #expect(msg["commonLabels"] as? [String: String] == ["alertname": "QueueStuck", "queue": "mail", "severity": "page"])
        #expect(msg["commonAnnotations"] as? [String: String] == ["summary": "Queue mail holds 50 items"])
        #expect(msg["externalURL"] as? String == "http://argus.example:4318")
        #expect(msg["truncatedAlerts"] as? Int == 0)
        // Field order as Alertmanager's Go structs write it.
        #expect(first.body.hasPrefix("{\"receiver\":\"hook\",\"status\":\"firing\",\"alerts\":[{\"status\":\"firing\",\"labels\":{\"alertname\":\"QueueStuck\",\"queue\":\"mail\",\"severity\":\"page\"},\"annotations\":{\"summary\":\"Queue mail holds 50 items\"},\"startsAt\":\""))
        let alerts = msg["alerts"] as? [[String: Any]] ?? []
        #expect(alerts.count == 1)
        let a = alerts.first ?? [:]
        #expect(Set(a.keys) == Self.alertKeys)
        #expect(a["status"] as? String == "firing")
        // Alertmanager's fingerprint of {alertname="QueueStuck", queue="mail", severity="page"} (FNV-1a 64).
        #expect(a["fingerprint"] as? String == "ed67f62bc7eeca85")
        #expect((a["generatorURL"] as? String ?? "").hasPrefix("http://argus.example:4318/graph?g0.expr=e2e_queue_depth+%3E+10"))
        let startsAt = a["startsAt"] as? String ?? ""
        #expect(startsAt.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$"#, options: .regularExpression) != nil)

        try Self.setDepth(server, 0)
        let resolved = await receiver.wait(seconds: 20) { $0.count >= 2 }
        #expect(resolved, "no resolved notification; stderr:\n\(server.stderr)")
        if resolved {
            let m = receiver.delivered[1].json
            #expect(Set(m.keys) == Self.topKeys)
            #expect(m["status"] as? String == "resolved")
            let ra = (m["alerts"] as? [[String: Any]] ?? []).first ?? [:]
            #expect(ra["status"] as? String == "resolved")
            #expect(ra["fingerprint"] as? String == "ed67f62bc7eeca85")
            #expect(ra["startsAt"] as? String == startsAt)
            #expect((ra["endsAt"] as? String ?? "") > startsAt)
        }
        // Nothing more: neither a repeat (repeat_interval 1h) nor a second resolved message.
        try await Task.sleep(for: .seconds(3))
        #expect(receiver.delivered.count == 2)
        await receiver.stop()
    }

    @Test func failingReceiverGetsTheNotificationExactlyOnce() async throws {
        let receiver = try await TestReceiver(script: [(500, nil), (500, nil), (500, nil)])
        let setup = try Setup(receiverURL: receiver.url)
        defer { setup.dir.remove() }
        let server = try ArgusProcess(dataDir: setup.dataDir, extraArgs: setup.args)
        defer { server.stop() }
        try Self.setDepth(server, 50)
        let ok = await receiver.wait(seconds: 30) { $0.count >= 1 }
        #expect(ok, "no notification after retries; stderr:\n\(server.stderr)")
        // Several group intervals later there is still exactly one delivered notification,
        // after exactly three failed attempts.
        try await Task.sleep(for: .seconds(4))
        #expect(receiver.delivered.count == 1)
        let statuses = receiver.received.withLock { $0.map(\.status) }
        #expect(statuses == [500, 500, 500, 200])
        let bodies = receiver.received.withLock { $0.map(\.body) }
        // Every attempt carried the same message.
        #expect(Set(bodies).count == 1)
        await receiver.stop()
    }

    @Test func retryAfterIsHonoured() async throws {
        let receiver = try await TestReceiver(script: [(429, "2")])
        let setup = try Setup(receiverURL: receiver.url)
        defer { setup.dir.remove() }
        let server = try ArgusProcess(dataDir: setup.dataDir, extraArgs: setup.args)
        defer { server.stop() }
        try Self.setDepth(server, 50)
        let firstAttempt = await receiver.wait(seconds: 20) { _ in receiver.received.withLock { !$0.isEmpty } }
        #expect(firstAttempt)
        let t0 = Date()
        let ok = await receiver.wait(seconds: 20) { $0.count >= 1 }
        #expect(ok)
        // The retry waited for Retry-After (2 s), not the ~0.5 s backoff.
        #expect(Date().timeIntervalSince(t0) >= 1.5)
        await receiver.stop()
    }

    @Test func killDashNineWhileFiringSendsNoDuplicateAndStillResolves() async throws {
        let receiver = try await TestReceiver()
        let setup = try Setup(receiverURL: receiver.url)
        defer { setup.dir.remove() }
        var server = try ArgusProcess(dataDir: setup.dataDir, extraArgs: setup.args)
        try Self.setDepth(server, 50)
        let fired = await receiver.wait(seconds: 20) { $0.count >= 1 }
        #expect(fired, "no firing notification; stderr:\n\(server.stderr)")
        let before = try server.client.get("/api/v1/alerts").text
        server.kill9()

        server = try ArgusProcess(dataDir: setup.dataDir, extraArgs: setup.args)
        defer { server.stop() }
        // The restored alert is firing at once, with its original activeAt (not re-pending).
        let after = try server.client.get("/api/v1/alerts").text
        #expect(after.contains("\"state\":\"firing\""), "\(after)")
        let activeAt = { (s: String) -> String? in
            s.range(of: #""activeAt":"[^"]+""#, options: .regularExpression).map { String(s[$0]) }
        }
        #expect(activeAt(after) != nil && activeAt(after) == activeAt(before), "before: \(before)\nafter: \(after)")
        // Many evaluations and group intervals later: still only the one firing notification.
        try await Task.sleep(for: .seconds(5))
        #expect(receiver.delivered.count == 1, "duplicate after restart: \(receiver.delivered.map(\.body))")

        try Self.setDepth(server, 0)
        let resolved = await receiver.wait(seconds: 20) { $0.count >= 2 }
        #expect(resolved, "no resolved notification after the restart; stderr:\n\(server.stderr)")
        if resolved {
            let m = receiver.delivered[1].json
            #expect(m["status"] as? String == "resolved")
            #expect(((m["alerts"] as? [[String: Any]])?.first?["fingerprint"] as? String) == "ed67f62bc7eeca85")
        }
        await receiver.stop()
    }

    static func cli(_ args: [String]) throws -> (Int32, String, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: ArgusProcess.binary)
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    @Test func silenceHoldsTheNotificationUntilExpired() async throws {
        let receiver = try await TestReceiver()
        let setup = try Setup(receiverURL: receiver.url)
        defer { setup.dir.remove() }
        let server = try ArgusProcess(dataDir: setup.dataDir, extraArgs: setup.args)
        defer { server.stop() }
        let url = "http://127.0.0.1:\(server.port)"
        var (code, out, err) = try Self.cli(["silence", "add", "--server", url, "--duration", "1h", "--comment", "maintenance",
                                             "alertname=QueueStuck", "queue=~\"ma.*\""])
        #expect(code == 0, "\(err)")
        let id = out.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(id.count == 36)
        (code, out, err) = try Self.cli(["silence", "list", "--server", url])
        #expect(out.contains(id) && out.contains("active") && out.contains("{alertname=\"QueueStuck\",queue=~\"ma.*\"}") && out.contains("maintenance"), "\(out)")
        // A silence that matches nothing real is refused with a reason.
        (code, out, err) = try Self.cli(["silence", "add", "--server", url, "queue=~\".*\""])
        #expect(code == 1)
        #expect(err.contains("at least one matcher must not match the empty string"), "\(err)")

        try Self.setDepth(server, 50)
        try await Task.sleep(for: .seconds(4))
        #expect(receiver.delivered.isEmpty, "a silenced alert was notified")
        (code, _, err) = try Self.cli(["silence", "expire", "--server", url, id])
        #expect(code == 0, "\(err)")
        let fired = await receiver.wait(seconds: 20) { $0.count >= 1 }
        #expect(fired, "no notification after the silence expired")
        (code, _, err) = try Self.cli(["silence", "expire", "--server", url, "no-such-id"])
        #expect(code == 1)
        #expect(err.contains("silence no-such-id not found"))
        await receiver.stop()
    }

    /// An RFC 3339 time from a JSON value (distant future when unreadable, so checks fail).
    static func date(_ v: Any?) -> Date {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let s = v as? String, let d = f.date(from: s) { return d }
        f.formatOptions = [.withInternetDateTime]
        if let s = v as? String, let d = f.date(from: s) { return d }
        return .distantFuture
    }

    @Test func alertsGoToAnExternalAlertmanager() async throws {
        let receiver = try await TestReceiver()
        let setup = try Setup(receiverURL: receiver.url)
        defer { setup.dir.remove() }
        let args = ["--self-scrape-interval", "0s", "--rules", setup.dir.path + "/rules", "--alertmanager-url", "http://127.0.0.1:\(receiver.port)/",
                    "--external-url", "http://argus.example:4318"]
        let server = try ArgusProcess(dataDir: setup.dataDir, extraArgs: args)
        defer { server.stop() }
        try Self.setDepth(server, 50)
        let posted = await receiver.wait(seconds: 20) { !$0.isEmpty }
        #expect(posted, "\(server.stderr)")
        guard posted else { await receiver.stop(); return }
        let first = receiver.delivered[0]
        #expect(first.path == "/api/v2/alerts")
        let list = (try? JSONSerialization.jsonObject(with: Data(first.body.utf8)) as? [[String: Any]]) ?? []
        #expect(list.count == 1)
        let a = list.first ?? [:]
        #expect(Set(a.keys) == ["labels", "annotations", "startsAt", "endsAt", "generatorURL"])
        #expect(a["labels"] as? [String: String] == ["alertname": "QueueStuck", "queue": "mail", "severity": "page"])
        #expect(Self.date(a["endsAt"]) > Date())
        try Self.setDepth(server, 0)
        let resolved = await receiver.wait(seconds: 20) { $0.count >= 2 }
        #expect(resolved)
        if resolved {
            let r = (try? JSONSerialization.jsonObject(with: Data(receiver.delivered[1].body.utf8)) as? [[String: Any]])?.first ?? [:]
            #expect(Self.date(r["endsAt"]) <= Date())
        }
        await receiver.stop()
    }
}
