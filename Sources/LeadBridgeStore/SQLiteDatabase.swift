import CSQLite
import FoundationEssentials
import Glibc
import Synchronization

/// A value bound to or read from SQLite. Every statement binds its parameters: no SQL is ever
/// built from data.
public enum SQLValue: Sendable, Hashable {
    case null
    case int(Int64)
    case double(Double)
    case text(String)
    case blob([UInt8])

    public var int: Int64? { if case .int(let i) = self { return i } else { return nil } }
    public var text: String? {
        switch self {
        case .text(let t): return t
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        default: return nil
        }
    }
    public var blob: [UInt8]? { if case .blob(let b) = self { return b } else if case .text(let t) = self { return Array(t.utf8) } else { return nil } }

    public static func opt(_ s: String?) -> SQLValue { s.map(SQLValue.text) ?? .null }
    public static func opt(_ i: Int64?) -> SQLValue { i.map(SQLValue.int) ?? .null }
}

/// A store failure, in words an operator can act on. Never contains bound values (lead
/// data, tokens): only what failed and where.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case notADatabase = "not-a-database", locked, readOnly = "read-only", io, constraint, schema, misuse
        /// The store's settings are wrong (a PostgreSQL URL libpq cannot read).
        case config
        /// The database server cannot be reached or the connection was lost: retry later.
        case unavailable
    }
    public var kind: Kind
    public var message: String
    /// What failed, as a value (worded by the edges), when this is a failure an operator meets.
    public var problem: StoreProblem?
    /// PostgreSQL's five-character error code, when the server gave one.
    public var sqlState: String?
    public init(_ kind: Kind, _ message: String, sqlState: String? = nil) { self.kind = kind; self.message = message; self.sqlState = sqlState }
    public init(_ kind: Kind, _ problem: StoreProblem, sqlState: String? = nil) {
        self.init(kind, problem.english, sqlState: sqlState)
        self.problem = problem
    }
    public var description: String { message }
}

/// One row of a result, by column name.
public struct SQLRow: Sendable {
    /// The result's column names, one instance for all its rows.
    public let columns: SQLColumns
    /// The values in column order.
    public var values: [SQLValue]

    public init(columns: SQLColumns, values: [SQLValue]) {
        self.columns = columns
        self.values = values
    }

    public subscript(_ name: String) -> SQLValue { columns.index[name].map { self[at: $0] } ?? .null }
    /// The value of the column at `position` (a query whose column list the reader wrote).
    public subscript(at position: Int) -> SQLValue { position < values.count ? values[position] : .null }
    public func text(_ n: String) -> String? { self[n].text }
    public func int(_ n: String) -> Int64? { self[n].int }
}

/// The column names of a query's result, shared by all its rows: a row is its values in column
/// order (no dictionary built per row), read by position or by name through one index.
public final class SQLColumns: Sendable {
    public let names: [String]
    let index: [String: Int]

    public init(_ names: [String]) {
        self.names = names
        // A repeated name means its last column (as a row dictionary would).
        var index: [String: Int] = [:]
        for (i, n) in names.enumerated() { index[n] = i }
        self.index = index
    }
}

/// The raw connection: confined to the database's mutex, never shared outside it.
final class SQLiteConnection: SQLRunner {
    let db: OpaquePointer
    let path: String
    var statements: [String: Statement] = [:]
    /// Takes checkpoints off this connection's commits when set (the receiver's writer).
    var checkpointer: SQLiteCheckpointer?
    /// The leads `LedgerWriter.find` read, kept while they stay as stored.
    let leadCache = SQLiteLeadCache()
    /// The schema version the file had once opened (its migrations run): which layout the
    /// writer and the readers use where versions differ (`SQLiteSchema.pollQueue`, `journalChain`).
    var schemaVersion = 0

    /// A prepared statement with its result's column names, read once (the receiver reads one
    /// lead per query: names and their index built per query cost as much as the row), and
    /// again only when SQLite prepared the statement again (a schema change).
    struct Statement {
        let handle: OpaquePointer
        var columns: SQLColumns
        var reprepared: Int32
    }

    init(db: OpaquePointer, path: String) {
        self.db = db
        self.path = path
        leadCache.watch(db)
    }

    deinit {
        sqlite3_update_hook(db, nil, nil)
        for s in statements.values { sqlite3_finalize(s.handle) }
        sqlite3_close_v2(db)
    }

