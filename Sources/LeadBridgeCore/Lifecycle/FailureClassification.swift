/// What went wrong with a send that got no usable answer, as the failure table names it.
public enum FailureCause: String, Sendable, Hashable, CaseIterable {
    case transportNotSent = "no connection: DNS, connection refused, TLS handshake, a timeout before the request was written"
    case transportMaybeReceived = "timeout or reset after the request was (or may have been) written, or a transport that cannot tell"
    case buildFailed = "the request could not be built"
    case earlierStep = "a preparatory step failed (the final request carries the lead and was not written)"
    case specRuleFailed = "an answer a spec outcome rule marks failed (retryable)"
    case tooManyRequests = "HTTP 429 Too Many Requests"
    case requestTimeout = "HTTP 408 Request Timeout"
    case unavailable = "HTTP 503 Service Unavailable"
    case serverError = "HTTP 500, 502, 504 and any other 5xx (the network may have stored the lead before failing)"
    case unreadableSuccess = "a 1xx, 2xx or 3xx answer no outcome rule matches (the network may have taken the lead)"
    case unreadableClientError = "a 4xx answer no outcome rule matches (the network refused the request)"
}

/// Whether each kind of failure can have reached the network: only what certainly did not
/// arrive is retried by itself; the rest makes the lead `uncertain` (unless the spec declares
/// `dedupe`). The single source of docs/lifecycle.md's failure table.
public enum FailureClassification {
    public static let table: [(cause: FailureCause, receipt: Receipt)] = [
        (.transportNotSent, .notReceived),
        (.buildFailed, .notReceived),
        (.earlierStep, .notReceived),
        (.specRuleFailed, .notReceived),
        (.tooManyRequests, .notReceived),
        (.requestTimeout, .notReceived),
        (.unavailable, .notReceived),
        (.unreadableClientError, .notReceived),
        (.transportMaybeReceived, .maybeReceived),
        (.serverError, .maybeReceived),
        (.unreadableSuccess, .maybeReceived),
    ]

    public static func receipt(_ cause: FailureCause) -> Receipt {
        table.first { $0.cause == cause }?.receipt ?? .maybeReceived
    }

    /// The cause of an HTTP answer the built-in rules take as failed (429, 408, 5xx).
    public static func cause(ofStatus status: Int) -> FailureCause {
        switch status {
        case 429: return .tooManyRequests
        case 408: return .requestTimeout
        case 503: return .unavailable
        default: return .serverError
        }
    }

    /// The cause of an answer no rule matches.
    public static func causeOfUnreadable(status: Int) -> FailureCause {
        (400..<500).contains(status) ? .unreadableClientError : .unreadableSuccess
    }
}
