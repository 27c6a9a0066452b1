import Foundation
import Testing
import LeadBridgeCore
import LeadBridgeEngine
import LeadBridgeStore

/// The console's tallies (SQLite; kept by the ledger's writer from schema 11) equal the leads'
/// own groupings after every kind of write leadbridge makes: intake and imports, send attempts,
/// postbacks through the receiver's writer, status reports from polls, imports and the
/// operator, poll pages, resends with an edited lead and another account, settles, a lead
/// changed twice in one transaction, and transactions that roll back.
@Suite struct TallyKeepingTests {
    /// Groups (of the funnel's key, then the final-time key) on which the tallies and a count
    /// of the leads disagree, either way; 0 when they agree.
    static func disagreements(_ store: SQLiteLeadStore) throws -> Int64 {
        let funnelLeads = """
            SELECT network, account, state, status, created_at / 86400, currency, payout, count(*) FROM leads
            GROUP BY network, account, state, status, created_at / 86400, currency, payout
            """
        let funnelTallies = """
            SELECT network, account, state, status, day, currency, payout, sum(n) FROM lead_tallies
            GROUP BY network, account, state, status, day, currency, payout HAVING sum(n) <> 0
            """
        let finalLeads = """
            SELECT state, created_at / 86400, network, account, (final_at - created_at) / 60, count(*) FROM leads WHERE final_at IS NOT NULL
            GROUP BY state, created_at / 86400, network, account, (final_at - created_at) / 60
            """
        let finalTallies = "SELECT state, day, network, account, minutes, sum(n) FROM final_tallies GROUP BY state, day, network, account, minutes HAVING sum(n) <> 0"
        func differing(_ a: String, _ b: String) -> String { "(SELECT count(*) FROM (\(a) EXCEPT \(b)))" }
        let sql = "SELECT " + [differing(funnelLeads, funnelTallies), differing(funnelTallies, funnelLeads), differing(finalLeads, finalTallies),
                               differing(finalTallies, finalLeads)].joined(separator: " + ") + " AS n"
        return try store.database.read { (tx: borrowing SQLiteTransaction) throws(StoreError) in try tx.query(sql, []).first?.int("n") ?? -1 }
    }

