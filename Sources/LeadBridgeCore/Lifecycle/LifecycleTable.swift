/// Where a row of the transition table leads.
public enum LifecycleTarget: Sendable, Hashable {
    case state(SendState)
    /// The state stays (the status may still change).
    case same
    /// The event is refused: the lead stays as it is and an audit entry says why.
    case refused

    public var text: String {
        switch self {
        case .state(let s): return s.rawValue
        case .same: return "(same)"
        case .refused: return "(refused)"
        }
    }
}

/// A condition a row of the transition table needs besides the state and the event.
public enum LifecycleGuard: String, Sendable, Hashable, CaseIterable {
    case always = ""
    /// The lead's due time has come.
    case due = "due"
    /// The claim is the worker's own.
    case ownClaim = "own claim"
    /// The network acknowledged the lead before (a resend is under way).
    case held = "network holds it"
    /// An earlier attempt may have reached the network, or it holds the lead.
    case reached = "an earlier attempt may have reached it"
    /// The network did not acknowledge the lead yet.
    case notHeld = "not yet held"
    case attemptsLeft = "attempts left"
    /// The spec says the network refuses a repeated order id, and attempts are left.
    case dedupeAttemptsLeft = "dedupe, attempts left"
    case dedupe = "dedupe"
    /// The report comes from a network the lead was not sent to.
    case otherNetwork = "another network"
    /// The answer is not to the request in flight now (the lead is not being sent, or another
    /// worker holds it): its worker's claim was given up before it came.
    case lateAnswer = "a late answer"

    func holds(_ c: GuardContext) -> Bool {
        switch self {
        case .always: return true
        case .due: return (c.facts.dueAt ?? Int64.max) <= c.now
        case .ownClaim:
            if case .requestWritten(let owner) = c.event { return c.facts.claim?.owner == owner }
            return false
        case .held: return c.facts.reach == .held
        case .reached: return c.facts.reach != .none
        case .notHeld: return c.facts.reach != .held
        case .attemptsLeft: return c.facts.attempts < c.policy.retry.maxAttempts
        case .dedupeAttemptsLeft: return c.policy.dedupe && c.facts.attempts < c.policy.retry.maxAttempts
        case .dedupe: return c.policy.dedupe
        case .otherNetwork:
            if case .statusReported(let r) = c.event { return r.network != c.policy.network }
            return false
        case .lateAnswer:
            guard case .answered(_, _, _, let owner) = c.event else { return false }
            return c.facts.state != .sending || (owner != nil && c.facts.claim?.owner != owner)
        }
    }
}

/// What the guards look at.
struct GuardContext {
    var facts: LeadFacts
    var event: LifecycleEvent
    var policy: LifecyclePolicy
    var now: Int64
}

/// A step a row of the transition table takes (besides moving the state).
public enum LifecycleAction: Sendable, Hashable {
    /// Keep the worker's claim (owner and lease).
    case holdClaim
    /// Count an attempt and send the request.
    case startAttempt
    /// Journal the attempt with its outcome, HTTP status and duration.
    case recordAttempt
    /// The network holds the lead: it is polled, never sent again by itself; status `pending`
    /// if it had none.
    case hold
    /// An attempt may have reached the network.
    case markReached
    /// Due again after the retry policy's delay (`Retry-After` wins).
    case retryLater
    case dueNow
    case park
    /// A new round of attempts (resend, settled as not sent).
    case newRound
    /// The attempt does not count towards parking (the account was wrong, not the lead).
    case uncountAttempt
    /// The lead's traffic source hears of this bucket without a status change: a lead the
    /// network refused or we gave up on is `cancelled` for it ("could not be processed").
    case notifySource(Bucket)
    /// Forget that an attempt may have arrived (the operator checked: it did not).
    case forgetReach
    /// The network's duplicate answer: status trash (detail duplicate) unless it has a better one.
    case markDuplicate
    /// The status rules decide the reported status (and keep payout, currency, comment).
    case applyStatus
    /// The journal entry is of this kind.
    case journal(JournalKind)

    public var text: String {
        switch self {
        case .holdClaim: return "keep claim"
        case .startAttempt: return "count attempt, send"
        case .recordAttempt: return "record attempt"
        case .hold: return "held (poll)"
        case .markReached: return "may have reached"
        case .retryLater: return "retry at T"
        case .dueNow: return "due now"
        case .park: return "park"
        case .newRound: return "new round"
        case .uncountAttempt: return "attempt not counted"
        case .notifySource(let b): return "source hears \(b.rawValue)"
        case .forgetReach: return "forget reach"
        case .markDuplicate: return "status trash (duplicate)"
        case .applyStatus: return "status rules"
        case .journal(let k): return "journal \(k.rawValue)"
        }
    }
}

