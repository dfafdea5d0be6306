import ArgusModel
import ArgusStorage
import Foundation
import Logging
import ServiceLifecycle

public struct RuleManagerOptions: Sendable {
    /// Evaluation interval of groups that set none (Prometheus' `evaluation_interval`).
    public var defaultIntervalMs: Int64 = 60_000
    public var externalLabels = Labels()
    /// The URL Argus is reached at, for alerts' `generatorURL` and `$externalURL`.
    public var externalURL = ""
    /// Rule files or directories of rule files.
    public var paths: [String] = []

    public init() {}
}

/// Loads rule files, evaluates every group on its interval (a task per group), stores
/// recording rule output and `ALERTS`/`ALERTS_FOR_STATE`, persists alert state in the catalog
/// and hands alerts to the notifier.
///
/// Reload (`reload()`, on SIGHUP and `POST /-/reload`) re-reads the files; a file with errors
/// is reported with file:line and its previous groups keep running.
public final class RuleManager: Service, Sendable {
    struct State {
        var groups: [RuleGroup] = []
        var generation = 0
        /// Alerts read back from the catalog at start, consumed by the first load.
        var restored: [String: [String: [Alert]]] = [:]
        /// What was last persisted per group (to write only on change).
        var persisted: [String: [String]] = [:]
        var lastReloadErrors: [RuleFileError] = []
        var lastReloadSuccess = true
    }

    let state = LockedBox(State())
    let store: MetricStore?
    let query: RuleQueryFuncs
    let stateStore: RulesStateStore?
    public let notifier: Notifier?
    public let options: RuleManagerOptions
    let logger: Logger