    @Test func tallyRowsFollowEveryWriterThroughRandomSequences() throws {
        let store = try EngineFixtures.store()
        #expect(store.database.schemaVersion >= 11)
        let clock = EngineFixtures.Clock()
        let ledger = Ledger(store: store, library: EngineFixtures.library, config: nil, clock: { clock.now() }, random: { 0.5 })
        let ingest = PostbackIngest(ledger: ledger, library: EngineFixtures.library)
        defer { ingest.shutdown() }
        var seed: UInt64 = 0x5DEE_CE66_D1CE_4E5B
        func next(_ n: Int) -> Int {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((seed >> 33) % UInt64(n))
        }
        var leads: [(rowId: Int64, orderId: String, network: String)] = []
        var serial = 0
        func newLead() -> Lead {
            serial += 1
            return EngineFixtures.lead(serial)
        }
        func anyBucket() -> Bucket { [.pending, .approved, .cancelled, .trash][next(4)] }
        var kinds = Set<Int>()
        for step in 0..<160 {
            clock.advance(Int64(next(4) == 0 ? 86_400 : next(600)))
            let kind = leads.isEmpty ? 0 : next(10)
            kinds.insert(kind)
            let pick = leads.isEmpty ? nil : leads[next(leads.count)]
            switch (kind, pick) {
            case (0, _), (_, nil):  // intake
                let network = ["leadrock", "kma"][next(2)]
                let r = try EngineFixtures.queued(ledger.enqueue(newLead(), network: network, account: ["a", "b"][next(2)]))
                leads.append((r.rowId, r.orderId, network))
            case (1, _):  // an import of a few leads
                let network = ["leadrock", "kma"][next(2)]
                for result in try ledger.enqueueAll([newLead(), newLead(), newLead()], network: network, account: "imp", origin: .import) {
                    let r = try EngineFixtures.queued(result)
                    leads.append((r.rowId, r.orderId, network))
                }
            case (2, let l?):  // a send attempt and its answer
                let kind: OutcomeKind = [.accepted, .accepted, .rejected, .failed, .duplicate][next(5)]
                if try ledger.claim(rowId: l.rowId, owner: "w/1/1", lease: 60) != nil, try ledger.requestWritten(rowId: l.rowId, owner: "w/1/1") {
                    _ = try ledger.answered(rowId: l.rowId, outcome: SendOutcome(kind: kind, externalId: kind == .accepted ? "E\(l.rowId)" : nil), durationMs: 3)
                }
            case (3, let l?):  // a postback through the receiver's writer
                let word = ["approve", "cancel", "trash"][next(3)]
                let reply = ingest.ingest(RawPostback(receivedAt: clock.now(), network: "leadrock", remote: "127.0.0.1", method: "GET", path: "/postback/leadrock",
                                                      query: "oid=\(l.network == "leadrock" ? l.orderId : "none")&status=\(word)", body: []))
                #expect([200, 404].contains(reply.status), "\(reply)")
            case (4, let l?):  // a status report of a poll, an import or the operator
                let b = anyBucket()
                _ = try ledger.report([(l.rowId, StatusReport(status: LeadStatus(bucket: b, raw: b.rawValue), source: [.poll, .import, .operator][next(3)],
                                                              network: l.network, payout: b == .approved ? ["10", "7.5"][next(2)] : nil))])
            case (5, let l?):  // a poll page
                _ = try ledger.claimPollPage(network: l.network, before: clock.now(), afterRowId: 0, limit: 1 + next(4))
            case (6, let l?):  // a resend with an edited lead under another account
                var lead = newLead()
                lead.id = l.orderId
                _ = try ledger.resend(rowId: l.rowId, lead: lead, account: ["moved", "a"][next(2)])
            case (7, let l?):
                _ = try ledger.settle(rowId: l.rowId, as: SettleAs.allCases[next(SettleAs.allCases.count)])
            case (8, let l?):  // one lead changed twice in one transaction
                let other = leads[next(leads.count)]
                _ = try ledger.reportUpdates([(l.rowId, StatusReport(status: LeadStatus(bucket: .pending, raw: "hold"), source: .poll, network: l.network)),
                                              (other.rowId, StatusReport(status: LeadStatus(bucket: anyBucket()), source: .poll, network: other.network)),
                                              (l.rowId, StatusReport(status: LeadStatus(bucket: anyBucket()), source: .poll, network: l.network, payout: "3"))])
            case (_, let l?):  // changes, then the transaction rolls back
                let before = try Self.disagreements(store)
                var rolledBack = false
                do {
                    try store.write { (w: any LedgerWriter) throws(StoreError) in
                        _ = try ledger.reportUpdates(in: w, [(l.rowId, StatusReport(status: LeadStatus(bucket: .approved), source: .poll, network: l.network,
                                                                                    payout: "99"))])
                        _ = try w.insert(NewLead(lead: newLead(), network: l.network, account: "x",
                                                 facts: LeadFacts(state: .queued, dueAt: clock.now(), updatedAt: clock.now()),
                                                 entry: JournalEntry(at: clock.now(), kind: .queued, source: .intake, toState: .queued)))
                        throw StoreError(.misuse, "rolled back on purpose")
                    }
                } catch { rolledBack = true }
                #expect(rolledBack)
                #expect(before == 0)
            }
            let wrong = try Self.disagreements(store)
            #expect(wrong == 0, "after step \(step) (kind \(kind)): \(wrong) groups disagree")
            if wrong != 0 { return }
        }
        #expect(kinds.count == 10)
        // Not an empty walk: statuses, finals and accounts moved.
        let r = try store.database.read { (tx: borrowing SQLiteTransaction) throws(StoreError) in
            try tx.query("SELECT (SELECT count(*) FROM leads WHERE final_at IS NOT NULL) AS finals, (SELECT count(*) FROM leads WHERE account = 'moved') AS moved, "
                         + "(SELECT count(*) FROM leads WHERE status IS NOT NULL) AS statuses", []).first
        }
        #expect((r?.int("finals") ?? 0) > 3 && (r?.int("moved") ?? 0) > 0 && (r?.int("statuses") ?? 0) > 10, "\(String(describing: r))")
    }
}
