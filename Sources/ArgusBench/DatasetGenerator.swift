import ArgusModel

/// A deterministic generator of realistic metric series: counters with varied rates and
/// occasional resets, histogram bucket families, and gauges of several kinds, scraped every
/// `interval` with millisecond jitter.
struct DatasetGenerator {
    enum Kind {
        case counter(rate: Double)
        case bucket(family: Int, share: Double)
        case gaugeConstant(Double)
        case gaugeWalk(decimals: Int, step: Double)
        case gaugeNoisy  // many decimals (ratios, averages)
        case gaugeInteger(max: Int)
    }

    struct Series {
        var labels: Labels
        var kind: Kind
        var target: Int
        var value: Double
    }

    var series: [Series] = []
    var rng: SplitMix
    let interval: Int64
    let start: Int64
    let jitterMs: Int64
    /// Histogram families: per step, the number of new observations.
    var familyRate: [Double] = []
    var familyNew: [Double] = []

    init(seriesCount: Int, start: Int64, interval: Int64 = 15_000, jitterMs: Int64 = 5, seed: UInt64 = 42) {
        rng = SplitMix(seed)
        self.interval = interval
        self.start = start
        self.jitterMs = jitterMs
        let les = ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf"]
        let shares = [0.05, 0.15, 0.35, 0.6, 0.8, 0.92, 0.97, 0.99, 0.998, 1.0]
        let methods = ["GET", "POST", "PUT", "DELETE"]
        let codes = ["200", "201", "400", "404", "500", "503"]
        var i = 0
        var instance = 0
        while series.count < seriesCount {
            let job = "svc-\(i % 25)"
            let inst = "10.0.\(instance / 250).\(instance % 250):9100"
            let pick = i % 10
            func add(_ pairs: [(String, String)], _ kind: Kind, _ v: Double) {
                guard series.count < seriesCount else { return }
                series.append(Series(labels: Labels(pairs + [("job", job), ("instance", inst)]), kind: kind, target: instance, value: v))
            }
            switch pick {
            case 0, 1, 2, 3:
                let rate = [0.01, 0.2, 1, 5, 40, 300][Int(rng.next() % 6)]
                add([("__name__", "http_requests_total"), ("method", methods[i % 4]), ("code", codes[(i / 4) % 6])], .counter(rate: rate), Double(rng.next() % 10_000))
            case 4, 5, 6:
                let fam = familyRate.count
                familyRate.append([0.5, 3, 20, 100][Int(rng.next() % 4)])
                familyNew.append(0)
                let name = "http_request_duration_seconds"
                for (k, le) in les.enumerated() {
                    add([("__name__", name + "_bucket"), ("le", le), ("handler", "/api/\(i % 40)")], .bucket(family: fam, share: shares[k]), 0)
                }
                add([("__name__", name + "_count"), ("handler", "/api/\(i % 40)")], .bucket(family: fam, share: 1), 0)
                add([("__name__", name + "_sum"), ("handler", "/api/\(i % 40)")], .bucket(family: fam, share: -1), 0)
            case 7:
                add([("__name__", "up")], .gaugeConstant(1), 1)
                add([("__name__", "process_max_fds")], .gaugeConstant(65536), 65536)
                add([("__name__", "node_memory_MemTotal_bytes")], .gaugeConstant(33_554_432_000), 33_554_432_000)
            case 8:
                add([("__name__", "node_hwmon_temp_celsius"), ("sensor", "temp\(i % 4)")], .gaugeWalk(decimals: 1, step: 0.5), 45)
                add([("__name__", "node_load1")], .gaugeWalk(decimals: 2, step: 0.1), 1.5)
                add([("__name__", "go_goroutines")], .gaugeInteger(max: 500), 50)
            default:
                add([("__name__", "node_cpu_utilisation_ratio"), ("cpu", "\(i % 8)")], .gaugeNoisy, 0.3)
                add([("__name__", "process_resident_memory_bytes")], .gaugeWalk(decimals: 0, step: 65536), 200_000_000)
            }
            i += 1
            if i % 10 == 0 { instance += 1 }
        }
        targetOffset = (0...instance).map { _ in Int64(rng.next() % UInt64(interval)) }
        targetJitter = [Int64](repeating: 0, count: instance + 1)
    }

    /// Every target (instance) is scraped once per interval at its own offset; all series of one
    /// scrape share its timestamp, as in Prometheus.
    var targetOffset: [Int64] = []
    var targetJitter: [Int64] = []

    /// Advances every series by one scrape and calls `emit(seriesIndex, timestamp, value)`.
    mutating func step(_ k: Int, _ emit: (Int, Int64, Double) -> Void) {
        for f in familyRate.indices {
            familyNew[f] = Double(poisson(familyRate[f] * Double(interval) / 1000))
        }
        let base = start + Int64(k) * interval
        for t in targetJitter.indices {
            targetJitter[t] = jitterMs > 0 ? Int64(rng.next() % UInt64(jitterMs + 1)) : 0
        }
        for idx in series.indices {
            var s = series[idx]
            switch s.kind {
            case .counter(let rate):
                if rng.next() % 5000 == 0 {
                    s.value = 0
                } else {
                    s.value += Double(poisson(rate * Double(interval) / 1000))
                }
            case .bucket(let fam, let share):
                let n = familyNew[fam]
                if share < 0 {
                    s.value = ((s.value + n * 0.087) * 1000).rounded() / 1000
                } else {
                    s.value += (n * share).rounded(.down)
                }
            case .gaugeConstant:
                break
            case .gaugeWalk(let decimals, let stepSize):
                let r = Double(Int(rng.next() % 3) - 1) * stepSize
                let p = pow10(decimals)
                s.value = ((s.value + r) * p).rounded() / p
            case .gaugeNoisy:
                s.value = Double(rng.next() % 1_000_000_000) / 1e9
            case .gaugeInteger(let maxV):
                s.value = Double(max(0, min(maxV, Int(s.value) + Int(rng.next() % 11) - 5)))
            }
            series[idx] = s
            emit(idx, base + targetOffset[s.target] + targetJitter[s.target], s.value)
        }
    }

    func pow10(_ d: Int) -> Double {
        var x = 1.0
        for _ in 0..<d { x *= 10 }
        return x
    }

    mutating func poisson(_ lambda: Double) -> Int {
        if lambda > 30 {
            // Normal approximation.
            let u1 = max(Double(rng.next() % 1_000_000 + 1) / 1_000_001, 1e-9)
            let u2 = Double(rng.next() % 1_000_000) / 1_000_000
            let z = (-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2)
            return max(0, Int((lambda + z * lambda.squareRoot()).rounded()))
        }
        let l = _exp(-lambda)
        var k = 0
        var p = 1.0
        repeat {
            k += 1
            p *= Double(rng.next() % 1_000_000) / 1_000_000
        } while p > l
        return k - 1
    }
}

/// A small deterministic PRNG.
struct SplitMix {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

import Foundation
@inline(__always) func _log(_ x: Double) -> Double { Foundation.log(x) }
@inline(__always) func _cos(_ x: Double) -> Double { Foundation.cos(x) }
@inline(__always) func _exp(_ x: Double) -> Double { Foundation.exp(x) }
