import Synchronization
import Testing
@testable import LeadBridgeNet

/// The per-network gate: at most `concurrency` requests in flight, a place given back going to
/// the request that waited longest, and starts paced at `perSecond` (on a recorded clock: no
/// test sleeps for timing).
@Suite struct RequestGateTests {
    /// Records each pause instead of sleeping; the clock stands still.
    final class RecordingSleeper: Sleeper {
        let pauses = Mutex<[Double]>([])
        func sleep(seconds: Double) async { pauses.withLock { $0.append(seconds) } }
    }

    /// What the waiting requests did, in order.
    final class Order: Sendable {
        let list = Mutex<[Int]>([])
        func append(_ n: Int) { list.withLock { $0.append(n) } }
        var all: [Int] { list.withLock { $0 } }
    }

    /// Polls `condition` (generous bound, no timing assumption).
    func eventually(_ condition: () -> Bool) async -> Bool {
        for _ in 0..<6_000 {
            if condition() { return true }
            try? await Task.sleep(nanoseconds: 10_000_000)
        }
        return condition()
    }

    @Test func atMostConcurrencyInFlightAndPlacesGoInArrivalOrder() async {
        let gate = RequestGate(concurrency: 2, perSecond: nil)
        await gate.acquire()
        await gate.acquire()
        let order = Order()
        let first = Task { await gate.acquire(); order.append(1) }
        #expect(await eventually { gate.state.withLock { $0.waiters.count } == 1 })
        let second = Task { await gate.acquire(); order.append(2) }
        #expect(await eventually { gate.state.withLock { $0.waiters.count } == 2 })
        // Both places are held: neither waiting request went on.
        #expect(order.all.isEmpty)
        gate.release()
        await first.value
        #expect(order.all == [1])
        #expect(gate.state.withLock { $0.inFlight } == 2)
        gate.release()
        await second.value
        #expect(order.all == [1, 2])
        // Given back with no one waiting: the places are free again.
        gate.release()
        gate.release()
        #expect(gate.state.withLock { $0.inFlight } == 0)
        await gate.acquire()
        #expect(gate.state.withLock { $0.inFlight } == 1)
    }

    @Test func startsArePacedAtTheRate() async {
        let sleeper = RecordingSleeper()
        let gate = RequestGate(concurrency: 8, perSecond: 4, sleeper: sleeper, clock: { 100 })
        for _ in 0..<3 {
            await gate.acquire()
        }
        // The first starts at once; each next one a quarter of a second after the one before.
        #expect(sleeper.pauses.withLock { $0 } == [0.25, 0.5])
        #expect(gate.state.withLock { $0.inFlight } == 3)
    }
}
