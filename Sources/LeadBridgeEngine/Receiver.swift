import FoundationEssentials
import Glibc
import LeadBridgeCore
import LeadBridgeCrypto
import LeadBridgeNet
import LeadBridgeStore

/// The always-on side: the routes `/postback/<network>`, `/leads` and `/health` (added to an
/// `HTTPRouter`, served by the event-loop `HTTPServer`). Checks tokens in constant time and IP
/// allow-lists, stores every postback before processing it (through the ingest's group commit)
/// with the token masked, and takes leads from traffic sources. Its handlers run on the event
/// loop and never wait on the store: postbacks and intake are answered by the store writer.
public final class Receiver: Sendable {
    let library: SpecLibrary
    let config: LeadBridgeConfig
    let ledger: Ledger
    let ingest: PostbackIngest
    let allow: [String: [CIDR]]
    /// Who may post leads (`intake.allow`); nil: anyone with the token.
    let intakeAllow: [CIDR]?
    let secretForms: [[UInt8]]
    let tokenDigests: TokenDigests
    /// Lead intake's bearer tokens as SHA-256 digests (computed once), each with its source.
    let intakeTokens: [(digest: [UInt8], source: String)]
    let clock: @Sendable () -> Int64
    let log: @Sendable (ServerNotice) -> Void
    let onIntake: @Sendable () -> Void

