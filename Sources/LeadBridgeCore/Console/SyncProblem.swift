/// Why a network's part of a sync pass failed, as a value: `sync`, `status` and the console word
/// it in the user's language; `english` is the stable text of `sync --json`'s and `status
/// --json`'s `error`. The ledger keeps it as its code and values (`stored`), so a pass recorded
/// once reads in either language; an older ledger's English text is shown as it was written.
/// What a network or a lower layer said is kept as it came (data, not a sentence of ours).
public enum SyncProblem: Sendable, Hashable {
    /// Leads are queued for a network whose spec cannot send.
    case noSendSpec(network: String)
    /// A lead's account is not in the configuration.
    case accountNotConfigured(account: String)
    /// A lead's account is in the configuration but needs environment variables that are unset.
    case accountUnavailable(account: String, unset: [String])
    /// The network calls the account wrong: the leads wait in the queue.
    case accountRefused(account: String, message: String?)
    /// No send of the pass got an answer (they are retried).
    case everySendFailed
    /// The poll request could not be built from the spec (as text: an older ledger's, or a
    /// problem without a stored form).
    case pollRequestUnbuildable(String)
    /// The poll request could not be built from the spec.
    case pollRequestInvalid(DiagnosticMessage)
    /// The poll got no complete HTTP answer.
    case pollUnreached(TransportFailureKind, TransportProblem)
    /// The poll failed: the transport's or the network's message (data).
    case pollFailed(String)
    /// The poll's answer could not be read by the spec (not `.said`: that is `pollFailed`).
    case pollAnswer(PollFailure)

    public var english: String {
        switch self {
        case .noSendSpec(let n): return "no spec with a send block for \(n)"
        case .accountNotConfigured(let a): return "account \(a) is not in the configuration"
        case .accountUnavailable(let a, let unset):
            return "account \(a): " + unset.map { DiagnosticMessage.envUnset($0).english }.joined(separator: "; ")
        case .accountRefused(let a, let m):
            return "account \(a): \(m ?? "the network refused the account") (the leads wait in the queue: fix the account in the configuration)"
        case .everySendFailed: return "every send failed (will retry)"
        case .pollRequestUnbuildable(let m): return "cannot build the poll request: \(m)"
        case .pollRequestInvalid(let d): return "cannot build the poll request: \(d.english)"
        case .pollUnreached(let k, let p): return "poll: \(k.rawValue): \(p.english)"
        case .pollFailed(let m): return "poll: \(m)"
        case .pollAnswer(let f): return "poll: \(f.english)"
        }
    }

    /// The stable code (kebab-case).
    public var code: String {
        switch self {
        case .noSendSpec: return "no-send-spec"
        case .accountNotConfigured: return "account-not-configured"
        case .accountUnavailable: return "account-unavailable"
        case .accountRefused: return "account-refused"
        case .everySendFailed: return "every-send-failed"
        case .pollRequestUnbuildable: return "poll-request-unbuildable"
        case .pollRequestInvalid: return "poll-request-invalid"
        case .pollUnreached: return "poll-transport"
        case .pollFailed, .pollAnswer(.said): return "poll-failed"
        case .pollAnswer(.httpStatus): return "poll-http"
        case .pollAnswer(.notJSON): return "poll-not-json"
        case .pollAnswer(.noItems): return "poll-no-items"
        case .pollAnswer(.notAList): return "poll-not-a-list"
        }
    }

    /// The values, in the order `init(code:arguments:)` reads them.
    public var arguments: [String] {
        switch self {
        case .noSendSpec(let n): return [n]
        case .accountNotConfigured(let a): return [a]
        case .accountUnavailable(let a, let unset): return [a] + unset
        case .accountRefused(let a, let m): return [a] + (m.map { [$0] } ?? [])
        case .everySendFailed: return []
        case .pollRequestUnbuildable(let m), .pollFailed(let m), .pollAnswer(.said(let m)): return [m]
        case .pollRequestInvalid(let d): return d.requestBuildWords ?? [d.english]
        case .pollUnreached(let k, let p): return [k.rawValue, p.code] + p.arguments
        case .pollAnswer(.httpStatus(let s, let e)): return [String(s), e]
        case .pollAnswer(.notJSON(let e)): return [e]
        case .pollAnswer(.noItems(let p, let e)): return [p, e]
        case .pollAnswer(.notAList(let p, let t)): return [p, t]
        }
    }

    public init?(code: String, arguments a: [String]) {
        switch (code, a.count) {
        case ("no-send-spec", 1): self = .noSendSpec(network: a[0])
        case ("account-not-configured", 1): self = .accountNotConfigured(account: a[0])
        case ("account-unavailable", 1...): self = .accountUnavailable(account: a[0], unset: Array(a.dropFirst()))
        case ("account-refused", 1): self = .accountRefused(account: a[0], message: nil)
        case ("account-refused", 2): self = .accountRefused(account: a[0], message: a[1])
        case ("every-send-failed", 0): self = .everySendFailed
        case ("poll-request-unbuildable", 1): self = .pollRequestUnbuildable(a[0])
        case ("poll-request-invalid", 1...): guard let d = DiagnosticMessage(requestBuildWords: a) else { return nil }; self = .pollRequestInvalid(d)
        case ("poll-transport", 2...):
            guard let k = TransportFailureKind(rawValue: a[0]), let p = TransportProblem(code: a[1], arguments: Array(a.dropFirst(2))) else { return nil }
            self = .pollUnreached(k, p)
        case ("poll-failed", 1): self = .pollFailed(a[0])
        case ("poll-http", 2): guard let s = Int(a[0]) else { return nil }; self = .pollAnswer(.httpStatus(s, excerpt: a[1]))
        case ("poll-not-json", 1): self = .pollAnswer(.notJSON(excerpt: a[0]))
        case ("poll-no-items", 2): self = .pollAnswer(.noItems(path: a[0], excerpt: a[1]))
        case ("poll-not-a-list", 2): self = .pollAnswer(.notAList(path: a[0], found: a[1]))
        default: return nil
        }
    }

    /// The same problem with every text it carries passed through `f` (the redactor); should
    /// `f` touch a word of the stored form, the English passed through `f` instead.
    public func mapTexts(_ f: (String) -> String) -> SyncProblem {
        if case .pollRequestInvalid(let d) = self, d.requestBuildWords == nil { return .pollRequestUnbuildable(f(d.english)) }
        return SyncProblem(code: code, arguments: arguments.map(f)) ?? .pollFailed(f(english))
    }

    static let marker = "sync:"

    /// The ledger's form: `sync:<code> <values…>`, values percent-encoded; texts of a network
    /// are cut to `limit` characters so the form fits the column.
    public func stored(limit: Int = 300) -> String {
        if case .pollRequestInvalid(let d) = self, d.requestBuildWords == nil { return SyncProblem.pollRequestUnbuildable(d.english).stored(limit: limit) }
        return ([Self.marker + code] + arguments.map { StoredNote.escape(String($0.prefix(limit))) }).joined(separator: " ")
    }

    /// The problem kept in a pass's error column, or nil for free text (an older ledger's English).
    public static func decode(_ stored: String?) -> SyncProblem? {
        guard let stored, stored.hasPrefix(marker) else { return nil }
        let words = stored.dropFirst(marker.count).split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        guard let code = words.first else { return nil }
        return SyncProblem(code: code, arguments: words.dropFirst().map(StoredNote.unescape))
    }
}
