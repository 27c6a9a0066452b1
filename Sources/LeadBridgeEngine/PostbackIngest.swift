import Foundation
import LeadBridgeCore
import LeadBridgeStore
import Synchronization

/// The answer to a network that called us back.
public struct IngestReply: Sendable, Hashable {
    public var status: Int
    public var text: String
    public init(status: Int, text: String) { self.status = status; self.text = text }
}

/// Turns one stored postback into a result, a status report and a reply. Runs on the
/// ingest's writer thread, so its store reads see every earlier postback.
public struct PostbackProcessor: Sendable {
    let store: any LeadStore
    let library: SpecLibrary

    public init(store: any LeadStore, library: SpecLibrary) {
        self.store = store
        self.library = library
    }

    public struct Decision: Sendable {
        public var result: RawPostbackResult
        public var report: (report: StatusReport, chargebacks: Bool)?
        public var reply: IngestReply
    }

    /// Decoded parameters of a postback: the query, then a form or JSON body.
    public static func parameters(query: String, body: [UInt8]) throws(PostbackError) -> [(String, String)] {
        var pairs = try QueryString.parse(query)
        guard !body.isEmpty else { return pairs }
        let first = body.first { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }
        if first == UInt8(ascii: "{") {
            guard case .object(let o)? = try? JSONParser.parse(body) else {
                throw PostbackError(.malformed, field: "body", "the JSON body is not a valid JSON object")
            }
            for m in o.members {
                switch m.value {
                case .string(let s):
                    // The same rule as query values: no control characters.
                    if s.unicodeScalars.contains(where: { ($0.value < 0x20 && $0 != "\t") || $0.value == 0x7F }) {
                        throw PostbackError(.malformed, field: m.key, "contains control characters")
                    }
                    pairs.append((m.key, s))
                case .number(let n): pairs.append((m.key, n))
                case .bool(let b): pairs.append((m.key, b ? "1" : "0"))
                default: continue
                }
            }
        } else {
            guard let text = String(validating: body, as: UTF8.self) else {
                throw PostbackError(.malformed, field: "body", "the body is not valid UTF-8")
            }
            pairs += try QueryString.parse(text)
        }
        return pairs
    }

    /// A postback after parsing, before it is stored (no id yet) and its lead looked up.
    /// Computed on the connection thread, so the writer thread only touches the store.
    public enum Prepared: Sendable {
        case decided(Decision)
        case normalized(spec: NetworkSpec, postback: NormalizedPostback)
    }

    public func prepare(_ raw: RawPostback) -> Prepared {
        func done(_ result: String, _ status: Int, _ text: String, oid: String? = nil, eid: String? = nil) -> Prepared {
            .decided(Decision(result: RawPostbackResult(id: 0, result: result, orderId: oid, externalId: eid, note: text), report: nil,
                              reply: IngestReply(status: status, text: text)))
        }
        if raw.result != "received" { return done(raw.result, raw.result == "forbidden" ? 403 : 404, raw.result) }
        guard let spec = library.spec(raw.network) else { return done("unknown-network", 404, "unknown network \(raw.network)") }
        do throws(PostbackError) {
            let pairs = try Self.parameters(query: raw.query, body: raw.body)
            return .normalized(spec: spec, postback: try PostbackNormalizer.normalize(pairs, spec: spec, defaults: library.defaults))
        } catch {
            if error.kind == .unknownStatus, let p = error.partial {
                // Kept for reconciliation (a spec update and `postbacks-replay` apply it later).
                return done("unknown-status", 200, "ignored: unknown status word \"\(p.rawStatus.prefix(60))\"", oid: p.orderId, eid: p.externalId)
            }
            return done("invalid", 400, "invalid postback: \(error)")
        }
    }

