import CEpoll
import Glibc
import LeadBridgeCore
import Synchronization

/// One thread that owns the listening socket and every connection: non-blocking sockets on an
/// edge-triggered epoll, requests parsed here and handed to the handler, responses written
/// here (the rest buffered until EPOLLOUT). Deadlines, the per-address and total connection
/// limits and eviction of the longest-idle connections all live here, so no client can hold
/// more than its share.
///
/// `@unchecked Sendable`: the object is handed to its thread once, by `HTTPServer.start`.
/// Everything mutable below is read and written only on that thread (inside `run`); other
/// threads reach the loop only through `mailbox` (a mutex) and the atomics of `HTTPServer`.
final class EventLoop: @unchecked Sendable {
    private static let listenerTag = UInt64.max - 1
    private static let wakeTag = UInt64.max
    /// Edge-triggered, both directions, registered once per connection (no epoll_ctl per request).
    private static let connectionEvents = EPOLLIN.rawValue | EPOLLOUT.rawValue | EPOLLRDHUP.rawValue | EPOLLET.rawValue

    let configuration: HTTPServerConfiguration
    let mailbox: LoopMailbox
    private let handler: HTTPServer.Handler
    private let log: @Sendable (String) -> Void
    private let shared: HTTPServer.Shared
    private let epoll: Int32
    private var listener: Int32
    private var table = ConnectionTable()
    private var deadlines = MinHeap<UInt64, DeadlineOwner>()
    private var readBuffer: UnsafeMutableBufferPointer<UInt8>
    /// Accepting is paused (the listener is out of epoll's interest, clients wait in the listen
    /// queue) while no connection can be taken: resumed when one closes or becomes idle, or
    /// after a failed `accept` at `acceptRetryAt` (ns; 0: no retry time).
    private var acceptPaused = false
    private var acceptRetryAt: UInt64 = 0
    private var maxConnections: Int
    private var nextID: UInt64 = 1
    private var now: UInt64 = 0
    private var stopping: (graceful: Bool, deadline: UInt64)?
    private var timers: [(next: UInt64, interval: UInt64, body: @Sendable () -> Void)] = []
    private var lastWarning: [String: UInt64] = [:]
    /// The last short response written and its bytes: the receiver answers nearly every
    /// postback with one shared response (`IngestReply`'s OK), built into bytes once per
    /// connection state instead of once per answer.
    private var lastSerialized: (response: HTTPServerResponse, keepAlive: Bool, version: HTTPVersion, head: Bool, bytes: [UInt8])?

    init(configuration: HTTPServerConfiguration, listener: Int32, mailbox: LoopMailbox, shared: HTTPServer.Shared,
         handler: @escaping HTTPServer.Handler, log: @escaping @Sendable (String) -> Void) throws(HTTPServerError) {
        let epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epoll >= 0 else { throw HTTPServerError(.socket, "epoll_create1: \(ServerSocket.errorText(errno))") }
        guard lb_epoll_add(epoll, listener, EPOLLIN.rawValue, Self.listenerTag) == 0,
              lb_epoll_add(epoll, mailbox.wakeFD, EPOLLIN.rawValue, Self.wakeTag) == 0 else {
            let code = errno
            Glibc.close(epoll)
            throw HTTPServerError(.socket, "epoll_ctl: \(ServerSocket.errorText(code))")
        }
        self.configuration = configuration
        self.listener = listener
        self.mailbox = mailbox
        self.shared = shared
        self.handler = handler
        self.log = log
        self.epoll = epoll
        self.readBuffer = .allocate(capacity: 64 * 1024)
        self.maxConnections = min(configuration.maxConnections ?? Int.max, FileLimit.connectionCapacity)
    }

    /// The loop; returns once stopped and every connection is closed.
    func run() {
        mailbox.bindToCurrentThread()
        let ready = UnsafeMutablePointer<lb_ready>.allocate(capacity: 512)
        defer { ready.deallocate() }
        while true {
            let n = lb_epoll_wait(epoll, ready, 512, timeoutMilliseconds())
            now = ServerSocket.now()
            if n < 0 && errno != EINTR { log("leadbridge: epoll_wait: \(ServerSocket.errorText(errno))") }
            var woken = false
            for i in 0..<Int(max(0, n)) {
                let event = ready[i]
                switch event.data {
                case Self.listenerTag: acceptConnections()
                case Self.wakeTag: woken = true
                default: connectionEvent(fd: Int32(truncatingIfNeeded: event.data), events: event.events)
                }
            }
            drainMailbox(clearingWake: woken)
            runTimers()
            expireDeadlines()
            if acceptRetryAt != 0 && now >= acceptRetryAt { resumeAccepting() }
            if let s = stopping, table.count == 0 || now >= s.deadline { break }
        }
        for c in table.all { close(c) }
        if listener >= 0 { Glibc.close(listener) }
        Glibc.close(epoll)
        mailbox.close()
        readBuffer.deallocate()
    }

