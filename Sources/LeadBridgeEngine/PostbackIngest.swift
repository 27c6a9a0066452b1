import Dispatch
import FoundationEssentials
import Glibc
import LeadBridgeCore
import LeadBridgeNet
import LeadBridgeStore
import Synchronization

/// The answer to a network that called us back.
public struct IngestReply: Sendable, Hashable {
    public var status: Int
    public var text: String
    public init(status: Int, text: String) { self.status = status; self.text = text }

    /// The store could not take the postback (the database is away): never a 200 for a
    /// postback that is not stored; the network's retry brings it again (`Retry-After`, as
    /// every 503). The reason goes to the log, not to the network.
    public static let storeUnavailable = IngestReply(status: 503, text: "store unavailable, try again later")
}

/// Turns one stored postback into a result, a status report and a reply. Runs on the
/// ingest's writer thread, so its store reads see every earlier postback.
public struct PostbackProcessor: Sendable {
    let store: any LeadStore
    let library: SpecLibrary
    /// The library's specs by id and alias, each shared by reference: a prepared postback
    /// carries its spec from the event loop to the writer without copying it (copying a
    /// `NetworkSpec` per postback was a large part of the receiver's work).
    let specs: [String: SharedSpec]

    /// A spec held by reference.
    public final class SharedSpec: Sendable {
        public let spec: NetworkSpec
        init(_ spec: NetworkSpec) { self.spec = spec }
    }

    public init(store: any LeadStore, library: SpecLibrary) {
        self.store = store
        self.library = library
        var specs: [String: SharedSpec] = [:]
        let shared = library.specs.map(SharedSpec.init)
        // The same precedence as `SpecLibrary.spec`: ids first, then aliases, the first one wins.
        for s in shared where specs[s.spec.id] == nil { specs[s.spec.id] = s }
        for s in shared { for alias in s.spec.aliases where specs[alias] == nil { specs[alias] = s } }
        self.specs = specs
    }

    /// `library.spec(name)`, by reference.
    public func spec(_ name: String) -> SharedSpec? {
        specs[name] ?? (name.utf8.contains { $0 >= 0x41 && $0 <= 0x5A } || name.utf8.contains { $0 >= 0x80 } ? specs[name.lowercased()] : nil)
    }

    public struct Decision: Sendable {
        public var result: RawPostbackResult
        public var report: (rowId: Int64, report: StatusReport)?
        public var reply: IngestReply
    }

    /// Decoded parameters of a postback: the query, then a form or JSON body.
    public static func parameters(query: String, body: [UInt8]) throws(PostbackError) -> [(String, String)] {
        try QueryString.parse(query) + bodyParameters(body)
    }

    /// Decoded parameters of a form or JSON body (none for an empty body).
    public static func bodyParameters(_ body: [UInt8]) throws(PostbackError) -> [(String, String)] {
        var pairs: [(String, String)] = []
        guard !body.isEmpty else { return pairs }
        let first = body.first { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }
        if first == UInt8(ascii: "{") {
            guard case .object(let o)? = try? JSONParser.parse(body) else {
                throw PostbackError(.bodyNotAJSONObject, field: "body")
            }
            for m in o.members {
                switch m.value {
                case .string(let s):
                    // The same rule as query values: no control characters.
                    if s.unicodeScalars.contains(where: { ($0.value < 0x20 && $0 != "\t") || $0.value == 0x7F }) {
                        throw PostbackError(.controlCharacters, field: m.key)
                    }
                    pairs.append((m.key, s))
                case .number(let n): pairs.append((m.key, n))
                case .bool(let b): pairs.append((m.key, b ? "1" : "0"))
                default: continue
                }
            }
        } else {
            guard let text = String(validating: body, as: UTF8.self) else {
                throw PostbackError(.bodyNotUTF8, field: "body")
            }
            pairs += try QueryString.parse(text)
        }
        return pairs
    }

    /// A postback after parsing, before it is stored (no id yet) and its lead looked up.
    /// Computed on the connection thread, so the writer thread only touches the store.
    public enum Prepared: Sendable {
        case decided(Decision)
        case normalized(spec: SharedSpec, postback: NormalizedPostback)
    }

