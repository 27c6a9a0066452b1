import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization
import Testing
import LeadBridgeCore
import LeadBridgeEngine
import LeadBridgeNet
import LeadBridgeStore

/// The receiver over real HTTP on 127.0.0.1: networks' own postback tails move leads, repeats
/// are idempotent, unmatched postbacks wait for their lead, tokens and allow-lists guard the
/// door and never reach the ledger, LeadCraft hears about status changes (with retries on a
/// manual clock), and traffic sources submit leads to `POST /leads`.
@Suite struct ReceiverIntegrationTests {
    /// An outgoing postback's answers column in its English wording (each answer is kept as a value).
    static func answers(_ column: String) -> String { OutgoingAnswers.worded(column) { $0.english } }

    static let token = "RCV-SECRET-4f1d9e2a"
    static let drcashAccount = #""acc": {"network": "drcash", "credentials": {"token": "DRC-TEST-TOKEN-0001"}, "params": {"drcash": "iu244"}}"#

    static func config(receiver: String = #""token": "RCV-SECRET-4f1d9e2a""#, extra: String = "") -> String {
        #"{"store": "ledger.sqlite", "accounts": {\#(drcashAccount)}, "receiver": {"listen": "127.0.0.1:0", \#(receiver)}\#(extra)}"#
    }

    /// A spec's own tail with its macros filled in the way the network fills them.
    static func postbackTarget(_ network: String, item: Int, oid: String, status: String? = nil, token: String = token) throws -> String {
        let spec = try #require(EngineFixtures.library.spec(network))
        let pb = try #require(spec.postbacks)
        let tail = try #require(pb.items.filter { $0.tail != nil }[item].tail)
        var filled = tail
        for (macro, meaning) in pb.macros {
            let v: String
            switch meaning {
            case .orderId: v = oid
            case .externalId: v = "EXT-" + oid
            case .status: v = status ?? "approved"
            case .payout: v = "12.50"
            case .currency: v = "usd"
            case .comment: v = "из сети"
            case .reason: v = ""
            case .offer, .other: v = "x"
            }
            filled = filled.replacingAll(macro, with: PercentEncoding.rfc3986(v))
        }
        return PostbackURL.join(base: "/postback/\(network)?token=\(token)", tail: filled)
    }

    struct TailCase: Sendable, CustomTestStringConvertible {
        var network: String
        var item: Int
        var status: String?
        var bucket: Bucket
        var detail: String?
        var testDescription: String { "\(network)#\(item) \(status ?? "literal") → \(bucket.rawValue)" }
    }

    static let tailCases: [TailCase] = [
        TailCase(network: "adbees", item: 0, status: "11", bucket: .approved),
        TailCase(network: "adbees", item: 0, status: "12", bucket: .cancelled),
        TailCase(network: "adbees", item: 0, status: "13", bucket: .trash),
        TailCase(network: "cpahouse", item: 0, status: "fake", bucket: .trash),
        TailCase(network: "cpahouse", item: 0, status: "in_processing", bucket: .pending, detail: "waiting"),
        TailCase(network: "cpahouse", item: 0, status: "accepted", bucket: .approved),
        TailCase(network: "drcash", item: 0, status: "hold", bucket: .pending, detail: "waiting"),
        TailCase(network: "drcash", item: 0, status: "approved", bucket: .approved),
        TailCase(network: "drcash", item: 0, status: "rejected", bucket: .cancelled),
        TailCase(network: "ikon", item: 0, bucket: .approved),
        TailCase(network: "ikon", item: 1, bucket: .trash),
        TailCase(network: "ikon", item: 2, bucket: .cancelled),
        TailCase(network: "ikon", item: 3, bucket: .trash, detail: "duplicate"),
        TailCase(network: "metacpa", item: 0, bucket: .approved),
        TailCase(network: "metacpa", item: 2, bucket: .cancelled),
        TailCase(network: "leadrock", item: 0, bucket: .approved),
        TailCase(network: "leadrock", item: 1, bucket: .cancelled),
        TailCase(network: "leadrock", item: 2, bucket: .trash),
    ]

