/// Something that happens to a lead already in the ledger. (A new lead is `LeadLifecycle.queued`.)
public enum LifecycleEvent: Sendable, Hashable {
    /// A worker takes a due lead (committed before anything is sent).
    case claimed(Claim)
    /// The worker is about to write the request: from here on the network may have the lead.
    case requestWritten(owner: String)
    /// A lead marked written ahead of its turn (a send pass's ready leads) whose request never
    /// went out after all: the pass stopped first. Only its own claim's worker can say so.
    case requestNotSent(owner: String)
    /// The send ended: the network's answer, or a transport failure (an outcome `failed` whose
    /// `receipt` says whether the request can have arrived). `externalIdTakenBy` names another
    /// order that already has the external id the network answered with. `owner` is the
    /// worker that wrote the request: an answer from another than the lead's current claim is
    /// a late answer to an earlier attempt (nil: the current one).
    case answered(SendOutcome, durationMs: Int? = nil, externalIdTakenBy: String? = nil, owner: String? = nil)
    /// The worker holding the lead died or its lease ran out.
    case interrupted
    /// A poll, a postback, a report file or a person gives the lead's status.
    case statusReported(StatusReport)
    /// `send --resend`: send it again on purpose.
    case resendRequested
    /// `settle`: the operator looked in the network's cabinet.
    case settled(SettleAs)

    /// The row of the transition table this event looks up.
    public var kind: LifecycleEventKind {
        switch self {
        case .claimed: return .claimed
        case .requestWritten: return .requestWritten
        case .requestNotSent: return .requestNotSent
        case .answered(let o, _, let taken, _):
            if taken != nil && o.kind == .accepted { return .answeredDuplicate }
            switch o.kind {
            case .accepted: return .answeredAccepted
            case .duplicate: return .answeredDuplicate
            case .rejected: return .answeredRejected
            case .accountError: return .answeredAccountError
            case .failed: return o.receipt == .notReceived ? .failedNotReceived : .failedMaybeReceived
            }
        case .interrupted: return .interrupted
        case .statusReported: return .statusReported
        case .resendRequested: return .resendRequested
        case .settled(.accepted): return .settledAccepted
        case .settled(.notSent): return .settledNotSent
        }
    }
}

/// What the operator found in the network's cabinet.
public enum SettleAs: String, Sendable, Hashable, CaseIterable {
    case accepted
    case notSent = "not-sent"
}

/// The events as the transition table names them.
public enum LifecycleEventKind: String, Sendable, Hashable, CaseIterable {
    case claimed
    case requestWritten = "request written"
    /// A lead marked written before its turn was not sent after all.
    case requestNotSent = "request not sent"
    case answeredAccepted = "answered accepted"
    case answeredDuplicate = "answered duplicate"
    case answeredRejected = "answered rejected"
    /// The network answered that the account is wrong (not the lead).
    case answeredAccountError = "answered account error"
    case failedNotReceived = "failed, not received"
    case failedMaybeReceived = "failed, may have been received"
    case interrupted
    case statusReported = "status reported"
    case resendRequested = "resend requested"
    case settledAccepted = "settled as accepted"
    case settledNotSent = "settled as not sent"
}

/// What the lifecycle needs to know of the lead's network and the retry settings.
public struct LifecyclePolicy: Sendable, Hashable {
    /// The lead's own network: a status from another one is refused.
    public var network: String
    /// The network takes back approvals (approved → cancelled / trash is allowed).
    public var chargebacks: Bool
    /// The network refuses a repeated order id (`"dedupe": "order_id"`): a request that may
    /// have arrived can be sent again without making a second lead.
    public var dedupe: Bool
    public var retry: RetryPolicy
    public init(network: String, chargebacks: Bool = false, dedupe: Bool = false, retry: RetryPolicy = RetryPolicy(maxAttempts: 8, baseDelay: 60, maxDelay: 3840)) {
        self.network = network
        self.chargebacks = chargebacks
        self.dedupe = dedupe
        self.retry = retry
    }
}

/// What the engine must do besides storing the new facts.
public enum LifecycleEffect: Sendable, Hashable {
    /// Write the request now (the claim moved to `sending`).
    case send
    /// Sent again at this time (the lead is queued until then).
    case retry(at: Int64)
    /// Given up after too many attempts; kept for an operator.
    case park(LifecycleReason)
    /// The status bucket changed: reported by `sync --json`.
    case statusChanged(from: Bucket?, to: Bucket, raw: String?)
    /// The lead's traffic source hears of this bucket (outgoing postbacks, in the same
    /// transaction): a new status, or a lead refused or given up (`cancelled`).
    case queueOutgoing(Bucket)
}