    func error(_ code: Int32, _ what: String) -> StoreError {
        let msg = String(cString: sqlite3_errmsg(db))
        switch code & 0xFF {
        case SQLITE_NOTADB, SQLITE_CORRUPT:
            return StoreError(.notADatabase, .notADatabase(path: path, detail: msg))
        case SQLITE_BUSY, SQLITE_LOCKED:
            return StoreError(.locked, .locked(path: path, what: what))
        case SQLITE_READONLY:
            return StoreError(.readOnly, .readOnly(path: path, detail: msg))
        case SQLITE_CONSTRAINT:
            return StoreError(.constraint, "\(what): \(msg)")
        case SQLITE_CANTOPEN, SQLITE_IOERR, SQLITE_FULL, SQLITE_PERM:
            return StoreError(.io, "\(path): \(msg) (\(what))")
        default:
            return StoreError(.misuse, "\(what): \(msg)")
        }
    }

    func prepare(_ sql: String) throws(StoreError) -> OpaquePointer {
        try prepared(sql).handle
    }

    func prepared(_ sql: String) throws(StoreError) -> Statement {
        if let s = statements[sql] {
            sqlite3_reset(s.handle)
            sqlite3_clear_bindings(s.handle)
            return s
        }
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v2(db, sql, -1, &stmt, nil)
        guard rc == SQLITE_OK, let stmt else { throw error(rc, "preparing a statement") }
        let s = Statement(handle: stmt, columns: Self.columns(stmt), reprepared: sqlite3_stmt_status(stmt, SQLITE_STMTSTATUS_REPREPARE, 0))
        statements[sql] = s
        return s
    }

    static func columns(_ stmt: OpaquePointer) -> SQLColumns {
        SQLColumns((0..<sqlite3_column_count(stmt)).map { String(cString: sqlite3_column_name(stmt, $0)) })
    }

    /// The statement's columns as they are now: SQLite prepares a statement again after a
    /// schema change (`SELECT *` of an altered table) inside a step, and counts it.
    func columns(of sql: String, _ s: Statement) -> SQLColumns {
        let reprepared = sqlite3_stmt_status(s.handle, SQLITE_STMTSTATUS_REPREPARE, 0)
        guard reprepared != s.reprepared else { return s.columns }
        let columns = Self.columns(s.handle)
        statements[sql] = Statement(handle: s.handle, columns: columns, reprepared: reprepared)
        return columns
    }

    static let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

    func bind(_ stmt: OpaquePointer, _ values: [SQLValue]) throws(StoreError) {
        for (i, v) in values.enumerated() {
            let idx = Int32(i + 1)
            let rc: Int32
            switch v {
            case .null: rc = sqlite3_bind_null(stmt, idx)
            case .int(let x): rc = sqlite3_bind_int64(stmt, idx, x)
            case .double(let d): rc = sqlite3_bind_double(stmt, idx, d)
            case .text(let t): rc = sqlite3_bind_text(stmt, idx, t, -1, Self.transient)
            case .blob(let b): rc = b.withUnsafeBytes { sqlite3_bind_blob(stmt, idx, $0.baseAddress, Int32($0.count), Self.transient) }
            }
            guard rc == SQLITE_OK else { throw error(rc, "binding parameter \(idx)") }
        }
    }

    /// Runs a statement and returns its rows.
    func query(_ sql: String, _ values: [SQLValue] = []) throws(StoreError) -> [SQLRow] {
        let prepared = try prepared(sql)
        let stmt = prepared.handle
        defer { sqlite3_reset(stmt) }
        try bind(stmt, values)
        var rows: [SQLRow] = []
        var known: SQLColumns?
        while true {
            let rc = sqlite3_step(stmt)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else { throw error(rc, "running a query") }
            // Read after the first step: a statement SQLite prepared again in it has its new columns by then.
            let columns = known ?? self.columns(of: sql, prepared)
            known = columns
            let count = Int32(columns.names.count)
            var values: [SQLValue] = []
            values.reserveCapacity(Int(count))
            for i in 0..<count {
                switch sqlite3_column_type(stmt, i) {
                case SQLITE_INTEGER: values.append(.int(sqlite3_column_int64(stmt, i)))
                case SQLITE_FLOAT: values.append(.double(sqlite3_column_double(stmt, i)))
                case SQLITE_TEXT: values.append(.text(String(cString: sqlite3_column_text(stmt, i))))
                case SQLITE_BLOB:
                    let n = Int(sqlite3_column_bytes(stmt, i))
                    if let p = sqlite3_column_blob(stmt, i) { values.append(.blob(Array(UnsafeRawBufferPointer(start: p, count: n)))) } else { values.append(.blob([])) }
                default: values.append(.null)
                }
            }
            rows.append(SQLRow(columns: columns, values: values))
        }
        return rows
    }

