/// How one network's part of a sync pass ended.
public enum SyncOutcome: String, Sendable, Hashable, CaseIterable {
    case ok
    /// The network failed (its error is kept): unreachable, answers the spec cannot read, a store error.
    case failed
    /// Its account cannot be used (an unset environment variable): nothing was sent or polled.
    case unavailable

    /// The word in a table of `l` (`rawValue` is the stable form of `--json` and the ledger).
    public func text(_ l: Language) -> String {
        guard l == .ru else { return rawValue }
        switch self {
        case .ok: return "ок"
        case .failed: return "сбой"
        case .unavailable: return "аккаунт недоступен"
        }
    }
}

/// One network's part of one `sync` pass, as the ledger records it (the console's Health
/// page, `leadbridge status` and `/metrics` read them).
public struct SyncPassRecord: Sendable, Hashable {
    public var network: String
    public var startedAt: Int64
    public var finishedAt: Int64
    public var outcome: SyncOutcome
    /// The network's error as the stable English text (redacted before it is recorded): the
    /// problem's, or an older ledger's text as it was written.
    public var error: String?
    /// Why the pass failed, as a value (worded in the reader's language); nil for an older
    /// ledger's text.
    public var problem: SyncProblem?

    /// The ledger's error column: the problem as its code and values (an English text when that
    /// would not fit), or the text.
    public var storedError: String? {
        if let problem { let s = problem.stored(); return s.utf8.count <= 500 ? s : String(problem.english.prefix(500)) }
        return error.map { String($0.prefix(500)) }
    }
    public var sent: Int
    public var polled: Int
    public var changes: Int
    /// Read back from the ledger: when the network last passed without failing, and the
    /// running totals of its passes (for `/metrics`).
    public var lastSuccessAt: Int64?
    public var passes = 0
    public var failedPasses = 0
    public var totalSeconds: Int64 = 0

    public init(network: String, startedAt: Int64, finishedAt: Int64, outcome: SyncOutcome, error: String? = nil, problem: SyncProblem? = nil,
                sent: Int = 0, polled: Int = 0, changes: Int = 0) {
        self.network = network
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.outcome = outcome
        self.problem = problem
        self.error = error ?? problem?.english
        self.sent = sent
        self.polled = polled
        self.changes = changes
    }

    public var seconds: Int64 { max(0, finishedAt - startedAt) }
}

/// Leads of one network in one state, as the store counts them for health: how many, and
/// the oldest of them by creation, by last change and by due time.
public struct StateTally: Sendable, Hashable {
    public var network: String
    /// Nil for a word this version does not know.
    public var state: SendState?
    public var count: Int
    public var oldestCreatedAt: Int64?
    public var oldestUpdatedAt: Int64?
    public var oldestDueAt: Int64?
    /// Of `count`, those due at or before the cutoff the query was given.
    public var overdue: Int
    public init(network: String, state: SendState?, count: Int, oldestCreatedAt: Int64? = nil, oldestUpdatedAt: Int64? = nil, oldestDueAt: Int64? = nil,
                overdue: Int = 0) {
        self.network = network
        self.state = state
        self.count = count
        self.overdue = overdue
        self.oldestCreatedAt = oldestCreatedAt
        self.oldestUpdatedAt = oldestUpdatedAt
        self.oldestDueAt = oldestDueAt
    }
}

/// Outgoing postbacks to traffic sources in one state, with the oldest next attempt.
public struct OutgoingTally: Sendable, Hashable {
    public var state: OutgoingState?
    public var count: Int
    public var oldestNextAttemptAt: Int64?
    public init(state: OutgoingState?, count: Int, oldestNextAttemptAt: Int64?) {
        self.state = state
        self.count = count
        self.oldestNextAttemptAt = oldestNextAttemptAt
    }
}

/// When `leadbridge status` (and the console) call something wrong: the `health` section of
/// `leadbridge.json`.
public struct HealthThresholds: Sendable, Hashable {
    /// A queued lead due longer ago than this means the outbox is stuck (no sync runs, or it
    /// cannot keep up).
    public var outboxStuckSeconds: Int64 = 3600
    /// An outgoing postback due longer ago than this is behind.
    public var outgoingBehindSeconds: Int64 = 3600
    /// A network whose last sync pass is older than this is failing; nil: not checked.
    public var syncStaleSeconds: Int64?
    /// More uncertain leads than this is a problem; nil: they are shown, never a failure.
    public var maxUncertain: Int?

