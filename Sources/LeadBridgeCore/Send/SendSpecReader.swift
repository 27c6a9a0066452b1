/// Reads the `send`, `poll` and `outgoing` blocks of a spec into typed values.
enum SendSpecReader {
    static func readSend(_ o: ObjectReader, credentials: [String], params: [String]) -> SendSpec? {
        o.finish(["requires", "timeout", "concurrency", "ratePerSecond", "steps", "request", "sign", "response", "outcomes"])
        let sink = o.sink
        var stepVars: [String: [String]] = [:]
        var steps: [SendStep] = []
        for item in o.array("steps") ?? [] {
            guard let s = ObjectReader(item.value, at: item.pointer, sink: sink) else { continue }
            s.finish(["id", "request", "sign", "response", "extract", "outcomes"])
            guard let id = s.string("id", required: true) else { continue }
            let scope = TemplateScope.send(credentials: credentials, params: params, steps: stepVars)
            guard let rq = s.object("request", required: true).flatMap({ readRequest($0, scope: scope) }) else { continue }
            var extract: [(String, ExtractRule)] = []
            if let e = s.object("extract") {
                for m in e.object.members {
                    guard let r = ObjectReader(m.value, at: e.path(m.key), sink: sink) else { continue }
                    r.finish(["from", "json", "header", "trim"])
                    let source: ExtractRule.Source
                    if let path = r.string("json") { source = .json(path) } else if let h = r.string("header") { source = .header(h) } else {
                        let from = r.string("from") ?? "body"
                        if from != "body" { sink.error(r.path("from"), .fromMustBeBody) }
                        source = .body
                    }
                    extract.append((m.key, ExtractRule(source: source, trim: r.bool("trim", default: true))))
                }
            }
            stepVars[id] = extract.map(\.0)
            let sign = s.object("sign").flatMap { readSign($0, scope: .send(credentials: credentials, params: params, steps: stepVars, signing: true)) }
            steps.append(SendStep(id: id, request: rq, sign: sign, response: s.enumValue("response", ResponseFormat.self) ?? .text,
                                  extract: extract, outcomes: readOutcomes(s)))
        }
        let scope = TemplateScope.send(credentials: credentials, params: params, steps: stepVars)
        var requires: [String] = []
        for (i, r) in o.strings("requires").enumerated() {
            if r.hasPrefix("{") || r.hasSuffix("}") {
                sink.error(JSONPointer.join(o.path("requires"), i), .requiresBraces)
                continue
            }
            let parsed = try? Template.parse("{\(r)}")
            if let p = parsed?.placeholders.first, let e = scope.check(p) {
                sink.error(JSONPointer.join(o.path("requires"), i), e.problem)
            } else if parsed == nil {
                sink.error(JSONPointer.join(o.path("requires"), i), .notAPlaceholder(r))
            }
            requires.append(r)
        }
        guard let request = o.object("request", required: true).flatMap({ readRequest($0, scope: scope) }) else { return nil }
        let sign = o.object("sign").flatMap { readSign($0, scope: .send(credentials: credentials, params: params, steps: stepVars, signing: true)) }
        let outcomes = readOutcomes(o)
        if outcomes.isEmpty { sink.error(o.pointer, .missingOutcomes) }
        return SendSpec(requires: requires, timeout: o.number("timeout", positive: true), concurrency: o.int("concurrency", range: 1...1024),
                        ratePerSecond: o.number("ratePerSecond", positive: true), steps: steps, request: request, sign: sign,
                        response: o.enumValue("response", ResponseFormat.self) ?? .json, outcomes: outcomes)
    }

