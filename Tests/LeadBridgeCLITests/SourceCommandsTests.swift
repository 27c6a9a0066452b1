import Foundation
import Synchronization
import Testing
import LeadBridgeCLI
import LeadBridgeCore
import LeadBridgeNet

/// LeadCraft's referral orders through `send --source --click-id`, its postbacks through
/// `sync` (with the configured delays), visible in `lead ID` and `outgoing`, and replayed;
/// SalesMan's account errors through `sync`; the intake document's rules. Real loopback
/// servers stand in for api.kma.biz, api.leadcraft.ru and a SalesMan CRM.
@Suite struct SourceCommandsTests {
    static let uuid = "f092d155-e7f3-4f78-bcc1-196e775e1dcb"
    static let leadcraftToken = "LC-SECRET-5510ab"
    static let t0: Int64 = 1_767_225_600

    /// Whether the stand-in for api.leadcraft.ru answers 200 (else 503).
    final class Switch: Sendable {
        let on = Mutex(false)
        func withLock<T>(_ body: (inout Bool) -> T) -> T { on.withLock { body(&$0) } }
    }

    static func setup(sources: String, sync: String = "") -> (dir: String, lead: String, env: [String: String], server: RecordingServer, leadcraftUp: Switch)? {
        let up = Switch()
        let leadcraftUp = up
        guard let server = try? RecordingServer({ r, _ in
            if r.header("Host") == "api.kma.biz" { return .json(#"{"code":0,"message":"OK","status":"ok","order":77001,"country":"RU"}"#) }
            return leadcraftUp.withLock { $0 } ? .json(#"{"status":"ok"}"#) : .text("busy", status: 503)
        }) else { return nil }
        let dir = CLI.tempDir()
        CLI.write(#"""
            {"store": "ledger.sqlite",
             "accounts": {"k": {"network": "kma", "credentials": {"token": "KMA-T-1"}, "params": {"kma": "c1"}}},
             "sources": {\#(sources)}\#(sync)}
            """#, to: dir + "/leadbridge.json")
        let lead = dir + "/lead.json"
        CLI.write(#"{"id": "R-1", "phone": "+79001234567", "name": "Иван Петров", "country": "RU", "webmaster_id": "4412"}"#, to: lead)
        let env = ["LEADBRIDGE_CONFIG": dir + "/leadbridge.json",
                   "LEADBRIDGE_CONNECT_TO": "api.kma.biz=127.0.0.1:\(server.port),api.leadcraft.ru=127.0.0.1:\(server.port)"]
        return (dir, lead, env, server, up)
    }

    static func outgoing(_ env: [String: String], now: Int64) async throws -> [JSONValue] {
        let r = await CLI.run(["outgoing", "--json"], env: env, now: now)
        #expect(r.code == 0, "\(r.err)")
        return try #require(try JSONParser.parse(r.out).arrayValue)
    }

    @Test func aReferralOrderItsPostbacksTheirDelaysAnswersAndReplay() async throws {
        let source = #""leadcraft": {"network": "leadcraft", "credentials": {"token": "\#(Self.leadcraftToken)", "action": "606"}, "price": {"fixed": "1500"}}"#
        let s = try #require(Self.setup(sources: source, sync: #", "sync": {"outgoing_delays": [7]}"#))
        let send = ["send", "kma", "--lead", s.lead, "--account", "k", "--source", "leadcraft"]
        // The click id LeadCraft passes is a UUID: anything else is refused before sending.
        let bad = await CLI.run(send + ["--click-id", "CLK-9"], env: s.env, now: Self.t0)
        #expect(bad.code == 1 && bad.err.contains("click_id") && bad.err.contains("UUID"), "\(bad.err)")
        let badRU = await CLI.run(send + ["--click-id", "CLK-9", "--lang", "ru"], env: s.env, now: Self.t0)
        #expect(badRU.code == 1 && badRU.err.contains(": лид ") && badRU.err.contains("click_id") && !badRU.err.contains("lead "), "\(badRU.err)")
        let sent = await CLI.run(send + ["--click-id", Self.uuid], env: s.env, now: Self.t0)
        #expect(sent.code == 0, "\(sent.err)")
        // LeadCraft is told the order exists (referral pending, price 0), once.
        var items = try await Self.outgoing(s.env, now: Self.t0)
        #expect(items.count == 1)
        #expect(items.first?["kind"] == .string("referral") && items.first?["status"] == .string("pending") && items.first?["state"] == .string("due"))
        // sync honours sync.outgoing_delays: 7 s, not the default minute.
        let first = await CLI.run(["sync", "--network", "leadcraft"], env: s.env, now: Self.t0)
        #expect(first.code == 0, "\(first.err)")
        items = try await Self.outgoing(s.env, now: Self.t0)
        #expect(items.first?["attempts"] == .int(1))
        #expect(items.first?["next_attempt_at"] == .string(ISODate.format(Self.t0 + 7)))
        #expect(items.first?["answers"]?.stringValue?.contains("HTTP 503: busy") == true)
        // The last delay spent: failed for good, with every answer kept.
        _ = await CLI.run(["sync", "--network", "leadcraft"], env: s.env, now: Self.t0 + 7)
        let failed = await CLI.run(["outgoing", "--failed"], env: s.env, now: Self.t0 + 7)
        #expect(failed.out.contains("R-1") && failed.out.contains("leadcraft referral pending  failed  2 attempts"), "\(failed.out)")
        #expect(failed.out.contains("answers: #1 2026-01-01T00:00:00Z HTTP 503: busy | #2 2026-01-01T00:00:07Z HTTP 503: busy"), "\(failed.out)")
        #expect(failed.out.contains("--replay"))
        let failedRU = await CLI.run(["outgoing", "--failed", "--lang", "ru"], env: s.env, now: Self.t0 + 7)
        #expect(failedRU.out.contains("leadcraft referral pending  не доставлен  попыток: 2") && failedRU.out.contains("ответы: #1"), "\(failedRU.out)")
        let lead = await CLI.run(["lead", "R-1"], env: s.env, now: Self.t0 + 7)
        #expect(lead.out.contains("from leadcraft") && lead.out.contains("postbacks to leadcraft:") && lead.out.contains("2 attempts")
                && lead.out.contains("answers: #1"), "\(lead.out)")
        let leadJSON = try #require(try JSONParser.parse(await CLI.run(["lead", "R-1", "--json"], env: s.env).out).arrayValue?.first)
        #expect(leadJSON["outgoing"]?.arrayValue?.first?["state"] == .string("failed"))
        #expect(leadJSON["outgoing"]?.arrayValue?.first?["attempts"] == .int(2))
        // Replayed once LeadCraft is back: a new round, delivered.
        let id = try #require(items.first?["id"]?.intValue)
        let wrong = await CLI.run(["outgoing", "--replay", "\(id + 100)"], env: s.env, now: Self.t0 + 8)
        #expect(wrong.code == 1 && wrong.err.contains("no failed outgoing postback"))
        let replay = await CLI.run(["outgoing", "--replay", "\(id)"], env: s.env, now: Self.t0 + 8)
        #expect(replay.code == 0 && replay.out.contains("1 postback queued again"), "\(replay.err)")
        items = try await Self.outgoing(s.env, now: Self.t0 + 8)
        #expect(items.first?["state"] == .string("due") && items.first?["attempts"] == .int(0))
        s.leadcraftUp.withLock { $0 = true }
        _ = await CLI.run(["sync", "--network", "leadcraft"], env: s.env, now: Self.t0 + 8)
        items = try await Self.outgoing(s.env, now: Self.t0 + 8)
        #expect(items.first?["state"] == .string("delivered"))
        let wire = s.server.received.withLock { $0 }.filter { $0.header("Host") == "api.leadcraft.ru" }
        #expect(wire.count == 3)
        #expect(wire.last?.target == "/v1/advertisers/actions?token=\(Self.leadcraftToken)&actionID=606&status=pending&clickID=\(Self.uuid)&advertiserID=R-1&reviseDate=2026-01-01&price=0")
        let again = await CLI.run(["outgoing", "--replay-all"], env: s.env, now: Self.t0 + 9)
        #expect(again.code == 0 && again.out.hasPrefix("0 postbacks"))
        // The source's token never shows.
        for r in [bad, sent, first, failed, lead, replay] { #expect(!r.out.contains(Self.leadcraftToken) && !r.err.contains(Self.leadcraftToken)) }
    }

    @Test func aSourceLeadWithoutWhatItsPostbacksNeedIsRefused() async throws {
        let noAction = #""leadcraft": {"network": "leadcraft", "credentials": {"token": "\#(Self.leadcraftToken)"}}"#
        let s = try #require(Self.setup(sources: noAction))
        let base = ["send", "kma", "--lead", s.lead, "--account", "k", "--dry-run"]
        // Referral postbacks need actionID: refused before anything is sent, naming it.
        let missing = await CLI.run(base + ["--source", "leadcraft", "--click-id", Self.uuid], env: s.env)
        #expect(missing.code == 3 && missing.err.contains("credentials.action"), "\(missing.err)")
        let unknown = await CLI.run(base + ["--source", "leadkraft", "--click-id", Self.uuid], env: s.env)
        #expect(unknown.code == 3 && unknown.err.contains("unknown traffic source \"leadkraft\"") && unknown.err.contains("did you mean"), "\(unknown.err)")
        let orphan = await CLI.run(base + ["--click-id", Self.uuid], env: s.env)
        #expect(orphan.code == 1 && orphan.err.contains("--source"), "\(orphan.err)")
        // A lead file naming its source but carrying neither id: LeadCraft would hear nothing.
        CLI.write(#"{"id": "R-2", "phone": "+79001234567", "name": "Иван", "source": "leadcraft"}"#, to: s.dir + "/r2.json")
        let neither = await CLI.run(["send", "kma", "--lead", s.dir + "/r2.json", "--account", "k", "--dry-run"], env: s.env)
        #expect(neither.code == 1 && neither.err.contains("would hear nothing"), "\(neither.err)")
        // With the sale id (lead traffic) no actionID is needed.
        CLI.write(#"{"id": "R-3", "phone": "+79001234567", "name": "Иван", "source": "leadcraft", "source_id": "7731"}"#, to: s.dir + "/r3.json")
        let leadTraffic = await CLI.run(["send", "kma", "--lead", s.dir + "/r3.json", "--account", "k", "--dry-run"], env: s.env)
        #expect(leadTraffic.code == 0, "\(leadTraffic.err)")
    }

    /// SalesMan answers a wrong key with HTTP 200 and `error.code` 400: the account's fault,
    /// not the lead's. `sync` stops the network's pass, names the account, exits 2; the leads
    /// stay queued, their attempts uncounted, and go out once the account is fixed.
    @Test func salesmanAccountErrorsKeepLeadsQueuedAndSyncExits2() async throws {
        let keyIsRight = Mutex(false)
        let server = try RecordingServer { r, n in
            if keyIsRight.withLock({ $0 }) {
                if r.bodyText.contains("action=list") { return .json(#"{"data":[]}"#) }
                return .json(#"{"result":{"text":"Success","id":\#(900 + n)}}"#)
            }
            return .json(#"{"result":"Error","error":{"code":"400","text":"Не верный API key"}}"#)
        }
        let dir = CLI.tempDir()
        CLI.write(#"""
            {"store": "ledger.sqlite", "accounts": {"sm": {"network": "salesman", "concurrency": 1,
              "credentials": {"url": "https://crm.example.ru", "login": "m@example.ru", "apikey": "SM-WRONG-KEY"}}}}
            """#, to: dir + "/leadbridge.json")
        let env = ["LEADBRIDGE_CONFIG": dir + "/leadbridge.json", "LEADBRIDGE_CONNECT_TO": "crm.example.ru=127.0.0.1:\(server.port)"]
        for i in 1...3 {
            CLI.write(#"{"id": "S-\#(i)", "phone": "+7900123456\#(i)", "name": "Иван"}"#, to: dir + "/s\(i).json")
        }
        var sends: [CLIRun] = []
        for i in 1...3 { sends.append(await CLI.run(["send", "salesman", "--lead", dir + "/s\(i).json", "--account", "sm"], env: env, now: Self.t0)) }
        let first = sends[0]
        #expect(sends.allSatisfy { $0.code == 2 })
        #expect(first.out.contains("account-error") && first.out.contains("stays queued") && first.out.contains("Fix account sm"), "\(first.out) \(first.err)")
        let sync = await CLI.run(["sync", "--json"], env: env, now: Self.t0 + 60)
        #expect(sync.code == 2, "\(sync.err)")
        let summary = try #require(try JSONParser.parse(sync.out.split(separator: "\n").last.map(String.init) ?? "").objectValue)
        let error = summary["networks"]?["salesman"]?["error"]?.stringValue ?? ""
        #expect(error.contains("account sm") && error.contains("Не верный API key"), "\(error)")
        #expect(server.received.withLock { $0.count } == 4)  // three by send, one by sync: the pass stopped at the first answer
        let leads = try #require(try JSONParser.parse(await CLI.run(["leads", "--json"], env: env).out).arrayValue)
        #expect(leads.count == 3)
        #expect(leads.allSatisfy { $0["send_state"] == .string("queued") && $0["attempts"] == .int(0) && $0["status"] == .null })
        // The account is fixed (here: the CRM takes the key): every lead goes out.
        keyIsRight.withLock { $0 = true }
        let fixed = await CLI.run(["sync", "--json"], env: env, now: Self.t0 + 120)
        #expect(fixed.code == 0, "\(fixed.out) \(fixed.err)")
        let after = try #require(try JSONParser.parse(await CLI.run(["leads", "--json"], env: env).out).arrayValue)
        #expect(after.allSatisfy { $0["send_state"] == .string("accepted") && $0["attempts"] == .int(1) })
        for r in [first, sync, fixed] { #expect(!r.out.contains("SM-WRONG-KEY") && !r.err.contains("SM-WRONG-KEY")) }
    }

    @Test func theIntakeDocumentNamesTheAddressesAndLeadCraftsFields() async {
        let dir = CLI.tempDir()
        CLI.write(#"""
            {"accounts": {"k": {"network": "kma", "credentials": {"token": "T-123456"}, "params": {"kma": "c1"}}},
             "sources": {"leadcraft": {"network": "leadcraft", "credentials": {"token": "LC-T-1"}}},
             "receiver": {"token": "RECV-TOKEN-777", "base_url": "https://t.example.com"},
             "intake": {"tokens": {"leadcraft": "INTAKE-SECRET-999"}, "countries": ["RU"], "allow": ["203.0.113.0/24", "198.51.100.7"],
                        "routes": [{"account": "k"}]}}
            """#, to: dir + "/leadbridge.json")
        let en = await CLI.run(["docs", "intake", "--lang", "en"], env: ["LEADBRIDGE_CONFIG": dir + "/leadbridge.json"])
        #expect(en.code == 0, "\(en.err)")
        for part in ["source_id (lid, sale_id) (required)", "country (required)", "served: RU", "click_id (click, clickID, clickid) (optional) - click id, a UUID",
                     "Requests are accepted only from: 203.0.113.0/24, 198.51.100.7", "An address not on the list (HTTP 403)"] {
            #expect(en.out.contains(part), "missing \(part):\n\(en.out)")
        }
        let ru = await CLI.run(["docs", "intake", "--lang", "ru"], env: ["LEADBRIDGE_CONFIG": dir + "/leadbridge.json"])
        #expect(ru.out.contains("Запросы принимаются только с адресов: 203.0.113.0/24, 198.51.100.7"))
        #expect(!ru.out.contains("INTAKE-SECRET-999") && !en.out.contains("LC-T-1"))
        // Without an allow-list the document says so.
        CLI.write(#"{"accounts": {"k": {"network": "kma", "credentials": {"token": "T-123456"}, "params": {"kma": "c1"}}}, "intake": {"tokens": {"x": "S-1"}, "routes": [{"account": "k"}]}}"#,
                  to: dir + "/open.json")
        let open = await CLI.run(["docs", "intake", "--lang", "en"], env: ["LEADBRIDGE_CONFIG": dir + "/open.json"])
        #expect(open.out.contains("There is no IP address restriction."))
    }

    @Test func leadcraftsCatalogTextsAreASourcesAndItsExamplesRun() async {
        let postbacks = await CLI.run(["postbacks", "leadcraft", "--lang", "en"])
        #expect(postbacks.code == 0)
        #expect(postbacks.out.contains("LeadCraft is a traffic source: nothing is added to its cabinet"))
        #expect(!postbacks.out.contains("import") && !postbacks.out.contains("status API is not public"))
        let test = await CLI.run(["test", "leadcraft"])
        #expect(test.code == 0)
        #expect(test.out.contains("referral: approved with the configured price") && test.out.contains("lead traffic: approved with the configured price"))
        #expect(test.out.hasSuffix("8 passed, 0 failed"))
        let show = await CLI.run(["show", "salesman", "--lang", "en"])
        #expect(show.out.contains("3:1 (Closed: spam)") && show.out.contains("2:* (Processed)") && show.out.contains("3:0 (Closed without a result)"))
    }
}
