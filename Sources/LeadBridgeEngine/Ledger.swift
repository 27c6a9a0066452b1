import FoundationEssentials
import Glibc
import LeadBridgeCore
import LeadBridgeStore

/// How a lead entered the ledger.
public enum EnqueueResult: Sendable {
    case queued(LeadRecord)
    /// Already in the ledger for this network (or from this source): refused, naming the
    /// earlier outcome; the refusal is in the lead's journal.
    case exists(LeadRecord)
}

/// One event applied to one lead: the decision, the lead after it, and its status change.
public struct LedgerUpdate: Sendable {
    public var record: LeadRecord
    public var decision: LifecycleDecision
    public var change: StatusChange?
}

/// The lead lifecycle applied to the ledger, the only way leads change: each call locks the
/// leads it is about inside one store write transaction, asks Core's `LeadLifecycle`, and
/// saves the facts it decided (with outgoing postbacks to traffic sources in the same
/// transaction). `send`, `sync`, `serve`, replays and imports all come through here.
public struct Ledger: Sendable {
    public let store: any LeadStore
    let library: SpecLibrary
    let config: LeadBridgeConfig?
    let retry: RetryPolicy
    let clock: @Sendable () -> Int64
    let random: @Sendable () -> Double
    /// Each network's lifecycle policy, worked out once (every event of every lead needs its own).
    let policies: [String: LifecyclePolicy]

