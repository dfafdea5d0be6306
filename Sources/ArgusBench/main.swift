import Foundation

// argus-bench: benchmark programs; run them in release mode. They print figures, nothing fails on time.
//   argus-bench storage [--series N] [--hours H] [--dir DIR] [--jitter MS]
//   argus-bench query [--series N] [--hours H] [--runs R]
//   argus-bench remote-write [--series N] [--hours H] [--batch N] [--concurrency N] [--url URL]
//   argus-bench overload [--series N] [--budget SIZE] [--factor F] [--seconds S] [--inflight SIZE]
//   argus-bench compare [--series N] [--hours H] [--batch N] [--concurrency N] [--runs R]
//                       [--systems argus,prometheus,victoriametrics] [--out FILE] [--timeout S]
//   argus-bench dash [--frames N] [--idle-seconds S]
//   argus-bench rules [--series N] [--evals E]
//   argus-bench logs [--records N] [--batch N] [--rare-every N] [--clustered] [--hours H] [--dir DIR]
//   argus-bench spans [--spans N] [--hours H] [--block-minutes M] [--retention-hours R] [--lookups N] [--otlp-spans N] [--head-search 1] [--dir DIR]
//   argus-bench otlp [--signal traces|logs] [--count N] [--batch N] [--concurrency N]

let args = Array(CommandLine.arguments.dropFirst())
let rest = Array(args.dropFirst())
do {
    switch args.first {
    case "storage": try runStorageBench(rest)
    case "query": try await runQueryBench(rest)
    case "remote-write": try await runRemoteWriteBench(rest)
    case "overload": try await runOverloadBench(rest)
    case "compare": try await runCompareBench(rest)
    case "dash": try runDashBench(rest)
    case "rules": try await runRulesBench(rest)
    case "logs": try runLogsBench(rest)
    case "spans": try await runSpanBench(rest)
    case "otlp": try await runOTLPBench(rest)
    default:
        FileHandle.standardError.write(Data("usage: argus-bench storage|query|remote-write|overload|compare|dash|rules|logs|spans|otlp [options]\n".utf8))
        exit(2)
    }
} catch {
    benchChildren.killAll()
    FileHandle.standardError.write(Data("argus-bench \(args.first ?? ""): \(error)\n".utf8))
    exit(1)
}
