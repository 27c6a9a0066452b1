import Dispatch
import Glibc
import LeadBridgeCore
import Synchronization

/// Where and how the server listens, and the limits that keep one client (or many idle or slow
/// ones) from taking the server from the others. `serve` fills it from the `receiver` section
/// of the configuration (README, "Receiver limits").
public struct HTTPServerConfiguration: Sendable, Hashable {
    /// IP literal to bind: `127.0.0.1`, `0.0.0.0`, `::1` or `[::1]`, `::`, or `localhost`.
    public var host: String
    /// TCP port; 0 picks a free one (read it back from `HTTPServer.boundPort`).
    public var port: Int
    public var limits: HTTPLimits
    /// Connections held at once; nil for as many as the process's file limit allows. At the
    /// limit a new connection closes the longest-idle one; with none idle (every connection is
    /// inside a request, each bounded by a deadline) new ones wait in the listen queue.
    public var maxConnections: Int?
    /// Connections one client address may hold; more are refused with `429`. Behind a trusted
    /// proxy, a connection counts for the forwarded address of its latest request.
    public var maxConnectionsPerAddress: Int
    /// Proxies whose `X-Forwarded-For` names the client (`HTTPServerRequest.clientAddress`).
    public var trustedProxies: TrustedProxies
    /// Seconds from the first byte of a request until its header section must be complete;
    /// slower gets `408` and is closed (a slowloris client cannot hold a connection longer).
    public var headTimeout: Double
    /// After the header section, the body must keep arriving at this rate (bytes per second,
    /// after a grace of `headTimeout`); slower gets `408` and is closed.
    public var minBodyBytesPerSecond: Double
    /// Seconds a connection may sit without a request (after connecting, between keep-alive requests).
    public var idleTimeout: Double
    /// Seconds a response may wait on a client that does not read before the connection is closed.
    public var writeTimeout: Double
    /// Seconds to keep reading (and discarding) after an error response (or a closing response when
    /// the client already sent more) before closing, so a client still sending a rejected body
    /// gets the response instead of a TCP reset.
    public var lingerTimeout: Double
    /// Requests served on one connection before the server asks it to close; nil for no limit.
    public var maxRequestsPerConnection: Int?
    /// `listen()` backlog.
    public var backlog: Int

    public init(host: String = "127.0.0.1", port: Int = 0, limits: HTTPLimits = HTTPLimits(),
                maxConnections: Int? = nil, maxConnectionsPerAddress: Int = 256, trustedProxies: TrustedProxies = TrustedProxies([]),
                headTimeout: Double = 10, minBodyBytesPerSecond: Double = 1024, idleTimeout: Double = 15,
                writeTimeout: Double = 10, lingerTimeout: Double = 1, maxRequestsPerConnection: Int? = nil,
                backlog: Int = 4096) {
        self.host = host
        self.port = port
        self.limits = limits
        self.maxConnections = maxConnections.map { max(1, $0) }
        self.maxConnectionsPerAddress = max(1, maxConnectionsPerAddress)
        self.trustedProxies = trustedProxies
        self.headTimeout = headTimeout
        self.minBodyBytesPerSecond = minBodyBytesPerSecond
        self.idleTimeout = idleTimeout
        self.writeTimeout = writeTimeout
        self.lingerTimeout = lingerTimeout
        self.maxRequestsPerConnection = maxRequestsPerConnection
        self.backlog = backlog
    }
}

