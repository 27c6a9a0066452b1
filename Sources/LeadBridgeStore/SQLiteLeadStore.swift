import LeadBridgeCore

/// The embedded default store: one SQLite file in WAL mode.
public final class SQLiteLeadStore: LeadStore {
    public let database: SQLiteDatabase

    public static let migrations: [Migration] = [
        Migration(1, "ledger", """
            CREATE TABLE leads (
              id INTEGER PRIMARY KEY,
              network TEXT NOT NULL,
              order_id TEXT NOT NULL,
              account TEXT NOT NULL,
              source TEXT,
              lead_json TEXT NOT NULL,
              external_id TEXT,
              status TEXT CHECK (status IN ('pending','approved','cancelled','trash')),
              raw_status TEXT,
              detail TEXT,
              reason TEXT,
              comment TEXT,
              payout TEXT,
              currency TEXT,
              send_state TEXT NOT NULL,
              attempts INTEGER NOT NULL DEFAULT 0,
              last_error TEXT,
              created_at INTEGER NOT NULL,
              updated_at INTEGER NOT NULL,
              last_polled_at INTEGER,
              UNIQUE (network, order_id)
            );
            CREATE UNIQUE INDEX leads_external ON leads(network, external_id) WHERE external_id IS NOT NULL;
            CREATE INDEX leads_poll ON leads(network, send_state, status, last_polled_at);
            CREATE INDEX leads_order ON leads(order_id);
            CREATE TABLE events (
              id INTEGER PRIMARY KEY,
              lead_id INTEGER NOT NULL REFERENCES leads(id),
              at INTEGER NOT NULL,
              source TEXT NOT NULL,
              from_status TEXT,
              to_status TEXT NOT NULL,
              raw_status TEXT,
              detail TEXT,
              note TEXT
            );
            CREATE INDEX events_lead ON events(lead_id);
            CREATE TABLE outbox (
              lead_id INTEGER PRIMARY KEY REFERENCES leads(id),
              state TEXT NOT NULL CHECK (state IN ('due','inflight','done','parked','uncertain')),
              next_attempt_at INTEGER NOT NULL,
              claimed_at INTEGER
            );
            CREATE INDEX outbox_due ON outbox(state, next_attempt_at);
            CREATE TABLE send_attempts (
              id INTEGER PRIMARY KEY,
              lead_id INTEGER NOT NULL REFERENCES leads(id),
              at INTEGER NOT NULL,
              attempt INTEGER NOT NULL,
              outcome TEXT NOT NULL,
              http_status INTEGER,
              message TEXT
            );
            """),
        Migration(2, "postbacks", """
            CREATE TABLE raw_postbacks (
              id INTEGER PRIMARY KEY,
              received_at INTEGER NOT NULL,
              network TEXT NOT NULL,
              remote TEXT,
              method TEXT NOT NULL,
              path TEXT NOT NULL,
              query TEXT NOT NULL,
              body BLOB,
              result TEXT NOT NULL DEFAULT 'received',
              lead_id INTEGER REFERENCES leads(id),
              note TEXT
            );
            CREATE INDEX raw_postbacks_result ON raw_postbacks(network, result);
            CREATE TABLE outgoing_postbacks (
              id INTEGER PRIMARY KEY,
              lead_id INTEGER NOT NULL REFERENCES leads(id),
              source TEXT NOT NULL,
              kind TEXT NOT NULL,
              status TEXT NOT NULL,
              method TEXT NOT NULL,
              url TEXT NOT NULL,
              state TEXT NOT NULL CHECK (state IN ('due','delivered','failed')),
              attempts INTEGER NOT NULL DEFAULT 0,
              next_attempt_at INTEGER NOT NULL,
              last_error TEXT,
              created_at INTEGER NOT NULL,
              delivered_at INTEGER,
              UNIQUE (lead_id, kind, status)
            );
            CREATE INDEX outgoing_due ON outgoing_postbacks(state, next_attempt_at);
            """),
        Migration(3, "postback matching", """
            ALTER TABLE raw_postbacks ADD COLUMN order_id TEXT;
            ALTER TABLE raw_postbacks ADD COLUMN external_id TEXT;
            CREATE INDEX raw_postbacks_order ON raw_postbacks(network, order_id) WHERE result = 'unmatched';
            CREATE INDEX raw_postbacks_external ON raw_postbacks(network, external_id) WHERE result = 'unmatched';
            """),
        Migration(4, "intake references", """
            ALTER TABLE leads ADD COLUMN source_ref TEXT;
            CREATE UNIQUE INDEX leads_source_ref ON leads(source, source_ref) WHERE source_ref IS NOT NULL;
            """),
    ]

