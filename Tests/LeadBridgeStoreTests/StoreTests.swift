import Foundation
import Testing
import LeadBridgeCore
import LeadBridgeStore
import LeadBridgeTestSupport

/// The record of an insert that must have inserted; anything else fails the test (never a
/// silent early return).
func inserted(_ result: InsertResult, sourceLocation: SourceLocation = #_sourceLocation) throws -> LeadRecord {
    guard case .inserted(let record) = result else {
        Issue.record("expected the lead to be inserted, got \(result)", sourceLocation: sourceLocation)
        throw NotInserted()
    }
    return record
}

struct NotInserted: Error {}

enum TempFiles {
    static func path(_ name: String = "ledger.sqlite") -> String {
        let dir = NSTemporaryDirectory() + "leadbridge-store-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir + "/" + name
    }
}

extension SQLiteLeadStore {
    func sql(_ q: String, _ values: [SQLValue] = []) throws -> [SQLRow] {
        try database.read { (tx: borrowing SQLiteTransaction) throws(StoreError) in try tx.query(q, values) }
    }
}

@Suite struct MigrationTests {
    @Test func fromAnEmptyFile() throws {
        let store = try SQLiteLeadStore(path: TempFiles.path())
        #expect(store.database.schemaVersion == 11)
        let tables = try store.sql("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").compactMap { $0.text("name") }
        #expect(tables == ["final_tallies", "journal", "lead_tallies", "leadbridge_migrations", "leads", "outgoing_postbacks", "poll_leads", "raw_postback_orders", "raw_postbacks", "raw_postbacks_indexed", "sync_passes"])
        #expect(store.database.migrationReport.applied.map(\.version) == SQLiteLeadStore.migrations.map(\.version))
        #expect(try store.sql("PRAGMA journal_mode").first?.text("journal_mode") == "wal")
    }

