import LeadBridgeCore
import Synchronization

/// The write transaction behind `LeadStore.write`, one SQL text for both stores. SQLite:
/// `BEGIN IMMEDIATE` makes its one writer the lock holder, so every row `lock` reads stays as
/// read until the commit. PostgreSQL: `lock` reads with `FOR UPDATE` (the due and claimed
/// selections with `SKIP LOCKED`), so any number of processes on any hosts decide on rows no
/// one else can change meanwhile. Valid only inside the `write` body.
final class SQLLedgerWriter: LedgerWriter {
    private var connection: (any SQLConnection)?
    /// Writes of `save` not sent yet: they go out together (one pipeline on PostgreSQL)
    /// before anything else the transaction does, and before it commits.
    private var pending: [(sql: String, values: [SQLValue])] = []
    /// SQLite from schema 11: the tallies' changes of the transaction's lead writes, applied
    /// before it commits. Nil: PostgreSQL (no tallies) or an older SQLite schema (triggers).
    private var tallies: SQLiteTallyKeeper?

    init(_ connection: any SQLConnection) {
        self.connection = connection
        if Self.has(connection, SQLiteSchema.writerTallies) { tallies = SQLiteTallyKeeper() }
    }

    /// Sends the pending writes and the tallies' changes, then ends the writer (called before
    /// the commit).
    func finish() throws(StoreError) {
        let c = try conn()
        try tallies?.apply(c)
        connection = nil
    }

    func close() { connection = nil; pending = []; tallies = nil }

    /// Leads read in this transaction: what the tallies count them in now.
    @discardableResult
    private func noted(_ records: [LeadRecord]) -> [LeadRecord] {
        if tallies != nil { for r in records { tallies?.read(r) } }
        return records
    }

    /// What the table holds of lead `rowId` for the tallies: as the transaction last read or
    /// wrote it, else read now (after the pending writes).
    private func tallied(_ rowId: Int64) throws(StoreError) -> TalliedLead? {
        if let known = tallies?.known(rowId) { return known }
        guard let r = try fetch(conn(), "id = ?", [.int(rowId)], withData: false).first else { return nil }
        return TalliedLead(r)
    }

    /// The connection, with every pending write sent first: what the transaction reads or
    /// writes next sees them.
    func conn() throws(StoreError) -> any SQLConnection {
        guard let connection else { throw StoreError(.misuse, "a ledger writer was used after its transaction ended") }
        if !pending.isEmpty {
            let writes = pending
            pending = []
            _ = try connection.queryAll(writes)
        }
        return connection
    }

    /// Whether the connection is to an SQLite file with `step` applied (a ledger opened with
    /// fewer migrations, as tests do, keeps the layout it has).
    static func has(_ c: any SQLConnection, _ step: Migration) -> Bool {
        ((c as? SQLiteConnection)?.schemaVersion ?? 0) >= step.version
    }

    /// At most `n` characters of `s`. A text of at most `n` UTF-8 bytes has at most `n`
    /// characters: kept as it is, without walking its characters (every answer's note and
    /// error goes through here, and `prefix` counts grapheme clusters one by one).
    static func clip(_ s: String?, _ n: Int) -> SQLValue { .opt(clipped(s, n)) }
    static func clipped(_ s: String?, _ n: Int) -> String? { s.map { $0.utf8.count <= n ? $0 : String($0.prefix(n)) } }

    /// Writes every fact column of one lead row. `finalAt: false` leaves out `final_at`, for the
    /// schema-5 migration step, whose table predates that column (version 6).
    static func update(_ c: any SQLRunner, table: String = "leads", rowId: Int64, facts f: LeadFacts, finalAt: Bool = true) throws(StoreError) {
        let s = updating(table: table, rowId: rowId, facts: f, finalAt: finalAt)
        try c.run(s.sql, s.values)
    }

    static func updating(table: String = "leads", rowId: Int64, facts f: LeadFacts, finalAt: Bool = true, linkingHead: Bool = false) -> (sql: String, values: [SQLValue]) {
        let columns = factColumns(f, finalAt: finalAt)
        return ("UPDATE \(table) SET " + columns.map { $0.name + " = ?" }.joined(separator: ", ") + (linkingHead ? ", " + headLink : "") + " WHERE id = ?",
                columns.map(\.value) + [.int(rowId)])
    }

