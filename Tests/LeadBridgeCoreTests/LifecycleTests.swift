import Foundation
import Testing
import LeadBridgeCore

/// docs/lifecycle.md shows the tables the code runs: its generated sections are rendered from
/// `LeadLifecycle` and must match (re-record with LEADBRIDGE_RECORD=1).
@Suite struct LifecycleDocumentTests {
    @Test func theDocumentMatchesTheCode() throws {
        let path = Fixtures.root + "/docs/lifecycle.md"
        let current = try #require(Fixtures.text("docs/lifecycle.md"), "docs/lifecycle.md is missing")
        let rendered = try #require(LifecycleDocument.update(current), "docs/lifecycle.md lacks a <!-- BEGIN/END … --> section marker")
        if ProcessInfo.processInfo.environment["LEADBRIDGE_RECORD"] == "1" {
            try rendered.write(toFile: path, atomically: true, encoding: .utf8)
            return
        }
        for (name, body) in LifecycleDocument.sections {
            #expect(current.contains("<!-- BEGIN \(name) -->\n" + body + "\n<!-- END \(name) -->"),
                    "docs/lifecycle.md's \(name) section differs from the code (re-record with LEADBRIDGE_RECORD=1)")
        }
        #expect(current == rendered)
    }

    @Test func theTablesNameEveryRow() {
        #expect(LifecycleDocument.transitions.split(separator: "\n").count == LeadLifecycle.transitions.count + 2)
        #expect(LifecycleDocument.statusRules.split(separator: "\n").count == LeadLifecycle.statusRules.count + 2)
        #expect(LifecycleDocument.diagram.contains("sending --> uncertain"))
    }
}

/// The state words live in Core: outside it no SQL quotes one, no code compares with one
/// spelled as a literal, and no CHECK constraint names one (output field names such as a
/// summary's "accepted" count are names, not states). (The schema's history as it shipped, versions 1–4, is the
/// one exemption: shipped migrations are never edited.)
@Suite struct StateWordsTests {
    static let exempt = ["Sources/LeadBridgeStore/SQLiteSchemaHistory.swift"]

    static func sources() -> [(path: String, text: String)] {
        let root = Fixtures.root + "/Sources"
        guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
        var out: [(String, String)] = []
        while let rel = walker.nextObject() as? String {
            let path = "Sources/" + rel
            guard rel.hasSuffix(".swift"), !rel.hasPrefix("LeadBridgeCore/"), !exempt.contains(path), let text = Fixtures.text(path) else { continue }
            out.append((path, text))
        }
        return out.sorted { $0.0 < $1.0 }
    }

    /// Words of every enum whose raw values a store writes.
    static let storedWords = Set(SendState.allCases.map(\.rawValue) + Bucket.allCases.map(\.rawValue) + PostbackResult.allCases.map(\.rawValue)
                                 + OutgoingState.allCases.map(\.rawValue) + Reach.allCases.map(\.rawValue) + JournalKind.allCases.map(\.rawValue)
                                 + EventSource.allCases.map(\.rawValue) + Receipt.allCases.map(\.rawValue) + ["inflight", "done"])  // and the old outbox's
    /// The lifecycle's own words, which no literal outside Core may spell.
    static let stateWords = Set(SendState.allCases.map(\.rawValue) + PostbackResult.allCases.map(\.rawValue) + OutgoingState.allCases.map(\.rawValue)
                                + Receipt.allCases.map(\.rawValue))

    static func violations(_ path: String, _ text: String) -> [String] {
        var found: [String] = []
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let l = String(line)
            if l.trimmingCharacters(in: .whitespaces).hasPrefix("//") { continue }
            for w in storedWords where l.contains("'\(w)'") { found.append("\(path):\(n + 1): SQL names '\(w)'") }
            for w in stateWords {
                for use in ["== \"\(w)\"", "!= \"\(w)\"", "case \"\(w)\"", "?? \"\(w)\"", "= \"\(w)\""] where l.contains(use) {
                    found.append("\(path):\(n + 1): \(use)")
                }
            }
            if l.contains("CHECK (") || l.contains("CHECK(") { found.append("\(path):\(n + 1): CHECK constraint") }
        }
        return found
    }

    @Test func noStateWordOutsideCore() {
        let files = Self.sources()
        #expect(files.count > 30)
        let found = files.flatMap { Self.violations($0.path, $0.text) }
        #expect(found.isEmpty, "\(found.joined(separator: "\n"))")
    }

    /// The scan finds what it looks for (it is not vacuous): the shipped history, the old
    /// store's SQL and a comparison with a literal are caught.
    @Test func theScanCatchesStateWords() {
        #expect(Self.violations("history", Fixtures.text(Self.exempt[0]) ?? "").count > 5)
        #expect(Self.violations("x", #"try tx.run("UPDATE outbox SET state = 'inflight' WHERE lead_id = ?")"#).count == 1)
        #expect(!Self.violations("x", #"if raw.result != "received" { return }"#).isEmpty)
        #expect(!Self.violations("x", #"let ok = result == "applied""#).isEmpty)
        #expect(Self.violations("x", #"out.out("\(n.accepted) accepted")"#).isEmpty)
    }
}

