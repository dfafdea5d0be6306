import ArgusModel
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The live dashboard: reads keys, runs the state machine, fetches data in the background and
/// redraws only what changed. Returns when the user quits; the terminal is restored on every
/// way out.
public final class DashApp {
    enum Event {
        case input([UInt8])
        case tick
        case resize
        case refreshed(Int, DashData)
        case variables(Int, [String: [String]])
        case trace(String, DashData.Load<[TraceSpan]>)
        case logs(String, DashData.Load<[LogLine]>)
        case inputClosed
    }

    let terminal: Terminal
    let fetcher: DashFetcher
    let renderer: DashRenderer
    var state: DashState
    var data = DashData()
    var writer: DiffWriter
    /// Bumped when the dashboard or variables change, so late answers for the old ones are dropped.
    var generation = 0
    var refreshing = false
    var refreshPending = false

    public init(terminal: Terminal, state: DashState, fetcher: DashFetcher, renderer: DashRenderer, colorMode: ColorMode) {
        self.terminal = terminal
        self.state = state
        self.fetcher = fetcher
        self.renderer = renderer
        writer = DiffWriter(mode: colorMode)
    }

    public func run() async throws {
        try terminal.enter()
        defer { terminal.leave() }
        let (stream, cont) = AsyncStream<Event>.makeStream()
        // Keys: a thread blocked in read(2), so an idle dashboard uses no CPU.
        let fd = terminal.input
        let reader = Thread {
            var buf = [UInt8](repeating: 0, count: 1024)
            while true {
                let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n < 0, errno == EINTR { continue }
                if n <= 0 { cont.yield(.inputClosed); return }
                cont.yield(.input(Array(buf[0..<n])))
            }
        }
        reader.start()
        signal(SIGWINCH, SIG_IGN)
        let winch = DispatchSource.makeSignalSource(signal: SIGWINCH, queue: .global())
        winch.setEventHandler { cont.yield(.resize) }
        winch.resume()
        defer { winch.cancel() }
        let ticker = Task { [state] in
            let every = max(1000, state.dashboard?.refreshMillis ?? 30_000)
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: UInt64(every) * 1_000_000)
                cont.yield(.tick)
            }
        }
        defer { ticker.cancel() }

        draw()
        reloadVariables(cont)
        for await event in stream {
            switch event {
            case .input(let bytes):
                for key in KeyDecoder.decode(bytes) {
                    let actions = state.handle(key, data: data, nowMillis: TimeUtil.nowMillis())
                    for a in actions {
                        switch a {
                        case .quit: return
                        case .refresh: refresh(cont)
                        case .reloadVariables: reloadVariables(cont)
                        case .redraw: writer.invalidate()
                        case .openTrace(let id):
                            data.traceID = id
                            data.trace = .loading
                            let f = fetcher
                            Task {
                                do { cont.yield(.trace(id, .loaded(try await f.client.trace(id)))) } catch { cont.yield(.trace(id, .failed("\(error)"))) }
                            }
                        case .openLogs(let q, let start, let end):
                            data.spanLogsQuery = q
                            data.spanLogs = .loading
                            let f = fetcher
                            Task {
                                do { cont.yield(.logs(q, .loaded(try await f.client.logs(q, start: start, end: end, limit: 500)))) } catch { cont.yield(.logs(q, .failed("\(error)"))) }
                            }
                        }
                    }
                }
            case .inputClosed: return
            case .tick:
                if !state.paused, state.endMillis == nil { refresh(cont) }
            case .resize: writer.invalidate()
            case .refreshed(let gen, let d):
                refreshing = false
                if gen == generation {
                    data.panels = d.panels
                    data.refreshedAt = d.refreshedAt
                }
                if refreshPending { refreshPending = false; refresh(cont) }
            case .variables(let gen, let opts):
                if gen == generation {
                    data.variableOptions = opts
                    state.settleVariables(data)
                    refresh(cont)
                }
            case .trace(let id, let load): if id == data.traceID { data.trace = load }
            case .logs(let q, let load): if q == data.spanLogsQuery { data.spanLogs = load }
            }
            draw()
        }
    }

    func draw() {
        let (w, h) = terminal.size
        let screen = renderer.render(state, data, width: w, height: h, nowMillis: TimeUtil.nowMillis())
        terminal.write(writer.frame(screen))
    }

    func reloadVariables(_ cont: AsyncStream<Event>.Continuation) {
        generation += 1
        data.panels = data.panels.filter { id, _ in state.dashboard?.panels.contains { $0.id == id } ?? false }
        let gen = generation, s = state, d = data, f = fetcher
        Task { cont.yield(.variables(gen, await f.variableOptions(s, data: d, nowMillis: TimeUtil.nowMillis()))) }
    }

    func refresh(_ cont: AsyncStream<Event>.Continuation) {
        if refreshing { refreshPending = true; return }
        refreshing = true
        let gen = generation, s = state, d = data, f = fetcher
        Task { cont.yield(.refreshed(gen, await f.refreshAll(s, data: d, nowMillis: TimeUtil.nowMillis()))) }
    }
}
