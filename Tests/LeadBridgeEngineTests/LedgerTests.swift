import Foundation
import Testing
import LeadBridgeCore
import LeadBridgeEngine
import LeadBridgeStore

/// The lifecycle over the real SQLite store: what Core decides is what the ledger holds.
@Suite struct LedgerTests {
    static let lead = Lead(id: "A-1001", phone: "+79001234567", fields: ["name": "Иван"])

    static func ledger(_ clock: EngineFixtures.Clock, retry: RetryPolicy = RetryPolicy(maxAttempts: 3, baseDelay: 10, maxDelay: 640),
                       config: LeadBridgeConfig? = nil) throws -> Ledger {
        Ledger(store: try EngineFixtures.store(), library: EngineFixtures.library, config: config, retry: retry, clock: { clock.now() }, random: { 0.5 })
    }

    /// Claim, mark written, answer: one attempt as `sync` makes it.
    @discardableResult
    static func attempt(_ l: Ledger, _ rowId: Int64, _ outcome: SendOutcome, owner: String = "w/1/1") throws -> LedgerUpdate? {
        guard try l.claim(rowId: rowId, owner: owner, lease: 60) != nil, try l.requestWritten(rowId: rowId, owner: owner) else { return nil }
        return try l.answered(rowId: rowId, outcome: outcome, durationMs: 5)
    }

    @Test func aLeadIsSentAtMostOncePerNetworkUnlessResent() throws {
        let clock = EngineFixtures.Clock()
        let l = try Self.ledger(clock)
        let r = try EngineFixtures.queued(l.enqueue(Self.lead, network: "kma", account: "main"))
        #expect(try l.claim(rowId: r.rowId, owner: "a/1/1", lease: 60) != nil)
        #expect(try l.claim(rowId: r.rowId, owner: "b/2/2", lease: 60) == nil)  // a second worker cannot take it
        #expect(try l.requestWritten(rowId: r.rowId, owner: "b/2/2") == false)  // nor write its request
        #expect(try l.requestWritten(rowId: r.rowId, owner: "a/1/1"))
        _ = try l.answered(rowId: r.rowId, outcome: SendOutcome(kind: .accepted, externalId: "777"))
        guard case .exists(let earlier) = try l.enqueue(Self.lead, network: "kma", account: "main") else { Issue.record("queued twice"); return }
        #expect(earlier.sendState == .accepted && earlier.externalId == "777")
        #expect(try l.store.journal(rowId: r.rowId).last?.kind == .refused)  // the refused intake is recorded
        #expect(try l.store.leads(LeadQuery(dueBy: Int64.max)).isEmpty)
        // Another network is a different send.
        guard case .queued = try l.enqueue(Self.lead, network: "drcash", account: "dc") else { Issue.record("refused"); return }
        // A resend on purpose: queued again, and its attempt recorded like any other.
        let again = try #require(try l.resend(rowId: r.rowId))
        #expect(again.record.sendState == .queued)
        #expect(try l.store.leads(LeadQuery(network: "kma", dueBy: clock.now())).map(\.orderId) == ["A-1001"])
        let resent = try #require(try Self.attempt(l, r.rowId, SendOutcome(kind: .duplicate, message: "already have it")))
        #expect(resent.record.sendState == .accepted)  // a duplicate answer to a resend does not demote it
        #expect(resent.record.facts.pollable)
        #expect(try l.store.journal(rowId: r.rowId).compactMap(\.attempt).map(\.outcome) == [.accepted, .duplicate])
    }

    /// The intake guard holds in every state, not only `accepted`: a lead already in the ledger
    /// is never queued again without `--resend`, whatever became of it.
    @Test(arguments: [SendState.queued, .sending, .uncertain, .rejected, .duplicate, .parked])
    func noSecondSendFromAnyStateWithoutResend(state: SendState) throws {
        let clock = EngineFixtures.Clock()
        let l = try Self.ledger(clock, retry: RetryPolicy(maxAttempts: 1, baseDelay: 10, maxDelay: 640))
        let r = try EngineFixtures.queued(l.enqueue(Self.lead, network: "kma", account: "main"))
        if state != .queued {
            _ = try l.claim(rowId: r.rowId, owner: "a/1/1", lease: 60)
            _ = try l.requestWritten(rowId: r.rowId, owner: "a/1/1")
        }
        let outcomes: [SendState: SendOutcome] = [
            .uncertain: SendOutcome(kind: .failed, message: "timeout", receipt: .maybeReceived),
            .rejected: SendOutcome(kind: .rejected, message: "bad phone"),
            .duplicate: SendOutcome(kind: .duplicate),
            .parked: SendOutcome(kind: .failed, message: "HTTP 503", httpStatus: 503, receipt: .notReceived),
        ]
        if let outcome = outcomes[state] { _ = try l.answered(rowId: r.rowId, outcome: outcome, owner: "a/1/1") }
        #expect(try l.store.lead(network: "kma", orderId: Self.lead.id)?.sendState == state)
        guard case .exists = try l.enqueue(Self.lead, network: "kma", account: "main") else { Issue.record("queued again from \(state.rawValue)"); return }
        #expect(try l.store.lead(network: "kma", orderId: Self.lead.id)?.sendState == state)
        #expect(try l.store.leads(LeadQuery(network: "kma", limit: 10)).count == 1)
        #expect(try l.store.journal(rowId: r.rowId).last?.kind == .refused)
        if state != .queued {
            clock.advance(100_000)
            #expect(try l.claim(network: "kma", limit: 10, owner: "b/2/2", lease: 60, dueBy: clock.now()).isEmpty)
        }
    }