    public func prepare(_ raw: RawPostback) -> Prepared {
        prepare(raw, query: Result { () throws(PostbackError) in try QueryString.parse(raw.query) })
    }

    /// `prepare` with the query already decoded (the receiver reads it once for the token,
    /// the masking and this): `query` must be what parsing `raw.query` gives.
    /// `known`: the spec of `raw.network` when the caller already looked it up (the receiver).
    public func prepare(_ raw: RawPostback, query: Result<[(String, String)], PostbackError>, known: SharedSpec? = nil) -> Prepared {
        func done(_ result: PostbackResult, _ status: Int, _ text: String, oid: String? = nil, eid: String? = nil) -> Prepared {
            .decided(Decision(result: RawPostbackResult(id: 0, result: result, orderId: oid, externalId: eid, note: text), report: nil,
                              reply: IngestReply(status: status, text: text)))
        }
        if raw.result != .received { return done(raw.result, raw.result == .forbidden ? 403 : 404, raw.result.rawValue) }
        guard let shared = known ?? spec(raw.network) else { return done(.unknownNetwork, 404, "unknown network \(raw.network)") }
        do throws(PostbackError) {
            var pairs = try query.get()
            if !raw.body.isEmpty { pairs += try Self.bodyParameters(raw.body) } // no copy of the query's pairs for a GET
            return .normalized(spec: shared, postback: try PostbackNormalizer.normalize(pairs, spec: shared.spec, defaults: library.defaults))
        } catch {
            if error.kind == .unknownStatus, let p = error.partial {
                // Kept for reconciliation (a spec update and `postbacks-replay` apply it later).
                return done(.unknownStatus, 200, "ignored: unknown status word \"\(p.rawStatus.prefix(60))\"", oid: p.orderId, eid: p.externalId)
            }
            return done(.invalid, 400, "invalid postback: \(error)")
        }
    }

    /// Decides a batch of postbacks inside the write transaction that stores them: every
    /// lead the batch names is read (and locked) once, then the rules apply. Returns the
    /// decisions in order and the leads read, by row id, for applying the statuses.
    public func decideAll(_ items: [(id: Int64, prepared: Prepared)], in w: any LedgerWriter) throws(StoreError) -> (decisions: [Decision], leads: [Int64: LeadRecord]) {
        let keys: [LeadKey] = items.compactMap {
            if case .normalized(let shared, let p) = $0.prepared { return LeadKey(network: shared.spec.id, orderId: p.orderId, externalId: p.externalId) }
            return nil
        }
        let found = try w.find(keys)
        var leads: [Int64: LeadRecord] = [:]
        leads.reserveCapacity(found.count)
        for case let r? in found { leads[r.rowId] = r }
        var index = 0
        var decisions: [Decision] = []
        decisions.reserveCapacity(items.count)
        for item in items {
            switch item.prepared {
            case .decided(var d):
                d.result.id = item.id
                decisions.append(d)
            case .normalized(let shared, let n):
                let lead = found[index]
                index += 1
                decisions.append(try decide(id: item.id, spec: shared.spec, normalized: n, lead: lead, in: w))
            }
        }
        return (decisions, leads)
    }

    func decide(id: Int64, spec: NetworkSpec, normalized: NormalizedPostback, lead: LeadRecord?, in w: any LedgerWriter) throws(StoreError) -> Decision {
        let oid = normalized.orderId, eid = normalized.externalId
        func done(_ result: PostbackResult, _ status: Int, _ text: String) -> Decision {
            Decision(result: RawPostbackResult(id: id, result: result, orderId: oid, externalId: eid, note: text), report: nil,
                     reply: IngestReply(status: status, text: text))
        }
        guard let lead, let status = normalized.status else {
            if let oid, let other = try w.leads(LeadQuery(orderId: oid, limit: 1, withData: false)).first {
                return done(.otherNetwork, 200, "ignored: lead \(oid) was sent to \(other.network), not \(spec.id)")
            }
            return done(.unmatched, 404, "no lead matches (kept: it is applied when the lead arrives)")
        }
        let report = StatusReport(status: LeadStatus(bucket: status, raw: normalized.rawStatus, detail: normalized.detail), source: .postback,
                                  network: spec.id, payout: normalized.payout, currency: normalized.currency, comment: normalized.comment,
                                  reason: normalized.reason, externalId: eid)
        return Decision(result: RawPostbackResult(id: id, result: .applied, leadRowId: lead.rowId, orderId: oid, externalId: eid, note: status.rawValue),
                        report: (lead.rowId, report), reply: IngestReply(status: 200, text: "OK"))
    }

}

