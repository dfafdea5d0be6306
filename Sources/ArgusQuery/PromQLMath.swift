import Foundation

/// Numeric helpers with Prometheus' exact semantics (summation order, NaN and infinity rules).
enum PromQLMath {
    /// One step of Kahan-Babuška (Neumaier) summation: adds `inc` to `sum` with compensation `c`.
    /// An infinite sum resets the compensation so that it cannot turn into NaN.
    @inline(__always)
    static func kahanInc(_ inc: Double, _ sum: Double, _ c: Double) -> (Double, Double) {
        let t = sum + inc
        if t.isInfinite { return (t, 0) }
        if abs(sum) >= abs(inc) { return (t, c + ((sum - t) + inc)) }
        return (t, c + ((inc - t) + sum))
    }

    /// Prometheus' sort order for values: NaN first, then ascending.
    @inline(__always)
    static func lessNaNFirst(_ a: Double, _ b: Double) -> Bool {
        if a.isNaN { return !b.isNaN }
        if b.isNaN { return false }
        return a < b
    }

    /// The `q` quantile of `values` (sorted in place), interpolating linearly between the two
    /// nearest values: NaN for no values or q NaN, -Inf for q < 0, +Inf for q > 1.
    static func quantile(_ q: Double, _ values: inout [Double]) -> Double {
        if values.isEmpty || q.isNaN { return .nan }
        if q < 0 { return -.infinity }
        if q > 1 { return .infinity }
        values.sort(by: lessNaNFirst)
        let n = Double(values.count)
        let rank = q * (n - 1)
        let lower = max(0, rank.rounded(.down))
        let upper = min(n - 1, lower + 1)
        let weight = rank - rank.rounded(.down)
        return values[Int(lower)] * (1 - weight) + values[Int(upper)] * weight
    }

    /// A classic histogram bucket: its upper bound (`le`) and cumulative count.
    struct Bucket {
        var upperBound: Double
        var count: Double
    }

    /// Sorts buckets by upper bound and merges buckets with equal upper bounds.
    static func prepareBuckets(_ buckets: inout [Bucket]) {
        buckets.sort { $0.upperBound < $1.upperBound }
        var i = 0
        var last = buckets[0]
        for b in buckets.dropFirst() {
            if b.upperBound == last.upperBound {
                last.count += b.count
            } else {
                buckets[i] = last
                last = b
                i += 1
            }
        }
        buckets[i] = last
        buckets.removeLast(buckets.count - i - 1)
    }

    /// The `q` quantile of a classic histogram, interpolating linearly inside the bucket it falls
    /// in (0 is the lower bound of the first bucket when that bucket's upper bound is positive).
    /// Counts that decrease with `le` are raised to make the buckets monotonic; `forced` reports
    /// whether that was needed.
    static func bucketQuantile(_ q: Double, _ input: [Bucket]) -> (value: Double, forced: Bool) {
        if q.isNaN { return (.nan, false) }
        if q < 0 { return (-.infinity, false) }
        if q > 1 { return (.infinity, false) }
        var buckets = input
        guard !buckets.isEmpty else { return (.nan, false) }
        buckets.sort { $0.upperBound < $1.upperBound }
        guard buckets[buckets.count - 1].upperBound == .infinity else { return (.nan, false) }
        prepareBuckets(&buckets)
        fixPrecision(&buckets, tolerance: 1e-12)
        var forced = false
        var highest = buckets[0].count
        for i in 1..<buckets.count {
            if buckets[i].count > highest {
                highest = buckets[i].count
            } else if buckets[i].count < highest {
                buckets[i].count = highest
                forced = true
            }
        }
        if buckets.count < 2 { return (.nan, false) }
        let observations = buckets[buckets.count - 1].count
        if observations == 0 { return (.nan, false) }
        var rank = q * observations
        // The first bucket (excluding +Inf) whose count reaches the rank.
        var b = buckets.count - 1
        var lo = 0, hi = buckets.count - 1
        while lo < hi {
            let mid = (lo + hi) >> 1
            if buckets[mid].count >= rank { hi = mid } else { lo = mid + 1 }
        }
        b = lo
        if b == buckets.count - 1 { return (buckets[buckets.count - 2].upperBound, forced) }
        if b == 0 && buckets[0].upperBound <= 0 { return (buckets[0].upperBound, forced) }
        var start = 0.0
        let end = buckets[b].upperBound
        var count = buckets[b].count
        if b > 0 {
            start = buckets[b - 1].upperBound
            count -= buckets[b - 1].count
            rank -= buckets[b - 1].count
        }
        return (start + (end - start) * (rank / count), forced)
    }

