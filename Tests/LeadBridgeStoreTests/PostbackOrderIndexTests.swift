import Testing
import LeadBridgeCore
import LeadBridgeTestSupport
@testable import LeadBridgeStore

/// The raw log's order index filled in bulk (schema 8): whatever was stored, indexed, replayed
/// or copied, in whatever order, a lead's postbacks are exactly the stored ones naming it, and
/// the index holds exactly the postbacks up to its mark.
@Suite struct PostbackOrderIndexTests {
    static func raw(_ network: String, _ query: String) -> RawPostback {
        RawPostback(receivedAt: 1, network: network, remote: "127.0.0.1", method: "GET", path: "/postback/" + network, query: query, body: [])
    }

    /// Postbacks by a full read of the raw log, the truth the index must give.
    static func scanned(_ s: SQLiteLeadStore, _ network: String, _ order: String) throws -> [Int64] {
        try s.sql("SELECT id FROM raw_postbacks NOT INDEXED WHERE network = ? AND order_id = ? ORDER BY id", [.text(network), .text(order)]).compactMap { $0.int("id") }
    }

    /// What breaks the index's rule (empty when it holds): every postback with an order id up to
    /// the mark has its entry, and every entry is a stored postback's as it is now (above the
    /// mark, a step in parts may have added some already).
    static func indexMismatches(_ s: SQLiteLeadStore) throws -> [String] {
        func rows(_ sql: String) throws -> Set<String> {
            Set(try s.sql(sql).map { "\($0.text("network") ?? "?")|\($0.text("order_id") ?? "?")|\($0.int("id") ?? -1)" })
        }
        let entries = try rows("SELECT network, order_id, id FROM raw_postback_orders")
        let covered = try rows("SELECT network, order_id, id FROM raw_postbacks WHERE order_id IS NOT NULL AND id <= (SELECT upto FROM raw_postbacks_indexed)")
        let stored = try rows("SELECT network, order_id, id FROM raw_postbacks WHERE order_id IS NOT NULL")
        return (covered.subtracting(entries).map { "missing " + $0 } + entries.subtracting(stored).map { "stale " + $0 }).sorted()
    }

    static func mark(_ s: SQLiteLeadStore) throws -> Int64 { try s.sql("SELECT upto FROM raw_postbacks_indexed").first?.int("upto") ?? -1 }