    @Test func externalIdIsUniquePerNetwork() throws {
        let clock = EngineFixtures.Clock()
        let l = try Self.ledger(clock)
        let a = try EngineFixtures.queued(l.enqueue(Lead(id: "A", phone: "+79001234567"), network: "kma", account: "m"))
        let b = try EngineFixtures.queued(l.enqueue(Lead(id: "B", phone: "+79001234568"), network: "kma", account: "m"))
        try Self.attempt(l, a.rowId, SendOutcome(kind: .accepted, externalId: "9"))
        try Self.attempt(l, b.rowId, SendOutcome(kind: .accepted, externalId: "9"))
        let rb = try #require(try l.store.lead(network: "kma", orderId: "B"))
        #expect(rb.sendState == .duplicate)
        #expect(rb.externalId == nil)
        #expect(StoredNote.decode(rb.lastError).reason == .externalIdTaken(externalId: "9", order: "A"))
        #expect(try l.store.journal(rowId: b.rowId).last?.reason == .externalIdTaken(externalId: "9", order: "A"), "the reason survives the store")
        #expect(try l.store.lead(network: "kma", externalId: "9")?.orderId == "A")
    }

    @Test func failedIsRetriedThenParked() throws {
        let clock = EngineFixtures.Clock()
        let l = try Self.ledger(clock)
        let r = try EngineFixtures.queued(l.enqueue(Self.lead, network: "kma", account: "m"))
        for attempt in 1...3 {
            let u = try #require(try Self.attempt(l, r.rowId, SendOutcome(kind: .failed, message: "HTTP 503", httpStatus: 503, receipt: .notReceived)))
            if attempt < 3 {
                #expect(u.record.sendState == .queued)
                // Not due before the policy's delay.
                #expect(try l.claim(rowId: r.rowId, owner: "w/1/1", lease: 60) == nil)
                clock.advance((u.record.facts.dueAt ?? 0) - clock.now())
            }
        }
        let rec = try #require(try l.store.lead(network: "kma", orderId: "A-1001"))
        #expect(rec.sendState == .parked)
        #expect(rec.attempts == 3)
        if case .parked(let attempts, let last)? = StoredNote.decode(rec.lastError).reason {
            #expect(attempts == 3 && last.contains("HTTP 503"), "\(last)")
        } else {
            Issue.record("the last error is not the parking reason: \(rec.lastError ?? "nil")")
        }
        #expect(try l.store.leads(LeadQuery(dueBy: Int64.max)).isEmpty)
        #expect(try l.store.journal(rowId: r.rowId).compactMap(\.attempt).count == 3)
    }

