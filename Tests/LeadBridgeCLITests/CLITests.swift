import Foundation
import Synchronization
import Testing
@testable import LeadBridgeCLI
import LeadBridgeCore
import LeadBridgeTestSupport
import LeadBridgeEngine

/// Runs the CLI in-process with captured stdout/stderr.
struct CLIRun: Sendable {
    var code: Int32
    var out: String
    var err: String
    /// What a terminal's status line showed (only with `terminal: true`).
    var progress: [String] = []
}

enum CLI {
    static let root = PackageFixtures.root

    /// 2026-01-01T00:00:00Z, for output that shows the time (golden files).
    static let fixedTime: Int64 = 1_767_225_600

    static func run(_ args: [String], env extra: [String: String] = [:], cwd: String? = nil, now: Int64? = nil, terminal: Bool = false) async -> CLIRun {
        let out = Mutex<[String]>([]), err = Mutex<[String]>([]), progress = Mutex<[String]>([])
        let draw: @Sendable (String) -> Void = { s in progress.withLock { $0.append(s) } }
        // English unless a test chooses (messages are asserted in English); Russian is the
        // default of a real run, checked by LanguageTests with LEADBRIDGE_LANG empty.
        var vars = ["LEADBRIDGE_HOME": root, "PATH": "/usr/bin:/bin", "LEADBRIDGE_LANG": "en"]
        for (k, v) in extra { vars[k] = v }
        var env = CLIEnvironment(variables: vars, currentDirectory: cwd ?? root, executablePath: root + "/.build/debug/leadbridge",
                                 output: CLIOutput(out: { s in out.withLock { $0.append(s) } }, err: { s in err.withLock { $0.append(s) } },
                                                   progress: terminal ? draw : nil))
        if let now { env.clock = { now } }
        let code = await LeadBridgeCommand.run(args, env: env)
        return CLIRun(code: code, out: out.withLock { $0.joined(separator: "\n") }, err: err.withLock { $0.joined(separator: "\n") },
                      progress: progress.withLock { $0 })
    }

    static func tempDir() -> String {
        let dir = NSTemporaryDirectory() + "leadbridge-test-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    static func write(_ text: String, to path: String) {
        try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
    }
}

@Suite struct CatalogCommandTests {
    @Test func networksJSON() async throws {
        let r = await CLI.run(["networks", "--json"])
        #expect(r.code == 0)
        let list = try #require(try JSONParser.parse(r.out).arrayValue)
        #expect(list.count == 50)
        let kma = try #require(list.first { $0["id"] == .string("kma") })
        #expect(kma["send"] == .bool(true))
        #expect(kma["name"] == .string("KMA"))
    }

    @Test(arguments: [("AD1", "offerrum"), ("cpa.tl", "trafficlight"), ("tamcrm", "tamyonetim"), ("LeadRock", "leadrock")])
    func aliasesResolve(name: String, id: String) async throws {
        let r = await CLI.run(["show", name, "--json"])
        #expect(r.code == 0, "\(r.err)")
        #expect(try JSONParser.parse(r.out)["id"] == .string(id))
    }

    @Test func unknownNetworkSuggestsAndExits1() async {
        let r = await CLI.run(["postbacks", "leadrok"])
        #expect(r.code == 1)
        #expect(r.err.contains("unknown network \"leadrok\"; closest: leadrock"))
        #expect(r.out.isEmpty)
    }

    @Test func postbacksWithBase() async throws {
        let r = await CLI.run(["postbacks", "drcash", "--base", "https://t.example.com/postback/drcash?token=T", "--json"])
        #expect(r.code == 0)
        let v = try JSONParser.parse(r.out)
        #expect(v["network"] == .string("drcash"))
        #expect(v["postbacks"]?.arrayValue?.first?["url"] == .string("https://t.example.com/postback/drcash?token=T&oid={sub1}&status={status}&stw=hold"))
        let text = await CLI.run(["postbacks", "metacpa", "--base", "https://t.example.com/postback/metacpa?token=T", "--lang", "ru"])
        #expect(text.out.contains("Аппрув: https://t.example.com/postback/metacpa?token=T&oid={sub1}&status=approve&pay={payout}&cc={currency}"))
        let bad = await CLI.run(["postbacks", "drcash", "--base", "t.example.com"])
        #expect(bad.code == 1)
    }

    @Test func docsInBothLanguages() async {
        let ru = await CLI.run(["docs"], env: ["LEADBRIDGE_LANG": ""])
        #expect(ru.code == 0)
        #expect(ru.out.hasPrefix("Партнёрские сети\n\n"))
        let en = await CLI.run(["docs", "--lang", "en"])
        #expect(en.out.hasPrefix("Partner networks\n\n"))
        #expect(en.out.contains("Settings for the integration utility:"))
        let bad = await CLI.run(["docs", "--lang", "de"], env: ["LEADBRIDGE_LANG": ""])
        #expect(bad.code == 1)
        #expect(bad.err.contains("--lang: ru или en, указано «de»"), "\(bad.err)")
    }

