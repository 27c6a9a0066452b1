import LeadBridgeCore
@testable import LeadBridgeNet
import XCTest

/// Table-driven tests of the pure request parser: every case is parsed in one go and again
/// byte by byte, and both must agree.
final class HTTPRequestParserTests: XCTestCase {
    struct Valid {
        let name: String
        let wire: String
        let method: String
        let target: String
        let path: String
        let query: String
        var version: HTTPVersion = .http11
        var body: String = ""
        var keepAlive = true
        var headers: [(String, String)] = []
    }

    static let json = "{\"name\":\"Иван\",\"phone\":\"+7 900\",\"n\":1}"

    static let valid: [Valid] = [
        Valid(name: "GET with query",
              wire: "GET /postback/kma?token=abc&status=approved&sub1=42 HTTP/1.1\r\nHost: lb.test\r\nUser-Agent: t\r\n\r\n",
              method: "GET", target: "/postback/kma?token=abc&status=approved&sub1=42", path: "/postback/kma",
              query: "token=abc&status=approved&sub1=42", headers: [("host", "lb.test"), ("USER-AGENT", "t")]),
        Valid(name: "POST form",
              wire: "POST /leads HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 17\r\n\r\nname=A+B&phone=79",
              method: "POST", target: "/leads", path: "/leads", query: "", body: "name=A+B&phone=79",
              headers: [("content-type", "application/x-www-form-urlencoded")]),
        Valid(name: "POST JSON",
              wire: "POST /api/v1/lead?x=1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(json.utf8.count)\r\n\r\n\(json)",
              method: "POST", target: "/api/v1/lead?x=1", path: "/api/v1/lead", query: "x=1", body: json),
        Valid(name: "chunked with extension and trailer",
              wire: "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5;ext=\"a b\"\r\npedia\r\nA \r\n in chunks\r\n0\r\nX-Trailer: yes\r\n\r\n",
              method: "POST", target: "/c", path: "/c", query: "", body: "Wikipedia in chunks"),
        Valid(name: "chunked, upper-case hex, empty body",
              wire: "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n000\r\n\r\n",
              method: "POST", target: "/c", path: "/c", query: "", body: ""),
        Valid(name: "Connection: close on HTTP/1.1",
              wire: "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
              method: "GET", target: "/", path: "/", query: "", keepAlive: false),
        Valid(name: "Connection token list",
              wire: "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, CLOSE\r\n\r\n",
              method: "GET", target: "/", path: "/", query: "", keepAlive: false),
        Valid(name: "HTTP/1.0 closes by default, no Host needed",
              wire: "GET /health HTTP/1.0\r\n\r\n",
              method: "GET", target: "/health", path: "/health", query: "", version: .http10, keepAlive: false),
        Valid(name: "HTTP/1.0 keep-alive",
              wire: "GET /health HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
              method: "GET", target: "/health", path: "/health", query: "", version: .http10, keepAlive: true),
        Valid(name: "invalid percent-encoding stays raw",
              wire: "GET /p%zz/%?a=%G1&b=%&c=%0D%0ASet-Cookie:x HTTP/1.1\r\nHost: x\r\n\r\n",
              method: "GET", target: "/p%zz/%?a=%G1&b=%&c=%0D%0ASet-Cookie:x", path: "/p%zz/%",
              query: "a=%G1&b=%&c=%0D%0ASet-Cookie:x"),
        Valid(name: "raw UTF-8 in the query is accepted as is",
              wire: "GET /pb?status=Отказ HTTP/1.1\r\nHost: x\r\n\r\n",
              method: "GET", target: "/pb?status=Отказ", path: "/pb", query: "status=Отказ"),
        Valid(name: "split at the first question mark",
              wire: "GET /a?b?c=d HTTP/1.1\r\nHost: x\r\n\r\n",
              method: "GET", target: "/a?b?c=d", path: "/a", query: "b?c=d"),
        Valid(name: "absolute-form target",
              wire: "GET http://lb.test:8080/pb/x?t=1 HTTP/1.1\r\nHost: lb.test\r\n\r\n",
              method: "GET", target: "http://lb.test:8080/pb/x?t=1", path: "/pb/x", query: "t=1"),
        Valid(name: "OPTIONS *",
              wire: "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
              method: "OPTIONS", target: "*", path: "*", query: ""),
        Valid(name: "empty lines before the request line are skipped",
              wire: "\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
              method: "GET", target: "/", path: "/", query: ""),
        Valid(name: "OWS around values trimmed, inner spaces kept, empty value allowed",
              wire: "GET / HTTP/1.1\r\nHost:x\r\nX-A: \t a  b \t\r\nX-Empty:\r\n\r\n",
              method: "GET", target: "/", path: "/", query: "", headers: [("x-a", "a  b"), ("X-EMPTY", "")]),
        Valid(name: "repeated identical Content-Length",
              wire: "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 003, 3\r\n\r\nabc",
              method: "POST", target: "/", path: "/", query: "", body: "abc"),
        Valid(name: "Content-Length 0",
              wire: "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
              method: "POST", target: "/", path: "/", query: ""),
        Valid(name: "extension method",
              wire: "PURGE /cache HTTP/1.1\r\nHost: x\r\n\r\n",
              method: "PURGE", target: "/cache", path: "/cache", query: ""),
    ]

