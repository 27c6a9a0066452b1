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

/// Group commit of a send pass's per-lead events. The two kinds go at different paces:
///
/// - A "request written" that someone waits for — a slot is free and no lead marked written
///   waits for it (`urgent`) — is committed at once, with every other one that arrived while
///   the previous transaction committed. In a send pass most are not: a lead is marked
///   written ahead of its turn (a place among the `ready` leads, see `Ledger.send`) while the
///   requests before it are out, and those "written" events go `writtenBatch` at a time (they
///   change the leads' state alone: the row and two indexes, shared pages when several go
///   together) — or as soon as a slot goes idle, the pass ends, or `maxDelayMs` ran out.
/// - An answer is not on anyone's path: the lead's send slot was already handed on. Answers
///   are committed by time — `maxDelayMs` after the first unrecorded one — or as soon as
///   `maxUnrecorded` wait, so one transaction records many (an answer touches most of the
///   lead's indexes and its journal: shared pages when many go together).
///
/// Each caller waits for the commit holding its event, so "marked written before the request
/// goes out, recorded after the answer" holds, and so does every kill -9 guarantee: a lead
/// answered but not yet recorded is `sending` in the store, exactly like one whose answer is
/// still on the wire, and a crash makes both uncertain (never sent again by themselves). At most
/// `maxUnrecorded` (and those arriving during one commit) are in that case beyond the leads in
/// flight. A transaction that fails is retried event by event, so one lead's store error is
/// that lead's alone.
// Sendable: its only mutable state is the queue, behind a Mutex; `ledger` is Sendable.
public final class SendEvents: Sendable {
    typealias Waiter = CheckedContinuation<Result<SendEventResult, StoreError>, Never>
    typealias Item = (event: SendEvent, waiter: Waiter)
    struct Queue {
        /// "Request written" events: committed when due or `writtenBatch` wait.
        var written: [Item] = []
        /// The "written" events are due (one is urgent, a slot went idle, the delay ran out, or
        /// the pass is ending).
        var writtenDue = false
        /// Answers not yet recorded: committed by time or count.
        var answers: [Item] = []
        /// The answers are due (their delay ran out, or the pass is ending).
        var answersDue = false
        /// A task waits `maxDelayMs` to make the answers and "written" events due.
        var timerArmed = false
        /// The pass has no more leads to start: every answer is due as it comes.
        var finishing = false
        var committing = false

        func hasWork(_ limit: Int, _ batch: Int) -> Bool {
            (!written.isEmpty && (writtenDue || written.count >= batch)) || (!answers.isEmpty && (answersDue || answers.count >= limit))
        }
    }

    let ledger: Ledger
    let queue = Mutex(Queue())
    /// Answers that trigger their commit at once.
    public let maxUnrecorded: Int
    /// How long the first unrecorded answer (or "written" no one waits for) waits for others at most.
    public let maxDelayMs: Int
    /// "Written" events no one waits for that trigger their commit.
    public let writtenBatch: Int

    /// Answers go by `maxDelayMs` or `maxUnrecorded`: by default 5 ms and 16 (or the send
    /// concurrency, when more); "written" events no one waits for by `maxDelayMs` or
    /// `writtenBatch` (by default 1: at once).
    public init(ledger: Ledger, maxUnrecorded: Int = 16, maxDelayMs: Int = 5, writtenBatch: Int = 1) {
        self.ledger = ledger
        self.maxUnrecorded = max(1, maxUnrecorded)
        self.maxDelayMs = max(0, maxDelayMs)
        self.writtenBatch = max(1, writtenBatch)
    }

    /// Commits `event` with whatever else is due; returns once it is committed.
    ///
    /// With `handingOn`, the caller's send slot is given back once the event is queued: a
    /// lead waiting for it goes on at once (its "request written" does not wait for this
    /// answer's commit); then its place among the leads marked written (`ready`): the lead
    /// waiting for that is marked while the next request is out. The caller resumes after its
    /// own commit. A slot that goes idle (no lead marked written took it) makes the "written"
    /// events waiting due. `urgent`: a "written" someone waits for (committed at once).
    ///
    /// The caller that finds no commit running makes it itself, on its own thread (no task is
    /// started for it, no thread woken): it commits its batch and leaves the rest to a task.
    public func commit(_ event: SendEvent, handingOn slots: SendSlots? = nil, ready: SendSlots? = nil, stopping: Bool = false,
                       urgent: Bool = true) async throws(StoreError) -> SendEventResult {
        let result = await withCheckedContinuation { (waiter: Waiter) in
            let armTimer = queue.withLock { q -> Bool in
                if event.isWritten {
                    q.written.append((event, waiter))
                    if urgent || q.finishing || maxDelayMs == 0 || writtenBatch == 1 { q.writtenDue = true }
                    if q.writtenDue { return false }
                } else {
                    q.answers.append((event, waiter))
                    // The pass stops or ends: nothing will follow this answer to carry it.
                    if stopping || q.finishing || maxDelayMs == 0 { q.answersDue = true }
                }
                if q.timerArmed { return false }
                q.timerArmed = true
                return true
            }
            if armTimer { startTimer() }
            if let slots, !slots.release(stopping: stopping) {
                // The slot went idle: the leads being marked written are waited for now.
                queue.withLock { $0.writtenDue = true }
            }
            ready?.release(stopping: stopping)
            if becomeCommitter() { drain() }
        }
        return try result.get()
    }

