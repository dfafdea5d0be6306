import ArgumentParser

@main
struct Argus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "argus",
        abstract: "Argus: metrics, logs and traces in one binary.",
        subcommands: [Serve.self, Query.self, Logs.self, Traces.self, Trace.self, Dash.self, Rules.self, SilenceCommand.self, Demo.self]
    )
}
