import ArgusModel
import ArgusQuery
import ArgusStorage
import Foundation
import Hummingbird
import HummingbirdWebSocket
import NIOCore

/// Loki's live tail, `GET /loki/api/v1/tail` upgraded to a WebSocket (what Grafana's "Live"
/// button and `logcli --tail` use). Parameters as Loki's: `query` (a log query), `limit`
/// (entries of the first message, default 100), `start` (default one hour ago), `delay_for`
/// (seconds, at most 5). Each message is `{"streams":[{"stream":{…},"values":[["ns","line"]]}],
/// "dropped_entries":null}`; the store is polled every second for entries newer than the last
/// one sent. A bad query, or a plain GET without the upgrade, gets a 400 with the reason.
struct LokiTail {
    let logs: LogStore
    let engine: LogQLEngine

    static let maxDelay: Int64 = 5
    static let pollNanos: UInt64 = 1_000_000_000

    struct Request: Sendable {
        var query: String
        var limit: Int
        var start: Int64
        var delay: Int64
    }

    /// The tail request's parameters, checked (the query must parse and be a log query).
    static func request(query: String?) throws -> Request {
        let p = FormParameters(query ?? "")
        guard let q = p.get("query"), !q.isEmpty else { throw ArgusError(.badInput, "query parameter is required") }
        guard case .logs = try LogQLEngine.parse(q) else {
            throw ArgusError(.badInput, "tail is only supported for log queries, not metric queries")
        }
        let limit = try LokiAPI.limit(p)
        let now = TimeUtil.nowNanos()
        let start = try LokiAPI.time(p.get("start"), name: "start", default: now - 3_600_000_000_000)
        var delay: Int64 = 0
        if let d = p.get("delay_for"), !d.isEmpty {
            guard let v = Int64(d), v >= 0 else { throw ArgusError(.badInput, "invalid delay_for \(quoteLabelValue(d)): give whole seconds") }
            guard v <= maxDelay else { throw ArgusError(.badInput, "delay_for can't be greater than \(maxDelay)") }
            delay = v
        }
        return Request(query: q, limit: limit, start: start, delay: delay * 1_000_000_000)
    }

    /// The WebSocket route: upgrades only a valid request.
    func register(_ router: Router<BasicWebSocketRequestContext>) {
        let logs = self.logs, engine = self.engine
        router.ws("/loki/api/v1/tail") { request, _ in
            _ = try LokiTail.request(query: request.uri.query)
            return .upgrade()
        } onUpgrade: { inbound, outbound, context in
            let req = try LokiTail.request(query: context.request.uri.query)
            try await withThrowingTaskGroup(of: Void.self) { group in
                // The client's frames are read (and dropped) so its close ends the tail.
                group.addTask { for try await _ in inbound {} }
                group.addTask {
                    var tail = Tailer(request: req)
                    while !Task.isCancelled {
                        let current = tail
                        let (message, updated) = try await runBlocking { () throws -> (String?, Tailer) in
                            var t = current
                            let m = try t.next(engine: engine, store: logs)
                            return (m, t)
                        }
                        tail = updated
                        if let message { try await outbound.write(.text(message)) }
                        try await Task.sleep(nanoseconds: LokiTail.pollNanos)
                    }
                }
                do {
                    try await group.next()
                } catch {
                    context.logger.warning("live tail stopped", metadata: ["error": "\(error)"])
                }
                group.cancelAll()
            }
        }
    }

    /// Without the upgrade (or with a bad query, when the upgrade is refused) the same path
    /// answers as Loki does: 400 with the reason.
    func registerPlain(_ router: Router<BasicRequestContext>) {
        router.get("/loki/api/v1/tail") { request, _ -> Response in
            do {
                _ = try LokiTail.request(query: request.uri.query)
                throw ArgusError(.badInput, "/loki/api/v1/tail is a WebSocket endpoint: connect with Upgrade: websocket")
            } catch {
                return HTTPErrors.text(error)
            }
        }
    }

    /// What has been sent: the newest time, and the entries at that time (a poll repeats that
    /// nanosecond so an entry stored there later is not missed, nor one sent twice).
    struct Tailer: Sendable {
        let request: Request
        var from: Int64
        var first = true
        var sentAtLast: Set<Int> = []

        init(request: Request) {
            self.request = request
            from = request.start
        }

        /// The next message, or nil when nothing new arrived.
        mutating func next(engine: LogQLEngine, store: LogStore) throws -> String? {
            let end = TimeUtil.nowNanos() - request.delay
            guard end >= from else { return nil }
            // The first message holds the newest `limit` entries since start, as Loki sends them;
            // later polls read forward from the last entry sent, 1000 at a time (a burst
            // larger than that is sent over the next polls, not dropped).
            let limit = first ? request.limit : 1000
            let r = try engine.query(request.query, start: from, end: end, step: 1_000_000_000, limit: limit,
                                     direction: first ? .backward : .forward, store: store)
            first = false
            guard case .streams(var entries) = r.value else { return nil }
            entries.sort { $0.time < $1.time }
            var fresh: [LogQLEntry] = []
            var newest = from
            var atNewest: Set<Int> = []
            for e in entries {
                let key = Tailer.key(e)
                if e.time == from && sentAtLast.contains(key) { continue }
                fresh.append(e)
                if e.time > newest {
                    newest = e.time
                    atNewest = []
                }
                if e.time == newest { atNewest.insert(key) }
            }
            if newest == from { sentAtLast.formUnion(atNewest) } else { sentAtLast = atNewest }
            from = newest
            if fresh.isEmpty { return nil }
            return LokiTail.message(fresh)
        }

        static func key(_ e: LogQLEntry) -> Int {
            var h = Hasher()
            h.combine(e.allLabels)
            h.combine(e.line)
            return h.finalize()
        }
    }

    /// Loki's tail message: entries grouped by stream in order of first appearance.
    static func message(_ entries: [LogQLEntry]) -> String {
        var index: [Labels: Int] = [:]
        var groups: [(Labels, [LogQLEntry])] = []
        for e in entries {
            if let i = index[e.allLabels] { groups[i].1.append(e) } else {
                index[e.allLabels] = groups.count
                groups.append((e.allLabels, [e]))
            }
        }
        var out = "{\"streams\":["
        for (gi, (labels, es)) in groups.enumerated() {
            if gi > 0 { out += "," }
            out += "{\"stream\":" + LokiAPI.labelsJSON(labels) + ",\"values\":["
            for (i, e) in es.enumerated() {
                if i > 0 { out += "," }
                out += "[\"\(e.time)\","
                JSON.appendString(e.line, to: &out)
                out += "]"
            }
            out += "]}"
        }
        out += "],\"dropped_entries\":null}"
        return out
    }
}
