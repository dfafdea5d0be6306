import ArgusModel
import ArgusTestKit
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `/api/v1/rules`, `/api/v1/alerts`, recording rule output and reload (`POST /-/reload`,
/// SIGHUP) against a real `argus serve`.
@Suite struct RulesAPITests {
    static let rules = """
        groups:
          - name: api
            interval: 1s
            labels:
              team: shop
            rules:
              - record: queue:depth:sum
                expr: sum by (queue) (api_queue_depth)
              - alert: QueueDeep
                expr: queue:depth:sum > 10
                for: 1h
                labels:
                  severity: ticket
                annotations:
                  summary: "{{ $labels.queue }} is {{ $value }} deep"
        """

    func json(_ r: TestHTTPClient.Response) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any]) ?? [:]
    }

    func waitFor(_ seconds: Double, _ cond: () throws -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try cond() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return try cond()
    }

    @Test func rulesAlertsAndReload() async throws {
        let dir = TempDir("argus-rules-api")
        defer { dir.remove() }
        try FileManager.default.createDirectory(atPath: dir.path + "/rules", withIntermediateDirectories: true)
        let ruleFile = dir.path + "/rules/api.yml"
        try Self.rules.write(toFile: ruleFile, atomically: true, encoding: .utf8)
        let server = try ArgusProcess(dataDir: dir.path + "/data", extraArgs: ["--self-scrape-interval", "0s", "--rules", dir.path + "/rules"])
        defer { server.stop() }
        let c = server.client
        #expect(try c.post("/api/v1/import/prometheus", "api_queue_depth{queue=\"mail\",shard=\"1\"} 30 \(TimeUtil.nowMillis())\napi_queue_depth{queue=\"mail\",shard=\"2\"} 12 \(TimeUtil.nowMillis())\n").status == 204)

        // The recording rule writes its series; the alert goes pending (for: 1h).
        let recorded = try await waitFor(15) {
            let r = json(try c.get("/api/v1/query?query=queue:depth:sum"))
            return ((r["data"] as? [String: Any])?["result"] as? [Any])?.isEmpty == false
        }
        #expect(recorded, "\(server.stderr)")
        let q = try c.get("/api/v1/query?query=queue:depth:sum").text
        #expect(q.contains("\"metric\":{\"__name__\":\"queue:depth:sum\",\"queue\":\"mail\",\"team\":\"shop\"}"), "\(q)")
        #expect(q.contains("\"42\""))
        let pending = try await waitFor(15) { try c.get("/api/v1/alerts").text.contains("\"state\":\"pending\"") }
        #expect(pending)

        let rules = json(try c.get("/api/v1/rules"))
        #expect(rules["status"] as? String == "success")
        let groups = (rules["data"] as? [String: Any])?["groups"] as? [[String: Any]] ?? []
        #expect(groups.count == 1)
        let g = groups.first ?? [:]
        #expect(g["name"] as? String == "api")
        #expect(g["file"] as? String == ruleFile)
        #expect(g["interval"] as? Int == 1)
        #expect(g["limit"] as? Int == 0)
        #expect(Set(g.keys) == ["name", "file", "rules", "interval", "limit", "evaluationTime", "lastEvaluation"])
        let rs = g["rules"] as? [[String: Any]] ?? []
        #expect(rs.count == 2)
        #expect(Set(rs[0].keys) == ["name", "query", "labels", "health", "evaluationTime", "lastEvaluation", "type"])
        #expect(rs[0]["type"] as? String == "recording")
        #expect(rs[0]["query"] as? String == "sum by (queue) (api_queue_depth)")
        #expect(rs[0]["health"] as? String == "ok")
        let alerting = rs[1]
        #expect(Set(alerting.keys) == ["state", "name", "query", "duration", "keepFiringFor", "labels", "annotations", "alerts",
                                       "health", "evaluationTime", "lastEvaluation", "type"])
        #expect(alerting["state"] as? String == "pending")
        #expect(alerting["duration"] as? Int == 3600)
        #expect(alerting["labels"] as? [String: String] == ["severity": "ticket"])
        let alert = (alerting["alerts"] as? [[String: Any]])?.first ?? [:]
        #expect(Set(alert.keys) == ["labels", "annotations", "state", "activeAt", "value"])
        #expect(alert["labels"] as? [String: String] == ["alertname": "QueueDeep", "queue": "mail", "severity": "ticket", "team": "shop"])
        #expect(alert["annotations"] as? [String: String] == ["summary": "mail is 42 deep"])
        #expect(alert["value"] as? String == "4.2e+01")
        #expect(json(try c.get("/api/v1/rules?type=record")).description.contains("QueueDeep") == false)

        // A broken file: reload fails with file:line and the previous rules keep running.
        try Self.rules.replacingOccurrences(of: "sum by (queue) (api_queue_depth)", with: "sum by (queue) (api_queue_depth")
            .write(toFile: ruleFile, atomically: true, encoding: .utf8)
        let bad = try c.post("/-/reload", "")
        #expect(bad.status == 500)
        #expect(bad.text.hasPrefix("failed to reload config: \(ruleFile): 8:15: group \"api\", rule 1, \"queue:depth:sum\": could not parse expression: 1:32: parse error: unclosed left parenthesis"), "\(bad.text)")
        #expect(try c.get("/api/v1/alerts").text.contains("QueueDeep"))

        // A good file again, with a new rule: reload through SIGHUP.
        try (Self.rules + "\n      - alert: Always\n        expr: vector(1)\n").write(toFile: ruleFile, atomically: true, encoding: .utf8)
        kill(server.process.processIdentifier, SIGHUP)
        let reloaded = try await waitFor(15) { try c.get("/api/v1/rules").text.contains("\"name\":\"Always\"") }
        #expect(reloaded)
        // The pending alert kept its state through the reload.
        #expect(try c.get("/api/v1/alerts").text.contains("\"state\":\"pending\""))
        #expect(try c.post("/-/reload", "").status == 200)
    }

    @Test func shippedAlertsLoadByDefaultWithTheLogQLGroup() async throws {
        let dir = TempDir("argus-rules-default")
        defer { dir.remove() }
        try FileManager.default.copyItem(atPath: ShippedRulesTests.alerts, toPath: dir.path + "/alerts")
        let server = try ArgusProcess(dataDir: dir.path + "/data", extraArgs: ["--self-scrape-interval", "0s"], currentDirectory: dir.path)
        defer { server.stop() }
        let groups = (json(try server.client.get("/api/v1/rules"))["data"] as? [String: Any])?["groups"] as? [[String: Any]] ?? []
        let names = Set(groups.compactMap { $0["name"] as? String })
        #expect(names == ["argus-self", "shop-availability", "shop-errors", "shop-latency-slo", "shop-logs", "shop-resilience"])
        #expect(!server.stderr.contains("language logql needs the LogQL engine"))
        // The LogQL group evaluates against the log store (no error recorded on its rule).
        let logRule = try await waitFor(15) {
            let gs = (json(try server.client.get("/api/v1/rules"))["data"] as? [String: Any])?["groups"] as? [[String: Any]] ?? []
            let rules = gs.first { $0["name"] as? String == "shop-logs" }?["rules"] as? [[String: Any]] ?? []
            return !rules.isEmpty && rules.allSatisfy { $0["health"] as? String == "ok" }
        }
        #expect(logRule)
        // The PromQL rules run: PaymentsAbsent goes pending on an empty store.
        let pending = try await waitFor(15) { try server.client.get("/api/v1/alerts").text.contains("PaymentsAbsent") }
        #expect(pending)
    }

    @Test func pendingAlertKeepsItsClockAcrossKillDashNine() async throws {
        let dir = TempDir("argus-rules-pending")
        defer { dir.remove() }
        try FileManager.default.createDirectory(atPath: dir.path + "/rules", withIntermediateDirectories: true)
        try Self.rules.write(toFile: dir.path + "/rules/api.yml", atomically: true, encoding: .utf8)
        let args = ["--self-scrape-interval", "0s", "--rules", dir.path + "/rules"]
        var server = try ArgusProcess(dataDir: dir.path + "/data", extraArgs: args)
        #expect(try server.client.post("/api/v1/import/prometheus", "api_queue_depth{queue=\"mail\"} 30 \(TimeUtil.nowMillis())\n").status == 204)
        let activeAt = { (s: String) -> String? in
            s.range(of: #""activeAt":"[^"]+""#, options: .regularExpression).map { String(s[$0]) }
        }
        var before = ""
        let pending = try await waitFor(15) {
            before = try server.client.get("/api/v1/alerts").text
            return before.contains("\"state\":\"pending\"")
        }
        #expect(pending)
        try await Task.sleep(for: .seconds(2))
        server.kill9()
        server = try ArgusProcess(dataDir: dir.path + "/data", extraArgs: args)
        defer { server.stop() }
        let after = try server.client.get("/api/v1/alerts").text
        #expect(after.contains("\"state\":\"pending\""), "\(after)")
        #expect(activeAt(before) != nil && activeAt(after) == activeAt(before), "before \(before)\nafter \(after)")
    }
}
