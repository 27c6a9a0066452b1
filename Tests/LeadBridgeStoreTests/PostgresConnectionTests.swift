import Foundation
import Testing
@testable import LeadBridgeStore
import LeadBridgeTestSupport

/// The libpq layer against a real server started by the tests (tools/pg-scratch.sh).
@Suite struct PostgresLocationTests {
    @Test(arguments: [
        ("postgres://lb:s3cret@db.example.com:6432/ledger", "postgresql://lb@db.example.com:6432/ledger"),
        ("postgresql://lb:s3cret@127.0.0.1/ledger?sslmode=disable", "postgresql://lb@127.0.0.1/ledger"),
        ("postgresql://lb:s3cret@%2Fvar%2Frun%2Fpostgresql/ledger", "postgresql://lb@/ledger?host=/var/run/postgresql"),
        ("postgresql:///ledger?host=/tmp/sock&port=5433&password=s3cret", "postgresql:///ledger?host=/tmp/sock&port=5433"),
    ])
    func displayNeverShowsThePassword(url: String, display: String) throws {
        let location = try PostgresLocation(url, environment: [:])
        #expect(location.display == display)
        #expect(!location.description.contains("s3cret"))
        #expect(location.secrets == ["s3cret"])
    }

    @Test func environmentFillsWhatTheURLLeavesOut() throws {
        let env = ["PGHOST": "/run/pg", "PGPORT": "5544", "PGUSER": "cron", "PGPASSWORD": "from-env", "PGDATABASE": "leads"]
        let bare = try PostgresLocation("postgresql://", environment: env)
        #expect(bare.display == "postgresql://cron@/leads?host=/run/pg&port=5544")
        #expect(bare.secrets == ["from-env"])
        // The URL wins over the environment.
        let url = try PostgresLocation("postgresql://app@10.0.0.5/other", environment: env)
        #expect(url.display == "postgresql://app@10.0.0.5:5544/other")
    }

    @Test func aBadURLIsAConfigurationErrorWithoutThePassword() {
        do {
            _ = try PostgresLocation("postgresql://lb:s3cret@host/db?nosuchoption=1", environment: [:])
            Issue.record("accepted an unknown option")
        } catch {
            #expect(error.kind == .config)
            #expect(!error.message.contains("s3cret"))
            #expect(error.message.contains("not valid"))
        }
        #expect(throws: StoreError.self) { try PostgresLocation("postgresql://lb@h/db%zz", environment: [:]) }
        #expect(throws: StoreError.self) { try PostgresLocation("/var/lib/leadbridge.sqlite", environment: [:]) }
    }

    /// libpq quotes the token it cannot decode: a password with a stray `%` (in the user part
    /// or in `?password=`) was printed whole in the error.
    @Test(arguments: [
        "postgresql://lb:pw%zzS3cretPart@host/db",
        "postgresql://lb:pw%S3cretPart@host/db",
        "postgresql://lb@host/db?password=pw%zzS3cretPart",
        "postgresql://lb@host/db?sslmode=require&password=pw%zzS3cretPart&x=1",
    ])
    func aPasswordLibpqCannotDecodeIsNotQuoted(url: String) {
        do {
            _ = try PostgresLocation(url, environment: [:])
            Issue.record("accepted \(url)")
        } catch {
            #expect(error.kind == .config)
            #expect(error.message.contains("not valid"), "\(error.message)")
            #expect(!error.message.contains("S3cretPart"), "\(error.message)")
        }
    }
}

@Suite(.serialized) struct PostgresConnectionTests {
    static func database(_ label: String = "conn") throws -> (db: PostgresDatabase, urls: (socket: String, tcp: String, name: String)) {
        let urls = try PostgresScratchServer.shared().freshDatabase(label)
        return (try PostgresDatabase(location: PostgresLocation(urls.socket, environment: [:]), migrations: []), urls)
    }

