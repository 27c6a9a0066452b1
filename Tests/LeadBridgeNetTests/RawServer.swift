import Foundation
import Glibc
import Synchronization

/// A raw TCP server on 127.0.0.1 (kernel-chosen port) for the HTTP client's live tests: every
/// accepted connection runs `script` on its own thread with a `RawConnection`, which can answer
/// any bytes, stall, close or reset. It records what it read, so tests check the bytes on the
/// wire. Every read has a timeout, so a broken client fails a test instead of hanging it.
final class RawServer: Sendable {
    let port: Int
    private let fd: Int32
    private let state: Mutex<State>
    private struct State {
        var connections = 0
        var requests: [RawRequest] = []
        var open: [Int32] = []
        var stopped = false
    }

    init(_ script: @escaping @Sendable (RawConnection) -> Void) throws {
        state = Mutex(State())
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var sa = sockaddr_in()
        sa.sin_family = sa_family_t(AF_INET)
        sa.sin_port = 0
        inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr)
        let bound = withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, listen(fd, 64) == 0 else {
            let code = errno
            Glibc.close(fd)
            throw RawServerError("bind/listen failed: errno \(code)")
        }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        self.fd = fd
        port = Int(UInt16(bigEndian: sa.sin_port))
        let listener = fd
        Thread.detachNewThread { [self] in
            while true {
                let client = accept(listener, nil, nil)
                if client < 0 {
                    if errno == EINTR { continue }
                    return
                }
                // A process spawned meanwhile by a parallel test must not hold a copy (the test's
                // reset would never arrive); children the tests spawn also close what they inherit.
                _ = fcntl(client, F_SETFD, FD_CLOEXEC)
                let accepted = state.withLock { s -> Bool in
                    guard !s.stopped else { return false }
                    s.connections += 1
                    s.open.append(client)
                    return true
                }
                guard accepted else { Glibc.close(client); return }
                let connection = RawConnection(fd: client, server: self)
                Thread.detachNewThread {
                    script(connection)
                    connection.close()
                }
            }
        }
    }

    deinit { stop() }

    /// Connections accepted so far.
    var connections: Int { state.withLock { $0.connections } }
    /// Requests read so far, in order.
    var requests: [RawRequest] { state.withLock { $0.requests } }

    func record(_ r: RawRequest) { state.withLock { $0.requests.append(r) } }

    /// Closes a connection under the lock, so `stop` never shuts down a reused descriptor.
    func close(connection fd: Int32) {
        state.withLock { s in
            s.open.removeAll { $0 == fd }
            Glibc.close(fd)
        }
    }

    func stop() {
        state.withLock { s in
            // Only once: closing the same descriptor twice could close another server's socket.
            guard !s.stopped else { return }
            s.stopped = true
            shutdown(fd, Int32(SHUT_RDWR))
            Glibc.close(fd)
            for c in s.open { shutdown(c, Int32(SHUT_RDWR)) }
        }
    }

    /// A port on which nothing listens (bound, then closed).
    static func closedPort() throws -> Int {
        let s = try RawServer { _ in }
        let port = s.port
        s.stop()
        return port
    }
}

struct RawServerError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// One request as read off the wire: the exact head bytes and the body (by Content-Length).
struct RawRequest: Sendable {
    var head: String
    var body: [UInt8]
    var requestLine: String { String(head.split(separator: "\r\n", omittingEmptySubsequences: false).first ?? "") }
    var headerLines: [String] { head.split(separator: "\r\n").dropFirst().map(String.init) }
    func header(_ name: String) -> String? {
        for line in headerLines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            if line[..<colon].lowercased() == name.lowercased() {
                return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }
}

/// The server side of one connection.
final class RawConnection: @unchecked Sendable {
    // @unchecked: used by exactly one thread (the connection's script), then closed by it.
    let fd: Int32
    private weak var server: RawServer?
    private var buffer: [UInt8] = []
    private var closed = false

    init(fd: Int32, server: RawServer) {
        self.fd = fd
        self.server = server
        // Long: in a full test run the client's task may wait a while for a thread, and an
        // idle keep-alive connection must not be closed under it (stop() ends every read).
        var tv = timeval(tv_sec: 120, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Reads one request (head, then a Content-Length body); nil when the client closed.
    func readRequest() -> RawRequest? {
        while true {
            if let end = headEnd() {
                let head = String(decoding: buffer[0..<end], as: UTF8.self)
                buffer.removeFirst(end + 4)
                var request = RawRequest(head: head, body: [])
                let length = Int(request.header("Content-Length") ?? "0") ?? 0
                while buffer.count < length { guard fill() else { return nil } }
                request.body = Array(buffer.prefix(length))
                buffer.removeFirst(length)
                server?.record(request)
                return request
            }
            guard fill() else { return nil }
        }
    }

    private func headEnd() -> Int? {
        guard buffer.count >= 4 else { return nil }
        for i in 0...(buffer.count - 4) where buffer[i] == 13 && buffer[i + 1] == 10 && buffer[i + 2] == 13 && buffer[i + 3] == 10 { return i }
        return nil
    }

    private func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return false }
        buffer += chunk[0..<n]
        return true
    }

    /// Bytes already read past the last request (a tunnel's first bytes).
    func takeBuffered() -> [UInt8] {
        defer { buffer.removeAll() }
        return buffer
    }

    func write(_ text: String) { write(Array(text.utf8)) }

    func write(_ bytes: [UInt8]) {
        var rest = bytes[...]
        while !rest.isEmpty {
            let n = rest.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            rest = rest.dropFirst(n)
        }
    }

