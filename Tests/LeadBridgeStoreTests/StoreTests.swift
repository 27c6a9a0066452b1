import Foundation
import Testing
import LeadBridgeCore
import LeadBridgeStore

/// The record of an enqueue that must have queued; anything else fails the test (never a
/// silent early return).
func queued(_ result: EnqueueResult, sourceLocation: SourceLocation = #_sourceLocation) throws -> LeadRecord {
    guard case .queued(let record) = result else {
        Issue.record("expected the lead to be queued, got \(result)", sourceLocation: sourceLocation)
        throw NotQueued()
    }
    return record
}

struct NotQueued: Error {}

enum TempFiles {
    static func path(_ name: String = "ledger.sqlite") -> String {
        let dir = NSTemporaryDirectory() + "leadbridge-store-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir + "/" + name
    }
}

@Suite struct MigrationTests {
    @Test func fromAnEmptyFile() throws {
        let path = TempFiles.path()
        let store = try SQLiteLeadStore(path: path)
        #expect(store.database.schemaVersion == 4)
        let tables = try store.database.read { (tx: borrowing SQLiteTransaction) throws(StoreError) in
            try tx.query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").compactMap { $0.text("name") }
        }
        #expect(tables == ["events", "leadbridge_migrations", "leads", "outbox", "outgoing_postbacks", "raw_postbacks", "send_attempts"])
        #expect(store.database.migrationReport.applied.map(\.version) == SQLiteLeadStore.migrations.map(\.version))
        let mode = try store.database.read { (tx: borrowing SQLiteTransaction) throws(StoreError) in try tx.query("PRAGMA journal_mode").first?.text("journal_mode") }
        #expect(mode == "wal")
    }

    @Test func fromThePreviousVersionKeepsData() throws {
        let path = TempFiles.path()
        do {
            let v1 = try SQLiteLeadStore(path: path, migrations: Array(SQLiteLeadStore.migrations.prefix(1)))
            #expect(v1.database.schemaVersion == 1)
            _ = try v1.enqueue(Lead(id: "A-1", phone: "+79001234567"), network: "kma", account: "main", source: nil, now: 100, resend: false)
        }
        let v2 = try SQLiteLeadStore(path: path)
        #expect(v2.database.schemaVersion == 4)
        #expect(try v2.lead(network: "kma", orderId: "A-1")?.sendState == .queued)
        let rows = try v2.database.read { (tx: borrowing SQLiteTransaction) throws(StoreError) in try tx.query("SELECT count(*) AS n FROM raw_postbacks").first?.int("n") }
        #expect(rows == 0)
    }

    @Test func aFileFromBeforeTheMigrationsTableIsAdoptedFromItsUserVersion() throws {
        let path = TempFiles.path()
        do {
            let v2 = try SQLiteLeadStore(path: path, migrations: Array(SQLiteLeadStore.migrations.prefix(2)))
            // What a leadbridge before the table left behind: user_version only.
            try v2.database.write { (tx: borrowing SQLiteTransaction) throws(StoreError) in try tx.run("DROP TABLE leadbridge_migrations") }
        }
        let store = try SQLiteLeadStore(path: path)
        #expect(store.database.migrationReport.from == 2)
        #expect(store.database.migrationReport.applied.map(\.version) == [3, 4])
        let recorded = try store.database.read { (tx: borrowing SQLiteTransaction) throws(StoreError) in
            try tx.query("SELECT version FROM leadbridge_migrations ORDER BY version").compactMap { $0.int("version") }
        }
        #expect(recorded == [3, 4])
        #expect(store.database.schemaVersion == 4)
    }

    @Test func newerSchemaIsRefused() throws {
        let path = TempFiles.path()
        _ = try SQLiteLeadStore(path: path, migrations: SQLiteLeadStore.migrations + [Migration(99, "future", "CREATE TABLE future (x)")])
        do {
            _ = try SQLiteLeadStore(path: path)
            Issue.record("opened a newer schema")
        } catch {
            #expect(error.kind == .schema)
            #expect(error.message.contains("has schema version 99 (\"future\"), newer than this leadbridge knows"))
        }
    }

    @Test func corruptFileGivesAClearError() throws {
        let path = TempFiles.path()
        _ = FileManager.default.createFile(atPath: path, contents: Data(repeating: 0x41, count: 8192))
        do {
            _ = try SQLiteLeadStore(path: path)
            Issue.record("opened a corrupt file")
        } catch {
            #expect(error.kind == .notADatabase)
            #expect(error.message.contains("is not a LeadBridge database or is corrupt"))
        }
    }

    @Test func lockedFileGivesAClearError() throws {
        let path = TempFiles.path()
        let store = try SQLiteLeadStore(path: path)
        let other = try SQLiteDatabase(path: path, migrations: SQLiteLeadStore.migrations, busyTimeoutMs: 50)
        // Hold a write transaction open in one connection while the other tries to write.
        try store.database.write { (tx: borrowing SQLiteTransaction) throws(StoreError) in
            try tx.run("INSERT INTO leads (network, order_id, account, lead_json, send_state, created_at, updated_at) VALUES ('x','y','z','{}','queued',0,0)")
            do throws(StoreError) {
                _ = try other.write { (t: borrowing SQLiteTransaction) throws(StoreError) in try t.run("DELETE FROM leads") }
                Issue.record("wrote while another connection held the write lock")
            } catch {
                #expect(error.kind == .locked)
                #expect(error.message.contains("locked by another process"))
            }
        }
    }

