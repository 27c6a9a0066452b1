import LeadBridgeCore
import LeadBridgeNet

/// The cookies a request carries (`Cookie: a=1; b=2`, every header line).
struct RequestCookies: Sendable {
    private var values: [String: String] = [:]

    init(_ request: HTTPServerRequest) {
        for line in request.headers(named: "Cookie") {
            for part in line.split(separator: ";") {
                let kv = part.split(separator: "=", maxSplits: 1)
                guard kv.count == 2 else { continue }
                let name = HTTPText.trimmed(kv[0])
                if values[name] == nil { values[name] = HTTPText.trimmed(kv[1]) }
            }
        }
    }

    subscript(_ name: String) -> String? { values[name] }
}

/// A `Set-Cookie` value: always `HttpOnly` and `SameSite=Strict`, scoped to `/console`,
/// `Secure` when the browser reached us over TLS.
struct ResponseCookie: Sendable {
    var name: String
    var value: String
    var maxAge: Int64
    var path = "/console"
    var secure: Bool

    var header: HTTPHeader {
        HTTPHeader("Set-Cookie", "\(name)=\(value); Path=\(path); Max-Age=\(max(0, maxAge)); HttpOnly; SameSite=Strict" + (secure ? "; Secure" : ""))
    }
}

enum HTTPText {
    static func trimmed(_ s: Substring) -> String {
        var s = s
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }

    /// The decoded query (or form body); a malformed one reads as empty.
    static func pairs(_ text: String) -> [(String, String)] { (try? QueryString.parse(text)) ?? [] }
}

/// How console answers are made: every one carries the security headers; pages are never
/// cached (they hold the ledger's data).
enum ConsoleResponse {
    static func securityHeaders() -> [HTTPHeader] {
        [HTTPHeader("Content-Security-Policy", ConsoleAssets.contentSecurityPolicy), HTTPHeader("X-Content-Type-Options", "nosniff"),
         HTTPHeader("X-Frame-Options", "DENY"), HTTPHeader("Referrer-Policy", "no-referrer")]
    }

    static func html(_ body: String, status: Int = 200, cookies: [ResponseCookie] = []) -> HTTPServerResponse {
        HTTPServerResponse(status: status, headers: [HTTPHeader("Content-Type", "text/html; charset=utf-8"), HTTPHeader("Cache-Control", "no-store")]
                           + securityHeaders() + cookies.map(\.header), body: Array(body.utf8))
    }

    /// `303 See Other` to a path of ours.
    static func redirect(_ location: String, cookies: [ResponseCookie] = []) -> HTTPServerResponse {
        HTTPServerResponse(status: 303, headers: [HTTPHeader("Location", location), HTTPHeader("Cache-Control", "no-store")] + securityHeaders()
                           + cookies.map(\.header), body: [])
    }

    static func text(_ text: String, status: Int, headers: [HTTPHeader] = []) -> HTTPServerResponse {
        HTTPServerResponse(status: status, headers: [HTTPHeader("Content-Type", "text/plain; charset=utf-8"), HTTPHeader("Cache-Control", "no-store")]
                           + securityHeaders() + headers, body: Array(text.utf8))
    }

    static let styleSheet = HTTPServerResponse(status: 200, headers: [HTTPHeader("Content-Type", "text/css; charset=utf-8"),
                                                                      HTTPHeader("Cache-Control", "public, max-age=3600")] + securityHeaders(),
                                               body: Array(ConsoleAssets.styleSheet.description.utf8))
}
