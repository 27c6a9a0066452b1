import FoundationEssentials
import Glibc
import LeadBridgeCore
import LeadBridgeCrypto
import LeadBridgeEngine
import LeadBridgeNet
import Synchronization

/// Faults injected into one network's answers (rates are probabilities per request).
public struct EmulatorFaults: Sendable, Hashable {
    public var serverError = 0.0
    public var throttle = 0.0
    public var timeout = 0.0
    public var reset = 0.0
    public var garbage = 0.0
    public var errorIn200 = 0.0
    public var slowMs = 0
    /// Sends only: the network takes the lead, then answers after `timeoutSeconds` (a slow
    /// network; polls answer at once).
    public var lateAnswer = 0.0
    public init() {}

    /// `kma:5xx=0.2,429=0.05,timeout=0.05,reset=0.05,garbage=0.05,error200=0.05,slow=200;*:5xx=0.1`
    public static func parse(_ text: String) throws(EmulatorError) -> [String: EmulatorFaults] {
        var out: [String: EmulatorFaults] = [:]
        for group in text.split(separator: ";") where !group.isEmpty {
            let parts = group.split(separator: ":", maxSplits: 1)
            let (network, list) = parts.count == 2 ? (String(parts[0]), parts[1]) : ("*", parts[0])
            var f = out[network] ?? EmulatorFaults()
            for item in list.split(separator: ",") {
                let kv = item.split(separator: "=", maxSplits: 1).map(String.init)
                guard kv.count == 2, let v = Double(kv[1]), v >= 0 else { throw .notNameNumber(String(item)) }
                switch kv[0] {
                case "5xx": f.serverError = v
                case "429": f.throttle = v
                case "timeout": f.timeout = v
                case "reset": f.reset = v
                case "garbage": f.garbage = v
                case "error200": f.errorIn200 = v
                case "slow": f.slowMs = Int(v)
                case "late": f.lateAnswer = v
                default: throw .unknownFault(kv[0], known: EmulatorError.faultNames)
                }
            }
            out[network] = f
        }
        return out
    }
}

/// Why a `--faults` text is refused, as a value: the command line words it in the user's
/// language; `english` is the stable sentence.
public enum EmulatorError: Error, Sendable, Hashable, CustomStringConvertible {
    case notNameNumber(String)
    case unknownFault(String, known: [String])

    /// The faults `--faults` knows, in the order the help lists them.
    public static let faultNames = ["5xx", "429", "timeout", "reset", "garbage", "error200", "slow", "late"]

    public var english: String {
        switch self {
        case .notNameNumber(let item): return "fault \"\(item)\" is not NAME=NUMBER"
        case .unknownFault(let name, let known): return "unknown fault \"\(name)\" (\(known.joined(separator: ", ")))"
        }
    }
    public var description: String { english }
}

/// How leads move at the emulated networks.
public struct EmulatorBehaviour: Sendable {
    /// Seconds after acceptance when a lead reaches its final status.
    public var settleAfter: Double = 5
    /// Shares of final statuses (the rest stays pending).
    public var approved = 0.6, cancelled = 0.25, trash = 0.15
    /// Seconds a "timeout" fault holds the answer.
    public var timeoutSeconds: Double = 2.5
    public init() {}
}

/// A loopback stand-in for the catalog's networks, driven by their specs: it accepts exactly
/// the requests a spec's `send` makes (checking credentials, required fields and signatures),
/// detects duplicate phones, gives external ids, moves leads to a final status over time,
/// answers the spec's `poll` in the network's shape, and calls our receiver with postbacks
/// built from the spec's own tails. Everything it knows comes from the spec and its examples.
public final class NetworkEmulator: Sendable {
    public struct LeadState: Sendable {
        public var network: String
        public var orderId: String
        public var externalId: String
        public var phone: String
        public var acceptedAt: Double
        public var plan: Bucket
        public var current: Bucket
        public var postbackSent = false
        /// The receiver's answer to the last postback delivered for this lead (an answer below
        /// 500 counts as delivered): what a test names when the ledger missed a status.
        public var postbackAnswer: Int?
        /// Send requests for this order after it was accepted (a second send would be a bug).
        public var repeatSends = 0
    }

    struct State {
        var leads: [String: LeadState] = [:]  // network/orderId
        /// Keys of each network's leads in the order they arrived (external ids ascend), for paged polls.
        var arrival: [String: [String]] = [:]
        /// Leads still to settle, by the time they do: advancing touches only those due.
        var settling = MinHeap<Double, String>() // lead keys by settle time
        var byExternal: [String: String] = [:]  // network/externalId → key
        var byPhone: [String: String] = [:]
        var nextId: Int = 100_000
        var requests: [String: Int] = [:]
        var outcomes: [String: [String: Int]] = [:]
        var postbackQueue: [(key: String, url: String)] = []
        var postbacksDelivered = 0

