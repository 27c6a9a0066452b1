import Synchronization
import Testing
import LeadBridgeCore
import LeadBridgeNet
import LeadBridgeStore
@testable import LeadBridgeEngine

/// A real store under test wrappers: every call goes to `inner`; a subclass changes `write`
/// (counting its transactions, failing one lead's write, running another process's work first).
// Sendable: `inner` is a Sendable store and there is no other state here.
class ForwardingStore: LeadStore, @unchecked Sendable {
    let inner: any LeadStore

    init(_ inner: any LeadStore) { self.inner = inner }

    func write<T: Sendable>(_ body: (any LedgerWriter) throws(StoreError) -> T) throws(StoreError) -> T { try inner.write(body) }
    func leads(_ query: LeadQuery) throws(StoreError) -> [LeadRecord] { try inner.leads(query) }
    func locate(_ keys: [LeadKey]) throws(StoreError) -> [LeadLocation?] { try inner.locate(keys) }
    func journal(rowId: Int64) throws(StoreError) -> [JournalEntry] { try inner.journal(rowId: rowId) }
    func counts() throws(StoreError) -> LedgerCounts { try inner.counts() }
    func postbacks(_ query: PostbackQuery) throws(StoreError) -> [RawPostbackRecord] { try inner.postbacks(query) }
    func outgoing(_ query: OutgoingQuery) throws(StoreError) -> [OutgoingPostback] { try inner.outgoing(query) }
    func leadTallies(_ period: LedgerPeriod) throws(StoreError) -> [LeadTally] { try inner.leadTallies(period) }
    func finalTimings(_ period: LedgerPeriod, state: SendState) throws(StoreError) -> [FinalTiming] { try inner.finalTimings(period, state: state) }
    func stateTallies(states: [SendState], dueCutoff: Int64) throws(StoreError) -> [StateTally] { try inner.stateTallies(states: states, dueCutoff: dueCutoff) }
    func outgoingTallies() throws(StoreError) -> [OutgoingTally] { try inner.outgoingTallies() }
    func searchLeads(_ search: LeadSearch) throws(StoreError) -> [LeadRecord] { try inner.searchLeads(search) }
    func latestSyncPasses() throws(StoreError) -> [SyncPassRecord] { try inner.latestSyncPasses() }
    func postbackTallies() throws(StoreError) -> [PostbackTally] { try inner.postbackTallies() }
    func attemptTallies() throws(StoreError) -> [AttemptTally] { try inner.attemptTallies() }
    func recordSyncPasses(_ passes: [SyncPassRecord]) throws(StoreError) { try inner.recordSyncPasses(passes) }
}

/// A real SQLite store that counts its write transactions (everything else passes through).
final class CountingStore: ForwardingStore, @unchecked Sendable {
    // Sendable: the count is behind a Mutex.
    let writes = Mutex(0)

    override func write<T: Sendable>(_ body: (any LedgerWriter) throws(StoreError) -> T) throws(StoreError) -> T {
        writes.withLock { $0 += 1 }
        return try inner.write(body)
    }
}

/// Waits (polling every millisecond, for at most `seconds`) until `condition` holds; true when it did.
func eventually(_ seconds: Double = 60, _ condition: () -> Bool) async -> Bool {
    let deadline = WallClock.seconds() + seconds
    while WallClock.seconds() < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(1))
    }
    return condition()
}

/// What each caller got back, by row id.
final class Results: Sendable {
    let held = Mutex<[Int64: Bool]>([:])
    func withLock<T>(_ body: (inout [Int64: Bool]) -> T) -> T { held.withLock { body(&$0) } }
}

@Suite struct BatchedSendTests {
    /// `leads` queued KMA leads in a real store that counts its write transactions, claimed by
    /// "test/1/1".
    func claimedLeads(_ leads: Int) throws -> (inner: any LeadStore, store: CountingStore, ledger: Ledger, claimed: [LeadRecord]) {
        let inner = try EngineFixtures.store()
        let clock = EngineFixtures.Clock()
        for i in 0..<leads { try EngineFixtures.enqueue(inner, EngineFixtures.lead(i), network: "kma", account: "kma-main", at: clock.now()) }
        let store = CountingStore(inner)
        let ledger = EngineFixtures.ledger(store, at: { clock.now() })
        let claimed = try ledger.claim(network: "kma", limit: leads, owner: "test/1/1", lease: 60)
        #expect(claimed.count == leads)
        return (inner, store, ledger, claimed)
    }

