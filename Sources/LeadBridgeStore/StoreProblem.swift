/// What a store failure is, as a value the edges word in the user's language (`StoreError`
/// keeps its English as `message`). Paths, statements and what SQLite, libpq or the server
/// said are data, shown as they came.
public indirect enum StoreProblem: Sendable, Hashable {
    case notADatabase(path: String, detail: String)
    case locked(path: String, what: String)
    case readOnly(path: String, detail: String)
    case cannotOpen(path: String)
    case noWAL(path: String, got: String)
    case noSuchFile(path: String)
    /// The store's schema is newer than this build knows.
    case schemaNewer(store: String, version: Int, name: String, known: Int)
    /// The store's schema is older than this build needs, and this command does not migrate.
    case schemaOlder(store: String, version: Int, needed: Int)
    case migrationFailed(version: Int, name: String, inner: StoreProblem?, detail: String)
    case notPostgresURL
    case postgresURLInvalid(detail: String)
    case postgresUnreachable(location: String, detail: String)
    /// The connection broke during a statement; `detail` nil when the server said nothing.
    case postgresLost(location: String, what: String, detail: String?)
    /// The connection broke around a commit: it may or may not have been applied.
    case commitUnknown(inner: StoreProblem?, detail: String)
    case copyBetweenKinds

    /// The stable English sentence (`StoreError.message`, logs).
    public var english: String {
        switch self {
        case .notADatabase(let p, let d):
            return "\(p) is not a LeadBridge database or is corrupt (\(d)); restore it from a backup or point \"store\" at a new file"
        case .locked(let p, let w): return "\(p) is locked by another process (\(w)); try again when it finishes"
        case .readOnly(let p, let d): return "\(p) is read-only (\(d))"
        case .cannotOpen(let p): return "cannot open \(p)"
        case .noWAL(let p, let got): return "\(p): cannot switch to WAL mode (got \(got))"
        case .noSuchFile(let p): return "no such file \(p)"
        case .schemaNewer(let s, let v, let n, let k):
            return "\(s) has schema version \(v) (\"\(n)\"), newer than this leadbridge knows (\(k)): upgrade leadbridge on this host"
        case .schemaOlder(let s, let v, let n): return "\(s) has schema version \(v), this leadbridge needs \(n): run 'leadbridge migrate' (once, from one host)"
        case .migrationFailed(let v, let n, let inner, let d): return "migration \(v) (\(n)) failed: \(inner?.english ?? d)"
        case .notPostgresURL: return "not a PostgreSQL URL (it must start with postgres:// or postgresql://)"
        case .postgresURLInvalid(let d): return "the PostgreSQL URL in \"store\" is not valid: \(d)"
        case .postgresUnreachable(let l, let d): return "cannot connect to PostgreSQL \(l): \(d)"
        case .postgresLost(let l, let w, let d): return "lost the connection to PostgreSQL \(l) (\(w)): \(d ?? "server closed the connection")"
        case .commitUnknown(let inner, let d): return (inner?.english ?? d) + "; the last commit may or may not have been applied"
        case .copyBetweenKinds: return "copy-store works between SQLite and PostgreSQL stores"
        }
    }

    /// One example of every problem (the wording test walks it).
    public static let examples: [StoreProblem] = [
        .notADatabase(path: "/srv/ledger.sqlite", detail: "file is not a database"), .locked(path: "/srv/ledger.sqlite", what: "BEGIN IMMEDIATE"),
        .readOnly(path: "/srv/ledger.sqlite", detail: "attempt to write a readonly database"), .cannotOpen(path: "/srv/ledger.sqlite"),
        .noWAL(path: "/srv/ledger.sqlite", got: "delete"), .noSuchFile(path: "/srv/old.sqlite"),
        .schemaNewer(store: "/srv/ledger.sqlite", version: 9, name: "tallies", known: 7), .schemaOlder(store: "/srv/ledger.sqlite", version: 5, needed: 7),
        .migrationFailed(version: 6, name: "final-at", inner: .readOnly(path: "/srv/ledger.sqlite", detail: "attempt to write a readonly database"), detail: ""),
        .notPostgresURL, .postgresURLInvalid(detail: "invalid URI query parameter: \"sslmod\""),
        .postgresUnreachable(location: "postgresql://lb@127.0.0.1:5432/lb", detail: "Connection refused"),
        .postgresLost(location: "postgresql://lb@127.0.0.1:5432/lb", what: "INSERT INTO leads", detail: nil),
        .commitUnknown(inner: .postgresLost(location: "postgresql://lb@127.0.0.1:5432/lb", what: "COMMIT", detail: "terminating connection"), detail: ""),
        .copyBetweenKinds,
    ]
}
