import ArgumentParser
import ArgusIngest
import ArgusModel
import ArgusQuery
import ArgusStorage
import Logging

/// `argus serve` flags of the log store and LogQL.
struct LogStoreFlags: ParsableArguments {
    @Option(name: .customLong("logs.max-entries-limit"), help: "Most log lines one LogQL query may return (Loki's max_entries_limit_per_query).")
    var maxEntries = 5000

    @Option(name: .customLong("logs.max-query-series"), help: "Most series one LogQL metric query may produce.")
    var maxSeries = 500

    @Option(name: .customLong("logs.max-query-bytes"), help: "Most log line bytes one LogQL query may read (e.g. 10GB); 0 for no limit.")
    var maxBytes = "0"

    @Option(name: .customLong("logs.max-streams"), help: "Most log streams the store holds (0: no limit).")
    var maxStreams = 0
}

extension Serve {
    func logQLOptions() -> LogQLEngineOptions {
        var o = LogQLEngineOptions()
        o.maxEntriesLimit = logOptions.maxEntries
        o.maxSeries = logOptions.maxSeries
        o.maxBytesRead = Int(parseBytes(logOptions.maxBytes) ?? 0)
        return o
    }

    /// Opens the log store under `<data-dir>/logs` with the metric store's life cycle settings,
    /// and moves logs accepted before the log store existed (`signals/logs`) into it once.
    func openLogStore(_ storage: StorageOptions, sharing store: MetricStore, logger: Logger) throws -> LogStore {
        guard logOptions.maxEntries > 0, logOptions.maxSeries > 0, logOptions.maxStreams >= 0 else {
            throw ValidationError("--logs.* limits must be positive")
        }
        guard parseBytes(logOptions.maxBytes) != nil else { throw ValidationError("--logs.max-query-bytes: cannot read \"\(logOptions.maxBytes)\" as a size") }
        var options = LogStoreOptions(storage: storage)
        options.maxStreams = logOptions.maxStreams
        let logs: LogStore
        do {
            logs = try LogStore(options: options, sharingCatalogOf: store, logger: logger)
        } catch {
            throw fatal("cannot open the log store under \(options.dir): \(error)")
        }
        do {
            let n = try OTLPLogIngester(store: logs).importSignalLog(dir: storage.dataDir + "/signals/logs")
            if n > 0 { logger.notice("imported logs from the old signal log into the log store", metadata: ["records": "\(n)"]) }
        } catch {
            throw fatal("\(error)")
        }
        return logs
    }
}
