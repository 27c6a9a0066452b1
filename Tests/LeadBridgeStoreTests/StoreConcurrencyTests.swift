import Foundation
import Synchronization
import Testing
import LeadBridgeCore
import LeadBridgeStore

/// What the port promises several processes (each its own connection) on one ledger, on both
/// stores: claims of due leads are disjoint (PostgreSQL: `FOR UPDATE SKIP LOCKED`), a
/// read-decide-write on a locked row never loses a concurrent update, and of concurrent
/// inserts of one key exactly one lead exists.
@Suite struct StoreConcurrencyTests {
    static func lead(_ id: String) -> NewLead {
        NewLead(lead: Lead(id: id, phone: "+79001234567"), network: "kma", account: "acc",
                facts: LeadFacts(state: .queued, dueAt: 10, updatedAt: 10), entry: JournalEntry(at: 10, kind: .queued, source: .intake, toState: .queued))
    }

    @Test(arguments: StoreKind.allCases) func workersClaimDisjointWindows(kind: StoreKind) throws {
        let open = try kind.database()
        let seed = try open()
        try seed.write { (w: any LedgerWriter) throws(StoreError) in for i in 0..<120 { _ = try w.insert(Self.lead("C-\(i)")) } }
        let claims = Mutex<[String: [String]]>([:])
        let failures = Mutex<[String]>([])
        onThreads(4) { worker in
            do {
                let store = try open()
                while true {
                    let window = try store.write { (w: any LedgerWriter) throws(StoreError) -> [String] in
                        let due = try w.lock(.due(network: "kma", now: 100, limit: 7))
                        for r in due {
                            var f = r.facts
                            f.state = .claimed
                            f.dueAt = nil
                            f.claim = Claim(owner: "w\(worker)", until: 1_000)
                            try w.save(LeadWrite(rowId: r.rowId, facts: f, entry: nil))
                        }
                        return due.map(\.orderId)
                    }
                    if window.isEmpty { break }
                    claims.withLock { $0["w\(worker)", default: []] += window }
                }
            } catch {
                failures.withLock { $0.append("\(error)") }
            }
        }
        #expect(failures.withLock { $0 } == [])
        let all = claims.withLock { $0.values.flatMap { $0 } }
        #expect(all.count == 120)
        #expect(Set(all).count == 120)
        let owners = try seed.leads(LeadQuery(limit: 200)).compactMap { $0.facts.claim?.owner }
        #expect(owners.count == 120)
    }

    @Test(arguments: StoreKind.allCases) func aLockedReadDecideWriteLosesNoUpdate(kind: StoreKind) throws {
        let open = try kind.database()
        let seed = try open()
        let row = try seed.write { (w: any LedgerWriter) throws(StoreError) -> Int64 in
            guard case .inserted(let r) = try w.insert(Self.lead("U-1")) else { throw StoreError(.misuse, "not inserted") }
            return r.rowId
        }
        let failures = Mutex<[String]>([])
        onThreads(4) { _ in
            do {
                let store = try open()
                for _ in 0..<15 {
                    try store.write { (w: any LedgerWriter) throws(StoreError) in
                        guard let r = try w.lock(.rows([row])).first else { throw StoreError(.misuse, "row vanished") }
                        var f = r.facts
                        f.attempts += 1
                        try w.save(LeadWrite(rowId: row, facts: f, entry: nil))
                    }
                }
            } catch {
                failures.withLock { $0.append("\(error)") }
            }
        }
        #expect(failures.withLock { $0 } == [])
        #expect(try seed.record(rowId: row)?.attempts == 60)
    }

    @Test(arguments: StoreKind.allCases) func concurrentInsertsOfOneKeyMakeOneLead(kind: StoreKind) throws {
        let open = try kind.database()
        let inserted = Mutex(0)
        let existing = Mutex(0)
        let failures = Mutex<[String]>([])
        onThreads(4) { _ in
            do {
                let store = try open()
                for i in 0..<20 {
                    switch try store.write({ (w: any LedgerWriter) throws(StoreError) in try w.insert(Self.lead("K-\(i)")) }) {
                    case .inserted: inserted.withLock { $0 += 1 }
                    case .existing: existing.withLock { $0 += 1 }
                    }
                }
            } catch {
                failures.withLock { $0.append("\(error)") }
            }
        }
        #expect(failures.withLock { $0 } == [])
        #expect(inserted.withLock { $0 } == 20)
        #expect(existing.withLock { $0 } == 60)
        #expect(try open().leads(LeadQuery(limit: 100)).count == 20)
    }
}
