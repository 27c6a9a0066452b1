/// What the ledger's SQL needs of a connection, whichever the database: statements with `?`
/// parameters (bound, never spliced) and the few clauses the two dialects spell differently.
/// One implementation of the store port runs on both through it.
protocol SQLConnection: SQLRunner {
    var dialect: SQLDialect { get }
    /// Runs several statements and returns each one's rows, in order. PostgreSQL pipelines
    /// them (one round trip for many); SQLite, in process, runs them one by one.
    func queryAll(_ statements: [(sql: String, values: [SQLValue])]) throws(StoreError) -> [[SQLRow]]
}

/// Where SQLite and PostgreSQL differ for the ledger.
enum SQLDialect: Sendable {
    case sqlite, postgres

    /// Appended to a SELECT that must keep its rows for the transaction. SQLite's one writer
    /// (`BEGIN IMMEDIATE`) already holds the whole database.
    var forUpdate: String { self == .postgres ? " FOR UPDATE" : "" }
    /// The same, passing over rows another transaction holds (several workers claim
    /// disjoint windows).
    var forUpdateSkipLocked: String { self == .postgres ? " FOR UPDATE SKIP LOCKED" : "" }

    /// `column` in a term SQLite must not pick an index for: `+column` there (PostgreSQL
    /// plans with statistics, and has no unary plus on text). The due leads' reads filter by
    /// network: with `network = ?` SQLite chose the unique index (network, order_id) — every
    /// lead the network ever had, read and sorted, for each claim window — over the partial
    /// index `leads_due`, which holds only the due leads, in the claim's order.
    func unindexed(_ column: String) -> String { self == .sqlite ? "+" + column : column }

    /// `column IN (…)` for `count` bound values: PostgreSQL takes one array parameter (one
    /// prepared statement whatever the count); SQLite a list of `?`.
    func inList(_ column: String, _ ids: [Int64]) -> (sql: String, values: [SQLValue]) {
        switch self {
        case .postgres:
            return ("\(column) = ANY(CAST(? AS bigint[]))", [.text("{" + ids.map(String.init).joined(separator: ",") + "}")])
        case .sqlite:
            return ("\(column) IN (" + ids.map { _ in "?" }.joined(separator: ", ") + ")", ids.map(SQLValue.int))
        }
    }
}

extension SQLiteConnection: SQLConnection {
    var dialect: SQLDialect { .sqlite }

    func queryAll(_ statements: [(sql: String, values: [SQLValue])]) throws(StoreError) -> [[SQLRow]] {
        var out: [[SQLRow]] = []
        out.reserveCapacity(statements.count)
        for s in statements { out.append(try query(s.sql, s.values)) }
        return out
    }
}

extension PostgresConnection: SQLConnection {
    var dialect: SQLDialect { .postgres }
}