    /// Decides a batch of stored postbacks: find every lead in one read, then apply the rules.
    public func decideAll(_ items: [(id: Int64, prepared: Prepared)]) -> [Decision] {
        let keys: [LeadQueryKey] = items.compactMap {
            if case .normalized(let spec, let p) = $0.prepared { return LeadQueryKey(network: spec.id, orderId: p.orderId, externalId: p.externalId) }
            return nil
        }
        var found: [LeadLocation?] = []
        var failure: String?
        do { found = try store.locateMany(keys) } catch { failure = error.message }
        var index = 0
        return items.map { item -> Decision in
            switch item.prepared {
            case .decided(var d):
                d.result.id = item.id
                return d
            case .normalized(let spec, let n):
                if let failure {
                    return Decision(result: RawPostbackResult(id: item.id, result: "received", orderId: n.orderId, externalId: n.externalId),
                                    report: nil, reply: IngestReply(status: 503, text: "store unavailable: \(failure)"))
                }
                let lead = found[index]
                index += 1
                return decide(id: item.id, spec: spec, normalized: n, lead: lead)
            }
        }
    }

    /// Parses and decides stored postbacks (replays).
    public func decideAll(raws: [(id: Int64, raw: RawPostback)]) -> [Decision] {
        decideAll(raws.map { ($0.id, prepare($0.raw)) })
    }

    func decide(id: Int64, spec: NetworkSpec, normalized: NormalizedPostback, lead: LeadLocation?) -> Decision {
        let oid = normalized.orderId, eid = normalized.externalId
        func done(_ result: String, _ status: Int, _ text: String) -> Decision {
            Decision(result: RawPostbackResult(id: id, result: result, orderId: oid, externalId: eid, note: text), report: nil,
                     reply: IngestReply(status: status, text: text))
        }
        guard let lead, let status = normalized.status else {
            if let oid, let other = try? store.leads(orderId: oid).first {
                return done("other-network", 200, "ignored: lead \(oid) was sent to \(other.network), not \(spec.id)")
            }
            return done("unmatched", 404, "no lead matches (kept: it is applied when the lead arrives)")
        }
        let report = StatusReport(rowId: lead.rowId, status: LeadStatus(bucket: status, raw: normalized.rawStatus, detail: normalized.detail),
                                  payout: normalized.payout, currency: normalized.currency, comment: normalized.comment, reason: normalized.reason,
                                  externalId: eid)
        return Decision(result: RawPostbackResult(id: id, result: "applied", leadRowId: lead.rowId, orderId: oid, externalId: eid, note: status.rawValue),
                        report: (report, spec.chargebacks), reply: IngestReply(status: 200, text: "OK"))
    }

    /// One postback on its own.
    public func decide(id: Int64, raw: RawPostback) -> Decision { decideAll(raws: [(id, raw)])[0] }
}

/// Stores every incoming postback before processing it, with group commit: a writer thread
/// takes whatever requests are waiting, writes them in one transaction, processes them and
/// applies their statuses in a second one, then answers each. Connection threads block in
/// `ingest` until their postback is durable and processed.
public final class PostbackIngest: Sendable {
    final class Job: Sendable {
        let raw: RawPostback
        let prepared: PostbackProcessor.Prepared
        let done = DispatchSemaphore(value: 0)
        let reply = Mutex<IngestReply>(IngestReply(status: 503, text: "not processed"))
        init(_ raw: RawPostback, _ prepared: PostbackProcessor.Prepared) { self.raw = raw; self.prepared = prepared }
    }

    struct State {
        var queue: [Job] = []
        var stopping = false
        var stopped = false
    }

    let store: any LeadStore
    let processor: PostbackProcessor
    let onChanges: @Sendable ([StatusChange]) -> Void
    let maxBatch: Int
    let state = Mutex(State())
    let wake = DispatchSemaphore(value: 0)
    let finished = DispatchSemaphore(value: 0)
    let clock: @Sendable () -> Int64

