import ArgusModel
@testable import ArgusTerminal
import ArgusTestKit
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `argus dash` as a user runs it, against a real `argus serve` with data.
@Suite(.serialized) struct DashEndToEndTests {
    /// A server with shop span metrics and its own metrics (self-scrape every second).
    static func serverWithData() throws -> (ArgusProcess, TempDir) {
        let dir = TempDir("argus-dash")
        let server = try ArgusProcess(dataDir: dir.path + "/data", extraArgs: ["--self-scrape-interval", "1s"])
        let now = TimeUtil.nowMillis()
        var lines = ""
        // Ten minutes back to almost five ahead (import takes up to ten minutes in the future),
        // so a rate over the last minute at any query time in the test sees a whole window.
        for k in 0..<60 {
            let t = now - 600_000 + Int64(k) * 15_000
            for (svc, rate) in [("cart", 3.0), ("checkout", 1.0)] {
                let calls = Double(k) * 15 * rate
                lines += "traces_spanmetrics_calls_total{service=\"\(svc)\",span_name=\"GET /\",span_kind=\"SPAN_KIND_SERVER\",status_code=\"STATUS_CODE_UNSET\"} \(calls) \(t)\n"
                lines += "traces_spanmetrics_calls_total{service=\"\(svc)\",span_name=\"GET /\",span_kind=\"SPAN_KIND_SERVER\",status_code=\"STATUS_CODE_ERROR\"} \(Double(k) * 0.3) \(t)\n"
                for (le, f) in [("0.1", 0.5), ("0.5", 0.9), ("+Inf", 1.0)] {
                    lines += "traces_spanmetrics_latency_bucket{service=\"\(svc)\",span_name=\"GET /\",span_kind=\"SPAN_KIND_SERVER\",le=\"\(le)\"} \(calls * f) \(t)\n"
                }
            }
            lines += "traces_service_graph_request_total{client=\"web\",server=\"cart\"} \(Double(k) * 45) \(t)\n"
        }
        let r = try server.client.post("/api/v1/import/prometheus", lines)
        guard r.status == 204 else { throw TestError("import failed: \(r.status) \(r.text)") }
        return (server, dir)
    }

    static func runDash(_ args: [String], port: Int) throws -> (Int32, String, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: ArgusProcess.binary)
        p.arguments = ["dash", "--server", "http://127.0.0.1:\(port)"] + args
        p.currentDirectoryURL = URL(fileURLWithPath: packageRoot)
        var env = ProcessInfo.processInfo.environment
        env["TZ"] = "UTC"
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    @Test func onceRendersTheShopDashboardFromARealServer() throws {
        let (server, dir) = try DashEndToEndTests.serverWithData()
        defer { server.stop(); dir.remove() }
        let (code, out, err) = try DashEndToEndTests.runDash(["shop", "--once", "--width", "160", "--height", "50", "--range", "15m"], port: server.port)
        #expect(code == 0, "\(err)")
        let lines = out.split(separator: "\n", omittingEmptySubsequences: false).dropLast()  // print's newline
        #expect(lines.count == 50)
        #expect(lines.allSatisfy { DisplayWidth.of(String($0)) <= 160 })
        #expect(out.contains("argus ▸ Shop overview"))
        #expect(out.contains("$service=All"))
        #expect(out.contains("Request rate by service"))
        // Real data: the legend names both services, with the rate (cart: 3 req/s) as last value.
        #expect(out.contains("cart") && out.contains("checkout"))
        #expect(out.range(of: #"last +3\.02 req/s"#, options: .regularExpression) != nil, "\(out)")
        #expect(out.unicodeScalars.contains { (0x2801...0x28FF).contains($0.value) })
        // Bar gauge from the service graph.
        #expect(out.contains("web → cart"))
        #expect(!out.contains("\u{1B}["))  // a pipe gets no colour
    }