        mutating func count(_ network: String, _ what: String) { outcomes[network, default: [:]][what, default: 0] += 1 }
    }

    let library: SpecLibrary
    let routes: [EmulatedRoute]
    let specs: [String: NetworkSpec]
    let accounts: [String: AccountValues]
    let faults: [String: EmulatorFaults]
    public let behaviour: EmulatorBehaviour
    let clock: @Sendable () -> Double
    let receiver: (base: String, token: String)?
    let state = Mutex(State())
    /// The fault rolls, lock-free (a fixed seed: a run's faults repeat), so rolling a fault
    /// never queues a request behind the leads' lock (64 connection threads waking together
    /// from a slow fault's delay convoyed on it).
    let rolls = JitterSource(seed: 0x9E37_79B9_7F4A_7C15)
    /// Each network's request count, outside the leads' lock for the same reason.
    let requestCounts: [String: RequestCount]

    /// A request counter every connection thread bumps without a lock.
    final class RequestCount: Sendable {
        let value = Atomic<Int>(0)
    }

    /// `networks`: ids to emulate (default: every spec with send, poll or postbacks).
    public init(library: SpecLibrary, networks: [String]? = nil, faults: [String: EmulatorFaults] = [:], behaviour: EmulatorBehaviour = EmulatorBehaviour(),
                receiver: (base: String, token: String)? = nil, clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        self.library = library
        self.faults = faults
        self.behaviour = behaviour
        self.clock = clock
        self.receiver = receiver
        var routes: [EmulatedRoute] = []
        var specs: [String: NetworkSpec] = [:]
        var accounts: [String: AccountValues] = [:]
        for spec in library.specs where (networks?.contains(spec.id) ?? true) && (spec.send != nil || spec.poll != nil || spec.hasPostbacks) {
            let account = spec.exampleAccount ?? AccountValues(name: "example", credentials: [:], params: [:])
            specs[spec.id] = spec
            accounts[spec.id] = account
            var ctx = TemplateContext.request(account: account, lead: Lead(id: "X", phone: "+70000000000"), now: 0)
            if let send = spec.send {
                for (i, step) in send.steps.enumerated() {
                    if let r = EmulatedRoute.make(network: spec.id, role: .step(i), request: step.request, sign: step.sign, context: ctx) { routes.append(r) }
                    ctx["steps.\(step.id).\(step.extract.first?.name ?? "")"] = .text("x")
                    for e in step.extract { ctx["steps.\(step.id).\(e.name)"] = .text("x") }
                }
                if let r = EmulatedRoute.make(network: spec.id, role: .send, request: send.request, sign: send.sign, context: ctx) { routes.append(r) }
            }
            if let poll = spec.poll, let r = EmulatedRoute.make(network: spec.id, role: .poll, request: poll.request, sign: poll.sign, context: ctx) {
                routes.append(r)
            }
            if let poll = spec.poll, let lookup = poll.lookup,
               let r = EmulatedRoute.make(network: spec.id, role: .lookup, request: lookup.request, sign: poll.sign, context: ctx) {
                routes.append(r)
            }
        }
        self.routes = routes
        self.requestCounts = Dictionary(uniqueKeysWithValues: specs.keys.map { ($0, RequestCount()) })
        self.specs = specs
        self.accounts = accounts
    }

    /// Hosts of every emulated request, for `--connect-to`/`LEADBRIDGE_CONNECT_TO`.
    public var hosts: [String] { Array(Set(routes.map(\.host))).sorted() }
    public var networks: [String] { specs.keys.sorted() }

    // MARK: requests

    public func handle(_ request: HTTPServerRequest) -> HTTPServerResponse {
        if request.path.hasPrefix("/_emulator/") { return admin(request) }
        let host = (request.header("Host") ?? "").split(separator: ":").first.map { String($0).lowercased() } ?? ""
        let received = ReceivedFields(request)
        let candidates = routes.filter { $0.host == host && $0.method == request.method && $0.matches(path: request.path) }
        guard let route = candidates.first(where: { r in r.constants.allSatisfy { received.first($0.0) == $0.1 } }) ?? (candidates.count == 1 ? candidates.first : nil),
              let spec = specs[route.network] else {
            return .text("no such endpoint at the emulator: \(request.method) \(host)\(request.path)\n", status: 404)
        }
        requestCounts[route.network]?.value.add(1, ordering: .relaxed)
        if let fault = injectFault(route.network, role: route.role) { return fault }
        switch route.role {
        case .step(let i): return step(i, route: route, spec: spec, request: request, received: received)
        case .send: return lateFault(route.network, after: send(route: route, spec: spec, request: request, received: received))
        case .poll: return poll(route: route, spec: spec, request: request, received: received)
        case .lookup:
            count(route.network, "lookups")
            return poll(route: route, spec: spec, request: request, received: received, lookup: true)
        }
    }

