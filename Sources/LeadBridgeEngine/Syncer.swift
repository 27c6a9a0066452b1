import FoundationEssentials
import Glibc
import LeadBridgeCore
import LeadBridgeNet
import LeadBridgeStore

/// What one cron pass did, per network and in total.
public struct SyncReport: Sendable {
    public struct NetworkSummary: Sendable {
        public var sent = 0, accepted = 0, duplicate = 0, rejected = 0, failed = 0, parked = 0, uncertain = 0
        public var polled = 0, pollRequests = 0, changes = 0, unknownWords: [String] = []
        /// Why the network's part of the pass failed (worded by the CLI).
        public var problem: SyncProblem?
        /// The problem's stable English text (`sync --json`, the stored pass).
        public var error: String? { problem?.english }
    }
    public var changes: [StatusChange] = []
    public var networks: [String: NetworkSummary] = [:]
    /// Leads this pass left `uncertain` (a lost answer, an interrupted worker).
    public var uncertain: [LeadRecord] = []
    /// Every lead of the ledger still `uncertain` after the pass (waiting to be settled).
    public var uncertainOpen = 0
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
                             ("failed", .int(n.failed)), ("parked", .int(n.parked)), ("uncertain", .int(n.uncertain)), ("polled", .int(n.polled)), ("poll_requests", .int(n.pollRequests)),
                             ("changes", .int(n.changes)), ("unknown_statuses", .array(n.unknownWords.map(JSONValue.string))), ("error", .str(n.error))])
        }
        return .obj([("summary", .bool(true)), ("changes", .int(changes.count)), ("uncertain", .array(uncertain.map { .string($0.orderId) })), ("uncertain_open", .int(uncertainOpen)),
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
    /// How long a claim holds a lead before another worker may take it over (when its owner's
    /// liveness cannot be told).
    public var claimLeaseSeconds = 900
    /// How long a send's answer waits to be recorded with others (`SendEvents`), in ms; at most
    /// this many answers (or the send concurrency, when more) wait before they are committed.
    public var answerDelayMs = 5
    public var maxUnrecordedAnswers = 16
    /// How many leads a send pass marks written ahead of their turn (committed `sending` while
    /// the requests before them are out, so a freed slot sends at once, and half of them at a
    /// time, in one transaction): nil, 8 or the send concurrency, whichever is more — answers
    /// to requests sent together come together, and each freed slot finds a lead marked for it
    /// (with 8 at concurrency 64, 56 of every 64 slots waited for a "written" commit). A crash
    /// leaves these `sending` too, so they become uncertain like a request on the wire
    /// (docs/lifecycle.md); 0 marks each lead when its slot frees.
    public var readyLeads: Int?
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

/// One cron pass: recover interrupted sends, send due leads, poll statuses of leads
/// that can still change, and hand status changes to outgoing postbacks. A failing network is
/// reported and skipped; the others go on.
public struct Syncer: Sendable {
    let store: any LeadStore
    let library: SpecLibrary
    let config: LeadBridgeConfig
    let transport: any HTTPTransport
    let clock: @Sendable () -> Int64
    let random: @Sendable () -> Double
    /// This worker's name on its claims, and how to tell whether another claim's owner runs.
    let owner: String
    let isAlive: @Sendable (String) -> Bool?

    public init(store: any LeadStore, library: SpecLibrary, config: LeadBridgeConfig, transport: any HTTPTransport,
                clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) },
                random: @escaping @Sendable () -> Double = JitterSource().next,
                owner: String = Worker.identity, isAlive: @escaping @Sendable (String) -> Bool? = Worker.isAlive) {
        self.owner = owner
        self.isAlive = isAlive
        self.store = store
        self.library = library
        self.config = config
        self.transport = transport
        self.clock = clock
        self.random = random
    }

    /// The ledger this pass works through (the pass's retry settings).
    func ledger(_ options: SyncOptions) -> Ledger {
        Ledger(store: store, library: library, config: config,
               retry: RetryPolicy(maxAttempts: options.maxAttempts, baseDelay: options.retryBaseSeconds, maxDelay: max(1, options.retryBaseSeconds) * 64),
               clock: clock, random: random)
    }

    public func run(_ options: SyncOptions, onChange: @Sendable (StatusChange) -> Void = { _ in }) async throws(StoreError) -> SyncReport {
        var report = SyncReport()
        report.startedAt = clock()
        let ledger = ledger(options)
        let recovered = try ledger.recoverInterrupted(isAlive: isAlive)
        report.uncertain = recovered.filter { $0.record.sendState == .uncertain }.map(\.record)
        try await sendDue(options, ledger, &report, onChange)
        // Postbacks that came before their lead was accepted apply now.
        let replay = try PostbackReplay(ledger: ledger, library: library).run(network: options.network)
        for c in replay.changes { onChange(c) }
        report.changes += replay.changes
        try await poll(options, ledger, &report, onChange)
        // Traffic sources hear about every change (queued with it); due deliveries go out (no serve needed).
        let outgoing = OutgoingPostbacks(store: store, library: library, config: config, delays: options.outgoingDelays)
        let delivery = try await outgoing.deliverDue(transport: transport, now: clock())
        report.outgoingDelivered = delivery.delivered
        report.outgoingFailed = delivery.failed + delivery.retried
        report.uncertainOpen = try store.counts().leads.filter { $0.state == .uncertain && (options.network == nil || $0.network == options.network) }.reduce(0) { $0 + $1.count }
        report.finishedAt = clock()
        try store.recordSyncPasses(passRecords(report, options))
        return report
    }

    /// What the pass did for each network, as the ledger records it (the console's Health page,
    /// `leadbridge status`, `/metrics`): every network with an account (usable or not) or with
    /// work in this pass, its outcome and its error (secrets redacted).
    func passRecords(_ report: SyncReport, _ options: SyncOptions) -> [SyncPassRecord] {
        let redactor = Redactor(secrets: config.secretValues)
        var networks = Set(config.accounts.values.map(\.network)).union(report.networks.keys)
        var unavailable: [String: SyncProblem] = [:]
        for (name, a) in config.unavailableAccounts.sorted(by: { $0.key < $1.key }) {
            networks.insert(a.account.network)
            if unavailable[a.account.network] == nil { unavailable[a.account.network] = .accountUnavailable(account: name, unset: a.unsetVariables) }
        }
        return networks.filter { options.network == nil || $0 == options.network }.sorted().map { network in
            let n = report.networks[network] ?? SyncReport.NetworkSummary()
            var outcome = SyncOutcome.ok
            var problem = n.problem
            if problem != nil {
                outcome = .failed
            } else if let why = unavailable[network], config.accounts(of: network).isEmpty {
                outcome = .unavailable
                problem = why
            }
            return SyncPassRecord(network: network, startedAt: report.startedAt, finishedAt: report.finishedAt, outcome: outcome,
                                  problem: problem?.mapTexts(redactor.redact), sent: n.sent, polled: n.polled, changes: n.changes)
        }
    }

    // MARK: sending

    /// The leads one send pass takes: one account's of one network.
    struct SendPassKey: Hashable {
        var network: String
        var account: String
    }

    func sendDue(_ options: SyncOptions, _ ledger: Ledger, _ report: inout SyncReport, _ onChange: @Sendable (StatusChange) -> Void) async throws(StoreError) {
        // Leads due when the pass starts: a lead retried during the pass waits for the next one.
        let passStart = clock()
        // Only the leads of accounts this configuration can use are taken: those of an account
        // whose variable is unset (or that left the configuration) wait, queued, and never fill
        // the pass's batch or a claim window ahead of the other accounts' leads.
        let usable = config.accounts.keys.sorted()
        let due = try store.leads(LeadQuery(network: options.network, dueBy: passStart, accounts: .only(usable), limit: options.sendBatch, withData: false))
        // The waiting ones are named in their network's summary.
        for lead in try store.leads(LeadQuery(network: options.network, dueBy: passStart, accounts: .except(usable), limit: options.sendBatch, withData: false))
        where report.networks[lead.network]?.problem == nil {
            report.networks[lead.network, default: .init()].problem = config.unsetVariables(ofAccount: lead.account).map { .accountUnavailable(account: lead.account, unset: $0) }
                ?? .accountNotConfigured(account: lead.account)
        }
        // One pass per account: its own concurrency and rate (the network's limits apply per
        // key), and a refused token stops that account's leads only.
        let byAccount = Dictionary(grouping: due, by: { SendPassKey(network: $0.network, account: $0.account) })
        for (key, leads) in byAccount.sorted(by: { ($0.key.network, $0.key.account) < ($1.key.network, $1.key.account) }) {
            let network = key.network
            guard let spec = library.spec(network), spec.send != nil else {
                report.networks[network, default: .init()].problem = .noSendSpec(network: network)
                continue
            }
            // `due` holds usable accounts' leads only.
            guard let account = config.accounts[key.account] else { continue }
            // The account's settings (leadbridge.json) win over the spec's defaults.
            let concurrency = max(1, account.concurrency ?? spec.send?.concurrency ?? 4)
            let gate = RequestGate(concurrency: concurrency, perSecond: account.ratePerSecond ?? spec.send?.ratePerSecond)
            let sender = LeadSender(transport: transport, clock: clock)
            let lease = Int64(options.claimLeaseSeconds)
            let summary = report.networks[network] ?? .init()
            // Claimed a window at a time (one transaction each, at least 32 leads), sent with
            // `concurrency` requests in flight: each request is marked written (committed) before
            // it goes out, group-committed with the other leads' (`SendEvents`); a lead hands its
            // slot on as soon as its answer comes, and the answers are recorded together, a few
            // milliseconds or `unrecorded` answers at a time.
            let claimWindow = max(32, 2 * concurrency)
            let unrecorded = max(options.maxUnrecordedAnswers, concurrency)
            let slots = SendSlots(concurrency)
            // Leads marked written: those whose requests are out and `readyLeads` more, marked
            // while the requests before them are out (`SendEvents`): by default as many as a
            // round of answers frees slots (the concurrency), at least 8.
            let readyLeads = max(0, options.readyLeads ?? max(8, concurrency))
            let ready = SendSlots(concurrency + readyLeads)
            // Their "written" events go half the ready leads at a time (or as soon as a slot idles).
            let events = SendEvents(ledger: ledger, maxUnrecorded: unrecorded, maxDelayMs: options.answerDelayMs, writtenBatch: max(1, readyLeads / 2))
            let echoes = Redactor(account: account.values)
            // Workers: the leads being answered and as many waiting for a slot, plus two, plus
            // the leads marked ahead and the answers waiting to be recorded — a lead whose slot
            // comes free always finds the next one waiting for it. Each takes its next lead as
            // soon as its own is done (`SendPass`); one more than the leads at most, so that when
            // every lead has a worker one finds none at once and says so (`SendEvents.finish`).
            // They end before this call does: `onChange` does not outlive it.
            let workers = min(2 * concurrency + 2 + readyLeads + unrecorded, leads.count + 1)
            let done = await withoutActuallyEscaping(onChange) { onChange in
                let pass = SendPass(ledger: ledger, network: network, account: key.account, owner: owner, lease: lease, dueBy: passStart,
                                    claimWindow: claimWindow, budget: leads.count, summary: summary, onChange: onChange)
                await withTaskGroup(of: Void.self) { group in
                    for _ in 0..<workers {
                        group.addTask {
                            while let lead = pass.next() {
                                let result: Result<SentLead, StoreError>
                                do throws(StoreError) {
                                    result = .success(try await ledger.send(lead, spec: spec, account: account.values, sender: sender, owner: self.owner,
                                                                            gate: gate, timeout: options.requestTimeout, events: events, slots: slots,
                                                                            ready: ready, echoes: echoes))
                                } catch {
                                    result = .failure(error)
                                }
                                pass.record(lead, result)
                            }
                            // Nothing left to start: the answers still to come have nothing to wait for.
                            events.finish()
                        }
                    }
                }
                return pass.state.withLock { $0 }
            }
            report.networks[network] = done.summary
            report.uncertain += done.uncertain
            report.changes += done.changes
            if let storeError = done.storeError { throw storeError }
        }
        // Judged on all the network's accounts together.
        for network in Set(byAccount.keys.map(\.network)) {
            guard var summary = report.networks[network] else { continue }
            if summary.failed > 0 && summary.accepted + summary.duplicate + summary.rejected == 0 && summary.problem == nil {
                summary.problem = .everySendFailed
                report.networks[network] = summary
            }
        }
    }

    // MARK: polling

    /// Batched polls go a page of leads at a time: about 5,000, and a multiple of the batch, so
    /// requests stay ceil(N / batch) whatever N is. (A list-style poll — pages or time
    /// windows — needs every lead at once.)
    public static func pollPage(batch: Int) -> Int {
        let b = max(1, batch)
        return max(b, (5_000 / b) * b)
    }

    /// Polls every network with a poll API side by side (one task each); each network keeps
    /// several requests in flight within its concurrency and rate limits. Changes reach
    /// `onChange` and the report in catalog order (as when networks were polled one after
    /// another) once every network is done.
    func poll(_ options: SyncOptions, _ ledger: Ledger, _ report: inout SyncReport, _ onChange: @Sendable (StatusChange) -> Void) async throws(StoreError) {
        let networks = library.specs.filter { $0.poll != nil && (options.network == nil || $0.id == options.network) }
        var results: [String: PolledNetwork] = [:]
        await withTaskGroup(of: PolledNetwork.self) { group in
            for spec in networks {
                let summary = report.networks[spec.id] ?? .init()
                group.addTask { await self.poll(spec, summary, options, ledger) }
            }
            for await polled in group { results[polled.network] = polled }
        }
        var storeError: StoreError?
        for spec in networks {
            guard let polled = results[spec.id] else { continue }
            if let e = polled.storeError { storeError = storeError ?? e }
            guard polled.seen else { continue }
            report.networks[spec.id] = polled.summary
            for c in polled.changes { onChange(c) }
            report.changes += polled.changes
        }
        if let storeError { throw storeError }
    }

    /// What polling one network did.
    struct PolledNetwork: Sendable {
        var network: String
        var summary: SyncReport.NetworkSummary
        var changes: [StatusChange] = []
        /// It had leads to ask about.
        var seen = false
        /// The store failed mid-way (what was committed stays).
        var storeError: StoreError?
    }

    /// Polls one network, a page of leads at a time.
    func poll(_ spec: NetworkSpec, _ start: SyncReport.NetworkSummary, _ options: SyncOptions, _ ledger: Ledger) async -> PolledNetwork {
        var polled = PolledNetwork(network: spec.id, summary: start)
        do throws(StoreError) { try await poll(spec, options, ledger, &polled) } catch { polled.storeError = error }
        return polled
    }

    func poll(_ spec: NetworkSpec, _ options: SyncOptions, _ ledger: Ledger, _ polled: inout PolledNetwork) async throws(StoreError) {
        guard let poll = spec.poll else { return }
        let pageSize = poll.isListStyle ? options.pollLimit : Self.pollPage(batch: poll.batch)
        let cutoff = clock() - Int64(options.pollIntervalSeconds)
        var after: Int64 = 0
        while true {
            let page = try ledger.claimPollPage(network: spec.id, before: cutoff, afterRowId: after, limit: pageSize)
            guard let last = page.last else { break }
            after = last.rowId
            polled.seen = true
            // Most pages are one account's: those are not copied into groups.
            let byAccount = page.allSatisfy { $0.account == last.account } ? [(key: last.account, value: page)]
                : Dictionary(grouping: page, by: \.account).sorted { $0.key < $1.key }
            for (accountName, leads) in byAccount {
                guard let account = config.accounts[accountName] else {
                    polled.summary.problem = .accountNotConfigured(account: accountName)
                    try ledger.markPolled(rowIds: leads.map(\.rowId), at: cutoff)
                    continue
                }
                var summary = polled.summary
                let changes = try await pollLeads(spec, poll, account, leads, options, ledger, cutoff: cutoff, &summary)
                polled.summary = summary
                polled.changes += changes
            }
            if poll.isListStyle || page.count < pageSize { break }
        }
    }

    /// What the requests about one batch of leads brought back (nothing written yet).
    struct PollAnswer: Sendable {
        /// Which batch it answers.
        var batch: Int
        var reports: [(rowId: Int64, report: StatusReport)] = []
        var requests = 0
        var problem: SyncProblem?
        /// The network called the account wrong (no other batch is asked).
        var accountRefused = false
        var unknownWords: [String] = []
    }

    /// Polls one account's leads and applies what the network says, in one transaction. A
    /// batched poll asks about its batches concurrently (the account's or spec's send
    /// concurrency, default 4, and its rate limit); a list-style poll walks its pages in order.
    func pollLeads(_ spec: NetworkSpec, _ poll: PollSpec, _ account: AccountConfig, _ leads: [LeadRecord], _ options: SyncOptions, _ ledger: Ledger,
                   cutoff: Int64, _ summary: inout SyncReport.NetworkSummary) async throws(StoreError) -> [StatusChange] {
        let concurrency = max(1, account.concurrency ?? spec.send?.concurrency ?? 4)
        let gate = RequestGate(concurrency: concurrency, perSecond: account.ratePerSecond ?? spec.send?.ratePerSecond)
        let batches = poll.isListStyle ? [leads[...]] : stride(from: 0, to: leads.count, by: max(1, poll.batch)).map { leads[$0..<min($0 + max(1, poll.batch), leads.count)] }
        let now = clock()
        var answers = [PollAnswer?](repeating: nil, count: batches.count)
        await withTaskGroup(of: PollAnswer.self) { group in
            var next = 0
            func addNext() {
                guard next < batches.count else { return }
                let i = next, batch = Array(batches[i])
                next += 1
                group.addTask { await self.ask(spec, poll, account, batch, i, options, gate: gate, now: now) }
            }
            for _ in 0..<concurrency { addNext() }
            while let answer = await group.next() {
                answers[answer.batch] = answer
                // An account the network refuses is refused for every batch: no more are asked.
                if answer.accountRefused { next = batches.count }
                addNext()
            }
        }
        var reports: [(rowId: Int64, report: StatusReport)] = []
        var givenBack: [Int64] = []
        for (i, answer) in answers.enumerated() {
            guard let answer else {
                givenBack += batches[i].map(\.rowId)
                continue
            }
            reports += answer.reports
            summary.pollRequests += answer.requests
            for w in answer.unknownWords where !summary.unknownWords.contains(w) { summary.unknownWords.append(w) }
            if let e = answer.problem {
                summary.problem = e
                givenBack += batches[i].map(\.rowId)
            }
        }
        let changes = try ledger.report(reports)
        // The page was stamped polled when it was taken; leads of a failed request (or not asked
        // after the account was refused) go back, to be asked again next pass (what the network
        // did answer is applied).
        if !givenBack.isEmpty { try ledger.markPolled(rowIds: givenBack, at: cutoff) }
        summary.polled += leads.count
        summary.changes += changes.count
        return changes
    }

    /// The requests of one poll plan (one batch of ids, or a list's pages) and what they say.
    func ask(_ spec: NetworkSpec, _ poll: PollSpec, _ account: AccountConfig, _ leads: [LeadRecord], _ batch: Int, _ options: SyncOptions, gate: RequestGate,
             now: Int64) async -> PollAnswer {
        var answer = PollAnswer(batch: batch)
        let byOrder = Dictionary(leads.map { ($0.orderId, $0.rowId) }, uniquingKeysWith: { a, _ in a })
        var plan = PollPlan(spec: spec, poll: poll, account: account.values,
                            leads: leads.map { PollPlan.Target(orderId: $0.orderId, externalId: $0.externalId, created: $0.createdAt) },
                            now: now, defaults: library.defaults)
        while answer.problem == nil {
            let built: BuiltRequest?
            do { built = try plan.nextRequest() } catch {
                answer.problem = .pollRequestInvalid(error.problem)
                break
            }
            guard let built else { break }
            answer.requests += 1
            let response: HTTPResponseValue
            await gate.acquire()
            do {
                response = try await transport.send(built.request, timeout: options.requestTimeout ?? spec.send?.timeout ?? 30)
                gate.release()
            } catch {
                gate.release()
                answer.problem = .pollUnreached(error.kind, error.problem)
                break
            }
            switch plan.handle(response) {
            case .failed(.said(let message)):
                answer.problem = .pollFailed(message)
            case .failed(let unreadable):
                answer.problem = .pollAnswer(unreadable)
            case .accountError(let message):
                answer.problem = .accountRefused(account: account.name, message: message)
                answer.accountRefused = true
            case .observations(let obs):
                for o in obs {
                    guard let rowId = byOrder[o.orderId] else { continue }
                    guard let status = o.status else {
                        if !answer.unknownWords.contains(o.raw) { answer.unknownWords.append(o.raw) }
                        continue
                    }
                    answer.reports.append((rowId, StatusReport(status: LeadStatus(bucket: status, raw: o.raw, detail: o.detail), source: .poll, network: spec.id,
                                                               payout: o.payout, currency: o.currency, comment: o.comment, externalId: o.externalId)))
                }
            }
        }
        return answer
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
            let who = n > 0 ? String(decoding: buffer.prefix(n), as: UTF8.self).trimmingWhitespace : "unknown holder"
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
