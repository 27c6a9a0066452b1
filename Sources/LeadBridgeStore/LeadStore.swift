import LeadBridgeCore

/// One lead at one network, as the ledger holds it: who it is, its data, and its facts.
public struct LeadRecord: Sendable, Hashable {
    public var rowId: Int64
    public var orderId: String
    public var network: String
    public var account: String
    public var source: String?
    public var sourceRef: String?
    /// The lead file as stored (decoded on demand: status work never needs it).
    public var leadJSON: String
    public var facts: LeadFacts
    public var createdAt: Int64
    public var lastPolledAt: Int64?

    public init(rowId: Int64, orderId: String, network: String, account: String, source: String? = nil, sourceRef: String? = nil, leadJSON: String,
                facts: LeadFacts, createdAt: Int64, lastPolledAt: Int64? = nil) {
        self.rowId = rowId
        self.orderId = orderId
        self.network = network
        self.account = account
        self.source = source
        self.sourceRef = sourceRef
        self.leadJSON = leadJSON
        self.facts = facts
        self.createdAt = createdAt
        self.lastPolledAt = lastPolledAt
    }

    public var lead: Lead {
        if let json = try? JSONParser.parse(leadJSON), case .success(let l) = LeadReader.read(json) { return l }
        return Lead(id: orderId, phone: "")
    }

    public var sendState: SendState { facts.state }
    public var status: LeadStatus? { facts.status }
    public var externalId: String? { facts.externalId }
    public var attempts: Int { facts.attempts }
    public var lastError: String? { facts.lastError }
    public var payout: String? { facts.payout }
    public var currency: String? { facts.currency }
    public var comment: String? { facts.comment }
    public var reason: String? { facts.reason }
    public var updatedAt: Int64 { facts.updatedAt }
}

/// Where a lead sits in the ledger (found by either id).
public struct LeadLocation: Sendable, Hashable {
    public var rowId: Int64
    public var orderId: String
    public init(rowId: Int64, orderId: String) { self.rowId = rowId; self.orderId = orderId }
}

/// What finds one lead: the network plus our order id, else its external id.
public struct LeadKey: Sendable, Hashable {
    public var network: String
    public var orderId: String?
    public var externalId: String?
    public init(network: String, orderId: String?, externalId: String? = nil) { self.network = network; self.orderId = orderId; self.externalId = externalId }
}

/// Filters for reading leads (`leads`, `lead`, poll targets, due leads). Every filter is
/// optional; rows come in row id order.
public struct LeadQuery: Sendable, Hashable {
    public var rowId: Int64?
    public var network: String?
    public var orderId: String?
    public var externalId: String?
    public var status: Bucket?
    public var state: SendState?
    /// Only leads status polls ask about (`LeadFacts.pollable`) not polled after this time.
    public var pollableBefore: Int64?
    /// Only leads due for sending by this time.
    public var dueBy: Int64?
    /// Only rows after this row id (paging).
    public var afterRowId: Int64?
    /// Only leads of these accounts, or of accounts other than these.
    public var accounts: AccountFilter?
    public var limit: Int
    /// Read the lead data too (status work and polls do without: `leadJSON` is then empty).
    public var withData: Bool
    public init(rowId: Int64? = nil, network: String? = nil, orderId: String? = nil, externalId: String? = nil, status: Bucket? = nil, state: SendState? = nil,
                pollableBefore: Int64? = nil, dueBy: Int64? = nil, afterRowId: Int64? = nil, accounts: AccountFilter? = nil, limit: Int = 1000,
                withData: Bool = true) {
        self.withData = withData
        self.accounts = accounts
        self.rowId = rowId
        self.network = network
        self.orderId = orderId
        self.externalId = externalId
        self.status = status
        self.state = state
        self.pollableBefore = pollableBefore
        self.dueBy = dueBy
        self.afterRowId = afterRowId
        self.limit = limit
    }
}

/// Leads of some accounts only: a send pass takes only the leads of the accounts it can use,
/// so the leads of an account whose secret is unset never fill its windows (they wait, queued,
/// and the other accounts' leads go out).
public enum AccountFilter: Sendable, Hashable {
    case only([String])
    case except([String])

    /// The SQL condition on the `account` column and its values (`only([])` matches nothing).
    var condition: (sql: String, values: [SQLValue]) {
        switch self {
        case .only(let names) where names.isEmpty: return ("1 = 0", [])
        case .except(let names) where names.isEmpty: return ("1 = 1", [])
        case .only(let names): return ("account IN (" + names.map { _ in "?" }.joined(separator: ", ") + ")", names.map(SQLValue.text))
        case .except(let names): return ("account NOT IN (" + names.map { _ in "?" }.joined(separator: ", ") + ")", names.map(SQLValue.text))
        }
    }
}

