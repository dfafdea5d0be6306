import Foundation

/// Time helpers: Argus keeps metric time in milliseconds since the Unix epoch.
public enum TimeUtil {
    /// A timestamp as Loki takes it, in nanoseconds: RFC 3339, unix seconds with a fraction, or
    /// an integer (seconds when at most 10 digits, else nanoseconds). Nil when it is none of
    /// those or lies outside what 64-bit nanoseconds hold. (The Loki API and `argus logs`.)
    public static func lokiNanos(_ s: String) -> Int64? {
        if s.contains("."), let f = Double(s), f.isFinite { return Int64(exactly: (f * 1e9).rounded()) }
        if let n = Int64(s) {
            if s.count > 10 { return n }
            let (ns, overflow) = n.multipliedReportingOverflow(by: 1_000_000_000)
            return overflow ? nil : ns
        }
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var date = f.date(from: s)
        if date == nil {
            f.formatOptions = [.withInternetDateTime]
            date = f.date(from: s)
        }
        // Microseconds first: keeps the digits ISO8601DateFormatter gives without float noise.
        guard let date, let us = Int64(exactly: (date.timeIntervalSince1970 * 1e6).rounded()), abs(us) < Int64.max / 1000 else { return nil }
        return us * 1000
    }

    public static func nowMillis() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    public static func nowNanos() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    public static func monotonicNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}

/// Prometheus durations: `1h30m`, `15d`, `10y`, `500ms`; units ms s m h d w y, largest first.
public enum PromDuration {
    /// Parses a duration into milliseconds, or throws a `badInput` error naming the text.
    public static func parseMillis(_ text: String) throws -> Int64 {
        if text == "0" { return 0 }
        let units: [(String, Int64)] = [
            ("y", 365 * 86_400_000), ("w", 7 * 86_400_000), ("d", 86_400_000), ("h", 3_600_000),
            ("m", 60_000), ("s", 1000), ("ms", 1),
        ]
        let bytes = Array(text.utf8)
        var i = 0
        var total: Int64 = 0
        var lastRank = -1
        guard !bytes.isEmpty else { throw bad(text) }
        while i < bytes.count {
            var n: Int64 = 0
            let start = i
            while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 {
                let (m, o1) = n.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(Int64(bytes[i] - 0x30))
                if o1 || o2 { throw bad(text) }
                n = a
                i += 1
            }
            if i == start { throw bad(text) }
            var unit = ""
            if i + 1 < bytes.count, bytes[i] == 0x6D, bytes[i + 1] == 0x73 {
                unit = "ms"
                i += 2
            } else if i < bytes.count {
                unit = String(UnicodeScalar(bytes[i]))
                i += 1
            } else {
                throw bad(text)
            }
            guard let rank = units.firstIndex(where: { $0.0 == unit }), rank > lastRank else { throw bad(text) }
            lastRank = rank
            let (p, o) = n.multipliedReportingOverflow(by: units[rank].1)
            if o { throw bad(text) }
            total += p
        }
        return total
    }

    static func bad(_ text: String) -> ArgusError {
        ArgusError(.badInput, "not a valid duration string: \"\(text)\"")
    }

    /// Formats milliseconds as Prometheus does (`1h30m`, `5m`, `0s`).
    public static func format(_ ms: Int64) -> String {
        if ms == 0 { return "0s" }
        var out = ""
        var rest = ms
        if rest < 0 { out = "-"; rest = -rest }
        let units: [(String, Int64)] = [
            ("y", 365 * 86_400_000), ("w", 7 * 86_400_000), ("d", 86_400_000), ("h", 3_600_000),
            ("m", 60_000), ("s", 1000), ("ms", 1),
        ]
        for (u, size) in units where rest >= size {
            // Prometheus prints weeks only when the whole duration is a number of weeks.
            if u == "w" && rest % size != 0 { continue }
            out += "\(rest / size)\(u)"
            rest %= size
        }
        return out
    }
}
