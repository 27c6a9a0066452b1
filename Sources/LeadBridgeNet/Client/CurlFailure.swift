import CCurl

/// Turns a libcurl failure into a `TransportError`: its kind, one clear line, and — what the
/// lead lifecycle decides on — whether the network may have received the request.
///
/// `delivery` does not come from the error code but from where the transfer got to: libcurl
/// calls our `CURLOPT_PREREQFUNCTION` hook once the connection is ready (TCP connected or
/// reused, proxy tunnel open, TLS handshake done) and *right before the request is written*.
/// Until then no byte of the request can have left; after it, any failure may have reached
/// the network.
///
/// | failure (CURLcode) | kind | request started? | delivery |
/// |---|---|---|---|
/// | DNS: host or proxy not found (6, 5) | connection | no | `notSent` |
/// | connection refused / unreachable (7) | connection | no | `notSent` |
/// | TLS handshake, untrusted certificate, wrong host name (35, 60, 58, 59, 77, 83, 90, 91) | connection | no | `notSent` |
/// | proxy refused the tunnel or failed (56 while tunnelling, 97) | connection | no | `notSent` |
/// | timeout while resolving, connecting or handshaking (28) | timeout | no | `notSent` |
/// | malformed URL, unsupported scheme (3, 1) | invalidRequest | no | `notSent` |
/// | cancelled before the request started | cancelled | no | `notSent` |
/// | timeout after the request started (28) | timeout | yes | `maybeReceived` |
/// | reset, connection closed, no answer (55, 56, 52, 18, 16, 92) | connection | yes | `maybeReceived` |
/// | garbage instead of HTTP (8, 1 for HTTP/0.9) | connection | yes | `maybeReceived` |
/// | answer larger than the limit (23) | connection | yes | `maybeReceived` |
/// | cancelled after the request started | cancelled | yes | `maybeReceived` |
/// | anything else | connection | by the hook | by the hook |
///
/// One libcurl behaviour to know: on a *reused* keep-alive connection that the server closed
/// without a byte of answer, libcurl retries the request once on a fresh connection (the
/// classic keep-alive race). The network may have taken the first copy, so the hook refuses
/// that retry (a second call aborts the transfer, CURLE_ABORTED_BY_CALLBACK) and the failure
/// is `maybeReceived`: a request is written at most once.
struct CurlFailure: Sendable, Hashable {
    var code: UInt32
    /// libcurl's own text (CURLOPT_ERRORBUFFER), or its generic text for the code.
    var detail: String
    /// The PREREQ hook ran: the request was about to be (or was) written.
    var requestStarted: Bool
    var cancelled = false
    var tooLarge = false
    var timeoutMs: Int
    var host: String

    var error: TransportError {
        let delivery: TransportError.Delivery = requestStarted ? .maybeReceived : .notSent
        if cancelled { return TransportError(.cancelled, .cancelled(host: host), delivery: delivery) }
        if tooLarge { return TransportError(.connection, .answerTooLarge(host: host, megabytes: CurlTransfer.maxBody / 1_048_576), delivery: delivery) }
        let c = CURLcode(code)
        switch c {
        case CURLE_OPERATION_TIMEDOUT:
            return TransportError(.timeout, .timedOut(host: host, milliseconds: timeoutMs, connected: requestStarted), delivery: delivery)
        case CURLE_URL_MALFORMAT:
            return TransportError(.invalidRequest, .invalidURL(host: host, detail: detail), delivery: delivery)
        case CURLE_UNSUPPORTED_PROTOCOL where !requestStarted:
            return TransportError(.invalidRequest, .invalidURL(host: host, detail: detail), delivery: delivery)
        case CURLE_COULDNT_RESOLVE_HOST:
            return TransportError(.connection, .hostNotFound(host: host), delivery: delivery)
        case CURLE_COULDNT_RESOLVE_PROXY:
            return TransportError(.connection, .proxyNotFound(detail: detail), delivery: delivery)
        case CURLE_COULDNT_CONNECT:
            return TransportError(.connection, .cannotConnect(host: host, detail: detail), delivery: delivery)
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_INVALIDCERTSTATUS:
            return TransportError(.connection, .certificateRefused(host: host, detail: detail), delivery: delivery)
        case CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER, CURLE_SSL_ISSUER_ERROR:
            return TransportError(.connection, .tlsHandshake(host: host, detail: detail), delivery: delivery)
        case CURLE_PROXY:
            return TransportError(.connection, .proxyFailed(host: host, detail: detail), delivery: delivery)
        case CURLE_RECV_ERROR where !requestStarted:
            // The only receive before the request is the proxy's answer to CONNECT.
            return TransportError(.connection, .tunnelRefused(host: host, detail: detail), delivery: delivery)
        case CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_HTTP2, CURLE_HTTP2_STREAM:
            return TransportError(.connection, .reset(host: host, detail: detail), delivery: delivery)
        case CURLE_GOT_NOTHING:
            return TransportError(.connection, .closedWithoutAnswer(host: host), delivery: delivery)
        case CURLE_PARTIAL_FILE:
            return TransportError(.connection, .cutShort(host: host, detail: detail), delivery: delivery)
        case CURLE_WEIRD_SERVER_REPLY, CURLE_UNSUPPORTED_PROTOCOL, CURLE_BAD_CONTENT_ENCODING:
            return TransportError(.connection, .notHTTP(host: host, detail: detail), delivery: delivery)
        default:
            return TransportError(.connection, .other(host: host, detail: detail), delivery: delivery)
        }
    }
}
