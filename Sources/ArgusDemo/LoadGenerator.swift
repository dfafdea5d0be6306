import ArgusStorage
import Foundation
import Logging
import Metrics
import ServiceLifecycle
import Tracing

/// Simulated shoppers against the gateway. Each journey logs in (once per user), browses the
/// products, searches, looks at a product, adds items to the cart and sometimes checks out; each
/// request is a trace of its own that starts here. The pace follows the current scenario:
/// `spike` runs five times `rate`; `cold-starts` sends bursts of checkouts with idle gaps longer
/// than notifications' keep-warm time; every other scenario runs at `rate`.
public struct LoadOptions: Sendable {
    /// Journeys started per second.
    public var rate = 2.0
    /// Distinct simulated users.
    public var users = 20
    /// Journeys running at once at most; beyond it new ones are skipped (and counted).
    public var maxInFlight = 64
    /// Seconds between bursts in the `cold-starts` scenario.
    public var burstGap: Duration = .seconds(8)
    public init() {}
}

public struct LoadGenerator: Service {
    let env: ServiceEnvironment
    let options: LoadOptions
    let tokens = LockedBox<[String: String]>([:])
    let inFlight = LockedBox(0)

    public init(env: ServiceEnvironment, options: LoadOptions) {
        self.env = env
        self.options = options
    }

    static let searchWords = ["shoes", "bike", "camping", "jacket", "climbing", "socks", "tent", "bottle", "yoga", "lights"]

    public func run() async throws {
        env.logger.notice("load generator started", metadata: ["rate": "\(options.rate)", "users": "\(options.users)", "scenario": "\(env.scenario.current.rawValue)"])
        await withDiscardingTaskGroup { group in
            var lastBurst = ContinuousClock.now - options.burstGap
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                let scenario = env.scenario.current
                if scenario == .coldStarts {
                    if ContinuousClock.now - lastBurst >= options.burstGap {
                        lastBurst = .now
                        env.logger.info("checkout burst")
                        for _ in 0..<6 { group.addTask { await self.checkoutOnly() } }
                    }
                    try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(200)) }
                    continue
                }
                let rate = scenario == .spike ? options.rate * 5 : options.rate
                let started = inFlight.withLock { n -> Bool in
                    guard n < options.maxInFlight else { return false }
                    n += 1
                    return true
                }
                if started {
                    group.addTask {
                        await self.journey()
                        self.inFlight.withLock { $0 -= 1 }
                    }
                } else {
                    Counter(label: ShopMetrics.loadgenRequests, dimensions: [("service", env.name), ("step", "journey"), ("outcome", "skipped")]).increment()
                }
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(Int(1000 / max(rate, 0.01)))) }
            }
        }
        env.logger.notice("load generator stopped")
    }

    /// One request of a journey; returns the reply, or nil after counting the failure.
    func step(_ name: String, _ method: HTTPMethodName, _ path: String, body: (some Encodable & Sendable)? = Optional<Empty>.none, token: String?) async -> ServiceClient.Reply? {
        // A journey stops at its next step once the process is stopping.
        if Task.isShuttingDownGracefully { return nil }
        let headers = token.map { [("authorization", "Bearer \($0)")] } ?? []
        do {
            let reply = try await env.client.call("gateway", method.nio, path, json: body, headers: headers, timeout: .seconds(15))
            Counter(label: ShopMetrics.loadgenRequests, dimensions: [("service", env.name), ("step", name), ("outcome", "ok")]).increment()
            return reply
        } catch {
            Counter(label: ShopMetrics.loadgenRequests, dimensions: [("service", env.name), ("step", name), ("outcome", "error")]).increment()
            env.logger.warning("\(name) failed: \(error)")
            if let e = error as? PeerError, e.status == 401, let token { tokens.withLock { $0 = $0.filter { $0.value != token } } }
            return nil
        }
    }

    func token(for user: String) async -> String? {
        if let t = tokens.withLock({ $0[user] }) { return t }
        guard let reply = await step("login", .post, "/api/login", body: LoginRequest(user: user, password: "demo"), token: nil),
              let login = try? reply.decode(LoginReply.self) else { return nil }
        tokens.withLock { $0[user] = login.token }
        return login.token
    }

    func journey() async {
        let user = "user-\(Int.random(in: 1...max(1, options.users)))"
        guard let token = await token(for: user) else { return }
        guard let page = await step("browse", .get, "/api/products", token: token),
              let products = try? page.decode(ProductsPage.self) else { return }
        if Double.random(in: 0..<1) < 0.6 {
            _ = await step("search", .get, "/api/search?q=\(Self.searchWords.randomElement()!)", token: token)
        }
        guard let product = products.products.randomElement() else { return }
        _ = await step("view", .get, "/api/products/\(product.id)", token: token)
        guard Double.random(in: 0..<1) < 0.5 else { return }
        for _ in 0..<Int.random(in: 1...3) {
            let item = LineItem(product_id: products.products.randomElement()!.id, quantity: Int.random(in: 1...2))
            _ = await step("add_to_cart", .post, "/api/cart/items", body: item, token: token)
        }
        guard Double.random(in: 0..<1) < 0.6 else { return }
        _ = await step("checkout", .post, "/api/checkout", body: CheckoutRequest(items: nil), token: token)
    }

    /// A checkout with its items inline (the `cold-starts` bursts).
    func checkoutOnly() async {
        let user = "user-\(Int.random(in: 1...max(1, options.users)))"
        guard let token = await token(for: user) else { return }
        let items = [LineItem(product_id: Int.random(in: 1...Assortment.products.count), quantity: 1)]
        _ = await step("checkout", .post, "/api/checkout", body: CheckoutRequest(items: items), token: token)
    }
}

/// The few HTTP methods the load generator uses (keeps NIOHTTP1 out of its signatures).
enum HTTPMethodName: Sendable {
    case get, post
}