    public init(store: MetricStore?, query: RuleQueryFuncs, stateStore: RulesStateStore?, notifier: Notifier?,
                options: RuleManagerOptions, logger: Logger) {
        self.store = store
        self.query = query
        self.stateStore = stateStore
        self.notifier = notifier
        self.options = options
        self.logger = logger
        if let stateStore {
            do {
                let restored = try stateStore.loadAlerts()
                state.withLock { $0.restored = restored }
            } catch {
                logger.error("cannot read persisted alert state; alerts start afresh", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Re-reads the rule files. Returns the problems found (empty when every file loaded);
    /// files with problems keep their previous groups.
    @discardableResult
    public func reload() -> [RuleFileError] {
        var files: [String] = []
        for p in options.paths { files += RuleFileLoader.files(in: p) }
        var errors: [RuleFileError] = []
        var loaded: [String: [RuleGroupSpec]] = [:]
        for f in files {
            do {
                let groups = try RuleFileLoader.load(path: f)
                if query.logql == nil, let g = groups.first(where: { $0.language == .logql }) {
                    throw RuleFileErrors([RuleFileError(file: f, line: g.line, column: 0,
                        "group \"\(g.name)\": language logql needs the LogQL engine, which this build of Argus does not have yet; the file is not loaded")])
                }
                loaded[f] = groups
            } catch let e as RuleFileErrors {
                errors += e.errors
            } catch {
                errors.append(RuleFileError(file: f, "\(error)"))
            }
        }
        let failedFiles = Set(errors.map(\.file))
        state.withLock { s in
            var next: [RuleGroup] = []
            for f in files {
                if failedFiles.contains(f) {
                    next += s.groups.filter { $0.spec.file == f }
                    continue
                }
                for spec in loaded[f] ?? [] {
                    var g = RuleGroup(spec: spec, defaultIntervalMs: options.defaultIntervalMs)
                    if let old = s.groups.first(where: { $0.key == g.key }) {
                        g.inherit(from: old)
                    } else if let persisted = s.restored[g.key] {
                        for i in g.rules.indices {
                            if let alerts = persisted[g.rules[i].spec.name] { g.rules[i].state?.restore(alerts) }
                        }
                    }
                    next.append(g)
                }
            }
            s.restored = [:]
            s.groups = next
            s.generation += 1
            s.lastReloadErrors = errors
            s.lastReloadSuccess = errors.isEmpty
        }
        for e in errors { logger.error("rule file error; its previous rules keep running", metadata: ["error": "\(e)"]) }
        return errors
    }

    /// A snapshot of the groups for the API.
    public var groups: [RuleGroup] { state.withLock { $0.groups } }

    public var lastReloadErrors: [RuleFileError] { state.withLock { $0.lastReloadErrors } }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let (generation, keys) = state.withLock { s in (s.generation, s.groups.map(\.key)) }
            await withTaskGroup(of: Void.self) { tasks in
                for k in keys { tasks.addTask { await self.runGroup(k, generation: generation) } }
                tasks.addTask {
                    // Ends this round on reload (a new generation) or shutdown.
                    _ = try? await cancelWhenGracefulShutdown {
                        while self.state.withLock({ $0.generation }) == generation {
                            try await Task.sleep(for: .milliseconds(200))
                        }
                    }
                }
                await tasks.next()
                tasks.cancelAll()
            }
            if Task.isShuttingDownGracefully { break }
        }
    }

    func runGroup(_ key: String, generation: Int) async {
        guard let interval = state.withLock({ s in s.groups.first { $0.key == key }?.intervalMs }) else { return }
        while !Task.isCancelled {
            let start = TimeUtil.nowMillis()
            await evaluateGroup(key, generation: generation, at: start)
            let wait = start + interval - TimeUtil.nowMillis()
            if wait > 0 {
                do { try await Task.sleep(for: .milliseconds(wait)) } catch { return }
            }
        }
    }

    /// Evaluates one group at `ts` now: stores its samples, persists its alerts, notifies.
    public func evaluateGroup(_ key: String, generation: Int? = nil, at ts: Int64) async {
        guard var g = state.withLock({ s -> RuleGroup? in
            if let generation, s.generation != generation { return nil }
            return s.groups.first { $0.key == key }
        }) else { return }
        let store = self.store
        let logger = self.logger
        let groupName = g.spec.name
        await g.evaluate(at: ts, query: query, externalLabels: options.externalLabels, externalURL: options.externalURL) { samples, stale, ts in
            guard let store else { return }
            do {
                _ = try await runBlocking {
                    let app = store.appender()
                    for (l, v) in samples { _ = try? app.append(l, ts, v) }
                    for l in stale { _ = try? app.append(l, ts, StaleNaN.value) }
                    return try app.commit(skipInvalid: true)
                }
            } catch {
                logger.error("storing rule results failed", metadata: ["group": "\(groupName)", "error": "\(error)"])
            }
        }
        let stored = state.withLock { s -> Bool in
            if let generation, s.generation != generation { return false }
            guard let i = s.groups.firstIndex(where: { $0.key == key }) else { return false }
            s.groups[i] = g
            return true
        }
        guard stored else { return }
        await persist(g)
        if let notifier { notifier.receive(notifierAlerts(g, at: ts)) }
    }

    func persist(_ g: RuleGroup) async {
        guard let stateStore else { return }
        var rows: [(rule: String, alert: Alert)] = []
        var signature: [String] = []
        for r in g.rules {
            for a in r.state?.alerts ?? [] {
                rows.append((r.spec.name, a))
                signature.append("\(r.spec.name)|\(a.fingerprint)|\(a.state)|\(a.activeAt)|\(a.firedAt)|\(a.resolvedAt)|\(a.keepFiringSince)")
            }
        }
        let changed = state.withLock { s -> Bool in
            if s.persisted[g.key] == signature { return false }
            s.persisted[g.key] = signature
            return true
        }
        guard changed else { return }
        let key = g.key
        let snapshot = rows
        do { try await runBlocking { try stateStore.saveGroup(key, alerts: snapshot) } } catch {
            state.withLock { $0.persisted[g.key] = nil }
            logger.error("cannot persist alert state", metadata: ["group": "\(g.spec.name)", "error": "\(error)"])
        }
    }

    /// Firing and resolved alerts of a group in the notifier's form (pending ones are not sent).
    public func notifierAlerts(_ g: RuleGroup, at ts: Int64) -> [NotifierAlert] {
        var out: [NotifierAlert] = []
        let validFor = 4 * max(g.intervalMs, 60_000)
        for r in g.rules {
            let url = generatorURL(r.spec.expr)
            for a in r.state?.alerts ?? [] where a.state != .pending {
                var l = a.labels
                for item in options.externalLabels.items where l[item.name] == nil { l = l.setting(item.name, item.value) }
                let ends = a.state == .inactive ? a.resolvedAt : ts + validFor
                out.append(NotifierAlert(labels: l, annotations: a.annotations, startsAt: a.firedAt != 0 ? a.firedAt : a.activeAt,
                                         endsAt: ends, generatorURL: url))
            }
        }
        return out
    }

    public func generatorURL(_ expr: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-_.~")
        let q = expr.addingPercentEncoding(withAllowedCharacters: allowed)?.replacingOccurrences(of: "%20", with: "+") ?? ""
        return options.externalURL + "/graph?g0.expr=" + q + "&g0.tab=1"
    }
}
