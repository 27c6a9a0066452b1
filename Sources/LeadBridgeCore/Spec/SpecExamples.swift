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