    /// The per-lead events of leads in flight are committed together: while one transaction
    /// runs, the events that arrive wait and then go in one transaction, each caller getting
    /// its own result only after that commit.
    @Test func eventsInFlightShareOneTransaction() async throws {
        let leads = 20
        let (inner, store, ledger, claimed) = try claimedLeads(leads)
        let events = SendEvents(ledger: ledger)
        let before = store.writes.withLock { $0 }
        // As if a transaction were committing: every event queues behind it.
        events.queue.withLock { $0.committing = true }
        let results = Results()
        let rowIds = claimed.map(\.rowId)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for rowId in rowIds {
                group.addTask {
                    let holds = try await events.requestWritten(rowId: rowId, owner: "test/1/1")
                    results.withLock { $0[rowId] = holds }
                }
            }
            let queued = await eventually { events.queue.withLock { $0.written.count } == leads }
            #expect(queued, "the events did not queue")
            #expect(results.withLock { $0 }.isEmpty, "an event returned before its commit")
            #expect(store.writes.withLock { $0 } == before)
            // That transaction ends: the committer takes every waiting event at once.
            events.drain()
            try await group.waitForAll()
        }
        #expect(store.writes.withLock { $0 } == before + 1)
        #expect(results.withLock { $0 }.count == leads)
        #expect(results.withLock { $0 }.values.allSatisfy { $0 })
        #expect(events.queue.withLock { $0.committing } == false)
        for r in claimed { #expect(try inner.record(rowId: r.rowId)?.sendState == .sending) }
        // Three leads the network names with one external id, in one batch: only the first takes it.
        let answers = try ledger.apply(claimed.prefix(3).map {
            SendEvent.answered(rowId: $0.rowId, outcome: SendOutcome(kind: .accepted, externalId: "E-1"), durationMs: 5, owner: "test/1/1")
        })
        let ids = answers.compactMap { if case .answered(let u?) = $0 { return u.record.externalId } else { return nil } }
        #expect(ids.filter { $0 == "E-1" }.count == 1)
        #expect(try inner.record(rowId: claimed[0].rowId)?.externalId == "E-1")
    }

