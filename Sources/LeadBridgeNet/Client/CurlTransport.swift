import CCurl
import CEpoll
import Glibc
import LeadBridgeCore
import Synchronization

/// The HTTP client: libcurl's multi interface driven by one thread for every transfer of the
/// transport. What it does, on purpose:
/// - **Keep-alive pool per host** (the multi handle's connection cache, up to
///   `maxConnectionsPerHost` connections per host), **HTTP/2** over TLS when the server offers
///   it (ALPN), with requests multiplexed on one connection.
/// - **TLS verification on**, against the system CA bundle (or `CURL_CA_BUNDLE` /
///   `SSL_CERT_FILE` / `SSL_CERT_DIR` from the given environment, as curl's tool reads them).
/// - **Proxies from the given environment** by curl's rules (`ProxyEnvironment`).
/// - **`ConnectToMap` rules through `CURLOPT_CONNECT_TO`** (plain HTTP to a loopback target;
///   see `ConnectToMap.Route` for why an https URL is sent as http there).
/// - **Timeouts in milliseconds**; a reset or a closed connection fails the request at once.
/// - **Redirects are never followed**: a 3xx is an answer, given to the spec's outcome rules
///   like any other. Nothing is ever re-sent elsewhere by the transport — no POST body is
///   replayed to another host, and no credential header travels to a host the spec did not
///   name.
/// - Exact bodies: no `Accept-Encoding` is offered (answers come as sent), no
///   `Expect: 100-continue`, `Accept: */*` and `User-Agent: leadbridge` unless the request
///   sets its own.
/// - Failures carry `TransportError.delivery` by the table in `CurlFailure`.
public final class CurlTransport: HTTPTransport {
    /// How the transport reaches networks.
    public struct Options: Sendable, Hashable {
        public var connectTo: ConnectToMap
        public var proxies: ProxyEnvironment
        /// A CA bundle file to trust instead of the system's (`CURL_CA_BUNDLE`, `SSL_CERT_FILE`).
        public var caBundle: String?
        /// A folder of hashed CA certificates (`SSL_CERT_DIR`).
        public var caDirectory: String?
        public var maxConnectionsPerHost: Int
    }

    public let options: Options
    private let driver = Mutex<CurlDriver?>(nil)

    /// `environment` supplies proxies and CA overrides (the CLI passes the process's
    /// variables; nothing is read from the process here).
    public init(connectTo: ConnectToMap = ConnectToMap(), environment: [String: String] = [:], maxConnectionsPerHost: Int = 64) {
        options = Options(connectTo: connectTo, proxies: ProxyEnvironment(environment),
                          caBundle: environment["CURL_CA_BUNDLE"].flatMap { $0.isEmpty ? nil : $0 } ?? environment["SSL_CERT_FILE"].flatMap { $0.isEmpty ? nil : $0 },
                          caDirectory: environment["SSL_CERT_DIR"].flatMap { $0.isEmpty ? nil : $0 },
                          maxConnectionsPerHost: max(1, maxConnectionsPerHost))
    }

    deinit { driver.withLock { $0?.stop() } }

    /// The running driver, started (and libcurl loaded) on the first request.
    private func runningDriver() throws(TransportError) -> CurlDriver {
        let made: Result<CurlDriver, TransportError> = driver.withLock { current in
            if let current { return .success(current) }
            switch CurlLibrary.shared {
            case .failure(let e): return .failure(e)
            case .success(let lib):
                do throws(TransportError) {
                    let d = try CurlDriver(lib: lib, options: options)
                    current = d
                    return .success(d)
                } catch {
                    return .failure(error)
                }
            }
        }
        return try made.get()
    }

    public func send(_ request: HTTPRequestValue, timeout: Double) async throws(TransportError) -> HTTPResponseValue {
        let driver = try runningDriver()
        let transfer = CurlTransfer(request: request, timeoutMs: max(1, Int((timeout * 1000).rounded(.up))))
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                transfer.continuation = continuation
                driver.submit(transfer)
            }
        } onCancel: {
            driver.cancel(transfer)
        }
        return try result.get()
    }
}

