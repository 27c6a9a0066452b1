import LeadBridgeCore

/// `host=127.0.0.1:9100` rules: requests for those hosts go to a loopback address over plain
/// HTTP, keeping method, path, query, headers (the original `Host`) and body byte for byte.
/// Tests and the emulator reach "real" network URLs offline this way.
public struct ConnectToMap: Sendable, Hashable {
    public struct Target: Sendable, Hashable {
        public var host: String
        public var port: Int
        public init(host: String, port: Int) { self.host = host; self.port = port }
    }
    public var rules: [String: Target]

    public init(rules: [String: Target] = [:]) { self.rules = rules }

    /// Parses `a.com=127.0.0.1:9100,b.com=127.0.0.1:9101` (also one rule per string).
    public static func parse(_ specs: [String]) throws(ConnectToRuleError) -> ConnectToMap {
        var rules: [String: Target] = [:]
        for spec in specs {
            for rule in spec.split(separator: ",").map({ String($0).trimmingWhitespace }) where !rule.isEmpty {
                let parts = rule.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, !parts[0].isEmpty, let colon = parts[1].lastIndex(of: ":"),
                      let port = Int(parts[1][parts[1].index(after: colon)...]), (1...65535).contains(port) else {
                    throw .notHostAddressPort(rule: rule)
                }
                let address = String(parts[1][parts[1].startIndex..<colon])
                guard isLoopback(address) else {
                    throw .notLoopback(rule: rule)
                }
                rules[parts[0].lowercased()] = Target(host: address, port: port)
            }
        }
        return ConnectToMap(rules: rules)
    }

    static func isLoopback(_ a: String) -> Bool {
        a == "localhost" || a == "[::1]" || a == "::1" || (a.hasPrefix("127.") && IPAddress.isIPv4(a))
    }

    /// How a request for a mapped host travels: `url` is the URL to request (the same host and
    /// port, so libcurl sends the original `Host`; an https URL becomes http because the
    /// loopback target speaks plain HTTP) and `connectTo` is the `CURLOPT_CONNECT_TO` entry
    /// `HOST:PORT:ADDRESS:PORT` that sends the connection to the loopback target instead of
    /// resolving the host.
    ///
    /// Why https is downgraded rather than handed to `CURLOPT_CONNECT_TO` as it is: connect-to
    /// only changes where the TCP connection goes; libcurl would still speak TLS and verify a
    /// certificate for the real host, which a loopback emulator cannot present. The contract
    /// (DESIGN.md) is plain HTTP to the loopback target with the real host's `Host` header.
    public struct Route: Sendable, Hashable {
        public var url: String
        public var connectTo: String
    }

    /// The route for a URL, or nil when no rule applies.
    public func route(_ url: String) -> Route? {
        guard let parts = URLParts(url), let t = rules[parts.host] else { return nil }
        let defaultPort = parts.scheme == "https" ? 443 : 80
        let explicit = parts.port.flatMap { $0 == defaultPort ? nil : $0 }
        let port = explicit ?? 80
        let authority = explicit.map { "\(parts.host):\($0)" } ?? parts.host
        let address = t.host.contains(":") && !t.host.hasPrefix("[") ? "[\(t.host)]" : t.host
        return Route(url: "http://\(authority)\(parts.target)", connectTo: "\(parts.host):\(port):\(address):\(t.port)")
    }
}

/// Why a connect-to rule (`--connect-to`, `LEADBRIDGE_CONNECT_TO`) is refused, as a value: the
/// command line words it in the user's language; `english` is the stable sentence.
public enum ConnectToRuleError: Error, Sendable, Hashable, CustomStringConvertible {
    case notHostAddressPort(rule: String)
    /// Real hosts are reached only through a rewrite to loopback.
    case notLoopback(rule: String)

    public var english: String {
        switch self {
        case .notHostAddressPort(let r): return "connect-to rule \"\(r)\" is not HOST=ADDRESS:PORT"
        case .notLoopback(let r): return "connect-to rule \"\(r)\": only loopback addresses (127.x.x.x, ::1, localhost) are allowed"
        }
    }
    public var description: String { english }
}

/// Which proxy a request uses, read from environment variables by curl's own rules:
/// `http_proxy` for http URLs (lower case only: an upper-case `HTTP_PROXY` can be set by a
/// CGI request's `Proxy:` header, so curl ignores it, and so do we), `https_proxy` or
/// `HTTPS_PROXY` for https URLs, else `all_proxy`/`ALL_PROXY`; `no_proxy`/`NO_PROXY` lists
/// hosts that go direct (libcurl matches it). The variables are passed in, never read from
/// the process behind the caller's back.
public struct ProxyEnvironment: Sendable, Hashable {
    public var http: String?
    public var https: String?
    public var all: String?
    public var noProxy: String?

    public init(_ variables: [String: String]) {
        func first(_ names: String...) -> String? {
            for n in names { if let v = variables[n], !v.isEmpty { return v } }
            return nil
        }
        http = first("http_proxy")
        https = first("https_proxy", "HTTPS_PROXY")
        all = first("all_proxy", "ALL_PROXY")
        noProxy = first("no_proxy", "NO_PROXY")
    }

    /// The proxy URL for a request URL, or nil for a direct connection (before `no_proxy`,
    /// which libcurl applies).
    public func proxy(for url: String) -> String? {
        let scheme = URLParts(url)?.scheme
        return (scheme == "https" ? https : scheme == "http" ? http : nil) ?? all
    }
}
