import ArgumentParser
import ArgusIngest
import ArgusModel
import ArgusStorage
import ArgusTerminal
import AsyncHTTPClient
import Foundation
import NIOCore

/// `argus traces TRACEQL`: searches through a server's Tempo API and lists the traces.
struct Traces: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Search traces with TraceQL on an Argus (or Tempo) server.",
        discussion: "Lists matching traces: id, root service, root span, start, duration, span and error counts.")

    @Argument(help: "The TraceQL query, e.g. '{ resource.service.name = \"checkout\" && duration > 200ms }'.")
    var query: String = "{ }"

    @Option(help: "Search the last DURATION (e.g. 15m, 1h, 2d).")
    var since = "1h"

    @Option(help: "Most traces to list.")
    var limit = 20

    @Option(help: "table or json.")
    var output = "table"

    @Option(help: "Server URL (default $ARGUS_URL or http://127.0.0.1:4318).")
    var server: String?

    func run() async throws {
        let base = server ?? ProcessInfo.processInfo.environment["ARGUS_URL"] ?? "http://127.0.0.1:4318"
        guard ["table", "json"].contains(output) else { throw ValidationError("--output must be table or json") }
        guard limit > 0 else { throw ValidationError("--limit must be positive") }
        let ms: Int64
        do { ms = try PromDuration.parseMillis(since) } catch { throw ValidationError("--since: \(error)") }
        let end = TimeUtil.nowMillis() / 1000 + 1
        let start = end - ms / 1000 - 1
        let url = base + "/api/search?q=" + TraceCLI.formEncode(query) + "&start=\(start)&end=\(end)&limit=\(limit)"
        let (status, data) = try await TraceCLI.get(url, base: base)
        guard status == 200 else {
            let msg = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            FileHandle.standardError.write(Data((TraceCLI.renderError(query: query, error: msg) + "\n").utf8))
            throw ExitCode.failure
        }
        if output == "json" {
            print(String(decoding: data, as: UTF8.self))
            return
        }
        guard let obj = try? JSONSerialization.jsonObject(with: Data(data)) as? [String: Any] else {
            throw fatal("the server's answer is not JSON: \(String(decoding: data.prefix(200), as: UTF8.self))")
        }
        let traces = obj["traces"] as? [[String: Any]] ?? []
        if traces.isEmpty {
            print("(no traces)")
            return
        }
        var rows: [[String]] = [["TRACE ID", "ROOT SERVICE", "ROOT SPAN", "START", "DURATION", "SPANS", "ERRORS"]]
        for t in traces {
            var spans = 0, errors = 0
            for (_, v) in t["serviceStats"] as? [String: [String: Any]] ?? [:] {
                spans += (v["spanCount"] as? Int) ?? 0
                errors += (v["errorCount"] as? Int) ?? 0
            }
            let startNs = Int64(t["startTimeUnixNano"] as? String ?? "") ?? 0
            let durMs = (t["durationMs"] as? Int) ?? 0
            rows.append([t["traceID"] as? String ?? "", t["rootServiceName"] as? String ?? "", t["rootTraceName"] as? String ?? "",
                         TraceCLI.time(startNs), TraceCLI.duration(Int64(durMs) * 1_000_000), String(spans), String(errors)])
        }
        print(TraceCLI.table(rows), terminator: "")
    }
}