/// One row of the transition table: in these states, on this event, when the guard holds, the
/// lead goes there and these actions happen. The first matching row decides.
public struct LifecycleTransition: Sendable, Hashable {
    public var from: [SendState]
    public var on: LifecycleEventKind
    public var when: LifecycleGuard
    public var to: LifecycleTarget
    public var actions: [LifecycleAction]
    /// Why (printed in the table; the reason of a refusal).
    public var note: String

    init(_ from: [SendState], _ on: LifecycleEventKind, _ when: LifecycleGuard = .always, _ to: LifecycleTarget, _ actions: [LifecycleAction] = [],
         _ note: String = "") {
        self.from = from
        self.on = on
        self.when = when
        self.to = to
        self.actions = actions
        self.note = note
    }

    func reason(old: LeadFacts, event: LifecycleEvent, policy: LifecyclePolicy) -> String {
        var text = note.replacingAll("{state}", with: old.state.rawValue).replacingAll("{network}", with: policy.network)
        if case .statusReported(let r) = event { text = text.replacingAll("{reporter}", with: r.network) }
        return text
    }
}

extension LeadLifecycle {
    static let all = SendState.allCases
    static let inFlight: [SendState] = [.claimed, .sending]
    static let notInFlight = all.filter { !inFlight.contains($0) }
    /// States in which the network has not told us it has the lead.
    static let undelivered: [SendState] = [.queued, .claimed, .sending, .uncertain, .parked]

    /// The transition table: the single source of the lifecycle's rules (docs/lifecycle.md is
    /// rendered from it and golden-tested).
    public static let transitions: [LifecycleTransition] = [
        // taking a lead and sending it
        .init([.queued], .claimed, .due, .state(.claimed), [.holdClaim]),
        .init(all, .claimed, .always, .refused, [], "not due for sending ({state})"),
        .init([.claimed], .requestWritten, .ownClaim, .state(.sending), [.startAttempt]),
        .init(all, .requestWritten, .always, .refused, [], "the claim was lost ({state}): not sent"),
        // the answer
        .init(all, .answeredAccepted, .always, .state(.accepted), [.recordAttempt, .hold]),
        .init(all, .answeredDuplicate, .held, .state(.accepted), [.recordAttempt],
              "the network already holds this lead: a duplicate answer to a resend keeps it accepted"),
        .init(all, .answeredDuplicate, .reached, .state(.accepted), [.recordAttempt, .hold],
              "duplicate of our own earlier attempt, which reached the network"),
        .init(all, .answeredDuplicate, .always, .state(.duplicate), [.recordAttempt, .markDuplicate]),
        .init(all, .answeredRejected, .held, .state(.accepted), [.recordAttempt],
              "the network already holds this lead: a rejected resend keeps it accepted"),
        .init(all, .answeredRejected, .always, .state(.rejected), [.recordAttempt, .notifySource(.cancelled)]),
        .init(all, .answeredAccountError, .lateAnswer, .same, [.recordAttempt],
              "a late answer to an earlier attempt: the account is wrong, and the lead stays as it is (another attempt may be out)"),
        .init(all, .answeredAccountError, .always, .state(.queued), [.recordAttempt, .uncountAttempt, .dueNow],
              "the account is wrong, not the lead: it waits in the queue until the account is fixed"),
        .init(all, .failedNotReceived, .lateAnswer, .same, [.recordAttempt],
              "a late answer to an earlier attempt: that one did not arrive, another may have; the lead stays as it is"),
        .init(all, .failedNotReceived, .attemptsLeft, .state(.queued), [.recordAttempt, .retryLater]),
        .init(all, .failedNotReceived, .held, .state(.accepted), [.recordAttempt], "the resend gave up; the network still holds the lead"),
        .init(all, .failedNotReceived, .always, .state(.parked), [.recordAttempt, .park, .notifySource(.cancelled)]),
        .init(all, .failedMaybeReceived, .held, .state(.accepted), [.recordAttempt, .markReached], "the network already holds this lead"),
        .init(all, .failedMaybeReceived, .dedupeAttemptsLeft, .state(.queued), [.recordAttempt, .markReached, .retryLater],
              "the network refuses a repeated order id: safe to send again"),
        .init(all, .failedMaybeReceived, .always, .state(.uncertain), [.recordAttempt, .markReached],
              "may have reached the network: settled by a poll, its postback, settle or --resend"),
        // a worker that vanished
        .init([.claimed], .interrupted, .always, .state(.queued), [.dueNow, .journal(.interrupted)], "released before the request was written"),
        .init([.sending], .interrupted, .held, .state(.accepted), [.markReached, .journal(.interrupted)], "interrupted resend; the network holds the lead"),
        .init([.sending], .interrupted, .dedupe, .state(.queued), [.markReached, .dueNow, .journal(.interrupted)],
              "interrupted while sending; the network refuses a repeated order id"),
        .init([.sending], .interrupted, .always, .state(.uncertain), [.markReached, .journal(.interrupted)],
              "interrupted while sending: check the network's cabinet, then settle it or resend with --resend"),
        .init(all, .interrupted, .always, .refused, [], "nothing in flight ({state})"),
        // statuses
        .init(all, .statusReported, .otherNetwork, .refused, [], "a status from {reporter} for a lead sent to {network}"),
        .init(undelivered, .statusReported, .notHeld, .state(.accepted), [.hold, .applyStatus], "the network reports on it: it has the lead"),
        .init(all, .statusReported, .always, .same, [.applyStatus]),
        // the operator
        .init(inFlight, .resendRequested, .always, .refused, [], "being sent right now ({state})"),
        .init(notInFlight, .resendRequested, .always, .state(.queued), [.newRound, .dueNow, .journal(.resend)], "resent on purpose"),
        .init([.uncertain], .settledAccepted, .always, .state(.accepted), [.hold, .journal(.settled)], "the operator found it at the network"),
        .init(all, .settledAccepted, .always, .refused, [], "only an uncertain lead is settled ({state})"),
        .init([.uncertain], .settledNotSent, .always, .state(.queued), [.forgetReach, .newRound, .dueNow, .journal(.settled)],
              "the operator found it is not at the network: sent again"),
        .init(all, .settledNotSent, .always, .refused, [], "only an uncertain lead is settled ({state})"),
    ]
}

