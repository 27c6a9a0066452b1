import Foundation
import Testing
import LeadBridgeCore

/// The rules LeadCraft's guide and SalesMan's API document ask for, checked in Core: account
/// errors leave the lead queued and uncounted, refused and abandoned leads tell their source
/// `cancelled`, a new lead tells it `pending`, the price a source is owed, and its id formats.
@Suite struct SourceLifecycleTests {
    static let policy = LifecycleTableTests.policy

    @Test func anAccountErrorLeavesTheLeadQueuedUncountedAndDueNow() throws {
        let sending = LifecycleTableTests.facts(.sending, attempts: 2)
        let outcome = SendOutcome(kind: .accountError, message: "Не верный API key", httpStatus: 200)
        let d = LeadLifecycle.decide(sending, .answered(outcome), policy: Self.policy, now: 50)
        #expect(d.facts.state == .queued)
        #expect(d.facts.attempts == 1)  // the attempt that met the wrong key does not count
        #expect(d.facts.dueAt == 50)
        #expect(d.facts.reach == .none && d.facts.status == nil)
        #expect(d.facts.lastError == "Не верный API key")
        let entry = try #require(d.journal)
        #expect(entry.kind == .attempt && entry.attempt?.outcome == .accountError)
        #expect(d.effects.isEmpty)  // no retry timer, no park, nothing for the source
        // However often the account is wrong, the lead is never parked by it.
        var f = LifecycleTableTests.facts(.queued, attempts: 0)
        for i in 0..<20 {
            f = LeadLifecycle.decide(f, .claimed(Claim(owner: "me", until: 1000)), policy: Self.policy, now: Int64(i)).facts
            f = LeadLifecycle.decide(f, .requestWritten(owner: "me"), policy: Self.policy, now: Int64(i)).facts
            f = LeadLifecycle.decide(f, .answered(outcome), policy: Self.policy, now: Int64(i)).facts
        }
        #expect(f.state == .queued && f.attempts == 0)
    }

    @Test func aRefusedOrAbandonedLeadTellsItsSourceCancelled() {
        let rejected = LeadLifecycle.decide(LifecycleTableTests.facts(.sending), .answered(SendOutcome(kind: .rejected, message: "bad phone")),
                                            policy: Self.policy, now: 5)
        #expect(rejected.facts.state == .rejected)
        #expect(rejected.effects == [.queueOutgoing(.cancelled)])
        #expect(rejected.facts.status == nil)  // the status does not change: only the source hears
        // Parked: the last attempt that certainly did not arrive, with none left.
        let parked = LeadLifecycle.decide(LifecycleTableTests.facts(.sending, attempts: 3), .answered(LifecycleTableTests.failedNotReceived),
                                          policy: Self.policy, now: 5)
        #expect(parked.facts.state == .parked)
        #expect(parked.effects.contains(.queueOutgoing(.cancelled)))
        // A retry with attempts left, or an uncertain lead, tells the source nothing yet.
        let retried = LeadLifecycle.decide(LifecycleTableTests.facts(.sending, attempts: 1), .answered(LifecycleTableTests.failedNotReceived),
                                           policy: Self.policy, now: 5)
        #expect(!retried.effects.contains { if case .queueOutgoing = $0 { return true }; return false })
        let uncertain = LeadLifecycle.decide(LifecycleTableTests.facts(.sending), .answered(LifecycleTableTests.failedMaybe), policy: Self.policy, now: 5)
        #expect(uncertain.facts.state == .uncertain && uncertain.effects.isEmpty)
        // A resend the network refuses while it holds the lead is no refusal of the lead.
        let held = LeadLifecycle.decide(LifecycleTableTests.facts(.sending, reach: .held, status: .pending), .answered(SendOutcome(kind: .rejected)),
                                        policy: Self.policy, now: 5)
        #expect(held.facts.state == .accepted && held.effects.isEmpty)
    }

    @Test func aNewLeadTellsItsSourcePending() {
        #expect(LeadLifecycle.intakeEffects == [.queueOutgoing(.pending)])
    }
}

