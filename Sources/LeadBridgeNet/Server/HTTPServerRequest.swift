import LeadBridgeCore

/// The HTTP versions the server speaks; the parser answers 505 to any other.
public enum HTTPVersion: String, Sendable, Hashable {
    case http10 = "HTTP/1.0"
    case http11 = "HTTP/1.1"
}

/// A request as the receiver's handlers see it: raw target, path and query exactly as they came
/// on the wire (no percent-decoding), header fields in order, the whole decoded body.
public struct HTTPServerRequest: Sendable, Hashable {
    public var method: String
    /// The request target exactly as received (`/postback/x?token=a%20b`).
    public var target: String
    /// Path part of the target, raw: everything before the first `?` (`*` for `OPTIONS *`).
    /// For an absolute-form target (`http://host/p?q`) the path after the authority.
    public var path: String
    /// Query part of the target, raw, without the `?`; empty when there is none.
    public var query: String
    public var version: HTTPVersion
    /// Header fields in the order received, names with their original case.
    public var headers: [HTTPHeader]
    /// The body after removing any chunked framing.
    public var body: [UInt8]
    /// The peer's IP address (`127.0.0.1`, `::1`), without port. Set by the server.
    public var remoteAddress: String
    /// The client's address: `remoteAddress`, or the forwarded address when the peer is one of
    /// the server's trusted proxies (`TrustedProxies.clientAddress`). Set by the server.
    public var clientAddress: String
    /// Whether the client asked for the connection to stay open after the response
    /// (HTTP/1.1 unless `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`).
    public var keepAlive: Bool

    /// Builds a request; `path` and `query` are split from `target` the way the parser does.
    public init(method: String, target: String, version: HTTPVersion = .http11, headers: [HTTPHeader] = [],
                body: [UInt8] = [], remoteAddress: String = "", keepAlive: Bool = true) {
        self.method = method
        self.target = target
        (self.path, self.query) = Self.split(target: target)
        self.version = version
        self.headers = headers
        self.body = body
        self.remoteAddress = remoteAddress
        self.clientAddress = remoteAddress
        self.keepAlive = keepAlive
    }

    /// The first header with this name (ASCII case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first { HTTPBytes.equalsIgnoringCase($0.name, name) }?.value
    }

    /// Every value of the headers with this name, in order.
    public func headers(named name: String) -> [String] {
        headers.filter { HTTPBytes.equalsIgnoringCase($0.name, name) }.map(\.value)
    }

    /// The body as UTF-8 text (invalid sequences replaced).
    public var bodyText: String { String(decoding: body, as: UTF8.self) }

    /// Splits a raw target into path and query at the first `?`. Absolute-form targets lose
    /// their `scheme://authority` part; nothing is decoded.
    static func split(target: String) -> (path: String, query: String) {
        if target.utf8.first == UInt8(ascii: "/") {
            // origin-form (nearly every request): split at the first "?" by byte offset.
            var text = target
            return text.withUTF8 { bytes in
                guard let q = bytes.firstIndex(of: UInt8(ascii: "?")) else { return (target, "") }
                return (String(decoding: UnsafeBufferPointer(rebasing: bytes[..<q]), as: UTF8.self),
                        String(decoding: UnsafeBufferPointer(rebasing: bytes[(q + 1)...]), as: UTF8.self))
            }
        }
        var rest = Substring(target)
        if !rest.hasPrefix("/"), let schemeEnd = rest.firstRange(of: "://") {
            let afterScheme = rest[schemeEnd.upperBound...]
            let authorityEnd = afterScheme.firstIndex { $0 == "/" || $0 == "?" } ?? afterScheme.endIndex
            rest = afterScheme[authorityEnd...]
            if !rest.hasPrefix("/") { rest = "/" + rest }
        }
        // By bytes: "?" is ASCII, so the index is a character boundary (no grapheme walk).
        guard let q = rest.utf8.firstIndex(of: UInt8(ascii: "?")) else { return (String(rest), "") }
        return (String(rest[rest.startIndex..<q]), String(rest[rest.utf8.index(after: q)...]))
    }
}

/// Byte-level helpers shared by the parser and the serializer (ASCII only, no allocation).
enum HTTPBytes {
    static let cr: UInt8 = 13
    static let lf: UInt8 = 10
    static let space: UInt8 = 32
    static let tab: UInt8 = 9
    static let colon: UInt8 = 58

    /// RFC 9110 `tchar`: the characters allowed in methods and header names.
    static func isTokenByte(_ b: UInt8) -> Bool {
        switch b {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true // DIGIT ALPHA
        case 0x21, 0x23, 0x24, 0x25, 0x26, 0x27, 0x2A, 0x2B, 0x2D, 0x2E, 0x5E, 0x5F, 0x60, 0x7C, 0x7E: true // !#$%&'*+-.^_`|~
        default: false
        }
    }

    /// Bytes allowed in a field value: VCHAR, obs-text, SP and HTAB (no NUL, CR, LF, other CTLs or DEL).
    static func isFieldValueByte(_ b: UInt8) -> Bool {
        b == tab || (b >= 0x20 && b != 0x7F)
    }

    static func lower(_ b: UInt8) -> UInt8 { (b >= 0x41 && b <= 0x5A) ? b | 0x20 : b }

    static func equalsIgnoringCase(_ a: String, _ b: String) -> Bool {
        a.utf8.count == b.utf8.count && zip(a.utf8, b.utf8).allSatisfy { lower($0) == lower($1) }
    }

    static func equalsIgnoringCase(_ a: some Collection<UInt8>, _ literal: StaticString) -> Bool {
        let bytes = UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount)
        return a.count == bytes.count && zip(a, bytes).allSatisfy { lower($0) == lower($1) }
    }

    /// Comma-separated list elements with surrounding SP/HTAB removed; empty elements dropped.
    static func listElements(_ value: String) -> [Substring] {
        value.split(separator: ",", omittingEmptySubsequences: false).map(trimmed).filter { !$0.isEmpty }
    }

    static func trimmed(_ s: Substring) -> Substring {
        var s = s
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return s
    }
}
