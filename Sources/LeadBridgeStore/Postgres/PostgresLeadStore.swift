import LeadBridgeCore

/// The ledger on a PostgreSQL database shared by several `serve` and `sync` processes on
/// several hosts: the same port and SQL as SQLite (`SQLLedger`), its rows locked `FOR UPDATE`
/// while Core decides, the due and claimed leads taken `SKIP LOCKED` so workers share the
/// outbox without a lead going out twice.
public final class PostgresLeadStore: LeadStore, SQLBackedStore {
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

    // The port itself: SQLBackedStore forwards it to `ledger`.
}
