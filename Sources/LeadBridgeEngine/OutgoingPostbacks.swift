import FoundationEssentials
import Glibc
import LeadBridgeCore
import LeadBridgeNet
import LeadBridgeStore

/// Postbacks we owe traffic sources (LeadCraft): built from the source's spec on every status
/// change of a lead that came from it, queued durably, and delivered with retries.
public struct OutgoingPostbacks: Sendable {
    let store: any LeadStore
    let library: SpecLibrary
    let config: LeadBridgeConfig
    /// Seconds to wait before attempts 2, 3, …; its length + 1 is the number of attempts.
    /// Default: 6 attempts over about a day.
    public let delays: [Int64]

    public static let defaultDelays: [Int64] = SyncConfig.defaults.outgoingDelays

    public init(store: any LeadStore, library: SpecLibrary, config: LeadBridgeConfig, delays: [Int64] = OutgoingPostbacks.defaultDelays) {
        self.store = store
        self.library = library
        self.config = config
        self.delays = delays
    }

    /// The request of one outgoing postback, built from the source's spec and settings. Rebuilt
    /// at delivery time, so the source's token is never stored (the queue keeps a redacted URL
    /// to show).
    func build(lead: LeadRecord, source: AccountConfig, out: OutgoingSpec, word: String, changed: Int64) -> HTTPRequestValue? {
        let bucket = OutgoingRequest.bucket(of: word, in: out)
        let price = SourcePrice.price(for: bucket, configured: source.price, offer: lead.lead.params["offer"], payout: lead.payout, currency: lead.currency)
        let values = OutgoingRequest.Values(lead: lead.lead, source: source.values, word: word, changed: changed, price: price, payout: lead.payout,
                                            currency: lead.currency, comment: lead.comment)
        return try? OutgoingRequest.build(out, values)
    }

    /// Why a queued postback cannot go out as configured (a setting it requires is missing).
    func settingsProblem(source name: String, _ source: AccountConfig, out: OutgoingSpec) -> SendFailure? {
        let missing = OutgoingRequest.missingSettings(out, source: source.values)
        guard !missing.isEmpty else { return nil }
        return .sourceLacks(source: name, missing: missing, kind: out.id)
    }

    /// A failure as the answers column keeps it (see `OutgoingAnswers`).
    static func stored(_ failure: SendFailure) -> String { failure.stored(maxLength: 200) ?? failure.english }

    func redactor(_ sourceName: String) -> Redactor {
        guard let source = config.sources[sourceName], let spec = library.spec(source.network) else { return Redactor(secrets: []) }
        return Redactor(secrets: spec.secretCredentialKeys.compactMap { source.credentials[$0] })
    }

    /// The postbacks a lead's traffic source is owed for a bucket (queued by the ledger in the
    /// transaction that decides it). One whose settings are missing is queued all the same: its
    /// delivery fails naming them (never dropped), and a replay sends it once they are set.
    public func items(for lead: LeadRecord, to bucket: Bucket, now: Int64) -> [OutgoingPostback] {
        // Queued even while the source waits for an unset variable: delivered once it is set.
        guard let sourceName = lead.source, let source = config.anySource(sourceName), let spec = library.spec(source.network) else { return [] }
        var items: [OutgoingPostback] = []
        let l = lead.lead
        for out in spec.outgoing where OutgoingRequest.applies(out, to: l) {
            guard let word = out.statuses[bucket] else { continue }  // no counterpart: nothing is sent
            guard let request = build(lead: lead, source: source, out: out, word: word, changed: now) else { continue }
            items.append(OutgoingPostback(leadRowId: lead.rowId, source: sourceName, kind: out.id, status: word, method: request.method,
                                          url: redactor(sourceName).redact(request.url), nextAttemptAt: now))
        }
        return items
    }

    /// The source's answers to the attempts so far, newest last, as many as fit the stored
    /// 500 characters (`lead ID` and `outgoing` show them): `#1 … HTTP 503: … | #2 … HTTP 502: …`.
    public static func answers(_ previous: String?, adding answer: String, limit: Int = 480) -> String {
        var parts = (previous ?? "").components(separatedBy: " | ").filter { !$0.isEmpty }
        parts.append(String(answer.prefix(limit)))
        while parts.count > 1 && parts.joined(separator: " | ").count > limit { parts.removeFirst() }
        return parts.joined(separator: " | ")
    }

    /// Delivers what is due: 2xx is delivered; anything else is retried per `delays`, then
    /// failed (kept with its error). Returns (delivered, retried, failed).
    public func deliverDue(transport: any HTTPTransport, now: Int64, limit: Int = 1000) async throws(StoreError) -> (delivered: Int, retried: Int, failed: Int) {
        var delivered = 0, retried = 0, failed = 0
        func record(_ d: OutgoingDelivery) throws(StoreError) {
            try store.write { (w: any LedgerWriter) throws(StoreError) in try w.saveOutgoing(d) }
        }
        // Taken for a minute: another serve or sync (on any host) never delivers the same one.
        let taken = try store.write { (w: any LedgerWriter) throws(StoreError) in try w.takeOutgoing(dueBy: now, limit: limit, until: now + 60) }
        for p in taken where config.unavailableSources[p.source] == nil {
            var problem: SendFailure?
            guard let lead = try store.record(rowId: p.leadRowId), let source = config.sources[p.source], let spec = library.spec(source.network),
                  let out = spec.outgoing.first(where: { $0.id == p.kind }),
                  let request = build(lead: lead, source: source, out: out, word: p.status, changed: p.createdAt) else {
                try record(OutgoingDelivery(id: p.id, state: .failed, nextAttemptAt: nil, error: Self.stored(.sourceNotConfigured(source: p.source, kind: p.kind)),
                                                at: now))
                failed += 1
                continue
            }
            if let missing = settingsProblem(source: p.source, source, out: out) {
                try record(OutgoingDelivery(id: p.id, state: .failed, nextAttemptAt: nil, error: Self.stored(missing), at: now))
                failed += 1
                continue
            }
            do {
                let r = try await transport.send(request, timeout: 15)
                // Scrubbed before the excerpt: a source repeating our request echoes its token.
                if !(200...299).contains(r.status) {
                    problem = .httpStatus(r.status, excerpt: ResponseBody.excerpt(redactor(p.source).redact(r).body, limit: 120))
                }
            } catch {
                problem = SendFailure.transport(error.kind, error.problem).mapTexts(redactor(p.source).redact)
            }
            if let problem {
                let answers = Self.answers(p.lastError, adding: "#\(p.attempts + 1) \(ISODate.format(now)) \(Self.stored(problem))")
                if p.attempts < delays.count {
                    try record(OutgoingDelivery(id: p.id, state: .due, nextAttemptAt: now + delays[p.attempts], error: answers, at: now))
                    retried += 1
                } else {
                    try record(OutgoingDelivery(id: p.id, state: .failed, nextAttemptAt: nil, error: answers, at: now))
                    failed += 1
                }
            } else {
                try record(OutgoingDelivery(id: p.id, state: .delivered, nextAttemptAt: nil, error: nil, at: now))
                delivered += 1
            }
        }
        return (delivered, retried, failed)
    }
}