    @Test func onceRendersAGrafanaDashboardAndColoursOnRequest() throws {
        let (server, dir) = try DashEndToEndTests.serverWithData()
        defer { server.stop(); dir.remove() }
        // Let the self-scrape write a few points.
        Thread.sleep(forTimeInterval: 2.5)
        let (code, out, err) = try DashEndToEndTests.runDash(["--grafana", "dashboards/grafana/argus-overview.json", "--once", "--width", "200",
                                                              "--height", "60", "--color", "truecolor", "--charset", "block"], port: server.port)
        #expect(code == 0, "\(err)")
        #expect(out.contains("\u{1B}[0;38;2;"))  // truecolor
        let plain = out.replacingOccurrences(of: #"\x{1B}\[[0-9;]*m"#, with: "", options: .regularExpression)
        #expect(plain.contains("Argus overview (Grafana)"))
        #expect(plain.contains("$job=argus"))
        #expect(plain.contains("panel type \"piechart\" is not"))
        #expect(plain.contains("▸ Queries (1 panels)"))
        #expect(plain.contains("HTTP requests (legacy graph)"))
        #expect(plain.contains("version"))  // the build_info table
    }

    @Test func theSelfMonitoringDashboardQueriesWithoutErrors() throws {
        let (server, dir) = try DashEndToEndTests.serverWithData()
        defer { server.stop(); dir.remove() }
        Thread.sleep(forTimeInterval: 2.5)
        let (code, out, err) = try DashEndToEndTests.runDash(["argus", "--once", "--width", "200", "--height", "60", "--range", "5m"], port: server.port)
        #expect(code == 0, "\(err)")
        // $instance=All becomes a regex of the instances ("127.0.0.1:port", dots escaped for a PromQL string).
        #expect(out.contains("$instance=All"))
        #expect(!out.contains("✖"), "\(out)")
        #expect(out.contains("Samples stored per second, by protocol"))
        #expect(out.contains("import"))  // the imported samples, by protocol
    }

    @Test func aBadDashboardIsReportedAndTheOthersStillRender() throws {
        let (server, dir) = try DashEndToEndTests.serverWithData()
        defer { server.stop(); dir.remove() }
        let dd = dir.path + "/dashboards"
        try FileManager.default.createDirectory(atPath: dd, withIntermediateDirectories: true)
        try "title: Good\npanels:\n  - title: Rates\n    query: sum(rate(traces_spanmetrics_calls_total[1m]))\n".write(toFile: dd + "/a.yaml", atomically: true, encoding: .utf8)
        try "title: Bad\npanels:\n  - title: x\n    query: up\n    unit: [1\n".write(toFile: dd + "/b.yaml", atomically: true, encoding: .utf8)
        var (code, out, err) = try DashEndToEndTests.runDash(["--dir", dd, "--once", "--width", "120", "--height", "20"], port: server.port)
        #expect(code == 0)
        #expect(err.contains(dd + "/b.yaml:6:1: YAML:"), "\(err)")
        #expect(out.contains("argus ▸ Good"))
        #expect(out.contains("b.yaml:6:1"))
        (code, out, err) = try DashEndToEndTests.runDash(["--dir", dd, "--once", "b"], port: server.port)
        #expect(code == 1)
        #expect(err.contains("b.yaml:6:1: YAML:"))
        (code, out, err) = try DashEndToEndTests.runDash(["--dir", dd, "--once", "nope"], port: server.port)
        #expect(code == 1)
        #expect(err.contains("no dashboard \"nope\""))
        (code, out, err) = try DashEndToEndTests.runDash(["--dir", dd, "--once", "--charset", "emoji"], port: server.port)
        #expect(code != 0)
        #expect(err.contains("--charset must be braille, block or ascii"))
    }

    @Test func aQueryErrorShowsInItsPanel() throws {
        let (server, dir) = try DashEndToEndTests.serverWithData()
        defer { server.stop(); dir.remove() }
        let dd = dir.path + "/d"
        try FileManager.default.createDirectory(atPath: dd, withIntermediateDirectories: true)
        try "title: E\npanels:\n  - {title: Broken, query: 'sum(rate(x[1m])'}\n  - {title: Fine, type: stat, query: '42'}\n"
            .write(toFile: dd + "/e.yaml", atomically: true, encoding: .utf8)
        let (code, out, _) = try DashEndToEndTests.runDash(["--dir", dd, "--once", "--width", "120", "--height", "20"], port: server.port)
        #expect(code == 0)
        #expect(out.contains("1:16: parse error"), "\(out)")
        #expect(out.contains("42"))
        // An unreachable server is an error in every panel, not a crash.
        let (code2, out2, _) = try DashEndToEndTests.runDash(["--dir", dd, "--once", "--width", "120", "--height", "20"], port: 1)
        #expect(code2 == 0)
        #expect(out2.contains("cannot reach"))
    }

    @Test func interactiveInAPseudoTerminal() throws {
        let (server, dir) = try DashEndToEndTests.serverWithData()
        defer { server.stop(); dir.remove() }
        let pty = try PseudoTerminal(width: 120, height: 40)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: ArgusProcess.binary)
        p.arguments = ["dash", "--server", "http://127.0.0.1:\(server.port)", "shop", "--range", "15m"]
        p.currentDirectoryURL = URL(fileURLWithPath: packageRoot)
        var env = ProcessInfo.processInfo.environment
        env["TERM"] = "xterm-256color"
        env["TZ"] = "UTC"
        env.removeValue(forKey: "NO_COLOR")
        p.environment = env
        p.standardInput = pty.terminal
        p.standardOutput = pty.terminal
        p.standardError = pty.terminal
        try p.run()
        defer { if p.isRunning { p.terminate(); p.waitUntilExit() } }
        var vt = VTScreen(width: 120, height: 40)
        func waitFor(_ needle: String, _ what: String) -> Bool {
            let deadline = Date().addingTimeInterval(20)
            while Date() < deadline {
                vt.feed(pty.read(timeoutMillis: 200))
                if vt.text.contains(needle) { return true }
            }
            Issue.record("\(what): \"\(needle)\" not on screen:\n\(vt.text)")
            return false
        }
        #expect(waitFor("argus ▸ Shop overview", "first frame"))
        #expect(vt.alternateScreen)
        #expect(waitFor("3.02 req/s", "data arrives"))
        pty.write("?")
        #expect(waitFor("zoom the time range", "help"))
        pty.write("\u{1B}")
        Thread.sleep(forTimeInterval: 0.1)
        pty.write("\t\r")  // focus the first chart, enlarge it
        #expect(waitFor("┏ Request rate by service", "enlarged"))
        pty.write("+")
        #expect(waitFor("last 7m30s", "zoomed in"))
        pty.write("p")
        #expect(waitFor("⏸ paused", "paused"))
        // Resizing: the new size arrives with SIGWINCH (sent by hand: the pty is not the
        // child's controlling terminal) and the next frame is drawn in full at that size.
        pty.resize(width: 100, height: 30)
        vt = VTScreen(width: 100, height: 30)
        kill(p.processIdentifier, SIGWINCH)
        #expect(waitFor("⏸ paused", "redrawn after the resize"))
        #expect(vt.screen.line(29).contains("esc back"))
        #expect(vt.screen.line(0).hasSuffix(" "))
        pty.write("q")
        p.waitUntilExit()
        vt.feed(pty.read(timeoutMillis: 300))
        #expect(p.terminationStatus == 0)
        #expect(!vt.alternateScreen)  // the terminal is restored
        #expect(vt.cursorVisible)

        // Ctrl-C quits too, restoring the terminal.
        let pty2 = try PseudoTerminal(width: 80, height: 24)
        let p2 = Process()
        p2.executableURL = p.executableURL
        p2.arguments = p.arguments
        p2.currentDirectoryURL = p.currentDirectoryURL
        p2.environment = env
        p2.standardInput = pty2.terminal
        p2.standardOutput = pty2.terminal
        p2.standardError = pty2.terminal
        try p2.run()
        defer { if p2.isRunning { p2.terminate(); p2.waitUntilExit() } }
        var vt2 = VTScreen(width: 80, height: 24)
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline, !vt2.text.contains("argus ▸ Shop overview") { vt2.feed(pty2.read(timeoutMillis: 200)) }
        #expect(vt2.alternateScreen)
        pty2.write("\u{03}")
        p2.waitUntilExit()
        vt2.feed(pty2.read(timeoutMillis: 300))
        #expect(p2.terminationStatus == 0)
        #expect(!vt2.alternateScreen && vt2.cursorVisible)
    }
}

