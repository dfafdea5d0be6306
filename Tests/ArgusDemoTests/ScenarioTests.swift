import ArgusDemo
import Foundation
import Testing

@Suite struct ScenarioTests {
    @Test func namesAndAliases() {
        #expect(Scenario(name: "payments-outage") == .paymentsOutage)
        #expect(Scenario(name: "payments-down") == .paymentsOutage)
        #expect(Scenario(name: "SLOW-CATALOG") == .slowCatalog)
        #expect(Scenario(name: "cold-starts") == .coldStarts)
        #expect(Scenario(name: "steady") == .steady)
        #expect(Scenario(name: "meteor-strike") == nil)
        for s in Scenario.allCases { #expect(Scenario(name: s.rawValue) == s) }
    }

    @Test func registryRoundTripsAndRejectsBadPeers() throws {
        let path = NSTemporaryDirectory() + "argus-demo-registry-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: path) }
        var r = ServiceRegistry(services: ["gateway": "http://127.0.0.1:8080"], pids: ["gateway": 42], collector: "http://127.0.0.1:4318")
        try r.add(peers: ["bank=http://127.0.0.1:9999/"])
        #expect(r.url(of: "bank") == "http://127.0.0.1:9999")
        try r.save(path)
        #expect(try ServiceRegistry.load(path) == r)
        #expect(throws: (any Error).self) { try r.add(peers: ["bank"]) }
        #expect(throws: (any Error).self) { try r.add(peers: ["bank=ftp://x"]) }
        try "not json".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: (any Error).self) { try ServiceRegistry.load(path) }
    }
}
