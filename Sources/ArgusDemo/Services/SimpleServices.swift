import ArgusStorage
import Foundation
import Hummingbird
import Logging
import Tracing

/// Simulated work: sleeps a random number of milliseconds in `range`.
func work(_ range: ClosedRange<Int>) async throws {
    try await Task.sleep(for: .milliseconds(Int.random(in: range)))
}

/// `auth`: logins hand out bearer tokens; `/validate` tells which user a token belongs to.
public enum AuthService {
    public static func routes(_ router: ShopRouter, env: ServiceEnvironment) {
        let tokens = LockedBox<[String: String]>([:])
        router.post("/login") { request, context in
            let body = try await request.decode(as: LoginRequest.self, context: context)
            guard !body.user.isEmpty else { throw HTTPError(.badRequest, message: "user must not be empty") }
            try await work(5...20)
            guard body.password != "wrong" else {
                env.logger.warning("login refused", metadata: ["user": "\(body.user)"])
                throw HTTPError(.unauthorized, message: "wrong password for \(body.user)")
            }
            let token = "tok-" + UUID().uuidString.lowercased()
            tokens.withLock { $0[token] = body.user }
            env.logger.info("login", metadata: ["user": "\(body.user)"])
            return LoginReply(token: token, user: body.user)
        }
        router.get("/validate") { request, _ in
            guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else {
                throw HTTPError(.unauthorized, message: "missing Authorization: Bearer TOKEN")
            }
            let token = String(header.dropFirst(7))
            guard let user = tokens.withLock({ $0[token] }) else {
                throw HTTPError(.unauthorized, message: "unknown or expired token")
            }
            try await work(1...4)
            return UserReply(user: user)
        }
    }
}

/// `catalog`: products, product details, search and price quotes; `slow-catalog` adds 400 ms.
public enum CatalogService {
    public static func routes(_ router: ShopRouter, env: ServiceEnvironment) {
        @Sendable func delay() async throws {
            try await work(3...15)
            if env.scenario.current == .slowCatalog { try await Task.sleep(for: .milliseconds(400)) }
        }
        router.get("/products") { _, _ in
            try await delay()
            return Assortment.products
        }
        router.get("/products/{id}") { _, context in
            let id = try context.parameters.require("id", as: Int.self)
            try await delay()
            guard let p = Assortment.products.first(where: { $0.id == id }) else {
                throw HTTPError(.notFound, message: "no product \(id)")
            }
            return p
        }
        router.get("/search") { request, _ in
            guard let q = request.uri.queryParameters.get("q"), !q.isEmpty else {
                throw HTTPError(.badRequest, message: "search wants ?q=WORDS")
            }
            try await delay()
            let words = q.lowercased().split(separator: " ")
            let hits = Assortment.products.filter { p in words.allSatisfy { p.name.lowercased().contains($0) || p.category.contains($0) } }
            env.logger.info("search", metadata: ["q": "\(q)", "hits": "\(hits.count)"])
            return hits
        }
        router.post("/quote") { request, context in
            let items = try await request.decode(as: [LineItem].self, context: context)
            try await delay()
            var total = 0.0
            for item in items {
                guard let p = Assortment.products.first(where: { $0.id == item.product_id }) else {
                    throw HTTPError(.badRequest, message: "no product \(item.product_id)")
                }
                guard item.quantity > 0 else { throw HTTPError(.badRequest, message: "quantity must be positive") }
                total += p.price * Double(item.quantity)
            }
            return QuoteReply(total: (total * 100).rounded() / 100)
        }
    }
}

/// `cart`: one cart per user, in memory.
public enum CartService {
    public static func routes(_ router: ShopRouter, env: ServiceEnvironment) {
        let carts = LockedBox<[String: [LineItem]]>([:])
        router.get("/carts/{user}") { _, context in
            let user = try context.parameters.require("user")
            try await work(1...5)
            return Cart(user: user, items: carts.withLock { $0[user] ?? [] })
        }
        router.post("/carts/{user}/items") { request, context in
            let user = try context.parameters.require("user")
            let item = try await request.decode(as: LineItem.self, context: context)
            guard item.quantity > 0 else { throw HTTPError(.badRequest, message: "quantity must be positive") }
            try await work(2...8)
            let items = carts.withLock { c -> [LineItem] in
                var items = c[user] ?? []
                if let i = items.firstIndex(where: { $0.product_id == item.product_id }) {
                    items[i].quantity += item.quantity
                } else {
                    items.append(item)
                }
                if items.count > 50 { items.removeFirst(items.count - 50) }
                c[user] = items
                return items
            }
            env.logger.info("item added to cart", metadata: ["user": "\(user)", "product_id": "\(item.product_id)"])
            return Cart(user: user, items: items)
        }
        router.delete("/carts/{user}") { _, context in
            let user = try context.parameters.require("user")
            carts.withLock { $0[user] = nil }
            return Cart(user: user, items: [])
        }
    }
}