    public init(store: any LeadStore, library: SpecLibrary, maxBatch: Int = 512,
                clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) },
                onChanges: @escaping @Sendable ([StatusChange]) -> Void = { _ in }) {
        self.store = store
        self.processor = PostbackProcessor(store: store, library: library)
        self.maxBatch = maxBatch
        self.onChanges = onChanges
        self.clock = clock
        let thread = Thread { [self] in self.writerLoop() }
        thread.name = "postback-writer"
        thread.start()
    }

    /// Stores and processes one postback; blocks until both are committed.
    public func ingest(_ raw: RawPostback) -> IngestReply {
        let job = Job(raw, processor.prepare(raw))
        let accepted = state.withLock { s -> Bool in
            guard !s.stopping else { return false }
            s.queue.append(job)
            return true
        }
        guard accepted else { return IngestReply(status: 503, text: "shutting down") }
        wake.signal()
        job.done.wait()
        return job.reply.withLock { $0 }
    }

    /// Finishes what is queued, then stops the writer (graceful shutdown).
    public func shutdown() {
        let already = state.withLock { s -> Bool in
            let was = s.stopping
            s.stopping = true
            return was
        }
        if already { return }
        wake.signal()
        finished.wait()
    }

    func writerLoop() {
        while true {
            wake.wait()
            while true {
                let (batch, stop) = state.withLock { s -> ([Job], Bool) in
                    let n = min(maxBatch, s.queue.count)
                    let b = Array(s.queue.prefix(n))
                    s.queue.removeFirst(n)
                    return (b, s.stopping && s.queue.isEmpty)
                }
                if !batch.isEmpty { process(batch) }
                if batch.isEmpty || stop {
                    if stop || (batch.isEmpty && state.withLock({ $0.stopping && $0.queue.isEmpty })) {
                        finished.signal()
                        return
                    }
                    break
                }
            }
        }
    }

    func process(_ batch: [Job]) {
        let ids: [Int64]
        do {
            ids = try store.logRawPostbacks(batch.map(\.raw))
        } catch {
            for j in batch { answer(j, IngestReply(status: 503, text: "not stored: \(error.message)")) }
            return
        }
        var results: [RawPostbackResult] = []
        var reports: [(report: StatusReport, chargebacks: Bool)] = []
        var replies: [IngestReply] = []
        for d in processor.decideAll(Array(zip(ids, batch.map(\.prepared)))) {
            results.append(d.result)
            if let r = d.report { reports.append(r) }
            replies.append(d.reply)
        }
        do {
            let changes = try store.finishPostbacks(results, reports: reports, now: clock())
            if !changes.isEmpty { onChanges(changes) }
            for (job, reply) in zip(batch, replies) { answer(job, reply) }
        } catch {
            // Stored but not processed: `postbacks-replay` (and the serve loop) will apply them.
            for j in batch { answer(j, IngestReply(status: 503, text: "stored, not processed: \(error.message)")) }
        }
    }

    func answer(_ job: Job, _ reply: IngestReply) {
        job.reply.withLock { $0 = reply }
        job.done.signal()
    }
}

/// Applies stored postbacks that had no lead (or an unknown word) once their lead exists or
/// the spec learned the word: `leadbridge postbacks-replay`, each sync pass, the serve loop.
public struct PostbackReplay: Sendable {
    let store: any LeadStore
    let processor: PostbackProcessor

    public init(store: any LeadStore, library: SpecLibrary) {
        self.store = store
        self.processor = PostbackProcessor(store: store, library: library)
    }

    /// Returns (applied, still waiting, changes).
    public func run(network: String? = nil, now: Int64, includeUnknownWords: Bool = false) throws(StoreError) -> (applied: Int, waiting: Int, changes: [StatusChange]) {
        var rows = try store.unmatchedPostbacks(network: network, orderId: nil, externalId: nil, limit: 10_000)
        if includeUnknownWords { rows += try store.unknownStatusPostbacks(limit: 10_000) }
        var results: [RawPostbackResult] = []
        var reports: [(report: StatusReport, chargebacks: Bool)] = []
        let decisions = processor.decideAll(raws: rows.map { row in
            var raw = row.raw
            raw.result = "received"
            return (row.id, raw)
        })
        for (row, d) in zip(rows, decisions) {
            if d.result.result == "unmatched" && row.result == "unmatched" { continue }
            results.append(d.result)
            if let r = d.report { reports.append(r) }
        }
        let changes = try store.finishPostbacks(results, reports: reports, now: now)
        let applied = results.filter { $0.result == "applied" }.count
        return (applied, rows.count - applied, changes)
    }
}