    @Test func usageErrors() async {
        let unknownCommand = await CLI.run(["shwo", "kma"])
        #expect(unknownCommand.code == 1)
        #expect(unknownCommand.err.contains("did you mean \"show\""))
        let unknownOption = await CLI.run(["show", "kma", "--jsn"])
        #expect(unknownOption.code == 1)
        #expect(unknownOption.err.contains("unknown option --jsn (did you mean --json?)"))
        let missing = await CLI.run(["show"])
        #expect(missing.code == 1)
        let overview = await CLI.run([])
        #expect(overview.code == 0)
        #expect(overview.out.contains("postbacks"))
    }
}

@Suite struct PostbackCommandTests {
    @Test func normalizesAndPrintsTheContractShape() async throws {
        let r = await CLI.run(["postback", "cpahouse", "oid=A-1&status=in_processing&stt=fake&stw=in_processing", "--json"])
        #expect(r.code == 0, "\(r.err)")
        let v = try JSONParser.parse(r.out)
        #expect(v.objectValue?.keys == ["order_id", "external_id", "status", "raw_status", "detail", "payout", "currency", "comment", "reason"])
        #expect(v["status"] == .string("pending"))
        #expect(v["detail"] == .string("waiting"))
    }

    @Test func fullURLIsAccepted() async throws {
        let r = await CLI.run(["postback", "leadrock", "https://t.example.com/postback/leadrock?token=T&oid=A-1&status=approve", "--json"])
        #expect(try JSONParser.parse(r.out)["status"] == .string("approved"))
    }

    @Test func unknownWordIsReportedNotGuessed() async throws {
        let r = await CLI.run(["postback", "leadrock", "oid=A-1&status=teleported", "--json"])
        #expect(r.code == 1)
        #expect(try JSONParser.parse(r.out)["status"] == .null)
        #expect(r.err.contains("unknown status word \"teleported\""))
    }

    @Test func missingIdIsAClearError() async {
        let r = await CLI.run(["postback", "leadrock", "status=approve"])
        #expect(r.code == 1)
        #expect(r.err.contains("neither oid (our order id) nor eid"))
    }
}

@Suite struct LintCommandTests {
    @Test func shippedSpecsLintClean() async {
        let r = await CLI.run(["lint", "--strict"])
        #expect(r.code == 0, "\(r.err)")
        #expect(r.err.contains("50 specs, 0 errors, 0 warnings"))
    }

    @Test func brokenSpecFileGivesFileLineColumnAndExit1() async {
        let dir = CLI.tempDir()
        CLI.write("{\n  \"id\": \"broken\",\n  \"name\": \"Broken\",\n  \"statuses\": {\"approved\": [\"ok\"], \"trash\": [\"ok\"]},\n  \"credentails\": []\n}\n",
                  to: dir + "/broken.json")
        CLI.write("{\"id\": \"bad\", \"name\": }", to: dir + "/bad.json")
        let r = await CLI.run(["lint", dir], cwd: dir + "/..")
        #expect(r.code == 1)
        let name = (dir as NSString).lastPathComponent
        #expect(r.err.contains("\(name)/broken.json:5:3: error: /credentails: unknown key \"credentails\" (did you mean \"credentials\"?) [unknown-key]"), "\(r.err)")
        #expect(r.err.contains("\(name)/broken.json:4:45: error: /statuses/trash: \"ok\" is listed in both approved and trash [status-conflict]"), "\(r.err)")
        #expect(r.err.contains("\(name)/bad.json:1:23: error: unexpected character '}': expected a value [json]"), "\(r.err)")
        #expect(!r.err.contains("Networks/kma.json"))  // only the files asked about
    }

