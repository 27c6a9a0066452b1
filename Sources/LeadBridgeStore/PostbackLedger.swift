import LeadBridgeCore

/// An incoming postback as received (the receiver token already replaced by `***`).
public struct RawPostback: Sendable {
    public var receivedAt: Int64
    public var network: String
    public var remote: String
    public var method: String
    public var path: String
    public var query: String
    public var body: [UInt8]
    /// Set when the outcome is known before processing (`forbidden`, `unknown-network`).
    public var result: String
    public init(receivedAt: Int64, network: String, remote: String, method: String, path: String, query: String, body: [UInt8], result: String = "received") {
        self.receivedAt = receivedAt
        self.network = network
        self.remote = remote
        self.method = method
        self.path = path
        self.query = query
        self.body = body
        self.result = result
    }
}

/// A stored postback with its processing result.
public struct RawPostbackRecord: Sendable {
    public var id: Int64
    public var raw: RawPostback
    public var result: String
    public var leadRowId: Int64?
    public var orderId: String?
    public var externalId: String?
    public var note: String?
}

/// The processing result of one stored postback.
public struct RawPostbackResult: Sendable {
    public var id: Int64
    public var result: String
    public var leadRowId: Int64?
    public var orderId: String?
    public var externalId: String?
    public var note: String?
    public init(id: Int64, result: String, leadRowId: Int64? = nil, orderId: String? = nil, externalId: String? = nil, note: String? = nil) {
        self.id = id
        self.result = result
        self.leadRowId = leadRowId
        self.orderId = orderId
        self.externalId = externalId
        self.note = note
    }
}

/// A postback we owe a traffic source (LeadCraft) for a status change.
public struct OutgoingPostback: Sendable {
    public var id: Int64
    public var leadRowId: Int64
    public var source: String
    public var kind: String
    public var status: String
    public var method: String
    public var url: String
    public var state: String
    public var attempts: Int
    public var nextAttemptAt: Int64
    public var lastError: String?
    /// When the status changed (the `changed` of the postback, e.g. LeadCraft's reviseDate).
    public var createdAt: Int64
    public init(id: Int64 = 0, leadRowId: Int64, source: String, kind: String, status: String, method: String, url: String, state: String = "due",
                attempts: Int = 0, nextAttemptAt: Int64, lastError: String? = nil, createdAt: Int64? = nil) {
        self.createdAt = createdAt ?? nextAttemptAt
        self.id = id
        self.leadRowId = leadRowId
        self.source = source
        self.kind = kind
        self.status = status
        self.method = method
        self.url = url
        self.state = state
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.lastError = lastError
    }
}

