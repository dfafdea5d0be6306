import ArgusModel
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import CoreMetrics
import Metrics
import NIOCore
import ServiceLifecycle
import Tracing

#if canImport(Glibc)
import Glibc
#endif

public typealias ShopRouter = Router<BasicRequestContext>

/// What a service's handlers share: its name, logger, outgoing client and scenario.
public struct ServiceEnvironment: Sendable {
    public let name: String
    public let logger: Logger
    public let client: ServiceClient
    public let scenario: ScenarioState
    public let registry: ServiceRegistry
}

/// Options every demo process takes.
public struct HostOptions: Sendable {
    public var host = "127.0.0.1"
    /// 0 picks a free port (printed as `NAME listening on http://HOST:PORT`).
    public var port = 0
    public var registry = ServiceRegistry()
    public var telemetry = TelemetryOptions()
    public var scenario: Scenario = .steady
    /// Stop when the parent process goes away (children of `argus-demo up`).
    public var exitWithParent = false

    public init() {}
}

/// Runs one demo service: a Hummingbird server with the shared instrumentation (server span per
/// request from the W3C `traceparent`, request metrics, a log line per request), `/health`,
/// `/metrics` and `/admin/scenario`, plus the service's own routes; stops on SIGINT/SIGTERM
/// after the exporters have flushed.
public enum ServiceHost {
    public static func run(
        name: String, options: HostOptions,
        extraServices: @Sendable (ServiceEnvironment) -> [any Service] = { _ in [] },
        routes: (ShopRouter, ServiceEnvironment) -> Void
    ) async throws {
        let instance = "\(name)@\(options.host):\(options.port == 0 ? "auto" : String(options.port))"
        let (telemetryServices, registry) = try Telemetry.bootstrap(service: name, instance: instance, options: options.telemetry)
        var logger = Logger(label: "demo.\(name)")
        logger.logLevel = options.telemetry.logLevel
        let env = ServiceEnvironment(name: name, logger: logger, client: ServiceClient(registry: options.registry),
                                     scenario: ScenarioState(options.scenario), registry: options.registry)

        let extras = extraServices(env)
        let router = ShopRouter()
        router.add(middleware: TracingMiddleware())
        router.add(middleware: ShopMetricsMiddleware(service: name, logger: logger))
        router.get("/health") { _, _ in "ok\n" }
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                     body: .init(byteBuffer: ByteBuffer(string: registry.render())))
        }
        ScenarioRoutes.register(router, env: env)
        routes(router, env)

        let app = Application(
            router: router,
            configuration: .init(address: .hostname(options.host, port: options.port), serverName: "argus-demo-\(name)"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? options.port
                print("\(name) listening on http://\(options.host):\(port)")
                fflush(stdout)
            },
            logger: logger)
        // Stopped in reverse order: the server first, the exporters last (they flush).
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = telemetryServices.map { .init(service: $0) }
        services += extras.map { .init(service: $0) }
        if options.exitWithParent {
            services.append(.init(service: ParentWatch(logger: logger), successTerminationBehavior: .gracefullyShutdownGroup))
        }
        services.append(.init(service: app))
        let config = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await ServiceGroup(configuration: config).run()
    }
}

/// Ends the process' service group when its parent exits (so children of a killed
/// `argus-demo up` do not linger).
struct ParentWatch: Service {
    let logger: Logger
    func run() async throws {
        let parent = getppid()
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(500)) }
            if getppid() != parent {
                logger.warning("parent process \(parent) is gone: stopping")
                return
            }
        }
    }
}

/// `GET /admin/scenario` and `POST /admin/scenario/{name}` on every demo process.
public enum ScenarioRoutes {
    public struct Body: ResponseCodable {
        public var scenario: String
        public var service: String
    }