/// One request in flight: its answer is collected here by libcurl's callbacks.
final class CurlTransfer: @unchecked Sendable {
    // @unchecked: `request` and `timeoutMs` are immutable; `continuation` is set by the
    // sending task before `CurlDriver.submit` hands the transfer over under the driver's lock;
    // every other field (`host` included) is read and written only on the driver thread (in
    // its callbacks and its loop); `cancelRequested` is atomic.
    static let maxBody = 64 << 20

    let request: HTTPRequestValue
    let timeoutMs: Int
    /// The URL's host, for errors (set by the driver from its origin cache).
    var host = "?"
    let cancelRequested = Atomic<Bool>(false)
    var continuation: CheckedContinuation<Result<HTTPResponseValue, TransportError>, Never>?
    var easy: UnsafeMutableRawPointer?
    var lists: [UnsafeMutablePointer<curl_slist>] = []
    var headers: [HTTPHeader] = []
    var body: [UInt8] = []
    var requestStarted = false
    var tooLarge = false
    let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE))

    init(request: HTTPRequestValue, timeoutMs: Int) {
        self.request = request
        self.timeoutMs = timeoutMs
        errorBuffer[0] = 0
    }

    deinit { errorBuffer.deallocate() }

    func finish(_ result: Result<HTTPResponseValue, TransportError>) {
        continuation?.resume(returning: result)
        continuation = nil
    }

    /// One header line as received: a status line starts a new header block (after a
    /// `100 Continue`), an empty line ends it.
    func headerLine(_ raw: UnsafeRawBufferPointer) {
        var end = raw.count
        while end > 0, raw[end - 1] == 0x0A || raw[end - 1] == 0x0D { end -= 1 }
        guard end > 0 else { return }
        let line = UnsafeRawBufferPointer(rebasing: raw[0..<end])
        if line.starts(with: "HTTP/".utf8) { headers.removeAll(keepingCapacity: true); return }
        guard let colon = line.firstIndex(of: 0x3A) else { return }
        var start = colon + 1
        while start < end, line[start] == 0x20 || line[start] == 0x09 { start += 1 }
        headers.append(HTTPHeader(String(decoding: line[0..<colon], as: UTF8.self), String(decoding: line[start..<end], as: UTF8.self)))
    }

    func bodyBytes(_ raw: UnsafeRawBufferPointer) -> Bool {
        guard body.count + raw.count <= Self.maxBody else { tooLarge = true; return false }
        body.append(contentsOf: raw)
        return true
    }
}

/// The thread that drives every transfer of one `CurlTransport` through a libcurl multi
/// handle, on epoll: libcurl says which sockets to watch (its socket callback) and when its
/// next timeout is (its timer callback); the thread sleeps in `epoll_wait` until one of those
/// sockets is ready, the timer is due or a transfer is submitted (an eventfd), and hands only
/// what happened to `curl_multi_socket_action` — no walk over every transfer and socket on
/// each wake-up, as `curl_multi_perform` and `curl_multi_poll` make.
final class CurlDriver: @unchecked Sendable {
    // @unchecked: `multi`, `running`, `spare`, `watched`, `origins` and `timerDeadline` are
    // used only on the driver thread (`run`, what it calls, and libcurl's callbacks, which
    // libcurl runs inside the calls the driver makes); other threads reach the driver only
    // through `inbox` (a Mutex) and the eventfd. The eventfd is closed by the driver thread
    // after it saw `stopping`, which only `stop()` sets, from the transport's deinit: no
    // `submit` or `cancel` (made inside the transport's `send`, which holds it) can run then.
    private struct Inbox {
        var added: [CurlTransfer] = []
        var cancelled: [CurlTransfer] = []
        var stopping = false
        /// The driver is (about to be) in `epoll_wait`: a submission wakes it.
        var sleeping = false
        /// The driver ended and closed its descriptors.
        var closed = false
    }

    private static let wakeTag = UInt64.max
    private static let maxOrigins = 1024

    private let lib: CurlLibrary
    private let options: CurlTransport.Options
    private let multi: UnsafeMutableRawPointer
    private let epoll: Int32
    private let wakeFD: Int32
    private let inbox = Mutex(Inbox())
    private var running: [ObjectIdentifier: CurlTransfer] = [:]
    private var spare: [UnsafeMutableRawPointer] = []
    /// The sockets libcurl asked to watch.
    private var watched = Set<Int32>()
    /// When libcurl wants its timeout action (CLOCK_MONOTONIC nanoseconds); nil: no timer.
    private var timerDeadline: UInt64?
    /// What every request to one origin shares, worked out on its first request (at most
    /// `maxOrigins`; beyond, each request works it out alone).
    private var origins: [String: Origin] = [:]
    /// The previous request's origin, compared byte by byte before any hashing (a send pass
    /// sends to one origin).
    private var lastOrigin: (key: String, origin: Origin)?

