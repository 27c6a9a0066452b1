import Foundation
import Synchronization
import Testing
import LeadBridgeCLI
import LeadBridgeCore
import LeadBridgeEmulator
import LeadBridgeEngine
import LeadBridgeNet
import LeadBridgeStore
import LeadBridgeTestSupport

/// Golden files for what the CLI prints: help of every command in both languages, lint
/// output, dry-run requests, `postback --json` and `sync --json` (Tests/Golden; rewrite with
/// LEADBRIDGE_RECORD=1 and review the diff).
@Suite struct CLIGoldenTests {
    static func check(_ actual: String, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) {
        if let difference = GoldenFiles.difference(actual, name) { Issue.record(Comment(rawValue: difference), sourceLocation: sourceLocation) }
    }

    @Test(arguments: LeadBridgeCommand.commandNames)
    func helpOfEveryCommand(command: String) async {
        for language in Language.allCases {
            let r = await CLI.run([command, "--help", "--lang", language.rawValue])
            #expect(r.code == 0 && r.err.isEmpty, "\(r.err)")
            Self.check(r.out + "\n", "help/\(command).\(language.rawValue).txt")
        }
    }

    @Test func overviewAndTheHelpFolderHoldEveryCommandOnce() async throws {
        for language in Language.allCases {
            let r = await CLI.run(["--help", "--lang", language.rawValue])
            #expect(r.code == 0)
            Self.check(r.out + "\n", "help/overview.\(language.rawValue).txt")
        }
        let expected = Set(LeadBridgeCommand.commandNames.flatMap { c in Language.allCases.map { "\(c).\($0.rawValue).txt" } }
                           + Language.allCases.map { "overview.\($0.rawValue).txt" })
        let present = Set(try FileManager.default.contentsOfDirectory(atPath: CLI.root + "/Tests/Golden/help"))
        #expect(present.subtracting(expected).isEmpty, "golden help of commands that no longer exist: \(present.subtracting(expected).sorted())")
    }

