import Testing
import LeadBridgeCore
import LeadBridgeTestSupport

/// Malformed specs: each problem is reported with file, line:col and JSON pointer.
@Suite struct SpecLoaderTests {
    static let minimal = """
    {
      "id": "demo",
      "name": "Demo",
      "credentials": [{"key": "token", "label": {"ru": "API", "en": "API"}, "secret": true}],
      "params": [{"key": "demo", "description": {"ru": "поток.", "en": "stream."}}],
      "postbacks": {"items": [{"label": {"ru": "Глобальный", "en": "Global"}, "tail": "&oid={sub1}&status={status}"}],
                    "macros": {"{sub1}": "order_id", "{status}": "status"}},
      "statuses": {"approved": ["ok"]}
    }
    """

    static func diagnostics(_ text: String, file: String = "Networks/demo.json", templates: [String: String] = [:]) -> [Diagnostic] {
        Fixtures.load([file: text], templates: templates).diagnostics
    }

    @Test func minimalSpecIsClean() {
        let lib = Fixtures.load(["Networks/demo.json": Self.minimal])
        #expect(lib.diagnostics.isEmpty, "\(lib.diagnostics)")
        #expect(lib.spec("demo")?.credentials.first?.secret == true)
    }

    @Test func malformedJSONHasLineAndColumn() {
        let d = Self.diagnostics("{\n  \"id\": \"demo\",\n  \"name\": \"Demo\",\n}\n")
        #expect(d.count == 1)
        #expect(d.first?.description == "Networks/demo.json:4:1: error: trailing comma before '}' [json]")
    }

    @Test(arguments: [
        // (edit, expected line:col, pointer, code, message fragment)
        ("\"name\": \"Demo\",", "\"name\": 42,", "3:11", "/name", "type", "must be a string, found number"),
        ("\"name\": \"Demo\",", "\"name\": \"Demo\", \"titel\": \"x\",", "3:19", "/titel", "unknown-key", "did you mean \"title\""),
        ("\"name\": \"Demo\",", "", "1:1", "", "missing-key", "missing required key \"name\""),
        ("\"secret\": true", "\"secret\": \"yes\"", "4:83", "/credentials/0/secret", "type", "must be true or false"),
        ("\"tail\": \"&oid={sub1}&status={status}\"", "\"tail\": 5", "6:83", "/postbacks/items/0/tail", "type", "string or null"),
        ("\"tail\": \"&oid={sub1}&status={status}\"", "\"tail\": \"&oid={sub1}&stauts={status}\"", "6:83", "/postbacks/items/0/tail", "unknown-tail-key", "did you mean \"status\""),
        ("\"statuses\": {\"approved\": [\"ok\"]}", "\"statuses\": {\"approved\": [\"ok\"], \"trash\": [\"OK\"]}", "8:45", "/statuses/trash", "status-conflict", "both approved and trash"),
        ("\"statuses\": {\"approved\": [\"ok\"]}", "\"statuses\": {\"aproved\": [\"ok\"]}", "8:16", "/statuses/aproved", "unknown-key", "did you mean \"approved\""),
        ("\"{status}\": \"status\"", "\"{status}\": \"state\"", "7:62", "/postbacks/macros/{status}", "enum", "unknown macro meaning"),
        ("\"id\": \"demo\",", "\"id\": \"Demo X\",", "2:9", "/id", "id", "lower-case letters"),
        ("\"id\": \"demo\",", "\"id\": \"other\",", "2:9", "/id", "id-mismatch", "does not match the file name"),
    ])
    func reportsWithLocation(find: String, replace: String, position: String, pointer: String, code: String, message: String) {
        let text = Self.minimal.replacingAll(find, with: replace)
        let d = Self.diagnostics(text).filter(\.isError)
        let hit = d.first { $0.code == code }
        #expect(hit != nil, "no \(code) in \(d)")
        guard let hit else { return }
        #expect(hit.pointer == pointer)
        #expect(hit.english.contains(message), "\(hit.english)")
        #expect(hit.position.map { "\($0.line):\($0.column)" } == position, "\(hit)")
    }

