import Foundation
import Testing
import LeadBridgeCore
import LeadBridgeTestSupport
@testable import LeadBridgeStore

/// The poll pages (`lock(.pollable)`): on SQLite read through `poll_leads` (schema 9), a list
/// swept by the passes; on PostgreSQL through the partial index. Both must give exactly the
/// leads a plain query over `leads` selects.
@Suite struct PollListTests {
    /// Facts of an accepted lead with `bucket` (pollable while not final), or an uncertain one.
    static func facts(_ pick: Int, at: Int64) -> LeadFacts {
        switch pick {
        case 0: return LeadFacts(state: .uncertain, reach: .maybe, updatedAt: at)
        case 1: return LeadFacts(state: .queued, dueAt: at, updatedAt: at)
        case 2: return ReportsTests.accepted(.approved, at: at, finalAt: at)
        case 3: return ReportsTests.accepted(.trash, at: at, finalAt: at)
        default: return ReportsTests.accepted(.pending, at: at)
        }
    }

    /// One pass in pages of `limit`, as `Ledger.claimPollPage` takes them (each page marked
    /// polled at `now`), and the same pass computed from the leads alone.
    static func pass(_ s: any LeadStore, network: String, before: Int64, now: Int64, limit: Int) throws -> (pages: [Int64], model: [Int64]) {
        let model = try s.leads(LeadQuery(network: network, pollableBefore: before, limit: 1_000_000)).map(\.rowId)
        var pages: [Int64] = []
        var after: Int64 = 0
        while true {
            let page = try s.write { (w: any LedgerWriter) throws(StoreError) -> [LeadRecord] in
                let page = try w.lock(.pollable(network: network, before: before, afterRowId: after, limit: limit))
                try w.markPolled(rowIds: page.map(\.rowId), at: now)
                return page
            }
            #expect(page.allSatisfy { $0.network == network && $0.facts.pollable })
            pages += page.map(\.rowId)
            guard page.count == limit, let last = page.last else { break }
            after = last.rowId
        }
        return (pages, model)
    }

    /// A deterministic walk of writes (new leads, status changes both ways, leads polled):
    /// after each step, a whole pass in small pages gives exactly the model's leads in id order,
    /// and on SQLite the list then holds exactly the pollable leads (the pass swept the rest).
    @Test(arguments: StoreKind.allCases) func pagesAreTheLeadsAPlainQuerySelects(kind: StoreKind) throws {
        let s = try kind.make()
        var rng = SplitMix(seed: 11)
        var ids: [Int64] = []
        var now: Int64 = 1000
        for step in 0..<12 {
            for i in 0..<12 {
                let network = Bool.random(using: &rng) ? "kma" : "drcash"
                ids.append(try ReportsTests.lead(s, "S\(step)-\(i)", network: network, at: now, facts: Self.facts(Int.random(in: 0...5, using: &rng), at: now)))
            }
            for id in ids.shuffled(using: &rng).prefix(10) {
                let f = Self.facts(Int.random(in: 0...5, using: &rng), at: now)
                try s.write { (w: any LedgerWriter) throws(StoreError) in
                    _ = try w.lock(.rows([id]))
                    try w.save(LeadWrite(rowId: id, facts: f, entry: nil))
                }
            }
            now += 10
            for network in ["kma", "drcash"] {
                // Every other step asks only about leads not polled since the last pass.
                let before = step % 2 == 0 ? now : now - 5
                let (pages, model) = try Self.pass(s, network: network, before: before, now: now, limit: 3)
                #expect(pages == model, "step \(step) \(network)")
            }
            if let sqlite = s as? SQLiteLeadStore {
                let listed = try sqlite.sql("SELECT network, id FROM poll_leads ORDER BY network, id").map { "\($0.text("network") ?? "") \($0.int("id") ?? 0)" }
                let pollable = try sqlite.sql("SELECT network, id FROM leads WHERE pollable = 1 ORDER BY network, id").map { "\($0.text("network") ?? "") \($0.int("id") ?? 0)" }
                #expect(listed == pollable, "step \(step)")
            }
        }
        #expect(ids.count == 144)
    }