/// Stores every incoming postback with group commit: one writer thread takes whatever
/// postbacks are waiting, looks their leads up, stores them with their results and applies
/// their statuses in one transaction, then answers the whole batch at once — through the
/// event loop's responders (one wake-up of the loop per batch) or to blocked callers. The
/// receiver's other store work (lead intake) runs on the same thread, in arrival order.
public final class PostbackIngest: Sendable {
    /// Where a postback's reply goes.
    enum ReplyTo: Sendable {
        case http(HTTPResponder)
        case waiter(ReplySlot)
    }

    final class Job: Sendable {
        let raw: RawPostback
        let prepared: PostbackProcessor.Prepared
        let replyTo: ReplyTo
        init(_ raw: RawPostback, _ prepared: PostbackProcessor.Prepared, _ replyTo: ReplyTo) {
            self.raw = raw
            self.prepared = prepared
            self.replyTo = replyTo
        }
    }

    /// A caller of `ingest` waits here for its reply.
    final class ReplySlot: Sendable {
        let done = DispatchSemaphore(value: 0)
        let reply = Mutex<IngestReply>(IngestReply(status: 503, text: "not processed"))
        func fill(_ r: IngestReply) {
            reply.withLock { $0 = r }
            done.signal()
        }
    }

    enum Work: Sendable {
        case postback(Job)
        case task(@Sendable () -> Void)
    }

    struct State {
        var queue: [Work] = []
        var head = 0
        var queuedPostbacks = 0
        /// The writer found nothing to do and sleeps on `wake`: the next submission signals it.
        var writerWaiting = false
        var stopping = false
    }

    let ledger: Ledger
    let processor: PostbackProcessor
    let onChanges: @Sendable ([StatusChange]) -> Void
    let maxBatch: Int
    /// Postbacks waiting for the writer beyond which new ones are refused (`503`, `Retry-After`):
    /// the writer is behind and answers would come too late anyway.
    public let maxQueued: Int
    /// When the writer adds stored postbacks to the order index a lead's postbacks are read by
    /// (`LedgerWriter.indexPostbackOrders`): after this many stored since the last time, and
    /// once it has been idle for `indexWhenIdle` seconds. Each time covers at most this many.
    ///
    /// Why in bulk: a postback's entry is a random page (its lead's place among all leads), so
    /// with an entry per postback each commit wrote a page per postback; a range's entries for
    /// the same leads share their pages. 8,192 postbacks cover the raw-log workload's 1,000 leads
    /// several times over (a page per about eight entries), and a lead's page reads at most that
    /// many postbacks past the index, by id.
    ///
    /// In `indexParts` parts, one after each batch (all at once when idle): the step's
    /// postbacks in the index's key order, so each part writes its own slice of the index's
    /// pages. In one transaction, a step held the writer for 20–40 ms (about 1,000 pages read
    /// and written to the log on the loaded machine) every 8,192 postbacks: the raw log's p99
    /// went from 6.6 ms to 20–116 ms.
    let indexEvery: Int
    let indexParts = 8
    let indexWhenIdle: Double
    let state = Mutex(State())
    let log: @Sendable (ServerNotice) -> Void
    /// Whether the last batch found the store failing (logged once when it goes and once when it comes back).
    let storeFailing = Mutex(false)
    let wake = DispatchSemaphore(value: 0)
    let finished = DispatchSemaphore(value: 0)

