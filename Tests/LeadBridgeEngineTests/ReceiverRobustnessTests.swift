import Foundation
import Glibc
import Testing
import LeadBridgeCore
import LeadBridgeEngine
import LeadBridgeNet
import LeadBridgeStore
import LeadBridgeTestSupport

/// Ten thousand malformed or hostile requests at a running receiver on loopback, with valid
/// postbacks interleaved and slow, idle and half-closed clients holding connections meanwhile.
/// Afterwards the receiver still answers, every valid postback was answered 200, stored and
/// applied, and no hostile request moved a lead.
@Suite struct ReceiverRobustnessTests {
    static let token = "ROBUST-TOKEN-9a8b7c6d"
    static let hostileCount = 10_000
    static let validCount = 250
    static let workers = 8

    /// What a hostile request may end with.
    struct Hostile {
        var kind: String
        var bytes: [UInt8]
        var halfClose = false
        /// Allowed statuses; nil: any status from 200 to 599.
        var statuses: Set<Int>?
        /// The server may close without answering.
        var mayClose = false
    }

    static func request(_ target: String, headers: [String] = ["Host: 127.0.0.1"], body: [UInt8] = [], close: Bool = true) -> [UInt8] {
        request("GET", target, headers: headers, body: body, close: close)
    }

    static func request(_ method: String, _ target: String, headers: [String] = ["Host: 127.0.0.1"], body: [UInt8] = [],
                        contentLength: Bool = true, close: Bool = true) -> [UInt8] {
        var head = "\(method) \(target) HTTP/1.1\r\n"
        for h in headers { head += h + "\r\n" }
        if close { head += "Connection: close\r\n" }
        if contentLength && !body.isEmpty { head += "Content-Length: \(body.count)\r\n" }
        return Array((head + "\r\n").utf8) + body
    }

    static let absurdPayouts = ["1e400", "NaN", "Infinity", "-", ".5", "99999999999999999999", "1e9", "12.123456789", "0x10", "1%2C000.00",
                                "%D9%A1%D9%A2", "--1", "%2B5", "1000000000", "-1000000000.5", "12..5", "%00", "%E2%80%8B1"]