    @Test func secretInPrintedTail() {
        let text = Self.minimal.replacingAll("&oid={sub1}&status={status}", with: "&oid={sub1}&status={status}&comment={credentials.token}")
        #expect(Self.diagnostics(text).contains { $0.code == "secret-in-tail" })
    }

    @Test func undeclaredMacro() {
        let text = Self.minimal.replacingAll("\"{status}\": \"status\"", with: "\"{stat}\": \"status\"")
        let d = Self.diagnostics(text)
        #expect(d.contains { $0.code == "undeclared-macro" && $0.english.contains("{status}") })
    }

    @Test func unknownPlaceholderFilterAndOutcomePath() {
        let send = """
          "send": {"request": {"method": "POST", "url": "https://api.demo.test/lead",
                   "form": {"phone": "{lead.phnoe}", "name": "{lead.name|uper}", "stream": "{params.demo}"}},
                   "outcomes": [{"when": {"json": "status", "equals": "ok"}, "result": "accepted", "externalId": "data.idd"}]},
          "examples": [{"name": "ok", "lead": {"id": "A-1", "phone": "+79001234567"},
                        "exchanges": [{"request": {"method": "POST", "url": "https://api.demo.test/lead"},
                                       "response": {"status": 200, "body": "{\\"status\\":\\"ok\\",\\"data\\":{\\"id\\":5}}"}}],
                        "expect": {"result": "accepted"}}],
          "statuses"
        """
        let text = Self.minimal.replacingAll("\"statuses\"", with: send)
        let d = Self.diagnostics(text)
        let placeholder = d.first { $0.code == "unknown-placeholder" }
        #expect(placeholder?.english.contains("did you mean {lead.phone}") == true, "\(d)")
        #expect(placeholder?.pointer == "/send/request/form/phone")
        #expect(placeholder?.position?.line == 9)
        #expect(d.contains { $0.code == "unknown-filter" && $0.english.contains("'upper'") && $0.pointer == "/send/request/form/name" })
        #expect(d.contains { $0.code == "unknown-outcome-path" && $0.english.contains("\"data.id\"") && $0.pointer == "/send/outcomes/0/externalId" })
    }

    static let sendBlock = """
      "send": {"request": {"method": "POST", "url": "https://api.demo.test/lead", "form": {"phone": "{lead.phone}"}},
               "outcomes": [{"when": {"http": "2xx"}, "result": "accepted"}]},
      "poll": {"request": {"url": "https://api.demo.test/status", "query": {"ids": "{ids|join:,}"}}, "batch": 10,
               "items": "data", "id": "id", "status": "status"},
      "statuses"
    """

    @Test func sendAndPollNeedASource() {
        let text = Self.minimal.replacingAll("\"statuses\"", with: Self.sendBlock)
        let d = Self.diagnostics(text).filter { $0.code == "missing-source" }
        #expect(d.map(\.pointer) == ["/send", "/poll"], "\(d)")
        #expect(d.first?.position?.line == 8)
        // A source for send only leaves the poll unsupported.
        let one = text.replacingAll("\"id\": \"demo\",", with: """
          "id": "demo", "sources": {"kit": {"repository": "demo/kit", "path": "Lead.php", "supports": ["send"], "confidence": "one-client"}},
          """)
        #expect(Self.diagnostics(one).filter { $0.code == "missing-source" }.map(\.pointer) == ["/poll"])
    }

