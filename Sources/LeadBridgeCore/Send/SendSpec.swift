/// How a network takes a lead: optional earlier steps, the request, its signature and the
/// rules that classify the answer.
public struct SendSpec: Sendable {
    /// Placeholders (`lead.phone`, `params.drcash`) that must have a value before sending, as
    /// written; see `leadRequirements` for what a lead is checked against.
    public var requires: [String]
    public var timeout: Double?
    public var concurrency: Int?
    public var ratePerSecond: Double?
    public var steps: [SendStep]
    public var request: RequestSpec
    public var sign: SignSpec?
    public var response: ResponseFormat
    public var outcomes: [OutcomeRule]
}

extension SendSpec {
    /// What a lead must carry for this network: the spec's `requires` when it has one (it is
    /// then complete: an email-only network writes `["lead.email"]`), else a phone — what
    /// nearly every network takes.
    public var leadRequirements: [String] { requires.isEmpty ? ["lead.phone"] : requires }
}

/// An earlier request whose extracted values feed the next (LeadRock's `track_id`).
public struct SendStep: Sendable {
    public var id: String
    public var request: RequestSpec
    public var sign: SignSpec?
    public var response: ResponseFormat
    public var extract: [(name: String, rule: ExtractRule)]
    public var outcomes: [OutcomeRule]
}

/// Where a step's value comes from in its response.
public struct ExtractRule: Sendable, Hashable {
    public enum Source: Sendable, Hashable {
        case body
        case json(String)
        case header(String)
    }
    public var source: Source
    public var trim: Bool
}

/// How a response body is read.
public enum ResponseFormat: String, Sendable, CaseIterable {
    /// Strict JSON.
    case json
    /// JSON after skipping junk before the first `{` or `[` (PHP warnings, BOMs).
    case jsonLenient = "json-lenient"
    /// Plain text: only `body` and `http` conditions apply.
    case text
}

/// One HTTP request of a spec, with values placed structurally.
public struct RequestSpec: Sendable {
    public var method: String
    public var url: Template
    public var query: [FieldSpec]
    public var queryEncoding: FormEncoding
    public var headers: [(name: String, value: Template)]
    public var auth: AuthSpec?
    public var body: BodySpec?
}

/// A named field whose value is a template or a nested group (`other[address]`).
public struct FieldSpec: Sendable {
    public indirect enum Value: Sendable {
        case template(Template)
        case group([FieldSpec])
    }
    public var key: String
    public var value: Value
}

/// The body kinds networks use.
public enum BodySpec: Sendable {
    case form([FieldSpec], FormEncoding)
    case json(JSONTemplate, JSONEscaping)
    case multipart([FieldSpec])
    case text(Template, contentType: String)
}

/// How form and query values are percent-encoded.
public enum FormEncoding: String, Sendable, CaseIterable {
    /// PHP `http_build_query` (RFC 1738): space → `+`, everything but `A-Za-z0-9-_.` encoded.
    case php
    /// RFC 3986: space → `%20`, `~` kept.
    case rfc3986
}

/// A JSON body shape whose strings are templates.
public indirect enum JSONTemplate: Sendable {
    case template(Template)
    case literal(JSONValue)
    case object([(key: String, value: JSONTemplate)])
    case array([JSONTemplate])
}

/// Credentials placed the way the network expects.
public enum AuthSpec: Sendable {
    case bearer(Template)
    case basic(user: Template, password: Template)
    case header(name: String, value: Template)
    case query(name: String, value: Template)
    case form(name: String, value: Template)
}

/// A declarative signature over the encoded request.
public struct SignSpec: Sendable {
    public enum Algorithm: String, Sendable, CaseIterable {
        case md5, sha1, sha256, sha512
        case hmacSHA1 = "hmac-sha1", hmacSHA256 = "hmac-sha256", hmacSHA512 = "hmac-sha512"
    }
    public enum Target: Sendable, Hashable {
        case query(String), form(String), header(String), json(String)
    }
    public var algorithm: Algorithm
    public var key: Template?
    public var input: Template
    public var encoding: String
    public var into: Target
}

/// The ways a send can end.
public enum OutcomeKind: String, Sendable, Hashable, CaseIterable {
    case accepted, duplicate, rejected, failed
    /// The account is wrong (a wrong key, an unknown user, a method the account cannot use):
    /// nothing is wrong with the lead, which waits in the queue, uncounted, while the
    /// network's pass stops and reports the account (SalesMan's errors 400, 401, 402).
    case accountError = "account-error"
}

