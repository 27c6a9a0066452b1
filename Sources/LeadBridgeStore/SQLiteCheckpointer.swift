import CSQLite
import Dispatch
import Synchronization

/// Copies an SQLite file's write-ahead log back into the database on its own connection and
/// thread, so that a writer's commits do not wait behind a checkpoint's copying and fsyncs.
///
/// Why: with SQLite's automatic checkpoint every 1,000 log pages, the commit that crossed the
/// mark copied them and synced the file before the writer could take its next batch; on the
/// receiver's status-change workload (about five random pages per change) that was most of the
/// writer's time and all of its tail latency. A background pass alone cannot keep the log
/// bounded, though: SQLite starts the log over only once every frame of it is copied, and
/// commits keep adding frames while a pass runs. So the writer finishes each cycle itself,
/// after its commit, with a short inline checkpoint of what the last pass left (at most
/// `Marks.finish` frames), and at `Marks.limit` frames waits for a running pass and copies the
/// rest inline (the backstop when the disk is slower than the commits: the log stays bounded
/// and the writer slows down to the disk's pace).
final class SQLiteCheckpointer: Sendable {
    /// When the log is copied back, in frames (pages) of the log.
    struct Marks: Sendable {
        /// A background pass starts once the log holds this many frames (SQLite's default mark).
        var start = 1_000
        /// The writer finishes the cycle inline when at most this many frames are left uncopied
        /// (so an inline checkpoint never copies more than SQLite's own one did).
        var finish = 1_000
        /// At this many frames (about 16 MB) the writer waits for a running pass and copies the
        /// rest inline: the log never grows past it by more than one transaction.
        var limit = 4_000

        /// Measured on the receiver (bench/postbacks.sh's workloads, interleaved runs on a loaded
        /// machine): these marks held the log at 4,450 frames (18 MB); a limit of 8,000 doubled
        /// it with no better rate or p99, and a finish mark of 300 only made it longer (the
        /// writer rarely found so little left after a pass).
        static let receiver = Marks()
    }

    let marks: Marks
    /// Frames in the log after the last commit, from SQLite's WAL hook on the writer's connection.
    let frames = Atomic<Int>(0)
    /// Frames of the current log copied by the last background pass (0 when the log starts over).
    let copied = Atomic<Int>(0)
    /// Whether a background pass is queued or running; only the writer sets it, only the pass clears it.
    let running = Atomic<Bool>(false)
    /// Background passes that copied frames, and inline checkpoints the writer took (what the tests read).
    let passes = Atomic<Int>(0), inline = Atomic<Int>(0)
    private let queue = DispatchQueue(label: "leadbridge.sqlite-checkpoint")
    private let background: BackgroundConnection

    init(path: String, synchronousFull: Bool, marks: Marks = .receiver) {
        self.marks = marks
        background = BackgroundConnection(path: path, synchronousFull: synchronousFull)
    }

    /// Registers the WAL hook that counts the log's frames (it replaces SQLite's automatic
    /// checkpoint on this connection). `self` must outlive `db`: the connection holds it.
    func attach(to db: OpaquePointer) {
        sqlite3_wal_hook(db, { context, _, _, pages in
            guard let context else { return SQLITE_OK }
            Unmanaged<SQLiteCheckpointer>.fromOpaque(context).takeUnretainedValue().frames.store(Int(pages), ordering: .relaxed)
            return SQLITE_OK
        }, Unmanaged.passUnretained(self).toOpaque())
    }

    /// Called by the writer after each commit on `db` (outside any transaction).
    func afterCommit(_ db: OpaquePointer) {
        let pages = frames.load(ordering: .relaxed)
        guard pages >= marks.start else { return }
        if running.load(ordering: .acquiring) {
            guard pages >= marks.limit else { return }
            queue.sync {} // the disk is slower than the commits: wait for the pass (the queue is serial)
        }
        if pages - copied.load(ordering: .relaxed) <= marks.finish || pages >= marks.limit {
            var log: Int32 = 0, done: Int32 = 0
            _ = sqlite3_wal_checkpoint_v2(db, nil, SQLITE_CHECKPOINT_PASSIVE, &log, &done)
            copied.store(0, ordering: .relaxed)
            inline.add(1, ordering: .relaxed)
            return
        }
        running.store(true, ordering: .relaxed)
        queue.async { [self] in
            let (log, done) = background.checkpoint()
            if done > 0 { passes.add(1, ordering: .relaxed) }
            // A log copied whole starts over at the next commit: nothing of it counts then.
            copied.store(log > 0 && done < log ? Int(done) : 0, ordering: .relaxed)
            running.store(false, ordering: .releasing)
        }
    }

    /// The checkpointing connection: opened on the first pass, then used only on `queue`
    /// (one pass at a time), which is why it is safe to share.
    private final class BackgroundConnection: @unchecked Sendable {
        let path: String
        let synchronousFull: Bool
        var db: OpaquePointer?

        init(path: String, synchronousFull: Bool) {
            self.path = path
            self.synchronousFull = synchronousFull
        }

        deinit { if let db { sqlite3_close_v2(db) } }

        /// One PASSIVE checkpoint: (frames in the log, frames copied), (0, 0) when it failed.
        func checkpoint() -> (Int32, Int32) {
            if db == nil {
                var handle: OpaquePointer?
                guard sqlite3_open_v2(path, &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nil) == SQLITE_OK, let handle else {
                    sqlite3_close_v2(handle)
                    return (0, 0)
                }
                // The same syncs as the writer's connection: a checkpoint syncs the log, then the file.
                sqlite3_exec(handle, "PRAGMA synchronous=\(synchronousFull ? "FULL" : "NORMAL"); PRAGMA wal_autocheckpoint=0;", nil, nil, nil)
                db = handle
            }
            var log: Int32 = 0, done: Int32 = 0
            guard sqlite3_wal_checkpoint_v2(db, nil, SQLITE_CHECKPOINT_PASSIVE, &log, &done) == SQLITE_OK else { return (0, 0) }
            return (log, done)
        }
    }
}