    /// A file's id or alias colliding with a shipped spec is reported on the file asked about.
    @Test func collisionsWithTheShippedLibraryAreBlamedOnTheNewFile() async {
        let dir = CLI.tempDir()
        CLI.write(#"{"id": "ad1", "name": "AD One"}"#, to: dir + "/ad1.json")
        CLI.write(#"{"id": "acme", "name": "Acme", "aliases": ["kma.biz"]}"#, to: dir + "/acme.json")
        let r = await CLI.run(["lint", "ad1.json", "acme.json"], cwd: dir)
        #expect(r.code == 1)
        #expect(r.err.contains(#"ad1.json:1:8: error: /id: id "ad1" is already an alias of "offerrum" [duplicate-id]"#), "\(r.err)")
        #expect(r.err.contains(#"acme.json:1:43: error: /aliases: alias "kma.biz" is already used by "kma" [duplicate-id]"#), "\(r.err)")
        #expect(!r.err.contains("Networks/"), "\(r.err)")
    }

    /// A file named twice (its folder by --networks and itself by lint) is reported once.
    @Test func eachFindingOnce() async {
        let dir = CLI.tempDir()
        _ = await CLI.run(["new", "warny", "--out", "specs"], cwd: dir)
        let file = dir + "/specs/warny.json"
        let text = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
        CLI.write(text.replacingAll(#"{"ru": "API-ключ", "en": "API key"}"#, with: #"{"ru": "API-ключ"}"#), to: file)
        let r = await CLI.run(["--networks", "specs", "lint", "specs/warny.json"], cwd: dir)
        #expect(r.code == 0)
        #expect(r.err.components(separatedBy: "[missing-translation]").count == 2, "\(r.err)")
        #expect(r.err.hasSuffix("0 errors, 1 warning"), "\(r.err)")
        let here = await CLI.run(["lint", "."], cwd: dir + "/specs")
        #expect(here.err.contains("warny.json:"), "lint . reports the files of the folder: \(here.err)")
    }

    /// A typo in a poll's status path is named at lint time (it used to surface only as an
    /// example failure "got unknown (raw )").
    @Test func pollPathTyposAreFlagged() async {
        let dir = CLI.tempDir()
        _ = await CLI.run(["new", "lister", "--style", "list-poll"], cwd: dir)
        let file = dir + "/lister.json"
        let text = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
        CLI.write(text.replacingAll(#""status": "status","#, with: #""status": "stauts","#), to: file)
        let r = await CLI.run(["lint", "lister.json"], cwd: dir)
        #expect(r.code == 1)
        #expect(r.err.contains(#"/poll/status: the status path "stauts" is in no item of the poll examples' answers (did you mean "status"?)"#), "\(r.err)")
    }

    @Test func oversizedSpecsAreRefusedWithTheLimit() async {
        let dir = CLI.tempDir()
        CLI.write(#"{"id": "huge", "name": ""# + String(repeating: "x", count: 70_000) + #""}"#, to: dir + "/huge.json")
        CLI.write(String(repeating: " ", count: 1_100_000) + "{}", to: dir + "/vast.json")
        let r = await CLI.run(["lint", "huge.json", "vast.json"], cwd: dir)
        #expect(r.code == 1)
        #expect(r.err.contains("huge.json:1:24: error: a string of 70000 bytes; the limit is 65536 (see docs/limits.md) [json]"), "\(r.err)")
        #expect(r.err.contains("vast.json: error: the file is larger than the limit of 1048576 bytes"), "\(r.err)")
    }

    @Test func readmeExampleSpecWorksEndToEnd() async {
        let lint = await CLI.run(["lint", "examples/specs/acme.json", "--strict"])
        #expect(lint.code == 0, "\(lint.err)")
        let test = await CLI.run(["--networks", "examples/specs", "test", "acme"])
        #expect(test.code == 0)
        #expect(test.out.contains("2 passed, 0 failed"))
    }

    @Test func userFolderOverridesShippedSpec() async throws {
        let dir = CLI.tempDir()
        CLI.write(#"{"id": "kma", "name": "KMA (ours)", "aliases": ["kma.biz"]}"#, to: dir + "/kma.json")
        let r = await CLI.run(["show", "kma", "--json"], env: ["LEADBRIDGE_NETWORKS": dir])
        #expect(try JSONParser.parse(r.out)["name"] == .string("KMA (ours)"))
    }

    /// `show`/`postbacks` load one network's file, its templates and the status words; what
    /// they find must be what the whole library would give: the highest layer wins, a user
    /// template overrides a shipped one, aliases are the chosen file's own.
    @Test func oneNetworkLoadsAgreeWithTheWholeLibrary() async throws {
        let dir = CLI.tempDir()
        CLI.write(#"{"id": "kma", "name": "KMA (ours)", "aliases": ["kma-ours"]}"#, to: dir + "/kma.json")
        CLI.write(#"{"id": "acme2", "name": "Acme Two", "aliases": ["Acme-Corp"], "extends": "acme-base"}"#, to: dir + "/acme2.json")
        CLI.write(#"{"notes": [{"ru": "из шаблона", "en": "from the template"}]}"#, to: dir + "/Templates/acme-base.json")
        let env = ["LEADBRIDGE_NETWORKS": dir]
        func name(_ args: [String]) async throws -> String? {
            let r = await CLI.run(args + ["--json"], env: env)
            return r.code == 0 ? try JSONParser.parse(r.out)["name"]?.stringValue : nil
        }
        #expect(try await name(["show", "kma"]) == "KMA (ours)")
        #expect(try await name(["show", "KMA-OURS"]) == "KMA (ours)")
        #expect(try await name(["show", "acme-corp"]) == "Acme Two")
        #expect(try await name(["show", "drcash"]) == "DrCash")
        #expect(try await name(["show", "dr.cash"]) == "DrCash")
        // The override does not list the shipped alias: it no longer names kma.
        let dropped = await CLI.run(["postbacks", "kma.biz"], env: env)
        #expect(dropped.code == 1 && dropped.err.contains("unknown network"))
        let notes = await CLI.run(["show", "acme2", "--lang", "en"], env: env)
        #expect(notes.out.contains("from the template"), "\(notes.out)")
        // Without the user's folder, the shipped spec and its alias.
        #expect(try JSONParser.parse(await CLI.run(["show", "kma.biz", "--json"]).out)["name"] == .string("KMA"))
    }

    @Test func testCommandShowsReadableDiff() async {
        let dir = CLI.tempDir()
        var acme = (try? String(contentsOfFile: CLI.root + "/examples/specs/acme.json", encoding: .utf8)) ?? ""
        acme = acme.replacingAll("&sub1=A-1", with: "&sub1=A-2")
        CLI.write(acme, to: dir + "/acme.json")
        let r = await CLI.run(["--networks", dir, "test", "acme"])
        #expect(r.code == 1)
        #expect(r.out.contains("FAIL acme: accepted"))
        #expect(r.out.contains("form sub1: expected \"A-2\", built \"A-1\""), "\(r.out)")
    }
}

@Suite struct SyncCommandTests {
    @Test func aSecondSyncExits4NamingTheHolder() async throws {
        let dir = CLI.tempDir()
        CLI.write(#"{"store": "ledger.sqlite", "accounts": {"k": {"network": "kma", "credentials": {"token": "T-123456"}, "params": {"kma": "c1"}}}}"#,
                  to: dir + "/leadbridge.json")
        let path = URL(fileURLWithPath: dir + "/ledger.sqlite").standardizedFileURL.path + ".lock"
        var held: SyncLock? = try SyncLock(path: path, now: 1_767_225_600)
        let r = await CLI.run(["sync"], env: ["LEADBRIDGE_CONFIG": dir + "/leadbridge.json"])
        #expect(r.code == 4)
        #expect(r.err.contains("another sync holds the lock") && r.err.contains("started 2026-01-01T00:00:00Z"), "\(r.err)")
        _ = held
        held = nil
        let free = await CLI.run(["sync", "--json"], env: ["LEADBRIDGE_CONFIG": dir + "/leadbridge.json"])
        #expect(free.code == 0, "\(free.err)")
        #expect(free.out.contains("\"summary\":true"))
    }

    @Test func configurationErrorsExit3AndNameTheProblem() async {
        let dir = CLI.tempDir()
        CLI.write(#"{"store": "ledger.sqlite", "acounts": {}}"#, to: dir + "/a.json")
        let typo = await CLI.run(["sync", "--config", dir + "/a.json"])
        #expect(typo.code == 3)
        #expect(typo.err.contains("unknown key \"acounts\" (did you mean \"accounts\"?)"))
        CLI.write(#"{"store": "ledger.sqlite", "accounts": {"k": {"network": "kma", "credentials": {"tokn": "x"}}}}"#, to: dir + "/c.json")
        let cred = await CLI.run(["sync", "--config", dir + "/c.json"])
        #expect(cred.code == 3)
        #expect(cred.err.contains("kma has no credential \"tokn\" (did you mean \"token\"?)"))
    }

    /// Typos stop every command that reads the configuration — `leads` included — with one
    /// prefix per line: `file:line:col: error: … [code]`.
    @Test(arguments: [
        (#""network": "kmaa", "credentials": {"token": "T-1"}"#, "unknown network \"kmaa\" (did you mean \"kma\"?)"),
        (#""network": "kma", "credentials": {"tokn": "T-1"}"#, "kma has no credential \"tokn\" (did you mean \"token\"?)"),
        (#""network": "kma", "credentials": {"token": "T-1"}, "parms": {}"#, "unknown key \"parms\" (did you mean \"params\"?)"),
        (#""network": "kma", "credentials": {"token": "T-1"}, "params": {"kmaa": "x"}"#, "kma has no parameter \"kmaa\" (did you mean \"kma\"?)"),
        (#""network": "kma", "credentials": {}"#, "missing credential \"token\""),
    ])
    func typosInAnAccountStopEveryCommand(account: String, message: String) async {
        let dir = CLI.tempDir()
        CLI.write(#"{"store": "ledger.sqlite", "accounts": {"k": {"# + account + "}}}", to: dir + "/leadbridge.json")
        let env = ["LEADBRIDGE_CONFIG": dir + "/leadbridge.json"]
        for command in [["leads"], ["sync"], ["send", "kma", "--lead", CLI.root + "/examples/lead.json", "--account", "k", "--dry-run"]] {
            let r = await CLI.run(command, env: env)
            #expect(r.code == 3, "\(command): \(r.err)")
            #expect(r.err.contains(message), "\(command): \(r.err)")
            #expect(r.err.hasPrefix(dir + "/leadbridge.json:1:"), "one prefix, the location: \(r.err)")
            #expect(!r.err.contains("leadbridge: error:"), "\(r.err)")
        }
    }

    /// A `${VAR}`'s value is a secret wherever it is used: a credential the spec does not mark
    /// secret (TerraLeads' user id) or a parameter taken from the environment is never printed,
    /// not in a dry run's request nor in the error of a value the request cannot use.
    @Test func aVariablesValueIsNeverPrinted() async throws {
        let dir = CLI.tempDir()
        CLI.write(#"{"store": "ledger.sqlite", "accounts": {"t": {"network": "terraleads", "credentials": {"user": "${TL_USER}", "token": "TL-TOKEN-0001"}, "params": {"terra": "${TL_OFFER}"}}}}"#,
                  to: dir + "/leadbridge.json")
        let lead = ["send", "terraleads", "--lead", CLI.root + "/examples/lead.json", "--account", "t", "--dry-run"]
        for (user, offer) in [("48151623", "91827364"), ("user-V4R-value", "91827364")] {
            let env = ["LEADBRIDGE_CONFIG": dir + "/leadbridge.json", "TL_USER": user, "TL_OFFER": offer]
            for args in [lead, lead + ["--json"]] {
                let r = await CLI.run(args, env: env)
                #expect(user.hasPrefix("user") ? r.code != 0 : r.code == 0, "\(args): \(r.code) \(r.err)")
                #expect(!(r.out + r.err).contains(user) && !(r.out + r.err).contains(offer), "\(args): \(r.out)\n\(r.err)")
                #expect((r.out + r.err).contains("***"), "\(args): \(r.out)\n\(r.err)")
            }
        }
    }

    /// With the README's example configuration and only KMA_TOKEN set, the KMA account works;
    /// the accounts whose variables are unset are reported by `sync` (exit 2), not fatal.
    @Test func anUnsetVariableFailsOnlyTheAccountsUsingIt() async throws {
        let dir = CLI.tempDir()
        let example = try String(contentsOfFile: CLI.root + "/examples/leadbridge.json", encoding: .utf8)
        CLI.write(example, to: dir + "/leadbridge.json")
        let env = ["LEADBRIDGE_CONFIG": dir + "/leadbridge.json", "KMA_TOKEN": "KMA-SECRET-123"]
        let dry = await CLI.run(["send", "kma", "--lead", CLI.root + "/examples/lead.json", "--account", "kma-main", "--dry-run"], env: env)
        #expect(dry.code == 0, "\(dry.err)")
        #expect(dry.out.contains("Authorization: Bearer ***") && !dry.out.contains("KMA-SECRET-123"), "\(dry.out)")
        let other = await CLI.run(["send", "terraleads", "--lead", CLI.root + "/examples/lead.json", "--account", "terra-main", "--dry-run"], env: env)
        #expect(other.code == 3)
        #expect(other.err.contains("/accounts/terra-main/credentials/token: environment variable TERRALEADS_KEY is not set [env]"), "\(other.err)")
        #expect(!other.err.contains("leadbridge: error:"))
        let leads = await CLI.run(["leads"], env: env)
        #expect(leads.code == 0, "\(leads.err)")
        let sync = await CLI.run(["sync", "--json"], env: env)
        #expect(sync.code == 2, "\(sync.err)")
        let summary = try JSONParser.parse(try #require(sync.out.split(separator: "\n").last.map(String.init)))
        let unavailable = try #require(summary["unavailable_accounts"]?.arrayValue)
        #expect(unavailable.compactMap { $0["account"]?.stringValue } == ["leadcraft", "leadrock-main", "terra-main"])
        let onlyKMA = await CLI.run(["sync", "--network", "kma"], env: env)
        #expect(onlyKMA.code == 0, "an unset variable of another network's account does not fail this one: \(onlyKMA.err)")
        let serve = await CLI.run(["serve", "--listen", "127.0.0.1:0"], env: env)
        #expect(serve.code == 3)
        #expect(serve.err.contains("/receiver/token: environment variable LEADBRIDGE_TOKEN is not set"), "\(serve.err)")
    }

    @Test func aLockThatCannotBeCreatedIsAConfigurationError() async throws {
        let dir = CLI.tempDir()
        CLI.write(#"{"store": "ledger.sqlite", "accounts": {}}"#, to: dir + "/leadbridge.json")
        try FileManager.default.createDirectory(atPath: dir + "/ledger.sqlite.lock", withIntermediateDirectories: true)
        let r = await CLI.run(["sync"], env: ["LEADBRIDGE_CONFIG": dir + "/leadbridge.json"])
        #expect(r.code == 3, "\(r.err)")
        #expect(r.err.contains("cannot use the lock file") && r.err.contains("Is a directory"), "\(r.err)")
    }

    /// Oversized values are refused before any work (a 10 MB network name used to take 30 s
    /// of "did you mean").
    @Test func oversizedConfigValuesAreRefusedEarly() async {
        let dir = CLI.tempDir()
        let name = String(repeating: "k", count: 200_000)
        CLI.write(#"{"accounts": {"a": {"network": ""# + name + #""}}}"#, to: dir + "/leadbridge.json")
        let r = await CLI.run(["leads"], env: ["LEADBRIDGE_CONFIG": dir + "/leadbridge.json"])
        #expect(r.code == 3)
        #expect(r.err.contains("leadbridge.json:1:32: error: a string of 200000 bytes; the limit is 4096"), "\(r.err.prefix(300))")
        CLI.write(String(repeating: " ", count: 1_100_000) + "{}", to: dir + "/big.json")
        let big = await CLI.run(["leads", "--config", dir + "/big.json"])
        #expect(big.code == 3)
        #expect(big.err.contains("the limit is 1048576"), "\(big.err)")
    }
}

@Suite struct SendCommandErrorTests {
    @Test func invalidLeadUnknownAccountMissingCredential() async {
        let dir = CLI.tempDir()
        CLI.write(#"{"id": "A 1", "phone": "12", "country": "Russia", "nmae": "x"}"#, to: dir + "/bad.json")
        let bad = await CLI.run(["send", "kma", "--lead", dir + "/bad.json", "--account", "example", "--dry-run"])
        #expect(bad.code == 1)
        for field in ["id: must not contain spaces", "phone: must have 6 to 15 digits", "country: must be a 2-letter ISO code", "nmae: unknown field (did you mean \"name\"?)"] {
            #expect(bad.err.contains(field), "\(bad.err)")
        }
        CLI.write("{\"id\": \"A-1\", \"phone\": ", to: dir + "/broken.json")
        let broken = await CLI.run(["send", "kma", "--lead", dir + "/broken.json", "--account", "example", "--dry-run"])
        #expect(broken.code == 1)
        #expect(broken.err.contains("broken.json:1:24"), "\(broken.err)")
        CLI.write(#"{"id": "A-1", "phone": "+79001234567"}"#, to: dir + "/lead.json")
        CLI.write(#"{"accounts": {"kma-main": {"network": "kma", "credentials": {"token": "T-123456"}, "params": {"kma": "c1"}}}}"#,
                  to: dir + "/leadbridge.json")
        let env = ["LEADBRIDGE_CONFIG": dir + "/leadbridge.json"]
        let unknown = await CLI.run(["send", "kma", "--lead", dir + "/lead.json", "--account", "kma-mian", "--dry-run"], env: env)
        #expect(unknown.code == 3)
        #expect(unknown.err.contains("unknown account \"kma-mian\" (did you mean \"kma-main\"?)"), "\(unknown.err)")
        CLI.write(#"{"accounts": {"nocred": {"network": "kma", "params": {"kma": "c1"}}}}"#, to: dir + "/nocred.json")
        let missing = await CLI.run(["send", "kma", "--lead", dir + "/lead.json", "--account", "nocred", "--dry-run", "--config", dir + "/nocred.json"])
        #expect(missing.code == 3, "\(missing.err)")
        #expect(missing.err.contains("/accounts/nocred: missing credential \"token\""), "\(missing.err)")
        // What the lead or the account lacks for the network, in the chosen language.
        CLI.write(#"{"accounts": {"noparam": {"network": "kma", "credentials": {"token": "T-123456"}}}}"#, to: dir + "/noparam.json")
        let noParam = ["send", "kma", "--lead", dir + "/lead.json", "--account", "noparam", "--dry-run", "--config", dir + "/noparam.json"]
        let en = await CLI.run(noParam)
        #expect(en.code == 1)
        #expect(en.err.contains("kma, lead A-1: invalid lead: params.kma is required by kma: stream id."), "\(en.err)")
        let ru = await CLI.run(noParam + ["--lang", "ru"])
        #expect(ru.err.contains("kma, лид A-1: неверный лид: params.kma обязателен для kma: идентификатор потока."), "\(ru.err)")
        let noSendAPI = await CLI.run(["send", "apileads", "--lead", dir + "/lead.json", "--account", "example", "--dry-run"])
        #expect(noSendAPI.code != 0)
    }

    /// A request the spec and the account cannot build says why in the chosen language, and
    /// never with the value: a self-hosted CRM's address is a credential.
    @Test func aRequestThatCannotBeBuiltSaysWhyWithoutTheValue() async {
        let dir = CLI.tempDir()
        CLI.write(#"{"id": "A-1", "phone": "+79001234567", "name": "Иван", "email": "a@example.ru"}"#, to: dir + "/lead.json")
        CLI.write(#"{"accounts": {"sm": {"network": "salesman", "credentials": {"url": "crm.example.ru/SM-URL-SECRET-77", "login": "m@example.ru", "apikey": "K-1"}}}}"#,
                  to: dir + "/leadbridge.json")
        let command = ["send", "salesman", "--lead", dir + "/lead.json", "--account", "sm", "--dry-run", "--config", dir + "/leadbridge.json"]
        let en = await CLI.run(command + ["--lang", "en"])
        #expect(en.code == 1, "\(en.err)")
        #expect(en.err.contains("cannot build the request: the URL starts with {credentials.url}, which is not an http(s) URL"), "\(en.err)")
        let ru = await CLI.run(command + ["--lang", "ru"])
        #expect(ru.code == 1, "\(ru.err)")
        #expect(ru.err.contains("не удаётся построить запрос: адрес начинается с {credentials.url}, а это не адрес http(s)"), "\(ru.err)")
        for r in [en, ru] { #expect(!(r.out + r.err).contains("SM-URL-SECRET"), "\(r.out + r.err)") }
    }
}

/// What a lead must carry comes from the network's spec: a phone where it is asked (or by
/// default), an email for an email-only network.
@Suite struct LeadRequirementTests {
    @Test func phoneOnlyWhereTheSpecAsksForIt() async throws {
        let dir = CLI.tempDir()
        CLI.write(#"{"id": "E-1", "email": "ivan@example.com", "name": "Ivan"}"#, to: dir + "/email-only.json")
        let kma = await CLI.run(["send", "kma", "--lead", dir + "/email-only.json", "--account", "example", "--dry-run"])
        #expect(kma.code == 1)
        #expect(kma.err.contains("phone is required by kma"), "\(kma.err)")

        _ = await CLI.run(["new", "mailer", "--style", "json"], cwd: dir)
        let file = dir + "/mailer.json"
        var text = try String(contentsOfFile: file, encoding: .utf8)
        text = text.replacingAll(#""requires": ["lead.phone", "params.stream"]"#, with: #""requires": ["lead.email", "params.stream"]"#)
        text = text.replacingAll(#""customer": {"phone": "{lead.phone}""#, with: #""customer": {"email": "{lead.email}", "phone": "{lead.phone}""#)
        CLI.write(text, to: file)
        let dry = await CLI.run(["--networks", file, "send", "mailer", "--lead", dir + "/email-only.json", "--account", "example", "--dry-run"])
        #expect(dry.code == 0, "\(dry.err)")
        #expect(dry.out.contains(#""customer":{"email":"ivan@example.com","name":"Ivan"}"#), "\(dry.out)")
        CLI.write(#"{"id": "E-2", "name": "Ivan"}"#, to: dir + "/nothing.json")
        let none = await CLI.run(["--networks", file, "send", "mailer", "--lead", dir + "/nothing.json", "--account", "example", "--dry-run"])
        #expect(none.code == 1)
        #expect(none.err.contains("email is required by mailer"), "\(none.err)")
    }
}

@Suite struct ProcessTests {
    /// `leadbridge docs | head -1`: a reader that goes away is not a crash.
    @Test func closedPipeIsNotACrash() throws {
        let binary = CLI.root + "/.build/debug/leadbridge"
        try #require(FileManager.default.isExecutableFile(atPath: binary), "the binary is built with the tests (swift build --build-tests)")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = ["docs"]
        p.environment = ["LEADBRIDGE_HOME": CLI.root]
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        // No reader from the start: the first write fails with EPIPE (without SIG_IGN the
        // process would die of SIGPIPE), whatever the timing.
        try pipe.fileHandleForReading.close()
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationReason == .exit, "killed by signal \(p.terminationStatus)")
        #expect(p.terminationStatus == 0)
    }
}

extension ProcessTests {
    /// Every connection takes a descriptor: `serve` raises its soft descriptor limit to the hard
    /// one at start, whatever the shell gave it (256 here).
    @Test(.timeLimit(.minutes(2))) func serveRaisesItsSoftFileLimitToTheHardOne() throws {
        let binary = CLI.root + "/.build/debug/leadbridge"
        try #require(FileManager.default.isExecutableFile(atPath: binary), "the binary is built with the tests (swift build --build-tests)")
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        try #require(limit.rlim_max > 256, "the hard descriptor limit (\(limit.rlim_max)) leaves nothing to raise")
        let dir = CLI.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        CLI.write(#"{"store": "ledger.sqlite", "accounts": {}, "receiver": {"listen": "127.0.0.1:0", "token": "FILE-LIMIT-TOKEN-1"}}"#,
                  to: dir + "/leadbridge.json")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = ["-c", #"ulimit -Sn 256 && exec "$0" serve --listen 127.0.0.1:0 >"$1/serve.out" 2>&1"#, binary, dir]
        p.environment = ["LEADBRIDGE_HOME": CLI.root, "LEADBRIDGE_CONFIG": dir + "/leadbridge.json", "LEADBRIDGE_LANG": "en"]
        try p.run()
        defer {
            p.terminate()
            p.waitUntilExit()
        }
        // Listening means the limit was raised (it is done first); poll, a loaded machine starts slowly.
        var listening = false
        for _ in 0..<1200 where p.isRunning {
            if let out = try? String(contentsOfFile: dir + "/serve.out", encoding: .utf8), out.contains("listening on http://") {
                listening = true
                break
            }
            usleep(50_000)
        }
        let out = (try? String(contentsOfFile: dir + "/serve.out", encoding: .utf8)) ?? ""
        try #require(listening, "serve did not start: \(out)")
        let limits = try String(contentsOfFile: "/proc/\(p.processIdentifier)/limits", encoding: .utf8)
        let line = try #require(limits.split(separator: "\n").first { $0.hasPrefix("Max open files") })
        // The soft limit, then the hard one ("unlimited" is no number); serve caps it at 2^20.
        let soft = line.split(separator: " ").compactMap { UInt64($0) }.first
        #expect(soft == min(UInt64(limit.rlim_max), 1 << 20), "\(line)")
    }
}

@Suite struct IntakeDocumentTests {
    @Test func intakeDocumentForATrafficSource() async {
        let dir = CLI.tempDir()
        CLI.write(#"""
            {"accounts": {"k": {"network": "kma", "credentials": {"token": "T-123456"}, "params": {"kma": "c1"}}},
             "receiver": {"token": "RECV-TOKEN-777", "base_url": "https://t.example.com"},
             "intake": {"tokens": {"leadcraft": "INTAKE-SECRET-999"}, "required": ["name", "country"], "countries": ["RU", "KZ"], "regions": ["Москва"],
                        "routes": [{"when": {"params.offer": "credit"}, "account": "k"}, {"account": "k"}]}}
            """#, to: dir + "/leadbridge.json")
        let ru = await CLI.run(["docs", "intake", "--lang", "ru"], env: ["LEADBRIDGE_CONFIG": dir + "/leadbridge.json"])
        #expect(ru.code == 0, "\(ru.err)")
        for part in ["POST https://t.example.com/leads", "Authorization: Bearer <token>", "phone (обязательное)", "name (обязательное)",
                     "country (обязательное)", "RU, KZ, Москва", "params.offer", "curl -X POST", "\"status\":\"accepted\"", "\"status\":\"rejected\""] {
            #expect(ru.out.contains(part), "missing \(part)")
        }
        #expect(!ru.out.contains("INTAKE-SECRET-999") && !ru.out.contains("RECV-TOKEN-777"))
        let en = await CLI.run(["docs", "intake", "--lang", "en"], env: ["LEADBRIDGE_CONFIG": dir + "/leadbridge.json"])
        #expect(en.out.hasPrefix("Integration: sending leads"))
    }
}

@Suite struct BufferedLinesTests {
    /// Many lines leave in a few large writes, in order, with the bytes of line-by-line output.
    @Test func chunksKeepTheBytesAndTheOrder() {
        let writes = Mutex<[String]>([])
        let lines = BufferedLines { s in writes.withLock { $0.append(s) } }
        let expected = (0..<20_000).map { #"{"lead":"L-\#($0)","to":"approved"}"# }
        for l in expected { lines.add(l) }
        lines.flush()
        lines.flush()  // nothing left: no empty write
        let got = writes.withLock { $0 }
        #expect(got.count > 1 && got.count < 30)
        #expect(got.map { $0 + "\n" }.joined() == expected.map { $0 + "\n" }.joined())
    }
}
