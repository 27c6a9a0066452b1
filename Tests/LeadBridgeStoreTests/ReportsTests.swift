import Testing
import LeadBridgeCore
import LeadBridgeStore

/// `LedgerReports` on both stores: the groupings the console, `status` and `/metrics` read,
/// the lead search, and sync passes.
@Suite struct ReportsTests {
    /// A lead created at `at` with the given facts and journal (written as the port writes them).
    @discardableResult
    static func lead(_ s: any LeadStore, _ id: String, network: String = "kma", account: String = "acc", phone: String = "+79001234567", at: Int64,
                     facts: LeadFacts, journal: [JournalEntry] = []) throws -> Int64 {
        let new = NewLead(lead: Lead(id: id, phone: phone), network: network, account: account,
                          facts: LeadFacts(state: .queued, dueAt: at, updatedAt: at), entry: JournalEntry(at: at, kind: .queued, source: .intake, toState: .queued))
        guard case .inserted(let r) = try s.write({ (w: any LedgerWriter) throws(StoreError) in try w.insert(new) }) else { throw StoreError(.misuse, "exists") }
        try s.write { (w: any LedgerWriter) throws(StoreError) in
            _ = try w.lock(.rows([r.rowId]))
            try w.save(LeadWrite(rowId: r.rowId, facts: facts, entry: nil))
            for e in journal { try w.save(LeadWrite(rowId: r.rowId, facts: facts, entry: e)) }
        }
        return r.rowId
    }

    static func accepted(_ bucket: Bucket?, payout: String? = nil, at: Int64, finalAt: Int64? = nil) -> LeadFacts {
        LeadFacts(state: .accepted, reach: .held, status: bucket.map { LeadStatus(bucket: $0) }, payout: payout, currency: payout == nil ? nil : "USD",
                  finalAt: finalAt, updatedAt: at)
    }