/// Which leads a write transaction locks.
public enum LeadSelection: Sendable, Hashable {
    /// These rows (waiting for a lock another transaction holds).
    case rows([Int64])
    /// The same without their lead data (`leadJSON` empty): for events that change only facts.
    case facts([Int64])
    /// The leads these keys find (by order id, else external id), waiting for locks.
    case keys([LeadKey])
    /// Up to `limit` leads due by `now` (`dueAt <= now`), oldest due first, skipping rows
    /// another transaction holds (`FOR UPDATE SKIP LOCKED`); of `accounts` only when given.
    case due(network: String?, now: Int64, limit: Int, accounts: AccountFilter? = nil)
    /// Up to `limit` leads that carry a claim, skipping rows another transaction holds.
    case claimed(limit: Int)
    /// Up to `limit` leads of `network` status polls ask about (`pollable`, not polled after
    /// `before`), after row `afterRowId`, in row id order, without their data, skipping rows
    /// another transaction holds: stamped polled in the same transaction, a page is one
    /// worker's, so several workers poll disjoint pages.
    case pollable(network: String, before: Int64, afterRowId: Int64, limit: Int)
}

/// A new lead for `insert`.
public struct NewLead: Sendable {
    public var lead: Lead
    public var network: String
    public var account: String
    public var source: String?
    /// The traffic source's own id of the lead: a repeated submission finds the first lead.
    public var sourceRef: String?
    public var facts: LeadFacts
    public var entry: JournalEntry
    public init(lead: Lead, network: String, account: String, source: String? = nil, sourceRef: String? = nil, facts: LeadFacts, entry: JournalEntry) {
        self.lead = lead
        self.network = network
        self.account = account
        self.source = source
        self.sourceRef = sourceRef
        self.facts = facts
        self.entry = entry
    }
}

/// What `insert` did.
public enum InsertResult: Sendable {
    case inserted(LeadRecord)
    /// A lead with this (network, order id) or (source, source ref) exists: nothing written.
    case existing(LeadRecord)
}

/// The facts to write for one locked lead: the whole row, one journal entry (or none, for a
/// fact the row alone carries), and outgoing postbacks to queue.
public struct LeadWrite: Sendable {
    public var rowId: Int64
    public var facts: LeadFacts
    public var entry: JournalEntry?
    public var outgoing: [OutgoingPostback]
    /// New lead data and account (a resend with an edited lead file).
    public var lead: Lead?
    public var account: String?
    /// The facts as the transaction read them: only the columns that differ are written (an
    /// index is touched only when its columns change). Nil: every column is written.
    public var before: LeadFacts?
    public init(rowId: Int64, facts: LeadFacts, before: LeadFacts? = nil, entry: JournalEntry?, outgoing: [OutgoingPostback] = [], lead: Lead? = nil,
                account: String? = nil) {
        self.rowId = rowId
        self.facts = facts
        self.before = before
        self.entry = entry
        self.outgoing = outgoing
        self.lead = lead
        self.account = account
    }
}

/// How many of what the ledger holds (`status`, the demo, monitors).
public struct LedgerCounts: Sendable, Hashable {
    /// Leads by network, state and status.
    public struct Leads: Sendable, Hashable {
        public var network: String
        public var state: SendState
        public var status: Bucket?
        public var count: Int
        public init(network: String, state: SendState, status: Bucket?, count: Int) {
            self.network = network
            self.state = state
            self.status = status
            self.count = count
        }
    }
    public var leads: [Leads]
    public var postbacks: Int
    public init(leads: [Leads], postbacks: Int) { self.leads = leads; self.postbacks = postbacks }
}

/// Which stored postbacks to read.
public struct PostbackQuery: Sendable, Hashable {
    public var results: [PostbackResult]?
    public var network: String?
    /// Only postbacks naming this order id or this external id.
    public var orderId: String?
    public var externalId: String?
    public var newestFirst: Bool
    public var limit: Int
    public init(results: [PostbackResult]? = nil, network: String? = nil, orderId: String? = nil, externalId: String? = nil, newestFirst: Bool = false,
                limit: Int = 10_000) {
        self.results = results
        self.network = network
        self.orderId = orderId
        self.externalId = externalId
        self.newestFirst = newestFirst
        self.limit = limit
    }
}