    func testValidRequests() {
        for c in Self.valid {
            let bytes = Array(c.wire.utf8)
            for (mode, result) in [("whole", HTTPRequestParser.parse(bytes)), ("byte by byte", Self.byteByByte(bytes))] {
                guard case .complete(let r, let consumed) = result else {
                    XCTFail("\(c.name) [\(mode)]: \(result)")
                    continue
                }
                XCTAssertEqual(consumed, bytes.count, "\(c.name) [\(mode)]")
                XCTAssertEqual(r.method, c.method, c.name)
                XCTAssertEqual(r.target, c.target, c.name)
                XCTAssertEqual(r.path, c.path, c.name)
                XCTAssertEqual(r.query, c.query, c.name)
                XCTAssertEqual(r.version, c.version, c.name)
                XCTAssertEqual(r.bodyText, c.body, c.name)
                XCTAssertEqual(r.keepAlive, c.keepAlive, c.name)
                XCTAssertEqual(r.remoteAddress, "", c.name)
                for (name, value) in c.headers {
                    XCTAssertEqual(r.header(name), value, "\(c.name): header \(name)")
                }
            }
        }
    }

    struct Invalid {
        let name: String
        let wire: [UInt8]
        let error: HTTPParseError
        var limits = HTTPLimits()
        init(_ name: String, _ wire: String, _ error: HTTPParseError, limits: HTTPLimits = HTTPLimits()) {
            self.name = name
            self.wire = Array(wire.utf8)
            self.error = error
            self.limits = limits
        }
        init(_ name: String, bytes: [UInt8], _ error: HTTPParseError) {
            self.name = name
            self.wire = bytes
            self.error = error
        }
    }

    static let small = HTTPLimits(maxRequestLineBytes: 64, maxHeaderBytes: 128, maxHeaderCount: 4, maxBodyBytes: 16)

