import CSQLite
import Glibc

/// The leads `LedgerWriter.find` read on one SQLite connection, kept between its transactions:
/// the postback writer's batches name the same leads again and again (a network confirming a
/// status every few seconds), and reading a lead's row back into a `LeadRecord` was a quarter
/// of the writer's work. An entry is what the database holds for its key, and stays so:
/// - this connection's own changes to `leads` (any statement, any transaction, triggers
///   included) drop the changed row's entries as SQLite reports them (`sqlite3_update_hook`);
///   SQLite does not report rows a DELETE without WHERE empties (its truncate shortcut), which
///   `leads` never takes: its triggers and foreign keys turn that shortcut off;
/// - a rolled-back transaction empties the cache (a row read after its own change in it);
/// - another connection's commit (another process, another connection of this one) empties it:
///   `PRAGMA data_version` changes, read by the first `find` of each transaction.
/// Only leads found are kept (a key that finds none is read again: a new lead may come), at
/// most `capacity` of them. Owned by its connection and used only under the database's mutex.
final class SQLiteLeadCache {
    /// The raw-log benchmark repeats 1,000 leads; a lead without data is a few hundred bytes.
    static let capacity = 4_096

    private var records: [LeadKey: LeadRecord] = [:]
    private var keysByRow: [Int64: [LeadKey]] = [:]
    /// `PRAGMA data_version` when the cache was last checked (nil: never).
    private var dataVersion: Int64?
    /// Counters for tests: reads answered here, and times the cache was emptied.
    private(set) var hits = 0
    private(set) var resets = 0

    var count: Int { records.count }

    subscript(key: LeadKey) -> LeadRecord? {
        guard let r = records[key] else { return nil }
        hits += 1
        return r
    }

    func keep(_ record: LeadRecord, for key: LeadKey) {
        if records.count >= Self.capacity { clear() }
        if records.updateValue(record, forKey: key) == nil { keysByRow[record.rowId, default: []].append(key) }
    }

    /// A row of `leads` changed (or went): its entries go.
    func forget(rowId: Int64) {
        guard let keys = keysByRow.removeValue(forKey: rowId) else { return }
        for k in keys { records[k] = nil }
    }

    func clear() {
        guard !records.isEmpty else { return }
        records.removeAll(keepingCapacity: true)
        keysByRow.removeAll(keepingCapacity: true)
        resets += 1
    }

    /// Empties the cache when another connection committed since the last check.
    func check(dataVersion version: Int64) {
        if dataVersion != version { clear() }
        dataVersion = version
    }

    /// Registers the hook that tells the cache of every row this connection changes in `leads`.
    func watch(_ db: OpaquePointer) {
        sqlite3_update_hook(db, { context, _, _, table, rowId in
            guard let context, let table, strcmp(table, "leads") == 0 else { return }
            Unmanaged<SQLiteLeadCache>.fromOpaque(context).takeUnretainedValue().forget(rowId: rowId)
        }, Unmanaged.passUnretained(self).toOpaque())
    }
}
