import Foundation
import Testing
import LeadBridgeCore
import LeadBridgeEngine
import LeadBridgeStore
import LeadBridgeTestSupport

/// `leadbridge import NETWORK FILE`: a report in Windows-1251 with `;` (as Russian cabinets
/// write it) and in UTF-8 with a BOM and quoted line breaks; statuses go through the lead
/// lifecycle (each an `import` entry in the lead's history, no backward moves); rows for
/// unknown leads and unknown words are listed; `--dry-run` writes nothing.
@Suite struct ImportCommandTests {
    /// A ledger with leads A-1 … A-5 of apileads (a network with neither postbacks nor a
    /// status API), A-4 already approved.
    static func setUp() async throws -> (dir: String, env: [String: String]) {
        let dir = CLI.tempDir()
        CLI.write(#"{"store": "ledger.sqlite", "accounts": {"apl": {"network": "apileads", "credentials": {"user": "u", "token": "t"}}}}"#,
                  to: dir + "/leadbridge.json")
        let library = PackageFixtures.library(checks: .fast)
        let store = try SQLiteLeadStore(path: dir + "/ledger.sqlite")
        let ledger = Ledger(store: store, library: library, config: nil, clock: { CLI.fixedTime })
        var rows: [Int64] = []
        for i in 1...5 {
            if case .queued(let q) = try ledger.enqueue(Lead(id: "A-\(i)", phone: "+7900555000\(i)"), network: "apileads", account: "apl") { rows.append(q.rowId) }
        }
        let approved = StatusReport(status: LeadStatus(bucket: .approved, raw: "approve"), source: .postback, network: "apileads")
        _ = try ledger.report([(rows[3], approved)])
        return (dir, ["LEADBRIDGE_CONFIG": dir + "/leadbridge.json"])
    }

    static func windows1251(_ text: String) -> Data {
        // Encoded by Foundation, as a cabinet's export would be.
        text.data(using: .windowsCP1251) ?? Data()
    }

    /// The shipped binary (FoundationEssentials only, unlike the tests' process) reads a
    /// Windows-1251 report too: run as a user runs it, not in process.
    @Test func theBuiltBinaryReadsAWindows1251Report() async throws {
        let (dir, env) = try await Self.setUp()
        let bin = CLI.root + "/.build/debug/leadbridge"
        try #require(FileManager.default.isExecutableFile(atPath: bin), "the binary is built with the tests (swift build --build-tests)")
        try Self.windows1251("ID лида;sub1;Статус;Выплата;Комментарий\n901;A-1;Принят;12,50;перезвонил\n").write(to: URL(fileURLWithPath: dir + "/report.csv"))
        let run = SpawnActions.run(["/usr/bin/env", "LEADBRIDGE_CONFIG=" + (env["LEADBRIDGE_CONFIG"] ?? ""),
                                    bin, "import", "apileads", dir + "/report.csv", "--dry-run", "--json"])
        #expect(run.status == 0, "\(run.err)")
        let result = try JSONParser.parse(run.out)
        #expect(result["encoding"] == .string("windows-1251"))
        #expect(result["counts"]?["changed"]?.intValue == 1, "\(run.out)")
    }

    @Test func appliesAWindows1251ReportThroughTheLifecycle() async throws {
        let (dir, env) = try await Self.setUp()
        let report = "ID лида;sub1;Статус;Выплата;Комментарий\n901;A-1;Принят;12,50;\n902;A-2;Отклонен;0;передумал\n"
            + "903;A-3;Холд;0;\n904;A-4;Отклонен;0;\n905;A-9;Принят;10;\n906;A-5;телепортирован;0;\n"
        try Self.windows1251(report).write(to: URL(fileURLWithPath: dir + "/report.csv"))

        let dry = await CLI.run(["import", "apileads", "report.csv", "--dry-run", "--lang", "en"], env: env, cwd: dir)
        #expect(dry.code == 0, "\(dry.err)")
        #expect(dry.out.contains("windows-1251, ';'") && dry.out.contains("Would change:") && dry.out.contains("Dry run"), "\(dry.out)")
        let dryRU = await CLI.run(["import", "apileads", "report.csv", "--dry-run"], env: env.merging(["LEADBRIDGE_LANG": ""]) { $1 }, cwd: dir)
        #expect(dryRU.out.contains("Изменится:") && dryRU.out.contains("строка 6") && dryRU.out.contains("Пробный запуск")
                && !dryRU.out.contains("Would change"), "Russian by default: \(dryRU.out)")
        let before = await CLI.run(["lead", "A-1", "--json"], env: env, cwd: dir)
        #expect(!before.out.contains("\"approved\""), "a dry run writes nothing: \(before.out)")