/// `argus trace ID`: fetches one trace and draws it as a waterfall.
struct Trace: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Draw one trace as a waterfall: the span tree, bars on a time axis, errors and the critical path.")

    @Argument(help: "The trace id (hex).")
    var id: String

    @Option(help: "Width of the bar area in characters.")
    var width = 60

    @Flag(name: .customLong("no-color"), help: "No ANSI colours (also when NO_COLOR is set or output is not a terminal).")
    var noColor = false

    @Flag(help: "Under each span, its log lines (from the Loki API: each service's logs carrying the trace's trace_id, placed by span_id).")
    var logs = false

    @Option(help: "Server URL (default $ARGUS_URL or http://127.0.0.1:4318).")
    var server: String?

    func run() async throws {
        let base = server ?? ProcessInfo.processInfo.environment["ARGUS_URL"] ?? "http://127.0.0.1:4318"
        guard TraceID(hex: id) != nil else { throw ValidationError("\"\(id)\" is not a trace id: expected up to 32 hex digits") }
        guard width >= 10 else { throw ValidationError("--width must be at least 10") }
        let (status, data) = try await TraceCLI.get(base + "/api/traces/" + id, base: base, accept: "application/protobuf")
        if status == 404 { throw fatal("trace \(id) not found") }
        guard status == 200 else { throw fatal("the server answered \(status): \(String(decoding: data, as: UTF8.self))") }
        let spans: [Span]
        do { spans = try OTLPSpanConversion.spans(fromProtobuf: data) } catch { throw fatal("\(error)") }
        let color = !noColor && ProcessInfo.processInfo.environment["NO_COLOR"] == nil && isatty(1) != 0
        let tree = ArgusStorage.TraceTree(spans: spans)
        var spanLogs: TraceLogs?
        if logs { spanLogs = try await TraceLogs.fetch(tree, client: DataClient(baseURL: base)) }
        print(TraceWaterfall.render(tree, width: width, color: color, logs: spanLogs), terminator: "")
    }
}

/// A trace's log lines by span: fetched from the Loki API with the dashboard's trace-view
/// query, `{service_name="SERVICE"} | trace_id="TRACE"`, once per service of the trace over the
/// trace's time with a minute either side, and placed by their `span_id` structured metadata.
struct TraceLogs {
    /// Lines per span id, oldest first.
    var bySpan: [UInt64: [LogLine]] = [:]
    /// Lines of the trace whose span_id is missing or names no span of it.
    var unplaced: [LogLine] = []

    static let limitPerService = 1000

    static func fetch(_ tree: ArgusStorage.TraceTree, client: DataClient) async throws -> TraceLogs {
        guard let root = tree.root else { return TraceLogs() }
        let hex = root.traceID.hex
        let spanIDs = Set(tree.nodes.map(\.span.spanID))
        var out = TraceLogs()
        let start = Double(tree.startNanos) / 1e9 - 60, end = Double(tree.endNanos) / 1e9 + 60
        for service in Set(tree.nodes.map(\.span.service)).sorted() {
            let query = "{service_name=\"\(LogQLText.escape(service))\"} | trace_id=\"\(hex)\""
            let lines: [LogLine]
            do { lines = try await client.logs(query, start: start, end: end, limit: limitPerService) } catch {
                throw fatal("cannot fetch the logs of \(service) (\(query)): \(error)")
            }
            for l in lines {
                // Structured metadata comes as metadata with Loki's categorize-labels, merged
                // into the stream's labels without it (Argus answers that way).
                func meta(_ k: String) -> String? { l.metadata[k] ?? l.labels[k] }
                guard meta("trace_id").map({ $0.lowercased() == hex }) ?? true else { continue }
                if let sid = meta("span_id").flatMap({ UInt64($0, radix: 16) }), spanIDs.contains(sid) {
                    out.bySpan[sid, default: []].append(l)
                } else {
                    out.unplaced.append(l)
                }
            }
        }
        for k in out.bySpan.keys { out.bySpan[k]!.sort { $0.timeNanos < $1.timeNanos } }
        out.unplaced.sort { $0.timeNanos < $1.timeNanos }
        return out
    }
}

/// Escapes a string for a LogQL double-quoted literal.
enum LogQLText {
    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
    }
}

/// Draws a `ArgusStorage.TraceTree`: one line per span with its service, its name indented by depth, its
/// duration, and a bar placed on the trace's time axis. Error spans are marked `!`, spans on
/// the critical path `*` (and drawn solid; others shaded).
enum TraceWaterfall {
    static let palette = ["\u{1B}[36m", "\u{1B}[33m", "\u{1B}[35m", "\u{1B}[32m", "\u{1B}[34m", "\u{1B}[96m", "\u{1B}[93m", "\u{1B}[95m"]
    static let red = "\u{1B}[31m", bold = "\u{1B}[1m", reset = "\u{1B}[0m"