    static let invalid: [Invalid] = [
        // 400: request line
        Invalid("no version", "GET /\r\n\r\n", .malformedRequestLine),
        Invalid("double space", "GET  / HTTP/1.1\r\nHost: x\r\n\r\n", .malformedRequestLine),
        Invalid("trailing space", "GET / HTTP/1.1 \r\nHost: x\r\n\r\n", .malformedRequestLine),
        Invalid("leading space", " GET / HTTP/1.1\r\nHost: x\r\n\r\n", .malformedRequestLine),
        Invalid("lower-case protocol", "GET / http/1.1\r\nHost: x\r\n\r\n", .malformedRequestLine),
        Invalid("garbage version", "GET / HTTP/1.1x\r\nHost: x\r\n\r\n", .malformedRequestLine),
        Invalid("bad method byte", "G(T / HTTP/1.1\r\nHost: x\r\n\r\n", .malformedRequestLine),
        Invalid("target not origin-form", "GET index.html HTTP/1.1\r\nHost: x\r\n\r\n", .malformedRequestLine),
        Invalid("asterisk only for OPTIONS", "GET * HTTP/1.1\r\nHost: x\r\n\r\n", .malformedRequestLine),
        Invalid("tab in target", "GET /a\tb HTTP/1.1\r\nHost: x\r\n\r\n", .malformedRequestLine),
        Invalid("DEL in target", "GET /a\u{7F} HTTP/1.1\r\nHost: x\r\n\r\n", .malformedRequestLine),
        Invalid("non-UTF-8 byte in target", bytes: Array("GET /a".utf8) + [0xFF, 0xFE] + Array(" HTTP/1.1\r\nHost: x\r\n\r\n".utf8),
                .malformedRequestLine),
        Invalid("TLS handshake", bytes: [0x16, 0x03, 0x01, 0x02, 0x00, 0x01], .malformedRequestLine),
        // 400: line endings and CRLF injection
        Invalid("bare LF line endings", "GET / HTTP/1.1\nHost: x\n\n", .invalidLineEnding),
        Invalid("CR inside request line", "GET /a\rSet-Cookie: x HTTP/1.1\r\nHost: x\r\n\r\n", .invalidLineEnding),
        Invalid("CR inside header value", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rSet-Cookie: y\r\n\r\n", .invalidLineEnding),
        Invalid("LF inside header value", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\nSet-Cookie: y\r\n\r\n", .invalidLineEnding),
        Invalid("bare LF ends header section", "GET / HTTP/1.1\r\nHost: x\r\n\n", .invalidLineEnding),
        // 400: headers
        Invalid("obs-fold", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n", .malformedHeader),
        Invalid("space before colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", .malformedHeader),
        Invalid("no colon", "GET / HTTP/1.1\r\nHost: x\r\nJunk\r\n\r\n", .malformedHeader),
        Invalid("empty name", "GET / HTTP/1.1\r\nHost: x\r\n: v\r\n\r\n", .malformedHeader),
        Invalid("NUL in value", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\u{0}b\r\n\r\n", .malformedHeader),
        Invalid("control char in value", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\u{1B}b\r\n\r\n", .malformedHeader),
        Invalid("missing Host on 1.1", "GET / HTTP/1.1\r\nX-A: a\r\n\r\n", .invalidHost),
        Invalid("two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", .invalidHost),
        // 400: framing
        Invalid("Content-Length not a number", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1e3\r\n\r\n", .invalidContentLength),
        Invalid("negative Content-Length", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", .invalidContentLength),
        Invalid("empty Content-Length", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n\r\n", .invalidContentLength),
        Invalid("different Content-Lengths", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", .invalidContentLength),
        Invalid("different Content-Lengths in a list", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 4\r\n\r\nabcd", .invalidContentLength),
        Invalid("Content-Length with Transfer-Encoding", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", .conflictingFraming),
        Invalid("Transfer-Encoding on HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", .conflictingFraming),
        Invalid("chunk size not hex", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", .malformedChunk),
        Invalid("chunk size negative", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n", .malformedChunk),
        Invalid("chunk size overflow", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFFFF\r\n", .malformedChunk),
        Invalid("chunk data longer than size", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n", .malformedChunk),
        Invalid("chunk line bare LF", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n", .invalidLineEnding),
        Invalid("malformed trailer", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nbad trailer\r\n\r\n", .malformedHeader),
        // 413
        Invalid("Content-Length over the limit", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1048577\r\n\r\n", .bodyTooLarge),
        Invalid("huge Content-Length", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n", .bodyTooLarge),
        Invalid("chunked body over the limit", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123456789abcdef\r\n1\r\nx\r\n", .bodyTooLarge, limits: small),
        Invalid("one chunk over the limit", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n11\r\n", .bodyTooLarge, limits: small),
        // 414
        Invalid("request line too long", "GET /" + String(repeating: "a", count: 8 * 1024) + " HTTP/1.1\r\nHost: x\r\n\r\n", .uriTooLong),
        Invalid("request line too long, not yet terminated", "GET /" + String(repeating: "a", count: 60), .uriTooLong, limits: small),
        // 431
        Invalid("header section too large", "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + String(repeating: "b", count: 16 * 1024) + "\r\n\r\n", .headersTooLarge),
        Invalid("header section too large, not yet terminated", "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + String(repeating: "b", count: 130), .headersTooLarge, limits: small),
        Invalid("too many headers", "GET / HTTP/1.1\r\nHost: x\r\n" + (0..<100).map { "X-\($0): v\r\n" }.joined() + "\r\n", .tooManyHeaders),
        Invalid("too many trailers", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n" + (0..<5).map { "T\($0): v\r\n" }.joined() + "\r\n", .tooManyHeaders, limits: small),
        // 501
        Invalid("gzip transfer coding", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", .unsupportedTransferEncoding),
        Invalid("gzip, chunked", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", .unsupportedTransferEncoding),
        Invalid("chunked twice", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", .unsupportedTransferEncoding),
        // 505
        Invalid("HTTP/2.0", "GET / HTTP/2.0\r\nHost: x\r\n\r\n", .unsupportedVersion),
        Invalid("HTTP/0.9", "GET / HTTP/0.9\r\n\r\n", .unsupportedVersion),
        Invalid("HTTP/1.2", "GET / HTTP/1.2\r\nHost: x\r\n\r\n", .unsupportedVersion),
    ]

    func testInvalidRequests() {
        for c in Self.invalid {
            let whole = HTTPRequestParser.parse(c.wire, limits: c.limits)
            XCTAssertEqual(whole, .error(c.error), c.name)
            XCTAssertEqual(Self.byteByByte(c.wire, limits: c.limits), .error(c.error), "\(c.name) [byte by byte]")
        }
    }

    func testStatusForEveryError() {
        let expected: [HTTPParseError: Int] = [
            .malformedRequestLine: 400, .invalidLineEnding: 400, .malformedHeader: 400, .invalidHost: 400,
            .invalidContentLength: 400, .conflictingFraming: 400, .malformedChunk: 400, .bodyTooLarge: 413,
            .uriTooLong: 414, .headersTooLarge: 431, .tooManyHeaders: 431, .unsupportedTransferEncoding: 501,
            .unsupportedVersion: 505,
        ]
        for (error, status) in expected { XCTAssertEqual(error.status, status, "\(error)") }
        // Every error the table expects is covered.
        XCTAssertEqual(Set(Self.invalid.map(\.error)), Set(expected.keys))
    }

    func testLimitsAreInclusive() {
        let limits = HTTPLimits(maxRequestLineBytes: 16, maxHeaderBytes: 20, maxHeaderCount: 2, maxBodyBytes: 3)
        // Request line of exactly 16 bytes, header section of exactly 20 bytes (lines + CRLFs + final CRLF).
        let line = "GET /ab HTTP/1.1" // 16 bytes
        XCTAssertEqual(line.utf8.count, 16)
        let headers = "Host: x\r\nB: 123456\r\n\r\n" // 9 + 11 + 2 = 22
        let fitting = "Host: x\r\nB: 1234\r\n\r\n" // 9 + 9 + 2 = 20
        XCTAssertEqual(fitting.utf8.count, 20)
        guard case .complete = HTTPRequestParser.parse(Array((line + "\r\n" + fitting).utf8), limits: limits) else {
            return XCTFail("request exactly at the limits must parse")
        }
        XCTAssertEqual(HTTPRequestParser.parse(Array(("GET /abc HTTP/1.1\r\n" + fitting).utf8), limits: limits), .error(.uriTooLong))
        XCTAssertEqual(HTTPRequestParser.parse(Array((line + "\r\n" + headers).utf8), limits: limits), .error(.headersTooLarge))
        let body3 = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
        let big = HTTPLimits(maxBodyBytes: 3)
        guard case .complete(let r, _) = HTTPRequestParser.parse(Array(body3.utf8), limits: big) else { return XCTFail("3-byte body") }
        XCTAssertEqual(r.bodyText, "abc")
        XCTAssertEqual(HTTPRequestParser.parse(Array(body3.replacingOccurrences(of: "3", with: "4").utf8), limits: big), .error(.bodyTooLarge))
    }

    func testPipelinedRequestsStayBuffered() {
        let first = "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi"
        let second = "GET /b?q=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        let partialThird = "GET /c HT"
        var parser = HTTPRequestParser()
        parser.append(Array((first + second + partialThird).utf8))
        guard case .complete(let a, let consumedA) = parser.next() else { return XCTFail("first") }
        XCTAssertEqual(a.path, "/a")
        XCTAssertEqual(a.bodyText, "hi")
        XCTAssertEqual(consumedA, first.utf8.count)
        guard case .complete(let b, let consumedB) = parser.next() else { return XCTFail("second") }
        XCTAssertEqual(b.path, "/b")
        XCTAssertEqual(b.query, "q=1")
        XCTAssertFalse(b.keepAlive)
        XCTAssertEqual(consumedB, second.utf8.count)
        XCTAssertEqual(parser.next(), .needMore)
        XCTAssertEqual(parser.bufferedByteCount, partialThird.utf8.count)
        guard case .complete(let c, _) = parser.feed(Array("TP/1.1\r\nHost: x\r\n\r\n".utf8)) else { return XCTFail("third") }
        XCTAssertEqual(c.path, "/c")
        XCTAssertEqual(parser.bufferedByteCount, 0)
        XCTAssertEqual(parser.next(), .needMore)
    }

    func testErrorIsSticky() {
        var parser = HTTPRequestParser()
        XCTAssertEqual(parser.feed(Array("GET / HTTP/3.0\r\n\r\n".utf8)), .error(.unsupportedVersion))
        XCTAssertEqual(parser.feed(Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8)), .error(.unsupportedVersion))
    }

    func testExpectContinue() {
        var parser = HTTPRequestParser()
        XCTAssertEqual(parser.feed(Array("POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n".utf8)), .needMore)
        XCTAssertTrue(parser.shouldSendContinue)
        parser.didSendContinue()
        XCTAssertFalse(parser.shouldSendContinue)
        guard case .complete(let r, _) = parser.feed(Array("abc".utf8)) else { return XCTFail("body") }
        XCTAssertEqual(r.bodyText, "abc")
        XCTAssertFalse(parser.shouldSendContinue)
        // Not for HTTP/1.0, not without a body.
        var p10 = HTTPRequestParser()
        _ = p10.feed(Array("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n".utf8))
        XCTAssertFalse(p10.shouldSendContinue)
    }

    func testHeaderLookupAndOrder() {
        let r = HTTPServerRequest(method: "GET", target: "/x?y", headers: [
            HTTPHeader("X-Sig", "a"), HTTPHeader("x-sig", "b"), HTTPHeader("Other", "c"),
        ])
        XCTAssertEqual(r.header("X-SIG"), "a")
        XCTAssertEqual(r.headers(named: "x-Sig"), ["a", "b"])
        XCTAssertNil(r.header("missing"))
        XCTAssertEqual(r.path, "/x")
        XCTAssertEqual(r.query, "y")
    }

    func testNonUTF8HeaderValueIsDecodedLossily() {
        let wire = Array("GET / HTTP/1.1\r\nHost: x\r\nX-A: a".utf8) + [0xFF] + Array("b\r\n\r\n".utf8)
        guard case .complete(let r, _) = HTTPRequestParser.parse(wire) else { return XCTFail("parse") }
        XCTAssertEqual(r.header("x-a"), "a\u{FFFD}b")
    }

    func testLargeBodyArrivingInPieces() {
        let body = [UInt8](repeating: 0x61, count: 1024 * 1024)
        var parser = HTTPRequestParser()
        XCTAssertEqual(parser.feed(Array("PUT /big HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.count)\r\n\r\n".utf8)), .needMore)
        var result = HTTPParseResult.needMore
        for start in stride(from: 0, to: body.count, by: 65536) {
            result = parser.feed(body[start..<min(body.count, start + 65536)])
        }
        guard case .complete(let r, _) = result else { return XCTFail("big body") }
        XCTAssertEqual(r.body.count, body.count)
    }

    /// Feeds one byte at a time and returns the first result that is not `.needMore`.
    static func byteByByte(_ bytes: [UInt8], limits: HTTPLimits = HTTPLimits()) -> HTTPParseResult {
        var parser = HTTPRequestParser(limits: limits)
        for b in bytes {
            let r = parser.feed(CollectionOfOne(b))
            if r != .needMore { return r }
        }
        return .needMore
    }
}
