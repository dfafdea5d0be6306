import ArgumentParser
import ArgusModel
import ArgusTerminal
import AsyncHTTPClient
import Foundation
import NIOCore

/// `argus query EXPR`: runs PromQL through a server's Prometheus API and prints the result.
struct Query: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a PromQL query against an Argus (or Prometheus) server.",
        discussion: "Instant by default (--time); a range query with --start/--end/--step or --since.")

    @Argument(help: "The PromQL expression.")
    var expr: String

    @Option(help: "Evaluation time for an instant query (RFC 3339 or unix seconds; default now).")
    var time: String?

    @Option(help: "Range start (RFC 3339 or unix seconds).")
    var start: String?

    @Option(help: "Range end (default now).")
    var end: String?

    @Option(help: "Range step (a duration like 1m, or seconds; default: about 100 points).")
    var step: String?

    @Option(help: "Range query over the last DURATION (e.g. 1h), ending now.")
    var since: String?

    @Option(help: "table, json or chart.")
    var output = "table"

    @Option(help: "Server URL (default $ARGUS_URL or http://127.0.0.1:4318).")
    var server: String?

    func run() async throws {
        let base = server ?? ProcessInfo.processInfo.environment["ARGUS_URL"] ?? "http://127.0.0.1:4318"
        guard ["table", "json", "chart"].contains(output) else { throw ValidationError("--output must be table, json or chart") }
        var form = [("query", expr)]
        let path: String
        if since != nil || start != nil || end != nil {
            let now = Double(TimeUtil.nowMillis()) / 1000
            var s: Double, e: Double = now
            if let end { e = try seconds(end, "--end") }
            if let since {
                let ms = try PromDuration.parseMillis(since)
                s = e - Double(ms) / 1000
            } else if let start {
                s = try seconds(start, "--start")
            } else {
                throw ValidationError("a range query needs --start or --since")
            }
            let st = try step.map { try stepSeconds($0) } ?? max(1, ((e - s) / 100).rounded(.up))
            form += [("start", fmtSeconds(s)), ("end", fmtSeconds(e)), ("step", fmtSeconds(st))]
            path = "/api/v1/query_range"
        } else {
            if let time { form.append(("time", fmtSeconds(try seconds(time, "--time")))) }
            path = "/api/v1/query"
        }
        let body = form.map { "\($0.0)=\(formEncode($0.1))" }.joined(separator: "&")
        var req = HTTPClientRequest(url: base + path)
        req.method = .POST
        req.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        req.body = .bytes(ByteBuffer(string: body))
        let data: [UInt8]
        do {
            let resp = try await HTTPClient.shared.execute(req, timeout: .seconds(130))
            data = Array(try await resp.body.collect(upTo: 256 << 20).readableBytesView)
        } catch {
            throw fatal("cannot reach \(base): \(error)")
        }
        if output == "json" {
            print(String(decoding: data, as: UTF8.self))
        }
        guard let obj = try? JSONSerialization.jsonObject(with: Data(data)) as? [String: Any] else {
            throw fatal("the server's answer is not JSON: \(String(decoding: data.prefix(200), as: UTF8.self))")
        }
        if obj["status"] as? String != "success" {
            let msg = obj["error"] as? String ?? "unknown error"
            if output != "json" { FileHandle.standardError.write(Data((QueryErrorDisplay.render(query: expr, error: msg) + "\n").utf8)) }
            throw ExitCode.failure
        }
        if output == "json" { return }
        let d = obj["data"] as? [String: Any] ?? [:]
        let text = output == "chart" ? QueryOutput.chart(d) : QueryOutput.table(d)
        print(text, terminator: "")
        for w in obj["warnings"] as? [String] ?? [] { FileHandle.standardError.write(Data("warning: \(w)\n".utf8)) }
    }

    func seconds(_ s: String, _ flag: String) throws -> Double {
        if let d = Double(s) { return d }
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = f.date(from: s) { return date.timeIntervalSince1970 }
        f.formatOptions = [.withInternetDateTime]
        if let date = f.date(from: s) { return date.timeIntervalSince1970 }
        throw ValidationError("\(flag): cannot read \"\(s)\" as RFC 3339 or unix seconds")
    }

    func stepSeconds(_ s: String) throws -> Double {
        if let d = Double(s) { return d }
        do { return Double(try PromDuration.parseMillis(s)) / 1000 } catch { throw ValidationError("--step: \(error)") }
    }

    func fmtSeconds(_ s: Double) -> String { String(format: "%.3f", s) }

    func formEncode(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }
}

