/// Why no complete HTTP answer came back, as a value: the HTTP client says it once, the edges
/// word it in the user's language (Core holds the English only). libcurl's own text (`detail`)
/// and host names are data, shown as they came.
public enum TransportProblem: Sendable, Hashable {
    /// No answer in time: after the request was written (`connected`) or before a connection.
    case timedOut(host: String, milliseconds: Int, connected: Bool)
    case invalidURL(host: String, detail: String)
    case hostNotFound(host: String)
    case proxyNotFound(detail: String)
    case cannotConnect(host: String, detail: String)
    case certificateRefused(host: String, detail: String)
    case tlsHandshake(host: String, detail: String)
    case proxyFailed(host: String, detail: String)
    case tunnelRefused(host: String, detail: String)
    case reset(host: String, detail: String)
    case closedWithoutAnswer(host: String)
    case cutShort(host: String, detail: String)
    case notHTTP(host: String, detail: String)
    case answerTooLarge(host: String, megabytes: Int)
    case cancelled(host: String)
    case shuttingDown
    /// Any other libcurl failure: the host and libcurl's text.
    case other(host: String, detail: String)
    // The HTTP client itself could not work (nothing was sent).
    case libcurlMissing(detail: String)
    case libcurlInit(code: Int)
    case noMultiHandle
    case noHandle
    case transferRefused
    case eventLoop(detail: String)
    case clientThread(code: Int)
    /// What a transport said in its own words (a transport that is not ours: tests, tools).
    case said(String)

    /// The stable English sentence (`--json`, stored texts, logs).
    public var english: String {
        switch self {
        case .timedOut(let h, let ms, let connected):
            return connected ? "no answer from \(h) within \(ms) ms" : "could not connect to \(h) within \(ms) ms"
        case .invalidURL(let h, let d): return "invalid URL for \(h): \(d)"
        case .hostNotFound(let h): return "host not found: \(h)"
        case .proxyNotFound(let d): return "proxy host not found (\(d))"
        case .cannotConnect(let h, let d): return "cannot connect to \(h): \(d)"
        case .certificateRefused(let h, let d): return "TLS certificate of \(h) refused: \(d)"
        case .tlsHandshake(let h, let d): return "TLS handshake with \(h) failed: \(d)"
        case .proxyFailed(let h, let d): return "proxy failed for \(h): \(d)"
        case .tunnelRefused(let h, let d): return "proxy refused the tunnel to \(h): \(d)"
        case .reset(let h, let d): return "connection reset by \(h): \(d)"
        case .closedWithoutAnswer(let h): return "\(h) closed the connection without an answer"
        case .cutShort(let h, let d): return "the answer from \(h) was cut short: \(d)"
        case .notHTTP(let h, let d): return "\(h) answered something that is not HTTP (\(d))"
        case .answerTooLarge(let h, let mb): return "the answer from \(h) is larger than \(mb) MB"
        case .cancelled(let h): return "cancelled (\(h))"
        case .shuttingDown: return "the HTTP client is shutting down"
        case .other(let h, let d): return "\(h): \(d)"
        case .libcurlMissing(let d): return "cannot load libcurl (\(d)); install the Debian package libcurl4"
        case .libcurlInit(let c): return "libcurl failed to initialise (code \(c))"
        case .noMultiHandle: return "libcurl could not create a multi handle"
        case .noHandle: return "libcurl could not create a handle"
        case .transferRefused: return "libcurl refused the transfer"
        case .eventLoop(let d): return "cannot set up the HTTP client's event loop (\(d))"
        case .clientThread(let c): return "cannot start the HTTP client thread (error \(c))"
        case .said(let m): return m
        }
    }

    /// The stable code (kebab-case) of the stored form.
    public var code: String {
        switch self {
        case .timedOut(_, _, let connected): return connected ? "no-answer-in-time" : "no-connection-in-time"
        case .invalidURL: return "invalid-url"
        case .hostNotFound: return "host-not-found"
        case .proxyNotFound: return "proxy-not-found"
        case .cannotConnect: return "cannot-connect"
        case .certificateRefused: return "certificate-refused"
        case .tlsHandshake: return "tls-handshake"
        case .proxyFailed: return "proxy-failed"
        case .tunnelRefused: return "tunnel-refused"
        case .reset: return "reset"
        case .closedWithoutAnswer: return "closed-without-answer"
        case .cutShort: return "cut-short"
        case .notHTTP: return "not-http"
        case .answerTooLarge: return "answer-too-large"
        case .cancelled: return "cancelled"
        case .shuttingDown: return "shutting-down"
        case .other: return "other"
        case .libcurlMissing: return "libcurl-missing"
        case .libcurlInit: return "libcurl-init"
        case .noMultiHandle: return "no-multi-handle"
        case .noHandle: return "no-handle"
        case .transferRefused: return "transfer-refused"
        case .eventLoop: return "event-loop"
        case .clientThread: return "client-thread"
        case .said: return "said"
        }
    }