/// A fact the lead's row alone carries (no journal line: these happen on every send or poll).
public enum RowFact: String, Sendable, Hashable, CaseIterable {
    case claimed
    case requestWritten = "request written"
    /// A status report repeated what the ledger had.
    case confirmed
}

/// The one ledger fact every event leaves: a journal line, or a fact on the lead's row.
public enum LedgerFact: Sendable, Hashable {
    case journal(JournalEntry)
    case row(RowFact)
}

/// The lifecycle's answer to one event: the lead's new facts, the one fact to record, and
/// what else to do.
public struct LifecycleDecision: Sendable, Hashable {
    public var facts: LeadFacts
    public var fact: LedgerFact
    public var effects: [LifecycleEffect]
    /// The row of the transition table that decided.
    public var transition: LifecycleTransition?

    /// The event was refused (an audit entry with this reason is the fact).
    public var refusal: LifecycleReason? {
        if case .journal(let e) = fact, e.kind == .refused { return e.reason }
        return nil
    }

    public var journal: JournalEntry? {
        if case .journal(let e) = fact { return e }
        return nil
    }

    public var statusChange: (from: Bucket?, to: Bucket, raw: String?)? {
        for e in effects { if case .statusChanged(let f, let t, let r) = e { return (f, t, r) } }
        return nil
    }
}

/// The lead lifecycle: a pure value that takes an event and the lead's facts and returns the
/// new facts, the ledger fact to record and the effects. Every rule of a lead's life is one
/// row of `transitions` or `statusRules` (docs/lifecycle.md is rendered from them). No I/O,
/// no clock: `now` and the jitter come in.
public enum LeadLifecycle {
    /// The facts of a lead entering the ledger: queued, due now.
    public static func queued(at now: Int64, source: EventSource = .intake) -> (facts: LeadFacts, entry: JournalEntry) {
        (LeadFacts(state: .queued, dueAt: now, updatedAt: now),
         JournalEntry(at: now, kind: .queued, source: source, toState: .queued))
    }

    /// What a new lead's entry into the ledger does besides: its traffic source hears that the
    /// order exists (LeadCraft's referral `pending`: "the action is created, not processed yet").
    public static let intakeEffects: [LifecycleEffect] = [.queueOutgoing(.pending)]

    /// A lead that is already in the ledger was submitted again: it stays as it is, and the
    /// refusal is recorded.
    public static func alreadyInLedger(_ facts: LeadFacts, at now: Int64, source: EventSource) -> JournalEntry {
        JournalEntry(at: now, kind: .refused, source: source, fromState: facts.state, toState: facts.state,
                     reason: .alreadyInLedger(facts.state))
    }

    /// The lead is claimed (or being sent) by `owner`: what a worker may give back is only
    /// what it still holds — a lapsed claim may have been recovered and taken by another worker.
    public static func isHeld(_ facts: LeadFacts, by owner: String) -> Bool {
        facts.claim?.owner == owner
    }

    /// A claim whose holder is gone: its lease ran out, or its process is known dead.
    public static func isAbandoned(_ claim: Claim, now: Int64, ownerAlive: Bool?) -> Bool {
        claim.until <= now || ownerAlive == false
    }

    /// The lead's next facts after `event`. `table` and `rules` are the lifecycle's own tables;
    /// the mutation tests pass copies with one row removed to show that every row is needed.
    public static func decide(_ facts: LeadFacts, _ event: LifecycleEvent, policy: LifecyclePolicy, now: Int64, random: Double = 0.5,
                              table: [LifecycleTransition] = transitions, rules: [StatusRule] = statusRules) -> LifecycleDecision {
        let kind = event.kind
        let context = GuardContext(facts: facts, event: event, policy: policy, now: now)
        guard let row = table.first(where: { $0.on == kind && $0.from.contains(facts.state) && $0.when.holds(context) }) else {
            // The table covers every state for every event (a test checks it); this is the
            // safe answer if it ever does not.
            return refuse(facts, event, now: now, reason: .noRule(kind, facts.state), row: nil)
        }
        return apply(row, facts, event, policy: policy, now: now, random: random, rules: rules)
    }

    static func source(_ event: LifecycleEvent) -> EventSource {
        switch event {
        case .claimed, .requestWritten, .requestNotSent, .answered: return .send
        case .interrupted: return .recovery
        case .statusReported(let r): return r.source
        case .resendRequested, .settled: return .operator
        }
    }

