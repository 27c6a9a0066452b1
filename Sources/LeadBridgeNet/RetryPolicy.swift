import Glibc
import LeadBridgeCore

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
/// starts per second. An actor: the only shared mutable state of the transport.
public actor RequestGate {
    let concurrency: Int
    let interval: Double
    var inFlight = 0
    var waiters: [CheckedContinuation<Void, Never>] = []
    var nextStart: Double = 0
    let sleeper: any Sleeper
    let clock: @Sendable () -> Double

    public init(concurrency: Int, perSecond: Double?, sleeper: any Sleeper = TaskSleeper(),
                clock: @escaping @Sendable () -> Double = { WallClock.seconds() }) {
        self.concurrency = max(1, concurrency)
        self.interval = perSecond.map { 1 / $0 } ?? 0
        self.sleeper = sleeper
        self.clock = clock
    }

    public func acquire() async {
        if inFlight >= concurrency {
            await withCheckedContinuation { waiters.append($0) }
        } else {
            inFlight += 1
        }
        if interval > 0 {
            let now = clock()
            let start = max(now, nextStart)
            nextStart = start + interval
            if start > now { await sleeper.sleep(seconds: start - now) }
        }
    }

    public func release() {
        if waiters.isEmpty { inFlight -= 1 } else { waiters.removeFirst().resume() }
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
