import Testing
import LeadBridgeCore
@testable import LeadBridgeEngine
import LeadBridgeNet
import LeadBridgeStore

/// Every sync pass leaves one record per network in the ledger (the console's Health page,
/// `leadbridge status`, `/metrics`): its outcome, its error with secrets masked, its figures.
@Suite struct SyncPassTests {
    @Test func aPassRecordsEachNetworksOutcome() async throws {
        let store = try EngineFixtures.store()
        let clock = EngineFixtures.Clock()
        let accounts = SyncerTests.kmaAccount + #", "dr": {"network": "drcash", "credentials": {"token": "${DR_TOKEN}"}, "params": {"drcash": "iu244"}}"#
            + #", "lr": {"network": "leadrock", "credentials": {"key": "LR-KEY-0001", "secret": "LR-SECRET-0001"}, "params": {"leadrock": "https://leadrock.com/URL-1-2"}}"#
        let config = try EngineFixtures.config(accounts)
        try EngineFixtures.enqueue(store, EngineFixtures.lead(1), network: "kma", account: "kma-main", at: clock.now())
        // The network answers every request with 503, echoing the account's token.
        let transport = ScriptedTransport([("https://api.kma.biz", { _ in HTTPResponseValue(status: 503, body: Array("token KMA-T refused".utf8)) })])
        let syncer = Syncer(store: store, library: EngineFixtures.library, config: config, transport: transport, clock: { clock.now() }, random: { 0.5 })
        _ = try await syncer.run(SyncOptions(maxAttempts: 3, retryBaseSeconds: 10))
        let passes = Dictionary(uniqueKeysWithValues: try store.latestSyncPasses().map { ($0.network, $0) })
        #expect(passes.keys.sorted() == ["drcash", "kma", "leadrock"])
        #expect(passes["kma"]?.outcome == .failed)
        #expect(passes["kma"]?.sent == 1)
        #expect(passes["kma"]?.error?.contains("KMA-T") == false)
        #expect(passes["drcash"]?.outcome == .unavailable)
        #expect(passes["drcash"]?.error?.contains("DR_TOKEN") == true)
        #expect(passes["leadrock"]?.outcome == .ok)
        #expect(passes["leadrock"]?.startedAt == clock.now())

        // The health the ledger now shows: two failing networks.
        let health = try HealthCheck.read(store: store, config: config, now: clock.now())
        #expect(health.problems.map(\.code) == ["network-failing", "network-failing"])
        #expect(!health.healthy)

        // An error that carries a secret (a network echoing the token) is recorded masked.
        var report = SyncReport()
        report.networks["kma"] = SyncReport.NetworkSummary()
        report.networks["kma"]?.problem = .pollFailed("HTTP 401: token KMA-T is not valid")
        let masked = syncer.passRecords(report, SyncOptions()).first { $0.network == "kma" }
        #expect(masked?.error == "poll: HTTP 401: token *** is not valid")
    }
}
