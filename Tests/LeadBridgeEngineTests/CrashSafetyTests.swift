import Foundation
import Glibc
import Testing
import LeadBridgeCore
import LeadBridgeEmulator
import LeadBridgeEngine
import LeadBridgeNet
import LeadBridgeStore

/// `kill -9` of the real binary: in the middle of a `sync` over 1,000 leads (nothing lost,
/// nothing sent twice, the interrupted leads `uncertain`, the next pass goes on), and of
/// `serve` under load (every acknowledged postback is in the ledger).
@Suite(.serialized) struct CrashSafetyTests {
    static let binary = EngineFixtures.root + "/.build/debug/leadbridge"
    static let binaryExists = FileManager.default.isExecutableFile(atPath: binary)

    /// The binary as a child process; stdout to a file (or a pipe read with timeouts, for a
    /// line announcing the port), stderr to a file.
    final class Child: @unchecked Sendable {
        // @unchecked: `process` and `pending` are only touched from one thread at a time
        // (the test's, or the thread it hands the wait to); `exited` is a semaphore.
        let process = Process()
        let stdout = Pipe()
        let stdoutPath: String?
        let stderrPath: String
        let exited = DispatchSemaphore(value: 0)
        private var pending: [UInt8] = []

        init(_ args: [String], env: [String: String], cwd: String, pipeStdout: Bool = false) throws {
            let tag = UUID().uuidString.prefix(8)
            stderrPath = cwd + "/stderr-\(tag).txt"
            stdoutPath = pipeStdout ? nil : cwd + "/stdout-\(tag).txt"
            _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
            process.executableURL = URL(fileURLWithPath: CrashSafetyTests.binary)
            process.arguments = args
            process.environment = env
            process.currentDirectoryURL = URL(fileURLWithPath: cwd)
            if let stdoutPath {
                _ = FileManager.default.createFile(atPath: stdoutPath, contents: nil)
                process.standardOutput = FileHandle(forWritingAtPath: stdoutPath)
            } else {
                process.standardOutput = stdout
            }
            process.standardError = FileHandle(forWritingAtPath: stderrPath)
            process.standardInput = FileHandle.nullDevice
            let exited = self.exited
            process.terminationHandler = { _ in exited.signal() }
            try process.run()
        }

        var pid: Int32 { process.processIdentifier }

