import ArgumentParser
import ArgusDemo
import ArgusModel
import Foundation
import Logging

@main
struct ArgusDemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "argus-demo",
        abstract: "The Argus demo shop: instrumented microservices, a load generator and failure scenarios.",
        discussion: "Run `argus-demo up` for everything at once, or one service per process. See docs/demo.md.",
        subcommands: [Up.self, ScenarioCommand.self, Gateway.self, Auth.self, Catalog.self, CartCmd.self, Orders.self, Payments.self,
                      Inventory.self, RecommendationsCmd.self, Notifications.self, Bank.self, Loadgen.self]
    )
}

/// Options every service process takes.
struct CommonOptions: ParsableArguments {
    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0 picks a free one and prints it).")
    var port = 0

    @Option(help: "The registry file naming where each service listens (written by `argus-demo up`).")
    var registry: String?

    @Option(name: .customLong("peer"), help: "A service's base URL, NAME=URL (repeatable; overrides the registry).")
    var peers: [String] = []

    @Option(help: "The OTLP/HTTP collector's base URL (Argus).")
    var collector = "http://127.0.0.1:4318"

    @Option(name: .customLong("metrics-interval"), help: "How often metrics are exported (a Prometheus duration).")
    var metricsInterval = "5s"

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel = "info"

    @Option(help: "The scenario to start in: \(Scenario.namesList).")
    var scenario = "steady"

    @Flag(name: .customLong("exit-with-parent"), help: "Stop when the parent process exits (used by `argus-demo up`).")
    var exitWithParent = false

    func hostOptions() throws -> HostOptions {
        var o = HostOptions()
        o.host = host
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0...65535") }
        o.port = port
        if let registry { o.registry = try ServiceRegistry.load(registry) }
        try o.registry.add(peers: peers)
        o.telemetry.collector = collector
        guard collector.hasPrefix("http://") || collector.hasPrefix("https://") else {
            throw ValidationError("--collector must be an http:// or https:// URL, got \"\(collector)\"")
        }
        o.telemetry.metricsInterval = .milliseconds(try parseDuration(metricsInterval, "--metrics-interval"))
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
        o.telemetry.logLevel = level
        guard let s = Scenario(name: scenario) else { throw ValidationError("unknown scenario \"\(scenario)\"; known: \(Scenario.namesList)") }
        o.scenario = s
        o.exitWithParent = exitWithParent
        return o
    }
}

func parseDuration(_ text: String, _ flag: String) throws -> Int64 {
    do {
        let ms = try PromDuration.parseMillis(text)
        guard ms > 0 else { throw ValidationError("\(flag) must be positive") }
        return ms
    } catch let e as ArgusError {
        throw ValidationError("\(flag): \(e.message)")
    }
}

struct Gateway: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The public API: token check through auth, rate limiting, routing, recommendations fallback.")
    @OptionGroup var common: CommonOptions
    @Option(name: .customLong("rate-limit"), help: "Requests per second each client (token) may make.")
    var rateLimit = 20.0
    @Option(help: "Requests a client may make at once above its rate.")
    var burst = 40

    func run() async throws {
        guard rateLimit > 0, burst >= 1 else { throw ValidationError("--rate-limit must be positive and --burst at least 1") }
        var o = GatewayService.Options()
        o.ratePerSecond = rateLimit
        o.burst = burst
        try await ServiceHost.run(name: "gateway", options: try common.hostOptions()) { r, env in GatewayService.routes(r, env: env, options: o) }
    }
}

struct Auth: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Logins and token validation.")
    @OptionGroup var common: CommonOptions
    func run() async throws {
        try await ServiceHost.run(name: "auth", options: try common.hostOptions()) { r, env in AuthService.routes(r, env: env) }
    }
}

struct Catalog: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Products and search.")
    @OptionGroup var common: CommonOptions
    func run() async throws {
        try await ServiceHost.run(name: "catalog", options: try common.hostOptions()) { r, env in CatalogService.routes(r, env: env) }
    }
}

