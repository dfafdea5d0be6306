import Foundation

/// What every widget needs besides its panel and data.
public struct RenderContext: Sendable {
    public var charset: Charset
    public var zone: TimeZone
    /// The queried time range, unix seconds.
    public var start: Double
    public var end: Double
    /// Series and log-line filter (case-insensitive substring); empty shows everything.
    public var filter: String
    /// Highlighted row of a list panel (enlarged), or nil.
    public var selection: Int?

    public init(charset: Charset = .braille, zone: TimeZone = TimeZone(identifier: "UTC")!, start: Double, end: Double,
                filter: String = "", selection: Int? = nil) {
        self.charset = charset
        self.zone = zone
        self.start = start
        self.end = end
        self.filter = filter
        self.selection = selection
    }

    func matches(_ s: String) -> Bool { filter.isEmpty || s.range(of: filter, options: .caseInsensitive) != nil }

    static let dim = Style(fg: .gray)
    static let errorStyle = Style(fg: .rgb(0xF2, 0x49, 0x5C))
    static let selected = Style(attrs: Style.reverse)

    /// Colour of a log severity.
    static func severityColor(_ s: String) -> Color {
        switch s {
        case "fatal", "critical", "crit", "emerg", "alert", "error", "err": return .rgb(0xF2, 0x49, 0x5C)
        case "warn", "warning": return .rgb(0xFA, 0xDE, 0x2A)
        case "info", "information", "notice": return .rgb(0x73, 0xBF, 0x69)
        case "debug": return .rgb(0x56, 0x94, 0xF2)
        case "trace": return .gray
        default: return .default
        }
    }
}
