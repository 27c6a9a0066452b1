import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import LeadBridgeCore

/// A failure below HTTP: no complete answer came back (refused, reset, timeout, DNS, TLS).
/// `delivery` says whether the network can have seen the request: the lead lifecycle retries
/// only what certainly did not arrive, and makes the rest `uncertain`.
public struct TransportError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable { case timeout, connection, cancelled, invalidRequest }
    /// Whether the request may have reached the network.
    public enum Delivery: String, Sendable, Hashable {
        /// Nothing of the request left this host in a form the network could act on: DNS
        /// failure, connection refused, TLS handshake failure, an invalid request.
        case notSent
        /// The request was (or may have been) written: a timeout or reset after connecting.
        case maybeReceived
    }
    public var kind: Kind
    public var message: String
    public var delivery: Delivery
    /// Without an explicit `delivery`, only an invalid request counts as certainly not sent:
    /// a transport that cannot tell must not let a lead be sent twice.
    public init(_ kind: Kind, _ message: String, delivery: Delivery? = nil) {
        self.kind = kind
        self.message = message
        self.delivery = delivery ?? (kind == .invalidRequest ? .notSent : .maybeReceived)
    }
    public var description: String { "\(kind.rawValue): \(message)" }
}

/// Sends one request and returns the response, whatever its status. Implementations:
/// `URLSessionTransport` (libcurl) and test doubles.
public protocol HTTPTransport: Sendable {
    func send(_ request: HTTPRequestValue, timeout: Double) async throws(TransportError) -> HTTPResponseValue
}

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
    public static func parse(_ specs: [String]) throws(TransportError) -> ConnectToMap {
        var rules: [String: Target] = [:]
        for spec in specs {
            for rule in spec.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !rule.isEmpty {
                let parts = rule.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, !parts[0].isEmpty, let colon = parts[1].lastIndex(of: ":"),
                      let port = Int(parts[1][parts[1].index(after: colon)...]), (1...65535).contains(port) else {
                    throw TransportError(.invalidRequest, "connect-to rule \"\(rule)\" is not HOST=ADDRESS:PORT")
                }
                let address = String(parts[1][parts[1].startIndex..<colon])
                guard isLoopback(address) else {
                    throw TransportError(.invalidRequest, "connect-to rule \"\(rule)\": only loopback addresses (127.x.x.x, ::1, localhost) are allowed")
                }
                rules[parts[0].lowercased()] = Target(host: address, port: port)
            }
        }
        return ConnectToMap(rules: rules)
    }

    static func isLoopback(_ a: String) -> Bool {
        a == "localhost" || a == "[::1]" || a == "::1" || (a.hasPrefix("127.") && IPAddress.isIPv4(a))
    }

    /// The URL to connect to and the Host header to send, or nil when no rule applies.
    public func rewrite(_ url: String) -> (url: String, host: String)? {
        guard let parts = URLParts(url), let t = rules[parts.host] else { return nil }
        let defaultPort = parts.scheme == "https" ? 443 : 80
        let hostHeader = parts.port.map { $0 == defaultPort ? parts.host : "\(parts.host):\($0)" } ?? parts.host
        let address = t.host.contains(":") && !t.host.hasPrefix("[") ? "[\(t.host)]" : t.host
        return ("http://\(address):\(t.port)\(parts.target)", hostHeader)
    }
}

/// URLSession (libcurl underneath) with the traps of swift-linux.md handled: redirects are
/// not followed (handled as responses), `Accept-Encoding: identity` so bodies are bytes as
/// sent, whole-second timeouts, explicit headers.
public final class URLSessionTransport: HTTPTransport {
    let session: URLSession
    let connectTo: ConnectToMap

    public init(connectTo: ConnectToMap = ConnectToMap(), maxConnectionsPerHost: Int = 64) {
        let config = URLSessionConfiguration.ephemeral
        config.httpMaximumConnectionsPerHost = maxConnectionsPerHost
        config.requestCachePolicy = .reloadIgnoringLocalCacheData
        config.httpShouldSetCookies = false
        config.httpCookieAcceptPolicy = .never
        config.urlCache = nil
        session = URLSession(configuration: config, delegate: NoRedirects(), delegateQueue: nil)
        self.connectTo = connectTo
    }

    deinit { session.invalidateAndCancel() }

    public func send(_ request: HTTPRequestValue, timeout: Double) async throws(TransportError) -> HTTPResponseValue {
        var target = request.url
        var hostHeader: String?
        if let r = connectTo.rewrite(request.url) {
            target = r.url
            hostHeader = r.host
        }
        guard let url = URL(string: target) else { throw TransportError(.invalidRequest, "invalid URL") }
        var r = URLRequest(url: url)
        r.httpMethod = request.method
        r.timeoutInterval = max(1, timeout.rounded(.up))
        r.setValue("identity", forHTTPHeaderField: "Accept-Encoding")
        if request.header("Accept") == nil { r.setValue("*/*", forHTTPHeaderField: "Accept") }
        for h in request.headers { r.setValue(h.value, forHTTPHeaderField: h.name) }
        if let hostHeader { r.setValue(hostHeader, forHTTPHeaderField: "Host") }
        if !request.body.isEmpty || request.method != "GET" { r.httpBody = Data(request.body) }
        do {
            let (data, response) = try await session.data(for: r)
            guard let http = response as? HTTPURLResponse else { throw TransportError(.connection, "not an HTTP response") }
            var headers: [HTTPHeader] = []
            for (k, v) in http.allHeaderFields {
                if let k = k as? String, let v = v as? String { headers.append(HTTPHeader(k, v)) }
            }
            return HTTPResponseValue(status: http.statusCode, headers: headers, body: Array(data))
        } catch let e as TransportError {
            throw e
        } catch let e as URLError {
            switch e.code {
            case .timedOut: throw TransportError(.timeout, "no answer within \(Int(r.timeoutInterval)) s")
            case .cancelled: throw TransportError(.cancelled, "cancelled")
            case .cannotConnectToHost, .cannotFindHost, .dnsLookupFailed, .notConnectedToInternet, .secureConnectionFailed,
                 .serverCertificateUntrusted, .serverCertificateHasBadDate, .serverCertificateNotYetValid, .serverCertificateHasUnknownRoot:
                throw TransportError(.connection, "\(Self.describe(e.code)) (\(URLParts(request.url)?.host ?? "?"))", delivery: .notSent)
            default: throw TransportError(.connection, "\(Self.describe(e.code)) (\(URLParts(request.url)?.host ?? "?"))")
            }
        } catch {
            throw TransportError(.connection, "\(error)")
        }
    }

    static func describe(_ code: URLError.Code) -> String {
        switch code {
        case .cannotConnectToHost: return "connection refused"
        case .networkConnectionLost: return "connection reset"
        case .cannotFindHost, .dnsLookupFailed: return "host not found"
        case .notConnectedToInternet: return "no network"
        case .badServerResponse: return "bad server response"
        case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate: return "TLS failure"
        default: return "URL error \(code.rawValue)"
        }
    }
}

/// Session-level delegate that stops redirects (the only form honoured on Linux).
final class NoRedirects: NSObject, URLSessionTaskDelegate, @unchecked Sendable {
    // @unchecked: no stored state at all.
    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void) {
        completionHandler(nil)
    }
}