    static func refuse(_ facts: LeadFacts, _ event: LifecycleEvent, now: Int64, reason: LifecycleReason, row: LifecycleTransition?) -> LifecycleDecision {
        var entry = JournalEntry(at: now, kind: .refused, source: source(event), fromState: facts.state, toState: facts.state,
                                 fromStatus: facts.status?.bucket, toStatus: facts.status?.bucket, reason: reason)
        if case .statusReported(let r) = event {
            entry.toStatus = r.status.bucket
            entry.raw = r.status.raw
            entry.detail = r.status.detail
        }
        if case .answered(let o, let ms, _, _) = event {
            entry.attempt = AttemptRecord(number: facts.attempts, outcome: o.kind, receipt: o.receipt, httpStatus: o.httpStatus, durationMs: ms)
        }
        return LifecycleDecision(facts: facts, fact: .journal(entry), effects: [], transition: row)
    }

    static func apply(_ row: LifecycleTransition, _ old: LeadFacts, _ event: LifecycleEvent, policy: LifecyclePolicy, now: Int64, random: Double,
                      rules: [StatusRule]) -> LifecycleDecision {
        if row.to == .refused {
            return refuse(old, event, now: now, reason: row.reason(old: old, event: event, policy: policy) ?? .noRule(row.on, old.state), row: row)
        }
        var f = old
        var effects: [LifecycleEffect] = []
        var fact: LedgerFact?
        var kind: JournalKind = .status
        var attempt: AttemptRecord?
        var note: String?
        var failure: SendFailure?
        var reason: LifecycleReason?
        var statusNote: LifecycleReason?
        if case .state(let s) = row.to { f.state = s }
        for action in row.actions {
            switch action {
            case .holdClaim:
                if case .claimed(let c) = event { f.claim = c }
                fact = .row(.claimed)
            case .startAttempt:
                f.attempts += 1
                effects.append(.send)
                fact = .row(.requestWritten)
            case .recordAttempt:
                guard case .answered(let o, let ms, let taken, _) = event else { break }
                kind = .attempt
                attempt = AttemptRecord(number: max(old.attempts, 1), outcome: taken != nil ? .duplicate : o.kind, receipt: o.kind == .failed ? o.receipt : nil,
                                        httpStatus: o.httpStatus, durationMs: ms)
                if let taken, let id = o.externalId {
                    reason = .externalIdTaken(externalId: id, order: taken)
                } else if let f = o.failure {
                    failure = f
                } else {
                    note = o.message
                }
                switch o.kind {
                case .accepted where taken == nil:
                    if let id = o.externalId, !id.isEmpty { f.externalId = id }
                    f.lastError = nil
                default:
                    // The row's last error is text (a network's message, mostly); a reason of
                    // ours is kept there in its stored form.
                    f.lastError = note ?? StoredNote.encode(reason: reason, failure: failure, text: nil) ?? o.kind.rawValue
                }
            case .hold:
                f.reach = .held
                if f.status == nil { f.status = LeadStatus(bucket: .pending, detail: "accepted") }
            case .markReached:
                if f.reach == .none { f.reach = .maybe }
            case .retryLater:
                var retryAfter: Double?
                if case .answered(let o, _, _, _) = event { retryAfter = o.retryAfter }
                let delay = policy.retry.delay(afterAttempt: max(1, f.attempts), retryAfter: retryAfter, random: random)
                let at = now + max(1, Int64(delay.rounded(.up)))
                f.dueAt = at
                effects.append(.retry(at: at))
            case .dueNow:
                f.dueAt = now
            case .park:
                let why = LifecycleReason.parked(attempts: f.attempts, lastError: f.lastError ?? "failed")
                f.lastError = StoredNote.encode(reason: why, text: nil)
                effects.append(.park(why))
            case .newRound:
                f.attempts = 0
                f.lastError = nil
            case .uncountAttempt:
                f.attempts = max(0, f.attempts - 1)
            case .notifySource(let bucket):
                if !effects.contains(.queueOutgoing(bucket)) { effects.append(.queueOutgoing(bucket)) }
            case .forgetReach:
                f.reach = .none
            case .markDuplicate:
                if f.status == nil || f.status?.bucket == .pending { f.status = LeadStatus(bucket: .trash, raw: "duplicate", detail: "duplicate") }
            case .applyStatus:
                guard case .statusReported(let r) = event else { break }
                switch statusDecision(from: old.status, to: r.status, chargebacks: policy.chargebacks, rules: rules) {
                case .change(let n):
                    f.status = r.status
                    statusNote = n
                case .unchanged: break
                case .refused(let why): statusNote = why
                }
                f.payout = r.payout ?? f.payout
                f.currency = r.currency ?? f.currency
                f.comment = r.comment ?? f.comment
                f.reason = r.reason ?? f.reason
                if f.externalId == nil, let e = r.externalId, !e.isEmpty { f.externalId = e }
                if f.state == .accepted { f.lastError = nil }
            case .journal(let k):
                kind = k
            }
        }
        // Bookkeeping every row shares: a claim lives only while claimed or sending, a due time
        // only while queued.
        if f.state != .claimed && f.state != .sending { f.claim = nil }
        if f.state != .queued { f.dueAt = nil }
        f.updatedAt = now
        if f.finalAt == nil, f.status?.bucket.isFinal == true { f.finalAt = now }
        if old.status?.bucket != f.status?.bucket, let to = f.status {
            effects.append(.statusChanged(from: old.status?.bucket, to: to.bucket, raw: to.raw))
            if !effects.contains(.queueOutgoing(to.bucket)) { effects.append(.queueOutgoing(to.bucket)) }
        }
        if fact == nil {
            let statusMoved = old.status != f.status
            if kind == .status && !statusMoved && old.state == f.state {
                if let statusNote, case .statusReported = event {
                    // Nothing moved because the status rules said no: an audit entry.
                    return refuse(old.with(details: f), event, now: now, reason: statusNote, row: row)
                }
                f.confirmedAt = now
                fact = .row(.confirmed)
            } else {
                // One note: the network's message, else the lifecycle's own word on it.
                var entry = JournalEntry(at: now, kind: kind, source: source(event), fromState: old.state, toState: f.state,
                                         fromStatus: old.status?.bucket, toStatus: f.status?.bucket, attempt: attempt, note: note,
                                         reason: note != nil || failure != nil ? nil : reason ?? statusNote ?? row.reason(old: old, event: event, policy: policy))
                entry.failure = failure
                if case .statusReported(let r) = event {
                    entry.toStatus = r.status.bucket
                    entry.raw = r.status.raw
                    entry.detail = r.status.detail
                    if let statusNote, old.status?.bucket != r.status.bucket && f.status == old.status {
                        entry.note = nil
                        entry.reason = .statusRefused(statusNote)
                        entry.toStatus = f.status?.bucket
                    }
                } else if let s = f.status, s != old.status {
                    entry.raw = s.raw
                    entry.detail = s.detail
                }
                fact = .journal(entry)
            }
        }
        return LifecycleDecision(facts: f, fact: fact ?? .row(.confirmed), effects: effects, transition: row)
    }

