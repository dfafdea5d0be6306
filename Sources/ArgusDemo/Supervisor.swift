import ArgusModel
import Dispatch
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `argus-demo up`: starts every service and the load generator as child processes of this
/// binary, writes the registry file they find each other by, waits until each listens, and on
/// SIGINT or SIGTERM stops them all (SIGTERM, then SIGKILL after a grace period) before exiting.
public final class Supervisor: @unchecked Sendable {
    public struct Options: Sendable {
        public var collector = "http://127.0.0.1:4318"
        public var host = "127.0.0.1"
        /// gateway listens here, the others on the next ports; 0 picks free ports.
        public var basePort = 8080
        public var registryPath = "demo-registry.json"
        /// One log file per child (`NAME.log`).
        public var logDir = "demo-logs"
        public var metricsInterval = "5s"
        public var rate = 2.0
        public var scenario: Scenario = .steady
        public var loadgen = true
        /// Extra arguments for every child (e.g. `--log-level debug`).
        public var childArguments: [String] = []
        public init() {}
    }

    /// Start order: dependencies first, the gateway and the load generator last.
    public static let services = ["bank", "auth", "catalog", "cart", "inventory", "recommendations", "notifications", "payments", "orders", "gateway"]
    /// Port offsets from `--base-port`.
    static let portOffsets = ["gateway": 0, "auth": 1, "catalog": 2, "cart": 3, "orders": 4, "payments": 5, "inventory": 6,
                              "recommendations": 7, "notifications": 8, "bank": 9, "loadgen": 10]

    let options: Options
    let executable: String
    let lock = NSLock()
    var children: [(name: String, process: Process)] = []
    var stopping = false

    public init(options: Options, executable: String = Supervisor.ownExecutable) {
        self.options = options
        self.executable = executable
    }

    /// This process' binary (children run the same one).
    public static var ownExecutable: String {
        if let p = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return p }
        return URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
    }

    /// Runs until a signal arrives; returns the exit status.
    public func run() throws -> Int32 {
        // A handler, not SIG_IGN: an ignored signal stays ignored in the children across exec,
        // and they would not stop on SIGTERM; a caught one is reset to the default there.
        signal(SIGINT) { _ in }
        signal(SIGTERM) { _ in }
        let stop = DispatchSemaphore(value: 0)
        let sources = [SIGINT, SIGTERM].map { sig -> DispatchSourceSignal in
            let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            s.setEventHandler { [weak self] in
                // Ctrl-C reaches the children too (same process group): their exits are expected now.
                if let self { self.lock.withLock { self.stopping = true } }
                stop.signal()
            }
            s.resume()
            return s
        }
        defer { sources.forEach { $0.cancel() } }

        let names = Self.services + (options.loadgen ? ["loadgen"] : [])
        var registry = ServiceRegistry(collector: options.collector)
        var ports: [String: Int] = [:]
        for name in names {
            let port = options.basePort == 0 ? try Self.freePort(host: options.host) : options.basePort + Self.portOffsets[name]!
            if options.basePort != 0, Self.isListening(host: options.host, port: port) {
                throw ArgusError(.badInput, "port \(port) (for \(name)) is already in use; pick another --base-port, or 0 for free ports")
            }
            ports[name] = port
            registry.services[name] = "http://\(options.host):\(port)"
        }
        try registry.save(options.registryPath)
        try FileManager.default.createDirectory(atPath: options.logDir, withIntermediateDirectories: true)

        defer { stopAll() }
        for name in names {
            var args = [name, "--host", options.host, "--port", String(ports[name]!), "--registry", options.registryPath,
                        "--collector", options.collector, "--metrics-interval", options.metricsInterval,
                        "--scenario", options.scenario.rawValue, "--exit-with-parent"]
            if name == "loadgen" { args += ["--rate", String(options.rate)] }
            args += options.childArguments
            let p = try spawn(name, args)
            registry.pids[name] = p.processIdentifier
        }
        try registry.save(options.registryPath)

        // Wait until every child listens (or one dies).
        let deadline = Date().addingTimeInterval(60)
        var pending = Set(names)
        while !pending.isEmpty && Date() < deadline {
            for name in pending where Self.isListening(host: options.host, port: ports[name]!) { pending.remove(name) }
            if let dead = lock.withLock({ children.first { !$0.process.isRunning } }) {
                throw ArgusError(.internal, "\(dead.name) exited with status \(dead.process.terminationStatus) while starting; see \(options.logDir)/\(dead.name).log")
            }
            if stop.wait(timeout: .now() + .milliseconds(100)) == .success { return 0 }
        }
        if !pending.isEmpty {
            throw ArgusError(.internal, "not listening after 60 s: \(pending.sorted().joined(separator: ", ")); see \(options.logDir)/")
        }
        print("argus-demo: the shop is up (registry \(options.registryPath), logs in \(options.logDir)/)")
        for name in names {
            print("  \(name.padding(toLength: 16, withPad: " ", startingAt: 0)) \(registry.services[name]!)   pid \(registry.pids[name]!)")
        }
        print("  telemetry → \(options.collector) (OTLP/HTTP); every service also serves /metrics")
        print("  change the scenario: argus-demo scenario NAME --registry \(options.registryPath)   (\(Scenario.namesList))")
        print("stop with Ctrl-C")
        fflush(stdout)
        stop.wait()
        print("argus-demo: stopping")
        fflush(stdout)
        return 0
    }

    func spawn(_ name: String, _ args: [String]) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = args
        let logPath = options.logDir + "/" + name + ".log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        guard let log = FileHandle(forWritingAtPath: logPath) else { throw ArgusError(.io, "cannot write \(logPath)") }
        p.standardOutput = log
        p.standardError = log
        p.terminationHandler = { [weak self] proc in
            guard let self else { return }
            if !self.lock.withLock({ self.stopping }) {
                FileHandle.standardError.write(Data("argus-demo: \(name) exited with status \(proc.terminationStatus); see \(logPath)\n".utf8))
            }
        }
        try p.run()
        lock.withLock { children.append((name, p)) }
        return p
    }

    /// SIGTERM to every child (in reverse start order), SIGKILL to any still running after 10 s.
    public func stopAll() {
        let list = lock.withLock { () -> [(name: String, process: Process)] in
            stopping = true
            return children
        }
        for c in list.reversed() where c.process.isRunning { kill(c.process.processIdentifier, SIGTERM) }
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline && list.contains(where: { $0.process.isRunning }) { usleep(50_000) }
        for c in list where c.process.isRunning {
            FileHandle.standardError.write(Data("argus-demo: \(c.name) did not stop in 10 s: killing it\n".utf8))
            kill(c.process.processIdentifier, SIGKILL)
        }
        for c in list { c.process.waitUntilExit() }
        try? FileManager.default.removeItem(atPath: options.registryPath)
    }

    /// A port that was free a moment ago (the kernel's pick for port 0).
    static func freePort(host: String) throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ArgusError(.io, "socket() failed") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        inet_pton(AF_INET, host, &addr.sin_addr)
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { ptr in
            ptr.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                bind(fd, sa, len) == 0 && getsockname(fd, sa, &len) == 0
            }
        }
        guard ok else { throw ArgusError(.io, "cannot bind a free port on \(host)") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// Whether something accepts TCP connections on host:port.
    public static func isListening(host: String, port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, host, &addr.sin_addr)
        return withUnsafePointer(to: &addr) { ptr in
            ptr.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}
