import Synchronization
import Testing
import LeadBridgeCore
import LeadBridgeNet
import LeadBridgeStore
@testable import LeadBridgeEngine

/// A real SQLite store whose writes fail for one lead's "request written" (the row saved as
/// `sending`), as a store error of that lead alone would; everything else passes through.
// Sendable: `poisoned` is a constant, the count is behind a Mutex.
final class PoisonedStore: ForwardingStore, @unchecked Sendable {
    let poisoned: Int64
    let failures = Mutex(0)

    init(_ inner: any LeadStore, poisoned: Int64) {
        self.poisoned = poisoned
        super.init(inner)
    }

    /// The writer of one transaction, refusing the poisoned lead's move to `sending`.
    final class Writer: LedgerWriter {
        let inner: any LedgerWriter
        let store: PoisonedStore
        init(_ inner: any LedgerWriter, _ store: PoisonedStore) {
            self.inner = inner
            self.store = store
        }
        func insert(_ lead: NewLead) throws(StoreError) -> InsertResult { try inner.insert(lead) }
        func lock(_ selection: LeadSelection) throws(StoreError) -> [LeadRecord] { try inner.lock(selection) }
        func find(_ keys: [LeadKey]) throws(StoreError) -> [LeadRecord?] { try inner.find(keys) }
        func leads(_ query: LeadQuery) throws(StoreError) -> [LeadRecord] { try inner.leads(query) }
        func save(_ write: LeadWrite) throws(StoreError) {
            if write.rowId == store.poisoned && write.facts.state == .sending {
                store.failures.withLock { $0 += 1 }
                throw StoreError(.io, "disk I/O error (injected for lead \(write.rowId))")
            }
            try inner.save(write)
        }
        func markPolled(rowIds: [Int64], at: Int64) throws(StoreError) { try inner.markPolled(rowIds: rowIds, at: at) }
        func postbacks(_ query: PostbackQuery) throws(StoreError) -> [RawPostbackRecord] { try inner.postbacks(query) }
        func indexPostbackOrders(atMost limit: Int) throws(StoreError) -> Int { try inner.indexPostbackOrders(atMost: limit) }
        func postbacksToIndex(atMost limit: Int) throws(StoreError) -> (ids: [Int64], through: Int64, more: Bool)? { try inner.postbacksToIndex(atMost: limit) }
        func indexPostbackOrders(ids: [Int64], through: Int64?) throws(StoreError) { try inner.indexPostbackOrders(ids: ids, through: through) }
        func logPostbacks(_ items: [RawPostback]) throws(StoreError) -> [Int64] { try inner.logPostbacks(items) }
        func logPostbacks(_ items: [RawPostback], results: [RawPostbackResult]) throws(StoreError) -> [Int64] { try inner.logPostbacks(items, results: results) }
        func savePostbackResults(_ results: [RawPostbackResult]) throws(StoreError) { try inner.savePostbackResults(results) }
        func saveOutgoing(_ delivery: OutgoingDelivery) throws(StoreError) { try inner.saveOutgoing(delivery) }
        func takeOutgoing(dueBy now: Int64, limit: Int, until: Int64) throws(StoreError) -> [OutgoingPostback] { try inner.takeOutgoing(dueBy: now, limit: limit, until: until) }
        func replayOutgoing(ids: [Int64], at: Int64) throws(StoreError) -> Int { try inner.replayOutgoing(ids: ids, at: at) }
    }

    override func write<T: Sendable>(_ body: (any LedgerWriter) throws(StoreError) -> T) throws(StoreError) -> T {
        try inner.write { (w: any LedgerWriter) throws(StoreError) -> T in try body(Writer(w, self)) }
    }
}

@Suite struct SendStoreFaultTests {
    /// A store error on one lead's "request written" inside a group commit: the batch is retried
    /// event by event, so only that lead fails. It is never sent; the pass ends (every lead's
    /// task resumes: no hang) reporting the store error; no lead goes out twice; and the next
    /// pass sends what is left, that lead included, once each.
    @Test func aFailedRequestWrittenIsNeverSentAndTheRestSendOnce() async throws {
        let inner = try EngineFixtures.store()
        let clock = EngineFixtures.Clock()
        let config = try EngineFixtures.config(SyncerTests.kmaAccount)
        var rows: [String: Int64] = [:]
        for i in 10..<30 { rows["A-\(i)"] = try EngineFixtures.queued(EngineFixtures.enqueue(inner, EngineFixtures.lead(i), network: "kma", account: "kma-main", at: clock.now())).rowId }
        let poisonedId = "A-15"
        let store = PoisonedStore(inner, poisoned: try #require(rows[poisonedId]))
        let sent = Mutex<[String: Int]>([:])
        let order = Mutex(1000)
        let transport = ScriptedTransport([("https://api.kma.biz/lead/add", { req in
            let id = (req.bodyText.components(separatedBy: "data1=").last ?? "").components(separatedBy: "&").first ?? ""
            sent.withLock { $0[id, default: 0] += 1 }
            let n = order.withLock { $0 += 1; return $0 }
            return HTTPResponseValue(status: 200, body: Array(#"{"code":0,"order":\#(n)}"#.utf8))
        })])
        let first = Syncer(store: store, library: EngineFixtures.library, config: config, transport: transport, clock: { clock.now() },
                           owner: "first/1/1", isAlive: { _ in nil })
        var failed = false
        do { _ = try await first.run(SyncOptions()) } catch { failed = true }
        #expect(failed, "the store error was not reported")
        #expect(store.failures.withLock { $0 } >= 1)
        #expect(sent.withLock { $0[poisonedId] } == nil, "a lead whose request-written failed was sent")
        #expect(sent.withLock { $0.values.allSatisfy { $0 == 1 } }, "\(sent.withLock { $0 })")
        let poisonedRow = try #require(rows[poisonedId])
        let poisoned = try #require(try inner.record(rowId: poisonedRow))
        #expect(poisoned.sendState == .claimed && poisoned.attempts == 0)
        // The next pass (the first worker is gone), without the fault: the rest go, once each.
        let next = Syncer(store: inner, library: EngineFixtures.library, config: config, transport: transport, clock: { clock.now() },
                          owner: "next/2/2", isAlive: { $0 == "next/2/2" ? true : false })
        _ = try await next.run(SyncOptions())
        #expect(sent.withLock { $0 }.count == rows.count)
        #expect(sent.withLock { $0.values.allSatisfy { $0 == 1 } }, "\(sent.withLock { $0 })")
        for (id, rowId) in rows { #expect(try inner.record(rowId: rowId)?.sendState == .accepted, "\(id)") }
    }
}
