import Hummingbird

/// Query or form parameters, decoded as application/x-www-form-urlencoded (keys too, so
/// `match%5B%5D` is `match[]`), keeping repeated keys in order.
struct FormParameters {
    private(set) var pairs: [(String, String)] = []

    init(_ encoded: String) {
        for part in encoded.split(separator: "&", omittingEmptySubsequences: true) {
            let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let k = FormParameters.decode(kv[0])
            let v = kv.count > 1 ? FormParameters.decode(kv[1]) : ""
            pairs.append((k, v))
        }
    }

    /// The request's URL query merged with a form-encoded POST body, when there is one.
    static func from(_ request: inout Request, maxBody: Int) async throws -> FormParameters {
        var p = FormParameters(request.uri.query ?? "")
        if request.method == .post,
           let ct = request.headers[.contentType], ct.lowercased().hasPrefix("application/x-www-form-urlencoded") {
            let body = try await request.collectBody(upTo: maxBody)
            p.pairs += FormParameters(String(buffer: body)).pairs
        }
        return p
    }

    func get(_ key: String) -> String? { pairs.first { $0.0 == key }?.1 }
    func getAll(_ key: String) -> [String] { pairs.filter { $0.0 == key }.map(\.1) }

    static func decode(_ s: Substring) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(s.utf8.count)
        var it = s.utf8.makeIterator()
        while let b = it.next() {
            if b == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else if b == UInt8(ascii: "%"), let h = it.next(), let l = it.next(), let hv = hex(h), let lv = hex(l) {
                bytes.append(hv << 4 | lv)
            } else {
                bytes.append(b)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func hex(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
