import Testing
import LeadBridgeCore
import LeadBridgeCrypto

@Suite struct RequestBuilderTests {
    static let lead = Lead(id: "A-1001", phone: "+79001234567", fields: ["name": "Иван Петров", "country": "RU", "ip": "203.0.113.7"],
                           subs: ["sub2": "fb-42"])

    /// LeadRock's recipe: sign = sha1(http_build_query(fields) + secret), appended last.
    @Test func leadRockSignRecipe() throws {
        let spec = Fixtures.spec("leadrock")
        let account = AccountValues(name: "a", credentials: ["key": "777", "secret": "s3cr3t"], params: ["leadrock": "https://leadrock.com/URL-1-2"])
        var plan = try SendPlan(spec: spec, lead: Self.lead, account: account, now: 0)
        _ = try plan.nextRequest()
        plan.handle(HTTPResponseValue(status: 200, body: Array("trk-1".utf8)))
        let built = try #require(try plan.nextRequest())
        let body = built.request.bodyText
        let signed = String(body[..<body.range(of: "&sign=")!.lowerBound])
        let expected = DigestEncoding.hex.encode(Digest.hash(.sha1, Array((signed + "s3cr3t").utf8)))
        #expect(body.hasSuffix("&sign=" + expected))
        #expect(signed.contains("user_name=%D0%98%D0%B2%D0%B0%D0%BD+%D0%9F%D0%B5%D1%82%D1%80%D0%BE%D0%B2"))
        #expect(signed.hasSuffix("&ajax=1&track_id=trk-1"))
        #expect(!body.contains("sub3"))  // null keys are omitted like PHP does
    }

    /// TerraLeads' recipe: check_sum = sha1(exact JSON body + api key) in the query.
    @Test func terraLeadsChecksumRecipe() throws {
        let spec = Fixtures.spec("terraleads")
        let account = AccountValues(name: "a", credentials: ["user": "38950", "token": "k"], params: ["terra": "12"])
        var plan = try SendPlan(spec: spec, lead: Self.lead, account: account, now: 0)
        let built = try #require(try plan.nextRequest())
        let sum = DigestEncoding.hex.encode(Digest.hash(.sha1, built.request.body + Array("k".utf8)))
        #expect(built.request.url == "http://tl-api.com/api/lead/create?check_sum=" + sum)
        #expect(built.request.bodyText.hasPrefix(#"{"user_id":38950,"data":{"name":"Иван Петров","phone":"79001234567","offer_id":12,"country":"RU""#))
    }

    static func request(_ json: String, poll: Bool = false) throws -> RequestSpec {
        let block = poll ? #""poll": {"request": \#(json), "items": "data", "id": "id", "status": "s"}"#
            : #""send": {"request": \#(json), "outcomes": [{"when": {"http": "2xx"}, "result": "accepted"}]}"#
        let spec = """
        {"id": "demo", "name": "Demo", "credentials": [{"key": "token", "label": {"ru": "API", "en": "API"}, "secret": true}], \(block),
         "sources": {"doc": {"url": "https://api.example.com/docs", "supports": ["send", "poll"], "confidence": "official"}}}
        """
        let lib = Fixtures.load(["Networks/demo.json": spec])
        #expect(lib.errors.isEmpty, "\(lib.errors)")
        return try #require(poll ? lib.spec("demo")?.poll?.request : lib.spec("demo")?.send?.request)
    }

    static var context: TemplateContext {
        var c = TemplateContext(values: Self.lead.templateValues())
        c["credentials.token"] = .text("T0K3N")
        c["ids"] = .list(["g1", "g2"])
        return c
    }