    public init(path: String, synchronousFull: Bool = false, migrations: [Migration] = SQLiteLeadStore.migrations,
                policy: MigrationPolicy = .apply) throws(StoreError) {
        database = try SQLiteDatabase(path: path, migrations: migrations, synchronousFull: synchronousFull, policy: policy)
    }

    static let columns = "id, network, order_id, account, source, lead_json, external_id, status, raw_status, detail, reason, comment, payout, currency, send_state, attempts, last_error, created_at, updated_at, last_polled_at"

    static func record(_ r: SQLRow) -> LeadRecord {
        let lead: Lead
        if let text = r.text("lead_json"), let json = try? JSONParser.parse(text), case .success(let l) = LeadReader.read(json) {
            lead = l
        } else {
            lead = Lead(id: r.text("order_id") ?? "", phone: "")
        }
        var status: LeadStatus?
        if let s = r.text("status").flatMap(Bucket.init(rawValue:)) { status = LeadStatus(bucket: s, raw: r.text("raw_status"), detail: r.text("detail")) }
        return LeadRecord(rowId: r.int("id") ?? 0, orderId: r.text("order_id") ?? "", network: r.text("network") ?? "", account: r.text("account") ?? "",
                          source: r.text("source"), lead: lead, externalId: r.text("external_id"), status: status, reason: r.text("reason"),
                          comment: r.text("comment"), payout: r.text("payout"), currency: r.text("currency"),
                          sendState: r.text("send_state").flatMap(SendState.init(rawValue:)) ?? .queued, attempts: Int(r.int("attempts") ?? 0),
                          lastError: r.text("last_error"), createdAt: r.int("created_at") ?? 0, updatedAt: r.int("updated_at") ?? 0,
                          lastPolledAt: r.int("last_polled_at"))
    }

    /// What status rules need of a lead, without decoding its data (the hot path of polls and
    /// postbacks).
    struct StatusRow {
        var rowId: Int64
        var orderId: String
        var network: String
        var status: LeadStatus?
        var sendState: SendState
    }

    func fetchStatus(_ tx: borrowing SQLiteTransaction, rowId: Int64) throws(StoreError) -> StatusRow? {
        guard let r = try tx.query("SELECT order_id, network, status, raw_status, detail, send_state FROM leads WHERE id = ?", [.int(rowId)]).first else { return nil }
        var status: LeadStatus?
        if let s = r.text("status").flatMap(Bucket.init(rawValue:)) { status = LeadStatus(bucket: s, raw: r.text("raw_status"), detail: r.text("detail")) }
        return StatusRow(rowId: rowId, orderId: r.text("order_id") ?? "", network: r.text("network") ?? "", status: status,
                         sendState: r.text("send_state").flatMap(SendState.init(rawValue:)) ?? .queued)
    }

