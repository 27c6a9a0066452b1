import LeadBridgeCore

/// A period of lead creation in whole UTC days, `[from, to)` (`from` and `to` are taken to the
/// start of their day), optionally one network and account.
public struct LedgerPeriod: Sendable, Hashable {
    public var from: Int64
    public var to: Int64
    /// The UTC day numbers (days since 1970-01-01) of `from` and `to`.
    public var firstDay: Int64 { Self.day(from) }
    public var endDay: Int64 { Self.day(to) }
    static func day(_ t: Int64) -> Int64 { t >= 0 ? t / 86_400 : (t - 86_399) / 86_400 }
    public var network: String?
    public var account: String?
    public init(from: Int64, to: Int64, network: String? = nil, account: String? = nil) {
        self.from = from
        self.to = to
        self.network = network
        self.account = account
    }
}

/// The console's lead search; every filter is optional. Rows come newest first.
public struct LeadSearch: Sendable, Hashable {
    /// Order ids starting with this text.
    public var orderIdPrefix: String?
    /// Phones whose digits end with these digits.
    public var phoneEnding: String?
    public var network: String?
    public var account: String?
    public var status: Bucket?
    public var state: SendState?
    /// Created at or after / before.
    public var createdFrom: Int64?
    public var createdBefore: Int64?
    /// Only rows older than this row id (the next page).
    public var beforeRowId: Int64?
    public var limit: Int
    public init(orderIdPrefix: String? = nil, phoneEnding: String? = nil, network: String? = nil, account: String? = nil, status: Bucket? = nil,
                state: SendState? = nil, createdFrom: Int64? = nil, createdBefore: Int64? = nil, beforeRowId: Int64? = nil, limit: Int = 100) {
        self.orderIdPrefix = orderIdPrefix
        self.phoneEnding = phoneEnding
        self.network = network
        self.account = account
        self.status = status
        self.state = state
        self.createdFrom = createdFrom
        self.createdBefore = createdBefore
        self.beforeRowId = beforeRowId
        self.limit = limit
    }
}

/// Stored postbacks of one network with one result.
public struct PostbackTally: Sendable, Hashable {
    public var network: String
    public var result: PostbackResult?
    public var count: Int
    public init(network: String, result: PostbackResult?, count: Int) {
        self.network = network
        self.result = result
        self.count = count
    }
}

/// Send attempts with one outcome (the journal's attempt entries).
public struct AttemptTally: Sendable, Hashable {
    public var outcome: OutcomeKind?
    public var count: Int
    public init(outcome: OutcomeKind?, count: Int) {
        self.outcome = outcome
        self.count = count
    }
}

/// What the operator's console, `leadbridge status` and `/metrics` read from the ledger:
/// counts and groups of stored columns, and sync passes. Persistence only — what a state or
/// status means for a funnel or for health is Core's (`FunnelReport`, `HealthReport`); every
/// state and status word a query needs is given by the caller and bound as a parameter.
///
/// Every method is a read of committed data except `recordSyncPasses`, which is its own
/// write transaction. Implementations: SQLite (`SQLiteLeadStore`); PostgreSQL implements the
/// same with the same SQL.
public protocol LedgerReports: Sendable {
    /// Leads created in the period, grouped by network, account, state, status, day (counted
    /// from the period's first day), currency and payout, with their count.
    func leadTallies(_ period: LedgerPeriod) throws(StoreError) -> [LeadTally]
    /// For leads created in the period that are in `state` and have a `final_at`: the whole
    /// minutes from creation to it, grouped by network, account and minutes.
    func finalTimings(_ period: LedgerPeriod, state: SendState) throws(StoreError) -> [FinalTiming]
    /// Leads in each of `states`, by network and state: count, oldest creation, last change and
    /// due time, and how many are due at or before `dueCutoff`.
    func stateTallies(states: [SendState], dueCutoff: Int64) throws(StoreError) -> [StateTally]
    /// Outgoing postbacks by state, with the oldest next attempt.
    func outgoingTallies() throws(StoreError) -> [OutgoingTally]
    /// The console's lead search (see `LeadSearch`), newest first, with the leads' data.
    func searchLeads(_ search: LeadSearch) throws(StoreError) -> [LeadRecord]
    /// The latest recorded pass of every network.
    func latestSyncPasses() throws(StoreError) -> [SyncPassRecord]
    /// Stored postbacks by network and result.
    func postbackTallies() throws(StoreError) -> [PostbackTally]
    /// Send attempts by outcome.
    func attemptTallies() throws(StoreError) -> [AttemptTally]
    /// Records what one sync pass did for each network (one transaction).
    func recordSyncPasses(_ passes: [SyncPassRecord]) throws(StoreError)
}
