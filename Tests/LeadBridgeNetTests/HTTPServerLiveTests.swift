import Dispatch
import Foundation
import Glibc
import LeadBridgeCore
@testable import LeadBridgeNet
import Synchronization
import XCTest

/// The event-loop server on a real loopback socket (127.0.0.1, port 0), in process: keep-alive,
/// closing, limits, deadlines, the connection limits and eviction, descriptor exhaustion,
/// clients that vanish, answers from other threads, graceful stop and a burst of requests.
final class HTTPServerLiveTests: XCTestCase {
    static let echo: HTTPServer.ImmediateHandler = { r in
        var response = HTTPServerResponse.text("\(r.method) \(r.path) \(r.query) \(r.bodyText)")
        response.headers.append(HTTPHeader("X-Remote", r.remoteAddress))
        return response
    }

    func startServer(_ config: HTTPServerConfiguration = HTTPServerConfiguration(),
                     handler: @escaping HTTPServer.ImmediateHandler = HTTPServerLiveTests.echo) throws -> (HTTPServer, Int) {
        try start(HTTPServer(configuration: config, handler: handler))
    }

    func startServer(_ config: HTTPServerConfiguration = HTTPServerConfiguration(), log: @escaping @Sendable (String) -> Void = { _ in },
                     responder: @escaping HTTPServer.Handler) throws -> (HTTPServer, Int) {
        try start(HTTPServer(configuration: config, log: log, responder: responder))
    }

    private func start(_ server: HTTPServer) throws -> (HTTPServer, Int) {
        try server.start()
        addTeardownBlock { server.stop(graceful: false, timeout: 1) }
        let port = try XCTUnwrap(server.boundPort)
        XCTAssertGreaterThan(port, 0)
        return (server, port)
    }

    func testKeepAliveServesSeveralRequestsOnOneSocket() throws {
        let (server, port) = try startServer()
        let client = try LoopbackClient(port: port)
        for i in 0..<5 {
            let r = try client.get("/pb/\(i)?token=t&n=\(i)")
            XCTAssertEqual(r.status, 200)
            XCTAssertEqual(r.bodyText, "GET /pb/\(i) token=t&n=\(i) ")
            XCTAssertEqual(r.header("X-Remote"), "127.0.0.1")
            XCTAssertNil(r.header("Connection"))
            XCTAssertEqual(r.header("Content-Length"), "\(r.body.count)")
        }
        XCTAssertEqual(server.connectionCount, 1)
        // A POST with a body and a HEAD keep the framing intact on the same socket.
        try client.send("POST /leads HTTP/1.1\r\nHost: t\r\nContent-Length: \("name=Ян".utf8.count)\r\n\r\nname=Ян")
        XCTAssertEqual(try client.readResponse()?.bodyText, "POST /leads  name=Ян")
        try client.send("HEAD /h HTTP/1.1\r\nHost: t\r\n\r\n")
        let head = try XCTUnwrap(try client.readResponse(headRequest: true))
        XCTAssertEqual(head.header("Content-Length"), "\("HEAD /h  ".utf8.count)")
        XCTAssertEqual(try client.get("/after-head").bodyText, "GET /after-head  ")
    }

    func testConnectionCloseAndHTTP10() throws {
        let (_, port) = try startServer()
        let client = try LoopbackClient(port: port)
        let r = try client.get("/bye", headers: "Connection: close\r\n")
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.header("Connection"), "close")
        XCTAssertTrue(client.waitForClose())

        let old = try LoopbackClient(port: port)
        try old.send("GET /old HTTP/1.0\r\n\r\n")
        XCTAssertEqual(try old.readResponse()?.header("Connection"), "close")
        XCTAssertTrue(old.waitForClose())