    /// The values, in the order `init(code:arguments:)` reads them.
    public var arguments: [String] {
        switch self {
        case .timedOut(let h, let ms, _): return [h, String(ms)]
        case .invalidURL(let h, let d), .cannotConnect(let h, let d), .certificateRefused(let h, let d), .tlsHandshake(let h, let d),
             .proxyFailed(let h, let d), .tunnelRefused(let h, let d), .reset(let h, let d), .cutShort(let h, let d), .notHTTP(let h, let d),
             .other(let h, let d):
            return [h, d]
        case .hostNotFound(let h), .closedWithoutAnswer(let h), .cancelled(let h): return [h]
        case .proxyNotFound(let d), .libcurlMissing(let d), .eventLoop(let d), .said(let d): return [d]
        case .answerTooLarge(let h, let mb): return [h, String(mb)]
        case .libcurlInit(let c), .clientThread(let c): return [String(c)]
        case .shuttingDown, .noMultiHandle, .noHandle, .transferRefused: return []
        }
    }

    public init?(code: String, arguments a: [String]) {
        switch (code, a.count) {
        case ("no-answer-in-time", 2), ("no-connection-in-time", 2):
            guard let ms = Int(a[1]) else { return nil }
            self = .timedOut(host: a[0], milliseconds: ms, connected: code == "no-answer-in-time")
        case ("invalid-url", 2): self = .invalidURL(host: a[0], detail: a[1])
        case ("host-not-found", 1): self = .hostNotFound(host: a[0])
        case ("proxy-not-found", 1): self = .proxyNotFound(detail: a[0])
        case ("cannot-connect", 2): self = .cannotConnect(host: a[0], detail: a[1])
        case ("certificate-refused", 2): self = .certificateRefused(host: a[0], detail: a[1])
        case ("tls-handshake", 2): self = .tlsHandshake(host: a[0], detail: a[1])
        case ("proxy-failed", 2): self = .proxyFailed(host: a[0], detail: a[1])
        case ("tunnel-refused", 2): self = .tunnelRefused(host: a[0], detail: a[1])
        case ("reset", 2): self = .reset(host: a[0], detail: a[1])
        case ("closed-without-answer", 1): self = .closedWithoutAnswer(host: a[0])
        case ("cut-short", 2): self = .cutShort(host: a[0], detail: a[1])
        case ("not-http", 2): self = .notHTTP(host: a[0], detail: a[1])
        case ("answer-too-large", 2): guard let mb = Int(a[1]) else { return nil }; self = .answerTooLarge(host: a[0], megabytes: mb)
        case ("cancelled", 1): self = .cancelled(host: a[0])
        case ("shutting-down", 0): self = .shuttingDown
        case ("other", 2): self = .other(host: a[0], detail: a[1])
        case ("libcurl-missing", 1): self = .libcurlMissing(detail: a[0])
        case ("libcurl-init", 1): guard let c = Int(a[0]) else { return nil }; self = .libcurlInit(code: c)
        case ("no-multi-handle", 0): self = .noMultiHandle
        case ("no-handle", 0): self = .noHandle
        case ("transfer-refused", 0): self = .transferRefused
        case ("event-loop", 1): self = .eventLoop(detail: a[0])
        case ("client-thread", 1): guard let c = Int(a[0]) else { return nil }; self = .clientThread(code: c)
        case ("said", 1): self = .said(a[0])
        default: return nil
        }
    }

    /// The same problem with every text it carries passed through `f` (the redactor); should
    /// `f` touch a number, the English sentence passed through `f` instead.
    public func mapTexts(_ f: (String) -> String) -> TransportProblem {
        TransportProblem(code: code, arguments: arguments.map(f)) ?? .said(f(english))
    }

    /// One example of every problem (the wording tests and docs walk it; a new case fails to
    /// compile in `english` until it is added here by hand, and the test counts the codes).
    public static let examples: [TransportProblem] = [
        .timedOut(host: "api.example.com", milliseconds: 20000, connected: true),
        .timedOut(host: "api.example.com", milliseconds: 20000, connected: false),
        .invalidURL(host: "api.example.com", detail: "URL rejected: Malformed input to a URL function"),
        .hostNotFound(host: "api.example.com"), .proxyNotFound(detail: "Could not resolve proxy: proxy.local"),
        .cannotConnect(host: "127.0.0.1:9", detail: "Failed to connect to 127.0.0.1 port 9 after 0 ms: Couldn't connect to server"),
        .certificateRefused(host: "api.example.com", detail: "SSL certificate problem: self-signed certificate"),
        .tlsHandshake(host: "api.example.com", detail: "OpenSSL SSL_connect: SSL_ERROR_SYSCALL"),
        .proxyFailed(host: "api.example.com", detail: "proxy handshake error"),
        .tunnelRefused(host: "api.example.com", detail: "CONNECT tunnel failed, response 403"),
        .reset(host: "api.example.com", detail: "Recv failure: Connection reset by peer"), .closedWithoutAnswer(host: "api.example.com"),
        .cutShort(host: "api.example.com", detail: "end of response with 10 bytes missing"),
        .notHTTP(host: "api.example.com", detail: "Unsupported HTTP version in response"),
        .answerTooLarge(host: "api.example.com", megabytes: 16), .cancelled(host: "api.example.com"), .shuttingDown,
        .other(host: "api.example.com", detail: "Unknown error"), .libcurlMissing(detail: "libcurl.so.4: cannot open shared object file"),
        .libcurlInit(code: 2), .noMultiHandle, .noHandle, .transferRefused, .eventLoop(detail: "Too many open files"), .clientThread(code: 11),
        .said("connection reset"),
    ]
}
