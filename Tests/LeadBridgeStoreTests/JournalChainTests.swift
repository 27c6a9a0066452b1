import Foundation
import Testing
import LeadBridgeCore
import LeadBridgeTestSupport
@testable import LeadBridgeStore

/// A lead's history (`journal(rowId:)`): on SQLite the chain from `leads.journal_head` through
/// `journal.prev` (schema 10), on PostgreSQL the index `journal_lead`. Both must give every entry
/// written for the lead, oldest first, whatever wrote it.
@Suite struct JournalChainTests {
    static func entry(_ n: Int, at: Int64) -> JournalEntry {
        switch n % 3 {
        case 0: return JournalEntry(at: at, kind: .status, source: .postback, fromStatus: .pending, toStatus: .approved, raw: "r\(n)")
        case 1: return JournalEntry(at: at, kind: .attempt, source: .send, fromState: .sending, toState: .accepted,
                                    attempt: AttemptRecord(number: n, outcome: .accepted, receipt: nil, httpStatus: 200, durationMs: 5))
        default: return JournalEntry(at: at, kind: .status, source: .poll, fromStatus: nil, toStatus: .pending, raw: "p\(n)")
        }
    }

    /// A deterministic walk: leads inserted (their first entry), then entries written with new
    /// facts, with the same facts (only the entry), with `before` given or not, several in one
    /// transaction, and writes with no entry. Every lead's history equals the entries written
    /// for it, in order; on SQLite also the plain rows by `lead_id`.
    @Test(arguments: StoreKind.allCases) func historyIsEveryEntryOfTheLeadInOrder(kind: StoreKind) throws {
        let s = try kind.make()
        var rng = SplitMix(seed: 10)
        var written: [Int64: [JournalEntry]] = [:]
        var facts: [Int64: LeadFacts] = [:]
        var at: Int64 = 1000
        for i in 0..<12 {
            let first = JournalEntry(at: at, kind: .queued, source: .intake, toState: .queued)
            let new = NewLead(lead: Lead(id: "J-\(i)", phone: "+79001234567"), network: i % 2 == 0 ? "kma" : "drcash", account: "acc",
                              facts: LeadFacts(state: .queued, dueAt: at, updatedAt: at), entry: first)
            guard case .inserted(let r) = try s.write({ (w: any LedgerWriter) throws(StoreError) in try w.insert(new) }) else { throw StoreError(.misuse, "exists") }
            written[r.rowId] = [first]
            facts[r.rowId] = new.facts
        }
        let ids = written.keys.sorted()
        for step in 0..<40 {
            at += 1
            let batch = Array(ids.shuffled(using: &rng).prefix(Int.random(in: 1...4, using: &rng)))
            var writes: [LeadWrite] = []
            for id in batch {
                let before = facts[id]!
                var after = before
                if Bool.random(using: &rng) { after = ReportsTests.accepted(Bool.random(using: &rng) ? .pending : .approved, at: at) }
                let e: JournalEntry? = Int.random(in: 0...4, using: &rng) == 0 ? nil : Self.entry(step, at: at)
                writes.append(LeadWrite(rowId: id, facts: after, before: Bool.random(using: &rng) ? before : nil, entry: e))
                if let e { written[id, default: []].append(e) }
                facts[id] = after
            }
            try s.write { (w: any LedgerWriter) throws(StoreError) in
                _ = try w.lock(.rows(batch))
                for write in writes { try w.save(write) }
            }
        }
        for id in ids {
            #expect(try s.journal(rowId: id) == written[id], "lead \(id)")
            #expect(try s.record(rowId: id)?.facts == facts[id], "lead \(id)")
        }
        if let sqlite = s as? SQLiteLeadStore {
            // Each lead's head is its newest entry and each link the entry before it.
            let broken = try sqlite.sql("""
                SELECT j.id FROM journal j WHERE j.prev IS NOT (SELECT max(k.id) FROM journal k WHERE k.lead_id = j.lead_id AND k.id < j.id)
                UNION ALL SELECT l.id FROM leads l WHERE l.journal_head IS NOT (SELECT max(k.id) FROM journal k WHERE k.lead_id = l.id)
                """)
            #expect(broken.isEmpty)
        }
        #expect(written.values.map(\.count).reduce(0, +) > 40)
    }

