import Foundation

/// The functions of a range vector, and what each computes from one window of one series.
///
/// A window is the samples with timestamps in `(windowEnd - range, windowEnd]`, never empty
/// (functions are not called for empty windows), staleness markers removed.
enum PromQLRangeFunction {
    case rate, increase, delta, irate, idelta
    case avgOverTime, sumOverTime, countOverTime, minOverTime, maxOverTime, lastOverTime, presentOverTime
    case stddevOverTime, stdvarOverTime, quantileOverTime, madOverTime
    case changes, resets, deriv, predictLinear, doubleExponentialSmoothing
    case tsOfMinOverTime, tsOfMaxOverTime, tsOfLastOverTime
    case absentOverTime

    init?(name: String) {
        switch name {
        case "rate": self = .rate
        case "increase": self = .increase
        case "delta": self = .delta
        case "irate": self = .irate
        case "idelta": self = .idelta
        case "avg_over_time": self = .avgOverTime
        case "sum_over_time": self = .sumOverTime
        case "count_over_time": self = .countOverTime
        case "min_over_time": self = .minOverTime
        case "max_over_time": self = .maxOverTime
        case "last_over_time": self = .lastOverTime
        case "present_over_time": self = .presentOverTime
        case "stddev_over_time": self = .stddevOverTime
        case "stdvar_over_time": self = .stdvarOverTime
        case "quantile_over_time": self = .quantileOverTime
        case "mad_over_time": self = .madOverTime
        case "changes": self = .changes
        case "resets": self = .resets
        case "deriv": self = .deriv
        case "predict_linear": self = .predictLinear
        case "double_exponential_smoothing", "holt_winters": self = .doubleExponentialSmoothing
        case "ts_of_min_over_time": self = .tsOfMinOverTime
        case "ts_of_max_over_time": self = .tsOfMaxOverTime
        case "ts_of_last_over_time": self = .tsOfLastOverTime
        case "absent_over_time": self = .absentOverTime
        default: return nil
        }
    }

    /// `last_over_time` acts like an offset and keeps the metric name; the others drop it.
    var keepsMetricName: Bool { self == .lastOverTime }

    /// Whether the value depends on the evaluation time rather than only on the window
    /// (so a window pinned with `@` cannot be computed once for all steps).
    var usesEvalTime: Bool { self == .predictLinear }
}

/// The window a range function sees, with the times it needs.
struct RangeWindow {
    let ts: UnsafeBufferPointer<Int64>
    let vs: UnsafeBufferPointer<Double>
    /// First and one-past-last sample index of the window (`lo < hi`).
    let lo: Int
    let hi: Int
    /// The window is `(windowEnd - range, windowEnd]`.
    let windowEnd: Int64
    let range: Int64
    /// The time the function is evaluated at (the step's time, without offset).
    let evalTime: Int64
}

