import LeadBridgeCore

/// Where a lead is in its trip to the network.
public enum SendState: String, Sendable, CaseIterable {
    /// Waiting in the outbox (or for a retry).
    case queued
    /// Being sent right now (committed before the request goes out).
    case sending
    case accepted, duplicate, rejected
    /// Failed too many times; kept with its reason for an operator.
    case parked
    /// The process died while the request was out: the network may or may not have it. Not
    /// resent automatically (that could send it twice); a postback for it, or `--resend`,
    /// settles it.
    case uncertain
}

/// One lead at one network, as the ledger holds it.
public struct LeadRecord: Sendable {
    public var rowId: Int64
    public var orderId: String
    public var network: String
    public var account: String
    public var source: String?
    public var lead: Lead
    public var externalId: String?
    public var status: LeadStatus?
    public var reason: String?
    public var comment: String?
    public var payout: String?
    public var currency: String?
    public var sendState: SendState
    public var attempts: Int
    public var lastError: String?
    public var createdAt: Int64
    public var updatedAt: Int64
    public var lastPolledAt: Int64?
}

/// Where a lead sits in the ledger (found by either id).
public struct LeadLocation: Sendable, Hashable {
    public var rowId: Int64
    public var orderId: String
}

/// What finds one lead: the network plus our order id or its external id.
public struct LeadQueryKey: Sendable, Hashable {
    public var network: String
    public var orderId: String?
    public var externalId: String?
    public init(network: String, orderId: String?, externalId: String?) { self.network = network; self.orderId = orderId; self.externalId = externalId }
}

/// What polling needs of a lead: no lead data.
public struct PollTargetRef: Sendable, Hashable {
    public var rowId: Int64
    public var orderId: String
    public var externalId: String?
    public var account: String
    public var createdAt: Int64
}

/// A row of a lead's history.
public struct StatusEvent: Sendable {
    public var at: Int64
    public var source: String
    public var from: String?
    public var to: String
    public var raw: String?
    public var detail: String?
    public var note: String?
}

/// A change the ledger made, reported by `sync --json` and used for outgoing postbacks.
public struct StatusChange: Sendable, Hashable {
    public var rowId: Int64
    public var orderId: String
    public var network: String
    public var from: Bucket?
    public var to: Bucket
    public var raw: String?
    public var source: String
}

/// A status report for one lead from a poll, a postback or an operator.
public struct StatusReport: Sendable {
    public var rowId: Int64
    public var status: LeadStatus
    public var payout: String?
    public var currency: String?
    public var comment: String?
    public var reason: String?
    public var externalId: String?
    public init(rowId: Int64, status: LeadStatus, payout: String? = nil, currency: String? = nil, comment: String? = nil,
                reason: String? = nil, externalId: String? = nil) {
        self.rowId = rowId
        self.status = status
        self.payout = payout
        self.currency = currency
        self.comment = comment
        self.reason = reason
        self.externalId = externalId
    }
}

/// How a lead entered the ledger.
public enum EnqueueResult: Sendable {
    case queued(LeadRecord)
    /// Already sent (or queued) to this network: refused, naming the earlier outcome.
    case exists(LeadRecord)
}

/// Filters for `leadbridge leads`.
public struct LeadQuery: Sendable {
    public var network: String?
    public var status: Bucket?
    public var sendState: SendState?
    public var limit: Int
    public init(network: String? = nil, status: Bucket? = nil, sendState: SendState? = nil, limit: Int = 1000) {
        self.network = network
        self.status = status
        self.sendState = sendState
        self.limit = limit
    }
}

/// The ledger LeadBridge keeps: leads, their events, the outbox, raw postbacks, outgoing
/// postbacks. SQLite today; a PostgreSQL implementation can follow the same protocol.
public protocol LeadStore: Sendable {
    func enqueue(_ lead: Lead, network: String, account: String, source: String?, now: Int64, resend: Bool) throws(StoreError) -> EnqueueResult
    func lead(network: String, orderId: String) throws(StoreError) -> LeadRecord?
    func leads(orderId: String) throws(StoreError) -> [LeadRecord]
    func lead(network: String, externalId: String) throws(StoreError) -> LeadRecord?
    func leads(_ query: LeadQuery) throws(StoreError) -> [LeadRecord]
    func events(rowId: Int64) throws(StoreError) -> [StatusEvent]
    func counts() throws(StoreError) -> [String: [String: Int]]

    /// Outbox entries due for sending (oldest first).
    func dueSends(network: String?, now: Int64, limit: Int) throws(StoreError) -> [LeadRecord]
    /// Marks a due entry as being sent (committed before the request). False when another
    /// worker took it.
    func claimSend(rowId: Int64, now: Int64) throws(StoreError) -> Bool
    /// Records an attempt's outcome: final states, a retry time, or parking after `maxAttempts`.
    func recordSend(rowId: Int64, outcome: SendOutcome, now: Int64, retryAt: Int64?, maxAttempts: Int) throws(StoreError) -> StatusChange?
    /// Entries that were being sent when a process died become `uncertain`.
    func recoverInterruptedSends(now: Int64) throws(StoreError) -> [LeadRecord]

    /// Accepted leads of a network whose status can still change and that were not polled
    /// since `polledBefore`, as small references a page at a time (rows after `afterRowId`),
    /// so a pass over 100,000 leads holds only one page in memory.
    func pollTargetRefs(network: String, polledBefore: Int64, afterRowId: Int64, limit: Int) throws(StoreError) -> [PollTargetRef]
    /// Applies reports under the status rules in one transaction; returns the changes.
    func apply(_ reports: [StatusReport], source: String, chargebacks: Bool, now: Int64) throws(StoreError) -> [StatusChange]
    func markPolled(rowIds: [Int64], now: Int64) throws(StoreError)
    func record(rowId: Int64) throws(StoreError) -> LeadRecord?
    /// A lead's row found by our order id, else by the network's id (no data decoded).
    func locate(network: String, orderId: String?, externalId: String?) throws(StoreError) -> LeadLocation?
    func locateMany(_ queries: [LeadQueryKey]) throws(StoreError) -> [LeadLocation?]

    // Incoming postbacks: stored before processing, results recorded after.
    func logRawPostbacks(_ items: [RawPostback]) throws(StoreError) -> [Int64]
    func finishPostbacks(_ results: [RawPostbackResult], reports: [(report: StatusReport, chargebacks: Bool)], now: Int64) throws(StoreError) -> [StatusChange]
    func unmatchedPostbacks(network: String?, orderId: String?, externalId: String?, limit: Int) throws(StoreError) -> [RawPostbackRecord]
    func unknownStatusPostbacks(limit: Int) throws(StoreError) -> [RawPostbackRecord]
    func rawPostbacks(limit: Int) throws(StoreError) -> [RawPostbackRecord]
    func rawPostbackCount() throws(StoreError) -> Int

    // Outgoing postbacks to traffic sources.
    func enqueueOutgoing(_ items: [OutgoingPostback]) throws(StoreError) -> Int
    func dueOutgoing(now: Int64, limit: Int) throws(StoreError) -> [OutgoingPostback]
    func outgoingPostbacks(leadRowId: Int64?) throws(StoreError) -> [OutgoingPostback]
    func recordOutgoing(id: Int64, delivered: Bool, error: String?, retryAt: Int64?, now: Int64) throws(StoreError)
}
