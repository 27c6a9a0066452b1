/// The limits that keep `serve` answering while hostile or broken clients hold connections:
/// the `receiver` section's connection, timeout, rate, size and backlog keys. Every value has
/// a default fit for a postback receiver on the open internet (README, "Receiver limits").
public struct ReceiverLimits: Sendable, Hashable {
    /// Connections held at once; nil: as many as the process's file limit allows (`serve`
    /// raises its soft limit to the hard one at start). At the limit the longest-idle
    /// connections are closed for new ones.
    public var maxConnections: Int?
    /// Connections one client address may hold (behind `trusted_proxies`: per forwarded address).
    public var maxConnectionsPerAddress = 256
    /// Seconds a request's header section may take from its first byte.
    public var headTimeoutSeconds = 10.0
    /// Slowest body accepted, after a grace of `headTimeoutSeconds`.
    public var minBodyBytesPerSecond = 1024.0
    /// Seconds a connection may wait without a request (after connecting, between requests).
    public var idleTimeoutSeconds = 15.0
    /// Seconds a response may wait on a client that does not read.
    public var writeTimeoutSeconds = 10.0
    /// Largest request body (postbacks and leads are small).
    public var maxBodyBytes = 1024 * 1024
    /// Postbacks waiting for the store writer beyond which new ones get `503` with `Retry-After`.
    public var maxQueuedPostbacks = 10_000

    public init() {}

    /// The keys of the `receiver` section this type reads.
    static let keys = ["max_connections", "max_connections_per_address", "head_timeout_seconds", "min_body_bytes_per_second",
                       "idle_timeout_seconds", "write_timeout_seconds", "max_body_bytes", "max_queued_postbacks"]

    /// Reads the limits present in the `receiver` section (type and range errors go to its sink).
    static func read(_ r: ObjectReader) -> ReceiverLimits {
        var l = ReceiverLimits()
        l.maxConnections = r.int("max_connections", range: 1...10_000_000) ?? l.maxConnections
        l.maxConnectionsPerAddress = r.int("max_connections_per_address", range: 1...10_000_000) ?? l.maxConnectionsPerAddress
        l.headTimeoutSeconds = r.number("head_timeout_seconds", positive: true) ?? l.headTimeoutSeconds
        l.minBodyBytesPerSecond = r.number("min_body_bytes_per_second", positive: true) ?? l.minBodyBytesPerSecond
        l.idleTimeoutSeconds = r.number("idle_timeout_seconds", positive: true) ?? l.idleTimeoutSeconds
        l.writeTimeoutSeconds = r.number("write_timeout_seconds", positive: true) ?? l.writeTimeoutSeconds
        l.maxBodyBytes = r.int("max_body_bytes", range: 1...(64 * 1024 * 1024)) ?? l.maxBodyBytes
        l.maxQueuedPostbacks = r.int("max_queued_postbacks", range: 1...10_000_000) ?? l.maxQueuedPostbacks
        return l
    }
}
