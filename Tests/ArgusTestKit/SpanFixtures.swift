import ArgusModel

/// Builds spans for tests: a trace is a list of (span, parent) made with `span(...)`.
public struct SpanFixtures {
    public var nextID: UInt64 = 1
    public init() {}

    public static func origin(_ service: String, _ extra: [SpanAttribute] = []) -> SpanOrigin {
        SpanOrigin(service: service, resource: [SpanAttribute("service.name", .string(service))] + extra, scopeName: "test", scopeVersion: "1.0")
    }

    public static func traceID(_ n: UInt64) -> TraceID { TraceID(hi: 0xABCD_0000_0000_0000 | n, lo: n &* 0x9E37_79B9_7F4A_7C15) }

    /// A span of trace `trace` with a fresh span id.
    public mutating func span(_ trace: TraceID, _ service: String, _ name: String, parent: Span? = nil, kind: SpanKind = .internal,
                              start: Int64, durationMs: Double, status: SpanStatus = .unset, attributes: [SpanAttribute] = [],
                              events: [SpanEvent] = []) -> Span {
        defer { nextID += 1 }
        return Span(traceID: trace, spanID: 0x1000 + nextID, parentSpanID: parent?.spanID ?? 0, name: name, kind: kind,
                    startNanos: start, durationNanos: Int64(durationMs * 1e6), status: status,
                    statusMessage: status == .error ? "failed" : "", attributes: attributes, events: events,
                    origin: SpanFixtures.origin(service))
    }

    /// A three-service shop trace: frontend GET /checkout → checkout placeOrder → payment charge
    /// (and checkout → db query). `slow` makes the payment take 300 ms; `fail` makes it fail.
    public mutating func shopTrace(_ n: UInt64, start: Int64, slow: Bool = false, fail: Bool = false) -> [Span] {
        let t = SpanFixtures.traceID(n)
        let root = span(t, "frontend", "GET /checkout", kind: .server, start: start, durationMs: slow ? 400 : 120,
                         attributes: [SpanAttribute("http.method", .string("GET")), SpanAttribute("http.status_code", .int(fail ? 500 : 200))])
        let client = span(t, "frontend", "POST /orders", parent: root, kind: .client, start: start + 1_000_000, durationMs: slow ? 380 : 100)
        let server = span(t, "checkout", "placeOrder", parent: client, kind: .server, start: start + 2_000_000, durationMs: slow ? 360 : 90,
                          attributes: [SpanAttribute("order.items", .int(Int64(n % 5 + 1)))])
        let db = span(t, "checkout", "SELECT orders", parent: server, kind: .client, start: start + 3_000_000, durationMs: 5,
                      attributes: [SpanAttribute("db.system", .string("postgresql"))])
        let pay = span(t, "payment", "charge", parent: server, kind: .server, start: start + 10_000_000, durationMs: slow ? 300 : 40,
                       status: fail ? .error : .ok, attributes: [SpanAttribute("amount", .double(Double(n) + 0.5))],
                       events: fail ? [SpanEvent(timeNanos: start + 20_000_000, name: "exception")] : [])
        return [root, client, server, db, pay]
    }
}
