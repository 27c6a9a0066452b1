import Foundation
import Testing
import LeadBridgeCore
import LeadBridgeEngine
import LeadBridgeStore
import LeadBridgeTestSupport

/// `leadbridge status`: the ledger's health for cron monitors, its exit codes (0 healthy, 2
/// when a network fails or the outbox is stuck beyond the thresholds) and its output.
@Suite struct StatusCommandTests {
    static let now = CLI.fixedTime

    /// A configuration and an empty ledger in a temporary folder.
    static func setUp(health: String = "") throws -> (env: [String: String], store: SQLiteLeadStore) {
        let dir = CLI.tempDir()
        CLI.write(#"{"store": "ledger.sqlite", "accounts": {"kma-main": {"network": "kma", "credentials": {"token": "KMA-T-0001"}}}\#(health)}"#,
                  to: dir + "/leadbridge.json")
        let store = try SQLiteLeadStore(path: URL(fileURLWithPath: dir + "/ledger.sqlite").standardizedFileURL.path)
        return (["LEADBRIDGE_CONFIG": dir + "/leadbridge.json"], store)
    }

    static func queue(_ store: SQLiteLeadStore, _ id: String, at: Int64) throws {
        let library = PackageFixtures.library(checks: .fast)
        _ = try Ledger(store: store, library: library, config: nil, clock: { at }).enqueue(Lead(id: id, phone: "+79001234567"), network: "kma", account: "kma-main")
    }

    @Test func healthyExitsZero() async throws {
        let (env, store) = try Self.setUp()
        try store.recordSyncPasses([SyncPassRecord(network: "kma", startedAt: Self.now - 70, finishedAt: Self.now - 60, outcome: .ok, sent: 3, polled: 10, changes: 2)])
        try Self.queue(store, "A-1", at: Self.now - 30) // queued, due 30 s ago: not stuck
        let r = await CLI.run(["status", "--json"], env: env, now: Self.now)
        #expect(r.code == 0, "\(r.out)\n\(r.err)")
        let json = try JSONParser.parse(r.out)
        #expect(json["healthy"] == .bool(true))
        #expect(json["outbox"]?["depth"]?.intValue == 1)
        #expect(json["networks"]?.arrayValue?.first?["last_pass"]?["outcome"] == .string("ok"))
    }

    @Test func aFailingNetworkExitsTwo() async throws {
        let (env, store) = try Self.setUp()
        try store.recordSyncPasses([SyncPassRecord(network: "kma", startedAt: Self.now - 70, finishedAt: Self.now - 60, outcome: .failed, error: "poll: HTTP 500")])
        let r = await CLI.run(["status", "--json"], env: env, now: Self.now)
        #expect(r.code == 2)
        let json = try JSONParser.parse(r.out)
        #expect(json["healthy"] == .bool(false))
        #expect(json["problems"]?.arrayValue?.compactMap { $0["code"]?.stringValue } == ["network-failing"])
        var russian = env
        russian["LEADBRIDGE_LANG"] = "" // the default language of a real run
        let text = await CLI.run(["status"], env: russian, now: Self.now)
        #expect(text.code == 2)
        #expect(text.out.contains("сеть kma не работает: poll: HTTP 500"))
    }

    /// A pass's problem is kept in the ledger as its code and values: `status` words it in the
    /// chosen language, `--json` keeps the stable English; an older ledger's text (above) stays
    /// as it was written.
    @Test func aStoredProblemReadsInTheChosenLanguage() async throws {
        let (env, store) = try Self.setUp()
        let problem = SyncProblem.accountUnavailable(account: "kma-main", unset: ["KMA_TOKEN"])
        try store.recordSyncPasses([SyncPassRecord(network: "kma", startedAt: Self.now - 70, finishedAt: Self.now - 60, outcome: .unavailable, problem: problem)])
        #expect(try store.latestSyncPasses().first?.problem == problem)
        let json = try JSONParser.parse(await CLI.run(["status", "--json"], env: env, now: Self.now).out)
        #expect(json["networks"]?.arrayValue?.first?["last_pass"]?["error"] == .string("account kma-main: environment variable KMA_TOKEN is not set"))
        let en = await CLI.run(["status"], env: env, now: Self.now)
        #expect(en.out.contains("network kma is failing: account kma-main: environment variable KMA_TOKEN is not set"), "\(en.out)")
        let ru = await CLI.run(["status", "--lang", "ru"], env: env, now: Self.now)
        #expect(ru.out.contains("сеть kma не работает: аккаунт kma-main: переменная окружения KMA_TOKEN не задана"), "\(ru.out)")
    }

    @Test func aStuckOutboxExitsTwoBeyondItsThreshold() async throws {
        let (env, store) = try Self.setUp(health: #", "health": {"outbox_stuck_seconds": 600}"#)
        try Self.queue(store, "A-1", at: Self.now - 500)
        #expect(await CLI.run(["status"], env: env, now: Self.now).code == 0)
        try Self.queue(store, "A-2", at: Self.now - 700)
        let r = await CLI.run(["status", "--json"], env: env, now: Self.now)
        #expect(r.code == 2)
        let json = try JSONParser.parse(r.out)
        #expect(json["problems"]?.arrayValue?.compactMap { $0["code"]?.stringValue } == ["outbox-stuck"])
        #expect(json["outbox"]?["overdue"]?.intValue == 1)
    }

    @Test func aStaleSyncAndTooManyUncertainCountWhenConfigured() async throws {
        let (env, _) = try Self.setUp(health: #", "health": {"sync_stale_seconds": 900, "max_uncertain": 0}"#)
        let r = await CLI.run(["status", "--json"], env: env, now: Self.now)
        #expect(r.code == 2)
        #expect(try JSONParser.parse(r.out)["problems"]?.arrayValue?.compactMap { $0["code"]?.stringValue } == ["sync-stale"])
        let bad = try Self.setUp(health: #", "health": {"outbox_stuck_seconds": 5}"#)
        let refused = await CLI.run(["status"], env: bad.env, now: Self.now)
        #expect(refused.code == 3)
        #expect(refused.err.contains("/health/outbox_stuck_seconds"))
    }

    @Test(arguments: [Language.ru, .en]) func printedStatus(language: Language) async throws {
        let (env, store) = try Self.setUp()
        try store.recordSyncPasses([SyncPassRecord(network: "kma", startedAt: Self.now - 125, finishedAt: Self.now - 120, outcome: .failed, error: "poll: HTTP 500",
                                                   sent: 2, polled: 40, changes: 3)])
        try Self.queue(store, "A-1", at: Self.now - 7200)
        let r = await CLI.run(["status", "--lang", language.rawValue], env: env, now: Self.now)
        #expect(r.code == 2)
        CLIGoldenTests.check(r.out + "\n", "status/status.\(language.rawValue).txt")
    }
}