    /// Status changes go through `ledger` (outgoing postbacks are queued with them); `onChanges`
    /// hears of each batch's changes.
    public init(ledger: Ledger, library: SpecLibrary, maxBatch: Int = 512, maxQueued: Int = 10_000, indexEvery: Int = 8_192, indexWhenIdle: Double = 0.5,
                log: @escaping @Sendable (ServerNotice) -> Void = { _ in }, onChanges: @escaping @Sendable ([StatusChange]) -> Void = { _ in }) {
        self.log = log
        self.indexEvery = max(1, indexEvery)
        self.indexWhenIdle = indexWhenIdle
        self.ledger = ledger
        self.processor = PostbackProcessor(store: ledger.store, library: library)
        self.maxBatch = maxBatch
        self.maxQueued = max(1, maxQueued)
        self.onChanges = onChanges
        let started = ServerSocket.spawnThread(name: "postback-writer") { [self] in self.writerLoop() }
        precondition(started, "the system refused a thread for the postback writer")
    }

    /// Postbacks queued and not yet taken by the writer (what `maxQueued` bounds).
    public var waitingPostbacks: Int { state.withLock { $0.queuedPostbacks } }

    /// Queues a postback prepared on the event loop; `responder` gets the reply once it is
    /// stored and processed. False (nothing queued) when the writer is behind or stopping:
    /// the caller answers `503` with `Retry-After`.
    public func submit(_ raw: RawPostback, prepared: PostbackProcessor.Prepared, responder: HTTPResponder) -> Bool {
        enqueue(.postback(Job(raw, prepared, .http(responder))), limited: true)
    }

    /// Stores and processes one postback; blocks until both are committed.
    public func ingest(_ raw: RawPostback) -> IngestReply {
        let slot = ReplySlot()
        guard enqueue(.postback(Job(raw, processor.prepare(raw), .waiter(slot))), limited: false) else {
            return IngestReply(status: 503, text: "shutting down")
        }
        slot.done.wait()
        return slot.reply.withLock { $0 }
    }

    /// Runs other store work on the writer thread, after what is queued (lead intake), so the
    /// event loop never waits on the store. False when stopping.
    public func perform(_ work: @escaping @Sendable () -> Void) -> Bool {
        enqueue(.task(work), limited: false)
    }

    private func enqueue(_ work: Work, limited: Bool) -> Bool {
        let (accepted, signal) = state.withLock { s -> (Bool, Bool) in
            guard !s.stopping else { return (false, false) }
            if case .postback = work {
                if limited && s.queuedPostbacks >= maxQueued { return (false, false) }
                s.queuedPostbacks += 1
            }
            s.queue.append(work)
            let signal = s.writerWaiting
            s.writerWaiting = false
            return (true, signal)
        }
        if signal { wake.signal() }
        return accepted
    }

    /// Finishes what is queued, then stops the writer (graceful shutdown).
    public func shutdown() {
        let (already, signal) = state.withLock { s -> (Bool, Bool) in
            let was = s.stopping
            s.stopping = true
            let signal = s.writerWaiting
            s.writerWaiting = false
            return (was, signal)
        }
        if already { return }
        if signal { wake.signal() }
        finished.wait()
    }

    /// The next batch: up to `maxBatch` postbacks in a row, or one task; nil when stopped;
    /// empty when `idle` and nothing came for `indexWhenIdle` seconds.
    private func nextBatch(idle: Bool) -> [Work]? {
        while true {
            let batch = state.withLock { s -> [Work]? in
                if s.head == s.queue.count {
                    s.queue.removeAll(keepingCapacity: s.queue.capacity <= 4096)
                    s.head = 0
                    if s.stopping { return nil }
                    s.writerWaiting = true
                    return []
                }
                var end = s.head
                if case .task = s.queue[end] {
                    end += 1
                } else {
                    while end < s.queue.count, end - s.head < maxBatch, case .postback = s.queue[end] { end += 1 }
                }
                let batch = Array(s.queue[s.head..<end])
                s.head = end
                if case .postback = batch[0] { s.queuedPostbacks -= batch.count }
                if s.head >= 1024 && s.head * 2 >= s.queue.count {
                    s.queue.removeFirst(s.head)
                    s.head = 0
                }
                return batch
            }
            guard let batch else { return nil }
            if !batch.isEmpty { return batch }
            guard idle else {
                wake.wait()
                continue
            }
            if wake.wait(timeout: .now() + indexWhenIdle) == .timedOut {
                // A submission between the timeout and here signals `wake` for nothing: the
                // next wait returns at once and looks again.
                state.withLock { $0.writerWaiting = false }
                return []
            }
        }
    }

