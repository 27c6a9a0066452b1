/// The result of running one spec example.
public struct ExampleResult: Sendable {
    public var network: String
    public var name: String
    public var pointer: String
    /// Empty when the example holds; otherwise what differs, one finding each.
    public var differences: [ExampleDifference]
    public var passed: Bool { differences.isEmpty }
}

/// Runs spec examples offline: builds each request, compares it with the expected bytes
/// (showing headers line by line and form/JSON bodies field by field), plays back the canned
/// response, and compares the outcome.
public enum ExampleRunner {
    public static func runAll(_ spec: NetworkSpec, defaults: StatusDefaults? = nil) -> [ExampleResult] {
        spec.examples.map { run(spec, $0) } + spec.pollExamples.map { runPoll(spec, $0, defaults: defaults) } + spec.outgoingExamples.map { runOutgoing(spec, $0) }
    }

    /// An outgoing postback: the request the source must receive for this lead and status.
    public static func runOutgoing(_ spec: NetworkSpec, _ example: OutgoingExample) -> ExampleResult {
        func result(_ diffs: [ExampleDifference]) -> ExampleResult { ExampleResult(network: spec.id, name: example.name, pointer: example.pointer, differences: diffs) }
        guard let out = spec.outgoing.first(where: { $0.id == example.outgoing }) else { return result([.noOutgoing(example.outgoing)]) }
        let source = example.account ?? spec.exampleAccount ?? AccountValues(name: "example", credentials: [:], params: [:])
        guard OutgoingRequest.applies(out, to: example.lead), let word = out.statuses[example.status] else {
            return result(example.request.map { _ in [.outgoingSendsNothing(status: example.status.rawValue, outgoing: out.id)] } ?? [])
        }
        let missing = OutgoingRequest.missingSettings(out, source: source)
        if !missing.isEmpty { return result([.accountLacks(missing)]) }
        guard let expected = example.request else { return result([.outgoingSends(status: example.status.rawValue, word: word, outgoing: out.id)]) }
        let price = SourcePrice.price(for: example.status, configured: example.price.map { .fixed($0) }, offer: nil, payout: nil, currency: nil)
        do {
            let built = try OutgoingRequest.build(out, .init(lead: example.lead, source: source, word: word, changed: example.changed, price: price))
            return result(compare(built, expected))
        } catch {
            return result([.cannotBuild(error.problem)])
        }
    }

    public static func run(_ spec: NetworkSpec, _ example: SendExample) -> ExampleResult {
        var diffs: [ExampleDifference] = []
        let account = example.account ?? spec.exampleAccount ?? AccountValues(name: "example", credentials: [:], params: [:])
        do {
            var plan = try SendPlan(spec: spec, lead: example.lead, account: account, now: example.now)
            for (i, exchange) in example.exchanges.enumerated() {
                guard let built = try plan.nextRequest() else {
                    diffs.append(.sendEnded(exchange: i, outcome: plan.outcome?.kind.rawValue))
                    break
                }
                diffs += compare(built.request, exchange.request).map { example.exchanges.count > 1 ? .inRequest(i + 1, $0) : $0 }
                plan.handle(HTTPResponseValue(status: exchange.response.status, headers: exchange.response.headers.map { HTTPHeader($0.name, $0.value) },
                                              body: Array(exchange.response.body.utf8)))
            }
            if let o = plan.outcome {
                if o.kind != example.expect.result { diffs.append(.result(expected: example.expect.result.rawValue, got: o.kind.rawValue, message: o.message)) }
                if let id = example.expect.externalId, o.externalId != id { diffs.append(.externalId(expected: id, got: o.externalId)) }
                if let m = example.expect.message, o.message != m { diffs.append(.message(expected: m, got: o.message ?? "")) }
            } else if diffs.isEmpty {
                diffs.append(.sendNeedsMoreExchanges)
            }
        } catch {
            if case .invalidLead = error, example.expect.result == .rejected, example.exchanges.isEmpty {
                return ExampleResult(network: spec.id, name: example.name, pointer: example.pointer, differences: [])
            }
            diffs.append(.cannotPrepare(error))
        }
        return ExampleResult(network: spec.id, name: example.name, pointer: example.pointer, differences: diffs)
    }

