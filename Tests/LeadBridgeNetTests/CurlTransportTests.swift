import Foundation
import Synchronization
import Testing
import LeadBridgeCore
@testable import LeadBridgeNet

/// The libcurl client against real sockets on loopback: exact bytes on the wire, connect-to,
/// keep-alive, timeouts, resets, garbage, redirects, proxies and TLS with a test CA — and for
/// every failure, whether the request may have reached the network (`delivery`).
@Suite struct CurlTransportTests {
    func failure(_ transport: CurlTransport, _ request: HTTPRequestValue, timeout: Double = 60) async -> TransportError? {
        do {
            let r = try await transport.send(request, timeout: timeout)
            Issue.record("expected a failure, got HTTP \(r.status)")
            return nil
        } catch {
            return error
        }
    }

    @Test func bytesOnTheWireAreTheRequestsOwn() async throws {
        let server = try RawServer { c in
            while c.readRequest() != nil { c.answer(201, #"{"ok":true}"#, headers: ["X-Answer: yes"]) }
        }
        let transport = CurlTransport()
        let body = Array("name=%D0%98&phone=%2B7900".utf8)
        let r = try await transport.send(HTTPRequestValue(method: "POST", url: "http://127.0.0.1:\(server.port)/lead/add?x=1&y=%20",
                                                           headers: [HTTPHeader("Content-Type", "application/x-www-form-urlencoded"),
                                                                     HTTPHeader("Authorization", "Bearer T-1"), HTTPHeader("X-Empty", "")],
                                                           body: body), timeout: 5)
        #expect(r.status == 201)
        #expect(r.bodyText == #"{"ok":true}"#)
        #expect(r.header("x-answer") == "yes")
        let wire = try #require(server.requests.first)
        #expect(wire.requestLine == "POST /lead/add?x=1&y=%20 HTTP/1.1")
        #expect(wire.body == body)
        #expect(wire.header("Host") == "127.0.0.1:\(server.port)")
        #expect(wire.header("Content-Length") == "\(body.count)")
        #expect(wire.header("Content-Type") == "application/x-www-form-urlencoded")
        #expect(wire.header("Authorization") == "Bearer T-1")
        #expect(wire.headerLines.contains("X-Empty:"))
        #expect(wire.header("Expect") == nil)
        #expect(wire.header("Accept-Encoding") == nil)
        #expect(wire.header("User-Agent") == "leadbridge")
    }

    /// An https URL of a real host goes to the loopback target as plain HTTP with the real
    /// Host (port kept when it is not the default), by CURLOPT_CONNECT_TO.
    @Test func connectToKeepsTheRealHost() async throws {
        let server = try RawServer { c in
            while c.readRequest() != nil { c.answer(200, "ok") }
        }
        let map = try ConnectToMap.parse(["api.kma.biz=127.0.0.1:\(server.port),tl-api.com=127.0.0.1:\(server.port)"])
        let transport = CurlTransport(connectTo: map, environment: ["http_proxy": "http://127.0.0.1:1", "HTTPS_PROXY": "http://127.0.0.1:1"])
        _ = try await transport.send(HTTPRequestValue(method: "GET", url: "https://api.kma.biz/lead/status?id=7"), timeout: 5)
        _ = try await transport.send(HTTPRequestValue(method: "PUT", url: "https://tl-api.com:8443/v1", body: Array("{}".utf8)), timeout: 5)
        _ = try await transport.send(HTTPRequestValue(method: "GET", url: "http://tl-api.com:8080/x"), timeout: 5)
        let got = server.requests
        try #require(got.count == 3)
        #expect(got[0].requestLine == "GET /lead/status?id=7 HTTP/1.1")
        #expect(got[0].header("Host") == "api.kma.biz")
        #expect(got[1].requestLine == "PUT /v1 HTTP/1.1")
        #expect(got[1].header("Host") == "tl-api.com:8443")
        #expect(got[1].body == Array("{}".utf8))
        #expect(got[2].header("Host") == "tl-api.com:8080")
        #expect(server.connections == 3)  // one connection per origin, as for real hosts
    }

    @Test func keepAliveReusesOneConnection() async throws {
        let server = try RawServer { c in
            while c.readRequest() != nil { c.answer(200, "ok") }
        }
        let transport = CurlTransport()
        for i in 0..<20 {
            let r = try await transport.send(HTTPRequestValue(method: "GET", url: "http://127.0.0.1:\(server.port)/\(i)"), timeout: 5)
            #expect(r.status == 200)
        }
        #expect(server.connections == 1)
        #expect(server.requests.count == 20)
    }

    /// A server that closes every connection after one answer: each request gets a new socket,
    /// usually with the descriptor number of the one just closed. The client's event loop
    /// stops watching a closed socket and watches the new one (sequential and concurrent
    /// requests alike), so every request is answered and none waits for its timeout.
    @Test func aConnectionClosedAfterEachAnswerIsReplaced() async throws {
        let server = try RawServer { c in
            if c.readRequest() != nil { c.answer(200, "ok", headers: ["Connection: close"]) }
        }
        let transport = CurlTransport()
        for i in 0..<20 {
            let r = try await transport.send(HTTPRequestValue(method: "POST", url: "http://127.0.0.1:\(server.port)/\(i)", body: [1]), timeout: 30)
            #expect(r.status == 200 && r.body == Array("ok".utf8))
        }
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for i in 0..<16 {
                group.addTask { try await transport.send(HTTPRequestValue(method: "POST", url: "http://127.0.0.1:\(server.port)/c\(i)", body: [1]), timeout: 30).status }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses == Array(repeating: 200, count: 16))
        #expect(server.requests.count == 36)
        #expect(server.connections == 36)
    }

    /// Concurrent requests to a plain-http host open their connections at once: the server
    /// answers none until four connections are open (waiting up to 20 s), so a client that
    /// held the later requests until the first answer (libcurl's PIPEWAIT) leaves it waiting.
    @Test func concurrentRequestsOpenTheirConnectionsAtOnce() async throws {
        let connected = Mutex(0)
        let together = Mutex(0)
        let server = try RawServer { c in
            connected.withLock { $0 += 1 }
            guard c.readRequest() != nil else { return }
            var all = false
            for _ in 0..<20_000 where !all {
                all = connected.withLock { $0 } >= 4
                if !all { usleep(1_000) }
            }
            if all { together.withLock { $0 += 1 } }
            c.answer(200, "ok")
        }
        let transport = CurlTransport()
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for i in 0..<4 {
                group.addTask { try await transport.send(HTTPRequestValue(method: "POST", url: "http://127.0.0.1:\(server.port)/\(i)", body: [1]), timeout: 60).status }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses == [200, 200, 200, 200])
        #expect(together.withLock { $0 } == 4, "requests answered before four connections were open: \(4 - together.withLock { $0 })")
    }

    @Test func refusedConnectionIsNotSent() async throws {
        let port = try RawServer.closedPort()
        let e = try #require(await failure(CurlTransport(), HTTPRequestValue(method: "POST", url: "http://127.0.0.1:\(port)/lead", body: [1])))
        #expect(e.kind == .connection)
        #expect(e.delivery == .notSent)
        #expect(e.message.contains("cannot connect to 127.0.0.1"))
    }

    /// No answer within the timeout (given in milliseconds) after the request was written.
    @Test func timeoutAfterTheRequestMayHaveArrived() async throws {
        let server = try RawServer { c in
            _ = c.readRequest()
            c.waitForClose()
        }
        let e = try #require(await failure(CurlTransport(), HTTPRequestValue(method: "POST", url: "http://127.0.0.1:\(server.port)/lead", body: [1]), timeout: 0.25))
        #expect(e.kind == .timeout)
        #expect(e.delivery == .maybeReceived)
        #expect(e.message == "no answer from 127.0.0.1 within 250 ms")
        #expect(server.requests.count == 1)
    }

    /// A reset in the middle of an answer fails the request at once: with a 60 s timeout, a
    /// client that waited for the timeout would report `timeout`, not a reset.
    @Test func resetMidAnswerIsSeenAtOnce() async throws {
        let server = try RawServer { c in
            _ = c.readRequest()
            c.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"status\":")
            Thread.sleep(forTimeInterval: 0.05)
            c.reset()
        }
        let e = try #require(await failure(CurlTransport(), HTTPRequestValue(method: "POST", url: "http://127.0.0.1:\(server.port)/lead", body: [1]), timeout: 60))
        #expect(e.kind == .connection)
        #expect(e.delivery == .maybeReceived)
    }

    /// The network took the request and closed the reused keep-alive connection without a
    /// byte of answer: libcurl's own retry on a fresh connection would send it a second time.
    /// The request is written once; the failure says it may have arrived.
    @Test func aRequestIsNeverWrittenTwiceByLibcurlsRetry() async throws {
        let server = try RawServer { c in
            guard let first = c.readRequest() else { return }
            if first.requestLine.contains("/first") {
                c.answer(200, "ok")
                _ = c.readRequest()
                c.reset()
                return
            }
            c.answer(200, "again")  // a retry on a fresh connection would be answered
        }
        let transport = CurlTransport()
        let ok = try await transport.send(HTTPRequestValue(method: "GET", url: "http://127.0.0.1:\(server.port)/first"), timeout: 5)
        #expect(ok.status == 200)
        let e = try #require(await failure(transport, HTTPRequestValue(method: "POST", url: "http://127.0.0.1:\(server.port)/lead", body: Array("id=A-1".utf8)), timeout: 10))
        #expect(e.delivery == .maybeReceived)
        #expect(server.requests.filter { $0.requestLine.contains("/lead") }.count == 1, "the request was written \(server.requests.filter { $0.requestLine.contains("/lead") }.count) times")
    }

    /// A reset with no answer at all on a reused keep-alive connection: the network may have
    /// the request. libcurl may retry once on a fresh connection (see `CurlFailure`); the
    /// script resets that one too, so the request must fail as `maybeReceived`.
    @Test func resetOnAReusedConnectionMayHaveArrived() async throws {
        let resets = try RawServer { c in
            let first = c.readRequest()
            if let first, first.requestLine.contains("/first") {
                c.answer(200, "ok")
                _ = c.readRequest()
            }
            c.reset()
        }
        let transport = CurlTransport()
        let ok = try await transport.send(HTTPRequestValue(method: "GET", url: "http://127.0.0.1:\(resets.port)/first"), timeout: 5)
        #expect(ok.status == 200)
        let e = try #require(await failure(transport, HTTPRequestValue(method: "POST", url: "http://127.0.0.1:\(resets.port)/second", body: [1]), timeout: 60))
        #expect(e.kind == .connection)
        #expect(e.delivery == .maybeReceived)
    }

    @Test(arguments: ["NOT HTTP AT ALL\r\n\r\n", "HTTP/1.1 abc\r\n\r\n", "\u{0}\u{1}\u{2}garbage"])
    func garbageAnswerMayHaveArrived(_ garbage: String) async throws {
        let server = try RawServer { c in
            _ = c.readRequest()
            c.write(garbage)
        }
        let e = try #require(await failure(CurlTransport(), HTTPRequestValue(method: "POST", url: "http://127.0.0.1:\(server.port)/lead", body: [1]), timeout: 10))
        #expect(e.kind == .connection)
        #expect(e.delivery == .maybeReceived)
    }

    @Test func serverClosingWithoutAnswerMayHaveArrived() async throws {
        let server = try RawServer { c in _ = c.readRequest() }
        let e = try #require(await failure(CurlTransport(), HTTPRequestValue(method: "POST", url: "http://127.0.0.1:\(server.port)/lead", body: [1]), timeout: 10))
        #expect(e.delivery == .maybeReceived)
        #expect(e.message.contains("without an answer") || e.message.contains("reset"))
    }

    /// Redirects are answers: a POST is never replayed to another host (nor a GET followed).
    @Test(arguments: [(307, "POST"), (308, "POST"), (302, "POST"), (302, "GET")])
    func redirectsAreNotFollowed(_ status: Int, _ method: String) async throws {
        let elsewhere = try RawServer { c in
            while c.readRequest() != nil { c.answer(200, "stolen") }
        }
        let server = try RawServer { c in
            while c.readRequest() != nil { c.answer(status, "", headers: ["Location: http://localhost:\(elsewhere.port)/collect"]) }
        }
        let r = try await CurlTransport().send(HTTPRequestValue(method: method, url: "http://127.0.0.1:\(server.port)/lead",
                                                                headers: [HTTPHeader("Authorization", "Bearer SECRET")],
                                                                body: method == "POST" ? Array("phone=1".utf8) : []), timeout: 5)
        #expect(r.status == status)
        #expect(r.header("Location") == "http://localhost:\(elsewhere.port)/collect")
        #expect(elsewhere.requests.isEmpty)
        #expect(server.requests.count == 1)
    }

    @Test func cancellingARequestInFlight() async throws {
        let server = try RawServer { c in
            _ = c.readRequest()
            c.waitForClose()
        }
        let transport = CurlTransport()
        let request = HTTPRequestValue(method: "POST", url: "http://127.0.0.1:\(server.port)/lead", body: [1])
        let task = Task { () -> TransportError? in
            do throws(TransportError) {
                _ = try await transport.send(request, timeout: 60)
                return nil
            } catch {
                return error
            }
        }
        // Cancel once the server has the request (bounded wait, no timing assertion).
        for _ in 0..<500 where server.requests.isEmpty { try await Task.sleep(nanoseconds: 10_000_000) }
        task.cancel()
        let e: TransportError = try #require(await task.value)
        #expect(e.kind == .cancelled)
        #expect(e.delivery == .maybeReceived)
    }

    // MARK: proxies

    /// An http URL through `http_proxy` (absolute-form request line); the upper-case
    /// `HTTP_PROXY` is ignored, as curl ignores it.
    @Test func httpProxyFromTheEnvironment() async throws {
        let proxy = try RawServer { c in
            while c.readRequest() != nil { c.answer(200, "via proxy") }
        }
        let r = try await CurlTransport(environment: ["http_proxy": "http://127.0.0.1:\(proxy.port)"])
            .send(HTTPRequestValue(method: "GET", url: "http://api.network.test/status?id=1"), timeout: 5)
        #expect(r.bodyText == "via proxy")
        #expect(proxy.requests.first?.requestLine == "GET http://api.network.test/status?id=1 HTTP/1.1")
        #expect(ProxyEnvironment(["HTTP_PROXY": "http://evil:1"]).proxy(for: "http://a.test/") == nil)
        #expect(ProxyEnvironment(["HTTPS_PROXY": "http://p:1"]).proxy(for: "https://a.test/") == "http://p:1")
        #expect(ProxyEnvironment(["ALL_PROXY": "http://p:2"]).proxy(for: "http://a.test/") == "http://p:2")
        let direct = try RawServer { c in
            while c.readRequest() != nil { c.answer(200, "direct") }
        }
        let bypassed = try await CurlTransport(environment: ["http_proxy": "http://127.0.0.1:\(proxy.port)", "no_proxy": "127.0.0.1"])
            .send(HTTPRequestValue(method: "GET", url: "http://127.0.0.1:\(direct.port)/"), timeout: 5)
        #expect(bypassed.bodyText == "direct")
    }

    /// An https URL through `HTTPS_PROXY`: a CONNECT tunnel, then TLS with the server inside.
    @Test func httpsThroughAProxyTunnel() async throws {
        let pki = try await TestPKI.make()
        defer { pki.remove() }
        let tls = try await pki.startServer()
        defer { tls.stop() }
        let proxy = try RawServer { c in
            guard let r = c.readRequest(), r.requestLine.hasPrefix("CONNECT ") else { return }
            let upstream = RawConnection.connect(port: tls.port)
            guard upstream >= 0 else { c.answer(502); return }
            c.write("HTTP/1.1 200 Connection established\r\n\r\n")
            c.pipe(to: upstream)
        }
        let transport = CurlTransport(environment: ["HTTPS_PROXY": "http://127.0.0.1:\(proxy.port)", "SSL_CERT_FILE": pki.caFile])
        let r = try await transport.send(HTTPRequestValue(method: "GET", url: "https://localhost:\(tls.port)/"), timeout: 10)
        #expect(r.status == 200)
        #expect(proxy.requests.first?.requestLine == "CONNECT localhost:\(tls.port) HTTP/1.1")
    }

    @Test func proxyFailuresAreNotSent() async throws {
        let refused = try RawServer.closedPort()
        let e1 = try #require(await failure(CurlTransport(environment: ["HTTPS_PROXY": "http://127.0.0.1:\(refused)"]),
                                            HTTPRequestValue(method: "POST", url: "https://api.network.test/lead", body: [1])))
        #expect(e1.delivery == .notSent)
        let forbidding = try RawServer { c in
            while c.readRequest() != nil { c.answer(403) }
        }
        let e2 = try #require(await failure(CurlTransport(environment: ["HTTPS_PROXY": "http://127.0.0.1:\(forbidding.port)"]),
                                            HTTPRequestValue(method: "POST", url: "https://api.network.test/lead", body: [1])))
        #expect(e2.delivery == .notSent)
        #expect(e2.message.contains("proxy"))
    }

    // MARK: TLS

    @Test func httpsWithVerificationAgainstATestCA() async throws {
        let pki = try await TestPKI.make()
        defer { pki.remove() }
        let tls = try await pki.startServer()
        defer { tls.stop() }
        let trusted = CurlTransport(environment: ["SSL_CERT_FILE": pki.caFile])
        let r = try await trusted.send(HTTPRequestValue(method: "GET", url: "https://localhost:\(tls.port)/"), timeout: 10)
        #expect(r.status == 200)
        #expect(r.bodyText.contains("s_server"))

        // The system's CAs do not know the test CA.
        let untrusted = try #require(await failure(CurlTransport(), HTTPRequestValue(method: "POST", url: "https://localhost:\(tls.port)/lead", body: [1]), timeout: 10))
        #expect(untrusted.kind == .connection)
        #expect(untrusted.delivery == .notSent)
        #expect(untrusted.message.hasPrefix("TLS certificate of localhost refused"), "\(untrusted.message)")

        // The certificate is for localhost, not 127.0.0.1.
        let wrongName = try #require(await failure(trusted, HTTPRequestValue(method: "POST", url: "https://127.0.0.1:\(tls.port)/lead", body: [1]), timeout: 10))
        #expect(wrongName.delivery == .notSent)
        #expect(wrongName.message.hasPrefix("TLS certificate of 127.0.0.1 refused"), "\(wrongName.message)")
        #expect(wrongName.message.contains("127.0.0.1"))
    }

    // MARK: classification

    /// The delivery table of `CurlFailure`: the code names the failure, the PREREQ hook
    /// (request started) decides whether the network may have it.
    @Test(arguments: [
        (6, false, TransportError.Kind.connection, TransportError.Delivery.notSent, "host not found: api.test"),
        (7, false, .connection, .notSent, "cannot connect to api.test: d"),
        (60, false, .connection, .notSent, "TLS certificate of api.test refused: d"),
        (35, false, .connection, .notSent, "TLS handshake with api.test failed: d"),
        (56, false, .connection, .notSent, "proxy refused the tunnel to api.test: d"),
        (28, false, .timeout, .notSent, "could not connect to api.test within 1500 ms"),
        (3, false, .invalidRequest, .notSent, "invalid URL for api.test: d"),
        (28, true, .timeout, .maybeReceived, "no answer from api.test within 1500 ms"),
        (56, true, .connection, .maybeReceived, "connection reset by api.test: d"),
        (55, true, .connection, .maybeReceived, "connection reset by api.test: d"),
        (52, true, .connection, .maybeReceived, "api.test closed the connection without an answer"),
        (8, true, .connection, .maybeReceived, "api.test answered something that is not HTTP (d)"),
        (1, true, .connection, .maybeReceived, "api.test answered something that is not HTTP (d)"),
        (18, true, .connection, .maybeReceived, "the answer from api.test was cut short: d"),
        (99, true, .connection, .maybeReceived, "api.test: d"),
        (99, false, .connection, .notSent, "api.test: d"),
    ])
    func deliveryTable(_ code: Int, _ started: Bool, _ kind: TransportError.Kind, _ delivery: TransportError.Delivery, _ message: String) {
        let e = CurlFailure(code: UInt32(code), detail: "d", requestStarted: started, timeoutMs: 1500, host: "api.test").error
        #expect(e.kind == kind)
        #expect(e.delivery == delivery)
        #expect(e.message == message)
    }

    @Test func connectToRoutes() throws {
        let map = try ConnectToMap.parse(["a.test=127.0.0.1:9100", "b.test=[::1]:9200"])
        #expect(map.route("https://a.test/x?y=1") == ConnectToMap.Route(url: "http://a.test/x?y=1", connectTo: "a.test:80:127.0.0.1:9100"))
        #expect(map.route("https://a.test:443/x") == ConnectToMap.Route(url: "http://a.test/x", connectTo: "a.test:80:127.0.0.1:9100"))
        #expect(map.route("https://A.test:8443") == ConnectToMap.Route(url: "http://a.test:8443/", connectTo: "a.test:8443:127.0.0.1:9100"))
        #expect(map.route("http://b.test:81/p") == ConnectToMap.Route(url: "http://b.test:81/p", connectTo: "b.test:81:[::1]:9200"))
        #expect(map.route("https://c.test/") == nil)
        #expect(throws: ConnectToRuleError.notLoopback(rule: "a.test=10.0.0.1:80")) { try ConnectToMap.parse(["a.test=10.0.0.1:80"]) }
        #expect(throws: ConnectToRuleError.notHostAddressPort(rule: "a.test")) { try ConnectToMap.parse(["b.test=127.0.0.1:80, a.test"]) }
    }

    /// The driver routes a request by its origin, worked out on the origin's first request:
    /// every later URL of that origin — other paths, queries, fragments, none — goes where
    /// `ConnectToMap.route` sends the whole URL.
    @Test(arguments: ["https://a.test", "https://A.test:8443", "https://user@a.test:443", "http://b.test:81", "https://c.test", "http://[::1]:9"])
    func routingByOriginIsRoutingTheWholeURL(_ origin: String) throws {
        let map = try ConnectToMap.parse(["a.test=127.0.0.1:9100", "b.test=[::1]:9200", "[::1]=127.0.0.1:9300"])
        let rests = ["", "/", "/lead/add", "?x=1", "/p?q=%D0%B0&r=ж#frag", "#only", "/a#b?c"]
        let first = CurlDriver.route(origin + "/first?x", map)
        for rest in rests {
            let url = origin + rest
            let split = CurlDriver.split(url)
            #expect(split.origin == origin[...] && split.rest == rest[...])
            let whole = map.route(url)
            #expect(first?.connectTo == whole?.connectTo, "\(url)")
            #expect(first.map { CurlDriver.routedURL($0.origin, rest: split.rest) } == whole?.url, "\(url)")
        }
    }
}
