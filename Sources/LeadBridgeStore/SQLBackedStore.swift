import LeadBridgeCore

/// A store whose port is the shared SQL implementation (SQLite and PostgreSQL): the whole
/// port forwards to its `SQLLedger` once, here, and a copy reads and writes it table by table.
protocol SQLBackedStore: LeadStore {
    var ledger: SQLLedger { get }
}

extension SQLBackedStore {
    public func write<T: Sendable>(_ body: (any LedgerWriter) throws(StoreError) -> T) throws(StoreError) -> T { try ledger.write(body) }
    public func leads(_ query: LeadQuery) throws(StoreError) -> [LeadRecord] { try ledger.leads(query) }
    public func locate(_ keys: [LeadKey]) throws(StoreError) -> [LeadLocation?] { try ledger.locate(keys) }
    public func journal(rowId: Int64) throws(StoreError) -> [JournalEntry] { try ledger.journal(rowId: rowId) }
    public func counts() throws(StoreError) -> LedgerCounts { try ledger.counts() }
    public func postbacks(_ query: PostbackQuery) throws(StoreError) -> [RawPostbackRecord] { try ledger.postbacks(query) }
    public func outgoing(_ query: OutgoingQuery) throws(StoreError) -> [OutgoingPostback] { try ledger.outgoing(query) }

    // LedgerReports
    public func leadTallies(_ period: LedgerPeriod) throws(StoreError) -> [LeadTally] { try ledger.leadTallies(period) }
    public func finalTimings(_ period: LedgerPeriod, state: SendState) throws(StoreError) -> [FinalTiming] { try ledger.finalTimings(period, state: state) }
    public func stateTallies(states: [SendState], dueCutoff: Int64) throws(StoreError) -> [StateTally] { try ledger.stateTallies(states: states, dueCutoff: dueCutoff) }
    public func outgoingTallies() throws(StoreError) -> [OutgoingTally] { try ledger.outgoingTallies() }
    public func searchLeads(_ search: LeadSearch) throws(StoreError) -> [LeadRecord] { try ledger.searchLeads(search) }
    public func latestSyncPasses() throws(StoreError) -> [SyncPassRecord] { try ledger.latestSyncPasses() }
    public func postbackTallies() throws(StoreError) -> [PostbackTally] { try ledger.postbackTallies() }
    public func attemptTallies() throws(StoreError) -> [AttemptTally] { try ledger.attemptTallies() }
    public func recordSyncPasses(_ passes: [SyncPassRecord]) throws(StoreError) { try ledger.recordSyncPasses(passes) }
}
