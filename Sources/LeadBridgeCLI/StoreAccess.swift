import FoundationEssentials
import Glibc
import LeadBridgeCore
import LeadBridgeEngine
import LeadBridgeStore

/// The store a configuration names, opened for one command: the port, where it is (a path,
/// or a PostgreSQL URL without its password), what opening did to its schema, and the cron
/// lock that fits it.
struct OpenedStore: Sendable {
    enum Backend: Sendable {
        case sqlite(SQLiteLeadStore)
        case postgres(PostgresLeadStore)
    }
    let backend: Backend

    var store: any LeadStore {
        switch backend {
        case .sqlite(let s): return s
        case .postgres(let s): return s
        }
    }

    var display: String {
        switch backend {
        case .sqlite(let s): return s.database.path
        case .postgres(let s): return s.database.location.display
        }
    }

    var migrationReport: MigrationReport {
        switch backend {
        case .sqlite(let s): return s.database.migrationReport
        case .postgres(let s): return s.database.migrationReport
        }
    }

    /// Keeps two cron passes of the same networks apart. SQLite: one `flock` on
    /// `<store>.lock` (one host). PostgreSQL: a session advisory lock per network, so several
    /// hosts sync different networks side by side; a network another pass holds is refused
    /// (exit 4) naming that pass's host and process. The server frees the locks of a dead process.
    func cronLock(networks: [String], now: Int64) throws(CLIError) -> CronLock {
        switch backend {
        case .sqlite(let s):
            do throws(SyncLock.Failure) { return .file(try SyncLock(path: s.database.path + ".lock", now: now)) } catch {
                switch error {
                case .held(let path, let holder): throw CLIError.locked(.lockHeld(path: path, holder: holder))
                case .unusable(let path, let reason): throw CLIError.config(.lockUnusable(path: path, reason: reason))
                }
            }
        case .postgres(let s):
            do throws(StoreError) {
                return .advisory(try PostgresAdvisoryLock(location: s.database.location, names: Set(networks).sorted().map { "sync \($0)" }))
            } catch {
                if error.kind == .locked {
                    // "sync kma is locked by HOLDER" → "… the network kma: HOLDER"
                    let what = String(error.message.dropFirst("sync ".count)).replacingAll(" is locked by ", with: ": ")
                    throw CLIError.locked(.networkLockHeld(what))
                }
                throw CLIError.config(.store(StoreDetail(error)))
            }
        }
    }
}

/// A held cron lock (released when the value goes away).
enum CronLock: Sendable {
    case file(SyncLock)
    case advisory(PostgresAdvisoryLock)
    /// `sync --join`: no lock, the claims alone keep workers apart.
    case none
}

extension CommandContext {
    /// Opens the store named by the configuration: a file path (SQLite, relative to the config
    /// file's folder) or a `postgres://` / `postgresql://` URL. `policy` says whether opening
    /// may migrate it (`leadbridge migrate` always may; a shared PostgreSQL database is only
    /// set up when empty, otherwise left to `leadbridge migrate`).
    /// `backgroundCheckpoints`: a long-running writer (`serve`) copies SQLite's log back on a
    /// thread of its own instead of inside its commits.
    func openLedger(_ config: LeadBridgeConfig, policy: MigrationPolicy? = nil, backgroundCheckpoints: Bool = false) throws(CLIError) -> OpenedStore {
        if let unset = config.unavailableSections[.store] { throw CLIError.located(unset, exit: .configuration) }
        let configPath = config.file.hasPrefix("/") ? config.file : env.currentDirectory + "/" + config.file
        return try openLedger(store: config.store, relativeTo: URL(fileURLWithPath: configPath).deletingLastPathComponent().path,
                              durabilityFull: config.durabilityFull, policy: policy, backgroundCheckpoints: backgroundCheckpoints)
    }

    /// Opens a store value: a file path (SQLite, relative to `folder`) or a PostgreSQL URL.
    func openLedger(store: String, relativeTo folder: String, durabilityFull: Bool = false, policy: MigrationPolicy? = nil,
                    mustExist: Bool = false, backgroundCheckpoints: Bool = false) throws(CLIError) -> OpenedStore {
        if PostgresLocation.isPostgres(store) {
            do throws(StoreError) {
                let location = try PostgresLocation(store, environment: env.variables, applicationName: applicationName)
                return OpenedStore(backend: .postgres(try PostgresLeadStore(location: location, synchronousFull: durabilityFull,
                                                                             policy: policy ?? .createOnly)))
            } catch {
                throw CLIError.config(.store(StoreDetail(error)))
            }
        }
        let path = store.hasPrefix("/") ? store : URL(fileURLWithPath: folder).appendingPathComponent(store).standardizedFileURL.path
        if mustExist && !FileManager.default.fileExists(atPath: path) { throw CLIError.config(.store(.problem(.noSuchFile(path: path)))) }
        do { return OpenedStore(backend: .sqlite(try SQLiteLeadStore(path: path, synchronousFull: durabilityFull, policy: policy ?? .apply,
                                                                                   backgroundCheckpoints: backgroundCheckpoints))) } catch {
            throw CLIError.config(.store(StoreDetail(error)))
        }
    }

    /// What a database administrator sees for our connections (`pg_stat_activity`), and what
    /// another `sync` names as the holder of a lock.
    var applicationName: String {
        "leadbridge \(command.name) on \(ProcessInfo.processInfo.hostName) pid \(getpid())"
    }
}