/// `inventory`: stock per product and reservations; `inventory-errors` fails a third of them.
public enum InventoryService {
    public static func routes(_ router: ShopRouter, env: ServiceEnvironment) {
        let stock = LockedBox<[Int: Int]>(Dictionary(uniqueKeysWithValues: Assortment.products.map { ($0.id, 500) }))
        router.get("/stock/{id}") { _, context in
            let id = try context.parameters.require("id", as: Int.self)
            try await work(1...6)
            guard let n = stock.withLock({ $0[id] }) else { throw HTTPError(.notFound, message: "no product \(id)") }
            return StockReply(product_id: id, available: n)
        }
        router.post("/reserve") { request, context in
            let body = try await request.decode(as: ReserveRequest.self, context: context)
            try await work(5...20)
            if env.scenario.current == .inventoryErrors && Int.random(in: 0..<3) == 0 {
                env.logger.error("stock database unavailable", metadata: ["order_id": "\(body.order_id)"])
                throw HTTPError(.internalServerError, message: "stock database unavailable")
            }
            try stock.withLock { s in
                for item in body.items {
                    guard let n = s[item.product_id] else { throw HTTPError(.badRequest, message: "no product \(item.product_id)") }
                    guard n >= item.quantity else { throw HTTPError(.conflict, message: "only \(n) of product \(item.product_id) left") }
                }
                for item in body.items {
                    s[item.product_id]! -= item.quantity
                    if s[item.product_id]! < 50 { s[item.product_id]! += 500 }  // the warehouse restocks
                }
            }
            env.logger.info("stock reserved", metadata: ["order_id": "\(body.order_id)", "lines": "\(body.items.count)"])
            return StockReply(product_id: body.items.first?.product_id ?? 0, available: 1)
        }
        router.post("/release") { request, context in
            let body = try await request.decode(as: ReserveRequest.self, context: context)
            stock.withLock { s in for item in body.items { s[item.product_id, default: 0] += item.quantity } }
            env.logger.info("stock released", metadata: ["order_id": "\(body.order_id)"])
            return StockReply(product_id: body.items.first?.product_id ?? 0, available: 1)
        }
    }
}

/// `recommendations`: a few products for a user; `recommendations-down` answers 503.
public enum RecommendationsService {
    public static func routes(_ router: ShopRouter, env: ServiceEnvironment) {
        router.get("/recommendations") { request, _ in
            let user = request.uri.queryParameters.get("user") ?? "anonymous"
            if env.scenario.current == .recommendationsDown {
                env.logger.error("model server unreachable")
                throw HTTPError(.serviceUnavailable, message: "recommendation model unavailable")
            }
            try await work(10...40)
            var ids = Set<Int>()
            var h = UInt64(truncatingIfNeeded: user.hashValue)
            while ids.count < 4 {
                h = h &* 6364136223846793005 &+ 1442695040888963407
                ids.insert(Int(h >> 33) % Assortment.products.count + 1)
            }
            return Recommendations(user: user, product_ids: ids.sorted())
        }
    }
}

/// `bank`: the simulated external bank. `payments-outage` answers 503; `bank-slow` answers after
/// 2 s (past payments' timeout); otherwise it approves after 20–80 ms and declines 2%.
public enum BankService {
    public static func routes(_ router: ShopRouter, env: ServiceEnvironment) {
        router.post("/authorize") { request, context in
            let body = try await request.decode(as: ChargeRequest.self, context: context)
            switch env.scenario.current {
            case .paymentsOutage:
                try await work(2...10)
                env.logger.error("core banking system unavailable", metadata: ["order_id": "\(body.order_id)"])
                throw HTTPError(.serviceUnavailable, message: "core banking system unavailable")
            case .bankSlow:
                try await Task.sleep(for: .seconds(2))
            default:
                try await work(20...80)
            }
            guard body.amount > 0 else { throw HTTPError(.badRequest, message: "amount must be positive") }
            if Int.random(in: 0..<50) == 0 {
                env.logger.warning("card declined", metadata: ["order_id": "\(body.order_id)"])
                throw HTTPError(.paymentRequired, message: "card declined")
            }
            return BankAuthorization(authorization: "auth-" + UUID().uuidString.prefix(8).lowercased(), approved: true)
        }
    }
}