/// Just enough of a VT100/xterm to replay what `argus dash` writes: cursor position, erase,
/// SGR (ignored), the alternate screen and cursor visibility, UTF-8 text with wide characters.
struct VTScreen {
    var screen: Screen
    var x = 0, y = 0
    var alternateScreen = false
    var cursorVisible = true
    var pending: [UInt8] = []

    init(width: Int, height: Int) { screen = Screen(width: width, height: height) }

    var text: String { screen.text }

    mutating func feed(_ bytes: [UInt8]) {
        let data = pending + bytes
        pending = []
        var i = 0
        while i < data.count {
            let b = data[i]
            if b == 0x1B {
                guard i + 1 < data.count else { pending = Array(data[i...]); return }
                if data[i + 1] == UInt8(ascii: "[") {
                    var j = i + 2
                    while j < data.count, !(0x40...0x7E).contains(data[j]) { j += 1 }
                    guard j < data.count else { pending = Array(data[i...]); return }
                    csi(String(decoding: data[(i + 2)..<j], as: UTF8.self), data[j])
                    i = j + 1
                } else {
                    i += 2
                }
                continue
            }
            if b == 13 { x = 0; i += 1; continue }
            if b == 10 { y = min(screen.height - 1, y + 1); i += 1; continue }
            if b < 0x20 { i += 1; continue }
            let len = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1
            guard i + len <= data.count else { pending = Array(data[i...]); return }
            let s = String(decoding: data[i..<(i + len)], as: UTF8.self)
            if let c = s.first {
                let w = DisplayWidth.of(c)
                if w == 0, x > 0 {
                    screen[x - 1, y].text.append(c)
                } else if x < screen.width {
                    x += screen.put(x, y, String(c))
                }
            }
            i += len
        }
    }

    mutating func csi(_ params: String, _ final: UInt8) {
        let nums = params.split(separator: ";", omittingEmptySubsequences: false).map { Int($0) ?? 0 }
        switch final {
        case UInt8(ascii: "H"):
            y = max(1, nums.first ?? 1) - 1
            x = max(1, nums.count > 1 ? nums[1] : 1) - 1
        case UInt8(ascii: "J"):
            if params == "2" { screen = Screen(width: screen.width, height: screen.height) }
        case UInt8(ascii: "h"), UInt8(ascii: "l"):
            let on = final == UInt8(ascii: "h")
            if params == "?1049" { alternateScreen = on; screen = Screen(width: screen.width, height: screen.height) }
            if params == "?25" { cursorVisible = on }
        default: break
        }
    }
}
