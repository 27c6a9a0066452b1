import LeadBridgeCore

/// The statements behind `LedgerReports`, in SQL that SQLite and PostgreSQL both run (`?`
/// parameters, no dialect functions), with how their rows are read. Every state, status and
/// outcome word is a bound parameter given by the caller.
enum ReportQueries {
    typealias Statement = (sql: String, values: [SQLValue])

    /// The period as whole UTC days (`day`: `created_at / 86400`, the expression the funnel's
    /// index and the tallies hold), and the network and account.
    /// `byDay: false` says the same with `created_at` itself (from the first day's start to the
    /// end day's start), for an index that holds `created_at`.
    static func periodFilter(_ p: LedgerPeriod, byDay: Bool = true, day: String = "created_at / 86400") -> Statement {
        var sql = byDay ? "\(day) >= ? AND \(day) < ?" : "created_at >= ? AND created_at < ?"
        var values: [SQLValue] = byDay ? [.int(p.firstDay), .int(p.endDay)] : [.int(p.firstDay * 86_400), .int(p.endDay * 86_400)]
        if let n = p.network { sql += " AND network = ?"; values.append(.text(n)) }
        if let a = p.account { sql += " AND account = ?"; values.append(.text(a)) }
        return (sql, values)
    }

    /// SQLite: from `lead_tallies` (kept by triggers, schema 7), in the order of its index.
    /// PostgreSQL: grouped in the order of the index `leads_funnel`: read in index order, no
    /// sorting. The network and account are not in the statement (`leadTallies` keeps their
    /// groups): an equality on the index's first column made SQLite sort and read the leads'
    /// rows (0.5 s over 100,000 leads instead of 0.03 s), and the groups are few.
    static func leadTallies(_ p: LedgerPeriod, _ dialect: SQLDialect) -> Statement {
        var whole = p
        whole.network = nil
        whole.account = nil
        if dialect == .sqlite {
            let f = periodFilter(whole, day: "day")
            return ("""
                SELECT network, account, state, status, day, currency, payout, sum(n) AS n
                FROM lead_tallies WHERE \(f.sql) GROUP BY network, account, state, status, day, currency, payout HAVING sum(n) > 0
                """, f.values)
        }
        let f = periodFilter(whole)
        return ("""
            SELECT network, account, state, status, created_at / 86400 AS day, currency, payout, count(*) AS n
            FROM leads WHERE \(f.sql) GROUP BY network, account, state, status, created_at / 86400, currency, payout
            """, f.values)
    }

    static func leadTally(firstDay: Int64) -> @Sendable (SQLRow) -> LeadTally {
        { r in
            LeadTally(network: r.text("network") ?? "", account: r.text("account") ?? "", day: Int((r.int("day") ?? firstDay) - firstDay),
                      state: r.text("state").flatMap(SendState.init(rawValue:)), status: r.text("status").flatMap(Bucket.init(rawValue:)),
                      currency: r.text("currency"), payout: r.text("payout"), count: Int(r.int("n") ?? 0))
        }
    }

    /// SQLite: from `final_tallies` (kept by triggers, schema 7), its primary key's order.
    /// PostgreSQL: read from the covering index `leads_final` (state, then the creation range);
    /// a filter by whole days would let the planner prefer `leads_funnel` and read every lead's row.
    static func finalTimings(_ p: LedgerPeriod, state: SendState, _ dialect: SQLDialect) -> Statement {
        if dialect == .sqlite {
            let f = periodFilter(p, day: "day")
            return ("""
                SELECT network, account, minutes, sum(n) AS n FROM final_tallies
                WHERE state = ? AND \(f.sql) GROUP BY network, account, minutes HAVING sum(n) > 0
                """, [.text(state.rawValue)] + f.values)
        }
        let f = periodFilter(p, byDay: false)
        return ("""
            SELECT network, account, (final_at - created_at) / 60 AS minutes, count(*) AS n FROM leads
            WHERE state = ? AND final_at IS NOT NULL AND \(f.sql) GROUP BY network, account, (final_at - created_at) / 60
            """, [.text(state.rawValue)] + f.values)
    }

    static func finalTiming(_ r: SQLRow) -> FinalTiming {
        FinalTiming(network: r.text("network") ?? "", account: r.text("account") ?? "", minutes: r.int("minutes") ?? 0, count: Int(r.int("n") ?? 0))
    }