    func writerLoop() {
        // Postbacks stored and not yet indexed, as far as this writer knows (an earlier run's
        // are looked for at the first idle moment).
        var unindexed = 1
        var step: IndexStep?
        while let batch = nextBatch(idle: unindexed > 0 || step != nil) {
            if batch.isEmpty {
                repeat { indexPart(&step, &unindexed) } while step != nil
                continue
            }
            var jobs: [Job] = []
            jobs.reserveCapacity(batch.count)
            for work in batch {
                switch work {
                case .task(let run): run()
                case .postback(let job): jobs.append(job)
                }
            }
            if !jobs.isEmpty {
                answer(jobs, process(jobs))
                unindexed += jobs.count
                if step != nil || unindexed >= indexEvery { indexPart(&step, &unindexed) }
            }
        }
        finished.signal()
    }

    /// An order-index step under way: the postbacks still to add, in the index's key order,
    /// and the mark the last part moves to.
    struct IndexStep {
        var ids: ArraySlice<Int64>
        let through: Int64
    }

    /// One part of the order index (after the answers: no postback waits on it), starting a
    /// step when none is under way. `unindexed` becomes what may be left after the step (1
    /// when it was full or failed — the next idle moment looks again).
    func indexPart(_ step: inout IndexStep?, _ unindexed: inout Int) {
        do {
            if step == nil {
                guard let next = try ledger.store.write({ (w: any LedgerWriter) throws(StoreError) in try w.postbacksToIndex(atMost: indexEvery) }) else {
                    unindexed = 0
                    return
                }
                step = IndexStep(ids: next.ids[...], through: next.through)
                unindexed = next.more ? 1 : 0
            }
            guard let current = step else { return }
            let part = Array(current.ids.prefix(max(1, indexEvery / indexParts)))
            let last = part.count == current.ids.count
            try ledger.store.write { (w: any LedgerWriter) throws(StoreError) in try w.indexPostbackOrders(ids: part, through: last ? current.through : nil) }
            step = last ? nil : IndexStep(ids: current.ids.dropFirst(part.count), through: current.through)
        } catch {
            storeFailed(.postbacksNotIndexed(detail: error.message))
            step = nil
            unindexed = 1
        }
    }

    /// Stores a batch and applies it in one write transaction: each lead the batch names read
    /// once, the decisions, each postback stored with its result and every status report
    /// applied, committed together — a postback is never applied without being stored, nor
    /// answered before the commit. If that fails, the batch is stored on its own (as received,
    /// for `postbacks-replay`). The replies in the batch's order.
    func process(_ batch: [Job]) -> [IngestReply] {
        let raws = batch.map(\.raw)
        do {
            let (changes, replies) = try ledger.store.write { (w: any LedgerWriter) throws(StoreError) -> ([StatusChange], [IngestReply]) in
                let (decisions, leads) = try processor.decideAll(batch.map { (0, $0.prepared) }, in: w)
                var results: [RawPostbackResult] = []
                var reports: [(rowId: Int64, report: StatusReport)] = []
                var replies: [IngestReply] = []
                results.reserveCapacity(batch.count)
                replies.reserveCapacity(batch.count)
                for d in decisions {
                    results.append(d.result)
                    if let r = d.report { reports.append(r) }
                    replies.append(d.reply)
                }
                _ = try w.logPostbacks(raws, results: results)
                return (try ledger.reportUpdates(in: w, reports, locked: leads).compactMap(\.change), replies)
            }
            storeWorks()
            if !changes.isEmpty { onChanges(changes) }
            return replies
        } catch {
            do {
                _ = try ledger.store.write { (w: any LedgerWriter) throws(StoreError) in try w.logPostbacks(raws) }
            } catch {
                storeFailed(.postbacksNotStored(detail: error.message))
                return batch.map { _ in .storeUnavailable }
            }
            // Stored but not processed: `postbacks-replay` (and the serve loop) will apply them.
            storeFailed(.postbacksNotProcessed(detail: error.message))
            return batch.map { _ in .storeUnavailable }
        }
    }