/// Which outgoing postbacks to read.
public struct OutgoingQuery: Sendable, Hashable {
    public var leadRowId: Int64?
    /// Only those due for delivery by this time.
    public var dueBy: Int64?
    /// Only those in this state (`leadbridge outgoing --failed`).
    public var state: OutgoingState?
    public var limit: Int
    public init(leadRowId: Int64? = nil, dueBy: Int64? = nil, state: OutgoingState? = nil, limit: Int = 10_000) {
        self.leadRowId = leadRowId
        self.dueBy = dueBy
        self.state = state
        self.limit = limit
    }
}

/// The result of one delivery attempt of an outgoing postback.
public struct OutgoingDelivery: Sendable {
    public var id: Int64
    public var state: OutgoingState
    public var nextAttemptAt: Int64?
    public var error: String?
    public var at: Int64
    public init(id: Int64, state: OutgoingState, nextAttemptAt: Int64?, error: String?, at: Int64) {
        self.id = id
        self.state = state
        self.nextAttemptAt = nextAttemptAt
        self.error = error
        self.at = at
    }
}

/// The ledger's persistence port: SQLite today, PostgreSQL next. A store keeps facts and runs
/// no rules — every decision (states, statuses, retries, chargebacks) is Core's
/// `LeadLifecycle`, made by the engine between `lock` and `save` inside one `write`.
///
/// What an implementation must guarantee:
/// - `write` runs its body in one transaction: all of it is committed, or none (a thrown error
///   rolls back). Bodies are short and synchronous (no network I/O inside).
/// - Rows returned by `lock` stay locked until the transaction ends: no other transaction
///   changes or locks them meanwhile (`SELECT … FOR UPDATE`), so "read the facts → Core decides
///   → save" never loses a concurrent update, whatever the number of processes and hosts.
///   `.due` and `.claimed` skip rows another transaction holds (`FOR UPDATE SKIP LOCKED`)
///   instead of waiting, so several workers claim disjoint windows. Lock in row id order.
/// - `insert` is unique on (network, order id) and on (source, source ref) when a ref is given:
///   of two concurrent inserts of one key exactly one lead exists; the other gets `.existing`.
/// - `save` writes exactly the facts given (every column of `LeadFacts`, plus `pollable`, which
///   polls select on) and appends the journal entry; outgoing postbacks are unique per (lead,
///   kind, status): a repeat is ignored.
/// - State and status words are the raw values of Core's enums, bound as parameters; the
///   schema names none of them (no CHECK constraints on states, no state words in SQL).
/// - Errors are `StoreError`s and never contain bound values (lead data, tokens).
/// - Reads see committed data only.
public protocol LeadStore: LedgerReports {
    /// Runs `body` in one write transaction (see the guarantees above).
    func write<T: Sendable>(_ body: (any LedgerWriter) throws(StoreError) -> T) throws(StoreError) -> T
    func leads(_ query: LeadQuery) throws(StoreError) -> [LeadRecord]
    /// Finds many leads at once, without their data (a postback batch).
    func locate(_ keys: [LeadKey]) throws(StoreError) -> [LeadLocation?]
    /// A lead's journal, oldest first.
    func journal(rowId: Int64) throws(StoreError) -> [JournalEntry]
    func counts() throws(StoreError) -> LedgerCounts
    func postbacks(_ query: PostbackQuery) throws(StoreError) -> [RawPostbackRecord]
    func outgoing(_ query: OutgoingQuery) throws(StoreError) -> [OutgoingPostback]
}

