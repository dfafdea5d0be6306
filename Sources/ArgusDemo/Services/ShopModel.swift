import Hummingbird

/// The shop's wire types (JSON between the services).
public struct Product: ResponseCodable, Sendable, Equatable {
    public var id: Int
    public var name: String
    public var category: String
    public var price: Double
}

public struct LineItem: Codable, Sendable, Equatable {
    public var product_id: Int
    public var quantity: Int
    public init(product_id: Int, quantity: Int) { self.product_id = product_id; self.quantity = quantity }
}

public struct LoginRequest: Codable, Sendable {
    public var user: String
    public var password: String
    public init(user: String, password: String) { self.user = user; self.password = password }
}

public struct LoginReply: ResponseCodable, Sendable {
    public var token: String
    public var user: String
}

public struct UserReply: ResponseCodable, Sendable {
    public var user: String
}

public struct Cart: ResponseCodable, Sendable {
    public var user: String
    public var items: [LineItem]
}

public struct OrderRequest: Codable, Sendable {
    public var user: String
    public var items: [LineItem]
}

public struct Order: ResponseCodable, Sendable {
    public var order_id: String
    public var user: String
    public var items: [LineItem]
    public var total: Double
    public var payment_id: String
    public var status: String
}

public struct QuoteReply: ResponseCodable, Sendable {
    public var total: Double
}

public struct ReserveRequest: Codable, Sendable {
    public var order_id: String
    public var items: [LineItem]
}

public struct StockReply: ResponseCodable, Sendable {
    public var product_id: Int
    public var available: Int
}

public struct ChargeRequest: Codable, Sendable {
    public var order_id: String
    public var user: String
    public var amount: Double
}

public struct ChargeReply: ResponseCodable, Sendable {
    public var payment_id: String
    public var attempts: Int
}

public struct BankAuthorization: ResponseCodable, Sendable {
    public var authorization: String
    public var approved: Bool
}

public struct OrderEvent: Codable, Sendable {
    public var type: String
    public var order_id: String
    public var user: String
}

public struct EventReply: ResponseCodable, Sendable {
    public var instance: Int
    public var cold_start: Bool
}

public struct Recommendations: ResponseCodable, Sendable {
    public var user: String
    public var product_ids: [Int]
}

public struct ProductsPage: ResponseCodable, Sendable {
    public var products: [Product]
    public var recommendations: [Int]
    /// "live", or "fallback" when recommendations did not answer.
    public var recommendations_source: String
}

public struct ProductDetail: ResponseCodable, Sendable {
    public var product: Product
    public var available: Int
}

public struct CheckoutRequest: Codable, Sendable {
    /// Items to buy; when empty, the user's cart.
    public var items: [LineItem]?
    public init(items: [LineItem]?) { self.items = items }
}

/// The catalog's fixed assortment.
public enum Assortment {
    public static let products: [Product] = {
        let names: [(String, String, Double)] = [
            ("Trail running shoes", "shoes", 89.0), ("Road bike helmet", "cycling", 59.5), ("Wool socks", "clothing", 12.0),
            ("Rain jacket", "clothing", 129.0), ("Water bottle", "accessories", 9.9), ("Headlamp", "camping", 34.0),
            ("Two-person tent", "camping", 249.0), ("Sleeping bag", "camping", 179.0), ("Camping stove", "camping", 64.0),
            ("Hiking boots", "shoes", 159.0), ("Cycling gloves", "cycling", 24.0), ("Bike lights", "cycling", 39.0),
            ("Yoga mat", "fitness", 29.0), ("Kettlebell 12kg", "fitness", 45.0), ("Running shorts", "clothing", 27.5),
            ("Fleece pullover", "clothing", 69.0), ("Trekking poles", "accessories", 79.0), ("Daypack 20L", "accessories", 85.0),
            ("Sunglasses", "accessories", 49.0), ("Energy bars (12)", "food", 18.0), ("Bike pump", "cycling", 29.9),
            ("Climbing chalk", "climbing", 8.5), ("Climbing shoes", "climbing", 119.0), ("First aid kit", "camping", 22.0),
        ]
        return names.enumerated().map { Product(id: $0.offset + 1, name: $0.element.0, category: $0.element.1, price: $0.element.2) }
    }()
}

extension HTTPResponse.Status {
    /// 402: a declined card.
    static let paymentRequired = HTTPResponse.Status(code: 402, reasonPhrase: "Payment Required")
}
