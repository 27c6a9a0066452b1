import LeadBridgeCore

/// The embedded default store: one SQLite file in WAL mode, implementing the `LeadStore` port
/// as persistence only (every state word is a bound Core enum value).
public final class SQLiteLeadStore: LeadStore, SQLBackedStore {
    public let database: SQLiteDatabase

    public static let migrations: [Migration] = SQLiteSchema.all

    public init(path: String, synchronousFull: Bool = false, migrations: [Migration] = SQLiteLeadStore.migrations,
                policy: MigrationPolicy = .apply, backgroundCheckpoints: Bool = false) throws(StoreError) {
        database = try SQLiteDatabase(path: path, migrations: migrations, synchronousFull: synchronousFull, policy: policy,
                                      backgroundCheckpoints: backgroundCheckpoints)
    }

    var ledger: SQLLedger { SQLLedger(database: .sqlite(database)) }

    // The port itself: SQLBackedStore forwards it to `ledger`.
}

extension Substring {
    func trimmingCharacters() -> String {
        var s = self
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}