    /// SQLite (schema 10): the SET term that makes the entry just inserted the lead's newest.
    static let headLink = "journal_head = last_insert_rowid()"

    /// The UPDATE of the fact columns that differ from `before` (what the transaction read),
    /// nil when none does: SQLite rewrites every index that holds a column of the SET list, so
    /// a postback that only confirms a status touches `confirmed_at` and `updated_at` alone.
    /// `linkingHead`: the UPDATE also makes the entry just inserted the lead's newest (SQLite),
    /// and is never nil.
    static func updating(rowId: Int64, facts f: LeadFacts, before: LeadFacts, linkingHead: Bool = false) -> (sql: String, values: [SQLValue])? {
        // Most postbacks repeat what the lead has: no column list built for them. Otherwise
        // column by column (no two lists of every column built and zipped: three saves a
        // sent lead), the SET list's text built once per set of columns.
        var changed: UInt32 = linkingHead ? Self.linkingBit : 0
        var values: [SQLValue] = []
        if f != before {
            values.reserveCapacity(8)
            for (i, column) in factColumnList.enumerated() {
                let value = column.value(f)
                if value != column.value(before) {
                    changed |= 1 << i
                    values.append(value)
                }
            }
        }
        guard changed != 0 else { return nil }
        values.append(.int(rowId))
        return (updateSQL(changed), values)
    }

    /// `updateSQL`'s bit for the `headLink` term (above every column's).
    static let linkingBit: UInt32 = 1 << 31

    /// The UPDATE of the fact columns whose bits `changed` holds (and `headLink` with
    /// `linkingBit`): its text is built once per set of columns, and a send writes the same
    /// few sets again and again.
    static func updateSQL(_ changed: UInt32) -> String {
        if let known = updates.withLock({ $0[changed] }) { return known }
        let set = factColumnList.indices.filter { changed & (1 << $0) != 0 }.map { factColumnList[$0].name + " = ?" }
            + (changed & linkingBit != 0 ? [headLink] : [])
        let sql = "UPDATE leads SET " + set.joined(separator: ", ") + " WHERE id = ?"
        updates.withLock { $0[changed] = sql }
        return sql
    }

    private static let updates = Mutex<[UInt32: String]>([:])

    /// Every fact column of a lead row and how the facts give its value, in one order
    /// (`final_at` is the one a full update may leave out).
    static let factColumnList: [(name: String, value: @Sendable (LeadFacts) -> SQLValue)] = [
        ("state", { .text($0.state.rawValue) }), ("reach", { .text($0.reach.rawValue) }), ("external_id", { .opt($0.externalId) }),
        ("status", { .opt($0.status?.bucket.rawValue) }), ("raw_status", { .opt($0.status?.raw) }), ("detail", { .opt($0.status?.detail) }),
        ("reason", { .opt($0.reason) }), ("comment", { .opt($0.comment) }), ("payout", { .opt($0.payout) }), ("currency", { .opt($0.currency) }),
        ("attempts", { .int(Int64($0.attempts)) }), ("due_at", { .opt($0.dueAt) }), ("claim_owner", { .opt($0.claim?.owner) }),
        ("claim_until", { .opt($0.claim?.until) }), ("pollable", { .int($0.pollable ? 1 : 0) }), ("last_error", { clip($0.lastError, 500) }),
        ("confirmed_at", { .opt($0.confirmedAt) }), ("final_at", { .opt($0.finalAt) }), ("updated_at", { .int($0.updatedAt) })]

    /// Every fact column of a lead row with its value, in one order.
    static func factColumns(_ f: LeadFacts, finalAt: Bool) -> [(name: String, value: SQLValue)] {
        factColumnList.compactMap { column in !finalAt && column.name == "final_at" ? nil : (column.name, column.value(f)) }
    }

    /// Appends one journal entry.
    static func append(_ c: any SQLRunner, table: String = "journal", leadId: Int64, _ e: JournalEntry) throws(StoreError) {
        let s = appending(table: table, leadId: leadId, e)
        try c.run(s.sql, s.values)
    }