@Suite struct SourcePriceTests {
    @Test(arguments: [
        // configured, bucket, offer, payout, currency → {price}
        (SourcePrice.fixed("1500"), Bucket.approved, nil as String?, nil as String?, nil as String?, "1500" as String?),
        (.fixed("1500"), .pending, nil, nil, nil, "0"),
        (.fixed("1500"), .cancelled, nil, "40", "USD", "0"),  // never money on cancelled
        (.fixed("1500"), .trash, nil, nil, nil, "0"),
        (.fixed("99.90"), .approved, nil, nil, nil, "99.90"),
        (.perOffer(["credit": "1500", "card": "700"], default: "500"), .approved, "card", nil, nil, "700"),
        (.perOffer(["credit": "1500"], default: "500"), .approved, "other", nil, nil, "500"),
        (.perOffer(["credit": "1500"], default: nil), .approved, "other", nil, nil, nil),  // not configured: none, never a guess
        (.perOffer(["credit": "1500"], default: nil), .approved, nil, nil, nil, nil),
        (.payout(currency: "RUB", rates: ["USD": "92.5"], assume: nil), .approved, nil, "12.50", "RUB", "12.50"),
        (.payout(currency: "RUB", rates: ["USD": "92.5"], assume: nil), .approved, nil, "12.50", "usd", "1156.25"),
        (.payout(currency: "RUB", rates: ["USD": "92.37"], assume: nil), .approved, nil, "10.005", "USD", "924.16"),  // 924.16185 → half up to 2 decimals
        (.payout(currency: "RUB", rates: ["USD": "92.5"], assume: nil), .approved, nil, "10", "EUR", nil),  // no rate for EUR
        (.payout(currency: "RUB", rates: [:], assume: nil), .approved, nil, "10", nil, nil),  // a payout without a currency is not guessed
        (.payout(currency: "RUB", rates: [:], assume: "RUB"), .approved, nil, "10", nil, "10"),
        (.payout(currency: "RUB", rates: ["USD": "90"], assume: "USD"), .approved, nil, "2", nil, "180"),
        (.payout(currency: "RUB", rates: [:], assume: "RUB"), .approved, nil, nil, nil, nil),
        (.payout(currency: "RUB", rates: [:], assume: "RUB"), .approved, nil, "n/a", "RUB", nil),
        (.payout(currency: "RUB", rates: [:], assume: "RUB"), .cancelled, nil, "10", "RUB", "0"),
    ])
    func priceForABucket(configured: SourcePrice, bucket: Bucket, offer: String?, payout: String?, currency: String?, expected: String?) {
        #expect(SourcePrice.price(for: bucket, configured: configured, offer: offer, payout: payout, currency: currency) == expected)
    }

    @Test func noPriceConfiguredMeansZeroOrNone() {
        #expect(SourcePrice.price(for: .approved, configured: nil, offer: nil, payout: "10", currency: "RUB") == nil)
        #expect(SourcePrice.price(for: .pending, configured: nil, offer: nil, payout: "10", currency: "RUB") == "0")
    }

