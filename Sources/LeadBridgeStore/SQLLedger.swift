import LeadBridgeCore

/// The store port implemented once in SQL, for SQLite and PostgreSQL alike: the same
/// statements (`?` parameters, state words bound from Core's enums), run in each database's
/// own transactions. A store is this plus how it opens its database.
struct SQLLedger: Sendable {
    /// The database the statements run on.
    enum Database: Sendable {
        case sqlite(SQLiteDatabase)
        case postgres(PostgresDatabase)
    }
    let database: Database

    /// A read: one consistent snapshot.
    @_semantics("optimize.sil.specialize.generic.never")
    func read<T: Sendable>(_ body: (any SQLConnection) throws(StoreError) -> T) throws(StoreError) -> T {
        switch database {
        case .sqlite(let db): return try db.read { (tx: borrowing SQLiteTransaction) throws(StoreError) -> T in try body(tx.connection) }
        case .postgres(let db): return try db.read { (tx: borrowing PostgresTransaction) throws(StoreError) -> T in try body(tx.connection) }
        }
    }

    /// `LeadStore.write`: the body gets a writer valid for this transaction only.
    @_semantics("optimize.sil.specialize.generic.never")
    func write<T: Sendable>(_ body: (any LedgerWriter) throws(StoreError) -> T) throws(StoreError) -> T {
        try writeSQL { (c: any SQLConnection) throws(StoreError) -> T in
            let writer = SQLLedgerWriter(c)
            defer { writer.close() }
            let result = try body(writer)
            try writer.finish()
            return result
        }
    }

    /// A write transaction on the connection itself (copying tables, setting identities).
    @_semantics("optimize.sil.specialize.generic.never")
    func writeSQL<T: Sendable>(_ body: (any SQLConnection) throws(StoreError) -> T) throws(StoreError) -> T {
        switch database {
        case .sqlite(let db): return try db.write { (tx: borrowing SQLiteTransaction) throws(StoreError) -> T in try body(tx.connection) }
        case .postgres(let db): return try db.write { (tx: borrowing PostgresTransaction) throws(StoreError) -> T in try body(tx.connection) }
        }
    }

    /// The columns a lead is read from, in `LeadColumn` order.
    static let columnNames = ["id", "network", "order_id", "account", "source", "source_ref", "lead_json", "state", "reach", "external_id", "status", "raw_status",
                              "detail", "reason", "comment", "payout", "currency", "attempts", "due_at", "claim_owner", "claim_until", "last_error",
                              "confirmed_at", "final_at", "created_at", "updated_at", "last_polled_at"]
    static let columns = columnNames.joined(separator: ", ")
    /// The same columns without the lead's data (status work never needs it).
    static let columnsWithoutData = columns.replacingAll("lead_json", with: "'' AS lead_json")

    /// A lead from a row selected with `columns` (or `columnsWithoutData`), read by position.
    static func record(_ r: SQLRow) -> LeadRecord {
        func text(_ c: LeadColumn) -> String? { r[at: c.rawValue].text }
        func int(_ c: LeadColumn) -> Int64? { r[at: c.rawValue].int }
        var status: LeadStatus?
        if let b = text(.status).flatMap(Bucket.init(rawValue:)) { status = LeadStatus(bucket: b, raw: text(.rawStatus), detail: text(.detail)) }
        let stateWord = text(.state) ?? ""
        var claim: Claim?
        if let owner = text(.claimOwner) { claim = Claim(owner: owner, until: int(.claimUntil) ?? 0) }
        var facts = LeadFacts(state: SendState(rawValue: stateWord) ?? .parked, reach: text(.reach).flatMap(Reach.init(rawValue:)) ?? .maybe,
                              status: status, externalId: text(.externalId), attempts: Int(int(.attempts) ?? 0), dueAt: int(.dueAt), claim: claim,
                              lastError: text(.lastError), payout: text(.payout), currency: text(.currency), comment: text(.comment),
                              reason: text(.reason), confirmedAt: int(.confirmedAt), finalAt: int(.finalAt),
                              updatedAt: int(.updatedAt) ?? 0)
        // A word this version does not know (a newer leadbridge wrote it): never sent or polled.
        if SendState(rawValue: stateWord) == nil { facts.lastError = "unknown state \"\(stateWord.prefix(40))\" in the ledger" }
        return LeadRecord(rowId: int(.id) ?? 0, orderId: text(.orderId) ?? "", network: text(.network) ?? "", account: text(.account) ?? "",
                          source: text(.source), sourceRef: text(.sourceRef), leadJSON: text(.leadJSON) ?? "", facts: facts,
                          createdAt: int(.createdAt) ?? 0, lastPolledAt: int(.lastPolledAt))
    }