struct CartCmd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cart", abstract: "Shopping carts.")
    @OptionGroup var common: CommonOptions
    func run() async throws {
        try await ServiceHost.run(name: "cart", options: try common.hostOptions()) { r, env in CartService.routes(r, env: env) }
    }
}

struct Orders: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Places orders (catalog, inventory, payments) and publishes order events.")
    @OptionGroup var common: CommonOptions
    func run() async throws {
        try await ServiceHost.run(name: "orders", options: try common.hostOptions()) { r, env in OrdersService.routes(r, env: env) }
    }
}

struct Payments: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Charges through the bank: timeouts, retries with backoff and jitter, a circuit breaker.")
    @OptionGroup var common: CommonOptions
    @Option(name: .customLong("bank-timeout"), help: "Timeout of one call to the bank (a Prometheus duration).")
    var bankTimeout = "300ms"
    @Option(help: "Attempts per charge, the first included.")
    var attempts = 3
    @Option(name: .customLong("breaker-threshold"), help: "Consecutive bank failures that open the circuit breaker.")
    var breakerThreshold = 5
    @Option(name: .customLong("breaker-open"), help: "How long the breaker stays open before a trial call (a Prometheus duration).")
    var breakerOpen = "5s"

    func run() async throws {
        guard attempts >= 1, breakerThreshold >= 1 else { throw ValidationError("--attempts and --breaker-threshold must be at least 1") }
        var o = PaymentsService.Options()
        o.bankTimeout = .milliseconds(try parseDuration(bankTimeout, "--bank-timeout"))
        o.retry.maxAttempts = attempts
        o.breakerThreshold = breakerThreshold
        o.breakerOpen = .milliseconds(try parseDuration(breakerOpen, "--breaker-open"))
        try await ServiceHost.run(name: "payments", options: try common.hostOptions()) { r, env in PaymentsService.routes(r, env: env, options: o) }
    }
}

struct Inventory: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Stock and reservations.")
    @OptionGroup var common: CommonOptions
    func run() async throws {
        try await ServiceHost.run(name: "inventory", options: try common.hostOptions()) { r, env in InventoryService.routes(r, env: env) }
    }
}

struct RecommendationsCmd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "recommendations", abstract: "Product recommendations per user.")
    @OptionGroup var common: CommonOptions
    func run() async throws {
        try await ServiceHost.run(name: "recommendations", options: try common.hostOptions()) { r, env in RecommendationsService.routes(r, env: env) }
    }
}

struct Notifications: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Order confirmations, serverless-style: cold start per burst, scaled to zero when idle.")
    @OptionGroup var common: CommonOptions
    @Option(name: .customLong("cold-start"), help: "How long starting an instance takes (a Prometheus duration).")
    var coldStart = "600ms"
    @Option(name: .customLong("keep-warm"), help: "How long an idle instance is kept before scaling to zero.")
    var keepWarm = "3s"

    func run() async throws {
        var o = NotificationsService.Options()
        o.coldStart = .milliseconds(try parseDuration(coldStart, "--cold-start"))
        o.keepWarm = .milliseconds(try parseDuration(keepWarm, "--keep-warm"))
        let options = try common.hostOptions()
        let holder = ReaperHolder()
        let fixed = o
        try await ServiceHost.run(name: "notifications", options: options, extraServices: { env in
            let made = NotificationsService.make(env: env, options: fixed)
            holder.routes = made.routes
            return [made.reaper]
        }) { r, _ in holder.routes?(r) }
    }
}

/// Carries the notifications routes from the service-building closure to the routing closure.
final class ReaperHolder: @unchecked Sendable {
    var routes: (@Sendable (ArgusDemo.ShopRouter) -> Void)?
}

