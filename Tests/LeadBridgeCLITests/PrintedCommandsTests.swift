import Foundation
import Testing
import LeadBridgeTestSupport

/// Every command line the demo prints and every local `leadbridge …` line of the README's shell
/// blocks runs as printed: through /bin/sh, with the built binary on PATH as `leadbridge`, from
/// the folder the text implies, and exits 0. Lines that need a real network account, a file
/// of the user's or a placeholder of theirs are listed in `readmeSkips` with the reason; a skip
/// that no longer matches a README line fails the test, so the list cannot rot.
@Suite struct PrintedCommandsTests {
    /// README lines that are not run here, each with why (they are examples for the user's own
    /// configuration, or need what a test must not reach).
    static let readmeSkips: [String: String] = [
        "leadbridge send kma --lead lead.json --account kma-main": "sends to api.kma.biz with the user's KMA account (real network)",
        "leadbridge send kma --lead lead.json --account kma-main --json": "sends to api.kma.biz with the user's KMA account (real network)",
        "LEADBRIDGE_CONNECT_TO=\"api.kma.biz=127.0.0.1:9100\" leadbridge send kma …": "elided arguments; needs the user's test server on port 9100",
        "leadbridge send kma --lead export.ndjson --account kma-main --queue": "the user's shop export and KMA account (BulkSendTests queue batches)",
        "shop-export | leadbridge send kma --lead - --account kma-main": "the user's shop export, sent to api.kma.biz (real network)",
        "leadbridge lead ORDER-17": "ORDER-17 stands for one of the user's uncertain leads (SettleCommandTests)",
        "leadbridge settle ORDER-17 --network kma --as accepted": "ORDER-17 stands for one of the user's uncertain leads (SettleCommandTests)",
        "leadbridge settle ORDER-17 --network kma --as not-sent": "ORDER-17 stands for one of the user's uncertain leads (SettleCommandTests)",
        "leadbridge send kma --lead lead.json --account kma-main --resend": "resends to api.kma.biz with the user's KMA account (real network)",
        "leadbridge sync": "a cron pass polls the networks of the configuration (real networks; sync is tested against the emulator)",
        "leadbridge sync --network kma --json": "polls api.kma.biz with the user's account (real network)",
        "leadbridge sync --network kma": "polls api.kma.biz with the user's account (real network)",
        "leadbridge sync --network kma --join": "polls api.kma.biz with the user's account (real network)",
        "leadbridge sync --network drcash": "polls DrCash with the user's account (real network)",
        "leadbridge sync --network leadrock": "polls LeadRock with the user's account (real network)",
        "leadbridge serve": "runs until stopped (the receiver tests start serve on a free loopback port)",
        "leadbridge lead A-1001": "A-1001 stands for one of the user's leads (the demo's own `lead` line is run)",
        "leadbridge import apileads report.csv --dry-run": "a report file downloaded from the network (ImportCommandTests use fixtures)",
        "leadbridge import apileads report.csv": "a report file downloaded from the network (ImportCommandTests use fixtures)",
        "leadbridge import kma report.csv --map status=Итог,order=SubID": "a report file downloaded from the network (ImportCommandTests use fixtures)",
    ]