    static func render(_ tree: ArgusStorage.TraceTree, width: Int, color: Bool, logs: TraceLogs? = nil) -> String {
        guard let root = tree.root else { return "(empty trace)\n" }
        let total = max(tree.durationNanos, 1)
        let services = Array(Set(tree.nodes.map(\.span.service))).sorted()
        let colorOf = Dictionary(uniqueKeysWithValues: services.enumerated().map { ($1, palette[$0 % palette.count]) })
        let errors = tree.nodes.filter { $0.span.status == .error }.count
        var out = "Trace \(root.traceID.hex)  \(root.service): \(root.name)\n"
        out += "\(tree.nodes.count) spans, \(services.count) services, \(errors) error\(errors == 1 ? "" : "s"), \(duration(tree.durationNanos))"
        if tree.orphans > 0 { out += ", \(tree.orphans) spans whose parent is missing" }
        out += ", started \(time(tree.startNanos))\n\n"
        let svcW = min(24, max(7, services.map(\.count).max() ?? 7))
        let nameW = min(48, max(4, tree.nodes.map { $0.depth * 2 + 2 + $0.span.name.count }.max() ?? 4))
        // Time axis: ticks at 0, 1/4, 1/2, 3/4 and the end.
        var axis = [Character](repeating: " ", count: width + 12)
        for k in 0...4 {
            let label = Array(k == 0 ? "0" : duration(total * Int64(k) / 4))
            let pos = min(width * k / 4, width + 12 - label.count)
            for (j, ch) in label.enumerated() where pos + j < axis.count { axis[pos + j] = ch }
        }
        let pad = String(repeating: " ", count: svcW + 2 + nameW + 2 + 9 + 3)
        out += pad + String(axis) + "\n"
        out += pad + (0..<width).map { $0 % max(1, width / 4) == 0 ? "┬" : "─" }.joined() + "\n"
        for n in tree.nodes {
            let s = n.span
            var name = String(repeating: "  ", count: n.depth) + (n.depth > 0 ? "└ " : "") + s.name
            if name.count > nameW { name = String(name.prefix(nameW - 1)) + "…" }
            let mark = (s.status == .error ? "!" : " ") + (n.critical ? "*" : " ") + (n.parentMissing ? "?" : " ")
            let startCol = Int(Double(n.displayStart - tree.startNanos) / Double(total) * Double(width))
            var len = Int((Double(s.durationNanos) / Double(total) * Double(width)).rounded())
            len = max(1, min(len, width - min(startCol, width - 1)))
            let barChar = n.critical ? "█" : "▒"
            let bar = String(repeating: " ", count: min(startCol, width - 1)) + String(repeating: barChar, count: len)
            var svc = s.service
            if svc.count > svcW { svc = String(svc.prefix(svcW - 1)) + "…" }
            let svcCol = svc.padding(toLength: svcW, withPad: " ", startingAt: 0)
            let nameCol = name.padding(toLength: nameW, withPad: " ", startingAt: 0)
            let dur = duration(s.durationNanos)
            let durCol = String(repeating: " ", count: max(0, 9 - dur.count)) + dur
            if color {
                let c = s.status == .error ? red : colorOf[s.service] ?? ""
                out += colorOf[s.service, default: ""] + svcCol + reset + "  " + (n.critical ? bold : "") + nameCol + reset + "  " + durCol + " "
                out += (s.status == .error ? red : "") + mark + reset + c + bar + reset + "\n"
            } else {
                out += svcCol + "  " + nameCol + "  " + durCol + " " + mark + bar + "\n"
            }
            if s.status == .error && !s.statusMessage.isEmpty {
                out += String(repeating: " ", count: svcW + 2) + String(repeating: "  ", count: n.depth + 1) + "! " + s.statusMessage + "\n"
            }
            for l in logs?.bySpan[s.spanID] ?? [] {
                out += String(repeating: " ", count: svcW + 2) + String(repeating: "  ", count: n.depth + 1) + logLine(l, color: color) + "\n"
            }
        }
        if let logs, !logs.unplaced.isEmpty {
            out += "\nLog lines of the trace with no span of it:\n"
            for l in logs.unplaced { out += "  " + (l.labels["service_name"].map { $0 + "  " } ?? "") + logLine(l, color: color) + "\n" }
        }
        out += "\n! error   * critical path   ? parent span missing"
        if logs != nil { out += "   │ log line (time, level)" }
        out += "\n"
        return out
    }