    /// Treats counts that differ from the previous bucket's by a relative `tolerance` or less as
    /// equal to it (floating-point noise from rates would otherwise break monotonicity).
    static func fixPrecision(_ buckets: inout [Bucket], tolerance: Double) {
        var prev = buckets[0].count
        for i in 1..<buckets.count {
            let curr = buckets[i].count
            let delta = abs(curr - prev)
            if delta == 0 { continue }
            if delta / curr <= tolerance {
                buckets[i].count = prev
            } else {
                prev = curr
            }
        }
    }

    /// The fraction of a classic histogram's observations between `lower` and `upper`,
    /// interpolating linearly inside buckets (the inverse of `bucketQuantile`).
    static func bucketFraction(_ lower: Double, _ upper: Double, _ input: [Bucket]) -> Double {
        var buckets = input
        guard !buckets.isEmpty else { return .nan }
        buckets.sort { $0.upperBound < $1.upperBound }
        guard buckets[buckets.count - 1].upperBound == .infinity else { return .nan }
        prepareBuckets(&buckets)
        let total = buckets[buckets.count - 1].count
        if total == 0 || lower.isNaN || upper.isNaN { return .nan }
        if lower >= upper { return 0 }
        var rank = 0.0, lowerRank = 0.0, upperRank = 0.0
        var lowerSet = false, upperSet = false
        for (i, b) in buckets.enumerated() {
            var bucketLower: Double
            if i == 0 {
                bucketLower = b.upperBound > 0 ? 0 : -.infinity
            } else {
                bucketLower = buckets[i - 1].upperBound
            }
            let bucketUpper = b.upperBound
            let bucketCount = b.count - rank
            func interpolate(_ v: Double) -> Double {
                if bucketLower == -.infinity || bucketUpper == .infinity {
                    // Nothing to interpolate with: the whole bucket counts on the far side.
                    return v < bucketUpper ? rank : b.count
                }
                return rank + bucketCount * (v - bucketLower) / (bucketUpper - bucketLower)
            }
            if !lowerSet && bucketLower >= lower {
                lowerRank = rank
                lowerSet = true
            }
            if !upperSet && bucketLower >= upper {
                upperRank = rank
                upperSet = true
            }
            if lowerSet && upperSet { break }
            if !lowerSet && bucketLower < lower && bucketUpper > lower {
                lowerRank = interpolate(lower)
                lowerSet = true
            }
            if !upperSet && bucketLower < upper && bucketUpper > upper {
                upperRank = interpolate(upper)
                upperSet = true
            }
            if lowerSet && upperSet { break }
            rank = b.count
        }
        if !lowerSet || lowerRank > total { lowerRank = total }
        if !upperSet || upperRank > total { upperRank = total }
        return (upperRank - lowerRank) / total
    }

