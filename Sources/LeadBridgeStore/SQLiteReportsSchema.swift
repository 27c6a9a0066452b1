extension SQLiteSchema {
    /// The digits of a lead file's phone (a lead's phone holds only digits, `+`, spaces, `-`,
    /// `(` and `)`), for the console's search by phone ending.
    static func phoneDigits(_ json: String) -> String {
        "CASE WHEN json_valid(\(json)) THEN replace(replace(replace(replace(replace(json_extract(\(json), '$.phone'), ' ', ''), '+', ''), '-', ''), '(', ''), ')', '') END"
    }

    /// Version 6: what the operator's console, `status` and `/metrics` read. The latest sync
    /// pass of each network with running totals (one row per network, replaced by every pass:
    /// the table never grows with time); the phone's digits as a column kept by triggers
    /// (written by no Swift code: the lead file is the one source); indexes for the period,
    /// state and attempt-outcome groupings.
    static let reports = Migration(6, "console reports", """
        CREATE TABLE sync_passes (
          network TEXT PRIMARY KEY,
          started_at INTEGER NOT NULL,
          finished_at INTEGER NOT NULL,
          outcome TEXT NOT NULL,
          error TEXT,
          sent INTEGER NOT NULL DEFAULT 0,
          polled INTEGER NOT NULL DEFAULT 0,
          changes INTEGER NOT NULL DEFAULT 0,
          last_ok_at INTEGER,
          passes INTEGER NOT NULL DEFAULT 0,
          failed_passes INTEGER NOT NULL DEFAULT 0,
          total_seconds INTEGER NOT NULL DEFAULT 0
        );
        ALTER TABLE leads ADD COLUMN phone_digits TEXT;
        UPDATE leads SET phone_digits = \(phoneDigits("lead_json"));
        CREATE TRIGGER leads_phone_digits_insert AFTER INSERT ON leads BEGIN
          UPDATE leads SET phone_digits = \(phoneDigits("NEW.lead_json")) WHERE id = NEW.id;
        END;
        CREATE TRIGGER leads_phone_digits_update AFTER UPDATE OF lead_json ON leads BEGIN
          UPDATE leads SET phone_digits = \(phoneDigits("NEW.lead_json")) WHERE id = NEW.id;
        END;
        CREATE INDEX leads_created ON leads(created_at);
        CREATE INDEX leads_state ON leads(state, network);
        CREATE INDEX journal_outcome ON journal(outcome) WHERE outcome IS NOT NULL;
        """)
}