/// The tables themselves: complete, and each rule where it belongs.
@Suite struct LifecycleTableTests {
    /// Every event in every state ends on a row whose condition always holds: `decide` never
    /// falls off the table.
    @Test func everyStateAndEventHasAFallbackRow() {
        for state in SendState.allCases {
            for kind in LifecycleEventKind.allCases {
                let rows = LeadLifecycle.transitions.filter { $0.on == kind && $0.from.contains(state) }
                #expect(rows.contains { $0.when == .always }, "\(state.rawValue) × \(kind.rawValue): no fallback row")
            }
        }
    }

    static let policy = LifecyclePolicy(network: "kma", chargebacks: false, dedupe: false, retry: RetryPolicy(maxAttempts: 3, baseDelay: 10, maxDelay: 640))

    static func facts(_ state: SendState, reach: Reach = .none, attempts: Int = 1, status: Bucket? = nil) -> LeadFacts {
        var f = LeadFacts(state: state, reach: reach, status: status.map { LeadStatus(bucket: $0, raw: "w") }, attempts: attempts, updatedAt: 0)
        if state == .queued { f.dueAt = 0 }
        if state == .claimed || state == .sending { f.claim = Claim(owner: "me", until: 500) }
        return f
    }

    static let failedNotReceived = SendOutcome(kind: .failed, message: "HTTP 503", httpStatus: 503, receipt: .notReceived)
    static let failedMaybe = SendOutcome(kind: .failed, message: "timeout", receipt: .maybeReceived)