    // MARK: status rules

    /// What to do with a reported status.
    public enum StatusDecision: Sendable, Hashable {
        /// Record it; `note` explains an unusual move (a chargeback).
        case change(note: LifecycleReason?)
        /// Same as now: nothing moves.
        case unchanged
        /// Not allowed: the lead stays as it is, the refusal is an audit entry.
        case refused(LifecycleReason)
    }

    /// The status rules, looked up in `statusRules`: a final status never goes back to pending;
    /// approved → cancelled/trash only for networks that do chargebacks; a repeat is no change.
    public static func statusDecision(from current: LeadStatus?, to next: LeadStatus, chargebacks: Bool, rules: [StatusRule] = statusRules) -> StatusDecision {
        for rule in rules where rule.matches(current, next, chargebacks: chargebacks) {
            switch rule.result {
            case .change: return .change(note: rule.reason(current: current, next: next))
            case .unchanged: return .unchanged
            case .refused: return .refused(rule.reason(current: current, next: next) ?? .noStatusRule(from: current?.bucket, to: next.bucket))
            }
        }
        // The rules cover every pair (a test checks it); if they ever do not, nothing moves.
        return .refused(.noStatusRule(from: current?.bucket, to: next.bucket))
    }
}

extension LeadFacts {
    /// These facts with the status details (payout, currency, comment, reason, external id) of
    /// `other`: a refused status still keeps what the network said about money.
    func with(details other: LeadFacts) -> LeadFacts {
        var f = self
        f.payout = other.payout
        f.currency = other.currency
        f.comment = other.comment
        f.reason = other.reason
        f.externalId = other.externalId
        return f
    }
}