/// Shows a parse error as the query with a caret under the column the error names.
enum QueryErrorDisplay {
    static func render(query: String, error: String) -> String {
        // Prometheus' form: "1:17: parse error: ..." (possibly after "invalid parameter ...: ").
        guard let r = error.range(of: #"(\d+):(\d+): parse error: "#, options: .regularExpression) else { return "error: " + error }
        let pos = error[r].split(separator: ":")
        let line = Int(pos[0]) ?? 1, col = Int(pos[1]) ?? 1
        let lines = query.split(separator: "\n", omittingEmptySubsequences: false)
        let shown = line - 1 < lines.count ? String(lines[line - 1]) : query
        return "error: " + String(error[r.lowerBound...]) + "\n  " + shown + "\n  " + String(repeating: " ", count: max(0, col - 1)) + "^"
    }
}

/// Text renderings of query results.
enum QueryOutput {
    static func labelText(_ m: [String: String]) -> String { SeriesName.labelText(m) }

    static func time(_ t: Double) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: Date(timeIntervalSince1970: t))
    }

    static func table(_ d: [String: Any]) -> String {
        let type = d["resultType"] as? String ?? ""
        switch type {
        case "scalar", "string":
            let r = d["result"] as? [Any] ?? []
            return r.count == 2 ? "\(r[1])\n" : "\n"
        case "vector":
            let rows = (d["result"] as? [[String: Any]] ?? []).map { s -> (String, String) in
                let v = (s["value"] as? [Any])?.last as? String ?? ""
                return (labelText(s["metric"] as? [String: String] ?? [:]), v)
            }
            if rows.isEmpty { return "(no data)\n" }
            let w = max(6, rows.map { $0.0.count }.max() ?? 0)
            var out = "SERIES".padding(toLength: w, withPad: " ", startingAt: 0) + "  VALUE\n"
            for (l, v) in rows { out += l.padding(toLength: w, withPad: " ", startingAt: 0) + "  " + v + "\n" }
            return out
        case "matrix":
            let series = d["result"] as? [[String: Any]] ?? []
            if series.isEmpty { return "(no data)\n" }
            var out = ""
            for s in series {
                out += labelText(s["metric"] as? [String: String] ?? [:]) + "\n"
                for p in s["values"] as? [[Any]] ?? [] where p.count == 2 {
                    let t = (p[0] as? Double) ?? Double("\(p[0])") ?? 0
                    out += "  " + time(t) + "  " + "\(p[1])" + "\n"
                }
            }
            return out
        default:
            return "\n"
        }
    }

    static func chart(_ d: [String: Any]) -> String {
        guard d["resultType"] as? String == "matrix" else { return table(d) }
        var series: [SeriesData] = []
        for s in d["result"] as? [[String: Any]] ?? [] {
            var ts: [Double] = [], vs: [Double] = []
            for p in s["values"] as? [[Any]] ?? [] where p.count == 2 {
                guard let v = Double("\(p[1])"), v.isFinite else { continue }
                ts.append((p[0] as? Double) ?? Double("\(p[0])") ?? 0)
                vs.append(v)
            }
            let labels = s["metric"] as? [String: String] ?? [:]
            series.append(SeriesData(labels: labels, name: labelText(labels), times: ts, values: vs))
        }
        let mode: ColorMode = isatty(1) != 0 ? ColorMode.detect(environment: ProcessInfo.processInfo.environment) : .none
        return ChartText.render(series, width: 80, height: 16, mode: mode)
    }
}