    func random() -> Double { rolls.next() }

    func count(_ network: String, _ what: String) {
        state.withLock { $0.count(network, what) }
    }

    /// Faults before the request is processed: the network never takes the lead. For a send
    /// they are the refusals a client can retry safely (503, 429, an error in a 200); a lost or
    /// unreadable answer to a send happens after the lead is taken (`lateFault`).
    func injectFault(_ network: String, role: EmulatedRoute.Role) -> HTTPServerResponse? {
        guard let f = faults[network] ?? faults["*"] else { return nil }
        if f.slowMs > 0 { usleep(UInt32(f.slowMs) * 1000) }
        var roll = random()
        func hit(_ p: Double) -> Bool { if roll < p { return true }; roll -= p; return false }
        if hit(f.serverError) {
            count(network, "fault-5xx")
            // A send is refused before it is processed (503); other requests fail any way.
            return .text("<html>503 Service Unavailable</html>", status: role == .send ? 503 : [500, 502, 503][Int(random() * 3) % 3])
        }
        if hit(f.throttle) { count(network, "fault-429"); return HTTPServerResponse(status: 429, headers: [HTTPHeader("Retry-After", "1")], body: []) }
        if role == .send {
            if hit(f.errorIn200), let body = exampleResponse(network, .rejected)?.body ?? exampleResponse(network, .failed)?.body {
                count(network, "fault-error200")
                return .text(body, status: 200, contentType: "application/json")
            }
            return nil
        }
        if hit(f.timeout) {
            count(network, "fault-timeout")
            usleep(UInt32(behaviour.timeoutSeconds * 1_000_000))
            return .text("too late", status: 504)
        }
        if hit(f.reset) { count(network, "fault-reset"); return HTTPServerResponse.abortConnection }
        if hit(f.garbage) {
            count(network, "fault-garbage")
            // Where 2xx alone means "accepted", a garbage 200 would be a real acceptance: use 502.
            return .text("<html><body>Fatal error: Allowed memory size exhausted", status: acceptsOnStatusAlone(network) ? 502 : 200)
        }
        if role != .poll && role != .lookup, hit(f.errorIn200), let body = exampleResponse(network, .rejected)?.body ?? exampleResponse(network, .failed)?.body {
            count(network, "fault-error200")
            return .text(body, status: 200, contentType: "application/json")
        }
        return nil
    }

    /// Faults after a send was processed: the network has the lead (or refused it) and the
    /// answer comes too late, is cut, or cannot be read. The client cannot know which.
    func lateFault(_ network: String, after answer: HTTPServerResponse) -> HTTPServerResponse {
        guard let f = faults[network] ?? faults["*"] else { return answer }
        var roll = random()
        func hit(_ p: Double) -> Bool { if roll < p { return true }; roll -= p; return false }
        if hit(f.timeout + f.lateAnswer) {
            count(network, "fault-timeout")
            usleep(UInt32(behaviour.timeoutSeconds * 1_000_000))
            return answer
        }
        if hit(f.reset) { count(network, "fault-reset"); return HTTPServerResponse.abortConnection }
        if hit(f.garbage) {
            count(network, "fault-garbage")
            return .text("<html><body>Fatal error: Allowed memory size exhausted", status: acceptsOnStatusAlone(network) ? 502 : 200)
        }
        return answer
    }

    // MARK: send

    func exampleResponse(_ network: String, _ kind: OutcomeKind, exchange: Int? = nil) -> CannedResponse? {
        guard let spec = specs[network] else { return nil }
        let steps = spec.send?.steps.count ?? 0
        guard let ex = spec.examples.first(where: { $0.expect.result == kind && $0.exchanges.count == steps + 1 }) ?? (exchange != nil ? spec.examples.first(where: { $0.exchanges.count > (exchange ?? 0) }) : nil) else { return nil }
        let i = exchange ?? ex.exchanges.count - 1
        return i < ex.exchanges.count ? ex.exchanges[i].response : nil
    }