    public static func runPoll(_ spec: NetworkSpec, _ example: PollExample, defaults: StatusDefaults? = nil) -> ExampleResult {
        var diffs: [ExampleDifference] = []
        let account = example.account ?? spec.exampleAccount ?? AccountValues(name: "example", credentials: [:], params: [:])
        guard let poll = spec.poll else { return ExampleResult(network: spec.id, name: example.name, pointer: example.pointer, differences: [.noPollBlock]) }
        var plan = PollPlan(spec: spec, poll: poll, account: account, leads: example.leads.map { PollPlan.Target(orderId: $0.id, externalId: $0.externalId, created: $0.created) },
                            now: example.now, defaults: defaults)
        var results: [PollPlan.Observation] = []
        for (i, exchange) in example.exchanges.enumerated() {
            guard let request = (try? plan.nextRequest()) ?? nil else {
                diffs.append(.pollEnded(exchange: i))
                break
            }
            diffs += compare(request.request, exchange.request).map { .inRequest(i + 1, $0) }
            let r = plan.handle(HTTPResponseValue(status: exchange.response.status, headers: exchange.response.headers.map { HTTPHeader($0.name, $0.value) },
                                                  body: Array(exchange.response.body.utf8)))
            let failure: PollFailure
            switch r {
            case .observations(let obs): results += obs; continue
            case .failed(let f): failure = f
            case .accountError(let message): failure = .said(message)
            }
            if let expected = example.failure {
                if !failure.english.contains(expected) { diffs.append(.inRequest(i + 1, .failureDiffers(expected: expected, got: failure))) }
                return ExampleResult(network: spec.id, name: example.name, pointer: example.pointer, differences: diffs)
            }
            diffs.append(.inRequest(i + 1, .pollFailed(failure)))
        }
        if let expected = example.failure { diffs.append(.pollDidNotFail(expected: expected)) }
        if diffs.isEmpty, (try? plan.nextRequest()) ?? nil != nil { diffs.append(.pollWantsMore) }
        for e in example.expect {
            guard let got = results.first(where: { $0.orderId == e.lead }) else { diffs.append(.noStatusFound(lead: e.lead)); continue }
            if got.status != e.status { diffs.append(.status(lead: e.lead, expected: e.status.rawValue, got: got.status?.rawValue, raw: got.raw)) }
            if let raw = e.raw, got.raw != raw { diffs.append(.raw(lead: e.lead, expected: raw, got: got.raw)) }
        }
        return ExampleResult(network: spec.id, name: example.name, pointer: example.pointer, differences: diffs)
    }

    /// Differences between a built request and the expected one.
    public static func compare(_ built: HTTPRequestValue, _ expected: ExpectedRequest) -> [ExampleDifference] {
        var d: [ExampleDifference] = []
        if built.method != expected.method.uppercased() { d.append(.method(expected: expected.method, built: built.method)) }
        if built.url != expected.url {
            let (eb, eq) = splitQuery(expected.url), (bb, bq) = splitQuery(built.url)
            if eb != bb { d.append(.url(expected: expected.url, built: built.url)) } else {
                d += fieldDiff(parseForm(eq), parseForm(bq), .query)
                if d.isEmpty { d.append(.urlQuery(expected: eq, built: bq)) }
            }
        }
        for h in expected.headers {
            let got = built.header(h.name)
            if got != h.value { d.append(.header(name: h.name, expected: h.value, built: got)) }
        }
        if let body = expected.body, body != built.bodyText {
            let ct = built.header("Content-Type") ?? ""
            var detailed: [ExampleDifference] = []
            if ct.hasPrefix("application/x-www-form-urlencoded") {
                detailed = fieldDiff(parseForm(body), parseForm(built.bodyText), .form)
            } else if ct.hasPrefix("application/json"), let e = try? JSONParser.parse(body), let b = try? JSONParser.parse(built.bodyText) {
                detailed = fieldDiff(flatten(e), flatten(b), .json)
                if detailed.isEmpty { detailed.append(.jsonBytes) }
            }
            d += detailed
            d.append(.body(expected: body, built: built.bodyText))
        }
        return d
    }

    static func splitQuery(_ url: String) -> (String, String) {
        guard let q = url.firstIndex(of: "?") else { return (url, "") }
        return (String(url[url.startIndex..<q]), String(url[url.index(after: q)...]))
    }

    static func parseForm(_ s: String) -> [(String, String)] {
        s.split(separator: "&").map { part in
            let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = (try? QueryString.decode(kv[0], field: "")) ?? String(kv[0])
            let value = kv.count > 1 ? ((try? QueryString.decode(kv[1], field: "")) ?? String(kv[1])) : ""
            return (key, value)
        }
    }

    static func flatten(_ v: JSONValue, prefix: String = "") -> [(String, String)] {
        switch v {
        case .object(let o): return o.members.flatMap { flatten($0.value, prefix: prefix.isEmpty ? $0.key : prefix + "." + $0.key) }
        case .array(let a): return a.enumerated().flatMap { flatten($0.element, prefix: prefix + "." + String($0.offset)) }
        default: return [(prefix, JSONWriter.compact(v))]
        }
    }

    static func fieldDiff(_ expected: [(String, String)], _ built: [(String, String)], _ part: ExampleDifference.Part) -> [ExampleDifference] {
        var d: [ExampleDifference] = []
        let e = Dictionary(expected, uniquingKeysWith: { a, _ in a }), b = Dictionary(built, uniquingKeysWith: { a, _ in a })
        for (k, v) in expected {
            if let got = b[k] { if got != v { d.append(.fieldDiffers(part, key: k, expected: v, built: got)) } } else { d.append(.fieldMissing(part, key: k, expected: v)) }
        }
        for (k, v) in built where e[k] == nil { d.append(.fieldNotExpected(part, key: k, built: v)) }
        if d.isEmpty, expected.map(\.0) != built.map(\.0) {
            d.append(.fieldOrder(part, expected: expected.map(\.0), built: built.map(\.0)))
        }
        return d
    }
}
