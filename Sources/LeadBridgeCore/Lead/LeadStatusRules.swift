/// A lead's status at a network: the bucket plus the network's own words.
public struct LeadStatus: Sendable, Hashable {
    public var bucket: Bucket
    public var raw: String?
    public var detail: String?
    public init(bucket: Bucket, raw: String? = nil, detail: String? = nil) {
        self.bucket = bucket
        self.raw = raw
        self.detail = detail
    }
}

/// What to do with a reported status.
public enum StatusDecision: Sendable, Hashable {
    /// Record it; `note` explains an unusual move (a chargeback).
    case change(note: String?)
    /// Same as now: no event is written.
    case unchanged
    /// Not allowed; the report is kept in the raw log, the lead stays as it is.
    case refused(String)
}

/// The status rules, in one place: a final status never goes back to pending; approved →
/// cancelled/trash only for networks that do chargebacks; a repeated status is no event.
public enum LeadStatusRules {
    public static func decide(from current: LeadStatus?, to next: LeadStatus, chargebacks: Bool) -> StatusDecision {
        guard let current else { return .change(note: nil) }
        if current.bucket == next.bucket {
            let sameWord = (current.raw ?? "").lowercased() == (next.raw ?? "").lowercased()
            return sameWord && current.detail == next.detail ? .unchanged : (current.bucket.isFinal && !sameWord ? .unchanged : .change(note: nil))
        }
        if current.bucket.isFinal && next.bucket == .pending {
            return .refused("\(current.bucket.rawValue) is final: it never goes back to pending")
        }
        if current.bucket == .approved && (next.bucket == .cancelled || next.bucket == .trash) {
            return chargebacks ? .change(note: "chargeback") : .refused("approved → \(next.bucket.rawValue) needs a network that does chargebacks")
        }
        return .change(note: nil)
    }
}