    @Test(arguments: [
        // state, reach, attempts, event, dedupe → new state
        (SendState.queued, Reach.none, 0, LifecycleEvent.claimed(Claim(owner: "me", until: 900)), false, SendState.claimed),
        (.claimed, .none, 0, .requestWritten(owner: "me"), false, .sending),
        (.claimed, .none, 0, .requestWritten(owner: "someone else"), false, .claimed),
        // Marked written ahead of its turn, never sent: back to the queue, only by its own worker.
        (.sending, .none, 1, .requestNotSent(owner: "me"), false, .queued),
        (.sending, .held, 1, .requestNotSent(owner: "me"), false, .queued),
        (.sending, .none, 1, .requestNotSent(owner: "someone else"), false, .sending),
        (.claimed, .none, 0, .requestNotSent(owner: "me"), false, .claimed),
        (.sending, .none, 1, .answered(SendOutcome(kind: .accepted, externalId: "7")), false, .accepted),
        (.sending, .none, 1, .answered(SendOutcome(kind: .duplicate)), false, .duplicate),
        (.sending, .maybe, 1, .answered(SendOutcome(kind: .duplicate)), false, .accepted),
        (.sending, .held, 1, .answered(SendOutcome(kind: .duplicate)), false, .accepted),
        (.sending, .held, 1, .answered(SendOutcome(kind: .rejected)), false, .accepted),
        (.sending, .none, 1, .answered(SendOutcome(kind: .rejected)), false, .rejected),
        // A rejection of an earlier attempt (its worker's lease ran out) while another worker's
        // request is out: that request decides.
        (.sending, .maybe, 1, .answered(SendOutcome(kind: .rejected), owner: "a lapsed worker"), false, .sending),
        (.uncertain, .maybe, 1, .answered(SendOutcome(kind: .rejected), owner: "a lapsed worker"), false, .rejected),
        (.sending, .none, 1, .answered(failedNotReceived), false, .queued),
        (.sending, .none, 3, .answered(failedNotReceived), false, .parked),
        (.sending, .held, 3, .answered(failedNotReceived), false, .accepted),
        (.sending, .none, 1, .answered(failedMaybe), false, .uncertain),
        (.sending, .none, 1, .answered(failedMaybe), true, .queued),
        (.sending, .none, 3, .answered(failedMaybe), true, .uncertain),
        (.sending, .held, 1, .answered(failedMaybe), false, .accepted),
        (.sending, .none, 1, .interrupted, false, .uncertain),
        (.sending, .none, 1, .interrupted, true, .queued),
        (.claimed, .none, 0, .interrupted, false, .queued),
        (.uncertain, .maybe, 1, .settled(.accepted), false, .accepted),
        (.uncertain, .maybe, 1, .settled(.notSent), false, .queued),
        (.accepted, .held, 1, .settled(.notSent), false, .accepted),
        (.accepted, .held, 1, .resendRequested, false, .queued),
        (.sending, .none, 1, .resendRequested, false, .sending),
        (.uncertain, .maybe, 1, .statusReported(StatusReport(status: LeadStatus(bucket: .approved), source: .poll, network: "kma")), false, .accepted),
        (.queued, .none, 0, .statusReported(StatusReport(status: LeadStatus(bucket: .pending), source: .postback, network: "kma")), false, .accepted),
        (.queued, .held, 0, .statusReported(StatusReport(status: LeadStatus(bucket: .pending), source: .postback, network: "kma")), false, .queued),
        (.uncertain, .maybe, 1, .statusReported(StatusReport(status: LeadStatus(bucket: .approved), source: .postback, network: "drcash")), false, .uncertain),
    ] as [(SendState, Reach, Int, LifecycleEvent, Bool, SendState)])
    func transitions(state: SendState, reach: Reach, attempts: Int, event: LifecycleEvent, dedupe: Bool, expected: SendState) {
        var policy = Self.policy
        policy.dedupe = dedupe
        var f = Self.facts(state, reach: reach, attempts: attempts)
        f.attempts = attempts
        let d = LeadLifecycle.decide(f, event, policy: policy, now: 100, random: 0.5)
        #expect(d.facts.state == expected, "\(state.rawValue) + \(event.kind.rawValue): \(d.facts.state.rawValue) \(d.refusal.map { "\($0)" } ?? "")")
        // Bookkeeping shared by every row.
        #expect((d.facts.dueAt != nil) == (d.facts.state == .queued))
        #expect((d.facts.claim != nil) == (d.facts.state == .claimed || d.facts.state == .sending))
    }

    /// A worker whose lease ran out hears "rejected" while another worker's request for the lead
    /// is out: the lead is not rejected under the other worker (the source is not told
    /// "cancelled" for a lead the network may be accepting right now); the answer is recorded.
    @Test func aLateRejectionLeavesTheRequestInFlightToDecide() throws {
        let d = LeadLifecycle.decide(Self.facts(.sending, reach: .maybe), .answered(SendOutcome(kind: .rejected, message: "bad phone", httpStatus: 400), owner: "a lapsed worker"),
                                     policy: Self.policy, now: 100, random: 0.5)
        #expect(d.facts.state == .sending)
        #expect(d.facts.claim?.owner == "me")
        #expect(d.effects.isEmpty)
        guard case .journal(let entry) = d.fact else { Issue.record("no journal entry: \(d.fact)"); return }
        #expect(entry.kind == .attempt && entry.attempt?.outcome == .rejected)
        #expect(entry.note == "bad phone" && d.transition?.when == .anotherSends)
        let plain = LeadLifecycle.decide(Self.facts(.sending, reach: .maybe), .answered(SendOutcome(kind: .rejected), owner: "a lapsed worker"),
                                         policy: Self.policy, now: 100, random: 0.5)
        guard case .journal(let bare) = plain.fact else { Issue.record("no journal entry: \(plain.fact)"); return }
        #expect(bare.reason == .note(.lateRejected))
        // The current worker's own answer still decides.
        let own = LeadLifecycle.decide(d.facts, .answered(SendOutcome(kind: .accepted, externalId: "9"), owner: "me"), policy: Self.policy, now: 101, random: 0.5)
        #expect(own.facts.state == .accepted && own.facts.status?.bucket == .pending)
        #expect(!own.effects.contains(.queueOutgoing(.cancelled)))
    }