    /// `retry` defaults to the configuration's `sync` settings (one policy for `send` and `sync`).
    public init(store: any LeadStore, library: SpecLibrary, config: LeadBridgeConfig?, retry: RetryPolicy? = nil,
                clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) },
                random: @escaping @Sendable () -> Double = JitterSource().next) {
        self.store = store
        self.library = library
        self.config = config
        self.retry = retry ?? Self.retryPolicy(config?.sync ?? SyncConfig.defaults)
        self.clock = clock
        self.random = random
        let retry = self.retry
        self.policies = Dictionary(library.specs.map { spec in (spec.id, Self.policy(spec.id, spec, retry)) }, uniquingKeysWith: { first, _ in first })
    }

    /// The retry policy of a configuration's `sync` block.
    public static func retryPolicy(_ sync: SyncConfig) -> RetryPolicy {
        RetryPolicy(maxAttempts: sync.maxAttempts, baseDelay: sync.retryBaseSeconds, maxDelay: max(1, sync.retryBaseSeconds) * 64)
    }

    /// The same ledger with another retry policy (a pass's options) or clock.
    public func with(retry: RetryPolicy? = nil, clock: (@Sendable () -> Int64)? = nil) -> Ledger {
        Ledger(store: store, library: library, config: config, retry: retry ?? self.retry, clock: clock ?? self.clock, random: random)
    }

    public var now: Int64 { clock() }

    public func policy(network: String) -> LifecyclePolicy {
        policies[network] ?? Self.policy(network, library.spec(network), retry)
    }

    static func policy(_ network: String, _ spec: NetworkSpec?, _ retry: RetryPolicy) -> LifecyclePolicy {
        LifecyclePolicy(network: network, chargebacks: spec?.chargebacks ?? false, dedupe: spec?.dedupe == .orderId, retry: retry)
    }

    /// Decides one event for a locked lead and saves the result.
    func apply(_ w: any LedgerWriter, _ record: LeadRecord, _ event: LifecycleEvent, now: Int64, lead: Lead? = nil,
               account: String? = nil) throws(StoreError) -> LedgerUpdate {
        let decision = LeadLifecycle.decide(record.facts, event, policy: policy(network: record.network), now: now, random: random())
        // A refused event keeps the lead file and account as they were.
        let lead = decision.refusal == nil ? lead : nil
        let account = decision.refusal == nil ? account : nil
        // Nothing to write (a status the lead already has, repeated: nearly every postback of a
        // busy network): no row, entry or effect, so no `LeadWrite` is built and saved.
        if decision.journal == nil, decision.effects.isEmpty, lead == nil, account == nil, decision.facts == record.facts {
            return LedgerUpdate(record: record, decision: decision, change: nil)
        }
        var after = record
        after.facts = decision.facts
        if let account { after.account = account }
        if let lead { after.leadJSON = JSONWriter.compact(lead.json) }
        var outgoing: [OutgoingPostback] = []
        for case .queueOutgoing(let bucket) in decision.effects where after.source != nil {
            outgoing += outgoingPostbacks(for: after, to: bucket, now: now)
        }
        try w.save(LeadWrite(rowId: record.rowId, facts: decision.facts, before: record.facts, entry: decision.journal, outgoing: outgoing, lead: lead, account: account))
        var change: StatusChange?
        if let c = decision.statusChange {
            change = StatusChange(rowId: record.rowId, orderId: record.orderId, network: record.network, from: c.from, to: c.to, raw: c.raw,
                                  source: decision.journal?.source ?? .send)
        }
        return LedgerUpdate(record: after, decision: decision, change: change)
    }

    /// Locks leads for events that change only their facts (sends' answers, statuses), read
    /// without their lead data, except the leads of a traffic source: their outgoing postbacks
    /// are built from it.
    func lockFacts(_ w: any LedgerWriter, _ rowIds: [Int64]) throws(StoreError) -> [Int64: LeadRecord] {
        var current: [Int64: LeadRecord] = [:]
        var sourced: [Int64] = []
        for r in try w.lock(.facts(Array(Set(rowIds)))) {
            current[r.rowId] = r
            if r.source != nil { sourced.append(r.rowId) }
        }
        if !sourced.isEmpty {
            for r in try w.lock(.rows(sourced)) { current[r.rowId] = r }
        }
        return current
    }

    func outgoingPostbacks(for record: LeadRecord, to bucket: Bucket, now: Int64) -> [OutgoingPostback] {
        guard let config else { return [] }
        return OutgoingPostbacks(store: store, library: library, config: config).items(for: record, to: bucket, now: now)
    }

    // MARK: intake

    /// A new lead, queued for sending now; a lead already in the ledger is refused.
    public func enqueue(_ lead: Lead, network: String, account: String, source: String? = nil, sourceRef: String? = nil,
                        origin: EventSource = .intake) throws(StoreError) -> EnqueueResult {
        let now = clock()
        return try store.write { (w: any LedgerWriter) throws(StoreError) -> EnqueueResult in
            try enqueue(in: w, lead, network: network, account: account, source: source, sourceRef: sourceRef, origin: origin, now: now)
        }
    }

    /// A batch of new leads queued for the next `sync`, a transaction per `chunk` leads (a
    /// failure loses at most the chunk in flight; what committed stays queued). Each lead's
    /// result in order; `progress` hears the count after each commit.
    public func enqueueAll(_ leads: [Lead], network: String, account: String, origin: EventSource = .intake, chunk: Int = 5_000,
                           progress: (Int) -> Void = { _ in }) throws(StoreError) -> [EnqueueResult] {
        var results: [EnqueueResult] = []
        results.reserveCapacity(leads.count)
        var start = 0
        while start < leads.count {
            let part = leads[start..<min(start + max(chunk, 1), leads.count)]
            let now = clock()
            results += try store.write { (w: any LedgerWriter) throws(StoreError) -> [EnqueueResult] in
                var done: [EnqueueResult] = []
                for lead in part { done.append(try enqueue(in: w, lead, network: network, account: account, source: lead.source, sourceRef: nil, origin: origin, now: now)) }
                return done
            }
            start += part.count
            progress(start)
        }
        return results
    }

    /// The lifecycle's queued facts for a new lead, or the refusal recorded on the one already there.
    func enqueue(in w: any LedgerWriter, _ lead: Lead, network: String, account: String, source: String?, sourceRef: String?,
                 origin: EventSource, now: Int64) throws(StoreError) -> EnqueueResult {
        let (facts, entry) = LeadLifecycle.queued(at: now, source: origin)
        switch try w.insert(NewLead(lead: lead, network: network, account: account, source: source, sourceRef: sourceRef, facts: facts, entry: entry)) {
        case .inserted(let r):
            // The traffic source hears that the order exists (in the same transaction).
            var outgoing: [OutgoingPostback] = []
            for case .queueOutgoing(let bucket) in LeadLifecycle.intakeEffects where r.source != nil {
                outgoing += outgoingPostbacks(for: r, to: bucket, now: now)
            }
            if !outgoing.isEmpty { try w.save(LeadWrite(rowId: r.rowId, facts: r.facts, before: r.facts, entry: nil, outgoing: outgoing)) }
            return .queued(r)
        case .existing(let r):
            try w.save(LeadWrite(rowId: r.rowId, facts: r.facts, before: r.facts, entry: LeadLifecycle.alreadyInLedger(r.facts, at: now, source: origin)))
            return .exists(r)
        }
    }

    // MARK: sending

    /// Claims up to `limit` due leads of a network for this worker (one transaction).
    public func claim(network: String?, limit: Int, owner: String, lease: Int64, dueBy: Int64? = nil, accounts: AccountFilter? = nil) throws(StoreError) -> [LeadRecord] {
        let now = clock()
        return try store.write { (w: any LedgerWriter) throws(StoreError) -> [LeadRecord] in
            var out: [LeadRecord] = []
            for r in try w.lock(.due(network: network, now: dueBy ?? now, limit: limit, accounts: accounts)) {
                let u = try apply(w, r, .claimed(Claim(owner: owner, until: now + lease)), now: now)
                if u.decision.refusal == nil { out.append(u.record) }
            }
            return out
        }
    }

    /// Claims one lead (a `send` of the command line); nil when it is not due or held elsewhere.
    public func claim(rowId: Int64, owner: String, lease: Int64) throws(StoreError) -> LeadRecord? {
        let now = clock()
        return try store.write { (w: any LedgerWriter) throws(StoreError) -> LeadRecord? in
            guard let r = try w.lock(.rows([rowId])).first else { return nil }
            let u = try apply(w, r, .claimed(Claim(owner: owner, until: now + lease)), now: now)
            return u.decision.refusal == nil ? u.record : nil
        }
    }

    /// The worker is about to write the request: true when it still holds the claim (the lead
    /// is now `sending`); false when the claim was lost (nothing may be sent).
    public func requestWritten(rowId: Int64, owner: String) throws(StoreError) -> Bool {
        let now = clock()
        return try store.write { (w: any LedgerWriter) throws(StoreError) -> Bool in
            guard let r = try w.lock(.rows([rowId])).first else { return false }
            return try apply(w, r, .requestWritten(owner: owner), now: now).decision.effects.contains(.send)
        }
    }

    /// A lead `owner` marked written ahead of its turn whose request did not go out after all
    /// (its pass stopped first): back in the queue, its attempt not counted. Nil when `owner`
    /// no longer holds it (its claim lapsed: another worker's word decides).
    public func requestNotSent(rowId: Int64, owner: String) throws(StoreError) -> LedgerUpdate? {
        let now = clock()
        return try store.write { (w: any LedgerWriter) throws(StoreError) -> LedgerUpdate? in
            guard let r = try w.lock(.rows([rowId])).first else { return nil }
            let u = try apply(w, r, .requestNotSent(owner: owner), now: now)
            return u.decision.refusal == nil ? u : nil
        }
    }

    /// Records the end of an attempt: the answer, or a transport failure.
    public func answered(rowId: Int64, outcome: SendOutcome, durationMs: Int? = nil, owner: String? = nil) throws(StoreError) -> LedgerUpdate? {
        let now = clock()
        return try store.write { (w: any LedgerWriter) throws(StoreError) -> LedgerUpdate? in
            guard let r = try w.lock(.rows([rowId])).first else { return nil }
            var takenBy: String?
            if outcome.kind == .accepted, let e = outcome.externalId, !e.isEmpty,
               let other = try w.lock(.keys([LeadKey(network: r.network, orderId: nil, externalId: e)])).first, other.rowId != r.rowId {
                takenBy = other.orderId
            }
            return try apply(w, r, .answered(outcome, durationMs: durationMs, externalIdTakenBy: takenBy, owner: owner), now: now)
        }
    }

    /// Several leads' "request written" and "answered" events in one transaction, in order
    /// (the group commit of a send pass, `SendEvents`): one result per event. The rows are
    /// locked together, the external ids of accepted answers looked up together.
    public func apply(_ events: [SendEvent]) throws(StoreError) -> [SendEventResult] {
        let now = clock()
        return try store.write { (w: any LedgerWriter) throws(StoreError) -> [SendEventResult] in
            var current = try lockFacts(w, events.map(\.rowId))
            // Which lead already has each external id an accepted answer names.
            var holders: [String: (rowId: Int64, orderId: String)] = [:]
            var keys: [LeadKey] = []
            for case .answered(let rowId, let outcome, _, _) in events where outcome.kind == .accepted {
                if let e = outcome.externalId, !e.isEmpty, let r = current[rowId] { keys.append(LeadKey(network: r.network, orderId: nil, externalId: e)) }
            }
            if !keys.isEmpty {
                for other in try w.lock(.keys(keys)) {
                    if let e = other.facts.externalId, holders[other.network + "\u{0}" + e] == nil { holders[other.network + "\u{0}" + e] = (other.rowId, other.orderId) }
                }
            }
            var out: [SendEventResult] = []
            out.reserveCapacity(events.count)
            for event in events {
                guard let r = current[event.rowId] else {
                    out.append(event.isWritten ? .written(false) : .answered(nil))
                    continue
                }
                switch event {
                case .requestWritten(_, let owner):
                    let u = try apply(w, r, .requestWritten(owner: owner), now: now)
                    current[r.rowId] = u.record
                    out.append(.written(u.decision.effects.contains(.send)))
                case .answered(_, let outcome, let durationMs, let owner):
                    var takenBy: String?
                    if outcome.kind == .accepted, let e = outcome.externalId, !e.isEmpty,
                       let holder = holders[r.network + "\u{0}" + e], holder.rowId != r.rowId {
                        takenBy = holder.orderId
                    }
                    let u = try apply(w, r, .answered(outcome, durationMs: durationMs, externalIdTakenBy: takenBy, owner: owner), now: now)
                    current[r.rowId] = u.record
                    if let e = u.record.facts.externalId, holders[r.network + "\u{0}" + e] == nil { holders[r.network + "\u{0}" + e] = (r.rowId, r.orderId) }
                    out.append(.answered(u))
                }
            }
            return out
        }
    }

    /// Leads whose worker died or whose lease ran out: `claimed` ones go back to the queue,
    /// `sending` ones become `uncertain` (never resent by themselves). `isAlive` says whether a
    /// claim's owner still runs (nil: cannot tell, the lease decides).
    public func recoverInterrupted(isAlive: (String) -> Bool? = Worker.isAlive) throws(StoreError) -> [LedgerUpdate] {
        let now = clock()
        return try store.write { (w: any LedgerWriter) throws(StoreError) -> [LedgerUpdate] in
            var out: [LedgerUpdate] = []
            for r in try w.lock(.claimed(limit: 100_000)) {
                guard let claim = r.facts.claim, LeadLifecycle.isAbandoned(claim, now: now, ownerAlive: isAlive(claim.owner)) else { continue }
                out.append(try apply(w, r, .interrupted, now: now))
            }
            return out
        }
    }

    /// Gives a lead `owner` claimed back before its request was written (it cannot be sent in
    /// this pass); nil when `owner` no longer holds it (its claim lapsed and another worker may
    /// be sending it: that claim is not ours to end).
    public func release(rowId: Int64, owner: String) throws(StoreError) -> LedgerUpdate? {
        let now = clock()
        return try store.write { (w: any LedgerWriter) throws(StoreError) -> LedgerUpdate? in
            guard let r = try w.lock(.rows([rowId])).first, LeadLifecycle.isHeld(r.facts, by: owner) else { return nil }
            return try apply(w, r, .interrupted, now: now)
        }
    }

    // MARK: statuses

    /// Applies status reports in order, in one transaction, with stored postbacks' results;
    /// returns the status changes (only those: a poll page's thousands of updated records are
    /// not kept to be thrown away).
    public func report(_ reports: [(rowId: Int64, report: StatusReport)], postbackResults: [RawPostbackResult] = []) throws(StoreError) -> [StatusChange] {
        let now = clock()
        return try store.write { (w: any LedgerWriter) throws(StoreError) -> [StatusChange] in
            var changes: [StatusChange] = []
            try applyReports(in: w, reports, postbackResults: postbackResults, now: now) { if let c = $0.change { changes.append(c) } }
            return changes
        }
    }

    public func reportUpdates(_ reports: [(rowId: Int64, report: StatusReport)], postbackResults: [RawPostbackResult] = []) throws(StoreError) -> [LedgerUpdate] {
        let now = clock()
        return try store.write { (w: any LedgerWriter) throws(StoreError) -> [LedgerUpdate] in
            try reportUpdates(in: w, reports, postbackResults: postbackResults, now: now)
        }
    }

    /// `reportUpdates` inside a transaction the caller holds (the postback writer stores a
    /// batch and applies it in one). `locked`: leads the transaction has already locked and
    /// read without their data (the postback writer's batch, `LedgerWriter.find`), not read
    /// again — except a traffic source's, whose outgoing postbacks are built from its data.
    public func reportUpdates(in w: any LedgerWriter, _ reports: [(rowId: Int64, report: StatusReport)], postbackResults: [RawPostbackResult] = [],
                              locked: [Int64: LeadRecord] = [:], now: Int64? = nil) throws(StoreError) -> [LedgerUpdate] {
        var out: [LedgerUpdate] = []
        out.reserveCapacity(reports.count)
        try applyReports(in: w, reports, postbackResults: postbackResults, locked: locked, now: now ?? clock()) { out.append($0) }
        return out
    }

    /// Applies reports in order inside the caller's transaction, handing each update to `each`.
    func applyReports(in w: any LedgerWriter, _ reports: [(rowId: Int64, report: StatusReport)], postbackResults: [RawPostbackResult],
                      locked: [Int64: LeadRecord] = [:], now: Int64, each: (LedgerUpdate) -> Void) throws(StoreError) {
        var missing: [Int64] = []
        for (rowId, _) in reports where locked[rowId].map({ $0.source != nil }) ?? true { missing.append(rowId) }
        var current = missing.isEmpty ? [:] : try lockFacts(w, missing)
        if !locked.isEmpty {
            current.reserveCapacity(reports.count)
            for (rowId, _) in reports where current[rowId] == nil { current[rowId] = locked[rowId] }
        }
        for (rowId, var report) in reports {
            guard let r = current[rowId] else { continue }
            // An external id another lead already has is not taken over.
            if r.facts.externalId == nil, let e = report.externalId, !e.isEmpty,
               let other = try w.lock(.keys([LeadKey(network: r.network, orderId: nil, externalId: e)])).first, other.rowId != rowId {
                report.externalId = nil
            }
            let u = try apply(w, r, .statusReported(report), now: now)
            current[rowId] = u.record
            each(u)
        }
        if !postbackResults.isEmpty { try w.savePostbackResults(postbackResults) }
    }

    /// Stamps leads as polled.
    /// Stamps leads polled now, or at `at` (a page given back: `at` is the pass's cutoff, so the
    /// next pass asks about them again).
    public func markPolled(rowIds: [Int64], at: Int64? = nil) throws(StoreError) {
        let now = at ?? clock()
        try store.write { (w: any LedgerWriter) throws(StoreError) in try w.markPolled(rowIds: rowIds, at: now) }
    }

    /// Takes a page of leads to poll: stamped polled in the same transaction, so a worker
    /// running beside this one (on any host) takes the next page, never this one, and the
    /// requests of all workers together stay ceil(N / batch).
    public func claimPollPage(network: String, before: Int64, afterRowId: Int64, limit: Int) throws(StoreError) -> [LeadRecord] {
        let now = clock()
        return try store.write { (w: any LedgerWriter) throws(StoreError) -> [LeadRecord] in
            let page = try w.lock(.pollable(network: network, before: before, afterRowId: afterRowId, limit: limit))
            try w.markPolled(rowIds: page.map(\.rowId), at: now)
            return page
        }
    }

    // MARK: the operator

    /// `send --resend`: queue the lead again on purpose (with the lead file given now).
    public func resend(rowId: Int64, lead: Lead? = nil, account: String? = nil) throws(StoreError) -> LedgerUpdate? {
        try event(.resendRequested, rowId: rowId, lead: lead, account: account)
    }

    /// `settle`: the operator says what the network's cabinet shows.
    public func settle(rowId: Int64, as outcome: SettleAs) throws(StoreError) -> LedgerUpdate? {
        try event(.settled(outcome), rowId: rowId)
    }

    func event(_ event: LifecycleEvent, rowId: Int64, lead: Lead? = nil, account: String? = nil) throws(StoreError) -> LedgerUpdate? {
        let now = clock()
        return try store.write { (w: any LedgerWriter) throws(StoreError) -> LedgerUpdate? in
            guard let r = try w.lock(.rows([rowId])).first else { return nil }
            return try apply(w, r, event, now: now, lead: lead, account: account)
        }
    }
}

