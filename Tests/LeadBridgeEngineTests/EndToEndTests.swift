import Foundation
import Synchronization
import Testing
import LeadBridgeCore
import LeadBridgeEmulator
import LeadBridgeEngine
import LeadBridgeNet
import LeadBridgeStore
import LeadBridgeTestSupport

/// The whole loop over the emulator for every spec with send, poll or postbacks: each lead
/// reaches the bucket the emulator chose (by poll or by postback), nothing is lost, nothing
/// is sent twice — and the same with faults on.
@Suite(.serialized) struct EndToEndTests {
    static var networks: [String] {
        EngineFixtures.library.specs.filter { $0.kind == .network && ($0.send != nil || $0.poll != nil || $0.hasPostbacks) }.map(\.id)
    }

    final class ManualClock: Sendable {
        let t = Mutex<Double>(1_800_000_000)
        func now() -> Double { t.withLock { $0 } }
        func advance(_ s: Double) { t.withLock { $0 += s } }
    }

    static func run(faults: [String: EmulatorFaults], leadsPerNetwork: Int, passes: Int,
                    library: SpecLibrary = EngineFixtures.library, networks: [String] = Self.networks) async throws -> (EmulatedWorld, [String: [String]]) {
        let dir = NSTemporaryDirectory() + "leadbridge-e2e-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let clock = ManualClock()
        var behaviour = EmulatorBehaviour()
        behaviour.settleAfter = 10
        behaviour.timeoutSeconds = 1.3
        let world = try EmulatedWorld(library: library, networks: networks, folder: dir, faults: faults, behaviour: behaviour,
                                      emulatorClock: { clock.now() })
        var sent: [String: [String]] = [:]
        let now = Int64(Date().timeIntervalSince1970)
        for id in networks {
            guard let spec = library.spec(id) else { continue }
            for i in 0..<leadsPerNetwork {
                let lead = world.lead(for: id, index: i)
                if spec.send != nil {
                    try EngineFixtures.enqueue(world.store, lead, network: id, account: id, at: now)
                } else {
                    try world.registerManualLead(network: id, lead: lead, now: now)
                }
                sent[id, default: []].append(lead.id)
            }
        }
        var options = SyncOptions(maxAttempts: 30, retryBaseSeconds: 0, pollIntervalSeconds: 0)
        options.requestTimeout = 1
        // The ledger runs on the same manual clock: a retry is due a second after its failure.
        let ledgerClock: @Sendable () -> Int64 = { Int64(clock.now()) }
        for _ in 0..<passes {
            _ = try await world.step(options: options, clock: ledgerClock)
            clock.advance(8)
        }
        // Let every planned status settle, then passes for postbacks and polls: at least three,
        // and more while the emulator still holds postbacks it could not deliver (our receiver
        // answered 503 while its writer was behind, or a delivery timed out on a loaded
        // machine): a condition to wait for, not a number of passes to guess.
        clock.advance(30)
        var extra = 0
        while extra < 3 || (world.emulator.pendingPostbacks > 0 && extra < 40) {
            _ = try await world.step(options: options, clock: ledgerClock)
            clock.advance(2)
            extra += 1
        }
        #expect(world.emulator.pendingPostbacks == 0, "the emulator could not deliver \(world.emulator.pendingPostbacks) postbacks in \(extra) passes")
        return (world, sent)
    }

    /// Stops the world and removes its folder (a ledger of a few MB per run left in the temporary
    /// directory by every `make test` otherwise).
    static func finish(_ world: EmulatedWorld) {
        world.stop()
        try? FileManager.default.removeItem(atPath: world.folder)
    }

    /// Whether something can settle an uncertain lead of this network by itself: a postback
    /// or a poll that finds it by our order id (it has no external id yet).
    static func canSettle(_ spec: NetworkSpec) -> Bool {
        spec.settlements.contains(.postback) || spec.settlements.contains(.poll)
    }

