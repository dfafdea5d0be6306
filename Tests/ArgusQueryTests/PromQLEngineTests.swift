import ArgusModel
import ArgusStorage
import ArgusTestKit
import Foundation
import Testing
@testable import ArgusQuery

/// A store in a temporary directory, loaded with series given as (labels, [(seconds, value)]).
final class LoadedStore {
    let dir = TempDir("argus-promql-unit")
    let store: MetricStore

    init(_ series: [(String, [(Double, Double)])]) throws {
        store = try MetricStore(options: StorageOptions(dataDir: dir.path))
        let app = store.appender()
        for (selector, points) in series {
            let labels = try #require(PromQLScript.splitSeries(selector)).0
            for (t, v) in points { try app.append(labels, Int64(t * 1000), v) }
        }
        try app.commit()
    }

    deinit {
        store.close()
        dir.remove()
    }

    func instant(_ query: String, at seconds: Double, engine: PromQLEngine = PromQLEngine()) async throws -> PromQLValue {
        try await engine.instantQuery(query, at: Int64(seconds * 1000), store: store).value
    }

    /// The single value of an instant query's vector result (nil when it is empty).
    func value(_ query: String, at seconds: Double) async throws -> Double? {
        switch try await instant(query, at: seconds) {
        case .vector(let v):
            #expect(v.count <= 1, "expected at most one series from \(query)")
            return v.first?.v
        case .scalar(_, let v): return v
        default: return nil
        }
    }
}

@Suite("PromQL engine")
struct PromQLEngineTests {
    // MARK: - rate, increase, delta, irate

    @Test("rate extrapolates to the window edges when samples are close to them")
    func rateFullExtrapolation() async throws {
        // A counter rising 1 per 10s, samples every 10s from 0 to 100s.
        let s = try LoadedStore([("c_total", (0...10).map { (Double($0) * 10, Double($0 + 10)) })])
        // Window (40s, 100s]: samples 50..100s (increase 5 over 50s), 10s to extrapolate at the start.
        #expect(try await s.value("increase(c_total[1m])", at: 100) == 6)
        #expect(try await s.value("rate(c_total[1m])", at: 100) == 0.1)
        // The sample exactly at the window start (40s) is outside: windows are left-open.
        #expect(try await s.value("count_over_time(c_total[1m])", at: 100) == 6)
        // Only half an interval past the last sample at the end when it is far from the edge.
        // Window (55s, 115s]: samples 60..100s, increase 4 over 40s; 5s to the start (extrapolated
        // fully), 15s to the end (beyond 1.1 intervals, so only 5s): 4 * (40 + 5 + 5) / 40 = 5.
        #expect(try await s.value("increase(c_total[1m])", at: 115) == 5)
    }

    @Test("increase does not extrapolate a counter below zero")
    func rateZeroCutoff() async throws {
        // Starts at 1 and rises 10 per 5m; extrapolating half an interval back would go negative.
        let s = try LoadedStore([("c_total", (0...10).map { (Double($0) * 300, 1 + 10 * Double($0)) })])
        // Window (-1h40m, 50m]: all samples; the zero point is 30s before the first sample.
        let v = try #require(try await s.value("increase(c_total[100m])", at: 3000))
        #expect(abs(v - 101) < 1e-9)
    }

    @Test("counter resets are added back, but not by delta")
    func resets() async throws {
        let s = try LoadedStore([("c_total", [(0, 0), (60, 10), (120, 20), (180, 5), (240, 15)])])
        // Increase 15 + reset 20 = 35 over 240s sampled; window (-60s, 240s] -> extrapolate 60s at the start
        // only as far as the zero point (0s before the first sample, its value being 0).
        #expect(try await s.value("increase(c_total[5m])", at: 240) == 35)
        #expect(try await s.value("resets(c_total[5m])", at: 240) == 1)
        #expect(try await s.value("changes(c_total[5m])", at: 240) == 4)
        // delta is not counter-aware and not cut off at zero: 15 - 0 extrapolated 60s to the start.
        let d = try #require(try await s.value("delta(c_total[5m])", at: 240))
        #expect(abs(d - 18.75) < 1e-9)
        // irate uses the last two samples; a reset makes the last value the increase.
        #expect(try await s.value("irate(c_total[5m])", at: 180) == 5.0 / 60)
        #expect(try await s.value("irate(c_total[5m])", at: 240) == 10.0 / 60)
        #expect(try await s.value("idelta(c_total[5m])", at: 180) == -15)
    }

