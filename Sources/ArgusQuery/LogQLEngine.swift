import ArgusModel
import ArgusStorage
import Foundation

/// Limits of the LogQL engine (Loki's names in parentheses).
public struct LogQLEngineOptions: Sendable {
    /// The most entries a log query may return (`max_entries_limit_per_query`).
    public var maxEntriesLimit = 5000
    /// The most series a metric query may produce (`max_query_series`).
    public var maxSeries = 500
    /// The most line bytes a query may read (`max_query_bytes_read`); 0 means no limit.
    public var maxBytesRead = 0
    /// Seconds a query may run.
    public var timeout: Double = 120

    public init() {}
}

/// One log line of a log query's result.
public struct LogQLEntry: Sendable {
    public var time: Int64
    public var line: String
    /// The stream's labels (minus any a pipeline dropped or rewrote).
    public var stream: Labels
    public var structuredMetadata: [(name: String, value: String)]
    public var parsed: [(name: String, value: String)]
    /// Stream labels, structured metadata and parsed labels together.
    public var allLabels: Labels
}

public enum LogQLDirection: String, Sendable {
    case forward, backward
}

public enum LogQLValue: Sendable {
    /// Entries sorted in the query's direction.
    case streams([LogQLEntry])
    case vector([PromQLSample])
    case matrix([PromQLSeries])
    case scalar(t: Int64, v: Double)
}

public struct LogQLResult: Sendable {
    public var value: LogQLValue
    public var stats: LogScanStats
    public var seconds: Double
}

/// Evaluates LogQL over a `LogStore`.
///
/// Log queries run their pipeline over the matching streams' lines (leading line filters on
/// raw bytes; chunks ruled out by their token filters are skipped). Metric queries compute each
/// range aggregation (`count_over_time`, `rate`, `… | unwrap x` with `*_over_time`) into a grid
/// of values, then run the aggregations and binary operations around them through the PromQL
/// engine: the LogQL expression is printed as PromQL whose selectors stand for those grids.
public final class LogQLEngine: Sendable {
    public let options: LogQLEngineOptions
    let promql: PromQLEngine

    public init(options: LogQLEngineOptions = LogQLEngineOptions()) {
        self.options = options
        promql = PromQLEngine(options: PromQLEngineOptions(timeout: options.timeout))
    }

    /// Parses a query; throws `ArgusError(.badInput)` with Loki's message and position.
    public static func parse(_ query: String) throws -> LogQLQuery {
        do {
            return try LogQLParser.parse(query)
        } catch let e as LogQLParseError {
            throw e.argusError
        }
    }

    /// Evaluates `query`. Times are nanoseconds; `step` 0 makes an instant query at `end`.
    /// Log queries read [start, end); metric queries evaluate at start, start+step, … end.
    public func query(_ query: String, start: Int64, end: Int64, step: Int64, limit: Int = 100,
                      direction: LogQLDirection = .backward, store: LogStore) throws -> LogQLResult {
        let began = TimeUtil.monotonicNanos()
        let parsed = try LogQLEngine.parse(query)
        var stats = LogScanStats()
        let value: LogQLValue
        switch parsed {
        case .logs(let log):
            if step == 0 && start == end {
                throw ArgusError(.badInput, "log queries are not supported as an instant query type, please change your query to a range query type")
            }
            if limit > options.maxEntriesLimit {
                throw ArgusError(.badInput, "max entries limit per query exceeded, limit > max_entries_limit (\(limit) > \(options.maxEntriesLimit))")
            }
            value = .streams(try selectLogs(log, start: start, end: end, limit: limit, direction: direction, store: store, stats: &stats))
        case .metric(let m):
            value = try evaluateMetric(m, query: query, start: start, end: end, step: step, store: store, stats: &stats)
        }
        return LogQLResult(value: value, stats: stats, seconds: Double(TimeUtil.monotonicNanos() - began) / 1e9)
    }

    /// A metric query at one time (milliseconds), as the rule engine evaluates PromQL.
    public func instantVector(_ query: String, at time: Int64, store: LogStore) throws -> [PromQLSample] {
        let t = time * 1_000_000
        let r = try self.query(query, start: t, end: t, step: 0, store: store)
        switch r.value {
        case .vector(let v): return v
        case .scalar(let t, let v): return [PromQLSample(labels: Labels(), t: t, v: v)]
        default: throw ArgusError(.badInput, "\(query) is a log query; alerting needs a metric query such as count_over_time(\(query)[5m])")
        }
    }

