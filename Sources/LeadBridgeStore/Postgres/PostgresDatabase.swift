import FoundationEssentials
import Glibc
import Synchronization

/// Transaction handle given to `write`/`read` closures: the only way to reach the connection.
/// Parameters are `$1`, `$2`… bound from `values`.
public struct PostgresTransaction: ~Copyable {
    let connection: PostgresConnection

    public func query(_ sql: String, _ values: [SQLValue] = []) throws(StoreError) -> [SQLRow] { try connection.query(sql, values) }
    @discardableResult
    public func run(_ sql: String, _ values: [SQLValue] = []) throws(StoreError) -> Int { try connection.run(sql, values) }
}

/// A PostgreSQL database behind a mutex: one libpq connection, prepared statements, every
/// access inside a transaction closure (the same shape as `SQLiteDatabase`). A connection
/// lost between transactions is re-opened before the next one; one lost inside a transaction
/// fails that transaction with `.unavailable` (rolled back by the server, or — when the
/// COMMIT itself got no answer — of unknown outcome, which the message says).
public final class PostgresDatabase: Sendable {
    let connection: Mutex<PostgresConnection>
    public let location: PostgresLocation
    /// What opening did to the schema.
    public let migrationReport: MigrationReport

    /// `durability`: `normal` → `synchronous_commit = local` (on the server's disk before a
    /// commit returns); `full` → `on` (also on the synchronous standbys, when there are any).
    public static func synchronousCommit(full: Bool) -> String { full ? "on" : "local" }

    public init(location: PostgresLocation, migrations: [Migration], synchronousFull: Bool = false, policy: MigrationPolicy = .createOnly) throws(StoreError) {
        let conn = try PostgresConnection(location: location,
                                          sessionSettings: [("synchronous_commit", Self.synchronousCommit(full: synchronousFull))])
        migrationReport = try Migrator.migrate(conn, migrations, policy: policy)
        self.location = location
        self.connection = Mutex(conn)
    }

    /// Transactions that lose a race to a concurrent one (deadlock, serialization failure)
    /// are run again, up to this many times in all.
    static let attempts = 5

    /// A write transaction: all or nothing. The body may run more than once (after a
    /// deadlock), so it must do nothing outside the transaction.
    @discardableResult
    @_semantics("optimize.sil.specialize.generic.never")
    public func write<T: Sendable>(_ body: (borrowing PostgresTransaction) throws(StoreError) -> T) throws(StoreError) -> T {
        try transaction("BEGIN", body)
    }

    /// A read: one consistent snapshot (repeatable read, read only).
    @_semantics("optimize.sil.specialize.generic.never")
    public func read<T: Sendable>(_ body: (borrowing PostgresTransaction) throws(StoreError) -> T) throws(StoreError) -> T {
        try transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", body)
    }

    @_semantics("optimize.sil.specialize.generic.never")
    private func transaction<T: Sendable>(_ begin: String, _ body: (borrowing PostgresTransaction) throws(StoreError) -> T) throws(StoreError) -> T {
        try connection.withLock { (conn: inout PostgresConnection) throws(StoreError) -> T in
            var attempt = 1
            while true {
                try Self.begin(conn, begin)
                var committing = false
                do throws(StoreError) {
                    let result = try body(PostgresTransaction(connection: conn))
                    committing = true
                    try conn.exec("COMMIT")
                    return result
                } catch {
                    if committing && error.kind == .unavailable {
                        throw StoreError(.unavailable, .commitUnknown(inner: error.problem, detail: error.message))
                    }
                    if !conn.isBroken && conn.inTransaction { try? conn.exec("ROLLBACK") }
                    // A lost race is run again; so is a connection lost mid-transaction (the
                    // server rolled it back), once, on a new connection.
                    let again = (error.kind == .locked && attempt < Self.attempts) || (error.kind == .unavailable && attempt == 1)
                    guard again else { throw error }
                    attempt += 1
                }
            }
        }
    }

    /// BEGIN on a live connection: a connection found dead here had no transaction open, so
    /// it is re-opened once and nothing is lost.
    private static func begin(_ conn: PostgresConnection, _ sql: String) throws(StoreError) {
        try conn.reconnectIfBroken()
        do throws(StoreError) { try conn.exec(sql) } catch {
            guard error.kind == .unavailable else { throw error }
            try conn.connect()
            try conn.exec(sql)
        }
    }

    /// The highest migration applied.
    public var schemaVersion: Int {
        (try? read { (tx: borrowing PostgresTransaction) throws(StoreError) in
            try tx.query("SELECT max(version) AS v FROM leadbridge_migrations").first?.int("v")
        }).flatMap { $0 }.map(Int.init) ?? 0
    }

    /// A session setting as the server sees it (`synchronous_commit`), for tests and `status`.
    public func setting(_ name: String) throws(StoreError) -> String? {
        try read { (tx: borrowing PostgresTransaction) throws(StoreError) in try tx.query("SELECT current_setting($1) AS v", [.text(name)]).first?.text("v") }
    }
}

/// PostgreSQL's side of the migrator: a session advisory lock keeps migrators of several
/// hosts apart, and every migration runs in one transaction with its record.
extension PostgresConnection: MigrationTarget, SQLRunner {
    var migrationDisplay: String { location.display }

    func beginMigrations() throws(StoreError) {
        _ = try query("SELECT pg_advisory_lock($1, hashtext($2))", [.int(Int64(PostgresAdvisoryLock.namespace)), .text("migrations")])
    }

    func endMigrations() {
        _ = try? query("SELECT pg_advisory_unlock($1, hashtext($2))", [.int(Int64(PostgresAdvisoryLock.namespace)), .text("migrations")])
    }

    func appliedMigrations() throws(StoreError) -> [MigrationReport.Step] {
        try exec("CREATE TABLE IF NOT EXISTS leadbridge_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)")
        return try query("SELECT version, name FROM leadbridge_migrations ORDER BY version").map { r in
            MigrationReport.Step(version: Int(r.int("version") ?? 0), name: r.text("name") ?? "")
        }
    }

    func apply(_ migration: Migration, at now: Int64) throws(StoreError) -> Bool {
        try exec("BEGIN")
        do throws(StoreError) {
            try exec(migration.sql)
            if let step = migration.step { try step(self) }
            try run("INSERT INTO leadbridge_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                    [.int(Int64(migration.version)), .text(migration.name), .int(now)])
            try exec("COMMIT")
            return true
        } catch {
            if !isBroken { try? exec("ROLLBACK") }
            throw error
        }
    }
}
