import LeadBridgeCore

/// The ledger on a PostgreSQL database shared by several `serve` and `sync` processes on
/// several hosts: the same port and SQL as SQLite (`SQLLedger`), its rows locked `FOR UPDATE`
/// while Core decides, the due and claimed leads taken `SKIP LOCKED` so workers share the
/// outbox without a lead going out twice.
public final class PostgresLeadStore: LeadStore {
    public let database: PostgresDatabase

    public static let migrations: [Migration] = PostgresSchema.all

    /// Opens the database at `location`. An empty database gets the schema; an older one is
    /// left to `leadbridge migrate` unless `policy` is `.apply` (other hosts may still run the
    /// previous leadbridge); a newer one is refused.
    public init(location: PostgresLocation, synchronousFull: Bool = false, migrations: [Migration] = PostgresLeadStore.migrations,
                policy: MigrationPolicy = .createOnly) throws(StoreError) {
        database = try PostgresDatabase(location: location, migrations: migrations, synchronousFull: synchronousFull, policy: policy)
    }

    var ledger: SQLLedger { SQLLedger(database: .postgres(database)) }

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
