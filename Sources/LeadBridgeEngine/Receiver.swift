import Foundation
import LeadBridgeCore
import LeadBridgeCrypto
import LeadBridgeNet
import LeadBridgeStore

/// An IPv4 or IPv6 network (`203.0.113.0/24`, `2001:db8::/32`) for allow-lists and trusted
/// proxies; addresses are parsed by the C library (`inet_pton`).
public struct CIDR: Sendable, Hashable {
    let bytes: [UInt8]
    let prefix: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
        guard let addr = CIDR.address(parts[0]) else { return nil }
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

/// The always-on side: routes `/postback/<network>`, `/leads` and `/health`. Checks tokens in
/// constant time and IP allow-lists, stores every postback before processing it (through the
/// ingest's group commit) with the token masked, and takes leads from traffic sources.
public final class Receiver: Sendable {
    let library: SpecLibrary
    let config: LeadBridgeConfig
    let store: any LeadStore
    let ingest: PostbackIngest
    let allow: [String: [CIDR]]
    let trustedProxies: [CIDR]
    let secretForms: [[UInt8]]
    let clock: @Sendable () -> Int64
    let log: @Sendable (String) -> Void
    let intakeStore: SQLiteLeadStore?
    let onIntake: @Sendable () -> Void

    public init(library: SpecLibrary, config: LeadBridgeConfig, store: any LeadStore, ingest: PostbackIngest, intakeStore: SQLiteLeadStore? = nil,
                clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) },
                log: @escaping @Sendable (String) -> Void = { _ in }, onIntake: @escaping @Sendable () -> Void = {}) {
        self.library = library
        self.config = config
        self.store = store
        self.ingest = ingest
        self.intakeStore = intakeStore
        self.clock = clock
        self.log = log
        self.onIntake = onIntake
        var allow: [String: [CIDR]] = [:]
        // An entry that does not parse never widens access: a list with no valid entry lets
        // nobody in (and `serve` refuses such a configuration at start).
        for (network, list) in config.receiver?.allow ?? [:] where !list.isEmpty {
            allow[network.lowercased()] = list.compactMap(CIDR.init)
        }
        self.allow = allow
        self.secretForms = Self.secretForms(config)
        self.trustedProxies = (config.receiver?.trustedProxies ?? []).compactMap(CIDR.init)
    }

    /// Allow-list entries that are not addresses or networks (a configuration error).
    public static func invalidAllowEntries(_ config: LeadBridgeConfig) -> [String] {
        let lists = (config.receiver?.allow ?? [:]).merging(["trusted_proxies": config.receiver?.trustedProxies ?? []]) { a, _ in a }
        return lists.sorted { $0.key < $1.key }.flatMap { key, list in list.filter { CIDR($0) == nil }.map { "\(key): \"\($0)\"" } }
    }

    public func handle(_ request: HTTPServerRequest) -> HTTPServerResponse {
        let path = request.path
        if path == "/health" && (request.method == "GET" || request.method == "HEAD") {
            return .json(#"{"status":"ok"}"#)
        }
        if path.hasPrefix("/postback/") {
            guard request.method == "GET" || request.method == "POST" else { return .text("method not allowed\n", status: 405) }
            return postback(request, network: String(path.dropFirst("/postback/".count)))
        }
        if let spec = library.specs.first(where: { $0.postbacks?.form?.path == path }) {
            // A network that calls a fixed path on our domain (AffbayAsia's field-by-field postback).
            guard request.method == "GET" || request.method == "POST" else { return .text("method not allowed\n", status: 405) }
            return postback(request, network: spec.id)
        }
        if path == "/leads" {
            guard request.method == "POST" else { return .text("method not allowed\n", status: 405) }
            return intake(request)
        }
        return .text("not found\n", status: 404)
    }

    /// The client's address: the peer, or the last untrusted hop of X-Forwarded-For when the
    /// peer is a configured proxy.
    func clientAddress(_ r: HTTPServerRequest) -> String {
        let lines = r.headers(named: "X-Forwarded-For")
        guard trustedProxies.contains(where: { $0.contains(r.remoteAddress) }), !lines.isEmpty else { return r.remoteAddress }
        // Proxies may append their own header line: all lines, in order, form one list.
        let hops = lines.joined(separator: ",").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        for hop in hops.reversed() where !trustedProxies.contains(where: { $0.contains(hop) }) {
            return CIDR.address(hop) != nil ? hop : r.remoteAddress
        }
        return r.remoteAddress
    }

    static func tokenFrom(_ r: HTTPServerRequest, param: String = "token") -> String? {
        if let pairs = try? QueryString.parse(r.query), let t = pairs.last(where: { $0.0 == param })?.1 { return t }
        if let auth = r.header("Authorization"), auth.lowercased().hasPrefix("bearer ") { return String(auth.dropFirst(7)).trimmingCharacters(in: .whitespaces) }
        if !r.body.isEmpty, let pairs = try? PostbackProcessor.parameters(query: "", body: r.body), let t = pairs.last(where: { $0.0 == param })?.1 { return t }
        return nil
    }

    static func tokenMatches(_ given: String?, _ expected: [String]) -> Bool {
        guard let given else { return false }
        var ok = false
        for e in expected where !e.isEmpty {
            // Hash both so the comparison takes the same time whatever the lengths.
            let a = Digest.hash(.sha256, Array(given.utf8)), b = Digest.hash(.sha256, Array(e.utf8))
            if Digest.constantTimeEquals(a, b) { ok = true }
        }
        return ok
    }

    /// Replaces the value of `token` parameters (query, form or JSON) with `***`. Names are
    /// compared decoded (`tok%65n` is `token`), the way they are read.
    static func maskToken(query: String, param: String = "token") -> String {
        query.split(separator: "&", omittingEmptySubsequences: false).map { part -> String in
            let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard kv.count == 2 else { return String(part) }
            let name = (try? QueryString.decode(kv[0], field: "")) ?? String(kv[0])
            return name.lowercased() == param.lowercased() ? "\(kv[0])=***" : String(part)
        }.joined(separator: "&")
    }

    static func isJSONBody(_ body: [UInt8]) -> Bool {
        body.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }) == UInt8(ascii: "{")
    }

    static func maskToken(body: [UInt8], param: String = "token") -> [UInt8] {
        guard !body.isEmpty else { return body }
        if isJSONBody(body) {
            guard case .object(var o)? = try? JSONParser.parse(body) else { return body }
            for key in o.keys where key.lowercased() == param.lowercased() { o[key] = .string("***") }
            return Array(JSONWriter.compact(.object(o)).utf8)
        }
        guard let text = String(validating: body, as: UTF8.self) else { return body }
        return Array(maskToken(query: text, param: param).utf8)
    }

    /// Last line of defence: every configured receiver token, in any encoding, becomes `***`
    /// in what is stored, whatever shape the request had (malformed JSON, bad UTF-8…).
    static func scrub(_ bytes: [UInt8], secrets: [[UInt8]]) -> [UInt8] {
        guard !secrets.isEmpty, !bytes.isEmpty else { return bytes }
        var out = bytes
        let mask = Array("***".utf8)
        for s in secrets where !s.isEmpty {
            var i = 0
            var result: [UInt8] = []
            result.reserveCapacity(out.count)
            while i < out.count {
                if i + s.count <= out.count && out[i] == s[0] && Array(out[i..<i + s.count]) == s {
                    result += mask
                    i += s.count
                } else {
                    result.append(out[i])
                    i += 1
                }
            }
            out = result
        }
        return out
    }

    /// Receiver tokens as they may appear on the wire: raw, form/URL-encoded, JSON-escaped.
    static func secretForms(_ config: LeadBridgeConfig) -> [[UInt8]] {
        var tokens = [config.receiver?.token].compactMap { $0 } + Array(config.receiver?.tokens.values ?? [:].values)
        tokens += config.intake?.tokens.keys.map { $0 } ?? []
        return Set(tokens.filter { !$0.isEmpty }.flatMap(Redactor.encodedForms).map { Array($0.utf8) }).sorted { $0.count > $1.count }
    }

    func postback(_ r: HTTPServerRequest, network rawName: String) -> HTTPServerResponse {
        let name = (try? QueryString.decode(Substring(rawName), field: "network")) ?? rawName
        let client = clientAddress(r)
        let spec = library.spec(name)
        let network = spec?.id ?? String(name.prefix(64))
        let tokenParam = spec?.postbacks?.form?.path == r.path ? (spec?.postbacks?.form?.tokenParam ?? "token") : "token"
        let query = String(decoding: Self.scrub(Array(Self.maskToken(query: r.query, param: tokenParam).utf8), secrets: secretForms), as: UTF8.self)
        var raw = RawPostback(receivedAt: clock(), network: network, remote: client, method: r.method,
                              path: String(decoding: Self.scrub(Array(r.path.prefix(300).utf8), secrets: secretForms), as: UTF8.self),
                              query: query, body: Self.scrub(Self.maskToken(body: r.body, param: tokenParam), secrets: secretForms))
        if spec == nil {
            raw.result = "unknown-network"
        } else if let list = allow[network], !list.contains(where: { $0.contains(client) }) {
            raw.result = "forbidden"
            log("postback \(network) from \(client): address not allowed")
        } else {
            var expected: [String] = []
            if let t = config.receiver?.tokens[network] { expected.append(t) }
            if let t = config.receiver?.token { expected.append(t) }
            if expected.isEmpty || !Self.tokenMatches(Self.tokenFrom(r, param: tokenParam), expected) {
                raw.result = "forbidden"
                log("postback \(network) from \(client): wrong or missing token")
            }
        }
        let reply = ingest.ingest(raw)
        return .text(reply.text + "\n", status: reply.status)
    }

    // MARK: lead intake

    func intake(_ r: HTTPServerRequest) -> HTTPServerResponse {
        func answer(_ status: Int, _ pairs: [(String, JSONValue)]) -> HTTPServerResponse { .json(JSONWriter.compact(.obj(pairs)) + "\n", status: status) }
        guard let rules = config.intake, let store = intakeStore else { return answer(404, [("status", .string("error")), ("message", .string("lead intake is not configured"))]) }
        var given: String?
        if let auth = r.header("Authorization"), auth.lowercased().hasPrefix("bearer ") { given = String(auth.dropFirst(7)).trimmingCharacters(in: .whitespaces) }
        guard let source = rules.tokens.first(where: { Self.tokenMatches(given, [$0.key]) })?.value else {
            log("lead intake from \(clientAddress(r)): wrong or missing bearer token")
            return answer(401, [("status", .string("error")), ("message", .string("wrong or missing bearer token"))])
        }
        let pairs: [(String, String)]
        let contentType = (r.header("Content-Type") ?? "").lowercased()
        if contentType.hasPrefix("application/json") || r.body.first == UInt8(ascii: "{") {
            guard let json = try? JSONParser.parse(r.body), let p = IntakeReader.pairs(json: json) else {
                return answer(400, [("status", .string("rejected")), ("errors", .array([.obj([("field", .string("body")), ("message", .string("not a JSON object"))])]))])
            }
            pairs = p
        } else {
            guard let text = String(validating: r.body, as: UTF8.self), let p = try? QueryString.parse(text) else {
                return answer(400, [("status", .string("rejected")), ("errors", .array([.obj([("field", .string("body")), ("message", .string("not a valid form body"))])]))])
            }
            pairs = p
        }
        let newId = "LB" + Self.randomId()
        switch IntakeReader.lead(from: pairs, newId: newId, rules: rules) {
        case .rejected(let errors):
            return answer(422, [("status", .string("rejected")), ("errors", .array(errors.map { .obj([("field", .string($0.field)), ("message", .string($0.message))]) }))])
        case .lead(let lead):
            guard let accountName = IntakeReader.route(lead, routes: rules.routes), let account = config.accounts[accountName] else {
                return answer(422, [("status", .string("rejected")), ("errors", .array([.obj([("field", .string("params")), ("message", .string("no route takes this lead (check the offer)"))])]))])
            }
            let sourceRef = lead.fields["source_id"] ?? lead.fields["click_id"]
            do {
                switch try store.intake(lead, network: account.network, account: accountName, source: source, sourceRef: sourceRef, now: clock()) {
                case .queued(let rec):
                    onIntake()
                    return answer(200, [("status", .string("accepted")), ("id", .string(rec.orderId))])
                case .exists(let rec):
                    return answer(200, [("status", .string("accepted")), ("id", .string(rec.orderId)), ("duplicate", .bool(true))])
                }
            } catch {
                return answer(503, [("status", .string("error")), ("message", .string("store unavailable, try again"))])
            }
        }
    }

    static func randomId() -> String {
        let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
        var g = SystemRandomNumberGenerator()
        return String((0..<12).map { _ in alphabet[Int(g.next() % UInt64(alphabet.count))] })
    }
}