    static func readPoll(_ o: ObjectReader, credentials: [String], params: [String]) -> PollSpec? {
        o.finish(["request", "sign", "by", "batch", "pagination", "window", "response", "items", "id", "match", "status", "payout", "currency",
                  "comment", "outcomes", "lookup", "orderIdIn"])
        let scope = TemplateScope.poll(credentials: credentials, params: params)
        guard let request = o.object("request", required: true).flatMap({ readRequest($0, scope: scope) }) else { return nil }
        let sign = o.object("sign").flatMap { readSign($0, scope: .poll(credentials: credentials, params: params, signing: true)) }
        var pagination: Pagination?
        if let p = o.object("pagination") {
            p.finish(["param", "start", "pageSize", "stop", "maxPages"])
            var stop: Pagination.Stop = .shortPage
            if let raw = p.raw("stop") {
                switch raw {
                case .string("short-page"): stop = .shortPage
                case .string("empty-page"): stop = .emptyPage
                case .object:
                    if let s = ObjectReader(raw, at: p.path("stop"), sink: o.sink) {
                        s.finish(["hasMore", "total", "totalPages"])
                        if let v = s.string("hasMore") { stop = .hasMore(v) } else if let v = s.string("total") { stop = .total(v) } else if let v = s.string("totalPages") {
                            stop = .totalPages(v)
                        } else { o.sink.error(p.path("stop"), .stopNeedsOne) }
                    }
                default:
                    o.sink.error(p.path("stop"), .stopKind)
                }
            }
            pagination = Pagination(param: p.string("param", required: true) ?? "page", start: p.int("start") ?? 0,
                                    pageSize: p.int("pageSize", required: true, range: 1...100_000) ?? 100, stop: stop,
                                    maxPages: p.int("maxPages", range: 1...1_000_000) ?? 1000)
        }
        let statusPaths = o.strings("status")
        if statusPaths.isEmpty { o.sink.error(o.pointer, .missingPollStatus) }
        let idPaths = o.strings("id")
        if !o.has("id") { o.sink.error(o.pointer, .missingKey("id")) }
        var poll = PollSpec(request: request, sign: sign, by: o.enumValue("by", PollSpec.IdKind.self) ?? .external,
                        batch: o.int("batch", range: 1...10_000) ?? 1, pagination: pagination,
                        response: o.enumValue("response", ResponseFormat.self) ?? .json, items: o.string("items", required: true) ?? "$",
                        id: idPaths.first ?? "id", match: o.enumValue("match", PollSpec.IdKind.self) ?? .external,
                        status: statusPaths, payout: o.string("payout"), currency: o.string("currency"), comment: o.string("comment"),
                        outcomes: readOutcomes(o))
        poll.idFallbacks = Array(idPaths.dropFirst())
        if let w = o.object("window") {
            w.finish(["days", "maxDays"])
            poll.window = PollWindow(days: w.int("days", required: true, range: 1...366) ?? 1, maxDays: w.int("maxDays", range: 1...3660) ?? 90)
            if o.has("batch") { o.sink.error(o.path("batch"), .windowWithBatch) }
        }
        if let l = o.object("lookup") {
            l.finish(["request", "upTo", "items"])
            if !poll.isListStyle { o.sink.error(o.path("lookup"), .lookupNeedsList) }
            if let r = l.object("request", required: true).flatMap({ readRequest($0, scope: scope) }) {
                poll.lookup = PollLookup(request: r, upTo: l.int("upTo", range: 1...100) ?? 1, items: l.string("items"))
            }
        }
        if let t = o.object("orderIdIn") {
            t.finish(["path", "pattern"])
            if let path = t.string("path", required: true), let pattern = t.string("pattern", required: true) {
                if Self.hasCaptureGroup(pattern), let found = OrderIdInText(path: path, pattern: pattern) {
                    poll.orderIdIn = found
                } else {
                    o.sink.error(t.path("pattern"), .regexNeedsCapture)
                }
            }
        }
        return poll
    }

    static func readOutgoing(_ o: ObjectReader, credentials: [String], params: [String]) -> OutgoingSpec? {
        o.finish(["id", "label", "requires", "request", "statuses"])
        guard let id = o.string("id", required: true),
              let request = o.object("request", required: true).flatMap({ readRequest($0, scope: .outgoing(credentials: credentials, params: params)) })
        else { return nil }
        var statuses: [Bucket: String] = [:]
        if let s = o.object("statuses", required: true) {
            s.finish(Bucket.allCases.map(\.rawValue))
            for b in Bucket.allCases { if let w = s.string(b.rawValue) { statuses[b] = w } }
        }
        let scope = TemplateScope.outgoing(credentials: credentials, params: params)
        let requires = o.strings("requires")
        for (i, r) in requires.enumerated() {
            guard !r.hasPrefix("{"), let p = (try? Template.parse("{\(r)}"))?.placeholders.first else {
                o.sink.error(JSONPointer.join(o.path("requires"), i), .notAClickPlaceholder(r))
                continue
            }
            if let e = scope.check(p) { o.sink.error(JSONPointer.join(o.path("requires"), i), e.problem) }
        }
        return OutgoingSpec(id: id, label: o.localized("label"), requires: requires, request: request, statuses: statuses)
    }

