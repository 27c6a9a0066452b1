import Dispatch
import Glibc
import LeadBridgeCore
import LeadBridgeNet
import Synchronization

extension HTTPServerResponse {
    /// Not an answer: the emulator's server resets the connection instead (the reset fault).
    /// Only `EmulatorServer` knows it; `serve`'s server would answer it as a `500`.
    public static let abortConnection = HTTPServerResponse(status: 1, headers: [HTTPHeader("X-Emulator-Fault", "reset")])
}

/// The emulator's own HTTP/1.1 server: one accept thread and one blocking thread per
/// connection, so a handler may sleep (slow and timeout faults) without holding up other
/// connections, and may answer `HTTPServerResponse.abortConnection` to reset the connection
/// (the reset fault). It shares the production server's parser, serializer and socket
/// primitives; the fault injection lives only here, never in `serve`'s event loop.
///
/// Do not call `stop` synchronously from inside a handler: it waits for that very request to
/// finish (and gives up only at its timeout).
public final class EmulatorServer: Sendable {
    public typealias Handler = @Sendable (HTTPServerRequest) -> HTTPServerResponse

    /// Where it listens and how long it waits on clients.
    public struct Configuration: Sendable, Hashable {
        public var host: String
        public var port: Int
        public var limits = HTTPLimits()
        /// Connections served at once; one more gets `503` and is closed.
        public var maxConnections: Int
        /// Seconds from the first byte of a request until it must be complete (else `408`).
        public var requestTimeout: Double = 10
        /// Seconds a keep-alive connection may sit between requests.
        public var idleTimeout: Double = 15
        /// Seconds one blocking `send` may wait on a client that does not read.
        public var writeTimeout: Double = 10
        /// Seconds to read and discard after an error response before closing.
        public var lingerTimeout: Double = 1
        public var backlog = 511

        public init(host: String = "127.0.0.1", port: Int = 0, maxConnections: Int = 512) {
            self.host = host
            self.port = port
            self.maxConnections = max(1, maxConnections)
        }
    }

    public let configuration: Configuration
    private let handler: Handler
    /// Shared by the accept thread, connection threads and `stop`; taken only when a connection
    /// opens or closes and while starting or stopping, never per request (Swift's `Mutex` is a
    /// priority-inheritance futex on Linux: contended per request, it formed lock convoys that
    /// cut throughput from ~70k to ~13k req/s at 16 connections).
    private let state = Mutex(State())
    private let stopSignal = StopSignal()
    /// Mirror of `phase == .running`, read per request without the lock.
    private let running = Atomic<Bool>(false)

    private enum Phase: Sendable { case created, running, stopping, stopped }

    /// Everything shared between the accept thread, connection threads and `stop`. Descriptors
    /// are shut down or closed only while holding the lock (a connection thread removes its entry
    /// before closing), so `stop` never touches a descriptor number that was already reused.
    private struct State: Sendable {
        var phase = Phase.created
        var boundPort: Int?
        var wakeWrite: Int32 = -1
        var acceptRunning = false
        var connections: [Int32: ConnectionSlot] = [:]
    }

    public init(configuration: Configuration = Configuration(), handler: @escaping Handler) {
        self.configuration = configuration
        self.handler = handler
    }

    /// The port actually bound (useful with port 0); nil before `start()`.
    public var boundPort: Int? { state.withLock { $0.boundPort } }

    /// Connections currently open.
    public var connectionCount: Int { state.withLock { $0.connections.count } }

    /// True between a successful `start()` and the beginning of `stop()`.
    public var isRunning: Bool { running.load(ordering: .sequentiallyConsistent) }

    /// Binds, listens and starts the accept thread; returns once connections are accepted.
    /// Also makes the process ignore SIGPIPE (a closed peer must not kill it).
    public func start() throws(HTTPServerError) {
        signal(SIGPIPE, SIG_IGN)
        let prepared: Result<(listener: Int32, wakeRead: Int32), HTTPServerError> = state.withLock { s in
            guard s.phase == .created else {
                return .failure(HTTPServerError(.alreadyStarted, "the server was already started"))
            }
            let listener: (fd: Int32, port: Int)
            switch ServerSocket.listen(host: configuration.host, port: configuration.port, backlog: configuration.backlog) {
            case .success(let l): listener = l
            case .failure(let e): return .failure(e)
            }
            guard let pipe = ServerSocket.wakePipe() else {
                close(listener.fd)
                return .failure(HTTPServerError(.socket, "pipe: \(ServerSocket.errorText(errno))"))
            }
            stopSignal.arm()
            s.phase = .running
            running.store(true, ordering: .sequentiallyConsistent)
            s.boundPort = listener.port
            s.wakeWrite = pipe.write
            s.acceptRunning = true
            return .success((listener.fd, pipe.read))
        }
        let fds = try prepared.get()
        let started = ServerSocket.spawnThread { [self] in acceptLoop(listener: fds.listener, wakeRead: fds.wakeRead) }
        if !started {
            state.withLock { s in
                close(fds.listener)
                close(fds.wakeRead)
                close(s.wakeWrite)
                s.wakeWrite = -1
                s.acceptRunning = false
                s.phase = .stopped
                running.store(false, ordering: .sequentiallyConsistent)
            }
            stopSignal.fire()
            throw HTTPServerError(.socket, "could not start the accept thread")
        }
    }

