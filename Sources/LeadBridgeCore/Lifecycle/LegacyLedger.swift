/// How a ledger written before the lifecycle moved to Core (schema 4: a send state and an
/// outbox state kept in step, no reach) reads in today's facts. Used once, by the migration.
public enum LegacyLedger {
    /// The facts of one old lead row. An old `sending` lead had its request out: it keeps a
    /// claim that has already lapsed, so the next recovery makes it `uncertain`, as before.
    public static func facts(sendState: String, nextAttemptAt: Int64?, claimedAt: Int64?, status: LeadStatus?, externalId: String?, attempts: Int,
                             lastError: String?, payout: String?, currency: String?, comment: String?, reason: String?, updatedAt: Int64) -> LeadFacts {
        let state = SendState(rawValue: sendState) ?? .parked
        var f = LeadFacts(state: state, status: status, externalId: externalId, attempts: attempts, lastError: lastError, payout: payout,
                          currency: currency, comment: comment, reason: reason, updatedAt: updatedAt)
        if SendState(rawValue: sendState) == nil { f.lastError = "unknown send state \"\(sendState.prefix(40))\" in the old ledger" }
        switch state {
        case .accepted: f.reach = .held
        case .uncertain: f.reach = .maybe
        case .sending:
            f.reach = .maybe
            f.claim = Claim(owner: "schema-4", until: claimedAt ?? 0)
        case .queued: f.dueAt = nextAttemptAt ?? updatedAt
        case .claimed, .duplicate, .rejected, .parked: break
        }
        return f
    }

    /// The source of an old history row (`manual` was the operator).
    public static func source(_ word: String) -> EventSource {
        EventSource(rawValue: word) ?? .operator
    }

    /// An old status-history row as a journal entry.
    public static func statusEntry(at: Int64, source: String, from: String?, to: String, raw: String?, detail: String?, note: String?) -> JournalEntry {
        JournalEntry(at: at, kind: .status, source: Self.source(source), fromStatus: from.flatMap(Bucket.init(rawValue:)), toStatus: Bucket(rawValue: to),
                     raw: raw, detail: detail, note: note)
    }

    /// An old send-attempt row as a journal entry.
    public static func attemptEntry(at: Int64, attempt: Int, outcome: String, httpStatus: Int?, message: String?) -> JournalEntry {
        let kind = OutcomeKind(rawValue: outcome) ?? .failed
        return JournalEntry(at: at, kind: .attempt, source: .send, attempt: AttemptRecord(number: attempt, outcome: kind, httpStatus: httpStatus), note: message)
    }
}
