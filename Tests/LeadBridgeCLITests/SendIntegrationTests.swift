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

/// Records waits instead of sleeping, so Retry-After is checked without timing.
final class RecordingSleeper: Sleeper {
    let waits = Mutex<[Double]>([])
    func sleep(seconds: Double) async { waits.withLock { $0.append(seconds) } }
}

@Suite struct SendIntegrationTests {
    static let library = PackageFixtures.library(checks: .fast)

    /// Two networks' real hosts rewritten to one loopback server: the bytes on the wire are the
    /// bytes of the spec's example, the Host header is the network's, a 503 is retried, and a 429's
    /// Retry-After is honoured.
    @Test func bytesOnTheWireRetriesAndRetryAfter() async throws {
        let server = try RecordingServer { r, n in
            if r.header("Host") == "api.kma.biz" {
                return n == 1 ? HTTPServerResponse.text("busy", status: 503)
                    : .json(#"{"code":0,"message":"OK","status":"ok","order":1033507426,"country":"RU"}"#)
            }
            // TerraLeads: first throttled with Retry-After, then accepted.
            let count = n
            return count <= 3 ? HTTPServerResponse(status: 429, headers: [HTTPHeader("Retry-After", "7")], body: [])
                : .json(#"{"status":"ok","data":{"id":3412987,"status":"expect"}}"#)
        }
        let connect = try ConnectToMap.parse(["api.kma.biz=127.0.0.1:\(server.port),tl-api.com=127.0.0.1:\(server.port)"])
        let sleeper = RecordingSleeper()
        let sender = LeadSender(transport: CurlTransport(connectTo: connect), retry: RetryPolicy(maxAttempts: 3, baseDelay: 0.5), sleeper: sleeper,
                                random: { 0.5 }, clock: { 1_767_225_600 })
        for id in ["kma", "terraleads"] {
            let spec = try #require(Self.library.spec(id))
            let example = try #require(spec.examples.first { $0.expect.result == .accepted })
            let report = try await sender.send(spec: spec, lead: example.lead, account: try #require(spec.exampleAccount))
            #expect(report.outcome.kind == .accepted, "\(id): \(report.outcome)")
            #expect(report.outcome.externalId == example.expect.externalId)
            #expect(report.attempts.count == 2)
            let expected = example.exchanges[0].request
            let got = server.received.withLock { $0 }.last { $0.header("Host") == URLParts(expected.url)?.host }
            let wire = try #require(got)
            #expect(wire.bodyText == expected.body, "\(id): body on the wire")
            #expect(wire.method == expected.method)
            #expect("http://\(wire.header("Host") ?? "")\(wire.target)".replacingAll("http://", with: "") == expected.url.replacingAll("https://", with: "").replacingAll("http://", with: ""))
            for h in expected.headers { #expect(wire.header(h.name) == h.value, "\(id): header \(h.name)") }
        }
        let waits = sleeper.waits.withLock { $0 }
        #expect(waits.count == 2)
        #expect(waits[0] == 0.375)  // 503: backoff 0.5 × 2⁰, half fixed + half jittered (0.5) = 0.25 + 0.125
        #expect(waits[1] == 7)  // 429: Retry-After 7 s
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
