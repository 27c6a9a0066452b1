extension SQLiteSchema {
    /// Version 9: the leads status polls ask about are found through `poll_leads`, a list that
    /// gains a lead when it becomes pollable and loses it only when a poll pass walks past it,
    /// in place of the partial index `leads_poll (network, id) WHERE pollable = 1`.
    ///
    /// Why: a lead stops being pollable when its status becomes final, which for a network's
    /// postbacks is the common status change. The partial index then dropped the lead's entry
    /// at once: a random page among all pending leads' entries, written to the log in that
    /// commit and copied back at the next checkpoint — one of the three random pages of a
    /// status change (with the lead's row and its journal entry; bench/RESULTS.md, "Issue 11
    /// profile note", round 7). Now the change leaves the entry; the poll pass that reaches it
    /// (`SQLLedgerWriter.lock(.pollable)`) deletes the entries it walked past whose lead is no
    /// longer pollable, in id order, so a page of entries is written once for all the leads
    /// on it that went final since the last pass.
    ///
    /// Readers check the lead row itself (`pollable = 1`), so an entry left behind is never
    /// polled. Triggers add the entry (a new pollable lead, a lead that becomes pollable, or
    /// one that changes network); none on the change that ends pollability, which is the
    /// point. SQLite only: PostgreSQL never removes an index entry when a row changes (the row's
    /// new version is simply not indexed by `leads_poll`; VACUUM removes the old entry later),
    /// so its partial index already costs a final status change nothing.
    static let pollQueue = Migration(9, "poll list swept by the poll passes", """
        CREATE TABLE poll_leads (
          network TEXT NOT NULL,
          id INTEGER NOT NULL,
          PRIMARY KEY (network, id)
        ) WITHOUT ROWID;
        INSERT INTO poll_leads (network, id) SELECT network, id FROM leads WHERE pollable = 1 ORDER BY network, id;
        DROP INDEX leads_poll;
        CREATE TRIGGER leads_poll_insert AFTER INSERT ON leads WHEN NEW.pollable = 1 BEGIN
          INSERT OR IGNORE INTO poll_leads (network, id) VALUES (NEW.network, NEW.id);
        END;
        CREATE TRIGGER leads_poll_update AFTER UPDATE OF pollable, network ON leads
          WHEN NEW.pollable = 1 AND (OLD.pollable IS NOT 1 OR OLD.network IS NOT NEW.network) BEGIN
          INSERT OR IGNORE INTO poll_leads (network, id) VALUES (NEW.network, NEW.id);
        END;
        """)

    /// The page of a poll pass on SQLite: `poll_leads` in id order from `id > ?`, each lead read
    /// by its row id and kept only if it is still pollable and not polled after the cutoff.
    /// Values: network, after, before, limit.
    static let pollPage = "SELECT " + SQLLedger.columnNames.map { $0 == "lead_json" ? "'' AS lead_json" : "leads." + $0 }.joined(separator: ", ")
        + " FROM poll_leads CROSS JOIN leads ON leads.id = poll_leads.id WHERE poll_leads.network = ? AND poll_leads.id > ?"
        + " AND leads.network = poll_leads.network AND leads.pollable = 1 AND (leads.last_polled_at IS NULL OR leads.last_polled_at <= ?)"
        + " ORDER BY poll_leads.id LIMIT ?"

    /// Deletes the entries a poll page walked past (`id > after AND id <= through`) whose lead is
    /// gone, moved to another network or no longer pollable. Values: network, after, through.
    static let pollSweep = """
        DELETE FROM poll_leads WHERE network = ? AND id > ? AND id <= ?
          AND NOT EXISTS (SELECT 1 FROM leads WHERE leads.id = poll_leads.id AND leads.network = poll_leads.network AND leads.pollable = 1)
        """
}
