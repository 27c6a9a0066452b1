extension SQLiteSchema {
    /// The funnel's grouping of a lead (`lead_tallies`' key), as `row` (`NEW` or `OLD`) gives it.
    static func funnelKey(_ row: String) -> [(column: String, value: String, nullable: Bool)] {
        [("network", "\(row).network", false), ("account", "\(row).account", false), ("state", "\(row).state", false),
         ("status", "\(row).status", true), ("day", "\(row).created_at / 86400", false), ("currency", "\(row).currency", true),
         ("payout", "\(row).payout", true)]
    }

    /// The final-time grouping of a lead (`final_tallies`' key); only for a lead with a `final_at`.
    static func finalKey(_ row: String) -> [(column: String, value: String, nullable: Bool)] {
        [("state", "\(row).state", false), ("day", "\(row).created_at / 86400", false), ("network", "\(row).network", false),
         ("account", "\(row).account", false), ("minutes", "(\(row).final_at - \(row).created_at) / 60", false)]
    }

    /// Statements that add `delta` (+1 or -1) to the tally row of `key` in `table`, creating it
    /// when it is missing (so the sums stay right whatever the order), only `when` that holds.
    /// `changes()` inside a trigger counts the trigger's own last statement.
    static func tally(_ table: String, _ key: [(column: String, value: String, nullable: Bool)], delta: Int, when: String = "1") -> String {
        let match = key.map { "\($0.column) \($0.nullable ? "IS" : "=") \($0.value)" }.joined(separator: " AND ")
        return """
              UPDATE \(table) SET n = n + (\(delta)) WHERE \(when) AND \(match);
              INSERT INTO \(table) (\(key.map(\.column).joined(separator: ", ")), n)
                SELECT \(key.map(\.value).joined(separator: ", ")), \(delta) WHERE \(when) AND changes() = 0;
            """
    }

    /// Whether a lead's grouping differs between `OLD` and `NEW`.
    static func keyChanged(_ key: (String) -> [(column: String, value: String, nullable: Bool)]) -> String {
        zip(key("OLD"), key("NEW")).map { "\($0.0.value) IS NOT \($0.1.value)" }.joined(separator: " OR ")
    }

    /// Version 7: the console's funnel and final-time groupings kept as running tallies, in place
    /// of the indexes `leads_funnel` and `leads_final`.
    ///
    /// Why: those two indexes held columns that change when a lead's status does (status,
    /// payout, currency, `final_at`), so every status change moved the lead's entry in
    /// `leads_funnel` (two random pages) and added one to `leads_final` (a third): with 600,000
    /// leads, three of the six or seven random pages each change wrote to the log and copied back
    /// at the checkpoint (bench/RESULTS.md, "Issue 11 profile note", round 5). A tally row is
    /// shared by every lead of its group (network, account, state, status, day, currency, payout;
    /// and state, day, network, account, minutes to the final status), so a batch of changes
    /// touches a few hot rows. The funnel and final-time pages read the tallies: the same groups
    /// the indexes gave, over far fewer rows.
    ///
    /// Triggers keep them (every insert, update of a grouped column and delete of a lead), so no
    /// writer can forget them; rows that fall to 0 stay (the reads skip them). SQLite only:
    /// SQLite has one writer at a time, while on PostgreSQL many processes on many hosts write at
    /// once and a tally row shared by their leads would serialize (and could deadlock) their
    /// transactions — PostgreSQL keeps the indexes (PostgresSchema `reports`).
    static let tallies = Migration(7, "report tallies", """
        CREATE TABLE lead_tallies (
          network TEXT NOT NULL,
          account TEXT NOT NULL,
          state TEXT NOT NULL,
          status TEXT,
          day INTEGER NOT NULL,
          currency TEXT,
          payout TEXT,
          n INTEGER NOT NULL
        );
        CREATE INDEX lead_tallies_key ON lead_tallies (network, account, state, status, day, currency, payout);
        CREATE TABLE final_tallies (
          state TEXT NOT NULL,
          day INTEGER NOT NULL,
          network TEXT NOT NULL,
          account TEXT NOT NULL,
          minutes INTEGER NOT NULL,
          n INTEGER NOT NULL,
          PRIMARY KEY (state, day, network, account, minutes)
        ) WITHOUT ROWID;
        \(countTallies)
        DROP INDEX leads_funnel;
        DROP INDEX leads_final;
        CREATE TRIGGER leads_tally_insert AFTER INSERT ON leads BEGIN
        \(tally("lead_tallies", funnelKey("NEW"), delta: 1))
        \(tally("final_tallies", finalKey("NEW"), delta: 1, when: "NEW.final_at IS NOT NULL"))
        END;
        CREATE TRIGGER leads_tally_delete AFTER DELETE ON leads BEGIN
        \(tally("lead_tallies", funnelKey("OLD"), delta: -1))
        \(tally("final_tallies", finalKey("OLD"), delta: -1, when: "OLD.final_at IS NOT NULL"))
        END;
        CREATE TRIGGER leads_tally_funnel AFTER UPDATE OF network, account, state, status, created_at, currency, payout ON leads
          WHEN \(keyChanged(funnelKey)) BEGIN
        \(tally("lead_tallies", funnelKey("OLD"), delta: -1))
        \(tally("lead_tallies", funnelKey("NEW"), delta: 1))
        END;
        CREATE TRIGGER leads_tally_final AFTER UPDATE OF network, account, state, created_at, final_at ON leads
          WHEN \(keyChanged(finalKey)) BEGIN
        \(tally("final_tallies", finalKey("OLD"), delta: -1, when: "OLD.final_at IS NOT NULL"))
        \(tally("final_tallies", finalKey("NEW"), delta: 1, when: "NEW.final_at IS NOT NULL"))
        END;
        """)

    /// Version 11: the tallies kept by the ledger's writer (`SQLiteTallyKeeper`) instead of the
    /// four triggers of version 7: the writer sums a transaction's changes per tally row and
    /// applies them at its end, in the same transaction.
    ///
    /// Why: the triggers ran four statements per lead written (an UPDATE of the old row and of
    /// the new one, each with its INSERT for a missing row), about 8–9 µs of serve's CPU per
    /// status change (bench/RESULTS.md, "Issue 11 profile note", round 7), while a batch of
    /// changes moves its leads between a few shared rows. Every write of a lead by leadbridge
    /// goes through the writer; after writing `leads` by other means (ad-hoc SQL), run
    /// `recountTallies` (the README gives it).
    static let writerTallies = Migration(11, "tallies kept by the writer", """
        DROP TRIGGER leads_tally_insert;
        DROP TRIGGER leads_tally_delete;
        DROP TRIGGER leads_tally_funnel;
        DROP TRIGGER leads_tally_final;
        """)

    /// Both tallies counted again from the leads (`copy-store`; by hand after ad-hoc SQL).
    static let recountTallies = """
        DELETE FROM lead_tallies;
        DELETE FROM final_tallies;
        \(countTallies)
        """

    /// Both tallies filled from the leads (empty tallies: version 7, `recountTallies`).
    static let countTallies = """
        INSERT INTO lead_tallies (network, account, state, status, day, currency, payout, n)
          SELECT network, account, state, status, created_at / 86400, currency, payout, count(*) FROM leads
          GROUP BY network, account, state, status, created_at / 86400, currency, payout;
        INSERT INTO final_tallies (state, day, network, account, minutes, n)
          SELECT state, created_at / 86400, network, account, (final_at - created_at) / 60, count(*) FROM leads WHERE final_at IS NOT NULL
          GROUP BY state, created_at / 86400, network, account, (final_at - created_at) / 60;
        """
}
