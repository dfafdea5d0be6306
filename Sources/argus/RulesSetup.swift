import ArgusModel
import ArgusQuery
import ArgusRules
import ArgusServer
import ArgusStorage
import Dispatch
import Foundation
import Logging
import ServiceLifecycle

/// Wires the rule engine for `argus serve`: the rule manager over the store, the notifier from
/// `--alerting-config`, state in the catalog, and reload on SIGHUP.
struct RulesSetup {
    let runtime: RulesRuntime
    let services: [any Service]
    /// Keeps the SIGHUP handler alive while the server runs.
    let signalSource: DispatchSourceSignal

    /// Returns nil when there are no rules to run (no `--rules` and no `alerts/` directory).
    static func make(rulesPath: String?, alertingConfig: String?, externalURL: String, alertmanagerURL: String?,
                     evaluationInterval: Int64, store: MetricStore, engine: PromQLEngine,
                     logs: LogStore? = nil, logEngine: LogQLEngine? = nil, logger: Logger) throws -> RulesSetup? {
        var path = rulesPath
        if path == nil {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: "alerts", isDirectory: &isDir), isDir.boolValue { path = "alerts" }
        }
        guard let path else {
            if alertingConfig != nil { logger.warning("--alerting-config is set but there are no rules (--rules DIR)") }
            return nil
        }
        guard FileManager.default.fileExists(atPath: path) else {
            throw ArgusError(.badInput, "--rules \(path): no such file or directory")
        }
        let stateStore = try RulesStateStore(catalog: store.catalog)
        var config: AlertingConfig? = nil
        if let alertingConfig { config = try AlertingConfig.load(path: alertingConfig) }
        let silences = try SilenceStore(state: stateStore)
        let notifier: Notifier? = config == nil && alertmanagerURL == nil ? nil : Notifier(config: config, store: stateStore, externalURL: externalURL, alertmanagerURL: alertmanagerURL,
                                silences: silences, logger: logger)
        var options = RuleManagerOptions()
        options.paths = [path]
        options.defaultIntervalMs = evaluationInterval
        options.externalURL = externalURL
        var query = RuleQueryFuncs.forPromQL(engine: engine, store: store)
        if let logs, let logEngine {
            // `language: logql` groups: LogQL metric queries over the log store, as Loki's ruler.
            query.logql = { expr, t in
                try logEngine.instantVector(expr, at: t, store: logs).map { RuleSample(labels: $0.labels, value: $0.v) }
            }
        }
        let manager = RuleManager(store: store, query: query, stateStore: stateStore,
                                  notifier: notifier, options: options, logger: logger)
        let errors = manager.reload()
        let groups = manager.groups
        logger.info("rules loaded", metadata: ["path": "\(path)", "groups": "\(groups.count)",
                                               "rules": "\(groups.reduce(0) { $0 + $1.rules.count })", "errors": "\(errors.count)"])
        let reload: @Sendable () async -> [String] = {
            var problems: [String] = []
            if let alertingConfig, let notifier {
                do { notifier.setConfig(try AlertingConfig.load(path: alertingConfig)) } catch {
                    problems.append("\(error)")
                    logger.error("alerting configuration not reloaded; the previous one stays", metadata: ["error": "\(error)"])
                }
            }
            problems += manager.reload().map(\.description)
            return problems
        }
        signal(SIGHUP, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        source.setEventHandler {
            logger.notice("SIGHUP: reloading rules")
            Task { _ = await reload() }
        }
        source.resume()
        var services: [any Service] = [manager]
        if let notifier { services.append(notifier) }
        return RulesSetup(runtime: RulesRuntime(manager: manager, silences: silences, reload: reload), services: services, signalSource: source)
    }
}
