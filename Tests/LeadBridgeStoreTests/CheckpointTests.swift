import Foundation
import Testing
@testable import LeadBridgeStore

/// The receiver's writer leaves checkpoints to SQLiteCheckpointer: the log must stay bounded
/// whatever the pace of the background passes, and every committed row must be in the file.
@Suite struct BackgroundCheckpointTests {
    /// Frames the log file has held at most: SQLite reuses the file from its start after a
    /// restart, so its size is its high-water mark (a 32-byte header, then frames of a 24-byte
    /// header and one page).
    static func walFrames(_ path: String, pageSize: Int) -> Int {
        let size = (try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0
        return max(0, size - 32) / (pageSize + 24)
    }

    @Test(arguments: [false, true]) func theLogStaysBoundedAndEveryRowIsKept(synchronousFull: Bool) throws {
        let path = TempFiles.path()
        let marks = SQLiteCheckpointer.Marks(start: 40, finish: 20, limit: 160)
        let db = try SQLiteDatabase(path: path, migrations: [], synchronousFull: synchronousFull, checkpointMarks: marks)
        try db.write { (tx: borrowing SQLiteTransaction) throws(StoreError) in try tx.run("CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB)") }
        let pageSize = Int(try db.read { (tx: borrowing SQLiteTransaction) throws(StoreError) in try tx.query("PRAGMA page_size") }.first?[at: 0].int ?? 0)
        #expect(pageSize > 0)
        let body = SQLValue.blob([UInt8](repeating: 7, count: pageSize * 3 / 4))
        // 600 transactions of three rows, each row most of a page: about 1,800 pages written,
        // more than ten times the limit, whatever the background passes manage meanwhile.
        for i in 0..<600 {
            try db.write { (tx: borrowing SQLiteTransaction) throws(StoreError) in
                for j in 0..<3 { try tx.run("INSERT INTO t (id, body) VALUES (?, ?)", [.int(Int64(i * 3 + j)), body]) }
            }
        }
        let checkpointer = try #require(db.connection.withLock { $0.checkpointer })
        // A transaction here writes its three leaves, their parent and the header page: the log
        // may pass the limit by one transaction's frames, never more.
        #expect(Self.walFrames(path, pageSize: pageSize) <= marks.limit + 8)
        #expect(Self.walFrames(path, pageSize: pageSize) >= marks.start)
        #expect(checkpointer.passes.load(ordering: .relaxed) > 0, "no background pass copied anything")
        #expect(checkpointer.inline.load(ordering: .relaxed) > 0, "the writer never finished a cycle, so the log never started over")
        // Another connection reads every row, and so does the file reopened without its log.
        let other = try SQLiteDatabase(path: path, migrations: [])
        #expect(try other.read { (tx: borrowing SQLiteTransaction) throws(StoreError) in try tx.query("SELECT count(*) FROM t") }.first?[at: 0].int == 1800)
    }
}