    @Test("rate needs two samples in the window")
    func rateSingleSample() async throws {
        let s = try LoadedStore([("c_total", [(0, 1), (600, 2)])])
        #expect(try await s.value("rate(c_total[5m])", at: 600) == nil)
        #expect(try await s.value("irate(c_total[5m])", at: 600) == nil)
        #expect(try await s.value("deriv(c_total[5m])", at: 600) == nil)
        #expect(try await s.value("rate(c_total[11m])", at: 600) != nil)
    }

    // MARK: - Staleness

    @Test("a staleness marker ends a series for instant selectors and is skipped by range functions")
    func staleness() async throws {
        let s = try LoadedStore([("m", [(0, 1), (10, 2), (20, StaleNaN.value), (40, 4)])])
        #expect(try await s.value("m", at: 15) == 2)
        #expect(try await s.value("m", at: 20) == nil)
        #expect(try await s.value("m", at: 39) == nil)
        #expect(try await s.value("m", at: 45) == 4)
        #expect(try await s.value("count_over_time(m[1m])", at: 45) == 3)
        #expect(try await s.value("last_over_time(m[15s])", at: 30) == nil)
        // Without a marker the last sample stays visible for the lookback delta (5m, left-open).
        #expect(try await s.value("m", at: 339) == 4)
        #expect(try await s.value("m", at: 340) == nil)
    }

    // MARK: - histogram_quantile on classic buckets

    private func histogram(_ buckets: [(String, Double)]) throws -> LoadedStore {
        try LoadedStore(buckets.map { ("h_bucket{le=\"\($0.0)\"}", [(0, $0.1)]) })
    }

    @Test("histogram_quantile interpolates inside buckets, with 0 as the first bucket's lower bound")
    func histogramQuantile() async throws {
        let s = try histogram([("1", 10), ("2", 20), ("4", 40), ("+Inf", 40)])
        #expect(try await s.value("histogram_quantile(0.25, h_bucket)", at: 0) == 1)
        #expect(try await s.value("histogram_quantile(0.125, h_bucket)", at: 0) == 0.5)
        #expect(try await s.value("histogram_quantile(0.75, h_bucket)", at: 0) == 3)
        // The +Inf bucket: the highest finite bound.
        #expect(try await s.value("histogram_quantile(1, h_bucket)", at: 0) == 4)
        #expect(try await s.value("histogram_quantile(-1, h_bucket)", at: 0) == -.infinity)
        #expect(try await s.value("histogram_quantile(2, h_bucket)", at: 0) == .infinity)
        let nan = try #require(try await s.value("histogram_quantile(NaN, h_bucket)", at: 0))
        #expect(nan.isNaN)
    }

    @Test("histogram_quantile fixes non-monotonic buckets and reports it")
    func histogramQuantileMonotonicity() async throws {
        let s = try histogram([("1", 10), ("2", 5), ("4", 20), ("+Inf", 20)])
        let result = try await PromQLEngine().instantQuery("histogram_quantile(0.5, h_bucket)", at: 0, store: s.store)
        guard case .vector(let v) = result.value else { Issue.record("not a vector"); return }
        // Buckets become 10, 10, 20: the median is at the top of the first bucket.
        #expect(v.first?.v == 1)
        #expect(result.infos.count == 1)
        #expect(result.infos.first?.hasPrefix("PromQL info: input to histogram_quantile needed to be fixed for monotonicity") == true)
    }

    @Test("histogram_quantile without a +Inf bucket, with no observations, or with a bad le is NaN or nothing")
    func histogramQuantileEdgeCases() async throws {
        let noInf = try histogram([("1", 10), ("2", 20)])
        #expect(try await noInf.value("histogram_quantile(0.5, h_bucket)", at: 0)?.isNaN == true)
        let empty = try histogram([("1", 0), ("+Inf", 0)])
        #expect(try await empty.value("histogram_quantile(0.5, h_bucket)", at: 0)?.isNaN == true)
        let negative = try histogram([("-1", 5), ("0", 5), ("+Inf", 10)])
        // The lowest bucket has a bound <= 0: its bound is the answer.
        #expect(try await negative.value("histogram_quantile(0.1, h_bucket)", at: 0) == -1)
        let bad = try histogram([("x", 5), ("+Inf", 10)])
        let result = try await PromQLEngine().instantQuery("histogram_quantile(0.5, h_bucket)", at: 0, store: bad.store)
        #expect(result.warnings == ["PromQL warning: bucket label \"le\" is missing or has a malformed value of \"x\" for metric name \"\""])
    }

