import Foundation
import Synchronization
import Testing
import LeadBridgeCLI
import LeadBridgeCore
import LeadBridgeTestSupport
import LeadBridgeEmulator
import LeadBridgeEngine
import LeadBridgeNet
import LeadBridgeStore

/// A loopback server that records every request byte for byte and answers from a script.
final class RequestLog: Sendable {
    let m = Mutex<[HTTPServerRequest]>([])
    func withLock<T>(_ body: (inout [HTTPServerRequest]) -> T) -> T { m.withLock { body(&$0) } }
}

final class RecordingServer: Sendable {
    let server: HTTPServer
    let received = RequestLog()
    var port: Int { server.boundPort ?? 0 }

    init(_ answer: @escaping @Sendable (HTTPServerRequest, Int) -> HTTPServerResponse) throws {
        let log = received
        server = HTTPServer(configuration: HTTPServerConfiguration(host: "127.0.0.1", port: 0)) { r in
            let n = log.withLock { $0.append(r); return $0.count }
            return answer(r, n)
        }
        try server.start()
    }

    deinit { server.stop(graceful: false, timeout: 1) }
}

@Suite struct SendIntegrationTests {
    static let library = PackageFixtures.library(checks: .fast)

    /// Two networks' real hosts rewritten to one loopback server: the bytes on the wire are the
    /// bytes of the spec's example, the Host header is the network's; a 503 and a 429 leave the
    /// lead queued under the one retry policy (jittered backoff; Retry-After wins), and every
    /// attempt is journaled with its outcome and timing.
    @Test func bytesOnTheWireAndOneRetryPolicy() async throws {
        let server = try RecordingServer { r, n in
            if r.header("Host") == "api.kma.biz" {
                return n == 1 ? HTTPServerResponse.text("busy", status: 503)
                    : .json(#"{"code":0,"message":"OK","status":"ok","order":1033507426,"country":"RU"}"#)
            }
            // TerraLeads: first throttled with Retry-After, then accepted.
            return n <= 3 ? HTTPServerResponse(status: 429, headers: [HTTPHeader("Retry-After", "7")], body: [])
                : .json(#"{"status":"ok","data":{"id":3412987,"status":"expect"}}"#)
        }
        let connect = try ConnectToMap.parse(["api.kma.biz=127.0.0.1:\(server.port),tl-api.com=127.0.0.1:\(server.port)"])
        let store = try SQLiteLeadStore(path: CLI.tempDir() + "/ledger.sqlite")
        let now: Int64 = 1_767_225_600
        let clock = Mutex(now)
        let ledger = Ledger(store: store, library: Self.library, config: nil, retry: RetryPolicy(maxAttempts: 3, baseDelay: 10, maxDelay: 640),
                            clock: { clock.withLock { $0 } }, random: { 0.5 })
        let sender = LeadSender(transport: CurlTransport(connectTo: connect), clock: { now })
        var dues: [String: [Int64]] = [:]
        for id in ["kma", "terraleads"] {
            let spec = try #require(Self.library.spec(id))
            let example = try #require(spec.examples.first { $0.expect.result == .accepted })
            guard case .queued(let queued) = try ledger.enqueue(example.lead, network: id, account: "a") else { Issue.record("not queued"); continue }
            var last: LedgerUpdate?
            for _ in 0..<3 {
                guard let claimed = try ledger.claim(network: id, limit: 1, owner: "t/1/1", lease: 60, dueBy: Int64.max).first else { break }
                let sent = try await ledger.send(claimed, spec: spec, account: try #require(spec.exampleAccount), sender: sender, owner: "t/1/1")
                last = sent.update
                if let due = sent.update?.record.facts.dueAt {
                    dues[id, default: []].append(due)
                    clock.withLock { $0 = due }  // no earlier: a claim before the due time is refused
                }
            }
            let record = try #require(last?.record)
            #expect(record.sendState == .accepted, "\(id): \(record.sendState) \(record.lastError ?? "")")
            #expect(record.externalId == example.expect.externalId)
            #expect(record.attempts == 2)
            let attempts = try store.journal(rowId: queued.rowId).compactMap(\.attempt)
            #expect(attempts.map(\.outcome) == [.failed, .accepted])
            #expect(attempts.allSatisfy { ($0.durationMs ?? -1) >= 0 })
            let expected = example.exchanges[0].request
            let got = server.received.withLock { $0 }.last { $0.header("Host") == URLParts(expected.url)?.host }
            let wire = try #require(got)
            #expect(wire.bodyText == expected.body, "\(id): body on the wire")
            #expect(wire.method == expected.method)
            #expect("http://\(wire.header("Host") ?? "")\(wire.target)".replacingAll("http://", with: "") == expected.url.replacingAll("https://", with: "").replacingAll("http://", with: ""))
            for h in expected.headers { #expect(wire.header(h.name) == h.value, "\(id): header \(h.name)") }
        }
        #expect(dues["kma"] == [now + 8])  // 503: backoff 10 × 2⁰, half fixed + half jittered (0.5) = 7.5, rounded up
        #expect(dues["terraleads"] == [now + 8 + 7])  // 429: Retry-After 7 s (after the clock moved to kma's retry)
    }

    /// Every printed line and the ledger are free of recognisable secrets, in dry runs, real
    /// sends, sync, leads, lead and export.
    @Test func noSecretInAnyOutput() async throws {
        let dir = CLI.tempDir()
        let world = try EmulatedWorld(library: Self.library, networks: ["kma", "leadrock", "terraleads"], folder: dir)
        defer { world.stop() }
        let secrets = ["KMA-TEST-TOKEN-0001", "LR-SECRET-9f8e7d", "TL-API-KEY-3c4d", world.receiverToken]
        let leadPath = dir + "/lead.json"
        CLI.write(#"{"id": "S-1", "phone": "+79001112233", "name": "Иван", "country": "RU", "ip": "203.0.113.7", "user_agent": "UA", "params": {"terra": "8721"}}"#, to: leadPath)
        let env = ["LEADBRIDGE_CONNECT_TO": world.connectTo, "LEADBRIDGE_CONFIG": dir + "/leadbridge.json"]
        var runs: [CLIRun] = []
        for net in ["kma", "leadrock", "terraleads"] {
            runs.append(await CLI.run(["send", net, "--lead", leadPath, "--account", net, "--dry-run"], env: env))
            runs.append(await CLI.run(["send", net, "--lead", leadPath, "--account", net, "--dry-run", "--json"], env: env))
            runs.append(await CLI.run(["send", net, "--lead", leadPath, "--account", net, "--json"], env: env))
            runs.append(await CLI.run(["send", net, "--lead", leadPath, "--account", net], env: env))  // refused: already sent
        }
        runs.append(await CLI.run(["sync", "--json"], env: env))
        runs.append(await CLI.run(["leads", "--json"], env: env))
        runs.append(await CLI.run(["lead", "S-1", "--json"], env: env))
        runs.append(await CLI.run(["export", "--csv"], env: env))
        #expect(runs[2].code == 0, "\(runs[2].err)")
        #expect(runs[3].code == 1 && runs[3].err.contains("already sent to kma"))
        // The same lines in Russian, the default: a send's result and the refusal to send twice.
        let ru = env.merging(["LEADBRIDGE_LANG": ""]) { $1 }
        CLI.write(#"{"id": "S-2", "phone": "+79001112244", "name": "Пётр", "country": "RU", "params": {"terra": "8721"}}"#, to: dir + "/lead2.json")
        runs.append(await CLI.run(["send", "kma", "--lead", dir + "/lead2.json", "--account", "kma"], env: ru))
        #expect(runs.last?.code == 0 && runs.last?.out.hasPrefix("kma S-2: принят") == true, "\(runs.last?.out ?? "")")
        runs.append(await CLI.run(["send", "kma", "--lead", dir + "/lead2.json", "--account", "kma"], env: ru))
        #expect(runs.last?.code == 1 && runs.last?.err.contains("лид S-2 уже отправлялся в kma (принят") == true, "\(runs.last?.err ?? "")")
        #expect(runs.contains { $0.out.contains("***") })  // dry runs show where secrets go
        for r in runs {
            for s in secrets {
                #expect(!r.out.contains(s) && !r.err.contains(s), "secret \(s.prefix(6))… printed")
            }
        }
        let db = try #require(FileManager.default.contents(atPath: dir + "/ledger.sqlite"))
        let wal = FileManager.default.contents(atPath: dir + "/ledger.sqlite-wal") ?? Data()
        for s in secrets {
            #expect((db + wal).range(of: Data(s.utf8)) == nil, "secret \(s.prefix(6))… stored in the ledger")
        }
    }
}
