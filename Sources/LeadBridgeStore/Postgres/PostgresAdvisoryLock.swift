import FoundationEssentials
import Glibc
import Synchronization

/// Named PostgreSQL session advisory locks (the cron locks of networks, shared by every host
/// of a database), all taken or none. They are held by one connection of their own until
/// `release()`, and the server frees them by itself when the holding process dies or loses
/// its connection, so a crashed `sync` never leaves a stale lock. A lock that is taken
/// reports who holds it.
public final class PostgresAdvisoryLock: Sendable {
    /// The first key of every LeadBridge advisory lock ('LB01'), keeping them apart from
    /// other applications' locks on a shared database; the second is `hashtext(name)`.
    static let namespace: Int32 = 0x4C42_3031
    let connection: Mutex<PostgresConnection?>
    public let names: [String]

    /// Who holds a lock: enough for an operator to find the process.
    public struct Holder: Sendable, CustomStringConvertible {
        public var application: String
        public var client: String
        public var since: String
        public var serverPID: Int
        public var description: String {
            "\(application.isEmpty ? "a PostgreSQL session" : application)" + (client.isEmpty ? "" : " from \(client)")
                + " (server process \(serverPID), connected since \(since))"
        }
    }

    /// Takes the lock or throws `.locked` naming its holder. `applicationName` of `location`
    /// is what other processes will be shown (e.g. `leadbridge sync on host-a pid 123`).
    public convenience init(location: PostgresLocation, name: String) throws(StoreError) {
        try self.init(location: location, names: [name])
    }

    public init(location: PostgresLocation, names: [String]) throws(StoreError) {
        let conn = try PostgresConnection(location: location)
        for name in names {
            let got = try conn.query("SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok", [.int(Int64(Self.namespace)), .text(name)]).first?.int("ok") == 1
            guard got else {
                let holder = try Self.holder(conn, name)
                // Closing the connection frees the locks taken so far.
                throw StoreError(.locked, "\(name) is locked by " + (holder.map(\.description) ?? "another session (it just ended: try again)"))
            }
        }
        self.names = names
        connection = Mutex(conn)
    }

    /// The session holding `name` in this database, if any (advisory locks are per database:
    /// several ledgers on one server never see each other's).
    static func holder(_ conn: PostgresConnection, _ name: String) throws(StoreError) -> Holder? {
        let rows = try conn.query("""
            SELECT coalesce(a.application_name, '') AS app, coalesce(host(a.client_addr), '') AS client,
                   to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS "UTC"') AS since, a.pid AS pid
            FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 AND l.classid = $1::integer::oid AND l.objid = hashtext($2)::oid
              AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
            """, [.int(Int64(namespace)), .text(name)])
        return rows.first.map { r in
            Holder(application: r.text("app") ?? "", client: r.text("client") ?? "", since: r.text("since") ?? "", serverPID: Int(r.int("pid") ?? 0))
        }
    }

    /// True while the holding connection is alive (a lost connection has lost the lock).
    public var isHeld: Bool {
        connection.withLock { conn in
            guard let c = conn, !c.isBroken else { return false }
            return (try? c.query("SELECT 1 AS one")) != nil
        }
    }

    /// Frees the lock now (closing the connection frees it too).
    public func release() {
        connection.withLock { conn in
            if let c = conn, !c.isBroken {
                for name in names { _ = try? c.query("SELECT pg_advisory_unlock($1, hashtext($2))", [.int(Int64(Self.namespace)), .text(name)]) }
            }
            conn = nil
        }
    }

    deinit { release() }
}