    /// Whether a pattern has a capturing group: an unescaped `(` not followed by `?` (or `(?<name>`).
    static func hasCaptureGroup(_ pattern: String) -> Bool {
        let chars = Array(pattern)
        var i = 0
        while i < chars.count {
            if chars[i] == "\\" { i += 2; continue }
            if chars[i] == "(" {
                if i + 1 >= chars.count || chars[i + 1] != "?" { return true }
                if i + 2 < chars.count, chars[i + 2] == "<", i + 3 < chars.count, chars[i + 3] != "=", chars[i + 3] != "!" { return true }
            }
            i += 1
        }
        return false
    }

    static let methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]

    static func readRequest(_ o: ObjectReader, scope: TemplateScope) -> RequestSpec? {
        o.finish(["method", "url", "query", "queryEncoding", "headers", "auth", "form", "formEncoding", "json", "jsonEscaping", "multipart",
                  "text", "contentType"])
        let sink = o.sink
        let method = (o.string("method") ?? "GET").uppercased()
        if !methods.contains(method) { sink.error(o.path("method"), .unknownMethod(method)) }
        guard let url = o.template("url", scope: scope, required: true) else { return nil }
        if let first = url.segments.first, case .placeholder = first {
            // The URL starts with a value (LeadRock's stream link, a self-hosted CRM's base URL):
            // it is used as written and checked when the request is built.
        } else if let first = url.segments.first, case .literal(let l) = first {
            if !(l.hasPrefix("http://") || l.hasPrefix("https://")) {
                sink.error(o.path("url"), .urlScheme)
            }
        } else {
            sink.error(o.path("url"), .urlLiteralScheme)
        }
        let query = o.object("query").map { fields($0, scope: scope) } ?? []
        var headers: [(String, Template)] = []
        if let h = o.object("headers") {
            for m in h.object.members {
                if let t = SpecReader.template(m.value, at: h.path(m.key), scope: scope, sink: sink) { headers.append((m.key, t)) }
            }
        }
        var auth: AuthSpec?
        if let a = o.object("auth") { auth = readAuth(a, scope: scope) }
        let bodies = ["form", "json", "multipart", "text"].filter { o.has($0) }
        if bodies.count > 1 { sink.error(o.pointer, .oneBody(bodies)) }
        var body: BodySpec?
        if let f = o.object("form") {
            body = .form(fields(f, scope: scope), o.enumValue("formEncoding", FormEncoding.self) ?? .php)
        } else if let j = o.raw("json") {
            body = .json(jsonTemplate(j, at: o.path("json"), scope: scope, sink: sink), o.enumValue("jsonEscaping", JSONEscaping.self) ?? .plain)
        } else if let m = o.object("multipart") {
            body = .multipart(fields(m, scope: scope))
        } else if let t = o.template("text", scope: scope) {
            body = .text(t, contentType: o.string("contentType") ?? "text/plain; charset=utf-8")
        }
        if method == "GET", body != nil { sink.error(o.path("method"), .getWithBody) }
        if case .form? = auth {
            switch body {
            case .form?, .multipart?: break
            default: sink.error(o.path("auth"), .authFormBody)
            }
        }
        return RequestSpec(method: method, url: url, query: query, queryEncoding: o.enumValue("queryEncoding", FormEncoding.self) ?? .php,
                           headers: headers, auth: auth, body: body)
    }

    static func readAuth(_ a: ObjectReader, scope: TemplateScope) -> AuthSpec? {
        a.finish(["bearer", "basic", "header", "query", "form", "value"])
        if let t = a.template("bearer", scope: scope) { return .bearer(t) }
        if let b = a.object("basic") {
            b.finish(["user", "password"])
            guard let u = b.template("user", scope: scope, required: true), let p = b.template("password", scope: scope, required: true) else { return nil }
            return .basic(user: u, password: p)
        }
        for kind in ["header", "query", "form"] {
            if let name = a.string(kind) {
                guard let v = a.template("value", scope: scope, required: true) else { return nil }
                switch kind {
                case "header": return .header(name: name, value: v)
                case "query": return .query(name: name, value: v)
                default: return .form(name: name, value: v)
                }
            }
        }
        a.sink.error(a.pointer, .authNeedsOne)
        return nil
    }

    static func fields(_ o: ObjectReader, scope: TemplateScope) -> [FieldSpec] {
        o.object.members.compactMap { m in
            let p = o.path(m.key)
            if case .object = m.value, let inner = ObjectReader(m.value, at: p, sink: o.sink) {
                return FieldSpec(key: m.key, value: .group(fields(inner, scope: scope)))
            }
            guard let t = SpecReader.template(m.value, at: p, scope: scope, sink: o.sink) else { return nil }
            return FieldSpec(key: m.key, value: .template(t))
        }
    }

    static func jsonTemplate(_ v: JSONValue, at pointer: String, scope: TemplateScope, sink: DiagnosticSink) -> JSONTemplate {
        switch v {
        case .string:
            return SpecReader.template(v, at: pointer, scope: scope, sink: sink).map(JSONTemplate.template) ?? .literal(.null)
        case .object(let o):
            return .object(o.members.map { ($0.key, jsonTemplate($0.value, at: JSONPointer.join(pointer, $0.key), scope: scope, sink: sink)) })
        case .array(let a):
            return .array(a.enumerated().map { jsonTemplate($0.element, at: JSONPointer.join(pointer, $0.offset), scope: scope, sink: sink) })
        default:
            return .literal(v)
        }
    }

    static func readSign(_ o: ObjectReader, scope: TemplateScope) -> SignSpec? {
        o.finish(["algorithm", "key", "input", "encoding", "into"])
        guard let algorithm = o.enumValue("algorithm", SignSpec.Algorithm.self, required: true),
              let input = o.template("input", scope: scope, required: true) else { return nil }
        let key = o.template("key", scope: scope)
        if algorithm.rawValue.hasPrefix("hmac"), key == nil { o.sink.error(o.pointer, .hmacNeedsKey) }
        let encoding = o.string("encoding") ?? "hex"
        if !["hex", "HEX", "base64"].contains(encoding) {
            o.sink.error(o.path("encoding"), .notOneOf(["hex", "HEX", "base64"], found: encoding, suggestion: nil))
        }
        guard let into = o.object("into", required: true) else { return nil }
        into.finish(["query", "form", "header", "json"])
        let target: SignSpec.Target
        if let n = into.string("query") { target = .query(n) } else if let n = into.string("form") { target = .form(n) } else if let n = into.string("header") {
            target = .header(n)
        } else if let n = into.string("json") { target = .json(n) } else {
            o.sink.error(into.pointer, .signatureNeedsPlace)
            return nil
        }
        return SignSpec(algorithm: algorithm, key: key, input: input, encoding: encoding, into: target)
    }

    static func readOutcomes(_ o: ObjectReader) -> [OutcomeRule] {
        (o.array("outcomes") ?? []).compactMap { item in
            guard let r = ObjectReader(item.value, at: item.pointer, sink: o.sink) else { return nil }
            r.finish(["when", "result", "externalId", "message", "text"])
            guard let result = r.enumValue("result", OutcomeKind.self, required: true) else { return nil }
            var conditions: [OutcomeCondition] = []
            if let w = r.raw("when") {
                let list: [(JSONValue, String)]
                if case .array(let a) = w { list = a.enumerated().map { ($0.element, JSONPointer.join(r.path("when"), $0.offset)) } } else { list = [(w, r.path("when"))] }
                for (v, p) in list { if let c = condition(v, at: p, sink: o.sink) { conditions.append(c) } }
            }
            return OutcomeRule(conditions: conditions, result: result, externalId: r.string("externalId"), message: r.string("message"),
                               text: r.string("text"))
        }
    }

    static func condition(_ v: JSONValue, at pointer: String, sink: DiagnosticSink) -> OutcomeCondition? {
        guard let c = ObjectReader(v, at: pointer, sink: sink) else { return nil }
        c.finish(["http", "json", "equals", "notEquals", "in", "matches", "exists", "body", "text"])
        if let h = c.raw("http") {
            var patterns: [HTTPStatusPattern] = []
            let items: [JSONValue] = h.arrayValue ?? [h]
            for item in items {
                if let i = item.intValue, (100...599).contains(i) { patterns.append(.exact(i)) } else if let s = item.stringValue, s.count == 3, s.hasSuffix("xx"),
                    let d = Int(String(s.prefix(1))), (1...5).contains(d) { patterns.append(.range(d)) } else {
                    sink.error(c.path("http"), .notHTTPStatuses)
                }
            }
            return .http(patterns)
        }
        if let path = c.string("json") {
            if let e = c.raw("equals") { return .json(path: path, test: .equals(e)) }
            if let e = c.raw("notEquals") { return .json(path: path, test: .notEquals(e)) }
            if let list = c.raw("in") {
                guard let a = list.arrayValue else { sink.error(c.path("in"), .notAnArray(found: nil)); return nil }
                return .json(path: path, test: .oneOf(a))
            }
            if let m = c.string("matches") {
                guard let pattern = SpecPattern(m) else { sink.error(c.path("matches"), .invalidRegex); return nil }
                return .json(path: path, test: .matches(pattern))
            }
            return .json(path: path, test: .exists(c.bool("exists", default: true)))
        }
        if let b = c.string("body") {
            guard let text = c.string("text", required: true) else { return nil }
            switch b {
            case "contains": return .bodyContains(text)
            case "matches":
                guard let pattern = SpecPattern(text) else { sink.error(c.path("text"), .invalidRegex); return nil }
                return .bodyMatches(pattern)
            default:
                sink.error(c.path("body"), .notOneOf(["contains", "matches"], found: nil, suggestion: nil))
                return nil
            }
        }
        sink.error(pointer, .conditionNeedsOne)
        return nil
    }
}