/// `HOST:PORT` as typed on a command line (`--listen 127.0.0.1:8080`, `[::1]:8080`, `:8080`, `8080`).
public struct HTTPListenAddress: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `8080` alone means `127.0.0.1:8080` (loopback unless asked otherwise); `:8080` means
    /// `0.0.0.0:8080`. Nil when the port is not 0...65535 or the host is not an IP literal.
    public init?(_ text: String) {
        let host: String
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { return nil }
            portText = rest.dropFirst()
        } else if let colon = text.lastIndex(of: ":") {
            guard text.firstIndex(of: ":") == colon else { return nil } // bare IPv6 needs brackets
            let h = text[text.startIndex..<colon]
            host = h.isEmpty ? "0.0.0.0" : String(h)
            portText = text[text.index(after: colon)...]
        } else {
            host = "127.0.0.1"
            portText = Substring(text)
        }
        guard !portText.isEmpty, portText.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let port = Int(portText), (0...65535).contains(port),
              ServerSocket.parseHost(host) != nil else { return nil }
        self.host = host
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// The HTTP/1.1 server under `serve` and the test servers: one event-loop thread on epoll
/// (`EventLoop`) holds every connection; requests are parsed on it and handed to the handler
/// with an `HTTPResponder`, through which the answer comes back — at once, or later from
/// another thread (the store writer answers a whole committed batch with one wake-up).
/// Routing lives apart (`HTTPRouter`); this type is the transport only.
///
/// Handlers run on the loop's thread: they must not block (hand slow work to another thread
/// and answer through the responder). Do not call `stop` synchronously from inside a handler.
public final class HTTPServer: Sendable {
    /// A request in; its answer goes out through the responder, now or later, exactly once.
    public typealias Handler = @Sendable (HTTPServerRequest, HTTPResponder) -> Void
    /// A handler that answers at once (it runs on the loop: it must be quick and never block).
    public typealias ImmediateHandler = @Sendable (HTTPServerRequest) -> HTTPServerResponse
    /// A handler that answers when its task finishes (each request starts a task).
    public typealias AsyncHandler = @Sendable (HTTPServerRequest) async -> HTTPServerResponse

    public let configuration: HTTPServerConfiguration
    private let handler: Handler
    private let log: @Sendable (String) -> Void
    private let state = Mutex(State())
    private let stopSignal = StopSignal()
    let shared = Shared()

    /// What the loop publishes for other threads.
    final class Shared: Sendable {
        let connections = Atomic<Int>(0)
        let running = Atomic<Bool>(false)
    }

    private enum Phase: Sendable { case created, running, stopping, stopped }

    private struct State: Sendable {
        var phase = Phase.created
        var boundPort: Int?
        var mailbox: LoopMailbox?
        var finished: DispatchSemaphore?
    }

    /// `log` receives the server's warnings (out of descriptors, limits reached), one line each.
    public init(configuration: HTTPServerConfiguration = HTTPServerConfiguration(), log: @escaping @Sendable (String) -> Void = { _ in },
                responder: @escaping Handler) {
        self.configuration = configuration
        self.handler = responder
        self.log = log
    }

    public convenience init(configuration: HTTPServerConfiguration = HTTPServerConfiguration(), log: @escaping @Sendable (String) -> Void = { _ in },
                            router: HTTPRouter) {
        self.init(configuration: configuration, log: log, responder: { router.handle($0, $1) })
    }

    public convenience init(configuration: HTTPServerConfiguration = HTTPServerConfiguration(), log: @escaping @Sendable (String) -> Void = { _ in },
                            handler: @escaping ImmediateHandler) {
        self.init(configuration: configuration, log: log, responder: { request, responder in responder.respond(handler(request)) })
    }

    public convenience init(configuration: HTTPServerConfiguration = HTTPServerConfiguration(), log: @escaping @Sendable (String) -> Void = { _ in },
                            asyncHandler: @escaping AsyncHandler) {
        self.init(configuration: configuration, log: log, responder: { request, responder in
            Task { responder.respond(await asyncHandler(request)) }
        })
    }

    /// The port actually bound (useful with port 0); nil before `start()`.
    public var boundPort: Int? { state.withLock { $0.boundPort } }

    /// Connections currently open.
    public var connectionCount: Int { shared.connections.load(ordering: .relaxed) }

    /// True between a successful `start()` and the beginning of `stop()`.
    public var isRunning: Bool { shared.running.load(ordering: .sequentiallyConsistent) }