    @Test(arguments: StoreKind.allCases) func groupingsAndTimings(kind: StoreKind) throws {
        let s = try kind.make()
        let day: Int64 = 86_400
        try Self.lead(s, "A", at: 1000, facts: Self.accepted(.approved, payout: "2", at: 1000, finalAt: 1000 + 600))
        try Self.lead(s, "B", at: 2000, facts: Self.accepted(.approved, payout: "2", at: 2000, finalAt: 2000 + 7200))
        try Self.lead(s, "C", at: day + 5, facts: Self.accepted(.trash, at: day + 65, finalAt: day + 65))
        try Self.lead(s, "D", at: day + 6, facts: LeadFacts(state: .queued, dueAt: 50, updatedAt: day + 6))
        try Self.lead(s, "E", network: "drcash", at: 3000, facts: LeadFacts(state: .uncertain, reach: .maybe, updatedAt: 3500))
        try Self.lead(s, "F", at: 3 * day, facts: Self.accepted(.approved, at: 3 * day)) // outside [0, 2 days)

        let tallies = try s.leadTallies(LedgerPeriod(from: 0, to: 2 * day)).sorted { ($0.day, $0.network, $0.state?.rawValue ?? "") < ($1.day, $1.network, $1.state?.rawValue ?? "") }
        #expect(tallies == [
            LeadTally(network: "drcash", account: "acc", day: 0, state: .uncertain, status: nil, count: 1),
            LeadTally(network: "kma", account: "acc", day: 0, state: .accepted, status: .approved, currency: "USD", payout: "2", count: 2),
            LeadTally(network: "kma", account: "acc", day: 1, state: .accepted, status: .trash, count: 1),
            LeadTally(network: "kma", account: "acc", day: 1, state: .queued, status: nil, count: 1),
        ])
        #expect(try s.leadTallies(LedgerPeriod(from: 0, to: 2 * day, network: "drcash")).map(\.count) == [1])
        // Minutes to the first final status of accepted leads: A 10, B 120, C 1.
        let timings = try s.finalTimings(LedgerPeriod(from: 0, to: 2 * day), state: .accepted)
        #expect(Set(timings) == [FinalTiming(network: "kma", account: "acc", minutes: 10, count: 1), FinalTiming(network: "kma", account: "acc", minutes: 120, count: 1),
                                 FinalTiming(network: "kma", account: "acc", minutes: 1, count: 1)])

        let states = try s.stateTallies(states: [.queued, .uncertain], dueCutoff: 60)
        #expect(states == [StateTally(network: "drcash", state: .uncertain, count: 1, oldestCreatedAt: 3000, oldestUpdatedAt: 3500, oldestDueAt: nil, overdue: 0),
                           StateTally(network: "kma", state: .queued, count: 1, oldestCreatedAt: day + 6, oldestUpdatedAt: day + 6, oldestDueAt: 50, overdue: 1)])
        #expect(try s.stateTallies(states: [.queued], dueCutoff: 49).first?.overdue == 0)
    }

    @Test(arguments: StoreKind.allCases) func searchByOrderPhoneAndDates(kind: StoreKind) throws {
        let s = try kind.make()
        let a = try Self.lead(s, "A_1%", phone: "+7 (900) 123-45-67", at: 100, facts: Self.accepted(nil, at: 100))
        let b = try Self.lead(s, "AB1", phone: "+79007654321", at: 200, facts: Self.accepted(.approved, at: 200))
        let c = try Self.lead(s, "XY", network: "drcash", account: "other", phone: "+380501234567", at: 300, facts: LeadFacts(state: .rejected, updatedAt: 300))
        func ids(_ q: LeadSearch) throws -> [Int64] { try s.searchLeads(q).map(\.rowId) }
        #expect(try ids(LeadSearch()) == [c, b, a])                          // newest first
        #expect(try ids(LeadSearch(orderIdPrefix: "A")) == [b, a])
        #expect(try ids(LeadSearch(orderIdPrefix: "A_")) == [a])              // `_` is a character, not a wildcard
        #expect(try ids(LeadSearch(orderIdPrefix: "A_1%")) == [a])
        #expect(try ids(LeadSearch(phoneEnding: "4567")) == [c, a])           // digits of "+7 (900) 123-45-67" and "+380501234567"
        #expect(try ids(LeadSearch(phoneEnding: "1234567")) == [c, a])
        #expect(try ids(LeadSearch(phoneEnding: "91234567")) == [])
        #expect(try ids(LeadSearch(network: "kma", status: .approved)) == [b])
        #expect(try ids(LeadSearch(account: "other", state: .rejected)) == [c])
        #expect(try ids(LeadSearch(createdFrom: 150, createdBefore: 300)) == [b])
        #expect(try ids(LeadSearch(beforeRowId: c, limit: 1)) == [b])
        #expect(try s.searchLeads(LeadSearch(orderIdPrefix: "A_1%")).first?.lead.phone == "+7 (900) 123-45-67")
    }

    @Test(arguments: StoreKind.allCases) func syncPassesKeepTheLatestAndTheTotals(kind: StoreKind) throws {
        let s = try kind.make()
        try s.recordSyncPasses([SyncPassRecord(network: "kma", startedAt: 10, finishedAt: 14, outcome: .ok, sent: 2, polled: 5, changes: 1),
                                SyncPassRecord(network: "drcash", startedAt: 10, finishedAt: 11, outcome: .unavailable, error: "account dr: KEY is not set")])
        try s.recordSyncPasses([SyncPassRecord(network: "kma", startedAt: 70, finishedAt: 80, outcome: .failed, error: "poll: HTTP 500")])
        let passes = try s.latestSyncPasses()
        #expect(passes.map(\.network) == ["drcash", "kma"])
        let kma = try #require(passes.last)
        #expect((kma.startedAt, kma.finishedAt, kma.outcome, kma.error, kma.sent) == (70, 80, .failed, "poll: HTTP 500", 0))
        #expect((kma.lastSuccessAt, kma.passes, kma.failedPasses, kma.totalSeconds) == (14, 2, 1, 14))
        #expect((passes[0].outcome, passes[0].lastSuccessAt, passes[0].failedPasses) == (.unavailable, nil, 1))
    }

    @Test(arguments: StoreKind.allCases) func postbacksAttemptsAndOutgoingCounted(kind: StoreKind) throws {
        let s = try kind.make()
        let r = try Self.lead(s, "A", at: 10, facts: Self.accepted(nil, at: 10), journal: [
            JournalEntry(at: 11, kind: .attempt, source: .send, attempt: AttemptRecord(number: 1, outcome: .failed, receipt: .notReceived)),
            JournalEntry(at: 12, kind: .attempt, source: .send, attempt: AttemptRecord(number: 2, outcome: .accepted, httpStatus: 200)),
        ])
        try s.write { (w: any LedgerWriter) throws(StoreError) in
            let ids = try w.logPostbacks([RawPostback(receivedAt: 20, network: "kma", remote: "203.0.113.1", method: "GET", path: "/postback/kma", query: "oid=A", body: []),
                                          RawPostback(receivedAt: 21, network: "kma", remote: "203.0.113.1", method: "GET", path: "/postback/kma", query: "oid=Z", body: []),
                                          RawPostback(receivedAt: 22, network: "kma", remote: "203.0.113.1", method: "GET", path: "/postback/kma", query: "",
                                                      body: [], result: .forbidden)])
            try w.savePostbackResults([RawPostbackResult(id: ids[0], result: .applied, leadRowId: r), RawPostbackResult(id: ids[1], result: .unmatched)])
            _ = try w.lock(.rows([r]))
            try w.save(LeadWrite(rowId: r, facts: Self.accepted(.approved, at: 30), entry: nil, outgoing: [
                OutgoingPostback(leadRowId: r, source: "leadcraft", kind: "leads", status: "approved", method: "GET", url: "https://x/", nextAttemptAt: 40)]))
        }
        #expect(Set(try s.postbackTallies()) == [PostbackTally(network: "kma", result: .applied, count: 1), PostbackTally(network: "kma", result: .unmatched, count: 1),
                                                 PostbackTally(network: "kma", result: .forbidden, count: 1)])
        #expect(try s.attemptTallies() == [AttemptTally(outcome: .accepted, count: 1), AttemptTally(outcome: .failed, count: 1)])
        #expect(try s.outgoingTallies() == [OutgoingTally(state: .due, count: 1, oldestNextAttemptAt: 40)])
    }
}
