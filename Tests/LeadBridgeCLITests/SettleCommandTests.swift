import Foundation
import Testing
import LeadBridgeCore
import LeadBridgeEngine
import LeadBridgeStore
import LeadBridgeTestSupport

/// `leadbridge settle LEAD --network N --as accepted|not-sent`: an `uncertain` lead (its
/// request may have reached the network) is settled by the operator; `leads --state` and `lead`
/// show uncertain leads and what settles them; a lead that is not uncertain is refused, the
/// refusal kept in its history, and nothing changes.
@Suite struct SettleCommandTests {
    /// apileads (neither postbacks nor a status poll: only the operator or a resend settle its
    /// leads): U-1 and U-2 timed out after their request was written, U-3 was accepted.
    static func setUp() throws -> (dir: String, env: [String: String], store: SQLiteLeadStore) {
        let dir = CLI.tempDir()
        CLI.write(#"{"store": "ledger.sqlite", "accounts": {"apl": {"network": "apileads", "credentials": {"user": "u", "token": "t"}}}}"#,
                  to: dir + "/leadbridge.json")
        let store = try SQLiteLeadStore(path: dir + "/ledger.sqlite")
        let ledger = Ledger(store: store, library: PackageFixtures.library(checks: .fast), config: nil, clock: { CLI.fixedTime })
        for (id, outcome) in [("U-1", SendOutcome(kind: .failed, message: "timeout after the request was written", receipt: .maybeReceived)),
                              ("U-2", SendOutcome(kind: .failed, message: "connection reset", receipt: .maybeReceived)),
                              ("U-3", SendOutcome(kind: .accepted, externalId: "77"))] {
            guard case .queued(let q) = try ledger.enqueue(Lead(id: id, phone: "+79005550001"), network: "apileads", account: "apl") else {
                Issue.record("\(id) not queued"); continue
            }
            _ = try ledger.claim(rowId: q.rowId, owner: "t/1/1", lease: 60)
            #expect(try ledger.requestWritten(rowId: q.rowId, owner: "t/1/1"))
            _ = try ledger.answered(rowId: q.rowId, outcome: outcome)
        }
        return (dir, ["LEADBRIDGE_CONFIG": dir + "/leadbridge.json"], store)
    }

    @Test func uncertainLeadsAreShownWithWhatSettlesThem() async throws {
        let (dir, env, store) = try Self.setUp()
        #expect(try store.lead(network: "apileads", orderId: "U-1")?.sendState == .uncertain)
        let list = await CLI.run(["leads", "--state", "uncertain", "--lang", "en"], env: env, cwd: dir)
        #expect(list.code == 0, "\(list.err)")
        #expect(list.out.contains("U-1") && list.out.contains("U-2") && !list.out.contains("U-3"), "\(list.out)")
        #expect(list.out.contains("2 uncertain") && list.out.contains("leadbridge lead ID"), "\(list.out)")
        let wrong = await CLI.run(["leads", "--state", "uncertian", "--lang", "en"], env: env, cwd: dir)
        #expect(wrong.code == 1 && wrong.err.contains("uncertain"), "a misspelt state suggests the word: \(wrong.err)")

        let one = await CLI.run(["lead", "U-1", "--lang", "en"], env: env, cwd: dir)
        #expect(one.out.contains("leadbridge settle U-1 --network apileads --as accepted|not-sent") && one.out.contains("--resend"), "\(one.out)")
        let json = try JSONParser.parse((await CLI.run(["lead", "U-1", "--json"], env: env, cwd: dir)).out)
        #expect(json.arrayValue?.first?["settled_by"] == .array([.string("settle"), .string("resend")]), "apileads has no postback or poll that finds the lead")
        let accepted = try JSONParser.parse((await CLI.run(["lead", "U-3", "--json"], env: env, cwd: dir)).out)
        #expect(accepted.arrayValue?.first?["settled_by"] == .null)

        // sync sends neither again and says they wait to be settled.
        let sync = await CLI.run(["sync", "--lang", "en"], env: env, cwd: dir)
        #expect(sync.code == 0, "\(sync.err)")
        #expect(sync.out.contains("2 leads uncertain, waiting to be settled: leadbridge leads --state uncertain"), "\(sync.out)")
        let summary = try JSONParser.parse((await CLI.run(["sync", "--json"], env: env, cwd: dir)).out.split(separator: "\n").last.map(String.init) ?? "")
        #expect(summary["uncertain_open"]?.intValue == 2, "\(summary)")
        #expect(try store.lead(network: "apileads", orderId: "U-1")?.sendState == .uncertain)
    }