    // MARK: log queries

    func checkBytes(_ stats: LogScanStats) throws {
        if options.maxBytesRead > 0 && stats.bytesRead > options.maxBytesRead {
            throw ArgusError(.limit, "the query would read too many bytes (query: \(stats.bytesRead) B, limit: \(options.maxBytesRead) B); consider adding more specific stream selectors, line filters or reduce the time range of the query")
        }
    }

    /// Runs `body` for every entry of `log` in [start, end) that passes its pipeline.
    /// `skip` may rule lines out by their time alone, before they are parsed or built.
    func forEachEntry(_ log: LogQLLogExpr, start: Int64, end: Int64, store: LogStore, stats: inout LogScanStats,
                      skip: ((Int64) -> Bool)? = nil, newestFirst: Bool? = nil,
                      _ body: (_ time: Int64, _ line: String, _ lineBytes: Int, _ labels: inout LogQLEntryLabels) throws -> Void) throws {
        let pipeline = LogQLPipeline(log.stages)
        var q = LogSelectQuery(matchers: log.matchers, start: start, end: end, tokenHint: LogQLPipeline.tokenHint(log.stages),
                               lineFilters: LogQLPipeline.storeFilters(log.stages))
        q.newestFirst = newestFirst
        let deadline = TimeUtil.monotonicNanos() &+ UInt64(max(0, min(options.timeout, 1e6)) * 1e9)
        var st = stats
        defer { stats = st }
        var read = stats.bytesRead
        try store.scan(q, stats: &st) { batch in
            if TimeUtil.monotonicNanos() > deadline { throw ArgusError(.timeout, "query timed out") }
            read += batch.scannedBytes
            var probe = LogScanStats()
            probe.bytesRead = read
            try checkBytes(probe)
            var records: [LogRecord]?
            try batch.body.withUnsafeBytes { bodyBuf in
                for i in 0..<batch.count {
                    let t = batch.times[i]
                    if t < start || t >= end { continue }
                    if let skip, skip(t) { continue }
                    let lineBytes = UnsafeRawBufferPointer(rebasing: bodyBuf[batch.offsets[i]..<batch.offsets[i + 1]])
                    if !pipeline.prefilter(lineBytes) { continue }
                    if records == nil { records = try batch.records() }
                    let rec = records![i]
                    var labels = LogQLEntryLabels(stream: batch.labels)
                    for m in rec.structuredMetadata(streamLevel: batch.labels["level"]) { labels.extra.append((m.name, m.value, false)) }
                    var line = rec.body
                    if !pipeline.process(line: &line, time: t, labels: &labels) { continue }
                    try body(t, line, lineBytes.count, &labels)
                }
            }
            return true
        }
    }

    func selectLogs(_ log: LogQLLogExpr, start: Int64, end: Int64, limit: Int, direction: LogQLDirection,
                    store: LogStore, stats: inout LogScanStats) throws -> [LogQLEntry] {
        var out: [LogQLEntry] = []
        let backward = direction == .backward
        func better(_ a: LogQLEntry, _ b: LogQLEntry) -> Bool {
            if a.time != b.time { return backward ? a.time > b.time : a.time < b.time }
            return a.line < b.line
        }
        // Once `limit` entries are kept, a line whose time is worse than the worst of them cannot
        // make the result: it is skipped before it is parsed and built.
        var cutoff: Int64?
        let skip = { (t: Int64) -> Bool in
            guard let c = cutoff else { return false }
            return backward ? t < c : t > c
        }
        try forEachEntry(log, start: start, end: end, store: store, stats: &stats, skip: skip, newestFirst: backward) { t, line, _, labels in
            var meta: [(name: String, value: String)] = []
            var parsed: [(name: String, value: String)] = []
            var seen = Set<String>()
            for e in labels.extra.reversed() where seen.insert(e.name).inserted && labels.stream[e.name] == nil {
                if e.parsed { parsed.append((e.name, e.value)) } else { meta.append((e.name, e.value)) }
            }
            var streamItems: [Label] = []
            for l in labels.stream.items where !labels.dropped.contains(l.name) {
                streamItems.append(Label(l.name, labels.get(l.name) ?? l.value))
            }
            out.append(LogQLEntry(time: t, line: line, stream: Labels(sorted: streamItems),
                                  structuredMetadata: meta.sorted { $0.name < $1.name }, parsed: parsed.sorted { $0.name < $1.name },
                                  allLabels: labels.all))
            if out.count >= max(2 * limit, 1024) {
                out.sort(by: better)
                out.removeLast(out.count - limit)
                if limit > 0 { cutoff = out[limit - 1].time }
            }
        }
        out.sort(by: better)
        if out.count > limit { out.removeLast(out.count - limit) }
        return out
    }

