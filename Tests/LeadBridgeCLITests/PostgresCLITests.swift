import Foundation
import Testing
import LeadBridgeCore
import LeadBridgeEngine
import LeadBridgeStore
import LeadBridgeTestSupport

/// The command line on a PostgreSQL store (a real server started by the tests): the URL with
/// `${VAR}` expansion, the password never printed, `migrate`, the per-network cron lock and
/// `copy-store` both ways.
@Suite(.serialized) struct PostgresCLITests {
    static let kmaAccount = #""kma-main": {"network": "kma", "credentials": {"token": "T-123456"}, "params": {"kma": "c1"}}"#

    /// A configuration whose store is a fresh database over TCP with its password in ${PG_PASS}.
    static func setUp(accounts: String = kmaAccount) throws -> (dir: String, env: [String: String], url: String, password: String) {
        let server = try PostgresScratchServer.shared()
        let db = try server.freshDatabase("cli")
        let dir = CLI.tempDir()
        let templated = db.tcp.replacingOccurrences(of: ":\(server.password)@", with: ":${PG_PASS}@")
        CLI.write(#"{"store": "\#(templated)", "accounts": {\#(accounts)}}"#, to: dir + "/leadbridge.json")
        return (dir, ["LEADBRIDGE_CONFIG": dir + "/leadbridge.json", "PG_PASS": server.password], db.tcp, server.password)
    }

    @Test func aPostgresURLIsAStoreAndItsPasswordIsNeverPrinted() async throws {
        let s = try Self.setUp()
        let migrate = await CLI.run(["migrate", "--json"], env: s.env)
        #expect(migrate.code == 0, "\(migrate.err)")
        let json = try JSONParser.parse(migrate.out)
        #expect(json["store"]?.stringValue?.hasPrefix("postgresql://leadbridge@127.0.0.1:") == true)
        #expect(json["to"]?.intValue == PostgresLeadStore.migrations.map(\.version).max())
        let store = try PostgresLeadStore(location: PostgresLocation(s.url, environment: [:]))
        let ledger = Ledger(store: store, library: PackageFixtures.library(checks: .fast), config: nil, clock: { 1_767_225_600 })
        _ = try ledger.enqueue(Lead(id: "A-1", phone: "+79001234567"), network: "kma", account: "kma-main")
        let leads = await CLI.run(["leads", "--json"], env: s.env)
        #expect(leads.code == 0, "\(leads.err)")
        #expect(leads.out.contains("A-1"))
        for r in [migrate, leads] { #expect(!(r.out + r.err).contains(s.password)) }
        // A wrong password: a configuration error that names the store, never the password.
        let wrong = await CLI.run(["leads"], env: s.env.merging(["PG_PASS": "not-the-password-42"]) { _, b in b })
        #expect(wrong.code == 3)
        #expect(wrong.err.contains("cannot connect to PostgreSQL postgresql://leadbridge@127.0.0.1:"), "\(wrong.err)")
        #expect(!wrong.err.contains("not-the-password-42"))
    }

    @Test func everyCommandRefusesANewerPostgresDatabase() async throws {
        let s = try Self.setUp()
        let store = try PostgresLeadStore(location: PostgresLocation(s.url, environment: [:]))
        try store.database.write { (tx: borrowing PostgresTransaction) throws(StoreError) in
            try tx.run("INSERT INTO leadbridge_migrations (version, name, applied_at) VALUES (999, 'from the future', 0)")
        }
        for args in [["leads"], ["sync"], ["migrate"]] {
            let r = await CLI.run(args, env: s.env)
            #expect(r.code == 3, "\(args): \(r.err)")
            #expect(r.err.contains("has schema version 999 (\"from the future\"), newer than this leadbridge knows"), "\(args): \(r.err)")
        }
    }

    @Test func theCronLockIsPerNetwork() async throws {
        let s = try Self.setUp(accounts: Self.kmaAccount + #", "ac": {"network": "adcombo", "credentials": {"token": "AC-T"}, "params": {"adcombo": "1"}}"#)
        let other = try PostgresLocation(s.url, environment: [:], applicationName: "leadbridge sync on host-b pid 77")
        let held = try PostgresAdvisoryLock(location: other, name: "sync kma")
        let same = await CLI.run(["sync", "--network", "kma"], env: s.env)
        #expect(same.code == 4, "\(same.err)")
        #expect(same.err.contains("another sync holds the network kma: leadbridge sync on host-b pid 77 from 127.0.0.1 (server process "), "\(same.err)")
        let all = await CLI.run(["sync"], env: s.env)
        #expect(all.code == 4)
        // Another network goes on side by side.
        let beside = await CLI.run(["sync", "--network", "adcombo", "--json"], env: s.env)
        #expect(beside.code == 0, "\(beside.err)")
        // A worker joining a running pass takes no lock.
        let joined = await CLI.run(["sync", "--network", "kma", "--join", "--json"], env: s.env)
        #expect(joined.code == 0, "\(joined.err)")
        held.release()
        let free = await CLI.run(["sync", "--network", "kma", "--json"], env: s.env)
        #expect(free.code == 0, "\(free.err)")
    }

    @Test func copyStoreMovesALedgerBothWaysAndCanRunAgain() async throws {
        let s = try Self.setUp()
        let dir = CLI.tempDir()
        let source = dir + "/source.sqlite"
        let sqlite = try SQLiteLeadStore(path: source)
        let ledger = Ledger(store: sqlite, library: PackageFixtures.library(checks: .fast), config: nil, clock: { 1_767_225_600 })
        for i in 1...30 {
            guard case .queued(let r) = try ledger.enqueue(Lead(id: "C-\(i)", phone: "+7900123\(1000 + i)"), network: "kma", account: "kma-main") else { Issue.record("C-\(i) was not queued"); continue }
            if i % 3 == 0 {
                _ = try ledger.claim(rowId: r.rowId, owner: "test/1/1", lease: 60)
                _ = try ledger.requestWritten(rowId: r.rowId, owner: "test/1/1")
                _ = try ledger.answered(rowId: r.rowId, outcome: SendOutcome(kind: .accepted, externalId: "E-\(i)"))
            }
        }
        try sqlite.write { (w: any LedgerWriter) throws(StoreError) in
            _ = try w.logPostbacks([RawPostback(receivedAt: 1, network: "kma", remote: "127.0.0.1", method: "GET", path: "/postback/kma",
                                                query: "oid=C-3&status=approve", body: Array("bytes\u{0}\u{1}".utf8))])
        }
        let there = await CLI.run(["copy-store", source, s.url, "--json"], env: [:], cwd: dir)
        #expect(there.code == 0, "\(there.err)")
        #expect(!(there.out + there.err).contains(s.password))
        let report = try JSONParser.parse(there.out)
        #expect(report["verified"]?.boolValue == true)
        let counts = Dictionary(uniqueKeysWithValues: (report["counts"]?.arrayValue ?? []).compactMap { c in
            c["what"]?.stringValue.map { ($0, c["target"]?.intValue ?? -1) }
        })
        #expect(counts["leads"] == 30 && counts["attempts"] == 10 && counts["raw postbacks"] == 1, "\(counts)")
        // Again: nothing to copy, still verified.
        let again = await CLI.run(["copy-store", source, s.url, "--json"], env: [:], cwd: dir)
        #expect(again.code == 0, "\(again.err)")
        #expect(try JSONParser.parse(again.out)["copied"]?["leads"]?.intValue == 0)
        // The PostgreSQL ledger goes on numbering after the copied rows.
        let pg = try PostgresLeadStore(location: PostgresLocation(s.url, environment: [:]))
        let pgLedger = Ledger(store: pg, library: PackageFixtures.library(checks: .fast), config: nil, clock: { 1_767_225_700 })
        guard case .queued(let next) = try pgLedger.enqueue(Lead(id: "C-31", phone: "+79001231031"), network: "kma", account: "kma-main") else {
            Issue.record("not queued"); return
        }
        #expect(next.rowId == 31)
        // And back to a new SQLite file: the same rows, the same bytes.
        let back = await CLI.run(["copy-store", s.url, "back.sqlite"], env: [:], cwd: dir)
        #expect(back.code == 0, "\(back.err)")
        #expect(back.out.contains("verified: the target holds every row of the source"))
        let returned = try SQLiteLeadStore(path: dir + "/back.sqlite")
        #expect(try returned.leads(LeadQuery(limit: 100)).count == 31)
        #expect(try returned.postbacks(PostbackQuery()).first?.raw.body == Array("bytes\u{0}\u{1}".utf8))
        #expect(try returned.lead(network: "kma", orderId: "C-3")?.externalId == "E-3")
        // The copied postbacks are in the order index (schema 8): none left for a lead's page to scan.
        let mark = try returned.database.read { (tx: borrowing SQLiteTransaction) throws(StoreError) in
            try tx.query("SELECT (SELECT upto FROM raw_postbacks_indexed) AS upto, (SELECT max(id) FROM raw_postbacks) AS top").first
        }
        #expect(mark?.int("upto") != nil && mark?.int("upto") == mark?.int("top"), "\(String(describing: mark))")
        // A missing source is an error, not an empty copy.
        let missing = await CLI.run(["copy-store", "nope.sqlite", s.url], env: [:], cwd: dir)
        #expect(missing.code == 3)
        #expect(missing.err.contains("no such file"))
    }
}