    /// The i-th hostile request (deterministic: seeded by its index).
    static func hostile(_ i: Int) -> Hostile {
        var rng = SplitMix(seed: 0x5EED_0000 ^ UInt64(i))
        let t = token
        let lead = "R-\(Int.random(in: 0..<validCount, using: &rng))"
        func randomBytes(_ n: Int, _ range: ClosedRange<UInt8>) -> [UInt8] { (0..<n).map { _ in UInt8.random(in: range, using: &rng) } }
        switch i % 34 {
        case 0:
            return Hostile(kind: "random bytes", bytes: randomBytes(Int.random(in: 1...300, using: &rng), 0...255) + Array("\r\n\r\n".utf8),
                           halfClose: true, mayClose: true)
        case 1:
            let methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE", "CONNECT", "G ET", "get", "GE\u{1}T", "", "GETGETGETGET"]
            let targets = ["/", "*", "/postback/", "/postback/drcash", "//postback//drcash", "/postback/drcash/../kma", "/%", "/%%%%", "?", "/leads?",
                           "http://", "http://x", "/health?\u{7F}", "/postback/drcash?token=\(t)&oid=%", "/\u{0}", "/ /", "/postback/DRCASH?token=\(t)"]
            let versions = ["HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/1.2", "HTTP/9", "http/1.1", "HTTP/1.1 extra", "", "HTTP/1.10", "HTTP/01.1"]
            let line = "\(methods.randomElement(using: &rng)!) \(targets.randomElement(using: &rng)!) \(versions.randomElement(using: &rng)!)"
            return Hostile(kind: "fuzzed request line", bytes: Array("\(line)\r\nHost: x\r\nContent-Length: 0\r\n\r\n".utf8), halfClose: true, mayClose: true)
        case 2:
            return Hostile(kind: "huge header", bytes: request("/health", headers: ["Host: x", "X-Big: " + String(repeating: "a", count: 20_000)]), statuses: [431])
        case 3:
            return Hostile(kind: "too many headers", bytes: request("/health", headers: ["Host: x"] + (0..<100).map { "X-H\($0): v" }), statuses: [431])
        case 4:
            return Hostile(kind: "duplicate Host", bytes: request("/health", headers: ["Host: a", "Host: b"]), statuses: [400])
        case 5:
            return Hostile(kind: "conflicting Content-Length", bytes: request("POST", "/postback/drcash?token=\(t)", headers: ["Host: x", "Content-Length: 5", "Content-Length: 6"],
                                                                             body: Array("oid=x".utf8), contentLength: false), statuses: [400])
        case 6:
            return Hostile(kind: "Content-Length with chunked", bytes: request("POST", "/postback/drcash", headers: ["Host: x", "Content-Length: 5", "Transfer-Encoding: chunked"],
                                                                              body: Array("0\r\n\r\n".utf8), contentLength: false), statuses: [400])
        case 7:
            return Hostile(kind: "bad percent-encoding", bytes: request("/postback/drcash?token=\(t)&oid=\(lead)&status=%ZZ"), statuses: [400, 403])
        case 8:
            return Hostile(kind: "invalid UTF-8 (encoded)", bytes: request("/postback/drcash?oid=\(lead)&status=%C3%28", headers: ["Host: x", "Authorization: Bearer \(t)"]),
                           statuses: [400])
        case 9:
            var line = Array("GET /postback/drcash?token=\(t)&oid=".utf8) + [0xC3, 0x28, 0xFF, 0xFE] + Array("&status=trash HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
            if i % 2 == 0 { line = Array("GET /postback/".utf8) + [0xED, 0xA0, 0x80] + Array(" HTTP/1.1\r\nHost: x\r\n\r\n".utf8) }
            return Hostile(kind: "invalid UTF-8 (raw)", bytes: line, statuses: [400])
        case 10:
            let pay = absurdPayouts[(i / 34) % absurdPayouts.count]
            // 403 when the query cannot be decoded at all (so no token is found in it).
            return Hostile(kind: "absurd pay", bytes: request("/postback/drcash?token=\(t)&oid=\(lead)&status=trash&pay=\(pay)"), statuses: [400, 403])
        case 11:
            return Hostile(kind: "oversized body", bytes: Array("POST /postback/drcash?token=\(t) HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n".utf8) + randomBytes(100, 0x61...0x7A),
                           statuses: [413])
        case 12:
            return Hostile(kind: "oversized chunk", bytes: Array("POST /postback/drcash HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFF\r\n".utf8), statuses: [413])
        case 13:
            return Hostile(kind: "malformed chunk", bytes: Array("POST /postback/drcash HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n".utf8), statuses: [400])
        case 14:
            let bad = ["X-A: a\rb", "X-A: a\u{0}b", " folded", "X-A : b", ": empty", "X A: b"]
            let which = bad[(i / 34) % bad.count]
            let headers = which == " folded" ? ["Host: x", "X-A: a", " folded"] : ["Host: x", which]
            return Hostile(kind: "header injection", bytes: request("/health", headers: headers), statuses: [400])
        case 15:
            return Hostile(kind: "bare LF", bytes: Array("GET /health HTTP/1.1\nHost: x\n\n".utf8), statuses: [400], mayClose: true)
        case 16:
            let targets = ["/postback/../../etc/passwd?token=\(t)&oid=x&status=approved", "/postback/%00?token=\(t)", "/postback/" + String(repeating: "a", count: 3000) + "?token=\(t)",
                           "/postback/" + String(repeating: "b", count: 5000), "/postback/%2e%2e%2fkma?token=\(t)&oid=\(lead)&status=approved", "/postback/nosuch?token=\(t)"]
            return Hostile(kind: "unknown network", bytes: request(targets[(i / 34) % targets.count]), statuses: [404, 414])
        case 17:
            let reqs = [request("DELETE", "/postback/drcash?token=\(t)&oid=\(lead)&status=trash"), request("/leads"), request("POST", "/health", body: Array("x".utf8)),
                        request("PATCH", "/leads", body: Array("{}".utf8)), request("/nowhere")]
            return Hostile(kind: "wrong method or path", bytes: reqs[(i / 34) % reqs.count], statuses: [404, 405])
        case 18:
            let body = "oid=H-\(i)&status=approved&" + (0..<1500).map { "x\($0)=1" }.joined(separator: "&")
            return Hostile(kind: "many parameters", bytes: request("POST", "/postback/drcash?token=\(t)", headers: ["Host: x", "Content-Type: application/x-www-form-urlencoded"],
                                                                  body: Array(body.utf8)), statuses: [404])
        case 19:
            let depth = 600
            let body = #"{"oid": "\#(lead)", "status": "trash", "x": "# + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "}"
            return Hostile(kind: "deeply nested JSON", bytes: request("POST", "/postback/drcash", headers: ["Host: x", "Authorization: Bearer \(t)", "Content-Type: application/json"],
                                                                     body: Array(body.utf8)), statuses: [400])
        case 20:
            return Hostile(kind: "oid given twice", bytes: request("/postback/drcash?token=\(t)&oid=\(lead)&oid=H-\(i)&status=trash"), statuses: [400])
        case 21:
            return Hostile(kind: "unfilled macros", bytes: request("/postback/drcash?token=\(t)&oid=\(lead)&status={status}"), statuses: [400])
        case 22:
            return Hostile(kind: "overlong status", bytes: request("/postback/drcash?token=\(t)&oid=\(lead)&status=" + String(repeating: "x", count: 600)), statuses: [400])
        case 23:
            return Hostile(kind: "Expect 100-continue, no body", bytes: Array("POST /postback/drcash?token=\(t) HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\nExpect: 100-continue\r\n\r\n".utf8),
                           halfClose: true, mayClose: true)
        case 24:
            return Hostile(kind: "truncated request", bytes: Array("GET /postback/drcash?token=\(t)&oid=\(lead)&status=trash HTTP/1.1\r\nHost: x\r\n".utf8),
                           halfClose: true, statuses: [], mayClose: true)
        case 25:
            return Hostile(kind: "absolute-form target", bytes: request("http://evil.example/postback/drcash?token=\(t)&oid=H-\(i)&status=approved"), statuses: [404])
        case 26:
            return Hostile(kind: "HTTP/1.0 without Host", bytes: Array("GET /health HTTP/1.0\r\n\r\n".utf8), statuses: [200])
        case 27:
            return Hostile(kind: "lookalike order ids", bytes: request("/postback/drcash?token=\(t)&oid=" + [lead.lowercased(), lead + "%E2%80%8B", lead + "%20x", "%20" + lead + "x",
                                                                                                            lead + "'%20OR%20'1'%3D'1", lead + "%25", "R-%2A"][(i / 34) % 7] + "&status=trash"),
                           statuses: [404])
        case 28:
            return Hostile(kind: "wrong token", bytes: request("/postback/drcash?token=\(t.dropLast())&oid=\(lead)&status=trash"), statuses: [403])
        case 29:
            return Hostile(kind: "token for another door", bytes: request("POST", "/leads", headers: ["Host: x", "Authorization: Bearer \(t)"], body: Array(#"{"phone": "+79001234567"}"#.utf8)),
                           statuses: [404])
        case 30:
            return Hostile(kind: "JSON with control characters", bytes: request("POST", "/postback/drcash", headers: ["Host: x", "Authorization: Bearer \(t)"],
                                                                               body: Array(#"{"oid": "H\u0000\#(i)", "status": "approved\u0007"}"#.utf8)), statuses: [200, 400, 404])
        case 31:
            return Hostile(kind: "non-JSON body claiming JSON", bytes: request("POST", "/postback/drcash?token=\(t)", headers: ["Host: x", "Content-Type: application/json"],
                                                                              body: randomBytes(200, 0...255)), statuses: [400, 403, 404])
        case 32:
            return Hostile(kind: "long request line", bytes: request("/postback/drcash?token=\(t)&oid=" + String(repeating: "9", count: 5000)), statuses: [414])
        default:
            return Hostile(kind: "empty lines then garbage", bytes: Array("\r\n\r\n\r\n\u{16}\u{3}\u{1}\u{0}\u{1}\u{1}\r\n\r\n".utf8), halfClose: true, mayClose: true)
        }
    }

    static func word(_ j: Int) -> (String, Bucket) {
        [("approved", Bucket.approved), ("rejected", .cancelled), ("trash", .trash)][j % 3]
    }

    /// Sends the j-th valid postback (five ways) and returns a problem, or nil.
    static func sendValid(_ j: Int, port: Int) -> String? {
        let (status, _) = word(j)
        let oid = "R-\(j)"
        func check(_ o: WireOutcome, _ how: String) -> String? {
            guard case .response(let r) = o else { return "valid \(oid) (\(how)): \(o)" }
            return r.status == 200 && r.text == "OK\n" ? nil : "valid \(oid) (\(how)): HTTP \(r.status) \(r.text)"
        }
        switch j % 5 {
        case 0:
            return check(Wire.exchange(port: port, request("/postback/drcash?token=\(token)&oid=\(oid)&status=\(status)&stw=hold")), "GET")
        case 1:
            return check(Wire.exchange(port: port, request("POST", "/postback/drcash", headers: ["Host: x", "Content-Type: application/x-www-form-urlencoded"],
                                                           body: Array("token=\(token)&oid=\(oid)&status=\(status)".utf8))), "form")
        case 2:
            return check(Wire.exchange(port: port, request("POST", "/postback/drcash", headers: ["Host: x", "Content-Type: application/json", "Authorization: Bearer \(token)"],
                                                           body: Array(#"{"oid": "\#(oid)", "status": "\#(status)"}"#.utf8))), "JSON")
        case 3:
            // Keep-alive, with garbage pipelined behind it on the same connection.
            guard let c = try? WireConnection(port: port) else { return "valid \(oid): cannot connect" }
            c.write(request("/postback/drcash?token=\(token)&oid=\(oid)&status=\(status)", close: false) + Array("BLAH\r\n\r\n".utf8))
            if let p = check(c.readResponse(), "pipelined") { return p }
            let second = c.readResponse()
            return second.status == 400 ? nil : "garbage after \(oid): \(second)"
        default:
            // A complete request, then the client half-closes: the answer still comes.
            guard let c = try? WireConnection(port: port) else { return "valid \(oid): cannot connect" }
            c.write(request("/postback/drcash?token=\(token)&oid=\(oid)&status=\(status)", close: false))
            c.shutdownWrite()
            return check(c.readResponse(), "half-closed")
        }
    }

    /// Slow, trickling, idle and half-closed clients, run while the load goes on.
    static func slowClients(port: Int) -> [String] {
        var problems: [String] = []
        // Idle after connecting: closed at the idle timeout (1 s), without an answer.
        var idle: [WireConnection] = []
        for _ in 0..<5 { if let c = try? WireConnection(port: port, timeout: 5) { idle.append(c) } }
        // Stalled mid-request: 408 at the request timeout (0.5 s).
        var stalled: [(WireConnection, Double)] = []
        for k in 0..<20 {
            guard let c = try? WireConnection(port: port, timeout: 5) else { problems.append("slow \(k): cannot connect"); continue }
            c.write("GET /postback/drcash?token=\(token)&oid=R-\(k)&sta")
            stalled.append((c, monotonicNow()))
        }
        for (k, (c, started)) in stalled.enumerated() {
            let o = c.readResponse()
            let took = monotonicNow() - started
            if o.status != 408 || took > 4 { problems.append("stalled \(k): \(o) after \(took) s (expected 408 after about 0.5 s)") }
        }
        // Trickling one byte per 100 ms: the request timeout counts from the first byte, so the
        // server cuts them long before the request could be complete (about 10 s).
        var trickle: [(WireConnection, Double)] = []
        for _ in 0..<5 { if let c = try? WireConnection(port: port, timeout: 5) { trickle.append((c, monotonicNow())) } }
        let slowRequest = Array("GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: \(String(repeating: "s", count: 60))\r\n\r\n".utf8)
        var cut: [Int: Double] = [:]
        for b in slowRequest where cut.count < trickle.count {
            for (k, (c, started)) in trickle.enumerated() where cut[k] == nil {
                if c.waitReadable(ms: 0) { cut[k] = monotonicNow() - started } else { c.write([b]) }
            }
            usleep(100_000)
        }
        for (k, (c, _)) in trickle.enumerated() {
            let o = c.readResponse()
            let took = cut[k] ?? 99
            // 408, or a reset when a byte crossed the server's close.
            let ok: Bool
            switch o {
            case .response(let r): ok = r.status == 408
            case .closed: ok = true
            default: ok = false
            }
            if !ok || took > 4 { problems.append("trickle \(k): \(o) after \(took) s (expected a cut after about 0.5 s)") }
        }
        for (k, c) in idle.enumerated() {
            let o = c.readResponse()
            if case .closed = o {} else { problems.append("idle \(k): \(o) (expected a close at the idle timeout)") }
        }
        // Half-closed in the middle of a request: closed at once, nothing stored.
        for k in 0..<5 {
            guard let c = try? WireConnection(port: port, timeout: 5) else { continue }
            let started = monotonicNow()
            c.write("GET /postback/drcash?token=\(token)&oid=R-\(k)&status=tra")
            c.shutdownWrite()
            let o = c.readResponse()
            let took = monotonicNow() - started
            if case .closed = o, took < 2 {} else { problems.append("half-closed \(k): \(o) after \(took) s") }
        }
        return problems
    }

    /// A hang shows as a request without an answer within 5 s; how long the whole load takes is
    /// the machine's business (bench/ measures speed), so only a runaway run is cut.
    @Test(.timeLimit(.minutes(10)))
    func survivesTenThousandHostileRequestsAndKeepsEveryValidPostback() async throws {
        let limits = HTTPLimits(maxRequestLineBytes: 4096, maxHeaderBytes: 8192, maxHeaderCount: 64, maxBodyBytes: 64 * 1024)
        let serverConfig = HTTPServerConfiguration(host: "127.0.0.1", port: 0, limits: limits, maxConnections: 1024, headTimeout: 0.5,
                                                   idleTimeout: 1, writeTimeout: 2, lingerTimeout: 0.2)
        let config = #"{"store": "ledger.sqlite", "accounts": {}, "receiver": {"listen": "127.0.0.1:0", "token": "\#(Self.token)"}}"#
        let h = try ReceiverHarness(config: config, server: serverConfig)
        defer { h.stop() }
        for j in 0..<Self.validCount { try h.acceptedLead("R-\(j)", network: "drcash") }
        let port = h.port
        // Valid postbacks spread evenly through the hostile ones.
        var plan: [(valid: Bool, index: Int)] = []
        var v = 0
        for i in 0..<Self.hostileCount {
            if i % (Self.hostileCount / Self.validCount) == 7 && v < Self.validCount { plan.append((true, v)); v += 1 }
            plan.append((false, i))
        }
        while v < Self.validCount { plan.append((true, v)); v += 1 }
        let order = plan
        let result = await offThread { () -> (problems: [String], kinds: [String: Int], slow: [String]) in
            let problems = Locked<[String]>([])
            let kinds = Locked<[String: Int]>([:])
            let slow = Locked<[String]>([])
            let group = DispatchGroup()
            group.enter()
            let slowThread = Thread {
                slow.with { $0 = ReceiverRobustnessTests.slowClients(port: port) }
                group.leave()
            }
            slowThread.start()
            for w in 0..<Self.workers {
                group.enter()
                let t = Thread {
                    var index = w
                    while index < order.count {
                        let item = order[index]
                        index += Self.workers
                        if item.valid {
                            if let p = ReceiverRobustnessTests.sendValid(item.index, port: port) { problems.with { $0.append(p) } }
                            continue
                        }
                        let hq = ReceiverRobustnessTests.hostile(item.index)
                        kinds.with { $0[hq.kind, default: 0] += 1 }
                        let outcome = Wire.exchange(port: port, hq.bytes, halfClose: hq.halfClose, timeout: 5)
                        var problem: String?
                        switch outcome {
                        case .response(let r):
                            if let allowed = hq.statuses, !allowed.contains(r.status) {
                                problem = "HTTP \(r.status) \(r.text.prefix(80))"
                            } else if !(200...599).contains(r.status) {
                                problem = "HTTP \(r.status)"
                            }
                        case .closed:
                            if !hq.mayClose { problem = "closed without an answer" }
                        case .timedOut:
                            problem = "no answer within 5 s (hang)"
                        case .connectFailed(let e):
                            problem = "connect failed (errno \(e))"
                        }
                        if let problem { problems.with { $0.append("hostile #\(item.index) [\(hq.kind)]: \(problem)") } }
                    }
                    group.leave()
                }
                t.stackSize = 1 << 20
                t.start()
            }
            group.wait()
            return (problems.value, kinds.value, slow.value)
        }
        #expect(result.kinds.values.reduce(0, +) == Self.hostileCount)
        #expect(result.kinds.count == 34, "\(result.kinds.keys.sorted())")
        let problems = result.problems.count, slowProblems = result.slow.count
        #expect(problems == 0, "first problems: \(result.problems.prefix(15).joined(separator: "\n"))")
        #expect(slowProblems == 0, "\(result.slow.joined(separator: "\n"))")

        // Still up.
        let health = await offThread { Wire.get(port: port, "/health") }
        #expect(health.status == 200)
        #expect(health.response?.text == #"{"status":"ok"}"#)
        // Every valid postback: stored once, applied, and the only thing that moved its lead.
        let applied = try h.sql("SELECT order_id, count(*) AS n FROM raw_postbacks WHERE result = 'applied' GROUP BY order_id")
        let appliedCounts = Dictionary(applied.map { ($0.text("order_id") ?? "?", Int($0.int("n") ?? 0)) }, uniquingKeysWith: +)
        #expect(appliedCounts.count == Self.validCount, "applied postbacks for \(appliedCounts.count) leads")
        var wrong: [String] = []
        for j in 0..<Self.validCount {
            let (rawWord, bucket) = Self.word(j)
            if appliedCounts["R-\(j)"] != 1 { wrong.append("R-\(j): applied \(appliedCounts["R-\(j)"] ?? 0) times") }
            guard let lead = try h.lead("drcash", "R-\(j)") else { wrong.append("R-\(j): lost"); continue }
            if lead.status?.bucket != bucket || lead.status?.raw != rawWord { wrong.append("R-\(j): \(lead.status?.bucket.rawValue ?? "none") (\(lead.status?.raw ?? ""))") }
            if lead.payout != nil { wrong.append("R-\(j): payout \(lead.payout ?? "") from a hostile postback") }
            let events = try h.statusEntries(lead.rowId)
            if events.count != 2 { wrong.append("R-\(j): \(events.count) events") }
        }
        let wrongCount = wrong.count
        #expect(wrongCount == 0, "\(wrong.prefix(20).joined(separator: "\n"))")
        // Hostile requests made no leads, and every stored postback was processed.
        #expect(try h.store.leads(LeadQuery(limit: 100_000)).count == Self.validCount)
        #expect(try h.sql("SELECT count(*) AS n FROM raw_postbacks WHERE result = 'received'").first?.int("n") == 0)
        #expect(try h.store.rawPostbackCount() > 4000)
        #expect(try h.sql("PRAGMA integrity_check").first?.text("integrity_check") == "ok")
        // No connection is left behind (bounded wait for the last lingering closes).
        var open = h.server.connectionCount
        for _ in 0..<100 where open > 0 {
            usleep(50_000)
            open = h.server.connectionCount
        }
        #expect(open == 0, "\(open) connections still open")
    }
}
