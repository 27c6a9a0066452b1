/// What `serve` tells its operator while it runs (its standard error), as a value: the command
/// line words it in the user's language; `english` is the stable line. Networks, addresses,
/// paths and a lower layer's text (a store error) are data, shown as they came.
public enum ServerNotice: Sendable, Hashable {
    case postbackAddressRefused(network: String, client: String)
    case postbackWrongToken(network: String, client: String)
    /// Answered 503: the store writer has this many postbacks waiting.
    case postbackWriterBehind(network: String, client: String, waiting: Int)
    case intakeAddressRefused(client: String)
    case intakeWrongToken(client: String)
    case intakeStoreUnavailable(detail: String)
    /// Answered 503: the postbacks could not be stored (the networks retry).
    case postbacksNotStored(detail: String)
    /// Answered 503: stored, not processed (`postbacks-replay` applies them).
    case postbacksNotProcessed(detail: String)
    /// Stored postbacks not yet in the order index (a lead's page still lists them).
    case postbacksNotIndexed(detail: String)
    case storeBack
    case consoleStore(path: String, detail: String)
    case consoleLoginLimited(client: String)
    case consoleWrongToken(client: String)
    case metricsStore(detail: String)

    /// The stable English line.
    public var english: String {
        switch self {
        case .postbackAddressRefused(let n, let c): return "postback \(n) from \(c): address not allowed"
        case .postbackWrongToken(let n, let c): return "postback \(n) from \(c): wrong or missing token"
        case .postbackWriterBehind(let n, let c, let w): return "postback \(n) from \(c): answered 503, the store writer is behind (\(w) waiting)"
        case .intakeAddressRefused(let c): return "lead intake from \(c): address not allowed"
        case .intakeWrongToken(let c): return "lead intake from \(c): wrong or missing bearer token"
        case .intakeStoreUnavailable(let d): return "lead intake: the store is unavailable (answered 503): \(d)"
        case .postbacksNotStored(let d): return "postbacks not stored (answered 503, the networks will retry): \(d)"
        case .postbacksNotProcessed(let d): return "postbacks stored, not processed (answered 503; postbacks-replay applies them): \(d)"
        case .postbacksNotIndexed(let d): return "stored postbacks not added to the order index yet (a lead's page still lists them): \(d)"
        case .storeBack: return "the store is back: postbacks are stored again"
        case .consoleStore(let p, let d): return "console: \(p): store: \(d)"
        case .consoleLoginLimited(let c): return "console: login from \(c) refused: too many attempts"
        case .consoleWrongToken(let c): return "console: wrong token from \(c)"
        case .metricsStore(let d): return "metrics: store: \(d)"
        }
    }

    /// One example of every notice (the wording test walks it).
    public static let examples: [ServerNotice] = [
        .postbackAddressRefused(network: "kma", client: "203.0.113.9"), .postbackWrongToken(network: "kma", client: "203.0.113.9"),
        .postbackWriterBehind(network: "kma", client: "203.0.113.9", waiting: 10_000), .intakeAddressRefused(client: "203.0.113.9"),
        .intakeWrongToken(client: "203.0.113.9"), .intakeStoreUnavailable(detail: "database is locked"), .postbacksNotStored(detail: "disk I/O error"),
        .postbacksNotProcessed(detail: "database is locked"), .postbacksNotIndexed(detail: "database is locked"), .storeBack, .consoleStore(path: "/console/leads", detail: "database is locked"),
        .consoleLoginLimited(client: "203.0.113.9"), .consoleWrongToken(client: "203.0.113.9"), .metricsStore(detail: "database is locked"),
    ]
}
