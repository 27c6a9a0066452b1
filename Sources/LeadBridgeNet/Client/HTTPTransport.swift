import LeadBridgeCore

/// A failure below HTTP: no complete answer came back (refused, reset, timeout, DNS, TLS).
/// `delivery` says whether the network can have seen the request: the lead lifecycle retries
/// only what certainly did not arrive, and makes the rest `uncertain`.
public struct TransportError: Error, Sendable, Hashable, CustomStringConvertible {
    public typealias Kind = TransportFailureKind
    /// Whether the request may have reached the network.
    public enum Delivery: String, Sendable, Hashable {
        /// Nothing of the request left this host in a form the network could act on: DNS
        /// failure, connection refused, TLS handshake failure, an invalid request.
        case notSent
        /// The request was (or may have been) written: a timeout or reset after connecting.
        case maybeReceived
    }
    public var kind: Kind
    /// What went wrong, as a value (worded by the edges in the user's language).
    public var problem: TransportProblem
    public var delivery: Delivery
    /// Without an explicit `delivery`, only an invalid request counts as certainly not sent:
    /// a transport that cannot tell must not let a lead be sent twice.
    public init(_ kind: Kind, _ problem: TransportProblem, delivery: Delivery? = nil) {
        self.kind = kind
        self.problem = problem
        self.delivery = delivery ?? (kind == .invalidRequest ? .notSent : .maybeReceived)
    }
    /// A transport's own words (test doubles, tools).
    public init(_ kind: Kind, _ message: String, delivery: Delivery? = nil) {
        self.init(kind, .said(message), delivery: delivery)
    }
    /// The stable English sentence.
    public var message: String { problem.english }
    public var description: String { "\(kind.rawValue): \(message)" }
}

/// Sends one request and returns the response, whatever its status. Implementations:
/// `CurlTransport` (libcurl) and test doubles.
public protocol HTTPTransport: Sendable {
    func send(_ request: HTTPRequestValue, timeout: Double) async throws(TransportError) -> HTTPResponseValue
}
