import ArgusModel
import ArgusStorage
import Foundation
import Logging


func residentBytes() -> Int {
    guard let s = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let parts = s.split(separator: " ")
    return (Int(parts[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE)))
}

func cpuNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// Wall seconds of `body`; its CPU seconds are added to `cpuTotal`.
var lastCPU = 0.0
func seconds(_ body: () throws -> Void) rethrows -> Double {
    let t0 = TimeUtil.monotonicNanos()
    let c0 = cpuNanos()
    try body()
    lastCPU = Double(cpuNanos() - c0) / 1e9
    return Double(TimeUtil.monotonicNanos() - t0) / 1e9
}

func fmt(_ x: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", x) }