    func step(_ i: Int, route: EmulatedRoute, spec: NetworkSpec, request: HTTPServerRequest, received: ReceivedFields) -> HTTPServerResponse {
        guard let send = spec.send, i < send.steps.count, let canned = exampleResponse(spec.id, .accepted, exchange: i) else { return .status(500) }
        let s = send.steps[i]
        var body = canned.body
        var headers = canned.headers.map { HTTPHeader($0.name, $0.value) }
        let token = "em-\(spec.id)-\(Int(random() * 1e9))"
        for (_, rule) in s.extract {
            switch rule.source {
            case .body: body = token
            case .json(let path):
                if var j = try? JSONParser.parse(body) { j = JSONEdit.set(j, path: path, to: .string(token)); body = JSONWriter.compact(j) }
            case .header(let h): headers.append(HTTPHeader(h, token))
            }
        }
        return HTTPServerResponse(status: canned.status, headers: headers, body: Array(body.utf8))
    }

    func send(route: EmulatedRoute, spec: NetworkSpec, request: HTTPServerRequest, received: ReceivedFields) -> HTTPServerResponse {
        let values = TemplateReader.values(route: route, received: received, headers: request)
        let account = accounts[spec.id] ?? AccountValues(name: "", credentials: [:], params: [:])
        func reject(_ why: String) -> HTTPServerResponse {
            count(spec.id, "rejected")
            count(spec.id, "rejected: " + why)
            guard let c = exampleResponse(spec.id, .rejected) ?? exampleResponse(spec.id, .duplicate) else { return .text(why, status: 400) }
            return HTTPServerResponse(status: c.status, headers: c.headers.map { HTTPHeader($0.name, $0.value) } + [HTTPHeader("X-Emulator-Reason", why)], body: Array(c.body.utf8))
        }
        // Credentials: every value the spec takes from a credential must be the account's.
        if let problem = checkCredentials(route: route, request: request, received: received, values: values, account: account) { return reject(problem) }
        if let sign = route.sign, let problem = checkSignature(sign, request: request, received: received, account: account) { return reject(problem) }
        // What a lead must carry is the spec's (a phone unless it says otherwise).
        let requirements = spec.send?.leadRequirements ?? ["lead.phone"]
        let phone = values["lead.phone"]?.first.map { $0.filter(\.isNumber) } ?? ""
        if requirements.contains("lead.phone") && phone.isEmpty { return reject("missing phone") }
        for r in requirements where (values[r]?.first ?? "").isEmpty && r != "lead.phone" && values.keys.contains(where: { $0 == r }) {
            return reject("missing \(r)")
        }
        let orderId = values["lead.id"]?.first ?? values["lead.click_id"]?.first ?? ""
        let key = "\(spec.id)/\(orderId)"
        let now = clock()
        enum Verdict { case accepted(String), duplicate(String?) }
        let verdict: Verdict = state.withLock { s in
            if var existing = s.leads[key] {
                existing.repeatSends += 1
                s.leads[key] = existing
                s.count(spec.id, "duplicate")
                return .duplicate(existing.externalId)
            }
            if !phone.isEmpty, let other = s.byPhone["\(spec.id)/\(phone)"] {
                s.count(spec.id, "duplicate")
                return .duplicate(s.leads[other]?.externalId)
            }
            s.nextId += 1
            let ext = String(s.nextId)
            let plan = Self.plan(orderId: orderId, behaviour: behaviour)
            s.add(LeadState(network: spec.id, orderId: orderId, externalId: ext, phone: phone, acceptedAt: now, plan: plan, current: .pending),
                  key: key, settleAt: now + Self.settleTime(orderId, behaviour))
            s.byExternal["\(spec.id)/\(ext)"] = key
            if !phone.isEmpty { s.byPhone["\(spec.id)/\(phone)"] = key }
            s.count(spec.id, "accepted")
            return .accepted(ext)
        }
        switch verdict {
        case .duplicate:
            guard let c = exampleResponse(spec.id, .duplicate) ?? exampleResponse(spec.id, .rejected) else { return .text("duplicate", status: 409) }
            return HTTPServerResponse(status: c.status, headers: c.headers.map { HTTPHeader($0.name, $0.value) }, body: Array(c.body.utf8))
        case .accepted(let ext):
            guard let c = exampleResponse(spec.id, .accepted) else { return .text("ok", status: 200) }
            var body = c.body
            if let path = acceptedIdPath(spec, body: c.body), var j = try? JSONParser.parse(c.body) {
                let old = j.value(atPath: path)
                j = JSONEdit.set(j, path: path, to: old?.doubleValue != nil && old?.stringValue == nil ? .number(ext) : .string(ext))
                body = JSONWriter.compact(j)
            }
            return HTTPServerResponse(status: c.status, headers: c.headers.map { HTTPHeader($0.name, $0.value) }, body: Array(body.utf8))
        }
    }

