import Dispatch
import FoundationEssentials
import Glibc
import LeadBridgeCore
import LeadBridgeNet
import LeadBridgeStore

/// One try at sending a lead: what came back and how long it took. (What the requests looked
/// like, redacted, is `send --dry-run`'s business: nothing builds it per lead here.)
public struct SendAttempt: Sendable {
    public var outcome: SendOutcome
    public var durationMs: Int
}

/// Makes one attempt at sending a lead: runs the spec's `SendPlan` over the transport. Retries
/// are not its business: the lifecycle decides them and `sync` makes them, for every sender.
public struct LeadSender: Sendable {
    let transport: any HTTPTransport
    let clock: @Sendable () -> Int64

    public init(transport: any HTTPTransport, clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }) {
        self.transport = transport
        self.clock = clock
    }

    /// The plan of a send; fails before any request when the lead or account lacks something.
    /// `echoes`: the account's redactor, when the caller sends many leads of it.
    public func prepare(spec: NetworkSpec, lead: Lead, account: AccountValues, echoes: Redactor? = nil) throws(SendPreparationError) -> SendPlan {
        try SendPlan(spec: spec, lead: lead, account: account, now: clock(), echoes: echoes)
    }

    /// A plan's request as built (nil: the plan has its answer), or why it could not be.
    public typealias NextRequest = Result<BuiltRequest?, SendPreparationError>

    /// Builds the plan's next request. `Ledger.send` builds a lead's first one before its turn
    /// comes, so once its slot is free the request goes out with nothing left to do on that path.
    public static func build(_ plan: inout SendPlan) -> NextRequest {
        do throws(SendPreparationError) { return .success(try plan.nextRequest()) } catch { return .failure(error) }
    }

    /// `first`: the plan's first request when `build` made it already (the plan passed is the
    /// one it was built with).
    public func attempt(_ prepared: SendPlan, first: NextRequest? = nil, gate: RequestGate? = nil, timeout override: Double? = nil) async -> SendAttempt {
        var plan = prepared
        var ahead = first
        let timeout = override ?? plan.spec.send?.timeout ?? 20
        let started = DispatchTime.now().uptimeNanoseconds
        while true {
            let built: BuiltRequest?
            switch ahead.take() ?? Self.build(&plan) {
            case .success(let next): built = next
            case .failure(let error):
                plan.fail(.unprepared(error), cause: .buildFailed)
                built = nil
            }
            guard let built else { break }
            if let gate { await gate.acquire() }
            do {
                let response = try await transport.send(built.request, timeout: timeout)
                if let gate { gate.release() }
                plan.handle(response)
            } catch {
                if let gate { gate.release() }
                // The transport knows whether the request can have been written (unknown: maybe).
                plan.fail(.transport(error.kind, error.problem), cause: error.delivery == .notSent ? .transportNotSent : .transportMaybeReceived)
            }
        }
        let outcome = plan.outcome ?? SendOutcome(kind: .failed, failure: .noOutcome, receipt: .maybeReceived)
        let ms = Int((DispatchTime.now().uptimeNanoseconds - started) / 1_000_000)
        return SendAttempt(outcome: outcome, durationMs: ms)
    }
}

/// A claimed lead after its attempt: what was tried and what the ledger made of it.
public struct SentLead: Sendable {
    public var attempt: SendAttempt?
    public var update: LedgerUpdate?
    /// The lead cannot be sent as it is (recorded as rejected; nothing went out).
    public var preparation: SendPreparationError?
    /// Another worker or a recovery took the claim: nothing went out.
    public var claimLost = false
    /// The pass stopped (the network called the account wrong) before this lead's turn: nothing
    /// went out. The lead is still claimed (the caller gives it back) unless `requeued`.
    public var passStopped = false
    /// It had been marked written ahead of its turn: it is back in the queue already (or, when
    /// its claim was lost meanwhile, left to the worker that holds it).
    public var requeued = false
}

