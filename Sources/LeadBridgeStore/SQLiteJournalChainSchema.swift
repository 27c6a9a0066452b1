extension SQLiteSchema {
    /// Version 10: a lead's journal is a chain — `leads.journal_head` names its newest entry and
    /// each entry's `journal.prev` the one before — in place of the index `journal_lead (lead_id)`.
    ///
    /// Why: the index put every new entry at its lead's place among all leads' entries, a
    /// random page per status change of a random lead (of a postback, a poll), written to the
    /// log in that commit and copied back at the checkpoint: one of the two random pages a change
    /// still wrote after schema 9 besides the lead's own row (bench/RESULTS.md, "Issue 11
    /// profile note", round 7). The chain's links live on pages the change writes anyway: the
    /// entry's `prev` on the journal's last page (entries are appended in id order), the head
    /// in the lead's row, set by the same UPDATE that writes its new facts.
    ///
    /// The links are written by the ledger's writer in the statements it already runs (no
    /// trigger: a trigger on the journal's INSERT would add its statements to every entry, which
    /// cost the CPU the page saved when it was measured in round 5): the entry is inserted with
    /// `prev` read from the lead's head (`journalInsert`), then the lead's UPDATE sets
    /// `journal_head = last_insert_rowid()`. A lead's history reads the chain from its head
    /// (`journalOfLead`). `copy-store` and this step link entries written without the writer
    /// (`linkJournal`).
    ///
    /// SQLite only: PostgreSQL logs an index entry as a small record (a page image only on its
    /// first change after a checkpoint), so its `journal_lead` costs no page per change, and
    /// its writers on many hosts keep it without coordinating on a lead's head.
    static let journalChain = Migration(10, "journal chained through the lead", """
        ALTER TABLE journal ADD COLUMN prev INTEGER;
        ALTER TABLE leads ADD COLUMN journal_head INTEGER;
        \(linkJournal)
        DROP INDEX journal_lead;
        """)

    /// Links every entry to its lead's entry before it, and every lead to its newest entry
    /// (through an index of its own, dropped at the end: the step reads each lead's entries).
    static let linkJournal = """
        CREATE INDEX journal_links ON journal (lead_id, id);
        UPDATE journal SET prev = (SELECT max(j.id) FROM journal j WHERE j.lead_id = journal.lead_id AND j.id < journal.id);
        UPDATE leads SET journal_head = (SELECT max(j.id) FROM journal j WHERE j.lead_id = leads.id);
        DROP INDEX journal_links;
        """

    /// A lead's journal, oldest first: the chain from `leads.journal_head` through `prev`.
    /// Value: the lead's row id. Each link is read by a scalar subquery and the entries by
    /// `id IN`, not by joins: on an analyzed ledger (sqlite_stat1) SQLite planned the join of
    /// the recursive step with a Bloom filter built by reading the whole journal — 60 ms for
    /// a lead page of 100,000 leads (bench/console.sh) — where these are row id lookups only.
    static let journalOfLead = """
        WITH RECURSIVE chain(id) AS (
          SELECT journal_head FROM leads WHERE id = ?
          UNION ALL SELECT (SELECT j.prev FROM journal j WHERE j.id = chain.id) FROM chain WHERE chain.id IS NOT NULL
        )
        SELECT * FROM journal WHERE id IN (SELECT id FROM chain) ORDER BY id
        """
}
