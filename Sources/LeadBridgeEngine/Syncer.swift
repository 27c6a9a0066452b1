import Foundation
import LeadBridgeCore
import LeadBridgeNet
import LeadBridgeStore

/// What one cron pass did, per network and in total.
public struct SyncReport: Sendable {
    public struct NetworkSummary: Sendable {
        public var sent = 0, accepted = 0, duplicate = 0, rejected = 0, failed = 0, parked = 0
        public var polled = 0, pollRequests = 0, changes = 0, unknownWords: [String] = []
        public var error: String?
    }
    public var changes: [StatusChange] = []
    public var networks: [String: NetworkSummary] = [:]
    public var uncertain: [LeadRecord] = []
    public var outgoingDelivered = 0
    public var outgoingFailed = 0
    public var startedAt: Int64 = 0
    public var finishedAt: Int64 = 0

    /// Some network failed (its error is reported) or leads were interrupted.
    public var hasFailures: Bool { networks.values.contains { $0.error != nil } || !uncertain.isEmpty }

    public var summaryJSON: JSONValue {
        var nets = JSONObject()
        for (id, n) in networks.sorted(by: { $0.key < $1.key }) {
            nets[id] = .obj([("sent", .int(n.sent)), ("accepted", .int(n.accepted)), ("duplicate", .int(n.duplicate)), ("rejected", .int(n.rejected)),
                             ("failed", .int(n.failed)), ("parked", .int(n.parked)), ("polled", .int(n.polled)), ("poll_requests", .int(n.pollRequests)),
                             ("changes", .int(n.changes)), ("unknown_statuses", .array(n.unknownWords.map(JSONValue.string))), ("error", .str(n.error))])
        }
        return .obj([("summary", .bool(true)), ("changes", .int(changes.count)), ("uncertain", .array(uncertain.map { .string($0.orderId) })),
                     ("networks", .object(nets)), ("outgoing_delivered", .int(outgoingDelivered)),
                     ("outgoing_pending", .int(outgoingFailed)), ("seconds", .int(Int(finishedAt - startedAt)))])
    }
}

/// Settings of a pass (from `leadbridge.json`'s `sync` and the command line).
public struct SyncOptions: Sendable {
    public var network: String?
    public var maxAttempts: Int
    public var retryBaseSeconds: Double
    public var pollIntervalSeconds: Int
    public var sendBatch: Int
    public var pollLimit: Int
    public var outgoingDelays: [Int64]
    /// Overrides every spec's request timeout (tests and the demo use short ones).
    public var requestTimeout: Double?
    public init(network: String? = nil, maxAttempts: Int = 8, retryBaseSeconds: Double = 60, pollIntervalSeconds: Int = 600,
                sendBatch: Int = 10_000, pollLimit: Int = 1_000_000, outgoingDelays: [Int64] = OutgoingPostbacks.defaultDelays) {
        self.outgoingDelays = outgoingDelays
        self.network = network
        self.maxAttempts = maxAttempts
        self.retryBaseSeconds = retryBaseSeconds
        self.pollIntervalSeconds = pollIntervalSeconds
        self.sendBatch = sendBatch
        self.pollLimit = pollLimit
    }
}

/// One cron pass: settle interrupted sends, send due outbox entries, poll statuses of leads
/// that can still change, and hand status changes to outgoing postbacks. A failing network is
/// reported and skipped; the others go on.
public struct Syncer: Sendable {
    let store: any LeadStore
    let library: SpecLibrary
    let config: LeadBridgeConfig
    let transport: any HTTPTransport
    let clock: @Sendable () -> Int64
    let random: @Sendable () -> Double

