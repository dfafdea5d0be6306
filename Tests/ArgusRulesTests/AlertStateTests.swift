import ArgusModel
import ArgusRules
import Testing

/// The alert state machine, with no I/O: evaluation times and query results in, states out.
@Suite struct AlertStateTests {
    let labels = Labels([("alertname", "HighLatency"), ("service", "cart")])

    func result(_ v: Double) -> [(labels: Labels, annotations: Labels, value: Double)] {
        [(labels, Labels([("summary", "slow")]), v)]
    }

    @Test func pendingThenFiringThenResolved() {
        var s = AlertingRuleState(name: "HighLatency", forMs: 120_000, keepFiringForMs: 0)
        var samples = s.evaluate(result(2), at: 0)
        #expect(s.alerts.map(\.state) == [.pending])
        #expect(samples.count == 2)
        #expect(samples[0].0 == labels.setting("__name__", "ALERTS").setting("alertstate", "pending"))
        #expect(samples[1].0 == labels.setting("__name__", "ALERTS_FOR_STATE"))
        #expect(samples[1].1 == 0)
        _ = s.evaluate(result(2), at: 60_000)
        #expect(s.alerts.map(\.state) == [.pending])
        samples = s.evaluate(result(3), at: 120_000)
        #expect(s.alerts.map(\.state) == [.firing])
        #expect(s.alerts[0].activeAt == 0)
        #expect(s.alerts[0].firedAt == 120_000)
        #expect(s.alerts[0].value == 3)
        #expect(samples[0].0.value("alertstate") == "firing")
        // The condition clears: resolved (inactive), kept for the resolved notification, no ALERTS sample.
        samples = s.evaluate([], at: 180_000)
        #expect(samples.isEmpty)
        #expect(s.alerts.map(\.state) == [.inactive])
        #expect(s.alerts[0].resolvedAt == 180_000)
        // Gone after the 15 minute retention.
        _ = s.evaluate([], at: 180_000 + AlertingRuleState.resolvedRetention + 1)
        #expect(s.alerts.isEmpty)
    }

    @Test func pendingAlertThatClearsIsDropped() {
        var s = AlertingRuleState(name: "HighLatency", forMs: 300_000, keepFiringForMs: 0)
        _ = s.evaluate(result(1), at: 0)
        _ = s.evaluate([], at: 60_000)
        #expect(s.alerts.isEmpty)
        // It comes back: pending again from the new time, not from the old one.
        _ = s.evaluate(result(1), at: 120_000)
        #expect(s.alerts.first?.activeAt == 120_000)
    }

    @Test func zeroForFiresAtOnce() {
        var s = AlertingRuleState(name: "HighLatency", forMs: 0, keepFiringForMs: 0)
        _ = s.evaluate(result(1), at: 5000)
        #expect(s.alerts.map(\.state) == [.firing])
    }

    @Test func keepFiringFor() {
        var s = AlertingRuleState(name: "HighLatency", forMs: 0, keepFiringForMs: 120_000)
        _ = s.evaluate(result(1), at: 0)
        _ = s.evaluate([], at: 60_000)
        #expect(s.alerts.map(\.state) == [.firing])
        #expect(s.alerts[0].keepFiringSince == 60_000)
        _ = s.evaluate([], at: 120_000)
        #expect(s.alerts.map(\.state) == [.firing])
        _ = s.evaluate([], at: 180_000)
        #expect(s.alerts.map(\.state) == [.inactive])
        #expect(s.alerts[0].resolvedAt == 180_000)
    }

    @Test func conditionBackDuringKeepFiringResetsIt() {
        var s = AlertingRuleState(name: "HighLatency", forMs: 0, keepFiringForMs: 120_000)
        _ = s.evaluate(result(1), at: 0)
        _ = s.evaluate([], at: 60_000)
        _ = s.evaluate(result(1), at: 120_000)
        #expect(s.alerts[0].keepFiringSince == 0)
        #expect(s.alerts[0].state == .firing)
    }

    @Test func restoredFiringAlertStaysFiring() {
        var a = Alert(labels: labels, annotations: Labels(), state: .firing, value: 1, activeAt: 1000)
        a.firedAt = 2000
        var s = AlertingRuleState(name: "HighLatency", forMs: 600_000, keepFiringForMs: 0)
        s.restore([a])
        _ = s.evaluate(result(1), at: 10_000)
        #expect(s.alerts.map(\.state) == [.firing])
        #expect(s.alerts[0].activeAt == 1000)
        #expect(s.alerts[0].firedAt == 2000)
    }

    @Test func fingerprintIsAlertmanagers() {
        // FNV-1a 64 over names and values each followed by 0xff; the empty set is the FNV offset basis.
        #expect(Fingerprint.hex(Labels()) == "cbf29ce484222325")
        #expect(Fingerprint.hex(Labels([("alertname", "QueueStuck"), ("queue", "mail"), ("severity", "page")])) == "ed67f62bc7eeca85")
    }
}