    func leads(_ q: LeadQuery) throws(StoreError) -> [LeadRecord] {
        try read { (c: any SQLConnection) throws(StoreError) in try Self.leads(c, q) }
    }

    /// The leads a query selects, on a connection (a read, or inside a write transaction).
    static func leads(_ c: any SQLConnection, _ q: LeadQuery) throws(StoreError) -> [LeadRecord] {
        let s = select(q, c.dialect)
        return try c.query(s.sql, s.values).map(record)
    }

    /// The SELECT behind `leads`.
    static func select(_ q: LeadQuery, _ dialect: SQLDialect) -> (sql: String, values: [SQLValue]) {
        var sql = "SELECT \(q.withData ? columns : columnsWithoutData) FROM leads WHERE 1 = 1"
        var values: [SQLValue] = []
        if let id = q.rowId { sql += " AND id = ?"; values.append(.int(id)) }
        // The due leads: from `leads_due` (SQLDialect.unindexed).
        if let n = q.network { sql += q.dueBy != nil && q.orderId == nil ? " AND \(dialect.unindexed("network")) = ?" : " AND network = ?"; values.append(.text(n)) }
        if let o = q.orderId { sql += " AND order_id = ?"; values.append(.text(o)) }
        if let e = q.externalId { sql += " AND external_id = ?"; values.append(.text(e)) }
        if let s = q.status { sql += " AND status = ?"; values.append(.text(s.rawValue)) }
        if let s = q.state { sql += " AND state = ?"; values.append(.text(s.rawValue)) }
        if let t = q.pollableBefore { sql += " AND pollable = 1 AND (last_polled_at IS NULL OR last_polled_at <= ?)"; values.append(.int(t)) }
        if let t = q.dueBy { sql += " AND due_at IS NOT NULL AND due_at <= ?"; values.append(.int(t)) }
        if let a = q.afterRowId { sql += " AND id > ?"; values.append(.int(a)) }
        if let accounts = q.accounts {
            let condition = accounts.condition
            sql += " AND " + condition.sql
            values += condition.values
        }
        sql += " ORDER BY id LIMIT ?"
        values.append(.int(Int64(min(q.limit, Int(Int64.max)))))
        return (sql, values)
    }

    func locate(_ keys: [LeadKey]) throws(StoreError) -> [LeadLocation?] {
        try read { (c: any SQLConnection) throws(StoreError) -> [LeadLocation?] in try Self.locate(c, keys) }
    }

    /// Each key's lead by our order id, else by the network's id: two pipelines on PostgreSQL
    /// (all order ids, then the external ids of the keys not found), whatever the batch.
    static func locate(_ c: any SQLConnection, _ keys: [LeadKey]) throws(StoreError) -> [LeadLocation?] {
        var out = [LeadLocation?](repeating: nil, count: keys.count)
        let byOrder = keys.indices.filter { keys[$0].orderId != nil }
        let found = try c.queryAll(byOrder.map { i in ("SELECT id FROM leads WHERE network = ? AND order_id = ?", [.text(keys[i].network), .opt(keys[i].orderId)]) })
        for (i, rows) in zip(byOrder, found) {
            if let id = rows.first?.int("id"), let o = keys[i].orderId { out[i] = LeadLocation(rowId: id, orderId: o) }
        }
        let byExternal = keys.indices.filter { out[$0] == nil && keys[$0].externalId != nil }
        let external = try c.queryAll(byExternal.map { i in
            ("SELECT id, order_id FROM leads WHERE network = ? AND external_id = ?", [.text(keys[i].network), .opt(keys[i].externalId)])
        })
        for (i, rows) in zip(byExternal, external) {
            if let row = rows.first, let id = row.int("id") { out[i] = LeadLocation(rowId: id, orderId: row.text("order_id") ?? "") }
        }
        return out
    }

