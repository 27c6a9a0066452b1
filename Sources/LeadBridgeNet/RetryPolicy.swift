import Glibc
import LeadBridgeCore
import Synchronization

/// Waits; replaced by an instant clock in tests so no test sleeps for timing.
public protocol Sleeper: Sendable {
    func sleep(seconds: Double) async
}

public struct TaskSleeper: Sleeper {
    public init() {}
    public func sleep(seconds: Double) async {
        guard seconds > 0 else { return }
        try? await Task.sleep(nanoseconds: UInt64(seconds * 1_000_000_000))
    }
}

/// Per-network pacing: at most `concurrency` requests in flight and at most `perSecond`
/// starts per second. A lock, not an actor: a request that finds a place free (and, without a
/// rate, nothing to wait for) takes it without leaving its thread — as an actor, the gate was
/// two hops (taking the place, giving it back) on every request's path, and under a pass's 64
/// requests each hop to the busy actor and back went through the executor's queue.
// Sendable: every mutable field is inside the Mutex; continuations are resumed outside it;
// `sleeper` and `clock` are Sendable.
public final class RequestGate: Sendable {
    struct State {
        var inFlight = 0
        var waiters: [CheckedContinuation<Void, Never>] = []
        var nextStart: Double = 0

        /// Takes a place when one is free.
        mutating func take(_ limit: Int) -> Bool {
            guard inFlight < limit else { return false }
            inFlight += 1
            return true
        }
    }

    let concurrency: Int
    let interval: Double
    let state = Mutex(State())
    let sleeper: any Sleeper
    let clock: @Sendable () -> Double

    public init(concurrency: Int, perSecond: Double?, sleeper: any Sleeper = TaskSleeper(),
                clock: @escaping @Sendable () -> Double = { WallClock.seconds() }) {
        self.concurrency = max(1, concurrency)
        self.interval = perSecond.map { 1 / $0 } ?? 0
        self.sleeper = sleeper
        self.clock = clock
    }

    /// Waits for a place (handed over by `release` in arrival order), then for the pace.
    public func acquire() async {
        if !state.withLock({ $0.take(concurrency) }) {
            await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
                let took = state.withLock { s -> Bool in
                    if s.take(concurrency) { return true }
                    s.waiters.append(waiter)
                    return false
                }
                if took { waiter.resume() }
            }
        }
        guard interval > 0 else { return }
        let wait = state.withLock { s -> Double in
            let now = clock()
            let start = max(now, s.nextStart)
            s.nextStart = start + interval
            return start - now
        }
        if wait > 0 { await sleeper.sleep(seconds: wait) }
    }

    /// Gives the place back: to the first waiting request, or free.
    public func release() {
        let next = state.withLock { s -> CheckedContinuation<Void, Never>? in
            if s.waiters.isEmpty {
                s.inFlight -= 1
                return nil
            }
            return s.waiters.removeFirst()
        }
        next?.resume()
    }
}

/// The wall clock in seconds (Glibc, so the transport needs no Foundation).
public enum WallClock {
    public static func seconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_REALTIME, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }
}
