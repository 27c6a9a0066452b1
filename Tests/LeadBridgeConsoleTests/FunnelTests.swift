import Testing
@testable import LeadBridgeCore
import LeadBridgeStore

/// The funnel's figures over a ledger written through the lifecycle, against figures computed
/// by hand (the comments give the arithmetic).
@Suite struct FunnelTests {
    static let day: Int64 = 86_400
    static let hour: Int64 = 3600
    static let d0 = LedgerSeed.day0

    /// Three days from 2026-01-01; two leads outside them.
    static func seeded() throws -> LedgerSeed {
        let s = try LedgerSeed()
        let (d0, h, d) = (d0, hour, day)
        try s.lead("K0", "kma", account: "kma-main", at: d0 - h, .accepted(.approved, payout: "99", currency: "USD"))      // before the period
        try s.lead("K1", "kma", account: "kma-main", at: d0 + h, .accepted(.approved, payout: "10.50", currency: "USD", after: 2 * h))  // 120 min
        try s.lead("K2", "kma", account: "kma-main", at: d0 + 2 * h, .accepted(.approved, payout: "4.25", currency: "USD", after: 30 * 60)) // 30 min
        try s.lead("K3", "kma", account: "kma-main", at: d0 + 5 * h, .accepted(.cancelled, after: d))                     // 1440 min
        try s.lead("K4", "kma", account: "kma-main", at: d0 + d + h, .accepted(.trash, after: h))                         // 60 min
        try s.lead("K5", "kma", account: "kma-main", at: d0 + d + 2 * h, .accepted(.pending, raw: "hold"))
        try s.lead("K6", "kma", account: "kma-main", at: d0 + d + 3 * h, .accepted(nil))
        try s.lead("K7", "kma", account: "kma-main", at: d0 + d + 4 * h, .duplicate)
        try s.lead("K8", "kma", account: "kma-main", at: d0 + 2 * d + h, .rejected)
        try s.lead("K9", "kma", account: "kma-main", at: d0 + 2 * d + 2 * h, .uncertain)
        try s.lead("K10", "kma", account: "kma-main", at: d0 + 2 * d + 3 * h, .queued)
        try s.lead("K11", "kma", account: "kma-main", at: d0 + 2 * d + 4 * h, .parked)
        try s.lead("K12", "kma", account: "kma-main", at: d0 + 3 * d, .accepted(.approved, payout: "1", currency: "USD")) // the period's end: outside
        try s.lead("S1", "kma", account: "kma-second", at: d0 + h, .accepted(.approved, payout: "700", currency: "RUB", after: 10 * 60)) // 10 min
        try s.lead("R1", "drcash", account: "dr-main", at: d0 + h, .accepted(.approved, payout: "5.00", currency: "USD", after: 3 * h))   // 180 min
        try s.lead("R2", "drcash", account: "dr-main", at: d0 + 6 * h, .accepted(.approved, payout: "n/a", currency: "USD", after: 20 * 60)) // 20 min
        return s
    }

    static func report(_ s: LedgerSeed, network: String? = nil, account: String? = nil) throws -> FunnelReport {
        let period = LedgerPeriod(from: d0, to: d0 + 3 * day, network: network, account: account)
        return FunnelReport(from: period.from, to: period.to, tallies: try s.store.leadTallies(period),
                            timings: try s.store.finalTimings(period, state: .accepted))
    }

    @Test func perNetworkAndAccount() throws {
        let r = try Self.report(try Self.seeded())
        #expect(r.rows.map { "\($0.network)/\($0.account)" } == ["drcash/dr-main", "kma/kma-main", "kma/kma-second"])
        let kma = try #require(r.rows.first { $0.account == "kma-main" }).figures
        #expect(kma.leads == 11)
        #expect(kma.sent == 9)          // 6 accepted + duplicate + rejected + uncertain
        #expect(kma.accepted == 6)
        #expect(kma.duplicate == 1)
        #expect(kma.rejected == 1)
        #expect(kma.uncertain == 1)
        #expect(kma.approved == 2)
        #expect(kma.cancelled == 1)
        #expect(kma.trash == 1)
        #expect(kma.pending == 2)       // K5 (hold) and K6 (no status yet)
        #expect(kma.waiting == 2)       // K10 queued, K11 parked
        #expect(kma.approvalRate == 0.5) // 2 of 4 with a final status
        #expect(kma.payout == ["USD": Money(units: 147_500)]) // 10.50 + 4.25
        #expect(kma.medianSecondsToFinal == 3600) // [30, 60, 120, 1440] min: the lower middle, 60 min

        let second = try #require(r.rows.first { $0.account == "kma-second" }).figures
        #expect((second.leads, second.sent, second.approved) == (1, 1, 1))
        #expect(second.payout["RUB"]?.text == "700.00")
        #expect(second.medianSecondsToFinal == 600)

        let dr = try #require(r.rows.first { $0.network == "drcash" }).figures
        #expect((dr.leads, dr.accepted, dr.approved, dr.unreadablePayouts) == (2, 2, 2, 1))
        #expect(dr.payout["USD"]?.text == "5.00")
        #expect(dr.medianSecondsToFinal == 1200) // [20, 180] min: 20
    }

    @Test func totalAndDays() throws {
        let r = try Self.report(try Self.seeded())
        let t = r.total
        #expect((t.leads, t.sent, t.accepted, t.duplicate, t.rejected, t.uncertain) == (14, 12, 9, 1, 1, 1))
        #expect((t.approved, t.cancelled, t.trash, t.pending, t.waiting) == (5, 1, 1, 2, 2))
        #expect(t.approvalRate == 5.0 / 7.0)
        #expect(t.payout.mapValues(\.text) == ["USD": "19.75", "RUB": "700.00"])
        #expect(t.medianSecondsToFinal == 3600) // [10, 20, 30, 60, 120, 180, 1440] min: 60
        #expect(r.days.map(\.start) == [Self.d0, Self.d0 + Self.day, Self.d0 + 2 * Self.day])
        #expect(r.days.map(\.sent) == [6, 4, 2])
        #expect(r.days.map(\.accepted) == [6, 3, 0])
        #expect(r.days.map(\.approved) == [5, 0, 0])
    }

    @Test func filteredByNetworkAndAccount() throws {
        let s = try Self.seeded()
        let kma = try Self.report(s, network: "kma")
        #expect(kma.total.leads == 12)
        let second = try Self.report(s, network: "kma", account: "kma-second")
        #expect(second.rows.count == 1)
        #expect(second.total.approved == 1)
    }

    @Test(arguments: [("12.5", "12.50"), ("1 200,00", "1200.00"), ("0.125", "0.125"), ("-3", "-3.00"), ("7.1234", "7.1234")])
    func moneyIsExact(text: String, shown: String) throws {
        #expect(try #require(Money(text)).text == shown)
    }

    @Test(arguments: ["", "abc", "1.23456", "1.2.3", "--1"])
    func moneyRefusesWhatIsNotAnAmount(text: String) {
        #expect(Money(text) == nil)
    }

    @Test func medianOfAHistogram() {
        #expect(FunnelReport.median([]) == nil)
        #expect(FunnelReport.median([(5, 1)]) == 5)
        #expect(FunnelReport.median([(1, 1), (9, 1)]) == 1)
        #expect(FunnelReport.median([(1, 2), (9, 1)]) == 1)
        #expect(FunnelReport.median([(1, 1), (9, 2)]) == 9)
        #expect(FunnelReport.median([(3, 0), (7, 4)]) == 7)
    }
}
