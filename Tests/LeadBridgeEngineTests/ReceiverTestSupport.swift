import Foundation
import Glibc
import Synchronization
import Testing
import LeadBridgeCore
import LeadBridgeEngine
import LeadBridgeNet
import LeadBridgeStore
import LeadBridgeTestSupport

/// Support for the receiver integration, robustness and crash tests: a blocking loopback HTTP
/// client that writes exactly the bytes it is given (every read and write has a timeout, so a
/// broken server fails a test instead of hanging it), an in-process receiver on 127.0.0.1:0
/// over a temporary SQLite ledger, and helpers to run blocking work off the cooperative pool.

/// A response as read off the wire.
struct WireResponse: Sendable {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]
    func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    var text: String { String(decoding: body, as: UTF8.self) }
    var json: JSONValue? { try? JSONParser.parse(body) }
}

/// What one exchange on a fresh connection ended with.
enum WireOutcome: Sendable {
    case response(WireResponse)
    /// The server closed (or reset) the connection without a response.
    case closed
    /// Nothing within the read timeout: the server hangs.
    case timedOut
    case connectFailed(Int32)

    var response: WireResponse? { if case .response(let r) = self { return r } else { return nil } }
    var status: Int? { response?.status }
}

struct WireError: Error, CustomStringConvertible {
    var description: String
    /// The errno of the failed call, taken at once (later calls overwrite `errno`).
    var code: Int32 = 0
    init(_ d: String, code: Int32 = 0) { description = d; self.code = code }
}

/// One TCP connection to 127.0.0.1. Used from one thread at a time.
final class WireConnection {
    let fd: Int32
    private var buffer: [UInt8] = []
    private(set) var timedOut = false

    init(port: Int, timeout: Double = 5) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else {
            let code = errno
            throw WireError("socket: errno \(code)", code: code)
        }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var sa = sockaddr_in()
        sa.sin_family = sa_family_t(AF_INET)
        sa.sin_port = in_port_t(UInt16(port)).bigEndian
        inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr)
        let rc = withUnsafePointer(to: &sa) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            // Not closed here: every stored property is set, so the throw runs `deinit`, which
            // closes it. Closing it twice closed whatever descriptor another test's thread had
            // opened with that number in between (an SQLite file: "disk I/O error"; a listener).
            let code = errno
            throw WireError("connect: errno \(code)", code: code)
        }
    }

    deinit { close(fd) }

    /// Writes everything; false when the peer closed or reset (a hostile request may be cut).
    @discardableResult
    func write(_ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return false }
            sent += n
        }
        return true
    }

    @discardableResult
    func write(_ text: String) -> Bool { write(Array(text.utf8)) }

    /// Waits up to `ms` milliseconds for something to read (data, EOF or an error).
    func waitReadable(ms: Int32) -> Bool {
        if !buffer.isEmpty { return true }
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&p, 1, ms) > 0
    }

    /// Half-close: the server reads EOF after what was sent.
    func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }

    /// Reads more; false on EOF, reset or timeout (`timedOut` tells the last apart).
    private func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                buffer.append(contentsOf: chunk[0..<n])
                return true
            }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { timedOut = true }
            return false
        }
    }

    /// The next response (interim 100 skipped), `.closed` on EOF, `.timedOut` when nothing comes.
    func readResponse(headRequest: Bool = false) -> WireOutcome {
        var headEnd: Int?
        while headEnd == nil {
            if buffer.count >= 4 {
                for i in 0...(buffer.count - 4) where buffer[i] == 13 && buffer[i + 1] == 10 && buffer[i + 2] == 13 && buffer[i + 3] == 10 {
                    headEnd = i
                    break
                }
            }
            if headEnd != nil { break }
            guard fill() else { return timedOut ? .timedOut : .closed }
        }
        guard let headEnd else { return .closed }
        let lines = String(decoding: buffer[0..<headEnd], as: UTF8.self).components(separatedBy: "\r\n")
        let parts = (lines.first ?? "").split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0] == "HTTP/1.1", let status = Int(parts[1]) else { return .closed }
        var headers: [(String, String)] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        buffer.removeFirst(headEnd + 4)
        if status == 100 { return readResponse(headRequest: headRequest) }
        var response = WireResponse(status: status, headers: headers, body: [])
        let length = headRequest || status == 204 || status == 304 ? 0 : Int(response.header("content-length") ?? "0") ?? 0
        while buffer.count < length {
            guard fill() else { return timedOut ? .timedOut : .closed }
        }
        response.body = Array(buffer[0..<length])
        buffer.removeFirst(length)
        return .response(response)
    }

    /// Waits for the server to close: true on EOF or reset, false on timeout.
    func waitForClose() -> Bool {
        while fill() { buffer.removeAll(keepingCapacity: true) }
        return !timedOut
    }
}

