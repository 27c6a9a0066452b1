import Dispatch
import Foundation
import Glibc
import LeadBridgeCore
@testable import LeadBridgeNet
import Synchronization
import XCTest

/// The server on a real loopback socket (127.0.0.1, port 0): keep-alive, closing, limits,
/// timeouts, the connection cap, graceful stop and a burst of concurrent requests.
final class HTTPServerLiveTests: XCTestCase {
    static let echo: HTTPServer.Handler = { r in
        var response = HTTPServerResponse.text("\(r.method) \(r.path) \(r.query) \(r.bodyText)")
        response.headers.append(HTTPHeader("X-Remote", r.remoteAddress))
        return response
    }

    func startServer(_ config: HTTPServerConfiguration = HTTPServerConfiguration(),
                     handler: @escaping HTTPServer.Handler = HTTPServerLiveTests.echo) throws -> (HTTPServer, Int) {
        let server = HTTPServer(configuration: config, handler: handler)
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
        let (_, port) = try startServer(HTTPServerConfiguration(requestTimeout: 0.3))
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
        let (_, port) = try startServer(HTTPServerConfiguration(requestTimeout: 0.4))
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

    func testConnectionCapAnswers503() throws {
        let (server, port) = try startServer(HTTPServerConfiguration(maxConnections: 2))
        let a = try LoopbackClient(port: port)
        let b = try LoopbackClient(port: port)
        XCTAssertEqual(try a.get("/a").status, 200)
        XCTAssertEqual(try b.get("/b").status, 200)
        let c = try LoopbackClient(port: port)
        let rejected = try c.readResponse()
        XCTAssertEqual(rejected?.status, 503)
        XCTAssertEqual(rejected?.header("Connection"), "close")
        XCTAssertTrue(c.waitForClose())
        // A slot frees up when a client leaves.
        try a.send("GET /bye HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        _ = try a.readResponse()
        XCTAssertTrue(a.waitForClose())
        XCTAssertTrue(waitUntil { server.connectionCount < 2 })
        XCTAssertEqual(try LoopbackClient(port: port).get("/d").status, 200)
    }

    func testGracefulStopFinishesInFlightRequest() throws {
        let entered = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let (server, port) = try startServer { r in
            if r.path == "/slow" {
                entered.signal()
                release.wait()
                return .text("finished")
            }
            return .text("quick")
        }
        let idle = try LoopbackClient(port: port)
        XCTAssertEqual(try idle.get("/quick").bodyText, "quick")
        let busy = try LoopbackClient(port: port)
        try busy.send("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(entered.wait(timeout: .now() + 2), .success)

        let stopped = DispatchSemaphore(value: 0)
        Thread {
            server.stop(graceful: true, timeout: 5)
            stopped.signal()
        }.start()
        // The idle keep-alive connection is closed at once: stop has begun.
        XCTAssertTrue(idle.waitForClose())
        XCTAssertFalse(server.isRunning)
        XCTAssertEqual(stopped.wait(timeout: .now() + 0.05), .timedOut, "stop must wait for the in-flight request")
        release.signal()
        let r = try XCTUnwrap(try busy.readResponse())
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.bodyText, "finished")
        XCTAssertEqual(r.header("Connection"), "close")
        XCTAssertEqual(stopped.wait(timeout: .now() + 2), .success)
        XCTAssertEqual(server.connectionCount, 0)
        XCTAssertThrowsError(try LoopbackClient(port: port), "the port is closed after stop")
    }

    func testStopWithTimeoutCutsAStuckHandler() throws {
        let release = DispatchSemaphore(value: 0)
        let entered = DispatchSemaphore(value: 0)
        let (server, port) = try startServer { _ in
            entered.signal()
            release.wait()
            return .text("late")
        }
        let client = try LoopbackClient(port: port)
        try client.send("GET /stuck HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(entered.wait(timeout: .now() + 2), .success)
        let start = monotonicSeconds()
        server.stop(graceful: true, timeout: 0.2)
        XCTAssertLessThan(monotonicSeconds() - start, 1)
        XCTAssertTrue(client.waitForClose())
        release.signal()
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

    func testAbortConnectionResetsWithoutAnswer() throws {
        let (_, port) = try startServer { r in r.path == "/reset" ? .abortConnection : .text("fine") }
        let client = try LoopbackClient(port: port)
        try client.send("GET /reset HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertNil(try client.readResponse(), "no response, just a reset")
        XCTAssertEqual(try LoopbackClient(port: port).get("/other").bodyText, "fine")
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

    /// Polls a condition for up to two seconds (for state the server updates just after a close).
    func waitUntil(_ condition: () -> Bool) -> Bool {
        let deadline = monotonicSeconds() + 2
        while monotonicSeconds() < deadline {
            if condition() { return true }
            usleep(2_000)
        }
        return condition()
    }
}