    @Test(arguments: [
        // (sources, expected weakest evidence of send and poll)
        (#"{"a": {"url": "https://x.test/doc", "supports": ["send", "poll"], "confidence": "official"}}"#, SourceSpec.Confidence.official),
        (#"{"a": {"url": "https://x.test/doc", "supports": ["send"], "confidence": "official"}, "b": {"where": "a client", "supports": ["poll"], "confidence": "one-client"}}"#, .oneClient),
        (#"{"a": {"repository": "o/a", "path": "a.php", "supports": ["send", "poll"], "confidence": "one-client"}, "b": {"repository": "o/b", "path": "b.php", "supports": ["send", "poll"], "confidence": "one-client"}}"#, .severalClients),
        (#"{"a": {"url": "https://x.test/doc", "supports": ["send"], "confidence": "official"}, "b": {"url": "https://x.test/guess", "supports": ["poll"], "confidence": "inferred"}}"#, .inferred),
        // A part of a fact that rests on weaker evidence weakens the whole fact.
        (#"{"a": {"url": "https://x.test/doc", "supports": ["send", "poll"], "confidence": "official"}, "b": {"where": "our reading", "supports": ["send.credentials"], "confidence": "inferred"}}"#, .inferred),
        (#"{"a": {"url": "https://x.test/doc", "supports": ["send", "poll"], "confidence": "official"}, "b": {"where": "a client", "supports": ["poll.host"], "confidence": "one-client"}, "c": {"where": "another client", "supports": ["poll.host"], "confidence": "one-client"}}"#, .severalClients),
    ])
    func evidenceIsTheWeakerOfSendAndPoll(sources: String, expected: SourceSpec.Confidence) throws {
        let text = Self.minimal.replacingAll("\"statuses\"", with: Self.sendBlock).replacingAll("\"id\": \"demo\",", with: "\"id\": \"demo\", \"sources\": \(sources),")
        let lib = Fixtures.load(["Networks/demo.json": text])
        #expect(lib.errors.filter { $0.code == "missing-source" }.isEmpty, "\(lib.errors)")
        #expect(try #require(lib.spec("demo")).weakestEvidence == expected)
    }

    @Test(arguments: [
        (#"{"a": {"supports": ["send"], "confidence": "official"}}"#, "source", "needs \"url\""),
        (#"{"a": {"url": "ftp://x", "supports": ["send"], "confidence": "official"}}"#, "source", "http"),
        (#"{"a": {"url": "https://x.test", "supports": ["sned"], "confidence": "official"}}"#, "enum", "did you mean \"send\""),
        (#"{"a": {"url": "https://x.test", "supports": ["send"], "confidence": "sure"}}"#, "enum", "one-client"),
        (#"{"a": {"repository": "o/r", "supports": ["send"], "confidence": "official"}}"#, "missing-key", "\"path\""),
        (#"{"a": {"url": "https://x.test", "supports": ["send.Host"], "confidence": "official"}}"#, "enum", "with a part"),
    ])
    func malformedSources(sources: String, code: String, fragment: String) {
        let text = Self.minimal.replacingAll("\"id\": \"demo\",", with: "\"id\": \"demo\", \"sources\": \(sources),")
        let d = Self.diagnostics(text).filter(\.isError)
        #expect(d.contains { $0.code == code && $0.english.contains(fragment) && $0.pointer.hasPrefix("/sources/a") }, "\(d)")
    }

    /// `vars`: a base writes `{vars.host}` once; the spec gives the value; everything (URLs,
    /// examples) sees it. A missing or unknown name is an error at the string that uses it.
    @Test func varsFillABaseAndReportWhatIsMissing() throws {
        let base = #"{"vars": {"host": null}, "send": {"request": {"method": "POST", "url": "https://{vars.host}/lead"}, "outcomes": [{"when": {"http": "2xx"}, "result": "accepted"}]}, "sources": {"d": {"url": "https://x.test", "supports": ["send"], "confidence": "official"}}}"#
        let good = #"{"id": "demo", "name": "Demo", "extends": "plat", "vars": {"host": "api.demo.example/v2"}}"#
        let lib = Fixtures.load(["Networks/demo.json": good], templates: ["Templates/plat.json": base])
        #expect(lib.errors.isEmpty, "\(lib.errors)")
        #expect(try #require(lib.spec("demo")?.send).request.url.source == "https://api.demo.example/v2/lead")
        let missing = Fixtures.load(["Networks/demo.json": #"{"id": "demo", "name": "Demo", "extends": "plat"}"#], templates: ["Templates/plat.json": base]).errors
        #expect(missing.contains { $0.code == "missing-var" && $0.pointer == "/send/request/url" && $0.english.contains("\"host\"") }, "\(missing)")
        let typo = Fixtures.load(["Networks/demo.json": good.replacingAll("\"vars\": {\"host\"", with: "\"notes\": [{\"ru\": \"{vars.hots}\", \"en\": \"x\"}], \"vars\": {\"host\"")],
                                 templates: ["Templates/plat.json": base]).errors
        #expect(typo.contains { $0.code == "unknown-var" && $0.english.contains("did you mean {vars.host}") && $0.pointer == "/notes/0/ru" }, "\(typo)")
        let bad = Fixtures.load(["Networks/demo.json": good.replacingAll("api.demo.example/v2", with: "api demo")], templates: ["Templates/plat.json": base]).errors
        #expect(bad.contains { $0.code == "var" && $0.pointer == "/vars/host" }, "\(bad)")
        let none = Fixtures.load(["Networks/demo.json": #"{"id": "demo", "name": "Demo", "notes": [{"ru": "{vars.host}", "en": "x"}]}"#]).errors
        #expect(none.contains { $0.code == "unknown-var" && $0.english.contains("no \"vars\"") }, "\(none)")
    }

    @Test func extendsMergesDeepAndSpecWins() throws {
        let base = #"{"postbacks": {"items": [{"label": {"ru": "Глобальный", "en": "Global"}, "tail": "&oid={sub1}&status={status}"}], "macros": {"{sub1}": "order_id", "{status}": "status"}}, "statuses": {"approved": ["ok"], "trash": ["bad"]}}"#
        let spec = #"{"id": "demo", "name": "Demo", "extends": "sub1-base", "credentials": [], "params": [], "statuses": {"approved": ["fine"]}}"#
        let lib = Fixtures.load(["Networks/demo.json": spec], templates: ["Templates/sub1-base.json": base])
        #expect(lib.errors.isEmpty, "\(lib.errors)")
        let s = try #require(lib.spec("demo"))
        #expect(s.statuses.words[.approved] == ["fine"])  // arrays are replaced
        #expect(s.statuses.words[.trash] == ["bad"])  // objects merge key by key
        #expect(s.postbacks?.items.first?.tail == "&oid={sub1}&status={status}")
    }

    @Test func errorsInsideATemplateNameTheTemplateFile() {
        let base = "{\n  \"statuses\": {\"approvd\": [\"ok\"]}\n}"
        let spec = #"{"id": "demo", "name": "Demo", "extends": "sub1-base"}"#
        let d = Fixtures.load(["Networks/demo.json": spec], templates: ["Templates/sub1-base.json": base]).errors
        #expect(d.contains { $0.file == "Templates/sub1-base.json" && $0.position?.line == 2 && $0.code == "unknown-key" }, "\(d)")
    }

    @Test func extendsCyclesAndUnknownTemplates() {
        let a = #"{"extends": "b"}"#, b = #"{"extends": "a"}"#
        let spec = #"{"id": "demo", "name": "Demo", "extends": "a"}"#
        let d = Fixtures.load(["Networks/demo.json": spec], templates: ["Templates/a.json": a, "Templates/b.json": b]).errors
        #expect(d.contains { $0.code == "extends-cycle" && $0.english.contains("a → b → a") }, "\(d)")
        let unknown = Fixtures.load(["Networks/demo.json": #"{"id": "demo", "name": "Demo", "extends": "sub1-bse"}"#],
                                    templates: ["Templates/sub1-base.json": "{}"]).errors
        #expect(unknown.contains { $0.code == "unknown-template" && $0.english.contains("did you mean \"sub1-base\"") }, "\(unknown)")
    }

    @Test func duplicateIdsAndAliases() {
        let lib = Fixtures.load([
            "Networks/demo.json": #"{"id": "demo", "name": "Demo"}"#,
            "Networks/x/demo.json": #"{"id": "demo", "name": "Demo 2"}"#,
            "Networks/other.json": #"{"id": "other", "name": "Other", "aliases": ["demo"]}"#,
        ])
        #expect(lib.errors.filter { $0.code == "duplicate-id" }.count == 2, "\(lib.errors)")
    }

    @Test func userLayerOverridesShippedSpec() {
        let shipped = SpecSource(path: "Networks/kma.json", bytes: Array(#"{"id": "kma", "name": "KMA"}"#.utf8), layer: 0)
        let mine = SpecSource(path: "/home/me/specs/kma.json", bytes: Array(#"{"id": "kma", "name": "KMA (mine)"}"#.utf8), layer: 1)
        let lib = SpecLoader.load(networks: [shipped, mine], templates: [])
        #expect(lib.spec("KMA")?.name == "KMA (mine)")
        #expect(lib.errors.isEmpty)
    }
}

/// The shipped catalog: 50 specs, clean, complete.
@Suite struct ShippedSpecsTests {
    @Test func fiftySpecsLintClean() {
        let lib = Fixtures.library
        #expect(lib.specs.count == 50)
        #expect(lib.diagnostics.isEmpty, "\(lib.diagnostics.map(\.description).joined(separator: "\n"))")
        #expect(lib.catalog.order.count == 50)
        for id in lib.catalog.order { #expect(lib.spec(id) != nil, "catalog lists \(id) but no spec has it") }
    }

    @Test(arguments: [("AD1", "offerrum"), ("cpa.tl", "trafficlight"), ("TamCRM", "tamyonetim"), ("offerrum", "offerrum"), ("zcpa", "adbees"), ("M1", "m1shop")])
    func aliases(name: String, id: String) {
        #expect(Fixtures.library.spec(name)?.id == id)
    }

    @Test func closestMatchesForUnknownIds() {
        #expect(Fixtures.library.closest(to: "leadrok").first == "leadrock")
        #expect(Fixtures.library.closest(to: "inb").contains("inb-order"))
    }

    @Test func everyTextHasEnglish() {
        for spec in Fixtures.library.specs {
            for c in spec.credentials { #expect(c.label.en != nil && c.hint?.en != nil, "\(spec.id) credential \(c.key)") }
            for p in spec.params { #expect(p.description.en != nil, "\(spec.id) param \(p.key)") }
            for n in spec.notes { #expect(n.en != nil, "\(spec.id) note") }
            for i in spec.postbacks?.items ?? [] { #expect(i.label.en != nil, "\(spec.id) postback label") }
        }
    }

    /// Every spec example (send and poll) holds: the spec's examples are real expectations.
    @Test(arguments: Fixtures.library.specs.map(\.id))
    func examples(id: String) {
        for r in ExampleRunner.runAll(Fixtures.spec(id), defaults: Fixtures.library.defaults) {
            #expect(r.passed, "\(id) \"\(r.name)\":\n\(r.differences.map(\.english).joined(separator: "\n"))")
        }
    }

    /// Every spec says where its facts come from, and every send and poll has a source.
    @Test func everySpecHasSources() {
        for spec in Fixtures.library.specs {
            #expect(!spec.sources.isEmpty, "\(spec.id) has no sources")
            if spec.send != nil { #expect(spec.evidence(for: .send) != nil, "\(spec.id) send") }
            if spec.poll != nil { #expect(spec.evidence(for: .poll) != nil, "\(spec.id) poll") }
        }
    }

    /// Each platform base, extended with only a host (as `new --platform` writes it), lints
    /// clean and passes the base's examples at that host.
    @Test func platformBasesHoldAtAnyHost() {
        let lib = PackageFixtures.libraryWithPlatforms(checks: .full)
        let specs = lib.specs.filter { $0.id.hasPrefix("example-") }
        #expect(Set(specs.compactMap(\.platform?.id)) == ["altercpa", "everflow", "hasoffers", "trafficmanager"])
        #expect(lib.diagnostics.isEmpty, "\(lib.diagnostics.map(\.description).joined(separator: "\n"))")
        for spec in specs {
            #expect(!spec.pollExamples.isEmpty, "\(spec.id) has no poll examples")
            let url = spec.poll?.request.url.source ?? ""
            #expect(url.contains("api.\(spec.platform?.id ?? "")-demo.example"), "\(url)")
            for r in ExampleRunner.runAll(spec, defaults: lib.defaults) { #expect(r.passed, "\(spec.id) \"\(r.name)\": \(r.differences.map(\.english))") }
        }
    }

    /// Specs with a send block carry an accepted example and a failure case.
    @Test func sendSpecsHaveExamplesOfEachKind() {
        for spec in Fixtures.library.specs where spec.send != nil {
            let kinds = Set(spec.examples.map(\.expect.result))
            #expect(kinds.contains(.accepted), "\(spec.id) has no accepted example")
            #expect(kinds.contains(.duplicate) || kinds.contains(.rejected), "\(spec.id) has no duplicate or rejected example")
        }
    }
}
