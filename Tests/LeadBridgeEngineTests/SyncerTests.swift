import Foundation
import Synchronization
import Testing
import LeadBridgeCore
import LeadBridgeTestSupport
import LeadBridgeEngine
import LeadBridgeNet
import LeadBridgeStore

/// A strict fake network: each request is answered by the first route whose prefix matches
/// the URL; a request no route expects is recorded and answered 599.
final class ScriptedTransport: HTTPTransport {
    typealias Handler = @Sendable (HTTPRequestValue) -> HTTPResponseValue
    let routes: [(String, Handler)]
    let log = Mutex<[HTTPRequestValue]>([])
    let unexpected = Mutex<[String]>([])

    init(_ routes: [(String, Handler)]) { self.routes = routes }

    func send(_ request: HTTPRequestValue, timeout: Double) async throws(TransportError) -> HTTPResponseValue {
        log.withLock { $0.append(request) }
        guard let h = routes.first(where: { request.url.hasPrefix($0.0) })?.1 else {
            unexpected.withLock { $0.append(request.url) }
            return HTTPResponseValue(status: 599)
        }
        let r = h(request)
        if r.status == 0 { throw TransportError(.connection, "connection reset") }
        return r
    }

    func count(_ prefix: String) -> Int { log.withLock { $0.filter { $0.url.hasPrefix(prefix) }.count } }
}

enum EngineFixtures {
    static let root = PackageFixtures.root

    static let library = PackageFixtures.library(checks: .fast)

    static func config(_ accounts: String, sync: String = "") throws -> LeadBridgeConfig {
        let text = #"{"store": "x.sqlite", "accounts": {\#(accounts)}\#(sync)}"#
        return try ConfigReader.read(bytes: Array(text.utf8), file: "leadbridge.json", environment: [:], specs: library)
    }

    static func store() throws -> SQLiteLeadStore {
        let dir = NSTemporaryDirectory() + "leadbridge-sync-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return try SQLiteLeadStore(path: dir + "/ledger.sqlite")
    }

    static func lead(_ i: Int) -> Lead {
        Lead(id: "A-\(i)", phone: "+7900\(String(format: "%07d", i))", fields: ["name": "Иван \(i)", "country": "RU"])
    }

    static func ledger(_ store: any LeadStore, config: LeadBridgeConfig? = nil, at now: @escaping @Sendable () -> Int64) -> Ledger {
        Ledger(store: store, library: library, config: config, clock: now, random: { 0.5 })
    }

    /// The record of an enqueue that must have queued; anything else fails the test (never a
    /// silent early return).
    static func queued(_ result: EnqueueResult, sourceLocation: SourceLocation = #_sourceLocation) throws -> LeadRecord {
        guard case .queued(let record) = result else {
            Issue.record("expected the lead to be queued, got \(result)", sourceLocation: sourceLocation)
            throw NotQueued()
        }
        return record
    }

    struct NotQueued: Error {}

    /// Puts a lead in the ledger, queued.
    @discardableResult
    static func enqueue(_ store: any LeadStore, _ lead: Lead, network: String, account: String, source: String? = nil, at now: Int64) throws -> EnqueueResult {
        try ledger(store, at: { now }).enqueue(lead, network: network, account: account, source: source)
    }

    /// Puts a lead in the ledger as the network accepted it (claimed, written, answered).
    @discardableResult
    static func accepted(_ store: any LeadStore, _ lead: Lead, network: String, account: String, source: String? = nil, externalId: String? = nil,
                         config: LeadBridgeConfig? = nil, at now: Int64) throws -> LedgerUpdate? {
        let ledger = ledger(store, config: config, at: { now })
        guard case .queued(let r) = try ledger.enqueue(lead, network: network, account: account, source: source) else { return nil }
        _ = try ledger.claim(rowId: r.rowId, owner: "test/1/1", lease: 60)
        _ = try ledger.requestWritten(rowId: r.rowId, owner: "test/1/1")
        return try ledger.answered(rowId: r.rowId, outcome: SendOutcome(kind: .accepted, externalId: externalId))
    }

