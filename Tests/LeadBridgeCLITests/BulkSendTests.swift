import Foundation
import Testing
import LeadBridgeCore
import LeadBridgeEmulator
import LeadBridgeEngine
import LeadBridgeStore
import LeadBridgeTestSupport

/// `send NETWORK --lead FILE` with a JSON array or NDJSON (`-` for standard input): `--queue`
/// leaves the leads in the outbox for `sync`, otherwise each is sent now; a bad lead is reported
/// at its line or position and every good one goes on; a summary table ends the run.
@Suite struct BulkSendTests {
    static func ledger() -> (dir: String, env: [String: String]) {
        let dir = CLI.tempDir()
        CLI.write(#"{"store": "ledger.sqlite", "accounts": {"k": {"network": "kma", "credentials": {"token": "T-123456"}, "params": {"kma": "c1"}}}}"#,
                  to: dir + "/leadbridge.json")
        return (dir, ["LEADBRIDGE_CONFIG": dir + "/leadbridge.json"])
    }

    static func states(_ env: [String: String], cwd: String) async throws -> [String: String] {
        let r = await CLI.run(["leads", "--json"], env: env, cwd: cwd)
        var out: [String: String] = [:]
        for row in try JSONParser.parse(r.out).arrayValue ?? [] {
            if let id = row["lead"]?.stringValue { out[id] = row["send_state"]?.stringValue }
        }
        return out
    }