    /// A lead marked written ahead of its turn whose request never went out (its pass stopped)
    /// goes back to the queue due now, its attempt not counted, with a journal entry saying so.
    @Test func aRequestNotSentAfterAllIsQueuedUncounted() throws {
        let written = LeadLifecycle.decide(Self.facts(.claimed, attempts: 0), .requestWritten(owner: "me"), policy: Self.policy, now: 100, random: 0.5)
        #expect(written.facts.attempts == 1 && written.effects.contains(.send))
        let d = LeadLifecycle.decide(written.facts, .requestNotSent(owner: "me"), policy: Self.policy, now: 101, random: 0.5)
        #expect(d.facts.state == .queued && d.facts.attempts == 0 && d.facts.dueAt == 101 && d.facts.claim == nil && d.facts.reach == .none)
        #expect(d.effects.isEmpty)
        guard case .journal(let entry) = d.fact else { Issue.record("no journal entry: \(d.fact)"); return }
        #expect(entry.kind == .interrupted && entry.reason == .note(.releasedBeforeWrite) && entry.fromState == .sending && entry.toState == .queued)
    }

    @Test func aRetryIsScheduledByThePolicyAndAnAttemptIsRecorded() throws {
        let d = LeadLifecycle.decide(Self.facts(.sending), .answered(Self.failedNotReceived, durationMs: 42), policy: Self.policy, now: 100, random: 0.5)
        #expect(d.facts.dueAt == 108)  // 10 s step: 5 + 5 × 0.5 = 7.5, rounded up
        #expect(d.effects.contains(.retry(at: 108)))
        let entry = try #require(d.journal)
        #expect(entry.kind == .attempt && entry.attempt == AttemptRecord(number: 1, outcome: .failed, receipt: .notReceived, httpStatus: 503, durationMs: 42))
        var withRetryAfter = Self.failedNotReceived
        withRetryAfter.retryAfter = 120
        #expect(LeadLifecycle.decide(Self.facts(.sending), .answered(withRetryAfter), policy: Self.policy, now: 100).facts.dueAt == 220)
    }

    @Test func anExternalIdOfAnotherOrderMakesADuplicate() {
        let d = LeadLifecycle.decide(Self.facts(.sending), .answered(SendOutcome(kind: .accepted, externalId: "9"), externalIdTakenBy: "A"), policy: Self.policy, now: 1)
        #expect(d.facts.state == .duplicate)
        #expect(d.facts.externalId == nil)
        #expect(d.journal?.reason == .externalIdTaken(externalId: "9", order: "A"))
        #expect(StoredNote.decode(d.facts.lastError).reason == .externalIdTaken(externalId: "9", order: "A"))
    }

    @Test func refusalsAreAuditEntriesWithTheirReason() throws {
        let approved = Self.facts(.accepted, reach: .held, status: .approved)
        for (event, reason) in [
            (LifecycleEvent.statusReported(StatusReport(status: LeadStatus(bucket: .pending, raw: "hold"), source: .postback, network: "kma")),
             LifecycleReason.finalNeverPending(from: .approved)),
            (.statusReported(StatusReport(status: LeadStatus(bucket: .cancelled, raw: "cancel"), source: .poll, network: "kma")), .needsChargebacks(to: .cancelled)),
            (.statusReported(StatusReport(status: LeadStatus(bucket: .cancelled, raw: "cancel"), source: .import, network: "kma")), .needsChargebacks(to: .cancelled)),
            (.statusReported(StatusReport(status: LeadStatus(bucket: .trash, raw: "cancel"), source: .operator, network: "kma")), .needsChargebacks(to: .trash)),
            (.statusReported(StatusReport(status: LeadStatus(bucket: .trash), source: .postback, network: "drcash")), .otherNetwork(reporter: "drcash", network: "kma")),
            (.settled(.accepted), .inState(.onlyUncertainSettled, .accepted)),
        ] {
            let d = LeadLifecycle.decide(approved, event, policy: Self.policy, now: 5)
            #expect(d.facts.status == approved.status && d.facts.state == .accepted)
            let entry = try #require(d.journal)
            #expect(entry.kind == .refused && entry.reason == reason && entry.note == nil, "\(event.kind.rawValue): \(String(describing: entry.reason))")
            #expect(d.effects.isEmpty)
        }
        var chargebacks = Self.policy
        chargebacks.chargebacks = true
        let d = LeadLifecycle.decide(approved, .statusReported(StatusReport(status: LeadStatus(bucket: .cancelled), source: .poll, network: "kma")),
                                     policy: chargebacks, now: 5)
        #expect(d.facts.status?.bucket == .cancelled && d.journal?.reason == .note(.chargeback))
        #expect(d.effects.contains(.queueOutgoing(.cancelled)))
    }

