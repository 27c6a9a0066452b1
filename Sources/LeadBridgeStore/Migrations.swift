import FoundationEssentials
import Glibc

/// A numbered, named schema step. Shipped migrations are never edited, only appended; each
/// store has its own list in its own SQL dialect, with the same numbers and names. Data that
/// needs Core to translate (old state words into today's facts) moves in `step`, run after
/// `sql` in the same transaction.
public struct Migration: Sendable {
    public var version: Int
    public var name: String
    public var sql: String
    public var step: (@Sendable (any SQLRunner) throws(StoreError) -> Void)?
    public init(_ version: Int, _ name: String, _ sql: String, step: (@Sendable (any SQLRunner) throws(StoreError) -> Void)? = nil) {
        self.version = version
        self.name = name
        self.sql = sql
        self.step = step
    }
}

/// What runs SQL with bound values on one connection (SQLite or PostgreSQL, each in its own
/// dialect): what a migration's Swift step needs.
public protocol SQLRunner: AnyObject {
    func query(_ sql: String, _ values: [SQLValue]) throws(StoreError) -> [SQLRow]
    @discardableResult
    func run(_ sql: String, _ values: [SQLValue]) throws(StoreError) -> Int
    func exec(_ sql: String) throws(StoreError)
}

/// When opening a store may change its schema.
public enum MigrationPolicy: Sendable {
    /// Bring the schema up to date (SQLite on open; `leadbridge migrate` for every store).
    case apply
    /// Set up an empty database, but leave an older schema to `leadbridge migrate`: on a
    /// shared PostgreSQL database other hosts may still run the previous leadbridge.
    case createOnly
}

/// What a migration run found and did (`leadbridge migrate` prints it).
public struct MigrationReport: Sendable, Equatable {
    public struct Step: Sendable, Equatable {
        public var version: Int
        public var name: String
        public init(version: Int, name: String) { self.version = version; self.name = name }
    }
    /// The schema version before the run (0: an empty database).
    public var from: Int
    public var to: Int
    public var applied: [Step]
    public init(from: Int, to: Int, applied: [Step]) { self.from = from; self.to = to; self.applied = applied }
}

/// What the migrator needs of a connection: the few statements it runs, in the database's
/// own dialect. Migrations are recorded in the table `leadbridge_migrations` (version, name,
/// applied_at) in every store.
protocol MigrationTarget: AnyObject {
    /// The database as it may be printed (a path, a URL without its password).
    var migrationDisplay: String { get }
    /// Holds other migrators off until `endMigrations` (a PostgreSQL advisory lock; SQLite's
    /// write transaction already excludes them).
    func beginMigrations() throws(StoreError)
    func endMigrations()
    /// The recorded migrations, creating the table if needed (and adopting older records).
    func appliedMigrations() throws(StoreError) -> [MigrationReport.Step]
    /// Runs one migration and records it, all in one transaction; false when another process
    /// applied it first (found recorded once the transaction holds the database).
    func apply(_ migration: Migration, at now: Int64) throws(StoreError) -> Bool
}

/// Applies a store's migrations and refuses a database that a newer leadbridge migrated.
enum Migrator {
    static func migrate(_ target: some MigrationTarget, _ migrations: [Migration], policy: MigrationPolicy) throws(StoreError) -> MigrationReport {
        let now = Int64(time(nil))
        try target.beginMigrations()
        defer { target.endMigrations() }
        let applied = try target.appliedMigrations()
        let current = applied.map(\.version).max() ?? 0
        let latest = migrations.map(\.version).max() ?? 0
        if current > latest {
            let newest = applied.first { $0.version == current }?.name ?? "?"
            throw StoreError(.schema, .schemaNewer(store: target.migrationDisplay, version: current, name: newest, known: latest))
        }
        let pending = migrations.sorted { $0.version < $1.version }.filter { m in !applied.contains { $0.version == m.version } }
        guard !pending.isEmpty else { return MigrationReport(from: current, to: current, applied: []) }
        if policy == .createOnly && current > 0 {
            throw StoreError(.schema, .schemaOlder(store: target.migrationDisplay, version: current, needed: latest))
        }
        var done: [MigrationReport.Step] = []
        for m in pending {
            let applied: Bool
            do throws(StoreError) { applied = try target.apply(m, at: now) } catch {
                throw StoreError(error.kind, .migrationFailed(version: m.version, name: m.name, inner: error.problem, detail: error.message), sqlState: error.sqlState)
            }
            if applied { done.append(.init(version: m.version, name: m.name)) }
        }
        return MigrationReport(from: current, to: latest, applied: done)
    }
}
