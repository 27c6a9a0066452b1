import Testing
import LeadBridgeCore
import LeadBridgeTestSupport
@testable import LeadBridgeStore

/// `LedgerWriter.find` on SQLite answers from the connection's lead cache (`SQLiteLeadCache`):
/// whatever changes a lead — a save, any SQL on the same connection, another connection's
/// commit, a transaction rolled back after its change, a deleted lead, an external id taken
/// over — the next `find` gives the lead as stored, exactly as an uncached read does.
@Suite struct LeadCacheTests {
    /// A deterministic walk of reads and writes over a few leads; after each step every key (by
    /// order id, by external id, both) finds through the cache what a read of the table finds.
    @Test func findAlwaysGivesTheLeadAsStored() throws {
        let path = TempFiles.path()
        let store = try SQLiteLeadStore(path: path)
        let other = try SQLiteLeadStore(path: path) // another connection (another process's, as far as SQLite knows)
        var rng = SplitMix(seed: 17)
        func pick<T>(_ items: [T]) -> T { items[Int(rng.next() % UInt64(items.count))] }
        var rows: [Int64] = []
        for i in 0..<6 {
            rows.append(try ReportsTests.lead(store, "O-\(i)", network: i % 2 == 0 ? "kma" : "drcash", at: 100,
                                              facts: LeadFacts(state: .accepted, reach: .held, externalId: i < 4 ? "E-\(i)" : nil, updatedAt: 100)))
        }
        func keys() -> [LeadKey] {
            (0..<7).flatMap { i -> [LeadKey] in
                let network = i % 2 == 0 ? "kma" : "drcash"
                return [LeadKey(network: network, orderId: "O-\(i)"), LeadKey(network: network, orderId: nil, externalId: "E-\(i)"),
                        LeadKey(network: network, orderId: "O-\(i)", externalId: "E-\(i)"), LeadKey(network: network, orderId: "none", externalId: "E-\(i)")]
            }
        }
        /// What the table holds for a key, read without the cache.
        func truth(_ key: LeadKey) throws -> LeadRecord? {
            if let o = key.orderId, let r = try store.leads(LeadQuery(network: key.network, orderId: o, limit: 1, withData: false)).first { return r }
            guard let e = key.externalId else { return nil }
            return try store.leads(LeadQuery(network: key.network, externalId: e, limit: 1, withData: false)).first
        }
        /// New facts for a lead: its external id kept, dropped or replaced by a new one (unique per network).
        func facts(_ at: Int64, _ current: LeadFacts) -> LeadFacts {
            LeadFacts(state: .accepted, reach: .held, status: pick([Bucket?.none, .pending, .approved, .cancelled]).map { LeadStatus(bucket: $0) },
                      externalId: pick([current.externalId, current.externalId, nil, "X-\(at)"]), confirmedAt: at, updatedAt: at)
        }
        var steps: [Int: Int] = [:]
        for round in 0..<200 {
            let at = Int64(200 + round)
            let step = Int(rng.next() % 7)
            steps[step, default: 0] += 1
            switch step {
            case 0, 1:
                break // reads only
            case 2:
                // The writer's own save, after a find in the same transaction (as the postback writer does).
                let id = pick(rows)
                try store.write { (w: any LedgerWriter) throws(StoreError) in
                    _ = try w.find(keys())
                    guard let r = try w.lock(.facts([id])).first else { return }
                    try w.save(LeadWrite(rowId: id, facts: facts(at, r.facts), before: r.facts, entry: nil))
                }
            case 3:
                // Any SQL on the same connection.
                let id = pick(rows)
                try store.database.write { (tx: borrowing SQLiteTransaction) throws(StoreError) in
                    try tx.run("UPDATE leads SET raw_status = ?, attempts = attempts + 1 WHERE id = ?", [.text("raw-\(at)"), .int(id)])
                }
            case 4:
                // Another connection's commit.
                let id = pick(rows)
                try other.write { (w: any LedgerWriter) throws(StoreError) in
                    guard let r = try w.lock(.facts([id])).first else { return }
                    try w.save(LeadWrite(rowId: id, facts: facts(at, r.facts), before: r.facts, entry: nil))
                }
            case 5:
                // Changed, read back through the cache, then rolled back.
                let id = pick(rows)
                #expect(throws: StoreError.self) {
                    _ = try store.write { (w: any LedgerWriter) throws(StoreError) -> Int in
                        guard let r = try w.lock(.facts([id])).first else { return 0 }
                        try w.save(LeadWrite(rowId: id, facts: facts(at, r.facts), entry: nil))
                        _ = try w.find(keys())
                        throw StoreError(.misuse, "rolled back on purpose")
                    }
                }
            default:
                // A lead goes and another takes its keys.
                guard rows.count > 3 else { continue }
                let id = rows.remove(at: Int(rng.next() % UInt64(rows.count)))
                guard let gone = try store.record(rowId: id) else { continue }
                try store.database.write { (tx: borrowing SQLiteTransaction) throws(StoreError) in
                    try tx.run("DELETE FROM journal WHERE lead_id = ?", [.int(id)])
                    try tx.run("DELETE FROM leads WHERE id = ?", [.int(id)])
                }
                rows.append(try ReportsTests.lead(other, gone.orderId, network: gone.network, at: at,
                                                  facts: LeadFacts(state: .queued, externalId: gone.facts.externalId, updatedAt: at)))
            }
            let found = try store.write { (w: any LedgerWriter) throws(StoreError) in try w.find(keys()) }
            for (key, record) in zip(keys(), found) {
                let expected = try truth(key)
                #expect(record == expected, "round \(round) (step \(step)): \(key)")
                if record != expected { return }
            }
        }
        // The walk went through every kind of step, and the cache did answer reads.
        #expect(steps.count == 7, "\(steps)")
        let (hits, resets) = store.database.connection.withLock { ($0.leadCache.hits, $0.leadCache.resets) }
        #expect(hits > 100 && resets > 0, "hits \(hits), resets \(resets)")
    }

    /// The cache holds at most `capacity` leads: the 4,097th empties it.
    @Test func theCacheIsBounded() throws {
        let cache = SQLiteLeadCache()
        let facts = LeadFacts(state: .accepted, updatedAt: 1)
        for i in 0..<SQLiteLeadCache.capacity {
            cache.keep(LeadRecord(rowId: Int64(i), orderId: "O-\(i)", network: "kma", account: "a", leadJSON: "", facts: facts, createdAt: 1),
                       for: LeadKey(network: "kma", orderId: "O-\(i)"))
        }
        #expect(cache.count == SQLiteLeadCache.capacity)
        cache.keep(LeadRecord(rowId: -1, orderId: "X", network: "kma", account: "a", leadJSON: "", facts: facts, createdAt: 1), for: LeadKey(network: "kma", orderId: "X"))
        #expect(cache.count == 1)
        #expect(cache[LeadKey(network: "kma", orderId: "X")]?.rowId == -1)
    }
}