    /// Deterministic final status of an order (by its id), in the configured proportions.
    static func plan(orderId: String, behaviour: EmulatorBehaviour) -> Bucket {
        var h: UInt64 = 1469598103934665603
        for b in orderId.utf8 { h = (h ^ UInt64(b)) &* 1099511628211 }
        let x = Double(h % 10_000) / 10_000
        if x < behaviour.approved { return .approved }
        if x < behaviour.approved + behaviour.cancelled { return .cancelled }
        if x < behaviour.approved + behaviour.cancelled + behaviour.trash { return .trash }
        return .pending
    }

    /// Each order settles at its own time: between 0.5 and 1.5 × `settleAfter`.
    static func settleTime(_ orderId: String, _ behaviour: EmulatorBehaviour) -> Double {
        var h: UInt64 = 14695981039346656037
        for b in orderId.utf8.reversed() { h = (h ^ UInt64(b)) &* 1099511628211 }
        return behaviour.settleAfter * (0.5 + Double(h % 1000) / 1000)
    }

    /// True when the spec's accepted rule looks only at the HTTP status.
    func acceptsOnStatusAlone(_ network: String) -> Bool {
        let rules = specs[network]?.send?.outcomes.filter { $0.result == .accepted } ?? []
        return rules.contains { $0.conditions.allSatisfy { if case .http = $0 { return true }; return false } }
    }

    func acceptedIdPath(_ spec: NetworkSpec, body: String) -> String? {
        guard let j = try? JSONParser.parse(body) else { return nil }
        return spec.send?.outcomes.first { $0.result == .accepted && $0.externalId.map { j.value(atPath: $0) != nil } == true }?.externalId
    }

    func checkCredentials(route: EmulatedRoute, request: HTTPServerRequest, received: ReceivedFields, values: [String: [String]], account: AccountValues) -> String? {
        for (k, expected) in account.credentials {
            guard let got = values["credentials.\(k)"] else { continue }
            if got.contains(where: { $0 != expected }) { return "wrong credential \(k)" }
        }
        let ctx = TemplateContext.request(account: account)
        switch route.request.auth {
        case .bearer(let t)?:
            let want = "Bearer " + ((try? TemplateRenderer.text(t, in: ctx)) ?? nil ?? "")
            if request.header("Authorization") != want { return "wrong bearer token" }
        case .basic(let user, let password)?:
            let pair = ((try? TemplateRenderer.text(user, in: ctx)) ?? nil ?? "") + ":" + ((try? TemplateRenderer.text(password, in: ctx)) ?? nil ?? "")
            if request.header("Authorization") != "Basic " + Base64.encode(Array(pair.utf8)) { return "wrong basic auth" }
        case .header(let name, let t)?:
            if request.header(name) != ((try? TemplateRenderer.text(t, in: ctx)) ?? nil) { return "wrong \(name) header" }
        case .query(let name, let t)?:
            if received.query.first(where: { $0.0 == name })?.1 != ((try? TemplateRenderer.text(t, in: ctx)) ?? nil) { return "wrong \(name)" }
        case .form(let name, let t)?:
            if received.body.first(where: { $0.0 == name })?.1 != ((try? TemplateRenderer.text(t, in: ctx)) ?? nil) { return "wrong \(name)" }
        case nil: break
        }
        return nil
    }

    /// Recomputes the signature over the bytes received (without the signature itself).
    func checkSignature(_ sign: SignSpec, request: HTTPServerRequest, received: ReceivedFields, account: AccountValues) -> String? {
        var ctx = TemplateContext.request(account: account)
        var body = request.bodyText
        var query = request.query
        let given: String?
        switch sign.into {
        case .form(let name):
            guard let r = body.ranges(of: "&\(PercentEncoding.php(name))=").last ?? (body.hasPrefix("\(name)=") ? body.firstRange(of: "\(name)=") : nil) else { return "missing signature \(name)" }
            given = String(body[r.upperBound...])
            body = String(body[body.startIndex..<r.lowerBound])
        case .query(let name):
            given = received.query.last(where: { $0.0 == name })?.1
            query = query.split(separator: "&").filter { !$0.hasPrefix("\(name)=") }.joined(separator: "&")
        case .header(let name):
            given = request.header(name)
        case .json(let name):
            given = received.json?[name]?.stringValue
            if case .object(var o)? = received.json { o[name] = nil; body = JSONWriter.compact(.object(o)) }
        }
        ctx["request.body"] = .text(body)
        ctx["request.query"] = .text(query)
        guard let given, let input = (try? TemplateRenderer.text(sign.input, in: ctx)) ?? nil,
              let expected = try? RequestBuilder.digest(sign, input: input, context: ctx) else { return "missing signature" }
        return given == expected ? nil : "bad signature"
    }