    @Test func connectsOverTheSocketAndOverTCPWithAPassword() throws {
        let server = try PostgresScratchServer.shared()
        let (db, urls) = try Self.database()
        #expect(try db.read { (tx: borrowing PostgresTransaction) throws(StoreError) in try tx.query("SELECT current_user AS u").first?.text("u") } == "leadbridge")
        let tcp = try PostgresDatabase(location: PostgresLocation(urls.tcp, environment: [:]), migrations: [])
        #expect(try tcp.read { (tx: borrowing PostgresTransaction) throws(StoreError) in try tx.query("SELECT inet_server_port() AS p").first?.int("p") } == Int64(server.port))
        // The password may also come from PGPASSWORD.
        let fromEnv = urls.tcp.replacingOccurrences(of: ":\(server.password)@", with: "@")
        let viaEnv = try PostgresDatabase(location: PostgresLocation(fromEnv, environment: ["PGPASSWORD": server.password]), migrations: [])
        #expect(viaEnv.schemaVersion == 0)
    }

    @Test func aWrongPasswordIsAClearErrorThatNeverShowsIt() throws {
        let (_, urls) = try Self.database()
        let wrong = urls.tcp.replacingOccurrences(of: try PostgresScratchServer.shared().password, with: "wrong-pass-123")
        do {
            _ = try PostgresDatabase(location: PostgresLocation(wrong, environment: [:]), migrations: [])
            Issue.record("connected with a wrong password")
        } catch {
            #expect(error.kind == .unavailable)
            #expect(error.message.contains("cannot connect to PostgreSQL postgresql://leadbridge@127.0.0.1:"))
            #expect(error.message.contains("password authentication failed"))
            #expect(!error.message.contains("wrong-pass-123"))
        }
    }

    @Test func valuesAreBoundNeverSpliced() throws {
        let (db, _) = try Self.database()
        let hostile = "x'); DROP TABLE t; -- \" ; \\ Привет"
        let bytes = (0...255).map(UInt8.init)
        let row = try db.write { (tx: borrowing PostgresTransaction) throws(StoreError) -> SQLRow? in
            try tx.run("CREATE TABLE t (s text, b bytea, i bigint, d double precision, n text)")
            try tx.run("INSERT INTO t VALUES ($1, $2, $3, $4, $5)", [.text(hostile), .blob(bytes), .int(-9_007_199_254_740_993), .double(0.1), .null])
            return try tx.query("SELECT * FROM t").first
        }
        #expect(row?.text("s") == hostile)
        #expect(row?["b"].blob == bytes)
        #expect(row?.int("i") == -9_007_199_254_740_993)
        #expect(row?["d"] == .double(0.1))
        #expect(row?["n"] == .null)
        // The same statement again reuses its prepared form.
        let count = try db.read { (tx: borrowing PostgresTransaction) throws(StoreError) in
            try (0..<3).map { _ throws(StoreError) in try tx.query("SELECT count(*) AS n FROM t WHERE s = $1", [.text(hostile)]).first?.int("n") }
        }
        #expect(count == [1, 1, 1])
    }