    /// A lead that goes final keeps its entry until a pass walks past it; a page that is full
    /// sweeps only up to its last lead.
    @Test func aFinalLeadLeavesItsEntryUntilAPassWalksPastIt() throws {
        let s = try SQLiteLeadStore(path: TempFiles.path())
        var ids: [Int64] = []
        for i in 1...6 { ids.append(try ReportsTests.lead(s, "P-\(i)", at: 100, facts: ReportsTests.accepted(.pending, at: 100))) }
        func listed() throws -> [Int64] { try s.sql("SELECT id FROM poll_leads ORDER BY id").compactMap { $0.int("id") } }
        #expect(try listed() == ids)
        for id in [ids[0], ids[1], ids[4]] {
            try s.write { (w: any LedgerWriter) throws(StoreError) in
                _ = try w.lock(.rows([id]))
                try w.save(LeadWrite(rowId: id, facts: ReportsTests.accepted(.approved, at: 200, finalAt: 200), entry: nil))
            }
        }
        #expect(try listed() == ids)  // the status changes left the entries
        let first = try s.write { (w: any LedgerWriter) throws(StoreError) in try w.lock(.pollable(network: "kma", before: 300, afterRowId: 0, limit: 2)) }
        #expect(first.map(\.rowId) == [ids[2], ids[3]])
        #expect(try listed() == [ids[2], ids[3], ids[4], ids[5]])  // swept up to the page's last lead
        let rest = try s.write { (w: any LedgerWriter) throws(StoreError) in try w.lock(.pollable(network: "kma", before: 300, afterRowId: ids[3], limit: 2)) }
        #expect(rest.map(\.rowId) == [ids[5]])
        #expect(try listed() == [ids[2], ids[3], ids[5]])
        // Pending again: listed again.
        try s.write { (w: any LedgerWriter) throws(StoreError) in
            _ = try w.lock(.rows([ids[0]]))
            try w.save(LeadWrite(rowId: ids[0], facts: ReportsTests.accepted(.pending, at: 400), entry: nil))
        }
        #expect(try listed() == [ids[0], ids[2], ids[3], ids[5]])
    }

    /// A ledger of schema 8 (the partial index `leads_poll`) is carried forward: the list holds
    /// its pollable leads, the index is gone, and a pass reads the same leads as before.
    @Test func aLedgerOfSchemaEightGetsItsPollList() throws {
        let path = TempFiles.path()
        var before: [Int64] = []
        do {
            let v8 = try SQLiteLeadStore(path: path, migrations: SQLiteLeadStore.migrations.filter { $0.version <= 8 })
            #expect(v8.database.schemaVersion == 8)
            for i in 0..<10 { _ = try ReportsTests.lead(v8, "M-\(i)", network: i % 3 == 0 ? "drcash" : "kma", at: 100, facts: Self.facts(i % 6, at: 100)) }
            before = try v8.leads(LeadQuery(network: "kma", pollableBefore: 500)).map(\.rowId)
        }
        let store = try SQLiteLeadStore(path: path)
        #expect(store.database.migrationReport.applied.map(\.version) == [9, 10, 11])
        let indexes = Set(try store.sql("SELECT name FROM sqlite_master WHERE type = 'index'").compactMap { $0.text("name") })
        #expect(!indexes.contains("leads_poll"))
        #expect(try store.sql("SELECT count(*) AS n FROM poll_leads").first?.int("n") == store.sql("SELECT count(*) AS n FROM leads WHERE pollable = 1").first?.int("n"))
        let page = try store.write { (w: any LedgerWriter) throws(StoreError) in try w.lock(.pollable(network: "kma", before: 500, afterRowId: 0, limit: 100)) }
        #expect(page.map(\.rowId) == before && before.count == 2)
    }
}
