import ArgumentParser
import ArgusModel
import ArgusRules
import AsyncHTTPClient
import Foundation
import NIOCore

/// `argus silence add|list|expire`: Alertmanager silences through a server's `/api/v2/silences`.
struct SilenceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "silence",
        abstract: "Add, list and expire silences (Alertmanager's v2 API on the server).",
        subcommands: [Add.self, List.self, Expire.self]
    )

    struct Options: ParsableArguments {
        @Option(help: "Server URL (default $ARGUS_URL or http://127.0.0.1:4318).")
        var server: String?

        var base: String { server ?? ProcessInfo.processInfo.environment["ARGUS_URL"] ?? "http://127.0.0.1:4318" }
    }

    static func call(_ method: String, _ url: String, body: String? = nil) async throws -> (Int, String) {
        var req = HTTPClientRequest(url: url)
        switch method {
        case "POST": req.method = .POST
        case "DELETE": req.method = .DELETE
        default: req.method = .GET
        }
        if let body {
            req.headers.add(name: "Content-Type", value: "application/json")
            req.body = .bytes(ByteBuffer(string: body))
        }
        do {
            let resp = try await HTTPClient.shared.execute(req, timeout: .seconds(30))
            let data = try await resp.body.collect(upTo: 16 << 20)
            return (Int(resp.status.code), String(buffer: data))
        } catch {
            throw fatal("cannot reach \(url): \(error)")
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Silence alerts matching every matcher, e.g. alertname=\"X\" service=~\"pay.*\".")

        @OptionGroup var options: Options
        @Option(help: "How long the silence lasts (a Prometheus duration).")
        var duration = "1h"
        @Option(help: "Who silences.")
        var author = ProcessInfo.processInfo.environment["USER"] ?? "argus"
        @Option(help: "Why.")
        var comment = ""
        @Argument(help: "Matchers: name=value, name!=value, name=~regex, name!~regex.")
        var matchers: [String]

        func run() async throws {
            var parsed: [Matcher] = []
            for m in matchers {
                do { parsed += try AlertingConfig.parseMatcher(m) } catch { throw ValidationError("matcher \(m): \(error)") }
            }
            let ms: Int64
            do { ms = try PromDuration.parseMillis(duration) } catch { throw ValidationError("--duration: \(error)") }
            let now = TimeUtil.nowMillis()
            var body = "{\"matchers\":["
            body += parsed.map { m in
                "{\"name\":" + JSONText.quoted(m.name) + ",\"value\":" + JSONText.quoted(m.value) + ",\"isRegex\":"
                    + (m.kind == .regexMatch || m.kind == .regexNoMatch ? "true" : "false") + ",\"isEqual\":"
                    + (m.kind == .equal || m.kind == .regexMatch ? "true" : "false") + "}"
            }.joined(separator: ",")
            body += "],\"startsAt\":\"" + WebhookPayload.rfc3339(now) + "\",\"endsAt\":\"" + WebhookPayload.rfc3339(now + ms)
            body += "\",\"createdBy\":" + JSONText.quoted(author) + ",\"comment\":" + JSONText.quoted(comment) + "}"
            let (status, text) = try await call("POST", options.base + "/api/v2/silences", body: body)
            guard status == 200, let obj = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
                  let id = obj["silenceID"] as? String else {
                throw fatal("the server refused the silence (\(status)): \(text.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
            print(id)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List silences (active and pending; --expired for all).")

        @OptionGroup var options: Options
        @Flag(help: "Include expired silences.")
        var expired = false

        func run() async throws {
            let (status, text) = try await call("GET", options.base + "/api/v2/silences")
            guard status == 200, let list = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]] else {
                throw fatal("unexpected answer (\(status)): \(text.prefix(200))")
            }
            print("ID                                    STATE    ENDS AT                   CREATED BY  MATCHERS  COMMENT")
            for s in list {
                let state = (s["status"] as? [String: Any])?["state"] as? String ?? ""
                if state == "expired" && !expired { continue }
                let ms = (s["matchers"] as? [[String: Any]] ?? []).map { m -> String in
                    let op = (m["isRegex"] as? Bool ?? false) ? ((m["isEqual"] as? Bool ?? true) ? "=~" : "!~") : ((m["isEqual"] as? Bool ?? true) ? "=" : "!=")
                    return "\(m["name"] as? String ?? "")\(op)\(quoteLabelValue(m["value"] as? String ?? ""))"
                }.joined(separator: ",")
                func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
                print(pad(s["id"] as? String ?? "", 38) + pad(state, 9) + pad(s["endsAt"] as? String ?? "", 26)
                      + pad(s["createdBy"] as? String ?? "", 12) + pad("{" + ms + "}", 10) + (s["comment"] as? String ?? ""))
            }
        }
    }

    struct Expire: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "End silences now.")

        @OptionGroup var options: Options
        @Argument(help: "Silence ids.")
        var ids: [String]

        func run() async throws {
            var failed = false
            for id in ids {
                let (status, text) = try await call("DELETE", options.base + "/api/v2/silence/" + id)
                if status != 200 {
                    FileHandle.standardError.write(Data("argus: \(id): \(text.trimmingCharacters(in: .whitespacesAndNewlines))\n".utf8))
                    failed = true
                }
            }
            if failed { throw ExitCode.failure }
        }
    }
}
