import LeadBridgeCore

/// What `leadbridge copy-store` found and did: per kind of row, how many the source holds and
/// how many the target holds after the copy; per table, how many rows this run wrote.
public struct LedgerCopyReport: Sendable, Equatable {
    public struct Count: Sendable, Equatable {
        public var what: String
        public var source: Int
        public var target: Int
    }
    public var counts: [Count]
    public var copied: [String: Int]
    /// Every count of the target equals the source's.
    public var verified: Bool { counts.allSatisfy { $0.source == $0.target } }
}

/// Moves a ledger between stores (SQLite ↔ PostgreSQL), rows with their ids, so journal
/// entries, postbacks and outgoing postbacks keep pointing at their leads. Idempotent: a row
/// whose id the target already has is skipped, so a copy that was interrupted is simply run
/// again; a target holding another ledger (the same order id under another id) is an error,
/// never a merge. The counts of both sides are compared at the end.
public enum LedgerCopy {
    /// A table with its columns (the same in both schemas), copied in id order.
    struct Table {
        var name: String
        var columns: [String]
    }

    static let tables = [
        Table(name: "leads", columns: ["id", "network", "order_id", "account", "source", "source_ref", "lead_json", "state", "reach", "external_id", "status",
                                       "raw_status", "detail", "reason", "comment", "payout", "currency", "attempts", "due_at", "claim_owner", "claim_until",
                                       "pollable", "last_error", "confirmed_at", "final_at", "created_at", "updated_at", "last_polled_at"]),
        Table(name: "journal", columns: ["id", "lead_id", "at", "kind", "source", "from_state", "to_state", "from_status", "to_status", "raw_status", "detail",
                                         "attempt", "outcome", "receipt", "http_status", "duration_ms", "note"]),
        Table(name: "raw_postbacks", columns: ["id", "received_at", "network", "remote", "method", "path", "query", "body", "result", "lead_id", "note",
                                               "order_id", "external_id"]),
        Table(name: "outgoing_postbacks", columns: ["id", "lead_id", "source", "kind", "status", "method", "url", "state", "attempts", "next_attempt_at",
                                                    "last_error", "created_at", "delivered_at"]),
    ]

    /// Rows per transaction.
    static let page = 1_000

    public static func copy(from source: any LeadStore, to target: any LeadStore) throws(StoreError) -> LedgerCopyReport {
        guard let from = (source as? any SQLBackedStore)?.ledger, let to = (target as? any SQLBackedStore)?.ledger else {
            throw StoreError(.misuse, .copyBetweenKinds)
        }
        var copied: [String: Int] = [:]
        for table in tables {
            let columns = table.columns.joined(separator: ", ")
            let insert = "INSERT INTO \(table.name) (\(columns)) VALUES (" + table.columns.map { _ in "?" }.joined(separator: ", ")
                + ") ON CONFLICT (id) DO NOTHING"
            var after: Int64 = 0
            while true {
                let rows = try from.read { (c: any SQLConnection) throws(StoreError) in
                    try c.query("SELECT \(columns) FROM \(table.name) WHERE id > ? ORDER BY id LIMIT ?", [.int(after), .int(Int64(page))])
                }
                guard let last = rows.last?.int("id") else { break }
                after = last
                let written = try to.writeSQL { (c: any SQLConnection) throws(StoreError) -> Int in
                    var n = 0
                    for r in rows { n += try c.run(insert, table.columns.map { r[$0] }) }
                    return n
                }
                copied[table.name, default: 0] += written
            }
            try to.afterExplicitIds(table: table.name)
        }
        // SQLite: the copied postbacks' order-index entries — those stored at or below the mark
        // (a target that had postbacks) here, the rest as the writer of `serve` adds them.
        if case .sqlite = to.database {
            try to.writeSQL { (c: any SQLConnection) throws(StoreError) in
                _ = try c.run("""
                    INSERT OR IGNORE INTO raw_postback_orders (network, order_id, id) SELECT network, order_id, id FROM raw_postbacks
                      WHERE order_id IS NOT NULL AND id <= (SELECT upto FROM raw_postbacks_indexed)
                    """, [])
            }
            while try to.writeSQL({ (c: any SQLConnection) throws(StoreError) -> Int in try SQLLedgerWriter.indexPostbackOrders(c, atMost: 100_000) }) > 0 {}
            // The copied journal's links (schema 10): its rows came with their ids, not their links.
            try to.writeSQL { (c: any SQLConnection) throws(StoreError) in
                if SQLLedgerWriter.has(c, SQLiteSchema.journalChain) { try c.exec(SQLiteSchema.linkJournal) }
            }
            // The tallies (schema 11: kept by the writer, which the copied rows did not go through).
            try to.writeSQL { (c: any SQLConnection) throws(StoreError) in
                if SQLLedgerWriter.has(c, SQLiteSchema.writerTallies) { try c.exec(SQLiteSchema.recountTallies) }
            }
        }
        let before = try counts(from)
        let after = try counts(to)
        return LedgerCopyReport(counts: before.map { (what, n) in
            LedgerCopyReport.Count(what: what, source: n, target: after.first { $0.what == what }?.n ?? 0)
        }, copied: copied)
    }

    /// Leads, attempts and events (the journal's two kinds of entries), raw and outgoing postbacks.
    static func counts(_ ledger: SQLLedger) throws(StoreError) -> [(what: String, n: Int)] {
        try ledger.read { (c: any SQLConnection) throws(StoreError) -> [(what: String, n: Int)] in
            func count(_ sql: String, _ values: [SQLValue] = []) throws(StoreError) -> Int { Int(try c.query(sql, values).first?.int("n") ?? 0) }
            let attempt = SQLValue.text(JournalKind.attempt.rawValue)
            return [("leads", try count("SELECT count(*) AS n FROM leads")),
                    ("attempts", try count("SELECT count(*) AS n FROM journal WHERE kind = ?", [attempt])),
                    ("events", try count("SELECT count(*) AS n FROM journal WHERE kind <> ?", [attempt])),
                    ("raw postbacks", try count("SELECT count(*) AS n FROM raw_postbacks")),
                    ("outgoing postbacks", try count("SELECT count(*) AS n FROM outgoing_postbacks"))]
        }
    }
}

extension SQLLedger {
    /// After rows went in with their own ids: PostgreSQL's identity must continue above them
    /// (SQLite's rowid already does).
    func afterExplicitIds(table: String) throws(StoreError) {
        guard case .postgres = database else { return }
        try writeSQL { (c: any SQLConnection) throws(StoreError) in
            _ = try c.query("SELECT setval(pg_get_serial_sequence(?, 'id'), coalesce((SELECT max(id) FROM \(table)), 0) + 1, false) AS v", [.text(table)])
        }
    }
}