    static func stateTallies(states: [SendState], dueCutoff: Int64) -> Statement {
        ("""
            SELECT network, state, count(*) AS n, min(created_at) AS oldest_created, min(updated_at) AS oldest_updated, min(due_at) AS oldest_due,
              sum(CASE WHEN due_at IS NOT NULL AND due_at <= ? THEN 1 ELSE 0 END) AS overdue
            FROM leads WHERE state IN (\(states.map { _ in "?" }.joined(separator: ", "))) GROUP BY network, state ORDER BY network, state
            """, [.int(dueCutoff)] + states.map { .text($0.rawValue) })
    }

    static func stateTally(_ r: SQLRow) -> StateTally {
        StateTally(network: r.text("network") ?? "", state: r.text("state").flatMap(SendState.init(rawValue:)), count: Int(r.int("n") ?? 0),
                   oldestCreatedAt: r.int("oldest_created"), oldestUpdatedAt: r.int("oldest_updated"), oldestDueAt: r.int("oldest_due"),
                   overdue: Int(r.int("overdue") ?? 0))
    }

    static let outgoingTallies: Statement = ("SELECT state, count(*) AS n, min(next_attempt_at) AS oldest FROM outgoing_postbacks GROUP BY state ORDER BY state", [])

    static func outgoingTally(_ r: SQLRow) -> OutgoingTally {
        OutgoingTally(state: r.text("state").flatMap(OutgoingState.init(rawValue:)), count: Int(r.int("n") ?? 0), oldestNextAttemptAt: r.int("oldest"))
    }

    /// `text` with LIKE's wildcards escaped by `\`.
    static func likeLiteral(_ text: String) -> String {
        var out = ""
        for c in text {
            if c == "%" || c == "_" || c == "\\" { out.append("\\") }
            out.append(c)
        }
        return out
    }

    static func searchLeads(_ s: LeadSearch, columns: String) -> Statement {
        var sql = "SELECT \(columns) FROM leads WHERE 1 = 1"
        var values: [SQLValue] = []
        if let o = s.orderIdPrefix, !o.isEmpty {
            sql += " AND (order_id = ? OR order_id LIKE ? ESCAPE '\\')"
            values += [.text(o), .text(likeLiteral(o) + "%")]
        }
        if let p = s.phoneEnding, !p.isEmpty { sql += " AND phone_digits LIKE ? ESCAPE '\\'"; values.append(.text("%" + likeLiteral(p))) }
        if let n = s.network { sql += " AND network = ?"; values.append(.text(n)) }
        if let a = s.account { sql += " AND account = ?"; values.append(.text(a)) }
        if let b = s.status { sql += " AND status = ?"; values.append(.text(b.rawValue)) }
        if let st = s.state { sql += " AND state = ?"; values.append(.text(st.rawValue)) }
        if let t = s.createdFrom { sql += " AND created_at >= ?"; values.append(.int(t)) }
        if let t = s.createdBefore { sql += " AND created_at < ?"; values.append(.int(t)) }
        if let id = s.beforeRowId { sql += " AND id < ?"; values.append(.int(id)) }
        sql += " ORDER BY id DESC LIMIT ?"
        values.append(.int(Int64(max(0, s.limit))))
        return (sql, values)
    }

    static let latestSyncPasses: Statement = ("SELECT * FROM sync_passes ORDER BY network", [])

    static func syncPass(_ r: SQLRow) -> SyncPassRecord {
        // A stored problem is either typed (`sync:<code> …`) or an older row's English text.
        let stored = r.text("error")
        let problem = SyncProblem.decode(stored)
        var p = SyncPassRecord(network: r.text("network") ?? "", startedAt: r.int("started_at") ?? 0, finishedAt: r.int("finished_at") ?? 0,
                               outcome: r.text("outcome").flatMap(SyncOutcome.init(rawValue:)) ?? .failed,
                               error: problem == nil ? stored : nil, problem: problem,
                               sent: Int(r.int("sent") ?? 0), polled: Int(r.int("polled") ?? 0), changes: Int(r.int("changes") ?? 0))
        p.lastSuccessAt = r.int("last_ok_at")
        p.passes = Int(r.int("passes") ?? 0)
        p.failedPasses = Int(r.int("failed_passes") ?? 0)
        p.totalSeconds = r.int("total_seconds") ?? 0
        return p
    }