    /// Answers wait to be recorded together: none is committed before `maxUnrecorded` of them
    /// wait (the one that makes the count commits them all in one transaction), and answers
    /// left waiting are committed when the pass finishes. Each caller resumes only after its
    /// own commit.
    @Test func answersAreRecordedTogetherByCount() async throws {
        let leads = 6
        let (inner, store, ledger, claimed) = try claimedLeads(leads)
        // No timer within the test's life: only the count and `finish` commit answers.
        let events = SendEvents(ledger: ledger, maxUnrecorded: 3, maxDelayMs: 3_600_000)
        for r in claimed { #expect(try await events.requestWritten(rowId: r.rowId, owner: "test/1/1")) }
        let afterWritten = store.writes.withLock { $0 }
        #expect(afterWritten <= 1 + leads)
        let answered = Results()
        func answer(_ r: LeadRecord, _ n: Int) -> Task<Void, Error> {
            Task {
                let update = try await events.answered(rowId: r.rowId, outcome: SendOutcome(kind: .accepted, externalId: "E-\(n)"), durationMs: 1, owner: "test/1/1")
                answered.withLock { $0[r.rowId] = update?.record.sendState == .accepted }
            }
        }
        // Two answers: below the count, nothing commits and nobody resumes.
        let first = [answer(claimed[0], 0), answer(claimed[1], 1)]
        #expect(await eventually { events.queue.withLock { $0.answers.count } == 2 })
        #expect(store.writes.withLock { $0 } == afterWritten)
        #expect(answered.withLock { $0 }.isEmpty, "an answer returned before its commit")
        #expect(try inner.record(rowId: claimed[0].rowId)?.sendState == .sending)
        // The third makes the count: the three in one transaction.
        let third = answer(claimed[2], 2)
        for t in first + [third] { try await t.value }
        #expect(store.writes.withLock { $0 } == afterWritten + 1)
        #expect(answered.withLock { $0 }.count == 3 && answered.withLock { $0 }.values.allSatisfy { $0 })
        #expect(events.queue.withLock { $0.answers.isEmpty && !$0.committing })
        // One more answer waits; the pass finishes: it is committed then, and later ones at once.
        let fourth = answer(claimed[3], 3)
        #expect(await eventually { events.queue.withLock { $0.answers.count } == 1 })
        #expect(store.writes.withLock { $0 } == afterWritten + 1)
        events.finish()
        try await fourth.value
        #expect(store.writes.withLock { $0 } == afterWritten + 2)
        try await answer(claimed[4], 4).value
        #expect(store.writes.withLock { $0 } == afterWritten + 3)
        #expect(answered.withLock { $0 }.count == 5)
        for r in claimed.prefix(5) { #expect(try inner.record(rowId: r.rowId)?.sendState == .accepted) }
        #expect(try inner.record(rowId: claimed[5].rowId)?.sendState == .sending)
    }

    /// An answer below the count is committed by time: the delay runs out and it is recorded
    /// without anything else arriving.
    @Test func anAnswerAloneIsRecordedAfterTheDelay() async throws {
        let store = try EngineFixtures.store()
        let clock = EngineFixtures.Clock()
        try EngineFixtures.enqueue(store, EngineFixtures.lead(0), network: "kma", account: "kma-main", at: clock.now())
        let ledger = EngineFixtures.ledger(store, at: { clock.now() })
        let lead = try #require(try ledger.claim(network: "kma", limit: 1, owner: "test/1/1", lease: 60).first)
        let events = SendEvents(ledger: ledger, maxUnrecorded: 100, maxDelayMs: 1)
        #expect(try await events.requestWritten(rowId: lead.rowId, owner: "test/1/1"))
        let update = try await events.answered(rowId: lead.rowId, outcome: SendOutcome(kind: .accepted, externalId: "E-1"), owner: "test/1/1")
        #expect(update?.record.sendState == .accepted)
        #expect(try store.record(rowId: lead.rowId)?.sendState == .accepted)
    }

    /// A lead's "request written" is refused in a batch when another worker holds its claim,
    /// and the other leads of the batch go on.
    @Test func aLostClaimIsThatLeadsAlone() async throws {
        let store = try EngineFixtures.store()
        let clock = EngineFixtures.Clock()
        for i in 0..<3 { try EngineFixtures.enqueue(store, EngineFixtures.lead(i), network: "kma", account: "kma-main", at: clock.now()) }
        let ledger = EngineFixtures.ledger(store, at: { clock.now() })
        let mine = try ledger.claim(network: "kma", limit: 2, owner: "test/1/1", lease: 60)
        let theirs = try ledger.claim(network: "kma", limit: 1, owner: "other/2/2", lease: 60)
        #expect(mine.count == 2 && theirs.count == 1)
        let results = try ledger.apply((mine + theirs).map { SendEvent.requestWritten(rowId: $0.rowId, owner: "test/1/1") })
        let holds = results.map { r -> Bool? in if case .written(let h) = r { return h } else { return nil } }
        #expect(holds == [true, true, false])
        #expect(try store.record(rowId: theirs[0].rowId)?.sendState == .claimed)
    }

    /// A slot freed by an account error stops the pass: the lead waiting for it gets none (it
    /// sends nothing), and so does any later one; a normal answer hands the slot on.
    @Test func anAccountErrorStopsTheLeadsWaitingForASlot() async {
        let slots = SendSlots(1)
        #expect(await slots.acquire())
        let handedOn = Task { await slots.acquire() }
        var queued = false
        for _ in 0..<60_000 where !queued {
            queued = slots.waiting == 1
            if !queued { try? await Task.sleep(for: .milliseconds(1)) }
        }
        #expect(queued)
        slots.release()
        #expect(await handedOn.value)
        let stopped = Task { await slots.acquire() }
        queued = false
        for _ in 0..<60_000 where !queued {
            queued = slots.waiting == 1
            if !queued { try? await Task.sleep(for: .milliseconds(1)) }
        }
        #expect(queued)
        slots.release(stopping: true)
        #expect(await stopped.value == false)
        #expect(await slots.acquire() == false)
    }

    /// The send part of a pass alone over `leads` queued KMA leads the network accepts, each
    /// with a new order number: its claims and the leads' events are all it writes (the polls
    /// after it write too, as many times as their pages and answers take). Checks that every
    /// lead ends accepted with its own external id and one attempt in its journal; returns the
    /// write transactions the pass made.
    func sendPass(concurrency: Int, leads: Int, _ options: SyncOptions = SyncOptions()) async throws -> Int {
        let inner = try EngineFixtures.store()
        let clock = EngineFixtures.Clock()
        let config = try EngineFixtures.config(SyncerTests.kmaAccount.replacingAll(#""params""#, with: #""concurrency": \#(concurrency), "params""#))
        for i in 0..<leads { try EngineFixtures.enqueue(inner, EngineFixtures.lead(i), network: "kma", account: "kma-main", at: clock.now()) }
        let store = CountingStore(inner)
        let order = Mutex(100)
        let transport = ScriptedTransport([("https://api.kma.biz/lead/add", { _ in
            let n = order.withLock { $0 += 1; return $0 }
            return HTTPResponseValue(status: 200, body: Array(#"{"code":0,"order":\#(n)}"#.utf8))
        })])
        let syncer = Syncer(store: store, library: EngineFixtures.library, config: config, transport: transport, clock: { clock.now() })
        var report = SyncReport()
        try await syncer.sendDue(options, syncer.ledger(options), &report) { _ in }
        #expect(report.networks["kma"]?.accepted == leads)
        let accepted = try inner.leads(LeadQuery(network: "kma", limit: 1000))
        #expect(accepted.count == leads)
        #expect(accepted.allSatisfy { $0.sendState == .accepted && $0.externalId != nil })
        #expect(Set(accepted.compactMap(\.externalId)).count == leads)
        for r in accepted {
            #expect(try inner.journal(rowId: r.rowId).filter { $0.kind == .attempt }.count == 1)
        }
        return store.writes.withLock { $0 }
    }

    /// A send pass with many leads in flight through the group commit, in fewer write
    /// transactions than the three per lead of one-by-one writes.
    @Test func aSendPassGroupCommits() async throws {
        let leads = 64
        let writes = try await sendPass(concurrency: 16, leads: leads)
        // Claims go 32 at a time; each lead's two events need at most one transaction each.
        #expect(writes <= 2 * leads + leads / 32 + 1, "\(writes) write transactions")
    }

    /// At concurrency 1 the leads' "request written" events are made while the leads before
    /// them are out (several at a time when they can wait), and answers several at a time: with
    /// no timer in the test's life, 8 per transaction, and those left when the pass runs out of
    /// leads as they come — not one transaction per event.
    @Test func atConcurrencyOneAnswersShareTransactions() async throws {
        let leads = 64
        var options = SyncOptions()
        options.answerDelayMs = 3_600_000
        options.maxUnrecordedAnswers = 8
        let writes = try await sendPass(concurrency: 1, leads: leads, options)
        // Two claims of 32, at most 64 "written" commits (four at a time, or at once when a slot
        // idles), at most 8 answer commits by count, and one each for the answers of the leads
        // still under way when the pass ran out of leads (as many as it keeps started:
        // 2 × concurrency + 2 + 8 ready + 8). One commit per event would be 130.
        #expect(writes <= 2 + leads + leads / 8 + 20, "\(writes) write transactions")
    }

    /// Requests held by the network until the test lets them go (a network slower than the
    /// pass): each waits, suspended, for `release`.
    final class RoundTransport: HTTPTransport {
        // Sendable: the waiting requests and the count are behind a Mutex.
        let held = Mutex<[CheckedContinuation<Void, Never>]>([])
        let answered = Mutex(0)

        func send(_ request: HTTPRequestValue, timeout: Double) async throws(TransportError) -> HTTPResponseValue {
            await withCheckedContinuation { c in held.withLock { $0.append(c) } }
            let n = answered.withLock { $0 += 1; return $0 }
            return HTTPResponseValue(status: 200, body: Array(#"{"code":0,"order":\#(n)}"#.utf8))
        }

        /// Lets every request waiting now have its answer; returns how many.
        func release() -> Int {
            let round = held.withLock { h in defer { h = [] }; return h }
            for c in round { c.resume() }
            return round.count
        }
    }

    /// At concurrency 16 a pass keeps as many leads marked written ahead of their turn as it
    /// has requests out (at least 8): when a round of answers comes, every freed slot finds a
    /// lead marked for it, and none waits for a "written" commit. Never more than that.
    @Test func aPassMarksAheadAsManyLeadsAsItSendsAtOnce() async throws {
        let concurrency = 16
        let leads = 64
        let inner = try EngineFixtures.store()
        let clock = EngineFixtures.Clock()
        let config = try EngineFixtures.config(SyncerTests.kmaAccount.replacingAll(#""params""#, with: #""concurrency": \#(concurrency), "params""#))
        for i in 0..<leads { try EngineFixtures.enqueue(inner, EngineFixtures.lead(i), network: "kma", account: "kma-main", at: clock.now()) }
        let transport = RoundTransport()
        let syncer = Syncer(store: inner, library: EngineFixtures.library, config: config, transport: transport, clock: { clock.now() })
        let pass = Task {
            var report = SyncReport()
            try await syncer.sendDue(SyncOptions(), syncer.ledger(SyncOptions()), &report) { _ in }
            return report
        }
        func sending() -> Int { (try? inner.leads(LeadQuery(state: .sending, limit: 1000, withData: false)).count) ?? -1 }
        var most = 0
        var released = 0
        while released < leads {
            // A round: the requests out, and the leads marked behind them.
            let expected = min(2 * concurrency, leads - released)
            #expect(await eventually { transport.held.withLock { $0.count } == min(concurrency, expected) && sending() == expected },
                    "\(transport.held.withLock { $0.count }) requests out, \(sending()) leads sending, expected \(expected)")
            most = max(most, sending())
            let round = transport.release()
            guard round > 0 else { break }
            released += round
        }
        // A round that did not come (the expectation above failed) must fail the test, not hang
        // it: whatever the pass sends from here on is answered until it ends.
        let answering = Task {
            while !Task.isCancelled {
                _ = transport.release()
                try? await Task.sleep(nanoseconds: 5_000_000)
            }
        }
        let report = try await pass.value
        answering.cancel()
        #expect(report.networks["kma"]?.accepted == leads)
        #expect(most == 2 * concurrency)
    }

    /// "Written" events no one waits for go `writtenBatch` at a time; an urgent one (a slot is
    /// free for its request) takes those waiting at once; a slot going idle makes them due.
    @Test func writtenEventsNoOneWaitsForGoTogether() async throws {
        let (inner, store, ledger, claimed) = try claimedLeads(8)
        let events = SendEvents(ledger: ledger, maxUnrecorded: 100, maxDelayMs: 3_600_000, writtenBatch: 3)
        let before = store.writes.withLock { $0 }
        let results = Results()
        func written(_ r: LeadRecord, urgent: Bool) -> Task<Void, Error> {
            Task {
                let holds = try await events.requestWritten(rowId: r.rowId, owner: "test/1/1", urgent: urgent)
                results.withLock { $0[r.rowId] = holds }
            }
        }
        // Two below the batch: nothing commits.
        let two = [written(claimed[0], urgent: false), written(claimed[1], urgent: false)]
        #expect(await eventually { events.queue.withLock { $0.written.count } == 2 })
        #expect(store.writes.withLock { $0 } == before && results.withLock { $0 }.isEmpty)
        // The third makes the batch: one transaction for the three.
        let third = written(claimed[2], urgent: false)
        for t in two + [third] { try await t.value }
        #expect(store.writes.withLock { $0 } == before + 1)
        // One waits; an urgent one takes it along.
        let waiting = written(claimed[3], urgent: false)
        #expect(await eventually { events.queue.withLock { $0.written.count } == 1 })
        try await written(claimed[4], urgent: true).value
        try await waiting.value
        #expect(store.writes.withLock { $0 } == before + 2)
        // One waits; an answer whose slot no lead takes makes it due.
        let slots = SendSlots(1)
        #expect(await slots.acquire())
        let last = written(claimed[5], urgent: false)
        #expect(await eventually { events.queue.withLock { $0.written.count } == 1 })
        #expect(store.writes.withLock { $0 } == before + 2)
        let answer = Task { try await events.answered(rowId: claimed[4].rowId, outcome: SendOutcome(kind: .accepted, externalId: "E-4"), owner: "test/1/1", handingOn: slots) }
        try await last.value
        #expect(store.writes.withLock { $0 } == before + 3)
        #expect(results.withLock { $0 }.count == 6 && results.withLock { $0 }.values.allSatisfy { $0 })
        for r in claimed.prefix(6) where r.rowId != claimed[4].rowId { #expect(try inner.record(rowId: r.rowId)?.sendState == .sending) }
        events.finish()
        #expect(try await answer.value?.record.sendState == .accepted)
    }

    /// A lead marked written ahead of its turn, whose pass stops (the network calls the account
    /// wrong) while it waits for its slot, sends nothing and goes back to the queue: due, its
    /// attempt not counted, its claim gone, its journal saying it was released before the
    /// request was written. One request went out in all.
    @Test func aLeadMarkedAheadGoesBackWhenThePassStops() async throws {
        let store = try EngineFixtures.store()
        let clock = EngineFixtures.Clock()
        let config = try EngineFixtures.config(SalesManSyncTests.account)
        for i in 0..<2 { try EngineFixtures.enqueue(store, EngineFixtures.lead(i), network: "salesman", account: "sm", at: clock.now()) }
        let ledger = EngineFixtures.ledger(store, config: config, at: { clock.now() })
        let claimed = try ledger.claim(network: "salesman", limit: 2, owner: "test/1/1", lease: 60)
        let spec = try #require(EngineFixtures.library.spec("salesman"))
        let account = try #require(config.accounts["sm"]).values
        // SalesMan's 400: the account is wrong. The answer waits until the test lets it go.
        let transport = HeldTransport(HTTPResponseValue(status: 400, body: Array(#"{"error":"wrong key"}"#.utf8)))
        let sender = LeadSender(transport: transport, clock: { clock.now() })
        let events = SendEvents(ledger: ledger, maxUnrecorded: 16, maxDelayMs: 3_600_000)
        let slots = SendSlots(1)
        let ready = SendSlots(2)
        func send(_ r: LeadRecord) -> Task<SentLead, Error> {
            Task { try await ledger.send(r, spec: spec, account: account, sender: sender, owner: "test/1/1", events: events, slots: slots, ready: ready) }
        }
        let first = send(claimed[0])
        #expect(await eventually { transport.waiting.withLock { $0 } == 1 }, "the first request did not go out")
        let second = send(claimed[1])
        // Marked written, waiting for the slot the first request holds.
        #expect(await eventually { slots.waiting == 1 }, "the second lead did not wait for its turn")
        #expect(try store.record(rowId: claimed[1].rowId)?.sendState == .sending)
        transport.release()
        let answered = try await first.value
        let stopped = try await second.value
        #expect(answered.update?.decision.transition?.on == .answeredAccountError)
        #expect(stopped.passStopped && stopped.requeued && stopped.attempt == nil)
        let back = try #require(try store.record(rowId: claimed[1].rowId))
        #expect(back.sendState == .queued && back.facts.attempts == 0 && back.facts.claim == nil && back.facts.reach == .none)
        let last = try #require(try store.journal(rowId: back.rowId).last)
        #expect(last.kind == .interrupted && last.fromState == .sending && last.toState == .queued && last.reason == .note(.releasedBeforeWrite))
        #expect(transport.sent.withLock { $0 } == 1)
    }
}

/// Answers every request with one response, once the test lets the answers go.
final class HeldTransport: HTTPTransport {
    let response: HTTPResponseValue
    let waiting = Mutex(0)
    let sent = Mutex(0)
    let open = Mutex(false)

    init(_ response: HTTPResponseValue) { self.response = response }

    func release() { open.withLock { $0 = true } }

    func send(_ request: HTTPRequestValue, timeout: Double) async throws(TransportError) -> HTTPResponseValue {
        sent.withLock { $0 += 1 }
        waiting.withLock { $0 += 1 }
        _ = await eventually { open.withLock { $0 } }
        waiting.withLock { $0 -= 1 }
        return response
    }
}
