import ArgusDemo
import ArgusModel
import ArgusOTLP
import ArgusStorage
import ArgusTestKit
import Foundation
import Logging
import SwiftProtobuf
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `argus-demo up` as a child process: every service and the load generator, on free ports,
/// exporting to a real `argus serve`.
final class DemoShopProcess {
    let process = Process()
    let dir: String
    let outPath: String
    var registry = ServiceRegistry()

    static var binary: String {
        if let b = ProcessInfo.processInfo.environment["ARGUS_DEMO_BIN"] { return b }
        return URL(fileURLWithPath: ArgusProcess.binary).deletingLastPathComponent().appendingPathComponent("argus-demo").path
    }

    init(dir: String, collector: String, extraArgs: [String] = []) throws {
        self.dir = dir
        guard FileManager.default.isExecutableFile(atPath: Self.binary) else {
            throw TestError("\(Self.binary) is missing: run `swift build` before the demo tests")
        }
        outPath = dir + "/up.out"
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["up", "--base-port", "0", "--collector", collector, "--registry", dir + "/registry.json",
                             "--log-dir", dir + "/logs", "--metrics-interval", "1s"] + extraArgs
        process.standardOutput = FileHandle(forWritingAtPath: outPath)
        process.standardError = FileHandle(forWritingAtPath: outPath)
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            if output.contains("the shop is up") {
                registry = try ServiceRegistry.load(dir + "/registry.json")
                return
            }
            if !process.isRunning { break }
            usleep(100_000)
        }
        stop()
        throw TestError("argus-demo up did not start:\n\(output)")
    }

    var output: String { (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "" }

    func log(_ service: String) -> String { (try? String(contentsOfFile: dir + "/logs/\(service).log", encoding: .utf8)) ?? "" }

    func client(_ service: String) -> TestHTTPClient {
        TestHTTPClient(port: Int(registry.services[service]!.split(separator: ":").last!)!)
    }

    @discardableResult
    func stop() -> Int32 {
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
        }
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        for pid in registry.pids.values { kill(pid, SIGKILL) }
    }
}

func json(_ text: String) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
}

/// The instant vector of a PromQL query as (labels, value) pairs.
func promQuery(_ server: ArgusProcess, _ q: String) throws -> [([String: String], Double)] {
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._~")
    let r = try server.client.get("/api/v1/query?query=" + q.addingPercentEncoding(withAllowedCharacters: allowed)!)
    guard r.status == 200 else { throw TestError("query \(q): HTTP \(r.status) \(r.text)") }
    let result = ((json(r.text)["data"] as? [String: Any])?["result"] as? [[String: Any]]) ?? []
    return result.map { item in
        let metric = item["metric"] as? [String: String] ?? [:]
        let value = (item["value"] as? [Any])?.last as? String ?? "NaN"
        return (metric, Double(value) ?? .nan)
    }
}

/// Polls a query until `ok` holds for its result (metrics arrive every export interval).
func waitFor(_ server: ArgusProcess, _ q: String, seconds: Double = 30, _ ok: ([([String: String], Double)]) -> Bool) throws -> [([String: String], Double)] {
    let deadline = Date().addingTimeInterval(seconds)
    var last: [([String: String], Double)] = []
    while Date() < deadline {
        last = try promQuery(server, q)
        if ok(last) { return last }
        usleep(250_000)
    }
    return last
}

func hex(_ bytes: Data) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

