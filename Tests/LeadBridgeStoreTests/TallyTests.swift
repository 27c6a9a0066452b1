import Foundation
import Testing
import LeadBridgeCore
import LeadBridgeTestSupport
@testable import LeadBridgeStore

/// What the SQLite tallies (schema 7) must always equal: the same groupings computed from the
/// leads themselves.
enum TallyChecks {
    static let funnelFromLeads = """
        SELECT network, account, state, status, created_at / 86400 AS day, currency, payout, count(*) AS n FROM leads
        GROUP BY network, account, state, status, created_at / 86400, currency, payout
        """
    static let funnelFromTallies = """
        SELECT network, account, state, status, day, currency, payout, sum(n) AS n FROM lead_tallies
        GROUP BY network, account, state, status, day, currency, payout HAVING sum(n) <> 0
        """
    static let finalFromLeads = """
        SELECT state, created_at / 86400 AS day, network, account, (final_at - created_at) / 60 AS minutes, count(*) AS n FROM leads
        WHERE final_at IS NOT NULL GROUP BY state, created_at / 86400, network, account, (final_at - created_at) / 60
        """
    static let finalFromTallies = """
        SELECT state, day, network, account, minutes, sum(n) AS n FROM final_tallies GROUP BY state, day, network, account, minutes HAVING sum(n) <> 0
        """

    /// The groups where the tallies and the leads disagree (empty when they agree), with the
    /// number of groups compared.
    static func mismatches(_ store: SQLiteLeadStore) throws -> [String] {
        func groups(_ sql: String, _ columns: [String]) throws -> [String: Int64] {
            var out: [String: Int64] = [:]
            for r in try store.sql(sql) {
                out[columns.map { r.text($0) ?? r.int($0).map(String.init) ?? "∅" }.joined(separator: "|")] = r.int("n") ?? 0
            }
            return out
        }
        let funnel = ["network", "account", "state", "status", "day", "currency", "payout"]
        let final = ["state", "day", "network", "account", "minutes"]
        var out: [String] = []
        for (what, a, b, columns) in [("funnel", funnelFromLeads, funnelFromTallies, funnel), ("final", finalFromLeads, finalFromTallies, final)] {
            let leads = try groups(a, columns), tallies = try groups(b, columns)
            for key in Set(leads.keys).union(tallies.keys) where leads[key] != tallies[key] {
                out.append("\(what) \(key): leads \(leads[key] ?? 0), tallies \(tallies[key] ?? 0)")
            }
        }
        return out
    }
}

