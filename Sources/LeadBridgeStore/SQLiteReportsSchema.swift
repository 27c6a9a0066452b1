import LeadBridgeCore

extension SQLiteSchema {
    /// The digits of a lead file's phone (a lead's phone holds only digits, `+`, spaces, `-`,
    /// `(` and `)`), for the console's search by phone ending.
    static func phoneDigits(_ json: String) -> String {
        "CASE WHEN json_valid(\(json)) THEN replace(replace(replace(replace(replace(json_extract(\(json), '$.phone'), ' ', ''), '+', ''), '-', ''), '(', ''), ')', '') END"
    }

    /// Version 6: what the operator's console, `status` and `/metrics` read.
    /// - `sync_passes`: the latest sync pass of each network with running totals (one row per
    ///   network, replaced by every pass: the table never grows with time);
    /// - `leads.final_at`: when the lead first got a final status (a fact Core decides, see
    ///   `LeadFacts.finalAt`); filled here from the journal, whose first entry with a final
    ///   status is exactly when Core would have set it;
    /// - `leads.phone_digits`: the phone's digits, kept by triggers from the lead file (written by
    ///   no Swift code), for the search by phone ending;
    /// - indexes that answer the funnel's groupings in index order (whole UTC days:
    ///   `created_at / 86400`), its times to a final status from a covering index, and the
    ///   state counts of health.
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
        ALTER TABLE leads ADD COLUMN final_at INTEGER;
        ALTER TABLE leads ADD COLUMN phone_digits TEXT;
        UPDATE leads SET phone_digits = \(phoneDigits("lead_json"));
        CREATE TRIGGER leads_phone_digits_insert AFTER INSERT ON leads BEGIN
          UPDATE leads SET phone_digits = \(phoneDigits("NEW.lead_json")) WHERE id = NEW.id;
        END;
        CREATE TRIGGER leads_phone_digits_update AFTER UPDATE OF lead_json ON leads BEGIN
          UPDATE leads SET phone_digits = \(phoneDigits("NEW.lead_json")) WHERE id = NEW.id;
        END;
        CREATE INDEX leads_funnel ON leads (network, account, state, status, created_at / 86400, currency, payout);
        CREATE INDEX leads_final ON leads (state, created_at, network, account, final_at) WHERE final_at IS NOT NULL;
        CREATE INDEX leads_state ON leads (state, network);
        CREATE INDEX journal_outcome ON journal (outcome) WHERE outcome IS NOT NULL;
        """, step: fillFinalAt)

    /// `final_at` of the leads already in the ledger: their first journal entry with a final
    /// status (the words bound from Core's buckets).
    @Sendable static func fillFinalAt(_ tx: any SQLRunner) throws(StoreError) {
        let finals = Bucket.allCases.filter(\.isFinal)
        try tx.run("UPDATE leads SET final_at = (SELECT min(j.at) FROM journal j WHERE j.lead_id = leads.id AND j.to_status IN ("
                   + finals.map { _ in "?" }.joined(separator: ", ") + "))", finals.map { .text($0.rawValue) })
    }
}
