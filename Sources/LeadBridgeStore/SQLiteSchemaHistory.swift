import LeadBridgeCore

/// The ledger's schema, step by step. Versions 1–4 are the schema's history as it shipped
/// (never edited: ledgers at any of them upgrade through the same steps); their SQL still
/// names the state words and CHECK constraints of that time. Version 5 moves every rule to
/// Core: one state column, no state word in the schema.
enum SQLiteSchema {
    static let history: [Migration] = [
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
}
