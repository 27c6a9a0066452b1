import Foundation
import Synchronization
import Testing
@testable import LeadBridgeCLI
import LeadBridgeCore
import LeadBridgeEmulator
import LeadBridgeEngine
import LeadBridgeStore
import LeadBridgeTestSupport

/// `leadbridge new`: every starter lints clean, passes its own examples and runs the whole
/// loop in the emulator (sent once, its status learned by postback or poll).
@Suite struct NewCommandTests {
    /// `new ID --platform NAME --host HOST`: a few lines on a platform base that lint clean, pass
    /// the base's examples at the given host, and say their platform is still to be confirmed.
    @Test(arguments: ["altercpa", "trafficmanager", "everflow", "hasoffers"])
    func platformSpecLintsAndPassesTheBaseExamples(platform: String) async throws {
        let dir = CLI.tempDir()
        let made = await CLI.run(["new", "acme", "--platform", platform, "--host", "https://API.Acme-Leads.example/", "--lang", "en"], cwd: dir)
        #expect(made.code == 0, "\(made.err)")
        #expect(made.out.hasPrefix("Wrote acme.json: a network on "), "\(made.out)")
        let text = try String(contentsOfFile: dir + "/acme.json", encoding: .utf8)
        #expect(text.contains(#""extends": "\#(platform)""#) && text.contains(#""host": "api.acme-leads.example""#), "\(text)")
        let lint = await CLI.run(["lint", "acme.json", "--strict"], cwd: dir)
        #expect(lint.code == 0 && lint.err.hasSuffix("0 errors, 0 warnings"), "\(lint.err)")
        let test = await CLI.run(["--networks", "acme.json", "test", "acme"], cwd: dir)
        #expect(test.code == 0 && test.out.contains("0 failed"), "\(test.out)")
        let show = await CLI.run(["--networks", "acme.json", "show", "acme", "--lang", "en"], cwd: dir)
        #expect(show.out.contains("Platform: ") && show.out.contains("api.acme-leads.example"), "\(show.out)")
        let networks = await CLI.run(["--networks", "acme.json", "networks", "--json"], cwd: dir)
        let row = try JSONParser.parse(networks.out).arrayValue?.first { $0["id"]?.stringValue == "acme" }
        #expect(row?["evidence"]?.stringValue == "inferred", "the platform is unconfirmed: \(networks.out)")
    }

    @Test(arguments: [
        (["new", "acme", "--platform", "altercpa"], "needs --host"),
        (["new", "acme", "--platform", "alter", "--host", "a.example"], "did you mean \"altercpa\""),
        (["new", "acme", "--platform", "altercpa", "--host", "not a host"], "--host must be a host name"),
        (["new", "acme", "--platform", "altercpa", "--host", "a.example", "--style", "json"], "do not mix"),
        (["new", "acme", "--host", "a.example"], "--host goes with --platform"),
    ])
    func platformUsageErrors(args: [String], fragment: String) async {
        let dir = CLI.tempDir()
        let r = await CLI.run(args, cwd: dir)
        #expect(r.code == 1 && r.err.contains(fragment), "\(r.err)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/acme.json"))
    }