    /// Leads from traffic sources enter through `ledger`; postbacks through `ingest`.
    public init(library: SpecLibrary, config: LeadBridgeConfig, ledger: Ledger, ingest: PostbackIngest,
                clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) },
                log: @escaping @Sendable (ServerNotice) -> Void = { _ in }, onIntake: @escaping @Sendable () -> Void = {}) {
        self.library = library
        self.config = config
        self.ledger = ledger
        self.ingest = ingest
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
        let intakeList = config.intake?.allow ?? []
        self.intakeAllow = intakeList.isEmpty ? nil : intakeList.compactMap(CIDR.init)
        self.secretForms = Self.secretForms(config)
        self.tokenDigests = TokenDigests(networks: config.receiver?.tokens ?? [:], shared: config.receiver?.token)
        self.intakeTokens = (config.intake?.tokens ?? [:]).filter { !$0.key.isEmpty }.map { (TokenDigests.digest($0.key), $0.value) }
    }

    /// The source whose intake token `given` is: its digest compared with every token's in
    /// constant time, all of them whichever matches (nil: none).
    func intakeSource(_ given: String?) -> String? {
        guard let given else { return nil }
        let a = TokenDigests.digest(given)
        var source: String?
        for t in intakeTokens where Digest.constantTimeEquals(a, t.digest) { source = t.source }
        return source
    }

    /// The server settings of the `receiver` section: its limits and trusted proxies.
    public static func serverConfiguration(_ config: LeadBridgeConfig, host: String, port: Int) -> HTTPServerConfiguration {
        let l = config.receiver?.limits ?? ReceiverLimits()
        return HTTPServerConfiguration(host: host, port: port, limits: HTTPLimits(maxBodyBytes: l.maxBodyBytes),
                                       maxConnections: l.maxConnections, maxConnectionsPerAddress: l.maxConnectionsPerAddress,
                                       trustedProxies: TrustedProxies(parsing: config.receiver?.trustedProxies ?? []),
                                       headTimeout: l.headTimeoutSeconds, minBodyBytesPerSecond: l.minBodyBytesPerSecond,
                                       idleTimeout: l.idleTimeoutSeconds, writeTimeout: l.writeTimeoutSeconds)
    }

    /// Allow-list entries that are not addresses or networks (a configuration error).
    public static func invalidAllowEntries(_ config: LeadBridgeConfig) -> [String] {
        let lists = (config.receiver?.allow ?? [:]).merging(["trusted_proxies": config.receiver?.trustedProxies ?? [], "intake.allow": config.intake?.allow ?? []]) { a, _ in a }
        return lists.sorted { $0.key < $1.key }.flatMap { key, list in list.filter { CIDR($0) == nil }.map { "\(key): \"\($0)\"" } }
    }

    /// Adds the receiver's routes (the operator console adds its own beside them).
    public func addRoutes(to router: inout HTTPRouter) {
        router.add(["GET", "HEAD"], path: "/health") { _, responder in responder.respond(.json(#"{"status":"ok"}"#)) }
        router.add(["GET", "POST"], prefix: "/postback/") { [self] request, responder in
            let path = request.path // the prefix is ASCII: its byte length is a character boundary
            postback(request, network: String(path[path.utf8.index(path.startIndex, offsetBy: "/postback/".utf8.count)...]), responder: responder)
        }
        for spec in library.specs {
            // A network that calls a fixed path on our domain (AffbayAsia's field-by-field postback).
            guard let path = spec.postbacks?.form?.path, path != "/health", path != "/leads", !path.hasPrefix("/postback/") else { continue }
            let id = spec.id
            router.add(["GET", "POST"], path: path) { [self] request, responder in postback(request, network: id, responder: responder) }
        }
        router.add(["POST"], path: "/leads") { [self] request, responder in intake(request, responder: responder) }
    }

    /// A router with the receiver's routes alone.
    public var router: HTTPRouter {
        var router = HTTPRouter()
        addRoutes(to: &router)
        return router
    }

    /// The token as the check reads it: the query's (read by `scan`), a bearer header, the body's.
    static func tokenFrom(_ r: HTTPServerRequest, query: QueryString.Scan, param: String = "token") -> String? {
        if let t = query.secret { return t }
        if let auth = r.header("Authorization"), auth.lowercased().hasPrefix("bearer ") { return String(auth.dropFirst(7)).trimmingWhitespace }
        if !r.body.isEmpty, let pairs = try? PostbackProcessor.bodyParameters(r.body), let t = pairs.last(where: { $0.0 == param })?.1 { return t }
        return nil
    }

    /// The receiver's tokens as SHA-256 digests, computed once: each network's own
    /// (`receiver.tokens`) and the shared one (`receiver.token`). A check hashes only the token
    /// it was given, then compares it with both in constant time (the same time whatever the
    /// lengths, and whichever matches).
    struct TokenDigests: Sendable {
        private let byNetwork: [String: [UInt8]]
        private let shared: [UInt8]?

        init(networks: [String: String], shared: String?) {
            var d: [String: [UInt8]] = [:]
            for (network, t) in networks where !t.isEmpty { d[network] = Self.digest(t) }
            byNetwork = d
            self.shared = shared.flatMap { $0.isEmpty ? nil : Self.digest($0) }
        }

        static func digest(_ token: String) -> [UInt8] { Digest.hash(.sha256, Array(token.utf8)) }

        /// Whether `given` is `network`'s own token or the shared one (false when neither is set).
        func matches(_ given: String?, network: String) -> Bool {
            let own = byNetwork[network]
            guard let given, own != nil || shared != nil else { return false }
            let a = Self.digest(given)
            var ok = false
            if let own, Digest.constantTimeEquals(a, own) { ok = true }
            if let shared, Digest.constantTimeEquals(a, shared) { ok = true }
            return ok
        }
    }

    /// Replaces the value of `token` parameters (query, form or JSON) with `***`. Names are
    /// compared decoded (`tok%65n` is `token`), the way they are read.
    static func maskToken(query: String, param: String = "token") -> String {
        QueryString.scan(query, masking: param).masked
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
    /// Returns `bytes` itself (no copy) when no token occurs in it.
    static func scrub(_ bytes: [UInt8], secrets: [[UInt8]]) -> [UInt8] {
        Redactor.scrub(bytes, secrets: secrets)
    }

    static func scrub(_ text: String, secrets: [[UInt8]]) -> String {
        // Usually no token is in the text: look without copying it first.
        var text = text
        let clean = text.withUTF8 { buffer in !secrets.contains { !$0.isEmpty && Redactor.firstMatch(of: $0, in: buffer) != nil } }
        if clean { return text }
        let bytes = Array(text.utf8)
        let scrubbed = scrub(bytes, secrets: secrets)
        return scrubbed == bytes ? text : String(decoding: scrubbed, as: UTF8.self)
    }

    /// Receiver tokens as they may appear on the wire: raw, form/URL-encoded, JSON-escaped,
    /// base64 and base64url.
    static func secretForms(_ config: LeadBridgeConfig) -> [[UInt8]] {
        var tokens = [config.receiver?.token].compactMap { $0 } + Array(config.receiver?.tokens.values ?? [:].values)
        tokens += config.intake?.tokens.keys.map { $0 } ?? []
        return Set(tokens.filter { !$0.isEmpty }.flatMap(Redactor.encodedForms).map { Array($0.utf8) }).sorted { $0.count > $1.count }
    }

    /// Checks, masks and normalizes a postback on the event loop (its query read once), then
    /// hands it to the store writer, which answers once it is stored and processed.
    func postback(_ r: HTTPServerRequest, network rawName: String, responder: HTTPResponder) {
        let name = (try? QueryString.decode(Substring(rawName), field: "network")) ?? rawName
        let client = r.clientAddress
        let shared = ingest.processor.spec(name)
        // A name no spec knows is kept (scrubbed: a token sent as `/postback/<token>` is no name).
        let network = shared?.spec.id ?? String(Self.scrub(name, secrets: secretForms).prefix(64))
        let form = shared?.spec.postbacks?.form
        let tokenParam = form?.path == r.path ? (form?.tokenParam ?? "token") : "token"
        let scan = QueryString.scan(r.query, masking: tokenParam)
        let query = Self.scrub(scan.masked, secrets: secretForms)
        var raw = RawPostback(receivedAt: clock(), network: network, remote: client, method: r.method,
                              path: Self.scrub(r.path.utf8.count <= 300 ? r.path : String(r.path.prefix(300)), secrets: secretForms),
                              query: query, body: Self.scrub(Self.maskToken(body: r.body, param: tokenParam), secrets: secretForms))
        if shared == nil {
            raw.result = .unknownNetwork
        } else if let list = allow[network], !list.contains(where: { $0.contains(client) }) {
            raw.result = .forbidden
            log(.postbackAddressRefused(network: network, client: client))
        } else {
            if !tokenDigests.matches(Self.tokenFrom(r, query: scan, param: tokenParam), network: network) {
                raw.result = .forbidden
                log(.postbackWrongToken(network: network, client: client))
            }
        }
        // The stored query is what the normalizer reads: the scan's pairs are it, unless the
        // scrub found a token elsewhere in the query (then the scrubbed text is read again).
        let pairs: Result<[(String, String)], PostbackError>
        if query == scan.masked, let p = scan.pairs {
            pairs = .success(p)
        } else if query == scan.masked, let e = scan.error {
            pairs = .failure(e)
        } else {
            pairs = Result { () throws(PostbackError) in try QueryString.parse(query) }
        }
        let prepared = ingest.processor.prepare(raw, query: pairs, known: shared)
        if !ingest.submit(raw, prepared: prepared, responder: responder) {
            log(.postbackWriterBehind(network: network, client: client, waiting: ingest.maxQueued))
            responder.respond(IngestReply(status: 503, text: "busy: try again shortly").httpResponse)
        }
    }

    // MARK: lead intake

    /// Lead intake runs on the store writer (it reads and writes the ledger), never on the loop.
    func intake(_ r: HTTPServerRequest, responder: HTTPResponder) {
        let queued = ingest.perform { [self] in responder.respond(intake(r)) }
        if !queued { responder.respond(.json(#"{"status":"error","message":"shutting down, try again"}"# + "\n", status: 503)) }
    }

    func intake(_ r: HTTPServerRequest) -> HTTPServerResponse {
        func answer(_ status: Int, _ pairs: [(String, JSONValue)]) -> HTTPServerResponse { .json(JSONWriter.compact(.obj(pairs)) + "\n", status: status) }
        guard let rules = config.intake else { return answer(404, [("status", .string("error")), ("message", .string("lead intake is not configured"))]) }
        if let list = intakeAllow, !list.contains(where: { $0.contains(r.clientAddress) }) {
            log(.intakeAddressRefused(client: r.clientAddress))
            return answer(403, [("status", .string("error")), ("message", .string("address not allowed"))])
        }
        var given: String?
        if let auth = r.header("Authorization"), auth.lowercased().hasPrefix("bearer ") { given = String(auth.dropFirst(7)).trimmingWhitespace }
        guard let source = intakeSource(given) else {
            log(.intakeWrongToken(client: r.clientAddress))
            return answer(401, [("status", .string("error")), ("message", .string("wrong or missing bearer token"))])
        }
        var pairs: [(String, String)]
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
        // A source repeating its token in a field (raw, encoded, base64): masked before it is stored.
        pairs = pairs.map { ($0.0, Self.scrub($0.1, secrets: secretForms)) }
        let newId = "LB" + Self.randomId()
        let sourceSpec = config.anySource(source).flatMap { library.spec($0.network)?.intake }
        switch IntakeReader.lead(from: pairs, newId: newId, rules: rules, source: sourceSpec) {
        case .rejected(let errors):
            return answer(422, [("status", .string("rejected")), ("errors", .array(errors.map { .obj([("field", .string($0.field)), ("message", .string($0.message))]) }))])
        case .lead(let lead):
            guard let accountName = IntakeReader.route(lead, routes: rules.routes), let account = config.accounts[accountName] else {
                return answer(422, [("status", .string("rejected")), ("errors", .array([.obj([("field", .string("params")), ("message", .string("no route takes this lead (check the offer)"))])]))])
            }
            let sourceRef = lead.fields["source_id"] ?? lead.fields["click_id"]
            do {
                switch try ledger.enqueue(lead, network: account.network, account: accountName, source: source, sourceRef: sourceRef) {
                case .queued(let rec):
                    onIntake()
                    return answer(200, [("status", .string("accepted")), ("id", .string(rec.orderId))])
                case .exists(let rec):
                    return answer(200, [("status", .string("accepted")), ("id", .string(rec.orderId)), ("duplicate", .bool(true))])
                }
            } catch {
                log(.intakeStoreUnavailable(detail: "\(error)"))
                var unavailable = answer(503, [("status", .string("error")), ("message", .string("store unavailable, try again later"))])
                unavailable.headers.append(HTTPHeader("Retry-After", "1"))
                return unavailable
            }
        }
    }

    static func randomId() -> String {
        let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
        var g = SystemRandomNumberGenerator()
        return String((0..<12).map { _ in alphabet[Int(g.next() % UInt64(alphabet.count))] })
    }
}