@Suite struct TallyTests {
    /// A deterministic walk over lead writes (inserts, status changes with payouts and final
    /// times, state changes, repeats that change nothing, through the writer with and without
    /// the facts it read; an account move and deletes by ad-hoc SQL followed by
    /// `recountTallies`, as the README says): after every step the tallies equal the leads' own
    /// groupings, and the report reads agree with them.
    @Test func tallyRowsFollowEveryLeadWrite() throws {
        let store = try SQLiteLeadStore(path: TempFiles.path())
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ n: Int) -> Int {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((seed >> 33) % UInt64(n))
        }
        let day: Int64 = 86_400
        var rows: [Int64] = []
        for i in 0..<120 {
            let step = rows.isEmpty ? 0 : next(10)
            switch step {
            case 0...2:
                let at = Int64(next(4)) * day + Int64(next(86_400))
                rows.append(try ReportsTests.lead(store, "T-\(i)", network: ["kma", "drcash"][next(2)], account: ["a", "b"][next(2)], at: at,
                                                  facts: LeadFacts(state: .queued, dueAt: at, updatedAt: at)))
            case 3...7:
                let id = rows[next(rows.count)]
                let lead = try #require(try store.record(rowId: id))
                let bucket: Bucket? = [nil, .pending, .approved, .cancelled, .trash][next(5)]
                let payout: String? = bucket == .approved ? ["10", "700", nil][next(3)] : nil
                let state: SendState = [.accepted, .accepted, .uncertain, .rejected][next(4)]
                let finalAt: Int64? = bucket?.isFinal == true ? lead.createdAt + Int64(next(3) * 60 + next(120)) : lead.facts.finalAt
                let facts = LeadFacts(state: state, reach: .held, status: bucket.map { LeadStatus(bucket: $0) }, payout: payout,
                                      currency: payout == nil ? nil : ["USD", "RUB"][next(2)], finalAt: finalAt, updatedAt: lead.createdAt + 1)
                try store.write { (w: any LedgerWriter) throws(StoreError) in
                    let before = try w.lock(.rows([id])).first?.facts
                    try w.save(LeadWrite(rowId: id, facts: facts, before: next(2) == 0 ? before : nil, entry: nil))
                }
            case 8:
                let id = rows[next(rows.count)]
                try store.database.write { (tx: borrowing SQLiteTransaction) throws(StoreError) in
                    try tx.run("UPDATE leads SET account = ?, created_at = created_at + ? WHERE id = ?", [.text("moved"), .int(day), .int(id)])
                    try tx.connection.exec(SQLiteSchema.recountTallies)
                }
            default:
                let id = rows.remove(at: next(rows.count))
                try store.database.write { (tx: borrowing SQLiteTransaction) throws(StoreError) in
                    try tx.run("DELETE FROM journal WHERE lead_id = ?", [.int(id)])
                    try tx.run("DELETE FROM leads WHERE id = ?", [.int(id)])
                    try tx.connection.exec(SQLiteSchema.recountTallies)
                }
            }
            let wrong = try TallyChecks.mismatches(store)
            #expect(wrong.isEmpty, "after step \(i) (\(step)): \(wrong)")
            if !wrong.isEmpty { return }
        }
        // The reads agree with the leads' own groups.
        let period = LedgerPeriod(from: 0, to: 5 * day)
        let counted = Int(try store.sql("SELECT count(*) AS n FROM leads WHERE created_at < ?", [.int(5 * day)]).first?.int("n") ?? 0)
        #expect(try store.leadTallies(period).map(\.count).reduce(0, +) == counted)
        let finals = Int(try store.sql("SELECT count(*) AS n FROM leads WHERE state = 'accepted' AND final_at IS NOT NULL AND created_at < ?",
                                       [.int(5 * day)]).first?.int("n") ?? 0)
        #expect(try store.finalTimings(period, state: .accepted).map(\.count).reduce(0, +) == finals)
        #expect(finals > 0 && counted > 20)
    }

    /// A ledger of schema 6 (the indexes `leads_funnel` and `leads_final`) is carried forward:
    /// its tallies are filled from its leads, the two indexes are gone, and the reports read the
    /// groups the leads make.
    @Test func aLedgerOfSchemaSixGetsItsTallies() throws {
        let path = TempFiles.path()
        let day: Int64 = 86_400
        do {
            let v6 = try SQLiteLeadStore(path: path, migrations: SQLiteLeadStore.migrations.filter { $0.version <= 6 })
            #expect(v6.database.schemaVersion == 6)
            try ReportsTests.lead(v6, "A", at: 1000, facts: ReportsTests.accepted(.approved, payout: "2", at: 1000, finalAt: 1600))
            try ReportsTests.lead(v6, "B", at: 2000, facts: ReportsTests.accepted(.approved, payout: "2", at: 2000, finalAt: 9200))
            try ReportsTests.lead(v6, "C", network: "drcash", at: day + 5, facts: ReportsTests.accepted(.trash, at: day + 65, finalAt: day + 65))
            try ReportsTests.lead(v6, "D", at: day + 6, facts: LeadFacts(state: .queued, dueAt: 50, updatedAt: day + 6))
            try ReportsTests.lead(v6, "E", at: 2 * day, facts: ReportsTests.accepted(.pending, at: 2 * day))
        }
        let store = try SQLiteLeadStore(path: path)
        #expect(store.database.migrationReport.applied.map(\.version) == [7, 8, 9, 10, 11])
        #expect(try TallyChecks.mismatches(store).isEmpty)
        let indexes = Set(try store.sql("SELECT name FROM sqlite_master WHERE type = 'index'").compactMap { $0.text("name") })
        #expect(!indexes.contains("leads_funnel") && !indexes.contains("leads_final") && indexes.contains("lead_tallies_key"))
        let period = LedgerPeriod(from: 0, to: 2 * day)
        let tallies = try store.leadTallies(period).sorted { ($0.day, $0.network, $0.state?.rawValue ?? "") < ($1.day, $1.network, $1.state?.rawValue ?? "") }
        #expect(tallies == [
            LeadTally(network: "kma", account: "acc", day: 0, state: .accepted, status: .approved, currency: "USD", payout: "2", count: 2),
            LeadTally(network: "drcash", account: "acc", day: 1, state: .accepted, status: .trash, count: 1),
            LeadTally(network: "kma", account: "acc", day: 1, state: .queued, status: nil, count: 1),
        ])
        #expect(Set(try store.finalTimings(period, state: .accepted)) == [
            FinalTiming(network: "kma", account: "acc", minutes: 10, count: 1), FinalTiming(network: "kma", account: "acc", minutes: 120, count: 1),
            FinalTiming(network: "drcash", account: "acc", minutes: 1, count: 1)])
    }

    /// A ledger of schema 10 (tallies kept by triggers) is carried to 11: the triggers are gone,
    /// the tallies still equal the leads, and the writer keeps them so — a new lead, a status
    /// change to a final status with a payout, a lead saved twice in one transaction, and a
    /// transaction that rolls back.
    @Test func aLedgerOfSchemaTenHandsItsTalliesToTheWriter() throws {
        let path = TempFiles.path()
        do {
            let v10 = try SQLiteLeadStore(path: path, migrations: SQLiteLeadStore.migrations.filter { $0.version <= 10 })
            try ReportsTests.lead(v10, "A", at: 1000, facts: ReportsTests.accepted(.approved, payout: "2", at: 1000, finalAt: 1600))
            try ReportsTests.lead(v10, "B", at: 2000, facts: ReportsTests.accepted(.pending, at: 2000))
            #expect(try TallyChecks.mismatches(v10).isEmpty)
        }
        let store = try SQLiteLeadStore(path: path)
        #expect(store.database.migrationReport.applied.map(\.version) == [11])
        #expect(try store.sql("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'leads_tally%'").isEmpty)
        #expect(try TallyChecks.mismatches(store).isEmpty)
        let c = try ReportsTests.lead(store, "C", at: 90_000, facts: ReportsTests.accepted(.pending, at: 90_000))
        let b = try #require(try store.lead(network: "kma", orderId: "B"))
        try store.write { (w: any LedgerWriter) throws(StoreError) in
            let locked = try w.lock(.rows([b.rowId, c]))
            for r in locked {
                let mid = ReportsTests.accepted(.trash, at: r.createdAt + 60, finalAt: r.createdAt + 60)
                try w.save(LeadWrite(rowId: r.rowId, facts: mid, before: r.facts, entry: nil))
                try w.save(LeadWrite(rowId: r.rowId, facts: ReportsTests.accepted(.approved, payout: "5", at: r.createdAt + 600, finalAt: r.createdAt + 600),
                                     before: mid, entry: nil))
            }
        }
        #expect(try TallyChecks.mismatches(store).isEmpty)
        let tallies = try store.sql("SELECT sum(n) AS n FROM lead_tallies WHERE status = 'approved' AND payout = '5'").first?.int("n")
        #expect(tallies == 2)
        #expect(throws: StoreError.self) {
            try store.write { (w: any LedgerWriter) throws(StoreError) in
                try w.save(LeadWrite(rowId: c, facts: ReportsTests.accepted(.cancelled, at: 99_000, finalAt: 99_000), entry: nil))
                throw StoreError(.misuse, "rolled back on purpose")
            }
        }
        #expect(try TallyChecks.mismatches(store).isEmpty)
        #expect(try store.sql("SELECT sum(n) AS n FROM lead_tallies WHERE status = 'cancelled'").first?.int("n") ?? 0 == 0)
    }

    /// The recount the README gives for ad-hoc changes of `leads`, and the one the benchmarks'
    /// sqlite3 seeds end with, are the statements `copy-store` runs (compared word by word).
    @Test func theDocumentedRecountIsTheStoresOwn() throws {
        func words(_ s: String) -> String { s.split(whereSeparator: { $0 == " " || $0 == "\n" }).joined(separator: " ") }
        let recount = words(SQLiteSchema.recountTallies)
        for file in ["README.md", "bench/lib.sh"] {
            let text = words(try String(contentsOfFile: PackageFixtures.root + "/" + file, encoding: .utf8))
            #expect(text.contains(recount), "\(file) does not give SQLiteSchema.recountTallies")
        }
    }

    /// Every reader of the ledger keeps a plan that uses an index (SQLite's EXPLAIN QUERY PLAN):
    /// the funnel and final-time pages read the tallies by their keys, the poll plan, the due
    /// leads, a lead's history and the postbacks that named a lead use their indexes, and none
    /// reads the whole `leads` or `raw_postbacks` table.
    @Test func everyReaderKeepsAnIndexedPlan() throws {
        let store = try SQLiteLeadStore(path: TempFiles.path())
        func plan(_ s: (sql: String, values: [SQLValue])) throws -> String {
            try store.sql("EXPLAIN QUERY PLAN " + s.sql, s.values).compactMap { $0.text("detail") }.joined(separator: "; ")
        }
        let period = LedgerPeriod(from: 0, to: 86_400 * 7, network: "kma", account: "a")
        let funnel = try plan(ReportQueries.leadTallies(period, .sqlite))
        #expect(funnel.contains("lead_tallies") && funnel.contains("lead_tallies_key") && !funnel.contains("leads "), "\(funnel)")
        let final = try plan(ReportQueries.finalTimings(period, state: .accepted, .sqlite))
        #expect(final.contains("final_tallies USING PRIMARY KEY"), "\(final)")
        let byOrder = SQLLedger.postbackSelect(PostbackQuery(network: "kma", orderId: "A", limit: 200), .sqlite)!
        let byBoth = SQLLedger.postbackSelect(PostbackQuery(network: "kma", orderId: "A", externalId: "X", limit: 200), .sqlite)!
        let claimWhere = SQLLedgerWriter.due(network: "kma", now: 0, limit: 32, accounts: .only(["a", "b"]), .sqlite)
        let claim = ("SELECT \(SQLLedger.columns) FROM leads WHERE " + claimWhere.sql, claimWhere.values)
        let passDue = SQLLedger.select(LeadQuery(network: "kma", dueBy: 0, accounts: .only(["a"]), limit: 10_000, withData: false), .sqlite)
        let readers: [(String, (sql: String, values: [SQLValue]), String)] = [
            ("poll", (SQLiteSchema.pollPage, [.text("kma"), .int(0), .int(0), .int(100)]), "SEARCH poll_leads USING PRIMARY KEY (network=? AND id>?)"),
            ("poll's row", (SQLiteSchema.pollPage, [.text("kma"), .int(0), .int(0), .int(100)]), "SEARCH leads USING INTEGER PRIMARY KEY (rowid=?)"),
            ("poll's sweep", (SQLiteSchema.pollSweep, [.text("kma"), .int(0), .int(100)]), "SEARCH poll_leads USING PRIMARY KEY (network=? AND id>? AND id<?)"),
            ("due", ("SELECT id FROM leads WHERE due_at IS NOT NULL AND due_at <= ? ORDER BY due_at, id LIMIT ?", [.int(0), .int(100)]), "leads_due"),
            // A claim window and a pass's list of due leads, of one network and its accounts:
            // the partial index of due leads, never the network's every lead (`leads` whole).
            ("claim", claim, "SEARCH leads USING INDEX leads_due"),
            ("pass's due leads", passDue, "SEARCH leads USING INDEX leads_due"),
            ("history", (SQLiteSchema.journalOfLead, [.int(1)]), "SEARCH leads USING INTEGER PRIMARY KEY (rowid=?)"),
            ("history's links", (SQLiteSchema.journalOfLead, [.int(1)]), "SEARCH j USING INTEGER PRIMARY KEY (rowid=?)"),
            ("history's entries", (SQLiteSchema.journalOfLead, [.int(1)]), "SEARCH journal USING INTEGER PRIMARY KEY (rowid=?)"),
            ("lead's postbacks", byOrder, "SEARCH raw_postback_orders USING PRIMARY KEY (network=? AND order_id=?)"),
            ("lead's postbacks past the index", byOrder, "SEARCH raw_postbacks USING INTEGER PRIMARY KEY (rowid>?)"),
            ("lead's postbacks by both ids", byBoth, "SEARCH raw_postback_orders USING PRIMARY KEY (network=? AND order_id=?)"),
            ("lead's postbacks by both ids past the index", byBoth, "SEARCH raw_postbacks USING INTEGER PRIMARY KEY (rowid>?)"),
            ("lead's postbacks by both ids", byBoth, "raw_postbacks_external (network=? AND external_id=?)"),
        ]
        for (name, statement, index) in readers {
            // The order index's mark is one row (`raw_postbacks_indexed`): reading it whole is one page.
            let p = try plan(statement).replacingOccurrences(of: "SCAN raw_postbacks_indexed", with: "")
            #expect(p.contains(index) && !p.contains("SCAN leads") && !p.contains("SCAN raw_postbacks"), "\(name): \(p)")
        }
    }
}