/// What a write transaction can do: persist facts, nothing else.
public protocol LedgerWriter {
    /// A new lead with its first facts and journal entry, or the existing one (nothing written).
    func insert(_ lead: NewLead) throws(StoreError) -> InsertResult
    /// Locks and reads the selected leads (see `LeadSelection`).
    func lock(_ selection: LeadSelection) throws(StoreError) -> [LeadRecord]
    /// Locks and reads the lead each key finds (by order id, else external id), in the keys'
    /// order, nil where none: the postback writer reads each lead of a batch once. Without the
    /// leads' data (`leadJSON` empty, as `LeadSelection.facts`): deciding a status never needs it.
    func find(_ keys: [LeadKey]) throws(StoreError) -> [LeadRecord?]
    /// Reads leads inside the transaction, without locking them.
    func leads(_ query: LeadQuery) throws(StoreError) -> [LeadRecord]
    /// Writes a locked lead's new facts, its journal entry and outgoing postbacks.
    func save(_ write: LeadWrite) throws(StoreError)
    /// Stored postbacks as this transaction sees them, locked (PostgreSQL: ones another
    /// transaction holds are skipped — it is applying them): what a replay applies must still
    /// be waiting when its transaction decides, not when it was read before.
    func postbacks(_ query: PostbackQuery) throws(StoreError) -> [RawPostbackRecord]
    /// Stamps leads as polled (whatever the network answered about them).
    func markPolled(rowIds: [Int64], at: Int64) throws(StoreError)
    /// Stores incoming postbacks (before they are processed); returns their ids in order.
    /// Their commit may return before it reaches the disk: the caller answers only after the
    /// commit that records their results, which reaches the disk and, the log being written
    /// in order, takes these rows with it (one disk flush per batch instead of two).
    func logPostbacks(_ items: [RawPostback]) throws(StoreError) -> [Int64]
    /// Stores incoming postbacks already decided, with what became of them (`results[i]` for
    /// `items[i]`, its `id` ignored), in the transaction that applies them; returns their ids.
    func logPostbacks(_ items: [RawPostback], results: [RawPostbackResult]) throws(StoreError) -> [Int64]
    /// Adds the entries of the oldest stored postbacks not in the order index yet (at most
    /// `limit` of them) to the index a lead's postbacks are read by, in this transaction; returns
    /// how many it covered, 0 when none were left. Postbacks are stored without that entry (a
    /// random page each), so the writer adds many at once (`PostbackIngest.indexEvery`); a
    /// lead's postbacks are found meanwhile all the same. PostgreSQL indexes as it stores: 0.
    func indexPostbackOrders(atMost limit: Int) throws(StoreError) -> Int
    /// The same step in parts, so that no transaction holds the writer long: the stored
    /// postbacks above the index's mark (at most `limit`, oldest first) in the index's key
    /// order, the id the mark moves to once they are in, and whether more are left; nil when
    /// none are (PostgreSQL: always). Then `indexPostbackOrders(ids:through:)` part by part.
    func postbacksToIndex(atMost limit: Int) throws(StoreError) -> (ids: [Int64], through: Int64, more: Bool)?
    /// Adds the order-index entries of these stored postbacks as they are now (ones already in
    /// stay), and with `through`, moves the mark there (the step's last part).
    func indexPostbackOrders(ids: [Int64], through: Int64?) throws(StoreError)
    /// Records what became of stored postbacks.
    func savePostbackResults(_ results: [RawPostbackResult]) throws(StoreError)
    /// Records one delivery attempt of an outgoing postback.
    func saveOutgoing(_ delivery: OutgoingDelivery) throws(StoreError)
    /// Takes up to `limit` outgoing postbacks due by `now` for delivery: their next attempt
    /// moves to `until`, so no other process (on any host) takes them meanwhile; rows another
    /// transaction holds are skipped. What the delivery then records replaces `until`.
    func takeOutgoing(dueBy now: Int64, limit: Int, until: Int64) throws(StoreError) -> [OutgoingPostback]
    /// Puts failed outgoing postbacks back in the queue (`leadbridge outgoing --replay`): state
    /// `due`, due at `at`, attempts 0 (a new round), their last answers kept. Postbacks in
    /// another state are left as they are. Returns how many were put back.
    func replayOutgoing(ids: [Int64], at: Int64) throws(StoreError) -> Int
}

/// Reads built on the port's own.
extension LeadStore {
    public func lead(network: String, orderId: String) throws(StoreError) -> LeadRecord? {
        try leads(LeadQuery(network: network, orderId: orderId, limit: 1)).first
    }

    public func lead(network: String, externalId: String) throws(StoreError) -> LeadRecord? {
        try leads(LeadQuery(network: network, externalId: externalId, limit: 1)).first
    }

    /// Every network's lead with this order id.
    public func leads(orderId: String) throws(StoreError) -> [LeadRecord] {
        try leads(LeadQuery(orderId: orderId, limit: 1000))
    }

    public func record(rowId: Int64) throws(StoreError) -> LeadRecord? {
        try leads(LeadQuery(rowId: rowId, limit: 1)).first
    }

    public func rawPostbackCount() throws(StoreError) -> Int { try counts().postbacks }

    public func outgoingPostbacks(leadRowId: Int64?) throws(StoreError) -> [OutgoingPostback] {
        try outgoing(OutgoingQuery(leadRowId: leadRowId))
    }
}