    /// The schema names no state: no CHECK constraint, no quoted word of Core's enums, in any
    /// table or index (a fresh file and a migrated one).
    @Test func theSchemaNamesNoState() throws {
        let migrated = TempFiles.path()
        try FileManager.default.copyItem(atPath: PackageFixtures.root + "/Tests/Fixtures/ledger-v4/ledger-v4.db", toPath: migrated)
        let words = Set(SendState.allCases.map(\.rawValue) + Bucket.allCases.map(\.rawValue) + PostbackResult.allCases.map(\.rawValue)
                        + OutgoingState.allCases.map(\.rawValue) + Reach.allCases.map(\.rawValue) + JournalKind.allCases.map(\.rawValue)
                        + ["due", "inflight", "done"])
        for path in [TempFiles.path(), migrated] {
            let store = try SQLiteLeadStore(path: path)
            for row in try store.sql("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL") {
                let sql = row.text("sql") ?? ""
                #expect(!sql.uppercased().contains("CHECK"), "\(row.text("name") ?? ""): \(sql)")
                for w in words { #expect(!sql.contains("'\(w)'"), "\(row.text("name") ?? "") names '\(w)'") }
            }
        }
    }

    /// A ledger written by the previous version (schema 4, made by
    /// Tests/Fixtures/ledger-v4/make.sh with that version's binary) keeps every lead, every
    /// history row and attempt, every postback, and reads in today's terms.
    @Test func aLedgerOfSchemaFourIsCarriedForward() throws {
        let path = TempFiles.path()
        try FileManager.default.copyItem(atPath: PackageFixtures.root + "/Tests/Fixtures/ledger-v4/ledger-v4.db", toPath: path)
        // What the old file holds, read with the old schema.
        let old = try SQLiteDatabase(path: path, migrations: Array(SQLiteLeadStore.migrations.prefix(4)))
        #expect(old.schemaVersion == 4)
        func oldCount(_ q: String) throws -> Int {
            Int(try old.read { (tx: borrowing SQLiteTransaction) throws(StoreError) in try tx.query(q).first?.int("n") } ?? 0)
        }
        let leads = try oldCount("SELECT count(*) AS n FROM leads")
        let history = try oldCount("SELECT count(*) AS n FROM events") + (try oldCount("SELECT count(*) AS n FROM send_attempts"))
        let postbacks = try oldCount("SELECT count(*) AS n FROM raw_postbacks")
        let byState = try old.read { (tx: borrowing SQLiteTransaction) throws(StoreError) in
            try tx.query("SELECT send_state, count(*) AS n FROM leads GROUP BY send_state").map { ($0.text("send_state") ?? "", Int($0.int("n") ?? 0)) }
        }
        let oldStatuses = try old.read { (tx: borrowing SQLiteTransaction) throws(StoreError) in
            try tx.query("SELECT order_id, network, status, raw_status, payout, external_id FROM leads ORDER BY id").map {
                [$0.text("order_id"), $0.text("network"), $0.text("status"), $0.text("raw_status"), $0.text("payout"), $0.text("external_id")]
            }
        }
        #expect(leads > 190 && history > 600 && postbacks > 70)

        let store = try SQLiteLeadStore(path: path)
        #expect(store.database.schemaVersion == 11)
        #expect(try TallyChecks.mismatches(store).isEmpty)
        #expect(try store.sql("PRAGMA integrity_check").first?.text("integrity_check") == "ok")
        #expect(try store.sql("PRAGMA foreign_key_check").isEmpty)
        let all = try store.leads(LeadQuery(limit: 10_000))
        #expect(all.count == leads)
        #expect(Dictionary(grouping: all, by: \.sendState.rawValue).mapValues(\.count) == Dictionary(uniqueKeysWithValues: byState))
        #expect(all.map { [$0.orderId, $0.network, $0.status?.bucket.rawValue, $0.status?.raw, $0.payout, $0.externalId] } == oldStatuses)
        #expect(Int(try store.sql("SELECT count(*) AS n FROM journal").first?.int("n") ?? 0) == history)
        #expect(try store.rawPostbackCount() == postbacks)
        #expect(Set(try store.postbacks(PostbackQuery(limit: 1000)).map(\.result)) == Set(PostbackResult.allCases).subtracting([.received, .invalid]))

        // Each old state, in today's facts.
        let queued = try #require(try store.lead(network: "kma", orderId: "F-QUEUED"))
        #expect(queued.sendState == .queued && queued.facts.dueAt != nil && queued.lastError?.contains("connection refused") == true)
        let parked = try #require(try store.lead(network: "kma", orderId: "F-PARKED"))
        #expect(parked.sendState == .parked && parked.facts.dueAt == nil)
        let uncertain = try #require(try store.lead(network: "kma", orderId: "U-UNCERTAIN"))
        #expect(uncertain.sendState == .uncertain && uncertain.facts.reach == .maybe && uncertain.facts.pollable)
        let inflight = try #require(try store.lead(network: "kma", orderId: "S-INFLIGHT"))
        #expect(inflight.sendState == .sending && inflight.facts.claim != nil && (inflight.facts.claim?.until ?? .max) < 2_000_000_000)
        #expect(try store.leads(LeadQuery(dueBy: Int64.max, limit: 100)).map(\.orderId) == ["F-QUEUED"])
        let accepted = all.filter { $0.sendState == .accepted }
        #expect(accepted.allSatisfy { $0.facts.reach == .held && $0.facts.pollable == ($0.status?.bucket ?? .pending == .pending) })
        let intake = try #require(all.first { $0.source == "leadcraft" })
        #expect(intake.sourceRef == "LC-1")
        #expect(try store.outgoingPostbacks(leadRowId: intake.rowId).count == 1)
        // History reads as a journal: an attempt, then the status it made.
        let d = try #require(accepted.first { (try? store.journal(rowId: $0.rowId).contains { $0.kind == .attempt }) == true })
        let journal = try store.journal(rowId: d.rowId)
        #expect(journal.contains { $0.kind == .attempt && $0.attempt?.outcome == .accepted })
        #expect(journal.contains { $0.kind == .status && $0.toStatus == .pending && $0.source == .send })
    }

    @Test func aFileFromBeforeTheMigrationsTableIsAdoptedFromItsUserVersion() throws {
        let path = TempFiles.path()
        do {
            let v2 = try SQLiteLeadStore(path: path, migrations: Array(SQLiteLeadStore.migrations.prefix(2)))
            // What a leadbridge before the table left behind: user_version only.
            try v2.database.write { (tx: borrowing SQLiteTransaction) throws(StoreError) in try tx.run("DROP TABLE leadbridge_migrations") }
        }
        let store = try SQLiteLeadStore(path: path)
        #expect(store.database.migrationReport.from == 2)
        #expect(store.database.migrationReport.applied.map(\.version) == [3, 4, 5, 6, 7, 8, 9, 10, 11])
        #expect(try store.sql("SELECT version FROM leadbridge_migrations ORDER BY version").compactMap { $0.int("version") } == [3, 4, 5, 6, 7, 8, 9, 10, 11])
        #expect(store.database.schemaVersion == 11)
    }

    @Test func newerSchemaIsRefused() throws {
        let path = TempFiles.path()
        _ = try SQLiteLeadStore(path: path, migrations: SQLiteLeadStore.migrations + [Migration(99, "future", "CREATE TABLE future (x)")])
        do {
            _ = try SQLiteLeadStore(path: path)
            Issue.record("opened a newer schema")
        } catch {
            #expect(error.kind == .schema)
            #expect(error.message.contains("has schema version 99 (\"future\"), newer than this leadbridge knows"))
        }
    }

    @Test func corruptFileGivesAClearError() throws {
        let path = TempFiles.path()
        _ = FileManager.default.createFile(atPath: path, contents: Data(repeating: 0x41, count: 8192))
        do {
            _ = try SQLiteLeadStore(path: path)
            Issue.record("opened a corrupt file")
        } catch {
            #expect(error.kind == .notADatabase)
            #expect(error.message.contains("is not a LeadBridge database or is corrupt"))
        }
    }

    @Test func lockedFileGivesAClearError() throws {
        let path = TempFiles.path()
        let store = try SQLiteLeadStore(path: path)
        let other = try SQLiteDatabase(path: path, migrations: SQLiteLeadStore.migrations, busyTimeoutMs: 50)
        // Hold a write transaction open in one connection while the other tries to write.
        try store.database.write { (tx: borrowing SQLiteTransaction) throws(StoreError) in
            try tx.run("INSERT INTO leads (network, order_id, account, lead_json, state, reach, created_at, updated_at) VALUES ('x','y','z','{}','q','r',0,0)")
            do throws(StoreError) {
                _ = try other.write { (t: borrowing SQLiteTransaction) throws(StoreError) in try t.run("DELETE FROM leads") }
                Issue.record("wrote while another connection held the write lock")
            } catch {
                #expect(error.kind == .locked)
                #expect(error.message.contains("locked by another process"))
            }
        }
    }

    @Test func errorsNeverCarryBoundValues() throws {
        let store = try SQLiteLeadStore(path: TempFiles.path())
        do {
            try store.database.write { (tx: borrowing SQLiteTransaction) throws(StoreError) in
                for _ in 0..<2 {
                    try tx.run("INSERT INTO leads (network, order_id, account, lead_json, state, reach, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                               [.text("kma"), .text("A-1"), .text("acc"), .text("{\"phone\":\"+79001234567\"}"), .text("queued"), .text("none"), .int(1), .int(1)])
                }
            }
            Issue.record("duplicate order id accepted")
        } catch {
            #expect(error.kind == .constraint)
            #expect(!error.message.contains("79001234567"))
        }
    }
}