    @Test(arguments: StarterSpec.Style.allCases)
    func starterLintsTestsAndRunsInTheEmulator(style: StarterSpec.Style) async throws {
        let dir = CLI.tempDir()
        let id = "acme-" + style.rawValue
        let made = await CLI.run(["new", id, "--style", style.rawValue, "--name", "Acme \"Leads\"", "--lang", "en"], cwd: dir)
        #expect(made.code == 0, "\(made.err)")
        #expect(made.out.hasPrefix("Wrote \(id).json: "), "\(made.out)")
        #expect(made.out.contains("leadbridge --networks \(id).json test \(id)"))
        let file = dir + "/" + id + ".json"
        let text = try String(contentsOfFile: file, encoding: .utf8)
        #expect(!text.contains("new-network") && text.contains("api.\(id).test"))
        #expect(text.contains(#""name": "Acme \"Leads\"""#))

        let lint = await CLI.run(["lint", id + ".json", "--strict"], cwd: dir)
        #expect(lint.code == 0, "\(lint.err)")
        #expect(lint.err.hasSuffix("0 errors, 0 warnings"), "\(lint.err)")
        let test = await CLI.run(["--networks", id + ".json", "test", id], cwd: dir)
        #expect(test.code == 0, "\(test.out)")
        #expect(test.out.hasSuffix(" passed, 0 failed") && !test.out.contains("FAIL"), "\(test.out)")

        // The emulator, driven by the new spec alone: every lead accepted once, its final
        // status learned by postback or by poll.
        let library = SpecLoader.load(networks: PackageFixtures.sources("Networks") + [SpecSource(path: file, bytes: Array(text.utf8), layer: 1)],
                                      templates: PackageFixtures.sources("Templates"))
        let spec = try #require(library.spec(id))
        #expect(spec.poll != nil || spec.hasPostbacks)
        let clock = Mutex<Double>(1_800_000_000)
        var behaviour = EmulatorBehaviour()
        behaviour.settleAfter = 10
        let world = try EmulatedWorld(library: library, networks: [id], folder: dir, behaviour: behaviour, emulatorClock: { clock.withLock { $0 } })
        defer { world.stop() }
        let ids = (0..<6).map { world.lead(for: id, index: $0) }
        for lead in ids { _ = try world.ledger.enqueue(lead, network: id, account: id) }
        let options = SyncOptions(maxAttempts: 3, retryBaseSeconds: 0, pollIntervalSeconds: 0)
        _ = try await world.step(options: options)
        clock.withLock { $0 += 30 }
        for _ in 0..<2 { _ = try await world.step(options: options) }
        let plans = Dictionary(world.emulator.leads.map { ($0.orderId, $0) }, uniquingKeysWith: { a, _ in a })
        #expect(plans.count == ids.count, "the emulator accepted \(plans.count) of \(ids.count): \(world.emulator.counters)")
        for lead in ids {
            let record = try #require(try world.store.lead(network: id, orderId: lead.id))
            #expect(record.sendState == .accepted, "\(lead.id): \(record.sendState.rawValue) \(record.lastError ?? "")")
            let planned = try #require(plans[lead.id])
            #expect(planned.repeatSends == 0)
            #expect(record.status?.bucket == planned.plan, "\(lead.id): ledger \(record.status?.bucket.rawValue ?? "none"), emulator \(planned.plan.rawValue)")
        }
    }

    @Test func refusesWhatWouldLoseOrShadowSomething() async {
        let dir = CLI.tempDir()
        let first = await CLI.run(["new", "acme", "--lang", "ru"], cwd: dir)
        #expect(first.code == 0)
        #expect(first.out.hasPrefix("Записан acme.json: "), "\(first.out)")
        let again = await CLI.run(["new", "acme"], cwd: dir)
        #expect(again.code == 1)
        #expect(again.err.contains("acme.json already exists"), "\(again.err)")
        let shipped = await CLI.run(["new", "acme2", "--out", CLI.root + "/Networks"], cwd: dir)
        #expect(shipped.code == 1)
        #expect(shipped.err.contains("is the shipped catalog"), "\(shipped.err)")
        #expect(!FileManager.default.fileExists(atPath: CLI.root + "/Networks/acme2.json"))
        let taken = await CLI.run(["new", "cpa.tl"], cwd: dir)
        #expect(taken.code == 1)
        let alias = await CLI.run(["new", "ad1"], cwd: dir)
        #expect(alias.code == 1)
        #expect(alias.err.contains("alias of offerrum"), "\(alias.err)")
        let badId = await CLI.run(["new", "Acme_Leads"], cwd: dir)
        #expect(badId.code == 1)
        #expect(badId.err.contains("lowercase letters, digits and '-'"))
        let badStyle = await CLI.run(["new", "acme3", "--style", "lsit-poll"], cwd: dir)
        #expect(badStyle.code == 1)
        #expect(badStyle.err.contains("did you mean \"list-poll\""))
        let into = await CLI.run(["new", "acme4", "--out", "specs/acme"], cwd: dir)
        #expect(into.code == 0)
        #expect(FileManager.default.fileExists(atPath: dir + "/specs/acme/acme4.json"))
        #expect(into.out.contains("leadbridge lint specs/acme/acme4.json"))
    }
}

/// The demo describes its networks with each spec's own `summary` (no description lives in
/// Swift to drift from the specs): every demo network has one in both languages, and none is
/// copied into the demo's source (the demo prints `spec.summary`).
@Suite struct DemoSummaryTests {
    @Test func everyDemoNetworkHasASummaryInBothLanguages() throws {
        let library = PackageFixtures.library(checks: .fast)
        #expect(DemoCommands.demoNetworks.count == 8)
        for id in DemoCommands.demoNetworks {
            let spec = try #require(library.spec(id), "the demo's \(id) is not a shipped spec")
            let summary = try #require(spec.summary, "\(id) has no \"summary\": the demo would print only its name")
            #expect(!summary.text(.ru).isEmpty && !summary.text(.en).isEmpty && summary.text(.ru) != summary.text(.en), "\(id): \(summary)")
            let swift = try String(contentsOfFile: CLI.root + "/Sources/LeadBridgeCLI/DemoCommands.swift", encoding: .utf8)
            #expect(!swift.contains(summary.text(.en)), "\(id)'s description is written in DemoCommands.swift as well")
        }
    }
}