    // MARK: poll

    /// A status answer from the leads the emulator holds, shaped like the spec's first poll
    /// example; `lookup`: the one lead its id names, as the answer's single item.
    func poll(route: EmulatedRoute, spec: NetworkSpec, request: HTTPServerRequest, received: ReceivedFields, lookup: Bool = false) -> HTTPServerResponse {
        guard let poll = spec.poll, let example = spec.pollExamples.first(where: { $0.failure == nil }), let canned = example.exchanges.first?.response,
              let template = try? JSONParser.parse(canned.body) else { return .status(500) }
        let account = accounts[spec.id] ?? AccountValues(name: "", credentials: [:], params: [:])
        let values = TemplateReader.values(route: route, received: received, headers: request)
        if let problem = checkCredentials(route: route, request: request, received: received, values: values, account: account) {
            return .text(problem, status: 403)
        }
        advance()
        var leads: [LeadState] = []
        var pageInfo: (page: Int, pages: Int, total: Int)?
        if !lookup, let p = poll.pagination {
            let page = Int(values["page"]?.first ?? values["offset"]?.first ?? "\(p.start)") ?? p.start
            let index = values["offset"] != nil && values["page"] == nil ? page / max(1, p.pageSize) : page - p.start
            let (slice, total) = state.withLock { s -> ([LeadState], Int) in
                let keys = s.arrival[spec.id] ?? []
                let from = min(keys.count, max(0, index) * p.pageSize)
                return (keys[from..<min(keys.count, from + p.pageSize)].compactMap { s.leads[$0] }, keys.count)
            }
            leads = slice
            pageInfo = (index, (total + p.pageSize - 1) / p.pageSize, total)
        } else if !lookup, poll.window != nil {
            // A time window: everything the network has (the emulated leads are all recent).
            leads = state.withLock { s in s.leads.values.filter { $0.network == spec.id }.sorted { $0.externalId < $1.externalId } }
        } else {
            var ids: [String] = []
            for (name, list) in values where name == "ids" || name == "id" {
                for v in list { ids += v.split(whereSeparator: { ",; ".contains($0) }).map(String.init) }
            }
            leads = state.withLock { s in
                ids.compactMap { id in poll.by == .external ? s.byExternal["\(spec.id)/\(id)"].flatMap { s.leads[$0] } : s.leads["\(spec.id)/\(id)"] }
            }
        }
        count(spec.id, "polled \(leads.count)")
        let itemsPath = lookup ? (poll.lookup?.items ?? poll.items) : poll.items
        guard let examplesItems = template.value(atPath: poll.items) else { return .status(500) }
        var itemTemplate: JSONValue
        switch examplesItems {
        case .array(let a): itemTemplate = a.first ?? .object(JSONObject())
        case .object(let o) where poll.id == "$key": itemTemplate = o.members.first?.value ?? .object(JSONObject())
        default: itemTemplate = examplesItems
        }
        func item(_ l: LeadState) -> JSONValue {
            var it = itemTemplate
            let id = poll.match == .external ? l.externalId : l.orderId
            if poll.id != "$key" {
                let old = it.value(atPath: poll.id)
                it = JSONEdit.set(it, path: poll.id, to: old?.stringValue == nil && old?.doubleValue != nil && Int(id) != nil ? .number(id) : .string(id))
            }
            let word = Self.rawWord(spec, l.current, library.defaults, segments: poll.status.count)
            let segments = word.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            for (i, path) in poll.status.enumerated() where i < segments.count {
                let old = it.value(atPath: path)
                let seg = segments[i]
                let v: JSONValue = old?.boolValue != nil ? .bool(seg == "true" || seg == "1") : (old?.doubleValue != nil && old?.stringValue == nil && Double(seg) != nil ? .number(seg) : .string(seg))
                it = JSONEdit.set(it, path: path, to: v)
            }
            if let p = poll.payout { it = JSONEdit.set(it, path: p, to: .string(l.current == .approved ? "10.00" : "0")) }
            return it
        }
        var body = template
        let newItems: JSONValue
        switch examplesItems {
        case _ where lookup: newItems = leads.first.map(item) ?? .null
        case .array: newItems = .array(leads.map(item))
        case .object where poll.id == "$key":
            newItems = .object(JSONObject(leads.map { JSONMember(key: poll.match == .external ? $0.externalId : $0.orderId, value: item($0)) }))
        default: newItems = leads.first.map(item) ?? .null
        }
        body = JSONEdit.set(body, path: itemsPath, to: newItems)
        if let info = pageInfo, let p = poll.pagination {
            switch p.stop {
            case .hasMore(let path): body = JSONEdit.set(body, path: path, to: .bool(info.page + 1 < info.pages))
            case .total(let path): body = JSONEdit.set(body, path: path, to: .int(info.total))
            case .totalPages(let path): body = JSONEdit.set(body, path: path, to: .int(info.pages))
            default: break
            }
        }
        return HTTPServerResponse(status: canned.status, headers: canned.headers.map { HTTPHeader($0.name, $0.value) } + [HTTPHeader("Content-Type", "application/json")],
                                  body: Array(JSONWriter.compact(body).utf8))
    }