    /// The row id and ids of a lead, found by our order id or the network's id.
    public func locate(network: String, orderId: String?, externalId: String?) throws(StoreError) -> LeadLocation? {
        try database.read { (tx: borrowing SQLiteTransaction) throws(StoreError) -> LeadLocation? in
            if let orderId, let r = try tx.query("SELECT id FROM leads WHERE network = ? AND order_id = ?", [.text(network), .text(orderId)]).first?.int("id") {
                return LeadLocation(rowId: r, orderId: orderId)
            }
            if let externalId, let row = try tx.query("SELECT id, order_id FROM leads WHERE network = ? AND external_id = ?", [.text(network), .text(externalId)]).first,
               let r = row.int("id") {
                return LeadLocation(rowId: r, orderId: row.text("order_id") ?? "")
            }
            return nil
        }
    }

    func fetch(_ tx: borrowing SQLiteTransaction, rowId: Int64) throws(StoreError) -> LeadRecord? {
        try tx.query("SELECT \(Self.columns) FROM leads WHERE id = ?", [.int(rowId)]).first.map(Self.record)
    }

    public func enqueue(_ lead: Lead, network: String, account: String, source: String?, now: Int64, resend: Bool) throws(StoreError) -> EnqueueResult {
        try database.write { (tx: borrowing SQLiteTransaction) throws(StoreError) -> EnqueueResult in
            if let existing = try tx.query("SELECT \(Self.columns) FROM leads WHERE network = ? AND order_id = ?", [.text(network), .text(lead.id)]).first.map(Self.record) {
                guard resend else { return .exists(existing) }
                try tx.run("UPDATE leads SET lead_json = ?, account = ?, send_state = 'queued', attempts = 0, last_error = NULL, updated_at = ? WHERE id = ?",
                           [.text(JSONWriter.compact(lead.json)), .text(account), .int(now), .int(existing.rowId)])
                try tx.run("INSERT INTO outbox (lead_id, state, next_attempt_at) VALUES (?, 'due', ?) ON CONFLICT(lead_id) DO UPDATE SET state = 'due', next_attempt_at = excluded.next_attempt_at, claimed_at = NULL",
                           [.int(existing.rowId), .int(now)])
                try tx.run("INSERT INTO events (lead_id, at, source, from_status, to_status, note) VALUES (?, ?, 'manual', ?, ?, 'resent on purpose')",
                           [.int(existing.rowId), .int(now), .opt(existing.status?.bucket.rawValue), .text(existing.status?.bucket.rawValue ?? "queued")])
                guard let r = try fetch(tx, rowId: existing.rowId) else { throw StoreError(.misuse, "lead vanished") }
                return .queued(r)
            }
            try tx.run("INSERT INTO leads (network, order_id, account, source, lead_json, send_state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'queued', ?, ?)",
                       [.text(network), .text(lead.id), .text(account), .opt(source), .text(JSONWriter.compact(lead.json)), .int(now), .int(now)])
            let id = tx.lastInsertId
            try tx.run("INSERT INTO outbox (lead_id, state, next_attempt_at) VALUES (?, 'due', ?)", [.int(id), .int(now)])
            guard let r = try fetch(tx, rowId: id) else { throw StoreError(.misuse, "lead vanished") }
            return .queued(r)
        }
    }

    /// A lead from a traffic source: the source's own id (`lid`, click id) makes a repeated
    /// submission return the lead it already made instead of a second one. One transaction:
    /// simultaneous submissions of one id make one lead.
    public func intake(_ lead: Lead, network: String, account: String, source: String, sourceRef: String?, now: Int64) throws(StoreError) -> EnqueueResult {
        try database.write { (tx: borrowing SQLiteTransaction) throws(StoreError) -> EnqueueResult in
            if let sourceRef, let existing = try tx.query("SELECT \(Self.columns) FROM leads WHERE source = ? AND source_ref = ?",
                                                          [.text(source), .text(sourceRef)]).first.map(Self.record) {
                return .exists(existing)
            }
            if let existing = try tx.query("SELECT \(Self.columns) FROM leads WHERE network = ? AND order_id = ?", [.text(network), .text(lead.id)]).first.map(Self.record) {
                return .exists(existing)
            }
            try tx.run("INSERT INTO leads (network, order_id, account, source, source_ref, lead_json, send_state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'queued', ?, ?)",
                       [.text(network), .text(lead.id), .text(account), .text(source), .opt(sourceRef), .text(JSONWriter.compact(lead.json)), .int(now), .int(now)])
            let id = tx.lastInsertId
            try tx.run("INSERT INTO outbox (lead_id, state, next_attempt_at) VALUES (?, 'due', ?)", [.int(id), .int(now)])
            guard let r = try fetch(tx, rowId: id) else { throw StoreError(.misuse, "lead vanished") }
            return .queued(r)
        }
    }

