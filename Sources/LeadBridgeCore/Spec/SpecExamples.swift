/// A send example of a spec: a lead, the exact exchanges expected, the expected outcome.
/// `swift test` and `leadbridge test` run every one offline.
public struct SendExample: Sendable {
    public var name: String
    public var lead: Lead
    public var account: AccountValues?
    public var now: Int64
    public var exchanges: [ExampleExchange]
    public var expect: ExpectedOutcome
    public var pointer: String
}

/// One expected request and the canned response the network gives to it.
public struct ExampleExchange: Sendable {
    public var request: ExpectedRequest
    public var response: CannedResponse
}

/// The request an example expects, byte for byte where given.
public struct ExpectedRequest: Sendable {
    public var method: String
    public var url: String
    /// Only these headers are compared (exactly).
    public var headers: [(name: String, value: String)]
    public var body: String?
}

/// A response to play back (also what the emulator and tests serve).
public struct CannedResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: String
}

/// The expected classification of an example.
public struct ExpectedOutcome: Sendable, Hashable {
    public var result: OutcomeKind
    public var externalId: String?
    public var message: String?
}

/// A poll example: known leads, the exchanges, and the statuses that must come out.
public struct PollExample: Sendable {
    public struct KnownLead: Sendable, Hashable {
        public var id: String
        public var externalId: String?
        public var created: Int64?
    }
    public struct Expected: Sendable, Hashable {
        public var lead: String
        public var status: Bucket
        public var raw: String?
    }
    public var name: String
    public var leads: [KnownLead]
    public var account: AccountValues?
    public var now: Int64
    public var exchanges: [ExampleExchange]
    public var expect: [Expected]
    /// The message a failing poll must report (the example expects the request to fail).
    public var failure: String?
    public var pointer: String
}

/// An outgoing-postback example of a source spec: a lead, its new status and the price the
/// source's settings give, and the exact request the source must receive (or none).
public struct OutgoingExample: Sendable {
    public var name: String
    /// The `id` of the spec's outgoing postback.
    public var outgoing: String
    public var lead: Lead
    public var account: AccountValues?
    public var status: Bucket
    /// When the status changed (`{changed}`).
    public var changed: Int64
    /// What the source's configured price gives for this lead (`{price}` of an approved lead).
    public var price: String?
    /// Nil: this status sends nothing to this postback.
    public var request: ExpectedRequest?
    public var pointer: String
}
