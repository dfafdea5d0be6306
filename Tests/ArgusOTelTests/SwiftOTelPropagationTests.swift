import ArgusIngest
import ArgusModel
import ArgusTestKit
import Foundation
import Logging
import OTel
import ServiceLifecycle
import Testing
import Tracing

/// HTTP-header-like carriers for W3C trace context (`traceparent`).
struct HeaderInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) { carrier[key] = value }
}

struct HeaderExtractor: Extractor {
    func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
}

/// Three services, each with its own swift-otel SDK instance and exporter (as three processes
/// would have), pass W3C `traceparent` headers along a call chain; Argus must put their spans
/// into one correct tree.
@Suite struct SwiftOTelPropagationTests {
    @Test func threeServicesAssembleIntoOneTree() async throws {
        let dir = TempDir()
        defer { dir.remove() }
        let server = try ArgusProcess(dataDir: dir.path)
        defer { server.stop() }
        let base = "http://127.0.0.1:\(server.port)"
        func backend(_ name: String) throws -> (any Tracer, any Service) {
            var config = OTel.Configuration.default
            config.serviceName = name
            config.diagnosticLogLevel = .error
            config.metrics.enabled = false
            config.logs.enabled = false
            config.traces.otlpExporter.endpoint = base + "/v1/traces"
            config.traces.otlpExporter.protocol = .httpProtobuf
            config.traces.batchSpanProcessor.scheduleDelay = .milliseconds(100)
            let (tracer, service) = try OTel.makeTracingBackend(configuration: config)
            return (tracer, service)
        }
        let (frontend, s1) = try backend("frontend")
        let (checkout, s2) = try backend("checkout")
        let (payment, s3) = try backend("payment")
        var quiet = Logger(label: "group")
        quiet.logLevel = .critical
        let group = ServiceGroup(services: [s1, s2, s3], logger: quiet)
        let running = Task { try await group.run() }

        // frontend: server span, then a client call carrying traceparent.
        let root = frontend.startSpan("GET /checkout", context: .topLevel, ofKind: .server)
        let call1 = frontend.startSpan("POST /orders", context: root.context, ofKind: .client)
        var headers1: [String: String] = [:]
        frontend.inject(call1.context, into: &headers1, using: HeaderInjector())
        #expect(headers1["traceparent"] != nil)
        // checkout: extracts the context from the "request" headers.
        var ctx2 = ServiceContext.topLevel
        checkout.extract(headers1, into: &ctx2, using: HeaderExtractor())
        let handle = checkout.startSpan("placeOrder", context: ctx2, ofKind: .server)
        let call2 = checkout.startSpan("POST /charge", context: handle.context, ofKind: .client)
        var headers2: [String: String] = [:]
        checkout.inject(call2.context, into: &headers2, using: HeaderInjector())
        // payment.
        var ctx3 = ServiceContext.topLevel
        payment.extract(headers2, into: &ctx3, using: HeaderExtractor())
        let charge = payment.startSpan("charge", context: ctx3, ofKind: .server)
        charge.setStatus(Tracing.SpanStatus(code: .error, message: "card declined"))
        charge.end()
        call2.end()
        handle.end()
        call1.end()
        root.end()

        let traceparent = headers1["traceparent"]!
        let traceHex = String(traceparent.split(separator: "-")[1])
        try await Task.sleep(for: .milliseconds(800))
        await group.triggerGracefulShutdown()
        try await running.value

        let r = try server.client.request("GET", "/api/traces/\(traceHex)", headers: ["Accept": "application/protobuf"])
        #expect(r.status == 200)
        let spans = try OTLPSpanConversion.spans(fromProtobuf: r.body)
        #expect(spans.count == 5)
        let tree = TraceTreeView(spans)
        #expect(tree.lines == [
            "frontend GET /checkout",
            "  frontend POST /orders",
            "    checkout placeOrder",
            "      checkout POST /charge",
            "        payment charge !",
        ])
        #expect(tree.orphans == 0)
        // And TraceQL's structural operators see the same tree across the three services.
        let q = #"{ resource.service.name = "frontend" } >> { resource.service.name = "payment" && status = error }"#
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let s = try server.client.get("/api/search?q=" + q.addingPercentEncoding(withAllowedCharacters: allowed)!)
        #expect(s.text.contains("\"traceID\":\"\(traceHex)\""))
    }
}

/// The tree as indented "service name" lines, errors marked with "!".
struct TraceTreeView {
    var lines: [String] = []
    var orphans = 0

    init(_ spans: [ArgusModel.Span]) {
        var kids: [UInt64: [ArgusModel.Span]] = [:]
        let ids = Set(spans.map(\.spanID))
        var roots: [ArgusModel.Span] = []
        for s in spans {
            if s.parentSpanID == 0 { roots.append(s) } else if ids.contains(s.parentSpanID) { kids[s.parentSpanID, default: []].append(s) } else {
                orphans += 1
                roots.append(s)
            }
        }
        func walk(_ s: ArgusModel.Span, _ depth: Int) {
            lines.append(String(repeating: "  ", count: depth) + s.service + " " + s.name + (s.status == .error ? " !" : ""))
            for k in (kids[s.spanID] ?? []).sorted(by: { $0.startNanos < $1.startNanos }) { walk(k, depth + 1) }
        }
        for r in roots.sorted(by: { $0.startNanos < $1.startNanos }) { walk(r, 0) }
    }
}