/// Reads `examples`, `pollExamples` and `exampleAccount`.
enum ExampleReader {
    static func account(_ o: ObjectReader, name: String) -> AccountValues {
        o.finish(["name", "credentials", "params"])
        func map(_ key: String) -> [String: String] {
            guard let m = o.object(key) else { return [:] }
            var out: [String: String] = [:]
            for member in m.object.members {
                if let s = member.value.scalarText { out[member.key] = s }
            }
            return out
        }
        return AccountValues(name: o.string("name") ?? name, credentials: map("credentials"), params: map("params"))
    }

    static func now(_ o: ObjectReader) -> Int64 {
        guard let s = o.string("now") else { return 1_767_225_600 }  // 2026-01-01T00:00:00Z
        guard let t = ISODate.parse(s) else {
            o.sink.error(o.path("now"), .notADate)
            return 0
        }
        return t
    }

    static func exchanges(_ o: ObjectReader) -> [ExampleExchange] {
        (o.array("exchanges", required: true) ?? []).compactMap { item in
            guard let e = ObjectReader(item.value, at: item.pointer, sink: o.sink) else { return nil }
            e.finish(["request", "response"])
            guard let rq = e.object("request", required: true), let rs = e.object("response", required: true) else { return nil }
            rq.finish(["method", "url", "headers", "body"])
            rs.finish(["status", "headers", "body", "json"])
            func headers(_ r: ObjectReader) -> [(String, String)] {
                guard let h = r.object("headers") else { return [] }
                return h.object.members.compactMap { m in
                    guard let s = m.value.stringValue else { r.sink.error(h.path(m.key), .notAString(found: nil)); return nil }
                    return (m.key, s)
                }
            }
            let request = ExpectedRequest(method: rq.string("method", required: true) ?? "GET", url: rq.string("url", required: true) ?? "",
                                          headers: headers(rq), body: rq.string("body"))
            var body = rs.string("body") ?? ""
            if let j = rs.raw("json") { body = JSONWriter.compact(j) }
            let response = CannedResponse(status: rs.int("status", range: 100...599) ?? 200, headers: headers(rs), body: body)
            return ExampleExchange(request: request, response: response)
        }
    }

