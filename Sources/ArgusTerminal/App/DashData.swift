/// Everything fetched for the screen: panel data by panel id, variable options, the open trace
/// and the open span logs. The app fills it from the data client; the renderer and the key
/// handler only read it.
public struct DashData: Sendable, Equatable {
    public enum Load<T: Sendable & Equatable>: Sendable, Equatable {
        case loading
        case loaded(T)
        case failed(String)

        public var value: T? {
            if case .loaded(let v) = self { return v }
            return nil
        }
    }

    public var panels: [Int: PanelData] = [:]
    public var variableOptions: [String: [String]] = [:]
    public var trace: Load<[TraceSpan]>?
    public var traceID = ""
    public var spanLogs: Load<[LogLine]>?
    public var spanLogsQuery = ""
    /// When the last refresh finished (unix milliseconds; 0: never).
    public var refreshedAt: Int64 = 0

    public init() {}
}

/// What the key handler asks the app to do.
public enum DashAction: Equatable, Sendable {
    case quit
    /// Fetch every panel of the current dashboard again.
    case refresh
    /// The dashboard changed: fetch variable options, then every panel.
    case reloadVariables
    case openTrace(String)
    case openLogs(query: String, start: Double, end: Double)
    /// Draw the whole screen again (Ctrl-L).
    case redraw
}