    public init(outboxStuckSeconds: Int64 = 3600, outgoingBehindSeconds: Int64 = 3600, syncStaleSeconds: Int64? = nil, maxUncertain: Int? = nil) {
        self.outboxStuckSeconds = outboxStuckSeconds
        self.outgoingBehindSeconds = outgoingBehindSeconds
        self.syncStaleSeconds = syncStaleSeconds
        self.maxUncertain = maxUncertain
    }

    public static let keys = ["outbox_stuck_seconds", "outgoing_behind_seconds", "sync_stale_seconds", "max_uncertain"]
}

/// Something `status` reports as wrong (exit 2).
public enum HealthProblem: Sendable, Hashable {
    case networkFailing(network: String, outcome: SyncOutcome, error: String?, problem: SyncProblem? = nil)
    case syncStale(network: String, lastPass: Int64)
    case outboxStuck(count: Int, oldestDueAt: Int64)
    case outgoingBehind(count: Int, oldestDueAt: Int64)
    case tooManyUncertain(count: Int, limit: Int)

    public var code: String {
        switch self {
        case .networkFailing: "network-failing"
        case .syncStale: "sync-stale"
        case .outboxStuck: "outbox-stuck"
        case .outgoingBehind: "outgoing-behind"
        case .tooManyUncertain: "uncertain"
        }
    }

    /// The problem in `l`; `words` words a sync pass's problem (the CLI's catalog), else English.
    public func text(_ l: Language, now: Int64, words: (@Sendable (SyncProblem, Language) -> String)? = nil) -> String {
        let ru = l == .ru
        switch self {
        case .networkFailing(let n, let outcome, let error, let problem):
            let why = problem.map { words?($0, l) ?? $0.english } ?? error ?? outcome.text(l)
            return ru ? "сеть \(n) не работает: \(why)" : "network \(n) is failing: \(why)"
        case .syncStale(let n, let at) where at == 0:
            return ru ? "сеть \(n): проходов sync ещё не было" : "network \(n): no sync pass recorded yet"
        case .syncStale(let n, let at):
            return ru ? "сеть \(n): последний проход sync \(Duration.text(now - at, l)) назад" : "network \(n): the last sync pass was \(Duration.text(now - at, l)) ago"
        case .outboxStuck(let count, let due):
            return ru ? "очередь стоит: " + plural(count, "лид ждёт", "лида ждут", "лидов ждут") + " отправки, самый старый — \(Duration.text(now - due, l))"
                : "the outbox is stuck: " + counted(count, "lead", "leads") + " overdue, the oldest for \(Duration.text(now - due, l))"
        case .outgoingBehind(let count, let due):
            return ru ? "исходящие постбеки отстают: \(count), самый старый ждёт \(Duration.text(now - due, l))"
                : "outgoing postbacks are behind: \(count), the oldest waiting for \(Duration.text(now - due, l))"
        case .tooManyUncertain(let count, let limit):
            return ru ? "неопределённых лидов \(count) (предел \(limit)): проверьте их в кабинете сети и выполните leadbridge settle"
                : "\(count) uncertain leads (limit \(limit)): check them in the network's cabinet and run leadbridge settle"
        }
    }
}

/// The ledger's health at one moment: last sync pass per network, the outbox, uncertain and
/// parked leads, outgoing postbacks — and what of it is a problem under the thresholds.
public struct HealthReport: Sendable {
    public struct NetworkHealth: Sendable, Hashable {
        public var network: String
        public var lastPass: SyncPassRecord?
        public var queued: Int
        public var uncertain: Int
        public var parked: Int
    }
    public struct StateSummary: Sendable, Hashable {
        public var count = 0
        public var oldestCreatedAt: Int64?
        public var oldestUpdatedAt: Int64?
        public var oldestDueAt: Int64?
    }

    public var now: Int64
    public var thresholds: HealthThresholds
    public var networks: [NetworkHealth]
    /// Queued, claimed and being sent: what sync still has to do.
    public var outbox: StateSummary
    /// Queued leads due longer ago than `thresholds.outboxStuckSeconds` (the store counts them
    /// against that cutoff).
    public var overdue: Int
    public var uncertain: StateSummary
    public var parked: StateSummary
    /// Outgoing postbacks waiting for delivery, how many are past due, and those given up.
    public var outgoingPending: Int
    public var outgoingOldestDueAt: Int64?
    public var outgoingFailed: Int
    public var problems: [HealthProblem]

    public var healthy: Bool { problems.isEmpty }

