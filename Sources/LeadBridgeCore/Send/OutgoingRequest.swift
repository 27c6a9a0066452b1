/// One postback we owe a traffic source, built from the source's spec: which leads it is
/// for, which settings it needs, and its request. Pure: the engine queues and delivers it,
/// `test` checks a spec's outgoing examples with it.
public enum OutgoingRequest {
    /// What an outgoing postback is made of besides the spec.
    public struct Values: Sendable {
        public var lead: Lead
        /// The source's settings (credentials, params, name) from `sources` in `leadbridge.json`.
        public var source: AccountValues
        /// The source's word for the status (`approved`).
        public var word: String
        /// When the status changed (`{changed}`).
        public var changed: Int64
        /// What the source is owed (`{price}`): see `SourcePrice.price(for:…)`.
        public var price: String?
        public var payout: String?
        public var currency: String?
        public var comment: String?

        public init(lead: Lead, source: AccountValues, word: String, changed: Int64, price: String?, payout: String? = nil, currency: String? = nil,
                    comment: String? = nil) {
            self.lead = lead
            self.source = source
            self.word = word
            self.changed = changed
            self.price = price
            self.payout = payout
            self.currency = currency
            self.comment = comment
        }
    }

    /// Whether the postback is for this lead: it has every lead field the postback requires
    /// (LeadCraft's referral postback is for leads with a click id).
    public static func applies(_ out: OutgoingSpec, to lead: Lead) -> Bool {
        let values = lead.templateValues()
        return out.requires.filter { $0.hasPrefix("lead.") }.allSatisfy { has(values[$0]) }
    }

    /// The settings the postback requires that the source lacks (`credentials.action`, named
    /// as in the spec): such a postback is kept as failed with this reason, never dropped.
    public static func missingSettings(_ out: OutgoingSpec, source: AccountValues) -> [String] {
        let ctx = context(Values(lead: Lead(id: "", phone: ""), source: source, word: "", changed: 0, price: nil))
        return out.requires.filter { !$0.hasPrefix("lead.") && !has(ctx.values[$0]) }
    }

    /// What is wrong with a lead that names this source (`send --source`, a lead file's
    /// `source`): its ids in the wrong format, or none of what the source's postbacks need —
    /// the source would hear nothing of it.
    public static func leadProblems(_ lead: Lead, source spec: NetworkSpec) -> [LeadError] {
        var errors = spec.intake?.formatErrors(lead) ?? []
        if !spec.outgoing.isEmpty && !spec.outgoing.contains(where: { applies($0, to: lead) }) {
            let needs = spec.outgoing.map { o in
                (o.label?.text(.en) ?? o.id) + ": " + o.requires.filter { $0.hasPrefix("lead.") }.map { String($0.dropFirst(5)) }.joined(separator: " and ")
            }
            errors.append(LeadError(field: "source", .sourceHearsNothing(source: spec.id, name: spec.name, needs: needs)))
        }
        return errors
    }

    /// The request (the source's secrets in it: only the queue's copy is redacted).
    public static func build(_ out: OutgoingSpec, _ v: Values) throws(RequestBuildError) -> HTTPRequestValue {
        try RequestBuilder.build(out.request, sign: nil, context: context(v)).request
    }

    static func context(_ v: Values) -> TemplateContext {
        var ctx = TemplateContext.request(account: v.source, lead: v.lead, now: v.changed)
        ctx["changed"] = .time(v.changed)
        ctx["status"] = .text(v.word)
        if let p = v.price { ctx["price"] = .text(p) }
        if let p = v.payout { ctx["payout"] = .text(p) }
        if let c = v.currency { ctx["currency"] = .text(c) }
        if let c = v.comment { ctx["comment"] = .text(c) }
        return ctx
    }

    static func has(_ value: ContextValue?) -> Bool {
        switch value {
        case .text(let t)?: return !t.isEmpty
        case .list(let l)?: return !l.isEmpty
        case .time?: return true
        case nil: return false
        }
    }

    /// The bucket a source's word stands for in this postback (the first bucket mapped to it;
    /// `cancelled` and `trash` may share one word).
    public static func bucket(of word: String, in out: OutgoingSpec) -> Bucket? {
        Bucket.allCases.first { out.statuses[$0] == word }
    }
}