    public init(store: any LeadStore, library: SpecLibrary, config: LeadBridgeConfig, transport: any HTTPTransport,
                clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) },
                random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }) {
        self.store = store
        self.library = library
        self.config = config
        self.transport = transport
        self.clock = clock
        self.random = random
    }

    public func run(_ options: SyncOptions, onChange: @Sendable (StatusChange) -> Void = { _ in }) async throws(StoreError) -> SyncReport {
        var report = SyncReport()
        report.startedAt = clock()
        report.uncertain = try store.recoverInterruptedSends(now: clock())
        try await sendDue(options, &report, onChange)
        // Postbacks that came before their lead was accepted apply now.
        let replay = try PostbackReplay(store: store, library: library).run(network: options.network, now: clock())
        for c in replay.changes { onChange(c) }
        report.changes += replay.changes
        try await poll(options, &report, onChange)
        // Traffic sources hear about every change; due deliveries go out (no serve needed).
        let outgoing = OutgoingPostbacks(store: store, library: library, config: config, delays: options.outgoingDelays)
        try outgoing.enqueue(report.changes, now: clock())
        let delivery = try await outgoing.deliverDue(transport: transport, now: clock())
        report.outgoingDelivered = delivery.delivered
        report.outgoingFailed = delivery.failed + delivery.retried
        report.finishedAt = clock()
        return report
    }

    // MARK: sending

    func sendDue(_ options: SyncOptions, _ report: inout SyncReport, _ onChange: @Sendable (StatusChange) -> Void) async throws(StoreError) {
        let due = try store.dueSends(network: options.network, now: clock(), limit: options.sendBatch)
        let byNetwork = Dictionary(grouping: due, by: \.network)
        for (network, leads) in byNetwork.sorted(by: { $0.key < $1.key }) {
            guard let spec = library.spec(network), spec.send != nil else {
                report.networks[network, default: .init()].error = "no spec with a send block for \(network)"
                continue
            }
            // The account's settings (leadbridge.json) win over the spec's defaults.
            let account = leads.first.flatMap { config.accounts[$0.account] }
            let concurrency = max(1, account?.concurrency ?? spec.send?.concurrency ?? 4)
            let gate = RequestGate(concurrency: concurrency, perSecond: account?.ratePerSecond ?? spec.send?.ratePerSecond)
            let sender = LeadSender(transport: transport, retry: RetryPolicy(maxAttempts: 1), clock: clock)
            var summary = report.networks[network] ?? .init()
            // A sliding window of `concurrency` sends: each lead is claimed (committed) before its
            // request, and recorded as soon as its answer comes.
            var storeError: StoreError?
            await withTaskGroup(of: (LeadRecord, SendOutcome?, String?).self) { group in
                var next = leads.makeIterator()
                func addNext() -> Bool {
                    guard let lead = next.next() else { return false }
                    group.addTask {
                        guard let account = self.config.accounts[lead.account] else {
                            let why = self.config.problem(ofAccount: lead.account).map { ": " + $0 } ?? " is not in the configuration"
                            return (lead, nil, "account \(lead.account)" + why)
                        }
                        guard (try? self.store.claimSend(rowId: lead.rowId, now: self.clock())) == true else { return (lead, nil, nil) }
                        do throws(SendPreparationError) {
                            let r = try await sender.send(spec: spec, lead: lead.lead, account: account.values, gate: gate, timeout: options.requestTimeout)
                            return (lead, r.outcome, nil)
                        } catch {
                            // The lead cannot be sent as it is (a field the network needs is missing).
                            return (lead, SendOutcome(kind: .rejected, message: error.description), nil)
                        }
                    }
                    return true
                }
                for _ in 0..<concurrency where !addNext() { break }
                while let (lead, outcome, problem) = await group.next() {
                    defer { _ = addNext() }
                    if let problem { summary.error = problem; continue }
                    guard let outcome, storeError == nil else { continue }
                    summary.sent += 1
                    var retryAt: Int64?
                    switch outcome.kind {
                    case .accepted: summary.accepted += 1
                    case .duplicate: summary.duplicate += 1
                    case .rejected: summary.rejected += 1
                    case .failed:
                        summary.failed += 1
                        let attempt = lead.attempts + 1
                        let delay = RetryPolicy(maxAttempts: options.maxAttempts, baseDelay: options.retryBaseSeconds, maxDelay: options.retryBaseSeconds * 64)
                            .delay(afterAttempt: attempt, retryAfter: outcome.retryAfter, random: random())
                        retryAt = clock() + Int64(delay.rounded(FloatingPointRoundingRule.up))
                        if attempt >= options.maxAttempts { summary.parked += 1 }
                    }
                    do throws(StoreError) {
                        if let change = try store.recordSend(rowId: lead.rowId, outcome: outcome, now: clock(), retryAt: retryAt, maxAttempts: options.maxAttempts) {
                            report.changes.append(change)
                            summary.changes += 1
                            onChange(change)
                        }
                    } catch {
                        storeError = error
                    }
                }
            }
            if let storeError { throw storeError }
            if summary.failed > 0 && summary.accepted + summary.duplicate + summary.rejected == 0 && summary.error == nil {
                summary.error = "every send failed (will retry)"
            }
            report.networks[network] = summary
        }
    }

    // MARK: polling

    func poll(_ options: SyncOptions, _ report: inout SyncReport, _ onChange: @Sendable (StatusChange) -> Void) async throws(StoreError) {
        let networks = library.specs.filter { $0.poll != nil && (options.network == nil || $0.id == options.network) }
        for spec in networks {
            guard let poll = spec.poll else { continue }
            var summary = report.networks[spec.id] ?? .init()
            // Batched polls go a page of leads at a time (a multiple of the batch, so requests stay
            // ceil(N / batch)); a list-style poll (pages or time windows) needs every lead at once.
            let pageSize = poll.isListStyle ? options.pollLimit : max(poll.batch, (5_000 / poll.batch) * poll.batch)
            let cutoff = clock() - Int64(options.pollIntervalSeconds)
            var after: Int64 = 0
            var seen = false
            while true {
                let page = try store.pollTargetRefs(network: spec.id, polledBefore: cutoff, afterRowId: after, limit: pageSize)
                guard let last = page.last else { break }
                after = last.rowId
                seen = true
                for (accountName, leads) in Dictionary(grouping: page, by: \.account).sorted(by: { $0.key < $1.key }) {
                    guard let account = config.accounts[accountName] else {
                        summary.error = "account \(accountName) is not in the configuration"
                        continue
                    }
                    let changes = try await pollLeads(spec, poll, account, leads, options, &summary)
                    for c in changes { onChange(c) }
                    report.changes += changes
                }
                if poll.isListStyle || page.count < pageSize { break }
            }
            if seen { report.networks[spec.id] = summary }
        }
    }

    /// Polls one account's leads and applies what the network says.
    func pollLeads(_ spec: NetworkSpec, _ poll: PollSpec, _ account: AccountConfig, _ leads: [PollTargetRef], _ options: SyncOptions,
                   _ summary: inout SyncReport.NetworkSummary) async throws(StoreError) -> [StatusChange] {
        let byOrder = Dictionary(leads.map { ($0.orderId, $0.rowId) }, uniquingKeysWith: { a, _ in a })
        var plan = PollPlan(spec: spec, poll: poll, account: account.values,
                            leads: leads.map { PollPlan.Target(orderId: $0.orderId, externalId: $0.externalId, created: $0.createdAt) },
                            now: clock(), defaults: library.defaults)
        var reports: [StatusReport] = []
        var failed = false
        while !failed {
            let built: BuiltRequest?
            do { built = try plan.nextRequest() } catch {
                summary.error = "cannot build the poll request: \(error.message)"
                failed = true
                break
            }
            guard let built else { break }
            summary.pollRequests += 1
            let response: HTTPResponseValue
            do {
                response = try await transport.send(built.request, timeout: options.requestTimeout ?? spec.send?.timeout ?? 30)
            } catch {
                summary.error = "poll: \(error.description)"
                failed = true
                break
            }
            switch plan.handle(response) {
            case .failed(let message):
                summary.error = "poll: \(message)"
                failed = true
            case .observations(let obs):
                for o in obs {
                    guard let rowId = byOrder[o.orderId] else { continue }
                    guard let status = o.status else {
                        if !summary.unknownWords.contains(o.raw) { summary.unknownWords.append(o.raw) }
                        continue
                    }
                    reports.append(StatusReport(rowId: rowId, status: LeadStatus(bucket: status, raw: o.raw, detail: o.detail),
                                                payout: o.payout, currency: o.currency, comment: o.comment, externalId: o.externalId))
                }
            }
        }
        let changes = try store.apply(reports, source: "poll", chargebacks: spec.chargebacks, now: clock())
        // A failed network is asked again next pass (what it did answer is applied).
        if !failed { try store.markPolled(rowIds: leads.map(\.rowId), now: clock()) }
        summary.polled += leads.count
        summary.changes += changes.count
        return changes
    }
}