    /// A complete answer with Content-Length.
    func answer(_ status: Int, _ body: String = "", headers: [String] = []) {
        // One write: a second small segment would wait for the client's delayed ACK (Nagle).
        write("HTTP/1.1 \(status) X\r\nContent-Length: \(body.utf8.count)\r\n" + headers.map { $0 + "\r\n" }.joined() + "\r\n" + body)
    }

    /// Waits until the client closes (or the read times out).
    func waitForClose() { while fill() {} }

    /// Aborts the connection with a TCP reset (SO_LINGER 0), as a crashed server would.
    func reset() {
        guard !closed else { return }
        var l = linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, socklen_t(MemoryLayout<linger>.size))
        close()
    }

    func close() {
        guard !closed else { return }
        closed = true
        if let server { server.close(connection: fd) } else { Glibc.close(fd) }
    }

    /// Copies bytes both ways between this connection and `other` until either side closes
    /// (an HTTP proxy's CONNECT tunnel).
    func pipe(to other: Int32) {
        let pending = takeBuffered()
        if !pending.isEmpty { _ = pending.withUnsafeBytes { send(other, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } }
        var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: other, events: Int16(POLLIN), revents: 0)]
        var chunk = [UInt8](repeating: 0, count: 65536)
        while poll(&fds, 2, 10_000) > 0 {
            for (i, p) in fds.enumerated() where p.revents != 0 {
                let from = i == 0 ? fd : other, to = i == 0 ? other : fd
                let n = chunk.withUnsafeMutableBytes { recv(from, $0.baseAddress, $0.count, 0) }
                if n <= 0 { Glibc.close(other); return }
                _ = chunk.withUnsafeBytes { send(to, $0.baseAddress, n, Int32(MSG_NOSIGNAL)) }
            }
        }
        Glibc.close(other)
    }

    /// A TCP connection to 127.0.0.1:port, or -1.
    static func connect(port: Int) -> Int32 {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var sa = sockaddr_in()
        sa.sin_family = sa_family_t(AF_INET)
        sa.sin_port = in_port_t(UInt16(port)).bigEndian
        inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr)
        let rc = withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        if rc != 0 { Glibc.close(s); return -1 }
        return s
    }
}

/// A throwaway PKI made with the openssl CLI at test time: a test CA and a server certificate
/// for `localhost` signed by it, plus an `openssl s_server` speaking TLS on 127.0.0.1.
struct TestPKI {
    let dir: String
    var caFile: String { dir + "/ca.pem" }

    init() throws {
        dir = NSTemporaryDirectory() + "leadbridge-tls-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n".write(toFile: dir + "/server.ext", atomically: true, encoding: .utf8)
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try Self.openssl(["req", "-x509"] + ec + ["-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=LeadBridge Test CA",
                         "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"], in: dir)
        try Self.openssl(["req"] + ec + ["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"], in: dir)
        try Self.openssl(["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem",
                          "-days", "2", "-extfile", "server.ext"], in: dir)
    }

    static func openssl(_ args: [String], in dir: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        p.arguments = args
        p.currentDirectoryURL = URL(fileURLWithPath: dir)
        p.standardOutput = FileHandle.nullDevice
        let err = Pipe()
        p.standardError = err
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw RawServerError("openssl \(args.prefix(2).joined(separator: " ")) failed: " + String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
        }
    }

    /// `openssl s_server -www` on a free port of 127.0.0.1 (it answers GET with a status page).
    func startServer() async throws -> TLSServer {
        try await offThePool { () throws(RawServerError) in
            do { return try TLSServer(pki: self) } catch let e as RawServerError { throw e } catch { throw RawServerError("\(error)") }
        }
    }

    /// Makes the PKI on a thread of its own: the openssl runs block, and the tests' tasks must
    /// not hold the few threads of Swift's cooperative pool meanwhile.
    static func make() async throws -> TestPKI {
        try await offThePool { () throws(RawServerError) in
            do { return try TestPKI() } catch let e as RawServerError { throw e } catch { throw RawServerError("\(error)") }
        }
    }

    func remove() { try? FileManager.default.removeItem(atPath: dir) }
}

/// A running `openssl s_server`; stopped by `stop()` (by its pid).
final class TLSServer: Sendable {
    let port: Int
    let process: Process

    init(pki: TestPKI) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        p.arguments = ["s_server", "-accept", "127.0.0.1:0", "-cert", "server.pem", "-key", "server.key", "-www"]
        p.currentDirectoryURL = URL(fileURLWithPath: pki.dir)
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        // "ACCEPT 127.0.0.1:PORT" once it listens (bounded wait).
        var text = ""
        let deadline = Date().addingTimeInterval(15)
        var found: Int?
        while found == nil, Date() < deadline {
            let data = out.fileHandleForReading.availableData
            if data.isEmpty { break }
            text += String(decoding: data, as: UTF8.self)
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("ACCEPT") }), let colon = line.lastIndex(of: ":") {
                found = Int(line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
            }
        }
        guard let found else {
            p.terminate()
            throw RawServerError("openssl s_server did not start: \(text)")
        }
        port = found
        process = p
    }

    /// SIGKILL: a child of the test process inherits its blocked signal mask, so SIGTERM
    /// would stay pending. The exit is reaped on another thread.
    func stop() {
        kill(process.processIdentifier, SIGKILL)
        let p = process
        Thread.detachNewThread { p.waitUntilExit() }
    }
}

/// Runs blocking work on a new thread and awaits its result.
func offThePool<T: Sendable>(_ work: @escaping @Sendable () throws(RawServerError) -> T) async throws(RawServerError) -> T {
    let result = await withCheckedContinuation { (c: CheckedContinuation<Result<T, RawServerError>, Never>) in
        Thread.detachNewThread {
            do throws(RawServerError) { c.resume(returning: .success(try work())) } catch { c.resume(returning: .failure(error)) }
        }
    }
    return try result.get()
}