/// The port as persistence: what is saved is what is read back, selections select, and the
/// store decides nothing. One conformance suite: every test runs on SQLite and on PostgreSQL
/// (a real server started by the tests).
@Suite struct PortTests {
    static func store(_ kind: StoreKind) throws -> any LeadStore { try kind.make() }

    static func new(_ id: String, network: String = "kma", source: String? = nil, ref: String? = nil, due: Int64? = 10, state: SendState = .queued) -> NewLead {
        let facts = LeadFacts(state: state, dueAt: due, updatedAt: 10)
        return NewLead(lead: Lead(id: id, phone: "+79001234567", fields: ["name": "Иван"]), network: network, account: "acc", source: source, sourceRef: ref,
                       facts: facts, entry: JournalEntry(at: 10, kind: .queued, source: .intake, toState: state))
    }

    static func insert(_ s: any LeadStore, _ n: NewLead) throws -> InsertResult {
        try s.write { (w: any LedgerWriter) throws(StoreError) in try w.insert(n) }
    }

    @Test(arguments: StoreKind.allCases) func insertIsUniquePerNetworkAndSourceReference(kind: StoreKind) throws {
        let s = try Self.store(kind)
        guard case .inserted(let a) = try Self.insert(s, Self.new("A-1")) else { Issue.record("not inserted"); return }
        #expect(a.lead.fields["name"] == "Иван")
        guard case .existing(let again) = try Self.insert(s, Self.new("A-1")) else { Issue.record("inserted twice"); return }
        #expect(again.rowId == a.rowId)
        guard case .inserted = try Self.insert(s, Self.new("A-1", network: "drcash")) else { Issue.record("another network refused"); return }
        guard case .inserted(let src) = try Self.insert(s, Self.new("LB-1", source: "leadcraft", ref: "LC-9")) else { Issue.record("not inserted"); return }
        guard case .existing(let same) = try Self.insert(s, Self.new("LB-2", source: "leadcraft", ref: "LC-9")) else { Issue.record("ref not unique"); return }
        #expect(same.rowId == src.rowId)
        #expect(try s.journal(rowId: a.rowId).map(\.kind) == [.queued])
    }