    func journal(rowId: Int64) throws(StoreError) -> [JournalEntry] {
        try read { (c: any SQLConnection) throws(StoreError) in
            // SQLite: the chain from the lead's newest entry (schema 10); PostgreSQL: `journal_lead`.
            try c.query(SQLLedgerWriter.has(c, SQLiteSchema.journalChain) ? SQLiteSchema.journalOfLead : "SELECT * FROM journal WHERE lead_id = ? ORDER BY id", [.int(rowId)]).map { r in
                var attempt: AttemptRecord?
                if let n = r.int("attempt") {
                    attempt = AttemptRecord(number: Int(n), outcome: r.text("outcome").flatMap(OutcomeKind.init(rawValue:)) ?? .failed,
                                            receipt: r.text("receipt").flatMap(Receipt.init(rawValue:)), httpStatus: r.int("http_status").map { Int($0) },
                                            durationMs: r.int("duration_ms").map { Int($0) })
                }
                var entry = JournalEntry(at: r.int("at") ?? 0, kind: r.text("kind").flatMap(JournalKind.init(rawValue:)) ?? .status,
                                    source: r.text("source").flatMap(EventSource.init(rawValue:)) ?? .operator,
                                    fromState: r.text("from_state").flatMap(SendState.init(rawValue:)), toState: r.text("to_state").flatMap(SendState.init(rawValue:)),
                                    fromStatus: r.text("from_status").flatMap(Bucket.init(rawValue:)), toStatus: r.text("to_status").flatMap(Bucket.init(rawValue:)),
                                    raw: r.text("raw_status"), detail: r.text("detail"), attempt: attempt)
                entry.setStoredNote(r.text("note"))
                return entry
            }
        }
    }

    func counts() throws(StoreError) -> LedgerCounts {
        try read { (c: any SQLConnection) throws(StoreError) in
            let leads = try c.query("SELECT network, state, status, count(*) AS n FROM leads GROUP BY network, state, status ORDER BY network", []).map { r in
                LedgerCounts.Leads(network: r.text("network") ?? "", state: r.text("state").flatMap(SendState.init(rawValue:)) ?? .parked,
                                   status: r.text("status").flatMap(Bucket.init(rawValue:)), count: Int(r.int("n") ?? 0))
            }
            let postbacks = Int(try c.query("SELECT count(*) AS n FROM raw_postbacks", []).first?.int("n") ?? 0)
            return LedgerCounts(leads: leads, postbacks: postbacks)
        }
    }

    static func rawRecord(_ r: SQLRow) -> RawPostbackRecord {
        let result = r.text("result").flatMap(PostbackResult.init(rawValue:)) ?? .received
        return RawPostbackRecord(id: r.int("id") ?? 0,
                                 raw: RawPostback(receivedAt: r.int("received_at") ?? 0, network: r.text("network") ?? "", remote: r.text("remote") ?? "",
                                                  method: r.text("method") ?? "", path: r.text("path") ?? "", query: r.text("query") ?? "",
                                                  body: r["body"].blob ?? [], result: result),
                                 result: result, leadRowId: r.int("lead_id"), orderId: r.text("order_id"), externalId: r.text("external_id"), note: r.text("note"))
    }

    func postbacks(_ q: PostbackQuery) throws(StoreError) -> [RawPostbackRecord] {
        try read { (c: any SQLConnection) throws(StoreError) in
            guard let select = Self.postbackSelect(q, c.dialect) else { return [] }
            return try c.query(select.sql, select.values).map(Self.rawRecord)
        }
    }

