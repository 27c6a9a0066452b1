/// Asking a network for statuses as a pure state machine: batches of ids (`{ids}`), one id per
/// request (`{id}`), list-and-filter with pagination, or consecutive time windows (`{since}` …
/// `{until}`, each paged when the spec pages) filtered locally. The engine sends; tests feed
/// canned responses. Requests for N leads in batches of B: ceil(N / B).
public struct PollPlan: Sendable {
    /// A lead whose status can still change.
    public struct Target: Sendable, Hashable {
        public var orderId: String
        public var externalId: String?
        public var created: Int64?
        public init(orderId: String, externalId: String?, created: Int64? = nil) {
            self.orderId = orderId
            self.externalId = externalId
            self.created = created
        }
    }

    /// What the network says of one lead.
    public struct Observation: Sendable, Hashable {
        public var orderId: String
        public var externalId: String?
        public var raw: String
        /// nil: an unknown word (reported, never guessed).
        public var status: Bucket?
        public var detail: String?
        public var payout: String?
        public var currency: String?
        public var comment: String?
    }

    public enum StepResult: Sendable, Hashable {
        case observations([Observation])
        case failed(PollFailure)
        /// The network says the account is wrong (an `account-error` outcome): the pass stops
        /// for the network and reports the account.
        case accountError(String)
    }

    public let spec: NetworkSpec
    public let poll: PollSpec
    let base: TemplateContext
    /// Every credential of the account: scrubbed from what is kept or shown of the answers.
    let echoes: Redactor
    let defaults: StatusDefaults?
    var batches: [[Target]]
    var batchIndex = 0
    var page: Int
    var pagesDone = 0
    var listDone = false
    var byExternal: [String: Target] = [:]
    var byOrder: [String: Target] = [:]
    /// Window style: the periods asked one after another, and the one being asked.
    public private(set) var windows: [(since: Int64, until: Int64)] = []
    var windowIndex = 0
    /// Leads skipped because the id the network needs is unknown (never accepted with an id).
    public private(set) var skipped: [Target] = []
    /// Asking lead by lead with the spec's `lookup` instead of paging the list (a pass with at
    /// most `lookup.upTo` leads, all with the id the lookup needs).
    public private(set) var lookingUp = false

    public init(spec: NetworkSpec, poll: PollSpec, account: AccountValues, leads: [Target], now: Int64, defaults: StatusDefaults? = nil) {
        self.spec = spec
        self.poll = poll
        self.defaults = defaults
        var ctx = TemplateContext.request(account: account, now: now)
        ctx["until"] = .time(now)
        echoes = Redactor(account: account)
        let earliest = leads.compactMap(\.created).min() ?? (now - 30 * 86400)
        ctx["since"] = .time(earliest)
        base = ctx
        page = poll.pagination?.start ?? 0
        var usable: [Target] = []
        for l in leads {
            if poll.by == .external && (l.externalId ?? "").isEmpty && !poll.isListStyle { skipped.append(l); continue }
            usable.append(l)
            if let e = l.externalId, !e.isEmpty { byExternal[e] = l }
            byOrder[l.orderId] = l
        }
        if let l = poll.lookup, !usable.isEmpty, usable.count <= l.upTo, usable.allSatisfy({ poll.by == .order || !($0.externalId ?? "").isEmpty }) {
            lookingUp = true
            batches = usable.map { [$0] }
        } else if let w = poll.window {
            windows = usable.isEmpty ? [] : Self.windows(from: max(earliest, now - Int64(w.maxDays) * 86_400), to: now, days: w.days)
            batches = usable.isEmpty ? [] : [usable]
        } else if poll.pagination != nil {
            batches = usable.isEmpty ? [] : [usable]
        } else {
            batches = stride(from: 0, to: usable.count, by: poll.batch).map { Array(usable[$0..<min($0 + poll.batch, usable.count)]) }
        }
        listDone = batches.isEmpty
    }

