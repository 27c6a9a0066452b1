import LeadBridgeCore
import LeadBridgeStore
import Synchronization

/// One per-lead event of a send, as the group commit takes it.
public enum SendEvent: Sendable {
    /// The worker is about to write the lead's request (it must still hold the claim).
    case requestWritten(rowId: Int64, owner: String)
    /// The attempt ended: the answer, or a transport failure (`owner`: the worker that made it).
    case answered(rowId: Int64, outcome: SendOutcome, durationMs: Int?, owner: String?)

    public var rowId: Int64 {
        switch self {
        case .requestWritten(let id, _), .answered(let id, _, _, _): return id
        }
    }

    var isWritten: Bool { if case .requestWritten = self { return true }; return false }
}

/// What the ledger made of one `SendEvent`.
public enum SendEventResult: Sendable {
    /// Whether the claim still held (the lead is `sending`: the request may go out).
    case written(Bool)
    case answered(LedgerUpdate?)
}

/// Group commit of a send pass's per-lead events: with many requests in flight, their
/// "request written" and "answered" events go to the ledger together, one write transaction
/// for all the events that arrived while the previous one committed, instead of one each.
/// Each caller waits for the commit holding its event, so "marked written before the request
/// goes out, recorded after the answer" holds as before, and so does every kill -9 guarantee
/// (nothing is acted on before its commit). One event alone commits at once: no timer, no
/// added latency. A transaction that fails is retried event by event, so one lead's store error
/// is that lead's alone.
// Sendable: its only mutable state is the queue, behind a Mutex; `ledger` is Sendable.
public final class SendEvents: Sendable {
    typealias Waiter = CheckedContinuation<Result<SendEventResult, StoreError>, Never>
    struct Queue {
        var events: [(event: SendEvent, waiter: Waiter)] = []
        var committing = false
    }

    let ledger: Ledger
    let queue = Mutex(Queue())

    public init(ledger: Ledger) { self.ledger = ledger }

    /// Commits `event` with whatever else is waiting; returns once it is committed.
    ///
    /// With `handingOn`, the event is queued first and then the caller's send slot is given
    /// back: when a lead waiting for it takes it, that lead's "request written" (which it commits
    /// before its request goes out) carries this event in the same transaction; when nobody
    /// takes it, the event is committed at once. Either way the caller resumes after its commit.
    ///
    /// The caller that finds no commit running makes it itself, on its own thread (no task is
    /// started for it, no thread woken): it commits its event and whatever queued meanwhile.
    public func commit(_ event: SendEvent, handingOn slots: SendSlots? = nil, stopping: Bool = false) async throws(StoreError) -> SendEventResult {
        let result = await withCheckedContinuation { (waiter: Waiter) in
            queue.withLock { $0.events.append((event, waiter)) }
            if let slots, slots.release(stopping: stopping) { return }
            if becomeCommitter() { drain() }
        }
        return try result.get()
    }

    /// True when the caller is to commit the queue (no commit runs and something waits).
    func becomeCommitter() -> Bool {
        queue.withLock { q -> Bool in
            if q.committing || q.events.isEmpty { return false }
            q.committing = true
            return true
        }
    }

    /// "Request written": true when the claim still holds.
    public func requestWritten(rowId: Int64, owner: String) async throws(StoreError) -> Bool {
        guard case .written(let holds) = try await commit(.requestWritten(rowId: rowId, owner: owner)) else { return false }
        return holds
    }

    /// The answer of an attempt (`handingOn`: the slot the attempt held, see `commit`).
    public func answered(rowId: Int64, outcome: SendOutcome, durationMs: Int? = nil, owner: String? = nil,
                         handingOn slots: SendSlots? = nil) async throws(StoreError) -> LedgerUpdate? {
        let event = SendEvent.answered(rowId: rowId, outcome: outcome, durationMs: durationMs, owner: owner)
        guard case .answered(let update) = try await commit(event, handingOn: slots, stopping: outcome.kind == .accountError) else { return nil }
        return update
    }

    /// Commits what is queued, a batch per transaction. `inline` (a lead's own task, which
    /// queued an event before it became the committer): one transaction — its own event is in
    /// it — then the rest is left to a task, so no lead is held back committing others' events
    /// while its request waits to go out.
    func drain(inline: Bool = true) {
        while true {
            let batch = queue.withLock { q -> [(event: SendEvent, waiter: Waiter)] in
                let taken = q.events
                q.events = []
                if taken.isEmpty { q.committing = false }
                return taken
            }
            if batch.isEmpty { return }
            commit(batch)
            if inline {
                let more = queue.withLock { q -> Bool in
                    if q.events.isEmpty { q.committing = false }
                    return q.committing
                }
                if more { Task { self.drain(inline: false) } }
                return
            }
        }
    }

    /// One transaction for a batch of events; when it fails, each event alone (one lead's
    /// store error is that lead's alone).
    func commit(_ batch: [(event: SendEvent, waiter: Waiter)]) {
        do throws(StoreError) {
            let results = try ledger.apply(batch.map(\.event))
            for (item, result) in zip(batch, results) { item.waiter.resume(returning: .success(result)) }
        } catch {
            for item in batch {
                do throws(StoreError) {
                    let one = try ledger.apply([item.event])
                    item.waiter.resume(returning: one.first.map { .success($0) } ?? .failure(StoreError(.misuse, "no result for a send event")))
                } catch {
                    item.waiter.resume(returning: .failure(error))
                }
            }
        }
    }
}