/// Who holds a claim: this host and process. A claim of a process on this host that is gone
/// is interrupted at once; elsewhere only its lease tells.
public enum Worker {
    static let host: String = {
        var buffer = [UInt8](repeating: 0, count: 256)
        guard gethostname(&buffer, 255) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }, as: UTF8.self)
    }()

    /// Which kernel boot and PID namespace this process runs in. A host name does not say it:
    /// two machines may share one (default VM names), containers may be given one
    /// (`--hostname`), and a pid means something only in its own namespace of its own boot —
    /// looked up anywhere else, a live worker elsewhere would seem dead and its lead would be
    /// taken from it while its request is out.
    static let machine: String = machineKey(bootId: firstLine("/proc/sys/kernel/random/boot_id"), pidNamespace: link("/proc/self/ns/pid"))

    static func machineKey(bootId: String?, pidNamespace: String?) -> String {
        let boot = String((bootId ?? "").filter { $0.isHexDigit }.prefix(12))
        let ns = String((pidNamespace ?? "").filter { $0.isNumber })
        return boot.isEmpty || ns.isEmpty ? "" : boot + "-" + ns
    }

    /// `host/pid/start/machine`, unique per process run.
    public static let identity: String = "\(host)/\(getpid())/\(Int64(Date().timeIntervalSince1970))/\(machine)"

    /// Whether a claim's owner still runs: known only for processes of this host, this boot and
    /// this PID namespace (an owner written without them — older versions — is left to its lease).
    public static func isAlive(_ owner: String) -> Bool? {
        if owner == identity { return true }
        guard let pid = localPid(owner, host: host, machine: machine) else { return nil }
        if kill(pid, 0) == 0 || errno == EPERM { return nil }  // alive, or a reused pid: the lease decides
        return false
    }

    /// The owner's pid when it is a process this one can look up; nil otherwise.
    static func localPid(_ owner: String, host: String, machine: String) -> Int32? {
        let parts = owner.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 4, !machine.isEmpty, String(parts[0]) == host, String(parts[3]) == machine else { return nil }
        return Int32(parts[1])
    }

    static func firstLine(_ path: String) -> String? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return text.split(separator: "\n").first.map(String.init)
    }

    static func link(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 256)
        let n = readlink(path, &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buffer.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