    @Test func errorsAreTypedAndCarryNoValues() throws {
        let (db, _) = try Self.database()
        try db.write { (tx: borrowing PostgresTransaction) throws(StoreError) in try tx.run("CREATE TABLE u (k text PRIMARY KEY)") }
        do {
            try db.write { (tx: borrowing PostgresTransaction) throws(StoreError) in
                try tx.run("INSERT INTO u VALUES ($1)", [.text("+79001234567")])
                try tx.run("INSERT INTO u VALUES ($1)", [.text("+79001234567")])
            }
            Issue.record("a duplicate key went in")
        } catch {
            #expect(error.kind == .constraint)
            #expect(error.sqlState == "23505")
            #expect(error.message.contains("INSERT INTO u"))
            #expect(!error.message.contains("79001234567"))
        }
        // The failed transaction was rolled back as a whole.
        #expect(try db.read { (tx: borrowing PostgresTransaction) throws(StoreError) in try tx.query("SELECT count(*) AS n FROM u").first?.int("n") } == 0)
        #expect(throws: StoreError.self) {
            try db.read { (tx: borrowing PostgresTransaction) throws(StoreError) in try tx.query("SELECT * FROM no_such_table") }
        }
    }

    @Test func durabilityIsSynchronousCommit() throws {
        let urls = try PostgresScratchServer.shared().freshDatabase("dur")
        let normal = try PostgresDatabase(location: PostgresLocation(urls.socket, environment: [:]), migrations: [])
        let full = try PostgresDatabase(location: PostgresLocation(urls.socket, environment: [:]), migrations: [], synchronousFull: true)
        #expect(try normal.setting("synchronous_commit") == "local")
        #expect(try full.setting("synchronous_commit") == "on")
    }

    @Test func aKilledSessionIsReopenedBeforeTheNextTransaction() throws {
        let (db, urls) = try Self.database()
        let admin = try PostgresDatabase(location: PostgresLocation(urls.socket, environment: [:]), migrations: [])
        let pid = try db.read { (tx: borrowing PostgresTransaction) throws(StoreError) in try tx.query("SELECT pg_backend_pid() AS p").first?.int("p") }
        try admin.write { (tx: borrowing PostgresTransaction) throws(StoreError) in _ = try tx.query("SELECT pg_terminate_backend($1::integer)", [.opt(pid)]) }
        let again = try db.read { (tx: borrowing PostgresTransaction) throws(StoreError) in try tx.query("SELECT pg_backend_pid() AS p").first?.int("p") }
        #expect(again != nil && again != pid)
    }

    @Test func aStoppedServerIsAClearErrorAndItsReturnIsNoticed() throws {
        let server = try PostgresScratchServer()
        defer { server.destroy() }
        let db = try PostgresDatabase(location: PostgresLocation(server.socketURL, environment: [:]), migrations: [])
        try db.write { (tx: borrowing PostgresTransaction) throws(StoreError) in try tx.run("CREATE TABLE k (v integer)") }
        try server.stop()
        do {
            try db.write { (tx: borrowing PostgresTransaction) throws(StoreError) in try tx.run("INSERT INTO k VALUES (1)") }
            Issue.record("wrote to a stopped server")
        } catch {
            #expect(error.kind == .unavailable)
            #expect(error.message.contains("PostgreSQL postgresql://leadbridge@/postgres?host=\(server.directory)"))
        }
        try server.restart()
        try db.write { (tx: borrowing PostgresTransaction) throws(StoreError) in try tx.run("INSERT INTO k VALUES (2)") }
        #expect(try db.read { (tx: borrowing PostgresTransaction) throws(StoreError) in try tx.query("SELECT sum(v) AS s FROM k").first?.int("s") } == 2)
    }

    @Test func advisoryLocksAreHeldPerNameAndNameTheirHolder() throws {
        let urls = try PostgresScratchServer.shared().freshDatabase("lock")
        let holder = try PostgresLocation(urls.socket, environment: [:], applicationName: "leadbridge sync on host-a pid 42")
        let other = try PostgresLocation(urls.tcp, environment: [:], applicationName: "leadbridge sync on host-b pid 7")
        let kma = try PostgresAdvisoryLock(location: holder, name: "sync kma")
        let drcash = try PostgresAdvisoryLock(location: other, name: "sync drcash")
        #expect(kma.isHeld && drcash.isHeld)
        do {
            _ = try PostgresAdvisoryLock(location: other, name: "sync kma")
            Issue.record("took a held lock")
        } catch {
            #expect(error.kind == .locked)
            #expect(error.message.hasPrefix("sync kma is locked by leadbridge sync on host-a pid 42"))
            #expect(error.message.contains("connected since"))
        }
        kma.release()
        let taken = try PostgresAdvisoryLock(location: other, name: "sync kma")
        #expect(taken.isHeld)
    }

    @Test func aDeadHoldersLockIsFreedByTheServer() throws {
        let urls = try PostgresScratchServer.shared().freshDatabase("lock")
        let location = try PostgresLocation(urls.socket, environment: [:])
        let admin = try PostgresDatabase(location: location, migrations: [])
        let first = try PostgresAdvisoryLock(location: location, name: "sync x")
        // The holding session dies (as when its process is killed).
        try admin.write { (tx: borrowing PostgresTransaction) throws(StoreError) in
            _ = try tx.query("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND pid <> pg_backend_pid()")
        }
        var second: PostgresAdvisoryLock?
        for _ in 0..<50 where second == nil {
            second = try? PostgresAdvisoryLock(location: location, name: "sync x")
            if second == nil { usleep(100_000) }
        }
        #expect(second != nil)
        #expect(!first.isHeld)
    }
}