    /// `linked`: the entry's `prev` is the lead's newest entry (SQLite, schema 10; the lead's
    /// UPDATE that follows sets `headLink`).
    static func appending(table: String = "journal", leadId: Int64, _ e: JournalEntry, linked: Bool = false) -> (sql: String, values: [SQLValue]) {
        (linked ? journalInsertLinked : """
            INSERT INTO \(table) (lead_id, at, kind, source, from_state, to_state, from_status, to_status, raw_status, detail, attempt, outcome, receipt,
              http_status, duration_ms, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [.int(leadId), .int(e.at), .text(e.kind.rawValue), .text(e.source.rawValue), .opt(e.fromState?.rawValue), .opt(e.toState?.rawValue),
                  .opt(e.fromStatus?.rawValue), .opt(e.toStatus?.rawValue), .opt(e.raw), .opt(e.detail), .opt(e.attempt.map { Int64($0.number) }),
                  .opt(e.attempt?.outcome.rawValue), .opt(e.attempt?.receipt?.rawValue), .opt(e.attempt?.httpStatus.map(Int64.init)),
                  .opt(e.attempt?.durationMs.map(Int64.init)), clip(e.storedNote, 500)] + (linked ? [.int(leadId)] : []))
    }

    static let journalInsertLinked = """
        INSERT INTO journal (lead_id, at, kind, source, from_state, to_state, from_status, to_status, raw_status, detail, attempt, outcome, receipt,
          http_status, duration_ms, note, prev) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, (SELECT journal_head FROM leads WHERE id = ?))
        """

    /// Lead rows matching `sql` (a WHERE clause with its ORDER and LIMIT), plus `suffix` (a lock clause).
    func fetch(_ c: any SQLConnection, _ sql: String, _ values: [SQLValue], suffix: String = "", withData: Bool = true) throws(StoreError) -> [LeadRecord] {
        noted(try c.query("SELECT \(withData ? SQLLedger.columns : SQLLedger.columnsWithoutData) FROM leads WHERE \(sql)\(suffix)", values).map(SQLLedger.record))
    }

    /// `ON CONFLICT DO NOTHING` makes the unique keys decide: of two concurrent inserts of one
    /// key (in two processes, on two hosts) one inserts and the other, having waited for it,
    /// finds it and returns it as `.existing`.
    func insert(_ new: NewLead) throws(StoreError) -> InsertResult {
        let c = try conn()
        if let existing = try existing(c, new) { return .existing(existing) }
        let inserted = try c.query("""
            INSERT INTO leads (network, order_id, account, source, source_ref, lead_json, state, reach, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT DO NOTHING RETURNING id
            """, [.text(new.network), .text(new.lead.id), .text(new.account), .opt(new.source), .opt(new.sourceRef), .text(JSONWriter.compact(new.lead.json)),
                  .text(new.facts.state.rawValue), .text(new.facts.reach.rawValue), .int(new.entry.at), .int(new.facts.updatedAt)])
        guard let id = inserted.first?.int("id") else {
            guard let existing = try existing(c, new) else { throw StoreError(.constraint, "a new lead conflicts with a row that cannot be found") }
            return .existing(existing)
        }
        if Self.has(c, SQLiteSchema.journalChain) {
            // The entry first, linked, then the facts with the head (schema 10).
            let entry = Self.appending(leadId: id, new.entry, linked: true)
            try c.run(entry.sql, entry.values)
            let facts = Self.updating(rowId: id, facts: new.facts, linkingHead: true)
            try c.run(facts.sql, facts.values)
        } else {
            try Self.update(c, rowId: id, facts: new.facts)
            try Self.append(c, leadId: id, new.entry)
        }
        tallies?.moved(id, from: nil, to: TalliedLead(network: new.network, account: new.account, createdAt: new.entry.at, facts: new.facts))
        guard let record = try fetch(c, "id = ?", [.int(id)]).first else { throw StoreError(.misuse, "a lead vanished in its own transaction") }
        return .inserted(record)
    }

    /// The lead a new one would repeat: the same source reference, else the same order id.
    func existing(_ c: any SQLConnection, _ new: NewLead) throws(StoreError) -> LeadRecord? {
        if let source = new.source, let ref = new.sourceRef,
           let found = try fetch(c, "source = ? AND source_ref = ?", [.text(source), .text(ref)]).first {
            return found
        }
        return try fetch(c, "network = ? AND order_id = ?", [.text(new.network), .text(new.lead.id)]).first
    }

    func lock(_ selection: LeadSelection) throws(StoreError) -> [LeadRecord] {
        let c = try conn()
        switch selection {
        case .rows(let ids), .facts(let ids):
            var withData = true
            if case .facts = selection { withData = false }
            var out: [LeadRecord] = []
            // In row id order, chunk by chunk: two transactions locking overlapping sets wait
            // for each other instead of deadlocking.
            let sorted = ids.sorted()
            for chunk in stride(from: 0, to: sorted.count, by: 500).map({ Array(sorted[$0..<min($0 + 500, sorted.count)]) }) {
                let list = c.dialect.inList("id", chunk)
                out += try fetch(c, list.sql + " ORDER BY id", list.values, suffix: c.dialect.forUpdate, withData: withData)
            }
            return out
        case .keys(let keys):
            var seen = Set<Int64>()
            var ids: [Int64] = []
            for l in try SQLLedger.locate(c, keys) {
                if let l, seen.insert(l.rowId).inserted { ids.append(l.rowId) }
            }
            return try lock(.rows(ids))
        case .due(let network, let now, let limit, let accounts):
            let due = Self.due(network: network, now: now, limit: limit, accounts: accounts, c.dialect)
            return try fetch(c, due.sql, due.values, suffix: c.dialect.forUpdateSkipLocked)
        case .claimed(let limit):
            return try fetch(c, "claim_owner IS NOT NULL ORDER BY id LIMIT ?", [.int(Int64(limit))], suffix: c.dialect.forUpdateSkipLocked)
        case .pollable(let network, let before, let after, let limit):
            if Self.has(c, SQLiteSchema.pollQueue) {
                // `poll_leads` (schema 9): the page, then the entries it walked past whose lead is
                // no longer pollable (all the rest of the list when the page is not full).
                let page = noted(try c.query(SQLiteSchema.pollPage, [.text(network), .int(after), .int(before), .int(Int64(limit))]).map(SQLLedger.record))
                let through = page.count == limit ? page.last?.rowId ?? Int64.max : Int64.max
                _ = try c.run(SQLiteSchema.pollSweep, [.text(network), .int(after), .int(through)])
                return page
            }
            return try fetch(c, "network = ? AND pollable = 1 AND (last_polled_at IS NULL OR last_polled_at <= ?) AND id > ? ORDER BY id LIMIT ?",
                             [.text(network), .int(before), .int(after), .int(Int64(limit))], suffix: c.dialect.forUpdateSkipLocked, withData: false)
        }
    }

    /// The WHERE clause (with its ORDER and LIMIT) of a claim's due leads, in their order.
    static func due(network: String?, now: Int64, limit: Int, accounts: AccountFilter?, _ dialect: SQLDialect) -> (sql: String, values: [SQLValue]) {
        var sql = "due_at IS NOT NULL AND due_at <= ?"
        var values: [SQLValue] = [.int(now)]
        if let network { sql += " AND \(dialect.unindexed("network")) = ?"; values.append(.text(network)) }
        if let accounts {
            let condition = accounts.condition
            sql += " AND " + condition.sql
            values += condition.values
        }
        values.append(.int(Int64(limit)))
        return (sql + " ORDER BY due_at, id LIMIT ?", values)
    }

    /// `find`'s reads on SQLite, built once: without the lead's data (a few hundred bytes of
    /// JSON per postback, read for nothing).
    static let findByOrderId = "SELECT \(SQLLedger.columnsWithoutData) FROM leads WHERE network = ? AND order_id = ?"
    static let findByExternalId = "SELECT \(SQLLedger.columnsWithoutData) FROM leads WHERE network = ? AND external_id = ?"

    func find(_ keys: [LeadKey]) throws(StoreError) -> [LeadRecord?] {
        let c = try conn()
        guard c.dialect == .sqlite else {
            // PostgreSQL: find the rows, then lock them in row id order (`lock(.rows)`), so two
            // transactions taking overlapping leads wait for each other instead of deadlocking.
            let found = try SQLLedger.locate(c, keys)
            var locked: [Int64: LeadRecord] = [:]
            for r in try lock(.facts(Array(Set(found.compactMap { $0?.rowId })))) { locked[r.rowId] = r }
            return found.map { $0.flatMap { locked[$0.rowId] } }
        }
        // SQLite: the one writer holds the whole database, so a lead read stays as read until
        // the commit: one point read per distinct key, none for a lead the connection's cache
        // holds as stored (`SQLiteLeadCache`).
        let sqlite = c as? SQLiteConnection
        let cache = sqlite?.leadCache
        if let sqlite, let cache, let version = try sqlite.integer(Self.dataVersion) { cache.check(dataVersion: version) }
        var out = [LeadRecord?](repeating: nil, count: keys.count)
        // Where each key came first: a repeated key takes that answer (no record copied into a map).
        var first: [LeadKey: Int] = [:]
        first.reserveCapacity(keys.count)
        for (i, key) in keys.enumerated() {
            if let j = first[key] { out[i] = out[j]; continue }
            first[key] = i
            var record = cache?[key]
            if record == nil {
                if let o = key.orderId { record = try c.query(Self.findByOrderId, [.text(key.network), .text(o)]).first.map(SQLLedger.record) }
                if record == nil, let e = key.externalId { record = try c.query(Self.findByExternalId, [.text(key.network), .text(e)]).first.map(SQLLedger.record) }
                if let record { cache?.keep(record, for: key) }
            }
            if let record, tallies != nil { tallies?.read(record) }
            out[i] = record
        }
        return out
    }

    /// Changes when another connection commits (SQLite); this connection's own commits do not change it.
    static let dataVersion = "PRAGMA data_version"

    func leads(_ query: LeadQuery) throws(StoreError) -> [LeadRecord] {
        try SQLLedger.leads(try conn(), query)
    }

    /// Queued with the writes before it: the rows, journal entries and outgoing postbacks of
    /// a whole batch go out in one pipeline on PostgreSQL.
    func save(_ w: LeadWrite) throws(StoreError) {
        guard let connection else { throw StoreError(.misuse, "a ledger writer was used after its transaction ended") }
        if tallies != nil, let old = try tallied(w.rowId) {
            tallies?.moved(w.rowId, from: old, to: old.with(w.facts, account: w.lead == nil ? nil : w.account))
        }
        var statements: [(sql: String, values: [SQLValue])] = []
        // SQLite (schema 10): the entry goes first, linked to the lead's newest, and the lead's
        // UPDATE makes it the newest. PostgreSQL: the entry after the facts (`journal_lead`).
        let linked = w.entry != nil && Self.has(connection, SQLiteSchema.journalChain)
        if linked, let e = w.entry { statements.append(Self.appending(leadId: w.rowId, e, linked: true)) }
        if let before = w.before {
            if let update = Self.updating(rowId: w.rowId, facts: w.facts, before: before, linkingHead: linked) { statements.append(update) }
        } else {
            statements.append(Self.updating(rowId: w.rowId, facts: w.facts, linkingHead: linked))
        }
        if let lead = w.lead {
            statements.append(("UPDATE leads SET lead_json = ?, account = COALESCE(?, account) WHERE id = ?",
                               [.text(JSONWriter.compact(lead.json)), .opt(w.account), .int(w.rowId)]))
        }
        if !linked, let e = w.entry { statements.append(Self.appending(leadId: w.rowId, e)) }
        for o in w.outgoing {
            statements.append(("""
                INSERT INTO outgoing_postbacks (lead_id, source, kind, status, method, url, state, attempts, next_attempt_at, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?) ON CONFLICT(lead_id, kind, status) DO NOTHING
                """, [.int(o.leadRowId), .text(o.source), .text(o.kind), .text(o.status), .text(o.method), .text(o.url), .text(o.state.rawValue),
                      .int(o.nextAttemptAt), .int(o.createdAt)]))
        }
        pending += statements
    }

    func postbacks(_ query: PostbackQuery) throws(StoreError) -> [RawPostbackRecord] {
        let c = try conn()
        guard let select = SQLLedger.postbackSelect(query, c.dialect, suffix: c.dialect.forUpdateSkipLocked) else { return [] }
        return try c.query(select.sql, select.values).map(SQLLedger.rawRecord)
    }

    func markPolled(rowIds: [Int64], at: Int64) throws(StoreError) {
        let c = try conn()
        for chunk in stride(from: 0, to: rowIds.count, by: 500).map({ Array(rowIds[$0..<min($0 + 500, rowIds.count)]) }) {
            let list = c.dialect.inList("id", chunk)
            try c.run("UPDATE leads SET last_polled_at = ? WHERE " + list.sql, [.int(at)] + list.values)
        }
    }

    /// Postbacks stored as received (`items[i].result`), nothing known of their leads yet. No
    /// answer waits on this commit (the writer's fallback answers 503; a replay applies them
    /// later), so PostgreSQL need not wait for its disk.
    func logPostbacks(_ items: [RawPostback]) throws(StoreError) -> [Int64] {
        let c = try conn()
        if c.dialect == .postgres { try c.run("SET LOCAL synchronous_commit = off", []) }
        return try logPostbacks(items, results: items.map { RawPostbackResult(id: 0, result: $0.result) })
    }

    /// Postbacks stored with their results (no second write of the rows). The transaction's
    /// commit is what acknowledges them: it keeps the store's durability. SQLite: several rows
    /// per INSERT (`insertPostbacks`); PostgreSQL: one INSERT each, in one pipeline for the
    /// whole batch (group commit's one round trip).
    func logPostbacks(_ items: [RawPostback], results: [RawPostbackResult]) throws(StoreError) -> [Int64] {
        let c = try conn()
        if let sqlite = c as? SQLiteConnection { return try Self.insertPostbacks(sqlite, items, results) }
        let inserted = try c.queryAll(zip(items, results).map { p, r in
            var values: [SQLValue] = []
            Self.appendPostback(p, r, to: &values)
            return (Self.postbackInsert + Self.postbackRow + " RETURNING id", values)
        })
        var ids: [Int64] = []
        ids.reserveCapacity(items.count)
        for rows in inserted {
            guard let id = rows.first?.int("id") else { throw StoreError(.misuse, "a stored postback got no id") }
            ids.append(id)
        }
        return ids
    }

    func indexPostbackOrders(atMost limit: Int) throws(StoreError) -> Int {
        try Self.indexPostbackOrders(conn(), atMost: limit)
    }

    /// SQLite: adds the order-index entries (`raw_postback_orders`, schema 8) of the oldest
    /// stored postbacks above the mark, at most `limit` ids of them, in key order, and moves the
    /// mark past them in the same transaction. Returns how many ids it covered (0: none were
    /// left). PostgreSQL indexes each postback as it is stored: 0.
    static func indexPostbackOrders(_ c: any SQLConnection, atMost limit: Int) throws(StoreError) -> Int {
        guard let (mark, end) = try unindexedRange(c, atMost: limit) else { return 0 }
        _ = try c.run("""
            INSERT OR IGNORE INTO raw_postback_orders (network, order_id, id)
              SELECT network, order_id, id FROM raw_postbacks WHERE id > ? AND id <= ? AND order_id IS NOT NULL ORDER BY network, order_id, id
            """, [.int(mark), .int(end)])
        _ = try c.run("UPDATE raw_postbacks_indexed SET upto = ?", [.int(end)])
        return Int(end - mark)
    }

    /// SQLite: (the mark, the id a step of at most `limit` postbacks moves it to); nil when
    /// none is above the mark, and on PostgreSQL.
    static func unindexedRange(_ c: any SQLConnection, atMost limit: Int) throws(StoreError) -> (Int64, Int64)? {
        guard c.dialect == .sqlite, limit > 0 else { return nil }
        let row = try c.query("SELECT (SELECT upto FROM raw_postbacks_indexed) AS upto, (SELECT max(id) FROM raw_postbacks) AS top", []).first
        guard let mark = row?.int("upto") else { throw StoreError(.schema, "the raw postbacks' order index has no mark") }
        guard let top = row?.int("top"), top > mark else { return nil }
        return (mark, top - mark > Int64(limit) ? mark + Int64(limit) : top)
    }

    func postbacksToIndex(atMost limit: Int) throws(StoreError) -> (ids: [Int64], through: Int64, more: Bool)? {
        let c = try conn()
        guard let (mark, end) = try Self.unindexedRange(c, atMost: limit) else { return nil }
        let ids = try c.query("SELECT id FROM raw_postbacks WHERE id > ? AND id <= ? AND order_id IS NOT NULL ORDER BY network, order_id, id",
                              [.int(mark), .int(end)]).compactMap { $0.int("id") }
        return (ids, end, end - mark >= Int64(limit))
    }

    func indexPostbackOrders(ids: [Int64], through: Int64?) throws(StoreError) {
        let c = try conn()
        guard c.dialect == .sqlite else { return }
        for chunk in stride(from: 0, to: ids.count, by: 500).map({ Array(ids[$0..<min($0 + 500, ids.count)]) }) {
            let list = c.dialect.inList("id", chunk)
            _ = try c.run("INSERT OR IGNORE INTO raw_postback_orders (network, order_id, id) SELECT network, order_id, id FROM raw_postbacks WHERE "
                          + list.sql + " AND order_id IS NOT NULL", list.values)
        }
        if let through { _ = try c.run("UPDATE raw_postbacks_indexed SET upto = ? WHERE upto < ?", [.int(through), .int(through)]) }
    }

    static let postbackInsert = "INSERT INTO raw_postbacks (received_at, network, remote, method, path, query, body, result, lead_id, order_id, external_id, note) VALUES "
    static let postbackRow = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"

    /// The values of one stored postback, in `postbackRow`'s order.
    static func appendPostback(_ p: RawPostback, _ r: RawPostbackResult, to values: inout [SQLValue]) {
        values.append(.int(p.receivedAt))
        values.append(.text(p.network))
        values.append(.text(p.remote))
        values.append(.text(p.method))
        values.append(.text(p.path))
        values.append(.text(p.query))
        values.append(p.body.isEmpty ? .null : .blob(p.body))
        values.append(.text(r.result.rawValue))
        values.append(.opt(r.leadRowId))
        values.append(.opt(r.orderId))
        values.append(.opt(r.externalId))
        values.append(clip(r.note, 300))
    }

    /// `appendPostback`'s values bound straight into SQLite's statement (no `SQLValue` each).
    static func bindPostback(_ p: RawPostback, _ r: RawPostbackResult, to b: inout SQLiteParameters) throws(StoreError) {
        try b.int(p.receivedAt)
        try b.text(p.network)
        try b.text(p.remote)
        try b.text(p.method)
        try b.text(p.path)
        try b.text(p.query)
        if p.body.isEmpty { try b.null() } else { try b.blob(p.body) }
        try b.text(r.result.rawValue)
        try b.int(r.leadRowId)
        try b.text(r.orderId)
        try b.text(r.externalId)
        try b.text(clipped(r.note, 300))
    }

    /// Rows per INSERT on SQLite, largest first: a batch goes out in as few statements as these
    /// sizes make (28 rows: 16 + 4 × 3), and only these four statements are prepared.
    static let rowsPerInsert = [64, 16, 4, 1]
    static let sqliteInserts = rowsPerInsert.map { postbackInsert + Array(repeating: postbackRow, count: $0).joined(separator: ", ") }

    /// SQLite: the postbacks in INSERTs of several rows, without RETURNING. Measured with the C
    /// API on the raw log's rows (28 a transaction, CPU per row): RETURNING made SQLite keep a
    /// statement journal (a copy of each page the statement changes), 7.9 instead of 5.3 µs a
    /// row; 28 rows in one statement 3.9 µs. The ids follow from the last one: SQLite numbers
    /// new rows one above the largest id, in the order of the VALUES.
    static func insertPostbacks(_ c: SQLiteConnection, _ items: [RawPostback], _ results: [RawPostbackResult]) throws(StoreError) -> [Int64] {
        let count = min(items.count, results.count)
        var ids: [Int64] = []
        ids.reserveCapacity(count)
        var start = 0
        while start < count {
            let k = rowsPerInsert.firstIndex { $0 <= count - start } ?? rowsPerInsert.count - 1
            let n = rowsPerInsert[k]
            let rows = start..<start + n
            let changed = try c.run(sqliteInserts[k]) { (p: inout SQLiteParameters) throws(StoreError) in
                for i in rows { try bindPostback(items[i], results[i], to: &p) }
            }
            guard changed == n else { throw StoreError(.misuse, "an INSERT of \(n) postbacks stored another number") }
            let last = c.lastInsertId
            ids.append(contentsOf: (last - Int64(n) + 1)...last)
            start += n
        }
        return ids
    }

    func savePostbackResults(_ results: [RawPostbackResult]) throws(StoreError) {
        let c = try conn()
        let update = "UPDATE raw_postbacks SET result = ?, lead_id = ?, order_id = ?, external_id = ?, note = ? WHERE id = ?"
        guard c.dialect == .sqlite else {
            _ = try c.queryAll(results.map { r in
                (update, [.text(r.result.rawValue), .opt(r.leadRowId), .opt(r.orderId), .opt(r.externalId), Self.clip(r.note, 300), .int(r.id)])
            })
            return
        }
        // Above the order index's mark a postback may already have its entry (a step in parts
        // is under way): the entry follows the order id a replay sets (below the mark, the
        // trigger `raw_postbacks_order_update` does it).
        for r in results {
            _ = try c.run("""
                DELETE FROM raw_postback_orders WHERE id = ?1 AND ?1 > (SELECT upto FROM raw_postbacks_indexed)
                  AND network = (SELECT network FROM raw_postbacks WHERE id = ?1) AND order_id = (SELECT order_id FROM raw_postbacks WHERE id = ?1)
                """, [.int(r.id)])
            _ = try c.run(update, [.text(r.result.rawValue), .opt(r.leadRowId), .opt(r.orderId), .opt(r.externalId), Self.clip(r.note, 300), .int(r.id)])
            _ = try c.run("""
                INSERT OR IGNORE INTO raw_postback_orders (network, order_id, id) SELECT network, order_id, id FROM raw_postbacks
                  WHERE id = ?1 AND order_id IS NOT NULL AND ?1 > (SELECT upto FROM raw_postbacks_indexed)
                """, [.int(r.id)])
        }
    }

    func saveOutgoing(_ d: OutgoingDelivery) throws(StoreError) {
        try conn().run("""
            UPDATE outgoing_postbacks SET state = ?, attempts = attempts + 1, next_attempt_at = COALESCE(?, next_attempt_at), last_error = ?,
              delivered_at = COALESCE(?, delivered_at) WHERE id = ?
            """, [.text(d.state.rawValue), .opt(d.nextAttemptAt), Self.clip(d.error, 500), .opt(d.state == .delivered ? d.at : nil), .int(d.id)])
    }

    func replayOutgoing(ids: [Int64], at: Int64) throws(StoreError) -> Int {
        let c = try conn()
        var count = 0
        for id in ids {
            count += try c.run("UPDATE outgoing_postbacks SET state = ?, attempts = 0, next_attempt_at = ? WHERE id = ? AND state = ?",
                               [.text(OutgoingState.due.rawValue), .int(at), .int(id), .text(OutgoingState.failed.rawValue)])
        }
        return count
    }

    func takeOutgoing(dueBy now: Int64, limit: Int, until: Int64) throws(StoreError) -> [OutgoingPostback] {
        let c = try conn()
        let due = try c.query("SELECT * FROM outgoing_postbacks WHERE state = ? AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?"
                              + c.dialect.forUpdateSkipLocked, [.text(OutgoingState.due.rawValue), .int(now), .int(Int64(limit))]).map(SQLLedger.outgoing)
        for chunk in stride(from: 0, to: due.count, by: 500).map({ Array(due[$0..<min($0 + 500, due.count)]) }) {
            let list = c.dialect.inList("id", chunk.map(\.id))
            try c.run("UPDATE outgoing_postbacks SET next_attempt_at = ? WHERE " + list.sql, [.int(until)] + list.values)
        }
        return due
    }
}
