import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat

/// `argus-demo scenario NAME`: tells every process in the registry (services and load
/// generator) the new scenario through `POST /admin/scenario/NAME`.
public enum ScenarioSwitch {
    /// One line per process: name and what it answered (or why it could not be reached).
    public static func broadcast(_ scenario: Scenario, registry: ServiceRegistry, http: HTTPClient = ServiceClient.http) async -> [(service: String, ok: Bool, detail: String)] {
        var out: [(String, Bool, String)] = []
        for (name, base) in registry.services.sorted(by: { $0.key < $1.key }) {
            var req = HTTPClientRequest(url: base + "/admin/scenario/" + scenario.rawValue)
            req.method = .POST
            do {
                let resp = try await http.execute(req, timeout: .seconds(3))
                let body = try await resp.body.collect(upTo: 1 << 16)
                let ok = resp.status.code == 200
                out.append((name, ok, ok ? scenario.rawValue : "HTTP \(resp.status.code): \(String(buffer: body))"))
            } catch {
                out.append((name, false, "not reachable at \(base): \(error)"))
            }
        }
        return out
    }
}