    static func sendExample(_ v: JSONValue, at pointer: String, sink: DiagnosticSink) -> SendExample? {
        guard let o = ObjectReader(v, at: pointer, sink: sink) else { return nil }
        o.finish(["name", "lead", "account", "now", "exchanges", "expect"])
        guard let name = o.string("name", required: true), let leadJSON = o.raw("lead", required: true) else { return nil }
        guard let lead = exampleLead(leadJSON, o, sink: sink) else { return nil }
        guard let x = o.object("expect", required: true) else { return nil }
        x.finish(["result", "externalId", "message"])
        guard let result = x.enumValue("result", OutcomeKind.self, required: true) else { return nil }
        return SendExample(name: name, lead: lead, account: o.object("account").map { account($0, name: "example") }, now: now(o),
                           exchanges: exchanges(o), expect: ExpectedOutcome(result: result, externalId: x.string("externalId"), message: x.string("message")),
                           pointer: pointer)
    }

    /// An example's lead, each of its problems reported at the example's `lead`.
    static func exampleLead(_ json: JSONValue, _ o: ObjectReader, sink: DiagnosticSink) -> Lead? {
        switch LeadReader.read(json) {
        case .success(let lead): return lead
        case .failure(let errors):
            for e in errors.errors { sink.error(o.path("lead"), .exampleLeadInvalid(e)) }
            return nil
        }
    }

