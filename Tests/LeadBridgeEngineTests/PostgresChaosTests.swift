import Foundation
import Glibc
import Testing
import LeadBridgeCore
import LeadBridgeEmulator
import LeadBridgeEngine
import LeadBridgeNet
import LeadBridgeStore
import LeadBridgeTestSupport

/// Several processes on one PostgreSQL database (a real server started by the tests), with
/// the real binary, killed with `kill -9`: 4 `sync` workers sharing one outbox, 2 `serve`
/// receivers behind a round-robin client, and the database itself stopped and started again.
/// Nothing is sent twice, nothing acknowledged is lost, only requests in flight are uncertain.
@Suite(.serialized) struct PostgresChaosTests {
    typealias Child = CrashSafetyTests.Child
    static let binaryExists = CrashSafetyTests.binaryExists

    /// `leadbridge.json` for one network's accounts and a PostgreSQL store.
    static func configure(_ dir: String, store: String, networks: [String], extra: String = "") throws {
        var accounts: [String] = []
        for id in networks {
            let ex = try #require(EngineFixtures.library.spec(id)?.exampleAccount)
            let creds = ex.credentials.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \"\($0.value)\"" }.joined(separator: ", ")
            let params = ex.params.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \"\($0.value)\"" }.joined(separator: ", ")
            accounts.append("\"\(id)\": {\"network\": \"\(id)\", \"credentials\": {\(creds)}, \"params\": {\(params)}}")
        }
        let config = """
            {"store": "\(store)", "accounts": {\(accounts.joined(separator: ", "))},
             "sync": {"max_attempts": 5, "retry_base_seconds": 1, "poll_interval_seconds": 0}\(extra)}
            """
        try config.write(toFile: dir + "/leadbridge.json", atomically: true, encoding: .utf8)
    }

    /// An emulator on loopback that calls `onRequest(count)` after answering each request.
    static func network(_ networks: [String], slowMs: Int, onRequest: @escaping @Sendable (Int) -> Void) throws -> (NetworkEmulator, HTTPServer, String) {
        var slow = EmulatorFaults()
        slow.slowMs = slowMs
        let emulator = NetworkEmulator(library: EngineFixtures.library, networks: networks, faults: ["*": slow])
        let handled = Locked(0)
        let server = HTTPServer(configuration: HTTPServerConfiguration(host: "127.0.0.1", port: 0, maxConnections: 256)) { request in
            let response = emulator.handle(request)
            onRequest(handled.with { $0 += 1; return $0 })
            return response
        }
        try server.start()
        let connectTo = emulator.hosts.map { "\($0)=127.0.0.1:\(server.boundPort ?? 0)" }.joined(separator: ",")
        return (emulator, server, connectTo)
    }

    static func queue(_ store: any LeadStore, network: String, count: Int) throws -> Set<String> {
        var ids = Set<String>()
        for i in 0..<count {
            let lead = try CrashSafetyTests.lead(network, 3, i)
            guard case .queued = try EngineFixtures.enqueue(store, lead, network: network, account: network, at: Int64(Date().timeIntervalSince1970)) else {
                Issue.record("\(lead.id) not queued")
                continue
            }
            ids.insert(lead.id)
        }
        return ids
    }

    static func states(_ store: any LeadStore) throws -> [String: Int] {
        Dictionary(grouping: try store.leads(LeadQuery(limit: 100_000, withData: false)), by: \.sendState.rawValue).mapValues(\.count)
    }

    /// Passes until nothing is queued, claimed or being sent (bounded).
    static func drain(_ store: any LeadStore, env: [String: String], dir: String) async throws -> Int {
        for _ in 0..<6 {
            let open = try [SendState.queued, .claimed, .sending].reduce(0) { n, s in n + (try store.leads(LeadQuery(state: s, limit: 100_000, withData: false)).count) }
            if open == 0 { return 0 }
            let more = try Child(["sync", "--json"], env: env, cwd: dir)
            _ = await offThread { more.wait(seconds: 90) }
        }
        return try [SendState.queued, .claimed, .sending].reduce(0) { n, s in n + (try store.leads(LeadQuery(state: s, limit: 100_000, withData: false)).count) }
    }

    // MARK: four sync workers, two of them killed

    @Test(.enabled(if: binaryExists, "needs the built binary .build/debug/leadbridge (run `swift build` first)"), .timeLimit(.minutes(3)))
    func fourSyncWorkersKilledAtRandomSendNothingTwiceAndLoseNothing() async throws {
        let network = "kma"
        let total = 2_000
        let url = try PostgresScratchServer.shared().freshDatabase("chaos").socket
        let workers = Locked<[Int32]>([])
        let killed = Locked<[Int32]>([])
        let (emulator, server, connectTo) = try Self.network([network], slowMs: 5) { n in
            guard n == 400 || n == 1_000 else { return }
            // kill -9 of a random worker still running.
            let alive = workers.value.filter { pid in !killed.value.contains(pid) }
            guard let pid = alive.randomElement() else { return }
            killed.with { $0.append(pid) }
            kill(pid, SIGKILL)
        }
        defer { server.stop(graceful: false, timeout: 1) }
        let dir = try CrashSafetyTests.tempDir("pg-workers")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.configure(dir, store: url, networks: [network])
        let store = try PostgresLeadStore(location: PostgresLocation(url, environment: [:]))
        let allIds = try Self.queue(store, network: network, count: total)
        #expect(allIds.count == total)
        let env = CrashSafetyTests.environment(dir, ["LEADBRIDGE_CONNECT_TO": connectTo])

        // 1. One pass and three workers joining it, on one database.
        let started = monotonicNow()
        var children: [Child] = []
        for w in 0..<4 { children.append(try Child(w == 0 ? ["sync", "--json"] : ["sync", "--json", "--join"], env: env, cwd: dir)) }
        workers.with { $0 = children.map(\.pid) }
        var exits: [(status: Int32, signaled: Bool)?] = []
        for c in children { exits.append(await offThread { c.wait(seconds: 120) }) }
        let killedCount = exits.filter { $0?.signaled == true && $0?.status == SIGKILL }.count
        #expect(killedCount == 2, "workers killed: \(exits) \(children.map(\.stderr))")
        for (c, e) in zip(children, exits) where e?.signaled == false {
            #expect(e?.status == 0, "a worker that was not killed failed: \(String(describing: e)) \(c.stderr)")
        }
        for _ in 0..<500 where server.connectionCount > 0 { usleep(10_000) }
        // Requests in flight when the workers died: written, never answered.
        let inflight = Set(try store.leads(LeadQuery(state: .sending, limit: 10_000, withData: false)).map(\.orderId))
        let concurrency = EngineFixtures.library.spec(network)?.send?.concurrency ?? 4
        // Per kill: the requests on the wire and the answers not yet recorded (at most
        // `maxUnrecordedAnswers` waiting for their commit, plus one per request on the wire that
        // came while it committed), and the leads marked written ahead of their turn
        // (8 or the concurrency, whichever is more: their requests never went out).
        let unrecorded = max(SyncOptions().maxUnrecordedAnswers, concurrency)
        #expect(inflight.count <= 2 * (2 * concurrency + unrecorded + max(8, concurrency)), "in flight at the kills: \(inflight.count)")

        // 2. The next passes recover the dead workers' claims and send the rest.
        #expect(try await Self.drain(store, env: env, dir: dir) == 0, "the outbox is not empty: \((try? Self.states(store)) ?? [:])")
        let seconds = monotonicNow() - started

        // 0 double sends, 0 lost, uncertain only for the requests in flight.
        let records = try store.leads(LeadQuery(limit: 10_000, withData: false))
        #expect(Set(records.map(\.orderId)) == allIds)
        let uncertain = Set(records.filter { $0.sendState == .uncertain }.map(\.orderId))
        let accepted = records.filter { $0.sendState == .accepted }
        #expect(uncertain == inflight)
        #expect(accepted.count + uncertain.count == total, "states: \((try? Self.states(store)) ?? [:])")
        let emulated = Dictionary(emulator.leads.map { ($0.orderId, $0) }, uniquingKeysWith: { a, _ in a })
        let doubles = emulator.leads.reduce(0) { $0 + $1.repeatSends }
        let requests = emulator.counters.values.reduce(0) { $0 + ($1["requests"] ?? 0) }
        #expect(doubles == 0, "orders sent again after the network had them")
        #expect(requests == emulated.count, "requests beyond one per order id")
        #expect(Set(accepted.map(\.orderId)).isSubset(of: Set(emulated.keys)))
        #expect(Set(emulated.keys).isSubset(of: allIds))
        let lost = total - accepted.count - uncertain.count
        print("chaos figures: 4 sync workers on one PostgreSQL database, \(total) queued leads, \(killedCount) workers killed with kill -9 during the pass: "
              + "\(requests) requests for \(emulated.count) order ids, \(doubles) double sends, \(lost) lost, \(uncertain.count) uncertain "
              + "(= \(inflight.count) requests in flight at the kills), \(accepted.count) accepted, \(Int(seconds)) s")
    }

    // MARK: two serve processes, one killed

    @Test(.enabled(if: binaryExists, "needs the built binary .build/debug/leadbridge (run `swift build` first)"), .timeLimit(.minutes(3)))
    func twoServesOneKilledLoseNoAcknowledgedPostback() async throws {
        let token = "PG-SERVE-TOKEN-7f3a"
        let url = try PostgresScratchServer.shared().freshDatabase("serves").socket
        let dir = try CrashSafetyTests.tempDir("pg-serves")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.configure(dir, store: url, networks: ["drcash"], extra: #", "receiver": {"listen": "127.0.0.1:0", "token": "\#(token)"}"#)
        let store = try PostgresLeadStore(location: PostgresLocation(url, environment: [:]))
        let leads = 200
        for i in 0..<leads { try EngineFixtures.accepted(store, try CrashSafetyTests.lead("drcash", 7, i), network: "drcash", account: "drcash", at: 1_767_225_600) }
        var serves: [Child] = []
        var ports: [Int] = []
        for _ in 0..<2 {
            let serve = try Child(["serve", "--listen", "127.0.0.1:0"], env: CrashSafetyTests.environment(dir), cwd: dir, pipeStdout: true)
            serves.append(serve)
            let port = serve.listeningPort()
            try #require(port > 0, "serve did not start: \(serve.stderr)")
            ports.append(port)
        }
        defer { for s in serves { s.kill9() } }

        // One postback stream spread over both (a round-robin balancer): a request the dead
        // one cannot take goes to the other, as a balancer would send it.
        struct Ack: Sendable { var marker: String; var status: Int }
        let killAt = 600, perClient = 400, clients = 4
        let victim = serves[0].pid, victimPort = ports[0], allPorts = ports, first = serves[0]
        let acks = await offThread { () -> [Ack] in
            let acks = Locked<[Ack]>([])
            let answered = Locked(0)
            // Once killed, its port is never dialled again (a balancer takes a dead backend out):
            // the freed port may be bound at once by another test's server, whose 404 to a
            // postback would count as this serve's answer.
            let victimDead = Locked(false)
            let group = DispatchGroup()
            for c in 0..<clients {
                group.enter()
                Thread.detachNewThread {
                    defer { group.leave() }
                    var conns: [Int: WireConnection] = [:]
                    for n in 0..<perClient {
                        let marker = "c\(c)-\(n)"
                        let oid = "DRCASH-\((c * 31 + n) % leads)"
                        var tries = 0
                        while tries < 6 {
                            let port = allPorts[(n + tries) % allPorts.count]
                            tries += 1
                            if port == victimPort && victimDead.value {
                                conns[port] = nil
                                continue
                            }
                            guard let conn = conns[port] ?? (try? WireConnection(port: port, timeout: 5)) else { continue }
                            conns[port] = conn
                            guard conn.write("GET /postback/drcash?token=\(token)&oid=\(oid)&status=approved&comment=\(marker) HTTP/1.1\r\nHost: x\r\n\r\n"),
                                  case .response(let r) = conn.readResponse() else {
                                conns[port] = nil
                                continue
                            }
                            acks.with { $0.append(Ack(marker: marker, status: r.status)) }
                            if answered.with({ $0 += 1; return $0 }) == killAt {
                                victimDead.with { $0 = true }
                                kill(victim, SIGKILL)
                            }
                            break
                        }
                    }
                }
            }
            group.wait()
            return acks.value
        }
        let exit = await offThread { first.wait(seconds: 10) }
        #expect(exit?.signaled == true && exit?.status == SIGKILL)
        let acknowledged = acks.filter { $0.status == 200 }
        #expect(acknowledged.count >= clients * perClient - 10, "answers: \(Dictionary(grouping: acks, by: \.status).mapValues(\.count))")
        // Every acknowledged postback is in the ledger.
        let stored = Set(try store.postbacks(PostbackQuery(limit: 100_000)).compactMap { (p: RawPostbackRecord) -> String? in
            p.raw.query.split(separator: "&").first(where: { (part: Substring) in part.hasPrefix("comment=") }).map { String($0.dropFirst(8)) }
        })
        let missing = acknowledged.filter { !stored.contains($0.marker) }
        #expect(missing.isEmpty, "acknowledged but not stored: \(missing.prefix(5).map(\.marker))")
        print("chaos figures: 2 serve processes on one PostgreSQL database, one killed with kill -9 after \(killAt) answers: "
              + "\(acknowledged.count) postbacks acknowledged, \(stored.count) stored, \(missing.count) acknowledged postbacks lost")
    }

    // MARK: the database stopped and started again

    @Test(.enabled(if: binaryExists, "needs the built binary .build/debug/leadbridge (run `swift build` first)"), .timeLimit(.minutes(3)))
    func theDatabaseStoppedMidPassGivesClearErrorsAndLosesNothing() async throws {
        let database = try PostgresScratchServer()
        defer { database.destroy() }
        let network = "kma"
        let total = 600
        let (emulator, server, connectTo) = try Self.network([network], slowMs: 10) { n in
            guard n == 150 else { return }
            // The database goes away while the pass is sending (a fast shutdown: every
            // session is cut, nothing committed is lost).
            Thread.detachNewThread { _ = try? database.stop() }
        }
        defer { server.stop(graceful: false, timeout: 1) }
        let dir = try CrashSafetyTests.tempDir("pg-restart")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let token = "PG-RESTART-TOKEN-19c"
        try Self.configure(dir, store: database.socketURL, networks: [network], extra: #", "receiver": {"listen": "127.0.0.1:0", "token": "\#(token)"}"#)
        let store = try PostgresLeadStore(location: PostgresLocation(database.socketURL, environment: [:]))
        let allIds = try Self.queue(store, network: network, count: total)
        let env = CrashSafetyTests.environment(dir, ["LEADBRIDGE_CONNECT_TO": connectTo])
        let serve = try Child(["serve", "--listen", "127.0.0.1:0"], env: env, cwd: dir, pipeStdout: true)
        defer { serve.kill9() }
        let port = serve.listeningPort()
        try #require(port > 0, "serve did not start: \(serve.stderr)")

        // 1. The pass that loses its database: a clear error, exit 2.
        let pass = try Child(["sync", "--json"], env: env, cwd: dir)
        let passExit = await offThread { pass.wait(seconds: 90) }
        #expect(passExit?.status == 2 && passExit?.signaled == false, "\(String(describing: passExit)) \(pass.stderr)")
        #expect(pass.stderr.contains("PostgreSQL postgresql://leadbridge@/postgres?host=\(database.directory)"), "\(pass.stderr)")
        #expect(pass.stderr.contains("lost the connection") || pass.stderr.contains("cannot connect"), "\(pass.stderr)")
        // (The stop has finished once the server's pid file is gone.)
        let pidFile = database.directory + "/data/postmaster.pid"
        _ = await offThread { for _ in 0..<600 where FileManager.default.fileExists(atPath: pidFile) { usleep(10_000) } }

        // 2. serve meanwhile: 503 with Retry-After, never a 200 for what it could not store.
        let down = try #require(try? WireConnection(port: port, timeout: 10))
        #expect(down.write("GET /postback/kma?token=\(token)&oid=KMA-1&status=approved&comment=down HTTP/1.1\r\nHost: x\r\n\r\n"))
        guard case .response(let refused) = down.readResponse() else { Issue.record("no answer from serve"); return }
        #expect(refused.status == 503)
        #expect(refused.header("Retry-After") != nil, "\(refused.headers)")
        #expect(!refused.text.contains(database.directory), "the reply names the database: \(refused.text)")

        // 3. The database comes back: serve stores again, the next passes complete.
        try database.restart()
        var back = 0
        for i in 0..<50 {
            let conn = try? WireConnection(port: port, timeout: 10)
            guard let conn, conn.write("GET /postback/kma?token=\(token)&oid=KMA-2&status=approved&comment=up-\(i) HTTP/1.1\r\nHost: x\r\n\r\n"),
                  case .response(let r) = conn.readResponse() else { continue }
            back = r.status
            if back != 503 { break }
            usleep(200_000)
        }
        #expect(back == 200, "serve did not recover: \(serve.stderr)")
        #expect(serve.stderr.contains("not stored") && serve.stderr.contains("the store is back"), "\(serve.stderr)")
        let inflight = Set(try store.leads(LeadQuery(state: .sending, limit: 10_000, withData: false)).map(\.orderId))
        #expect(try await Self.drain(store, env: env, dir: dir) == 0, "the outbox is not empty: \((try? Self.states(store)) ?? [:])")
        let records = try store.leads(LeadQuery(limit: 10_000, withData: false))
        #expect(Set(records.map(\.orderId)) == allIds)
        let uncertain = Set(records.filter { $0.sendState == .uncertain }.map(\.orderId))
        #expect(uncertain == inflight)
        #expect(records.filter { $0.sendState == .accepted }.count == total - uncertain.count, "states: \((try? Self.states(store)) ?? [:])")
        #expect(emulator.leads.allSatisfy { $0.repeatSends == 0 })
        #expect(try store.postbacks(PostbackQuery(limit: 1_000)).contains { $0.raw.query.contains("comment=up-") })
        #expect(!(try store.postbacks(PostbackQuery(limit: 1_000)).contains { $0.raw.query.contains("comment=down") }))
        print("chaos figures: PostgreSQL stopped after 150 of \(total) sends and started again: sync exit 2 with the store named, serve 503 + Retry-After "
              + "while it was down and 200 after; \(uncertain.count) uncertain (= requests in flight), 0 lost, 0 double sends")
    }
}

extension CrashSafetyTests.Child {
    /// The port `serve` announces on stdout ("listening on http://127.0.0.1:PORT"), 0 if none came.
    func listeningPort() -> Int {
        for _ in 0..<20 {
            guard let line = line(within: 15) else { break }
            if let r = line.range(of: "listening on http://127.0.0.1:") { return Int(line[r.upperBound...].prefix { $0.isNumber }) ?? 0 }
        }
        return 0
    }
}
