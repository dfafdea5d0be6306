import ArgusModel
import ArgusTerminal
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `argus-bench dash`: the terminal dashboard's costs.
/// 1. A full redraw of the 12-panel sample dashboard at 200×60: render (model + data → cells)
///    and the bytes of a full frame; then a steady refresh (new data, diff against the last frame).
/// 2. Idle CPU: `argus serve` and `argus dash argus` (5 s refresh) from this build directory, the
///    dashboard in a pseudo-terminal, its CPU time over `--idle-seconds` read from /proc.
func runDashBench(_ args: [String]) throws {
    var frames = 500
    var idleSeconds = 30.0
    var i = 0
    while i < args.count {
        switch args[i] {
        case "--frames": frames = Int(args[i + 1]) ?? frames; i += 2
        case "--idle-seconds": idleSeconds = Double(args[i + 1]) ?? idleSeconds; i += 2
        default: FileHandle.standardError.write(Data("unknown option \(args[i])\n".utf8)); exit(2)
        }
    }
    let state = DashState(dashboards: [.ok(SampleDashboard.dashboard())])
    let data = SampleDashboard.data(for: state)
    let renderer = DashRenderer(charset: .braille)
    let now = Int64(SampleDashboard.end * 1000)
    // Warm up.
    for _ in 0..<20 { _ = renderer.render(state, data, width: 200, height: 60, nowMillis: now) }
    var screen = Screen(width: 1, height: 1)
    let tRender = seconds { for _ in 0..<frames { screen = renderer.render(state, data, width: 200, height: 60, nowMillis: now) } }
    let cRender = lastCPU
    var fullBytes = 0
    let tFull = seconds {
        for _ in 0..<frames {
            var w = DiffWriter(mode: .truecolor)
            fullBytes = w.frame(screen).count
        }
    }
    let cFull = lastCPU
    // Steady refresh: the clock and the data move on each frame; only changed cells are sent.
    var shifted = data
    var writer = DiffWriter(mode: .truecolor)
    _ = writer.frame(screen)
    var diffBytes = 0
    let tDiff = seconds {
        for k in 0..<frames {
            for (id, pd) in shifted.panels {
                if case .series(var s, let ex) = pd {
                    for j in s.indices { s[j].values = Array(s[j].values.dropFirst()) + [s[j].values[0]] }
                    shifted.panels[id] = .series(s, exemplars: ex)
                }
            }
            let next = renderer.render(state, shifted, width: 200, height: 60, nowMillis: now + Int64(k) * 5000)
            diffBytes += writer.frame(next).count
        }
    }
    let cDiff = lastCPU
    let n = Double(frames)
    print("dash full redraw 200x60, 12 panels: render into cells \(fmt(tRender / n * 1000, 3)) ms wall, \(fmt(cRender / n * 1000, 3)) ms CPU per frame")
    print("dash full frame to bytes (\(fullBytes) bytes): \(fmt(tFull / n * 1000, 3)) ms wall, \(fmt(cFull / n * 1000, 3)) ms CPU")
    print("dash refresh (data moved, render + diff): \(fmt(tDiff / n * 1000, 3)) ms wall, \(fmt(cDiff / n * 1000, 3)) ms CPU per frame, \(diffBytes / frames) bytes per frame")
    try idleCPU(seconds: idleSeconds)
}

/// Runs `argus serve` and `argus dash argus` (in a pty) and reports the dashboard's CPU share.
func idleCPU(seconds idle: Double) throws {
    let binDir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
    let argus = binDir + "/argus"
    guard FileManager.default.isExecutableFile(atPath: argus) else { print("dash idle CPU: skipped (\(argus) missing)"); return }
    let dataDir = NSTemporaryDirectory() + "argus-dash-bench-" + UUID().uuidString.prefix(6)
    defer { try? FileManager.default.removeItem(atPath: dataDir) }
    let server = Process()
    server.executableURL = URL(fileURLWithPath: argus)
    server.arguments = ["serve", "--data-dir", dataDir, "--listen", "127.0.0.1:0", "--self-scrape-interval", "5s"]
    let out = Pipe()
    server.standardOutput = out
    server.standardError = FileHandle.nullDevice
    try server.run()
    defer { server.terminate(); server.waitUntilExit() }
    var text = ""
    var port = 0
    let deadline = Date().addingTimeInterval(30)
    while Date() < deadline, port == 0 {
        let chunk = out.fileHandleForReading.availableData
        if chunk.isEmpty { break }
        text += String(decoding: chunk, as: UTF8.self)
        if let r = text.range(of: #"listening on 127\.0\.0\.1:(\d+)"#, options: .regularExpression) {
            port = Int(text[r].split(separator: ":").last!) ?? 0
        }
    }
    guard port > 0 else { print("dash idle CPU: skipped (server did not start)"); return }
    let pty = try PseudoTerminal(width: 200, height: 60)
    let master = pty.master
    let slave = pty.terminal
    let dash = Process()
    dash.executableURL = URL(fileURLWithPath: argus)
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    dash.arguments = ["dash", "--server", "http://127.0.0.1:\(port)", "--dir", root + "/dashboards", "argus"]
    dash.standardInput = slave
    dash.standardOutput = slave
    dash.standardError = slave
    try dash.run()
    // Drain the pty so the dashboard never blocks on output.
    let drain = Thread {
        var buf = [UInt8](repeating: 0, count: 65536)
        while true { if buf.withUnsafeMutableBytes({ read(master, $0.baseAddress, $0.count) }) <= 0 { return } }
    }
    drain.start()
    Thread.sleep(forTimeInterval: 3)  // start-up and first fetch
    func ticks() -> Double {
        let s = (try? String(contentsOfFile: "/proc/\(dash.processIdentifier)/stat", encoding: .utf8)) ?? ""
        let f = s.split(separator: ")").last?.split(separator: " ") ?? []
        return f.count > 13 ? (Double(f[11]) ?? 0) + (Double(f[12]) ?? 0) : 0
    }
    let c0 = ticks()
    Thread.sleep(forTimeInterval: idle)
    let c1 = ticks()
    let hz = Double(sysconf(Int32(_SC_CLK_TCK)))
    print("dash idle CPU (argus dash argus, 5 s refresh, 200x60, \(Int(idle)) s): \(fmt((c1 - c0) / hz / idle * 100, 2))% of a core")
    kill(dash.processIdentifier, SIGTERM)
    dash.waitUntilExit()
    withExtendedLifetime(pty) {}
}
