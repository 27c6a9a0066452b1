import Foundation
import Testing
import LeadBridgeCore
import LeadBridgeEmulator
import LeadBridgeEngine
import LeadBridgeStore

/// A network slower than our timeout (the request times out after 1 s, the network answers
/// after 2.5 s): it takes every lead, and we cannot know. Each lead reaches it once, stays
/// `uncertain` instead of being sent again, and is settled by its postback (DrCash) or by a
/// poll that looks it up by our order id (Tamyonetim).
@Suite(.serialized) struct SlowNetworkTests {
    @Test func eachLeadReachesTheNetworkOnceAndIsSettledByPostbackOrPoll() async throws {
        let networks = ["drcash", "tamyonetim"]
        let perNetwork = 5
        let dir = NSTemporaryDirectory() + "leadbridge-slow-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let clock = EndToEndTests.ManualClock()
        var behaviour = EmulatorBehaviour()
        behaviour.settleAfter = 10
        behaviour.timeoutSeconds = 2.5  // the answer to a send comes after 2.5 s
        var slow = EmulatorFaults()
        slow.lateAnswer = 1  // every send; polls answer at once
        let world = try EmulatedWorld(library: EngineFixtures.library, networks: networks, folder: dir, faults: ["*": slow], behaviour: behaviour,
                                      emulatorClock: { clock.now() })
        defer { world.stop() }
        let ledgerClock: @Sendable () -> Int64 = { Int64(clock.now()) }
        var ids: [String: [String]] = [:]
        for network in networks {
            for i in 0..<perNetwork {
                let lead = world.lead(for: network, index: i)
                try EngineFixtures.enqueue(world.store, lead, network: network, account: network, at: Int64(clock.now()))
                ids[network, default: []].append(lead.id)
            }
        }
        var options = SyncOptions(maxAttempts: 8, retryBaseSeconds: 0, pollIntervalSeconds: 0)
        options.requestTimeout = 1  // shorter than the answer

        // 1. Every send that is written times out: the network has the lead, the ledger knows
        // it may. (A request that timed out before it was written — waiting for a connection —
        // certainly did not arrive: it is sent again, and reaches the network then.)
        let started = Date()
        var passes = 0
        var uncertainSeen = Set<String>()
        let all = Set(ids.values.flatMap { $0 })
        while passes < 8 {
            let report = try await world.step(options: options, clock: ledgerClock)
            passes += 1
            uncertainSeen.formUnion(report.uncertain.map(\.orderId))
            if Set(world.emulator.leads.map(\.orderId)) == all { break }
            clock.advance(1)  // a retry of what was not written is due a second later
        }
        let firstSeconds = Date().timeIntervalSince(started)
        #expect(Set(world.emulator.leads.map(\.orderId)) == all, "not every lead reached the network")
        #expect(uncertainSeen == all, "uncertain: \(uncertainSeen.sorted())")
        for (network, list) in ids {
            for id in list {
                let r = try #require(try world.store.lead(network: network, orderId: id))
                // Still uncertain, or already settled by the poll of the same pass.
                let viaPoll = try world.store.journal(rowId: r.rowId).contains { $0.fromState == .uncertain && $0.toState == .accepted && $0.source == .poll }
                #expect(r.sendState == .uncertain || (r.sendState == .accepted && viaPoll), "\(network) \(id): \(r.sendState.rawValue)")
                let attempts = try world.store.journal(rowId: r.rowId).compactMap(\.attempt)
                // Only the last attempt was written; it may have arrived, and took the whole timeout.
                #expect(attempts.last?.receipt == .maybeReceived && (attempts.last?.durationMs ?? 0) >= 900, "\(attempts)")
                #expect(attempts.dropLast().allSatisfy { $0.receipt == .notReceived }, "\(attempts)")
            }
        }
        // Let the late answers land (the emulator holds each for 2.5 s).
        try await Task.sleep(nanoseconds: 1_800_000_000)
        let sends = { world.emulator.counters.values.reduce(0) { $0 + ($1["fault-timeout"] ?? 0) } }
        #expect(sends() == networks.count * perNetwork)

        // 2. Later passes send nothing again; postbacks and polls settle every lead.
        for _ in 0..<3 {
            clock.advance(12)  // past the emulator's settle time: final statuses, postbacks
            _ = try await world.step(options: options, clock: ledgerClock)
            passes += 1
        }
        #expect(sends() == networks.count * perNetwork, "a lead was sent again: \(world.emulator.counters)")
        #expect(world.emulator.leads.allSatisfy { $0.repeatSends == 0 })
        let emulated = Dictionary(world.emulator.leads.map { ($0.orderId, $0) }, uniquingKeysWith: { a, _ in a })
        var settledBy: [EventSource: Int] = [:]
        for (network, list) in ids {
            for id in list {
                let r = try #require(try world.store.lead(network: network, orderId: id))
                #expect(r.sendState == .accepted, "\(network) \(id): \(r.sendState.rawValue)")
                #expect(r.status?.bucket == emulated[id]?.plan, "\(network) \(id): ledger \(r.status?.bucket.rawValue ?? "none"), network \(emulated[id]?.plan.rawValue ?? "?")")
                let settle = try world.store.journal(rowId: r.rowId).first { $0.fromState == .uncertain && $0.toState == .accepted }
                if let s = settle?.source { settledBy[s, default: 0] += 1 }
            }
        }
        #expect(settledBy[.postback] == perNetwork && settledBy[.poll] == perNetwork, "settled by \(settledBy)")
        print("slow network: \(networks.count * perNetwork) leads, each reached the network once (\(sends()) requests written), all uncertain after "
              + "\(String(format: "%.1f", firstSeconds)) s; settled after \(passes) passes in all: \(settledBy[.postback] ?? 0) by postback, \(settledBy[.poll] ?? 0) by poll")
    }
}
