import ArgusModel
import ArgusTestKit
import Foundation
import Logging
import Metrics
import OTel
import ServiceLifecycle
import Testing
import Tracing

/// The real swift-otel exporter (the one the demo services use) sends metrics, logs and spans
/// over OTLP/HTTP to a running `argus serve`.
@Suite struct SwiftOTelExporterTests {
    @Test func metricsLogsAndSpansArrive() async throws {
        let dir = TempDir()
        defer { dir.remove() }
        let server = try ArgusProcess(dataDir: dir.path)
        defer { server.stop() }
        let base = "http://127.0.0.1:\(server.port)"
        var config = OTel.Configuration.default
        config.serviceName = "otel-probe"
        config.resourceAttributes = ["service.instance.id": "probe-1", "deployment.environment": "test"]
        config.diagnosticLogLevel = .error
        config.metrics.exportInterval = .milliseconds(200)
        config.metrics.otlpExporter.endpoint = base + "/v1/metrics"
        config.metrics.otlpExporter.protocol = .httpProtobuf
        config.logs.otlpExporter.endpoint = base + "/v1/logs"
        config.logs.otlpExporter.protocol = .httpProtobuf
        config.logs.batchLogRecordProcessor.scheduleDelay = .milliseconds(100)
        config.traces.otlpExporter.endpoint = base + "/v1/traces"
        config.traces.otlpExporter.protocol = .httpProtobuf
        config.traces.batchSpanProcessor.scheduleDelay = .milliseconds(100)

        let (metrics, metricsService) = try OTel.makeMetricsBackend(configuration: config)
        let (logs, logsService) = try OTel.makeLoggingBackend(configuration: config)
        let (tracer, tracesService) = try OTel.makeTracingBackend(configuration: config)
        var quiet = Logger(label: "group")
        quiet.logLevel = .critical
        let group = ServiceGroup(services: [metricsService, logsService, tracesService], logger: quiet)
        let running = Task { try await group.run() }

        let counter = Counter(label: "probe_requests", dimensions: [("route", "/checkout")], factory: metrics)
        counter.increment(by: 3)
        let logger = Logger(label: "probe", factory: logs)
        logger.info("hello from the probe", metadata: ["order": "42"])
        let span = tracer.startSpan("checkout", ofKind: .server)
        span.attributes["http.route"] = "/checkout"
        span.end()

        try await Task.sleep(for: .milliseconds(1500))
        await group.triggerGracefulShutdown()
        try await running.value

        let r = try server.client.get("/api/v1/export?match%5B%5D=%7B__name__%3D%22probe_requests_total%22%7D")
        #expect(r.status == 200)
        #expect(r.text.contains("\"job\":\"otel-probe\""))
        #expect(r.text.contains("\"instance\":\"probe-1\""))
        #expect(r.text.contains("\"route\":\"/checkout\""))
        #expect(r.text.contains("\"values\":[3"))
        let info = try server.client.get("/api/v1/export?match%5B%5D=target_info")
        #expect(info.text.contains("\"deployment_environment\":\"test\""))
        // Logs come back through LogQL with the service as a stream label.
        let query = #"{service_name="otel-probe"} |= "hello""#.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        let logsFound = try server.client.get("/loki/api/v1/query_range?query=\(query)")
        #expect(logsFound.status == 200)
        #expect(logsFound.text.contains("\"hello from the probe\""))
        #expect(logsFound.text.contains("\"deployment_environment\":\"test\""))
        #expect(logsFound.text.contains("\"order\":\"42\""))
        #expect(logsFound.text.contains("\"detected_level\":\"info\""))
        // Spans are in the span store, found by TraceQL.
        let found = try server.client.get("/api/search?q=%7B%20name%20%3D%20%22checkout%22%20%26%26%20resource.service.name%20%3D%20%22otel-probe%22%20%7D")
        #expect(found.status == 200)
        #expect(found.text.contains("\"rootServiceName\":\"otel-probe\""))
    }
}