/// One ordered rule: all conditions hold → this outcome.
public struct OutcomeRule: Sendable {
    public var conditions: [OutcomeCondition]
    public var result: OutcomeKind
    public var externalId: String?
    /// JSON path of the network's message.
    public var message: String?
    /// A fixed message when the network gives none (SalesMan's `400 – wrong API key`).
    public var text: String?
}

/// A test on a response.
public enum OutcomeCondition: Sendable {
    case http([HTTPStatusPattern])
    case json(path: String, test: JSONTest)
    case bodyContains(String)
    case bodyMatches(SpecPattern)
}

/// `200`, `"2xx"`.
public enum HTTPStatusPattern: Sendable, Hashable {
    case exact(Int)
    case range(Int)  // 2 for "2xx"

    public func matches(_ status: Int) -> Bool {
        switch self {
        case .exact(let s): return s == status
        case .range(let r): return status / 100 == r
        }
    }
}

/// A test on a JSON path.
public enum JSONTest: Sendable {
    case equals(JSONValue)
    case notEquals(JSONValue)
    case oneOf([JSONValue])
    case matches(SpecPattern)
    case exists(Bool)
}

/// How statuses are asked of a network.
public struct PollSpec: Sendable {
    public enum IdKind: String, Sendable, CaseIterable { case external, order }
    public var request: RequestSpec
    public var sign: SignSpec?
    public var by: IdKind
    public var batch: Int
    public var pagination: Pagination?
    /// Ask by time window instead of by ids: `{since}`/`{until}` per window, filtered locally.
    public var window: PollWindow?
    public var response: ResponseFormat
    public var items: String
    public var id: String
    /// Further paths to the id, tried in order when an item lacks `id` (networks whose answer
    /// names the field differently across versions, M1 Shop's `m1_id` / `id`).
    public var idFallbacks: [String] = []
    public var match: IdKind
    public var status: [String]
    public var payout: String?
    public var currency: String?
    public var comment: String?
    public var outcomes: [OutcomeRule]
    /// A request for one lead by the network's id (`{id}`), asked instead of paging the list
    /// when a pass has at most `upTo` leads to ask and knows their ids (SalesMan's `info`).
    public var lookup: PollLookup? = nil
    /// Where an item carries our order id in its text, for leads whose network id never came
    /// back (an `uncertain` lead: the answer to its request was lost).
    public var orderIdIn: OrderIdInText? = nil
}

/// One lead by its id (SalesMan's `action=info&id=…`): the answer's `items` is that lead.
public struct PollLookup: Sendable {
    public var request: RequestSpec
    /// At most this many leads to ask are asked one by one (default 1: a single lead).
    public var upTo: Int
    /// Path to the lead in the answer (default: the poll's `items`).
    public var items: String?
}

/// Our order id inside a text field of a listed item (`content` = `A-1001: comment`, which the
/// send request wrote into the lead's description): the first capture group of `pattern`.
public struct OrderIdInText: @unchecked Sendable {
    // @unchecked: `Regex<AnyRegexOutput>` is not Sendable only because its match output type is
    // not; the compiled program is immutable, and this type hands out only the captured text
    // as a String, never a match.
    public let path: String
    public let pattern: String
    private let regex: Regex<AnyRegexOutput>

    /// Nil when `pattern` is not a regular expression (the reader reports it).
    public init?(path: String, pattern: String) {
        guard let regex = try? Regex(pattern) else { return nil }
        self.path = path
        self.pattern = pattern
        self.regex = regex
    }

    /// The order id `text` carries: the first capture group of the first match.
    public func orderId(in text: String) -> String? {
        guard let m = try? regex.firstMatch(in: text), m.output.count > 1, let sub = m.output[1].substring else { return nil }
        let id = String(sub)
        return id.isEmpty ? nil : id
    }
}

extension PollSpec {
    /// True when the poll lists leads and matches them locally (pages or time windows), so it
    /// needs every lead at once rather than batches of ids.
    public var isListStyle: Bool { pagination != nil || window != nil }
}

/// Time-window polling (AlterCPA's `from`/`to`, TrafficManager's `leads-list/{from}/{to}`,
/// AdCombo's `ts`/`te`): consecutive windows of `days` days from the oldest lead polled (at
/// most `maxDays` back) to now, one request each (or pages of each).
public struct PollWindow: Sendable {
    public var days: Int
    public var maxDays: Int
}

/// List-style polling: page through everything and filter locally.
public struct Pagination: Sendable {
    public enum Stop: Sendable {
        case shortPage, emptyPage
        case hasMore(String), total(String), totalPages(String)
    }
    public var param: String
    public var start: Int
    public var pageSize: Int
    public var stop: Stop
    public var maxPages: Int
}