extension SQLiteLeadStore {
    /// Writes incoming postbacks in one transaction (group commit) and returns their ids.
    public func logRawPostbacks(_ items: [RawPostback]) throws(StoreError) -> [Int64] {
        try database.write { (tx: borrowing SQLiteTransaction) throws(StoreError) -> [Int64] in
            var ids: [Int64] = []
            ids.reserveCapacity(items.count)
            for p in items {
                try tx.run("INSERT INTO raw_postbacks (received_at, network, remote, method, path, query, body, result) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           [.int(p.receivedAt), .text(p.network), .text(p.remote), .text(p.method), .text(p.path), .text(p.query),
                            p.body.isEmpty ? .null : .blob(p.body), .text(p.result)])
                ids.append(tx.lastInsertId)
            }
            return ids
        }
    }

    /// Applies status reports and records postback results in one transaction.
    public func finishPostbacks(_ results: [RawPostbackResult], reports: [(report: StatusReport, chargebacks: Bool)], now: Int64) throws(StoreError) -> [StatusChange] {
        try database.write { (tx: borrowing SQLiteTransaction) throws(StoreError) -> [StatusChange] in
            let changes = try applyIn(tx, reports, source: "postback", now: now)
            for r in results {
                try tx.run("UPDATE raw_postbacks SET result = ?, lead_id = ?, order_id = ?, external_id = ?, note = ? WHERE id = ?",
                           [.text(r.result), .opt(r.leadRowId), .opt(r.orderId), .opt(r.externalId), .opt(r.note.map { String($0.prefix(300)) }), .int(r.id)])
            }
            return changes
        }
    }

    public static func rawRecord(_ r: SQLRow) -> RawPostbackRecord {
        RawPostbackRecord(id: r.int("id") ?? 0,
                          raw: RawPostback(receivedAt: r.int("received_at") ?? 0, network: r.text("network") ?? "", remote: r.text("remote") ?? "",
                                           method: r.text("method") ?? "", path: r.text("path") ?? "", query: r.text("query") ?? "",
                                           body: r["body"].blob ?? [], result: r.text("result") ?? ""),
                          result: r.text("result") ?? "", leadRowId: r.int("lead_id"), orderId: r.text("order_id"), externalId: r.text("external_id"),
                          note: r.text("note"))
    }

    /// Postbacks waiting for their lead (optionally only those naming one lead).
    public func unmatchedPostbacks(network: String? = nil, orderId: String? = nil, externalId: String? = nil, limit: Int = 10_000) throws(StoreError) -> [RawPostbackRecord] {
        var sql = "SELECT * FROM raw_postbacks WHERE result IN ('unmatched', 'received')"
        var values: [SQLValue] = []
        if let network { sql += " AND network = ?"; values.append(.text(network)) }
        if let orderId, let externalId {
            sql += " AND (order_id = ? OR external_id = ?)"
            values += [.text(orderId), .text(externalId)]
        } else if let orderId { sql += " AND order_id = ?"; values.append(.text(orderId)) }
        sql += " ORDER BY id LIMIT ?"
        values.append(.int(Int64(limit)))
        let q = sql
        return try database.read { (tx: borrowing SQLiteTransaction) throws(StoreError) in try tx.query(q, values).map(Self.rawRecord) }
    }

    public func unknownStatusPostbacks(limit: Int = 10_000) throws(StoreError) -> [RawPostbackRecord] {
        try database.read { (tx: borrowing SQLiteTransaction) throws(StoreError) in
            try tx.query("SELECT * FROM raw_postbacks WHERE result = 'unknown-status' ORDER BY id LIMIT ?", [.int(Int64(limit))]).map(Self.rawRecord)
        }
    }

    public func rawPostbacks(limit: Int = 100) throws(StoreError) -> [RawPostbackRecord] {
        try database.read { (tx: borrowing SQLiteTransaction) throws(StoreError) in
            try tx.query("SELECT * FROM raw_postbacks ORDER BY id DESC LIMIT ?", [.int(Int64(limit))]).map(Self.rawRecord)
        }
    }

    public func rawPostbackCount() throws(StoreError) -> Int {
        try database.read { (tx: borrowing SQLiteTransaction) throws(StoreError) in Int(try tx.query("SELECT count(*) AS n FROM raw_postbacks").first?.int("n") ?? 0) }
    }

    /// Queues outgoing postbacks; one per (lead, kind, status), so a repeated change sends once.
    public func enqueueOutgoing(_ items: [OutgoingPostback]) throws(StoreError) -> Int {
        try database.write { (tx: borrowing SQLiteTransaction) throws(StoreError) -> Int in
            var n = 0
            for o in items {
                n += try tx.run("""
                    INSERT INTO outgoing_postbacks (lead_id, source, kind, status, method, url, state, attempts, next_attempt_at, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, 'due', 0, ?, ?) ON CONFLICT(lead_id, kind, status) DO NOTHING
                    """, [.int(o.leadRowId), .text(o.source), .text(o.kind), .text(o.status), .text(o.method), .text(o.url), .int(o.nextAttemptAt), .int(o.nextAttemptAt)])
            }
            return n
        }
    }

    static func outgoing(_ r: SQLRow) -> OutgoingPostback {
        OutgoingPostback(id: r.int("id") ?? 0, leadRowId: r.int("lead_id") ?? 0, source: r.text("source") ?? "", kind: r.text("kind") ?? "",
                         status: r.text("status") ?? "", method: r.text("method") ?? "GET", url: r.text("url") ?? "", state: r.text("state") ?? "",
                         attempts: Int(r.int("attempts") ?? 0), nextAttemptAt: r.int("next_attempt_at") ?? 0, lastError: r.text("last_error"),
                         createdAt: r.int("created_at"))
    }

    public func dueOutgoing(now: Int64, limit: Int) throws(StoreError) -> [OutgoingPostback] {
        try database.read { (tx: borrowing SQLiteTransaction) throws(StoreError) in
            try tx.query("SELECT * FROM outgoing_postbacks WHERE state = 'due' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?",
                         [.int(now), .int(Int64(limit))]).map(Self.outgoing)
        }
    }

    public func outgoingPostbacks(leadRowId: Int64?) throws(StoreError) -> [OutgoingPostback] {
        try database.read { (tx: borrowing SQLiteTransaction) throws(StoreError) in
            if let leadRowId { return try tx.query("SELECT * FROM outgoing_postbacks WHERE lead_id = ? ORDER BY id", [.int(leadRowId)]).map(Self.outgoing) }
            return try tx.query("SELECT * FROM outgoing_postbacks ORDER BY id").map(Self.outgoing)
        }
    }

    /// Records one delivery attempt: delivered, retried at `retryAt`, or failed for good.
    public func recordOutgoing(id: Int64, delivered: Bool, error: String?, retryAt: Int64?, now: Int64) throws(StoreError) {
        try database.write { (tx: borrowing SQLiteTransaction) throws(StoreError) in
            if delivered {
                try tx.run("UPDATE outgoing_postbacks SET state = 'delivered', attempts = attempts + 1, delivered_at = ?, last_error = NULL WHERE id = ?", [.int(now), .int(id)])
            } else if let retryAt {
                try tx.run("UPDATE outgoing_postbacks SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE id = ?", [.int(retryAt), .opt(error), .int(id)])
            } else {
                try tx.run("UPDATE outgoing_postbacks SET state = 'failed', attempts = attempts + 1, last_error = ? WHERE id = ?", [.opt(error), .int(id)])
            }
        }
    }

    public func record(rowId: Int64) throws(StoreError) -> LeadRecord? {
        try database.read { (tx: borrowing SQLiteTransaction) throws(StoreError) in try fetch(tx, rowId: rowId) }
    }
}
