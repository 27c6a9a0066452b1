import LeadBridgeCore

/// An incoming postback as received (the receiver token already replaced by `***`).
public struct RawPostback: Sendable {
    public var receivedAt: Int64
    public var network: String
    public var remote: String
    public var method: String
    public var path: String
    public var query: String
    public var body: [UInt8]
    /// Set when the outcome is known before processing (`forbidden`, `unknown-network`).
    public var result: PostbackResult
    public init(receivedAt: Int64, network: String, remote: String, method: String, path: String, query: String, body: [UInt8],
                result: PostbackResult = .received) {
        self.receivedAt = receivedAt
        self.network = network
        self.remote = remote
        self.method = method
        self.path = path
        self.query = query
        self.body = body
        self.result = result
    }
}

/// A stored postback with its processing result.
public struct RawPostbackRecord: Sendable {
    public var id: Int64
    public var raw: RawPostback
    public var result: PostbackResult
    public var leadRowId: Int64?
    public var orderId: String?
    public var externalId: String?
    public var note: String?
    public init(id: Int64, raw: RawPostback, result: PostbackResult, leadRowId: Int64?, orderId: String?, externalId: String?, note: String?) {
        self.id = id
        self.raw = raw
        self.result = result
        self.leadRowId = leadRowId
        self.orderId = orderId
        self.externalId = externalId
        self.note = note
    }
}

/// The processing result of one stored postback.
public struct RawPostbackResult: Sendable {
    public var id: Int64
    public var result: PostbackResult
    public var leadRowId: Int64?
    public var orderId: String?
    public var externalId: String?
    public var note: String?
    public init(id: Int64, result: PostbackResult, leadRowId: Int64? = nil, orderId: String? = nil, externalId: String? = nil, note: String? = nil) {
        self.id = id
        self.result = result
        self.leadRowId = leadRowId
        self.orderId = orderId
        self.externalId = externalId
        self.note = note
    }
}

/// A postback we owe a traffic source (LeadCraft) for a status change.
public struct OutgoingPostback: Sendable {
    public var id: Int64
    public var leadRowId: Int64
    public var source: String
    public var kind: String
    public var status: String
    public var method: String
    public var url: String
    public var state: OutgoingState
    public var attempts: Int
    public var nextAttemptAt: Int64
    public var lastError: String?
    /// When the status changed (the `changed` of the postback, e.g. LeadCraft's reviseDate).
    public var createdAt: Int64
    public init(id: Int64 = 0, leadRowId: Int64, source: String, kind: String, status: String, method: String, url: String, state: OutgoingState = .due,
                attempts: Int = 0, nextAttemptAt: Int64, lastError: String? = nil, createdAt: Int64? = nil) {
        self.createdAt = createdAt ?? nextAttemptAt
        self.id = id
        self.leadRowId = leadRowId
        self.source = source
        self.kind = kind
        self.status = status
        self.method = method
        self.url = url
        self.state = state
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.lastError = lastError
    }
}