    private func timeoutMilliseconds() -> Int32 {
        var soonest = deadlines.soonest ?? UInt64.max
        for t in timers { soonest = min(soonest, t.next) }
        if let s = stopping { soonest = min(soonest, s.deadline) }
        if acceptRetryAt != 0 { soonest = min(soonest, acceptRetryAt) }
        if soonest == UInt64.max { return -1 }
        let current = ServerSocket.now()
        guard soonest > current else { return 0 }
        return Int32(clamping: (soonest - current + 999_999) / 1_000_000)
    }

    /// One log line per kind of trouble every 10 s at most (a flood must not flood the log).
    private func warn(_ kind: String, _ message: @autoclosure () -> String) {
        if let last = lastWarning[kind], now &- last < 10_000_000_000 { return }
        lastWarning[kind] = now
        log("leadbridge: " + message())
    }

    // MARK: - Mailbox, timers, deadlines

    private func drainMailbox(clearingWake: Bool) {
        var clear = clearingWake
        while true {
            let (deliveries, commands) = mailbox.take(clearingWake: clear)
            clear = false
            if deliveries.isEmpty && commands.isEmpty { return }
            for command in commands {
                switch command {
                case .stop(let graceful, let deadline): beginStop(graceful: graceful, deadline: deadline)
                case .every(let interval, let body): timers.append((now &+ interval, interval, body))
                }
            }
            for d in deliveries {
                guard let c = table[d.fd], c.awaiting == d.request, c.phase == .handling else { continue }
                c.awaiting = 0
                deliver(d.response, to: c)
            }
        }
    }

    private func runTimers() {
        guard stopping == nil else { return }
        for i in timers.indices where timers[i].next <= now {
            timers[i].next = now &+ timers[i].interval
            timers[i].body()
        }
    }

    private func setDeadline(_ c: Connection, _ at: UInt64) {
        c.deadline = at
        guard at != 0, c.heapDeadline == 0 || at < c.heapDeadline else { return }
        c.heapDeadline = at
        deadlines.push(DeadlineOwner(fd: c.fd, id: c.id), at: at)
    }

    private func expireDeadlines() {
        while let (at, owner) = deadlines.popDue(now) {
            guard let c = table[owner.fd], c.id == owner.id, c.heapDeadline == at else { continue }
            c.heapDeadline = 0
            guard c.deadline != 0 else { continue }
            if c.deadline > now {
                setDeadline(c, c.deadline)
                continue
            }
            switch c.phase {
            case .idle, .writing, .lingering:
                close(c)
            case .reading:
                // Too slow: the head took longer than headTimeout, or the body came slower than
                // minBodyBytesPerSecond.
                writeFinal(c, .status(408), linger: false)
            case .handling:
                continue
            }
        }
    }

    // MARK: - Accepting

    private func acceptConnections() {
        for _ in 0..<256 {
            switch ServerSocket.accept(listener) {
            case .wouldBlock:
                return
            case .failed(let code):
                if code == EINTR || code == ECONNABORTED || code == EPROTO { continue }
                guard code == EMFILE || code == ENFILE else {
                    warn("accept", "accept failed: \(ServerSocket.errorText(code))")
                    return
                }
                // `accept` looks for a free descriptor before it looks at the queue: with
                // none waiting, there is nobody to make room for (and no idle one to close).
                guard ServerSocket.hasPending(listener), outOfDescriptors(code) else { return }
            case .connection(let fd, let address):
                admit(fd, peer: address)
            }
        }
    }

    /// `accept` found no free descriptor: say so, hold no more connections than are open now
    /// (the descriptors they use are all there is), and close the longest-idle connection to
    /// make room for the waiting one (true: try `accept` again). With none idle, accepting
    /// pauses until a connection closes (the waiting clients stay queued).
    private func outOfDescriptors(_ code: Int32) -> Bool {
        let held = table.count
        maxConnections = max(1, min(maxConnections, held))
        warn("files", "out of file descriptors (\(ServerSocket.errorText(code)); soft limit \(FileLimit.soft), \(held) connections open): "
             + "closing the longest-idle connections to keep serving, holding at most \(maxConnections) from now on; raise `ulimit -n` to hold more")
        if let victim = table.longestIdle {
            close(victim)
            return true
        }
        pauseAccepting(retry: true)
        return false
    }