    /// Consecutive periods of at most `days` days covering `from` … `to` (the last one ends at
    /// `to`); one period when `from` is not before `to`.
    static func windows(from: Int64, to: Int64, days: Int) -> [(since: Int64, until: Int64)] {
        let step = Int64(days) * 86_400
        guard from < to else { return [(to - step, to)] }
        return stride(from: from, to: to, by: Int(step)).map { start in (start, min(start + step, to)) }
    }

    /// Number of requests a batched or windowed poll makes (paged: unknown until the pages end).
    public var plannedRequests: Int? {
        if lookingUp { return batches.count }
        if poll.pagination != nil { return nil }
        return poll.window != nil ? windows.count : batches.count
    }

    public mutating func nextRequest() throws(RequestBuildError) -> BuiltRequest? {
        var ctx = base
        if lookingUp, let lookup = poll.lookup {
            guard batchIndex < batches.count else { return nil }
            let id = batches[batchIndex].first.map { poll.by == .external ? ($0.externalId ?? "") : $0.orderId } ?? ""
            ctx["ids"] = .list([id])
            ctx["id"] = .text(id)
            return try RequestBuilder.build(lookup.request, sign: poll.sign, context: ctx)
        }
        if poll.window != nil {
            guard !listDone, windowIndex < windows.count else { return nil }
            ctx["since"] = .time(windows[windowIndex].since)
            ctx["until"] = .time(windows[windowIndex].until)
            if let p = poll.pagination {
                ctx["page"] = .text(String(page))
                ctx["offset"] = .text(String(pagesDone * p.pageSize))
            }
        } else if poll.pagination != nil {
            guard !listDone else { return nil }
            ctx["page"] = .text(String(page))
            ctx["offset"] = .text(String(pagesDone * (poll.pagination?.pageSize ?? 0)))
        } else {
            guard batchIndex < batches.count else { return nil }
            let ids = batches[batchIndex].map { poll.by == .external ? ($0.externalId ?? "") : $0.orderId }
            ctx["ids"] = .list(ids)
            ctx["id"] = .text(ids.first ?? "")
        }
        return try RequestBuilder.build(poll.request, sign: poll.sign, context: ctx)
    }

