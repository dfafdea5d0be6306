/// A dashboard: variables, a default time range and refresh, and panels laid out on a
/// 24-column grid (Grafana's gridPos units). Built by `DashboardLoader` from YAML or by
/// `GrafanaImporter` from Grafana's JSON model.
public struct Dashboard: Sendable, Equatable {
    public var title: String
    /// Where it was loaded from (a file path), for messages and the switcher.
    public var source: String
    public var variables: [Variable]
    /// Default time range, in milliseconds back from now.
    public var rangeMillis: Int64
    /// Default refresh interval in milliseconds; 0 means no automatic refresh.
    public var refreshMillis: Int64
    /// Panels in layout order; rows are panels of type `.row` whose `children` are the panels
    /// they hold while collapsed.
    public var panels: [Panel]

    public init(title: String, source: String = "", variables: [Variable] = [], rangeMillis: Int64 = 3_600_000,
                refreshMillis: Int64 = 30_000, panels: [Panel] = []) {
        self.title = title
        self.source = source
        self.variables = variables
        self.rangeMillis = rangeMillis
        self.refreshMillis = refreshMillis
        self.panels = panels
    }
}

extension Dashboard {
    /// The dashboard with every panel (and every collapsed row's child) numbered from `start`;
    /// returns the next free number too.
    public func numberingPanels(from start: Int) -> (Dashboard, Int) {
        var d = self
        var n = start
        for i in d.panels.indices {
            d.panels[i].id = n; n += 1
            for j in d.panels[i].children.indices { d.panels[i].children[j].id = n; n += 1 }
        }
        return (d, n)
    }
}

/// A dashboard variable: its values come from a label-values query, a custom list or a list of
/// intervals; queries refer to it as `$name`, `${name}` or `[[name]]`.
public struct Variable: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// `label_values(label)` or `label_values(selector, label)` through the Prometheus API.
        case query(String)
        case custom([String])
        case interval([String])
        case constant(String)
    }

    public var name: String
    public var label: String?
    public var kind: Kind
    /// Offer "All" (substituted as a regular expression alternation of every value).
    public var includeAll: Bool
    /// The selected value (nil: the first option).
    public var current: String?

    public init(name: String, label: String? = nil, kind: Kind, includeAll: Bool = false, current: String? = nil) {
        self.name = name
        self.label = label
        self.kind = kind
        self.includeAll = includeAll
        self.current = current
    }

    /// Options known without a query.
    public var staticOptions: [String] {
        switch kind {
        case .query: return []
        case .custom(let v), .interval(let v): return v
        case .constant(let v): return [v]
        }
    }
}

/// What a panel shows.
public enum PanelType: String, Sendable, CaseIterable {
    case timeseries, stat, gauge, bargauge, table, heatmap, logs, traces, text, row
    /// A panel type Argus cannot draw; the panel says so.
    case unsupported
}

/// One query of a panel.
public struct Target: Sendable, Equatable {
    /// PromQL for metric panels, LogQL for logs, TraceQL for traces.
    public var expr: String
    /// Series name template (`{{label}}`), as Grafana's legendFormat.
    public var legend: String?
    public var refId: String

    public init(expr: String, legend: String? = nil, refId: String = "A") {
        self.expr = expr
        self.legend = legend
        self.refId = refId
    }
}

/// A threshold step: from `value` upwards (nil: the base step) values take `color`.
public struct Threshold: Sendable, Equatable {
    public var value: Double?
    public var color: Color
    public init(value: Double?, color: Color) {
        self.value = value
        self.color = color
    }
}

/// A panel's place on the 24-column grid.
public struct GridPos: Sendable, Equatable {
    public var x: Int, y: Int, w: Int, h: Int
    public init(x: Int, y: Int, w: Int, h: Int) {
        self.x = x; self.y = y; self.w = w; self.h = h
    }
}

public struct Panel: Sendable, Equatable {
    /// Unique within a loaded set of dashboards (assigned by `Dashboard.numberingPanels`); keys
    /// the panel's data.
    public var id: Int = 0
    public var title: String
    public var type: PanelType
    /// Where it goes; nil places it in automatic flow (left to right, then down).
    public var grid: GridPos?
    /// Width and height in grid units for automatic flow.
    public var width: Int
    public var height: Int
    public var targets: [Target]
    /// Grafana unit id ("s", "ms", "bytes", "percent", "percentunit", "reqps", "short", …).
    public var unit: String
    public var decimals: Int?
    public var min: Double?
    public var max: Double?
    public var thresholds: [Threshold]
    /// Text panel content.
    public var content: String
    /// Rows: whether collapsed, and the panels a collapsed row holds.
    public var collapsed: Bool
    public var children: [Panel]
    /// For unsupported panels: the type that was asked for.
    public var unsupportedType: String
    /// Table/logs/traces: how many rows or results to ask for.
    public var limit: Int
    /// Line number in the source file, for messages.
    public var line: Int

    public init(title: String, type: PanelType, grid: GridPos? = nil, width: Int = 12, height: Int = 8,
                targets: [Target] = [], unit: String = "", decimals: Int? = nil, min: Double? = nil, max: Double? = nil,
                thresholds: [Threshold] = [], content: String = "", collapsed: Bool = false, children: [Panel] = [],
                unsupportedType: String = "", limit: Int = 100, line: Int = 0) {
        self.title = title
        self.type = type
        self.grid = grid
        self.width = width
        self.height = height
        self.targets = targets
        self.unit = unit
        self.decimals = decimals
        self.min = min
        self.max = max
        self.thresholds = thresholds
        self.content = content
        self.collapsed = collapsed
        self.children = children
        self.unsupportedType = unsupportedType
        self.limit = limit
        self.line = line
    }

    /// The colour of the threshold step `value` falls in (nil without thresholds).
    public func thresholdColor(_ value: Double) -> Color? {
        guard !thresholds.isEmpty else { return nil }
        var c = thresholds[0].color
        for t in thresholds {
            if let v = t.value { if value >= v { c = t.color } } else { c = t.color }
        }
        return c
    }

    /// Metric panels query the Prometheus API.
    public var isMetric: Bool {
        switch type {
        case .timeseries, .stat, .gauge, .bargauge, .table, .heatmap: return true
        default: return false
        }
    }
}
