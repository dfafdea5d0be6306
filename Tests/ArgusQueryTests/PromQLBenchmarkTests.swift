import ArgusModel
import ArgusStorage
import ArgusTestKit
import Foundation
import Testing
@testable import ArgusQuery

/// Query timings on a generated data set. Opt-in (`ARGUS_PROMQL_BENCH=1`, best in release mode:
/// `swift test -c release -Xswiftc -enable-testing --filter PromQLBenchmark`); prints figures and
/// never fails on time.
@Suite("PromQL benchmark", .enabled(if: ProcessInfo.processInfo.environment["ARGUS_PROMQL_BENCH"] != nil))
struct PromQLBenchmarkTests {
    @Test("range and instant queries over 2,000 series × 6 h at 15 s")
    func benchmark() async throws {
        let dir = TempDir("argus-promql-bench")
        defer { dir.remove() }
        let store = try MetricStore(options: StorageOptions(dataDir: dir.path))
        defer { store.close() }
        let step: Int64 = 15_000
        let points = 6 * 3600 / 15
        var loadStart = Date()
        // 200 counters × 10 instances (http_requests_total), and a histogram of 10 buckets × 100 pods.
        var refs: [(SeriesRef, Double)] = []
        for job in 0..<20 {
            for instance in 0..<10 {
                for code in ["200", "500"] where code == "200" || instance % 2 == 0 {
                    let labels = Labels([("__name__", "http_requests_total"), ("job", "job\(job)"), ("instance", "i\(instance)"),
                                         ("code", code), ("path", "/api/v\(job % 3)")])
                    refs.append((try store.seriesRef(for: labels), Double(job + 1)))
                }
            }
        }
        let les = ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf"]
        for pod in 0..<100 {
            for (i, le) in les.enumerated() {
                let labels = Labels([("__name__", "request_duration_seconds_bucket"), ("pod", "p\(pod)"), ("le", le)])
                refs.append((try store.seriesRef(for: labels), Double(i + 1)))
            }
        }
        for chunk in stride(from: 0, to: points, by: 240) {
            let app = store.appender()
            for k in chunk..<min(points, chunk + 240) {
                for (ref, slope) in refs { app.append(ref: ref, Int64(k) * step, slope * Double(k) + Double(k % 7)) }
            }
            try app.commit()
        }
        let samples = refs.count * points
        print("loaded \(refs.count) series, \(samples) samples in \(String(format: "%.2f", Date().timeIntervalSince(loadStart))) s")
        loadStart = Date()

        let engine = PromQLEngine()
        let end = Int64(points - 1) * step
        let queries: [(String, Bool)] = [
            ("rate(http_requests_total[5m])", true),
            ("sum by (job) (rate(http_requests_total[5m]))", true),
            ("sum by (job, code) (rate(http_requests_total[5m])) / ignoring(code) group_left sum by (job) (rate(http_requests_total[5m]))", true),
            ("histogram_quantile(0.9, sum by (le) (rate(request_duration_seconds_bucket[5m])))", true),
            ("max_over_time(http_requests_total[1h])", true),
            ("avg_over_time(rate(http_requests_total[5m])[30m:1m])", true),
            ("topk(5, http_requests_total)", true),
            ("http_requests_total", true),
            ("sum(rate(http_requests_total[5m]))", false),
            ("quantile_over_time(0.99, http_requests_total[6h])", false),
        ]
        for (query, isRange) in queries {
            let started = Date()
            let result: PromQLResult
            if isRange {
                result = try await engine.rangeQuery(query, start: end - 6 * 3_600_000 + 60_000, end: end, step: 60_000, store: store)
            } else {
                result = try await engine.instantQuery(query, at: end, store: store)
            }
            let seconds = Date().timeIntervalSince(started)
            var count = 0
            switch result.value {
            case .matrix(let m): count = m.reduce(0) { $0 + $1.samples.count }
            case .vector(let v): count = v.count
            default: count = 1
            }
            print(String(format: "%8.1f ms  %7d points  %@ %@", seconds * 1000, count, isRange ? "range 6h/1m " : "instant     ", query))
        }
    }
}