        let kept = try LoopbackClient(port: port)
        try kept.send("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        XCTAssertEqual(try kept.readResponse()?.header("Connection"), "keep-alive")
        try kept.send("GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        XCTAssertEqual(try kept.readResponse()?.bodyText, "GET /b  ")
    }

    /// The loop reuses the bytes of the last short response it wrote (the receiver's shared OK):
    /// one shared response alternating with another, in every connection state — keep-alive,
    /// HEAD, HTTP/1.0 keep-alive, closing — is written as that state needs it.
    func testOneSharedResponseIsWrittenRightInEveryState() throws {
        let shared = HTTPServerResponse.text("OK\n")
        let (_, port) = try startServer { r in r.path == "/ok" ? shared : .text("other\n", status: 202) }
        let client = try LoopbackClient(port: port)
        for round in 0..<2 {
            let ok = try client.get("/ok")
            XCTAssertEqual(ok.status, 200, "round \(round)")
            XCTAssertEqual(ok.bodyText, "OK\n")
            XCTAssertNil(ok.header("Connection"))
            try client.send("HEAD /ok HTTP/1.1\r\nHost: t\r\n\r\n")
            let head = try XCTUnwrap(try client.readResponse(headRequest: true))
            XCTAssertEqual(head.header("Content-Length"), "3")
            XCTAssertEqual(head.body, [])
            XCTAssertEqual(try client.get("/other").status, 202)
            try client.send("GET /ok HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            let old = try XCTUnwrap(try client.readResponse())
            XCTAssertEqual(old.header("Connection"), "keep-alive")
            XCTAssertEqual(old.bodyText, "OK\n")
        }
        let last = try client.get("/ok", headers: "Connection: close\r\n")
        XCTAssertEqual(last.header("Connection"), "close")
        XCTAssertEqual(last.bodyText, "OK\n")
        XCTAssertTrue(client.waitForClose())
    }

    func testPipelinedRequestsAnsweredInOrder() throws {
        let (_, port) = try startServer()
        let client = try LoopbackClient(port: port)
        try client.send("GET /1 HTTP/1.1\r\nHost: t\r\n\r\nPOST /2 HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\n\r\nxGET /3 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        XCTAssertEqual(try client.readResponse()?.bodyText, "GET /1  ")
        XCTAssertEqual(try client.readResponse()?.bodyText, "POST /2  x")
        let last = try client.readResponse()
        XCTAssertEqual(last?.bodyText, "GET /3  ")
        XCTAssertEqual(last?.header("Connection"), "close")
        XCTAssertTrue(client.waitForClose())
    }

    func testBodyTooLargeGets413() throws {
        let config = HTTPServerConfiguration(limits: HTTPLimits(maxBodyBytes: 1024))
        let (_, port) = try startServer(config)
        // Announced too large: answered before the body is sent.
        let announced = try LoopbackClient(port: port)
        try announced.send("POST /leads HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n")
        let r1 = try XCTUnwrap(try announced.readResponse())
        XCTAssertEqual(r1.status, 413)
        XCTAssertEqual(r1.header("Connection"), "close")
        XCTAssertTrue(announced.waitForClose())
        // The body already on its way: the server drains it, so the client sees the 413 and no reset.
        let eager = try LoopbackClient(port: port)
        try eager.send("POST /leads HTTP/1.1\r\nHost: t\r\nContent-Length: 60000\r\n\r\n" + String(repeating: "x", count: 60000))
        XCTAssertEqual(try eager.readResponse()?.status, 413)
        // Chunked: discovered while reading the chunks.
        let chunked = try LoopbackClient(port: port)
        try chunked.send("POST /leads HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n" + String(repeating: "y", count: 1024) + "\r\n1\r\nz\r\n0\r\n\r\n")
        XCTAssertEqual(try chunked.readResponse()?.status, 413)
    }

    func testMalformedInputGetsItsStatusAndServerLivesOn() throws {
        let (_, port) = try startServer()
        let cases: [(String, Int)] = [
            ("GARBAGE\r\n\r\n", 400),
            ("GET / HTTP/1.1\nHost: t\n\n", 400),
            ("GET / HTTP/1.1\r\nHost: t\r\nX: a\r\n folded\r\n\r\n", 400),
            ("GET / HTTP/2.0\r\nHost: t\r\n\r\n", 505),
            ("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
            ("GET /" + String(repeating: "a", count: 9000) + " HTTP/1.1\r\nHost: t\r\n\r\n", 414),
            ("GET / HTTP/1.1\r\nHost: t\r\n" + (0..<101).map { "X-\($0): v\r\n" }.joined() + "\r\n", 431),
            ("\u{16}\u{03}\u{01}\u{02}\u{00}", 400),
        ]
        for (wire, status) in cases {
            let client = try LoopbackClient(port: port)
            try client.send(wire)
            let r = try client.readResponse()
            XCTAssertEqual(r?.status, status, wire.prefix(40).debugDescription)
            XCTAssertEqual(r?.header("Connection"), "close")
            XCTAssertTrue(client.waitForClose())
        }
        XCTAssertEqual(try LoopbackClient(port: port).get("/still-alive").status, 200)
    }

    func testSlowClientGets408WithinRequestTimeout() throws {
        let (_, port) = try startServer(HTTPServerConfiguration(headTimeout: 0.3))
        let client = try LoopbackClient(port: port)
        let start = monotonicSeconds()
        try client.send("GET /slow HTTP/1.1\r\nHost: t\r\n") // never finishes its header section
        let r = try client.readResponse()
        let elapsed = monotonicSeconds() - start
        XCTAssertEqual(r?.status, 408)
        XCTAssertTrue(client.waitForClose())
        XCTAssertGreaterThanOrEqual(elapsed, 0.25)
        XCTAssertLessThan(elapsed, 1.5)
    }

    func testTricklingClientDoesNotExtendTheDeadline() throws {
        let (_, port) = try startServer(HTTPServerConfiguration(headTimeout: 0.4))
        let client = try LoopbackClient(port: port)
        let fd = client.fd
        let start = monotonicSeconds()
        // One byte every 40 ms would keep a per-read timeout alive forever.
        let done = DispatchSemaphore(value: 0)
        let trickler = Thread {
            defer { done.signal() }
            for b in Array("GET /trickle HTTP/1.1\r\nHost: t\r\nX-Slow: ".utf8) + Array(repeating: UInt8(ascii: "z"), count: 100) {
                var byte = b
                if send(fd, &byte, 1, Int32(MSG_NOSIGNAL)) != 1 { return } // the server hung up
                usleep(40_000)
            }
        }
        trickler.start()
        let r = try client.readResponse()
        let elapsed = monotonicSeconds() - start
        XCTAssertEqual(r?.status, 408)
        XCTAssertLessThan(elapsed, 1.5)
        // The socket stays open until the trickler has noticed the hang-up, so it never writes to a reused descriptor.
        XCTAssertEqual(done.wait(timeout: .now() + 2), .success)
        withExtendedLifetime(client) {}
    }

    func testIdleKeepAliveConnectionIsClosed() throws {
        let (server, port) = try startServer(HTTPServerConfiguration(idleTimeout: 0.3))
        let client = try LoopbackClient(port: port)
        XCTAssertEqual(try client.get("/").status, 200)
        let start = monotonicSeconds()
        XCTAssertTrue(client.waitForClose())
        let elapsed = monotonicSeconds() - start
        XCTAssertGreaterThanOrEqual(elapsed, 0.2)
        XCTAssertLessThan(elapsed, 1.5)
        XCTAssertTrue(waitUntil { server.connectionCount == 0 })
    }

    func testMaxRequestsPerConnection() throws {
        let (_, port) = try startServer(HTTPServerConfiguration(maxRequestsPerConnection: 2))
        let client = try LoopbackClient(port: port)
        XCTAssertNil(try client.get("/1").header("Connection"))
        XCTAssertEqual(try client.get("/2").header("Connection"), "close")
        XCTAssertTrue(client.waitForClose())
    }

    func testAtTheLimitTheLongestIdleConnectionIsClosedFirst() throws {
        let (server, port) = try startServer(HTTPServerConfiguration(maxConnections: 3))
        let a = try LoopbackClient(port: port)
        XCTAssertTrue(waitUntil { server.connectionCount == 1 })
        let b = try LoopbackClient(port: port)
        XCTAssertTrue(waitUntil { server.connectionCount == 2 })
        let c = try LoopbackClient(port: port)
        XCTAssertEqual(try b.get("/b").status, 200) // b was idle longer than c, but just spoke: now c is older
        XCTAssertTrue(waitUntil { server.connectionCount == 3 })
        // A fourth client: the longest-idle (a) makes room; the others stay.
        let d = try LoopbackClient(port: port)
        XCTAssertEqual(try d.get("/d").status, 200)
        XCTAssertTrue(a.waitForClose())
        XCTAssertEqual(try b.get("/b2").status, 200)
        // Now c is the longest idle (b and d spoke after it).
        let e = try LoopbackClient(port: port)
        XCTAssertEqual(try e.get("/e").status, 200)
        XCTAssertTrue(c.waitForClose())
        XCTAssertEqual(try d.get("/d2").status, 200)
        XCTAssertEqual(server.connectionCount, 3)
    }

    func testAtTheLimitWithNoIdleConnectionNewOnesWaitInTheQueueNotRefused() throws {
        let held = Locked<[HTTPResponder]>([])
        let (server, port) = try startServer(HTTPServerConfiguration(maxConnections: 2)) { request, responder in
            if request.path == "/hold" { held.with { $0.append(responder) } } else { responder.respond(.text("served \(request.path)")) }
        }
        let a = try LoopbackClient(port: port)
        let b = try LoopbackClient(port: port)
        try a.send("GET /hold HTTP/1.1\r\nHost: t\r\n\r\n")
        try b.send("GET /hold HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertTrue(waitUntil { held.value.count == 2 })
        // Both connections are inside a request: the third client waits, unanswered and not refused.
        let c = try LoopbackClient(port: port)
        try c.send("GET /waiting HTTP/1.1\r\nHost: t\r\n\r\n")
        var p = pollfd(fd: c.fd, events: Int16(POLLIN), revents: 0)
        XCTAssertEqual(poll(&p, 1, 300), 0, "the waiting client got an answer or a close while no slot was free")
        XCTAssertEqual(server.connectionCount, 2)
        // a's answer makes a idle; the waiting client takes its place (a, the longest idle, is closed).
        held.value[0].respond(.text("released"))
        XCTAssertEqual(try a.readResponse()?.bodyText, "released")
        XCTAssertEqual(try c.readResponse()?.bodyText, "served /waiting")
        XCTAssertTrue(a.waitForClose())
        held.value[1].respond(.text("released"))
        XCTAssertEqual(try b.readResponse()?.bodyText, "released")
        XCTAssertEqual(server.connectionCount, 2)
    }

    func testPerAddressLimitRefusesOnlyThatAddress() throws {
        let lines = Locked<[String]>([])
        let (_, port) = try startServer(HTTPServerConfiguration(maxConnectionsPerAddress: 2), log: { l in lines.with { $0.append(l) } }) { r, responder in
            responder.respond(.text(r.clientAddress))
        }
        let a = try LoopbackClient(port: port)
        let b = try LoopbackClient(port: port)
        XCTAssertEqual(try a.get("/").bodyText, "127.0.0.1")
        XCTAssertEqual(try b.get("/").bodyText, "127.0.0.1")
        let third = try LoopbackClient(port: port)
        let refused = try third.readResponse()
        XCTAssertEqual(refused?.status, 429)
        XCTAssertTrue(third.waitForClose())
        // Another address is not affected.
        let other = try LoopbackClient(port: port, source: "127.0.0.2")
        XCTAssertEqual(try other.get("/").bodyText, "127.0.0.2")
        // A slot frees up when a connection from the address closes.
        try a.send("GET /bye HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        _ = try a.readResponse()
        XCTAssertTrue(a.waitForClose())
        XCTAssertTrue(waitUntil { (try? LoopbackClient(port: port).get("/again").status) == 200 })
        XCTAssertTrue(lines.value.contains { $0.contains("127.0.0.1 holds 2 connections") }, "\(lines.value)")
    }

    func testBehindATrustedProxyConnectionsCountPerForwardedAddress() throws {
        let config = HTTPServerConfiguration(maxConnectionsPerAddress: 2, trustedProxies: TrustedProxies(parsing: ["127.0.0.1"]))
        let (_, port) = try startServer(config) { r, responder in responder.respond(.text(r.clientAddress)) }
        func through(_ forwarded: String) throws -> (LoopbackClient, LoopbackClient.Response) {
            let c = try LoopbackClient(port: port)
            let r = try c.get("/", headers: "X-Forwarded-For: \(forwarded)\r\n")
            return (c, r)
        }
        let (a, ra) = try through("203.0.113.7")
        let (b, rb) = try through("203.0.113.7")
        XCTAssertEqual(ra.bodyText, "203.0.113.7")
        XCTAssertEqual(rb.bodyText, "203.0.113.7")
        // A third connection for the same client through the proxy: 429, closed.
        let (c, rc) = try through("203.0.113.7")
        XCTAssertEqual(rc.status, 429)
        XCTAssertTrue(c.waitForClose())
        // Another client through the same proxy (the proxy's own address holds 3 connections).
        let (d, rd) = try through("198.51.100.9")
        XCTAssertEqual(rd.status, 200)
        XCTAssertEqual(rd.bodyText, "198.51.100.9")
        withExtendedLifetime((a, b, d)) {}
    }

    func testGracefulStopFinishesInFlightRequest() throws {
        let slow = Locked<HTTPResponder?>(nil)
        let (server, port) = try startServer { r, responder in
            if r.path == "/slow" { slow.with { $0 = responder } } else { responder.respond(.text("quick")) }
        }
        let idle = try LoopbackClient(port: port)
        XCTAssertEqual(try idle.get("/quick").bodyText, "quick")
        let busy = try LoopbackClient(port: port)
        try busy.send("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertTrue(waitUntil { slow.value != nil })

        let stopped = DispatchSemaphore(value: 0)
        Thread {
            server.stop(graceful: true, timeout: 5)
            stopped.signal()
        }.start()
        // The idle keep-alive connection is closed at once: stop has begun.
        XCTAssertTrue(idle.waitForClose())
        XCTAssertFalse(server.isRunning)
        XCTAssertEqual(stopped.wait(timeout: .now() + 0.05), .timedOut, "stop must wait for the in-flight request")
        slow.value?.respond(.text("finished"))
        let r = try XCTUnwrap(try busy.readResponse())
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.bodyText, "finished")
        XCTAssertEqual(r.header("Connection"), "close")
        XCTAssertEqual(stopped.wait(timeout: .now() + 2), .success)
        XCTAssertEqual(server.connectionCount, 0)
        XCTAssertThrowsError(try LoopbackClient(port: port), "the port is closed after stop")
    }

    func testStopWithTimeoutCutsAStuckHandler() throws {
        let stuck = Locked<HTTPResponder?>(nil)
        let (server, port) = try startServer { _, responder in stuck.with { $0 = responder } } // never answers
        let client = try LoopbackClient(port: port)
        try client.send("GET /stuck HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertTrue(waitUntil { stuck.value != nil })
        let start = monotonicSeconds()
        server.stop(graceful: true, timeout: 0.2)
        XCTAssertLessThan(monotonicSeconds() - start, 1)
        XCTAssertTrue(client.waitForClose())
        stuck.value?.respond(.text("late")) // after the loop ended: dropped, no crash
    }

    func testTwoThousandRequestsOverSixteenConnections() throws {
        let (_, port) = try startServer()
        let answered = Mutex(0)
        let failures = Mutex([String]())
        let group = DispatchGroup()
        for connection in 0..<16 {
            group.enter()
            Thread {
                defer { group.leave() }
                do {
                    let client = try LoopbackClient(port: port)
                    for i in 0..<125 {
                        let r = try client.get("/load/\(connection)?i=\(i)")
                        if r.status == 200 && r.bodyText == "GET /load/\(connection) i=\(i) " {
                            answered.withLock { $0 += 1 }
                        } else {
                            failures.withLock { $0.append("\(connection)/\(i): \(r.status) \(r.bodyText)") }
                        }
                    }
                } catch {
                    failures.withLock { $0.append("\(connection): \(error)") }
                }
            }.start()
        }
        XCTAssertEqual(group.wait(timeout: .now() + 20), .success)
        XCTAssertEqual(failures.withLock { $0 }, [])
        XCTAssertEqual(answered.withLock { $0 }, 2000)
    }

    func testExpectContinue() throws {
        let (_, port) = try startServer()
        let client = try LoopbackClient(port: port)
        try client.send("POST /big HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
        XCTAssertEqual(String(decoding: client.readRaw(count: 25), as: UTF8.self), "HTTP/1.1 100 Continue\r\n\r\n")
        try client.send("hello")
        XCTAssertEqual(try client.readResponse()?.bodyText, "POST /big  hello")
    }

    func testAsyncHandler() throws {
        let server = HTTPServer(configuration: HTTPServerConfiguration()) { request in
            await Task.yield()
            return .text("async \(request.path)", status: 201)
        }
        try server.start()
        defer { server.stop() }
        let client = try LoopbackClient(port: try XCTUnwrap(server.boundPort))
        let r = try client.get("/x")
        XCTAssertEqual(r.status, 201)
        XCTAssertEqual(r.bodyText, "async /x")
    }

    func testInvalidHandlerStatusBecomes500() throws {
        let (_, port) = try startServer { _ in HTTPServerResponse(status: 42) }
        XCTAssertEqual(try LoopbackClient(port: port).get("/").status, 500)
    }

    func testSlowBodyGets408ButABodyAtTheMinimumRateIsAccepted() throws {
        let config = HTTPServerConfiguration(headTimeout: 0.3, minBodyBytesPerSecond: 100)
        let (_, port) = try startServer(config)
        // 10 bytes a second against a minimum of 100: cut soon after the 0.3 s grace.
        let slow = try LoopbackClient(port: port)
        let fd = slow.fd
        let start = monotonicSeconds()
        try slow.send("POST /slow HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n")
        let done = DispatchSemaphore(value: 0)
        Thread {
            defer { done.signal() }
            for _ in 0..<100 {
                var byte = UInt8(ascii: "x")
                if send(fd, &byte, 1, Int32(MSG_NOSIGNAL)) != 1 { return }
                usleep(100_000)
            }
        }.start()
        let r = try slow.readResponse()
        let elapsed = monotonicSeconds() - start
        XCTAssertEqual(r?.status, 408)
        XCTAssertGreaterThanOrEqual(elapsed, 0.25)
        XCTAssertLessThan(elapsed, 2)
        XCTAssertEqual(done.wait(timeout: .now() + 12), .success)
        // 1,500 bytes over ~1.2 s (1,250 bytes a second): longer than the grace, fast enough.
        let steady = try LoopbackClient(port: port)
        try steady.send("POST /steady HTTP/1.1\r\nHost: t\r\nContent-Length: 1500\r\n\r\n")
        for _ in 0..<12 {
            try steady.send(String(repeating: "y", count: 125))
            usleep(100_000)
        }
        let ok = try XCTUnwrap(try steady.readResponse())
        XCTAssertEqual(ok.status, 200)
        XCTAssertEqual(ok.bodyText, "POST /steady  " + String(repeating: "y", count: 1500))
        withExtendedLifetime(slow) {}
    }

    func testAClientThatVanishesMidResponseIsDroppedAndTheServerGoesOn() throws {
        let big = HTTPServerResponse(status: 200, body: [UInt8](repeating: 0x61, count: 16 * 1024 * 1024))
        let (server, port) = try startServer(HTTPServerConfiguration(writeTimeout: 0.5)) { r in r.path == "/big" ? big : .text("small") }
        // Reads a little of a 16 MB answer, then resets the connection.
        let reader = try LoopbackClient(port: port)
        try reader.send("GET /big HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(reader.readRaw(count: 1000).count, 1000)
        var reset = linger(l_onoff: 1, l_linger: 0)
        setsockopt(reader.fd, SOL_SOCKET, SO_LINGER, &reset, socklen_t(MemoryLayout<linger>.size))
        shutdown(reader.fd, Int32(SHUT_RDWR))
        // Asks for it and never reads: cut at the write timeout.
        let sleeper = try LoopbackClient(port: port)
        try sleeper.send("GET /big HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertTrue(waitUntil(seconds: 5) { server.connectionCount == 0 }, "\(server.connectionCount) connections left")
        XCTAssertEqual(try LoopbackClient(port: port).get("/after").bodyText, "small")
        withExtendedLifetime((reader, sleeper)) {}
    }

    func testOutOfDescriptorsLogsOnceClosesTheLongestIdleAndKeepsServing() throws {
        let lines = Locked<[String]>([])
        let (_, port) = try startServer(log: { l in lines.with { $0.append(l) } }) { r, responder in responder.respond(.text("ok \(r.path)")) }
        let old = try LoopbackClient(port: port)
        XCTAssertEqual(try old.get("/old").status, 200)
        let newer = try LoopbackClient(port: port)
        XCTAssertEqual(try newer.get("/newer").status, 200)
        // The next client's socket exists; then no descriptor is left for the server to accept it.
        let late = try LoopbackClient(port: port, connectNow: false)
        var saved = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &saved)
        // A new descriptor takes the lowest free number, and the limit bounds that number: fill
        // every free number up to the highest listed (holes earlier tests left, the listing's
        // own), so none is free below the limit, whatever the descriptors in use are; the
        // server's descriptors are all below it, so closing one makes room.
        let listed = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        let highest = listed.compactMap { Int32($0) }.max() ?? -1
        XCTAssertGreaterThan(highest, 2)
        var fillers: [Int32] = []
        defer { for fd in fillers { Glibc.close(fd) } }
        while true {
            let fd = Glibc.open("/dev/null", O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { break }
            guard fd <= highest else {
                Glibc.close(fd)
                break
            }
            fillers.append(fd)
        }
        var low = saved
        low.rlim_cur = rlim_t(highest + 1) // 0 ... highest are all in use now
        XCTAssertEqual(setrlimit(Int32(RLIMIT_NOFILE.rawValue), &low), 0)
        let outcome: Result<LoopbackClient.Response, any Error>
        do {
            defer { _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &saved) }
            try late.connect()
            outcome = Result { try late.get("/late") }
        }
        XCTAssertEqual(try outcome.get().bodyText, "ok /late")
        XCTAssertTrue(old.waitForClose(), "the longest-idle connection made room")
        XCTAssertEqual(try newer.get("/newer-again").bodyText, "ok /newer-again")
        let warnings = lines.value.filter { $0.contains("out of file descriptors") }
        XCTAssertEqual(warnings.count, 1, "\(lines.value)")
        XCTAssertTrue(warnings.first?.contains("closing the longest-idle connections") ?? false)
        XCTAssertEqual(try LoopbackClient(port: port).get("/fresh").bodyText, "ok /fresh")
    }

    func testAnswersFromOtherThreadsInOneBatch() throws {
        let waiting = Locked<[(HTTPResponder, String)]>([])
        let (_, port) = try startServer { r, responder in waiting.with { $0.append((responder, r.path)) } }
        let clients = try (0..<8).map { _ in try LoopbackClient(port: port) }
        for (i, c) in clients.enumerated() { try c.send("GET /n\(i) HTTP/1.1\r\nHost: t\r\n\r\n") }
        XCTAssertTrue(waitUntil { waiting.value.count == 8 })
        let batch = waiting.value
        let answered = DispatchSemaphore(value: 0)
        Thread {
            HTTPResponder.respond(batch.map { ($0.0, .text("answer \($0.1)")) })
            batch[0].0.respond(.text("second answer")) // a second answer to one request is dropped
            answered.signal()
        }.start()
        XCTAssertEqual(answered.wait(timeout: .now() + 2), .success)
        for (i, c) in clients.enumerated() { XCTAssertEqual(try c.readResponse()?.bodyText, "answer /n\(i)") }
        // Had the second answer gone out, it would be read here instead of the next request's.
        try clients[0].send("GET /next HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertTrue(waitUntil { waiting.value.count == 9 })
        waiting.value[8].0.respond(.text("answer /next"))
        XCTAssertEqual(try clients[0].readResponse()?.bodyText, "answer /next")
    }

    func testTimersRunOnTheLoop() throws {
        let (server, _) = try startServer()
        let ticks = Locked(0)
        server.every(0.02) { ticks.with { $0 += 1 } }
        XCTAssertTrue(waitUntil { ticks.value >= 3 })
    }

    func testRouterPrefersExactPathsThenTheLongestPrefixAndAnswers404And405() throws {
        var router = HTTPRouter()
        router.add(["GET"], prefix: "/a/") { _, r in r.respond(.text("prefix /a/")) }
        router.add(["GET"], prefix: "/a/b/") { _, r in r.respond(.text("prefix /a/b/")) }
        router.add(["GET", "POST"], path: "/a/b/c") { req, r in r.respond(.text("exact \(req.method)")) }
        let (_, port) = try start(HTTPServer(router: router))
        let client = try LoopbackClient(port: port)
        XCTAssertEqual(try client.get("/a/x").bodyText, "prefix /a/")
        XCTAssertEqual(try client.get("/a/b/x").bodyText, "prefix /a/b/")
        XCTAssertEqual(try client.get("/a/b/c?q=1").bodyText, "exact GET")
        let missing = try client.get("/b")
        XCTAssertEqual(missing.status, 404)
        try client.send("PUT /a/b/c HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n")
        let wrongMethod = try XCTUnwrap(try client.readResponse())
        XCTAssertEqual(wrongMethod.status, 405)
        XCTAssertEqual(wrongMethod.header("Allow"), "GET, POST")
    }

    func testIPv6Loopback() throws {
        let server = HTTPServer(configuration: HTTPServerConfiguration(host: "[::1]"), handler: Self.echo)
        do { try server.start() } catch { throw XCTSkip("no IPv6 loopback here: \(error)") }
        defer { server.stop() }
        let client = try LoopbackClient(port: try XCTUnwrap(server.boundPort), host: "::1")
        XCTAssertEqual(try client.get("/six").header("X-Remote"), "::1")
    }

    func testStartErrors() throws {
        let (_, port) = try startServer()
        let second = HTTPServer(configuration: HTTPServerConfiguration(port: port), handler: Self.echo)
        XCTAssertThrowsError(try second.start()) { XCTAssertEqual(($0 as? HTTPServerError)?.kind, .addressInUse) }
        let bad = HTTPServer(configuration: HTTPServerConfiguration(host: "example.com"), handler: Self.echo)
        XCTAssertThrowsError(try bad.start()) { XCTAssertEqual(($0 as? HTTPServerError)?.kind, .invalidAddress) }
        let twice = HTTPServer(handler: Self.echo)
        try twice.start()
        defer { twice.stop() }
        XCTAssertThrowsError(try twice.start()) { XCTAssertEqual(($0 as? HTTPServerError)?.kind, .alreadyStarted) }
    }

    func testSignalTrapStopsServer() async throws {
        let (server, _) = try startServer()
        let trapped = Mutex<Int32>(0)
        let trap = SignalTrap(signals: [SIGUSR2]) { signo in
            trapped.withLock { $0 = signo }
            server.stop(graceful: true, timeout: 1)
        }
        defer { trap.cancel() }
        kill(getpid(), SIGUSR2)
        await server.waitUntilStopped() // returns once the trap's handler has stopped the server
        XCTAssertEqual(trapped.withLock { $0 }, SIGUSR2)
        XCTAssertFalse(server.isRunning)
    }

    func testSignalTrapCanBeInstalledAgainForTheSameSignal() {
        for round in 1...3 {
            let fired = DispatchSemaphore(value: 0)
            let trap = SignalTrap(signals: [SIGUSR1]) { _ in fired.signal() }
            kill(getpid(), SIGUSR1)
            XCTAssertEqual(fired.wait(timeout: .now() + 2), .success, "round \(round)")
            trap.cancel()
        }
        kill(getpid(), SIGUSR1) // with no trap left the signal is dropped, the process lives on
    }

    /// Polls a condition for up to `seconds` (for state the server updates just after a close).
    func waitUntil(seconds: Double = 2, _ condition: () -> Bool) -> Bool {
        let deadline = monotonicSeconds() + seconds
        while monotonicSeconds() < deadline {
            if condition() { return true }
            usleep(2_000)
        }
        return condition()
    }
}