enum Wire {
    /// Sends raw bytes on a new connection and reads one response. `halfClose` shuts the write
    /// side after sending, so a request the server still waits on ends in EOF instead of its
    /// request timeout.
    static func exchange(port: Int, _ bytes: [UInt8], halfClose: Bool = false, timeout: Double = 5) -> WireOutcome {
        let c: WireConnection
        do { c = try WireConnection(port: port, timeout: timeout) } catch { return .connectFailed((error as? WireError)?.code ?? -1) }
        let ok = c.write(bytes)
        if halfClose { c.shutdownWrite() }
        let outcome = c.readResponse()
        if case .closed = outcome, !ok { return .closed }
        return outcome
    }

    static func exchange(port: Int, _ text: String, halfClose: Bool = false, timeout: Double = 5) -> WireOutcome {
        exchange(port: port, Array(text.utf8), halfClose: halfClose, timeout: timeout)
    }

    /// A valid request's wait for its answer: generous, as the whole suite runs in parallel on
    /// a loaded 2-core machine (a broken server still fails the test instead of hanging it).
    static let answerTimeout: Double = 30

    static func get(port: Int, _ target: String, headers: [(String, String)] = [], timeout: Double = answerTimeout) -> WireOutcome {
        var text = "GET \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        for (k, v) in headers { text += "\(k): \(v)\r\n" }
        return exchange(port: port, text + "\r\n", timeout: timeout)
    }

    static func post(port: Int, _ target: String, body: [UInt8], contentType: String?, headers: [(String, String)] = []) -> WireOutcome {
        var text = "POST \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: \(body.count)\r\n"
        if let contentType { text += "Content-Type: \(contentType)\r\n" }
        for (k, v) in headers { text += "\(k): \(v)\r\n" }
        return exchange(port: port, Array((text + "\r\n").utf8) + body, timeout: answerTimeout)
    }

    static func post(port: Int, _ target: String, body: String, contentType: String?, headers: [(String, String)] = []) -> WireOutcome {
        post(port: port, target, body: Array(body.utf8), contentType: contentType, headers: headers)
    }
}

/// Runs blocking work (sockets, `waitUntilExit`) on its own thread, so the two-thread
/// cooperative pool of a small CI machine is never held by a test that waits.
func offThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { (c: CheckedContinuation<T, Never>) in
        let t = Thread { c.resume(returning: body()) }
        t.stackSize = 8 << 20
        t.start()
    }
}

/// A value behind a lock, shareable by reference between threads and closures.
final class Locked<T: Sendable>: Sendable {
    private let mutex: Mutex<T>
    init(_ value: T) { mutex = Mutex(value) }
    func with<R: Sendable>(_ body: (inout T) -> R) -> R { mutex.withLock { body(&$0) } }
    var value: T { mutex.withLock { $0 } }
}

/// Monotonic seconds.
func monotonicNow() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// The receiver as `serve` wires it, in process: a temporary ledger, the ingest (whose changes
/// queue outgoing postbacks, like `serve`), a manual clock and an HTTP server on 127.0.0.1:0.
final class ReceiverHarness: Sendable {
    let dir: String
    let store: SQLiteLeadStore
    let config: LeadBridgeConfig
    let clock: EngineFixtures.Clock
    let outgoing: OutgoingPostbacks
    let ledger: Ledger
    let ingest: PostbackIngest
    let receiver: Receiver
    let server: HTTPServer
    let port: Int
    let log: Locked<[String]>

    static var library: SpecLibrary { EngineFixtures.library }