    static func outgoingExample(_ v: JSONValue, at pointer: String, sink: DiagnosticSink) -> OutgoingExample? {
        guard let o = ObjectReader(v, at: pointer, sink: sink) else { return nil }
        o.finish(["name", "outgoing", "lead", "account", "status", "changed", "price", "request"])
        guard let name = o.string("name", required: true), let outgoing = o.string("outgoing", required: true),
              let leadJSON = o.raw("lead", required: true), let status = o.enumValue("status", Bucket.self, required: true) else { return nil }
        guard let lead = exampleLead(leadJSON, o, sink: sink) else { return nil }
        var changed: Int64 = 1_767_225_600
        if let c = o.string("changed") {
            if let t = ISODate.parse(c) { changed = t } else { sink.error(o.path("changed"), .notADate) }
        }
        var request: ExpectedRequest?
        guard let raw = o.raw("request", required: true) else { return nil }
        if !raw.isNull {
            guard let rq = ObjectReader(raw, at: o.path("request"), sink: sink) else { return nil }
            rq.finish(["method", "url", "body"])
            request = ExpectedRequest(method: rq.string("method", required: true) ?? "GET", url: rq.string("url", required: true) ?? "", headers: [],
                                      body: rq.string("body"))
        }
        return OutgoingExample(name: name, outgoing: outgoing, lead: lead, account: o.object("account").map { account($0, name: "example") }, status: status,
                               changed: changed, price: o.raw("price")?.scalarText, request: request, pointer: pointer)
    }

    static func pollExample(_ v: JSONValue, at pointer: String, sink: DiagnosticSink) -> PollExample? {
        guard let o = ObjectReader(v, at: pointer, sink: sink) else { return nil }
        o.finish(["name", "leads", "account", "now", "exchanges", "expect", "failure"])
        guard let name = o.string("name", required: true) else { return nil }
        let leads: [PollExample.KnownLead] = (o.array("leads", required: true) ?? []).compactMap { item in
            guard let l = ObjectReader(item.value, at: item.pointer, sink: sink) else { return nil }
            l.finish(["id", "externalId", "created"])
            guard let id = l.string("id", required: true) else { return nil }
            var created: Int64?
            if let c = l.string("created") {
                created = ISODate.parse(c)
                if created == nil { sink.error(l.path("created"), .notADate) }
            }
            return PollExample.KnownLead(id: id, externalId: l.string("externalId"), created: created)
        }
        let expect: [PollExample.Expected] = (o.array("expect", required: true) ?? []).compactMap { item in
            guard let e = ObjectReader(item.value, at: item.pointer, sink: sink) else { return nil }
            e.finish(["lead", "status", "raw"])
            guard let lead = e.string("lead", required: true), let status = e.enumValue("status", Bucket.self, required: true) else { return nil }
            return PollExample.Expected(lead: lead, status: status, raw: e.string("raw"))
        }
        return PollExample(name: name, leads: leads, account: o.object("account").map { account($0, name: "example") }, now: now(o),
                           exchanges: exchanges(o), expect: expect, failure: o.string("failure"), pointer: pointer)
    }
}
