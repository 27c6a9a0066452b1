import LeadBridgeCore

/// Why a network's part of a sync pass failed, as a value: `sync` words it in the user's
/// language; `english` is the stable text of `sync --json`'s `error` and of the stored pass.
/// What a network or a lower layer said is kept as it came (data, not a sentence of ours).
public enum SyncProblem: Sendable, Hashable {
    /// Leads are queued for a network whose spec cannot send.
    case noSendSpec(network: String)
    /// A lead's account is not in the configuration.
    case accountNotConfigured(account: String)
    /// A lead's account is in the configuration but unusable (a variable unset…): the problems.
    case accountUnavailable(account: String, problems: String)
    /// The network calls the account wrong: the leads wait in the queue.
    case accountRefused(account: String, message: String?)
    /// No send of the pass got an answer (they are retried).
    case everySendFailed
    /// The poll request could not be built from the spec.
    case pollRequestUnbuildable(String)
    /// The poll failed (transport or answer).
    case pollFailed(String)

    public var english: String {
        switch self {
        case .noSendSpec(let n): return "no spec with a send block for \(n)"
        case .accountNotConfigured(let a): return "account \(a) is not in the configuration"
        case .accountUnavailable(let a, let p): return "account \(a): \(p)"
        case .accountRefused(let a, let m):
            return "account \(a): \(m ?? "the network refused the account") (the leads wait in the queue: fix the account in the configuration)"
        case .everySendFailed: return "every send failed (will retry)"
        case .pollRequestUnbuildable(let m): return "cannot build the poll request: \(m)"
        case .pollFailed(let m): return "poll: \(m)"
        }
    }
}