    /// Every lead reached the network exactly once and is where the emulator put it. With
    /// faults, a lead whose answer was lost or unreadable is `uncertain` — never sent again —
    /// unless its postback or a poll settled it.
    static func check(_ world: EmulatedWorld, _ sent: [String: [String]]) throws {
        let emulated = Dictionary(world.emulator.leads.map { ("\($0.network)/\($0.orderId)", $0) }, uniquingKeysWith: { a, _ in a })
        for (network, ids) in sent.sorted(by: { $0.key < $1.key }) {
            guard let spec = world.library.spec(network) else { continue }
            let canLearn = spec.poll != nil || spec.hasPostbacks
            for id in ids {
                let record = try world.store.lead(network: network, orderId: id)
                #expect(record != nil, "\(network) \(id): lost")
                guard let record else { continue }
                guard let e = emulated["\(network)/\(id)"] else {
                    Issue.record("\(network) \(id): never reached the network (\(record.sendState.rawValue): \(record.lastError ?? ""))")
                    continue
                }
                #expect(e.repeatSends == 0, "\(network) \(id): sent again after the network accepted it")
                if spec.send != nil && record.sendState == .uncertain {
                    // Only after an attempt that may have arrived, and only where nothing can
                    // look it up.
                    let attempts = try world.store.journal(rowId: record.rowId).compactMap(\.attempt)
                    #expect(attempts.last?.receipt == .maybeReceived, "\(network) \(id): uncertain after \(attempts)")
                    let settles = Self.canSettle(spec)
                    #expect(!settles, "\(network) \(id): uncertain although its postback or poll could settle it")
                    continue
                }
                if spec.send != nil {
                    #expect(record.sendState == .accepted, "\(network) \(id): \(record.sendState.rawValue) \(record.lastError ?? "")")
                    #expect(record.externalId == nil || !record.externalId!.isEmpty)
                }
                if canLearn {
                    #expect(record.status?.bucket == e.plan, "\(network) \(id): ledger \(record.status?.bucket.rawValue ?? "none") (\(record.sendState.rawValue)), emulator chose \(e.plan.rawValue) (now \(e.current.rawValue), its postback \(e.postbackAnswer.map { "answered \($0)" } ?? "not delivered"))")
                } else {
                    #expect(record.status?.bucket == .pending, "\(network) \(id)")
                }
            }
        }
    }

    @Test func everySpecRoundTripsOverTheEmulator() async throws {
        let (world, sent) = try await Self.run(faults: [:], leadsPerNetwork: 5, passes: 2)
        defer { Self.finish(world) }
        try Self.check(world, sent)
        let counters = world.emulator.counters
        for (network, c) in counters where (c["rejected"] ?? 0) > 0 {
            Issue.record("\(network): the emulator rejected requests: \(c.filter { $0.key.hasPrefix("rejected:") })")
        }
        #expect(Self.networks.count >= 30)
    }

    /// Every platform base of Templates/ (AlterCPA, TrafficManager, …) round-trips too, through
    /// the spec `leadbridge new --platform` writes for it.
    @Test func everyPlatformBaseRoundTripsOverTheEmulator() async throws {
        let library = PackageFixtures.libraryWithPlatforms(checks: .fast)
        let platforms = library.specs.filter { $0.platform != nil && $0.id.hasPrefix("example-") }.map(\.id)
        #expect(platforms.count >= 4, "\(platforms)")
        let (world, sent) = try await Self.run(faults: [:], leadsPerNetwork: 5, passes: 2, library: library, networks: platforms)
        defer { Self.finish(world) }
        try Self.check(world, sent)
        for (network, c) in world.emulator.counters where (c["rejected"] ?? 0) > 0 {
            Issue.record("\(network): the emulator rejected requests: \(c.filter { $0.key.hasPrefix("rejected:") })")
        }
        for id in platforms { #expect(world.emulator.counters[id]?["requests"] ?? 0 > 0, "\(id) was never asked") }
    }

    /// A single SalesMan lead is asked for with `info` (the spec's `poll.lookup`), not by
    /// paging the whole list: the emulator answers it from the same leads.
    @Test func aSingleSalesManLeadIsLookedUpOverTheEmulator() async throws {
        let (world, sent) = try await Self.run(faults: [:], leadsPerNetwork: 1, passes: 2, networks: ["salesman"])
        defer { Self.finish(world) }
        try Self.check(world, sent)
        #expect(world.emulator.counters["salesman"]?["lookups"] ?? 0 > 0, "\(world.emulator.counters["salesman"] ?? [:])")
    }

    @Test func withFaultsEveryLeadStillArrivesOnce() async throws {
        var f = EmulatorFaults()
        f.serverError = 0.2
        f.timeout = 0.03
        f.reset = 0.05
        f.throttle = 0.03
        f.garbage = 0.03
        let (world, sent) = try await Self.run(faults: ["*": f], leadsPerNetwork: 4, passes: 12)
        defer { Self.finish(world) }
        try Self.check(world, sent)
        let injected = world.emulator.counters.values.reduce(0) { $0 + ($1["fault-5xx"] ?? 0) + ($1["fault-reset"] ?? 0) + ($1["fault-timeout"] ?? 0) }
        #expect(injected > 20, "faults were injected: \(injected)")
        // Lost and unreadable answers happened, and postbacks or polls settled some of them.
        var ambiguous = 0, settled = 0
        for r in try world.store.leads(LeadQuery(limit: 10_000)) where try world.store.journal(rowId: r.rowId).contains(where: { $0.attempt?.receipt == .maybeReceived }) {
            ambiguous += 1
            if r.sendState == .accepted { settled += 1 }
        }
        #expect(ambiguous > 3 && settled > 0, "\(ambiguous) ambiguous answers, \(settled) settled by postback or poll")
    }
}
