import Testing
import LeadBridgeCore

@Suite struct TemplateTests {
    static let context: TemplateContext = {
        var c = TemplateContext()
        c["lead.phone"] = .text("+7 (900) 123-45-67")
        c["lead.name"] = .text("  Иван Петров ")
        c["lead.country"] = .text("ru")
        c["lead.subs.sub2"] = .text("")
        c["credentials.user"] = .text("55203")
        c["ids"] = .list(["11", "12", "13"])
        c["now"] = .time(1_767_323_045)  // 2026-01-02T03:04:05Z
        return c
    }()

    @Test(arguments: [
        ("{lead.phone|digits}", RenderedValue.text("79001234567")),
        ("{lead.phone|e164}", .text("+79001234567")),
        ("{lead.country|upper}", .text("RU")),
        ("{lead.name|trim|lower}", .text("иван петров")),
        ("{lead.name|trim|first:4}", .text("Иван")),
        ("{lead.email|default:none}", .text("none")),
        ("{lead.subs.sub2|default:x}", .text("x")),
        ("{lead.email}", .missing("lead.email")),
        ("tel:{lead.email}", .missing("lead.email")),
        ("{ids|join:,}", .text("11,12,13")),
        ("{ids}", .list(["11", "12", "13"])),
        ("{credentials.user|int}", .json(.number("55203"))),
        ("{now|unix}", .text("1767323045")),
        ("{now|unixms}", .text("1767323045000")),
        ("{now|date:yyyy-MM-dd}", .text("2026-01-02")),
        ("{now}", .text("2026-01-02T03:04:05Z")),
        ("{lead.country|json}", .text("\"ru\"")),
        ("{{literal}} {lead.country}", .text("{literal} ru")),
        ("{lead.country|base64}", .text("cnU=")),
        ("", .text("")),
    ])
    func renders(template: String, expected: RenderedValue) throws {
        let t = try Template.parse(template)
        #expect(try TemplateRenderer.render(t, in: Self.context) == expected)
    }

    @Test(arguments: [
        ("{lead.phone|digts}", "unknown filter 'digts' (did you mean 'digits'?)"),
        ("{lead.phone", "unclosed '{'"),
        ("a}b", "stray '}'"),
        ("{}", "empty placeholder"),
        ("{lead.phone|join:,|date}", "needs an argument"),
        ("{lead.phone|lower:x}", "takes no argument"),
    ])
    func syntaxErrors(template: String, message: String) {
        do {
            _ = try Template.parse(template)
            Issue.record("parsed \(template)")
        } catch {
            #expect(error.message.contains(message), "\(error.message)")
        }
    }

    @Test func booleanFilter() throws {
        var c = TemplateContext()
        c["a"] = .text("yes")
        c["b"] = .text("0")
        c["x"] = .text("ru")
        #expect(try TemplateRenderer.render(try Template.parse("{a|bool}"), in: c) == .json(.bool(true)))
        #expect(try TemplateRenderer.render(try Template.parse("{b|bool}"), in: c) == .json(.bool(false)))
        #expect(throws: TemplateError.self) { try TemplateRenderer.render(try Template.parse("{x|bool}"), in: c) }
    }

    @Test func integerFilterRejectsText() throws {
        var c = TemplateContext()
        c["params.terra"] = .text("abc")
        #expect(throws: TemplateError.self) { try TemplateRenderer.render(try Template.parse("{params.terra|int}"), in: c) }
    }

    @Test(arguments: [
        ("{lead.phnoe}", "did you mean {lead.phone}"),
        ("{credentials.tokn}", "did you mean {credentials.token}"),
        ("{leed.phone}", "did you mean {lead…}"),
        ("{params.drcsh}", "did you mean {params.drcash}"),
        ("{steps.track.id}", "no earlier step"),
    ])
    func scopeErrors(template: String, message: String) throws {
        let scope = TemplateScope.send(credentials: ["token"], params: ["drcash"])
        let p = try Template.parse(template).placeholders[0]
        let error = scope.check(p)
        #expect(error?.message.contains(message) == true, "\(error?.message ?? "accepted")")
    }

    @Test func dates() {
        #expect(ISODate.parse("2026-01-02T03:04:05Z") == 1_767_323_045)
        #expect(ISODate.parse("2026-01-02T06:04:05+03:00") == 1_767_323_045)
        #expect(ISODate.parse("2026-01-02") == 1_767_312_000)
        #expect(ISODate.parse("2026-13-02") == nil)
        #expect(ISODate.format(0) == "1970-01-01T00:00:00Z")
        #expect(ISODate.format(951_782_400, pattern: "yyyy-MM-dd") == "2000-02-29")
    }
}

@Suite struct EncodingTests {
    @Test(arguments: [
        ("Иван Петров", "%D0%98%D0%B2%D0%B0%D0%BD+%D0%9F%D0%B5%D1%82%D1%80%D0%BE%D0%B2", "%D0%98%D0%B2%D0%B0%D0%BD%20%D0%9F%D0%B5%D1%82%D1%80%D0%BE%D0%B2"),
        ("+7 900~*", "%2B7+900%7E%2A", "%2B7%20900~%2A"),
        ("a-b_c.d", "a-b_c.d", "a-b_c.d"),
        ("other[address]", "other%5Baddress%5D", "other%5Baddress%5D"),
    ])
    func percentEncoding(input: String, php: String, rfc: String) {
        #expect(PercentEncoding.php(input) == php)
        #expect(PercentEncoding.rfc3986(input) == rfc)
    }

    @Test func queryStringDecoding() throws {
        let pairs = try QueryString.parse("?a=1+2&b=%D0%AF&c&=skip&d=x%3Dy")
        #expect(pairs.map(\.0) == ["a", "b", "c", "d"])
        #expect(pairs.map(\.1) == ["1 2", "Я", "", "x=y"])
        #expect(throws: PostbackError.self) { try QueryString.parse("a=%ZZ") }
        #expect(throws: PostbackError.self) { try QueryString.parse("a=%C3%28") }
        #expect(throws: PostbackError.self) { try QueryString.parse("a=%00") }
    }

    @Test(arguments: [
        ("https://t.example.com/postback/drcash?token=T", "&oid={sub1}&status={status}", "https://t.example.com/postback/drcash?token=T&oid={sub1}&status={status}"),
        ("https://t.example.com/postback/metacpa?token=T", "oid={sub1}&status=approve", "https://t.example.com/postback/metacpa?token=T&oid={sub1}&status=approve"),
        ("https://t.example.com/postback/kma", "&oid={sub1}", "https://t.example.com/postback/kma?oid={sub1}"),
        ("https://t.example.com/postback/kma?", "&oid={sub1}", "https://t.example.com/postback/kma?oid={sub1}"),
        ("https://t.example.com/p?token=T&", "?oid=1", "https://t.example.com/p?token=T&oid=1"),
    ])
    func postbackURLJoin(base: String, tail: String, expected: String) {
        #expect(PostbackURL.join(base: base, tail: tail) == expected)
    }
}
