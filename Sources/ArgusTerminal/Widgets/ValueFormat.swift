import Foundation

/// Numbers as panels show them, in Grafana's units.
public enum ValueFormat {
    /// `v` in `unit` (a Grafana unit id), with `decimals` when given.
    public static func format(_ v: Double, unit: String, decimals: Int? = nil) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "+Inf" : "-Inf" }
        switch unit {
        case "s": return duration(v, decimals)
        case "ms": return duration(v / 1000, decimals)
        case "µs", "us": return duration(v / 1e6, decimals)
        case "ns": return duration(v / 1e9, decimals)
        case "bytes": return scaled(v, 1024, ["B", "KiB", "MiB", "GiB", "TiB", "PiB"], decimals)
        case "decbytes": return scaled(v, 1000, ["B", "kB", "MB", "GB", "TB", "PB"], decimals)
        case "bits", "bps": return scaled(v, 1000, unit == "bps" ? ["b/s", "kb/s", "Mb/s", "Gb/s", "Tb/s"] : ["b", "kb", "Mb", "Gb", "Tb"], decimals)
        case "Bps", "binBps": return scaled(v, 1024, ["B/s", "KiB/s", "MiB/s", "GiB/s", "TiB/s"], decimals)
        case "percent": return number(v, decimals) + "%"
        case "percentunit": return number(v * 100, decimals) + "%"
        case "reqps": return short(v, decimals) + " req/s"
        case "ops", "opsps": return short(v, decimals) + " ops/s"
        case "rps", "rdps": return short(v, decimals) + " rd/s"
        case "wps", "wrps": return short(v, decimals) + " wr/s"
        case "none": return number(v, decimals)
        case "", "short": return short(v, decimals)
        default: return short(v, decimals) + " " + unit
        }
    }

    /// Plain number: up to 3 significant decimals, no trailing zeros.
    public static func number(_ v: Double, _ decimals: Int? = nil) -> String {
        if let decimals { return String(format: "%.\(max(0, min(10, decimals)))f", v) }
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        let a = abs(v)
        let d = a >= 100 ? 1 : a >= 10 ? 2 : a >= 1 ? 2 : 3
        var s = String(format: "%.\(d)f", v)
        if a < 0.001 { s = String(format: "%.2g", v) }
        if s.contains("."), !s.contains("e") {
            while s.hasSuffix("0") { s.removeLast() }
            if s.hasSuffix(".") { s.removeLast() }
        }
        return s
    }

    /// SI-scaled (k, M, G, T).
    public static func short(_ v: Double, _ decimals: Int? = nil) -> String {
        let a = abs(v)
        let steps: [(Double, String)] = [(1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")]
        for (f, s) in steps where a >= f { return number(v / f, decimals) + s }
        return number(v, decimals)
    }

    static func scaled(_ v: Double, _ base: Double, _ units: [String], _ decimals: Int?) -> String {
        var x = v
        var i = 0
        while abs(x) >= base, i < units.count - 1 { x /= base; i += 1 }
        return number(x, decimals) + " " + units[i]
    }

    static func duration(_ s: Double, _ decimals: Int?) -> String {
        let a = abs(s)
        if a == 0 { return "0 s" }
        if a < 1e-6 { return number(s * 1e9, decimals) + " ns" }
        if a < 1e-3 { return number(s * 1e6, decimals) + " µs" }
        if a < 1 { return number(s * 1e3, decimals) + " ms" }
        if a < 60 { return number(s, decimals) + " s" }
        if a < 3600 { return number(s / 60, decimals) + " min" }
        if a < 86400 { return number(s / 3600, decimals) + " hour" }
        return number(s / 86400, decimals) + " day"
    }

    /// A duration in milliseconds as `1h30m` style text.
    public static func range(_ ms: Int64) -> String {
        var rest = ms / 1000
        var out = ""
        for (n, u) in [(86400, "d"), (3600, "h"), (60, "m"), (1, "s")] where rest >= Int64(n) {
            out += "\(rest / Int64(n))\(u)"
            rest %= Int64(n)
        }
        return out.isEmpty ? "0s" : out
    }

    /// Clock time `HH:MM:SS` (or `HH:MM` when `seconds` is false) in `zone`.
    public static func clock(_ unixSeconds: Double, zone: TimeZone, seconds: Bool = true) -> String {
        // Arithmetic on the zone's offset: a Calendar per call costs more than a frame should.
        let date = Date(timeIntervalSince1970: unixSeconds)
        let local = Int64(unixSeconds.rounded(.down)) + Int64(zone.secondsFromGMT(for: date))
        let day = ((local % 86400) + 86400) % 86400
        let h = Int(day / 3600), m = Int(day % 3600 / 60), s = Int(day % 60)
        func two(_ v: Int) -> String { v < 10 ? "0" + String(v) : String(v) }
        return seconds ? two(h) + ":" + two(m) + ":" + two(s) : two(h) + ":" + two(m)
    }

    /// A span duration in nanoseconds (`1.2ms`, `340µs`, `2.5s`).
    public static func nanos(_ ns: Int64) -> String {
        let d = Double(ns)
        if d < 1e3 { return "\(ns)ns" }
        if d < 1e6 { return number(d / 1e3) + "µs" }
        if d < 1e9 { return number(d / 1e6) + "ms" }
        return number(d / 1e9) + "s"
    }
}