/// Keeps two cron passes from overlapping: an exclusive `flock` on `<store>.lock` holding the
/// holder's pid and start time. The kernel drops the lock when a process dies, so a stale
/// lock is simply taken over.
public final class SyncLock: Sendable {
    let fd: Int32
    public let path: String

    /// Why the lock was not taken: a live process holds it (exit 4), or the lock file cannot
    /// be opened at all — a folder in its place, no permission — which is a setup problem (exit 3).
    public enum Failure: Error, Sendable, CustomStringConvertible {
        case held(path: String, holder: String)
        case unusable(path: String, reason: String)

        public var description: String {
            switch self {
            case .held(let path, let holder): return "another sync holds the lock \(path) (\(holder))"
            case .unusable(let path, let reason): return "cannot use the lock file \(path): \(reason)"
            }
        }
    }

    public init(path: String, now: Int64) throws(Failure) {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .unusable(path: path, reason: String(cString: strerror(errno))) }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let why = errno
            guard why == EWOULDBLOCK || why == EAGAIN else {
                close(fd)
                throw .unusable(path: path, reason: String(cString: strerror(why)))
            }
            var buffer = [UInt8](repeating: 0, count: 256)
            let n = pread(fd, &buffer, 255, 0)
            close(fd)
            let who = n > 0 ? String(decoding: buffer.prefix(n), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : "unknown holder"
            throw .held(path: path, holder: who)
        }
        let text = "pid \(getpid()), started \(ISODate.format(now))\n"
        _ = ftruncate(fd, 0)
        _ = text.withCString { pwrite(fd, $0, strlen($0), 0) }
        self.fd = fd
        self.path = path
    }

    deinit {
        _ = ftruncate(fd, 0)
        flock(fd, LOCK_UN)
        close(fd)
    }
}