    /// How requests to one origin (`scheme://authority` exactly as the URL spells it) travel:
    /// the connect-to route and proxy depend on the scheme and host alone, so a send pass
    /// parses its network's URL and builds its `CURLOPT_CONNECT_TO` list once, not per lead.
    struct Origin {
        var host: String
        /// The origin to request instead (a connect-to route's plain-HTTP origin), or nil.
        var routedOrigin: String?
        /// The route's `CURLOPT_CONNECT_TO` list (freed when the driver ends).
        var connectTo: UnsafeMutablePointer<curl_slist>?
        var proxy: String
        var https: Bool
    }

    init(lib: CurlLibrary, options: CurlTransport.Options) throws(TransportError) {
        guard let multi = lib.api.multi_init?() else { throw TransportError(.invalidRequest, .noMultiHandle, delivery: .notSent) }
        let epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        let wakeFD = eventfd(0, Int32(EFD_NONBLOCK) | Int32(EFD_CLOEXEC))
        // Edge-triggered: every write wakes the loop, and the loop never reads the counter back.
        guard epoll >= 0, wakeFD >= 0, lb_epoll_add(epoll, wakeFD, EPOLLIN.rawValue | EPOLLET.rawValue, Self.wakeTag) == 0 else {
            let why = String(cString: strerror(errno))
            if epoll >= 0 { close(epoll) }
            if wakeFD >= 0 { close(wakeFD) }
            _ = lib.api.multi_cleanup?(multi)
            throw TransportError(.invalidRequest, .eventLoop(detail: why), delivery: .notSent)
        }
        self.lib = lib
        self.options = options
        self.multi = multi
        self.epoll = epoll
        self.wakeFD = wakeFD
        lib.setopt(multi: multi, CURLMOPT_MAX_HOST_CONNECTIONS, options.maxConnectionsPerHost)
        lib.setopt(multi: multi, CURLMOPT_MAXCONNECTS, max(16, options.maxConnectionsPerHost * 2))
        lib.setopt(multi: multi, CURLMOPT_PIPELINING, 2)  // CURLPIPE_MULTIPLEX: HTTP/2 streams share a connection
        // The callbacks get the driver unretained: the thread below holds it until the end.
        let me = UnsafeRawPointer(Unmanaged.passUnretained(self).toOpaque())
        lib.setopt(multi: multi, socket: Self.onSocket, data: me)
        lib.setopt(multi: multi, timer: Self.onTimer, data: me)
        var thread = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        let rc = pthread_create(&thread, nil, { context in
            guard let context else { return nil }
            Unmanaged<CurlDriver>.fromOpaque(context).takeRetainedValue().run()
            return nil
        }, context)
        guard rc == 0 else {
            Unmanaged<CurlDriver>.fromOpaque(context).release()
            throw TransportError(.invalidRequest, .clientThread(code: Int(rc)), delivery: .notSent)
        }
        pthread_detach(thread)
    }

    deinit {
        // Reached only when the thread never started (the thread holds the driver otherwise).
        if !inbox.withLock({ $0.closed }) {
            _ = lib.api.multi_cleanup?(multi)
            close(epoll)
            close(wakeFD)
        }
    }

    /// Hands a transfer to the driver; wakes it only when it sleeps (or is about to).
    func submit(_ transfer: CurlTransfer) {
        let (accepted, wakeUp) = inbox.withLock { inbox -> (Bool, Bool) in
            guard !inbox.stopping else { return (false, false) }
            inbox.added.append(transfer)
            return (true, takeSleeper(&inbox))
        }
        guard accepted else {
            transfer.finish(.failure(TransportError(.cancelled, .shuttingDown, delivery: .notSent)))
            return
        }
        if wakeUp { wake() }
    }

    func cancel(_ transfer: CurlTransfer) {
        transfer.cancelRequested.store(true, ordering: .sequentiallyConsistent)
        let wakeUp = inbox.withLock { inbox in
            inbox.cancelled.append(transfer)
            return takeSleeper(&inbox)
        }
        if wakeUp { wake() }
    }

