/// One client connection as its event loop sees it. Owned and touched only by that loop's
/// thread. Its buffers hold what arrived and what could not be written yet, nothing more.
final class Connection {
    enum Phase: Equatable {
        /// Waiting for the first byte of a request (just accepted, or between keep-alive requests).
        case idle
        /// Part of a request has arrived: its head (`headTimeout`) or its body (`minBodyBytesPerSecond`).
        case reading
        /// A whole request is with the handler; no deadline of ours runs.
        case handling
        /// A response is partly written; the rest waits for EPOLLOUT (`writeTimeout`).
        case writing
        /// Our side is shut after a closing response; reading and discarding until the client closes.
        case lingering
    }

    /// What happens once the response is written.
    enum AfterWrite { case keepAlive, close, linger }

    let fd: Int32
    let id: UInt64
    /// The peer's address as accepted.
    let peer: String
    /// The peer is a trusted proxy: the connection is counted under each request's forwarded address.
    let peerIsProxy: Bool
    /// The address this connection is counted under for the per-address limit (nil: not counted yet).
    var countedAddress: String?

    var parser: HTTPRequestParser
    var phase = Phase.idle
    /// Monotonic ns: when the current request's first byte arrived.
    var requestStart: UInt64 = 0
    /// Monotonic ns: when the current request's head was complete (0 while in the head).
    var bodyStart: UInt64 = 0
    /// When this connection must have made progress (0: none); `heapDeadline` is the deadline of
    /// its live entry in the loop's heap (0: none).
    var deadline: UInt64 = 0
    var heapDeadline: UInt64 = 0

    /// Idle list links (descriptor numbers, -1 for none) and whether it is on the list.
    var idleSince: UInt64 = 0
    var idlePrev: Int32 = -1
    var idleNext: Int32 = -1
    var onIdleList = false

    /// The request the handler is answering (0: none).
    var awaiting: UInt64 = 0
    var keepAlive = true
    var headRequest = false
    var version = HTTPVersion.http11
    var served = 0

    var output: [UInt8] = []
    var outputOffset = 0
    var afterWrite = AfterWrite.keepAlive
    var lingerDiscarded = 0

    /// The client shut its side (EOF): answer what is complete, then close.
    var peerClosed = false
    /// Reading stopped with bytes possibly left in the socket (edge-triggered: no new event
    /// comes for them), to be resumed once the current request is answered.
    var readPending = false

    init(fd: Int32, id: UInt64, peer: String, peerIsProxy: Bool, limits: HTTPLimits) {
        self.fd = fd
        self.id = id
        self.peer = peer
        self.peerIsProxy = peerIsProxy
        self.parser = HTTPRequestParser(limits: limits)
    }
}

/// The loop's connections by descriptor number, the idle ones in the order they became idle
/// (the longest-idle first: evicted first when the connection limit is reached), and how many
/// connections each client address holds.
struct ConnectionTable {
    private var slots: [Connection?] = []
    private(set) var count = 0
    private var idleHead: Int32 = -1
    private var idleTail: Int32 = -1
    private(set) var idleCount = 0
    private var perAddress: [String: Int] = [:]

    subscript(fd: Int32) -> Connection? {
        fd >= 0 && Int(fd) < slots.count ? slots[Int(fd)] : nil
    }

    mutating func insert(_ c: Connection) {
        let i = Int(c.fd)
        if i >= slots.count { slots.append(contentsOf: repeatElement(nil, count: max(i + 1 - slots.count, slots.count))) }
        slots[i] = c
        count += 1
    }

    mutating func remove(_ c: Connection) {
        guard self[c.fd] === c else { return }
        removeIdle(c)
        if let a = c.countedAddress { uncount(a) }
        c.countedAddress = nil
        slots[Int(c.fd)] = nil
        count -= 1
    }

    var all: [Connection] { slots.compactMap { $0 } }

    // MARK: idle order

    mutating func appendIdle(_ c: Connection, now: UInt64) {
        removeIdle(c)
        c.idleSince = now
        c.onIdleList = true
        c.idlePrev = idleTail
        c.idleNext = -1
        if let tail = self[idleTail] { tail.idleNext = c.fd } else { idleHead = c.fd }
        idleTail = c.fd
        idleCount += 1
    }

    mutating func removeIdle(_ c: Connection) {
        guard c.onIdleList else { return }
        if let p = self[c.idlePrev] { p.idleNext = c.idleNext } else { idleHead = c.idleNext }
        if let n = self[c.idleNext] { n.idlePrev = c.idlePrev } else { idleTail = c.idlePrev }
        c.onIdleList = false
        c.idlePrev = -1
        c.idleNext = -1
        idleCount -= 1
    }

    /// The connection idle the longest.
    var longestIdle: Connection? { self[idleHead] }

    // MARK: per-address counts

    func connections(from address: String) -> Int { perAddress[address] ?? 0 }

    mutating func count(_ address: String) { perAddress[address, default: 0] += 1 }

    mutating func uncount(_ address: String) {
        guard let n = perAddress[address] else { return }
        if n <= 1 { perAddress[address] = nil } else { perAddress[address] = n - 1 }
    }
}

/// Which connection a deadline in the loop's `MinHeap` belongs to. Lazy: an entry whose
/// connection has moved on (closed, or given a later deadline) is skipped or pushed again when
/// it comes up, so a request costs no heap operation unless its deadline comes sooner than the
/// one already queued.
struct DeadlineOwner {
    var fd: Int32
    var id: UInt64
}