    /// Runs a statement without rows; returns the number of changed rows.
    @discardableResult
    func run(_ sql: String, _ values: [SQLValue] = []) throws(StoreError) -> Int {
        let stmt = try prepare(sql)
        defer { sqlite3_reset(stmt) }
        try bind(stmt, values)
        let rc = sqlite3_step(stmt)
        guard rc == SQLITE_DONE || rc == SQLITE_ROW else { throw error(rc, "running a statement") }
        return Int(sqlite3_changes(db))
    }

    /// Runs a statement without rows whose parameters `bind` sets from its own values, with no
    /// `SQLValue` per parameter (the postback writer's INSERTs of many rows); returns the
    /// number of changed rows.
    func run(_ sql: String, binding bind: (inout SQLiteParameters) throws(StoreError) -> Void) throws(StoreError) -> Int {
        let stmt = try prepare(sql)
        defer { sqlite3_reset(stmt) }
        var parameters = SQLiteParameters(connection: self, stmt: stmt)
        try bind(&parameters)
        let rc = sqlite3_step(stmt)
        guard rc == SQLITE_DONE || rc == SQLITE_ROW else { throw error(rc, "running a statement") }
        return Int(sqlite3_changes(db))
    }

    var lastInsertId: Int64 { sqlite3_last_insert_rowid(db) }

    /// A statement without parameters or rows that runs again and again (`BEGIN IMMEDIATE`,
    /// `COMMIT`: the postback writer's every batch), prepared once — `exec` parses its text
    /// each time. `what` names it in an error ("starting a write", "committing").
    func step(_ sql: String, _ what: String) throws(StoreError) {
        let stmt = try prepare(sql)
        defer { sqlite3_reset(stmt) }
        let rc = sqlite3_step(stmt)
        guard rc == SQLITE_DONE || rc == SQLITE_ROW else { throw error(rc, what) }
    }

    /// The first column of a one-row statement as an integer (`PRAGMA data_version`, read by
    /// every batch of the postback writer), without building a row; nil for no row or NULL.
    func integer(_ sql: String) throws(StoreError) -> Int64? {
        let stmt = try prepare(sql)
        defer { sqlite3_reset(stmt) }
        let rc = sqlite3_step(stmt)
        if rc == SQLITE_DONE { return nil }
        guard rc == SQLITE_ROW else { throw error(rc, "running a query") }
        return sqlite3_column_type(stmt, 0) == SQLITE_NULL ? nil : sqlite3_column_int64(stmt, 0)
    }

    /// Several statements without parameters (migrations, pragmas).
    func exec(_ sql: String) throws(StoreError) {
        var msg: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(db, sql, nil, nil, &msg)
        if let msg { sqlite3_free(msg) }
        guard rc == SQLITE_OK else { throw error(rc, "running the schema") }
    }
}

/// The parameters of one prepared statement, bound in order from Swift values (SQLite copies
/// each text and blob before the call returns).
struct SQLiteParameters {
    let connection: SQLiteConnection
    let stmt: OpaquePointer
    private var next: Int32 = 1

    init(connection: SQLiteConnection, stmt: OpaquePointer) {
        self.connection = connection
        self.stmt = stmt
    }

    private mutating func bound(_ rc: Int32) throws(StoreError) {
        guard rc == SQLITE_OK else { throw connection.error(rc, "binding parameter \(next)") }
        next += 1
    }

    mutating func null() throws(StoreError) { try bound(sqlite3_bind_null(stmt, next)) }

    mutating func int(_ value: Int64?) throws(StoreError) {
        guard let value else { return try null() }
        try bound(sqlite3_bind_int64(stmt, next, value))
    }

    mutating func text(_ value: String?) throws(StoreError) {
        guard var value else { return try null() }
        let (stmt, index) = (stmt, next)
        // The bytes with their length: no C string made, nor measured (an empty text is not NULL).
        try bound(value.withUTF8 { b -> Int32 in
            guard let base = b.baseAddress, !b.isEmpty else { return sqlite3_bind_text(stmt, index, "", 0, SQLiteConnection.transient) }
            return base.withMemoryRebound(to: CChar.self, capacity: b.count) { sqlite3_bind_text(stmt, index, $0, Int32(b.count), SQLiteConnection.transient) }
        })
    }

