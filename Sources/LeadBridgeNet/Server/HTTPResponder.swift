import CEpoll
import Glibc
import Synchronization

/// How a handler answers one request: now (on the loop's thread, inside the handler) or later
/// from any thread (a store writer after its commit, a task). The first `respond` counts; a
/// second one, or one after the client left, is dropped. Answering later never blocks the
/// loop: the response waits in the loop's mailbox and the loop writes it.
public struct HTTPResponder: Sendable {
    let mailbox: LoopMailbox
    let fd: Int32
    let request: UInt64
    /// Told the status of the answer when it is given (request counters by route and code).
    var observer: (@Sendable (Int) -> Void)? = nil

    public func respond(_ response: HTTPServerResponse) {
        observer?(response.status)
        mailbox.post(CollectionOfOne(LoopMailbox.Delivery(fd: fd, request: request, response: response)))
    }

    /// The same responder, also telling `observer` the status of its answer.
    public func observed(by observer: @escaping @Sendable (Int) -> Void) -> HTTPResponder {
        var r = self
        if let first = self.observer {
            r.observer = { status in first(status); observer(status) }
        } else {
            r.observer = observer
        }
        return r
    }

    /// Answers many requests with one wake-up per event loop (a store writer answering a
    /// committed batch), instead of one per response.
    public static func respond(_ batch: [(HTTPResponder, HTTPServerResponse)]) {
        guard let first = batch.first?.0.mailbox else { return }
        for (responder, response) in batch { responder.observer?(response.status) }
        if batch.allSatisfy({ $0.0.mailbox === first }) {
            first.post(batch.lazy.map { LoopMailbox.Delivery(fd: $0.0.fd, request: $0.0.request, response: $0.1) })
            return
        }
        var groups: [ObjectIdentifier: (LoopMailbox, [LoopMailbox.Delivery])] = [:]
        for (responder, response) in batch {
            groups[ObjectIdentifier(responder.mailbox), default: (responder.mailbox, [])].1
                .append(LoopMailbox.Delivery(fd: responder.fd, request: responder.request, response: response))
        }
        for (mailbox, deliveries) in groups.values { mailbox.post(deliveries) }
    }
}

/// What other threads hand to an event loop: responses, and commands (stop, timers). A mutex
/// around two arrays, and an eventfd that wakes the loop — written only when the loop is not
/// already due to look (one wake-up for a whole batch of responses).
final class LoopMailbox: Sendable {
    struct Delivery: Sendable {
        let fd: Int32
        let request: UInt64
        let response: HTTPServerResponse
    }

    enum Command: Sendable {
        case stop(graceful: Bool, deadline: UInt64)
        case every(interval: UInt64, body: @Sendable () -> Void)
    }

    private struct Box: ~Copyable {
        var deliveries: [Delivery] = []
        var commands: [Command] = []
        var wakePending = false
        /// The eventfd, or -1 once the loop has ended (late responses are dropped).
        var wakeFD: Int32
    }

    private let box: Mutex<Box>
    /// The loop thread's id, so a handler answering inside the loop does not wake it.
    private let loopThread = Atomic<UInt>(0)

    /// Nil when the system refuses an eventfd.
    init?() {
        let fd = eventfd(0, Int32(EFD_NONBLOCK) | Int32(EFD_CLOEXEC))
        guard fd >= 0 else { return nil }
        box = Mutex(Box(wakeFD: fd))
    }

    /// The descriptor the loop watches (valid until `close`).
    var wakeFD: Int32 { box.withLock { $0.wakeFD } }

    func bindToCurrentThread() { loopThread.store(UInt(pthread_self()), ordering: .releasing) }

    var onLoopThread: Bool { loopThread.load(ordering: .acquiring) == UInt(pthread_self()) }

    func post(_ items: some Sequence<Delivery>) {
        let onLoop = onLoopThread
        box.withLock { b in
            guard b.wakeFD >= 0 else { return }
            b.deliveries.append(contentsOf: items)
            Self.wakeIfNeeded(&b, onLoop: onLoop)
        }
    }

    func post(_ command: Command) {
        let onLoop = onLoopThread
        box.withLock { b in
            guard b.wakeFD >= 0 else { return }
            b.commands.append(command)
            Self.wakeIfNeeded(&b, onLoop: onLoop)
        }
    }

    /// Written under the lock, so `close` can never free the descriptor number in between.
    private static func wakeIfNeeded(_ b: inout Box, onLoop: Bool) {
        guard !onLoop, !b.wakePending else { return } // the loop drains its mailbox after every round
        b.wakePending = true
        var one: UInt64 = 1
        _ = write(b.wakeFD, &one, 8)
    }

    /// The loop's side: clears the eventfd, then takes everything posted so far.
    func take(clearingWake: Bool) -> (deliveries: [Delivery], commands: [Command]) {
        box.withLock { b in
            if clearingWake && b.wakeFD >= 0 {
                var value: UInt64 = 0
                _ = read(b.wakeFD, &value, 8)
                b.wakePending = false
            }
            guard !b.deliveries.isEmpty || !b.commands.isEmpty else { return ([], []) }
            defer {
                b.deliveries = []
                b.commands = []
            }
            return (b.deliveries, b.commands)
        }
    }

    /// After the loop ended: drops what is left and refuses later posts.
    func close() {
        box.withLock { b in
            if b.wakeFD >= 0 { Glibc.close(b.wakeFD) }
            b.wakeFD = -1
            b.deliveries = []
            b.commands = []
        }
    }
}