    // MARK: metric queries

    static let leafLabel = "__logql_leaf__"

    /// The metric expression as PromQL, range aggregations as `{__logql_leaf__="<n>"}`.
    static func promQL(_ e: LogQLMetricExpr, _ leaf: inout Int) -> String {
        switch e {
        case .range:
            defer { leaf += 1 }
            return "{\(leafLabel)=\"\(leaf)\"}"
        case .number(let v):
            return PromQLPrinter.formatNumber(v)
        case .vector(let v):
            return "vector(\(PromQLPrinter.formatNumber(v)))"
        case .paren(let x):
            return "(" + promQL(x, &leaf) + ")"
        case .aggregate(let op, let grouping, let without, let param, let x):
            if op == "sort" || op == "sort_desc" { return "\(op)(" + promQL(x, &leaf) + ")" }
            var s = op
            if let g = grouping { s += (without ? " without (" : " by (") + g.joined(separator: ", ") + ")" }
            s += " ("
            if let p = param { s += promQL(p, &leaf) + ", " }
            return s + promQL(x, &leaf) + ")"
        case .binary(let op, let isBool, let m, let l, let r):
            var s = "(" + promQL(l, &leaf) + ") " + op
            if isBool { s += " bool" }
            if let m {
                s += (m.on ? " on(" : " ignoring(") + m.labels.joined(separator: ", ") + ")"
                if let g = m.group { s += " \(g)(" + m.include.joined(separator: ", ") + ")" }
            }
            return s + " (" + promQL(r, &leaf) + ")"
        case .labelReplace(let x, let dst, let repl, let src, let regex):
            return "label_replace(" + promQL(x, &leaf) + ", " + [dst, repl, src, regex].map(quoteLabelValue).joined(separator: ", ") + ")"
        }
    }

    func evaluateMetric(_ m: LogQLMetricExpr, query: String, start: Int64, end: Int64, step: Int64,
                        store: LogStore, stats: inout LogScanStats) throws -> LogQLValue {
        var n = 0
        let text = LogQLEngine.promQL(m, &n)
        let expr: Expr
        do {
            expr = try PromQLEngine.parse(text)
        } catch {
            throw ArgusError(.badInput, "parse error: \(error)")
        }
        let leaves = m.leaves
        let startMs = floorDivide(start, 1_000_000)
        let endMs = floorDivide(end, 1_000_000)
        let stepMs = step == 0 ? 0 : max(1, step / 1_000_000)
        if stepMs > 0 && (endMs - startMs) / stepMs > 11_000 {
            throw ArgusError(.badInput, "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)")
        }
        let box = StatsBox(stats)
        let result = try promql.evaluate(expr, start: step == 0 ? endMs : startMs, end: endMs, step: stepMs, store: nil, query: query) { sel, grid in
            guard let m = sel.matchers.first(where: { $0.name == LogQLEngine.leafLabel }), let k = Int(m.value), k < leaves.count else { return nil }
            return try self.evaluateRange(leaves[k], grid: grid, store: store, stats: &box.stats)
        }
        stats = box.stats
        switch result.value {
        case .vector(let v): return .vector(v)
        case .matrix(let mx): return .matrix(mx)
        case .scalar(let t, let v): return .scalar(t: t, v: v)
        case .string: throw ArgusError(.badInput, "a LogQL query cannot return a string")
        }
    }

    final class StatsBox {
        var stats: LogScanStats
        init(_ s: LogScanStats) { stats = s }
    }

