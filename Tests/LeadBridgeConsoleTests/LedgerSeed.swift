import Foundation
import Synchronization
import LeadBridgeCore
import LeadBridgeEngine
import LeadBridgeStore
import LeadBridgeTestSupport

/// A clock the test moves by hand.
final class ManualClock: Sendable {
    private let now: Mutex<Int64>
    init(_ start: Int64) { now = Mutex(start) }
    func set(_ t: Int64) { now.withLock { $0 = t } }
    var read: @Sendable () -> Int64 { { [self] in now.withLock { $0 } } }
}

/// Puts leads into a real SQLite ledger the way the product does — through `Ledger` (Core's
/// lifecycle): intake, claim, request written, the network's answer, status reports — each
/// at a chosen time, so figures over the ledger can be computed by hand.
struct LedgerSeed {
    static let library = PackageFixtures.library(checks: .fast)
    /// 2026-01-01T00:00:00Z.
    static let day0: Int64 = 1_767_225_600

    /// How a seeded lead ends.
    enum End {
        case queued
        case parked
        case duplicate
        case rejected
        case uncertain
        /// Accepted, then (optionally) a status at `after` seconds from its creation.
        case accepted(Bucket?, raw: String? = nil, payout: String? = nil, currency: String? = nil, after: Int64 = 60)
    }

    let store: SQLiteLeadStore
    let clock: ManualClock
    let ledger: Ledger
    let once: Ledger

    init(path: String = LedgerSeed.tempPath(), config: LeadBridgeConfig? = nil) throws {
        store = try SQLiteLeadStore(path: path)
        clock = ManualClock(Self.day0)
        ledger = Ledger(store: store, library: Self.library, config: config, clock: clock.read, random: { 0.5 })
        // One attempt: a failure that certainly did not arrive parks the lead at once.
        once = ledger.with(retry: RetryPolicy(maxAttempts: 1, baseDelay: 60, maxDelay: 60))
    }

    static func tempPath() -> String {
        let dir = NSTemporaryDirectory() + "leadbridge-console-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir + "/ledger.sqlite"
    }

    struct SeedError: Error, CustomStringConvertible { var description: String }

    /// Seeds one lead created at `at`; returns its row id.
    @discardableResult
    func lead(_ id: String, _ network: String, account: String, at: Int64, phone: String = "+79005550100", name: String? = nil, _ end: End) throws -> Int64 {
        clock.set(at)
        var fields: [String: String] = [:]
        if let name { fields["name"] = name }
        guard case .queued(let record) = try ledger.enqueue(Lead(id: id, phone: phone, fields: fields), network: network, account: account) else {
            throw SeedError(description: "\(id) is already in the ledger")
        }
        let row = record.rowId
        if case .queued = end { return row }
        guard try ledger.claim(rowId: row, owner: "seed", lease: 600) != nil, try ledger.requestWritten(rowId: row, owner: "seed") else {
            throw SeedError(description: "\(id) could not be claimed")
        }
        switch end {
        case .queued: break
        case .parked: _ = try once.answered(rowId: row, outcome: SendOutcome(kind: .failed, message: "connection refused", receipt: .notReceived))
        case .duplicate: _ = try ledger.answered(rowId: row, outcome: SendOutcome(kind: .duplicate, httpStatus: 200))
        case .rejected: _ = try ledger.answered(rowId: row, outcome: SendOutcome(kind: .rejected, message: "bad phone", httpStatus: 200))
        case .uncertain: _ = try ledger.answered(rowId: row, outcome: SendOutcome(kind: .failed, message: "timeout", receipt: .maybeReceived))
        case .accepted(let bucket, let raw, let payout, let currency, let after):
            _ = try ledger.answered(rowId: row, outcome: SendOutcome(kind: .accepted, externalId: "X-" + id, httpStatus: 200), durationMs: 120)
            if let bucket {
                clock.set(at + after)
                _ = try ledger.report([(row, StatusReport(status: LeadStatus(bucket: bucket, raw: raw ?? bucket.rawValue), source: .postback, network: network,
                                                          payout: payout, currency: currency))])
            }
        }
        return row
    }
}
