import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A real `argus serve` child process on a free loopback port.
public final class ArgusProcess {
    public let process = Process()
    public private(set) var port = 0
    public let dataDir: String
    let stdoutPipe = Pipe()
    public let stderrPath: String

    /// The `argus` binary built by `swift build` (override with ARGUS_BIN).
    public static var binary: String {
        if let b = ProcessInfo.processInfo.environment["ARGUS_BIN"] { return b }
        // Tests/ArgusTestKit/ArgusProcess.swift → package root.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/argus").path
    }

    /// Starts the server and waits until it prints the port it listens on.
    /// `currentDirectory` defaults to the temporary directory: not the package root, where
    /// `argus serve` would load the shipped alerts/ by default.
    public init(dataDir: String, extraArgs: [String] = [], currentDirectory: String? = nil) throws {
        self.dataDir = dataDir
        guard FileManager.default.isExecutableFile(atPath: ArgusProcess.binary) else {
            throw TestError("\(ArgusProcess.binary) is missing: run `swift build` (make test does) before the server tests")
        }
        stderrPath = dataDir + ".stderr.log"
        FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: ArgusProcess.binary)
        process.arguments = ["serve", "--data-dir", dataDir, "--listen", "127.0.0.1:0"] + extraArgs
        process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory ?? NSTemporaryDirectory())
        process.standardOutput = stdoutPipe
        process.standardError = FileHandle(forWritingAtPath: stderrPath)
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        var text = ""
        let handle = stdoutPipe.fileHandleForReading
        while Date() < deadline {
            let chunk = handle.availableData
            if chunk.isEmpty {
                if !process.isRunning { break }
                continue
            }
            text += String(decoding: chunk, as: UTF8.self)
            if let r = text.range(of: #"listening on 127\.0\.0\.1:(\d+)"#, options: .regularExpression) {
                let match = String(text[r])
                port = Int(match.split(separator: ":").last!)!
                return
            }
        }
        process.terminate()
        throw TestError("argus serve did not start; stderr:\n" + ((try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""))
    }

    public var client: TestHTTPClient { TestHTTPClient(port: port) }

    public var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    /// SIGKILL: no chance to flush or close anything.
    public func kill9() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM and wait for a clean exit; returns the exit status.
    @discardableResult
    public func stop() -> Int32 {
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
        }
        return process.terminationStatus
    }

    /// Runs the `argus` binary as a command (`argus logs …`, `argus query …`) to completion;
    /// returns its exit status, stdout and stderr. `environment` adds to this process's.
    public static func run(_ args: [String], environment: [String: String] = [:]) throws -> (Int32, String, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args
        if !environment.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}