    /// `finalAt` (the funnel's time to a final status) is the first time a lead got a final
    /// status: not set by a pending status, set by the first final one, kept through a chargeback.
    @Test func theFirstFinalStatusIsRemembered() {
        var chargebacks = Self.policy
        chargebacks.chargebacks = true
        func report(_ b: Bucket) -> LifecycleEvent { .statusReported(StatusReport(status: LeadStatus(bucket: b), source: .poll, network: "kma")) }
        let pending = LeadLifecycle.decide(Self.facts(.accepted, reach: .held, status: nil), report(.pending), policy: chargebacks, now: 10).facts
        #expect(pending.status?.bucket == .pending && pending.finalAt == nil)
        let approved = LeadLifecycle.decide(pending, report(.approved), policy: chargebacks, now: 20).facts
        #expect(approved.finalAt == 20)
        let cancelled = LeadLifecycle.decide(approved, report(.cancelled), policy: chargebacks, now: 30).facts
        #expect(cancelled.status?.bucket == .cancelled && cancelled.finalAt == 20)
    }

    @Test func aRepeatedStatusIsARowFactNotAJournalLine() {
        let f = Self.facts(.accepted, reach: .held, status: .pending)
        let d = LeadLifecycle.decide(f, .statusReported(StatusReport(status: LeadStatus(bucket: .pending, raw: "w"), source: .poll, network: "kma", payout: "5")),
                                     policy: Self.policy, now: 9)
        #expect(d.fact == .row(.confirmed))
        #expect(d.facts.confirmedAt == 9 && d.facts.payout == "5")
    }

    @Test(arguments: [
        (nil as Bucket?, Bucket.pending, false, "change"),
        (.pending, .approved, false, "change"),
        (.approved, .pending, false, "refused"),
        (.trash, .pending, true, "refused"),
        (.approved, .cancelled, false, "refused"),
        (.approved, .trash, false, "refused"),
        (.approved, .cancelled, true, "change"),
        (.cancelled, .approved, false, "change"),
        (.cancelled, .trash, false, "change"),
        (.approved, .approved, false, "unchanged"),
    ])
    func statusRules(from: Bucket?, to: Bucket, chargebacks: Bool, expected: String) {
        switch LeadLifecycle.statusDecision(from: from.map { LeadStatus(bucket: $0, raw: "x") }, to: LeadStatus(bucket: to, raw: "x"), chargebacks: chargebacks) {
        case .change: #expect(expected == "change")
        case .unchanged: #expect(expected == "unchanged")
        case .refused: #expect(expected == "refused")
        }
    }

    @Test func wordsAndDetailsOfTheSameBucket() {
        func d(_ a: LeadStatus, _ b: LeadStatus) -> LeadLifecycle.StatusDecision { LeadLifecycle.statusDecision(from: a, to: b, chargebacks: false) }
        #expect(d(LeadStatus(bucket: .pending, raw: "new"), LeadStatus(bucket: .pending, raw: "hold", detail: "hold")) == .change(note: .note(.newWordOrDetail)))
        #expect(d(LeadStatus(bucket: .approved, raw: "ok"), LeadStatus(bucket: .approved, raw: "paid")) == .unchanged)  // the first final word stays
        #expect(d(LeadStatus(bucket: .pending, raw: "New"), LeadStatus(bucket: .pending, raw: "new")) == .unchanged)
    }
}

/// The failure table, through the code that reads answers: only what certainly did not
/// arrive is `not-received`; a lost or unreadable answer to the request carrying the lead is
/// `maybe-received`.
@Suite struct FailureClassificationTests {
    /// KMA's rules: code 0 accepted, a duplicate and a rejection by code, nothing for 5xx.
    static let kma = Fixtures.spec("kma")