    @Test(arguments: StoreKind.allCases) func saveWritesExactlyTheFactsGiven(kind: StoreKind) throws {
        let s = try Self.store(kind)
        let r = try inserted(Self.insert(s, Self.new("A-1")))
        var f = LeadFacts(state: .accepted, reach: .held, status: LeadStatus(bucket: .approved, raw: "ok", detail: "hold"), externalId: "E-1", attempts: 3,
                          claim: nil, lastError: nil, payout: "12.5", currency: "USD", comment: "c", reason: "7", confirmedAt: 40, updatedAt: 50)
        let entry = JournalEntry(at: 50, kind: .attempt, source: .send, fromState: .sending, toState: .accepted, fromStatus: nil, toStatus: .pending,
                                 attempt: AttemptRecord(number: 3, outcome: .accepted, receipt: nil, httpStatus: 200, durationMs: 120), note: "n")
        let out = OutgoingPostback(leadRowId: r.rowId, source: "leadcraft", kind: "leads", status: "approved", method: "GET", url: "https://x/?token=***", nextAttemptAt: 50)
        try s.write { (w: any LedgerWriter) throws(StoreError) in
            _ = try w.lock(.rows([r.rowId]))
            try w.save(LeadWrite(rowId: r.rowId, facts: f, entry: entry, outgoing: [out, out]))
        }
        let back = try #require(try s.record(rowId: r.rowId))
        #expect(back.facts == f)
        #expect(try s.journal(rowId: r.rowId).last == entry)
        #expect(try s.outgoingPostbacks(leadRowId: r.rowId).count == 1)  // a repeat is ignored
        // Not pollable once final; pollable while pending.
        #expect(try s.leads(LeadQuery(pollableBefore: 100)).isEmpty)
        f.status = LeadStatus(bucket: .pending)
        try s.write { (w: any LedgerWriter) throws(StoreError) in try w.save(LeadWrite(rowId: r.rowId, facts: f, entry: nil)) }
        #expect(try s.leads(LeadQuery(pollableBefore: 100)).map(\.orderId) == ["A-1"])
        try s.write { (w: any LedgerWriter) throws(StoreError) in try w.markPolled(rowIds: [r.rowId], at: 200) }
        #expect(try s.leads(LeadQuery(pollableBefore: 100)).isEmpty)
        #expect(try s.leads(LeadQuery(pollableBefore: 200)).count == 1)
    }

