import Foundation
import Testing
@testable import LeadBridgeCLI
import LeadBridgeCore
import LeadBridgeEngine
import LeadBridgeStore
import LeadBridgeTestSupport

/// The lifecycle's reasons (refusals and the notes of unusual moves) are typed in Core and
/// worded here in the user's language; `--json` keeps the English sentence as `note` and the
/// stable code as `reason`; a note of an older ledger (English text) is shown as it was written.
@Suite struct LifecycleReasonTests {
    /// Every reason in both languages, one example of each (the golden files are the catalog's
    /// printed form; docs/lifecycle.md's table of reasons is made from the same examples).
    @Test func everyReasonIsWordedInBothLanguages() throws {
        let examples = LifecycleReasonsDocument.examples
        // Every code is among the examples (a new reason cannot go unworded or untested).
        let codes = Set(examples.map(\.code))
        for n in LifecycleNote.allCases { #expect(codes.contains(n.rawValue), "no example of \(n.rawValue)") }
        for n in LifecycleStateNote.allCases { #expect(codes.contains(n.rawValue), "no example of \(n.rawValue)") }
        for l in Language.allCases {
            let lines = examples.map { r in "\(([r.code] + r.arguments).joined(separator: " ")): \(Say.lifecycleReason(r).text(l))" }
            if let diff = GoldenFiles.difference(lines.joined(separator: "\n") + "\n", "lifecycle/reasons.\(l.rawValue).txt") { Issue.record("\(diff)") }
            #expect(Set(examples.map { Say.lifecycleReason($0).text(l) }).count == examples.count, "two reasons read the same in \(l.rawValue)")
        }
        for r in examples {
            let ru = Say.lifecycleReason(r).text(.ru)
            #expect(ru.unicodeScalars.contains { (0x0410...0x044F).contains($0.value) }, "not Russian: \(ru)")
        }
    }

    /// The stored form round-trips every example, through the store too.
    @Test func reasonsSurviveTheLedger() throws {
        for r in LifecycleReasonsDocument.examples + [.otherNetwork(reporter: "a b/c%d", network: "kma"), .externalIdTaken(externalId: "id with spaces/%", order: "A 1")] {
            let stored = StoredNote.encode(reason: r, text: nil)
            #expect(StoredNote.decode(stored).reason == r, "\(stored ?? "nil")")
        }
    }

    /// U-3 (accepted) cannot be settled: the refusal is printed, and kept in its history, in
    /// the chosen language; `lead --json` keeps English and the code.
    @Test func aRefusalIsPrintedInTheChosenLanguage() async throws {
        let (dir, env, store) = try SettleCommandTests.setUp()
        var ru = env
        ru["LEADBRIDGE_LANG"] = ""
        let refusedRU = await CLI.run(["settle", "U-3", "--network", "apileads", "--as", "accepted"], env: ru, cwd: dir, now: CLI.fixedTime)
        #expect(refusedRU.code == 1)
        #expect(refusedRU.err.contains("settle применяется только к лиду в состоянии uncertain (принят)"), "\(refusedRU.err)")
        let refusedEN = await CLI.run(["settle", "U-3", "--network", "apileads", "--as", "accepted", "--lang", "en"], env: env, cwd: dir, now: CLI.fixedTime)
        #expect(refusedEN.err.contains("only an uncertain lead is settled (accepted)"), "\(refusedEN.err)")
        for l in Language.allCases {
            let shown = await CLI.run(["lead", "U-3", "--lang", l.rawValue], env: env, cwd: dir, now: CLI.fixedTime)
            #expect(shown.code == 0, "\(shown.err)")
            if let diff = GoldenFiles.difference(shown.out + "\n", "lifecycle/lead-refused.\(l.rawValue).txt") { Issue.record("\(diff)") }
        }
        let json = try JSONParser.parse((await CLI.run(["lead", "U-3", "--json"], env: env, cwd: dir)).out)
        let history = try #require(json.arrayValue?.first?["events"]?.arrayValue)
        let refusal = try #require(history.last { $0["kind"] == .string("refused") })
        #expect(refusal["note"] == .string("only an uncertain lead is settled (accepted)"))
        #expect(refusal["reason"] == .string("only-uncertain-settled"))
        #expect(try store.journal(rowId: try #require(try store.lead(network: "apileads", orderId: "U-3")).rowId).last?.reason == .inState(.onlyUncertainSettled, .accepted))
    }

    /// A ledger written before reasons were typed holds English sentences: they are shown as
    /// they are, in either language; a network's message that looks like a stored reason stays
    /// the network's text.
    @Test func notesOfAnOlderLedgerAreShownAsWritten() async throws {
        let (dir, env, store) = try SettleCommandTests.setUp()
        let row = try #require(try store.lead(network: "apileads", orderId: "U-3")).rowId
        let legacy = "approved → cancelled needs a network that does chargebacks"
        _ = try store.database.write { (tx: borrowing SQLiteTransaction) throws(StoreError) in
            try tx.run("UPDATE journal SET note = ? WHERE id = (SELECT max(id) FROM journal WHERE lead_id = ?)", [.text(legacy), .int(row)])
        }
        #expect(try store.journal(rowId: row).last?.note == legacy)
        #expect(try store.journal(rowId: row).last?.reason == nil)
        let shown = await CLI.run(["lead", "U-3"], env: env.merging(["LEADBRIDGE_LANG": ""]) { $1 }, cwd: dir)
        #expect(shown.out.contains(legacy), "\(shown.out)")
        let json = try JSONParser.parse((await CLI.run(["lead", "U-3", "--json"], env: env, cwd: dir)).out)
        let last = try #require(json.arrayValue?.first?["events"]?.arrayValue?.last)
        #expect(last["note"] == .string(legacy) && last["reason"] == .null)

        #expect(StoredNote.decode(StoredNote.encode(reason: nil, text: "lifecycle:resent-on-purpose")).text == "lifecycle:resent-on-purpose")
        #expect(StoredNote.decode(StoredNote.encode(reason: nil, text: " lifecycle:chargeback")).text == " lifecycle:chargeback")
        #expect(StoredNote.decode("lifecycle:no-such-code x").text == "lifecycle:no-such-code x", "an unknown code is text, shown as it is")
    }
}

extension LifecycleReasonTests {
    /// docs/lifecycle.md's `reasons` section is the catalog's wording of every example.
    @Test func theDocumentListsEveryReason() throws {
        let path = CLI.root + "/docs/lifecycle.md"
        let current = try String(contentsOfFile: path, encoding: .utf8)
        let rendered = try #require(LifecycleDocument.replace([("reasons", LifecycleReasonsDocument.section)], in: current),
                                    "docs/lifecycle.md lacks <!-- BEGIN reasons --> … <!-- END reasons -->")
        if GoldenFiles.recording {
            try rendered.write(toFile: path, atomically: true, encoding: .utf8)
            return
        }
        #expect(current == rendered, "docs/lifecycle.md's reasons section differs from the catalog (re-record with LEADBRIDGE_RECORD=1)")
    }
}

/// Why a network's part of `sync` failed is a value (`SyncProblem`), worded in the chosen
/// language in the pass's table; `sync --json` keeps the stable English `error`.
@Suite struct SyncProblemWordingTests {
    static let examples: [SyncProblem] = [
        .noSendSpec(network: "kma"), .accountNotConfigured(account: "ghost"), .accountUnavailable(account: "terra-main", unset: ["TERRALEADS_KEY"]),
        .accountRefused(account: "kma-main", message: "HTTP 401: invalid token"), .accountRefused(account: "kma-main", message: nil), .everySendFailed,
        .pollRequestUnbuildable("no ids"), .pollFailed("HTTP 502"), .pollAnswer(.httpStatus(502, excerpt: "<html>bad gateway</html>")),
        .pollAnswer(.notJSON(excerpt: "<html>")), .pollAnswer(.noItems(path: "data", excerpt: "{}")), .pollAnswer(.notAList(path: "data", found: "object")),
    ]

