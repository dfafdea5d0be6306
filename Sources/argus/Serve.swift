import ArgumentParser
import ArgusColumnar
import ArgusIngest
import ArgusModel
import ArgusQuery
import ArgusServer
import ArgusStorage
import Foundation
import Logging
import ServiceLifecycle

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the collector: ingest, storage and the query APIs on one port."
    )

    @Option(name: .customLong("data-dir"), help: "Directory for the WAL, blocks and catalog.")
    var dataDir = "./data"

    @Option(help: "Address to listen on, HOST:PORT (port 0 picks a free port).")
    var listen = "127.0.0.1:4318"

    @Option(name: .customLong("block-duration"), help: "Head cut period and smallest block window (a Prometheus duration).")
    var blockDuration = "2h"

    @Option(help: "Drop data older than this behind the newest sample (a Prometheus duration, e.g. 15d, 10y).")
    var retention = "15d"

    @Option(name: .customLong("retention-size"), help: "Drop the oldest blocks while blocks take more than this (e.g. 512MB, 10GB); 0 for no limit.")
    var retentionSize = "0"

    @Option(name: .customLong("out-of-order-window"), help: "Accept samples this far behind a series' newest sample (0 rejects them).")
    var outOfOrderWindow = "0s"

    @Option(name: .customLong("ingest.max-body"), help: "Largest request body accepted (e.g. 20MiB).")
    var maxBody = "20MiB"

    @Option(name: .customLong("scrape-config"), help: "A file with Prometheus scrape_configs: targets to scrape.")
    var scrapeConfig: String?

    @Option(name: .customLong("limits.max-series"), help: "Most series the store holds; new series beyond it are rejected (0: no limit).")
    var maxSeries = 0

    @Option(name: .customLong("limits.max-series-per-metric"), help: "Most series one metric name may have (0: no limit).")
    var maxSeriesPerMetric = 0

    @Option(name: .customLong("limits.max-labels-per-series"), help: "Most labels a series may have.")
    var maxLabels = 64

    @Option(name: .customLong("limits.max-label-name-length"), help: "Longest label name, in bytes.")
    var maxLabelNameLength = 1024

    @Option(name: .customLong("limits.max-label-value-length"), help: "Longest label value, in bytes.")
    var maxLabelValueLength = 16 * 1024

    @Option(name: .customLong("limits.max-future"), help: "How far ahead of now a sample's timestamp may be.")
    var maxFuture = "10m"

    @Option(name: .customLong("self-scrape-interval"), help: "How often Argus writes its own metrics into its store (job \"argus\"); 0s turns it off.")
    var selfScrapeInterval = "15s"

    @Option(name: .customLong("query.max-samples"), help: "Most samples one query may load into memory.")
    var queryMaxSamples = 50_000_000

    @Option(name: .customLong("query.timeout"), help: "Longest a query may run (a Prometheus duration).")
    var queryTimeout = "2m"

    @Option(name: .customLong("query.lookback-delta"), help: "How far back an instant selector looks for a sample.")
    var lookbackDelta = "5m"

    @Option(name: .customLong("ingest.max-inflight-bytes"), help: "Request bytes that may be in flight on ingest paths; more get 503 with Retry-After.")
    var maxInflight = "256MiB"

    @Option(name: .customLong("storage.cache-size"), help: "Memory for decompressed block data shared by queries (e.g. 256MiB; 0 turns the cache off).")
    var cacheSize = "256MiB"

    @Option(name: .customLong("memory.budget"), help: "Resident memory budget (e.g. 2GiB); from 75% of it the head is cut early, from 90% ingest answers 503 with Retry-After; queries go on. 0: no budget.")
    var memoryBudget = "0"

    @Option(help: "Directory (or file) of Prometheus rule files (default: alerts/ when it exists).")
    var rules: String?

    @Option(name: .customLong("rules.evaluation-interval"), help: "Evaluation interval of rule groups that set none.")
    var evaluationInterval = "1m"

    @Option(name: .customLong("alerting-config"), help: "Notifier configuration in Alertmanager's format (route, receivers with webhook_configs, inhibit_rules).")
    var alertingConfig: String?

    @Option(name: .customLong("external-url"), help: "The URL Argus is reached at, for alerts' generatorURL and webhooks' externalURL (default http://LISTEN).")
    var externalURL: String?

    @Option(name: .customLong("alertmanager-url"), help: "Also send alerts to this Alertmanager's /api/v2/alerts.")
    var alertmanagerURL: String?

    @OptionGroup var logOptions: LogStoreFlags

    @Option(name: .customLong("spanmetrics-interval"), help: "How often span metrics and the service graph (traces_spanmetrics_*, traces_service_graph_*) are written into the metric store; 0s turns them off.")
    var spanMetricsInterval = "15s"

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel = "info"

    func run() async throws {
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = level
            return h
        }
        let logger = Logger(label: "argus")
        var storage = StorageOptions(dataDir: dataDir)
        do {
            storage.blockDuration = try PromDuration.parseMillis(blockDuration)
            storage.retention = try PromDuration.parseMillis(retention)
            storage.outOfOrderWindow = try PromDuration.parseMillis(outOfOrderWindow)
        } catch let e as ArgusError {
            throw ValidationError(e.message)
        }
        guard storage.blockDuration >= 1000 else { throw ValidationError("--block-duration must be at least 1s") }
        guard storage.retention > 0 else { throw ValidationError("--retention must be positive") }
        guard let rs = parseBytes(retentionSize) else { throw ValidationError("--retention-size: cannot read \"\(retentionSize)\" as a size such as 512MB or 10GiB") }
        storage.retentionSize = rs
        guard maxSeries >= 0, maxSeriesPerMetric >= 0, maxLabels > 0, maxLabelNameLength > 0, maxLabelValueLength > 0 else {
            throw ValidationError("--limits.* values must be positive (0 turns the series limits off)")
        }
        storage.maxSeries = maxSeries
        storage.maxSeriesPerMetric = maxSeriesPerMetric
        var server = ServerOptions()
        guard let mb = parseBytes(maxBody), mb > 0 else { throw ValidationError("--ingest.max-body: cannot read \"\(maxBody)\" as a size") }
        server.maxBodyBytes = Int(mb)
        guard let mi = parseBytes(maxInflight), mi > 0 else { throw ValidationError("--ingest.max-inflight-bytes: cannot read \"\(maxInflight)\" as a size") }
        server.maxInflightBytes = Int(mi)
        guard let budget = parseBytes(memoryBudget) else { throw ValidationError("--memory.budget: cannot read \"\(memoryBudget)\" as a size such as 2GiB") }
        server.memoryBudget = Int(budget)
        guard let cache = parseBytes(cacheSize) else { throw ValidationError("--storage.cache-size: cannot read \"\(cacheSize)\" as a size such as 256MiB") }
        // Under a memory budget the block cache takes at most an eighth of it.
        GranuleCache.shared.capacityBytes = budget > 0 ? min(Int(cache), Int(budget) / 8) : Int(cache)
        server.ingestLimits.maxLabelsPerSeries = maxLabels
        server.ingestLimits.maxLabelNameLength = maxLabelNameLength
        server.ingestLimits.maxLabelValueLength = maxLabelValueLength
        do { server.ingestLimits.maxFuture = try PromDuration.parseMillis(maxFuture) } catch { throw ValidationError("--limits.max-future: \(error)") }
        do {
            (server.host, server.port) = try ServerOptions.parseListen(listen)
        } catch {
            throw ValidationError("\(error)")
        }

        var jobs: [ScrapeJob] = []
        if let scrapeConfig {
            do { jobs = try ScrapeConfigLoader.load(path: scrapeConfig) } catch { throw fatal("\(error)") }
        }
        let store: MetricStore
        do {
            store = try MetricStore(options: storage, logger: logger)
        } catch {
            throw fatal("cannot open the data directory \(dataDir): \(error)")
        }
        let spanMetricsMs: Int64
        do { spanMetricsMs = try PromDuration.parseMillis(spanMetricsInterval) } catch { throw ValidationError("--spanmetrics-interval: \(error)") }
        let spanStore: SpanStore
        let spanIngester: OTLPSpanIngester
        do {
            spanStore = try SpanStore(options: storage, logger: logger)
            spanIngester = OTLPSpanIngester(store: spanStore, metrics: spanMetricsMs > 0 ? SpanMetrics(store: store, logger: logger) : nil)
            try spanIngester.importSignalLog(dir: dataDir + "/signals/traces", logger: logger)
        } catch {
            throw fatal("cannot open the span store under \(dataDir)/traces: \(error)")
        }
        let logs = try openLogStore(storage, sharing: store, logger: logger)
        let host = server.host
        let selfScrapeMs: Int64
        do { selfScrapeMs = try PromDuration.parseMillis(selfScrapeInterval) } catch { throw ValidationError("--self-scrape-interval: \(error)") }
        let boundAddress = LockedBox("\(host):\(server.port)")
        var engineOptions = PromQLEngineOptions()
        do {
            guard queryMaxSamples > 0 else { throw ValidationError("--query.max-samples must be positive") }
            engineOptions.maxSamples = queryMaxSamples
            engineOptions.timeout = Double(try PromDuration.parseMillis(queryTimeout)) / 1000
            engineOptions.lookbackDelta = try PromDuration.parseMillis(lookbackDelta)
        } catch let e as ArgusError {
            throw ValidationError(e.message)
        }
        let engine = PromQLEngine(options: engineOptions)
        let logEngine = LogQLEngine(options: logQLOptions())
        var argusServer = ArgusServer(store: store, logs: logs, spans: spanIngester, options: server, engine: engine,
                                      logEngine: logEngine, logger: logger)
        let rulesSetup: RulesSetup?
        do {
            let interval = try PromDuration.parseMillis(evaluationInterval)
            guard interval > 0 else { throw ValidationError("--rules.evaluation-interval must be positive") }
            rulesSetup = try RulesSetup.make(rulesPath: rules, alertingConfig: alertingConfig, externalURL: externalURL ?? "http://\(listen)",
                                             alertmanagerURL: alertmanagerURL, evaluationInterval: interval, store: store, engine: engine,
                                             logs: logs, logEngine: logEngine, logger: logger)
        } catch let e as ValidationError {
            throw e
        } catch {
            throw fatal("\(error)")
        }
        argusServer.rules = rulesSetup?.runtime
        let app = argusServer.application { port in
            boundAddress.withLock { $0 = "\(host):\(port)" }
            logger.notice("listening", metadata: ["address": "\(host):\(port)"])
            // A machine-readable line on stdout for scripts and tests.
            print("argus listening on \(host):\(port)")
            fflush(stdout)
        }
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: app), .init(service: StorageService(store: store, logger: logger)),
            .init(service: StorageService(store: logs, logger: logger)),
            .init(service: StorageService(store: spanStore, logger: logger)),
        ]
        if let m = spanIngester.metrics {
            services.append(.init(service: SpanMetricsService(metrics: m, interval: .milliseconds(spanMetricsMs))))
        }
        if !jobs.isEmpty {
            let scraper = Scraper(store: store, jobs: jobs, logger: logger)
            logger.info("scraping", metadata: ["jobs": "\(jobs.count)", "targets": "\(scraper.targets.count)"])
            services.append(.init(service: scraper))
        }
        if selfScrapeMs > 0 {
            services.append(.init(service: SelfScrape(store: store, registry: argusServer.monitoring.registry,
                                                      interval: .milliseconds(selfScrapeMs),
                                                      instance: { boundAddress.withLock { $0 } }, logger: logger)))
        }
        for service in rulesSetup?.services ?? [] { services.append(.init(service: service)) }
        let group = ServiceGroup(
            configuration: .init(
                services: services,
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
        rulesSetup?.signalSource.cancel()
        logs.close()
        if let m = spanIngester.metrics { try? m.flush() }
        spanStore.close()
        store.close()
        logger.notice("stopped")
    }
}

/// Parses sizes such as 512MB, 10GiB, 1.5GB or a plain number of bytes.
func parseBytes(_ s: String) -> Int64? {
    let units: [(String, Double)] = [
        ("KiB", 1024), ("MiB", 1_048_576), ("GiB", 1_073_741_824), ("TiB", 1_099_511_627_776),
        ("KB", 1e3), ("MB", 1e6), ("GB", 1e9), ("TB", 1e12), ("B", 1),
    ]
    for (u, m) in units where s.hasSuffix(u) {
        guard let n = Double(s.dropLast(u.count)), n >= 0 else { return nil }
        return Int64(n * m)
    }
    guard let n = Int64(s), n >= 0 else { return nil }
    return n
}

/// Prints `argus: message` to standard error and returns the exit code to throw (1).
func fatal(_ message: String) -> ExitCode {
    FileHandle.standardError.write(Data(("argus: " + message + "\n").utf8))
    return ExitCode.failure
}
