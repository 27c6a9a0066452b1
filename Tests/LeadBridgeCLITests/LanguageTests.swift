import Foundation
import Testing
import LeadBridgeCLI
import LeadBridgeCore
import LeadBridgeEngine
import LeadBridgeStore
import LeadBridgeTestSupport

/// Everything printed follows the chosen language: Russian by default, English with
/// `--lang en`; JSON keys stay English.
@Suite struct LanguageTests {
    /// An empty LEADBRIDGE_LANG: what a user without the variable gets.
    static let russianByDefault = ["LEADBRIDGE_LANG": ""]

    static func ledger() throws -> (dir: String, env: [String: String]) {
        let dir = CLI.tempDir()
        CLI.write(#"{"store": "ledger.sqlite", "accounts": {"k": {"network": "kma", "credentials": {"token": "T-123456"}, "params": {"kma": "c1"}}}}"#,
                  to: dir + "/leadbridge.json")
        return (dir, ["LEADBRIDGE_CONFIG": dir + "/leadbridge.json"])
    }

    @Test func ledgerViewsAndSyncSummaries() async throws {
        let (dir, base) = try Self.ledger()
        let env = base.merging(Self.russianByDefault) { _, b in b }
        let empty = await CLI.run(["leads"], env: env)
        #expect(empty.out == "лидов нет", "\(empty.out)")
        #expect(await CLI.run(["leads", "--lang", "en"], env: env).out == "no leads")
        let idle = await CLI.run(["sync"], env: env)
        #expect(idle.out == "делать нечего\nизменений статуса: 0", "\(idle.out)")
        #expect(await CLI.run(["sync", "--lang", "en"], env: env).out == "nothing to do\n0 status changes")

        let ledger = Ledger(store: try SQLiteLeadStore(path: dir + "/ledger.sqlite"), library: PackageFixtures.library(checks: .fast), config: nil,
                            clock: { CLI.fixedTime })
        _ = try ledger.enqueue(Lead(id: "R-1", phone: "+79001234567"), network: "kma", account: "k")
        let table = await CLI.run(["leads"], env: env, now: CLI.fixedTime)
        #expect(table.out.hasPrefix("лид  сеть  отправка   статус"), "\(table.out)")
        #expect(table.out.contains("R-1  kma   в очереди"), "\(table.out)")
        let json = await CLI.run(["leads", "--json"], env: env)
        let first = try #require(try JSONParser.parse(json.out).arrayValue?.first)
        #expect(first["send_state"] == .string("queued"), "JSON keys and values stay English")
        let one = await CLI.run(["lead", "R-1"], env: env)
        #expect(one.out.hasPrefix("R-1 в kma (аккаунт k): в очереди, статус —"), "\(one.out)")
    }

    @Test func errorsAndUsage() async {
        let env = Self.russianByDefault
        let network = await CLI.run(["show", "leadrok"], env: env)
        #expect(network.code == 1)
        #expect(network.err.hasPrefix("leadbridge: ошибка: неизвестная сеть «leadrok»; похожие: leadrock"), "\(network.err)")
        let option = await CLI.run(["show", "kma", "--jsn"], env: env)
        #expect(option.err.contains("неизвестный параметр --jsn (может быть, --json?)"), "\(option.err)")
        #expect(option.err.hasSuffix("справка: leadbridge show --help"), "\(option.err)")
        let command = await CLI.run(["shwo"], env: env)
        #expect(command.err.contains("неизвестная команда «shwo» (может быть, «show»?)"), "\(command.err)")
        let lead = CLI.tempDir() + "/bad.json"
        CLI.write(#"{"id": "A 1", "phone": "12", "nmae": "x"}"#, to: lead)
        let bad = await CLI.run(["send", "kma", "--lead", lead, "--account", "example", "--dry-run"], env: env)
        #expect(bad.err.contains("nmae: неизвестное поле (может быть, «name»?)"), "\(bad.err)")
        #expect(bad.err.contains("phone: нужно от 6 до 15 цифр, указано 2"), "\(bad.err)")
    }

    @Test func everyCommandAndOptionHasHelpInBothLanguages() {
        #expect(LeadBridgeCommand.helpCatalogProblems() == [])
    }
}
