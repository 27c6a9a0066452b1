/// Why a request could not be parsed, with the status the server answers before it closes
/// the connection. Typed so tests and logs can tell the cases apart.
public enum HTTPParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Request line is not `METHOD SP target SP HTTP/x.y`, or the target is not valid. 400.
    case malformedRequestLine
    /// A line ended in a bare LF or a CR was not followed by LF. 400.
    case invalidLineEnding
    /// Header line without a colon, bad name, whitespace before the colon, obs-fold,
    /// or a control character (NUL and friends) in the value. 400.
    case malformedHeader
    /// HTTP/1.1 without a Host header, or more than one Host header. 400.
    case invalidHost
    /// Content-Length not a decimal number, or several with different values. 400.
    case invalidContentLength
    /// Content-Length together with Transfer-Encoding, or Transfer-Encoding on HTTP/1.0. 400.
    case conflictingFraming
    /// A chunk-size line or chunk terminator that does not follow the chunked grammar. 400.
    case malformedChunk
    /// Body larger than `HTTPLimits.maxBodyBytes`. 413.
    case bodyTooLarge
    /// Request line longer than `HTTPLimits.maxRequestLineBytes`. 414.
    case uriTooLong
    /// Header (or trailer) section larger than `HTTPLimits.maxHeaderBytes`. 431.
    case headersTooLarge
    /// More header (or trailer) fields than `HTTPLimits.maxHeaderCount`. 431.
    case tooManyHeaders
    /// Transfer-Encoding other than exactly `chunked`. 501.
    case unsupportedTransferEncoding
    /// Well-formed `HTTP/x.y` version other than 1.0 and 1.1. 505.
    case unsupportedVersion

    /// The status code to answer with.
    public var status: Int {
        switch self {
        case .malformedRequestLine, .invalidLineEnding, .malformedHeader, .invalidHost,
             .invalidContentLength, .conflictingFraming, .malformedChunk: 400
        case .bodyTooLarge: 413
        case .uriTooLong: 414
        case .headersTooLarge, .tooManyHeaders: 431
        case .unsupportedTransferEncoding: 501
        case .unsupportedVersion: 505
        }
    }

    public var description: String {
        switch self {
        case .malformedRequestLine: "malformed request line"
        case .invalidLineEnding: "line not terminated by CRLF"
        case .malformedHeader: "malformed header field"
        case .invalidHost: "missing or repeated Host header"
        case .invalidContentLength: "invalid Content-Length"
        case .conflictingFraming: "conflicting message framing (Content-Length and Transfer-Encoding)"
        case .malformedChunk: "malformed chunked body"
        case .bodyTooLarge: "request body too large"
        case .uriTooLong: "request line too long"
        case .headersTooLarge: "header section too large"
        case .tooManyHeaders: "too many header fields"
        case .unsupportedTransferEncoding: "unsupported transfer coding"
        case .unsupportedVersion: "unsupported HTTP version"
        }
    }
}
