import LeadBridgeCore
@testable import LeadBridgeNet
import XCTest

/// Golden wire bytes for responses, including framing the handler cannot override and
/// header values that try to inject lines.
final class HTTPResponseSerializerTests: XCTestCase {
    func wire(_ r: HTTPServerResponse, keepAlive: Bool = true, version: HTTPVersion = .http11, head: Bool = false) -> String {
        String(decoding: HTTPResponseSerializer.serialize(r, keepAlive: keepAlive, requestVersion: version, headRequest: head), as: UTF8.self)
    }

    func testTable() {
        let cases: [(String, String, String)] = [
            ("keep-alive text", wire(.text("ok")),
             "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 2\r\n\r\nok"),
            ("closing", wire(HTTPServerResponse(status: 404), keepAlive: false),
             "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
            ("HTTP/1.0 keep-alive", wire(HTTPServerResponse(status: 202, body: Array("x".utf8)), version: .http10),
             "HTTP/1.1 202 Accepted\r\nContent-Length: 1\r\nConnection: keep-alive\r\n\r\nx"),
            ("HEAD keeps the length, drops the body", wire(.json("{}"), head: true),
             "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n"),
            ("204 has neither length nor body", wire(HTTPServerResponse(status: 204, body: Array("x".utf8))),
             "HTTP/1.1 204 No Content\r\n\r\n"),
            ("framing headers from the handler are replaced",
             wire(HTTPServerResponse(headers: [HTTPHeader("content-length", "999"), HTTPHeader("Transfer-Encoding", "chunked"),
                                               HTTPHeader("Connection", "keep-alive"), HTTPHeader("X-A", "1")],
                                     body: Array("abc".utf8)), keepAlive: false),
             "HTTP/1.1 200 OK\r\nX-A: 1\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc"),
            ("CRLF injection in a value is neutralized",
             wire(HTTPServerResponse(headers: [HTTPHeader("Location", "/x\r\nSet-Cookie: evil=1\u{0}")])),
             "HTTP/1.1 200 OK\r\nLocation: /x  Set-Cookie: evil=1 \r\nContent-Length: 0\r\n\r\n"),
            ("invalid header names are dropped",
             wire(HTTPServerResponse(headers: [HTTPHeader("Bad Name", "v"), HTTPHeader("", "v"), HTTPHeader("X\r\nY", "v")])),
             "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
            ("unknown status gets a class reason", wire(HTTPServerResponse(status: 599)),
             "HTTP/1.1 599 Server Error\r\nContent-Length: 0\r\n\r\n"),
            ("out-of-range status becomes 500", wire(HTTPServerResponse(status: 7)),
             "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n"),
        ]
        for (name, actual, expected) in cases { XCTAssertEqual(actual, expected, name) }
    }

    func testReasonPhrases() {
        for (status, reason) in [(400, "Bad Request"), (408, "Request Timeout"), (413, "Content Too Large"), (414, "URI Too Long"),
                                 (431, "Request Header Fields Too Large"), (501, "Not Implemented"), (503, "Service Unavailable"),
                                 (505, "HTTP Version Not Supported")] {
            XCTAssertEqual(HTTPResponseSerializer.reasonPhrase(for: status), reason)
        }
    }

    func testListenAddress() {
        let cases: [(String, HTTPListenAddress?)] = [
            ("127.0.0.1:8080", HTTPListenAddress(host: "127.0.0.1", port: 8080)),
            ("[::1]:9000", HTTPListenAddress(host: "::1", port: 9000)),
            (":80", HTTPListenAddress(host: "0.0.0.0", port: 80)),
            ("8081", HTTPListenAddress(host: "127.0.0.1", port: 8081)),
            ("localhost:0", HTTPListenAddress(host: "localhost", port: 0)),
            ("::1:80", nil), ("host.example:80", nil), ("127.0.0.1:70000", nil), ("127.0.0.1:", nil), ("[::1]", nil),
            ("127.0.0.1:+80", nil),
        ]
        for (text, expected) in cases { XCTAssertEqual(HTTPListenAddress(text), expected, text) }
        XCTAssertEqual(HTTPListenAddress(host: "::1", port: 1).description, "[::1]:1")
    }
}