    @Test(arguments: [
        (200, "{\"code\":0,\"order\":15}", OutcomeKind.accepted, nil as Receipt?),
        (200, "<html>Fatal error</html>", .failed, .maybeReceived),  // a 2xx no rule reads
        (302, "", .failed, .maybeReceived),
        (500, "oops", .failed, .maybeReceived),
        (502, "bad gateway", .failed, .maybeReceived),
        (504, "gateway timeout", .failed, .maybeReceived),
        (503, "busy", .failed, .notReceived),
        (429, "", .failed, .notReceived),
        (408, "", .failed, .notReceived),
        (404, "not found", .failed, .notReceived),
        (401, "unauthorized", .failed, .notReceived),
    ])
    func answers(status: Int, body: String, kind: OutcomeKind, receipt: Receipt?) throws {
        let send = try #require(Self.kma.send)
        let o = ResponseClassifier.classify(HTTPResponseValue(status: status, body: Array(body.utf8)), format: send.response, rules: send.outcomes)
        #expect(o.kind == kind, "HTTP \(status): \(o.kind)")
        #expect(o.receipt == receipt, "HTTP \(status): \(String(describing: o.receipt))")
    }

    @Test func aSpecRuleThatSaysFailedIsRetryable() throws {
        let library = Fixtures.load(["acme.json": """
            {"id": "acme", "name": "Acme", "credentials": [], "postbacks": {"items": []}, "statuses": {"approved": ["ok"]},
             "send": {"request": {"method": "POST", "url": "https://acme.test/lead", "form": {"phone": "{lead.phone}"}},
                      "outcomes": [{"when": {"json": "status", "equals": "busy"}, "result": "failed", "text": "try later"},
                                   {"when": {"json": "status", "equals": "ok"}, "result": "accepted"}]}}
            """])
        let send = try #require(library.spec("acme")?.send)
        let o = ResponseClassifier.classify(HTTPResponseValue(status: 200, body: Array(#"{"status":"busy"}"#.utf8)), format: send.response, rules: send.outcomes)
        #expect(o.kind == .failed && o.receipt == .notReceived)
    }

    /// LeadRock sends in two steps; the lead travels in the second. A failure of the first is
    /// never ambiguous, whatever kind it is; a lost answer to the second is.
    @Test func aPreparatoryStepNeverCarriesTheLead() throws {
        let spec = Fixtures.spec("leadrock")
        let account = AccountValues(name: "a", credentials: ["key": "777", "secret": "s3cr3t"], params: ["leadrock": "https://leadrock.com/URL-1-2"])
        let lead = RequestBuilderTests.lead
        var timedOutFirst = try SendPlan(spec: spec, lead: lead, account: account, now: 0)
        _ = try timedOutFirst.nextRequest()
        timedOutFirst.fail(.transport(.timeout, .said("timeout")), cause: .transportMaybeReceived)
        #expect(timedOutFirst.outcome?.receipt == .notReceived)
        var garbledFirst = try SendPlan(spec: spec, lead: lead, account: account, now: 0)
        _ = try garbledFirst.nextRequest()
        garbledFirst.handle(HTTPResponseValue(status: 500, body: Array("oops".utf8)))
        #expect(garbledFirst.outcome?.kind == .failed && garbledFirst.outcome?.receipt == .notReceived)
        var timedOutFinal = try SendPlan(spec: spec, lead: lead, account: account, now: 0)
        _ = try timedOutFinal.nextRequest()
        timedOutFinal.handle(HTTPResponseValue(status: 200, body: Array("trk-1".utf8)))
        _ = try timedOutFinal.nextRequest()
        timedOutFinal.fail(.transport(.timeout, .said("timeout")), cause: .transportMaybeReceived)
        #expect(timedOutFinal.outcome?.receipt == .maybeReceived)
        var refusedFinal = try SendPlan(spec: spec, lead: lead, account: account, now: 0)
        _ = try refusedFinal.nextRequest()
        refusedFinal.handle(HTTPResponseValue(status: 200, body: Array("trk-1".utf8)))
        _ = try refusedFinal.nextRequest()
        refusedFinal.fail(.transport(.connection, .said("connection refused")), cause: .transportNotSent)
        #expect(refusedFinal.outcome?.receipt == .notReceived)
    }

    @Test func theTableCoversEveryCause() {
        #expect(Set(FailureClassification.table.map(\.cause)) == Set(FailureCause.allCases))
        #expect(FailureClassification.table.count == FailureCause.allCases.count)
    }
}