    /// A ledger of schema 9 (the index `journal_lead`) is carried forward: every entry linked,
    /// the index gone, each lead's history the same; entries written after the step join it.
    @Test func aLedgerOfSchemaNineGetsItsChains() throws {
        let path = TempFiles.path()
        var before: [Int64: [JournalEntry]] = [:]
        do {
            let v9 = try SQLiteLeadStore(path: path, migrations: SQLiteLeadStore.migrations.filter { $0.version <= 9 })
            #expect(v9.database.schemaVersion == 9)
            var ids: [Int64] = []
            for i in 0..<4 { ids.append(try ReportsTests.lead(v9, "N-\(i)", at: 100, facts: ReportsTests.accepted(.pending, at: 100))) }
            for (n, id) in [ids[0], ids[2], ids[0], ids[3], ids[0]].enumerated() {
                try v9.write { (w: any LedgerWriter) throws(StoreError) in
                    _ = try w.lock(.rows([id]))
                    try w.save(LeadWrite(rowId: id, facts: ReportsTests.accepted(.pending, at: 100), entry: Self.entry(n, at: 200 + Int64(n))))
                }
            }
            for id in ids { before[id] = try v9.journal(rowId: id) }
            #expect(before[ids[0]]?.count == 4 && before[ids[1]]?.count == 1)
        }
        let store = try SQLiteLeadStore(path: path)
        #expect(store.database.migrationReport.applied.map(\.version) == [10, 11])
        let indexes = Set(try store.sql("SELECT name FROM sqlite_master WHERE type = 'index'").compactMap { $0.text("name") })
        #expect(!indexes.contains("journal_lead") && !indexes.contains("journal_links"))
        for (id, entries) in before {
            #expect(try store.journal(rowId: id) == entries, "lead \(id)")
        }
        let id = try #require(before.keys.min())
        let next = Self.entry(7, at: 300)
        try store.write { (w: any LedgerWriter) throws(StoreError) in
            _ = try w.lock(.rows([id]))
            try w.save(LeadWrite(rowId: id, facts: ReportsTests.accepted(.approved, at: 300), entry: next))
        }
        #expect(try store.journal(rowId: id) == (before[id] ?? []) + [next])
    }

    /// A lead's history is read by row ids alone, on a fresh ledger and on one with statistics
    /// (ANALYZE, as an operator may run it): with a join in the recursive step, SQLite planned
    /// a Bloom filter built from the whole journal on an analyzed one.
    @Test func historyReadsRowIdsOnlyWhateverTheStatistics() throws {
        let store = try SQLiteLeadStore(path: TempFiles.path())
        let id = try ReportsTests.lead(store, "H-1", at: 100, facts: ReportsTests.accepted(.pending, at: 100))
        func plan() throws -> String {
            try store.sql("EXPLAIN QUERY PLAN " + SQLiteSchema.journalOfLead, [.int(id)]).compactMap { $0.text("detail") }.joined(separator: "; ")
        }
        for analyzed in [false, true] {
            if analyzed {
                // The statistics ANALYZE gave bench/console.sh's ledger (100,000 leads, 332,000
                // journal entries), under which the join form read the whole journal.
                _ = try store.sql("ANALYZE")
                _ = try store.sql("DELETE FROM sqlite_stat1")
                _ = try store.sql("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('journal', NULL, '332000'), ('leads', 'sqlite_autoindex_leads_1', '100000 33334 1')")
                _ = try store.sql("ANALYZE sqlite_schema")
            }
            let p = try plan()
            #expect(p.contains("SEARCH journal USING INTEGER PRIMARY KEY") && p.contains("SEARCH leads USING INTEGER PRIMARY KEY"), "\(p)")
            #expect(!p.contains("BLOOM") && !p.contains("SCAN journal") && !p.contains("SCAN j") && !p.contains("SCAN leads"), "analyzed \(analyzed): \(p)")
        }
        #expect(try store.journal(rowId: id).count == 1)
    }

    /// `copy-store` into SQLite: the rows come with their ids, and the copy links them and
    /// counts their tallies (schema 11: the copied rows did not go through the writer).
    @Test func aCopiedLedgerKeepsEachHistory() throws {
        let source = try SQLiteLeadStore(path: TempFiles.path())
        var ids: [Int64] = []
        for i in 0..<3 { ids.append(try ReportsTests.lead(source, "C-\(i)", at: 100, facts: ReportsTests.accepted(.pending, at: 100))) }
        for (n, id) in [ids[1], ids[0], ids[1]].enumerated() {
            try source.write { (w: any LedgerWriter) throws(StoreError) in
                _ = try w.lock(.rows([id]))
                try w.save(LeadWrite(rowId: id, facts: ReportsTests.accepted(.pending, at: 100), entry: Self.entry(n, at: 200 + Int64(n))))
            }
        }
        let target = try SQLiteLeadStore(path: TempFiles.path())
        _ = try LedgerCopy.copy(from: source, to: target)
        for id in ids {
            let history = try source.journal(rowId: id)
            #expect(!history.isEmpty)
            #expect(try target.journal(rowId: id) == history, "lead \(id)")
        }
        #expect(try TallyChecks.mismatches(target).isEmpty)
        #expect(try target.sql("SELECT sum(n) AS n FROM lead_tallies").first?.int("n") == 3)
    }
}