    static func register(_ router: ShopRouter, env: ServiceEnvironment) {
        router.get("/admin/scenario") { _, _ in Body(scenario: env.scenario.current.rawValue, service: env.name) }
        router.post("/admin/scenario/{name}") { _, context in
            let name = try context.parameters.require("name")
            guard let s = Scenario(name: name) else {
                throw HTTPError(.badRequest, message: "unknown scenario \"\(name)\"; known: \(Scenario.namesList)")
            }
            let old = env.scenario.current
            env.scenario.set(s)
            env.logger.notice("scenario changed", metadata: ["from": "\(old.rawValue)", "to": "\(s.rawValue)"])
            return Body(scenario: s.rawValue, service: env.name)
        }
    }
}

/// Request metrics and a log line per request, by route template and status:
/// `http_server_requests_total`, `http_server_request_duration_seconds`,
/// `http_server_active_requests`. Answers carry `x-trace-id` (the request's trace). A failed
/// call to a peer becomes 502 (504 when it timed out) with the reason.
struct ShopMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let service: String
    let logger: Logger
    let active: Meter

    init(service: String, logger: Logger) {
        self.service = service
        self.logger = logger
        self.active = Meter(label: ShopMetrics.activeRequests, dimensions: [("service", service)])
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = TimeUtil.monotonicNanos()
        let route = context.endpointPath ?? "unmatched"
        let method = request.method.rawValue
        active.increment()
        defer { active.decrement() }
        do {
            var response = try await next(request, context)
            finish(route, method, Int(response.status.code), started, error: nil)
            if let t = Telemetry.currentTraceID, let name = HTTPField.Name("x-trace-id") { response.headers[name] = t }
            return response
        } catch {
            let mapped: any Error
            if let peer = error as? PeerError {
                if (400..<500).contains(peer.status) || peer.status == 503 {
                    // The caller's mistake, or "unavailable": passed on as it came.
                    mapped = HTTPError(HTTPResponse.Status(code: peer.status, reasonPhrase: peer.status == 503 ? "Service Unavailable" : "Client Error"), message: peer.description)
                } else {
                    mapped = HTTPError(peer.isTimeout ? .gatewayTimeout : .badGateway, message: peer.description)
                }
            } else {
                mapped = error
            }
            let status = Int((mapped as? any HTTPResponseError)?.status.code ?? 500)
            finish(route, method, status, started, error: mapped)
            throw mapped
        }
    }

    func finish(_ route: String, _ method: String, _ status: Int, _ started: UInt64, error: (any Error)?) {
        let elapsed = TimeUtil.monotonicNanos() - started
        let dims = [("service", service), ("route", route), ("method", method), ("status", String(status))]
        Counter(label: ShopMetrics.requests, dimensions: dims).increment()
        CoreMetrics.Timer(label: ShopMetrics.requestDuration, dimensions: dims + [("unit", "s")]).recordNanoseconds(Int64(elapsed))
        let md: Logger.Metadata = ["route": "\(route)", "method": "\(method)", "status": "\(status)",
                                   "duration_ms": "\(String(format: "%.1f", Double(elapsed) / 1e6))"]
        if let error {
            logger.log(level: status >= 500 ? .error : .warning, "request failed: \(error)", metadata: md)
        } else {
            logger.info("request handled", metadata: md)
        }
    }
}

/// The metric names (as swift-metrics labels; docs/demo.md gives the names they get in Argus).
public enum ShopMetrics {
    public static let requests = "http_server_requests_total"
    public static let requestDuration = "http_server_request_duration_seconds"
    public static let activeRequests = "http_server_active_requests"
    public static let circuitBreakerState = "circuit_breaker_state"
    public static let paymentsRetries = "payments_retries_total"
    public static let coldStarts = "notifications_cold_starts_total"
    public static let instances = "notifications_instances"
    public static let fallbacks = "gateway_fallbacks_total"
    public static let rateLimited = "gateway_rate_limited_total"
    public static let loadgenRequests = "loadgen_requests_total"
}