    /// The ledger's form round-trips every problem; free text (an older ledger's) is no problem.
    @Test func problemsSurviveTheLedgerColumn() {
        for p in Self.examples + [.pollFailed("a b/c%d sync:x"), .accountUnavailable(account: "a", unset: ["X", "Y"])] {
            #expect(SyncProblem.decode(p.stored()) == p, "\(p.stored())")
        }
        #expect(SyncProblem.decode("poll: HTTP 500") == nil)
        #expect(SyncProblem.decode("sync:no-such-code x") == nil)
    }

    @Test func everyProblemIsWordedInBothLanguages() {
        for l in Language.allCases {
            let lines = Self.examples.map { Say.syncProblem($0).text(l) }
            if let diff = GoldenFiles.difference(lines.joined(separator: "\n") + "\n", "sync/problems.\(l.rawValue).txt") { Issue.record("\(diff)") }
        }
        for p in Self.examples {
            #expect(Say.syncProblem(p).text(.en) == p.english)
            #expect(Say.syncProblem(p).text(.ru).unicodeScalars.contains { (0x0410...0x044F).contains($0.value) }, "not Russian: \(Say.syncProblem(p).text(.ru))")
        }
    }

    /// A queued lead whose account is gone from the configuration: the pass says so in Russian
    /// by default, in English with --lang en and in --json.
    @Test func aPassProblemIsPrintedInTheChosenLanguage() async throws {
        let dir = CLI.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        CLI.write(#"{"store": "ledger.sqlite", "accounts": {}}"#, to: dir + "/leadbridge.json")
        let store = try SQLiteLeadStore(path: dir + "/ledger.sqlite")
        let ledger = Ledger(store: store, library: PackageFixtures.library(checks: .fast), config: nil, clock: { CLI.fixedTime })
        guard case .queued = try ledger.enqueue(Lead(id: "G-1", phone: "+79005550002"), network: "kma", account: "ghost") else {
            Issue.record("G-1 not queued")
            return
        }
        let env = ["LEADBRIDGE_CONFIG": dir + "/leadbridge.json"]
        let ru = await CLI.run(["sync"], env: env.merging(["LEADBRIDGE_LANG": ""]) { $1 }, cwd: dir)
        #expect(ru.out.contains("аккаунта ghost нет в конфигурации"), "\(ru.out)\n\(ru.err)")
        let en = await CLI.run(["sync", "--lang", "en"], env: env, cwd: dir)
        #expect(en.out.contains("account ghost is not in the configuration"), "\(en.out)\n\(en.err)")
        let json = await CLI.run(["sync", "--json"], env: env, cwd: dir)
        let summary = try JSONParser.parse(try #require(json.out.split(separator: "\n").last.map(String.init)))
        #expect(summary["networks"]?["kma"]?["error"] == .string("account ghost is not in the configuration"), "\(json.out)")
    }
}
