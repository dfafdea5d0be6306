import Foundation

// argus-bench: benchmark programs; run them in release mode. They print figures, nothing fails on time.
//   argus-bench storage [--series N] [--hours H] [--dir DIR] [--jitter MS]
//   argus-bench query [--series N] [--hours H] [--runs R]
//   argus-bench remote-write [--series N] [--hours H] [--batch N] [--concurrency N] [--url URL]
//   argus-bench spans [--spans N] [--block-minutes M] [--lookups N] [--dir DIR]

let args = Array(CommandLine.arguments.dropFirst())
switch args.first {
case "storage":
    try runStorageBench(Array(args.dropFirst()))
case "query":
    try await runQueryBench(Array(args.dropFirst()))
case "remote-write":
    try await runRemoteWriteBench(Array(args.dropFirst()))
case "spans":
    try await runSpanBench(Array(args.dropFirst()))
default:
    FileHandle.standardError.write(Data("usage: argus-bench storage|query|remote-write|spans [options]\n".utf8))
    exit(2)
}
