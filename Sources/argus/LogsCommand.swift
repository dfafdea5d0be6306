import ArgumentParser
import ArgusModel
import AsyncHTTPClient
import Foundation
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// `argus logs 'LOGQL'`: runs LogQL through a server's Loki API and prints log lines (coloured
/// by level, with the stream's service and the trace id) or, for metric queries, the result
/// as `argus query` prints it.
struct Logs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a LogQL query against an Argus (or Loki) server.",
        discussion: "Log queries print lines oldest first (the newest --limit lines of the range); --follow keeps printing new lines. Metric queries print as `argus query` does.")

    @Argument(help: "The LogQL query, e.g. '{service_name=\"checkout\"} |= \"timeout\"'.")
    var query: String

    @Option(help: "Query the last DURATION (e.g. 15m, 1h; default 1h).")
    var since: String?

    @Option(help: "Range start (RFC 3339, unix seconds or nanoseconds).")
    var start: String?

    @Option(help: "Range end (default now).")
    var end: String?

    @Option(help: "Most lines to print.")
    var limit = 100

    @Option(help: "Step of a metric query (a duration like 1m; default: about 100 points).")
    var step: String?

    @Flag(name: [.short, .long], help: "Keep printing new lines as they arrive (polls every second).")
    var follow = false

    @Option(help: "text, json or raw.")
    var output = "text"

    @Option(help: "Server URL (default $ARGUS_URL or http://127.0.0.1:4318).")
    var server: String?

    func run() async throws {
        let base = server ?? ProcessInfo.processInfo.environment["ARGUS_URL"] ?? "http://127.0.0.1:4318"
        guard ["text", "json", "raw"].contains(output) else { throw ValidationError("--output must be text, json or raw") }
        guard limit > 0 else { throw ValidationError("--limit must be positive") }
        let nowNs = TimeUtil.nowNanos()
        let endNs = try end.map { try nanos($0, "--end") } ?? nowNs
        var startNs: Int64
        if let start {
            startNs = try nanos(start, "--start")
        } else {
            let window: Int64
            do { window = try PromDuration.parseMillis(since ?? "1h") * 1_000_000 } catch { throw ValidationError("--since: \(error)") }
            startNs = endNs - window
        }
        guard startNs <= endNs else { throw ValidationError("--start must not be after --end") }
        var form = [("query", query), ("start", String(startNs)), ("end", String(endNs)), ("limit", String(limit)), ("direction", "backward")]
        if let step {
            form.append(("step", step))
        } else {
            form.append(("step", String(max(1, (endNs - startNs) / 100 / 1_000_000_000)) + "s"))
        }
        let (status, data) = try await post(base, "/loki/api/v1/query_range", form)
        if output == "json" && !follow { print(String(decoding: data, as: UTF8.self)) }
        guard status == 200, let obj = try? JSONSerialization.jsonObject(with: Data(data)) as? [String: Any],
              let d = obj["data"] as? [String: Any] else {
            let msg = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            FileHandle.standardError.write(Data((Logs.renderError(query: query, error: msg) + "\n").utf8))
            throw ExitCode.failure
        }
        if output == "json" && !follow { return }
        if d["resultType"] as? String != "streams" {
            if follow { throw ValidationError("--follow works with log queries, not metric queries") }
            print(QueryOutput.table(d), terminator: "")
            return
        }
        var entries = Logs.entries(d).sorted { $0.time < $1.time }
        let colour = output == "text" && isatty(1) == 1
        for e in entries { print(format(e, colour: colour)) }
        fflush(stdout)
        guard follow else { return }
        // Tail: poll for lines after the newest one printed.
        var last = entries.last?.time ?? endNs
        var seenAtLast = Set(entries.filter { $0.time == last }.map(\.line))
        while !Task.isCancelled {
            try await Task.sleep(for: .seconds(1))
            let now = TimeUtil.nowNanos()
            let f = [("query", query), ("start", String(last)), ("end", String(now + 1)), ("limit", "5000"), ("direction", "forward")]
            guard let (st, body) = try? await post(base, "/loki/api/v1/query_range", f), st == 200,
                  let o = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any], let dd = o["data"] as? [String: Any] else { continue }
            entries = Logs.entries(dd).sorted { $0.time < $1.time }
            for e in entries {
                if e.time == last && seenAtLast.contains(e.line) { continue }
                if e.time > last {
                    last = e.time
                    seenAtLast = []
                }
                seenAtLast.insert(e.line)
                print(format(e, colour: colour))
            }
            fflush(stdout)
        }
    }

    struct Entry {
        var time: Int64
        var line: String
        var labels: [String: String]
        var metadata: [String: String]
    }

    static func entries(_ d: [String: Any]) -> [Entry] {
        var out: [Entry] = []
        for s in d["result"] as? [[String: Any]] ?? [] {
            let labels = s["stream"] as? [String: String] ?? [:]
            for v in s["values"] as? [[Any]] ?? [] {
                guard v.count >= 2, let ts = v[0] as? String, let t = Int64(ts), let line = v[1] as? String else { continue }
                var meta: [String: String] = [:]
                if v.count > 2, let m = v[2] as? [String: Any] {
                    for (_, group) in m { for (k, x) in group as? [String: String] ?? [:] { meta[k] = x } }
                }
                out.append(Entry(time: t, line: line, labels: labels, metadata: meta))
            }
        }
        return out
    }

    func format(_ e: Entry, colour: Bool) -> String {
        switch output {
        case "raw": return e.line
        case "json":
            var all = e.labels
            for (k, v) in e.metadata { all[k] = v }
            let labels = all.sorted { $0.key < $1.key }.map { JSONText.quoted($0.key) + ":" + JSONText.quoted($0.value) }.joined(separator: ",")
            return "{\"timestamp\":\"\(e.time)\",\"labels\":{\(labels)},\"line\":\(JSONText.quoted(e.line))}"
        default:
            let get = { (k: String) in e.labels[k] ?? e.metadata[k] }
            let level = get("detected_level") ?? get("level") ?? "unknown"
            let f = ISO8601DateFormatter()
            f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            let ts = f.string(from: Date(timeIntervalSince1970: Double(e.time) / 1e9))
            let service = get("service_name") ?? get("job") ?? e.labels.sorted { $0.key < $1.key }.first.map { "\($0.key)=\($0.value)" } ?? ""
            var text = "\(ts) \(Logs.pad(level.uppercased(), 5)) \(service) \(e.line)"
            if let trace = get("trace_id"), !trace.isEmpty { text += " trace_id=\(trace)" }
            guard colour else { return text }
            let code: String
            switch LogSeverity.level(text: level) ?? level {
            case "fatal", "error": code = "31"
            case "warn": code = "33"
            case "info": code = "32"
            case "debug": code = "36"
            case "trace": code = "90"
            default: code = "0"
            }
            return "\u{1B}[\(code)m\(text)\u{1B}[0m"
        }
    }

    static func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }

    /// Shows Loki's `parse error at line L, col C: …` with a caret under the column.
    static func renderError(query: String, error: String) -> String {
        guard let r = error.range(of: #"parse error at line (\d+), col (\d+)"#, options: .regularExpression) else { return "error: " + error }
        let nums = error[r].split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        let line = nums.first ?? 1, col = nums.count > 1 ? nums[1] : 1
        let lines = query.split(separator: "\n", omittingEmptySubsequences: false)
        let shown = line - 1 < lines.count ? String(lines[line - 1]) : query
        return "error: " + error + "\n  " + shown + "\n  " + String(repeating: " ", count: max(0, col - 1)) + "^"
    }

    func nanos(_ s: String, _ flag: String) throws -> Int64 {
        if let ns = TimeUtil.lokiNanos(s) { return ns }
        throw ValidationError("\(flag): cannot read \"\(s)\" as RFC 3339, unix seconds or nanoseconds")
    }

    func post(_ base: String, _ path: String, _ form: [(String, String)]) async throws -> (Int, [UInt8]) {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let body = form.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0.1)" }.joined(separator: "&")
        var req = HTTPClientRequest(url: base + path)
        req.method = .POST
        req.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        req.headers.add(name: "X-Loki-Response-Encoding-Flags", value: "categorize-labels")
        req.body = .bytes(ByteBuffer(string: body))
        do {
            let resp = try await HTTPClient.shared.execute(req, timeout: .seconds(130))
            return (Int(resp.status.code), Array(try await resp.body.collect(upTo: 256 << 20).readableBytesView))
        } catch {
            throw fatal("cannot reach \(base): \(error)")
        }
    }
}