    @Test(arguments: StoreKind.allCases) func selectionsSelect(kind: StoreKind) throws {
        let s = try Self.store(kind)
        var ids: [String: Int64] = [:]
        for (id, due, net) in [("A", Int64(30), "kma"), ("B", Int64(10), "kma"), ("C", Int64(20), "drcash"), ("D", Int64(99), "kma")] {
            ids[id] = try inserted(Self.insert(s, Self.new(id, network: net, due: due))).rowId
        }
        ids["E"] = try inserted(Self.insert(s, Self.new("E", due: nil, state: .accepted))).rowId
        let due = try s.write { (w: any LedgerWriter) throws(StoreError) in try w.lock(.due(network: nil, now: 30, limit: 10)).map(\.orderId) }
        #expect(due == ["B", "C", "A"])  // oldest due first
        #expect(try s.write { (w: any LedgerWriter) throws(StoreError) in try w.lock(.due(network: "kma", now: 30, limit: 1)).map(\.orderId) } == ["B"])
        #expect(try s.leads(LeadQuery(dueBy: 20, limit: 10)).map(\.orderId) == ["B", "C"])
        // A claim is a fact like any other; `.claimed` finds the rows carrying one.
        try s.write { (w: any LedgerWriter) throws(StoreError) in
            guard let a = try w.lock(.rows([ids["A"] ?? 0])).first else { throw StoreError(.misuse, "lead A not found") }
            var f = a.facts
            f.state = .claimed
            f.dueAt = nil
            f.claim = Claim(owner: "h/1/1", until: 500)
            try w.save(LeadWrite(rowId: a.rowId, facts: f, entry: nil))
        }
        let claimed = try s.write { (w: any LedgerWriter) throws(StoreError) in try w.lock(.claimed(limit: 10)) }
        #expect(claimed.map(\.orderId) == ["A"])
        #expect(claimed.first?.facts.claim == Claim(owner: "h/1/1", until: 500))
        let keyed = try s.write { (w: any LedgerWriter) throws(StoreError) in
            try w.lock(.keys([LeadKey(network: "kma", orderId: "D"), LeadKey(network: "drcash", orderId: "nope"), LeadKey(network: "kma", orderId: "D")]))
        }
        #expect(keyed.map(\.orderId) == ["D"])
        #expect(try s.leads(LeadQuery(state: .accepted)).map(\.orderId) == ["E"])
        #expect(try s.leads(LeadQuery(afterRowId: ids["B"] ?? 0, limit: 2)).map(\.orderId) == ["C", "D"])
        #expect(try s.leads(LeadQuery(withData: false)).allSatisfy { $0.leadJSON.isEmpty })
        #expect(try s.locate([LeadKey(network: "kma", orderId: "B"), LeadKey(network: "kma", orderId: "Z")]).map { $0?.orderId } == ["B", nil])
        let counts = try s.counts()
        #expect(counts.leads.first { $0.network == "kma" && $0.state == .queued }?.count == 2)  // B and D (A is claimed)
    }

    @Test(arguments: StoreKind.allCases) func findReadsEachKeysLeadInTheKeysOrder(kind: StoreKind) throws {
        let s = try Self.store(kind)
        let a = try inserted(Self.insert(s, Self.new("A")))
        let b = try inserted(Self.insert(s, Self.new("B", network: "drcash")))
        try s.write { (w: any LedgerWriter) throws(StoreError) in
            var f = b.facts
            f.externalId = "X-9"
            try w.save(LeadWrite(rowId: b.rowId, facts: f, entry: nil))
        }
        let keys = [LeadKey(network: "drcash", orderId: nil, externalId: "X-9"), LeadKey(network: "kma", orderId: "A"), LeadKey(network: "kma", orderId: "nope"),
                    LeadKey(network: "drcash", orderId: "A"), LeadKey(network: "drcash", orderId: "nope", externalId: "X-9"), LeadKey(network: "kma", orderId: "A")]
        let found = try s.write { (w: any LedgerWriter) throws(StoreError) in try w.find(keys) }
        #expect(found.map { $0?.rowId } == [b.rowId, a.rowId, nil, nil, b.rowId, a.rowId])
        // The facts without the lead's data (deciding a status never needs it).
        #expect(found[1]?.leadJSON == "" && found[1]?.account == "acc" && found[1]?.facts == a.facts)
        #expect(found[0]?.facts.externalId == "X-9")
        // The same leads as `locate` finds outside a transaction.
        #expect(try s.locate(keys).map { $0?.rowId } == found.map { $0?.rowId })
    }

    /// A save that knows the facts it read writes only the columns that changed (an index is
    /// rewritten only when one of its columns is in the UPDATE): a column changed behind the
    /// facts' back stays as it is, and facts equal to what was read write nothing.
    @Test func aSaveGivenTheFactsReadWritesOnlyTheColumnsThatChanged() throws {
        let s = try SQLiteLeadStore(path: TempFiles.path())
        let r = try inserted(Self.insert(s, Self.new("A-1")))
        try s.database.write { (tx: borrowing SQLiteTransaction) throws(StoreError) in
            try tx.run("UPDATE leads SET comment = 'set outside' WHERE id = ?", [.int(r.rowId)])
        }
        var f = r.facts
        f.confirmedAt = 77
        f.updatedAt = 78
        f.status = LeadStatus(bucket: .approved, raw: "ok")
        try s.write { (w: any LedgerWriter) throws(StoreError) in try w.save(LeadWrite(rowId: r.rowId, facts: f, before: r.facts, entry: nil)) }
        var back = try #require(try s.record(rowId: r.rowId))
        #expect(back.facts.comment == "set outside")
        back.facts.comment = nil
        #expect(back.facts == f)
        try s.database.write { (tx: borrowing SQLiteTransaction) throws(StoreError) in
            try tx.run("UPDATE leads SET updated_at = 5 WHERE id = ?", [.int(r.rowId)])
        }
        try s.write { (w: any LedgerWriter) throws(StoreError) in try w.save(LeadWrite(rowId: r.rowId, facts: f, before: f, entry: nil)) }
        #expect(try s.record(rowId: r.rowId)?.facts.updatedAt == 5)
        // Without the facts read, every column is written.
        try s.write { (w: any LedgerWriter) throws(StoreError) in try w.save(LeadWrite(rowId: r.rowId, facts: f, entry: nil)) }
        #expect(try s.record(rowId: r.rowId)?.facts == f)
    }