    /// The usage line lists exactly the declared options (`emulate` once advertised `--networks-only`).
    @Test(arguments: LeadBridgeCommand.commandNames)
    func usageLineNamesOnlyDeclaredOptions(command: String) async {
        let r = await CLI.run([command, "--help", "--lang", "en"])
        let lines = r.out.split(separator: "\n").map(String.init)
        let usage = lines.first ?? ""
        let declared = Set(lines.drop { $0 != "Options:" }.dropFirst().compactMap { $0.split(separator: " ").first.map(String.init) })
        for word in usage.split(separator: " ") {
            let name = word.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
            if name.hasPrefix("--") { #expect(declared.contains(name), "\(command): the usage line names \(name), which is not an option") }
        }
    }

    @Test func lintOutput() async {
        let text = await CLI.run(["lint", "Tests/Fixtures/lint"])
        #expect(text.code == 1)
        #expect(text.out.isEmpty)
        Self.check(text.err + "\n", "lint/fixtures.txt")
        let json = await CLI.run(["lint", "Tests/Fixtures/lint", "--json"])
        #expect(json.code == 1)
        Self.check(json.out + "\n", "lint/fixtures.json")
        // The same findings in Russian: the location, error:/warning: and the code stay.
        let ru = await CLI.run(["lint", "Tests/Fixtures/lint", "--lang", "ru"])
        #expect(ru.code == 1)
        Self.check(ru.err + "\n", "lint/fixtures.ru.txt")
    }

    /// A spec whose examples do not hold, checked offline by `test` and by `lint`: every
    /// difference worded in each language, values from the spec as written; `test --json` keeps
    /// the stable English. (The lint summary counts the whole library: left out here.)
    @Test(arguments: Language.allCases)
    func exampleDifferences(language: Language) async {
        let spec = "Tests/Fixtures/examples/mismatched.json"
        let test = await CLI.run(["test", "mismatched", "--networks", spec, "--lang", language.rawValue])
        #expect(test.code == 1, "\(test.err)")
        Self.check(test.out + "\n", "examples/test.\(language.rawValue).txt")
        let lint = await CLI.run(["lint", spec, "--lang", language.rawValue])
        #expect(lint.code == 1)
        Self.check(lint.err.split(separator: "\n").dropLast().joined(separator: "\n") + "\n", "examples/lint.\(language.rawValue).txt")
        if language == .en {
            let json = await CLI.run(["test", "mismatched", "--networks", spec, "--json"])
            #expect(json.code == 1)
            Self.check(json.out + "\n", "examples/test.json")
        }
    }

    /// Broken input of every kind the sweep of issue 14 tried, in each language: the one line
    /// each prints (stderr, then what stdout had), with the command above it. Values given on
    /// the command line stay as written.
    @Test(arguments: Language.allCases)
    func brokenInput(language: Language) async {
        let dir = CLI.tempDir()
        CLI.write(#"{"store": "ledger.sqlite", "accounts": {"kma-main": {"network": "kma", "credentials": {"token": "t"}}}}"#, to: dir + "/leadbridge.json")
        let runs: [[String]] = [
            ["emulate", "--faults", "boom=1"], ["demo", "--faults", "kma:5xx=abc"],
            ["sync", "--connect-to", "api.kma.biz"], ["sync", "--connect-to", "api.kma.biz=10.0.0.1:80"],
            ["postback", "kma", "x=1"], ["postback", "kma", "oid=A-1&status=approved&cc=rubles"], ["postback", "kma", "oid=A-1&oid=A-2&status=1"],
            ["postback", "adbees", "oid=A-1001&status=99"], ["postback", "adbees", "oid=A-1001&status=11&sta=11&pay=12.50&cc=usd"],
        ]
        var text = ""
        for args in runs {
            let r = await CLI.run(args + ["--lang", language.rawValue], env: ["LEADBRIDGE_CONFIG": dir + "/leadbridge.json"], cwd: dir)
            text += "$ leadbridge " + args.joined(separator: " ") + "  (exit \(r.code))\n" + r.err + (r.err.isEmpty || r.err.hasSuffix("\n") ? "" : "\n")
                + r.out + (r.out.isEmpty || r.out.hasSuffix("\n") ? "" : "\n")
        }
        Self.check(text, "errors/broken-input.\(language.rawValue).txt")
    }

    /// A configuration with a dozen mistakes: every one reported at its place, in each language.
    @Test(arguments: Language.allCases)
    func configurationDiagnostics(language: Language) async {
        let r = await CLI.run(["leads", "--config", "Tests/Fixtures/config/broken.json", "--lang", language.rawValue])
        #expect(r.code == 3)
        #expect(r.out.isEmpty)
        Self.check(r.err + "\n", "config/broken.\(language.rawValue).txt")
    }

    @Test(arguments: ["kma", "leadrock", "terraleads", "adcombo", "drcash", "everad"])
    func dryRunRequests(network: String) async {
        let r = await CLI.run(["send", network, "--lead", "examples/lead.json", "--account", "example", "--dry-run"], now: CLI.fixedTime)
        #expect(r.code == 0, "\(r.err)")
        Self.check(r.out + "\n", "dry-run/\(network).txt")
    }

    @Test func dryRunJSON() async {
        let r = await CLI.run(["send", "leadrock", "--lead", "examples/lead.json", "--account", "example", "--dry-run", "--json"], now: CLI.fixedTime)
        #expect(r.code == 0, "\(r.err)")
        Self.check(r.out + "\n", "dry-run/leadrock.json")
    }

    @Test(arguments: [
        ("adbees", "oid=A-1001&status=11&sta=11&stc=12&stt=13&pay=12.50&cc=usd"),
        ("cpahouse", "oid=A-1&status=in_processing&stt=fake&stw=in_processing"),
        ("leadrock", "https://t.example.com/postback/leadrock?token=T&oid=A-1&status=approve&comment=%D0%BE%D0%BA"),
        ("ikon", "oid=A-7&status=cancel&reason=7"),
    ])
    func postbackJSON(network: String, query: String) async {
        let r = await CLI.run(["postback", network, query, "--json"])
        #expect(r.code == 0, "\(r.err)")
        Self.check(r.out + "\n", "postback/\(network).json")
    }

    /// Two cron passes against the emulator on loopback: the first sends the outbox, the second
    /// (after the network settled) polls and prints one line per status change, then the summary.
    @Test func syncJSON() async throws {
        let dir = CLI.tempDir()
        let library = PackageFixtures.library(checks: .fast)
        let spec = try #require(library.spec("adcombo"))
        let account = try #require(spec.exampleAccount)
        let emulatorTime = Mutex<Double>(1_800_000_000)
        var behaviour = EmulatorBehaviour()
        behaviour.settleAfter = 10
        let emulator = NetworkEmulator(library: library, networks: ["adcombo"], behaviour: behaviour, clock: { emulatorTime.withLock { $0 } })
        let server = HTTPServer(configuration: HTTPServerConfiguration(host: "127.0.0.1", port: 0)) { emulator.handle($0) }
        try server.start()
        defer { server.stop(graceful: true, timeout: 2) }
        let port = try #require(server.boundPort)
        func pairs(_ d: [String: String]) -> String { d.keys.sorted().map { "\"\($0)\": \"\(d[$0] ?? "")\"" }.joined(separator: ", ") }
        CLI.write(#"{"store": "ledger.sqlite", "sync": {"poll_interval_seconds": 0}, "accounts": {"ac": {"network": "adcombo", "credentials": {"#
                  + pairs(account.credentials) + "}, \"params\": {" + pairs(account.params) + "}}}}", to: dir + "/leadbridge.json")
        do {
            let store = try SQLiteLeadStore(path: dir + "/ledger.sqlite")
            let ledger = Ledger(store: store, library: library, config: nil, clock: { CLI.fixedTime })
            let example = try #require(spec.examples.first { $0.expect.result == .accepted }?.lead)
            for i in 1...6 {
                var lead = example
                lead.id = "G-\(1000 + i)"
                lead.phone = "+7900555000\(i)"
                _ = try ledger.enqueue(lead, network: "adcombo", account: "ac")
            }
        }
        let env = ["LEADBRIDGE_CONFIG": dir + "/leadbridge.json", "LEADBRIDGE_CONNECT_TO": "api.adcombo.com=127.0.0.1:\(port)"]
        let first = await CLI.run(["sync", "--json"], env: env, now: CLI.fixedTime + 60)
        #expect(first.code == 0, "\(first.err)")
        Self.check(Self.sortedChanges(first.out), "sync/first-pass.jsonl")
        emulatorTime.withLock { $0 += 60 }
        let second = await CLI.run(["sync", "--json"], env: env, now: CLI.fixedTime + 120)
        #expect(second.code == 0, "\(second.err)")
        Self.check(Self.sortedChanges(second.out), "sync/second-pass.jsonl")
    }

    /// Change lines in a stable order (sends run concurrently), the summary last.
    static func sortedChanges(_ out: String) -> String {
        var lines = out.split(separator: "\n").map(String.init)
        let summary = lines.popLast() ?? ""
        return (lines.sorted() + [summary]).joined(separator: "\n") + "\n"
    }
}
