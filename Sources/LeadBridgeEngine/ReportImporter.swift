import LeadBridgeCore
import LeadBridgeStore

/// Applies a network's downloaded lead report to the ledger through the lead lifecycle: each
/// row that names a known lead becomes a status report from `import` (an audit entry that
/// `lead ID` shows; the lifecycle refuses backward moves). A dry run decides the same events
/// on the leads as they are and writes nothing.
public struct ReportImporter: Sendable {
    /// What became of one row.
    public enum Outcome: Sendable, Hashable {
        case changed(from: Bucket?, to: Bucket)
        case unchanged(Bucket)
        /// The lifecycle refused it (a backward move, another network's lead); the reason.
        case refused(LifecycleReason)
        /// No lead of this network has that id.
        case unmatched
        /// A status word no table knows.
        case unknownWord
    }

    public struct Row: Sendable, Hashable {
        public var entry: ReportPlan.Entry
        public var orderId: String?
        public var outcome: Outcome
    }

    public struct Result: Sendable {
        public var rows: [Row]
        public var dryRun: Bool
        public func count(_ test: (Outcome) -> Bool) -> Int { rows.filter { test($0.outcome) }.count }
        public var changed: Int { count { if case .changed = $0 { return true }; return false } }
        public var unchanged: Int { count { if case .unchanged = $0 { return true }; return false } }
        public var refused: Int { count { if case .refused = $0 { return true }; return false } }
        public var unmatched: Int { count { $0 == .unmatched } }
        public var unknown: Int { count { $0 == .unknownWord } }
    }

    let ledger: Ledger
    let store: any LeadStore
    static let chunk = 5_000

    public init(ledger: Ledger, store: any LeadStore) {
        self.ledger = ledger
        self.store = store
    }

    public func run(_ plan: ReportPlan, network: String, dryRun: Bool, now: Int64) throws(StoreError) -> Result {
        var rows = plan.entries.map { Row(entry: $0, orderId: $0.orderId, outcome: $0.status == nil ? .unknownWord : .unmatched) }
        let known = rows.indices.filter { rows[$0].entry.status != nil }
        let locations = try store.locate(known.map { LeadKey(network: network, orderId: rows[$0].entry.orderId, externalId: rows[$0].entry.externalId) })
        var reports: [(row: Int, rowId: Int64, report: StatusReport)] = []
        for (i, location) in zip(known, locations) {
            guard let location, let bucket = rows[i].entry.status else { continue }
            let e = rows[i].entry
            rows[i].orderId = location.orderId
            let status = LeadStatus(bucket: bucket, raw: e.raw, detail: e.detail)
            reports.append((i, location.rowId, StatusReport(status: status, source: .import, network: network, payout: e.payout, currency: e.currency,
                                                             comment: e.comment, externalId: e.externalId)))
        }
        if dryRun {
            // The leads as they are, a page at a time (no lead data: only their facts).
            let wanted = Set(reports.map(\.rowId))
            var facts: [Int64: LeadFacts] = [:]
            var after: Int64 = 0
            while true {
                let page = try store.leads(LeadQuery(network: network, afterRowId: after, limit: 10_000, withData: false))
                for r in page where wanted.contains(r.rowId) { facts[r.rowId] = r.facts }
                guard let last = page.last, page.count == 10_000 else { break }
                after = last.rowId
            }
            let policy = ledger.policy(network: network)
            for (i, rowId, report) in reports {
                guard let f = facts[rowId] else { continue }
                let d = LeadLifecycle.decide(f, .statusReported(report), policy: policy, now: now)
                rows[i].outcome = Self.outcome(before: f.status?.bucket, after: d)
                facts[rowId] = d.facts
            }
        } else {
            // A transaction per chunk keeps memory flat on big reports; importing the same report
            // again is harmless (an unchanged status changes nothing), so a stop half-way is
            // finished by running it again.
            for start in stride(from: 0, to: reports.count, by: Self.chunk) {
                let part = reports[start..<min(start + Self.chunk, reports.count)]
                let updates = try ledger.reportUpdates(part.map { ($0.rowId, $0.report) })
                for ((i, _, _), u) in zip(part, updates) { rows[i].outcome = Self.outcome(after: u.decision, change: u.change) }
            }
        }
        return Result(rows: rows, dryRun: dryRun)
    }

    /// A written event: its change, its refusal, or nothing new.
    static func outcome(after d: LifecycleDecision, change: StatusChange?) -> Outcome {
        if let reason = d.refusal { return .refused(reason) }
        if let change { return .changed(from: change.from, to: change.to) }
        return .unchanged(d.facts.status?.bucket ?? .pending)
    }

    /// A decided but unwritten event (dry run): compared with the status before.
    static func outcome(before: Bucket?, after d: LifecycleDecision) -> Outcome {
        if let reason = d.refusal { return .refused(reason) }
        let to = d.facts.status?.bucket ?? .pending
        return before == to ? .unchanged(to) : .changed(from: before, to: to)
    }
}
