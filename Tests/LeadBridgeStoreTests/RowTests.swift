import Testing
@testable import LeadBridgeStore

/// Rows are read by position: the positions `SQLLedger.record` uses must be the columns it selects.
@Suite struct RowTests {
    /// Each `LeadColumn` case names, in snake case, the column at its position in the select list.
    @Test func leadColumnsMatchTheSelectedColumns() {
        #expect(LeadColumn.allCases.count == SQLLedger.columnNames.count)
        for c in LeadColumn.allCases {
            var snake = ""
            var previousLower = false
            for ch in String(describing: c) {
                if ch.isUppercase && previousLower { snake += "_" }
                previousLower = ch.isLowercase
                snake += ch.lowercased()
            }
            #expect(SQLLedger.columnNames[c.rawValue] == snake, "\(c) is read at \(c.rawValue), where \(SQLLedger.columnNames[c.rawValue]) is selected")
        }
    }

    /// A row answers by name through its result's shared columns, and by position; a repeated
    /// name means its last column, an unknown one or a position past the end is NULL.
    @Test func aRowAnswersByNameAndByPosition() throws {
        let columns = SQLColumns(["id", "state", "id"])
        let row = SQLRow(columns: columns, values: [.int(1), .text("queued"), .int(3)])
        #expect(row.int("id") == 3)
        #expect(row.text("state") == "queued")
        #expect(row[at: 0].int == 1)
        #expect(row["nope"].text == nil && row[at: 7].int == nil)
    }

    /// A lead written and read back through SQLite comes back whole (every column by position).
    @Test func aLeadReadsBackByPosition() throws {
        let dir = "/tmp/leadbridge-rows-\(UInt64.random(in: 0..<UInt64.max))"
        let store = try SQLiteLeadStore(path: dir + ".sqlite")
        let rows = try store.ledger.read { (c: any SQLConnection) throws(StoreError) in
            try c.query("SELECT 7 AS id, 'kma' AS network, 'A-1' AS order_id, 'main' AS account, NULL AS source, 'ref' AS source_ref, '{}' AS lead_json, "
                        + "'accepted' AS state, 'yes' AS reach, 'E-9' AS external_id, 'approved' AS status, 'confirmed' AS raw_status, NULL AS detail, "
                        + "NULL AS reason, 'ok' AS comment, '3.5' AS payout, 'USD' AS currency, 2 AS attempts, NULL AS due_at, NULL AS claim_owner, "
                        + "NULL AS claim_until, NULL AS last_error, 100 AS confirmed_at, 200 AS final_at, 50 AS created_at, 300 AS updated_at, 250 AS last_polled_at", [])
        }
        let r = SQLLedger.record(try #require(rows.first))
        #expect(r.rowId == 7 && r.network == "kma" && r.orderId == "A-1" && r.account == "main" && r.source == nil && r.sourceRef == "ref")
        #expect(r.sendState == .accepted && r.externalId == "E-9" && r.status?.raw == "confirmed" && r.payout == "3.5" && r.currency == "USD")
        #expect(r.attempts == 2 && r.createdAt == 50 && r.lastPolledAt == 250 && r.facts.finalAt == 200 && r.facts.updatedAt == 300)
    }

    /// A statement's column names are read once and kept with it, and read again when SQLite
    /// prepared it again after a schema change (a `SELECT *` of an altered table).
    @Test func aCachedStatementSeesTheColumnsOfAnAlteredTable() throws {
        let db = try SQLiteDatabase(path: TempFiles.path(), migrations: [])
        try db.write { (tx: borrowing SQLiteTransaction) throws(StoreError) in
            try tx.run("CREATE TABLE t (a INTEGER, b TEXT)")
            try tx.run("INSERT INTO t VALUES (1, 'x')")
        }
        let first = try db.read { (tx: borrowing SQLiteTransaction) throws(StoreError) in try tx.query("SELECT * FROM t") }
        #expect(first.count == 1)
        #expect(first.first?.int("a") == 1)
        #expect(first.first?[at: 1] == .text("x"))
        #expect(first.first?.columns.names == ["a", "b"])
        try db.write { (tx: borrowing SQLiteTransaction) throws(StoreError) in
            try tx.run("ALTER TABLE t ADD COLUMN c TEXT DEFAULT 'new'")
            try tx.run("ALTER TABLE t RENAME COLUMN a TO z")
        }
        let again = try db.read { (tx: borrowing SQLiteTransaction) throws(StoreError) in try tx.query("SELECT * FROM t") }
        #expect(again.first?.columns.names == ["z", "b", "c"])
        #expect(again.first?.int("z") == 1)
        #expect(again.first?["a"] == .null)
        #expect(again.first?.text("c") == "new")
        #expect(again.first?[at: 7] == .null)
    }
}
