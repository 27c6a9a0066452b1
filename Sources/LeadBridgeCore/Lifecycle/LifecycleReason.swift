/// Why the lifecycle refused an event, or what an unusual move means: a typed reason with its
/// parameters, recorded in the lead's journal and worded by the edges in the user's language
/// (Core holds no sentences). `code` and `arguments` are its stable, language-free form: what
/// the ledger stores and `--json` shows beside the English wording.
public enum LifecycleReason: Sendable, Hashable {
    /// A sentence without parameters (most notes of the transition table and status rules).
    case note(LifecycleNote)
    /// A refusal that names the lead's state.
    case inState(LifecycleStateNote, SendState)
    /// A status reported by another network than the lead's own.
    case otherNetwork(reporter: String, network: String)
    /// The status rules: a final status never goes back to pending.
    case finalNeverPending(from: Bucket)
    /// The status rules: approved → cancelled / trash only where the network does chargebacks.
    case needsChargebacks(to: Bucket)
    /// The network answered with an external id that another order already has.
    case externalIdTaken(externalId: String, order: String)
    /// The lead was submitted again while in the ledger (not queued again without `--resend`).
    case alreadyInLedger(SendState)
    /// The transition table has no row (a test shows it never happens).
    case noRule(LifecycleEventKind, SendState)
    /// The status rules have no row (a test shows it never happens).
    case noStatusRule(from: Bucket?, to: Bucket)
    /// Given up after this many attempts; the last error as it was kept (a network's message).
    case parked(attempts: Int, lastError: String)
    /// The reported status was refused by the status rules while the event itself moved the lead.
    indirect case statusRefused(LifecycleReason)

    /// The reason's stable code (kebab-case; the sentence's identity in every language).
    public var code: String {
        switch self {
        case .note(let n): return n.rawValue
        case .inState(let n, _): return n.rawValue
        case .otherNetwork: return "other-network"
        case .finalNeverPending: return "final-never-pending"
        case .needsChargebacks: return "needs-chargebacks"
        case .externalIdTaken: return "external-id-taken"
        case .alreadyInLedger: return "already-in-ledger"
        case .noRule: return "no-rule"
        case .noStatusRule: return "no-status-rule"
        case .parked: return "parked"
        case .statusRefused(let r): return "status-refused " + r.code
        }
    }

    /// The parameters, in the order `init(code:arguments:)` reads them.
    public var arguments: [String] {
        switch self {
        case .note: return []
        case .inState(_, let s), .alreadyInLedger(let s): return [s.rawValue]
        case .otherNetwork(let reporter, let network): return [reporter, network]
        case .finalNeverPending(let b), .needsChargebacks(let b): return [b.rawValue]
        case .externalIdTaken(let id, let order): return [id, order]
        case .noRule(let e, let s): return [e.rawValue, s.rawValue]
        case .noStatusRule(let from, let to): return [from?.rawValue ?? "", to.rawValue]
        case .parked(let n, let last): return [String(n), last]
        case .statusRefused(let r): return r.arguments
        }
    }

    /// The reason of a stable code and its parameters; nil when they name none.
    public init?(code: String, arguments a: [String]) {
        if code.hasPrefix("status-refused ") {
            guard let inner = LifecycleReason(code: String(code.dropFirst("status-refused ".count)), arguments: a) else { return nil }
            self = .statusRefused(inner)
            return
        }
        if let n = LifecycleNote(rawValue: code) {
            guard a.isEmpty else { return nil }
            self = .note(n)
            return
        }
        if let n = LifecycleStateNote(rawValue: code) {
            guard a.count == 1, let s = SendState(rawValue: a[0]) else { return nil }
            self = .inState(n, s)
            return
        }
        switch (code, a.count) {
        case ("other-network", 2): self = .otherNetwork(reporter: a[0], network: a[1])
        case ("final-never-pending", 1): guard let b = Bucket(rawValue: a[0]) else { return nil }; self = .finalNeverPending(from: b)
        case ("needs-chargebacks", 1): guard let b = Bucket(rawValue: a[0]) else { return nil }; self = .needsChargebacks(to: b)
        case ("external-id-taken", 2): self = .externalIdTaken(externalId: a[0], order: a[1])
        case ("already-in-ledger", 1): guard let s = SendState(rawValue: a[0]) else { return nil }; self = .alreadyInLedger(s)
        case ("no-rule", 2):
            guard let e = LifecycleEventKind(rawValue: a[0]), let s = SendState(rawValue: a[1]) else { return nil }
            self = .noRule(e, s)
        case ("no-status-rule", 2):
            guard let to = Bucket(rawValue: a[1]), a[0].isEmpty || Bucket(rawValue: a[0]) != nil else { return nil }
            self = .noStatusRule(from: Bucket(rawValue: a[0]), to: to)
        case ("parked", 2): guard let n = Int(a[0]) else { return nil }; self = .parked(attempts: n, lastError: a[1])
        default: return nil
        }
    }
}