    /// `passes` are the latest pass of each network; `networks` the ones to report even
    /// without a pass (configured accounts).
    public init(now: Int64, thresholds: HealthThresholds, networks configured: [String], passes: [SyncPassRecord], states: [StateTally],
                outgoing: [OutgoingTally]) {
        self.now = now
        self.thresholds = thresholds
        var byNetwork: [String: NetworkHealth] = [:]
        func entry(_ n: String) -> NetworkHealth { byNetwork[n] ?? NetworkHealth(network: n, lastPass: nil, queued: 0, uncertain: 0, parked: 0) }
        for n in configured { byNetwork[n] = entry(n) }
        for p in passes { var e = entry(p.network); if (e.lastPass?.finishedAt ?? Int64.min) <= p.finishedAt { e.lastPass = p }; byNetwork[p.network] = e }
        var outbox = StateSummary(), uncertain = StateSummary(), parked = StateSummary()
        var overdue = 0
        var overdueOldest: Int64?
        func merge(_ s: inout StateSummary, _ t: StateTally) {
            s.count += t.count
            s.oldestCreatedAt = [s.oldestCreatedAt, t.oldestCreatedAt].compactMap { $0 }.min()
            s.oldestUpdatedAt = [s.oldestUpdatedAt, t.oldestUpdatedAt].compactMap { $0 }.min()
            s.oldestDueAt = [s.oldestDueAt, t.oldestDueAt].compactMap { $0 }.min()
        }
        for t in states {
            var e = entry(t.network)
            switch t.state {
            case .queued?, .claimed?, .sending?:
                merge(&outbox, t)
                if t.state == .queued { e.queued += t.count }
            case .uncertain?:
                merge(&uncertain, t)
                e.uncertain += t.count
            case .parked?:
                merge(&parked, t)
                e.parked += t.count
            default:
                continue
            }
            byNetwork[t.network] = e
            if t.state == .queued, t.overdue > 0, let due = t.oldestDueAt {
                overdue += t.overdue
                overdueOldest = min(overdueOldest ?? due, due)
            }
        }
        self.networks = byNetwork.values.sorted { $0.network < $1.network }
        self.outbox = outbox
        self.overdue = overdue
        self.uncertain = uncertain
        self.parked = parked
        let due = outgoing.filter { $0.state == .due }
        outgoingPending = due.reduce(0) { $0 + $1.count }
        outgoingOldestDueAt = due.compactMap(\.oldestNextAttemptAt).min()
        outgoingFailed = outgoing.filter { $0.state == .failed }.reduce(0) { $0 + $1.count }

        var problems: [HealthProblem] = []
        for n in networks {
            if let p = n.lastPass, p.outcome != .ok { problems.append(.networkFailing(network: n.network, outcome: p.outcome, error: p.error, problem: p.problem)) }
            if let stale = thresholds.syncStaleSeconds {
                let last = n.lastPass?.finishedAt ?? 0
                if last < now - stale { problems.append(.syncStale(network: n.network, lastPass: last)) }
            }
        }
        if let oldest = overdueOldest { problems.append(.outboxStuck(count: overdue, oldestDueAt: oldest)) }
        if let oldest = outgoingOldestDueAt, oldest <= now - thresholds.outgoingBehindSeconds {
            problems.append(.outgoingBehind(count: outgoingPending, oldestDueAt: oldest))
        }
        if let limit = thresholds.maxUncertain, uncertain.count > limit { problems.append(.tooManyUncertain(count: uncertain.count, limit: limit)) }
        self.problems = problems
    }

    /// What `leadbridge status --json` prints.
    public var json: JSONValue {
        func time(_ t: Int64?) -> JSONValue { t.map { .string(ISODate.format($0)) } ?? .null }
        return .obj([
            ("healthy", .bool(healthy)),
            ("checked_at", time(now)),
            ("problems", .array(problems.map { .obj([("code", .string($0.code)), ("message", .string($0.text(.en, now: now)))]) })),
            ("networks", .array(networks.map { n in
                .obj([("network", .string(n.network)),
                      ("last_pass", n.lastPass.map { p in
                          .obj([("started_at", time(p.startedAt)), ("finished_at", time(p.finishedAt)), ("seconds", .int(Int(p.seconds))),
                                ("outcome", .string(p.outcome.rawValue)), ("error", .str(p.error)), ("sent", .int(p.sent)), ("polled", .int(p.polled)),
                                ("changes", .int(p.changes))])
                      } ?? .null),
                      ("queued", .int(n.queued)), ("uncertain", .int(n.uncertain)), ("parked", .int(n.parked))])
            })),
            ("outbox", .obj([("depth", .int(outbox.count)), ("overdue", .int(overdue)), ("oldest_created_at", time(outbox.oldestCreatedAt)),
                             ("oldest_due_at", time(outbox.oldestDueAt))])),
            ("uncertain", .obj([("count", .int(uncertain.count)), ("oldest_since", time(uncertain.oldestUpdatedAt))])),
            ("parked", .obj([("count", .int(parked.count)), ("oldest_since", time(parked.oldestUpdatedAt))])),
            ("outgoing", .obj([("pending", .int(outgoingPending)), ("oldest_due_at", time(outgoingOldestDueAt)), ("failed", .int(outgoingFailed))])),
        ])
    }

