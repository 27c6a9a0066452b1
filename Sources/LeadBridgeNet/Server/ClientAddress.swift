import Glibc
import LeadBridgeCore

/// An IPv4 or IPv6 network (`203.0.113.0/24`, `2001:db8::/32`) for allow-lists and trusted
/// proxies; addresses are parsed by the C library (`inet_pton`).
public struct CIDR: Sendable, Hashable {
    let bytes: [UInt8]
    let prefix: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
        guard let first = parts.first, let addr = CIDR.address(first) else { return nil }
        let max = addr.count * 8
        let p = parts.count > 1 ? Int(parts[1]) : max
        guard let p, (0...max).contains(p) else { return nil }
        bytes = addr
        prefix = p
    }

    /// Raw bytes of an address (4 or 16), IPv4-mapped IPv6 reduced to IPv4.
    static func address(_ s: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, s, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, s, &v6) == 1 {
            let b = withUnsafeBytes(of: &v6) { Array($0) }
            if b[0..<10].allSatisfy({ $0 == 0 }) && b[10] == 0xFF && b[11] == 0xFF { return Array(b[12...]) }
            return b
        }
        return nil
    }

    public func contains(_ ip: String) -> Bool {
        guard let a = CIDR.address(ip), a.count == bytes.count else { return false }
        var bits = prefix
        for i in 0..<bytes.count where bits > 0 {
            let take = min(8, bits)
            let mask: UInt8 = take == 8 ? 0xFF : ~(0xFF >> UInt8(take))
            if a[i] & mask != bytes[i] & mask { return false }
            bits -= take
        }
        return true
    }
}

/// Who sent a request: the peer, or — when the peer is one of our reverse proxies — the last
/// hop of `X-Forwarded-For` that is not one of them. The server uses it to count connections
/// per client and hands it to handlers as `HTTPServerRequest.clientAddress`.
public struct TrustedProxies: Sendable, Hashable {
    public let networks: [CIDR]

    public init(_ networks: [CIDR]) { self.networks = networks }

    /// Entries that do not parse are left out (the configuration check reports them).
    public init(parsing entries: [String]) { networks = entries.compactMap(CIDR.init) }

    public var isEmpty: Bool { networks.isEmpty }

    public func contains(_ address: String) -> Bool { networks.contains { $0.contains(address) } }

    /// The client's address for a request that came from `peer` with these headers.
    public func clientAddress(peer: String, headers: [HTTPHeader]) -> String {
        guard !networks.isEmpty, contains(peer) else { return peer }
        var lines: [String] = []
        for h in headers where HTTPBytes.equalsIgnoringCase(h.name, "X-Forwarded-For") { lines.append(h.value) }
        guard !lines.isEmpty else { return peer }
        // Proxies may append their own header line: all lines, in order, form one list.
        let hops = lines.joined(separator: ",").split(separator: ",").map { HTTPBytes.trimmed($0) }.filter { !$0.isEmpty }
        for hop in hops.reversed() where !contains(String(hop)) {
            return CIDR.address(String(hop)) != nil ? String(hop) : peer
        }
        return peer
    }
}