    @Test(arguments: StoreKind.allCases) func aThrownErrorRollsBackAndAWriterDoesNotOutliveItsTransaction(kind: StoreKind) throws {
        let s = try Self.store(kind)
        do {
            try s.write { (w: any LedgerWriter) throws(StoreError) in
                _ = try w.insert(Self.new("A"))
                throw StoreError(.misuse, "boom")
            }
        } catch {}
        #expect(try s.leads(LeadQuery()).isEmpty)
        var kept: (any LedgerWriter)?
        try s.write { (w: any LedgerWriter) throws(StoreError) in kept = w }
        #expect(throws: StoreError.self) { _ = try kept?.insert(Self.new("B")) }
        #expect(try s.leads(LeadQuery()).isEmpty)
    }

    /// The postbacks that named a lead (the console's lead page): its network's postbacks with
    /// its order id or its external id, oldest or newest first, up to the limit.
    @Test(arguments: StoreKind.allCases) func postbacksByOrderOrExternalId(kind: StoreKind) throws {
        let s = try Self.store(kind)
        let named: [(network: String, query: String, order: String?, external: String?)] = [
            ("kma", "1", "A", nil), ("kma", "2", nil, "X"), ("drcash", "3", "A", "X"), ("kma", "4", "B", "Y"), ("kma", "5", "A", "X"), ("kma", "6", "B", "X")]
        let ids = try s.write { (w: any LedgerWriter) throws(StoreError) in
            try w.logPostbacks(named.map { RawPostback(receivedAt: 1, network: $0.network, remote: "127.0.0.1", method: "GET", path: "/p", query: $0.query, body: []) },
                               results: named.map { RawPostbackResult(id: 0, result: .unmatched, orderId: $0.order, externalId: $0.external) })
        }
        #expect(ids.count == named.count)
        func queries(_ q: PostbackQuery) throws -> [String] { try s.postbacks(q).map(\.raw.query) }
        #expect(try queries(PostbackQuery(network: "kma", orderId: "A", externalId: "X")) == ["1", "2", "5", "6"])
        #expect(try queries(PostbackQuery(network: "kma", orderId: "A", externalId: "X", newestFirst: true, limit: 2)) == ["6", "5"])
        #expect(try queries(PostbackQuery(network: "kma", orderId: "A")) == ["1", "5"])
        #expect(try queries(PostbackQuery(network: "drcash", orderId: "B", externalId: "X")) == ["3"])
        #expect(try queries(PostbackQuery(orderId: "A", externalId: "Y")) == ["1", "3", "4", "5"])
        #expect(try queries(PostbackQuery(results: [.applied], network: "kma", orderId: "A", externalId: "X")).isEmpty)
    }

    /// A batch's ids are its postbacks', in order, whatever its size (SQLite stores a batch in
    /// INSERTs of 64, 16, 4 and 1 rows and numbers them from the last id).
    @Test(arguments: StoreKind.allCases) func aBatchOfPostbacksGetsItsOwnIds(kind: StoreKind) throws {
        let s = try Self.store(kind)
        for size in [1, 3, 28, 90] {
            let raws = (0..<size).map { RawPostback(receivedAt: 1, network: "kma", remote: "127.0.0.1", method: "GET", path: "/p", query: "n=\(size)-\($0)", body: []) }
            let ids = try s.write { (w: any LedgerWriter) throws(StoreError) in
                try w.logPostbacks(raws, results: raws.map { _ in RawPostbackResult(id: 0, result: .unmatched, orderId: "A") })
            }
            let stored = Dictionary(uniqueKeysWithValues: try s.postbacks(PostbackQuery(limit: 10_000)).map { ($0.id, $0.raw.query) })
            #expect(ids.count == size && Set(ids).count == size, "\(size): \(ids)")
            #expect(ids.map { stored[$0] } == raws.map(\.query), "\(size)")
        }
        #expect(try s.postbacks(PostbackQuery(network: "kma", orderId: "A")).count == 122)
    }

