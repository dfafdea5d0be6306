import Foundation
import Hummingbird
import Logging
import Tracing

/// `orders`: prices the items (catalog), reserves stock (inventory), charges (payments), clears
/// the cart and publishes an `order_placed` event to notifications without waiting for it.
public enum OrdersService {
    public static func routes(_ router: ShopRouter, env: ServiceEnvironment) {
        router.post("/orders") { request, context in
            let body = try await request.decode(as: OrderRequest.self, context: context)
            guard !body.items.isEmpty else { throw HTTPError(.badRequest, message: "an order needs at least one item") }
            let orderID = "ord-" + UUID().uuidString.prefix(12).lowercased()
            var logger = env.logger
            logger[metadataKey: "order_id"] = "\(orderID)"
            logger[metadataKey: "user"] = "\(body.user)"

            let quote = try await env.client.call("catalog", .POST, "/quote", json: body.items).decode(QuoteReply.self)
            let reservation = ReserveRequest(order_id: orderID, items: body.items)
            try await env.client.call("inventory", .POST, "/reserve", json: reservation)
            let charge: ChargeReply
            do {
                charge = try await env.client.call("payments", .POST, "/charge", json: ChargeRequest(order_id: orderID, user: body.user, amount: quote.total))
                    .decode(ChargeReply.self)
            } catch {
                logger.error("payment failed, releasing stock: \(error)")
                _ = try? await env.client.call("inventory", .POST, "/release", json: reservation)
                if let peer = error as? PeerError, peer.status == 402 {
                    throw HTTPError(.paymentRequired, message: "payment declined")
                }
                throw error
            }
            if env.registry.url(of: "cart") != nil {
                do { try await env.client.call("cart", .DELETE, "/carts/\(body.user)") } catch { logger.warning("could not clear the cart: \(error)") }
            }
            logger.info("order placed", metadata: ["total": "\(quote.total)", "payment_id": "\(charge.payment_id)"])
            if env.registry.url(of: "notifications") != nil {
                // Publish and move on: the event is handled in its own span under this trace.
                let event = OrderEvent(type: "order_placed", order_id: orderID, user: body.user)
                let ctx = ServiceContext.current ?? .topLevel
                Task {
                    await ServiceContext.withValue(ctx) {
                        await withSpan("publish order_placed", ofKind: .producer) { _ in
                            do { try await env.client.call("notifications", .POST, "/events", json: event, timeout: .seconds(10)) } catch {
                                env.logger.warning("order event not delivered: \(error)", metadata: ["order_id": "\(orderID)"])
                            }
                        }
                    }
                }
            }
            return Order(order_id: orderID, user: body.user, items: body.items, total: quote.total, payment_id: charge.payment_id, status: "placed")
        }
    }
}