@Suite(.serialized) struct DemoEndToEndTests {
    @Test func shopTelemetryReachesArgusAndScenariosBreakPayments() throws {
        let tmp = TempDir("argus-demo-e2e")
        defer { tmp.remove() }
        let dataDir = tmp.path + "/data"
        let server = try ArgusProcess(dataDir: dataDir)
        defer { server.stop() }
        let shop = try DemoShopProcess(dir: tmp.path, collector: "http://127.0.0.1:\(server.port)", extraArgs: ["--rate", "3"])
        defer { shop.stop() }
        let expected = Set(["gateway", "auth", "catalog", "cart", "orders", "payments", "inventory", "recommendations", "notifications", "bank", "loadgen"])
        #expect(Set(shop.registry.services.keys) == expected)
        #expect(Set(shop.registry.pids.keys) == expected)
        let gateway = shop.client("gateway")

        // A user's way through the gateway.
        let login = try gateway.request("POST", "/api/login", body: Array(#"{"user":"e2e","password":"demo"}"#.utf8), headers: ["content-type": "application/json"])
        #expect(login.status == 200, "\(login.text)")
        let token = json(login.text)["token"] as? String ?? ""
        #expect(token.hasPrefix("tok-"))
        let auth = ["authorization": "Bearer \(token)", "content-type": "application/json"]
        #expect(try gateway.request("GET", "/api/products", headers: auth).status == 200)
        #expect(try gateway.request("GET", "/api/products").status == 401)
        // (A machine busy with other tests can make a bank call miss payments' 300 ms timeout:
        // a few tries.)
        var checkout = try gateway.request("POST", "/api/checkout", body: Array(#"{"items":[{"product_id":3,"quantity":2}]}"#.utf8), headers: auth)
        for _ in 0..<5 where checkout.status != 200 {
            sleep(1)
            checkout = try gateway.request("POST", "/api/checkout", body: Array(#"{"items":[{"product_id":3,"quantity":2}]}"#.utf8), headers: auth)
        }
        #expect(checkout.status == 200, "\(checkout.text)")
        #expect(json(checkout.text)["total"] as? Double == 24.0)
        let traceID = checkout.headers["x-trace-id"] ?? ""
        #expect(traceID.count == 32, "no x-trace-id on the checkout answer")

        // Bad input gets a 4xx with a reason.
        let badScenario = try gateway.request("POST", "/admin/scenario/meteor-strike")
        #expect(badScenario.status == 400 && badScenario.text.contains("unknown scenario"), "\(badScenario.status) \(badScenario.text)")
        let badJSON = try gateway.request("POST", "/api/checkout", body: Array("{not json".utf8), headers: auth)
        #expect(badJSON.status == 400, "\(badJSON.status) \(badJSON.text)")
        let badProduct = try gateway.request("GET", "/api/products/999", headers: auth)
        #expect(badProduct.status == 404 && badProduct.text.contains("no product 999"), "\(badProduct.status) \(badProduct.text)")

        // Request-rate series for every service (the load generator drives them all).
        let rates = try waitFor(server, "sum by (service) (rate(http_server_requests_total[30s]))") { r in
            Set(r.filter { $0.1 > 0 }.compactMap { $0.0["service"] }).isSuperset(of: expected.subtracting(["loadgen"]))
        }
        let withRate = Set(rates.filter { $0.1 > 0 }.compactMap { $0.0["service"] })
        #expect(withRate.isSuperset(of: expected.subtracting(["loadgen"])), "services with a request rate: \(withRate.sorted())")
        let jobs = try promQuery(server, "count by (job) (http_server_request_duration_seconds_bucket)")
        #expect(Set(jobs.compactMap { $0.0["job"] }).isSuperset(of: ["gateway", "orders", "payments", "bank"]))
        #expect(try !promQuery(server, "http_server_active_requests{service=\"gateway\"}").isEmpty)
        let closed = try waitFor(server, "circuit_breaker_state{service=\"payments\",target=\"bank\"}") { $0.first?.1 == 0 }
        #expect(closed.first?.1 == 0, "circuit_breaker_state before the outage: \(closed)")

        // payments-outage: the bank fails, payments retries, then the breaker opens.
        let switcher = Process()
        switcher.executableURL = URL(fileURLWithPath: DemoShopProcess.binary)
        switcher.arguments = ["scenario", "payments-down", "--registry", tmp.path + "/registry.json"]
        let switchOut = Pipe()
        switcher.standardOutput = switchOut
        try switcher.run()
        switcher.waitUntilExit()
        let switchText = String(decoding: switchOut.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(switcher.terminationStatus == 0)
        #expect(switchText.contains("bank") && switchText.contains("payments-outage"), "\(switchText)")
        var sawOpen = false
        for _ in 0..<10 where !sawOpen {
            let r = try gateway.request("POST", "/api/checkout", body: Array(#"{"items":[{"product_id":1,"quantity":1}]}"#.utf8), headers: auth)
            #expect(r.status == 503, "checkout during the outage: \(r.status) \(r.text)")
            sawOpen = r.text.contains("circuit breaker open")
        }
        #expect(sawOpen, "the payments breaker never opened")
        let breaker = try waitFor(server, "circuit_breaker_state{service=\"payments\",target=\"bank\"}") { $0.first?.1 == 2 }
        #expect(breaker.first?.1 == 2, "circuit_breaker_state: \(breaker)")
        let retries = try waitFor(server, "payments_retries_total") { ($0.first?.1 ?? 0) > 0 }
        #expect((retries.first?.1 ?? 0) > 0)

        // Each service's /metrics is a scrape target with the same values.
        let exposition = try shop.client("payments").get("/metrics")
        #expect(exposition.text.contains("circuit_breaker_state{service=\"payments\",target=\"bank\"} 2"), "\(exposition.text)")
        // The first order event woke notifications: a cold start.
        let cold = try waitFor(server, "notifications_cold_starts_total") { ($0.first?.1 ?? 0) >= 1 }
        #expect((cold.first?.1 ?? 0) >= 1)

        // recommendations-down: the gateway serves its fallback list.
        let recs = shop.client("recommendations")
        #expect(try recs.post("/admin/scenario/recommendations-down", "").status == 200)
        let page = try gateway.request("GET", "/api/products", headers: auth)
        #expect(page.status == 200 && json(page.text)["recommendations_source"] as? String == "fallback", "\(page.status) \(page.text.prefix(200))")

        // The gateway's rate limit (20/s, burst 40, per token; requests without one share a
        // bucket and are refused with 401 right after it): past the burst comes 429 with Retry-After.
        var limited: TestHTTPClient.Response?
        var statuses: [Int: Int] = [:]
        for _ in 0..<200 where limited == nil {
            let r = try gateway.request("GET", "/api/search?q=tent")
            statuses[r.status, default: 0] += 1
            if r.status == 429 { limited = r }
        }
        #expect(limited != nil, "no 429 within 200 requests: \(statuses)")
        #expect(limited?.headers["retry-after"] != nil && limited?.text.contains("rate limit") == true)

        // Propagation: orders, payments and inventory logged the gateway's trace id.
        for service in ["orders", "inventory", "payments"] {
            #expect(shop.log(service).contains("trace_id=\(traceID)"), "\(service) did not log trace \(traceID)")
        }

        // Stopping `up` leaves no child running.
        let pids = shop.registry.pids
        #expect(shop.stop() == 0)
        for (name, pid) in pids {
            #expect(kill(pid, 0) == -1 && errno == ESRCH, "\(name) (pid \(pid)) still runs after argus-demo up stopped")
        }
        #expect(!FileManager.default.fileExists(atPath: tmp.path + "/registry.json"))

        // Spans and logs through the Tempo and Loki APIs where this build has them (Tempo's
        // protobuf trace is field-compatible with an OTLP export request); else from the signal logs.
        var requests: [Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest] = []
        let tempo = try server.client.request("GET", "/api/traces/\(traceID)", headers: ["accept": "application/protobuf"])
        if tempo.status == 200 {
            requests.append(try Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest(serializedBytes: tempo.body))
        }
        var lokiServices = Set<String>()
        var lokiAvailable = false
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let logQL = "{service_name=~\".+\"} | trace_id=\"\(traceID)\"".addingPercentEncoding(withAllowedCharacters: allowed)!
        let loki = try server.client.get("/loki/api/v1/query_range?query=\(logQL)&limit=1000&start=\(Int(Date().timeIntervalSince1970) - 600)")
        if loki.status == 200 {
            lokiAvailable = true
            let streams = ((json(loki.text)["data"] as? [String: Any])?["result"] as? [[String: Any]]) ?? []
            for st in streams { if let s = (st["stream"] as? [String: String])?["service_name"] { lokiServices.insert(s) } }
        }
        #expect(server.stop() == 0)

        // The checkout's spans: several services, one root, every parent in the trace.
        var spans: [(service: String, span: Opentelemetry_Proto_Trace_V1_Span)] = []
        let quiet = Logger(label: "test")
        if requests.isEmpty {
            try SignalLog(dir: dataDir + "/signals/traces", logger: quiet).forEach { buf in
                requests.append(try Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest(serializedBytes: Array(buf)))
            }
        }
        for req in requests {
            for rs in req.resourceSpans {
                let service = rs.resource.attributes.first { $0.key == "service.name" }?.value.stringValue ?? ""
                for ss in rs.scopeSpans { for s in ss.spans where hex(s.traceID) == traceID { spans.append((service, s)) } }
            }
        }
        let services = Set(spans.map(\.service))
        #expect(services.isSuperset(of: ["gateway", "auth", "orders", "catalog", "inventory", "payments", "bank"]), "services in the checkout trace: \(services.sorted())")
        let ids = Set(spans.map { $0.span.spanID })
        let roots = spans.filter { $0.span.parentSpanID.isEmpty }
        #expect(roots.count == 1 && roots.first?.service == "gateway", "roots: \(roots.map { "\($0.service) \($0.span.name)" })")
        for s in spans where !s.span.parentSpanID.isEmpty {
            #expect(ids.contains(s.span.parentSpanID), "\(s.service) span \(s.span.name) has a parent outside the trace")
        }
        // A server span's parent is the caller's client span.
        let byID = Dictionary(spans.map { ($0.span.spanID, $0) }, uniquingKeysWith: { a, _ in a })
        for s in spans where s.span.kind == .server && !s.span.parentSpanID.isEmpty {
            let parent = byID[s.span.parentSpanID]
            #expect(parent?.span.kind == .client && parent?.service != s.service, "\(s.service) server span's parent: \(String(describing: parent?.span.name))")
        }

        // Its log records carry the trace id, as the OTLP field and as the trace_id attribute.
        var logServices = lokiServices
        if !lokiAvailable { try SignalLog(dir: dataDir + "/signals/logs", logger: quiet).forEach { buf in
            let req = try Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceRequest(serializedBytes: Array(buf))
            for rl in req.resourceLogs {
                let service = rl.resource.attributes.first { $0.key == "service.name" }?.value.stringValue ?? ""
                for sl in rl.scopeLogs {
                    for l in sl.logRecords where hex(l.traceID) == traceID {
                        #expect(l.attributes.contains { $0.key == "trace_id" && $0.value.stringValue == traceID })
                        #expect(l.attributes.contains { $0.key == "span_id" && $0.value.stringValue.count == 16 })
                        logServices.insert(service)
                    }
                }
            }
        } }
        #expect(logServices.isSuperset(of: ["gateway", "orders", "payments", "inventory"]), "services that logged the checkout: \(logServices.sorted())")
    }
}

@Suite struct DemoCommandLineTests {
    func run(_ args: [String]) throws -> (status: Int32, output: String) {
        guard FileManager.default.isExecutableFile(atPath: DemoShopProcess.binary) else {
            throw TestError("\(DemoShopProcess.binary) is missing: run `swift build` before the demo tests")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: DemoShopProcess.binary)
        p.arguments = args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test func badArgumentsExitNonZeroWithAReason() throws {
        let unknown = try run(["scenario", "meteor-strike", "--registry", "/nonexistent/registry.json"])
        #expect(unknown.status != 0)
        #expect(unknown.output.contains("unknown scenario \"meteor-strike\""), "\(unknown.output)")
        let noRegistry = try run(["scenario", "steady", "--registry", "/nonexistent/registry.json"])
        #expect(noRegistry.status != 0)
        #expect(noRegistry.output.contains("cannot read the registry file"), "\(noRegistry.output)")
        let badPeer = try run(["bank", "--peer", "payments"])
        #expect(badPeer.status != 0)
        #expect(badPeer.output.contains("NAME=URL"), "\(badPeer.output)")
        let loadgen = try run(["loadgen"])
        #expect(loadgen.status != 0)
        #expect(loadgen.output.contains("gateway"), "\(loadgen.output)")
    }
}

@Suite struct ArgusDemoCommandTests {
    /// `argus demo` runs the collector and the whole shop; SIGTERM leaves no child running.
    @Test func argusDemoStopsEveryChild() throws {
        guard FileManager.default.isExecutableFile(atPath: ArgusProcess.binary), FileManager.default.isExecutableFile(atPath: DemoShopProcess.binary) else {
            throw TestError("argus and argus-demo must be built (swift build) before the demo tests")
        }
        let tmp = TempDir("argus-demo-cmd")
        defer { tmp.remove() }
        let outPath = tmp.path + "/demo.out"
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: ArgusProcess.binary)
        p.arguments = ["demo", "--ephemeral", "--listen", "127.0.0.1:0", "--base-port", "0", "--rate", "1"]
        p.standardOutput = FileHandle(forWritingAtPath: outPath)
        p.standardError = FileHandle(forWritingAtPath: outPath)
        try p.run()
        defer { if p.isRunning { kill(p.processIdentifier, SIGKILL) } }
        var out = ""
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline && !out.contains("try (in another terminal)") && p.isRunning {
            usleep(200_000)
            out = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        }
        #expect(out.contains("try (in another terminal)"), "argus demo did not start:\n\(out)")
        #expect(out.contains("query --server http://127.0.0.1:"))
        // The registry path and the collector's address, from what it printed.
        guard let regRange = out.range(of: #"--registry \S+registry\.json"#, options: .regularExpression),
              let addrRange = out.range(of: #"argus serve: http://127\.0\.0\.1:\d+"#, options: .regularExpression) else {
            Issue.record("no registry path or collector address in:\n\(out)")
            return
        }
        let registryPath = String(out[regRange].dropFirst("--registry ".count))
        let collectorPort = Int(out[addrRange].split(separator: ":").last!)!
        let registry = try ServiceRegistry.load(registryPath)
        #expect(registry.pids.count == 11)
        #expect(Supervisor.isListening(host: "127.0.0.1", port: collectorPort))
        // Telemetry reached the collector.
        let collector = TestHTTPClient(port: collectorPort)
        var names = ""
        for _ in 0..<60 where !names.contains("http_server_requests_total") {
            names = (try? collector.get("/api/v1/label/__name__/values").text) ?? ""
            usleep(250_000)
        }
        #expect(names.contains("http_server_requests_total"))

        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        for (name, pid) in registry.pids {
            #expect(kill(pid, 0) == -1 && errno == ESRCH, "\(name) (pid \(pid)) still runs after argus demo stopped")
        }
        #expect(!Supervisor.isListening(host: "127.0.0.1", port: collectorPort), "argus serve still listens")
        #expect(!FileManager.default.fileExists(atPath: registryPath))
    }
}