        let run = await CLI.run(["import", "apileads", "report.csv", "--json"], env: env, cwd: dir)
        #expect(run.code == 0, "\(run.err)")
        let result = try JSONParser.parse(run.out)
        #expect(result["encoding"] == .string("windows-1251") && result["delimiter"] == .string(";"))
        #expect(result["counts"]?["changed"]?.intValue == 3, "A-1 approved, A-2 cancelled, A-3 hold: \(run.out)")
        #expect(result["counts"]?["refused"]?.intValue == 1, "A-4 approved → cancelled is a backward move without chargebacks")
        #expect(result["counts"]?["unmatched"]?.intValue == 1, "A-9 is no lead of apileads")
        #expect(result["counts"]?["unknown_status"]?.intValue == 1)
        let rows = result["rows"]?.arrayValue ?? []
        #expect(rows.first { $0["order_id"] == .string("A-9") }?["result"] == .string("unmatched"))
        #expect(rows.first { $0["order_id"] == .string("A-4") }?["result"] == .string("refused"))

        // The history of A-1 shows the change as coming from the import; A-4 keeps approved
        // and records the refusal.
        let a1 = await CLI.run(["lead", "A-1", "--json"], env: env, cwd: dir)
        #expect(a1.out.contains("\"approved\"") && a1.out.contains("\"import\""), "\(a1.out)")
        let a4 = await CLI.run(["lead", "A-4", "--json"], env: env, cwd: dir)
        #expect(a4.out.contains("\"refused\"") && a4.out.contains("\"import\""), "\(a4.out)")
        // Importing the same report again changes nothing.
        let again = await CLI.run(["import", "apileads", "report.csv", "--json"], env: env, cwd: dir)
        #expect(try JSONParser.parse(again.out)["counts"]?["changed"]?.intValue == 0, "\(again.out)")
    }

    @Test func utf8WithBOMQuotedLineBreaksAndMap() async throws {
        let (dir, env) = try await Self.setUp()
        let report = "\u{FEFF}\"Lead\",\"Our ref\",\"Outcome\",\"Note\"\r\n\"901\",\"A-1\",\"trash\",\"wrong number,\r\nsaid twice\"\r\n"
        try Data(report.utf8).write(to: URL(fileURLWithPath: dir + "/r.csv"))
        let unknown = await CLI.run(["import", "apileads", "r.csv", "--lang", "en"], env: env, cwd: dir)
        #expect(unknown.code == 1 && unknown.err.contains("--map"), "columns it cannot tell say how to name them: \(unknown.err)")
        let run = await CLI.run(["import", "apileads", "r.csv", "--map", "order=Our ref,status=Outcome,comment=Note", "--json"], env: env, cwd: dir)
        #expect(run.code == 0, "\(run.err)")
        let result = try JSONParser.parse(run.out)
        #expect(result["encoding"] == .string("utf-8 (bom)") && result["counts"]?["changed"]?.intValue == 1, "\(run.out)")
    }

    @Test func refusesSpreadsheetsAndMissingFiles() async throws {
        let (dir, env) = try await Self.setUp()
        try Data([0x50, 0x4B, 0x03, 0x04, 0x14, 0x00]).write(to: URL(fileURLWithPath: dir + "/r.xlsx"))
        let xlsx = await CLI.run(["import", "apileads", "r.xlsx", "--lang", "en"], env: env, cwd: dir)
        #expect(xlsx.code == 1 && xlsx.err.contains("save it as CSV"), "\(xlsx.err)")
        let missing = await CLI.run(["import", "apileads", "nope.csv"], env: env, cwd: dir)
        #expect(missing.code != 0 && missing.err.contains("nope.csv"), "\(missing.err)")
        let bad = await CLI.run(["import", "apileads", "r.xlsx", "--map", "stauts=x"], env: env, cwd: dir)
        #expect(bad.code == 1 && bad.err.contains("did you mean \"status\""), "\(bad.err)")
        // The same refusals in Russian.
        let ru = await CLI.run(["import", "apileads", "r.xlsx", "--lang", "ru"], env: env, cwd: dir)
        #expect(ru.code == 1 && ru.err.contains("r.xlsx: это книга Excel (XLSX)") && ru.err.contains("сохраните как CSV"), "\(ru.err)")
        let badRU = await CLI.run(["import", "apileads", "r.xlsx", "--map", "stauts=x", "--lang", "ru"], env: env, cwd: dir)
        #expect(badRU.code == 1 && badRU.err.contains("--map: неизвестная роль «stauts» (может быть, «status»?)"), "\(badRU.err)")
    }
}