@Suite struct PostgresMigrationTests {
    static let steps = [Migration(1, "one", "CREATE TABLE a (x integer)"), Migration(2, "two", "ALTER TABLE a ADD COLUMN y text")]

    @Test func anEmptyDatabaseIsSetUpAndAnOlderOneWaitsForMigrate() throws {
        let urls = try PostgresScratchServer.shared().freshDatabase("mig")
        let location = try PostgresLocation(urls.socket, environment: [:])
        let v1 = try PostgresDatabase(location: location, migrations: Array(Self.steps.prefix(1)))
        #expect(v1.migrationReport == MigrationReport(from: 0, to: 1, applied: [.init(version: 1, name: "one")]))
        do {
            _ = try PostgresDatabase(location: location, migrations: Self.steps)
            Issue.record("opened an older schema without migrate")
        } catch {
            #expect(error.kind == .schema)
            #expect(error.message.contains("has schema version 1, this leadbridge needs 2: run 'leadbridge migrate'"))
        }
        let migrated = try PostgresDatabase(location: location, migrations: Self.steps, policy: .apply)
        #expect(migrated.migrationReport.applied.map(\.version) == [2])
        #expect(migrated.schemaVersion == 2)
        let again = try PostgresDatabase(location: location, migrations: Self.steps, policy: .apply)
        #expect(again.migrationReport.applied.isEmpty)
    }

    @Test func aNewerDatabaseIsRefused() throws {
        let urls = try PostgresScratchServer.shared().freshDatabase("mig")
        let location = try PostgresLocation(urls.socket, environment: [:])
        _ = try PostgresDatabase(location: location, migrations: Self.steps + [Migration(3, "future", "CREATE TABLE f (x integer)")])
        do {
            _ = try PostgresDatabase(location: location, migrations: Self.steps)
            Issue.record("opened a newer schema")
        } catch {
            #expect(error.kind == .schema)
            #expect(error.message.contains("has schema version 3 (\"future\"), newer than this leadbridge knows (2): upgrade leadbridge"))
        }
    }

    @Test func concurrentMigratorsApplyEachStepOnce() async throws {
        let urls = try PostgresScratchServer.shared().freshDatabase("mig")
        let location = try PostgresLocation(urls.socket, environment: [:])
        let reports = try await withThrowingTaskGroup(of: MigrationReport.self) { group in
            for _ in 0..<4 { group.addTask { try PostgresDatabase(location: location, migrations: Self.steps, policy: .apply).migrationReport } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(reports.flatMap(\.applied).map(\.version).sorted() == [1, 2])
    }
}

@Suite struct PlaceholderTests {
    @Test(arguments: [
        ("SELECT * FROM t WHERE a = ? AND b IN (?, ?)", "SELECT * FROM t WHERE a = $1 AND b IN ($2, $3)"),
        ("SELECT '?' AS q, \"we?ird\" FROM t WHERE x = ?", "SELECT '?' AS q, \"we?ird\" FROM t WHERE x = $1"),
        ("SELECT 1 -- what?\nFROM t WHERE y = ?", "SELECT 1 -- what?\nFROM t WHERE y = $1"),
        ("SELECT 'it''s ?' FROM t WHERE z = ?", "SELECT 'it''s ?' FROM t WHERE z = $1"),
        ("UPDATE t SET a = $1 WHERE id = $2", "UPDATE t SET a = $1 WHERE id = $2"),
    ])
    func questionMarksBecomeNumberedParameters(sql: String, expected: String) {
        #expect(PostgresConnection.numberedPlaceholders(sql) == expected)
    }

    @Test func theServerTakesTheNumberedForm() throws {
        let (db, _) = try PostgresConnectionTests.database("ph")
        let rows = try db.write { (tx: borrowing PostgresTransaction) throws(StoreError) -> [SQLRow] in
            try tx.run("CREATE TABLE t (a text, b text)")
            try tx.run("INSERT INTO t VALUES (?, ?)", [.text("1"), .text("2")])
            return try tx.query("SELECT count(*) AS n FROM t WHERE a = ? AND b IN (?, ?) AND '?' = '?'", [.text("1"), .text("2"), .text("3")])
        }
        #expect(rows.first?.int("n") == 1)
    }
}