    /// Stops the server. Always: stop accepting (the port is closed when this returns) and close
    /// idle keep-alive connections. `graceful`: requests already arriving or being handled finish
    /// and get their response (with `Connection: close`); after `timeout` seconds the rest are cut.
    /// Not graceful: every connection is cut now. Safe to call more than once and from any thread
    /// (e.g. a `SignalTrap` handler); returns when done.
    public func stop(graceful: Bool = true, timeout: Double = 10) {
        let proceed: Bool = state.withLock { s in
            switch s.phase {
            case .created:
                s.phase = .stopped
                return false
            case .stopped:
                return false
            case .running, .stopping:
                s.phase = .stopping
                running.store(false, ordering: .sequentiallyConsistent)
                if s.wakeWrite >= 0 {
                    var byte: UInt8 = 1
                    _ = write(s.wakeWrite, &byte, 1)
                }
                for (fd, slot) in s.connections where graceful ? slot.cutIfIdle() : slot.cut() {
                    shutdown(fd, Int32(SHUT_RDWR))
                }
                return true
            }
        }
        if proceed {
            let deadline = ServerSocket.now() &+ ServerSocket.nanoseconds(timeout)
            while !state.withLock({ $0.connections.isEmpty && !$0.acceptRunning }) {
                if ServerSocket.now() >= deadline {
                    state.withLock { s in
                        for (fd, slot) in s.connections where slot.cut() { shutdown(fd, Int32(SHUT_RDWR)) }
                    }
                    break
                }
                usleep(2_000)
            }
        }
        let stopped: Bool = state.withLock { s in
            guard s.phase != .running else { return false }
            s.phase = .stopped
            if !s.acceptRunning && s.wakeWrite >= 0 {
                close(s.wakeWrite)
                s.wakeWrite = -1
            }
            return true
        }
        if stopped { stopSignal.fire() }
    }

    /// Suspends until `stop()` has finished (returns at once if the server is not running).
    public func waitUntilStopped() async { await stopSignal.wait() }

    // MARK: - Accepting