    /// Go's `strconv.ParseFloat(s, 64)` for bucket bounds: decimal and hex floats, `Inf`, `+Inf`,
    /// `-Inf`, `NaN` (any case), `infinity`.
    static func parseGoFloat(_ s: String) -> Double? {
        if s.isEmpty { return nil }
        var text = s
        if text.contains("_") {
            // Go only accepts underscores between digits with a base prefix; be strict.
            return nil
        }
        let lower = text.lowercased()
        switch lower {
        case "inf", "+inf", "infinity", "+infinity": return .infinity
        case "-inf", "-infinity": return -.infinity
        case "nan": return .nan
        default: break
        }
        if lower.hasPrefix("0x") || lower.hasPrefix("-0x") || lower.hasPrefix("+0x") {
            // Hex floats need a 'p' exponent in Go.
            if !lower.contains("p") { return nil }
        }
        if text.hasPrefix("+") { text.removeFirst() }
        for c in text.utf8 where !(c == 0x2E || c == 0x2D || c == 0x2B || (c >= 0x30 && c <= 0x39) || c == 0x65 || c == 0x45
                                   || c == 0x78 || c == 0x58 || c == 0x70 || c == 0x50 || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46)) {
            return nil
        }
        return Double(text)
    }

    // MARK: - Natural sort

    /// `facette/natsort`'s `Compare(a, b)`: true when `a` sorts before `b`, comparing runs of
    /// digits as integers and other runs as strings.
    static func naturalLess(_ a: String, _ b: String) -> Bool {
        let ca = chunks(a), cb = chunks(b)
        for i in 0..<ca.count {
            if i >= cb.count { return false }
            let x = ca[i], y = cb[i]
            if let xi = Int(x), let yi = Int(y), x.allSatisfy(\.isASCIIDigit), y.allSatisfy(\.isASCIIDigit) {
                if xi == yi {
                    if i == ca.count - 1 { return true }
                    if i == cb.count - 1 { return false }
                    continue
                }
                return xi < yi
            }
            if x == y {
                if i == ca.count - 1 { return true }
                if i == cb.count - 1 { return false }
                continue
            }
            return compareBytes(x, y) < 0
        }
        return false
    }

    private static func chunks(_ s: String) -> [String] {
        var out: [String] = []
        var current = ""
        var currentIsDigit: Bool? = nil
        for ch in s {
            let d = ch.isASCIIDigit
            if currentIsDigit == d {
                current.append(ch)
            } else {
                if !current.isEmpty { out.append(current) }
                current = String(ch)
                currentIsDigit = d
            }
        }
        if !current.isEmpty { out.append(current) }
        return out
    }

    // MARK: - Hashing

    /// xxHash64 with seed 0 (what Prometheus' `labels.Hash` uses).
    static func xxhash64(_ data: [UInt8]) -> UInt64 {
        let p1: UInt64 = 11_400_714_785_074_694_791
        let p2: UInt64 = 14_029_467_366_897_019_727
        let p3: UInt64 = 1_609_587_929_392_839_161
        let p4: UInt64 = 9_650_029_242_287_828_579
        let p5: UInt64 = 2_870_177_450_012_600_261
        func rotl(_ x: UInt64, _ r: UInt64) -> UInt64 { (x << r) | (x >> (64 - r)) }
        func round(_ acc: UInt64, _ input: UInt64) -> UInt64 {
            var a = acc &+ input &* p2
            a = rotl(a, 31)
            return a &* p1
        }
        func merge(_ acc: UInt64, _ val: UInt64) -> UInt64 {
            var a = acc ^ round(0, val)
            a = a &* p1 &+ p4
            return a
        }
        func u64(_ i: Int) -> UInt64 {
            var v: UInt64 = 0
            for k in 0..<8 { v |= UInt64(data[i + k]) << (8 * UInt64(k)) }
            return v
        }
        func u32(_ i: Int) -> UInt64 {
            var v: UInt64 = 0
            for k in 0..<4 { v |= UInt64(data[i + k]) << (8 * UInt64(k)) }
            return v
        }
        let n = data.count
        var i = 0
        var h: UInt64
        if n >= 32 {
            var v1 = p1 &+ p2, v2 = p2, v3: UInt64 = 0, v4 = 0 &- p1
            while i + 32 <= n {
                v1 = round(v1, u64(i)); v2 = round(v2, u64(i + 8))
                v3 = round(v3, u64(i + 16)); v4 = round(v4, u64(i + 24))
                i += 32
            }
            h = rotl(v1, 1) &+ rotl(v2, 7) &+ rotl(v3, 12) &+ rotl(v4, 18)
            h = merge(h, v1); h = merge(h, v2); h = merge(h, v3); h = merge(h, v4)
        } else {
            h = p5
        }
        h = h &+ UInt64(n)
        while i + 8 <= n {
            h ^= round(0, u64(i))
            h = rotl(h, 27) &* p1 &+ p4
            i += 8
        }
        if i + 4 <= n {
            h ^= u32(i) &* p1
            h = rotl(h, 23) &* p2 &+ p3
            i += 4
        }
        while i < n {
            h ^= UInt64(data[i]) &* p5
            h = rotl(h, 11) &* p1
            i += 1
        }
        h ^= h >> 33
        h = h &* p2
        h ^= h >> 29
        h = h &* p3
        h ^= h >> 32
        return h
    }

    // MARK: - Calendar (UTC, proleptic Gregorian)

    struct CivilTime {
        var year: Int
        var month: Int
        var day: Int
        var hour: Int
        var minute: Int
        var weekday: Int
        var dayOfYear: Int
        var daysInMonth: Int
    }

    /// The UTC calendar fields of a Unix time in whole seconds.
    static func civil(_ seconds: Int64) -> CivilTime {
        var days = seconds / 86_400
        var rem = seconds % 86_400
        if rem < 0 {
            rem += 86_400
            days -= 1
        }
        // Howard Hinnant's days-to-civil.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        var y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        if m <= 2 { y += 1 }
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
        let cumulative = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334]
        var yday = cumulative[Int(m) - 1] + Int(d)
        if leap && m > 2 { yday += 1 }
        let monthDays = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        var weekday = Int((days + 4) % 7)
        if weekday < 0 { weekday += 7 }
        return CivilTime(year: Int(y), month: Int(m), day: Int(d), hour: Int(rem / 3600), minute: Int((rem % 3600) / 60),
                         weekday: weekday, dayOfYear: yday, daysInMonth: monthDays[Int(m) - 1])
    }
}

extension Character {
    var isASCIIDigit: Bool { asciiValue.map { $0 >= 0x30 && $0 <= 0x39 } ?? false }
}