    /// Makes the answers due `maxDelayMs` from now.
    func startTimer() {
        let delay = maxDelayMs
        Task {
            try? await Task.sleep(for: .milliseconds(delay))
            self.answersDue()
        }
    }

    /// The delay ran out: the answers and "written" events waiting go in the next commit (this
    /// task makes it when none runs).
    func answersDue() {
        queue.withLock { q in
            q.timerArmed = false
            if !q.answers.isEmpty { q.answersDue = true }
            if !q.written.isEmpty { q.writtenDue = true }
        }
        if becomeCommitter() { drain(inline: false) }
    }

    /// The pass starts no more leads: the answers and "written" events waiting are committed
    /// now (on the caller's thread when no commit runs), and every later one as it comes.
    public func finish() {
        queue.withLock { q in
            q.finishing = true
            if !q.answers.isEmpty { q.answersDue = true }
            q.writtenDue = true
        }
        if becomeCommitter() { drain(inline: false) }
    }

    /// True when the caller is to commit the queue (no commit runs and something is due).
    func becomeCommitter() -> Bool {
        queue.withLock { q -> Bool in
            if q.committing || !q.hasWork(maxUnrecorded, writtenBatch) { return false }
            q.committing = true
            return true
        }
    }

    /// "Request written": true when the claim still holds. `urgent`: its request would go out
    /// at once (see `commit`).
    public func requestWritten(rowId: Int64, owner: String, urgent: Bool = true) async throws(StoreError) -> Bool {
        guard case .written(let holds) = try await commit(.requestWritten(rowId: rowId, owner: owner), urgent: urgent) else { return false }
        return holds
    }

    /// The answer of an attempt (`handingOn`, `ready`: the slot and the place among the leads
    /// marked written the attempt held, see `commit`).
    public func answered(rowId: Int64, outcome: SendOutcome, durationMs: Int? = nil, owner: String? = nil,
                         handingOn slots: SendSlots? = nil, ready: SendSlots? = nil) async throws(StoreError) -> LedgerUpdate? {
        let event = SendEvent.answered(rowId: rowId, outcome: outcome, durationMs: durationMs, owner: owner)
        guard case .answered(let update) = try await commit(event, handingOn: slots, ready: ready, stopping: outcome.kind == .accountError) else { return nil }
        return update
    }

    /// Takes what is due: the "request written" events and the answers, each when due. Answers
    /// first: a lead's answer and a later lead's "request written" touch different rows, and a
    /// lead's own events never meet in one batch (its request waits for its "written" commit).
    func take(_ q: inout Queue) -> [Item] {
        var batch: [Item] = []
        if !q.answers.isEmpty && (q.answersDue || q.answers.count >= maxUnrecorded) {
            batch = q.answers
            q.answers = []
            q.answersDue = q.finishing
        }
        if !q.written.isEmpty && (q.writtenDue || q.written.count >= writtenBatch) {
            batch += q.written
            q.written = []
            q.writtenDue = q.finishing
        }
        return batch
    }

    /// Commits what is due, a batch per transaction. `inline` (a lead's own task, which queued
    /// an event before it became the committer): one transaction — its own event is in it
    /// unless it is an answer left for later — then the rest is left to a task, so no lead is
    /// held back committing others' events while its request waits to go out.
    func drain(inline: Bool = true) {
        while true {
            let batch = queue.withLock { q -> [Item] in
                let taken = take(&q)
                if taken.isEmpty { q.committing = false }
                return taken
            }
            if batch.isEmpty { return }
            commit(batch)
            if inline {
                let more = queue.withLock { q -> Bool in
                    if !q.hasWork(maxUnrecorded, writtenBatch) { q.committing = false }
                    return q.committing
                }
                if more { Task { self.drain(inline: false) } }
                return
            }
        }
    }

    /// One transaction for a batch of events; when it fails, each event alone (one lead's
    /// store error is that lead's alone).
    func commit(_ batch: [Item]) {
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