// MARK: status rules

/// Which statuses a status rule looks at.
public enum StatusMatch: String, Sendable, Hashable, CaseIterable {
    case none = "—"
    case any
    case pending
    case final = "a final one"
    case approved
    case cancelledOrTrash = "cancelled or trash"
    case sameBucket = "the same bucket"
    case otherBucket = "another bucket"
}

/// A condition of a status rule.
public enum StatusGuard: String, Sendable, Hashable, CaseIterable {
    case always = ""
    case sameWordAndDetail = "same word and detail"
    case otherWord = "another word"
    case chargebacks = "network does chargebacks"
}

/// What a status rule decides.
public enum StatusResult: String, Sendable, Hashable, CaseIterable {
    case change, unchanged, refused
}

/// One row of the status rules.
public struct StatusRule: Sendable, Hashable {
    public var from: StatusMatch
    public var to: StatusMatch
    public var when: StatusGuard
    public var result: StatusResult
    public var note: String

    init(_ from: StatusMatch, _ to: StatusMatch, _ when: StatusGuard = .always, _ result: StatusResult, _ note: String = "") {
        self.from = from
        self.to = to
        self.when = when
        self.result = result
        self.note = note
    }

    func matches(_ current: LeadStatus?, _ next: LeadStatus, chargebacks: Bool) -> Bool {
        func match(_ m: StatusMatch, _ s: LeadStatus?, other: LeadStatus?) -> Bool {
            switch m {
            case .none: return s == nil
            case .any: return true
            case .pending: return s?.bucket == .pending
            case .final: return s?.bucket.isFinal == true
            case .approved: return s?.bucket == .approved
            case .cancelledOrTrash: return s?.bucket == .cancelled || s?.bucket == .trash
            case .sameBucket: return s != nil && s?.bucket == other?.bucket
            case .otherBucket: return s != nil && s?.bucket != other?.bucket
            }
        }
        guard match(from, current, other: next), match(to, next, other: current) else { return false }
        let sameWord = (current?.raw ?? "").lowercased() == (next.raw ?? "").lowercased()
        switch when {
        case .always: return true
        case .sameWordAndDetail: return sameWord && current?.detail == next.detail
        case .otherWord: return !sameWord
        case .chargebacks: return chargebacks
        }
    }

    func reason(current: LeadStatus?, next: LeadStatus) -> String {
        note.replacingAll("{from}", with: current?.bucket.rawValue ?? "—").replacingAll("{to}", with: next.bucket.rawValue)
    }
}

extension LeadLifecycle {
    /// The status rules (the second table of docs/lifecycle.md). The first matching row decides.
    public static let statusRules: [StatusRule] = [
        .init(.none, .any, .always, .change),
        .init(.sameBucket, .sameBucket, .sameWordAndDetail, .unchanged, "a repeat"),
        .init(.final, .sameBucket, .otherWord, .unchanged, "the first final word stays"),
        .init(.sameBucket, .sameBucket, .always, .change, "a new word or detail"),
        .init(.final, .pending, .always, .refused, "{from} is final: it never goes back to pending"),
        .init(.approved, .cancelledOrTrash, .chargebacks, .change, "chargeback"),
        .init(.approved, .cancelledOrTrash, .always, .refused, "approved → {to} needs a network that does chargebacks"),
        .init(.any, .otherBucket, .always, .change),
    ]
}
