extension SQLiteSchema {
    /// Version 8: the raw log's order index is filled in bulk, behind the writes, in place of the
    /// index `raw_postbacks_order (network, order_id)` that every stored postback added to.
    ///
    /// Why: every postback, a repeat included, put an entry at its lead's place among all leads'
    /// entries — a random page written to the log in each commit and copied back at the next
    /// checkpoint: on the receiver's raw-log workload about one of the 1.4 log frames and 13 of
    /// the 53 µs of CPU per postback (bench/RESULTS.md, "Issue 11 profile note", round 5). Now a
    /// postback is stored with no order entry; the writer adds the entries of a whole range of
    /// stored postbacks in one transaction (`SQLLedgerWriter.indexPostbackOrders`): the entries
    /// of a lead's repeats in that range share its page, so a page is written per many entries.
    ///
    /// `raw_postback_orders` holds (network, order id, postback id) for every stored postback
    /// with an order id and an id up to `raw_postbacks_indexed.upto`; the mark and the entries
    /// it covers commit together (a crash leaves both as they were). A lead's postbacks are the
    /// entries plus the postbacks above the mark (the unindexed tail, read by id: bounded by how
    /// often the writer indexes, `PostbackIngest.indexEvery`). Triggers keep the entries below
    /// the mark right when a replay sets an order id or a row is deleted. No trigger on INSERT:
    /// any trigger on a statement makes SQLite keep a statement journal for it (a copy of each
    /// page it changes), which cost a stored postback 1 µs (measured with the C API, same
    /// rows); a new postback's id is above the mark, and `copy-store`, which stores rows with
    /// their own ids, adds the entries of those at or below it (`LedgerCopy.copy`).
    ///
    /// SQLite only: PostgreSQL logs an index entry as a small record (a page image only on its
    /// first change after a checkpoint), so the entry costs no page written per commit; and its
    /// writers on many hosts would all move one shared mark. PostgreSQL keeps the index.
    static let postbackOrders = Migration(8, "raw postback order index in bulk", """
        CREATE TABLE raw_postback_orders (
          network TEXT NOT NULL,
          order_id TEXT NOT NULL,
          id INTEGER NOT NULL,
          PRIMARY KEY (network, order_id, id)
        ) WITHOUT ROWID;
        CREATE TABLE raw_postbacks_indexed (upto INTEGER NOT NULL);
        INSERT INTO raw_postback_orders (network, order_id, id)
          SELECT network, order_id, id FROM raw_postbacks WHERE order_id IS NOT NULL ORDER BY network, order_id, id;
        INSERT INTO raw_postbacks_indexed (upto) SELECT coalesce(max(id), 0) FROM raw_postbacks;
        DROP INDEX raw_postbacks_order;
        CREATE TRIGGER raw_postbacks_order_update AFTER UPDATE OF network, order_id ON raw_postbacks
          WHEN (NEW.network IS NOT OLD.network OR NEW.order_id IS NOT OLD.order_id) AND NEW.id <= (SELECT upto FROM raw_postbacks_indexed) BEGIN
          DELETE FROM raw_postback_orders WHERE network = OLD.network AND order_id = OLD.order_id AND id = OLD.id;
          INSERT INTO raw_postback_orders (network, order_id, id) SELECT NEW.network, NEW.order_id, NEW.id WHERE NEW.order_id IS NOT NULL;
        END;
        CREATE TRIGGER raw_postbacks_order_delete AFTER DELETE ON raw_postbacks
          WHEN OLD.order_id IS NOT NULL AND OLD.id <= (SELECT upto FROM raw_postbacks_indexed) BEGIN
          DELETE FROM raw_postback_orders WHERE network = OLD.network AND order_id = OLD.order_id AND id = OLD.id;
        END;
        """)
}