    public mutating func handle(_ raw: HTTPResponseValue) -> StepResult {
        // Read as it came (ids, statuses, JSON): masking a credential inside the answer could
        // break its JSON or an id that merely contains a short one (partner id 80001 inside the
        // network's lead 180001 left that lead unmatched). Messages and excerpts come from the
        // scrubbed copy; the texts an observation keeps are scrubbed one by one.
        let response = raw
        let shown = echoes.redact(raw)
        defer {
            if lookingUp || (poll.pagination == nil && poll.window == nil) { batchIndex += 1 }
        }
        let itemsPath = lookingUp ? (poll.lookup?.items ?? poll.items) : poll.items
        if !poll.outcomes.isEmpty {
            if let o = ResponseClassifier.firstMatch(response, format: poll.response, rules: poll.outcomes),
               [.failed, .rejected, .accountError].contains(o.kind) {
                listDone = true
                let scrubbed = shown == raw ? o : ResponseClassifier.firstMatch(shown, format: poll.response, rules: poll.outcomes)
                if o.kind == .failed, case .httpStatus(let status, _)? = o.failure {
                    return .failed(.httpStatus(status, excerpt: ResponseBody.excerpt(shown.body)))
                }
                let message = (scrubbed?.kind == o.kind ? scrubbed?.message : o.message.map(echoes.redact)) ?? "HTTP \(response.status)"
                return o.kind == .accountError ? .accountError(message) : .failed(.said(message))
            }
        }
        guard (200...299).contains(response.status) else {
            listDone = true
            return .failed(.httpStatus(response.status, excerpt: ResponseBody.excerpt(shown.body)))
        }
        guard let json = ResponseBody.json(response.body, format: poll.response == .text ? .json : poll.response) else {
            listDone = true
            return .failed(.notJSON(excerpt: ResponseBody.excerpt(shown.body)))
        }
        guard let itemsValue = json.value(atPath: itemsPath) else {
            listDone = true
            return .failed(.noItems(path: itemsPath, excerpt: ResponseBody.excerpt(shown.body)))
        }
        var items: [(key: String?, value: JSONValue)] = []
        switch itemsValue {
        case .array(let a): items = a.map { (nil, $0) }
        case .object(let o) where poll.id == "$key" || poll.idFallbacks.contains("$key"): items = o.members.map { ($0.key, $0.value) }
        case .object: items = [(nil, itemsValue)]  // one lead per request: the object is the item
        case .null: items = []
        default:
            listDone = true
            return .failed(.notAList(path: itemsPath, found: itemsValue.typeName))
        }
        var out: [Observation] = []
        for (key, item) in items {
            let id = ([poll.id] + poll.idFallbacks).lazy.compactMap { $0 == "$key" ? key : item.value(atPath: $0)?.scalarText }.first
            guard let id, !id.isEmpty else { continue }
            var found = poll.match == .external ? byExternal[id] : byOrder[id]
            // A lead whose network id never came back (uncertain) is found by the order id the
            // item's text carries; the item's id becomes its external id.
            if found == nil, poll.match == .external, let from = poll.orderIdIn, let text = item.value(atPath: from.path)?.scalarText,
               let order = from.orderId(in: text), let candidate = byOrder[order], (candidate.externalId ?? "").isEmpty {
                found = candidate
            }
            guard let target = found else { continue }
            let raw = poll.status.map { item.value(atPath: $0)?.scalarText ?? "" }.joined(separator: ":")
            var obs = Observation(orderId: target.orderId, externalId: target.externalId ?? (poll.match == .external ? echoes.maskWhole(id) : nil), raw: echoes.redact(raw))
            if let b = spec.statuses.lookup(raw) {
                obs.status = b.bucket
                obs.detail = b.detail
            } else if spec.statusDefaults, let b = defaults?.statuses.lookup(raw) {
                obs.status = b.bucket
                obs.detail = b.detail
            }
            obs.payout = poll.payout.flatMap { item.value(atPath: $0)?.scalarText }.map(echoes.maskWhole)
            obs.currency = poll.currency.flatMap { item.value(atPath: $0)?.scalarText }.map(echoes.maskWhole)
            obs.comment = poll.comment.flatMap { item.value(atPath: $0)?.scalarText }.map(echoes.redact)
            out.append(obs)
        }
        if lookingUp { return .observations(out) }
        if poll.window != nil && poll.pagination == nil {
            windowIndex += 1
        }
        if let p = poll.pagination {
            pagesDone += 1
            page += 1
            switch p.stop {
            case .shortPage: if items.count < p.pageSize { listDone = true }
            case .emptyPage: if items.isEmpty { listDone = true }
            case .hasMore(let path):
                let v = json.value(atPath: path)
                if v == nil || v == .bool(false) || v == .null || v?.scalarText == "0" || v?.scalarText == "" { listDone = true }
            case .total(let path):
                if let total = json.value(atPath: path)?.intValue ?? json.value(atPath: path)?.scalarText.flatMap({ Int($0) }) {
                    if pagesDone * p.pageSize >= total { listDone = true }
                } else { listDone = true }
            case .totalPages(let path):
                if let total = json.value(atPath: path)?.intValue ?? json.value(atPath: path)?.scalarText.flatMap({ Int($0) }) {
                    if pagesDone >= total { listDone = true }
                } else { listDone = true }
            }
            if pagesDone >= p.maxPages { listDone = true }
            if poll.window != nil && listDone {
                // This window's pages are done: the next window starts from the first page.
                windowIndex += 1
                listDone = windowIndex >= windows.count
                page = p.start
                pagesDone = 0
            }
        }
        return .observations(out)
    }
}