    /// Stops watching the listener (it would stay readable and spin the loop): until a
    /// connection closes or becomes idle, and after a failed `accept` for at most 100 ms.
    private func pauseAccepting(retry: Bool = false) {
        guard listener >= 0 else { return }
        if !acceptPaused { _ = lb_epoll_mod(epoll, listener, 0, Self.listenerTag) }
        acceptPaused = true
        if retry { acceptRetryAt = now &+ 100_000_000 }
    }

    /// Watches the listener again.
    private func resumeAccepting() {
        guard acceptPaused, listener >= 0 else { return }
        acceptPaused = false
        acceptRetryAt = 0
        _ = lb_epoll_mod(epoll, listener, EPOLLIN.rawValue, Self.listenerTag)
    }

    /// At the limit with every connection inside a request (each bounded by a deadline), new
    /// clients wait in the listen queue instead of being refused.
    private func pauseIfFull() {
        if table.count >= maxConnections && table.idleCount == 0 { pauseAccepting() }
    }

    private func admit(_ fd: Int32, peer: String) {
        guard stopping == nil else {
            Glibc.close(fd)
            return
        }
        let config = configuration
        let isProxy = config.trustedProxies.contains(peer)
        if !isProxy && table.connections(from: peer) >= config.maxConnectionsPerAddress {
            warn("per-address", "\(peer) holds \(config.maxConnectionsPerAddress) connections (the per-address limit): refusing more")
            refuse(fd, status: 429)
            return
        }
        if table.count >= maxConnections {
            guard let victim = table.longestIdle else {
                // Every connection is inside a request (each bounded by a deadline): this one
                // waits, closed, and the next ones wait in the listen queue until a slot frees.
                warn("limit", "\(table.count) connections open (the limit), none idle: new clients wait in the listen queue")
                Glibc.close(fd)
                pauseAccepting(retry: true)
                return
            }
            warn("evict", "\(table.count) connections open (the limit): closing the longest-idle ones for new clients")
            close(victim)
        }
        ServerSocket.configureNonBlocking(fd)
        let c = Connection(fd: fd, id: nextID, peer: peer, peerIsProxy: isProxy, limits: config.limits)
        nextID &+= 1
        if !isProxy {
            c.countedAddress = peer
            table.count(peer)
        }
        guard lb_epoll_add(epoll, fd, Self.connectionEvents, UInt64(UInt32(bitPattern: fd))) == 0 else {
            warn("epoll", "epoll_ctl: \(ServerSocket.errorText(errno))")
            if let a = c.countedAddress { table.uncount(a) }
            Glibc.close(fd)
            return
        }
        table.insert(c)
        shared.connections.store(table.count, ordering: .relaxed)
        becomeIdle(c)
    }

    /// A short answer to a connection we will not keep, without blocking, then close.
    private func refuse(_ fd: Int32, status: Int) {
        var response = HTTPServerResponse.status(status)
        response.headers.append(HTTPHeader("Retry-After", "5"))
        _ = ServerSocket.sendAll(fd, HTTPResponseSerializer.serialize(response, keepAlive: false), flags: Int32(MSG_DONTWAIT))
        Glibc.close(fd)
    }

    private func close(_ c: Connection) {
        table.remove(c)
        Glibc.close(c.fd)
        c.deadline = 0
        c.output = []
        shared.connections.store(table.count, ordering: .relaxed)
        resumeAccepting()
    }

    private func becomeIdle(_ c: Connection) {
        c.phase = .idle
        c.parser.releaseIdleCapacity()
        table.appendIdle(c, now: now)
        setDeadline(c, now &+ ServerSocket.nanoseconds(configuration.idleTimeout))
        resumeAccepting() // it can make room for a waiting client
    }

    // MARK: - Stopping

    private func beginStop(graceful: Bool, deadline: UInt64) {
        if stopping == nil {
            Glibc.close(listener) // the port is closed from now on
            listener = -1
        }
        stopping = (graceful, min(deadline, stopping?.deadline ?? deadline))
        for c in table.all where !graceful || c.phase == .idle || c.phase == .lingering {
            close(c)
        }
    }

    // MARK: - Reading