    /// Every field of a stored postback reads back as it came, whatever the batch's size (SQLite
    /// binds the INSERT's rows straight from the postbacks): an empty query stays an empty text
    /// (not NULL), an empty body is NULL, bytes of any value, texts in any script, a note clipped
    /// to 300 characters.
    @Test(arguments: StoreKind.allCases) func aStoredPostbackReadsBackAsItCame(kind: StoreKind) throws {
        let s = try Self.store(kind)
        let r = try inserted(Self.insert(s, Self.new("A-1")))
        let texts = ["", "oid=A-1&status=approve", "имя=Иван&x=%D0%98", "😀 a+b", String(repeating: "q", count: 2_000)]
        let notes: [String?] = [nil, "", "approved", String(repeating: "й", count: 400)]
        for size in [1, 5, 21, 70] {
            let raws = (0..<size).map { (i: Int) -> RawPostback in
                let remote: String = i % 3 == 0 ? "::1" : "10.0.0.\(i)"
                let path = "/postback/" + String(texts[(i + 1) % texts.count].prefix(40))
                let body: [UInt8] = i % 4 == 0 ? [] : [0, 1, UInt8(i % 256), 0xFF]
                return RawPostback(receivedAt: Int64(1_000 + i), network: ["kma", "drcash"][i % 2], remote: remote, method: ["GET", "POST"][i % 2],
                                   path: path, query: texts[i % texts.count], body: body)
            }
            let results = (0..<size).map { (i: Int) -> RawPostbackResult in
                let kind: PostbackResult = [.applied, .unmatched, .invalid][i % 3]
                let external: String? = i % 5 == 0 ? "" : (i % 3 == 1 ? "X-\(i)" : nil)
                return RawPostbackResult(id: 0, result: kind, leadRowId: i % 3 == 0 ? r.rowId : nil, orderId: i % 2 == 0 ? "A-\(i)" : nil,
                                         externalId: external, note: notes[i % notes.count])
            }
            let ids = try s.write { (w: any LedgerWriter) throws(StoreError) in try w.logPostbacks(raws, results: results) }
            let stored = Dictionary(uniqueKeysWithValues: try s.postbacks(PostbackQuery(limit: 10_000)).map { ($0.id, $0) })
            func fields(_ raw: RawPostback, _ result: PostbackResult, _ lead: Int64?, _ order: String?, _ external: String?, _ note: String?) -> [String] {
                let body = raw.body.map(String.init).joined(separator: ",")
                let head = [String(raw.receivedAt), raw.network, raw.remote, raw.method, raw.path, raw.query, body]
                return head + [result.rawValue, lead.map(String.init) ?? "nil", order ?? "nil", external ?? "nil", note ?? "nil"]
            }
            for (i, id) in ids.enumerated() {
                let (raw, result) = (raws[i], results[i])
                let expected = fields(raw, result.result, result.leadRowId, result.orderId, result.externalId, result.note.map { String($0.prefix(300)) })
                let got = stored[id].map { fields($0.raw, $0.result, $0.leadRowId, $0.orderId, $0.externalId, $0.note) }
                #expect(got == expected, "batch of \(size), postback \(i)")
            }
        }
        if let sqlite = s as? SQLiteLeadStore {
            let kinds = try sqlite.sql("SELECT DISTINCT typeof(query) || ' ' || typeof(body) AS k FROM raw_postbacks WHERE query = '' ORDER BY k").compactMap { $0.text("k") }
            #expect(kinds == ["text blob", "text null"])
        }
    }