extension PromQLRangeFunction {
    /// The function's value for one window, or `Absent.value` when it has none. `p0` and `p1` are
    /// the scalar parameters (`quantile_over_time`'s q, `predict_linear`'s t, the smoothing and
    /// trend factors); `scratch` is reusable sort space.
    @inline(__always)
    func apply(_ w: RangeWindow, _ p0: Double, _ p1: Double, _ scratch: inout [Double]) -> Double {
        let vs = w.vs, ts = w.ts, lo = w.lo, hi = w.hi
        switch self {
        case .rate: return Self.extrapolatedDelta(w, isCounter: true, isRate: true)
        case .increase: return Self.extrapolatedDelta(w, isCounter: true, isRate: false)
        case .delta: return Self.extrapolatedDelta(w, isCounter: false, isRate: false)
        case .irate, .idelta:
            if hi - lo < 2 { return Absent.value }
            let t0 = ts[hi - 2], t1 = ts[hi - 1]
            let v0 = vs[hi - 2], v1 = vs[hi - 1]
            let interval = t1 - t0
            if interval == 0 { return Absent.value }
            var result = v1
            if self == .idelta || !(v1 < v0) { result = v1 - v0 }
            if self == .irate { result /= Double(interval) / 1000 }
            return result
        case .avgOverTime:
            var sum = vs[lo], count = 1.0, mean = 0.0, c = 0.0
            var incremental = false
            var i = lo + 1
            while i < hi {
                let f = vs[i]
                count = Double(i - lo + 1)
                i += 1
                if !incremental {
                    let (newSum, newC) = PromQLMath.kahanInc(f, sum, c)
                    if !newSum.isInfinite {
                        sum = newSum
                        c = newC
                        continue
                    }
                    incremental = true
                    mean = sum / (count - 1)
                    c /= (count - 1)
                }
                let q = (count - 1) / count
                (mean, c) = PromQLMath.kahanInc(f / count, q * mean, q * c)
            }
            if incremental { return mean + c }
            return sum / count + c / count
        case .sumOverTime:
            var sum = 0.0, c = 0.0
            for i in lo..<hi { (sum, c) = PromQLMath.kahanInc(vs[i], sum, c) }
            return sum.isInfinite ? sum : sum + c
        case .countOverTime:
            return Double(hi - lo)
        case .presentOverTime, .absentOverTime:
            return 1
        case .minOverTime, .tsOfMinOverTime:
            var best = vs[lo], at = ts[lo]
            for i in lo..<hi {
                let f = vs[i]
                if self == .minOverTime ? (f < best || best.isNaN) : (f <= best || best.isNaN) {
                    best = f
                    at = ts[i]
                }
            }
            return self == .minOverTime ? best : Double(at) / 1000
        case .maxOverTime, .tsOfMaxOverTime:
            var best = vs[lo], at = ts[lo]
            for i in lo..<hi {
                let f = vs[i]
                if self == .maxOverTime ? (f > best || best.isNaN) : (f >= best || best.isNaN) {
                    best = f
                    at = ts[i]
                }
            }
            return self == .maxOverTime ? best : Double(at) / 1000
        case .lastOverTime:
            return vs[hi - 1]
        case .tsOfLastOverTime:
            return Double(ts[hi - 1]) / 1000
        case .stddevOverTime, .stdvarOverTime:
            var count = 0.0, mean = 0.0, cMean = 0.0, aux = 0.0, cAux = 0.0
            for i in lo..<hi {
                let f = vs[i]
                count += 1
                let delta = f - (mean + cMean)
                (mean, cMean) = PromQLMath.kahanInc(delta / count, mean, cMean)
                (aux, cAux) = PromQLMath.kahanInc(delta * (f - (mean + cMean)), aux, cAux)
            }
            let variance = (aux + cAux) / count
            return self == .stddevOverTime ? variance.squareRoot() : variance
        case .quantileOverTime:
            scratch.removeAll(keepingCapacity: true)
            for i in lo..<hi { scratch.append(vs[i]) }
            return PromQLMath.quantile(p0, &scratch)
        case .madOverTime:
            scratch.removeAll(keepingCapacity: true)
            for i in lo..<hi { scratch.append(vs[i]) }
            let median = PromQLMath.quantile(0.5, &scratch)
            scratch.removeAll(keepingCapacity: true)
            for i in lo..<hi { scratch.append(abs(vs[i] - median)) }
            return PromQLMath.quantile(0.5, &scratch)
        case .changes:
            var n = 0
            var prev = vs[lo]
            for i in (lo + 1)..<max(lo + 1, hi) {
                let cur = vs[i]
                if cur != prev && !(cur.isNaN && prev.isNaN) { n += 1 }
                prev = cur
            }
            return Double(n)
        case .resets:
            var n = 0
            var prev = vs[lo]
            for i in (lo + 1)..<max(lo + 1, hi) {
                let cur = vs[i]
                if cur < prev { n += 1 }
                prev = cur
            }
            return Double(n)
        case .deriv:
            if hi - lo < 2 { return Absent.value }
            return Self.linearRegression(w, interceptTime: ts[lo]).slope
        case .predictLinear:
            if hi - lo < 2 { return Absent.value }
            let (slope, intercept) = Self.linearRegression(w, interceptTime: w.evalTime)
            return slope * p0 + intercept
        case .doubleExponentialSmoothing:
            if hi - lo < 2 { return Absent.value }
            let sf = p0, tf = p1
            var s0 = 0.0
            var s1 = vs[lo]
            var b = vs[lo + 1] - vs[lo]
            for i in (lo + 1)..<hi {
                let x = sf * vs[i]
                // The trend at the previous point (the raw difference for the first one).
                if i - lo - 1 != 0 { b = tf * (s1 - s0) + (1 - tf) * b }
                let y = (1 - sf) * (s1 + b)
                s0 = s1
                s1 = x + y
            }
            return s1
        }
    }