    /// What `leadbridge status` prints: a table of networks, then the queues, then the verdict.
    public func text(_ l: Language, words: (@Sendable (SyncProblem, Language) -> String)? = nil) -> String {
        let ru = l == .ru
        var rows = [ru ? ["сеть", "последний проход", "длительность", "итог", "отправлено", "опрошено", "изменений", "в очереди", "неопределённых"]
                       : ["network", "last pass", "took", "outcome", "sent", "polled", "changes", "queued", "uncertain"]]
        for n in networks {
            let p = n.lastPass
            rows.append([n.network, p.map { ISODate.format($0.finishedAt) } ?? "—", p.map { Duration.text($0.seconds, l) } ?? "—",
                         p.map { $0.outcome.text(l) } ?? "—", p.map { String($0.sent) } ?? "—", p.map { String($0.polled) } ?? "—",
                         p.map { String($0.changes) } ?? "—", String(n.queued), String(n.uncertain)])
        }
        var lines: [String] = []
        if rows.count > 1 { lines.append(TextTable.render(rows)); lines.append("") }
        func ago(_ t: Int64?) -> String { t.map { Duration.text(now - $0, l) } ?? "—" }
        var outboxLine = ru ? "очередь: \(outbox.count) (просрочено \(overdue))" : "outbox: \(outbox.count) (\(overdue) overdue)"
        if outbox.count > 0 { outboxLine += ru ? ", самый старый лид ждёт \(ago(outbox.oldestCreatedAt))" : ", the oldest lead waiting for \(ago(outbox.oldestCreatedAt))" }
        var uncertainLine = ru ? "неопределённых: \(uncertain.count)" : "uncertain: \(uncertain.count)"
        if uncertain.count > 0 { uncertainLine += ru ? ", самый старый \(ago(uncertain.oldestUpdatedAt))" : ", the oldest for \(ago(uncertain.oldestUpdatedAt))" }
        uncertainLine += ru ? "; отложенных: \(parked.count)" : "; parked: \(parked.count)"
        var outgoingLine = ru ? "исходящие постбеки: ждут \(outgoingPending)" : "outgoing postbacks: \(outgoingPending) pending"
        if let due = outgoingOldestDueAt, due <= now { outgoingLine += ru ? ", самый старый просрочен на \(ago(due))" : ", the oldest due \(ago(due)) ago" }
        outgoingLine += ru ? "; не доставлено: \(outgoingFailed)" : "; given up: \(outgoingFailed)"
        lines += [outboxLine, uncertainLine, outgoingLine]
        lines.append("")
        if healthy {
            lines.append(ru ? "всё в порядке" : "healthy")
        } else {
            lines.append(ru ? "проблемы:" : "problems:")
            lines += problems.map { "  - " + $0.text(l, now: now, words: words) }
        }
        return lines.joined(separator: "\n")
    }
}

/// English count and noun: 1 spec, 2 specs, 0 specs.
public func counted(_ n: Int, _ one: String, _ many: String) -> String { n == 1 ? "1 \(one)" : "\(n) \(many)" }

/// Russian plural forms: 1 лид, 2 лида, 5 лидов (and 11–14 like 5).
public func plural(_ n: Int, _ one: String, _ few: String, _ many: String) -> String {
    let tens = n % 100, units = n % 10
    if (11...14).contains(tens) { return "\(n) \(many)" }
    if units == 1 { return "\(n) \(one)" }
    if (2...4).contains(units) { return "\(n) \(few)" }
    return "\(n) \(many)"
}

/// A length of time for people: `45 s`, `12 min`, `3 h 5 min`, `2 d 4 h`.
public enum Duration {
    public static func text(_ seconds: Int64, _ l: Language) -> String {
        let s = max(0, seconds)
        let ru = l == .ru
        let (sec, min, h, d) = ru ? ("с", "мин", "ч", "д") : ("s", "min", "h", "d")
        if s < 60 { return "\(s) \(sec)" }
        if s < 3600 { return "\(s / 60) \(min)" }
        if s < 86_400 { return "\(s / 3600) \(h)" + (s % 3600 / 60 > 0 ? " \(s % 3600 / 60) \(min)" : "") }
        return "\(s / 86_400) \(d)" + (s % 86_400 / 3600 > 0 ? " \(s % 86_400 / 3600) \(h)" : "")
    }
}