    mutating func blob(_ value: [UInt8]) throws(StoreError) {
        let (stmt, index) = (stmt, next)
        try bound(value.withUnsafeBytes { sqlite3_bind_blob(stmt, index, $0.baseAddress, Int32($0.count), SQLiteConnection.transient) })
    }
}

/// Transaction handle given to `write`/`read` closures: the only way to reach the connection.
public struct SQLiteTransaction: ~Copyable {
    let connection: SQLiteConnection

    public func query(_ sql: String, _ values: [SQLValue] = []) throws(StoreError) -> [SQLRow] { try connection.query(sql, values) }
    @discardableResult
    public func run(_ sql: String, _ values: [SQLValue] = []) throws(StoreError) -> Int { try connection.run(sql, values) }
    public var lastInsertId: Int64 { connection.lastInsertId }
}

/// An SQLite file behind a mutex: one connection, WAL mode, a busy timeout, bound parameters
/// only, and every access inside a transaction closure (the GRDB shape, in a few lines).
public final class SQLiteDatabase: Sendable {
    let connection: Mutex<SQLiteConnection>
    public let path: String

    /// WAL pages after which a commit copies the log back into the database file (SQLite's
    /// default, 1,000). Measured on the receiver (bench/postbacks.sh, quiet, same run): 10,000
    /// pages gave the same throughput ratio against nginx but p99 39.7 ms (raw log) and 352.8 ms
    /// (status changes) — each rarer checkpoint stalls the writer for longer — against 18.3 ms
    /// and 29.0 ms at 1,000. Tail latency is what a network's timeout sees.
    static let checkpointPages = 1_000

    /// What opening did to the schema.
    public let migrationReport: MigrationReport

    /// Opens (creating if needed) and applies pragmas; `migrations` bring the schema up to date.
    /// `backgroundCheckpoints`: SQLiteCheckpointer copies the log back (a long-running writer);
    /// otherwise SQLite does inside the commit that crosses `checkpointPages`.
    public convenience init(path: String, migrations: [Migration], synchronousFull: Bool = false, busyTimeoutMs: Int32 = 5000,
                            policy: MigrationPolicy = .apply, backgroundCheckpoints: Bool = false) throws(StoreError) {
        try self.init(path: path, migrations: migrations, synchronousFull: synchronousFull, busyTimeoutMs: busyTimeoutMs, policy: policy,
                      checkpointMarks: backgroundCheckpoints ? .receiver : nil)
    }