    /// A deterministic walk: batches of postbacks (repeats for a few orders, some with no order
    /// id), index steps of varying sizes whole or in parts (other writes between the parts),
    /// replays that set or change an order id below and above the mark, a step that fails
    /// (rolled back with its mark). After each step every order's postbacks through the store's
    /// read equal the full read, and the index keeps its rule.
    @Test func aLeadsPostbacksAreAlwaysTheStoredOnes() throws {
        let s = try SQLiteLeadStore(path: TempFiles.path())
        let orders = ["A", "B", "C", "D", "E"], networks = ["kma", "drcash"]
        var rng = SplitMix(seed: 11)
        var indexed = 0
        var step: (ids: ArraySlice<Int64>, through: Int64)?
        func check(_ step: String) throws {
            let mismatches = try Self.indexMismatches(s)
            #expect(mismatches.isEmpty, "\(step): \(mismatches.prefix(5))")
            for n in networks {
                for o in orders + ["Z"] {
                    let read = try s.postbacks(PostbackQuery(network: n, orderId: o, limit: 10_000)).map(\.id)
                    let truth = try Self.scanned(s, n, o)
                    #expect(read == truth, "\(step): \(n) \(o)")
                }
            }
        }
        for round in 0..<80 {
            switch rng.next() % 4 {
            case 0, 1:
                let batch = (0..<Int(1 + rng.next() % 30)).map { _ in
                    (networks[Int(rng.next() % 2)], rng.next() % 6 == 0 ? nil : orders[Int(rng.next() % UInt64(orders.count))])
                }
                _ = try s.write { (w: any LedgerWriter) throws(StoreError) in
                    try w.logPostbacks(batch.map { Self.raw($0.0, "oid=\($0.1 ?? "")") },
                                       results: batch.map { RawPostbackResult(id: 0, result: $0.1 == nil ? .unmatched : .applied, orderId: $0.1) })
                }
            case 2 where rng.next() % 3 == 0 && step == nil:
                let limit = Int(1 + rng.next() % 40)
                indexed += try s.write { (w: any LedgerWriter) throws(StoreError) in try w.indexPostbackOrders(atMost: limit) }
            case 2:
                // A step in parts: a part of up to 7 postbacks per round, the mark moving with the last.
                if step == nil {
                    let limit = Int(1 + rng.next() % 40)
                    step = try s.write { (w: any LedgerWriter) throws(StoreError) in try w.postbacksToIndex(atMost: limit) }.map { ($0.ids[...], $0.through) }
                }
                guard let current = step else { continue }
                let part = Array(current.ids.prefix(Int(1 + rng.next() % 7)))
                let last = part.count == current.ids.count
                try s.write { (w: any LedgerWriter) throws(StoreError) in try w.indexPostbackOrders(ids: part, through: last ? current.through : nil) }
                step = last ? nil : (current.ids.dropFirst(part.count), current.through)
                indexed += part.count
            default:
                // A replay names (or renames) the order of a postback, indexed or not.
                let ids = try s.sql("SELECT id FROM raw_postbacks ORDER BY id").compactMap { $0.int("id") }
                guard !ids.isEmpty else { continue }
                let id = ids[Int(rng.next() % UInt64(ids.count))]
                let order: String? = rng.next() % 5 == 0 ? nil : orders[Int(rng.next() % UInt64(orders.count))]
                try s.write { (w: any LedgerWriter) throws(StoreError) in
                    try w.savePostbackResults([RawPostbackResult(id: id, result: .applied, orderId: order)])
                }
            }
            try check("round \(round)")
        }
        // A step whose transaction fails leaves the index and its mark as they were.
        let before = try Self.mark(s)
        #expect(throws: StoreError.self) {
            try s.write { (w: any LedgerWriter) throws(StoreError) in
                _ = try w.indexPostbackOrders(atMost: 1_000)
                throw StoreError(.io, "disk I/O error (injected)")
            }
        }
        #expect(try Self.mark(s) == before)
        try check("after a failed step")
        // Steps until none is left: the mark reaches the newest postback.
        while try s.write({ (w: any LedgerWriter) throws(StoreError) in try w.indexPostbackOrders(atMost: 7) }) > 0 {}
        let newest = try s.sql("SELECT max(id) AS m FROM raw_postbacks").first?.int("m")
        #expect(try Self.mark(s) == newest)
        try check("all indexed")
        let entries = try s.sql("SELECT count(*) AS n FROM raw_postback_orders").first?.int("n") ?? 0
        #expect(indexed > 0 && entries > 50, "\(indexed) indexed by the walk, \(entries) entries")
    }

    /// `copy-store` into a ledger that has postbacks: the copied ones stored with their own ids
    /// at or below the target's mark get their entries too (no trigger on INSERT does it).
    @Test func copiedPostbacksBelowTheMarkAreIndexed() throws {
        let source = try SQLiteLeadStore(path: TempFiles.path())
        let named: [(String, String?)] = [("kma", "A"), ("kma", "B"), ("kma", "A"), ("drcash", "A"), ("kma", nil)]
        _ = try source.write { (w: any LedgerWriter) throws(StoreError) in
            try w.logPostbacks(named.map { Self.raw($0.0, "oid=\($0.1 ?? "")") }, results: named.map { RawPostbackResult(id: 0, result: .applied, orderId: $0.1) })
        }
        let target = try SQLiteLeadStore(path: TempFiles.path())
        try target.database.write { (tx: borrowing SQLiteTransaction) throws(StoreError) in
            _ = try tx.connection.run("""
                INSERT INTO raw_postbacks (id, received_at, network, method, path, query, result, order_id) VALUES (10, 1, 'kma', 'GET', '/p', 'oid=A', 'applied', 'A')
                """)
        }
        #expect(try target.write { (w: any LedgerWriter) throws(StoreError) in try w.indexPostbackOrders(atMost: 100) } == 10)
        _ = try LedgerCopy.copy(from: source, to: target)
        #expect(try Self.mark(target) == 10)
        let mismatches = try Self.indexMismatches(target)
        #expect(mismatches.isEmpty, "\(mismatches)")
        #expect(try target.postbacks(PostbackQuery(network: "kma", orderId: "A")).map(\.id) == [1, 3, 10])
        #expect(try target.postbacks(PostbackQuery(network: "drcash", orderId: "A")).map(\.id) == [4])
    }

    /// A ledger of schema 7 (the index `raw_postbacks_order`) is carried forward: every postback
    /// with an order id gets its entry, the mark is the newest postback, the old index is gone,
    /// and a lead's postbacks read the same before and after.
    @Test func aLedgerOfSchemaSevenGetsItsOrderIndex() throws {
        let path = TempFiles.path()
        var before: [String: [Int64]] = [:]
        do {
            let v7 = try SQLiteLeadStore(path: path, migrations: SQLiteLeadStore.migrations.filter { $0.version <= 7 })
            #expect(v7.database.schemaVersion == 7)
            let named: [(String, String?)] = [("kma", "A"), ("kma", "B"), ("kma", "A"), ("drcash", "A"), ("kma", nil), ("kma", "A")]
            _ = try v7.write { (w: any LedgerWriter) throws(StoreError) in
                try w.logPostbacks(named.map { Self.raw($0.0, "oid=\($0.1 ?? "")") },
                                   results: named.map { RawPostbackResult(id: 0, result: .applied, orderId: $0.1) })
            }
            for (n, o) in [("kma", "A"), ("kma", "B"), ("drcash", "A")] {
                before[n + o] = try v7.sql("SELECT id FROM raw_postbacks WHERE network = ? AND order_id = ? ORDER BY id", [.text(n), .text(o)]).compactMap { $0.int("id") }
            }
        }
        let store = try SQLiteLeadStore(path: path)
        #expect(store.database.migrationReport.applied.map(\.version) == [8, 9, 10, 11])
        #expect(try Self.mark(store) == 6)
        #expect(try Self.indexMismatches(store).isEmpty)
        #expect(try store.sql("SELECT count(*) AS n FROM raw_postback_orders").first?.int("n") == 5)
        let indexes = Set(try store.sql("SELECT name FROM sqlite_master WHERE type = 'index'").compactMap { $0.text("name") })
        #expect(!indexes.contains("raw_postbacks_order"))
        for (n, o) in [("kma", "A"), ("kma", "B"), ("drcash", "A")] {
            #expect(try store.postbacks(PostbackQuery(network: n, orderId: o)).map(\.id) == before[n + o], "\(n) \(o)")
        }
        #expect(before["kmaA"] == [1, 3, 6])
    }
}