    @Test("histogram_fraction over classic buckets")
    func histogramFraction() async throws {
        let s = try histogram([("1", 10), ("2", 20), ("4", 40), ("+Inf", 40)])
        #expect(try await s.value("histogram_fraction(0, 2, h_bucket)", at: 0) == 0.5)
        #expect(try await s.value("histogram_fraction(1, 3, h_bucket)", at: 0) == 0.5)
        #expect(try await s.value("histogram_fraction(-Inf, +Inf, h_bucket)", at: 0) == 1)
        #expect(try await s.value("histogram_fraction(3, 1, h_bucket)", at: 0) == 0)
    }

    // MARK: - Errors and limits

    @Test("parse errors are bad input with Prometheus' position and text")
    func parseErrors() async throws {
        let s = try LoadedStore([])
        do {
            _ = try await PromQLEngine().instantQuery("sum(foo", at: 0, store: s.store)
            Issue.record("expected a parse error")
        } catch let e as ArgusError {
            #expect(e.code == .badInput)
            #expect(e.message == "1:8: parse error: unclosed left parenthesis")
        }
        await #expect(throws: ArgusError.self) {
            _ = try await PromQLEngine().rangeQuery("foo", start: 0, end: 10, step: 0, store: s.store)
        }
    }

    @Test("too many samples ends the query with an execution error")
    func maxSamples() async throws {
        let s = try LoadedStore((0..<20).map { ("m{i=\"\($0)\"}", (0..<100).map { (Double($0), 1.0) }) })
        let engine = PromQLEngine(options: PromQLEngineOptions(maxSamples: 100))
        for query in ["m", "sum_over_time(m[1m])", "sum(m)"] {
            do {
                _ = try await engine.rangeQuery(query, start: 0, end: 99_000, step: 1000, store: s.store)
                Issue.record("expected \(query) to exceed the sample limit")
            } catch let e as ArgusError {
                #expect(e.code == .execution)
                #expect(e.message == "query processing would load too many samples into memory in query execution")
            }
        }
        // A query within the limit still runs.
        let small = try await engine.instantQuery("sum(m)", at: 50_000, store: s.store)
        guard case .vector(let v) = small.value else { Issue.record("not a vector"); return }
        #expect(v.first?.v == 20)
    }

    @Test("absurd grids and sparse results hit the sample limit instead of exhausting memory")
    func absurdGrids() async throws {
        let s = try LoadedStore([("m", [(0, 1)])])
        for (query, instant) in [("count_over_time(m[100y:1ms])", true), ("m", false)] {
            do {
                if instant {
                    _ = try await PromQLEngine().instantQuery(query, at: 0, store: s.store)
                } else {
                    _ = try await PromQLEngine().rangeQuery(query, start: Int64.min / 2, end: Int64.max / 2, step: 1, store: s.store)
                }
                Issue.record("expected \(query) to fail")
            } catch let e as ArgusError {
                #expect(e.code == .execution)
                #expect(e.message == "query processing would load too many samples into memory in query execution")
            }
        }
    }

    @Test("a query that runs past its timeout fails with a timeout error")
    func timeout() async throws {
        let s = try LoadedStore([("m", [(0, 1)])])
        let engine = PromQLEngine(options: PromQLEngineOptions(timeout: 0))
        do {
            _ = try await engine.instantQuery("m", at: 0, store: s.store)
            Issue.record("expected a timeout")
        } catch let e as ArgusError {
            #expect(e.code == .timeout)
            #expect(e.message == "query timed out in expression evaluation")
        }
    }

    // MARK: - Result shapes

    @Test("results come in the API's shapes")
    func shapes() async throws {
        let s = try LoadedStore([("m{a=\"2\"}", [(0, 1), (60, 2)]), ("m{a=\"1\"}", [(0, 3), (60, 4)])])
        guard case .scalar(let t, let v) = try await s.instant("1 + 1", at: 30) else { Issue.record("not a scalar"); return }
        #expect(t == 30_000 && v == 2)
        guard case .string(_, let str) = try await s.instant("\"hi\"", at: 0) else { Issue.record("not a string"); return }
        #expect(str == "hi")
        guard case .vector(let vec) = try await s.instant("m", at: 30) else { Issue.record("not a vector"); return }
        #expect(vec.allSatisfy { $0.t == 30_000 })
        guard case .matrix(let raw) = try await s.instant("m[2m]", at: 60) else { Issue.record("not a matrix"); return }
        #expect(raw.map { $0.samples.count } == [2, 2])
        let r = try await PromQLEngine().rangeQuery("m", start: 0, end: 60_000, step: 30_000, store: s.store)
        guard case .matrix(let series) = r.value else { Issue.record("not a matrix"); return }
        #expect(series.map { $0.labels.value("a") } == ["1", "2"])
        #expect(series[0].samples.map(\.v) == [3, 3, 4])
        let scalarRange = try await PromQLEngine().rangeQuery("time()", start: 0, end: 60_000, step: 30_000, store: s.store)
        guard case .matrix(let ts) = scalarRange.value else { Issue.record("not a matrix"); return }
        #expect(ts.count == 1 && ts[0].labels.isEmpty && ts[0].samples.map(\.v) == [0, 30, 60])
    }

    // MARK: - Helpers with exact Go/Prometheus semantics

    @Test("xxHash64 matches the reference vectors")
    func xxhash() {
        #expect(PromQLMath.xxhash64([]) == 0xEF46_DB37_51D8_E999)
        #expect(PromQLMath.xxhash64(Array("abc".utf8)) == 0x44BC_2CF5_AD77_0999)
        #expect(PromQLMath.xxhash64(Array("Nobody inspects the spammish repetition".utf8)) == 0xFBCE_A83C_8A37_8BF1)
    }

    @Test("natural sort compares digit runs as numbers")
    func naturalSort() {
        #expect(PromQLMath.naturalLess("1.2.3", "1.11.3"))
        #expect(!PromQLMath.naturalLess("1.11.3", "1.2.3"))
        #expect(PromQLMath.naturalLess("4m5", "4m600"))
        #expect(PromQLMath.naturalLess("4m600", "4m1000"))
        #expect(PromQLMath.naturalLess("a", "b"))
    }

    @Test("label_replace templates expand like Go's regexp.Expand")
    func regexExpand() throws {
        let re = try GoRegex(anchored: "(?P<first>[a-z]+)-(\\d+)")
        #expect(re.replaceWholeMatch("abc-12", template: "$1/$2") == "abc/12")
        #expect(re.replaceWholeMatch("abc-12", template: "${first}x$first") == "abcxabc")
        #expect(re.replaceWholeMatch("abc-12", template: "$1x") == "") // "$1x" names group "1x".
        #expect(re.replaceWholeMatch("abc-12", template: "$$1") == "$1")
        #expect(re.replaceWholeMatch("abc-12 ", template: "$1") == nil) // Anchored.
        #expect(re.replaceWholeMatch("xyz", template: "$1") == nil)
    }

    @Test("Go's %v float formatting")
    func formatV() {
        #expect(goFormatV(2) == "2")
        #expect(goFormatV(-0.5) == "-0.5")
        #expect(goFormatV(.nan) == "NaN")
        #expect(goFormatV(-.infinity) == "-Inf")
        #expect(goFormatV(1e6) == "1e+06")
        #expect(goFormatV(123456) == "123456")
        #expect(goFormatV(0.00001) == "1e-05")
    }

    @Test("calendar fields in UTC")
    func civil() {
        let t = PromQLMath.civil(1_136_239_445) // 2006-01-02 22:04:05, a Monday.
        #expect(t.year == 2006 && t.month == 1 && t.day == 2 && t.hour == 22 && t.minute == 4 && t.weekday == 1)
        #expect(PromQLMath.civil(1_483_191_420).dayOfYear == 366)
        #expect(PromQLMath.civil(1_454_284_800).daysInMonth == 29)
        let before = PromQLMath.civil(-1) // 1969-12-31 23:59:59, a Wednesday.
        #expect(before.year == 1969 && before.month == 12 && before.day == 31 && before.hour == 23 && before.weekday == 3)
    }
}