    /// A pass gives back the leads it claimed and will not send (an account error stopped it, a
    /// lead seen twice): only while it still holds them. A lead whose claim lapsed while it waited
    /// in the pass's claim window (a slow network at concurrency 1: 32 leads × 30 s outlast the
    /// 900 s lease) is recovered by another worker and may be claimed and sent by it; the first
    /// pass's give-back must not take that claim — it made a `sending` lead `uncertain` (or, on a
    /// dedupe network, queued it to be sent a second time) while the other's request was in flight.
    @Test func aPassGivesBackOnlyTheClaimsItStillHolds() throws {
        let clock = EngineFixtures.Clock()
        let l = try Self.ledger(clock)
        let waiting = try EngineFixtures.queued(l.enqueue(Lead(id: "WAITING", phone: "+79001234567"), network: "kma", account: "m"))
        let claimed = try EngineFixtures.queued(l.enqueue(Lead(id: "CLAIMED", phone: "+79001234568"), network: "kma", account: "m"))
        let mine = try EngineFixtures.queued(l.enqueue(Lead(id: "MINE", phone: "+79001234569"), network: "kma", account: "m"))
        #expect(try l.claim(network: "kma", limit: 3, owner: "a/1/1", lease: 900).count == 3)
        clock.advance(901)
        // Another worker's pass starts: the lapsed claims go back to the queue; it takes two again.
        #expect(try l.recoverInterrupted(isAlive: { _ in nil }).count == 3)
        #expect(try l.claim(rowId: waiting.rowId, owner: "b/2/2", lease: 900) != nil)
        #expect(try l.requestWritten(rowId: waiting.rowId, owner: "b/2/2"))
        #expect(try l.claim(rowId: claimed.rowId, owner: "b/2/2", lease: 900) != nil)
        #expect(try l.claim(rowId: mine.rowId, owner: "a/1/1", lease: 900) != nil)
        // The first pass stops and gives back its window.
        for r in [waiting, claimed, mine] { _ = try l.release(rowId: r.rowId, owner: "a/1/1") }
        func facts(_ r: LeadRecord) throws -> LeadFacts? { try l.store.record(rowId: r.rowId)?.facts }
        #expect(try facts(waiting)?.state == .sending)  // b's request is in flight
        #expect(try facts(waiting)?.claim?.owner == "b/2/2")
        #expect(try facts(claimed)?.state == .claimed)
        #expect(try facts(claimed)?.claim?.owner == "b/2/2")
        #expect(try l.requestWritten(rowId: claimed.rowId, owner: "b/2/2"))  // b still sends it, once
        #expect(try facts(mine)?.state == .queued)  // its own claim does go back
    }

    @Test func interruptedClaimsAreRecovered() throws {
        let clock = EngineFixtures.Clock()
        let l = try Self.ledger(clock)
        var ids: [String: Int64] = [:]
        for id in ["CLAIMED", "SENDING", "ALIVE", "LAPSED"] {
            ids[id] = try EngineFixtures.queued(l.enqueue(Lead(id: id, phone: "+79001234567"), network: "kma", account: "m")).rowId
        }
        _ = try l.claim(rowId: ids["CLAIMED"] ?? 0, owner: "dead/1/1", lease: 600)
        _ = try l.claim(rowId: ids["SENDING"] ?? 0, owner: "dead/1/1", lease: 600)
        _ = try l.requestWritten(rowId: ids["SENDING"] ?? 0, owner: "dead/1/1")
        _ = try l.claim(rowId: ids["ALIVE"] ?? 0, owner: "alive/2/2", lease: 600)
        _ = try l.requestWritten(rowId: ids["ALIVE"] ?? 0, owner: "alive/2/2")
        _ = try l.claim(rowId: ids["LAPSED"] ?? 0, owner: "elsewhere/3/3", lease: 10)
        _ = try l.requestWritten(rowId: ids["LAPSED"] ?? 0, owner: "elsewhere/3/3")
        clock.advance(11)
        let liveness: (String) -> Bool? = { $0.hasPrefix("dead") ? false : $0.hasPrefix("alive") ? true : nil }
        let recovered = try l.recoverInterrupted(isAlive: liveness)
        #expect(Set(recovered.map(\.record.orderId)) == ["CLAIMED", "SENDING", "LAPSED"])
        func state(_ id: String) throws -> SendState? { try l.store.lead(network: "kma", orderId: id)?.sendState }
        #expect(try state("CLAIMED") == .queued)  // never written: sent again
        #expect(try state("SENDING") == .uncertain)  // may have arrived: never resent by itself
        #expect(try state("LAPSED") == .uncertain)
        #expect(try state("ALIVE") == .sending)
        #expect(try l.store.leads(LeadQuery(dueBy: Int64.max)).map(\.orderId) == ["CLAIMED"])
        // The network's postback settles an uncertain lead.
        let changes = try l.report([(ids["SENDING"] ?? 0, StatusReport(status: LeadStatus(bucket: .approved, raw: "approve"), source: .postback, network: "kma"))])
        #expect(changes.count == 1)
        #expect(try state("SENDING") == .accepted)
        // The operator settles another.
        #expect(try l.settle(rowId: ids["LAPSED"] ?? 0, as: .notSent)?.record.sendState == .queued)
    }