    private func connectionEvent(fd: Int32, events: UInt32) {
        guard let c = table[fd] else { return }
        let hangUp = EPOLLRDHUP.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue
        if events & (EPOLLIN.rawValue | hangUp) != 0 {
            readable(c, toTheEnd: events & hangUp != 0)
        }
        if events & (EPOLLOUT.rawValue | EPOLLERR.rawValue) != 0, table[fd] === c, c.phase == .writing {
            flush(c)
        }
    }

    /// Reads until the socket is drained (edge-triggered), then parses what arrived. A short
    /// read means drained (later bytes bring a new edge), unless the client already shut its
    /// side (`toTheEnd`): then the EOF behind the data is read too.
    private func readable(_ c: Connection, toTheEnd: Bool = false) {
        if c.phase == .lingering {
            discard(c)
            return
        }
        while true {
            if c.phase == .handling || c.phase == .writing, c.parser.bufferedByteCount >= 64 * 1024 {
                c.readPending = true // a pipelining client runs ahead: read the rest once answered
                break
            }
            let n = recv(c.fd, readBuffer.baseAddress, readBuffer.count, 0)
            if n > 0 {
                if c.phase == .idle {
                    table.removeIdle(c)
                    c.phase = .reading
                    c.requestStart = now
                    c.bodyStart = 0
                    pauseIfFull()
                }
                c.parser.append(UnsafeBufferPointer(rebasing: readBuffer[0..<n]))
                if n < readBuffer.count && !toTheEnd { break } // drained: the next arrival brings a new edge
            } else if n == 0 {
                c.peerClosed = true
                break
            } else if errno == EINTR {
                continue
            } else if errno == EAGAIN || errno == EWOULDBLOCK {
                break
            } else {
                close(c) // reset by the peer
                return
            }
        }
        advance(c)
    }

