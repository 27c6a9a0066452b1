import Synchronization

/// The leads of one network's send pass that may be `sending` at once (its send concurrency),
/// and whether the pass has stopped: once the network calls the account wrong, a lead that
/// was waiting for a slot sends nothing (it goes back to the queue), exactly as when leads were
/// started one by one after each answer.
///
/// A lock, not an actor: giving a slot back is synchronous, so the lead that answered hands its
/// slot on (and learns whether someone took it) without a hop through another executor.
// Sendable: every mutable field is inside the Mutex; continuations are resumed outside it.
public final class SendSlots: Sendable {
    struct State {
        var held = 0
        var waiters: [CheckedContinuation<Bool, Never>] = []
        var stopped = false
    }

    let limit: Int
    let state = Mutex(State())

    public init(_ limit: Int) { self.limit = max(1, limit) }

    /// True once an account error stopped the pass.
    public var stopped: Bool { state.withLock { $0.stopped } }

    /// Leads waiting for a slot.
    public var waiting: Int { state.withLock { $0.waiters.count } }

    /// True when a slot is free and no lead waits for one: a lead marked written now would
    /// send at once.
    public var idle: Bool { state.withLock { !$0.stopped && $0.held < limit && $0.waiters.isEmpty } }

    /// Takes a free slot now: true or false as `acquire` would answer, nil when none is free.
    func tryAcquire(_ s: inout State) -> Bool? {
        if s.stopped { return false }
        if s.held < limit {
            s.held += 1
            return true
        }
        return nil
    }

    /// Waits for a slot: true when it is held, false when the pass stopped (no slot held).
    public func acquire() async -> Bool {
        if let now = state.withLock({ tryAcquire(&$0) }) { return now }
        return await withCheckedContinuation { (waiter: CheckedContinuation<Bool, Never>) in
            let now: Bool? = state.withLock { s in
                if let now = tryAcquire(&s) { return now }
                s.waiters.append(waiter)
                return nil
            }
            if let now { waiter.resume(returning: now) }
        }
    }

    /// Gives a slot back; `stopping` ends the pass for every waiter. True when a waiting lead
    /// took it.
    @discardableResult
    public func release(stopping: Bool = false) -> Bool {
        let (woken, handedOn): ([CheckedContinuation<Bool, Never>], Bool) = state.withLock { s in
            if stopping { s.stopped = true }
            if s.stopped {
                s.held -= 1
                let all = s.waiters
                s.waiters = []
                return (all, false)
            }
            if s.waiters.isEmpty {
                s.held -= 1
                return ([], false)
            }
            return ([s.waiters.removeFirst()], true)
        }
        for w in woken { w.resume(returning: handedOn) }
        return handedOn
    }
}
