import Foundation

// argus-bench: benchmark programs; run them in release mode. They print figures, nothing fails on time.
//   argus-bench storage [--series N] [--hours H] [--dir DIR] [--jitter MS]
//   argus-bench query [--series N] [--hours H] [--runs R]
//   argus-bench remote-write [--series N] [--hours H] [--batch N] [--concurrency N] [--url URL]
//   argus-bench overload [--series N] [--budget SIZE] [--factor F] [--seconds S] [--inflight SIZE]
//   argus-bench compare [--series N] [--hours H] [--batch N] [--concurrency N] [--runs R]
//                       [--systems argus,prometheus,victoriametrics] [--out FILE] [--timeout S]

let args = Array(CommandLine.arguments.dropFirst())
switch args.first {
case "storage":
    try runStorageBench(Array(args.dropFirst()))
case "query":
    try await runQueryBench(Array(args.dropFirst()))
case "remote-write":
    try await runRemoteWriteBench(Array(args.dropFirst()))
case "overload":
    do {
        try await runOverloadBench(Array(args.dropFirst()))
    } catch {
        benchChildren.killAll()
        FileHandle.standardError.write(Data("argus-bench overload: \(error)\n".utf8))
        exit(1)
    }
case "compare":
    do {
        try await runCompareBench(Array(args.dropFirst()))
    } catch {
        benchChildren.killAll()
        FileHandle.standardError.write(Data("argus-bench compare: \(error)\n".utf8))
        exit(1)
    }
default:
    FileHandle.standardError.write(Data("usage: argus-bench storage|query|remote-write|overload|compare [options]\n".utf8))
    exit(2)
}
