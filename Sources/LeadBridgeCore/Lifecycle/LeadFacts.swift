/// Where a lead is on its way to one network: the ledger's one state column. Every word a
/// store writes for a lead's state comes from here (stores bind the raw values, never spell
/// them).
public enum SendState: String, Sendable, Hashable, CaseIterable {
    /// Waiting to be sent (first time, after a failure that certainly did not arrive, or a resend).
    case queued
    /// Taken by a worker, its request not written yet: certainly not at the network.
    case claimed
    /// Its request is (or may be) on the wire: the network may have it.
    case sending
    /// The network has it (it answered so, reported a status, or the operator said so).
    case accepted
    /// The network says it already had this lead from someone else.
    case duplicate
    /// The network refused the lead's data.
    case rejected
    /// A request may have reached the network and no answer told us: never resent by itself.
    /// Settled by a status poll, the lead's postback, `settle` or `send --resend`.
    case uncertain
    /// Failed too many times without reaching the network; kept with its reason for an operator.
    case parked
}

/// What we know of whether the network holds the lead, across resends: a resend of a lead the
/// network holds can never demote it, and a duplicate answer after an attempt that may have
/// arrived means the network has ours.
public enum Reach: String, Sendable, Hashable, CaseIterable {
    case none
    /// An attempt may have reached the network.
    case maybe
    /// The network acknowledged the lead.
    case held
}

/// Who made a ledger entry.
public enum EventSource: String, Sendable, Hashable, CaseIterable {
    /// The lead entered the ledger (`send`, `POST /leads`, a library call).
    case intake
    case send, poll, postback
    /// A network's downloaded lead report (`leadbridge import`).
    case `import`
    /// A person: `settle`, `send --resend`.
    case `operator`
    /// A worker that died or lost its claim.
    case recovery
}

/// What one journal entry records.
public enum JournalKind: String, Sendable, Hashable, CaseIterable {
    case queued, attempt, status, resend, settled, interrupted
    /// An event the rules refused (an audit entry: the reason is in the note).
    case refused
}

/// Why a send that got no usable answer may or may not have reached the network: only what
/// certainly did not arrive is retried by itself (docs/lifecycle.md has the table).
public enum Receipt: String, Sendable, Hashable, CaseIterable {
    case notReceived = "not-received"
    case maybeReceived = "maybe-received"
}

/// A worker's hold on a lead while it sends it: who (host/pid/start) and until when. A claim
/// whose holder died or whose lease ran out is interrupted.
public struct Claim: Sendable, Hashable {
    public var owner: String
    public var until: Int64
    public init(owner: String, until: Int64) { self.owner = owner; self.until = until }
}

/// Everything the rules need to know of one lead at one network, as the store keeps it.
public struct LeadFacts: Sendable, Hashable {
    public var state: SendState
    public var reach: Reach
    public var status: LeadStatus?
    public var externalId: String?
    /// Attempts in the current round (a resend or a settle as not sent starts a new round).
    public var attempts: Int
    /// When a queued lead is next sent; nil in every other state.
    public var dueAt: Int64?
    public var claim: Claim?
    public var lastError: String?
    public var payout: String?
    public var currency: String?
    public var comment: String?
    public var reason: String?
    /// When a status report last confirmed the status without changing it.
    public var confirmedAt: Int64?
    /// When the lead first got a final status (approved, cancelled, trash); kept through later
    /// changes (a chargeback). The funnel's time to a final status.
    public var finalAt: Int64?
    public var updatedAt: Int64

    public init(state: SendState, reach: Reach = .none, status: LeadStatus? = nil, externalId: String? = nil, attempts: Int = 0, dueAt: Int64? = nil,
                claim: Claim? = nil, lastError: String? = nil, payout: String? = nil, currency: String? = nil, comment: String? = nil,
                reason: String? = nil, confirmedAt: Int64? = nil, finalAt: Int64? = nil, updatedAt: Int64) {
        self.state = state
        self.reach = reach
        self.status = status
        self.externalId = externalId
        self.attempts = attempts
        self.dueAt = dueAt
        self.claim = claim
        self.lastError = lastError
        self.payout = payout
        self.currency = currency
        self.comment = comment
        self.reason = reason
        self.confirmedAt = confirmedAt
        self.finalAt = finalAt
        self.updatedAt = updatedAt
    }

    /// Asked about by status polls: accepted leads whose status can still change, and uncertain
    /// leads (a poll that can look them up settles them). Stores keep it as a column.
    public var pollable: Bool {
        switch state {
        case .accepted: return status?.bucket.isFinal != true
        case .uncertain: return true
        default: return false
        }
    }
}