    /// One network's pass replaces its previous one; the totals add up.
    static func recordSyncPass(_ p: SyncPassRecord) -> Statement {
        ("""
            INSERT INTO sync_passes (network, started_at, finished_at, outcome, error, sent, polled, changes, last_ok_at, passes, failed_passes, total_seconds)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)
            ON CONFLICT (network) DO UPDATE SET started_at = excluded.started_at, finished_at = excluded.finished_at, outcome = excluded.outcome,
              error = excluded.error, sent = excluded.sent, polled = excluded.polled, changes = excluded.changes,
              last_ok_at = COALESCE(excluded.last_ok_at, sync_passes.last_ok_at), passes = sync_passes.passes + 1,
              failed_passes = sync_passes.failed_passes + excluded.failed_passes, total_seconds = sync_passes.total_seconds + excluded.total_seconds
            """, [.text(p.network), .int(p.startedAt), .int(p.finishedAt), .text(p.outcome.rawValue), .opt(p.storedError),
                  .int(Int64(p.sent)), .int(Int64(p.polled)), .int(Int64(p.changes)), .opt(p.outcome == .ok ? p.finishedAt : nil),
                  .int(p.outcome == .ok ? 0 : 1), .int(p.seconds)])
    }

    static let postbackTallies: Statement = ("SELECT network, result, count(*) AS n FROM raw_postbacks GROUP BY network, result ORDER BY network, result", [])

    static func postbackTally(_ r: SQLRow) -> PostbackTally {
        PostbackTally(network: r.text("network") ?? "", result: r.text("result").flatMap(PostbackResult.init(rawValue:)), count: Int(r.int("n") ?? 0))
    }

    static let attemptTallies: Statement = ("SELECT outcome, count(*) AS n FROM journal WHERE outcome IS NOT NULL GROUP BY outcome ORDER BY outcome", [])

    static func attemptTally(_ r: SQLRow) -> AttemptTally {
        AttemptTally(outcome: r.text("outcome").flatMap(OutcomeKind.init(rawValue:)), count: Int(r.int("n") ?? 0))
    }
}

/// `LedgerReports` implemented once for both stores: `ReportQueries` in read transactions.
extension SQLLedger {
    func rows<T: Sendable>(_ s: ReportQueries.Statement, _ row: @escaping @Sendable (SQLRow) -> T) throws(StoreError) -> [T] {
        try rows({ _ in s }, row)
    }

    /// Rows of a statement written for the connection's dialect.
    func rows<T: Sendable>(_ s: @escaping @Sendable (SQLDialect) -> ReportQueries.Statement, _ row: @escaping @Sendable (SQLRow) -> T) throws(StoreError) -> [T] {
        try read { (c: any SQLConnection) throws(StoreError) in
            let statement = s(c.dialect)
            return try c.query(statement.sql, statement.values).map(row)
        }
    }

    func leadTallies(_ period: LedgerPeriod) throws(StoreError) -> [LeadTally] {
        try rows({ ReportQueries.leadTallies(period, $0) }, ReportQueries.leadTally(firstDay: period.firstDay))
            .filter { t in period.network.map { $0 == t.network } ?? true && period.account.map { $0 == t.account } ?? true }
    }

    func finalTimings(_ period: LedgerPeriod, state: SendState) throws(StoreError) -> [FinalTiming] {
        try rows({ ReportQueries.finalTimings(period, state: state, $0) }, ReportQueries.finalTiming)
    }

    func stateTallies(states: [SendState], dueCutoff: Int64) throws(StoreError) -> [StateTally] {
        guard !states.isEmpty else { return [] }
        return try rows(ReportQueries.stateTallies(states: states, dueCutoff: dueCutoff), ReportQueries.stateTally)
    }

    func outgoingTallies() throws(StoreError) -> [OutgoingTally] { try rows(ReportQueries.outgoingTallies, ReportQueries.outgoingTally) }

    func searchLeads(_ search: LeadSearch) throws(StoreError) -> [LeadRecord] { try rows(ReportQueries.searchLeads(search, columns: Self.columns), Self.record) }

    func latestSyncPasses() throws(StoreError) -> [SyncPassRecord] { try rows(ReportQueries.latestSyncPasses, ReportQueries.syncPass) }

    func postbackTallies() throws(StoreError) -> [PostbackTally] { try rows(ReportQueries.postbackTallies, ReportQueries.postbackTally) }

    func attemptTallies() throws(StoreError) -> [AttemptTally] { try rows(ReportQueries.attemptTallies, ReportQueries.attemptTally) }

    func recordSyncPasses(_ passes: [SyncPassRecord]) throws(StoreError) {
        guard !passes.isEmpty else { return }
        try writeSQL { (c: any SQLConnection) throws(StoreError) in
            for p in passes {
                let s = ReportQueries.recordSyncPass(p)
                try c.run(s.sql, s.values)
            }
        }
    }
}