    /// Accumulated values of one series at one step.
    struct Cell {
        var count = 0.0
        var sum = 0.0
        var sumSq = 0.0
        var min = Double.infinity
        var max = -Double.infinity
        var firstT = Int64.max
        var first = 0.0
        var lastT = Int64.min
        var last = 0.0
    }

    func evaluateRange(_ agg: LogQLRangeAggregation, grid: PromQLGrid, store: LogStore, stats: inout LogScanStats) throws -> GridVector {
        let steps = grid.count
        let stepNs = grid.step * 1_000_000
        let startNs = grid.start * 1_000_000
        let range = agg.range
        // Entries that land in any window: (first step end - range - offset, last end - offset].
        let from = startNs - range - agg.offset + 1
        let to = grid.end * 1_000_000 - agg.offset + 1
        var rowOf: [[String]: Int] = [:]
        var rowLabels: [Labels] = []
        var cells: [Cell] = []
        var values: [[Double]] = []
        let needValues = agg.op == "quantile_over_time"
        let needPoints = agg.op == "rate_counter"
        var points: [[(Int64, Double)]] = []
        let unwrap = agg.unwrap
        let grouping = agg.grouping.map(Set.init)
        var errors = 0
        var firstError = ""
        try forEachEntry(agg.log, start: from, end: to, store: store, stats: &stats) { t, _, bytes, labels in
            var v = 1.0
            if let (label, conv) = unwrap {
                guard let raw = labels.get(label) else { return }
                let parsed: Double?
                switch conv {
                case "duration", "duration_seconds": parsed = LogQLDuration.seconds(raw)
                case "bytes": parsed = LogQLBytes.parse(raw.replacingOccurrences(of: " ", with: ""))
                default: parsed = Double(raw.trimmingCharacters(in: .whitespaces))
                }
                guard let p = parsed else {
                    errors += 1
                    if firstError.isEmpty { firstError = "cannot convert \(label)=\(quoteLabelValue(raw)) to a number" }
                    return
                }
                v = p
                labels.remove(label)
            } else if agg.op == "bytes_over_time" || agg.op == "bytes_rate" {
                v = Double(bytes)
            }
            if let e = labels.get("__error__") {
                errors += 1
                if firstError.isEmpty { firstError = "pipeline error: '\(e)' for series: '\(labels.all)'" }
                return
            }
            let key = labels.key
            let row: Int
            if let r = rowOf[key] {
                row = r
            } else {
                var l = labels.all
                if let g = grouping { l = agg.without ? l.removing(g) : l.keeping(g) }
                // Rows are keyed by the full label key; grouping may merge several keys into one row.
                if let existing = rowLabels.firstIndex(of: l), grouping != nil {
                    row = existing
                } else {
                    row = rowLabels.count
                    rowLabels.append(l)
                    if rowLabels.count > options.maxSeries {
                        throw ArgusError(.badInput, "maximum of series (\(options.maxSeries)) reached for a single query; consider reducing the query cardinality by adding more specific stream selectors or by aggregating with sum by (...)")
                    }
                    cells.append(contentsOf: repeatElement(Cell(), count: steps))
                    if needValues { values.append(contentsOf: repeatElement([], count: steps)) }
                    if needPoints { points.append(contentsOf: repeatElement([], count: steps)) }
                }
                rowOf[key] = row
            }
            // Steps whose window (end - range, end] holds t + offset.
            let tt = t + agg.offset
            var j0 = Int64(0)
            if tt > startNs { j0 = (tt - startNs + stepNs - 1) / stepNs }
            let lastEnd = tt + range - 1
            if lastEnd < startNs { return }
            let j1 = min(Int64(steps - 1), (lastEnd - startNs) / stepNs)
            if j0 > j1 { return }
            for j in Int(j0)...Int(j1) {
                let k = row * steps + j
                cells[k].count += 1
                cells[k].sum += v
                cells[k].sumSq += v * v
                if v < cells[k].min { cells[k].min = v }
                if v > cells[k].max { cells[k].max = v }
                if t < cells[k].firstT { cells[k].firstT = t; cells[k].first = v }
                if t >= cells[k].lastT { cells[k].lastT = t; cells[k].last = v }
                if needValues { values[k].append(v) }
                if needPoints { points[k].append((t, v)) }
            }
        }
        if errors > 0 && unwrap != nil && firstError.hasPrefix("cannot") {
            // Loki drops samples it cannot convert (with a SampleExtractionErr label); we skip them.
        } else if errors > 0 {
            throw ArgusError(.badInput, firstError)
        }
        let seconds = Double(range) / 1e9
        var out = GridVector(steps: steps)
        if agg.op == "absent_over_time" {
            var present = [Bool](repeating: false, count: steps)
            for r in 0..<rowLabels.count { for j in 0..<steps where cells[r * steps + j].count > 0 { present[j] = true } }
            var items: [Label] = []
            for m in agg.log.matchers where m.kind == .equal && !items.contains(where: { $0.name == m.name }) { items.append(Label(m.name, m.value)) }
            let row = out.addRow(Labels(unsorted: items))
            for j in 0..<steps where !present[j] { out[row, j] = 1 }
            out.compact()
            return out
        }
        for r in 0..<rowLabels.count {
            let row = out.addRow(rowLabels[r])
            for j in 0..<steps {
                let c = cells[r * steps + j]
                if c.count == 0 { continue }
                let x: Double
                switch agg.op {
                case "count_over_time": x = c.count
                case "rate": x = c.count / seconds
                case "bytes_over_time", "sum_over_time": x = c.sum
                case "bytes_rate": x = c.sum / seconds
                case "avg_over_time": x = c.sum / c.count
                case "min_over_time": x = c.min
                case "max_over_time": x = c.max
                case "first_over_time": x = c.first
                case "last_over_time": x = c.last
                case "stdvar_over_time", "stddev_over_time":
                    let mean = c.sum / c.count
                    let variance = max(0, c.sumSq / c.count - mean * mean)
                    x = agg.op == "stddev_over_time" ? variance.squareRoot() : variance
                case "quantile_over_time":
                    x = LogQLEngine.quantile(agg.param ?? 0.5, values[r * steps + j])
                case "rate_counter":
                    x = LogQLEngine.rateCounter(points[r * steps + j], range: range)
                default: throw ArgusError(.badInput, "unsupported range aggregation \(agg.op)")
                }
                out[row, j] = x
            }
        }
        out.compact()
        return out
    }