struct Bank: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The simulated external bank.")
    @OptionGroup var common: CommonOptions
    func run() async throws {
        try await ServiceHost.run(name: "bank", options: try common.hostOptions()) { r, env in BankService.routes(r, env: env) }
    }
}

struct Loadgen: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Simulated shoppers against the gateway (browse, search, add to cart, checkout, log in).",
        discussion: "Its port serves POST /admin/scenario/NAME, like every service.",
        aliases: ["load"])
    @OptionGroup var common: CommonOptions
    @Option(help: "Journeys started per second.")
    var rate = 2.0
    @Option(help: "Distinct simulated users.")
    var users = 20

    func run() async throws {
        guard rate > 0, users >= 1 else { throw ValidationError("--rate must be positive and --users at least 1") }
        var o = LoadOptions()
        o.rate = rate
        o.users = users
        let options = try common.hostOptions()
        guard options.registry.url(of: "gateway") != nil else {
            throw ValidationError("the load generator needs the gateway's address: --registry FILE or --peer gateway=URL")
        }
        let fixed = o
        try await ServiceHost.run(name: "loadgen", options: options, extraServices: { env in [LoadGenerator(env: env, options: fixed)] }) { _, _ in }
    }
}

struct Up: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start every service and the load generator as child processes; Ctrl-C stops them all.")
    @Option(help: "The OTLP/HTTP collector's base URL (Argus).")
    var collector = "http://127.0.0.1:4318"
    @Option(help: "Address the services listen on.")
    var host = "127.0.0.1"
    @Option(name: .customLong("base-port"), help: "The gateway's port; the others take the next ten (0 picks free ports).")
    var basePort = 8080
    @Option(help: "Where to write the registry file.")
    var registry = "demo-registry.json"
    @Option(name: .customLong("log-dir"), help: "Directory for the children's logs (NAME.log).")
    var logDir = "demo-logs"
    @Option(name: .customLong("metrics-interval"), help: "How often the services export metrics.")
    var metricsInterval = "5s"
    @Option(help: "Journeys the load generator starts per second.")
    var rate = 2.0
    @Option(help: "The scenario to start in: \(Scenario.namesList).")
    var scenario = "steady"
    @Flag(name: .customLong("no-loadgen"), help: "Start the services only.")
    var noLoadgen = false

    func run() throws {
        var o = Supervisor.Options()
        o.collector = collector
        o.host = host
        guard (0...65525).contains(basePort) else { throw ValidationError("--base-port must be 0...65525") }
        o.basePort = basePort
        o.registryPath = registry
        o.logDir = logDir
        _ = try parseDuration(metricsInterval, "--metrics-interval")
        o.metricsInterval = metricsInterval
        guard rate > 0 else { throw ValidationError("--rate must be positive") }
        o.rate = rate
        guard let s = Scenario(name: scenario) else { throw ValidationError("unknown scenario \"\(scenario)\"; known: \(Scenario.namesList)") }
        o.scenario = s
        o.loadgen = !noLoadgen
        let status = try Supervisor(options: o).run()
        if status != 0 { throw ExitCode(status) }
    }
}

struct ScenarioCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scenario",
        abstract: "Switch the running shop to a scenario: \(Scenario.namesList).")
    @Argument(help: "The scenario (payments-down is payments-outage).")
    var name: String
    @Option(help: "The registry file of the running shop.")
    var registry = "demo-registry.json"

    func run() async throws {
        guard let s = Scenario(name: name) else { throw ValidationError("unknown scenario \"\(name)\"; known: \(Scenario.namesList)") }
        let reg = try ServiceRegistry.load(registry)
        let results = await ScenarioSwitch.broadcast(s, registry: reg)
        var failed = 0
        for r in results {
            print("\(r.service.padding(toLength: 16, withPad: " ", startingAt: 0)) \(r.ok ? "→ " : "FAILED: ")\(r.detail)")
            if !r.ok { failed += 1 }
        }
        if failed == results.count { throw ExitCode(1) }
    }
}