    /// The status rules, through the ledger, whoever reports: refusals are journal entries
    /// with their reason; chargebacks only where the spec allows them.
    @Test(arguments: [EventSource.poll, .postback, .import, .operator])
    func statusRulesHoldOnEveryPath(source: EventSource) throws {
        let clock = EngineFixtures.Clock()
        let l = try Self.ledger(clock)
        let kma = try EngineFixtures.queued(l.enqueue(Self.lead, network: "kma", account: "m"))
        let tam = try EngineFixtures.queued(l.enqueue(Self.lead, network: "m1shop", account: "t"))
        try Self.attempt(l, kma.rowId, SendOutcome(kind: .accepted, externalId: "1"))
        try Self.attempt(l, tam.rowId, SendOutcome(kind: .accepted, externalId: "1"))
        #expect(EngineFixtures.library.spec("kma")?.chargebacks == false && EngineFixtures.library.spec("m1shop")?.chargebacks == true)
        func report(_ rowId: Int64, _ b: Bucket, _ raw: String, network: String = "kma") throws -> Int {
            try l.report([(rowId, StatusReport(status: LeadStatus(bucket: b, raw: raw), source: source, network: network, payout: b == .approved ? "12.5" : nil))]).count
        }
        #expect(try report(kma.rowId, .pending, "hold") == 0)  // pending → pending: detail changes, no bucket change
        #expect(try report(kma.rowId, .approved, "approve") == 1)
        #expect(try report(kma.rowId, .approved, "approve") == 0)
        #expect(try report(kma.rowId, .pending, "hold") == 0)  // never back to pending
        #expect(try report(kma.rowId, .cancelled, "cancel") == 0)  // no chargebacks at this network
        #expect(try report(kma.rowId, .trash, "trash", network: "drcash") == 0)  // another network's word
        #expect(try l.store.lead(network: "kma", orderId: "A-1001")?.status?.bucket == .approved)
        #expect(try l.store.lead(network: "kma", orderId: "A-1001")?.payout == "12.5")
        let refused = try l.store.journal(rowId: kma.rowId).filter { $0.kind == .refused }
        #expect(refused.map { $0.source } == [source, source, source])
        #expect(refused.map(\.reason) == [.finalNeverPending(from: .approved), .needsChargebacks(to: .cancelled), .otherNetwork(reporter: "drcash", network: "kma")])
        // A network that does chargebacks.
        #expect(try report(tam.rowId, .approved, "delivered", network: "m1shop") == 1)
        #expect(try report(tam.rowId, .trash, "refund", network: "m1shop") == 1)
        #expect(try l.store.journal(rowId: tam.rowId).last?.reason == .note(.chargeback))
    }

    @Test func pollTargetsAreLeadsThatCanStillChange() throws {
        let clock = EngineFixtures.Clock()
        let l = try Self.ledger(clock)
        for i in 0..<6 {
            let r = try EngineFixtures.queued(l.enqueue(Lead(id: "A-\(i)", phone: "+7900123456\(i)"), network: "kma", account: "m"))
            switch i {
            case 4: try Self.attempt(l, r.rowId, SendOutcome(kind: .rejected))
            case 5: try Self.attempt(l, r.rowId, SendOutcome(kind: .failed, receipt: .maybeReceived))  // uncertain: a poll may settle it
            default: try Self.attempt(l, r.rowId, SendOutcome(kind: .accepted, externalId: "E\(i)"))
            }
            if i == 0 { _ = try l.report([(r.rowId, StatusReport(status: LeadStatus(bucket: .approved), source: .poll, network: "kma"))]) }
            if i == 1 { clock.advance(50); try l.markPolled(rowIds: [r.rowId]); clock.advance(-50) }
        }
        let base = clock.now()
        #expect(try l.store.leads(LeadQuery(network: "kma", pollableBefore: base + 40)).map(\.orderId) == ["A-2", "A-3", "A-5"])
        #expect(try l.store.leads(LeadQuery(network: "kma", pollableBefore: base + 60)).map(\.orderId) == ["A-1", "A-2", "A-3", "A-5"])
    }

    /// Two workers claiming at once take disjoint windows.
    @Test func workersClaimDisjointWindows() throws {
        let clock = EngineFixtures.Clock()
        let l = try Self.ledger(clock)
        for i in 0..<10 { _ = try l.enqueue(Lead(id: "W-\(i)", phone: "+7900123450\(i)"), network: "kma", account: "m") }
        let a = try l.claim(network: "kma", limit: 4, owner: "a/1/1", lease: 60)
        let b = try l.claim(network: "kma", limit: 4, owner: "b/2/2", lease: 60)
        let c = try l.claim(network: "kma", limit: 4, owner: "c/3/3", lease: 60)
        #expect(a.count == 4 && b.count == 4 && c.count == 2)
        #expect(Set(a.map(\.rowId)).isDisjoint(with: b.map(\.rowId)) && Set(b.map(\.rowId)).isDisjoint(with: c.map(\.rowId)))
        #expect(a.allSatisfy { $0.sendState == .claimed && $0.facts.claim?.owner == "a/1/1" })
    }
}