    /// `rate`, `increase` and `delta`: the change over the window (adding back counter resets for
    /// counters), extrapolated to the window's edges when the first/last samples are close enough
    /// to them (within 110% of the average sample spacing), else by half a spacing; counters are
    /// not extrapolated below zero.
    static func extrapolatedDelta(_ w: RangeWindow, isCounter: Bool, isRate: Bool) -> Double {
        let vs = w.vs, ts = w.ts, lo = w.lo, hi = w.hi
        if hi - lo < 2 { return Absent.value }
        let rangeStart = w.windowEnd - w.range
        let rangeEnd = w.windowEnd
        let first = vs[lo], last = vs[hi - 1]
        let firstT = ts[lo], lastT = ts[hi - 1]
        var result = last - first
        if isCounter {
            var prev = first
            for i in (lo + 1)..<hi {
                let cur = vs[i]
                if cur < prev { result += prev }
                prev = cur
            }
        }
        var durationToStart = Double(firstT - rangeStart) / 1000
        var durationToEnd = Double(rangeEnd - lastT) / 1000
        let sampledInterval = Double(lastT - firstT) / 1000
        let averageInterval = sampledInterval / Double(hi - lo - 1)
        let threshold = averageInterval * 1.1
        if durationToStart >= threshold { durationToStart = averageInterval / 2 }
        if isCounter {
            var durationToZero = durationToStart
            if result > 0 && first >= 0 { durationToZero = sampledInterval * (first / result) }
            if durationToZero < durationToStart { durationToStart = durationToZero }
        }
        if durationToEnd >= threshold { durationToEnd = averageInterval / 2 }
        var factor = (sampledInterval + durationToStart + durationToEnd) / sampledInterval
        if isRate { factor /= Double(w.range) / 1000 }
        return result * factor
    }

    /// Least-squares fit of the window's values against time in seconds relative to
    /// `interceptTime`, with Kahan summation; a constant series has slope 0 (NaN if infinite).
    static func linearRegression(_ w: RangeWindow, interceptTime: Int64) -> (slope: Double, intercept: Double) {
        let vs = w.vs, ts = w.ts
        var n = 0.0
        var sumX = 0.0, cX = 0.0, sumY = 0.0, cY = 0.0, sumXY = 0.0, cXY = 0.0, sumX2 = 0.0, cX2 = 0.0
        let initY = vs[w.lo]
        var constY = true
        for i in w.lo..<w.hi {
            let y = vs[i]
            if constY && i > w.lo && y != initY { constY = false }
            n += 1
            let x = Double(ts[i] - interceptTime) / 1e3
            (sumX, cX) = PromQLMath.kahanInc(x, sumX, cX)
            (sumY, cY) = PromQLMath.kahanInc(y, sumY, cY)
            (sumXY, cXY) = PromQLMath.kahanInc(x * y, sumXY, cXY)
            (sumX2, cX2) = PromQLMath.kahanInc(x * x, sumX2, cX2)
        }
        if constY {
            if initY.isInfinite { return (.nan, .nan) }
            return (0, initY)
        }
        sumX += cX
        sumY += cY
        sumXY += cXY
        sumX2 += cX2
        let covXY = sumXY - sumX * sumY / n
        let varX = sumX2 - sumX * sumX / n
        let slope = covXY / varX
        let intercept = sumY / n - slope * sumX / n
        return (slope, intercept)
    }
}