    private func acceptLoop(listener: Int32, wakeRead: Int32) {
        var fds = [pollfd(fd: listener, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
        while true {
            fds[0].revents = 0
            fds[1].revents = 0
            let r = poll(&fds, 2, -1)
            if r < 0 {
                if errno == EINTR { continue }
                break
            }
            if fds[1].revents != 0 || !isRunning { break }
            acceptBatch: while true {
                switch ServerSocket.accept(listener) {
                case .wouldBlock:
                    break acceptBatch
                case .failed(let code):
                    if code == EINTR || code == ECONNABORTED || code == EPROTO { continue acceptBatch }
                    // Out of descriptors or memory: back off instead of spinning on a readable listener.
                    usleep(10_000)
                    break acceptBatch
                case .connection(let fd, let address):
                    admit(fd, address: address)
                }
            }
        }
        state.withLock { s in
            close(listener)
            close(wakeRead)
            s.acceptRunning = false
            if s.phase == .stopped && s.wakeWrite >= 0 {
                close(s.wakeWrite)
                s.wakeWrite = -1
            }
        }
    }

    private func admit(_ fd: Int32, address: String) {
        let slot = ConnectionSlot()
        let admitted: Bool? = state.withLock { s in
            guard s.phase == .running else { return nil }
            guard s.connections.count < configuration.maxConnections else { return false }
            s.connections[fd] = slot
            return true
        }
        switch admitted {
        case nil:
            close(fd)
        case false?:
            rejectBusy(fd)
        case true?:
            ServerSocket.configureConnection(fd, writeTimeout: configuration.writeTimeout)
            let started = ServerSocket.spawnThread { [self] in
                serveConnection(fd, slot: slot, remoteAddress: address)
                finish(fd)
            }
            if !started {
                state.withLock { s in _ = s.connections.removeValue(forKey: fd) }
                rejectBusy(fd)
            }
        }
    }

    /// `503` without blocking the accept thread, then close.
    private func rejectBusy(_ fd: Int32) {
        let bytes = HTTPResponseSerializer.serialize(.status(503), keepAlive: false)
        _ = ServerSocket.sendAll(fd, bytes, flags: Int32(MSG_DONTWAIT))
        close(fd)
    }

    private func finish(_ fd: Int32) {
        state.withLock { s in _ = s.connections.removeValue(forKey: fd) }
        close(fd)
    }

    // MARK: - One connection

    /// Reads, parses, answers, until the client closes, a limit or timeout is hit, or the server stops.
    private func serveConnection(_ fd: Int32, slot: ConnectionSlot, remoteAddress: String) {
        let config = configuration
        var parser = HTTPRequestParser(limits: config.limits)
        let readBuffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 64 * 1024)
        defer { readBuffer.deallocate() }
        var requestStarted: UInt64?
        var idleSince = ServerSocket.now()
        while true {
            switch parser.next() {
            case .complete(var request, _):
                request.remoteAddress = remoteAddress
                var response = handler(request)
                if response == .abortConnection {
                    // A deliberate reset (the emulator's fault injection): RST instead of an answer.
                    var lingerOption = linger(l_onoff: 1, l_linger: 0)
                    _ = setsockopt(fd, SOL_SOCKET, SO_LINGER, &lingerOption, socklen_t(MemoryLayout<linger>.size))
                    return
                }
                if !(200...999).contains(response.status) { response = .status(500) }
                let keepAlive = request.keepAlive && isRunning
                let bytes = HTTPResponseSerializer.serialize(response, keepAlive: keepAlive, requestVersion: request.version,
                                                             headRequest: request.method == "HEAD")
                guard ServerSocket.sendAll(fd, bytes) else { return }
                if !keepAlive {
                    // Linger only when the client already sent more; otherwise close at once.
                    if parser.bufferedByteCount > 0 || ServerSocket.hasPendingInput(fd) {
                        lingeringClose(fd, buffer: readBuffer)
                    }
                    return
                }
                if parser.bufferedByteCount > 0 {
                    requestStarted = ServerSocket.now() // a pipelined request is already arriving
                } else {
                    requestStarted = nil
                    idleSince = ServerSocket.now()
                    // Idle now; if `stop` began meanwhile it may have skipped us as busy, so leave.
                    guard slot.markIdle(), isRunning else { return }
                }
                continue
            case .error(let error):
                let response = HTTPServerResponse.text("\(error.description)\n", status: error.status)
                if ServerSocket.sendAll(fd, HTTPResponseSerializer.serialize(response, keepAlive: false)) {
                    lingeringClose(fd, buffer: readBuffer)
                }
                return
            case .needMore:
                if parser.shouldSendContinue {
                    guard ServerSocket.sendAll(fd, HTTPResponseSerializer.continueResponse) else { return }
                    parser.didSendContinue()
                }
            }

            let deadline = requestStarted.map { $0 &+ ServerSocket.nanoseconds(config.requestTimeout) }
                ?? idleSince &+ ServerSocket.nanoseconds(config.idleTimeout)
            switch ServerSocket.waitReadable(fd, until: deadline) {
            case .ready:
                break
            case .failed:
                return
            case .timeout:
                if requestStarted != nil {
                    _ = ServerSocket.sendAll(fd, HTTPResponseSerializer.serialize(.status(408), keepAlive: false))
                }
                return
            }
            let n = recv(fd, readBuffer.baseAddress, readBuffer.count, 0)
            if n == 0 { return }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                return
            }
            if requestStarted == nil {
                requestStarted = ServerSocket.now()
                guard slot.markBusy() else { return } // `stop` already cut this idle connection
            }
            parser.append(UnsafeBufferPointer(rebasing: readBuffer[0..<n]))
        }
    }

    /// Half-close, then read and discard until the client closes or `lingerTimeout` passes.
    private func lingeringClose(_ fd: Int32, buffer: UnsafeMutableBufferPointer<UInt8>) {
        shutdown(fd, Int32(SHUT_WR))
        let deadline = ServerSocket.now() &+ ServerSocket.nanoseconds(configuration.lingerTimeout)
        var discarded = 0
        while discarded < 4 * 1024 * 1024, ServerSocket.waitReadable(fd, until: deadline) == .ready {
            let n = recv(fd, buffer.baseAddress, buffer.count, 0)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            discarded += n
        }
    }
}

/// Whether a connection is between requests, inside one, or already cut by `stop`. An atomic,
/// so the per-request transitions take no lock; `stop` and the connection thread race on it
/// with compare-and-exchange, and exactly one of them wins.
private final class ConnectionSlot: Sendable {
    private static let idle: UInt8 = 0
    private static let busy: UInt8 = 1
    private static let cutState: UInt8 = 2
    private let status = Atomic<UInt8>(ConnectionSlot.idle)

    /// idle → busy; false when `stop` cut the connection first.
    func markBusy() -> Bool {
        status.compareExchange(expected: Self.idle, desired: Self.busy, ordering: .sequentiallyConsistent).exchanged
    }

    /// busy → idle; false when the connection was cut.
    func markIdle() -> Bool {
        status.compareExchange(expected: Self.busy, desired: Self.idle, ordering: .sequentiallyConsistent).exchanged
    }

    /// idle → cut (graceful stop); true when the caller must shut the socket down.
    func cutIfIdle() -> Bool {
        status.compareExchange(expected: Self.idle, desired: Self.cutState, ordering: .sequentiallyConsistent).exchanged
    }

    /// any → cut; true when it was not cut before (the caller must shut the socket down).
    func cut() -> Bool {
        status.exchange(Self.cutState, ordering: .sequentiallyConsistent) != Self.cutState
    }
}