    @Test func networksOwnTailsMoveLeadsAndRepeatsAreIdempotent() async throws {
        let h = try ReceiverHarness(config: Self.config())
        defer { h.stop() }
        for (i, c) in Self.tailCases.enumerated() {
            let oid = "\(c.network.prefix(3).uppercased())-\(i)"
            try h.acceptedLead(oid, network: c.network)
            let target = try Self.postbackTarget(c.network, item: c.item, oid: oid, status: c.status)
            #expect(!target.contains("&&") && !target.contains("?&"), "\(c): \(target)")
            let rowId = try #require(try h.lead(c.network, oid)).rowId
            let eventsBefore = try h.statusEntries( rowId).count
            let first = await h.get(target)
            #expect(first.status == 200, "\(c): \(target) → \(String(describing: first.response?.text))")
            #expect(first.response?.text == "OK\n")
            let lead = try #require(try h.lead(c.network, oid))
            #expect(lead.status?.bucket == c.bucket, "\(c): \(lead.status?.bucket.rawValue ?? "none")")
            if let d = c.detail { #expect(lead.status?.detail == d, "\(c)") }
            let eventsAfter = try h.statusEntries( rowId).count
            #expect(eventsAfter == eventsBefore + 1, "\(c): one event per change")
            // The same postback again: 200, stored, no second event, nothing changes.
            let again = await h.get(target)
            #expect(again.status == 200, "\(c)")
            #expect(try h.statusEntries( rowId).count == eventsAfter, "\(c): a repeated postback made an event")
            #expect(try h.lead(c.network, oid)?.status == lead.status)
            let rows = try h.sql("SELECT result, lead_id FROM raw_postbacks WHERE order_id = ? ORDER BY id", [.text(oid)])
            #expect(rows.map { $0.text("result") } == ["applied", "applied"], "\(c)")
            #expect(rows.allSatisfy { $0.int("lead_id") == rowId })
        }
        // What the tails carry beside the status.
        let ikonDup = try #require(try h.lead("ikon", "IKO-12"))
        #expect(ikonDup.reason == "7")
        #expect(ikonDup.status?.raw == "cancel")
        #expect(ikonDup.comment == "из сети")
        let meta = try #require(try h.lead("metacpa", "MET-13"))
        #expect(meta.payout == "12.50")
        #expect(meta.currency == "USD")
        #expect(try h.rawPostbacks().count == Self.tailCases.count * 2)
    }

    /// `503` with `Retry-After` only while the store writer is behind: with the writer busy and
    /// as many postbacks waiting as `max_queued_postbacks` allows, the next one is refused (and
    /// not stored: the network sends it again); once the writer catches up, the waiting one and
    /// the repeat get `200`.
    @Test func aWriterThatIsBehindAnswers503WithRetryAfterUntilItCatchesUp() async throws {
        let h = try ReceiverHarness(config: Self.config(), maxQueued: 1)
        let busy = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        defer { h.stop() }
        defer { release.signal() } // runs first: a failing test never leaves the writer held
        try h.acceptedLead("B-1", network: "leadrock")
        try h.acceptedLead("B-2", network: "leadrock")
        let waiting = try Self.postbackTarget("leadrock", item: 0, oid: "B-1")
        let refused = try Self.postbackTarget("leadrock", item: 0, oid: "B-2")
        #expect(await h.get(refused).status == 200) // not behind: answered

        #expect(h.ingest.perform { busy.signal(); release.wait() })
        await offThread { busy.wait() } // the writer is held from now on
        let first = Task { await h.get(waiting, timeout: 300) } // held until release, however slow the steps between
        let queued = await offThread { () -> Bool in
            for _ in 0..<3000 where h.ingest.waitingPostbacks < 1 { usleep(10_000) }
            return h.ingest.waitingPostbacks == 1
        }
        #expect(queued, "the first postback never reached the writer's queue")
        let behind = await h.get(refused)
        #expect(behind.status == 503)
        #expect(behind.response?.header("Retry-After") == "1")
        #expect(h.log.value.contains { $0.contains("answered 503, the store writer is behind") })

        release.signal()
        #expect(await first.value.status == 200)
        #expect(await h.get(refused).status == 200)
        #expect(try h.sql("SELECT count(*) AS n FROM raw_postbacks").first?.int("n") == 3, "the refused postback was not stored")
    }

    @Test func unmatchedPostbacksAreKeptAndAppliedWhenTheLeadArrives() async throws {
        let h = try ReceiverHarness(config: Self.config())
        defer { h.stop() }
        let u1 = await h.get(try Self.postbackTarget("leadrock", item: 0, oid: "U-1"))
        #expect(u1.status == 404)
        #expect(u1.response?.text.contains("kept") == true)
        let u2 = await h.get(try Self.postbackTarget("drcash", item: 0, oid: "U-2", status: "trash"))
        #expect(u2.status == 404)
        // By the network's id only.
        let u3 = await h.get("/postback/leadrock?token=\(Self.token)&eid=EXT-77&status=approve")
        #expect(u3.status == 404)
        #expect(try h.sql("SELECT count(*) AS n FROM raw_postbacks WHERE result = 'unmatched'").first?.int("n") == 3)

        // U-1 and U-3 arrive; `postbacks-replay` applies them; U-2 keeps waiting.
        try h.acceptedLead("U-1", network: "leadrock")
        try h.acceptedLead("U-3", network: "leadrock", externalId: "EXT-77")
        let replay = try PostbackReplay(ledger: h.ledger, library: EngineFixtures.library).run()
        #expect(replay.applied == 2)
        #expect(replay.waiting == 1)
        #expect(try h.lead("leadrock", "U-1")?.status?.bucket == .approved)
        #expect(try h.lead("leadrock", "U-3")?.status?.bucket == .approved)
        #expect(try h.lead("drcash", "U-2") == nil)

        // U-2 arrives; a sync pass applies it (and asks no network anything).
        try h.acceptedLead("U-2", network: "drcash")
        let transport = ScriptedTransport([])
        let syncer = Syncer(store: h.store, library: EngineFixtures.library, config: h.config, transport: transport, clock: { h.clock.now() })
        let report = try await syncer.run(SyncOptions())
        let u2Changes = report.changes.filter { $0.orderId == "U-2" }
        #expect(u2Changes.contains { $0.to == .trash && $0.source == .postback })
        #expect(try h.lead("drcash", "U-2")?.status?.bucket == .trash)
        #expect(transport.unexpected.withLock { $0 }.isEmpty)
        let results = try h.sql("SELECT result FROM raw_postbacks ORDER BY id").compactMap { $0.text("result") }
        #expect(results == ["applied", "applied", "applied"])
        // Nothing is applied twice.
        let events = try h.statusEntries( try #require(try h.lead("drcash", "U-2")).rowId).count
        let again = try PostbackReplay(ledger: h.ledger, library: EngineFixtures.library).run()
        #expect(again.applied == 0 && again.waiting == 0)
        #expect(try h.statusEntries( try #require(try h.lead("drcash", "U-2")).rowId).count == events)
    }

    /// Two replays at once (serve's loop and a sync pass, or two serves): the one that waited for
    /// the writer while the other applied an early approval — and the network's chargeback came
    /// after it — must not apply that approval again from its stale read: it undid the chargeback.
    @Test func aReplayAppliesOnlyWhatIsStillWaitingWhenItsTransactionRuns() async throws {
        let h = try ReceiverHarness(config: Self.config())
        defer { h.stop() }
        let early = await h.get("/postback/m1shop?token=\(Self.token)&oid=R-1&status=1:0")
        #expect(early.status == 404)
        try h.acceptedLead("R-1", network: "m1shop")
        let rowId = try #require(try h.lead("m1shop", "R-1")).rowId
        // While this replay waits for the writer, the other applies the early approval, then
        // the network's chargeback is reported.
        let meanwhile = Mutex<(applied: Int, chargebacks: Int)?>(nil)
        let store = InterleavedStore(h.store) { () throws(StoreError) in
            let applied = try PostbackReplay(ledger: h.ledger, library: EngineFixtures.library).run().applied
            let chargebacks = try h.ledger.report([(rowId, StatusReport(status: LeadStatus(bucket: .cancelled, raw: "4:0"), source: .poll, network: "m1shop"))]).count
            meanwhile.withLock { $0 = (applied, chargebacks) }
        }
        let late = Ledger(store: store, library: EngineFixtures.library, config: h.config, clock: { h.clock.now() }, random: { 0.5 })
        let replay = try PostbackReplay(ledger: late, library: EngineFixtures.library).run()
        let other = try #require(meanwhile.withLock { $0 })
        #expect(other.applied == 1 && other.chargebacks == 1)
        #expect(replay.applied == 0 && replay.waiting == 0 && replay.changes.isEmpty, "\(replay)")
        #expect(try h.lead("m1shop", "R-1")?.status?.bucket == .cancelled)
        #expect(try h.sql("SELECT result FROM raw_postbacks").compactMap { $0.text("result") } == ["applied"])
    }

    @Test func statusRulesHoldForPostbacks() async throws {
        let h = try ReceiverHarness(config: Self.config())
        defer { h.stop() }
        try h.acceptedLead("S-1", network: "drcash")
        try h.acceptedLead("S-2", network: "m1shop")
        try h.acceptedLead("S-3", network: "kma")
        let pb = "/postback/drcash?token=\(Self.token)&oid=S-1"
        #expect(await h.get(pb + "&status=approved&pay=10").status == 200)
        let rowId = try #require(try h.lead("drcash", "S-1")).rowId
        let events = try h.statusEntries( rowId).count
        // A final status never goes back to pending; approved → cancelled needs chargebacks.
        #expect(await h.get(pb + "&status=hold&stw=hold").status == 200)
        #expect(await h.get(pb + "&status=rejected").status == 200)
        #expect(await h.get(pb + "&status=trash").status == 200)
        let s1 = try #require(try h.lead("drcash", "S-1"))
        #expect(s1.status?.bucket == .approved)
        #expect(s1.payout == "10")
        #expect(try h.statusEntries( rowId).count == events)
        // A network that does chargebacks moves approved to cancelled, noted as such.
        let m1 = "/postback/m1shop?token=\(Self.token)&oid=S-2"
        #expect(await h.get(m1 + "&status=1:0").status == 200)
        #expect(await h.get(m1 + "&status=4:0").status == 200)
        #expect(try h.lead("m1shop", "S-2")?.status?.bucket == .cancelled)
        #expect(try h.statusEntries(try #require(try h.lead("m1shop", "S-2")).rowId).last?.reason == .note(.chargeback))
        // A postback for a lead sent to another network is kept and ignored.
        let other = await h.get("/postback/drcash?token=\(Self.token)&oid=S-3&status=approved")
        #expect(other.status == 200)
        #expect(other.response?.text.contains("kma") == true)
        #expect(try h.lead("kma", "S-3")?.status?.bucket == .pending)
        // An unknown word is kept, answered 200 (so the network stops retrying), never guessed.
        let unknown = await h.get("/postback/drcash?token=\(Self.token)&oid=S-1&status=teleported")
        #expect(unknown.status == 200)
        #expect(unknown.response?.text.contains("unknown status word") == true)
        let results = try h.rawPostbacks().map(\.result)
        #expect(results.suffix(2) == [.otherNetwork, .unknownStatus])
        let replay = try PostbackReplay(ledger: h.ledger, library: EngineFixtures.library).run(includeUnknownWords: true)
        #expect(replay.applied == 0 && replay.changes.isEmpty)
        #expect(try h.lead("drcash", "S-1")?.status?.bucket == .approved)
    }

    @Test func tokensAreCheckedAndNeverStored() async throws {
        let perNetwork = "LR-ONLY-SECRET-88c2b7"
        let wrong = ["WRONG-TOKEN-3c3c91", "WRONG-BEARER-77d0e1", "WRONG-FORM-0a9b8c", "WRONG-JSON-5e6f7a"]
        let h = try ReceiverHarness(config: Self.config(receiver: #""token": "\#(Self.token)", "tokens": {"leadrock": "\#(perNetwork)"}"#))
        defer { h.stop() }
        for i in 1...8 { try h.acceptedLead("T-\(i)", network: i == 8 ? "drcash" : "leadrock") }
        let tail = "&oid=T-1&status=approve"
        // Wrong, missing, wrong bearer, wrong in a form body, wrong in a JSON body: 403, kept masked.
        #expect(await h.get("/postback/leadrock?token=\(wrong[0])" + tail).status == 403)
        #expect(await h.get("/postback/leadrock?oid=T-1&status=approve").status == 403)
        #expect(await h.get("/postback/leadrock?oid=T-1&status=approve", headers: [("Authorization", "Bearer \(wrong[1])")]).status == 403)
        #expect(await h.post("/postback/leadrock", body: "token=\(wrong[2])&oid=T-1&status=approve", contentType: "application/x-www-form-urlencoded").status == 403)
        #expect(await h.post("/postback/leadrock", body: #"{"token": "\#(wrong[3])", "oid": "T-1", "status": "approve"}"#, contentType: "application/json").status == 403)
        // The leadrock-only token does not open drcash.
        #expect(await h.get("/postback/drcash?token=\(perNetwork)&oid=T-8&status=approved").status == 403)
        #expect(try h.lead("leadrock", "T-1")?.status?.bucket == .pending)
        #expect(try h.lead("drcash", "T-8")?.status?.bucket == .pending)
        let forbidden = try h.rawPostbacks().filter { $0.result == .forbidden }
        #expect(forbidden.count == 6)
        #expect(forbidden[0].raw.query == "token=***&oid=T-1&status=approve")
        #expect(String(decoding: forbidden[3].raw.body, as: UTF8.self) == "token=***&oid=T-1&status=approve")
        #expect(try JSONParser.parse(forbidden[4].raw.body)["token"] == .string("***"))
        #expect(forbidden[5].raw.query == "token=***&oid=T-8&status=approved")

        // The right tokens, every way a network can send them.
        #expect(await h.get("/postback/leadrock?token=\(Self.token)&oid=T-2&status=approve").status == 200)
        #expect(await h.get("/postback/leadrock?token=\(perNetwork)&oid=T-3&status=cancel").status == 200)
        #expect(await h.get("/postback/leadrock?oid=T-4&status=trash", headers: [("Authorization", "Bearer \(Self.token)")]).status == 200)
        #expect(await h.post("/postback/leadrock", body: "token=\(perNetwork)&oid=T-5&status=approve", contentType: "application/x-www-form-urlencoded").status == 200)
        #expect(await h.post("/postback/leadrock", body: #"{"token": "\#(Self.token)", "oid": "T-6", "status": "cancel"}"#, contentType: "application/json").status == 200)
        #expect(await h.get("/postback/leadrock?TOKEN=\(Self.token)&oid=T-7&status=approve").status == 403)  // the name is exact
        #expect(try h.lead("leadrock", "T-2")?.status?.bucket == .approved)
        #expect(try h.lead("leadrock", "T-3")?.status?.bucket == .cancelled)
        #expect(try h.lead("leadrock", "T-4")?.status?.bucket == .trash)
        #expect(try h.lead("leadrock", "T-5")?.status?.bucket == .approved)
        #expect(try h.lead("leadrock", "T-6")?.status?.bucket == .cancelled)
        let applied = try h.rawPostbacks().filter { $0.result == .applied }
        #expect(applied.count == 5)
        for r in applied {
            let text = r.raw.query + String(decoding: r.raw.body, as: UTF8.self)
            #expect(!text.contains(Self.token) && !text.contains(perNetwork), "\(text)")
        }
        for line in h.log.value {
            for secret in [Self.token, perNetwork] + wrong { #expect(!line.contains(secret), "log: \(line)") }
        }
        // Not a byte of any token value in the ledger files.
        let bytes = h.databaseBytes()
        #expect(bytes.count > 10_000)
        for secret in [Self.token, perNetwork] + wrong {
            let leaked = bytesContain(bytes, secret)
            #expect(!leaked, "\(secret) is in the database file")
        }
    }

    /// Near misses of the token (a prefix, a suffix, another case, more around it, its base64)
    /// are refused; a token sent in the path (`/postback/<token>`, `/postback/acme/<token>`),
    /// raw or base64-encoded, reaches no stored column, the network's name included.
    @Test func nearMissTokensAreRefusedAndTokensInThePathScrubbed() async throws {
        let h = try ReceiverHarness(config: Self.config())
        defer { h.stop() }
        try h.acceptedLead("N-1", network: "leadrock")
        let t = Self.token
        let base64 = Data(t.utf8).base64EncodedString()
        let base64url = base64.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        let near = [String(t.dropLast()), String(t.dropFirst()), t + "0", "0" + t, t.lowercased(), t.uppercased() == t ? t.lowercased() : t.uppercased(),
                    " " + t, base64, base64url]
        for n in near {
            let status = await h.get("/postback/leadrock?token=\(PercentEncoding.rfc3986(n))&oid=N-1&status=approve").status
            #expect(status == 403, "a near miss opened the receiver: \(status)")
        }
        #expect(try h.lead("leadrock", "N-1")?.status?.bucket == .pending)
        for target in ["/postback/\(t)?oid=N-1&status=approve", "/postback/acme/\(t)?oid=N-1", "/postback/\(base64url)?oid=N-1",
                       "/postback/\(PercentEncoding.rfc3986(base64))?oid=N-1"] {
            _ = await h.get(target)
        }
        let stored = try h.rawPostbacks()
        #expect(stored.count == near.count + 4)
        for r in stored {
            let text = [r.raw.network, r.raw.path, r.raw.query, String(decoding: r.raw.body, as: UTF8.self)].joined(separator: " ")
            for form in [t, String(base64.prefix { $0 != "=" }), base64url] { #expect(!text.contains(form), "stored: \(text)") }
        }
        let bytes = h.databaseBytes()
        for form in [t, String(base64.prefix { $0 != "=" }), base64url] { #expect(!bytesContain(bytes, form), "\(form) is in the database file") }
    }

    struct MaskCase: Sendable, CustomTestStringConvertible {
        var name: String
        var target: String
        var body: [UInt8]
        var contentType: String?
        var testDescription: String { name }
    }

    static let secretForMasking = "MASK-ME-SECRET-61e0d4"

    /// However the token comes, its value never reaches the raw log, even when the postback
    /// is malformed (the raw log keeps malformed postbacks for reconciliation).
    static let maskCases: [MaskCase] = {
        let s = secretForMasking
        return [
            MaskCase(name: "query", target: "/postback/leadrock?token=\(s)&oid=M-1&status=approve", body: [], contentType: nil),
            MaskCase(name: "query, token given twice", target: "/postback/leadrock?token=\(s)&oid=M-1&token=\(s)&status=approve", body: [], contentType: nil),
            MaskCase(name: "query, bad percent-encoding elsewhere", target: "/postback/leadrock?token=\(s)&oid=%ZZ&status=approve", body: [], contentType: nil),
            MaskCase(name: "form body, bad percent-encoding elsewhere", target: "/postback/leadrock",
                     body: Array("token=\(s)&oid=%G1&status=approve".utf8), contentType: "application/x-www-form-urlencoded"),
            MaskCase(name: "query, percent-encoded parameter name", target: "/postback/leadrock?tok%65n=\(s)&oid=M-1&status=approve", body: [], contentType: nil),
            MaskCase(name: "form body, percent-encoded parameter name", target: "/postback/leadrock",
                     body: Array("%74oken=\(s)&oid=M-1&status=approve".utf8), contentType: "application/x-www-form-urlencoded"),
            MaskCase(name: "JSON body after a tab", target: "/postback/leadrock",
                     body: Array("\t{\"token\": \"\(s)\", \"oid\": \"M-1\", \"status\": \"approve\"}".utf8), contentType: "application/json"),
            MaskCase(name: "malformed JSON body", target: "/postback/leadrock",
                     body: Array("{\"token\": \"\(s)\", \"oid\": \"M-1\", \"status\": \"approve\"".utf8), contentType: "application/json"),
            MaskCase(name: "form body that is not UTF-8", target: "/postback/leadrock",
                     body: Array("token=\(s)&oid=M-1&status=approve&comment=caf".utf8) + [0xE9], contentType: "application/x-www-form-urlencoded"),
        ]
    }()

    @Test(arguments: maskCases)
    func tokenValueNeverReachesTheDatabase(_ c: MaskCase) async throws {
        let h = try ReceiverHarness(config: Self.config(receiver: #""token": "\#(Self.secretForMasking)""#))
        defer { h.stop() }
        try h.acceptedLead("M-1", network: "leadrock")
        let outcome = c.body.isEmpty ? await h.get(c.target) : await h.post(c.target, bytes: c.body, contentType: c.contentType)
        let status = try #require(outcome.status, "\(c.name): no response")
        #expect([200, 400, 403].contains(status), "\(c.name): \(status)")
        #expect(try h.store.rawPostbackCount() == 1, "\(c.name): the postback is kept")
        let row = try #require(try h.rawPostbacks().first)
        let stored = row.raw.query + " " + String(decoding: row.raw.body, as: UTF8.self)
        #expect(!stored.contains(Self.secretForMasking), "\(c.name): HTTP \(status), result \(row.result), stored in clear: \(stored)")
        let leaked = bytesContain(h.databaseBytes(), Self.secretForMasking)
        #expect(!leaked, "\(c.name): the token value is in the database file")
    }

    @Test func allowListAndTrustedProxies() async throws {
        let receiver = #""token": "\#(Self.token)", "allow": {"adbees": ["10.0.0.0/8"], "drcash": ["127.0.0.1"]}, "trusted_proxies": ["127.0.0.1/32"]"#
        let h = try ReceiverHarness(config: Self.config(receiver: receiver))
        defer { h.stop() }
        for i in 1...4 { try h.acceptedLead("AL-\(i)", network: "adbees") }
        for i in 1...2 { try h.acceptedLead("DL-\(i)", network: "drcash") }
        func adbees(_ oid: String) throws -> String { try Self.postbackTarget("adbees", item: 0, oid: oid, status: "11") }
        // Our own proxy forwards for a network address: allowed.
        #expect(await h.get(try adbees("AL-1"), headers: [("X-Forwarded-For", "10.1.2.3")]).status == 200)
        // Straight from 127.0.0.1 (not in 10/8): refused.
        #expect(await h.get(try adbees("AL-2")).status == 403)
        // The last hop before our proxy decides, not what the client wrote first.
        #expect(await h.get(try adbees("AL-3"), headers: [("X-Forwarded-For", "10.9.9.9, 198.51.100.7")]).status == 403)
        #expect(await h.get(try adbees("AL-4"), headers: [("X-Forwarded-For", "198.51.100.7, 10.1.2.3, 127.0.0.1")]).status == 200)
        // drcash allows 127.0.0.1 only: a forwarded address from elsewhere is refused.
        #expect(await h.get(try Self.postbackTarget("drcash", item: 0, oid: "DL-1", status: "approved")).status == 200)
        #expect(await h.get(try Self.postbackTarget("drcash", item: 0, oid: "DL-2", status: "approved"), headers: [("X-Forwarded-For", "10.1.2.3")]).status == 403)
        #expect(try h.lead("adbees", "AL-1")?.status?.bucket == .approved)
        #expect(try h.lead("adbees", "AL-2")?.status?.bucket == .pending)
        #expect(try h.lead("adbees", "AL-3")?.status?.bucket == .pending)
        #expect(try h.lead("adbees", "AL-4")?.status?.bucket == .approved)
        #expect(try h.lead("drcash", "DL-2")?.status?.bucket == .pending)
        let remotes = try h.rawPostbacks().map { "\($0.raw.remote) \($0.result)" }
        #expect(remotes == ["10.1.2.3 applied", "127.0.0.1 forbidden", "198.51.100.7 forbidden", "10.1.2.3 applied", "127.0.0.1 applied", "10.1.2.3 forbidden"])

        // Without trusted proxies X-Forwarded-For is only text.
        let plain = try ReceiverHarness(config: Self.config(receiver: #""token": "\#(Self.token)", "allow": {"adbees": ["10.0.0.0/8"]}"#))
        defer { plain.stop() }
        try plain.acceptedLead("AL-1", network: "adbees")
        #expect(await plain.get(try adbees("AL-1"), headers: [("X-Forwarded-For", "10.1.2.3")]).status == 403)
        #expect(try plain.rawPostbacks().map(\.raw.remote) == ["127.0.0.1"])
        #expect(try plain.lead("adbees", "AL-1")?.status?.bucket == .pending)
    }

    /// A proxy that appends its own `X-Forwarded-For` line (HAProxy's `option forwardfor`)
    /// leaves the client's line first; the hops are all the lines joined in order (RFC 9110
    /// 5.3), so a client cannot pick its address by sending the header itself.
    @Test func forwardedForSpreadOverSeveralHeaderLinesIsNotSpoofable() async throws {
        let receiver = #""token": "\#(Self.token)", "allow": {"adbees": ["10.0.0.0/8"]}, "trusted_proxies": ["127.0.0.1/32"]"#
        let h = try ReceiverHarness(config: Self.config(receiver: receiver))
        defer { h.stop() }
        try h.acceptedLead("AL-1", network: "adbees")
        try h.acceptedLead("AL-2", network: "adbees")
        let spoofed = await h.get(try Self.postbackTarget("adbees", item: 0, oid: "AL-1", status: "11"),
                                  headers: [("X-Forwarded-For", "10.1.2.3"), ("X-Forwarded-For", "198.51.100.7")])
        #expect(spoofed.status == 403, "the client's own X-Forwarded-For line was trusted (HTTP \(String(describing: spoofed.status)))")
        #expect(try h.lead("adbees", "AL-1")?.status?.bucket == .pending)
        #expect(try h.rawPostbacks().first?.raw.remote == "198.51.100.7")
        // The network's real address on the proxy's line is let in.
        let real = await h.get(try Self.postbackTarget("adbees", item: 0, oid: "AL-2", status: "11"),
                               headers: [("X-Forwarded-For", "198.51.100.7"), ("X-Forwarded-For", "10.1.2.3")])
        #expect(real.status == 200)
    }

    /// An allow-list whose entries are all unreadable (a typo) must not let every address in:
    /// either the configuration is refused or the receiver refuses the postback.
    @Test func allowListWithOnlyInvalidEntriesFailsClosed() async throws {
        let receiver = #""token": "\#(Self.token)", "allow": {"adbees": ["10.0.0.0/33"]}"#
        let h: ReceiverHarness
        do { h = try ReceiverHarness(config: Self.config(receiver: receiver)) } catch is ConfigError { return }
        defer { h.stop() }
        try h.acceptedLead("AL-1", network: "adbees")
        let status = await h.get(try Self.postbackTarget("adbees", item: 0, oid: "AL-1", status: "11")).status
        #expect(status == 403, "allow: [\"10.0.0.0/33\"] let 127.0.0.1 in (HTTP \(String(describing: status)))")
        #expect(try h.lead("adbees", "AL-1")?.status?.bucket == .pending)
    }

    @Test func formAndJSONBodiesAreAccepted() async throws {
        let h = try ReceiverHarness(config: Self.config())
        defer { h.stop() }
        for id in ["B-1", "B-2", "B-3", "12345"] { try h.acceptedLead(id, network: "drcash") }
        try h.acceptedLead("B-4", network: "leadrock")
        // Through URLSession (libcurl), as a network's server would call.
        let transport = CurlTransport()
        let base = "http://127.0.0.1:\(h.port)"
        let form = try await transport.send(HTTPRequestValue(method: "POST", url: base + "/postback/drcash?token=\(Self.token)",
                                                             headers: [HTTPHeader("Content-Type", "application/x-www-form-urlencoded")],
                                                             body: Array("oid=B-1&status=approved&pay=7%2C5&cc=eur&comment=%D0%BE%D0%BA".utf8)), timeout: 5)
        #expect(form.status == 200)
        let json = try await transport.send(HTTPRequestValue(method: "POST", url: base + "/postback/drcash",
                                                             headers: [HTTPHeader("Content-Type", "application/json")],
                                                             body: Array(#"{"token": "\#(Self.token)", "oid": "B-2", "status": "trash", "pay": 0}"#.utf8)), timeout: 5)
        #expect(json.status == 200)
        // A numeric order id in JSON, JSON without a content type, a form body with query parameters too.
        #expect(await h.post("/postback/drcash?token=\(Self.token)", body: #"{"oid": 12345, "status": "rejected"}"#, contentType: nil).status == 200)
        #expect(await h.post("/postback/drcash?token=\(Self.token)&oid=B-3", body: "status=hold&stw=hold", contentType: "application/x-www-form-urlencoded").status == 200)
        #expect(await h.post("/postback/leadrock?token=\(Self.token)", body: "oid=B-4&status=approve", contentType: "text/plain").status == 200)
        let b1 = try #require(try h.lead("drcash", "B-1"))
        #expect(b1.status?.bucket == .approved)
        #expect(b1.payout == "7.5")
        #expect(b1.currency == "EUR")
        #expect(b1.comment == "ок")
        #expect(try h.lead("drcash", "B-2")?.status?.bucket == .trash)
        #expect(try h.lead("drcash", "12345")?.status?.bucket == .cancelled)
        #expect(try h.lead("drcash", "B-3")?.status?.detail == "waiting")
        #expect(try h.lead("leadrock", "B-4")?.status?.bucket == .approved)
        // A malformed JSON body is kept and answered 400; other methods are 405.
        #expect(await h.post("/postback/drcash?token=\(Self.token)", body: #"{"oid": "B-1", "status": "#, contentType: "application/json").status == 400)
        let put = await offThread { [port = h.port] in Wire.exchange(port: port, "PUT /postback/drcash HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n") }
        #expect(put.status == 405)
        #expect(try h.rawPostbacks().last?.result == .invalid)
    }

    // MARK: LeadCraft outgoing postbacks

    static let leadcraftToken = "LC-SECRET-7731aa"

    static var leadcraftConfig: String {
        // The price LeadCraft is owed: the network's payout, in roubles (postbacks here give
        // no currency: the configuration says what they are in).
        config(extra: #", "sources": {"leadcraft": {"network": "leadcraft", "credentials": {"token": "\#(leadcraftToken)", "action": "77"}, "price": {"payout": {"currency": "RUB", "assume": "RUB"}}}}"#)
    }

    /// A loopback stand-in for api.leadcraft.ru: every distinct URL fails twice (503, then 502)
    /// and then succeeds.
    final class FlakySource: Sendable {
        let seen: Locked<[String: Int]>
        let requests: Locked<[HTTPServerRequest]>
        let server: HTTPServer

        init(failures: Int = 2) throws {
            let seen = Locked<[String: Int]>([:]), requests = Locked<[HTTPServerRequest]>([])
            server = HTTPServer(configuration: HTTPServerConfiguration(host: "127.0.0.1", port: 0)) { r in
                requests.with { $0.append(r) }
                let n = seen.with { s -> Int in s[r.target, default: 0] += 1; return s[r.target] ?? 0 }
                if n <= failures { return .text(n == 1 ? "busy" : "<html>bad gateway</html>", status: n == 1 ? 503 : 502) }
                return .json(#"{"status":"ok"}"#)
            }
            self.seen = seen
            self.requests = requests
            try server.start()
        }

        var transport: CurlTransport {
            CurlTransport(connectTo: ConnectToMap(rules: ["api.leadcraft.ru": ConnectToMap.Target(host: "127.0.0.1", port: server.boundPort ?? 0)]))
        }
    }

    static func queryPairs(_ url: String) -> [String: String] {
        let q = url.split(separator: "?", maxSplits: 1).dropFirst().first.map(String.init) ?? ""
        return Dictionary(((try? QueryString.parse(q)) ?? []), uniquingKeysWith: { a, _ in a })
    }

    @Test func leadcraftHearsEveryStatusChangeWithRetries() async throws {
        let h = try ReceiverHarness(config: Self.leadcraftConfig, outgoingDelays: [60, 600, 3600])
        defer { h.stop() }
        let source = try FlakySource()
        defer { source.server.stop(graceful: false, timeout: 1) }
        let t0 = h.clock.now()
        // Acceptance is a change (nil → pending): `sync` hands it to outgoing postbacks.
        var accepted: [StatusChange] = []
        func add(_ id: String, _ fields: [String: String], source: String? = "leadcraft") throws {
            let (_, change) = try h.acceptedLead(id, network: "drcash", source: source, fields: fields.merging(["name": "Иван", "country": "RU"]) { a, _ in a })
            if let change { accepted.append(change) }
        }
        try add("L-REF", ["click_id": "CLK-1"])
        try add("L-LEAD", ["source_id": "LID-2"])
        try add("L-BOTH", ["click_id": "CLK-3", "source_id": "LID-3"])
        try add("L-REF2", ["click_id": "CLK-4"])
        try add("L-NONE", ["click_id": "CLK-5", "source_id": "LID-5"], source: nil)
        // Queued with the acceptance: referral pending ×3; lead traffic has no pending.
        #expect(try h.store.outgoingPostbacks(leadRowId: nil).count == 3)
        #expect(accepted.count == 5)
        // Status changes by postback (the ingest queues outgoing postbacks, as in `serve`).
        let pb = "/postback/drcash?token=\(Self.token)"
        #expect(await h.get(pb + "&oid=L-REF&status=approved&pay=12.50").status == 200)
        #expect(await h.get(pb + "&oid=L-LEAD&status=trash").status == 200)
        #expect(await h.get(pb + "&oid=L-BOTH&status=rejected").status == 200)
        #expect(await h.get(pb + "&oid=L-REF2&status=trash").status == 200)
        #expect(await h.get(pb + "&oid=L-NONE&status=approved").status == 200)
        #expect(await h.get(pb + "&oid=L-REF&status=approved&pay=12.50").status == 200)  // repeat: nothing new

        func queued(_ id: String) throws -> [OutgoingPostback] {
            try h.store.outgoingPostbacks(leadRowId: try #require(try h.lead("drcash", id)).rowId)
        }
        let referral = "https://api.leadcraft.ru/v1/advertisers/actions?"
        let leads = "https://api.leadcraft.ru/v1/advertisers/leads/postback?"
        #expect(try queued("L-REF").map { "\($0.kind) \($0.status)" } == ["referral pending", "referral approved"])
        #expect(try queued("L-LEAD").map { "\($0.kind) \($0.status)" } == ["leads cancelled"])
        #expect(Set(try queued("L-BOTH").map { "\($0.kind) \($0.status)" }) == ["referral pending", "referral cancelled", "leads cancelled"])
        #expect(try queued("L-REF2").map { "\($0.kind) \($0.status)" } == ["referral pending", "referral cancelled"])
        #expect(try queued("L-NONE").isEmpty)
        let approved = try #require(try queued("L-REF").last)
        #expect(approved.url.hasPrefix(referral))
        #expect(Self.queryPairs(approved.url) == ["token": "***", "actionID": "77", "status": "approved", "clickID": "CLK-1",
                                                  "advertiserID": "L-REF", "reviseDate": "2026-01-01", "price": "12.50"])
        let cancelled = try #require(try queued("L-LEAD").first)
        #expect(cancelled.url.hasPrefix(leads))
        #expect(Self.queryPairs(cancelled.url) == ["lid": "LID-2", "aid": "L-LEAD", "status": "cancelled", "token": "***", "price": "0"])
        let all = try h.store.outgoingPostbacks(leadRowId: nil)
        #expect(all.count == 8)
        #expect(all.allSatisfy { !$0.url.contains(Self.leadcraftToken) && $0.url.contains("token=***") && $0.method == "GET" })

        // Delivery on a manual clock: the first two attempts fail, the delays are honoured.
        let transport = source.transport
        let first = try await h.outgoing.deliverDue(transport: transport, now: t0)
        #expect(first.delivered == 0 && first.retried == 8 && first.failed == 0)
        #expect(try h.store.outgoingPostbacks(leadRowId: nil).allSatisfy { $0.attempts == 1 && $0.nextAttemptAt == t0 + 60 && $0.lastError.map(Self.answers)?.contains("#1 ") == true && $0.lastError.map(Self.answers)?.contains("HTTP 503") == true })
        let early = try await h.outgoing.deliverDue(transport: transport, now: t0 + 59)
        #expect(early.delivered + early.retried + early.failed == 0)
        #expect(source.requests.value.count == 8)
        let second = try await h.outgoing.deliverDue(transport: transport, now: t0 + 60)
        #expect(second.retried == 8)
        #expect(try h.store.outgoingPostbacks(leadRowId: nil).allSatisfy { $0.attempts == 2 && $0.nextAttemptAt == t0 + 660 && $0.lastError.map(Self.answers)?.contains(" | #2 ") == true && $0.lastError.map(Self.answers)?.hasSuffix("HTTP 502: <html>bad gateway</html>") == true })
        let stillEarly = try await h.outgoing.deliverDue(transport: transport, now: t0 + 659)
        #expect(stillEarly.delivered + stillEarly.retried + stillEarly.failed == 0)
        let third = try await h.outgoing.deliverDue(transport: transport, now: t0 + 660)
        #expect(third.delivered == 8 && third.retried == 0 && third.failed == 0)
        let done = try h.store.outgoingPostbacks(leadRowId: nil)
        #expect(done.allSatisfy { $0.state == .delivered && $0.attempts == 3 && $0.lastError == nil })
        let later = try await h.outgoing.deliverDue(transport: transport, now: t0 + 100_000)
        #expect(later.delivered + later.retried + later.failed == 0)
        // What LeadCraft received: the real token, its own host, each URL exactly three times.
        let got = source.requests.value
        #expect(got.count == 24)
        #expect(source.seen.value.values.allSatisfy { $0 == 3 })
        #expect(got.allSatisfy { $0.method == "GET" && $0.header("Host") == "api.leadcraft.ru" && $0.query.contains("token=\(Self.leadcraftToken)") })
        let referralApproved = got.first { $0.path == "/v1/advertisers/actions" && $0.query.contains("status=approved") }
        #expect(referralApproved?.query == "token=\(Self.leadcraftToken)&actionID=77&status=approved&clickID=CLK-1&advertiserID=L-REF&reviseDate=2026-01-01&price=12.50")
        let leaked = bytesContain(h.databaseBytes(), Self.leadcraftToken)
        #expect(!leaked, "the LeadCraft token is in the database file")
    }

    @Test func leadcraftPostbackFailsAfterItsLastDelay() async throws {
        let h = try ReceiverHarness(config: Self.leadcraftConfig, outgoingDelays: [60, 600])
        defer { h.stop() }
        let source = try FlakySource(failures: 100)
        defer { source.server.stop(graceful: false, timeout: 1) }
        let (_, change) = try h.acceptedLead("L-1", network: "drcash", source: "leadcraft", fields: ["click_id": "C-1"])
        #expect(change?.to == .pending)
        #expect(try h.store.outgoingPostbacks(leadRowId: nil).count == 1)  // queued with the acceptance
        let t0 = h.clock.now()
        let transport = source.transport
        #expect(try await h.outgoing.deliverDue(transport: transport, now: t0).retried == 1)
        #expect(try await h.outgoing.deliverDue(transport: transport, now: t0 + 60).retried == 1)
        #expect(try await h.outgoing.deliverDue(transport: transport, now: t0 + 660).failed == 1)
        let p = try #require(try h.store.outgoingPostbacks(leadRowId: nil).first)
        #expect(p.state == .failed)
        #expect(p.attempts == 3)
        #expect(p.lastError.map(Self.answers)?.contains("HTTP 50") == true)
        #expect(try await h.outgoing.deliverDue(transport: transport, now: t0 + 1_000_000).failed == 0)
        #expect(source.requests.value.count == 3)
    }

    // MARK: lead intake

    static let intakeToken = "INTAKE-TOKEN-5521ff"

    static var intakeConfig: String {
        config(extra: #", "sources": {"leadcraft": {"network": "leadcraft", "credentials": {"token": "\#(leadcraftToken)", "action": "77"}}}, "intake": {"tokens": {"leadcraft": "\#(intakeToken)"}, "required": ["name"], "countries": ["RU", "KZ"], "routes": [{"account": "acc"}]}"#)
    }

    static func errorFields(_ r: WireOutcome) -> [String] {
        r.response?.json?["errors"]?.arrayValue?.compactMap { $0["field"]?.stringValue } ?? []
    }

    @Test func leadIntakeTakesJSONAndFormAndNamesBadFields() async throws {
        let h = try ReceiverHarness(config: Self.intakeConfig)
        defer { h.stop() }
        let auth = [("Authorization", "Bearer \(Self.intakeToken)")]
        let json = #"{"phone": "+7 (900) 123-45-67", "name": "Иван", "country": "ru", "lid": "LC-1001", "clickID": "f092d155-e7f3-4f78-bcc1-196e775e1dcb", "sub1": "s1"}"#
        let first = await h.post("/leads", body: json, contentType: "application/json", headers: auth)
        #expect(first.status == 200, "\(String(describing: first.response?.text))")
        let id = try #require(first.response?.json?["id"]?.stringValue)
        #expect(first.response?.json?["status"] == .string("accepted"))
        #expect(id.hasPrefix("LB"))
        let again = await h.post("/leads", body: json, contentType: "application/json", headers: auth)
        #expect(again.status == 200)
        #expect(again.response?.json?["id"] == .string(id))
        #expect(again.response?.json?["duplicate"] == .bool(true))
        let lead = try #require(try h.lead("drcash", id))
        #expect(lead.source == "leadcraft")
        #expect(lead.account == "acc")
        #expect(lead.sendState == .queued)
        #expect(lead.lead.phone == "+79001234567")
        #expect(lead.lead.country == "RU")
        #expect(lead.lead.fields["source_id"] == "LC-1001")
        #expect(lead.lead.fields["click_id"] == "f092d155-e7f3-4f78-bcc1-196e775e1dcb")  // LeadCraft's clickID, named by its spec
        #expect(lead.lead.subs["sub1"] == "s1")

        let form = "phone=%2B77011234567&name=Aigerim&country=KZ&lid=LC-1002"
        let f1 = await h.post("/leads", body: form, contentType: "application/x-www-form-urlencoded", headers: auth)
        #expect(f1.status == 200)
        let formId = try #require(f1.response?.json?["id"]?.stringValue)
        #expect(formId != id)
        let f2 = await h.post("/leads", body: form, contentType: "application/x-www-form-urlencoded", headers: auth)
        #expect(f2.response?.json?["id"] == .string(formId))
        #expect(try h.lead("drcash", formId)?.lead.name == "Aigerim")
        #expect(try h.store.leads(LeadQuery(network: "drcash")).count == 2)

        // Validation errors name the field (422). LeadCraft's spec requires its sale id
        // (source_id, `lid` in its words) and UUID click and campaign ids; countries are
        // restricted, so a lead must name its country.
        let cases: [(String, [String])] = [
            (#"{"name": "Иван", "country": "RU", "lid": "LC-9"}"#, ["phone"]),
            (#"{"phone": "12ab", "name": "Иван", "country": "RU", "lid": "LC-9"}"#, ["phone"]),
            (#"{"phone": "+79001234568", "name": "Иван", "country": "US", "lid": "LC-9"}"#, ["country"]),
            (#"{"phone": "+79001234568", "country": "RU", "lid": "LC-9"}"#, ["name"]),
            (#"{"phone": "+79001234568", "name": "  ", "country": "RUS", "lid": "LC-9"}"#, ["country", "name"]),
            (#"{"phone": "", "name": "Иван", "ip": "999.1.1.1", "country": "RU", "lid": "LC-9"}"#, ["phone", "ip"]),
            (#"{"phone": "+79001234568", "name": "Иван", "country": "RU"}"#, ["source_id"]),
            (#"{"phone": "+79001234568", "name": "Иван", "lid": "LC-9"}"#, ["country"]),
            (#"{"phone": "+79001234568", "name": "Иван", "country": "RU", "lid": "LC-9", "clickID": "CLK-9"}"#, ["click_id"]),
            (#"{"phone": "+79001234568", "name": "Иван", "country": "RU", "lid": "LC-9", "campaign_id": "7", "webmaster_id": "w1"}"#, ["campaign_id", "webmaster_id"]),
        ]
        for (body, fields) in cases {
            let r = await h.post("/leads", body: body, contentType: "application/json", headers: auth)
            #expect(r.status == 422, "\(body)")
            #expect(r.response?.json?["status"] == .string("rejected"))
            #expect(Set(Self.errorFields(r)) == Set(fields), "\(body): \(Self.errorFields(r))")
        }
        let badForm = await h.post("/leads", body: "name=X&country=RU", contentType: "application/x-www-form-urlencoded", headers: auth)
        #expect(badForm.status == 422)
        #expect(Set(Self.errorFields(badForm)) == ["phone", "source_id"])
        let notJSON = await h.post("/leads", body: "{not json", contentType: "application/json", headers: auth)
        #expect(notJSON.status == 400)
        #expect(Self.errorFields(notJSON) == ["body"])
        // The bearer token is the only way in.
        let valid = #"{"phone": "+79001234569", "name": "Иван", "country": "RU", "lid": "LC-1003"}"#
        #expect(await h.post("/leads", body: valid, contentType: "application/json").status == 401)
        #expect(await h.post("/leads", body: valid, contentType: "application/json", headers: [("Authorization", "Bearer \(Self.token)")]).status == 401)
        #expect(await h.post("/leads?token=\(Self.intakeToken)", body: valid, contentType: "application/json").status == 401)
        #expect(await h.post("/leads", body: valid + " ", contentType: "application/json", headers: [("Authorization", "Basic \(Self.intakeToken)")]).status == 401)
        #expect(await h.get("/leads", headers: auth).status == 405)
        #expect(try h.store.leads(LeadQuery(network: "drcash")).count == 2)
        let leaked = bytesContain(h.databaseBytes(), Self.intakeToken)
        #expect(!leaked, "the intake token is in the database file")
    }

    /// A source's form that repeats its token in a lead's fields (a comment, a sub id, in
    /// base64, a `token` field) stores the lead with the token masked: the ledger never holds it.
    @Test func anIntakeTokenRepeatedInTheLeadIsNotStored() async throws {
        let h = try ReceiverHarness(config: Self.intakeConfig)
        defer { h.stop() }
        let auth = [("Authorization", "Bearer \(Self.intakeToken)")]
        let base64 = String(Data(Self.intakeToken.utf8).base64EncodedString().prefix { $0 != "=" })
        let json = #"{"phone": "+79001234570", "name": "Иван", "country": "RU", "lid": "LC-2001", "comment": "from \#(Self.intakeToken)", "sub1": "\#(base64)", "token": "\#(Self.intakeToken)"}"#
        let r = await h.post("/leads", body: json, contentType: "application/json", headers: auth)
        #expect(r.status == 200, "\(String(describing: r.response?.text))")
        let form = "phone=%2B79001234571&name=A&country=RU&lid=LC-2002&comment=\(PercentEncoding.rfc3986(Self.intakeToken))"
        #expect(await h.post("/leads", body: form, contentType: "application/x-www-form-urlencoded", headers: auth).status == 200)
        let leads = try h.store.leads(LeadQuery(network: "drcash"))
        #expect(leads.count == 2)
        #expect(leads.contains { $0.lead.fields["comment"] == "from ***" }, "\(leads.map { $0.lead.fields })")
        #expect(!bytesContain(h.databaseBytes(), Self.intakeToken), "the intake token is in the database file")
        #expect(!bytesContain(h.databaseBytes(), base64), "the intake token's base64 is in the database file")
    }

    /// `intake.allow`: leads are taken only from the listed addresses (the guide: "if you
    /// restrict the addresses requests may come from, tell the manager"); the token alone
    /// does not let another address in.
    @Test func leadIntakeTakesOnlyTheAllowedAddresses() async throws {
        let auth = [("Authorization", "Bearer \(Self.intakeToken)")]
        let body = #"{"phone": "+79001234567", "name": "Иван", "country": "RU", "lid": "LC-ALLOW-1"}"#
        let elsewhere = Self.intakeConfig.replacingAll(#""routes": [{"account": "acc"}]"#, with: #""routes": [{"account": "acc"}], "allow": ["203.0.113.0/24"]"#)
        #expect(elsewhere != Self.intakeConfig)
        let closed = try ReceiverHarness(config: elsewhere)
        let refused = await closed.post("/leads", body: body, contentType: "application/json", headers: auth)
        #expect(refused.status == 403 && refused.response?.json?["message"] == .string("address not allowed"))
        #expect(try closed.store.leads(LeadQuery(network: "drcash")).isEmpty)
        closed.stop()
        let here = Self.intakeConfig.replacingAll(#""routes": [{"account": "acc"}]"#, with: #""routes": [{"account": "acc"}], "allow": ["203.0.113.0/24", "127.0.0.1"]"#)
        let open = try ReceiverHarness(config: here)
        defer { open.stop() }
        let taken = await open.post("/leads", body: body, contentType: "application/json", headers: auth)
        #expect(taken.status == 200, "\(String(describing: taken.response?.text))")
        #expect(try open.store.leads(LeadQuery(network: "drcash")).count == 1)
    }

    /// A source that retries a submission on its own timeout sends the same `lid` twice at
    /// once: every answer names one lead, and only one lead is queued for the network.
    /// Forty rounds of sixteen simultaneous submissions (each round its own `lid`).
    @Test func concurrentSubmissionsOfOneLidMakeOneLead() async throws {
        let h = try ReceiverHarness(config: Self.intakeConfig)
        defer { h.stop() }
        let port = h.port
        let rounds = 40, clients = 16
        let outcomes = await offThread { () -> [(Int, WireOutcome)] in
            let results = Locked<[(Int, WireOutcome)]>([])
            for round in 0..<rounds {
                let body = #"{"phone": "+7900555\#(String(format: "%04d", round))", "name": "Иван", "country": "RU", "lid": "LC-RACE-\#(round)"}"#
                let group = DispatchGroup()
                let start = DispatchSemaphore(value: 0)
                for _ in 0..<clients {
                    group.enter()
                    let t = Thread {
                        start.wait()
                        let r = Wire.post(port: port, "/leads", body: body, contentType: "application/json",
                                          headers: [("Authorization", "Bearer \(ReceiverIntegrationTests.intakeToken)")])
                        results.with { $0.append((round, r)) }
                        group.leave()
                    }
                    t.start()
                }
                for _ in 0..<clients { start.signal() }
                group.wait()
            }
            return results.value
        }
        let queued = try h.store.leads(LeadQuery(network: "drcash", limit: 10_000))
        for round in 0..<rounds {
            let mine = outcomes.filter { $0.0 == round }.map(\.1)
            let statuses = mine.map { $0.status ?? 0 }
            #expect(statuses.allSatisfy { $0 == 200 }, "lid LC-RACE-\(round): statuses \(statuses.sorted())")
            let ids = Set(mine.compactMap { $0.response?.json?["id"]?.stringValue })
            #expect(ids.count == 1, "lid LC-RACE-\(round): answers name \(ids.count) different leads")
            let leads = queued.filter { $0.lead.fields["source_id"] == "LC-RACE-\(round)" }
            #expect(leads.count == 1, "lid LC-RACE-\(round): \(leads.count) leads queued for the network")
        }
    }
}

/// A real store whose first write transaction starts only after `meanwhile` ran: what another
/// process committed while this one waited for the writer.
// Sendable: `meanwhile` is a Sendable closure, `ran` is behind a Mutex.
final class InterleavedStore: ForwardingStore, @unchecked Sendable {
    let meanwhile: @Sendable () throws(StoreError) -> Void
    let ran = Mutex(false)

    init(_ inner: any LeadStore, meanwhile: @escaping @Sendable () throws(StoreError) -> Void) {
        self.meanwhile = meanwhile
        super.init(inner)
    }

    override func write<T: Sendable>(_ body: (any LedgerWriter) throws(StoreError) -> T) throws(StoreError) -> T {
        if !ran.withLock({ was in defer { was = true }; return was }) { try meanwhile() }
        return try inner.write(body)
    }
}
