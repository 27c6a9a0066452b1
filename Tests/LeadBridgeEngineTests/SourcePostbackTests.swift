import Foundation
import Synchronization
import Testing
import LeadBridgeCore
import LeadBridgeTestSupport
import LeadBridgeEngine
import LeadBridgeNet
import LeadBridgeStore

/// LeadCraft is told about every lead, through the ledger: `pending` when a referral order
/// enters it, `cancelled` (price 0) when the network refuses the lead or sending is given up,
/// and a postback whose settings are missing fails naming them instead of vanishing.
@Suite struct SourcePostbackTests {
    static let uuid = "f092d155-e7f3-4f78-bcc1-196e775e1dcb"

    static func config(action: Bool = true, price: String = #"{"fixed": "1500"}"#, token: String = "LC-T") throws -> LeadBridgeConfig {
        let text = #"""
            {"store": "x.sqlite", "accounts": {"kma-main": {"network": "kma", "credentials": {"token": "KMA-T"}, "params": {"kma": "ch1"}}},
             "sources": {"leadcraft": {"network": "leadcraft", "credentials": {"token": "\#(token)"\#(action ? #", "action": "606""# : "")}, "price": \#(price)}}}
            """#
        return try ConfigReader.read(bytes: Array(text.utf8), file: "leadbridge.json", environment: [:], specs: EngineFixtures.library)
    }

    static func lead(_ id: String, _ fields: [String: String]) -> Lead {
        Lead(id: id, phone: "+79001234567", fields: fields.merging(["name": "Иван"]) { a, _ in a }, source: "leadcraft")
    }

    static func pairs(_ url: String) -> [String: String] {
        let q = url.split(separator: "?", maxSplits: 1).dropFirst().first.map(String.init) ?? ""
        return Dictionary(((try? QueryString.parse(q)) ?? []), uniquingKeysWith: { a, _ in a })
    }

    /// Sends one claimed lead with the network's canned answer.
    static func send(_ ledger: Ledger, _ r: LeadRecord, _ outcome: SendOutcome) throws -> LedgerUpdate? {
        _ = try ledger.claim(rowId: r.rowId, owner: "t/1/1", lease: 60)
        _ = try ledger.requestWritten(rowId: r.rowId, owner: "t/1/1")
        return try ledger.answered(rowId: r.rowId, outcome: outcome)
    }

    @Test func refusedAndAbandonedLeadsAreCancelledForTheSourceAtPriceZero() throws {
        let store = try EngineFixtures.store()
        let config = try Self.config()
        let clock = EngineFixtures.Clock()
        let ledger = Ledger(store: store, library: EngineFixtures.library, config: config, retry: RetryPolicy(maxAttempts: 2, baseDelay: 10, maxDelay: 640),
                            clock: { clock.now() }, random: { 0.5 })
        // A referral order: LeadCraft hears `pending` as soon as it is in the ledger.
        let ref = try EngineFixtures.queued(try ledger.enqueue(Self.lead("L-REF", ["click_id": Self.uuid]), network: "kma", account: "kma-main", source: "leadcraft"))
        var queued = try store.outgoingPostbacks(leadRowId: ref.rowId)
        #expect(queued.map { "\($0.kind) \($0.status)" } == ["referral pending"])
        #expect(Self.pairs(queued[0].url)["price"] == "0")
        // The network refuses it: LeadCraft hears `cancelled`, without money, though no status moved.
        let rejected = try #require(try Self.send(ledger, ref, SendOutcome(kind: .rejected, message: "Invalid phone")))
        #expect(rejected.record.sendState == .rejected && rejected.record.status == nil)
        queued = try store.outgoingPostbacks(leadRowId: ref.rowId)
        #expect(queued.map { "\($0.kind) \($0.status)" } == ["referral pending", "referral cancelled"])
        #expect(Self.pairs(queued[1].url)["price"] == "0" && Self.pairs(queued[1].url)["clickID"] == Self.uuid)
        // A lead-traffic lead given up after its attempts (never reached the network).
        let lt = try EngineFixtures.queued(try ledger.enqueue(Self.lead("L-LEAD", ["source_id": "7731"]), network: "kma", account: "kma-main", source: "leadcraft"))
        #expect(try store.outgoingPostbacks(leadRowId: lt.rowId).isEmpty)  // lead traffic has no pending
        let failed = SendOutcome(kind: .failed, message: "HTTP 503", httpStatus: 503, receipt: .notReceived)
        _ = try Self.send(ledger, lt, failed)
        #expect(try store.outgoingPostbacks(leadRowId: lt.rowId).isEmpty)  // a retry is ahead: nothing yet
        clock.advance(3600)
        let again = try #require(try store.record(rowId: lt.rowId))
        let parked = try #require(try Self.send(ledger, again, failed))
        #expect(parked.record.sendState == .parked)
        let abandoned = try store.outgoingPostbacks(leadRowId: lt.rowId)
        #expect(abandoned.map { "\($0.kind) \($0.status)" } == ["leads cancelled"])
        #expect(Self.pairs(abandoned[0].url) == ["lid": "7731", "aid": "L-LEAD", "status": "cancelled", "token": "***", "price": "0"])
        // Accepted and approved: the configured price, not the network's payout.
        let ok = try EngineFixtures.queued(try ledger.enqueue(Self.lead("L-OK", ["source_id": "7732"]), network: "kma", account: "kma-main", source: "leadcraft"))
        _ = try Self.send(ledger, ok, SendOutcome(kind: .accepted, externalId: "5501"))
        _ = try ledger.report([(ok.rowId, StatusReport(status: LeadStatus(bucket: .approved, raw: "approved"), source: .postback, network: "kma",
                                                        payout: "12.5", currency: "USD"))])
        let approved = try #require(try store.outgoingPostbacks(leadRowId: ok.rowId).first { $0.status == "approved" })
        #expect(Self.pairs(approved.url)["price"] == "1500")
    }

    @Test func aPostbackWhoseSettingsAreMissingFailsNamingThem() async throws {
        let store = try EngineFixtures.store()
        let config = try Self.config(action: false)
        let clock = EngineFixtures.Clock()
        let ledger = Ledger(store: store, library: EngineFixtures.library, config: config, clock: { clock.now() })
        let r = try EngineFixtures.queued(try ledger.enqueue(Self.lead("L-1", ["click_id": Self.uuid]), network: "kma", account: "kma-main", source: "leadcraft"))
        #expect(try store.outgoingPostbacks(leadRowId: r.rowId).count == 1)  // queued, not dropped
        let transport = ScriptedTransport([])
        let outgoing = OutgoingPostbacks(store: store, library: EngineFixtures.library, config: config)
        let result = try await outgoing.deliverDue(transport: transport, now: clock.now())
        #expect(result.failed == 1 && transport.log.withLock { $0.isEmpty })
        let p = try #require(try store.outgoingPostbacks(leadRowId: r.rowId).first)
        #expect(p.state == .failed)
        // Kept as a value (worded in the reader's language where shown), English for --json.
        #expect(p.lastError?.hasPrefix("send:source-lacks ") == true, "\(p.lastError ?? "")")
        let english = OutgoingAnswers.worded(p.lastError ?? "") { $0.english }
        #expect(english.contains("lacks credentials.action") && english.contains("--replay-all"), "\(english)")
    }

    /// A source that refuses a postback repeating our request (its token in the URL, raw,
    /// decoded or in base64) gets no token into the stored answer `outgoing` and `lead ID` show.
    @Test func aSourceAnswerThatEchoesItsTokenIsStoredScrubbed() async throws {
        let token = "LC/SECRET+token 7"
        let store = try EngineFixtures.store()
        let config = try Self.config(token: token)
        let clock = EngineFixtures.Clock()
        let ledger = Ledger(store: store, library: EngineFixtures.library, config: config, clock: { clock.now() })
        let r = try EngineFixtures.queued(try ledger.enqueue(Self.lead("L-ECHO", ["click_id": Self.uuid]), network: "kma", account: "kma-main", source: "leadcraft"))
        let base64 = Data(token.utf8).base64EncodedString()
        let forms = [token, PercentEncoding.php(token), PercentEncoding.rfc3986(token), String(base64.prefix { $0 != "=" })]
        let transport = ScriptedTransport([("https://api.leadcraft.ru", { req in
            HTTPResponseValue(status: 403, body: Array(#"{"e":"\#(token) \#(base64) refused: \#(req.url)"}"#.utf8))
        })])
        let outgoing = OutgoingPostbacks(store: store, library: EngineFixtures.library, config: config)
        let result = try await outgoing.deliverDue(transport: transport, now: clock.now())
        #expect(result.retried == 1 && transport.count("https://api.leadcraft.ru") == 1)
        let stored = try #require(try store.outgoingPostbacks(leadRowId: r.rowId).first?.lastError)
        // The column keeps the failure as a value (its text escaped): both it and its wording are scrubbed.
        let shown = OutgoingAnswers.worded(stored) { $0.english }
        #expect(stored.contains("send:http 403 ") && shown.contains("HTTP 403: ") && shown.contains("***"), "\(stored)")
        for form in forms where stored.contains(form) || shown.contains(form) { Issue.record("\(form) in \(stored)") }
    }

    @Test func theAnswersOfEveryAttemptAreKeptNewestLast() {
        var log: String?
        for i in 1...8 { log = OutgoingPostbacks.answers(log, adding: "#\(i) HTTP 503: " + String(repeating: "x", count: 100)) }
        let kept = log ?? ""
        #expect(kept.count <= 480)
        #expect(kept.hasSuffix("#8 HTTP 503: " + String(repeating: "x", count: 100)))
        #expect(!kept.contains("#1 ") && kept.contains(" | #7 "))
    }
}

@Suite struct SalesManSyncTests {
    static let account = #""sm": {"network": "salesman", "credentials": {"url": "https://crm.example.ru", "login": "m@example.ru", "apikey": "K"}}"#

    /// A refused key stops its own account's leads, not the other accounts' on the network:
    /// a pass is per account, and the refused account's leads (due again at once) would
    /// otherwise come first in every pass and hold the network's others back for good.
    @Test func aRefusedAccountStopsOnlyItsOwnLeads() async throws {
        let store = try EngineFixtures.store()
        let clock = EngineFixtures.Clock()
        let refused = #""sm-old": {"network": "salesman", "credentials": {"url": "https://old.example.ru", "login": "m@example.ru", "apikey": "OLD"}}"#
        let config = try EngineFixtures.config(Self.account + ", " + refused)
        for i in 0..<40 { try EngineFixtures.enqueue(store, EngineFixtures.lead(i), network: "salesman", account: "sm-old", at: clock.now()) }
        for i in 100..<103 { try EngineFixtures.enqueue(store, EngineFixtures.lead(i), network: "salesman", account: "sm", at: clock.now()) }
        let ids = Mutex(5000)
        let transport = ScriptedTransport([
            ("https://old.example.ru/developer/v1/leads", { _ in HTTPResponseValue(status: 400) }),
            ("https://crm.example.ru/developer/v1/leads", { req in
                // The pass's status poll of the accepted leads: nothing changed yet.
                if req.bodyText.contains("action=list") { return HTTPResponseValue(status: 200, body: Array(#"{"data":[]}"#.utf8)) }
                #expect(req.bodyText.contains("action=add"))
                let id = ids.withLock { $0 += 1; return $0 }
                return HTTPResponseValue(status: 200, body: Array(#"{"result":{"text":"Success","id":"\#(id)"}}"#.utf8))
            }),
        ])
        let syncer = Syncer(store: store, library: EngineFixtures.library, config: config, transport: transport, clock: { clock.now() })
        let report = try await syncer.run(SyncOptions())
        #expect(report.networks["salesman"]?.accepted == 3, "\(report.networks)")
        guard case .accountRefused(let account, _)? = report.networks["salesman"]?.problem else {
            Issue.record("the refused account is not named: \(String(describing: report.networks["salesman"]?.problem))")
            return
        }
        #expect(account == "sm-old")
        let old = try store.leads(LeadQuery(network: "salesman", accounts: .only(["sm-old"]), limit: 1000))
        #expect(old.count == 40 && old.allSatisfy { $0.sendState == .queued && $0.facts.claim == nil }, "\(old.map(\.sendState))")
        // The refused key is asked again only as often as its pass has requests in flight.
        #expect(transport.count("https://old.example.ru") <= 8, "\(transport.count("https://old.example.ru")) requests with a refused key")
        #expect(try store.leads(LeadQuery(network: "salesman", accounts: .only(["sm"]), limit: 10)).allSatisfy { $0.sendState == .accepted })
    }

    /// The answer to `add` was lost (the lead is `uncertain`, its CRM id unknown): the list
    /// finds it by the order id the request wrote into the description (`content`), and it
    /// becomes accepted with that id — settled by a poll, never sent twice.
    @Test func anUncertainLeadIsFoundInTheListByItsOrderId() async throws {
        let store = try EngineFixtures.store()
        let clock = EngineFixtures.Clock()
        let config = try EngineFixtures.config(Self.account)
        let ledger = EngineFixtures.ledger(store, config: config, at: { clock.now() })
        let r = try EngineFixtures.queued(try ledger.enqueue(EngineFixtures.lead(7), network: "salesman", account: "sm"))
        _ = try ledger.claim(rowId: r.rowId, owner: "t/1/1", lease: 60)
        _ = try ledger.requestWritten(rowId: r.rowId, owner: "t/1/1")
        _ = try ledger.answered(rowId: r.rowId, outcome: SendOutcome(kind: .failed, message: "timeout", receipt: .maybeReceived))
        #expect(try store.record(rowId: r.rowId)?.sendState == .uncertain)
        try EngineFixtures.accepted(store, EngineFixtures.lead(8), network: "salesman", account: "sm", externalId: "1203", at: clock.now())
        let transport = ScriptedTransport([("https://crm.example.ru/developer/v1/leads", { req in
            #expect(req.bodyText.contains("action=list"))
            return HTTPResponseValue(status: 200, body: Array(#"{"data":[{"id":"1201","status":"2","rezult":"0","content":"A-7: —"},{"id":"1202","status":"1","rezult":"0","content":"B-9: —"},{"id":"1203","status":"3","rezult":"2","rezultName":"Дубль","content":"A-8: —"}]}"#.utf8))
        })])
        let syncer = Syncer(store: store, library: EngineFixtures.library, config: config, transport: transport, clock: { clock.now() })
        _ = try await syncer.run(SyncOptions())
        let settled = try #require(try store.record(rowId: r.rowId))
        #expect(settled.sendState == .accepted && settled.externalId == "1201" && settled.status?.bucket == .approved)
        #expect(transport.count("https://crm.example.ru") == 1)  // polled; never sent again
        // The result's name is kept as the comment (`rezultName`).
        let duplicate = try #require(try store.lead(network: "salesman", orderId: "A-8"))
        #expect(duplicate.status?.bucket == .trash && duplicate.status?.raw == "3:2" && duplicate.comment == "Дубль")
    }

    @Test func aPollAccountErrorNamesTheAccount() async throws {
        let store = try EngineFixtures.store()
        let clock = EngineFixtures.Clock()
        let config = try EngineFixtures.config(Self.account)
        for i in 0..<2 { try EngineFixtures.accepted(store, EngineFixtures.lead(i), network: "salesman", account: "sm", externalId: "\(800 + i)", at: clock.now()) }
        let transport = ScriptedTransport([("https://crm.example.ru/developer/v1/leads", { _ in
            HTTPResponseValue(status: 200, body: Array(#"{"result":"Error","error":{"code":"401","text":"Неизвестный пользователь"}}"#.utf8))
        })])
        let syncer = Syncer(store: store, library: EngineFixtures.library, config: config, transport: transport, clock: { clock.now() })
        let report = try await syncer.run(SyncOptions())
        #expect(report.hasFailures)
        let error = report.networks["salesman"]?.error ?? ""
        #expect(error.hasPrefix("account sm: Неизвестный пользователь"), "\(error)")
        // Asked again next pass: stamped no later than the pass's cutoff, so the next pass takes it.
        let polledAt = try #require(try store.lead(network: "salesman", orderId: "A-0")).lastPolledAt ?? 0
        #expect(polledAt <= clock.now() - Int64(SyncOptions().pollIntervalSeconds))
    }
}