        func kill9() { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

        /// Waits for the exit; nil when it did not come in time (the child is then killed).
        func wait(seconds: Double) -> (status: Int32, signaled: Bool)? {
            if exited.wait(timeout: .now() + seconds) == .timedOut {
                kill9()
                _ = exited.wait(timeout: .now() + 5)
                return nil
            }
            return (process.terminationStatus, process.terminationReason == .uncaughtSignal)
        }

        /// The next stdout line, within `seconds`.
        func line(within seconds: Double) -> String? {
            let fd = stdout.fileHandleForReading.fileDescriptor
            let deadline = monotonicNow() + seconds
            while true {
                if let nl = pending.firstIndex(of: 10) {
                    let line = String(decoding: pending[..<nl], as: UTF8.self)
                    pending.removeFirst(nl + 1)
                    return line
                }
                let left = deadline - monotonicNow()
                guard left > 0 else { return nil }
                var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                guard poll(&p, 1, Int32(left * 1000)) > 0 else { return nil }
                var chunk = [UInt8](repeating: 0, count: 4096)
                let n = read(fd, &chunk, chunk.count)
                guard n > 0 else { return nil }
                pending += chunk[0..<n]
            }
        }

        /// Everything left on stdout (after the exit).
        func rest() -> String {
            if let stdoutPath { return (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
            let data = stdout.fileHandleForReading.readDataToEndOfFile()
            return String(decoding: pending + Array(data), as: UTF8.self)
        }

        var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }
    }

    static func environment(_ dir: String, _ extra: [String: String] = [:]) -> [String: String] {
        var env = ["LEADBRIDGE_HOME": EngineFixtures.root, "LEADBRIDGE_CONFIG": dir + "/leadbridge.json", "PATH": "/usr/bin:/bin", "HOME": dir, "LEADBRIDGE_LANG": "en"]
        for (k, v) in extra { env[k] = v }
        return env
    }

    static func tempDir(_ name: String) throws -> String {
        let dir = NSTemporaryDirectory() + "leadbridge-crash-\(name)-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    static func sql(_ store: SQLiteLeadStore, _ q: String, _ values: [SQLValue] = []) throws -> [SQLRow] {
        try store.database.read { (tx: borrowing SQLiteTransaction) throws(StoreError) in try tx.query(q, values) }
    }

    /// A lead the emulated network accepts: the spec's own example lead, a new id and phone.
    static func lead(_ network: String, _ n: Int, _ i: Int) throws -> Lead {
        let spec = try #require(EngineFixtures.library.spec(network))
        var lead = try #require(spec.examples.first { $0.expect.result == .accepted }?.lead)
        lead.id = "\(network.uppercased())-\(i)"
        lead.phone = "+7900\(n)" + String(format: "%06d", i)
        return lead
    }

    // MARK: sync

    @Test(.enabled(if: binaryExists, "needs the built binary .build/debug/leadbridge (run `swift build` first)"), .timeLimit(.minutes(2)))
    func killNineInTheMiddleOfASyncLosesNothingAndSendsNothingTwice() async throws {
        let library = EngineFixtures.library
        let networks = ["drcash", "kma"]
        let perNetwork = 500
        var slow = EmulatorFaults()
        slow.slowMs = 5
        let emulator = NetworkEmulator(library: library, networks: networks, faults: ["*": slow])
        // The emulator kills the sync itself while it holds the 400th send: that lead is
        // claimed and accepted by the network, and its answer never arrives.
        let killAt = 400
        let victim = Locked<Int32?>(nil)
        let handled = Locked(0)
        let killedDuring = Locked<String?>(nil)
        let server = EmulatorServer(configuration: EmulatorServer.Configuration(host: "127.0.0.1", port: 0, maxConnections: 256)) { request in
            let response = emulator.handle(request)
            if handled.with({ $0 += 1; return $0 }) == killAt, let pid = victim.value {
                killedDuring.with { $0 = request.bodyText + " " + request.query }
                kill(pid, SIGKILL)
            }
            return response
        }
        try server.start()
        defer { server.stop(graceful: false, timeout: 1) }
        let connectTo = emulator.hosts.map { "\($0)=127.0.0.1:\(server.boundPort ?? 0)" }.joined(separator: ",")

        let dir = try Self.tempDir("sync")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var accounts = JSONObject()
        for id in networks {
            let ex = try #require(library.spec(id)?.exampleAccount)
            accounts[id] = .obj([("network", .string(id)),
                                 ("credentials", .object(JSONObject(ex.credentials.sorted { $0.key < $1.key }.map { JSONMember(key: $0.key, value: .string($0.value)) }))),
                                 ("params", .object(JSONObject(ex.params.sorted { $0.key < $1.key }.map { JSONMember(key: $0.key, value: .string($0.value)) })))])
        }
        let config = JSONValue.obj([("store", .string("ledger.sqlite")), ("accounts", .object(accounts)),
                                    ("sync", .obj([("max_attempts", .int(5)), ("retry_base_seconds", .int(1)), ("poll_interval_seconds", .int(0))]))])
        try (JSONWriter.pretty(config) + "\n").write(toFile: dir + "/leadbridge.json", atomically: true, encoding: .utf8)
        var allIds = Set<String>()
        do {
            let store = try SQLiteLeadStore(path: dir + "/ledger.sqlite")
            for (n, id) in networks.enumerated() {
                for i in 0..<perNetwork {
                    let lead = try Self.lead(id, n, i)
                    guard case .queued = try EngineFixtures.enqueue(store, lead, network: id, account: id, at: Int64(Date().timeIntervalSince1970)) else {
                        Issue.record("\(lead.id) not queued")
                        continue
                    }
                    allIds.insert(lead.id)
                }
            }
        }
        #expect(allIds.count == 1000)
        let env = Self.environment(dir, ["LEADBRIDGE_CONNECT_TO": connectTo])

        // 1. The pass that dies.
        let first = try Child(["sync", "--json"], env: env, cwd: dir)
        victim.with { $0 = first.pid }
        let firstExit = await offThread { first.wait(seconds: 60) }
        #expect(firstExit?.signaled == true && firstExit?.status == SIGKILL, "sync was not killed: \(String(describing: firstExit)) \(first.stderr)")
        #expect(killedDuring.value != nil, "the kill did not happen during a send")
        // Requests the dead pass had already sent finish at the emulator (bounded wait).
        for _ in 0..<500 where server.connectionCount > 0 { usleep(10_000) }
        let knownAtKill = Set(emulator.leads.map(\.orderId))
        #expect(knownAtKill.count >= killAt && knownAtKill.count <= killAt + 8, "the emulator accepted \(knownAtKill.count) leads before the kill")

        var inflight = Set<String>()
        var queuedAfterKill = 0
        do {
            let store = try SQLiteLeadStore(path: dir + "/ledger.sqlite")
            inflight = Set(try store.leads(LeadQuery(state: .sending, limit: 10_000)).map(\.orderId))
            queuedAfterKill = try store.leads(LeadQuery(state: .queued, limit: 10_000)).count + (try store.leads(LeadQuery(state: .claimed, limit: 10_000)).count)
            #expect(try store.leads(LeadQuery(limit: 10_000)).count == 1000, "leads lost by the kill")
        }
        #expect(!inflight.isEmpty, "no lead was in flight at the kill")
        // `sending` at the kill: the requests on the wire (concurrency 4) and the answers not
        // yet recorded — at most 16 waiting for their commit by time or count, plus those that
        // came (one per request on the wire) while it committed — and the leads marked written
        // ahead of their turn (8), whose requests never went out.
        #expect(inflight.count <= 4 + SyncOptions().maxUnrecordedAnswers + 4 + 8, "in flight at the kill: \(inflight.sorted())")
        #expect(queuedAfterKill > 0, "the first pass finished before the kill")
        // The lead whose answer was cut is among the in-flight ones, and the network has it.
        #expect(!inflight.isDisjoint(with: knownAtKill))

        // 2. The next pass settles the interrupted leads as uncertain and sends the rest.
        let second = try Child(["sync", "--json"], env: env, cwd: dir)
        let secondExit = await offThread { second.wait(seconds: 60) }
        let output = second.rest()
        #expect(secondExit?.status == 2, "second pass: \(String(describing: secondExit)) \(second.stderr)")
        let summary = try #require(output.split(separator: "\n").last.flatMap { try? JSONParser.parse(String($0)) }, "no summary in: \(output)")
        #expect(Set(summary["uncertain"]?.arrayValue?.compactMap(\.stringValue) ?? []) == inflight)
        // Further passes until the outbox is empty (bounded).
        var passes = 2
        var remaining = Int.max
        while passes < 6 {
            let store = try SQLiteLeadStore(path: dir + "/ledger.sqlite")
            remaining = try [SendState.queued, .claimed, .sending].reduce(0) { n, s in n + (try store.leads(LeadQuery(state: s, limit: 10_000)).count) }
            if remaining == 0 { break }
            let more = try Child(["sync", "--json"], env: env, cwd: dir)
            _ = await offThread { more.wait(seconds: 60) }
            passes += 1
        }
        #expect(remaining == 0, "the outbox is not empty after \(passes) passes")
        let requestsBefore = emulator.counters.values.reduce(0) { $0 + ($1["requests"] ?? 0) }
        let last = try Child(["sync", "--json"], env: env, cwd: dir)
        let lastExit = await offThread { last.wait(seconds: 60) }
        #expect(lastExit?.status == 0, "a pass with nothing to do: \(String(describing: lastExit)) \(last.stderr)")
        #expect(emulator.counters.values.reduce(0) { $0 + ($1["requests"] ?? 0) } == requestsBefore)

        // Nothing lost, nothing sent twice, the interrupted ones uncertain and not resent.
        let store = try SQLiteLeadStore(path: dir + "/ledger.sqlite")
        let records = try store.leads(LeadQuery(limit: 10_000))
        #expect(Set(records.map(\.orderId)) == allIds)
        let uncertain = Set(records.filter { $0.sendState == .uncertain }.map(\.orderId))
        let accepted = records.filter { $0.sendState == .accepted }
        #expect(uncertain == inflight)
        #expect(accepted.count == 1000 - inflight.count, "send states: \(Dictionary(grouping: records, by: \.sendState.rawValue).mapValues(\.count))")
        let emulated = Dictionary(emulator.leads.map { ($0.orderId, $0) }, uniquingKeysWith: { a, _ in a })
        #expect(emulator.leads.allSatisfy { $0.repeatSends == 0 }, "an order was sent again after the network accepted it")
        #expect(emulator.counters.values.allSatisfy { ($0["duplicate"] ?? 0) == 0 && ($0["rejected"] ?? 0) == 0 }, "\(emulator.counters)")
        #expect(emulator.counters.values.reduce(0) { $0 + ($1["requests"] ?? 0) } == emulated.count, "requests beyond one per lead")
        for r in accepted {
            #expect(emulated[r.orderId]?.externalId == r.externalId, "\(r.orderId): ledger \(r.externalId ?? "nil"), network \(emulated[r.orderId]?.externalId ?? "unknown")")
        }
        // Uncertain leads the network never saw were not sent afterwards either.
        for id in inflight where !knownAtKill.contains(id) { #expect(emulated[id] == nil, "\(id) was resent") }
        #expect(Set(emulated.keys) == Set(accepted.map(\.orderId)).union(inflight.intersection(knownAtKill)))
        let repeated = try Self.sql(store, "SELECT lead_id FROM journal WHERE attempt IS NOT NULL GROUP BY lead_id HAVING count(*) > 1")
        #expect(repeated.isEmpty, "\(repeated.count) leads have more than one send attempt")
        #expect(try Self.sql(store, "PRAGMA integrity_check").first?.text("integrity_check") == "ok")
        // The network's postback settles an uncertain lead: accepted, out of the outbox.
        let settle = try #require(inflight.sorted().first)
        let network = try #require(records.first { $0.orderId == settle }?.network)
        let ingest = PostbackIngest(ledger: Ledger(store: store, library: library, config: nil), library: library)
        let reply = ingest.ingest(RawPostback(receivedAt: Int64(Date().timeIntervalSince1970), network: network, remote: "127.0.0.1", method: "GET",
                                              path: "/postback/\(network)", query: "oid=\(settle)&status=approved", body: []))
        ingest.shutdown()
        #expect(reply.status == 200, "\(reply.text)")
        let settled = try #require(try store.lead(network: network, orderId: settle))
        #expect(settled.sendState == .accepted)
        #expect(settled.status?.bucket == .approved)
        #expect(settled.facts.dueAt == nil && settled.facts.claim == nil)  // out of the queue for good
    }

    // MARK: serve

    @Test(.enabled(if: binaryExists, "needs the built binary .build/debug/leadbridge (run `swift build` first)"), .timeLimit(.minutes(2)))
    func killNineOfServeUnderLoadKeepsEveryAcknowledgedPostback() async throws {
        let token = "SERVE-CRASH-TOKEN-41b2"
        let dir = try Self.tempDir("serve")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = #"{"store": "ledger.sqlite", "accounts": {"acc": {"network": "drcash", "credentials": {"token": "DRC-TEST-TOKEN-0001"}, "params": {"drcash": "iu244"}}}, "receiver": {"listen": "127.0.0.1:0", "token": "\#(token)"}}"#
        try config.write(toFile: dir + "/leadbridge.json", atomically: true, encoding: .utf8)
        let leads = 300
        do {
            let store = try SQLiteLeadStore(path: dir + "/ledger.sqlite")
            for i in 0..<leads {
                try EngineFixtures.accepted(store, try Self.lead("drcash", 7, i), network: "drcash", account: "acc", at: 1_767_225_600)
            }
        }
        let serve = try Child(["serve", "--listen", "127.0.0.1:0"], env: Self.environment(dir), cwd: dir, pipeStdout: true)
        defer { serve.kill9() }
        var port = 0
        for _ in 0..<20 {
            guard let line = serve.line(within: 15) else { break }
            if let r = line.range(of: "listening on http://127.0.0.1:") { port = Int(line[r.upperBound...].prefix { $0.isNumber }) ?? 0; break }
        }
        try #require(port > 0, "serve did not start: \(serve.stderr)")

        // Six clients on keep-alive connections; the one that gets the 1500th answer kills the
        // server, so the others are cut in the middle of their requests.
        struct Ack: Sendable { var marker: String; var oid: String; var status: Int }
        let clients = 6, killAt = 1500
        let pid = serve.pid, serverPort = port
        let (acks, cut) = await offThread { () -> ([Ack], Int) in
            let acks = Locked<[Ack]>([])
            let answered = Locked(0)
            let cut = Locked(0)
            // Once killed, its port is not dialled again: the freed port may be bound at once by
            // another test's server, whose answers would count as this serve's.
            let killed = Locked(false)
            let group = DispatchGroup()
            for c in 0..<clients {
                group.enter()
                let t = Thread {
                    defer { group.leave() }
                    var n = 0
                    let deadline = monotonicNow() + 20
                    connecting: while monotonicNow() < deadline {
                        guard !killed.value, let conn = try? WireConnection(port: serverPort, timeout: 5) else { return }  // the server is gone
                        while monotonicNow() < deadline {
                            n += 1
                            let marker = "c\(c)-\(n)"
                            let oid = n % 3 == 0 ? "Z-\(marker)" : "DRCASH-\((c * 7919 + n) % leads)"
                            let ok = conn.write("GET /postback/drcash?token=\(token)&oid=\(oid)&status=approved&comment=\(marker) HTTP/1.1\r\nHost: x\r\n\r\n")
                            guard ok, case .response(let r) = conn.readResponse() else {
                                cut.with { $0 += 1 }
                                continue connecting
                            }
                            acks.with { $0.append(Ack(marker: marker, oid: oid, status: r.status)) }
                            if answered.with({ $0 += 1; return $0 }) == killAt {
                                killed.with { $0 = true }
                                kill(pid, SIGKILL)
                            }
                        }
                    }
                }
                t.start()
            }
            group.wait()
            return (acks.value, cut.value)
        }
        let serveExit = await offThread { serve.wait(seconds: 10) }
        #expect(serveExit?.signaled == true && serveExit?.status == SIGKILL, "serve: \(String(describing: serveExit)) \(serve.stderr)")
        #expect(acks.count >= killAt)
        #expect(acks.allSatisfy { [200, 404].contains($0.status) }, "statuses: \(Set(acks.map(\.status)))")
        #expect(cut >= 1, "no request was cut by the kill")

        // Every acknowledged postback is in the ledger, processed as it was answered.
        let store = try SQLiteLeadStore(path: dir + "/ledger.sqlite")
        var stored: [String: String] = [:]
        for row in try Self.sql(store, "SELECT query, result FROM raw_postbacks") {
            let pairs = (try? QueryString.parse(row.text("query") ?? "")) ?? []
            if let m = pairs.first(where: { $0.0 == "comment" })?.1 { stored[m] = row.text("result") }
        }
        var missing: [String] = []
        var wrongResult: [String] = []
        for a in acks {
            guard let result = stored[a.marker] else { missing.append(a.marker); continue }
            let expected = a.status == 200 ? PostbackResult.applied.rawValue : PostbackResult.unmatched.rawValue
            if result != expected { wrongResult.append("\(a.marker): answered \(a.status), stored \(result)") }
        }
        let missingCount = missing.count, wrongCount = wrongResult.count
        #expect(missingCount == 0, "\(missing.count) of \(acks.count) acknowledged postbacks are not in raw_postbacks: \(missing.prefix(20))")
        #expect(wrongCount == 0, "\(wrongResult.prefix(20))")
        let appliedLeads = Set(acks.filter { $0.status == 200 }.map(\.oid))
        for oid in appliedLeads { #expect(try store.lead(network: "drcash", orderId: oid)?.status?.bucket == .approved, "\(oid)") }
        #expect(try Self.sql(store, "PRAGMA integrity_check").first?.text("integrity_check") == "ok")

        // Stored but cut before processing: `postbacks-replay` finishes them.
        let replay = try Child(["postbacks-replay", "--json"], env: Self.environment(dir), cwd: dir)
        let replayExit = await offThread { replay.wait(seconds: 30) }
        #expect(replayExit?.status == 0, "\(replay.stderr)")
        #expect(try store.postbacks(PostbackQuery(results: [.received])).isEmpty)
        let leaked = bytesContain((try? Array(Data(contentsOf: URL(fileURLWithPath: dir + "/ledger.sqlite")))) ?? [], token)
            || bytesContain((try? Array(Data(contentsOf: URL(fileURLWithPath: dir + "/ledger.sqlite-wal")))) ?? [], token)
        #expect(!leaked, "the receiver token is in the database file")
    }
}
