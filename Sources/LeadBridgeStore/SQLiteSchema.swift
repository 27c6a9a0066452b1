import LeadBridgeCore

extension SQLiteSchema {
    /// Every step, oldest first.
    static let all: [Migration] = history + [lifecycle, reports, tallies, postbackOrders, pollQueue, journalChain, writerTallies]

    static let leadsTable = """
        CREATE TABLE leads_v5 (
          id INTEGER PRIMARY KEY,
          network TEXT NOT NULL,
          order_id TEXT NOT NULL,
          account TEXT NOT NULL,
          source TEXT,
          source_ref TEXT,
          lead_json TEXT NOT NULL,
          state TEXT NOT NULL,
          reach TEXT NOT NULL,
          external_id TEXT,
          status TEXT,
          raw_status TEXT,
          detail TEXT,
          reason TEXT,
          comment TEXT,
          payout TEXT,
          currency TEXT,
          attempts INTEGER NOT NULL DEFAULT 0,
          due_at INTEGER,
          claim_owner TEXT,
          claim_until INTEGER,
          pollable INTEGER NOT NULL DEFAULT 0,
          last_error TEXT,
          confirmed_at INTEGER,
          created_at INTEGER NOT NULL,
          updated_at INTEGER NOT NULL,
          last_polled_at INTEGER,
          UNIQUE (network, order_id)
        );
        """