    public func lead(network: String, orderId: String) throws(StoreError) -> LeadRecord? {
        try database.read { (tx: borrowing SQLiteTransaction) throws(StoreError) in
            try tx.query("SELECT \(Self.columns) FROM leads WHERE network = ? AND order_id = ?", [.text(network), .text(orderId)]).first.map(Self.record)
        }
    }

    public func leads(orderId: String) throws(StoreError) -> [LeadRecord] {
        try database.read { (tx: borrowing SQLiteTransaction) throws(StoreError) in
            try tx.query("SELECT \(Self.columns) FROM leads WHERE order_id = ? ORDER BY id", [.text(orderId)]).map(Self.record)
        }
    }

    public func lead(network: String, externalId: String) throws(StoreError) -> LeadRecord? {
        try database.read { (tx: borrowing SQLiteTransaction) throws(StoreError) in
            try tx.query("SELECT \(Self.columns) FROM leads WHERE network = ? AND external_id = ?", [.text(network), .text(externalId)]).first.map(Self.record)
        }
    }

    public func leads(_ q: LeadQuery) throws(StoreError) -> [LeadRecord] {
        var sql = "SELECT \(Self.columns) FROM leads WHERE 1 = 1"
        var values: [SQLValue] = []
        if let n = q.network { sql += " AND network = ?"; values.append(.text(n)) }
        if let s = q.status { sql += " AND status = ?"; values.append(.text(s.rawValue)) }
        if let s = q.sendState { sql += " AND send_state = ?"; values.append(.text(s.rawValue)) }
        sql += " ORDER BY id LIMIT ?"
        values.append(.int(Int64(q.limit)))
        let final = sql
        return try database.read { (tx: borrowing SQLiteTransaction) throws(StoreError) in try tx.query(final, values).map(Self.record) }
    }

    public func events(rowId: Int64) throws(StoreError) -> [StatusEvent] {
        try database.read { (tx: borrowing SQLiteTransaction) throws(StoreError) in
            try tx.query("SELECT at, source, from_status, to_status, raw_status, detail, note FROM events WHERE lead_id = ? ORDER BY id", [.int(rowId)]).map { r in
                StatusEvent(at: r.int("at") ?? 0, source: r.text("source") ?? "", from: r.text("from_status"), to: r.text("to_status") ?? "",
                            raw: r.text("raw_status"), detail: r.text("detail"), note: r.text("note"))
            }
        }
    }

    /// network → (send state or status) → count.
    public func counts() throws(StoreError) -> [String: [String: Int]] {
        try database.read { (tx: borrowing SQLiteTransaction) throws(StoreError) in
            var out: [String: [String: Int]] = [:]
            for r in try tx.query("SELECT network, send_state, status, count(*) AS n FROM leads GROUP BY network, send_state, status") {
                let n = r.text("network") ?? ""
                let count = Int(r.int("n") ?? 0)
                out[n, default: [:]][r.text("send_state") ?? "", default: 0] += count
                if let s = r.text("status") { out[n, default: [:]][s, default: 0] += count }
            }
            return out
        }
    }