    @Test(arguments: StoreKind.allCases) func postbacksAndOutgoingArePersisted(kind: StoreKind) throws {
        let s = try Self.store(kind)
        let r = try inserted(Self.insert(s, Self.new("A-1")))
        let raws = [RawPostback(receivedAt: 1, network: "kma", remote: "127.0.0.1", method: "GET", path: "/postback/kma", query: "oid=A-1", body: []),
                    RawPostback(receivedAt: 2, network: "kma", remote: "127.0.0.1", method: "GET", path: "/postback/kma", query: "oid=B", body: Array("x".utf8),
                                result: .forbidden)]
        let ids = try s.write { (w: any LedgerWriter) throws(StoreError) in try w.logPostbacks(raws) }
        #expect(ids.count == 2)
        try s.write { (w: any LedgerWriter) throws(StoreError) in
            try w.savePostbackResults([RawPostbackResult(id: ids[0], result: .applied, leadRowId: r.rowId, orderId: "A-1", note: "approved")])
        }
        #expect(try s.postbacks(PostbackQuery(results: [.applied])).map(\.raw.query) == ["oid=A-1"])
        #expect(try s.postbacks(PostbackQuery(results: [.forbidden])).first?.raw.body == Array("x".utf8))
        #expect(try s.postbacks(PostbackQuery(newestFirst: true, limit: 1)).first?.id == ids[1])
        #expect(try s.postbacks(PostbackQuery(results: [])).isEmpty)
        try s.write { (w: any LedgerWriter) throws(StoreError) in
            guard let lead = try w.lock(.rows([r.rowId])).first else { throw StoreError(.misuse, "lead A-1 not found") }
            try w.save(LeadWrite(rowId: r.rowId, facts: lead.facts, entry: nil,
                                 outgoing: [OutgoingPostback(leadRowId: r.rowId, source: "lc", kind: "leads", status: "approved", method: "GET", url: "u", nextAttemptAt: 5)]))
        }
        let due = try s.outgoing(OutgoingQuery(dueBy: 5))
        #expect(due.count == 1)
        try s.write { (w: any LedgerWriter) throws(StoreError) in
            try w.saveOutgoing(OutgoingDelivery(id: due[0].id, state: .due, nextAttemptAt: 60, error: "HTTP 500", at: 5))
        }
        #expect(try s.outgoing(OutgoingQuery(dueBy: 59)).isEmpty)
        try s.write { (w: any LedgerWriter) throws(StoreError) in
            try w.saveOutgoing(OutgoingDelivery(id: due[0].id, state: .delivered, nextAttemptAt: nil, error: nil, at: 61))
        }
        let after = try #require(try s.outgoingPostbacks(leadRowId: r.rowId).first)
        #expect(after.state == .delivered && after.attempts == 2 && after.lastError == nil)
    }

    /// `outgoing --failed` and `--replay`: failed postbacks are read by state and put back in
    /// the queue with a new round of attempts, their answers kept; others are left alone.
    @Test(arguments: StoreKind.allCases) func failedOutgoingPostbacksAreListedAndReplayed(kind: StoreKind) throws {
        let s = try Self.store(kind)
        let r = try inserted(Self.insert(s, Self.new("A-1")))
        try s.write { (w: any LedgerWriter) throws(StoreError) in
            guard let lead = try w.lock(.rows([r.rowId])).first else { throw StoreError(.misuse, "lead A-1 not found") }
            try w.save(LeadWrite(rowId: r.rowId, facts: lead.facts, entry: nil, outgoing: ["pending", "approved"].map {
                OutgoingPostback(leadRowId: r.rowId, source: "lc", kind: "referral", status: $0, method: "GET", url: "u", nextAttemptAt: 5)
            }))
        }
        let both = try s.outgoing(OutgoingQuery(dueBy: 5))
        #expect(both.count == 2)
        try s.write { (w: any LedgerWriter) throws(StoreError) in
            try w.saveOutgoing(OutgoingDelivery(id: both[0].id, state: .failed, nextAttemptAt: nil, error: "#1 HTTP 503: busy", at: 6))
            try w.saveOutgoing(OutgoingDelivery(id: both[1].id, state: .delivered, nextAttemptAt: nil, error: nil, at: 6))
        }
        let failed = try s.outgoing(OutgoingQuery(state: .failed))
        #expect(failed.map(\.id) == [both[0].id])
        #expect(try s.outgoing(OutgoingQuery(state: .delivered)).map(\.id) == [both[1].id])
        let replayed = try s.write { (w: any LedgerWriter) throws(StoreError) -> Int in try w.replayOutgoing(ids: [both[0].id, both[1].id, 999_999], at: 70) }
        #expect(replayed == 1)  // the delivered one and an unknown id are left alone
        let again = try #require(try s.outgoing(OutgoingQuery(dueBy: 70)).first)
        #expect(again.id == both[0].id && again.state == .due && again.attempts == 0 && again.nextAttemptAt == 70 && again.lastError == "#1 HTTP 503: busy")
        #expect(try s.outgoing(OutgoingQuery(state: .failed)).isEmpty)
        #expect(try s.outgoing(OutgoingQuery(dueBy: 69)).isEmpty)
    }
}