    /// Version 5: the lead lifecycle in Core. One state column (`leads.state`, merging
    /// `leads.send_state` and `outbox.state`), the outbox's due time and claim on the lead, what
    /// Core derives for selections (`pollable`, `due_at`, `claim_owner`) as plain columns, one
    /// journal for history and attempts, and no state word or CHECK constraint in the schema.
    static let lifecycle = Migration(5, "lifecycle in core", leadsTable + """
        CREATE TABLE journal_v5 (
          id INTEGER PRIMARY KEY,
          lead_id INTEGER NOT NULL REFERENCES leads(id),
          at INTEGER NOT NULL,
          kind TEXT NOT NULL,
          source TEXT NOT NULL,
          from_state TEXT,
          to_state TEXT,
          from_status TEXT,
          to_status TEXT,
          raw_status TEXT,
          detail TEXT,
          attempt INTEGER,
          outcome TEXT,
          receipt TEXT,
          http_status INTEGER,
          duration_ms INTEGER,
          note TEXT
        );
        CREATE TABLE raw_postbacks_v5 (
          id INTEGER PRIMARY KEY,
          received_at INTEGER NOT NULL,
          network TEXT NOT NULL,
          remote TEXT,
          method TEXT NOT NULL,
          path TEXT NOT NULL,
          query TEXT NOT NULL,
          body BLOB,
          result TEXT NOT NULL,
          lead_id INTEGER REFERENCES leads(id),
          note TEXT,
          order_id TEXT,
          external_id TEXT
        );
        INSERT INTO raw_postbacks_v5 (id, received_at, network, remote, method, path, query, body, result, lead_id, note, order_id, external_id)
          SELECT id, received_at, network, remote, method, path, query, body, result, lead_id, note, order_id, external_id FROM raw_postbacks;
        CREATE TABLE outgoing_v5 (
          id INTEGER PRIMARY KEY,
          lead_id INTEGER NOT NULL REFERENCES leads(id),
          source TEXT NOT NULL,
          kind TEXT NOT NULL,
          status TEXT NOT NULL,
          method TEXT NOT NULL,
          url TEXT NOT NULL,
          state TEXT NOT NULL,
          attempts INTEGER NOT NULL DEFAULT 0,
          next_attempt_at INTEGER NOT NULL,
          last_error TEXT,
          created_at INTEGER NOT NULL,
          delivered_at INTEGER,
          UNIQUE (lead_id, kind, status)
        );
        INSERT INTO outgoing_v5 SELECT id, lead_id, source, kind, status, method, url, state, attempts, next_attempt_at, last_error, created_at, delivered_at
          FROM outgoing_postbacks;
        """, step: { (tx: any SQLRunner) throws(StoreError) in
        // Leads: the old two state columns read through Core.
        for r in try tx.query("""
            SELECT l.*, o.next_attempt_at AS o_next, o.claimed_at AS o_claimed FROM leads l LEFT JOIN outbox o ON o.lead_id = l.id ORDER BY l.id
            """, []) {
            var status: LeadStatus?
            if let b = r.text("status").flatMap(Bucket.init(rawValue:)) { status = LeadStatus(bucket: b, raw: r.text("raw_status"), detail: r.text("detail")) }
            let facts = LegacyLedger.facts(sendState: r.text("send_state") ?? "", nextAttemptAt: r.int("o_next"), claimedAt: r.int("o_claimed"), status: status,
                                           externalId: r.text("external_id"), attempts: Int(r.int("attempts") ?? 0), lastError: r.text("last_error"),
                                           payout: r.text("payout"), currency: r.text("currency"), comment: r.text("comment"), reason: r.text("reason"),
                                           updatedAt: r.int("updated_at") ?? 0)
            try tx.run("INSERT INTO leads_v5 (id, network, order_id, account, source, source_ref, lead_json, created_at, last_polled_at, state, reach, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       [r["id"], r["network"], r["order_id"], r["account"], r["source"], r["source_ref"], r["lead_json"], r["created_at"], r["last_polled_at"],
                        .text(facts.state.rawValue), .text(facts.reach.rawValue), .int(facts.updatedAt)])
            try SQLLedgerWriter.update(tx, table: "leads_v5", rowId: r.int("id") ?? 0, facts: facts, finalAt: false)
        }
        // History and attempts: one journal, in time order (within a second, an attempt before
        // the status change it made, as the old version wrote them).
        var entries: [(lead: Int64, order: Int, entry: JournalEntry)] = []
        for r in try tx.query("SELECT * FROM events ORDER BY id", []) {
            entries.append((r.int("lead_id") ?? 0, 1_000_000_000 + entries.count, LegacyLedger.statusEntry(
                at: r.int("at") ?? 0, source: r.text("source") ?? "", from: r.text("from_status"), to: r.text("to_status") ?? "",
                raw: r.text("raw_status"), detail: r.text("detail"), note: r.text("note"))))
        }
        for r in try tx.query("SELECT * FROM send_attempts ORDER BY id", []) {
            entries.append((r.int("lead_id") ?? 0, entries.count, LegacyLedger.attemptEntry(
                at: r.int("at") ?? 0, attempt: Int(r.int("attempt") ?? 0), outcome: r.text("outcome") ?? "", httpStatus: r.int("http_status").map { Int($0) },
                message: r.text("message"))))
        }
        for e in entries.sorted(by: { ($0.entry.at, $0.order) < ($1.entry.at, $1.order) }) {
            try SQLLedgerWriter.append(tx, table: "journal_v5", leadId: e.lead, e.entry)
        }
        try tx.exec("""
            DROP TABLE outbox;
            DROP TABLE send_attempts;
            DROP TABLE events;
            DROP TABLE raw_postbacks;
            DROP TABLE outgoing_postbacks;
            DROP TABLE leads;
            ALTER TABLE leads_v5 RENAME TO leads;
            ALTER TABLE journal_v5 RENAME TO journal;
            ALTER TABLE raw_postbacks_v5 RENAME TO raw_postbacks;
            ALTER TABLE outgoing_v5 RENAME TO outgoing_postbacks;
            CREATE UNIQUE INDEX leads_external ON leads(network, external_id) WHERE external_id IS NOT NULL;
            CREATE UNIQUE INDEX leads_source_ref ON leads(source, source_ref) WHERE source_ref IS NOT NULL;
            CREATE INDEX leads_order ON leads(order_id);
            CREATE INDEX leads_due ON leads(due_at, id) WHERE due_at IS NOT NULL;
            CREATE INDEX leads_claims ON leads(claim_owner) WHERE claim_owner IS NOT NULL;
            CREATE INDEX leads_poll ON leads(network, id) WHERE pollable = 1;
            CREATE INDEX journal_lead ON journal(lead_id);
            CREATE INDEX raw_postbacks_result ON raw_postbacks(network, result);
            CREATE INDEX raw_postbacks_order ON raw_postbacks(network, order_id);
            CREATE INDEX raw_postbacks_external ON raw_postbacks(network, external_id);
            CREATE INDEX outgoing_due ON outgoing_postbacks(state, next_attempt_at);
            """)
    })
}