    /// As above, with the background checkpoints' marks chosen (tests use small ones).
    init(path: String, migrations: [Migration], synchronousFull: Bool = false, busyTimeoutMs: Int32 = 5000,
         policy: MigrationPolicy = .apply, checkpointMarks: SQLiteCheckpointer.Marks?) throws(StoreError) {
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &handle, flags, nil)
        guard let handle else { throw StoreError(.io, .cannotOpen(path: path)) }
        let conn = SQLiteConnection(db: handle, path: path)
        guard rc == SQLITE_OK else { throw conn.error(rc, "opening") }
        sqlite3_busy_timeout(handle, busyTimeoutMs)
        sqlite3_extended_result_codes(handle, 1)
        // The first read reveals a file that is not SQLite.
        _ = try conn.query("SELECT count(*) AS n FROM sqlite_master")
        let journal = try conn.query("PRAGMA journal_mode=WAL").first?.text("journal_mode")
        if journal != "wal" && path != ":memory:" { throw StoreError(.io, .noWAL(path: path, got: journal ?? "none")) }
        try conn.exec("PRAGMA synchronous=\(synchronousFull ? "FULL" : "NORMAL"); PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY; "
                      + "PRAGMA wal_autocheckpoint=\(Self.checkpointPages);")
        migrationReport = try Migrator.migrate(conn, migrations, policy: policy)
        conn.schemaVersion = migrationReport.to
        if let marks = checkpointMarks, path != ":memory:" {
            let checkpointer = SQLiteCheckpointer(path: path, synchronousFull: synchronousFull, marks: marks)
            checkpointer.attach(to: handle)
            conn.checkpointer = checkpointer
        }
        self.connection = Mutex(conn)
        self.path = path
    }

    /// A write transaction (`BEGIN IMMEDIATE`): all or nothing.
    /// (Not specialized: Swift 6.3's optimizer crashes specializing these closures over a
    /// borrowed ~Copyable transaction with typed throws.)
    @discardableResult
    @_semantics("optimize.sil.specialize.generic.never")
    public func write<T: Sendable>(_ body: (borrowing SQLiteTransaction) throws(StoreError) -> T) throws(StoreError) -> T {
        try connection.withLock { (conn: inout SQLiteConnection) throws(StoreError) -> T in
            try conn.step("BEGIN IMMEDIATE", "starting a write")
            let tx = SQLiteTransaction(connection: conn)
            do throws(StoreError) {
                let result = try body(tx)
                try conn.step("COMMIT", "committing")
                conn.checkpointer?.afterCommit(conn.db)
                return result
            } catch {
                try? conn.exec("ROLLBACK")
                conn.leadCache.clear() // it may hold a lead as this transaction had changed it
                throw error
            }
        }
    }

    /// A read (a deferred transaction: one consistent snapshot).
    @_semantics("optimize.sil.specialize.generic.never")
    public func read<T: Sendable>(_ body: (borrowing SQLiteTransaction) throws(StoreError) -> T) throws(StoreError) -> T {
        try connection.withLock { (conn: inout SQLiteConnection) throws(StoreError) -> T in
            try conn.step("BEGIN", "starting a read")
            defer { try? conn.step("COMMIT", "ending a read") }
            return try body(SQLiteTransaction(connection: conn))
        }
    }

    /// The highest migration applied to the file.
    public var schemaVersion: Int {
        (try? connection.withLock { (conn: inout SQLiteConnection) throws(StoreError) in try conn.appliedMigrations().map(\.version).max() }).flatMap { $0 } ?? 0
    }
}

/// SQLite's side of the migrator. Migrations are recorded in `leadbridge_migrations`;
/// `PRAGMA user_version` follows along so that a leadbridge from before that table still
/// refuses a newer file, and a file from before it is adopted from its `user_version`.
/// Foreign keys are off while migrations run (SQLite's way to rebuild a table) and checked
/// before each commit.
extension SQLiteConnection: MigrationTarget {
    var migrationDisplay: String { path }
    func beginMigrations() throws(StoreError) { try exec("PRAGMA foreign_keys=OFF") }
    func endMigrations() { try? exec("PRAGMA foreign_keys=ON") }

    func appliedMigrations() throws(StoreError) -> [MigrationReport.Step] {
        try exec("CREATE TABLE IF NOT EXISTS leadbridge_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)")
        var steps = try query("SELECT version, name FROM leadbridge_migrations ORDER BY version").map { r in
            MigrationReport.Step(version: Int(r.int("version") ?? 0), name: r.text("name") ?? "")
        }
        let userVersion = Int(try query("PRAGMA user_version").first?.int("user_version") ?? 0)
        let recorded = steps.map(\.version).max() ?? 0
        if userVersion > recorded {
            // Written by a leadbridge that only knew user_version: versions 1…n were applied.
            steps += ((recorded + 1)...userVersion).map { MigrationReport.Step(version: $0, name: "(recorded by user_version)") }
        }
        return steps
    }

    func apply(_ migration: Migration, at now: Int64) throws(StoreError) -> Bool {
        try exec("BEGIN IMMEDIATE")
        do throws(StoreError) {
            // Another process opening the same new file may have got here first.
            let userVersion = try query("PRAGMA user_version", []).first?.int("user_version") ?? 0
            let recorded = try query("SELECT 1 AS one FROM leadbridge_migrations WHERE version = ?", [.int(Int64(migration.version))])
            if userVersion >= Int64(migration.version) || !recorded.isEmpty {
                try exec("COMMIT")
                return false
            }
            try exec(migration.sql)
            if let step = migration.step { try step(self) }
            if let broken = try query("PRAGMA foreign_key_check").first {
                throw StoreError(.schema, "a row of \(broken.text("table") ?? "?") points at a missing \(broken.text("parent") ?? "?")")
            }
            try run("INSERT INTO leadbridge_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    [.int(Int64(migration.version)), .text(migration.name), .int(now)])
            try exec("PRAGMA user_version = \(migration.version)")
            try exec("COMMIT")
            return true
        } catch {
            try? exec("ROLLBACK")
            throw error
        }
    }
}
