import ArgusModel
import Foundation
import GRDB

/// What the catalog records about one block.
public struct BlockMeta: Sendable, Equatable {
    public var id: String
    public var kind: String
    public var minT: Int64
    public var maxT: Int64
    public var series: Int
    public var samples: Int
    public var bytes: Int
    public var version: Int
    public var level: Int

    public init(id: String, kind: String, minT: Int64, maxT: Int64, series: Int, samples: Int, bytes: Int, version: Int, level: Int) {
        self.id = id
        self.kind = kind
        self.minT = minT
        self.maxT = maxT
        self.series = series
        self.samples = samples
        self.bytes = bytes
        self.version = version
        self.level = level
    }
}

/// The SQLite catalog (through GRDB): series identities, block metadata and small state.
///
/// It is the source of truth for which blocks are visible: a block directory the catalog does
/// not list is debris from an interrupted flush or compaction and is removed at start.
public final class Catalog: @unchecked Sendable {
    let db: DatabaseQueue
    public let path: String

    public init(path: String) throws {
        self.path = path
        var config = Configuration()
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        do {
            db = try DatabaseQueue(path: path, configuration: config)
            try migrate()
        } catch {
            throw ArgusError(.io, "cannot open the catalog \(path)", cause: error)
        }
    }

    /// The catalog's database, for modules that keep their own small state in it (each with
    /// its own GRDB migrations, identified uniquely, e.g. "rules-v1").
    public var database: DatabaseQueue { db }

    func migrate() throws {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE series (ref INTEGER PRIMARY KEY, labels BLOB NOT NULL);
                CREATE TABLE blocks (
                    id TEXT PRIMARY KEY, kind TEXT NOT NULL, min_t INTEGER NOT NULL, max_t INTEGER NOT NULL,
                    series INTEGER NOT NULL, samples INTEGER NOT NULL, bytes INTEGER NOT NULL,
                    version INTEGER NOT NULL, level INTEGER NOT NULL);
                CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                """)
        }
        try m.migrate(db)
    }

    public func loadSeries() throws -> [(SeriesRef, Labels)] {
        try db.read { db in
            var out: [(SeriesRef, Labels)] = []
            let rows = try Row.fetchCursor(db, sql: "SELECT ref, labels FROM series ORDER BY ref")
            while let row = try rows.next() {
                let ref: Int64 = row[0]
                let blob: Data = row[1]
                out.append((SeriesRef(ref), try LabelsCoding.decode([UInt8](blob))))
            }
            return out
        }
    }

    public func loadBlocks(kind: String) throws -> [BlockMeta] {
        try db.read { db in
            try Row.fetchAll(db, sql: "SELECT id, kind, min_t, max_t, series, samples, bytes, version, level FROM blocks WHERE kind = ? ORDER BY min_t, id", arguments: [kind]).map {
                BlockMeta(id: $0[0], kind: $0[1], minT: $0[2], maxT: $0[3], series: $0[4], samples: $0[5], bytes: $0[6], version: $0[7], level: $0[8])
            }
        }
    }

    public func meta(_ key: String) throws -> String? {
        try db.read { db in try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [key]) }
    }

    public func setMeta(_ key: String, _ value: String) throws {
        try db.write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", arguments: [key, value])
        }
    }

    /// One transaction: new series, added blocks, removed blocks and meta changes become
    /// visible together or not at all.
    public func commit(series: [(SeriesRef, Labels)] = [], add: [BlockMeta] = [], remove: [String] = [], meta: [String: String] = [:]) throws {
        try db.write { db in
            for (ref, labels) in series {
                try db.execute(sql: "INSERT OR IGNORE INTO series(ref, labels) VALUES (?, ?)",
                               arguments: [Int64(ref), Data(LabelsCoding.encode(labels))])
            }
            for b in add {
                try db.execute(sql: "INSERT INTO blocks(id, kind, min_t, max_t, series, samples, bytes, version, level) VALUES (?,?,?,?,?,?,?,?,?)",
                               arguments: [b.id, b.kind, b.minT, b.maxT, b.series, b.samples, b.bytes, b.version, b.level])
            }
            for id in remove {
                try db.execute(sql: "DELETE FROM blocks WHERE id = ?", arguments: [id])
            }
            for (k, v) in meta {
                try db.execute(sql: "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", arguments: [k, v])
            }
        }
    }
}