    /// The SELECT of stored postbacks matching `q` (nil: none can match).
    static func postbackSelect(_ q: PostbackQuery, _ dialect: SQLDialect, suffix: String = "") -> (sql: String, values: [SQLValue])? {
        var sql = "SELECT * FROM raw_postbacks WHERE 1 = 1"
        var values: [SQLValue] = []
        if let results = q.results {
            guard !results.isEmpty else { return nil }
            sql += " AND result IN (" + results.map { _ in "?" }.joined(separator: ", ") + ")"
            values += results.map { .text($0.rawValue) }
        }
        if let n = q.network, let o = q.orderId {
            // Each id through its own index: with `network = ? AND (order_id = ? OR external_id
            // = ?)` SQLite (without statistics, as `serve` runs it) took the shared `network = ?`
            // alone and read every postback of the network.
            let byOrder = orderIds(dialect)
            sql += " AND id IN (" + byOrder.sql
            values += byOrder.values(n, o)
            if let e = q.externalId {
                sql += " UNION ALL SELECT id FROM raw_postbacks WHERE network = ? AND external_id = ?"
                values += [.text(n), .text(e)]
            }
            sql += ")"
        } else {
            if let n = q.network { sql += " AND network = ?"; values.append(.text(n)) }
            if let o = q.orderId, let e = q.externalId {
                sql += " AND (order_id = ? OR external_id = ?)"
                values += [.text(o), .text(e)]
            } else if let o = q.orderId {
                sql += " AND order_id = ?"; values.append(.text(o))
            } else if let e = q.externalId {
                sql += " AND external_id = ?"; values.append(.text(e))
            }
        }
        sql += q.newestFirst ? " ORDER BY id DESC LIMIT ?" : " ORDER BY id LIMIT ?"
        values.append(.int(Int64(min(q.limit, Int(Int64.max)))))
        return (sql + suffix, values)
    }

    /// The ids of the postbacks naming an order id of a network. SQLite: the bulk-filled order
    /// index (`raw_postback_orders`, schema 8) plus the postbacks stored since it was last filled
    /// (above its mark, read by id: without `NOT INDEXED` SQLite, having no statistics, read
    /// them through `raw_postbacks_external` by network — the whole network's postbacks);
    /// PostgreSQL: its index `raw_postbacks_order`.
    static func orderIds(_ dialect: SQLDialect) -> (sql: String, values: (String, String) -> [SQLValue]) {
        switch dialect {
        case .sqlite:
            ("SELECT id FROM raw_postback_orders WHERE network = ? AND order_id = ?"
             + " UNION ALL SELECT id FROM raw_postbacks NOT INDEXED WHERE id > (SELECT upto FROM raw_postbacks_indexed) AND network = ? AND order_id = ?",
             { n, o in [.text(n), .text(o), .text(n), .text(o)] })
        case .postgres:
            ("SELECT id FROM raw_postbacks WHERE network = ? AND order_id = ?", { n, o in [.text(n), .text(o)] })
        }
    }

    static func outgoing(_ r: SQLRow) -> OutgoingPostback {
        OutgoingPostback(id: r.int("id") ?? 0, leadRowId: r.int("lead_id") ?? 0, source: r.text("source") ?? "", kind: r.text("kind") ?? "",
                         status: r.text("status") ?? "", method: r.text("method") ?? "GET", url: r.text("url") ?? "",
                         state: r.text("state").flatMap(OutgoingState.init(rawValue:)) ?? .failed, attempts: Int(r.int("attempts") ?? 0),
                         nextAttemptAt: r.int("next_attempt_at") ?? 0, lastError: r.text("last_error"), createdAt: r.int("created_at"))
    }

    func outgoing(_ q: OutgoingQuery) throws(StoreError) -> [OutgoingPostback] {
        var sql = "SELECT * FROM outgoing_postbacks WHERE 1 = 1"
        var values: [SQLValue] = []
        if let id = q.leadRowId { sql += " AND lead_id = ?"; values.append(.int(id)) }
        if let state = q.state { sql += " AND state = ?"; values.append(.text(state.rawValue)) }
        if let t = q.dueBy {
            sql += " AND state = ? AND next_attempt_at <= ? ORDER BY next_attempt_at, id"
            values += [.text(OutgoingState.due.rawValue), .int(t)]
        } else {
            sql += " ORDER BY id"
        }
        sql += " LIMIT ?"
        values.append(.int(Int64(min(q.limit, Int(Int64.max)))))
        let final = sql
        return try read { (c: any SQLConnection) throws(StoreError) in try c.query(final, values).map(Self.outgoing) }
    }
}

/// The position of each of `SQLLedger.columnNames` in a selected lead row (a lead is read by
/// position: no name looked up per column per row).
enum LeadColumn: Int, CaseIterable {
    case id, network, orderId, account, source, sourceRef, leadJSON, state, reach, externalId, status, rawStatus
    case detail, reason, comment, payout, currency, attempts, dueAt, claimOwner, claimUntil, lastError
    case confirmedAt, finalAt, createdAt, updatedAt, lastPolledAt
}