    func storeFailed(_ notice: ServerNotice) {
        if !storeFailing.withLock({ was in defer { was = true }; return was }) { log(notice) }
    }

    func storeWorks() {
        if storeFailing.withLock({ was in defer { was = false }; return was }) { log(.storeBack) }
    }

    /// Answers a processed batch: every HTTP reply with one hand-over to the event loop.
    func answer(_ jobs: [Job], _ replies: [IngestReply]) {
        var http: [(HTTPResponder, HTTPServerResponse)] = []
        http.reserveCapacity(jobs.count)
        for (job, reply) in zip(jobs, replies) {
            switch job.replyTo {
            case .http(let responder): http.append((responder, reply.httpResponse))
            case .waiter(let slot): slot.fill(reply)
            }
        }
        HTTPResponder.respond(http)
    }
}

extension IngestReply {
    private static let ok = HTTPServerResponse.text("OK\n", status: 200)

    /// The reply as a network sees it; a `503` says when to try again.
    public var httpResponse: HTTPServerResponse {
        if status == 200 && text == "OK" { return Self.ok } // the usual answer, built once
        var response = HTTPServerResponse.text(text + "\n", status: status)
        if status == 503 { response.headers.append(HTTPHeader("Retry-After", "1")) }
        return response
    }
}

/// Applies stored postbacks that had no lead (or an unknown word) once their lead exists or
/// the spec learned the word: `leadbridge postbacks-replay`, each sync pass, the serve loop.
public struct PostbackReplay: Sendable {
    let ledger: Ledger
    let processor: PostbackProcessor

    public init(ledger: Ledger, library: SpecLibrary) {
        self.ledger = ledger
        self.processor = PostbackProcessor(store: ledger.store, library: library)
    }

    /// Returns (applied, still waiting, changes).
    /// The waiting postbacks are read inside the transaction that applies them: two replays at
    /// once (serve's loop and a sync pass, two serves) would otherwise both apply what both read
    /// before either committed — the later one again, after newer statuses (a chargeback
    /// undone by the approval it followed).
    public func run(network: String? = nil, includeUnknownWords: Bool = false) throws(StoreError) -> (applied: Int, waiting: Int, changes: [StatusChange]) {
        let (applied, waiting, updates) = try ledger.store.write { (w: any LedgerWriter) throws(StoreError) -> (Int, Int, [LedgerUpdate]) in
            var rows = try w.postbacks(PostbackQuery(results: PostbackResult.waiting, network: network, limit: 10_000))
            if includeUnknownWords { rows += try w.postbacks(PostbackQuery(results: [.unknownStatus], limit: 10_000)) }
            let items = rows.map { row in
                var raw = row.raw
                raw.result = .received
                return (id: row.id, prepared: processor.prepare(raw))
            }
            let (decisions, leads) = try processor.decideAll(items, in: w)
            var results: [RawPostbackResult] = []
            var reports: [(rowId: Int64, report: StatusReport)] = []
            for (row, d) in zip(rows, decisions) {
                if d.result.result == .unmatched && row.result == .unmatched { continue }
                results.append(d.result)
                if let r = d.report { reports.append(r) }
            }
            let updates = try ledger.reportUpdates(in: w, reports, postbackResults: results, locked: leads)
            let applied = results.filter { $0.result == .applied }.count
            return (applied, rows.count - applied, updates)
        }
        return (applied, waiting, updates.compactMap(\.change))
    }
}
