/// One network, decoded from `Networks/<id>.json` after `extends` is merged and every rule
/// checked. The engine only ever sees this typed form, never raw dictionaries.
public struct NetworkSpec: Sendable {
    public enum Kind: String, Sendable, CaseIterable { case network, source, crm }

    public var id: String
    public var name: String
    public var title: String
    /// One short line on how the API works (`networks`, the demo).
    public var summary: Localized? = nil
    public var aliases: [String]
    public var kind: Kind
    public var notes: [Localized]
    public var credentials: [CredentialSpec]
    public var params: [ParamSpec]
    public var postbacks: PostbackSpec?
    public var statuses: StatusTable
    /// The network's own names of its status words (`3:1` is "Закрыт: Спам"), shown beside them.
    public var statusNames: [String: Localized] = [:]
    public var statusDefaults: Bool
    public var reasons: [String: ReasonSpec]
    public var chargebacks: Bool
    /// The network refuses a repeated order id (answers it `duplicate`): a send that may have
    /// arrived can be repeated safely. Without it, such a lead is left `uncertain`.
    public var dedupe: Dedupe? = nil
    public var send: SendSpec?
    public var poll: PollSpec?
    public var outgoing: [OutgoingSpec]
    /// A traffic source's field names, required fields and id formats for its leads.
    public var intake: SourceIntakeSpec? = nil
    public var exampleAccount: AccountValues?
    public var examples: [SendExample]
    public var pollExamples: [PollExample]
    /// Outgoing postbacks a source must receive for given leads and statuses (`test`).
    public var outgoingExamples: [OutgoingExample] = []
    /// Evidence for the spec's facts (`sources`), in the order written.
    public var sources: [SourceSpec] = []
    /// The white-label platform the network runs on (inherited from a platform base).
    public var platform: PlatformInfo?
    /// The columns and words of the network's downloadable lead report (`import`).
    public var report: ReportSpec?
    /// The file the spec was read from (as given to the loader), for messages.
    public var file: String
    public var sourceMap: SourceMap

    /// Keys of credentials marked secret: their values are redacted everywhere.
    public var secretCredentialKeys: [String] { credentials.filter(\.secret).map(\.key) }

    /// True when the network reports statuses by calling us back.
    public var hasPostbacks: Bool { !(postbacks?.items.filter { $0.tail != nil }.isEmpty ?? true) || postbacks?.form != nil }
}

/// A white-label platform (AlterCPA, TrafficManager) whose base in `Templates/` a network
/// extends with its own host.
public struct PlatformInfo: Sendable, Hashable {
    public var id: String
    public var name: String
    /// The platform's public API documentation.
    public var docs: String?
}

/// An account setting the network requires ("Настройки для утилиты интеграции").
public struct CredentialSpec: Sendable, Hashable {
    public var key: String
    public var label: Localized
    public var hint: Localized?
    public var secret: Bool
    public var required: Bool
}

/// A used parameter ("Используемые параметры"): per lead or an account default.
public struct ParamSpec: Sendable, Hashable {
    public var key: String
    public var description: Localized
    public var required: Bool
    public var pattern: SpecPattern?
}

/// What a manager pastes into the network's cabinet.
public struct PostbackSpec: Sendable, Hashable {
    public var intro: Localized?
    public var items: [PostbackItem]
    public var form: PostbackForm?
    public var instructions: PostbackInstructions?
    /// Network macro as written in tails (`{sub1}`) → what the network substitutes.
    public var macros: [(macro: String, meaning: MacroMeaning)]

    public static func == (a: PostbackSpec, b: PostbackSpec) -> Bool {
        a.intro == b.intro && a.items == b.items && a.form == b.form && a.instructions == b.instructions
            && a.macros.map(\.macro) == b.macros.map(\.macro) && a.macros.map(\.meaning) == b.macros.map(\.meaning)
    }
    public func hash(into h: inout Hasher) { h.combine(items) }

    public func meaning(of macro: String) -> MacroMeaning? { macros.first { $0.macro == macro }?.meaning }
}

/// What a network puts into one of its postback macros.
public enum MacroMeaning: String, Sendable, Hashable, CaseIterable {
    case orderId = "order_id", externalId = "external_id", status, payout, currency, comment, reason, offer, other
}

/// One postback line: a label and its tail, or a "leave empty" note.
public struct PostbackItem: Sendable, Hashable {
    public var label: Localized
    public var tail: String?
    public var note: Localized?
}

/// AffbayAsia-style postbacks entered field by field instead of as a URL.
public struct PostbackForm: Sendable, Hashable {
    public struct Field: Sendable, Hashable { public var label: Localized; public var value: Localized }
    public struct Extra: Sendable, Hashable {
        public enum Kind: String, Sendable, Hashable, CaseIterable { case `static`, parameter }
        public var key: String
        public var kind: Kind
        public var value: Localized
    }
    public var intro: Localized
    public var fields: [Field]
    public var extraIntro: Localized?
    public var extra: [Extra]
    /// The path the network calls on our domain (`/api/sale/status.json`): `serve` answers it
    /// as this network's postback.
    public var path: String?
    /// The parameter that carries our receiver token (AffbayAsia's `id`).
    public var tokenParam: String?
}

/// Extra steps in the cabinet (LimonAD's status names).
public struct PostbackInstructions: Sendable, Hashable {
    public var intro: Localized
    public var items: [Localized]
}

/// A reason code's meaning (`7` = duplicate → trash).
public struct ReasonSpec: Sendable, Hashable {
    public var bucket: StatusBucket?
    public var detail: String?
    public var label: Localized?
}

/// Credentials and parameter defaults of one account (config or an example).
public struct AccountValues: Sendable, Hashable {
    public var name: String
    public var credentials: [String: String]
    public var params: [String: String]
    public init(name: String, credentials: [String: String], params: [String: String]) {
        self.name = name
        self.credentials = credentials
        self.params = params
    }
}

/// Traffic-source postbacks we send (LeadCraft), one per kind of traffic.
public struct OutgoingSpec: Sendable {
    public var id: String
    public var label: Localized?
    /// What this postback needs, as placeholder names. Lead fields (LeadCraft's `lead.click_id`
    /// or `lead.source_id`) say which leads get it: a lead without them does not. Settings
    /// (`credentials.action`) must be configured: a postback that lacks one is kept as failed,
    /// naming it, never dropped.
    public var requires: [String]
    public var request: RequestSpec
    /// Our bucket → the word the source expects; a missing bucket sends nothing.
    public var statuses: [Bucket: String]
}

/// What a network refuses to take twice (`"dedupe"` in a spec).
public enum Dedupe: String, Sendable, Hashable, CaseIterable {
    /// A second lead with an order id it already has (our `lead.id`).
    case orderId = "order_id"
}
