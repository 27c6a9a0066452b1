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
    /// A late answer while another worker's request for the lead is out (that request decides).
    case anotherSends = "another worker's request is out"

    func holds(_ c: GuardContext) -> Bool {
        switch self {
        case .always: return true
        case .due: return (c.facts.dueAt ?? Int64.max) <= c.now
        case .ownClaim:
            switch c.event {
            case .requestWritten(let owner), .requestNotSent(let owner): return LeadLifecycle.isHeld(c.facts, by: owner)
            default: return false
            }
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
        case .anotherSends:
            guard case .answered(_, _, _, let owner) = c.event, let owner else { return false }
            return c.facts.state == .sending && c.facts.claim?.owner != owner
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
    /// Why (the reason of a refusal, the journal's note of a move; its code is printed in the table).
    public var note: LifecycleNoteTemplate?

    init(_ from: [SendState], _ on: LifecycleEventKind, _ when: LifecycleGuard = .always, _ to: LifecycleTarget, _ actions: [LifecycleAction] = [],
         _ note: LifecycleNoteTemplate? = nil) {
        self.from = from
        self.on = on
        self.when = when
        self.to = to
        self.actions = actions
        self.note = note
    }

    /// The row's note with this event's values (nil: the row gives none).
    func reason(old: LeadFacts, event: LifecycleEvent, policy: LifecyclePolicy) -> LifecycleReason? {
        var reporter: String?
        if case .statusReported(let r) = event { reporter = r.network }
        return note?.reason(state: old.state, network: policy.network, reporter: reporter, from: nil, to: nil)
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
        .init(all, .claimed, .always, .refused, [], .inState(.notDue)),
        .init([.claimed], .requestWritten, .ownClaim, .state(.sending), [.startAttempt]),
        .init(all, .requestWritten, .always, .refused, [], .inState(.claimLost)),
        // marked written ahead of its turn, the pass stopped before its request went out
        .init([.sending], .requestNotSent, .ownClaim, .state(.queued), [.uncountAttempt, .dueNow, .journal(.interrupted)], .note(.releasedBeforeWrite)),
        .init(all, .requestNotSent, .always, .refused, [], .inState(.claimLost)),
        // the answer
        .init(all, .answeredAccepted, .always, .state(.accepted), [.recordAttempt, .hold]),
        .init(all, .answeredDuplicate, .held, .state(.accepted), [.recordAttempt],
              .note(.duplicateResendKeepsAccepted)),
        .init(all, .answeredDuplicate, .reached, .state(.accepted), [.recordAttempt, .hold],
              .note(.duplicateOfOwnAttempt)),
        .init(all, .answeredDuplicate, .always, .state(.duplicate), [.recordAttempt, .markDuplicate]),
        .init(all, .answeredRejected, .held, .state(.accepted), [.recordAttempt],
              .note(.rejectedResendKeepsAccepted)),
        .init(all, .answeredRejected, .anotherSends, .same, [.recordAttempt], .note(.lateRejected)),
        .init(all, .answeredRejected, .always, .state(.rejected), [.recordAttempt, .notifySource(.cancelled)]),
        .init(all, .answeredAccountError, .lateAnswer, .same, [.recordAttempt],
              .note(.lateAccountError)),
        .init(all, .answeredAccountError, .always, .state(.queued), [.recordAttempt, .uncountAttempt, .dueNow],
              .note(.accountIsWrong)),
        .init(all, .failedNotReceived, .lateAnswer, .same, [.recordAttempt],
              .note(.lateNotReceived)),
        .init(all, .failedNotReceived, .attemptsLeft, .state(.queued), [.recordAttempt, .retryLater]),
        .init(all, .failedNotReceived, .held, .state(.accepted), [.recordAttempt], .note(.resendGaveUp)),
        .init(all, .failedNotReceived, .always, .state(.parked), [.recordAttempt, .park, .notifySource(.cancelled)]),
        .init(all, .failedMaybeReceived, .held, .state(.accepted), [.recordAttempt, .markReached], .note(.networkHoldsIt)),
        .init(all, .failedMaybeReceived, .dedupeAttemptsLeft, .state(.queued), [.recordAttempt, .markReached, .retryLater],
              .note(.dedupeSafeToResend)),
        .init(all, .failedMaybeReceived, .always, .state(.uncertain), [.recordAttempt, .markReached],
              .note(.mayHaveReached)),
        // a worker that vanished
        .init([.claimed], .interrupted, .always, .state(.queued), [.dueNow, .journal(.interrupted)], .note(.releasedBeforeWrite)),
        .init([.sending], .interrupted, .held, .state(.accepted), [.markReached, .journal(.interrupted)], .note(.interruptedResend)),
        .init([.sending], .interrupted, .dedupe, .state(.queued), [.markReached, .dueNow, .journal(.interrupted)],
              .note(.interruptedDedupe)),
        .init([.sending], .interrupted, .always, .state(.uncertain), [.markReached, .journal(.interrupted)],
              .note(.interruptedWhileSending)),
        .init(all, .interrupted, .always, .refused, [], .inState(.nothingInFlight)),
        // statuses
        .init(all, .statusReported, .otherNetwork, .refused, [], .otherNetwork),
        .init(undelivered, .statusReported, .notHeld, .state(.accepted), [.hold, .applyStatus], .note(.networkReportsOnIt)),
        .init(all, .statusReported, .always, .same, [.applyStatus]),
        // the operator
        .init(inFlight, .resendRequested, .always, .refused, [], .inState(.beingSent)),
        .init(notInFlight, .resendRequested, .always, .state(.queued), [.newRound, .dueNow, .journal(.resend)], .note(.resentOnPurpose)),
        .init([.uncertain], .settledAccepted, .always, .state(.accepted), [.hold, .journal(.settled)], .note(.foundAtNetwork)),
        .init(all, .settledAccepted, .always, .refused, [], .inState(.onlyUncertainSettled)),
        .init([.uncertain], .settledNotSent, .always, .state(.queued), [.forgetReach, .newRound, .dueNow, .journal(.settled)],
              .note(.notAtNetwork)),
        .init(all, .settledNotSent, .always, .refused, [], .inState(.onlyUncertainSettled)),
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
    public var note: LifecycleNoteTemplate?

    init(_ from: StatusMatch, _ to: StatusMatch, _ when: StatusGuard = .always, _ result: StatusResult, _ note: LifecycleNoteTemplate? = nil) {
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

    /// The rule's note with these statuses (nil: the rule gives none).
    func reason(current: LeadStatus?, next: LeadStatus) -> LifecycleReason? {
        note?.reason(state: .accepted, network: "", reporter: nil, from: current?.bucket, to: next.bucket)
    }
}

extension LeadLifecycle {
    /// The status rules (the second table of docs/lifecycle.md). The first matching row decides.
    public static let statusRules: [StatusRule] = [
        .init(.none, .any, .always, .change),
        .init(.sameBucket, .sameBucket, .sameWordAndDetail, .unchanged, .note(.repeated)),
        .init(.final, .sameBucket, .otherWord, .unchanged, .note(.firstFinalWordStays)),
        .init(.sameBucket, .sameBucket, .always, .change, .note(.newWordOrDetail)),
        .init(.final, .pending, .always, .refused, .finalNeverPending),
        .init(.approved, .cancelledOrTrash, .chargebacks, .change, .note(.chargeback)),
        .init(.approved, .cancelledOrTrash, .always, .refused, .needsChargebacks),
        .init(.any, .otherBucket, .always, .change),
    ]
}