    /// Lingering: read and drop until the client closes (bounded by bytes and the deadline).
    private func discard(_ c: Connection) {
        while true {
            let n = recv(c.fd, readBuffer.baseAddress, readBuffer.count, 0)
            if n > 0 {
                c.lingerDiscarded += n
                if c.lingerDiscarded > 4 * 1024 * 1024 { break }
                continue
            }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return }
            break
        }
        close(c)
    }

    /// Takes the next complete request out of what was read, if the connection is free for one.
    private func advance(_ c: Connection) {
        guard table[c.fd] === c, c.phase == .idle || c.phase == .reading else { return }
        switch c.parser.next() {
        case .needMore:
            if c.parser.shouldSendContinue {
                _ = ServerSocket.sendAll(c.fd, HTTPResponseSerializer.continueResponse, flags: Int32(MSG_DONTWAIT))
                c.parser.didSendContinue()
            }
            if c.peerClosed {
                close(c)
                return
            }
            switch c.parser.progress {
            case .idle:
                if c.phase != .idle { becomeIdle(c) }
            case .head:
                setDeadline(c, c.requestStart &+ ServerSocket.nanoseconds(configuration.headTimeout))
            case .body(let received):
                if c.bodyStart == 0 { c.bodyStart = now }
                // The body may take headTimeout, plus one second per minBodyBytesPerSecond bytes.
                let allowance = configuration.headTimeout + Double(received) / max(1, configuration.minBodyBytesPerSecond)
                setDeadline(c, c.bodyStart &+ ServerSocket.nanoseconds(allowance))
            case .failed:
                break
            }
        case .error(let error):
            writeFinal(c, .text("\(error.description)\n", status: error.status), linger: true)
        case .complete(var request, _):
            dispatch(&request, on: c)
        }
    }

    private func dispatch(_ request: inout HTTPServerRequest, on c: Connection) {
        let config = configuration
        request.remoteAddress = c.peer
        request.clientAddress = c.peerIsProxy ? config.trustedProxies.clientAddress(peer: c.peer, headers: request.headers) : c.peer
        if c.peerIsProxy && c.countedAddress != request.clientAddress {
            // Behind our own proxy: count the connection under the client it now speaks for.
            if let old = c.countedAddress { table.uncount(old) }
            c.countedAddress = nil
            guard table.connections(from: request.clientAddress) < config.maxConnectionsPerAddress else {
                warn("per-address", "\(request.clientAddress) (through \(c.peer)) holds \(config.maxConnectionsPerAddress) connections: refusing more")
                var busy = HTTPServerResponse.status(429)
                busy.headers.append(HTTPHeader("Retry-After", "5"))
                writeFinal(c, busy, linger: true)
                return
            }
            c.countedAddress = request.clientAddress
            table.count(request.clientAddress)
        }
        c.served += 1
        c.phase = .handling
        c.deadline = 0
        c.keepAlive = request.keepAlive && !c.peerClosed && stopping == nil
            && (config.maxRequestsPerConnection.map { c.served < $0 } ?? true)
        c.headRequest = request.method == "HEAD"
        c.version = request.version
        c.awaiting = nextID
        nextID &+= 1
        handler(request, HTTPResponder(mailbox: mailbox, fd: c.fd, request: c.awaiting))
    }

    // MARK: - Writing

    private func deliver(_ response: HTTPServerResponse, to c: Connection) {
        var response = response
        if !(200...999).contains(response.status) { response = .status(500) }
        let keepAlive = c.keepAlive && stopping == nil
        write(serialized(response, keepAlive: keepAlive, version: c.version, head: c.headRequest), to: c, then: keepAlive ? .keepAlive : .close)
    }

    /// The response's bytes, the last ones again when it is the same answer in the same state
    /// (comparing the shared response's arrays is an identity check; only short responses are
    /// kept, so a large page is never held between answers).
    private func serialized(_ response: HTTPServerResponse, keepAlive: Bool, version: HTTPVersion, head: Bool) -> [UInt8] {
        if let last = lastSerialized, last.keepAlive == keepAlive, last.version == version, last.head == head, last.response == response {
            return last.bytes
        }
        let bytes = HTTPResponseSerializer.serialize(response, keepAlive: keepAlive, requestVersion: version, headRequest: head)
        lastSerialized = response.body.count <= 256 && response.headers.count <= 4 ? (response, keepAlive, version, head, bytes) : nil
        return bytes
    }

    /// A response after which the connection closes (errors, timeouts, limits).
    private func writeFinal(_ c: Connection, _ response: HTTPServerResponse, linger: Bool) {
        c.phase = .handling
        c.awaiting = 0
        table.removeIdle(c)
        write(HTTPResponseSerializer.serialize(response, keepAlive: false), to: c, then: linger ? .linger : .close)
    }

    private func write(_ bytes: [UInt8], to c: Connection, then: Connection.AfterWrite) {
        c.afterWrite = then
        let n = bytes.withUnsafeBytes { send(c.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        if n == bytes.count {
            written(c)
            return
        }
        if n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
            close(c) // the client is gone
            return
        }
        c.output = bytes
        c.outputOffset = max(0, n)
        c.phase = .writing
        setDeadline(c, now &+ ServerSocket.nanoseconds(configuration.writeTimeout))
    }

    private func flush(_ c: Connection) {
        while c.outputOffset < c.output.count {
            let offset = c.outputOffset
            let n = c.output.withUnsafeBytes { raw in
                send(c.fd, UnsafeRawBufferPointer(rebasing: raw[offset...]).baseAddress, raw.count - offset, Int32(MSG_NOSIGNAL))
            }
            if n > 0 {
                c.outputOffset += n
                setDeadline(c, now &+ ServerSocket.nanoseconds(configuration.writeTimeout))
            } else if n < 0 && errno == EINTR {
                continue
            } else if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                return
            } else {
                close(c)
                return
            }
        }
        c.output = []
        c.outputOffset = 0
        written(c)
    }

    private func written(_ c: Connection) {
        switch c.afterWrite {
        case .close:
            // Linger only when the client already sent more (so it reads our answer, not a reset).
            if c.parser.bufferedByteCount > 0 || (!c.peerClosed && ServerSocket.hasPendingInput(c.fd)) {
                linger(c)
            } else {
                close(c)
            }
        case .linger:
            linger(c)
        case .keepAlive:
            c.phase = .reading
            c.requestStart = now
            c.bodyStart = 0
            advance(c) // a pipelined request may be waiting; otherwise the connection becomes idle
            if table[c.fd] === c, c.readPending, c.phase == .idle || c.phase == .reading {
                c.readPending = false
                readable(c)
            }
        }
    }

    /// Half-close and keep reading (discarding) until the client closes or `lingerTimeout`.
    private func linger(_ c: Connection) {
        if c.peerClosed {
            close(c)
            return
        }
        shutdown(c.fd, Int32(SHUT_WR))
        c.phase = .lingering
        c.parser = HTTPRequestParser(limits: HTTPLimits(maxRequestLineBytes: 16, maxHeaderBytes: 2, maxHeaderCount: 0, maxBodyBytes: 0))
        setDeadline(c, now &+ ServerSocket.nanoseconds(configuration.lingerTimeout))
        discard(c)
    }
}
