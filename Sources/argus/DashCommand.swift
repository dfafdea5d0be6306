import ArgumentParser
import ArgusModel
import ArgusTerminal
import Foundation

/// `argus dash`: the terminal dashboard over dashboards/*.yaml or a Grafana dashboard JSON.
struct Dash: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dash",
        abstract: "Terminal dashboard: metrics, logs and traces from an Argus (or Prometheus) server.",
        discussion: """
            Shows the dashboards in --dir (YAML, see docs/dashboards.md, and Grafana JSON files). \
            DASHBOARD picks one by file name or title, or is a file path. Press ? for keys. \
            --once renders one frame to standard output and exits.
            """)

    @Argument(help: "Dashboard to open: a file name without extension, a title, or a path.")
    var dashboard: String?

    @Option(help: "Directory of dashboard files (default $ARGUS_DASHBOARDS or ./dashboards).")
    var dir: String?

    @Option(help: "Open a Grafana dashboard JSON file.")
    var grafana: String?

    @Option(help: "Server URL (default $ARGUS_URL or http://127.0.0.1:4318).")
    var server: String?

    @Option(help: "Chart characters: braille, block or ascii.")
    var charset = "braille"

    @Option(help: "Colours: auto (NO_COLOR and COLORTERM decide), never, 256 or truecolor.")
    var color = "auto"

    @Option(help: "Time range to show, back from now (default: the dashboard's).")
    var range: String?

    @Flag(help: "Render one frame to standard output and exit (no terminal needed).")
    var once = false

    @Option(help: "Frame width for --once (default: the terminal's, or 120).")
    var width: Int?

    @Option(help: "Frame height for --once (default: the terminal's, or 40).")
    var height: Int?

    @Option(help: "With --once: keys to press before the frame (\\t tab, \\r enter, \\e escape, \\Z shift-tab).")
    var keys: String?

    func run() async throws {
        let env = ProcessInfo.processInfo.environment
        guard let cs = Charset(rawValue: charset) else { throw ValidationError("--charset must be braille, block or ascii") }
        let mode: ColorMode
        switch color {
        case "auto": mode = ColorMode.detect(environment: env)
        case "never", "none": mode = .none
        case "256": mode = .ansi256
        case "truecolor": mode = .truecolor
        default: throw ValidationError("--color must be auto, never, 256 or truecolor")
        }
        if let width, width < 20 { throw ValidationError("--width must be at least 20") }
        if let height, height < 6 { throw ValidationError("--height must be at least 6") }
        let base = server ?? env["ARGUS_URL"] ?? "http://127.0.0.1:4318"

        var loaded: [LoadedDashboard] = []
        var start = 0
        if let grafana {
            loaded.append(DashboardLoader.loadFile(grafana))
            if case .failed(let e) = loaded[0] { throw fatal("\(e)") }
        }
        let directory = dir ?? env["ARGUS_DASHBOARDS"] ?? "dashboards"
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDir), isDir.boolValue {
            loaded += DashboardLoader.loadDirectory(directory)
        } else if dir != nil {
            throw fatal("--dir \(directory): no such directory")
        }
        if let name = dashboard {
            if let i = loaded.firstIndex(where: { matches($0, name) }) {
                start = i
            } else if FileManager.default.fileExists(atPath: name) {
                loaded.insert(DashboardLoader.loadFile(name), at: 0)
                start = 0
            } else {
                throw fatal("no dashboard \"\(name)\" in \(directory) (files: \(loaded.map(\.title).joined(separator: ", ")))")
            }
            if case .failed(let e) = loaded[start] { throw fatal("\(e)") }
        } else if grafana == nil {
            start = loaded.firstIndex { $0.dashboard != nil } ?? 0
        }
        if loaded.isEmpty { throw fatal("no dashboards: put YAML files in \(directory) (see docs/dashboards.md), or pass --grafana FILE") }
        for case .failed(let e) in loaded { FileHandle.standardError.write(Data("argus dash: \(e)\n".utf8)) }
        if loaded.allSatisfy({ $0.dashboard == nil }) { throw fatal("no dashboard could be loaded") }

        var state = DashState(dashboards: loaded, current: start)
        if let range {
            do { state.rangeMillis = try PromDuration.parseMillis(range) } catch { throw ValidationError("--range: \(error)") }
            guard state.rangeMillis > 0 else { throw ValidationError("--range must be more than 0s") }
        }
        let fetcher = DashFetcher(client: DataClient(baseURL: base))
        let renderer = DashRenderer(charset: cs, zone: TimeZone.current)

        if once || !Terminal.isTerminal(0) || !Terminal.isTerminal(1) {
            if !once { FileHandle.standardError.write(Data("argus dash: not a terminal; rendering one frame (--once)\n".utf8)) }
            let now = TimeUtil.nowMillis()
            var data = DashData()
            data.variableOptions = await fetcher.variableOptions(state, data: data, nowMillis: now)
            state.settleVariables(data)
            data = await fetcher.refreshAll(state, data: data, nowMillis: now)
            if let keys {
                for key in KeyDecoder.decode(Array(Dash.unescape(keys).utf8)) {
                    for action in state.handle(key, data: data, nowMillis: now) {
                        switch action {
                        case .refresh, .reloadVariables:
                            data.variableOptions = await fetcher.variableOptions(state, data: data, nowMillis: now)
                            state.settleVariables(data)
                            data = await fetcher.refreshAll(state, data: data, nowMillis: now)
                        case .openTrace(let id):
                            data.traceID = id
                            do { data.trace = .loaded(try await fetcher.client.trace(id)) } catch { data.trace = .failed("\(error)") }
                        case .openLogs(let q, let s, let e):
                            data.spanLogsQuery = q
                            do { data.spanLogs = .loaded(try await fetcher.client.logs(q, start: s, end: e, limit: 500)) } catch { data.spanLogs = .failed("\(error)") }
                        case .quit, .redraw: break
                        }
                    }
                }
            }
            var w = width ?? 120, h = height ?? 40
            if width == nil || height == nil, Terminal.isTerminal(1) {
                let size = Terminal(input: 1, output: 1).size
                if width == nil { w = size.width }
                if height == nil { h = size.height }
            }
            let screen = renderer.render(state, data, width: w, height: h, nowMillis: now)
            print(screen.ansiText(!Terminal.isTerminal(1) && color == "auto" ? .none : mode))
            return
        }
        let app = DashApp(terminal: Terminal(), state: state, fetcher: fetcher, renderer: renderer, colorMode: mode)
        do {
            try await app.run()
        } catch {
            throw fatal("\(error)")
        }
    }

    func matches(_ l: LoadedDashboard, _ name: String) -> Bool {
        let file: String
        switch l {
        case .ok(let d): file = d.source
        case .failed(let e): file = e.file
        }
        let base = ((file as NSString).lastPathComponent as NSString).deletingPathExtension
        return base == name || file == name || l.dashboard?.title.lowercased() == name.lowercased()
    }

    /// `\t`, `\r`, `\n`, `\e`, `\Z` (shift-tab) and `\\` in --keys.
    static func unescape(_ s: String) -> String {
        var out = ""
        var it = s.makeIterator()
        while let c = it.next() {
            guard c == "\\", let n = it.next() else { out.append(c); continue }
            switch n {
            case "t": out += "\t"
            case "r", "n": out += "\r"
            case "e": out += "\u{1B}"
            case "Z": out += "\u{1B}[Z"
            default: out.append(n)
            }
        }
        return out
    }
}