    @Test func errorsNeverCarryBoundValues() throws {
        let store = try SQLiteLeadStore(path: TempFiles.path())
        do {
            try store.database.write { (tx: borrowing SQLiteTransaction) throws(StoreError) in
                try tx.run("INSERT INTO leads (network, order_id, account, lead_json, send_state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                           [.text("kma"), .text("A-1"), .text("acc"), .text("{\"phone\":\"+79001234567\"}"), .text("bogus-state"), .int(1), .int(1)])
                try tx.run("INSERT INTO leads (network, order_id, account, lead_json, send_state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                           [.text("kma"), .text("A-1"), .text("acc"), .text("{\"phone\":\"+79001234567\"}"), .text("queued"), .int(1), .int(1)])
            }
            Issue.record("duplicate order id accepted")
        } catch {
            #expect(error.kind == .constraint)
            #expect(!error.message.contains("79001234567"))
        }
    }
}

@Suite struct LedgerRuleTests {
    static let lead = Lead(id: "A-1001", phone: "+79001234567", fields: ["name": "Иван"])

    static func store() throws -> SQLiteLeadStore { try SQLiteLeadStore(path: TempFiles.path()) }

    @Test func aLeadIsSentAtMostOncePerNetworkUnlessResent() throws {
        let s = try Self.store()
        guard case .queued(let r) = try s.enqueue(Self.lead, network: "kma", account: "main", source: nil, now: 1, resend: false) else { Issue.record("not queued"); return }
        #expect(try s.claimSend(rowId: r.rowId, now: 2))
        #expect(try s.claimSend(rowId: r.rowId, now: 2) == false)  // a second worker cannot take it
        _ = try s.recordSend(rowId: r.rowId, outcome: SendOutcome(kind: .accepted, externalId: "777"), now: 3, retryAt: nil, maxAttempts: 3)
        guard case .exists(let earlier) = try s.enqueue(Self.lead, network: "kma", account: "main", source: nil, now: 4, resend: false) else {
            Issue.record("sent twice"); return
        }
        #expect(earlier.sendState == .accepted)
        #expect(earlier.externalId == "777")
        // Another network is a different send.
        guard case .queued = try s.enqueue(Self.lead, network: "drcash", account: "dc", source: nil, now: 4, resend: false) else { Issue.record("refused"); return }
        guard case .queued(let again) = try s.enqueue(Self.lead, network: "kma", account: "main", source: nil, now: 5, resend: true) else { Issue.record("resend refused"); return }
        #expect(again.sendState == .queued)
        #expect(try s.dueSends(network: "kma", now: 5, limit: 10).map(\.orderId) == ["A-1001"])
    }

    @Test func externalIdIsUniquePerNetwork() throws {
        let s = try Self.store()
        let a = try queued(s.enqueue(Lead(id: "A", phone: "+79001234567"), network: "kma", account: "m", source: nil, now: 1, resend: false))
        let b = try queued(s.enqueue(Lead(id: "B", phone: "+79001234568"), network: "kma", account: "m", source: nil, now: 1, resend: false))
        _ = try s.claimSend(rowId: a.rowId, now: 1)
        _ = try s.claimSend(rowId: b.rowId, now: 1)
        _ = try s.recordSend(rowId: a.rowId, outcome: SendOutcome(kind: .accepted, externalId: "9"), now: 2, retryAt: nil, maxAttempts: 3)
        _ = try s.recordSend(rowId: b.rowId, outcome: SendOutcome(kind: .accepted, externalId: "9"), now: 2, retryAt: nil, maxAttempts: 3)
        let rb = try #require(try s.lead(network: "kma", orderId: "B"))
        #expect(rb.sendState == .duplicate)
        #expect(rb.externalId == nil)
        #expect(rb.lastError?.contains("belongs to order A") == true)
        #expect(try s.lead(network: "kma", externalId: "9")?.orderId == "A")
    }

    @Test func failedIsRetriedThenParked() throws {
        let s = try Self.store()
        let r = try queued(s.enqueue(Self.lead, network: "kma", account: "m", source: nil, now: 1, resend: false))
        for attempt in 1...3 {
            #expect(try s.claimSend(rowId: r.rowId, now: Int64(attempt * 100)))
            _ = try s.recordSend(rowId: r.rowId, outcome: SendOutcome(kind: .failed, message: "HTTP 503"), now: Int64(attempt * 100),
                                 retryAt: Int64(attempt * 100 + 50), maxAttempts: 3)
        }
        let rec = try #require(try s.lead(network: "kma", orderId: "A-1001"))
        #expect(rec.sendState == .parked)
        #expect(rec.attempts == 3)
        #expect(rec.lastError?.contains("parked after 3 attempts: HTTP 503") == true)
        #expect(try s.dueSends(network: nil, now: 10_000, limit: 10).isEmpty)
    }

