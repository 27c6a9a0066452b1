import LeadBridgeCore

/// What a handler answers: status, extra headers and the whole body. The server adds the
/// framing headers (`Content-Length`, `Connection`) itself, so handlers cannot get them wrong.
public struct HTTPServerResponse: Sendable, Hashable {
    public var status: Int
    public var headers: [HTTPHeader]
    public var body: [UInt8]

    public init(status: Int = 200, headers: [HTTPHeader] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A text body (`text/plain; charset=utf-8` unless `contentType` says otherwise).
    public static func text(_ text: String, status: Int = 200,
                            contentType: String = "text/plain; charset=utf-8") -> HTTPServerResponse {
        HTTPServerResponse(status: status, headers: [HTTPHeader("Content-Type", contentType)], body: Array(text.utf8))
    }

    /// A JSON body already serialized as text.
    public static func json(_ json: String, status: Int = 200) -> HTTPServerResponse {
        text(json, status: status, contentType: "application/json")
    }

    /// A short plain-text response whose body is the reason phrase (for errors and health checks).
    public static func status(_ status: Int) -> HTTPServerResponse {
        text(HTTPResponseSerializer.reasonPhrase(for: status) + "\n", status: status)
    }

    /// The first header with this name (ASCII case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first { HTTPBytes.equalsIgnoringCase($0.name, name) }?.value
    }

    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// Turns a response into wire bytes. Pure, so framing and header sanitizing are tested
/// without sockets.
public enum HTTPResponseSerializer {
    /// `HTTP/1.1 <status> <reason>`, the handler's headers (minus `Content-Length`,
    /// `Transfer-Encoding` and `Connection`, which the serializer owns; names that are not tokens
    /// dropped; CR, LF and other control characters in values replaced by spaces), then
    /// `Content-Length` (except for 1xx, 204 and 304, which never carry a body), `Connection: close` when
    /// `keepAlive` is false, or `Connection: keep-alive` for an HTTP/1.0 client that keeps it.
    /// `headRequest` leaves the body out but keeps its `Content-Length`.
    /// A status outside 100...999 becomes 500.
    public static func serialize(_ response: HTTPServerResponse, keepAlive: Bool,
                                 requestVersion: HTTPVersion = .http11, headRequest: Bool = false) -> [UInt8] {
        let status = (100...999).contains(response.status) ? response.status : 500
        let bodyForbidden = status < 200 || status == 204 || status == 304
        var out: [UInt8] = []
        out.reserveCapacity(128 + response.body.count + response.headers.count * 32)
        out.append(contentsOf: "HTTP/1.1 ".utf8)
        appendDecimal(status, to: &out)
        out.append(HTTPBytes.space)
        out.append(contentsOf: reasonPhrase(for: status).utf8)
        out.append(contentsOf: "\r\n".utf8)
        for header in response.headers {
            let name = header.name.utf8
            guard !name.isEmpty, name.allSatisfy(HTTPBytes.isTokenByte) else { continue }
            if HTTPBytes.equalsIgnoringCase(name, "content-length")
                || HTTPBytes.equalsIgnoringCase(name, "transfer-encoding")
                || HTTPBytes.equalsIgnoringCase(name, "connection") { continue }
            out.append(contentsOf: name)
            out.append(contentsOf: ": ".utf8)
            for b in header.value.utf8 {
                out.append(b == HTTPBytes.tab || (b >= 0x20 && b != 0x7F) ? b : HTTPBytes.space)
            }
            out.append(contentsOf: "\r\n".utf8)
        }
        if !bodyForbidden {
            out.append(contentsOf: "Content-Length: ".utf8)
            appendDecimal(response.body.count, to: &out)
            out.append(contentsOf: "\r\n".utf8)
        }
        if !keepAlive {
            out.append(contentsOf: "Connection: close\r\n".utf8)
        } else if requestVersion == .http10 {
            out.append(contentsOf: "Connection: keep-alive\r\n".utf8)
        }
        out.append(contentsOf: "\r\n".utf8)
        if !headRequest && !bodyForbidden { out.append(contentsOf: response.body) }
        return out
    }

    /// Writes a non-negative number in decimal without building a String.
    static func appendDecimal(_ value: Int, to out: inout [UInt8]) {
        guard value > 0 else {
            out.append(UInt8(ascii: "0"))
            return
        }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var n = value, count = 0
        withUnsafeMutableBytes(of: &digits) { d in
            while n > 0 {
                d[count] = UInt8(ascii: "0") + UInt8(n % 10)
                n /= 10
                count += 1
            }
            for i in stride(from: count - 1, through: 0, by: -1) { out.append(d[i]) }
        }
    }

    /// The interim response sent before reading a body announced with `Expect: 100-continue`.
    public static let continueResponse: [UInt8] = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    /// The standard reason phrase (RFC 9110), or a generic one by class.
    public static func reasonPhrase(for status: Int) -> String {
        switch status {
        case 100: "Continue"
        case 101: "Switching Protocols"
        case 200: "OK"
        case 201: "Created"
        case 202: "Accepted"
        case 203: "Non-Authoritative Information"
        case 204: "No Content"
        case 205: "Reset Content"
        case 206: "Partial Content"
        case 301: "Moved Permanently"
        case 302: "Found"
        case 303: "See Other"
        case 304: "Not Modified"
        case 307: "Temporary Redirect"
        case 308: "Permanent Redirect"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 402: "Payment Required"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 406: "Not Acceptable"
        case 408: "Request Timeout"
        case 409: "Conflict"
        case 410: "Gone"
        case 411: "Length Required"
        case 412: "Precondition Failed"
        case 413: "Content Too Large"
        case 414: "URI Too Long"
        case 415: "Unsupported Media Type"
        case 416: "Range Not Satisfiable"
        case 417: "Expectation Failed"
        case 421: "Misdirected Request"
        case 422: "Unprocessable Content"
        case 425: "Too Early"
        case 426: "Upgrade Required"
        case 428: "Precondition Required"
        case 429: "Too Many Requests"
        case 431: "Request Header Fields Too Large"
        case 451: "Unavailable For Legal Reasons"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        case 505: "HTTP Version Not Supported"
        case 100..<200: "Informational"
        case 200..<300: "Success"
        case 300..<400: "Redirection"
        case 400..<500: "Client Error"
        default: "Server Error"
        }
    }
}