    public func dueSends(network: String?, now: Int64, limit: Int) throws(StoreError) -> [LeadRecord] {
        try database.read { (tx: borrowing SQLiteTransaction) throws(StoreError) in
            var sql = "SELECT \(Self.columns.split(separator: ",").map { "l." + $0.trimmingCharacters() }.joined(separator: ", ")) FROM outbox o JOIN leads l ON l.id = o.lead_id WHERE o.state = 'due' AND o.next_attempt_at <= ?"
            var values: [SQLValue] = [.int(now)]
            if let network { sql += " AND l.network = ?"; values.append(.text(network)) }
            sql += " ORDER BY o.next_attempt_at, o.lead_id LIMIT ?"
            values.append(.int(Int64(limit)))
            return try tx.query(sql, values).map(Self.record)
        }
    }

    public func claimSend(rowId: Int64, now: Int64) throws(StoreError) -> Bool {
        try database.write { (tx: borrowing SQLiteTransaction) throws(StoreError) -> Bool in
            guard try tx.run("UPDATE outbox SET state = 'inflight', claimed_at = ? WHERE lead_id = ? AND state = 'due'", [.int(now), .int(rowId)]) == 1 else { return false }
            try tx.run("UPDATE leads SET send_state = 'sending', attempts = attempts + 1, updated_at = ? WHERE id = ?", [.int(now), .int(rowId)])
            return true
        }
    }

    public func recordSend(rowId: Int64, outcome: SendOutcome, now: Int64, retryAt: Int64?, maxAttempts: Int) throws(StoreError) -> StatusChange? {
        try database.write { (tx: borrowing SQLiteTransaction) throws(StoreError) -> StatusChange? in
            guard let lead = try fetch(tx, rowId: rowId) else { throw StoreError(.misuse, "no lead with row id \(rowId)") }
            try tx.run("INSERT INTO send_attempts (lead_id, at, attempt, outcome, http_status, message) VALUES (?, ?, ?, ?, ?, ?)",
                       [.int(rowId), .int(now), .int(Int64(lead.attempts)), .text(outcome.kind.rawValue), .opt(outcome.httpStatus.map(Int64.init)),
                        .opt(outcome.message.map { String($0.prefix(500)) })])
            var externalId = outcome.externalId
            if let e = externalId, let other = try tx.query("SELECT order_id FROM leads WHERE network = ? AND external_id = ? AND id <> ?",
                                                             [.text(lead.network), .text(e), .int(rowId)]).first?.text("order_id") {
                // The network answered with an id it already gave another order: a duplicate.
                return try finish(tx, lead, state: .duplicate, status: LeadStatus(bucket: .trash, raw: "duplicate", detail: "duplicate"),
                                  externalId: nil, error: "the network returned external id \(e), which belongs to order \(other)", now: now)
            }
            switch outcome.kind {
            case .accepted:
                if externalId?.isEmpty == true { externalId = nil }
                return try finish(tx, lead, state: .accepted, status: LeadStatus(bucket: .pending, raw: nil, detail: "accepted"), externalId: externalId, error: nil, now: now)
            case .duplicate:
                return try finish(tx, lead, state: .duplicate, status: LeadStatus(bucket: .trash, raw: "duplicate", detail: "duplicate"),
                                  externalId: externalId, error: outcome.message, now: now)
            case .rejected:
                return try finish(tx, lead, state: .rejected, status: nil, externalId: nil, error: outcome.message ?? "rejected", now: now)
            case .failed:
                if let retryAt, lead.attempts < maxAttempts {
                    try tx.run("UPDATE outbox SET state = 'due', next_attempt_at = ?, claimed_at = NULL WHERE lead_id = ?", [.int(retryAt), .int(rowId)])
                    try tx.run("UPDATE leads SET send_state = 'queued', last_error = ?, updated_at = ? WHERE id = ?", [.opt(outcome.message), .int(now), .int(rowId)])
                    return nil
                }
                try tx.run("UPDATE outbox SET state = 'parked', claimed_at = NULL WHERE lead_id = ?", [.int(rowId)])
                try tx.run("UPDATE leads SET send_state = 'parked', last_error = ?, updated_at = ? WHERE id = ?",
                           [.text("parked after \(lead.attempts) attempts: \(outcome.message ?? "failed")"), .int(now), .int(rowId)])
                return nil
            }
        }
    }