    @Test func interruptedSendsBecomeUncertainAndArePostbackSettled() throws {
        let s = try Self.store()
        let r = try queued(s.enqueue(Self.lead, network: "kma", account: "m", source: nil, now: 1, resend: false))
        _ = try s.claimSend(rowId: r.rowId, now: 2)
        // The process dies here. The next pass:
        let uncertain = try s.recoverInterruptedSends(now: 3)
        #expect(uncertain.map(\.orderId) == ["A-1001"])
        #expect(try s.dueSends(network: nil, now: 100, limit: 10).isEmpty)  // never resent by itself
        let changes = try s.apply([StatusReport(rowId: r.rowId, status: LeadStatus(bucket: .approved, raw: "approve"))], source: "postback", chargebacks: false, now: 4)
        #expect(changes.count == 1)
        #expect(try s.lead(network: "kma", orderId: "A-1001")?.sendState == .accepted)
    }

    /// The status rules: no regression from final, chargebacks only where allowed, no event
    /// for an unchanged status.
    @Test func statusRulesInTheLedger() throws {
        let s = try Self.store()
        let r = try queued(s.enqueue(Self.lead, network: "kma", account: "m", source: nil, now: 1, resend: false))
        _ = try s.claimSend(rowId: r.rowId, now: 1)
        _ = try s.recordSend(rowId: r.rowId, outcome: SendOutcome(kind: .accepted, externalId: "1"), now: 1, retryAt: nil, maxAttempts: 3)
        func report(_ b: Bucket, _ raw: String, chargebacks: Bool = false) throws -> Int {
            try s.apply([StatusReport(rowId: r.rowId, status: LeadStatus(bucket: b, raw: raw), payout: b == .approved ? "12.5" : nil)],
                        source: "poll", chargebacks: chargebacks, now: 10).count
        }
        #expect(try report(.pending, "hold") == 0)  // pending → pending: detail changes, no bucket change
        #expect(try report(.approved, "approve") == 1)
        #expect(try report(.approved, "approve") == 0)
        #expect(try report(.pending, "hold") == 0)  // never back to pending
        #expect(try report(.cancelled, "cancel") == 0)  // no chargebacks at this network
        #expect(try s.lead(network: "kma", orderId: "A-1001")?.status?.bucket == .approved)
        #expect(try report(.trash, "trash", chargebacks: true) == 1)
        let events = try s.events(rowId: r.rowId)
        #expect(events.map(\.to) == ["pending", "pending", "approved", "trash"])
        #expect(events.last?.note == "chargeback")
        #expect(try s.lead(network: "kma", orderId: "A-1001")?.payout == "12.5")
    }

    @Test func pollTargetsAreLeadsThatCanStillChange() throws {
        let s = try Self.store()
        for i in 0..<5 {
            guard case .queued(let r) = try s.enqueue(Lead(id: "A-\(i)", phone: "+7900123456\(i)"), network: "kma", account: "m", source: nil, now: 1, resend: false) else { continue }
            _ = try s.claimSend(rowId: r.rowId, now: 1)
            _ = try s.recordSend(rowId: r.rowId, outcome: SendOutcome(kind: i == 4 ? .rejected : .accepted, externalId: "E\(i)"), now: 1, retryAt: nil, maxAttempts: 3)
            if i == 0 { _ = try s.apply([StatusReport(rowId: r.rowId, status: LeadStatus(bucket: .approved))], source: "poll", chargebacks: false, now: 2) }
            if i == 1 { try s.markPolled(rowIds: [r.rowId], now: 50) }
        }
        #expect(try s.pollTargetRefs(network: "kma", polledBefore: 40, afterRowId: 0, limit: 100).map(\.orderId) == ["A-2", "A-3"])
        #expect(try s.pollTargetRefs(network: "kma", polledBefore: 60, afterRowId: 0, limit: 100).map(\.orderId) == ["A-1", "A-2", "A-3"])
    }
}

@Suite struct StatusRuleTests {
    @Test(arguments: [
        (nil as Bucket?, Bucket.pending, false, "change"),
        (.pending, .approved, false, "change"),
        (.approved, .pending, false, "refused"),
        (.trash, .pending, true, "refused"),
        (.approved, .cancelled, false, "refused"),
        (.approved, .cancelled, true, "change"),
        (.cancelled, .approved, false, "change"),
        (.cancelled, .trash, false, "change"),
        (.approved, .approved, false, "unchanged"),
    ])
    func decide(from: Bucket?, to: Bucket, chargebacks: Bool, expected: String) {
        let d = LeadStatusRules.decide(from: from.map { LeadStatus(bucket: $0, raw: "x") }, to: LeadStatus(bucket: to, raw: "x"), chargebacks: chargebacks)
        switch d {
        case .change: #expect(expected == "change")
        case .unchanged: #expect(expected == "unchanged")
        case .refused: #expect(expected == "refused")
        }
    }
}