    /// Loki's `rate_counter`: the samples (ns, value) of one window as a counter, its increase
    /// (a drop is a reset: the value before it is added back) extrapolated as Prometheus'
    /// `rate` does, per second of the range. As in Loki, the window is taken to end at the last
    /// sample and to start one range before the first, and fewer than two samples give 0.
    static func rateCounter(_ unsorted: [(Int64, Double)], range: Int64) -> Double {
        if unsorted.count < 2 { return 0 }
        let s = unsorted.enumerated().sorted { ($0.element.0, $0.offset) < ($1.element.0, $1.offset) }.map(\.element)
        let first = s[0], last = s[s.count - 1]
        var result = last.1 - first.1
        var previous = 0.0
        for p in s {
            if p.1 < previous { result += previous }
            previous = p.1
        }
        let rangeSeconds = Double(range) / 1e9
        var toStart = rangeSeconds  // first sample − (first sample − range)
        let toEnd = 0.0  // the window ends at the last sample
        let sampled = Double(last.0 - first.0) / 1e9
        let average = sampled / Double(s.count - 1)
        if result > 0 && first.1 >= 0 {
            let toZero = sampled * (first.1 / result)
            if toZero < toStart { toStart = toZero }
        }
        let threshold = average * 1.1
        var interval = sampled
        interval += toStart < threshold ? toStart : average / 2
        interval += toEnd < threshold ? toEnd : average / 2
        return result * (interval / sampled) / rangeSeconds
    }

    /// Prometheus' quantile: linear interpolation between the closest ranks.
    static func quantile(_ q: Double, _ vs: [Double]) -> Double {
        if vs.isEmpty { return .nan }
        if q < 0 { return -.infinity }
        if q > 1 { return .infinity }
        let s = vs.sorted()
        let rank = q * Double(s.count - 1)
        let lo = Int(rank.rounded(.down)), hi = min(lo + 1, s.count - 1)
        let w = rank - Double(lo)
        return s[lo] * (1 - w) + s[hi] * w
    }
}

@inline(__always) func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}