    /// A raw word the network would use for a bucket, from the spec (then the shared words).
    /// `segments` is the number of response fields the word spans (a poll's `status` paths).
    static func rawWord(_ spec: NetworkSpec, _ bucket: Bucket, _ defaults: StatusDefaults, segments: Int = 1) -> String {
        let lists: [StatusBucket] = bucket == .pending ? [.waiting, .hold] : [StatusBucket(rawValue: bucket.rawValue) ?? .waiting]
        for table in [spec.statuses] + (spec.statusDefaults ? [defaults.statuses] : []) {
            for l in lists {
                for w in table.words[l] ?? [] where w.split(separator: ":", omittingEmptySubsequences: false).count == segments {
                    let concrete = w.replacingAll("*", with: "0")
                    if spec.statuses.lookup(concrete)?.bucket ?? table.lookup(concrete)?.bucket == bucket { return concrete }
                }
            }
        }
        return segments == 1 ? bucket.rawValue : Array(repeating: bucket.rawValue, count: segments).joined(separator: ":")
    }

    // MARK: time and postbacks

    /// Moves leads whose time has come to their final status and queues their postbacks.
    /// Costs O(leads that settle now), whatever the number of leads.
    public func advance() {
        let now = clock()
        state.withLock { s in
            while let key = s.settling.popDue(now)?.element {
                guard let l = s.leads[key], l.current == .pending, l.plan != .pending else { continue }
                s.leads[key]?.current = l.plan
                if let url = postbackURL(for: s.leads[key] ?? l) { s.postbackQueue.append((key, url)) }
            }
        }
    }

    func postbackURL(for l: LeadState) -> String? {
        guard let receiver, let spec = specs[l.network], let pb = spec.postbacks else { return nil }
        let word = Self.rawWord(spec, l.current, library.defaults)
        if let form = pb.form, let path = form.path {
            // Field-by-field postbacks (AffbayAsia): the network calls the path it was given.
            var pairs: [(String, String)] = []
            for e in form.extra {
                switch e.key {
                case form.tokenParam: pairs.append((e.key, receiver.token))
                case "oid": pairs.append((e.key, l.orderId))
                case "eid": pairs.append((e.key, l.externalId))
                case "status": pairs.append((e.key, word))
                case "comment": pairs.append((e.key, "emulated"))
                default: continue
                }
            }
            return receiver.base + path + "?" + FormEncoder.encode(pairs.map { FormField($0.0, $0.1) }, .rfc3986)
        }
        // Prefer an item whose literal status means this bucket; else a macro item.
        var chosen: PostbackItem?
        var statusWord = word
        for item in pb.items {
            guard let tail = item.tail else { continue }
            let pairs = TailParser.pairs(tail)
            guard let status = pairs.first(where: { $0.0 == "status" })?.1 else { continue }
            if TailParser.macro(in: status) == nil {
                let table = StatusTable(Dictionary(pairs.compactMap { k, v -> (StatusBucket, [String])? in
                    SpecLinter.overrideKeys[k].map { ($0, v.split(separator: ",").map(String.init)) }
                }, uniquingKeysWith: +))
                let b = table.lookup(status)?.bucket ?? spec.statuses.lookup(status)?.bucket ?? library.defaults.statuses.lookup(status)?.bucket
                if b == l.current && !tail.contains("reason=") { chosen = item; statusWord = status; break }
            } else if chosen == nil {
                chosen = item
            }
        }
        guard let tail = chosen?.tail else { return nil }
        var filled = tail
        for (macro, meaning) in pb.macros {
            let v: String
            switch meaning {
            case .orderId: v = l.orderId
            case .externalId: v = l.externalId
            case .status: v = statusWord
            case .payout: v = l.current == .approved ? "10.00" : "0"
            case .currency: v = "USD"
            case .comment: v = "emulated"
            case .reason: v = ""
            case .offer, .other: v = "x"
            }
            filled = filled.replacingAll(macro, with: PercentEncoding.rfc3986(v))
        }
        return PostbackURL.join(base: "\(receiver.base)/postback/\(l.network)?token=\(PercentEncoding.rfc3986(receiver.token))", tail: filled)
    }