/// The lifecycle's sentences without parameters, by stable code.
public enum LifecycleNote: String, Sendable, Hashable, CaseIterable {
    // the transition table
    case duplicateResendKeepsAccepted = "duplicate-resend-keeps-accepted"
    case duplicateOfOwnAttempt = "duplicate-of-own-attempt"
    case rejectedResendKeepsAccepted = "rejected-resend-keeps-accepted"
    case lateAccountError = "late-account-error"
    case lateRejected = "late-rejected"
    case accountIsWrong = "account-is-wrong"
    case lateNotReceived = "late-not-received"
    case resendGaveUp = "resend-gave-up"
    case networkHoldsIt = "network-holds-it"
    case dedupeSafeToResend = "dedupe-safe-to-resend"
    case mayHaveReached = "may-have-reached"
    case releasedBeforeWrite = "released-before-write"
    case interruptedResend = "interrupted-resend"
    case interruptedDedupe = "interrupted-dedupe"
    case interruptedWhileSending = "interrupted-while-sending"
    case networkReportsOnIt = "network-reports-on-it"
    case resentOnPurpose = "resent-on-purpose"
    case foundAtNetwork = "found-at-network"
    case notAtNetwork = "not-at-network"
    // the status rules
    case repeated = "repeat"
    case firstFinalWordStays = "first-final-word-stays"
    case newWordOrDetail = "new-word-or-detail"
    case chargeback = "chargeback"
}

/// The lifecycle's refusals that name the lead's state, by stable code.
public enum LifecycleStateNote: String, Sendable, Hashable, CaseIterable {
    case notDue = "not-due"
    case claimLost = "claim-lost"
    case nothingInFlight = "nothing-in-flight"
    case beingSent = "being-sent"
    case onlyUncertainSettled = "only-uncertain-settled"
}

/// The note a row of the transition table or the status rules gives, before the event's
/// values (the lead's state, the networks, the buckets) are known.
public enum LifecycleNoteTemplate: Sendable, Hashable {
    case note(LifecycleNote)
    case inState(LifecycleStateNote)
    case otherNetwork
    case finalNeverPending
    case needsChargebacks

    /// The reason with the values of this event.
    func reason(state: SendState, network: String, reporter: String?, from: Bucket?, to: Bucket?) -> LifecycleReason {
        switch self {
        case .note(let n): return .note(n)
        case .inState(let n): return .inState(n, state)
        case .otherNetwork: return .otherNetwork(reporter: reporter ?? "", network: network)
        case .finalNeverPending: return .finalNeverPending(from: from ?? .pending)
        case .needsChargebacks: return .needsChargebacks(to: to ?? .cancelled)
        }
    }

    /// The template's code (the note column of docs/lifecycle.md): its reasons' code, whatever the values.
    public var code: String { reason(state: .queued, network: "", reporter: nil, from: nil, to: nil).code }
}

/// How a journal note is kept in the ledger's one `note` column: a lifecycle reason as
/// `lifecycle:` + its code and percent-encoded arguments, a send failure of ours as `send:` +
/// its code and arguments (`SendFailure.stored`), any other text (a network's message, a note
/// written before reasons were typed) as it is. Text that happens to begin with a marker (after
/// any spaces) is kept behind one more space, so nothing a network says can pass for a word of ours.
public enum StoredNote {
    static let marker = "lifecycle:"

    /// The column's text for a journal entry's reason, failure or free text.
    public static func encode(reason: LifecycleReason?, failure: SendFailure? = nil, text: String?) -> String? {
        if let reason {
            return ([marker + reason.code.replacingAll(" ", with: "/")] + reason.arguments.map(escape)).joined(separator: " ")
        }
        if let stored = failure?.stored() { return stored }
        guard let text = text ?? failure?.english else { return nil }
        return looksLikeOurs(text) ? " " + text : text
    }

    /// Text that would read as a stored reason or failure (a marker after any spaces): kept
    /// behind one more space.
    static func looksLikeOurs(_ text: String) -> Bool {
        let t = text.drop { $0 == " " }
        return t.hasPrefix(marker) || t.hasPrefix(SendFailure.marker)
    }

    /// The reason, the failure or the free text of a column's text (a note of an older ledger
    /// is text, shown as it was written).
    public static func decode(_ stored: String?) -> (reason: LifecycleReason?, failure: SendFailure?, text: String?) {
        guard let stored else { return (nil, nil, nil) }
        if stored.hasPrefix(" ") && looksLikeOurs(stored) { return (nil, nil, String(stored.dropFirst())) }
        if let failure = SendFailure.decode(stored) { return (nil, failure, nil) }
        guard stored.hasPrefix(marker) else { return (nil, nil, stored) }
        let words = stored.dropFirst(marker.count).split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        guard let code = words.first, let reason = LifecycleReason(code: code.replacingAll("/", with: " "), arguments: words.dropFirst().map(unescape)) else {
            return (nil, nil, stored)
        }
        return (reason, nil, nil)
    }

    static let hex = Array("0123456789ABCDEF".utf8)

    /// Percent-encodes what would break the column's words: `%`, space, `/` and control bytes.
    static func escape(_ s: String) -> String {
        var bytes: [UInt8] = []
        for b in s.utf8 {
            if b == UInt8(ascii: "%") || b == UInt8(ascii: " ") || b == UInt8(ascii: "/") || b < 0x20 || b == 0x7F {
                bytes += [UInt8(ascii: "%"), hex[Int(b >> 4)], hex[Int(b & 0xF)]]
            } else {
                bytes.append(b)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func unescape(_ s: String) -> String {
        let u = Array(s.utf8)
        var bytes: [UInt8] = []
        var i = 0
        while i < u.count {
            if u[i] == UInt8(ascii: "%"), i + 2 < u.count, let h = hex.firstIndex(of: u[i + 1]), let l = hex.firstIndex(of: u[i + 2]) {
                bytes.append(UInt8(h << 4 | l))
                i += 3
            } else {
                bytes.append(u[i])
                i += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