    /// A header whose value a lead fills cannot smuggle a line break or NUL into the request.
    @Test(arguments: ["a\r\nX-Evil: 1", "a\nb", "a\rb", "a\u{0}b"])
    func headerValuesCannotBreakTheRequest(_ name: String) throws {
        let r = try Self.request(#"{"method": "POST", "url": "https://x.test/", "headers": {"X-Name": "{lead.name}"}}"#)
        var context = Self.context
        context["lead.name"] = .text("Иван")
        #expect(try RequestBuilder.build(r, sign: nil, context: context).request.header("X-Name") == "Иван")
        context["lead.name"] = .text(name)
        #expect(throws: RequestBuildError(.headerUnsafe(name: "X-Name"))) { try RequestBuilder.build(r, sign: nil, context: context) }
    }

    @Test func nestedFormKeysListsAndJoinedValues() throws {
        let r = try Self.request(#"""
            {"method": "POST", "url": "https://x.test/new-order/{credentials.token}",
             "form": {"other": {"address": "{lead.address|default:-}"}, "subid": "{lead.id}:{lead.subs.sub2}", "e": "{lead.email}"}}
            """#)
        let b = try RequestBuilder.build(r, sign: nil, context: Self.context)
        #expect(b.request.url == "https://x.test/new-order/T0K3N")
        #expect(b.request.bodyText == "other%5Baddress%5D=-&subid=A-1001%3Afb-42")
        #expect(b.request.header("Content-Type") == "application/x-www-form-urlencoded")
        let poll = try Self.request(#"{"method": "POST", "url": "https://x.test/status", "form": {"token": "{credentials.token}", "guids[]": "{ids}", "n[#]": "{ids}", "one": "{ids|join:,}"}}"#, poll: true)
        let p = try RequestBuilder.build(poll, sign: nil, context: Self.context)
        #expect(p.request.bodyText == "token=T0K3N&guids%5B%5D=g1&guids%5B%5D=g2&n%5B0%5D=g1&n%5B1%5D=g2&one=g1%2Cg2")
    }

    /// Ids joined into a path segment: percent-encoded by default, kept with `raw` — but
    /// never a character that would change the URL's shape.
    @Test(arguments: [
        ("https://x.test/status/{ids|join:,}", ["g1", "g2"], "https://x.test/status/g1%2Cg2"),
        ("https://x.test/status/{ids|join:,|raw}", ["g1", "g2"], "https://x.test/status/g1,g2"),
        ("https://x.test/status/{ids|join:;|raw}.json", ["g1", "g2"], "https://x.test/status/g1;g2.json"),
        ("https://x.test/status/{ids|join:,|raw}", ["a/b", "c d?e#f%"], "https://x.test/status/a%2Fb,c%20d%3Fe%23f%25"),
    ])
    func rawJoinInAPath(url: String, ids: [String], expected: String) throws {
        let r = try Self.request(#"{"method": "GET", "url": "\#(url)"}"#, poll: true)
        var c = Self.context
        c["ids"] = .list(ids)
        #expect(try RequestBuilder.build(r, sign: nil, context: c).request.url == expected)
    }

    @Test func jsonBodyKeepsOrderTypesAndOmitsMissing() throws {
        let r = try Self.request(#"""
            {"method": "POST", "url": "https://x.test/lead", "auth": {"bearer": "{credentials.token}"}, "jsonEscaping": "php",
             "json": {"z": "{lead.name}", "a": {"n": "{lead.phone|digits|int}", "missing": "{lead.email}", "list": ["{lead.country}", 1, true]}, "url": "a/b"}}
            """#)
        let b = try RequestBuilder.build(r, sign: nil, context: Self.context)
        #expect(b.request.bodyText == #"{"z":"\u0418\u0432\u0430\u043d \u041f\u0435\u0442\u0440\u043e\u0432","a":{"n":79001234567,"list":["RU",1,true]},"url":"a\/b"}"#)
        #expect(b.request.header("Authorization") == "Bearer T0K3N")
    }

    @Test func multipartAndHeaderAuthAndBasic() throws {
        let m = try Self.request(#"{"method": "POST", "url": "https://x.test/o", "auth": {"header": "X-Token", "value": "{credentials.token}"}, "multipart": {"phone": "{lead.phone}"}}"#)
        let b = try RequestBuilder.build(m, sign: nil, context: Self.context)
        let ct = try #require(b.request.header("Content-Type"))
        #expect(ct.hasPrefix("multipart/form-data; boundary=leadbridge-"))
        let boundary = String(ct.split(separator: "=")[1])
        #expect(b.request.bodyText == "--\(boundary)\r\nContent-Disposition: form-data; name=\"phone\"\r\n\r\n+79001234567\r\n--\(boundary)--\r\n")
        #expect(b.request.header("X-Token") == "T0K3N")
        let basic = try Self.request(#"{"method": "GET", "url": "https://x.test/o", "auth": {"basic": {"user": "u", "password": "{credentials.token}"}}}"#)
        #expect(try RequestBuilder.build(basic, sign: nil, context: Self.context).request.header("Authorization") == "Basic dTpUMEszTg==")
    }

    @Test func headerInjectionIsRefused() throws {
        let r = try Self.request(#"{"method": "GET", "url": "https://x.test/o", "headers": {"X-Name": "{lead.name}"}}"#)
        var c = Self.context
        c["lead.name"] = .text("x\r\nEvil: 1")
        #expect(throws: RequestBuildError.self) { try RequestBuilder.build(r, sign: nil, context: c) }
    }

    @Test func redactorMasksEncodedForms() {
        let r = Redactor(secrets: ["p@ss/w rd+1"])
        #expect(r.redact("a=p%40ss%2Fw+rd%2B1&b=2") == "a=***&b=2")
        #expect(r.redact(#"{"k":"p@ss\/w rd+1"}"#) == #"{"k":"***"}"#)
        #expect(r.redact("p@ss/w rd+1") == "***")
    }

    @Test func dryRunMasksSecretsButKeepsSignature() throws {
        let spec = Fixtures.spec("terraleads")
        let account = AccountValues(name: "a", credentials: ["user": "1", "token": "TOPSECRET-KEY"], params: ["terra": "12"])
        var plan = try SendPlan(spec: spec, lead: Self.lead, account: account, now: 0)
        let real = try #require(try plan.nextRequest())
        let shown = try plan.redactedRequest()
        #expect(shown.signature == real.signature)
        #expect(shown.request.url == real.request.url)
        #expect(shown.signatureInput?.hasSuffix("***") == true)
        #expect(!(shown.signatureInput ?? "").contains("TOPSECRET"))
    }
}

@Suite struct ResponseClassifierTests {
    static let rules: [OutcomeRule] = Fixtures.spec("kma").send?.outcomes ?? []

    @Test(arguments: [
        (200, "", #"{"code":0,"order":15}"#, OutcomeKind.accepted, "15" as String?),
        (200, "", #"{"code":13,"message":"Duplicate of order!"}"#, .duplicate, nil),
        (200, "", #"{"code":2,"message":"bad"}"#, .rejected, nil),
        (200, "", "<html>oops</html>", .failed, nil),
        (200, "", "", .failed, nil),
        (503, "", #"{"code":0,"order":15}"#, .failed, nil),
        (429, "7", "", .failed, nil),
        (404, "", "not found", .failed, nil),
    ])
    func classify(status: Int, retryAfter: String, body: String, kind: OutcomeKind, id: String?) {
        let headers = retryAfter.isEmpty ? [] : [HTTPHeader("Retry-After", retryAfter)]
        let o = ResponseClassifier.classify(HTTPResponseValue(status: status, headers: headers, body: Array(body.utf8)), format: .json, rules: Self.rules)
        #expect(o.kind == kind)
        #expect(o.externalId == id)
        if !retryAfter.isEmpty { #expect(o.retryAfter == Double(retryAfter)) }
        if kind == .failed { #expect(o.message?.isEmpty == false) }
    }

    @Test func lenientJSONSkipsJunk() {
        let body = Array("Warning: x in y.php on line 3\n{\"status\":\"success\"}".utf8)
        #expect(ResponseBody.json(body, format: .jsonLenient)?["status"] == .string("success"))
        #expect(ResponseBody.json(body, format: .json) == nil)
    }
}

@Suite struct PollPlanTests {
    static func spec(batch: Int, pagination: String = "") throws -> NetworkSpec {
        let text = """
        {"id": "demo", "name": "Demo", "statuses": {"approved": ["ok"], "trash": ["*:1"], "waiting": ["0:0"]},
         "poll": {"request": {"method": "GET", "url": "https://x.test/status", "query": {"ids": "{ids|join:,}", "p": "{page}"}},
                  "batch": \(batch), \(pagination) "items": "data", "id": "id", "match": "external", "status": "s"}}
        """
        let lib = Fixtures.load(["Networks/demo.json": text])
        return try #require(lib.spec("demo"))
    }

    /// Requests for N leads in batches of B: ceil(N / B).
    @Test(arguments: [(0, 50, 0), (1, 50, 1), (50, 50, 1), (51, 50, 2), (1000, 100, 10), (7, 1, 7)])
    func batching(leads: Int, batch: Int, requests: Int) throws {
        let s = try Self.spec(batch: batch)
        let targets = (0..<leads).map { PollPlan.Target(orderId: "A-\($0)", externalId: "E\($0)") }
        var plan = PollPlan(spec: s, poll: try #require(s.poll), account: AccountValues(name: "a", credentials: [:], params: [:]), leads: targets, now: 0)
        var n = 0
        while let r = try plan.nextRequest() {
            n += 1
            #expect(r.request.url.contains("ids="))
            _ = plan.handle(HTTPResponseValue(status: 200, body: Array(#"{"data":[]}"#.utf8)))
        }
        #expect(n == requests)
        #expect(plan.plannedRequests == requests)
    }

    @Test func leadsWithoutExternalIdAreSkipped() throws {
        let s = try Self.spec(batch: 10)
        let plan = PollPlan(spec: s, poll: try #require(s.poll), account: AccountValues(name: "a", credentials: [:], params: [:]),
                            leads: [PollPlan.Target(orderId: "A", externalId: nil), PollPlan.Target(orderId: "B", externalId: "E")], now: 0)
        #expect(plan.skipped.map(\.orderId) == ["A"])
        #expect(plan.plannedRequests == 1)
    }

    /// Stop rules of list-style polling.
    @Test(arguments: [
        (#""stop": "short-page""#, [2, 2, 1], 3),
        (#""stop": "empty-page""#, [2, 2, 0], 3),
        (#""stop": {"hasMore": "more"}"#, [2, 2, 2], 2),
        (#""stop": {"total": "total"}"#, [2, 2, 2], 2),
        (#""stop": {"totalPages": "pages"}"#, [2, 2, 2], 2),
    ])
    func paginationStops(stop: String, pageSizes: [Int], expectedRequests: Int) throws {
        let s = try Self.spec(batch: 1, pagination: #""pagination": {"param": "p", "start": 1, "pageSize": 2, \#(stop)},"#)
        var plan = PollPlan(spec: s, poll: try #require(s.poll), account: AccountValues(name: "a", credentials: [:], params: [:]),
                            leads: [PollPlan.Target(orderId: "A-1", externalId: "E1")], now: 0)
        var requests = 0
        var seen: [PollPlan.Observation] = []
        while let r = try plan.nextRequest() {
            #expect(r.request.url.hasSuffix("p=\(requests + 1)"))
            let size = requests < pageSizes.count ? pageSizes[requests] : 0
            let items = (0..<size).map { i in #"{"id":"E\#(requests * 2 + i)","s":"ok"}"# }.joined(separator: ",")
            let more = requests == 0 ? "true" : "false"
            let body = #"{"data":[\#(items)],"more":\#(more),"total":4,"pages":2}"#
            requests += 1
            if case .observations(let o) = plan.handle(HTTPResponseValue(status: 200, body: Array(body.utf8))) { seen += o }
            if requests > 10 { break }
        }
        #expect(requests == expectedRequests)
        #expect(seen.map(\.orderId) == ["A-1"])
        #expect(seen.first?.status == .approved)
    }

    @Test func compoundStatusesAndUnknownWords() throws {
        let text = """
        {"id": "demo", "name": "Demo", "statusDefaults": false, "statuses": {"approved": ["1:0"], "trash": ["*:1"], "waiting": ["0:0"]},
         "poll": {"request": {"method": "GET", "url": "https://x.test/s", "query": {"id": "{ids|join:,}"}}, "batch": 10,
                  "items": "result", "id": "id", "match": "external", "status": ["status", "trash"]}}
        """
        let s = try #require(Fixtures.load(["Networks/demo.json": text]).spec("demo"))
        var plan = PollPlan(spec: s, poll: try #require(s.poll), account: AccountValues(name: "a", credentials: [:], params: [:]),
                            leads: ["1", "2", "3", "4"].map { (id: String) in PollPlan.Target(orderId: "A-" + id, externalId: id) }, now: 0)
        _ = try plan.nextRequest()
        let body = #"{"result":[{"id":1,"status":1,"trash":0},{"id":2,"status":1,"trash":1},{"id":3,"status":0,"trash":0},{"id":4,"status":9,"trash":0},{"id":99,"status":1,"trash":0}]}"#
        guard case .observations(let o) = plan.handle(HTTPResponseValue(status: 200, body: Array(body.utf8))) else { Issue.record("failed"); return }
        #expect(o.map(\.status) == [.approved, .trash, .pending, nil])
        #expect(o.map(\.raw) == ["1:0", "1:1", "0:0", "9:0"])
    }

    static func windowSpec(_ window: String, pagination: String = "") throws -> NetworkSpec {
        let text = """
        {"id": "demo", "name": "Demo", "statuses": {"approved": ["ok"]},
         "poll": {"request": {"method": "GET", "url": "https://x.test/list", "query": {"from": "{since|date:yyyy-MM-dd}", "to": "{until|date:yyyy-MM-dd}", "p": "{page}"}},
                  "window": \(window), \(pagination) "items": "$", "id": ["uid", "id"], "match": "external", "status": "stage"}}
        """
        let lib = Fixtures.load(["Networks/demo.json": text])
        #expect(lib.errors.filter { $0.code != "missing-source" }.isEmpty, "\(lib.errors)")
        return try #require(lib.spec("demo"))
    }

    /// Window style: consecutive periods from the oldest lead (capped by maxDays) to now, one
    /// request each, the answer (a bare list) matched locally by the first id path present.
    @Test(arguments: [
        // (window, oldest lead's age in days, expected periods)
        (#"{"days": 7}"#, 20.0, ["2025-12-12..2025-12-19", "2025-12-19..2025-12-26", "2025-12-26..2026-01-01"]),
        (#"{"days": 7}"#, 0.5, ["2025-12-31..2026-01-01"]),
        (#"{"days": 30, "maxDays": 10}"#, 45.0, ["2025-12-22..2026-01-01"]),
    ])
    func windows(window: String, oldest: Double, expected: [String]) throws {
        let s = try Self.windowSpec(window)
        let now: Int64 = 1_767_225_600  // 2026-01-01T00:00:00Z
        let created = now - Int64(oldest * 86_400)
        var plan = PollPlan(spec: s, poll: try #require(s.poll), account: AccountValues(name: "a", credentials: [:], params: [:]),
                            leads: [PollPlan.Target(orderId: "A-1", externalId: "E1", created: created), PollPlan.Target(orderId: "A-2", externalId: "E2", created: now)],
                            now: now)
        #expect(plan.plannedRequests == expected.count)
        var periods: [String] = []
        var seen: [PollPlan.Observation] = []
        while let r = try plan.nextRequest() {
            let q = r.request.url.split(separator: "?").last.map(String.init) ?? ""
            let pairs = Dictionary(q.split(separator: "&").map { $0.split(separator: "=").map(String.init) }.map { ($0[0], $0.count > 1 ? $0[1] : "") }, uniquingKeysWith: { a, _ in a })
            periods.append("\(pairs["from"] ?? "")..\(pairs["to"] ?? "")")
            let body = periods.count == 1 ? #"[{"uid":"E1","stage":"ok"},{"id":"E2","stage":"ok"},{"uid":"E9","stage":"ok"}]"# : "[]"
            if case .observations(let o) = plan.handle(HTTPResponseValue(status: 200, body: Array(body.utf8))) { seen += o }
            if periods.count > 10 { break }
        }
        #expect(periods == expected)
        #expect(seen.map(\.orderId) == ["A-1", "A-2"])
    }

    /// With pagination, each period is paged to its end before the next period starts.
    @Test func windowsArePagedOneAfterAnother() throws {
        let s = try Self.windowSpec(#"{"days": 7}"#, pagination: #""pagination": {"param": "p", "start": 1, "pageSize": 2},"#)
        let now: Int64 = 1_767_225_600
        var plan = PollPlan(spec: s, poll: try #require(s.poll), account: AccountValues(name: "a", credentials: [:], params: [:]),
                            leads: [PollPlan.Target(orderId: "A-1", externalId: "E1", created: now - 10 * 86_400)], now: now)
        var asked: [String] = []
        // Period 1: a full page then a short one; period 2: an empty page.
        let pages = [#"[{"uid":"E7","stage":"ok"},{"uid":"E8","stage":"ok"}]"#, #"[{"uid":"E1","stage":"ok"}]"#, "[]"]
        while let r = try plan.nextRequest() {
            let q = r.request.url.split(separator: "?").last.map(String.init) ?? ""
            asked.append(q.split(separator: "&").filter { $0.hasPrefix("from=") || $0.hasPrefix("p=") }.joined(separator: "&"))
            _ = plan.handle(HTTPResponseValue(status: 200, body: Array((asked.count <= pages.count ? pages[asked.count - 1] : "[]").utf8)))
            if asked.count > 10 { break }
        }
        #expect(asked == ["from=2025-12-22&p=1", "from=2025-12-22&p=2", "from=2025-12-29&p=1"])
    }

    @Test func windowAndBatchDoNotMix() {
        let text = """
        {"id": "demo", "name": "Demo", "poll": {"request": {"url": "https://x.test/list", "query": {"from": "{since|unix}"}},
         "window": {"days": 7}, "batch": 50, "items": "data", "id": "id", "status": "s"}}
        """
        #expect(Fixtures.load(["Networks/demo.json": text]).errors.contains { $0.code == "window" && $0.pointer == "/poll/batch" })
    }
}