    /// Sends queued postbacks to the receiver; keeps those that could not be delivered.
    @discardableResult
    public func deliverPostbacks(transport: any HTTPTransport) async -> Int {
        let queue = state.withLock { s -> [(key: String, url: String)] in
            let q = s.postbackQueue
            s.postbackQueue.removeAll()
            return q
        }
        var failed: [(key: String, url: String)] = []
        var delivered = 0
        for item in queue {
            do {
                let r = try await transport.send(HTTPRequestValue(method: "GET", url: item.url), timeout: 10)
                if r.status >= 500 { failed.append(item) } else {
                    delivered += 1
                    state.withLock {
                        $0.leads[item.key]?.postbackSent = true
                        $0.leads[item.key]?.postbackAnswer = r.status
                    }
                }
            } catch {
                failed.append(item)
            }
        }
        state.withLock { s in
            s.postbackQueue.insert(contentsOf: failed, at: 0)
            s.postbacksDelivered += delivered
        }
        return delivered
    }

    /// Adds a lead sent outside the API (postback-only networks) so it moves and calls back.
    public func register(network: String, orderId: String) {
        let now = clock()
        state.withLock { s in
            s.nextId += 1
            let ext = String(s.nextId)
            let key = "\(network)/\(orderId)"
            s.add(LeadState(network: network, orderId: orderId, externalId: ext, phone: "", acceptedAt: now,
                            plan: Self.plan(orderId: orderId, behaviour: behaviour), current: .pending),
                  key: key, settleAt: now + Self.settleTime(orderId, behaviour))
            s.byExternal["\(network)/\(ext)"] = key
        }
    }

    /// Every lead the emulator knows, for tests and the demo's checks.
    public var leads: [LeadState] { state.withLock { Array($0.leads.values) } }
    public var counters: [String: [String: Int]] {
        var out = state.withLock { $0.outcomes }
        for (network, n) in requestCounts {
            let requests = n.value.load(ordering: .relaxed)
            if requests > 0 { out[network, default: [:]]["requests"] = requests }
        }
        return out
    }
    public var pendingPostbacks: Int { state.withLock { $0.postbackQueue.count } }

    // MARK: admin

    func admin(_ r: HTTPServerRequest) -> HTTPServerResponse {
        switch r.path {
        case "/_emulator/state":
            let leads = self.leads.sorted { ($0.network, $0.orderId) < ($1.network, $1.orderId) }
            return .json(JSONWriter.compact(.array(leads.map { l in
                .obj([("network", .string(l.network)), ("order_id", .string(l.orderId)), ("external_id", .string(l.externalId)),
                      ("plan", .string(l.plan.rawValue)), ("current", .string(l.current.rawValue)), ("postback_sent", .bool(l.postbackSent)),
                      ("repeat_sends", .int(l.repeatSends))])
            })))
        case "/_emulator/register":
            let q = (try? QueryString.parse(r.query)) ?? []
            guard let n = q.first(where: { $0.0 == "network" })?.1, let o = q.first(where: { $0.0 == "oid" })?.1 else { return .text("network and oid needed", status: 400) }
            register(network: n, orderId: o)
            return .text("ok")
        default:
            return .status(404)
        }
    }
}

extension NetworkEmulator.State {
    /// A new lead: stored, listed in arrival order, and queued to settle when its plan says
    /// it leaves `pending`. A key seen before (a re-registration) is not listed twice.
    mutating func add(_ lead: NetworkEmulator.LeadState, key: String, settleAt: Double) {
        if leads.updateValue(lead, forKey: key) == nil { arrival[lead.network, default: []].append(key) }
        if lead.plan != .pending { settling.push(key, at: settleAt) }
    }
}

/// Sets a value at a dot path inside a JSON document (creating objects as needed).
enum JSONEdit {
    static func set(_ root: JSONValue, path: String, to value: JSONValue) -> JSONValue {
        if path.isEmpty || path == "$" { return value }
        let parts = path.split(separator: ".").map(String.init)
        return set(root, parts[...], value)
    }

    static func set(_ node: JSONValue, _ parts: ArraySlice<String>, _ value: JSONValue) -> JSONValue {
        guard let head = parts.first else { return value }
        switch node {
        case .array(var a):
            guard let i = Int(head), i >= 0, i < a.count else { return node }
            a[i] = set(a[i], parts.dropFirst(), value)
            return .array(a)
        case .object(var o):
            o[head] = set(o[head] ?? .object(JSONObject()), parts.dropFirst(), value)
            return .object(o)
        default:
            var o = JSONObject()
            o[head] = set(.object(JSONObject()), parts.dropFirst(), value)
            return .object(o)
        }
    }
}