    @Test func queueAnNDJSONFileKeepingTheGoodLeads() async throws {
        let (dir, env) = Self.ledger()
        CLI.write("""
            {"id": "A-1", "phone": "+79001230001"}
            {"id": "A-2", "phone": "12"}

            {"id": "A-3", "phone": "+79001230003"}
            {"id": "A-1", "phone": "+79001230009"}
            {"id": "A-4", "phone": "+79001230004"

            """, to: dir + "/leads.ndjson")
        let r = await CLI.run(["send", "kma", "--lead", "leads.ndjson", "--account", "k", "--queue"], env: env, cwd: dir)
        #expect(r.code == 2, "bad leads make a partial failure: \(r.err)")
        #expect(r.err.contains("leads.ndjson:2: phone: needs 6 to 15 digits") || r.err.contains("leads.ndjson:2: phone"), "\(r.err)")
        #expect(r.err.contains("leads.ndjson:5: lead A-1 repeats line 1"), "\(r.err)")
        #expect(r.err.contains("leads.ndjson:6:"), "the unfinished line is named: \(r.err)")
        #expect(r.out.contains("queued                 2") || r.out.range(of: #"queued\s+2"#, options: .regularExpression) != nil, "\(r.out)")
        #expect(r.out.range(of: #"bad lead in the file\s+3"#, options: .regularExpression) != nil, "\(r.out)")
        #expect(r.out.contains("2 leads queued: the next 'leadbridge sync' sends them"), "\(r.out)")
        #expect(try await Self.states(env, cwd: dir) == ["A-1": "queued", "A-3": "queued"], "nothing else is written")

        // The same leads again (and one new): nothing is queued twice, and that is no failure.
        CLI.write("{\"id\": \"A-1\", \"phone\": \"+79001230001\"}\n{\"id\": \"A-3\", \"phone\": \"+79001230003\"}\n{\"id\": \"A-5\", \"phone\": \"+79001230005\"}\n",
                  to: dir + "/again.ndjson")
        let again = await CLI.run(["send", "kma", "--lead", "again.ndjson", "--account", "k", "--queue", "--json"], env: env, cwd: dir)
        #expect(again.code == 0, "\(again.err)")
        let json = try JSONParser.parse(again.out)
        #expect(json["counts"]?["queued"]?.intValue == 1 && json["counts"]?["already"]?.intValue == 2, "\(again.out)")
        #expect(json["results"]?.arrayValue?.first?["line"]?.intValue == 1)
        #expect(try await Self.states(env, cwd: dir).count == 3)

        // Russian by default.
        let ru = await CLI.run(["send", "kma", "--lead", "leads.ndjson", "--account", "k", "--queue"], env: env.merging(["LEADBRIDGE_LANG": ""]) { $1 }, cwd: dir)
        #expect(ru.out.range(of: #"уже в журнале\s+2"#, options: .regularExpression) != nil && ru.err.contains("leads.ndjson:2: phone: нужно от 6 до 15 цифр"),
                "\(ru.out)\n\(ru.err)")
        // --json keeps the English message whatever the language.
        let ruJSON = await CLI.run(["send", "kma", "--lead", "leads.ndjson", "--account", "k", "--queue", "--json"], env: env.merging(["LEADBRIDGE_LANG": ""]) { $1 },
                                   cwd: dir)
        let messages = try JSONParser.parse(ruJSON.out)["results"]?.arrayValue?.compactMap { $0["message"]?.stringValue } ?? []
        #expect(messages.contains { $0.contains("leads.ndjson:2: phone: must have 6 to 15 digits") } && !messages.contains { $0.contains("цифр") }, "\(ruJSON.out)")
    }

    /// The real binary reading a JSON array from standard input, its progress told in plain
    /// lines when stderr is not a terminal.
    @Test func aJSONArrayFromStandardInput() throws {
        let (dir, env) = Self.ledger()
        let binary = CLI.root + "/.build/debug/leadbridge"
        try #require(FileManager.default.isExecutableFile(atPath: binary), "the binary is built with the tests (swift build --build-tests)")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = ["send", "kma", "--lead", "-", "--account", "k", "--queue", "--lang", "en"]
        p.environment = env.merging(["LEADBRIDGE_HOME": CLI.root]) { $1 }
        p.currentDirectoryURL = URL(fileURLWithPath: dir)
        let input = Pipe(), output = Pipe(), errors = Pipe()
        p.standardInput = input
        p.standardOutput = output
        p.standardError = errors
        try p.run()
        input.fileHandleForWriting.write(Data(#"[{"id": "B-1", "phone": "+79001230001"}, {"id": "B-2", "phone": "x"}, {"id": "B-3"}]"#.utf8))
        try input.fileHandleForWriting.close()
        let out = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let err = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 2, "\(err)")
        #expect(err.contains("-[2]: phone"), "the bad element is named by its position: \(err)")
        #expect(!err.contains("\u{1B}["), "no terminal codes into a pipe: \(err)")
        #expect(out.range(of: #"queued\s+2"#, options: .regularExpression) != nil, "\(out)")
    }

    /// Sending now against the emulator: a line per lead (plain output), the summary, and a bad
    /// lead that does not stop the others; then `--queue` with `sync` delivering the outbox,
    /// with a progress bar on a terminal instead of per-lead lines.
    @Test func sendNowAndQueueForSyncAgainstTheEmulator() async throws {
        let dir = CLI.tempDir()
        let world = try EmulatedWorld(library: PackageFixtures.library(checks: .fast), networks: ["kma"], folder: dir)
        defer { world.stop() }
        let env = ["LEADBRIDGE_CONNECT_TO": world.connectTo, "LEADBRIDGE_CONFIG": dir + "/leadbridge.json"]
        CLI.write(#"[{"id": "N-1", "phone": "+79001110001"}, {"id": "N-2", "phone": "+79001110002", "nmae": "x"}, {"id": "N-3", "phone": "+79001110003"}]"#,
                  to: dir + "/now.json")
        let now = await CLI.run(["send", "kma", "--lead", dir + "/now.json", "--account", "kma"], env: env)
        #expect(now.code == 2, "\(now.err)")
        #expect(now.out.contains("kma N-1: accepted") && now.out.contains("kma N-3: accepted"), "\(now.out)")
        #expect(now.err.contains("now.json[2]: nmae: unknown field (did you mean \"name\"?)"), "\(now.err)")
        #expect(now.out.range(of: #"accepted\s+2"#, options: .regularExpression) != nil, "\(now.out)")

        CLI.write("{\"id\": \"Q-1\", \"phone\": \"+79001110011\"}\n{\"id\": \"Q-2\", \"phone\": \"+79001110012\"}\n", to: dir + "/later.ndjson")
        let queued = await CLI.run(["send", "kma", "--lead", dir + "/later.ndjson", "--account", "kma", "--queue"], env: env, terminal: true)
        #expect(queued.code == 0, "\(queued.err)")
        #expect(queued.progress.contains { $0.hasPrefix("[##############################] queued 2 of 2") }, "\(queued.progress)")
        #expect(queued.progress.last == "", "the bar is cleared before the summary")
        var states = try await Self.states(env, cwd: dir)
        #expect(states["Q-1"] == "queued" && states["Q-2"] == "queued" && states["N-2"] == nil, "\(states)")
        let sync = await CLI.run(["sync"], env: env)
        #expect(sync.code == 0, "\(sync.err)")
        states = try await Self.states(env, cwd: dir)
        #expect(states["Q-1"] == "accepted" && states["Q-2"] == "accepted", "the next sync sent the outbox: \(states)")
    }
}
