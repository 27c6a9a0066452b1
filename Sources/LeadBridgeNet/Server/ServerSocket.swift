import CEpoll
import Glibc

/// Why the server could not start.
public struct HTTPServerError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Which step failed, for callers that react differently (e.g. "port busy, pick another").
    public enum Kind: String, Sendable {
        /// The host is not an IPv4/IPv6 literal (or `localhost`), or the port is out of range.
        case invalidAddress
        /// Another process listens on that port.
        case addressInUse
        /// A socket call failed (permissions, descriptor limits).
        case socket
        /// `start()` was called twice, or after `stop()`.
        case alreadyStarted
    }
    public var kind: Kind
    public var message: String
    public init(_ kind: Kind, _ message: String) { self.kind = kind; self.message = message }
    public var description: String { "\(kind.rawValue): \(message)" }
}

/// Thin wrappers over the Glibc socket calls the servers need, one place for the unsafe code.
/// Linux only: `MSG_NOSIGNAL` and `SOCK_CLOEXEC` do not exist on Darwin. `package`: the
/// network emulator's own server (its fault injection stays out of the production one) uses them.
package enum ServerSocket {
    package enum IPAddress {
        case v4(in_addr)
        case v6(in6_addr)
    }

    /// `127.0.0.1`, `::1`, `[::1]`, `0.0.0.0`, `::`, `localhost` (= 127.0.0.1).
    package static func parseHost(_ host: String) -> IPAddress? {
        var h = host
        if h.hasPrefix("["), h.hasSuffix("]") { h = String(h.dropFirst().dropLast()) }
        if h == "localhost" { h = "127.0.0.1" }
        var a4 = in_addr()
        if inet_pton(AF_INET, h, &a4) == 1 { return .v4(a4) }
        var a6 = in6_addr()
        if inet_pton(AF_INET6, h, &a6) == 1 { return .v6(a6) }
        return nil
    }

    package static func errorText(_ code: Int32) -> String { String(cString: strerror(code)) }

    /// A bound, listening, non-blocking, close-on-exec socket and the port it got.
    package static func listen(host: String, port: Int, backlog: Int) -> Result<(fd: Int32, port: Int), HTTPServerError> {
        guard (0...65535).contains(port) else { return .failure(HTTPServerError(.invalidAddress, "port \(port) out of range")) }
        guard let address = parseHost(host) else {
            return .failure(HTTPServerError(.invalidAddress, "\"\(host)\" is not an IP address (use 127.0.0.1, ::1 or 0.0.0.0)"))
        }
        let family: Int32
        switch address {
        case .v4: family = AF_INET
        case .v6: family = AF_INET6
        }
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return .failure(HTTPServerError(.socket, "socket: \(errorText(errno))")) }
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let bound: Int32
        switch address {
        case .v4(let a):
            var sa = sockaddr_in()
            sa.sin_family = sa_family_t(AF_INET)
            sa.sin_port = in_port_t(UInt16(port)).bigEndian
            sa.sin_addr = a
            bound = withUnsafePointer(to: &sa) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        case .v6(let a):
            var sa = sockaddr_in6()
            sa.sin6_family = sa_family_t(AF_INET6)
            sa.sin6_port = in_port_t(UInt16(port)).bigEndian
            sa.sin6_addr = a
            bound = withUnsafePointer(to: &sa) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        }
        guard bound == 0 else {
            let code = errno
            close(fd)
            let kind: HTTPServerError.Kind = code == EADDRINUSE ? .addressInUse : .socket
            return .failure(HTTPServerError(kind, "bind \(host):\(port): \(errorText(code))"))
        }
        guard Glibc.listen(fd, Int32(clamping: backlog)) == 0 else {
            let code = errno
            close(fd)
            return .failure(HTTPServerError(.socket, "listen: \(errorText(code))"))
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let named = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0, let actual = endpoint(storage)?.port else {
            let code = errno
            close(fd)
            return .failure(HTTPServerError(.socket, "getsockname: \(errorText(code))"))
        }
        return .success((fd, actual))
    }

    package enum Accepted {
        case connection(fd: Int32, address: String)
        case wouldBlock
        case failed(Int32)
    }

    /// One `accept` on the non-blocking listener; the new socket is blocking and close-on-exec
    /// (the event loop makes it non-blocking with `configureNonBlocking`).
    package static func accept(_ listener: Int32) -> Accepted {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let fd = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.accept(listener, $0, &length) }
        }
        if fd < 0 {
            let code = errno
            return code == EAGAIN || code == EWOULDBLOCK ? .wouldBlock : .failed(code)
        }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        return .connection(fd: fd, address: endpoint(storage)?.host ?? "")
    }

    /// Whether a connection waits in the listener's queue (needs no descriptor, unlike `accept`).
    package static func hasPending(_ listener: Int32) -> Bool {
        var p = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
        return poll(&p, 1, 0) > 0 && p.revents & Int16(POLLIN) != 0
    }

    /// Host (IPv4-mapped IPv6 shown as IPv4) and port of a socket address.
    package static func endpoint(_ storage: sockaddr_storage) -> (host: String, port: Int)? {
        var storage = storage
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        switch Int32(storage.ss_family) {
        case AF_INET:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sa in
                    var addr = sa.pointee.sin_addr
                    guard inet_ntop(AF_INET, &addr, &text, socklen_t(text.count)) != nil else { return nil }
                    return (text.cString, Int(UInt16(bigEndian: sa.pointee.sin_port)))
                }
            }
        case AF_INET6:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sa in
                    var addr = sa.pointee.sin6_addr
                    guard inet_ntop(AF_INET6, &addr, &text, socklen_t(text.count)) != nil else { return nil }
                    var host = text.cString
                    if host.hasPrefix("::ffff:"), host.contains(".") { host.removeFirst(7) }
                    return (host, Int(UInt16(bigEndian: sa.pointee.sin6_port)))
                }
            }
        default:
            return nil
        }
    }

    /// A connection for the event loop: non-blocking, no Nagle delay.
    package static func configureNonBlocking(_ fd: Int32) {
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Per-connection options for a blocking server: bounded blocking sends, no Nagle delay.
    package static func configureConnection(_ fd: Int32, writeTimeout: Double) {
        var tv = timeval(tv_sec: Int(writeTimeout), tv_usec: Int((writeTimeout - Double(Int(writeTimeout))) * 1_000_000))
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Sends everything (never raising SIGPIPE); false when the peer is gone or the send timed out.
    package static func sendAll(_ fd: Int32, _ bytes: [UInt8], flags: Int32 = 0) -> Bool {
        bytes.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return true }
            var sent = 0
            while sent < raw.count {
                let n = send(fd, base + sent, raw.count - sent, Int32(MSG_NOSIGNAL) | flags)
                if n > 0 {
                    sent += n
                } else if n < 0 && errno == EINTR {
                    continue
                } else {
                    return false
                }
            }
            return true
        }
    }

    package enum Readiness { case ready, timeout, failed }

    /// Waits until `fd` is readable (or hung up) or the monotonic `deadline` (ns) passes.
    package static func waitReadable(_ fd: Int32, until deadline: UInt64) -> Readiness {
        while true {
            let current = now()
            guard current < deadline else { return .timeout }
            let ms = Int32(clamping: (deadline - current + 999_999) / 1_000_000)
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let r = poll(&p, 1, ms)
            if r > 0 { return .ready }
            if r < 0 && errno != EINTR { return .failed }
        }
    }

    /// True when bytes (or a hang-up) are waiting to be read right now.
    package static func hasPendingInput(_ fd: Int32) -> Bool {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&p, 1, 0) > 0
    }

    /// Monotonic clock in nanoseconds.
    package static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    package static func nanoseconds(_ seconds: Double) -> UInt64 {
        seconds <= 0 ? 0 : UInt64(min(seconds, 1e9) * 1e9)
    }

    /// A pipe whose ends are close-on-exec and whose write end never blocks.
    package static func wakePipe() -> (read: Int32, write: Int32)? {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return nil }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK)
        return (fds[0], fds[1])
    }

    /// Runs `body` on a new detached POSIX thread; false when the system refuses one.
    package static func spawnThread(name: String? = nil, _ body: @escaping @Sendable () -> Void) -> Bool {
        let box = Unmanaged.passRetained(ThreadBody {
            if let name { lb_name_current_thread(String(name.prefix(15))) }
            body()
        })
        var thread: pthread_t = 0
        let rc = pthread_create(&thread, nil, { raw in
            guard let raw else { return nil }
            Unmanaged<ThreadBody>.fromOpaque(raw).takeRetainedValue().run()
            return nil
        }, box.toOpaque())
        guard rc == 0 else {
            box.release()
            return false
        }
        pthread_detach(thread) // nobody joins: its resources go back to the system when it ends
        return true
    }

    private final class ThreadBody: Sendable {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }
}

private extension [CChar] {
    /// The NUL-terminated C string in this buffer.
    var cString: String {
        String(decoding: prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