    func finish(_ tx: borrowing SQLiteTransaction, _ lead: LeadRecord, state: SendState, status: LeadStatus?, externalId: String?, error: String?,
                now: Int64) throws(StoreError) -> StatusChange? {
        try tx.run("UPDATE outbox SET state = 'done', claimed_at = NULL WHERE lead_id = ?", [.int(lead.rowId)])
        try tx.run("""
            UPDATE leads SET send_state = ?, external_id = COALESCE(?, external_id), status = COALESCE(?, status), raw_status = COALESCE(?, raw_status),
              detail = COALESCE(?, detail), last_error = ?, updated_at = ? WHERE id = ?
            """, [.text(state.rawValue), .opt(externalId), .opt(status?.bucket.rawValue), .opt(status?.raw), .opt(status?.detail), .opt(error),
                  .int(now), .int(lead.rowId)])
        guard let status, lead.status?.bucket != status.bucket else { return nil }
        try tx.run("INSERT INTO events (lead_id, at, source, from_status, to_status, raw_status, detail, note) VALUES (?, ?, 'send', ?, ?, ?, ?, ?)",
                   [.int(lead.rowId), .int(now), .opt(lead.status?.bucket.rawValue), .text(status.bucket.rawValue), .opt(status.raw), .opt(status.detail),
                    .text(state.rawValue)])
        return StatusChange(rowId: lead.rowId, orderId: lead.orderId, network: lead.network, from: lead.status?.bucket, to: status.bucket, raw: status.raw, source: "send")
    }

    public func recoverInterruptedSends(now: Int64) throws(StoreError) -> [LeadRecord] {
        try database.write { (tx: borrowing SQLiteTransaction) throws(StoreError) -> [LeadRecord] in
            let ids = try tx.query("SELECT lead_id FROM outbox WHERE state = 'inflight'").compactMap { $0.int("lead_id") }
            var out: [LeadRecord] = []
            for id in ids {
                try tx.run("UPDATE outbox SET state = 'uncertain' WHERE lead_id = ?", [.int(id)])
                try tx.run("UPDATE leads SET send_state = 'uncertain', last_error = ?, updated_at = ? WHERE id = ?",
                           [.text("interrupted while sending: check the network's cabinet, then resend with --resend or wait for its postback"), .int(now), .int(id)])
                if let r = try fetch(tx, rowId: id) { out.append(r) }
            }
            return out
        }
    }

    public func pollTargetRefs(network: String, polledBefore: Int64, afterRowId: Int64, limit: Int) throws(StoreError) -> [PollTargetRef] {
        try database.read { (tx: borrowing SQLiteTransaction) throws(StoreError) in
            try tx.query("""
                SELECT id, order_id, external_id, account, created_at FROM leads WHERE network = ? AND send_state = 'accepted'
                  AND (status IS NULL OR status = 'pending') AND (last_polled_at IS NULL OR last_polled_at <= ?) AND id > ? ORDER BY id LIMIT ?
                """, [.text(network), .int(polledBefore), .int(afterRowId), .int(Int64(limit))]).map { r in
                PollTargetRef(rowId: r.int("id") ?? 0, orderId: r.text("order_id") ?? "", externalId: r.text("external_id"),
                              account: r.text("account") ?? "", createdAt: r.int("created_at") ?? 0)
            }
        }
    }

    public func apply(_ reports: [StatusReport], source: String, chargebacks: Bool, now: Int64) throws(StoreError) -> [StatusChange] {
        try database.write { (tx: borrowing SQLiteTransaction) throws(StoreError) -> [StatusChange] in
            try applyIn(tx, reports.map { ($0, chargebacks) }, source: source, now: now)
        }
    }

