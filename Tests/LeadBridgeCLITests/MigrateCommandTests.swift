import Foundation
import Testing
import LeadBridgeCore
import LeadBridgeStore

/// `leadbridge migrate` and the refusal of a database that a newer leadbridge migrated.
@Suite struct MigrateCommandTests {
    static func config(_ dir: String) -> [String: String] {
        CLI.write(#"{"store": "ledger.sqlite"}"#, to: dir + "/leadbridge.json")
        return ["LEADBRIDGE_CONFIG": dir + "/leadbridge.json"]
    }

    @Test func migrateReportsWhatItAppliedThenThatItIsUpToDate() async throws {
        let dir = CLI.tempDir()
        let env = Self.config(dir)
        let path = URL(fileURLWithPath: dir + "/ledger.sqlite").standardizedFileURL.path
        _ = try SQLiteLeadStore(path: path, migrations: Array(SQLiteLeadStore.migrations.prefix(2)))
        let first = await CLI.run(["migrate", "--json"], env: env)
        #expect(first.code == 0, "\(first.err)")
        let latest = SQLiteLeadStore.migrations.map(\.version).max() ?? 0
        let json = try JSONParser.parse(first.out)
        #expect(json["from"]?.intValue == 2)
        #expect(json["to"]?.intValue == latest)
        #expect(json["applied"]?.arrayValue?.compactMap { $0["version"]?.intValue } == Array(3...latest))
        #expect(json["store"]?.stringValue == path)
        let second = await CLI.run(["migrate"], env: env)
        #expect(second.code == 0)
        #expect(second.out == "\(path): schema version \(latest), up to date")
    }

    @Test func everyCommandRefusesANewerDatabase() async throws {
        let dir = CLI.tempDir()
        let env = Self.config(dir)
        let path = URL(fileURLWithPath: dir + "/ledger.sqlite").standardizedFileURL.path
        _ = try SQLiteLeadStore(path: path, migrations: SQLiteLeadStore.migrations + [Migration(999, "from the future", "CREATE TABLE future (x)")])
        for args in [["leads"], ["sync"], ["migrate"], ["export", "--csv"]] {
            let r = await CLI.run(args, env: env)
            #expect(r.code == 3, "\(args): \(r.err)")
            #expect(r.err.contains("has schema version 999 (\"from the future\"), newer than this leadbridge knows"), "\(args): \(r.err)")
            #expect(r.err.contains("upgrade leadbridge"))
        }
    }
}