    /// A manual clock for the ledger (no test sleeps for timing).
    final class Clock: Sendable {
        let t = Mutex<Int64>(1_767_225_600)
        func now() -> Int64 { t.withLock { $0 } }
        func advance(_ s: Int64) { t.withLock { $0 += s } }
    }
}

@Suite struct SyncerTests {
    static let kmaAccount = #""kma-main": {"network": "kma", "credentials": {"token": "KMA-T"}, "params": {"kma": "ch1"}}"#

    /// One account's unset variable must not hold back the other accounts' leads: the leads of
    /// an unusable account never fill the pass's batch (which spans every network) or a claim
    /// window. They stay queued, unclaimed, and the network's summary names the account.
    @Test func anUnusableAccountsLeadsDoNotStarveTheOthers() async throws {
        let store = try EngineFixtures.store()
        let clock = EngineFixtures.Clock()
        let broken = #""kma-b": {"network": "kma", "credentials": {"token": "${KMA_B_TOKEN}"}, "params": {"kma": "ch2"}}"#
        let config = try EngineFixtures.config(Self.kmaAccount + ", " + broken)
        #expect(config.accounts["kma-b"] == nil && config.unavailableAccounts["kma-b"] != nil)
        // The unusable account's leads come first, more of them than a batch and a claim window.
        for i in 0..<80 { try EngineFixtures.enqueue(store, EngineFixtures.lead(i), network: "kma", account: "kma-b", at: clock.now()) }
        for i in 100..<103 { try EngineFixtures.enqueue(store, EngineFixtures.lead(i), network: "kma", account: "kma-main", at: clock.now()) }
        let order = Mutex(1000)
        let transport = ScriptedTransport([("https://api.kma.biz/lead/add", { _ in
            let n = order.withLock { $0 += 1; return $0 }
            return HTTPResponseValue(status: 200, body: Array(#"{"code":0,"order":\#(n)}"#.utf8))
        })])
        let syncer = Syncer(store: store, library: EngineFixtures.library, config: config, transport: transport, clock: { clock.now() })
        let report = try await syncer.run(SyncOptions(sendBatch: 40))
        #expect(report.networks["kma"]?.sent == 3, "\(report.networks)")
        guard case .accountUnavailable(let account, _)? = report.networks["kma"]?.problem else {
            Issue.record("the unusable account is not named: \(String(describing: report.networks["kma"]?.problem))")
            return
        }
        #expect(account == "kma-b")
        let waiting = try store.leads(LeadQuery(network: "kma", accounts: .only(["kma-b"]), limit: 1000))
        #expect(waiting.count == 80)
        #expect(waiting.allSatisfy { $0.sendState == .queued && $0.facts.claim == nil && $0.attempts == 0 })
        #expect(transport.count("https://api.kma.biz") == 3)
    }

    @Test func sendsTheOutboxAndSchedulesRetries() async throws {
        let store = try EngineFixtures.store()
        let clock = EngineFixtures.Clock()
        let config = try EngineFixtures.config(Self.kmaAccount, sync: #", "sync": {"max_attempts": 3, "retry_base_seconds": 10}"#)
        for i in 1...4 { try EngineFixtures.enqueue(store, EngineFixtures.lead(i), network: "kma", account: "kma-main", at: clock.now()) }
        let calls = Mutex<[String: Int]>([:])
        let transport = ScriptedTransport([("https://api.kma.biz/lead/add", { req in
            let body = req.bodyText
            let id = body.components(separatedBy: "data1=").last ?? ""
            let n = calls.withLock { $0[id, default: 0] += 1; return $0[id] ?? 0 }
            switch id {
            case "A-1": return HTTPResponseValue(status: 200, body: Array(#"{"code":0,"order":101}"#.utf8))
            case "A-2": return HTTPResponseValue(status: 200, body: Array(#"{"code":13,"message":"Duplicate of order!"}"#.utf8))
            case "A-3": return HTTPResponseValue(status: 200, body: Array(#"{"code":2,"message":"Invalid phone"}"#.utf8))
            default:  // fails twice (503, then 429 with Retry-After), then succeeds
                if n == 1 { return HTTPResponseValue(status: 503) }
                if n == 2 { return HTTPResponseValue(status: 429, headers: [HTTPHeader("Retry-After", "120")]) }
                return HTTPResponseValue(status: 200, body: Array(#"{"code":0,"order":104}"#.utf8))
            }
        })])
        let syncer = Syncer(store: store, library: EngineFixtures.library, config: config, transport: transport, clock: { clock.now() }, random: { 0.5 })
        let options = SyncOptions(maxAttempts: 3, retryBaseSeconds: 10)
        let first = try await syncer.run(options)
        #expect(first.networks["kma"]?.sent == 4)
        #expect(first.networks["kma"]?.accepted == 1)
        #expect(try store.lead(network: "kma", orderId: "A-1")?.externalId == "101")
        #expect(try store.lead(network: "kma", orderId: "A-2")?.status?.bucket == .trash)
        #expect(try store.lead(network: "kma", orderId: "A-3")?.sendState == .rejected)
        #expect(try store.lead(network: "kma", orderId: "A-4")?.sendState == .queued)
        // Not due yet: nothing is sent.
        _ = try await syncer.run(options)
        #expect(transport.count("https://api.kma.biz") == 4)
        clock.advance(30)
        let third = try await syncer.run(options)  // 429 with Retry-After 120
        #expect(third.networks["kma"]?.failed == 1)
        clock.advance(60)
        _ = try await syncer.run(options)
        #expect(transport.count("https://api.kma.biz") == 5)  // Retry-After honoured
        clock.advance(70)
        _ = try await syncer.run(options)
        let a4 = try #require(try store.lead(network: "kma", orderId: "A-4"))
        #expect(a4.sendState == .accepted)
        #expect(a4.externalId == "104")
        #expect(a4.attempts == 3)
        #expect(transport.unexpected.withLock { $0 }.isEmpty)
    }

    /// A poll page is a multiple of the batch at every batch size (a page of 4,999 with a batch
    /// of 500 would make a tenth request of 499 per page, and ceil(N / batch) would not hold).
    @Test func pollPagesAreAMultipleOfTheBatch() {
        for batch in [1, 2, 3, 7, 50, 100, 333, 499, 500, 501, 999, 1000, 2500, 4999, 5000, 5001, 7000] {
            let page = Syncer.pollPage(batch: batch)
            #expect(page % batch == 0 && page >= batch && page <= max(batch, 5_000), "batch \(batch): page \(page)")
            // N leads over pages of this size still take ceil(N / batch) requests.
            for n in [page - 1, page, page + 1, 2 * page + batch - 1] where n > 0 {
                let requests = stride(from: 0, to: n, by: page).map { start in (min(page, n - start) + batch - 1) / batch }.reduce(0, +)
                #expect(requests == (n + batch - 1) / batch, "batch \(batch), \(n) leads: \(requests) requests")
            }
        }
    }

    /// Requests per pass for N pending leads of one network = ceil(N / batch).
    @Test func pollsInBatchesAndAppliesStatuses() async throws {
        let store = try EngineFixtures.store()
        let clock = EngineFixtures.Clock()
        let config = try EngineFixtures.config(#""ac": {"network": "adcombo", "credentials": {"token": "AC-T"}, "params": {"adcombo": "1"}}"#)
        let n = 1203
        for i in 0..<n {
            try EngineFixtures.accepted(store, EngineFixtures.lead(i), network: "adcombo", account: "ac", externalId: "\(9000 + i)", at: clock.now())
        }
        let words = ["confirmed", "cancelled", "trash", "hold", "mystery"]
        let transport = ScriptedTransport([("https://api.adcombo.com/api/v2/order/status/", { req in
            let query = req.url.components(separatedBy: "orders=").last?.components(separatedBy: "&").first ?? ""
            let ids = query.replacingAll("%2C", with: ",").split(separator: ",")
            let items = ids.map { id in #"{"order_id":\#(id),"status":"\#(words[(Int(id) ?? 0) % 5])","price":"3.5","currency_code":"USD"}"# }
            return HTTPResponseValue(status: 200, body: Array(#"{"code":"ok","data":[\#(items.joined(separator: ","))]}"#.utf8))
        })])
        let syncer = Syncer(store: store, library: EngineFixtures.library, config: config, transport: transport, clock: { clock.now() })
        let report = try await syncer.run(SyncOptions(pollIntervalSeconds: 600))
        #expect(report.networks["adcombo"]?.pollRequests == 3)  // ceil(1203 / 500)
        #expect(transport.count("https://api.adcombo.com") == 3)
        #expect(report.networks["adcombo"]?.unknownWords == ["mystery"])
        let approved = try store.leads(LeadQuery(network: "adcombo", status: .approved, limit: 10_000))
        #expect(approved.count == (0..<n).filter { (9000 + $0) % 5 == 0 }.count)
        #expect(approved.first?.payout == "3.5")
        // Within the poll interval nothing is asked again.
        let second = try await syncer.run(SyncOptions(pollIntervalSeconds: 600))
        #expect(second.networks["adcombo"]?.pollRequests ?? 0 == 0)
        // Later only leads that can still change are asked about (hold, mystery: 2 of 5).
        clock.advance(601)
        let third = try await syncer.run(SyncOptions(pollIntervalSeconds: 600))
        let stillOpen = (0..<n).filter { [3, 4].contains((9000 + $0) % 5) }.count
        #expect(third.networks["adcombo"]?.polled == stillOpen)
        #expect(third.networks["adcombo"]?.pollRequests == (stillOpen + 499) / 500)
    }

    @Test func aFailingNetworkIsReportedAndOthersGoOn() async throws {
        let store = try EngineFixtures.store()
        let clock = EngineFixtures.Clock()
        let config = try EngineFixtures.config(Self.kmaAccount + #", "ac": {"network": "adcombo", "credentials": {"token": "AC-T"}, "params": {"adcombo": "1"}}"#)
        try EngineFixtures.accepted(store, EngineFixtures.lead(1), network: "adcombo", account: "ac", externalId: "55", at: clock.now())
        try EngineFixtures.enqueue(store, EngineFixtures.lead(2), network: "kma", account: "kma-main", at: clock.now())
        let transport = ScriptedTransport([
            ("https://api.adcombo.com", { _ in HTTPResponseValue(status: 502, body: Array("<html>bad gateway</html>".utf8)) }),
            ("https://api.kma.biz", { _ in HTTPResponseValue(status: 200, body: Array(#"{"code":0,"order":7}"#.utf8)) }),
        ])
        let syncer = Syncer(store: store, library: EngineFixtures.library, config: config, transport: transport, clock: { clock.now() })
        let report = try await syncer.run(SyncOptions())
        #expect(report.hasFailures)
        #expect(report.networks["adcombo"]?.error?.contains("HTTP 502") == true)
        #expect(report.networks["kma"]?.accepted == 1)
        // Its page was given back: asked again at the next pass, whenever that runs.
        #expect(try store.leads(LeadQuery(network: "adcombo", pollableBefore: clock.now() - Int64(SyncOptions().pollIntervalSeconds))).map(\.orderId) == ["A-1"])
    }

    @Test func listStylePollPagesUntilAShortPage() async throws {
        let store = try EngineFixtures.store()
        let clock = EngineFixtures.Clock()
        let config = try EngineFixtures.config(#""sm": {"network": "salesman", "credentials": {"url": "https://crm.example.ru", "login": "m@example.ru", "apikey": "K"}}"#)
        for i in 0..<3 {
            try EngineFixtures.accepted(store, EngineFixtures.lead(i), network: "salesman", account: "sm", externalId: "\(500 + i * 150)", at: clock.now())
        }
        let transport = ScriptedTransport([("https://crm.example.ru/developer/v1/leads", { req in
            let page = Int(req.bodyText.components(separatedBy: "offset=").last?.components(separatedBy: "&").first ?? "0") ?? 0
            let count = page < 2 ? 200 : 10
            let items = (0..<count).map { k -> String in
                let id = 400 + page * 200 + k
                let (s, rz) = id == 500 ? ("2", "0") : id == 650 ? ("3", "2") : id == 800 ? ("3", "3") : ("1", "0")
                return #"{"id":"\#(id)","status":"\#(s)","rezult":"\#(rz)"}"#
            }
            return HTTPResponseValue(status: 200, body: Array(#"{"data":[\#(items.joined(separator: ","))]}"#.utf8))
        })])
        let syncer = Syncer(store: store, library: EngineFixtures.library, config: config, transport: transport, clock: { clock.now() })
        let report = try await syncer.run(SyncOptions())
        #expect(report.networks["salesman"]?.pollRequests == 3)
        #expect(try store.lead(network: "salesman", orderId: "A-0")?.status?.bucket == .approved)
        #expect(try store.lead(network: "salesman", orderId: "A-1")?.status?.bucket == .trash)
        #expect(try store.lead(network: "salesman", orderId: "A-2")?.status?.bucket == .cancelled)
    }
}

@Suite struct SyncLockTests {
    @Test func secondHolderIsRefusedAndAFreedLockIsTakenOver() throws {
        let path = NSTemporaryDirectory() + "leadbridge-lock-" + UUID().uuidString
        var first: SyncLock? = try SyncLock(path: path, now: 1_767_225_600)
        do {
            _ = try SyncLock(path: path, now: 1_767_225_700)
            Issue.record("two syncs held the lock")
        } catch {
            guard case .held(_, let holder) = error else { Issue.record("expected .held, got \(error)"); return }
            #expect("\(error)".contains("another sync holds the lock"))
            #expect(holder.contains("pid \(getpid())"))
            #expect(holder.contains("started 2026-01-01T00:00:00Z"))
        }
        _ = first
        first = nil  // the holder ends (a dead process's lock is released by the kernel the same way)
        let second = try SyncLock(path: path, now: 1_767_225_800)
        _ = second
    }

    /// A lock file that cannot be opened (a folder in its place) is a setup problem, not a
    /// holder: `sync` exits 3 for it, 4 only for a live holder.
    @Test func anUnusableLockFileIsNotAHolder() throws {
        let path = NSTemporaryDirectory() + "leadbridge-lock-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        do {
            _ = try SyncLock(path: path, now: 1)
            Issue.record("a folder was taken as a lock file")
        } catch {
            guard case .unusable(_, let reason) = error else { Issue.record("expected .unusable, got \(error)"); return }
            #expect(reason.contains("directory"), "\(reason)")
        }
    }
}

/// A send that may have reached the network is never made again by itself — unless the spec
/// declares that the network refuses a repeated order id.
@Suite struct AmbiguousFailureTests {
    static let kmaAccount = #""kma-main": {"network": "kma", "credentials": {"token": "KMA-T"}, "params": {"kma": "ch1"}}"#

    /// The shipped specs with KMA declaring `"dedupe": "order_id"` (a user-layer copy).
    static func libraryWithDedupe() throws -> SpecLibrary {
        let shipped = try #require(FileManager.default.contents(atPath: PackageFixtures.root + "/Networks/kma.json"))
        var text = String(decoding: shipped, as: UTF8.self)
        let brace = try #require(text.firstIndex(of: "{"))
        text.insert(contentsOf: #""dedupe": "order_id","#, at: text.index(after: brace))
        let library = SpecLoader.load(networks: PackageFixtures.sources("Networks") + [SpecSource(path: "mine/kma.json", bytes: Array(text.utf8), layer: 1)],
                                      templates: PackageFixtures.sources("Templates"), checks: .fast)
        #expect(library.spec("kma")?.dedupe == .orderId)
        return library
    }

    /// Each lead's answers, in order; `nil` is a timeout after the request was written.
    static func transport(_ script: [String: [HTTPResponseValue?]], calls: Locked<[String: Int]>) -> ScriptedTransport {
        ScriptedTransport([("https://api.kma.biz/lead/add", { req in
            let id = req.bodyText.components(separatedBy: "data1=").last ?? ""
            let n = calls.with { $0[id, default: 0] += 1; return $0[id] ?? 0 }
            let answers = script[id] ?? []
            guard n <= answers.count, let answer = answers[n - 1] else { return HTTPResponseValue(status: 0) }  // 0: the transport throws
            return answer
        })])
    }

    static func accepted(_ order: Int) -> HTTPResponseValue { HTTPResponseValue(status: 200, body: Array(#"{"code":0,"order":\#(order)}"#.utf8)) }
    static let duplicate = HTTPResponseValue(status: 200, body: Array(#"{"code":13,"message":"Duplicate of order!"}"#.utf8))

    @Test func withoutDedupeAmbiguousLeadsStayUncertain() async throws {
        let store = try EngineFixtures.store()
        let clock = EngineFixtures.Clock()
        let config = try EngineFixtures.config(Self.kmaAccount)
        for i in 1...5 { try EngineFixtures.enqueue(store, EngineFixtures.lead(i), network: "kma", account: "kma-main", at: clock.now()) }
        let calls = Locked<[String: Int]>([:])
        let transport = Self.transport([
            "A-1": [nil, Self.accepted(1)],  // timed out after writing
            "A-2": [HTTPResponseValue(status: 200, body: Array("<html>Fatal error</html>".utf8)), Self.accepted(2)],  // a 2xx no rule reads
            "A-3": [HTTPResponseValue(status: 502), Self.accepted(3)],
            "A-4": [HTTPResponseValue(status: 503), Self.accepted(4)],  // refused before processing
            "A-5": [Self.accepted(5)],
        ], calls: calls)
        let syncer = Syncer(store: store, library: EngineFixtures.library, config: config, transport: transport, clock: { clock.now() }, random: { 0.5 })
        let options = SyncOptions(maxAttempts: 5, retryBaseSeconds: 1)
        let first = try await syncer.run(options)
        #expect(Set(first.uncertain.map(\.orderId)) == ["A-1", "A-2", "A-3"])
        for _ in 0..<3 {
            clock.advance(600)
            _ = try await syncer.run(options)
        }
        #expect(calls.value == ["A-1": 1, "A-2": 1, "A-3": 1, "A-4": 2, "A-5": 1], "\(calls.value)")
        for id in ["A-1", "A-2", "A-3"] {
            let r = try #require(try store.lead(network: "kma", orderId: id))
            #expect(r.sendState == .uncertain && r.facts.reach == .maybe && r.facts.pollable)
        }
        #expect(try store.lead(network: "kma", orderId: "A-4")?.sendState == .accepted)
    }

    @Test func withDedupeTheyAreRetriedAndADuplicateMeansTheNetworkHasOurs() async throws {
        let library = try Self.libraryWithDedupe()
        let store = try EngineFixtures.store()
        let clock = EngineFixtures.Clock()
        let config = try EngineFixtures.config(Self.kmaAccount)
        for i in 1...2 { try EngineFixtures.enqueue(store, EngineFixtures.lead(i), network: "kma", account: "kma-main", at: clock.now()) }
        let calls = Locked<[String: Int]>([:])
        let transport = Self.transport(["A-1": [nil, Self.duplicate], "A-2": [nil, nil, Self.accepted(2)]], calls: calls)
        let syncer = Syncer(store: store, library: library, config: config, transport: transport, clock: { clock.now() }, random: { 0.5 })
        let options = SyncOptions(maxAttempts: 5, retryBaseSeconds: 1)
        let first = try await syncer.run(options)
        #expect(first.uncertain.isEmpty)
        for _ in 0..<3 {
            clock.advance(600)
            _ = try await syncer.run(options)
        }
        #expect(calls.value == ["A-1": 2, "A-2": 3])
        let a1 = try #require(try store.lead(network: "kma", orderId: "A-1"))
        #expect(a1.sendState == .accepted && a1.status?.bucket == .pending, "\(a1.sendState) \(String(describing: a1.status))")  // its own earlier attempt, not trash
        #expect(try store.lead(network: "kma", orderId: "A-2")?.sendState == .accepted)
    }
}
