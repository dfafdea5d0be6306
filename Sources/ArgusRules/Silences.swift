import ArgusModel
import ArgusStorage
import Foundation
import GRDB

/// An Alertmanager silence: alerts whose labels match every matcher are not notified while it
/// is active (startsAt ≤ now < endsAt).
public struct Silence: Sendable {
    public var id: String
    public var matchers: [Matcher]
    public var startsAt: Int64
    public var endsAt: Int64
    public var updatedAt: Int64
    public var createdBy: String
    public var comment: String

    public init(id: String = "", matchers: [Matcher], startsAt: Int64, endsAt: Int64, updatedAt: Int64 = 0, createdBy: String, comment: String) {
        self.id = id
        self.matchers = matchers
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.updatedAt = updatedAt
        self.createdBy = createdBy
        self.comment = comment
    }

    /// `pending`, `active` or `expired`, as Alertmanager names them.
    public func state(at now: Int64) -> String {
        if endsAt <= now { return "expired" }
        if startsAt > now { return "pending" }
        return "active"
    }

    public func mutes(_ labels: Labels, at now: Int64) -> Bool {
        state(at: now) == "active" && matchers.allSatisfy { $0.matches(labels.value($0.name)) }
    }
}

/// The silences, kept in memory and in the catalog (table `silences`, migration "rules-v1").
public final class SilenceStore: Sendable {
    let state: RulesStateStore?
    let silences: LockedBox<[String: Silence]>

    public init(state: RulesStateStore?) throws {
        self.state = state
        var all: [String: Silence] = [:]
        for s in try state?.loadSilences() ?? [] { all[s.id] = s }
        silences = LockedBox(all)
    }

    /// Creates a silence (or replaces the one with the same id); returns its id.
    @discardableResult
    public func add(_ s: Silence, now: Int64 = TimeUtil.nowMillis()) throws -> String {
        guard !s.matchers.isEmpty else { throw ArgusError(.badInput, "silence invalid: at least one matcher must be given") }
        guard s.endsAt > s.startsAt else { throw ArgusError(.badInput, "silence invalid: end time must not be before start time") }
        guard s.endsAt > now else { throw ArgusError(.badInput, "silence invalid: end time can't be in the past") }
        if s.matchers.allSatisfy({ $0.matchesEmpty }) {
            throw ArgusError(.badInput, "silence invalid: at least one matcher must not match the empty string")
        }
        var silence = s
        if silence.id.isEmpty { silence.id = UUID().uuidString.lowercased() } else if silences.withLock({ $0[silence.id] }) == nil {
            throw ArgusError(.notFound, "silence \(silence.id) not found")
        }
        silence.updatedAt = now
        try state?.saveSilence(silence)
        silences.withLock { $0[silence.id] = silence }
        return silence.id
    }

    /// Ends a silence now. Throws `.notFound` for an unknown id.
    public func expire(_ id: String, now: Int64 = TimeUtil.nowMillis()) throws {
        guard var s = silences.withLock({ $0[id] }) else { throw ArgusError(.notFound, "silence \(id) not found") }
        if s.state(at: now) == "expired" { throw ArgusError(.badInput, "silence \(id) already expired") }
        s.endsAt = now
        if s.startsAt > now { s.startsAt = now }
        s.updatedAt = now
        try state?.saveSilence(s)
        silences.withLock { $0[id] = s }
    }

    public func list() -> [Silence] {
        silences.withLock { Array($0.values) }.sorted { $0.endsAt > $1.endsAt }
    }

    public func isSilenced(_ labels: Labels, at now: Int64) -> Bool {
        silences.withLock { all in all.values.contains { $0.mutes(labels, at: now) } }
    }
}

extension RulesStateStore {
    func saveSilence(_ s: Silence) throws {
        try db.write { db in
            try db.execute(sql: """
                INSERT OR REPLACE INTO silences(id, matchers, starts_at, ends_at, updated_at, created_by, comment)
                VALUES (?,?,?,?,?,?,?)
                """, arguments: [s.id, "{" + s.matchers.map(\.description).joined(separator: ",") + "}", s.startsAt, s.endsAt,
                                 s.updatedAt, s.createdBy, s.comment])
        }
    }

    func loadSilences() throws -> [Silence] {
        try db.read { db in
            try Row.fetchAll(db, sql: "SELECT id, matchers, starts_at, ends_at, updated_at, created_by, comment FROM silences").compactMap { r in
                let text: String = r[1]
                guard let ms = try? SelectorParser.parse(text) else { return nil }
                return Silence(id: r[0], matchers: ms, startsAt: r[2], endsAt: r[3], updatedAt: r[4], createdBy: r[5], comment: r[6])
            }
        }
    }
}