    @Test func theConfigurationReadsEachKindAndRefusesNonsense() throws {
        func read(_ price: String) -> Result<LeadBridgeConfig, ConfigError> {
            let text = #"{"sources": {"lc": {"network": "leadcraft", "credentials": {"token": "T", "action": "1"}, "price": \#(price)}}}"#
            return Result { () throws(ConfigError) in try ConfigReader.read(bytes: Array(text.utf8), file: "c.json", environment: [:], specs: Fixtures.library) }
        }
        #expect(try read(#"{"fixed": "1500"}"#).get().sources["lc"]?.price == .fixed("1500"))
        #expect(try read(#"{"fixed": 1500}"#).get().sources["lc"]?.price == .fixed("1500"))
        #expect(try read(#"{"offers": {"credit": "1500"}, "default": "500"}"#).get().sources["lc"]?.price == .perOffer(["credit": "1500"], default: "500"))
        #expect(try read(#"{"payout": {"currency": "rub", "rates": {"USD": "92.5"}, "assume": "rub"}}"#).get().sources["lc"]?.price
                == .payout(currency: "RUB", rates: ["USD": "92.5"], assume: "RUB"))
        for (bad, message) in [(#"{}"#, "give one of"), (#"{"fixed": "1500", "offers": {}}"#, "only one of"), (#"{"fixed": "abc"}"#, "not an amount"),
                               (#"{"fixed": "-5"}"#, "not an amount"), (#"{"offers": {"a": "1,2,3"}}"#, "not an amount"),
                               (#"{"payout": {"rates": {"USD": "1"}}}"#, "currency"), (#"{"fixed": "1", "default": "2"}"#, "goes with")] {
            guard case .failure(let e) = read(bad) else { Issue.record("\(bad) was accepted"); continue }
            #expect(e.description.contains(message), "\(bad): \(e)")
        }
        // A price belongs to a source, not to an account.
        let account = #"{"accounts": {"k": {"network": "kma", "credentials": {"token": "T"}, "params": {"kma": "x"}, "price": {"fixed": "1"}}}}"#
        #expect(throws: ConfigError.self) { try ConfigReader.read(bytes: Array(account.utf8), file: "c.json", environment: [:], specs: Fixtures.library) }
    }
}

@Suite struct SourceIntakeTests {
    static let leadcraft = Fixtures.spec("leadcraft")

    @Test func leadCraftsWordsComeFromItsSpec() throws {
        let intake = try #require(Self.leadcraft.intake)
        let rules = IntakeConfig(tokens: [:], required: [], phonePattern: SpecPattern(IntakeConfig.defaultPhonePattern), countries: [], routes: [], regions: [])
        let pairs = [("phone", "+79001234567"), ("lid", "LC-1"), ("clickID", "f092d155-e7f3-4f78-bcc1-196e775e1dcb")]
        guard case .lead(let lead) = IntakeReader.lead(from: pairs, newId: "LB1", rules: rules, source: intake) else { Issue.record("refused"); return }
        #expect(lead.fields["source_id"] == "LC-1" && lead.fields["click_id"] == "f092d155-e7f3-4f78-bcc1-196e775e1dcb")
        // Another poster (a token that is not LeadCraft) has no such words: `lid` is just extra.
        guard case .lead(let plain) = IntakeReader.lead(from: pairs, newId: "LB2", rules: rules) else { Issue.record("refused"); return }
        #expect(plain.fields["source_id"] == nil && plain.extra["lid"] == "LC-1")
        // No Swift file knows LeadCraft's field names.
        let swift = try #require(Fixtures.text("Sources/LeadBridgeCore/Config/IntakeConfig.swift"))
        #expect(!swift.contains("\"lid\"") && !swift.contains("clickID"))
    }

    @Test func postedLeadsCarryTheSaleIdAndACountryWhenCountriesAreRestricted() throws {
        let intake = try #require(Self.leadcraft.intake)
        let open = IntakeConfig(tokens: [:], required: [], phonePattern: SpecPattern(IntakeConfig.defaultPhonePattern), countries: [], routes: [], regions: [])
        var restricted = open
        restricted.countries = ["RU", "KZ"]
        func fields(_ pairs: [(String, String)], _ rules: IntakeConfig, _ source: SourceIntakeSpec?) -> [String] {
            if case .rejected(let e) = IntakeReader.lead(from: pairs, newId: "LB1", rules: rules, source: source) { return e.map(\.field).sorted() }
            return []
        }
        #expect(fields([("phone", "+79001234567")], open, intake) == ["source_id"])
        #expect(fields([("phone", "+79001234567"), ("lid", "1")], open, intake) == [])
        #expect(fields([("phone", "+79001234567"), ("lid", "1")], restricted, intake) == ["country"])
        #expect(fields([("phone", "+79001234567"), ("lid", "1"), ("country", "")], restricted, intake) == ["country"])
        #expect(fields([("phone", "+79001234567"), ("lid", "1"), ("country", "kz")], restricted, intake) == [])
        #expect(fields([("phone", "+79001234567")], open, nil) == [])  // a poster without a spec: only the configuration's rules
        #expect(IntakeReader.requiredFields(open, source: intake) == ["phone", "source_id"])
    }

    @Test(arguments: [
        ("f092d155-e7f3-4f78-bcc1-196e775e1dcb", true), ("F48E763C-80D1-46B5-A00B-C1593D5AE258", true), ("CLK-9", false),
        ("f092d155e7f34f78bcc1196e775e1dcb", false), ("f092d155-e7f3-4f78-bcc1-196e775e1dcg", false), ("f092d155-e7f3-4f78-bcc1-196e775e1dcb ", false),
    ])
    func clickIdsAreUUIDs(value: String, valid: Bool) {
        #expect(FieldFormat.uuid.accepts(value) == valid)
        let lead = Lead(id: "A-1", phone: "+79001234567", fields: ["click_id": value], source: "leadcraft")
        #expect(OutgoingRequest.leadProblems(lead, source: Self.leadcraft).isEmpty == valid)
    }

    @Test func webmasterAndCampaignIdsAreNamedFieldsWithFormats() {
        let ok = Lead(id: "A-1", phone: "+7900", fields: ["click_id": "f092d155-e7f3-4f78-bcc1-196e775e1dcb", "webmaster_id": "1234",
                                                          "campaign_id": "f48e763c-80d1-46b5-a00b-c1593d5ae258"])
        #expect(OutgoingRequest.leadProblems(ok, source: Self.leadcraft).isEmpty)
        #expect(ok.templateValues()["lead.webmaster_id"] == .text("1234"))
        var bad = ok
        bad.fields["webmaster_id"] = "w-12"
        bad.fields["campaign_id"] = "7"
        #expect(OutgoingRequest.leadProblems(bad, source: Self.leadcraft).map(\.field).sorted() == ["campaign_id", "webmaster_id"])
        // A lead from LeadCraft with neither a click id nor a sale id: LeadCraft would hear nothing.
        let neither = Lead(id: "A-2", phone: "+7900")
        #expect(OutgoingRequest.leadProblems(neither, source: Self.leadcraft).map(\.field) == ["source"])
        // The lead file names its source.
        guard case .success(let read) = LeadReader.read(.obj([("id", .string("A-3")), ("source", .string("leadcraft")), ("webmaster_id", .string("9"))])) else {
            Issue.record("a lead file with a source was refused")
            return
        }
        #expect(read.source == "leadcraft" && read.fields["webmaster_id"] == "9")
        #expect(LeadReader.read(read.json).map(\.source) == .success("leadcraft"))
    }

    @Test func theReferralPostbackNeedsActionID() {
        let referral = Self.leadcraft.outgoing.first { $0.id == "referral" }!
        #expect(OutgoingRequest.missingSettings(referral, source: AccountValues(name: "lc", credentials: ["token": "T"], params: [:])) == ["credentials.action"])
        #expect(OutgoingRequest.missingSettings(referral, source: AccountValues(name: "lc", credentials: ["token": "T", "action": "606"], params: [:])).isEmpty)
    }
}

@Suite struct SalesManPollTests {
    static let salesman = Fixtures.spec("salesman")
    static let account = AccountValues(name: "sm", credentials: ["url": "https://crm.example.ru", "login": "m", "apikey": "K"], params: [:])

    /// "only dateStart: records with a creation date greater than the given date": the
    /// earliest lead's own day must be inside, whatever the CRM's time zone.
    @Test func dateStartIsBeforeTheOldestLeadsDay() throws {
        let poll = try #require(Self.salesman.poll)
        for created in ["2025-12-30T00:00:00Z", "2025-12-30T23:59:59Z"] {
            var plan = PollPlan(spec: Self.salesman, poll: poll, account: Self.account,
                                leads: [.init(orderId: "A", externalId: "1", created: ISODate.parse(created)), .init(orderId: "B", externalId: "2")],
                                now: 1_767_225_600)
            let body = try #require(try plan.nextRequest()).request.bodyText
            #expect(body.contains("dateStart=2025-12-28"), "\(body)")
        }
        let t = try Template.parse("{since|daysBefore:1|date:yyyy-MM-dd}")
        #expect(try TemplateRenderer.text(t, in: TemplateContext(values: ["since": .time(1_767_139_200)])) == "2025-12-30")  // 2025-12-31 − 1
        #expect(throws: TemplateError.self) { try Template.parse("{since|daysBefore}") }
        #expect(throws: TemplateError.self) { try Template.parse("{since|daysBefore:x}") }
    }

    @Test func oneLeadIsLookedUpWithInfoAndMoreAreListed() throws {
        let poll = try #require(Self.salesman.poll)
        var one = PollPlan(spec: Self.salesman, poll: poll, account: Self.account, leads: [.init(orderId: "A", externalId: "940")], now: 1_767_225_600)
        #expect(one.lookingUp && one.plannedRequests == 1)
        #expect(try #require(try one.nextRequest()).request.bodyText.hasSuffix("action=info&id=940"))
        let two = PollPlan(spec: Self.salesman, poll: poll, account: Self.account,
                           leads: [.init(orderId: "A", externalId: "940"), .init(orderId: "B", externalId: "941")], now: 1_767_225_600)
        #expect(!two.lookingUp)
        // A lead without its CRM id (uncertain: the answer was lost) cannot be looked up: listed.
        let uncertain = PollPlan(spec: Self.salesman, poll: poll, account: Self.account, leads: [.init(orderId: "A", externalId: nil)], now: 1_767_225_600)
        #expect(!uncertain.lookingUp)
    }

    @Test func anAccountErrorOfThePollIsTheAccounts() throws {
        let poll = try #require(Self.salesman.poll)
        var plan = PollPlan(spec: Self.salesman, poll: poll, account: Self.account,
                            leads: [.init(orderId: "A", externalId: "1"), .init(orderId: "B", externalId: "2")], now: 1_767_225_600)
        _ = try plan.nextRequest()
        let r = plan.handle(HTTPResponseValue(status: 200, body: Array(#"{"result":"Error","error":{"code":"401","text":"Неизвестный пользователь"}}"#.utf8)))
        #expect(r == .accountError("Неизвестный пользователь"))
        var other = PollPlan(spec: Self.salesman, poll: poll, account: Self.account,
                             leads: [.init(orderId: "A", externalId: "1"), .init(orderId: "B", externalId: "2")], now: 1_767_225_600)
        _ = try other.nextRequest()
        #expect(other.handle(HTTPResponseValue(status: 200, body: Array(#"{"result":"Error","error":{"text":"Сбой"}}"#.utf8))) == .failed(.said("Сбой")))
    }

    @Test func theStatusWordsHaveTheDocumentsNames() {
        #expect(Self.salesman.statusNames["3:1"]?.ru == "Закрыт: Спам")
        #expect(Self.salesman.statuses.lookup("3:0")?.bucket == .cancelled)
        #expect(Self.salesman.statuses.lookup("3:")?.bucket == .cancelled)
        #expect(Self.salesman.statuses.lookup("3:9") == nil)  // an unknown result is reported, never guessed
    }
}
