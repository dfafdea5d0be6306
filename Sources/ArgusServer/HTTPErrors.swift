import ArgusModel
import Foundation
import Hummingbird
import NIOCore

/// Maps errors to HTTP statuses in one place.
enum HTTPErrors {
    static func status(for error: any Error) -> HTTPResponse.Status {
        if let e = error as? ArgusError {
            switch e.code {
            case .badInput, .outOfOrder, .duplicateSample, .limit: return .badRequest
            case .notFound: return .notFound
            case .unavailable, .timeout: return .serviceUnavailable
            case .execution: return .unprocessableContent
            default: return .internalServerError
            }
        }
        if let e = error as? any HTTPResponseError { return e.status }
        return .internalServerError
    }

    static func message(for error: any Error) -> String {
        if let e = error as? ArgusError { return e.description }
        if let e = error as? NIOTooManyBytesError {
            return "request body is larger than the limit of \(e.maxBytes.map { "\($0)" } ?? "the configured") bytes (--ingest.max-body)"
        }
        if let e = error as? HTTPError {
            if e.status == .contentTooLarge { return "request body is larger than the limit" }
            return e.body ?? "\(e.status)"
        }
        return "\(error)"
    }

    /// A plain-text error response (VictoriaMetrics-style endpoints answer in text).
    static func text(_ error: any Error) -> Response {
        let status = status(for: error)
        var buf = ByteBuffer()
        buf.writeString(message(for: error) + "\n")
        return Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: buf))
    }

    /// Prometheus' JSON error envelope.
    static func json(_ error: any Error) -> Response {
        let status = status(for: error)
        let type: String
        switch status {
        case .badRequest: type = "bad_data"
        case .unprocessableContent: type = "execution"
        case .serviceUnavailable: type = (error as? ArgusError)?.code == .timeout ? "timeout" : "unavailable"
        case .notFound: type = "not_found"
        default: type = "internal"
        }
        var out = "{\"status\":\"error\",\"errorType\":\"\(type)\",\"error\":"
        JSON.appendString(message(for: error), to: &out)
        out += "}"
        return JSON.response(out, status: status)
    }
}

/// Small helpers for writing JSON by hand on hot response paths.
enum JSON {
    static func appendString(_ s: String, to out: inout String) { JSONText.appendQuoted(s, to: &out) }

    static func quoted(_ s: String) -> String { JSONText.quoted(s) }

    static func response(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        var buf = ByteBuffer()
        buf.writeString(text)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: buf))
    }
}

/// Formats a float as VictoriaMetrics' export does: shortest round-trip form, integers without
/// a fraction, and the bare tokens NaN, +Inf and -Inf for non-finite values.
func formatExportValue(_ v: Double) -> String {
    if v.isNaN { return "NaN" }
    if v.isInfinite { return v > 0 ? "+Inf" : "-Inf" }
    if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
    return "\(v)"
}

/// Parses an API time: unix seconds (with fraction) or RFC 3339.
func parseAPITime(_ s: String, name: String) throws -> Int64 {
    // (A number past what milliseconds in 64 bits hold is refused, not wrapped.)
    if let d = Double(s), d.isFinite, let ms = Int64(exactly: (d * 1000).rounded()) { return ms }
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    if let date = f.date(from: s), let ms = Int64(exactly: (date.timeIntervalSince1970 * 1000).rounded()) { return ms }
    f.formatOptions = [.withInternetDateTime]
    if let date = f.date(from: s), let ms = Int64(exactly: (date.timeIntervalSince1970 * 1000).rounded()) { return ms }
    throw ArgusError(.badInput, "invalid parameter \"\(name)\": cannot parse \"\(s)\" to a valid timestamp")
}
