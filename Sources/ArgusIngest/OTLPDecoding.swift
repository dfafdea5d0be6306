import ArgusModel
import Foundation
import SwiftProtobuf

/// Decodes OTLP/HTTP request bodies: binary protobuf or OTLP JSON.
///
/// OTLP JSON differs from protobuf's canonical JSON in one way that matters: trace and span ids
/// are hex strings, not base64. They are rewritten before the protobuf JSON decoder runs.
public enum OTLPDecoding {
    public enum Format { case protobuf, json }

    public static func format(contentType: String?) throws -> Format {
        let ct = (contentType ?? "application/x-protobuf").lowercased()
        if ct.hasPrefix("application/x-protobuf") || ct.hasPrefix("application/protobuf") { return .protobuf }
        if ct.hasPrefix("application/json") { return .json }
        throw ArgusError(.badInput, "unsupported Content-Type \"\(contentType ?? "")\": OTLP/HTTP takes application/x-protobuf or application/json")
    }

    static let idKeys: Set<String> = ["traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"]

    public static func decode<M: SwiftProtobuf.Message>(_ type: M.Type, _ body: [UInt8], format: Format) throws -> M {
        do {
            switch format {
            case .protobuf:
                return try M(serializedBytes: body)
            case .json:
                let obj = try JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed])
                // A top-level string or number would trap JSONSerialization.data below.
                guard obj is [String: Any] else {
                    throw ArgusError(.badInput, "cannot decode the OTLP JSON body: expected a JSON object at the top level")
                }
                let fixed = try rewriteIDs(obj)
                let data = try JSONSerialization.data(withJSONObject: fixed)
                var opts = JSONDecodingOptions()
                opts.ignoreUnknownFields = true
                return try M(jsonUTF8Data: data, options: opts)
            }
        } catch let e as ArgusError {
            throw e
        } catch {
            throw ArgusError(.badInput, "cannot decode the OTLP \(format == .json ? "JSON" : "protobuf") body: \(error)")
        }
    }

    static func rewriteIDs(_ v: Any) throws -> Any {
        if let d = v as? [String: Any] {
            var out: [String: Any] = [:]
            for (k, x) in d {
                if idKeys.contains(k), let s = x as? String {
                    guard let bytes = hexBytes(s) else {
                        throw ArgusError(.badInput, "\(k) \"\(s)\" is not a hex string")
                    }
                    out[k] = Data(bytes).base64EncodedString()
                } else {
                    out[k] = try rewriteIDs(x)
                }
            }
            return out
        }
        if let a = v as? [Any] { return try a.map { try rewriteIDs($0) } }
        return v
    }

    static func hexBytes(_ s: String) -> [UInt8]? {
        let u = Array(s.utf8)
        guard u.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(u.count / 2)
        var i = 0
        while i < u.count {
            guard let h = hexValue(u[i]), let l = hexValue(u[i + 1]) else { return nil }
            out.append(h << 4 | l)
            i += 2
        }
        return out
    }

    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x61...0x66: return c - 0x61 + 10
        case 0x41...0x46: return c - 0x41 + 10
        default: return nil
        }
    }

    /// Encodes a response message in the request's format.
    public static func encode<M: SwiftProtobuf.Message>(_ m: M, format: Format) throws -> [UInt8] {
        switch format {
        case .protobuf: return try m.serializedBytes()
        case .json: return Array(try m.jsonUTF8Data())
        }
    }

    /// A google.rpc.Status body for an error response (code 3 = INVALID_ARGUMENT).
    public static func status(_ message: String, code: Int32, format: Format) -> [UInt8] {
        switch format {
        case .protobuf:
            var w = ProtoWriter()
            w.tag(1, .varint)
            w.varint(UInt64(code))
            w.string(2, message)
            return w.bytes
        case .json:
            return Array("{\"code\":\(code),\"message\":\(JSONText.quoted(message))}".utf8)
        }
    }
}