    /// Binds, listens and starts the loop thread; returns once connections are accepted.
    /// Also makes the process ignore SIGPIPE (a closed peer must not kill it).
    public func start() throws(HTTPServerError) {
        signal(SIGPIPE, SIG_IGN)
        let result: Result<Void, HTTPServerError> = state.withLock { s in
            guard s.phase == .created else {
                return .failure(HTTPServerError(.alreadyStarted, "the server was already started"))
            }
            let listener: (fd: Int32, port: Int)
            switch ServerSocket.listen(host: configuration.host, port: configuration.port, backlog: configuration.backlog) {
            case .success(let l): listener = l
            case .failure(let e): return .failure(e)
            }
            guard let mailbox = LoopMailbox() else {
                close(listener.fd)
                return .failure(HTTPServerError(.socket, "eventfd: \(ServerSocket.errorText(errno))"))
            }
            let made = Result { () throws(HTTPServerError) -> EventLoop in
                try EventLoop(configuration: configuration, listener: listener.fd, mailbox: mailbox, shared: shared, handler: handler, log: log)
            }
            guard case .success(let loop) = made else {
                close(listener.fd)
                mailbox.close()
                return made.map { _ in () }
            }
            let finished = DispatchSemaphore(value: 0)
            guard ServerSocket.spawnThread(name: "http-loop", { loop.run(); finished.signal() }) else {
                close(listener.fd)
                mailbox.close()
                return .failure(HTTPServerError(.socket, "could not start the event-loop thread"))
            }
            stopSignal.arm()
            s.phase = .running
            s.boundPort = listener.port
            s.mailbox = mailbox
            s.finished = finished
            shared.running.store(true, ordering: .sequentiallyConsistent)
            return .success(())
        }
        try result.get()
    }

    /// Runs `body` on the loop's thread every `seconds` (until the server stops). The body must
    /// not block; it may start work elsewhere (a task, the store writer).
    public func every(_ seconds: Double, _ body: @escaping @Sendable () -> Void) {
        state.withLock { $0.mailbox }?.post(.every(interval: max(1_000_000, ServerSocket.nanoseconds(seconds)), body: body))
    }

    /// Stops the server. Always: stop accepting (the port is closed when this returns) and close
    /// idle keep-alive connections. `graceful`: requests already arriving or being handled finish
    /// and get their response (with `Connection: close`); after `timeout` seconds the rest are cut.
    /// Not graceful: every connection is cut now. Safe to call more than once and from any thread
    /// but the loop's own (e.g. a `SignalTrap` handler); returns when done.
    public func stop(graceful: Bool = true, timeout: Double = 10) {
        let (mailbox, finished): (LoopMailbox?, DispatchSemaphore?) = state.withLock { s in
            switch s.phase {
            case .created:
                s.phase = .stopped
                return (nil, nil)
            case .stopped:
                return (nil, nil)
            case .running, .stopping:
                s.phase = .stopping
                shared.running.store(false, ordering: .sequentiallyConsistent)
                return (s.mailbox, s.finished)
            }
        }
        if let mailbox, let finished {
            mailbox.post(.stop(graceful: graceful, deadline: ServerSocket.now() &+ ServerSocket.nanoseconds(timeout)))
            // The loop ends by the deadline; the margin covers a loop busy with its last round.
            // (From the loop's own thread there is nothing to wait for: it stops after this round.)
            if !mailbox.onLoopThread, finished.wait(timeout: .now() + max(0, timeout) + 5) == .success { finished.signal() }
        }
        let stopped: Bool = state.withLock { s in
            guard s.phase != .running else { return false }
            s.phase = .stopped
            return true
        }
        if stopped { stopSignal.fire() }
    }

    /// Suspends until `stop()` has finished (returns at once if the server is not running).
    public func waitUntilStopped() async { await stopSignal.wait() }
}