    @Test(.timeLimit(.minutes(5))) func everyCommandTheDemoAndTheReadmePrintRunsAsPrinted() throws {
        let bin = CLI.root + "/.build/debug"
        try #require(FileManager.default.isExecutableFile(atPath: bin + "/leadbridge"), "the binary is built with the tests (swift build --build-tests)")
        let work = CLI.tempDir()
        defer { try? FileManager.default.removeItem(atPath: work) }
        let shell = Shell(path: bin)

        // The demo, not kept: its "Try next" lines, run from the same folder (the first one
        // runs the demo again, kept in ./demo).
        let demo = shell.run("leadbridge demo --leads 1", in: work)
        try #require(demo.status == 0, "leadbridge demo --leads 1: exit \(demo.status)\n\(demo.err)")
        let tryNext = Self.printedCommands(demo.out)
        #expect(tryNext.first == "leadbridge demo --leads 1 --keep ./demo", "\(tryNext)")
        #expect(tryNext.count >= 5, "\(demo.out)")
        var kept: [String] = []
        for command in tryNext {
            let r = shell.run(command, in: work)
            #expect(r.status == 0, "\(command): exit \(r.status)\n\(r.err.suffix(2000))")
            if command.hasPrefix("leadbridge demo") { kept = Self.printedCommands(r.out) }
        }
        // The kept demo names its folder absolute and normalized, and its lines work from anywhere.
        let folder = URL(fileURLWithPath: work + "/demo").standardizedFileURL.path
        #expect(kept.contains("leadbridge --config \(folder)/leadbridge.json leads --status approved"), "\(kept)")
        #expect(kept.allSatisfy { !$0.contains("/./") && !$0.contains("//leadbridge.json") }, "\(kept)")
        #expect(kept.count >= 5, "\(kept)")
        for command in kept {
            let r = shell.run(command, in: "/")
            #expect(r.status == 0, "\(command): exit \(r.status)\n\(r.err.suffix(2000))")
        }
        #expect(shell.run("leadbridge --config \(folder)/leadbridge.json lead D-LEAD-1000", in: "/").out.contains("D-LEAD-1000"))

        // The README's shell and cron blocks, run in the kept demo's folder (its leadbridge.json
        // is the configuration they find); /tmp/specs becomes a folder of this test.
        let readme = try String(contentsOfFile: CLI.root + "/README.md", encoding: .utf8)
        let lines = Self.readmeCommands(readme)
        #expect(lines.count >= 30, "\(lines)")
        for stale in Self.readmeSkips.keys where !lines.contains(stale) {
            Issue.record("a skipped README command is no longer in the README: \(stale)")
        }
        var ran = 0
        for line in lines where Self.readmeSkips[line] == nil {
            let command = line.replacingOccurrences(of: "/tmp/specs", with: work + "/specs")
            let r = shell.run(command, in: folder)
            #expect(r.status == 0, "README: \(line): exit \(r.status)\n\(r.err.suffix(2000))")
            ran += 1
        }
        #expect(ran >= 15)
    }

    @Test func aCommandLineIsFoundInEveryFormTheReadmeWritesOne() {
        let text = """
            ```sh
            leadbridge networks                       # all networks
            * * * * *  leadbridge sync            # cron
            shop-export | leadbridge send kma --lead - --account kma-main   # stdin
            $EDITOR /tmp/specs/acme.json
            sudo make install                   # /usr/local/bin/leadbridge, specs
            ```
            ```json
            { "x": "leadbridge y" }
            ```
               ```cron
               # host A
               * * * * *  leadbridge sync --network kma
               ```
            """
        #expect(Self.readmeCommands(text) == ["leadbridge networks", "leadbridge sync", "shop-export | leadbridge send kma --lead - --account kma-main",
                                              "leadbridge sync --network kma"])
        #expect(Self.printedCommands("Попробуйте:\n  leadbridge show leadrock\n  • kma: JSON\n  leadbridge docs --lang en") == ["leadbridge show leadrock", "leadbridge docs --lang en"])
    }

    /// The command lines of a demo's output: indented lines that start with the binary's name.
    static func printedCommands(_ output: String) -> [String] {
        output.split(separator: "\n").map(String.init).filter { $0.hasPrefix("  leadbridge ") }.map { $0.trimmingCharacters(in: .whitespaces) }
    }

    /// The lines of the README's `sh` and `cron` blocks that run `leadbridge`, without their
    /// comments and the cron schedule.
    static func readmeCommands(_ text: String) -> [String] {
        var out: [String] = []
        var inBlock = false, fenced = false
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("```") {
                if fenced { fenced = false; inBlock = false } else { fenced = true; inBlock = line == "```sh" || line == "```cron" }
                continue
            }
            guard inBlock, !line.hasPrefix("#") else { continue }
            var command = line
            if let comment = command.range(of: #"\s+#\s.*$"#, options: .regularExpression) { command.removeSubrange(comment) }
            if let schedule = command.range(of: #"^(\S+\s+){5}(?=leadbridge )"#, options: .regularExpression) { command.removeSubrange(schedule) }
            if command.range(of: #"(^|[|\s])leadbridge\s"#, options: .regularExpression) != nil { out.append(command) }
        }
        return out
    }
}

/// Runs a command line through /bin/sh with a folder of binaries first on PATH, from a given
/// folder, with nothing of the test's configuration in its environment.
struct Shell {
    var path: String

    func run(_ command: String, in folder: String) -> SpawnResult {
        let home = ProcessInfo.processInfo.environment["HOME"] ?? "/tmp"
        return SpawnActions.run(["/bin/sh", "-c", #"cd "$1" && eval "$2""#, "sh", folder, command],
                                environment: ["PATH=\(path):/usr/bin:/bin", "HOME=\(home)", "TMPDIR=\(NSTemporaryDirectory())"])
    }
}
