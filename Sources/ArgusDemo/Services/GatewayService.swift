import ArgusModel
import ArgusStorage
import Hummingbird
import Logging
import Metrics
import Tracing

/// `gateway`: the shop's public API. Checks bearer tokens through auth, limits each client's
/// request rate (429 with Retry-After), routes to the services, and falls back to a static list
/// when recommendations does not answer.
public enum GatewayService {
    public struct Options: Sendable {
        public var ratePerSecond = 20.0
        public var burst = 40
        public var recommendationsTimeout: Duration = .milliseconds(300)
        public init() {}
    }

    public static func routes(_ router: ShopRouter, env: ServiceEnvironment, options: Options) {
        let limiter = LockedBox(RateLimiter(ratePerSecond: options.ratePerSecond, burst: options.burst))
        let limited = Counter(label: ShopMetrics.rateLimited, dimensions: [("service", env.name)])
        let fallbacks = Counter(label: ShopMetrics.fallbacks, dimensions: [("service", env.name), ("target", "recommendations")])

        /// Rate limit by token (or "anonymous"), then ask auth who the token belongs to.
        @Sendable func admit(_ request: Request, authenticate: Bool = true) async throws -> String {
            let auth = request.headers[.authorization]
            let key = auth ?? "anonymous"
            let now = TimeUtil.monotonicNanos()
            let (ok, wait) = limiter.withLock { l in (l.allow(key, now: now), l.retryAfter(key, now: now)) }
            guard ok else {
                limited.increment()
                throw HTTPError(.tooManyRequests, headers: [.retryAfter: String(Int(wait.rounded(.up)))], message: "rate limit of \(options.ratePerSecond) requests/s exceeded; retry in \(Int(wait.rounded(.up))) s")
            }
            guard authenticate else { return "" }
            guard let auth else { throw HTTPError(.unauthorized, message: "missing Authorization: Bearer TOKEN (POST /api/login first)") }
            do {
                return try await env.client.call("auth", .GET, "/validate", headers: [("authorization", auth)], timeout: .seconds(2)).decode(UserReply.self).user
            } catch let e as PeerError where e.status == 401 {
                throw HTTPError(.unauthorized, message: "invalid token")
            }
        }

        router.post("/api/login") { request, context in
            _ = try await admit(request, authenticate: false)
            let body = try await request.decode(as: LoginRequest.self, context: context)
            return try await env.client.call("auth", .POST, "/login", json: body).decode(LoginReply.self)
        }
        router.get("/api/products") { request, _ in
            let user = try await admit(request)
            let products = try await env.client.call("catalog", .GET, "/products").decode([Product].self)
            var recs: [Int]
            var source = "live"
            do {
                recs = try await env.client.call("recommendations", .GET, "/recommendations?user=\(user)", timeout: options.recommendationsTimeout)
                    .decode(Recommendations.self).product_ids
            } catch {
                fallbacks.increment()
                env.logger.warning("recommendations unavailable, serving the fallback list: \(error)")
                recs = Array(products.prefix(4).map(\.id))
                source = "fallback"
            }
            return ProductsPage(products: products, recommendations: recs, recommendations_source: source)
        }
        router.get("/api/products/{id}") { request, context in
            _ = try await admit(request)
            let id = try context.parameters.require("id", as: Int.self)
            let product = try await env.client.call("catalog", .GET, "/products/\(id)").decode(Product.self)
            let stock = try await env.client.call("inventory", .GET, "/stock/\(id)").decode(StockReply.self)
            return ProductDetail(product: product, available: stock.available)
        }
        router.get("/api/search") { request, _ in
            _ = try await admit(request)
            guard let q = request.uri.queryParameters.get("q"), !q.isEmpty else { throw HTTPError(.badRequest, message: "search wants ?q=WORDS") }
            let encoded = q.addingPercentEncodingForQuery
            return try await env.client.call("catalog", .GET, "/search?q=\(encoded)").decode([Product].self)
        }
        router.get("/api/cart") { request, _ in
            let user = try await admit(request)
            return try await env.client.call("cart", .GET, "/carts/\(user)").decode(Cart.self)
        }
        router.post("/api/cart/items") { request, context in
            let user = try await admit(request)
            let item = try await request.decode(as: LineItem.self, context: context)
            return try await env.client.call("cart", .POST, "/carts/\(user)/items", json: item).decode(Cart.self)
        }
        router.post("/api/checkout") { request, context in
            let user = try await admit(request)
            let body = try await request.decode(as: CheckoutRequest.self, context: context)
            var items = body.items ?? []
            if items.isEmpty {
                items = try await env.client.call("cart", .GET, "/carts/\(user)").decode(Cart.self).items
            }
            guard !items.isEmpty else { throw HTTPError(.badRequest, message: "the cart is empty") }
            let order = try await env.client.call("orders", .POST, "/orders", json: OrderRequest(user: user, items: items), timeout: .seconds(10))
                .decode(Order.self)
            env.logger.info("checkout", metadata: ["user": "\(user)", "order_id": "\(order.order_id)", "total": "\(order.total)"])
            return order
        }
    }
}

extension String {
    var addingPercentEncodingForQuery: String {
        var out = ""
        for b in utf8 {
            switch b {
            case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x2D, 0x2E, 0x5F, 0x7E: out.unicodeScalars.append(UnicodeScalar(b))
            default: out += "%" + String(b, radix: 16, uppercase: true).leftPad2
            }
        }
        return out
    }

    var leftPad2: String { count < 2 ? "0" + self : self }
}
