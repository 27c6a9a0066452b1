/// The leads of one network's send pass that may be `sending` at once (its send concurrency),
/// and whether the pass has stopped: once the network calls the account wrong, a lead that
/// was waiting for a slot sends nothing (it goes back to the queue), exactly as when leads were
/// started one by one after each answer.
public actor SendSlots {
    let limit: Int
    var held = 0
    var waiters: [CheckedContinuation<Bool, Never>] = []
    public private(set) var stopped = false

    public init(_ limit: Int) { self.limit = max(1, limit) }

    /// Waits for a slot: true when it is held, false when the pass stopped (no slot held).
    public func acquire() async -> Bool {
        if stopped { return false }
        if held < limit {
            held += 1
            return true
        }
        return await withCheckedContinuation { waiters.append($0) }
    }

    /// Gives a slot back; `stopping` ends the pass for every waiter. True when a waiting lead
    /// took it.
    @discardableResult
    public func release(stopping: Bool = false) -> Bool {
        if stopping { stopped = true }
        if stopped {
            held -= 1
            for w in waiters { w.resume(returning: false) }
            waiters = []
            return false
        }
        if waiters.isEmpty {
            held -= 1
            return false
        }
        waiters.removeFirst().resume(returning: true)
        return true
    }
}
