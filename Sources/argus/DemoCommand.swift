import ArgumentParser
import Dispatch
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `argus demo`: the collector and the demo shop in one command. Runs `argus serve` and
/// `argus-demo up` (every shop service and the load generator) as child processes, prints what
/// runs where and what to try, and on Ctrl-C or SIGTERM stops the shop, then the collector.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the collector, the demo shop's services and its load generator; Ctrl-C stops them all.",
        discussion: "Needs the argus-demo binary next to argus (swift build builds both). See docs/demo.md.")

    @Option(name: .customLong("data-dir"), help: "The collector's data directory.")
    var dataDir = "./data"

    @Flag(help: "Keep the data in a temporary directory, removed at the end.")
    var ephemeral = false

    @Option(help: "The collector's address, HOST:PORT (port 0 picks a free one).")
    var listen = "127.0.0.1:4318"

    @Option(name: .customLong("base-port"), help: "The shop gateway's port; the other services take the next ten (0 picks free ports).")
    var basePort = 8080

    @Option(help: "Shopper journeys started per second.")
    var rate = 2.0

    @Option(help: "The scenario to start in (steady, spike, payments-outage, bank-slow, slow-catalog, recommendations-down, inventory-errors, cold-starts).")
    var scenario = "steady"

    func run() throws {
        let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let binDir = URL(fileURLWithPath: me).deletingLastPathComponent()
        let shopBinary = binDir.appendingPathComponent("argus-demo").path
        guard FileManager.default.isExecutableFile(atPath: shopBinary) else {
            throw ValidationError("\(shopBinary) is missing: build it with `swift build --product argus-demo`")
        }
        guard rate > 0 else { throw ValidationError("--rate must be positive") }
        let data = ephemeral ? NSTemporaryDirectory() + "argus-demo-\(getpid())" : dataDir
        let state = NSTemporaryDirectory() + "argus-demo-state-\(getpid())"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)

        // A handler (not SIG_IGN, which the children would inherit across exec).
        signal(SIGINT) { _ in }
        signal(SIGTERM) { _ in }
        let stop = DispatchSemaphore(value: 0)
        let sources = [SIGINT, SIGTERM].map { sig -> DispatchSourceSignal in
            let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            s.setEventHandler { stop.signal() }
            s.resume()
            return s
        }

        var children: [Process] = []
        defer {
            // The shop first (its exporters flush into the collector), then the collector.
            for p in children.reversed() where p.isRunning {
                kill(p.processIdentifier, SIGTERM)
                let deadline = Date().addingTimeInterval(20)
                while p.isRunning && Date() < deadline { usleep(50_000) }
                if p.isRunning { kill(p.processIdentifier, SIGKILL) }
                p.waitUntilExit()
            }
            sources.forEach { $0.cancel() }
            try? FileManager.default.removeItem(atPath: state)
            if ephemeral { try? FileManager.default.removeItem(atPath: data) }
        }

        // The collector; its stdout names the address it listens on.
        var serveArgs = ["serve", "--data-dir", data, "--listen", listen]
        if FileManager.default.fileExists(atPath: "alerts"), Self.serveHelp(me).contains("--rules") { serveArgs += ["--rules", "alerts"] }
        let serve = Process()
        serve.executableURL = URL(fileURLWithPath: me)
        serve.arguments = serveArgs
        let serveOut = Pipe()
        serve.standardOutput = serveOut
        let serveLog = state + "/argus.log"
        _ = FileManager.default.createFile(atPath: serveLog, contents: nil)
        serve.standardError = FileHandle(forWritingAtPath: serveLog)
        try serve.run()
        children.append(serve)
        guard let address = Self.waitForAddress(serveOut.fileHandleForReading, serve) else {
            throw ValidationError("argus serve did not start: " + ((try? String(contentsOfFile: serveLog, encoding: .utf8)) ?? ""))
        }
        print("argus serve: http://\(address), data in \(data) (log: \(serveLog))")
        fflush(stdout)

        // The shop; `up` prints its table once every service listens.
        let registry = state + "/registry.json"
        let up = Process()
        up.executableURL = URL(fileURLWithPath: shopBinary)
        up.arguments = ["up", "--collector", "http://\(address)", "--base-port", String(basePort), "--rate", String(rate),
                        "--scenario", scenario, "--registry", registry, "--log-dir", state + "/logs"]
        // Its output passes through here, so the hints come after its table.
        let upOut = Pipe()
        up.standardOutput = upOut
        let ready = DispatchSemaphore(value: 0)
        let seen = LineWatch()
        upOut.fileHandleForReading.readabilityHandler = { h in
            let chunk = h.availableData
            guard !chunk.isEmpty else { h.readabilityHandler = nil; return }
            FileHandle.standardOutput.write(chunk)
            if seen.append(chunk, waitingFor: "stop with Ctrl-C") { ready.signal() }
        }
        try up.run()
        children.append(up)
        while ready.wait(timeout: .now() + .milliseconds(100)) == .timedOut {
            if !up.isRunning { throw ExitCode(up.terminationStatus == 0 ? 1 : up.terminationStatus) }
            if stop.wait(timeout: .now()) == .success { return }
        }

        let server = address == "127.0.0.1:4318" ? "" : " --server http://\(address)"
        // As the user typed it (e.g. .build/debug/argus), so the lines can be pasted.
        let argus = CommandLine.arguments[0]
        let shop = (argus as NSString).deletingLastPathComponent.isEmpty ? "argus-demo" : (argus as NSString).deletingLastPathComponent + "/argus-demo"
        let names = Argus.configuration.subcommands.map { $0.configuration.commandName ?? String(describing: $0).lowercased() }
        print("\ntry (in another terminal):")
        if names.contains("query") {
            print("  \(argus) query\(server) 'sum by (service) (rate(http_server_requests_total[1m]))'")
            print("  \(argus) query\(server) --since 5m --output chart 'circuit_breaker_state{service=\"payments\",target=\"bank\"}'")
        }
        if names.contains("logs") { print("  \(argus) logs '{service_name=\"payments\"}'") }
        if names.contains("traces") { print("  \(argus) traces '{ resource.service.name = \"payments\" && status = error }'") }
        if names.contains("dash") { print("  \(argus) dash") }
        print("break something:  \(shop) scenario payments-outage --registry \(registry)")
        print("back to normal:   \(shop) scenario steady --registry \(registry)")
        print("service logs: \(state)/logs/   stop everything with Ctrl-C")
        fflush(stdout)
        while stop.wait(timeout: .now() + .milliseconds(500)) == .timedOut {
            if !up.isRunning || !serve.isRunning {
                FileHandle.standardError.write(Data("argus demo: \(up.isRunning ? "argus serve" : "argus-demo up") exited; stopping\n".utf8))
                throw ExitCode(1)
            }
        }
        print("argus demo: stopping")
    }

    static func serveHelp(_ me: String) -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: me)
        p.arguments = ["serve", "--help"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        guard (try? p.run()) != nil else { return "" }
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return text
    }

    /// Reads the child's stdout until it prints `argus listening on HOST:PORT`.
    static func waitForAddress(_ handle: FileHandle, _ p: Process) -> String? {
        var text = ""
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let chunk = handle.availableData
            if chunk.isEmpty {
                if !p.isRunning { return nil }
                continue
            }
            text += String(decoding: chunk, as: UTF8.self)
            if let r = text.range(of: #"listening on [0-9.]+:\d+"#, options: .regularExpression) {
                return String(text[r].dropFirst("listening on ".count))
            }
        }
        return nil
    }

}

/// Collects a child's output until a line appears (once).
final class LineWatch: @unchecked Sendable {
    private let lock = NSLock()
    private var text = ""
    private var done = false

    /// Whether `marker` has just appeared (true once).
    func append(_ chunk: Data, waitingFor marker: String) -> Bool {
        lock.withLock {
            guard !done else { return false }
            text += String(decoding: chunk, as: UTF8.self)
            if text.contains(marker) {
                done = true
                text = ""
                return true
            }
            return false
        }
    }
}