extension Ledger {
    /// The one way a lead is sent (`send` and `sync`): the lead is claimed by `owner`; the
    /// request is marked written (committed before it goes out), one attempt is made, and its
    /// answer goes through the lifecycle.
    ///
    /// A pass sending many leads at once (`sync`) passes `events`, which group-commits both
    /// writes with the other leads' in flight, `slots`, one held from the request going out to
    /// the answer (at most the send concurrency of requests are out at once), and `ready`, a
    /// place among the leads marked written, held from the "written" commit to the answer: its
    /// limit is the concurrency plus the leads marked written ahead of their turn, so a lead's
    /// "written" commit is made while earlier leads' requests are out and a freed slot sends
    /// at once. A lead answered no longer holds either (answers are recorded together, by
    /// time or count, see `SendEvents`). An account error stops the pass: a lead still waiting
    /// to be marked sends nothing and stays claimed (the caller gives it back); one marked and
    /// waiting for a slot goes back to the queue here (`requeued`), its request never written.
    /// `echoes` is the account's redactor, built once a pass.
    public func send(_ record: LeadRecord, spec: NetworkSpec, account: AccountValues, sender: LeadSender, owner: String, gate: RequestGate? = nil,
                     timeout: Double? = nil, events: SendEvents? = nil, slots: SendSlots? = nil, ready: SendSlots? = nil,
                     echoes: Redactor? = nil) async throws(StoreError) -> SentLead {
        var plan: SendPlan
        do throws(SendPreparationError) { plan = try sender.prepare(spec: spec, lead: record.lead, account: account, echoes: echoes) } catch {
            // It cannot be sent as it is (a field the network needs is missing): nothing left here.
            let outcome = SendOutcome(kind: .rejected, failure: .unprepared(error))
            let update = if let events { try await events.answered(rowId: record.rowId, outcome: outcome) } else { try answered(rowId: record.rowId, outcome: outcome) }
            return SentLead(attempt: nil, update: update, preparation: error)
        }
        // Marked written when a place is free (or, without `ready`, when a slot is).
        let first = ready ?? slots
        if let first, await !first.acquire() { return SentLead(attempt: nil, update: nil, passStopped: true) }
        let holds: Bool
        do throws(StoreError) {
            // Marked ahead of its turn, it is not waited for unless a slot is free for it now.
            holds = if let events { try await events.requestWritten(rowId: record.rowId, owner: owner, urgent: ready == nil || slots?.idle ?? true) }
                else { try requestWritten(rowId: record.rowId, owner: owner) }
        } catch {
            first?.release()
            throw error
        }
        guard holds else {
            first?.release()
            return SentLead(attempt: nil, update: nil, claimLost: true)
        }
        // Its request is built while it waits for its turn (and while the answers that free
        // the slots are read): the path from an answer to the next request is the hand-over alone.
        let request = LeadSender.build(&plan)
        if ready != nil, let slots, await !slots.acquire() {
            // The pass stopped while it waited for its turn: its request was never written.
            ready?.release()
            _ = try requestNotSent(rowId: record.rowId, owner: owner)
            return SentLead(attempt: nil, update: nil, passStopped: true, requeued: true)
        }
        let attempt = await sender.attempt(plan, first: request, gate: gate, timeout: timeout)
        let update: LedgerUpdate?
        if let events {
            update = try await events.answered(rowId: record.rowId, outcome: attempt.outcome, durationMs: attempt.durationMs, owner: owner,
                                               handingOn: slots, ready: ready)
        } else {
            let stopping = attempt.outcome.kind == .accountError
            slots?.release(stopping: stopping)
            ready?.release(stopping: stopping)
            update = try answered(rowId: record.rowId, outcome: attempt.outcome, durationMs: attempt.durationMs, owner: owner)
        }
        return SentLead(attempt: attempt, update: update)
    }
}