    /// The status rules applied inside a caller's transaction, report by report, in order.
    func applyIn(_ tx: borrowing SQLiteTransaction, _ reports: [(report: StatusReport, chargebacks: Bool)], source: String, now: Int64) throws(StoreError) -> [StatusChange] {
        var changes: [StatusChange] = []
        for (r, chargebacks) in reports {
            guard let lead = try fetchStatus(tx, rowId: r.rowId) else { continue }
            let decision = LeadStatusRules.decide(from: lead.status, to: r.status, chargebacks: chargebacks)
            // Payout, currency, comment and reason are kept whenever the network gives them.
            if r.payout != nil || r.currency != nil || r.comment != nil || r.reason != nil || r.externalId != nil {
                try tx.run("""
                    UPDATE leads SET payout = COALESCE(?, payout), currency = COALESCE(?, currency), comment = COALESCE(?, comment),
                      reason = COALESCE(?, reason), external_id = COALESCE(external_id, ?), updated_at = ? WHERE id = ?
                    """, [.opt(r.payout), .opt(r.currency), .opt(r.comment), .opt(r.reason), .opt(r.externalId), .int(now), .int(lead.rowId)])
            }
            guard case .change(let note) = decision else { continue }
            try tx.run("UPDATE leads SET status = ?, raw_status = ?, detail = ?, updated_at = ?, send_state = CASE WHEN send_state IN ('uncertain','sending','queued','parked') THEN 'accepted' ELSE send_state END WHERE id = ?",
                       [.text(r.status.bucket.rawValue), .opt(r.status.raw), .opt(r.status.detail), .int(now), .int(lead.rowId)])
            if lead.sendState == .uncertain || lead.sendState == .queued || lead.sendState == .parked {
                // The network knows this lead (it reports on it): it was delivered.
                try tx.run("UPDATE outbox SET state = 'done' WHERE lead_id = ?", [.int(lead.rowId)])
            }
            try tx.run("INSERT INTO events (lead_id, at, source, from_status, to_status, raw_status, detail, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       [.int(lead.rowId), .int(now), .text(source), .opt(lead.status?.bucket.rawValue), .text(r.status.bucket.rawValue),
                        .opt(r.status.raw), .opt(r.status.detail), .opt(note)])
            if lead.status?.bucket != r.status.bucket || lead.status == nil {
                changes.append(StatusChange(rowId: lead.rowId, orderId: lead.orderId, network: lead.network, from: lead.status?.bucket,
                                            to: r.status.bucket, raw: r.status.raw, source: source))
            }
        }
        return changes
    }

    /// Finds many leads in one read transaction (a postback batch).
    public func locateMany(_ queries: [LeadQueryKey]) throws(StoreError) -> [LeadLocation?] {
        try database.read { (tx: borrowing SQLiteTransaction) throws(StoreError) -> [LeadLocation?] in
            var out: [LeadLocation?] = []
            out.reserveCapacity(queries.count)
            for q in queries {
                var found: LeadLocation?
                if let o = q.orderId, let r = try tx.query("SELECT id FROM leads WHERE network = ? AND order_id = ?", [.text(q.network), .text(o)]).first?.int("id") {
                    found = LeadLocation(rowId: r, orderId: o)
                } else if let e = q.externalId, let row = try tx.query("SELECT id, order_id FROM leads WHERE network = ? AND external_id = ?", [.text(q.network), .text(e)]).first,
                          let r = row.int("id") {
                    found = LeadLocation(rowId: r, orderId: row.text("order_id") ?? "")
                }
                out.append(found)
            }
            return out
        }
    }

    public func markPolled(rowIds: [Int64], now: Int64) throws(StoreError) {
        try database.write { (tx: borrowing SQLiteTransaction) throws(StoreError) in
            for id in rowIds { try tx.run("UPDATE leads SET last_polled_at = ? WHERE id = ?", [.int(now), .int(id)]) }
        }
    }
}

extension Substring {
    func trimmingCharacters() -> String {
        var s = self
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}