    /// `server`: other server settings than the `receiver` section gives (the section's trusted
    /// proxies still apply).
    init(config text: String, server serverConfig: HTTPServerConfiguration? = nil,
         outgoingDelays: [Int64] = [60, 600, 3600], maxQueued: Int = 10_000) throws {
        dir = NSTemporaryDirectory() + "leadbridge-receiver-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let config = try ConfigReader.read(bytes: Array(text.utf8), file: dir + "/leadbridge.json", environment: [:], specs: EngineFixtures.library)
        let store = try SQLiteLeadStore(path: dir + "/ledger.sqlite")
        let clock = EngineFixtures.Clock()
        let outgoing = OutgoingPostbacks(store: store, library: EngineFixtures.library, config: config, delays: outgoingDelays)
        // Status changes queue outgoing postbacks in the ledger's transaction, as in `serve`.
        let ledger = Ledger(store: store, library: EngineFixtures.library, config: config, clock: { clock.now() }, random: { 0.5 })
        let ingest = PostbackIngest(ledger: ledger, library: EngineFixtures.library, maxQueued: maxQueued)
        let log = Locked<[String]>([])
        let receiver = Receiver(library: EngineFixtures.library, config: config, ledger: ledger, ingest: ingest,
                                clock: { clock.now() }, log: { notice in log.with { $0.append(notice.english) } })
        var settings = Receiver.serverConfiguration(config, host: "127.0.0.1", port: 0)
        if let serverConfig {
            let proxies = settings.trustedProxies
            settings = serverConfig
            settings.trustedProxies = proxies
        }
        let server = HTTPServer(configuration: settings, router: receiver.router)
        try server.start()
        self.log = log
        self.config = config
        self.store = store
        self.clock = clock
        self.outgoing = outgoing
        self.ledger = ledger
        self.ingest = ingest
        self.receiver = receiver
        self.server = server
        self.port = server.boundPort ?? 0
    }

    func stop() {
        server.stop(graceful: false, timeout: 1)
        ingest.shutdown()
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// A lead in the ledger as the network accepted it (pending); returns the record and the
    /// change the acceptance made (what `sync` hands to outgoing postbacks).
    @discardableResult
    func acceptedLead(_ id: String, network: String, account: String = "acc", source: String? = nil,
                      fields: [String: String] = ["name": "Иван", "country": "RU"], externalId: String? = nil) throws -> (LeadRecord, StatusChange?) {
        var h: UInt64 = 1469598103934665603
        for b in id.utf8 { h = (h ^ UInt64(b)) &* 1099511628211 }
        let lead = Lead(id: id, phone: "+7900" + String(format: "%07d", Int(h % 10_000_000)), fields: fields)
        guard let update = try EngineFixtures.accepted(store, lead, network: network, account: account, source: source, externalId: externalId,
                                                       config: config, at: clock.now()) else {
            throw WireError("lead \(id) already exists")
        }
        return (update.record, update.change)
    }

    func lead(_ network: String, _ id: String) throws -> LeadRecord? { try store.lead(network: network, orderId: id) }

    /// Journal entries of a lead that moved its status (a status report, or the answer that
    /// gave it its first status).
    func statusEntries(_ rowId: Int64) throws -> [JournalEntry] {
        try store.journal(rowId: rowId).filter { $0.kind == .status || ($0.kind != .refused && $0.toStatus != $0.fromStatus) }
    }

    func sql(_ q: String, _ values: [SQLValue] = []) throws -> [SQLRow] {
        try store.database.read { (tx: borrowing SQLiteTransaction) throws(StoreError) in try tx.query(q, values) }
    }

    /// Every stored postback (oldest first).
    func rawPostbacks() throws -> [RawPostbackRecord] {
        try store.postbacks(PostbackQuery(limit: 1_000_000))
    }

    /// `timeout` bounds each read of the answer: a request the test holds on purpose (behind a
    /// held store writer) needs one longer than the steps it waits for on a loaded machine.
    func get(_ target: String, headers: [(String, String)] = [], timeout: Double = Wire.answerTimeout) async -> WireOutcome {
        let port = self.port
        return await offThread { Wire.get(port: port, target, headers: headers, timeout: timeout) }
    }

    func post(_ target: String, body: String, contentType: String?, headers: [(String, String)] = []) async -> WireOutcome {
        let port = self.port
        return await offThread { Wire.post(port: port, target, body: body, contentType: contentType, headers: headers) }
    }

    func post(_ target: String, bytes: [UInt8], contentType: String?, headers: [(String, String)] = []) async -> WireOutcome {
        let port = self.port
        return await offThread { Wire.post(port: port, target, body: bytes, contentType: contentType, headers: headers) }
    }

    /// The bytes of the ledger file and its WAL/SHM companions (where fresh commits live).
    func databaseBytes() -> [UInt8] {
        var out: [UInt8] = []
        for suffix in ["", "-wal", "-shm", "-journal"] {
            if let d = FileManager.default.contents(atPath: store.database.path + suffix) { out += Array(d) }
        }
        return out
    }
}

/// True when `needle` occurs in `haystack` (byte search).
func bytesContain(_ haystack: [UInt8], _ needle: String) -> Bool {
    let n = Array(needle.utf8)
    guard !n.isEmpty, haystack.count >= n.count else { return false }
    let first = n[0]
    var i = 0
    let last = haystack.count - n.count
    while i <= last {
        if haystack[i] == first && haystack[i..<(i + n.count)].elementsEqual(n) { return true }
        i += 1
    }
    return false
}