    @Test func settleAcceptedOrNotSentAndRefuseAnyOtherState() async throws {
        let (dir, env, store) = try Self.setUp()
        let yes = await CLI.run(["settle", "U-1", "--network", "apileads", "--as", "accepted", "--json"], env: env, cwd: dir)
        #expect(yes.code == 0, "\(yes.err)")
        let result = try JSONParser.parse(yes.out)
        #expect(result["from"] == .string("uncertain") && result["to"] == .string("accepted"), "\(yes.out)")
        let u1 = try #require(try store.lead(network: "apileads", orderId: "U-1"))
        #expect(u1.sendState == .accepted)
        #expect(try store.journal(rowId: u1.rowId).contains { $0.fromState == .uncertain && $0.toState == .accepted && $0.source == .operator })
        #expect(try store.leads(LeadQuery(dueBy: Int64.max)).isEmpty, "an accepted lead is never queued")

        let no = await CLI.run(["settle", "U-2", "--network", "apileads", "--as", "not-sent", "--lang", "en"], env: env, cwd: dir)
        #expect(no.code == 0, "\(no.err)")
        #expect(no.out.contains("uncertain → queued") && no.out.contains("leadbridge sync"), "\(no.out)")
        #expect(try store.leads(LeadQuery(dueBy: Int64.max)).map(\.orderId) == ["U-2"], "the operator says it never arrived: sent again")

        // U-3 was accepted: the network holds it, and no word of the operator queues it again.
        let refused = await CLI.run(["settle", "U-3", "--network", "apileads", "--as", "not-sent", "--lang", "en"], env: env, cwd: dir)
        #expect(refused.code == 1 && refused.err.contains("is accepted, not uncertain") && refused.err.contains("nothing changed"), "\(refused.err)")
        let u3 = try #require(try store.lead(network: "apileads", orderId: "U-3"))
        #expect(u3.sendState == .accepted)
        #expect(try store.journal(rowId: u3.rowId).contains { $0.kind == .refused && $0.source == .operator }, "the refusal is in the lead's history")
        let history = await CLI.run(["lead", "U-3", "--lang", "en"], env: env, cwd: dir)
        #expect(history.out.contains("refused"), "\(history.out)")

        let twice = await CLI.run(["settle", "U-1", "--network", "apileads", "--as", "accepted", "--lang", "en"], env: env, cwd: dir)
        #expect(twice.code == 1 && twice.err.contains("is accepted, not uncertain"), "\(twice.err)")
    }

    @Test(arguments: [
        (["settle", "U-1", "--network", "apileads"], 1, "--as accepted|not-sent"),
        (["settle", "U-1", "--network", "apileads", "--as", "acepted"], 1, "did you mean"),
        (["settle", "U-1", "--as", "accepted"], 1, "missing --network"),
        (["settle", "NOPE", "--network", "apileads", "--as", "accepted"], 1, "no lead \"NOPE\" at apileads"),
        (["settle", "U-1", "--network", "kma", "--as", "accepted"], 1, "it was sent to apileads"),
    ] as [([String], Int32, String)])
    func clearErrors(args: [String], code: Int32, fragment: String) async throws {
        let (dir, env, store) = try Self.setUp()
        let run = await CLI.run(args + ["--lang", "en"], env: env, cwd: dir)
        #expect(run.code == code && run.err.contains(fragment), "\(args): \(run.code) \(run.err)")
        #expect(try store.lead(network: "apileads", orderId: "U-1")?.sendState == .uncertain, "an error changes nothing")
    }
}
