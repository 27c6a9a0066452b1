import Foundation
import Testing
import LeadBridgeCore
import LeadBridgeEngine
import LeadBridgeStore

/// The postback writer adds what it stored to the order index a lead's postbacks are read by
/// (schema 8) in bulk: after every `indexEvery` postbacks, and when nothing came for a while.
@Suite struct PostbackIndexingTests {
    static func store() throws -> SQLiteLeadStore {
        let dir = NSTemporaryDirectory() + "leadbridge-indexing-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return try SQLiteLeadStore(path: dir + "/ledger.sqlite")
    }

    static func postback(_ i: Int) -> RawPostback {
        RawPostback(receivedAt: 1, network: "leadrock", remote: "127.0.0.1", method: "GET", path: "/postback/leadrock", query: "oid=P-\(i % 3)&status=approve",
                    body: [])
    }

    /// (the index's mark, the newest postback, postbacks with an order id, index entries)
    static func marks(_ s: SQLiteLeadStore) throws -> (upto: Int64, top: Int64, named: Int64, entries: Int64) {
        let r = try s.database.read { (tx: borrowing SQLiteTransaction) throws(StoreError) in
            try tx.query("""
                SELECT (SELECT upto FROM raw_postbacks_indexed) AS upto, (SELECT coalesce(max(id), 0) FROM raw_postbacks) AS top,
                  (SELECT count(*) FROM raw_postbacks WHERE order_id IS NOT NULL) AS named, (SELECT count(*) FROM raw_postback_orders) AS entries
                """).first
        }
        return (r?.int("upto") ?? -1, r?.int("top") ?? -1, r?.int("named") ?? -1, r?.int("entries") ?? -1)
    }

    /// Busy: with `indexEvery: 4` (and no idle moment long enough), the writer has indexed in
    /// steps (in parts, one after each batch) once the 9th postback is answered, and the newest
    /// postbacks wait for the next step — a lead's postbacks are all found meanwhile. Each
    /// postback names no lead: stored, answered 404.
    @Test func theWriterIndexesEveryFewPostbacks() throws {
        let s = try Self.store()
        let library = EngineFixtures.library
        let ingest = PostbackIngest(ledger: Ledger(store: s, library: library, config: nil), library: library, indexEvery: 4, indexWhenIdle: 3600)
        for i in 1...9 { #expect(ingest.ingest(Self.postback(i)).status == 404) }
        ingest.shutdown()
        let m = try Self.marks(s)
        #expect(m.top == 9 && m.named == 9, "\(m)")
        #expect(m.upto >= 1 && m.upto < 9 && m.entries >= m.upto, "\(m)")
        for order in ["P-0", "P-1", "P-2"] {
            #expect(try s.postbacks(PostbackQuery(network: "leadrock", orderId: order)).count == 3, "\(order)")
        }
    }

    /// Idle: a few postbacks, then nothing; the writer indexes them all (polled, generous timeout).
    @Test func theWriterIndexesWhenIdle() throws {
        let s = try Self.store()
        let library = EngineFixtures.library
        let ingest = PostbackIngest(ledger: Ledger(store: s, library: library, config: nil), library: library, indexEvery: 1_000, indexWhenIdle: 0.05)
        defer { ingest.shutdown() }
        for i in 1...5 { #expect(ingest.ingest(Self.postback(i)).status == 404) }
        var m = try Self.marks(s)
        for _ in 0..<3000 where m.upto < 5 {
            usleep(10_000)
            m = try Self.marks(s)
        }
        #expect(m.upto == 5 && m.top == 5 && m.entries == 5, "\(m)")
    }
}