    func stop() {
        // Under the lock: the driver closes the eventfd once it saw `stopping`.
        inbox.withLock { inbox in
            inbox.stopping = true
            if !inbox.closed { wake() }
        }
    }

    /// True when the caller is to wake the driver: it sleeps (or is about to) and no one woke
    /// it yet. Outside the lock, the write does not hold the driver, waking, on the lock.
    private func takeSleeper(_ inbox: inout Inbox) -> Bool {
        guard inbox.sleeping, !inbox.closed else { return false }
        inbox.sleeping = false
        return true
    }

    private func wake() {
        var one: UInt64 = 1
        _ = write(wakeFD, &one, 8)
    }

    // MARK: the driver thread

    private func run() {
        // Named, so a profile or `perf sched` tells it from the pool threads it was started from.
        lb_name_current_thread("curl-driver")
        guard let action = lib.api.multi_socket_action else { return }
        var stillRunning: Int32 = 0
        let capacity = 256
        let ready = UnsafeMutablePointer<lb_ready>.allocate(capacity: capacity)
        defer { ready.deallocate() }
        while true {
            let (added, cancelled, stopping) = inbox.withLock { inbox in
                defer { inbox.added.removeAll(); inbox.cancelled.removeAll() }
                return (inbox.added, inbox.cancelled, inbox.stopping)
            }
            for t in added { start(t) }
            for t in cancelled { abort(t, TransportError(.cancelled, .cancelled(host: t.host), delivery: t.requestStarted ? .maybeReceived : .notSent)) }
            if stopping { break }
            // libcurl's timer (a new transfer asks for it at once, timeouts and retries later).
            if let deadline = timerDeadline, deadline <= Self.now() {
                timerDeadline = nil
                _ = action(multi, CURL_SOCKET_TIMEOUT, 0, &stillRunning)
            }
            completeFinished()
            let sleeping = inbox.withLock { inbox -> Bool in
                inbox.sleeping = inbox.added.isEmpty && inbox.cancelled.isEmpty && !inbox.stopping
                return inbox.sleeping
            }
            let n = lb_epoll_wait(epoll, ready, Int32(capacity), sleeping ? waitMilliseconds() : 0)
            inbox.withLock { $0.sleeping = false }
            for i in 0..<max(0, Int(n)) {
                let event = ready[i]
                if event.data == Self.wakeTag { continue }
                var mask: Int32 = 0
                if event.events & EPOLLIN.rawValue != 0 { mask |= CURL_CSELECT_IN }
                if event.events & EPOLLOUT.rawValue != 0 { mask |= CURL_CSELECT_OUT }
                if event.events & (EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0 { mask |= CURL_CSELECT_ERR }
                _ = action(multi, curl_socket_t(Int32(truncatingIfNeeded: event.data)), mask, &stillRunning)
            }
            completeFinished()
        }
        for t in Array(running.values) {
            abort(t, TransportError(.cancelled, .shuttingDown, delivery: t.requestStarted ? .maybeReceived : .notSent))
        }
        for easy in spare { lib.api.easy_cleanup?(easy) }
        spare.removeAll()
        for origin in origins.values { if let list = origin.connectTo { lib.api.slist_free_all?(list) } }
        origins.removeAll()
        _ = lib.api.multi_cleanup?(multi)
        inbox.withLock { inbox in
            inbox.closed = true
            close(epoll)
            close(wakeFD)
        }
    }

    /// Completes the transfers libcurl reports done.
    private func completeFinished() {
        guard let info = lib.api.multi_info_read else { return }
        var left: Int32 = 0
        while let message = info(multi, &left) {
            if message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle {
                complete(easy, lb_msg_result(message))
            }
        }
    }

    /// How long `epoll_wait` may sleep: until libcurl's timer (rounded up to a millisecond),
    /// at most 10 s.
    private func waitMilliseconds() -> Int32 {
        guard let deadline = timerDeadline else { return 10_000 }
        let now = Self.now()
        guard deadline > now else { return 0 }
        return Int32(min(10_000, (deadline - now + 999_999) / 1_000_000))
    }

    private static func now() -> UInt64 {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
    }

    /// libcurl's socket callback: watch `fd` for what it wants, or no more.
    private func watch(_ fd: Int32, _ what: Int32) {
        if what == CURL_POLL_REMOVE {
            if watched.remove(fd) != nil { _ = lb_epoll_del(epoll, fd) }
            return
        }
        var events: UInt32 = 0
        if what & CURL_POLL_IN != 0 { events |= EPOLLIN.rawValue }
        if what & CURL_POLL_OUT != 0 { events |= EPOLLOUT.rawValue }
        let tag = UInt64(UInt32(bitPattern: fd))
        // A descriptor closed and reused without a REMOVE in between is re-added.
        if watched.insert(fd).inserted {
            if lb_epoll_add(epoll, fd, events, tag) != 0 && errno == EEXIST { _ = lb_epoll_mod(epoll, fd, events, tag) }
        } else if lb_epoll_mod(epoll, fd, events, tag) != 0 && errno == ENOENT {
            _ = lb_epoll_add(epoll, fd, events, tag)
        }
    }

    /// The URL's origin (`scheme://authority`) and the rest (path, query, fragment).
    static func split(_ url: String) -> (origin: Substring, rest: Substring) {
        let utf8 = url.utf8
        guard let colon = utf8.firstIndex(of: UInt8(ascii: ":")), utf8[colon...].starts(with: "://".utf8) else { return (url[...], "") }
        let authority = utf8.index(colon, offsetBy: 3)
        let end = utf8[authority...].firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") } ?? utf8.endIndex
        return (url[..<end], url[end...])
    }

    /// The URL libcurl requests and how it travels: the cached origin's (parsed on its first
    /// request). A routed URL is the route's origin and the request target as `URLParts` keeps
    /// it (no fragment, a leading `/`), exactly what `ConnectToMap.route` makes.
    private func origin(of url: String, for t: CurlTransfer) -> (url: String, origin: Origin) {
        let (key, rest) = Self.split(url)
        let origin: Origin
        if let last = lastOrigin, last.key.utf8.elementsEqual(key.utf8) {
            origin = last.origin
        } else if let known = origins[String(key)] {
            origin = known
            lastOrigin = (String(key), known)
        } else {
            let parts = URLParts(url)
            let route = Self.route(url, options.connectTo)
            let list = route.flatMap { lib.slist([$0.connectTo]) }
            // A connect-to target is loopback: never through a proxy. "" disables libcurl's own
            // reading of the environment, so only what `ProxyEnvironment` chose applies.
            origin = Origin(host: parts?.host ?? "?", routedOrigin: route?.origin, connectTo: list,
                            proxy: route == nil ? options.proxies.proxy(for: url) ?? "" : "", https: parts?.scheme == "https")
            if origins.count < Self.maxOrigins {
                origins[String(key)] = origin
                lastOrigin = (String(key), origin)
            } else if let list {
                t.lists.append(list)  // freed with the transfer's other lists
            }
        }
        guard let routed = origin.routedOrigin else { return (url, origin) }
        return (Self.routedURL(routed, rest: rest), origin)
    }

    /// A URL's connect-to route, by origin: the origin to request instead (`ConnectToMap.Route`'s
    /// URL without its request target) and the `CURLOPT_CONNECT_TO` entry.
    static func route(_ url: String, _ map: ConnectToMap) -> (origin: String, connectTo: String)? {
        guard let parts = URLParts(url), let route = map.route(url) else { return nil }
        return (String(decoding: route.url.utf8.dropLast(parts.target.utf8.count), as: UTF8.self), route.connectTo)
    }

    /// The URL to request for one whose origin routes to `routedOrigin` (`rest`: what follows
    /// the origin): the request target as `URLParts` keeps it — no fragment, a leading `/` —
    /// after the routed origin, which is what `ConnectToMap.route` makes of the whole URL.
    static func routedURL(_ routedOrigin: String, rest: Substring) -> String {
        var target = rest
        if let hash = target.firstIndex(of: "#") { target = target[..<hash] }
        return target.isEmpty || target.hasPrefix("?") ? routedOrigin + "/" + target : routedOrigin + target
    }

    private func start(_ t: CurlTransfer) {
        let (url, origin) = origin(of: t.request.url, for: t)
        t.host = origin.host
        if t.cancelRequested.load(ordering: .sequentiallyConsistent) {
            t.finish(.failure(TransportError(.cancelled, .cancelled(host: t.host), delivery: .notSent)))
            return
        }
        guard let easy = spare.popLast() ?? lib.api.easy_init?() else {
            t.finish(.failure(TransportError(.invalidRequest, .noHandle, delivery: .notSent)))
            return
        }
        t.easy = easy
        configure(easy, t, url: url, origin: origin)
        guard lib.api.multi_add_handle?(multi, easy) == CURLM_OK else {
            recycle(t)
            t.finish(.failure(TransportError(.invalidRequest, .transferRefused, delivery: .notSent)))
            return
        }
        running[ObjectIdentifier(t)] = t
    }

    private func configure(_ easy: UnsafeMutableRawPointer, _ t: CurlTransfer, url: String, origin: Origin) {
        let r = t.request
        lib.setopt(easy, CURLOPT_URL, url)
        lib.setopt(easy, CURLOPT_PRIVATE, UnsafeRawPointer(Unmanaged.passUnretained(t).toOpaque()))
        lib.setopt(easy, CURLOPT_NOSIGNAL, 1)
        lib.setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https")
        lib.setopt(easy, CURLOPT_FOLLOWLOCATION, 0)
        lib.setopt(easy, CURLOPT_TIMEOUT_MS, t.timeoutMs)
        lib.setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, t.timeoutMs)
        lib.setopt(easy, CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_2TLS))
        // Waiting for a connection to say whether it multiplexes helps HTTP/2 alone, which is
        // offered over TLS only: on http:// it held every request after the first until the
        // first answer came (64 connections to a 20 ms network opened 20 ms late).
        if origin.https && origin.routedOrigin == nil { lib.setopt(easy, CURLOPT_PIPEWAIT, 1) }
        lib.setopt(easy, CURLOPT_TCP_KEEPALIVE, 1)
        lib.setopt(easy, CURLOPT_ERRORBUFFER, UnsafeRawPointer(t.errorBuffer))
        let me = UnsafeRawPointer(Unmanaged.passUnretained(t).toOpaque())
        lib.setopt(easy, CURLOPT_WRITEFUNCTION, callback: Self.onBody)
        lib.setopt(easy, CURLOPT_WRITEDATA, me)
        lib.setopt(easy, CURLOPT_HEADERFUNCTION, callback: Self.onHeader)
        lib.setopt(easy, CURLOPT_HEADERDATA, me)
        lib.setopt(easy, prereq: Self.onRequestStart)
        lib.setopt(easy, CURLOPT_PREREQDATA, me)
        lib.setopt(easy, CURLOPT_PROXY, origin.proxy)
        if let noProxy = options.proxies.noProxy { lib.setopt(easy, CURLOPT_NOPROXY, noProxy) }
        if let ca = options.caBundle { lib.setopt(easy, CURLOPT_CAINFO, ca) }
        if let dir = options.caDirectory { lib.setopt(easy, CURLOPT_CAPATH, dir) }
        if let list = origin.connectTo { lib.setopt(easy, CURLOPT_CONNECT_TO, UnsafeRawPointer(list)) }
        var lines: [String] = []
        lines.reserveCapacity(r.headers.count + 2)
        var hasAgent = false, hasExpect = false
        for h in r.headers {
            let lower = h.name.lowercased()
            if lower == "user-agent" { hasAgent = true }
            if lower == "expect" { hasExpect = true }
            // "Name;" is libcurl's way to send a header with an empty value ("Name:" removes it).
            lines.append(h.value.isEmpty ? "\(h.name);" : "\(h.name): \(h.value)")
        }
        if !hasExpect { lines.append("Expect:") }
        if !hasAgent { lib.setopt(easy, CURLOPT_USERAGENT, "leadbridge") }
        if let list = lib.slist(lines) {
            t.lists.append(list)
            lib.setopt(easy, CURLOPT_HTTPHEADER, UnsafeRawPointer(list))
        }
        let method = r.method.uppercased()
        switch method {
        case "GET" where r.body.isEmpty:
            lib.setopt(easy, CURLOPT_HTTPGET, 1)
        case "HEAD":
            lib.setopt(easy, CURLOPT_NOBODY, 1)
        default:
            // Every other method carries its body (possibly empty: `Content-Length: 0`).
            lib.setopt(easy, CURLOPT_POST, 1)
            lib.setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, size: Int64(r.body.count))
            if r.body.isEmpty {
                lib.setopt(easy, CURLOPT_COPYPOSTFIELDS, "")
            } else {
                r.body.withUnsafeBytes { lib.setopt(easy, CURLOPT_COPYPOSTFIELDS, $0.baseAddress) }
            }
            if method != "POST" { lib.setopt(easy, CURLOPT_CUSTOMREQUEST, r.method) }
        }
    }

    private func complete(_ easy: UnsafeMutableRawPointer, _ code: CURLcode) {
        guard let pointer = lib.info(easy, pointer: CURLINFO_PRIVATE) else { return }
        let t = Unmanaged<CurlTransfer>.fromOpaque(pointer).takeUnretainedValue()
        _ = lib.api.multi_remove_handle?(multi, easy)
        let result: Result<HTTPResponseValue, TransportError>
        if code == CURLE_OK {
            result = .success(HTTPResponseValue(status: lib.info(easy, long: CURLINFO_RESPONSE_CODE), headers: t.headers, body: t.body))
        } else {
            let detail = t.errorBuffer[0] != 0 ? String(cString: t.errorBuffer) : lib.describe(code)
            result = .failure(CurlFailure(code: code.rawValue, detail: detail, requestStarted: t.requestStarted, tooLarge: t.tooLarge,
                                          timeoutMs: t.timeoutMs, host: t.host).error)
        }
        running[ObjectIdentifier(t)] = nil
        recycle(t)
        t.finish(result)
    }

    /// Stops a transfer that has not completed (cancel, shutdown).
    private func abort(_ t: CurlTransfer, _ error: TransportError) {
        guard running.removeValue(forKey: ObjectIdentifier(t)) != nil, let easy = t.easy else { return }
        _ = lib.api.multi_remove_handle?(multi, easy)
        recycle(t)
        t.finish(.failure(error))
    }

    /// Frees a finished transfer's lists and keeps its handle for the next request.
    private func recycle(_ t: CurlTransfer) {
        for list in t.lists { lib.api.slist_free_all?(list) }
        t.lists.removeAll()
        guard let easy = t.easy else { return }
        t.easy = nil
        lib.api.easy_reset?(easy)
        if spare.count < options.maxConnectionsPerHost * 2 { spare.append(easy) } else { lib.api.easy_cleanup?(easy) }
    }

    // MARK: libcurl callbacks (on the driver thread, inside the libcurl calls it makes)

    private static let onSocket: curl_socket_callback = { _, fd, what, user, _ in
        guard let user else { return 0 }
        Unmanaged<CurlDriver>.fromOpaque(user).takeUnretainedValue().watch(fd, what)
        return 0
    }

    private static let onTimer: curl_multi_timer_callback = { _, timeoutMs, user in
        guard let user else { return 0 }
        let driver = Unmanaged<CurlDriver>.fromOpaque(user).takeUnretainedValue()
        driver.timerDeadline = timeoutMs < 0 ? nil : now() + UInt64(timeoutMs) * 1_000_000
        return 0
    }

    private static let onBody: curl_write_callback = { data, size, count, user in
        let n = size * count
        guard let user else { return 0 }
        let t = Unmanaged<CurlTransfer>.fromOpaque(user).takeUnretainedValue()
        return t.bodyBytes(UnsafeRawBufferPointer(start: data, count: n)) ? n : 0
    }

    private static let onHeader: curl_write_callback = { data, size, count, user in
        let n = size * count
        guard let user else { return 0 }
        Unmanaged<CurlTransfer>.fromOpaque(user).takeUnretainedValue().headerLine(UnsafeRawBufferPointer(start: data, count: n))
        return n
    }

    /// Runs right before the request is written. A second call for one transfer is libcurl
    /// retrying on a fresh connection after a reused one died without an answer: the network
    /// may already have the first copy, so the retry is refused (the failure stays
    /// `maybeReceived`) — a lead is never sent twice behind the lifecycle's back.
    private static let onRequestStart: curl_prereq_callback = { user, _, _, _, _ in
        guard let user else { return 0 }
        let transfer = Unmanaged<CurlTransfer>.fromOpaque(user).takeUnretainedValue()
        if transfer.requestStarted { return 1 }  // CURL_PREREQFUNC_ABORT
        transfer.requestStarted = true
        return 0  // CURL_PREREQFUNC_OK
    }
}
