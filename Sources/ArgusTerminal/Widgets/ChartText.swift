import Foundation

/// A line chart as text, for commands that print rather than run a dashboard (`argus query
/// --output chart`): the time-series widget drawn on an in-memory screen.
public enum ChartText {
    public static func render(_ series: [SeriesData], width: Int, height: Int, unit: String = "", charset: Charset = .braille,
                              mode: ColorMode, zone: TimeZone = .current) -> String {
        let times = series.flatMap(\.times)
        guard let lo = times.min(), let hi = times.max() else { return "(no data)\n" }
        let legend = min(series.count, 8)
        let ctx = RenderContext(charset: charset, zone: zone, start: lo, end: hi == lo ? lo + 1 : hi)
        let panel = Panel(title: "", type: .timeseries, unit: unit)
        // The widget gives the legend a third of the height; ask for enough rows that it fits.
        let rows = max(height + 1 + legend, legend * 3)
        var screen = Screen(width: width, height: rows)
        ChartWidgets.timeseries(panel, series, exemplars: [], in: Rect(x: 0, y: 0, width: width, height: rows), on: &screen, ctx: ctx)
        return screen.ansiText(mode).split(separator: "\n", omittingEmptySubsequences: false)
            .map { String($0.reversed().drop(while: { $0 == " " }).reversed()) }.joined(separator: "\n") + "\n"
    }
}
