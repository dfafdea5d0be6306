import ArgusModel
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore

/// The retry schedule of one delivery: capped exponential backoff with jitter, honouring a
/// receiver's `Retry-After`. A value type with no I/O; `random` is passed in so tests control it.
public struct RetrySchedule: Sendable {
    public let baseMs: Int64
    public let capMs: Int64
    /// Give up once this much time has been spent retrying.
    public let maxElapsedMs: Int64
    public private(set) var attempt = 0
    public private(set) var elapsedMs: Int64 = 0

    public init(baseMs: Int64 = 500, capMs: Int64 = 30_000, maxElapsedMs: Int64 = 120_000) {
        self.baseMs = baseMs
        self.capMs = capMs
        self.maxElapsedMs = maxElapsedMs
    }

    /// The delay before the next attempt, or nil to give up. `retryAfterMs` is the receiver's
    /// Retry-After, which wins over the backoff (capped by `capMs`). `random` is in [0, 1).
    public mutating func nextDelay(retryAfterMs: Int64?, random: Double) -> Int64? {
        let exp = min(capMs, baseMs << min(Int64(attempt), 20))
        // "Equal jitter": half fixed, half random, so retries spread out but never collapse to 0.
        var delay = exp / 2 + Int64(Double(exp / 2) * random)
        if let ra = retryAfterMs { delay = max(delay, min(ra, 5 * 60_000)) }
        if elapsedMs + delay > maxElapsedMs { return nil }
        attempt += 1
        elapsedMs += delay
        return delay
    }

    /// Whether a response status is worth retrying: 429 and 5xx.
    public static func isRetryable(status: Int) -> Bool { status == 429 || status >= 500 }

    /// Parses Retry-After: seconds, or an HTTP date; nil when absent or unreadable.
    public static func parseRetryAfter(_ value: String?, now: Date = Date()) -> Int64? {
        guard let v = value?.trimmingCharacters(in: .whitespaces), !v.isEmpty else { return nil }
        if let s = Int64(v), s >= 0 { return s * 1000 }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        if let d = f.date(from: v) { return max(0, Int64(d.timeIntervalSince(now) * 1000)) }
        return nil
    }
}

/// Posts webhook messages with retries.
public final class WebhookSender: Sendable {
    let client: HTTPClient
    let logger: Logger
    let retryBaseMs: Int64
    let retryCapMs: Int64

    public init(logger: Logger, retryBaseMs: Int64 = 500, retryCapMs: Int64 = 30_000) {
        client = HTTPClient(eventLoopGroupProvider: .singleton)
        self.logger = logger
        self.retryBaseMs = retryBaseMs
        self.retryCapMs = retryCapMs
    }

    public func shutdown() async {
        try? await client.shutdown()
    }

    public struct Outcome: Sendable {
        public var delivered: Bool
        public var attempts: Int
        public var lastError: String
    }

    /// Posts `body` to the webhook until it answers 2xx, a non-retryable status, or the retry
    /// budget (`maxElapsedMs`) runs out.
    public func deliver(_ body: String, to webhook: WebhookConfig, maxElapsedMs: Int64) async -> Outcome {
        var schedule = RetrySchedule(baseMs: retryBaseMs, capMs: retryCapMs, maxElapsedMs: maxElapsedMs)
        var attempts = 0
        var lastError = ""
        while !Task.isCancelled {
            attempts += 1
            var retryAfter: Int64? = nil
            do {
                var req = HTTPClientRequest(url: webhook.url)
                req.method = .POST
                req.headers.add(name: "Content-Type", value: "application/json")
                req.headers.add(name: "User-Agent", value: "Argus-Alertmanager/0.1")
                if let auth = webhook.authorization { req.headers.add(name: "Authorization", value: auth) }
                req.body = .bytes(ByteBuffer(string: body))
                let resp = try await client.execute(req, timeout: .milliseconds(webhook.timeoutMs))
                let status = Int(resp.status.code)
                // Drain the body so the connection can be reused.
                _ = try? await resp.body.collect(upTo: 1 << 20)
                if (200..<300).contains(status) {
                    return Outcome(delivered: true, attempts: attempts, lastError: "")
                }
                lastError = "unexpected status code \(status)"
                if !RetrySchedule.isRetryable(status: status) {
                    logger.error("webhook rejected the notification; not retrying", metadata: ["url": "\(webhook.url)", "status": "\(status)"])
                    return Outcome(delivered: false, attempts: attempts, lastError: lastError)
                }
                retryAfter = RetrySchedule.parseRetryAfter(resp.headers.first(name: "Retry-After"))
            } catch {
                lastError = "\(error)"
            }
            guard let delay = schedule.nextDelay(retryAfterMs: retryAfter, random: Double.random(in: 0..<1)) else { break }
            logger.warning("webhook delivery failed; retrying", metadata: ["url": "\(webhook.url)", "error": "\(lastError)", "retry_in_ms": "\(delay)"])
            do { try await Task.sleep(for: .milliseconds(delay)) } catch { break }
        }
        return Outcome(delivered: false, attempts: attempts, lastError: lastError)
    }

    /// Posts alerts to an Alertmanager's `/api/v2/alerts` (one attempt plus retries on 5xx).
    public func postToAlertmanager(_ baseURL: String, alerts: [NotifierAlert]) async -> Outcome {
        var body = "["
        for (i, a) in alerts.enumerated() {
            if i > 0 { body += "," }
            body += "{\"labels\":"
            WebhookPayload.appendMap(a.labels, to: &body)
            body += ",\"annotations\":"
            WebhookPayload.appendMap(a.annotations, to: &body)
            body += ",\"startsAt\":\"" + WebhookPayload.rfc3339(a.startsAt) + "\""
            if a.endsAt != 0 { body += ",\"endsAt\":\"" + WebhookPayload.rfc3339(a.endsAt) + "\"" }
            body += ",\"generatorURL\":"
            JSONText.appendQuoted(a.generatorURL, to: &body)
            body += "}"
        }
        body += "]"
        var url = baseURL
        while url.hasSuffix("/") { url.removeLast() }
        return await deliver(body, to: WebhookConfig(url: url + "/api/v2/alerts"), maxElapsedMs: 30_000)
    }
}