    /// `│ 12:00:01.250 error  line`, the line on one row.
    static func logLine(_ l: LogLine, color: Bool) -> String {
        let f = DateFormatter()
        f.dateFormat = "HH:mm:ss.SSS"
        f.timeZone = TimeZone(identifier: "UTC")
        let level = l.severity == "unknown" || l.severity.isEmpty ? "-" : l.severity
        let text = l.line.replacingOccurrences(of: "\n", with: " ⏎ ")
        let head = "│ " + f.string(from: Date(timeIntervalSince1970: Double(l.timeNanos) / 1e9)) + " " + level.padding(toLength: 5, withPad: " ", startingAt: 0) + " "
        if color && (level.hasPrefix("err") || level.hasPrefix("fatal") || level.hasPrefix("crit")) { return head + red + text + reset }
        return head + text
    }

    static func duration(_ ns: Int64) -> String { TraceCLI.duration(ns) }
    static func time(_ ns: Int64) -> String { TraceCLI.time(ns) }
}

enum TraceCLI {
    static func get(_ url: String, base: String, accept: String = "application/json") async throws -> (Int, [UInt8]) {
        var req = HTTPClientRequest(url: url)
        req.headers.add(name: "Accept", value: accept)
        do {
            let resp = try await HTTPClient.shared.execute(req, timeout: .seconds(130))
            let body = Array(try await resp.body.collect(upTo: 256 << 20).readableBytesView)
            return (Int(resp.status.code), body)
        } catch {
            throw fatal("cannot reach \(base): \(error)")
        }
    }

    static func formEncode(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }

    /// A TraceQL error with a caret under the column it names ("... at line L, col C: ...").
    static func renderError(query: String, error: String) -> String {
        guard let r = error.range(of: #"line (\d+), col (\d+)"#, options: .regularExpression) else { return "error: " + error }
        let nums = error[r].split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        let line = nums.first ?? 1, col = nums.count > 1 ? nums[1] : 1
        let lines = query.split(separator: "\n", omittingEmptySubsequences: false)
        let shown = line - 1 < lines.count ? String(lines[line - 1]) : query
        return "error: " + error + "\n  " + shown + "\n  " + String(repeating: " ", count: max(0, col - 1)) + "^"
    }

    static func duration(_ ns: Int64) -> String {
        let a = abs(ns)
        if a >= 60_000_000_000 { return String(format: "%.1fm", Double(ns) / 60e9) }
        if a >= 1_000_000_000 { return String(format: "%.2fs", Double(ns) / 1e9) }
        if a >= 1_000_000 { return String(format: "%.1fms", Double(ns) / 1e6) }
        if a >= 1000 { return String(format: "%.0fµs", Double(ns) / 1e3) }
        return "\(ns)ns"
    }

    static func time(_ ns: Int64) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: Date(timeIntervalSince1970: Double(ns) / 1e9))
    }

    static func table(_ rows: [[String]]) -> String {
        guard let first = rows.first else { return "" }
        var widths = [Int](repeating: 0, count: first.count)
        for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
        var out = ""
        for r in rows {
            out += r.enumerated().map { i, c in i == r.count - 1 ? c : c.padding(toLength: widths[i], withPad: " ", startingAt: 0) }.joined(separator: "  ") + "\n"
        }
        return out
    }
}