/// One attempt at sending a lead, as its journal entry records it.
public struct AttemptRecord: Sendable, Hashable {
    public var number: Int
    public var outcome: OutcomeKind
    /// For a failed attempt: whether it can have reached the network.
    public var receipt: Receipt?
    public var httpStatus: Int?
    public var durationMs: Int?
    public init(number: Int, outcome: OutcomeKind, receipt: Receipt? = nil, httpStatus: Int? = nil, durationMs: Int? = nil) {
        self.number = number
        self.outcome = outcome
        self.receipt = receipt
        self.httpStatus = httpStatus
        self.durationMs = durationMs
    }
}

/// A line of a lead's history: what happened, who said so, what moved (state and status).
/// Every event the lifecycle refuses is one too (kind `refused`, the typed reason in `reason`).
public struct JournalEntry: Sendable, Hashable {
    public var at: Int64
    public var kind: JournalKind
    public var source: EventSource
    public var fromState: SendState?
    public var toState: SendState?
    public var fromStatus: Bucket?
    public var toStatus: Bucket?
    public var raw: String?
    public var detail: String?
    public var attempt: AttemptRecord?
    /// Text that is data: the network's message about an attempt, or a note of a ledger written
    /// before reasons were typed (shown as it is). Never set together with `reason`.
    public var note: String?
    /// The lifecycle's own word on the entry (worded in the user's language where printed).
    public var reason: LifecycleReason?
    /// Why an attempt failed, in LeadBridge's own words (worded where printed). Never set
    /// together with `reason` or `note`.
    public var failure: SendFailure?

    public init(at: Int64, kind: JournalKind, source: EventSource, fromState: SendState? = nil, toState: SendState? = nil, fromStatus: Bucket? = nil,
                toStatus: Bucket? = nil, raw: String? = nil, detail: String? = nil, attempt: AttemptRecord? = nil, note: String? = nil,
                reason: LifecycleReason? = nil) {
        self.at = at
        self.kind = kind
        self.source = source
        self.fromState = fromState
        self.toState = toState
        self.fromStatus = fromStatus
        self.toStatus = toStatus
        self.raw = raw
        self.detail = detail
        self.attempt = attempt
        self.note = note
        self.reason = reason
    }

    /// The ledger's `note` column for this entry (see `StoredNote`).
    public var storedNote: String? { StoredNote.encode(reason: reason, failure: failure, text: note) }

    /// Sets `reason` or `note` from the ledger's `note` column.
    public mutating func setStoredNote(_ stored: String?) {
        (reason, failure, note) = StoredNote.decode(stored)
    }
}

/// A status a network (or a person, or a report file) gives for one lead.
public struct StatusReport: Sendable, Hashable {
    public var status: LeadStatus
    public var source: EventSource
    /// The network that reported it (a lead of another network refuses it).
    public var network: String
    public var payout: String?
    public var currency: String?
    public var comment: String?
    public var reason: String?
    public var externalId: String?
    public init(status: LeadStatus, source: EventSource, network: String, payout: String? = nil, currency: String? = nil, comment: String? = nil,
                reason: String? = nil, externalId: String? = nil) {
        self.status = status
        self.source = source
        self.network = network
        self.payout = payout
        self.currency = currency
        self.comment = comment
        self.reason = reason
        self.externalId = externalId
    }
}

/// A status change the ledger made: printed by `sync --json`, and what outgoing postbacks to
/// traffic sources are made of.
public struct StatusChange: Sendable, Hashable {
    public var rowId: Int64
    public var orderId: String
    public var network: String
    public var from: Bucket?
    public var to: Bucket
    public var raw: String?
    public var source: EventSource
    public init(rowId: Int64, orderId: String, network: String, from: Bucket?, to: Bucket, raw: String?, source: EventSource) {
        self.rowId = rowId
        self.orderId = orderId
        self.network = network
        self.from = from
        self.to = to
        self.raw = raw
        self.source = source
    }
}

/// What became of one stored incoming postback (the raw log's result column).
public enum PostbackResult: String, Sendable, Hashable, CaseIterable {
    /// Stored, not processed yet.
    case received
    case applied
    /// No lead matches yet: applied when it arrives.
    case unmatched
    case unknownStatus = "unknown-status"
    case otherNetwork = "other-network"
    case unknownNetwork = "unknown-network"
    case forbidden
    case invalid

    /// Waiting for a later replay (its lead may arrive, or it was never processed).
    public static let waiting: [PostbackResult] = [.unmatched, .received]
}

/// Where an outgoing postback to a traffic source stands.
public enum OutgoingState: String, Sendable, Hashable, CaseIterable {
    case due, delivered, failed
}
