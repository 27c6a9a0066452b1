import Foundation
import Testing
import LeadBridgeCore
import LeadBridgeTestSupport

/// Golden files for everything printed (see `GoldenFiles`).
enum Golden {
    static func check(_ actual: String, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) {
        if let difference = GoldenFiles.difference(actual, name) { Issue.record(Comment(rawValue: difference), sourceLocation: sourceLocation) }
    }
}

@Suite struct CatalogGoldenTests {
    /// The Russian catalog reproduces the partner-networks document word for word.
    @Test func russianCatalogIsTheDocument() throws {
        let document = try #require(Fixtures.text("Tests/Fixtures/seeds/partner-networks.ru.txt"))
        let lib = Fixtures.library
        let documentIds = lib.catalog.order.filter { $0 != "leadcraft" && $0 != "salesman" }
        #expect(documentIds.count == 48)
        let rendered = CatalogRenderer.document(lib, language: .ru, ids: documentIds)
        if rendered != document {
            // Point at the first differing network section.
            let docSections = document.components(separatedBy: "\n\n")
            let ourSections = rendered.components(separatedBy: "\n\n")
            let i = zip(docSections, ourSections).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? 0
            Issue.record("block \(i) differs:\n  document: \(i < docSections.count ? docSections[i] : "<end>")\n  rendered: \(i < ourSections.count ? ourSections[i] : "<end>")")
        }
    }

    /// Per network: heading, settings, parameters and tails of each section are the document's.
    @Test(arguments: Fixtures.library.catalog.order.filter { $0 != "leadcraft" && $0 != "salesman" })
    func networkSection(id: String) throws {
        let document = try #require(Fixtures.text("Tests/Fixtures/seeds/partner-networks.ru.txt"))
        let section = CatalogRenderer.section(Fixtures.spec(id), language: .ru)
        #expect(document.contains("\n\n" + section + "\n\n") || document.hasSuffix("\n\n" + section), "\(id) section not found verbatim")
    }

    @Test func docsGolden() {
        Golden.check(CatalogRenderer.document(Fixtures.library, language: .ru) + "\n", "docs.ru.txt")
        Golden.check(CatalogRenderer.document(Fixtures.library, language: .en) + "\n", "docs.en.txt")
    }

    @Test(arguments: ["leadrock", "affbayasia", "limonad", "metacpa", "ikon", "inb-failsafe", "kma", "salesman", "drcash", "adbees"])
    func postbacksGolden(id: String) {
        let s = Fixtures.spec(id)
        let base = "https://t.example.com/postback/\(id)?token=T"
        Golden.check(NetworkViews.postbacksText(s, language: .ru, base: nil) + "\n", "postbacks/\(id).ru.txt")
        Golden.check(NetworkViews.postbacksText(s, language: .en, base: base) + "\n", "postbacks/\(id).en.base.txt")
        Golden.check(JSONWriter.pretty(NetworkViews.postbacksJSON(s, language: .ru, base: base)) + "\n", "postbacks/\(id).json")
    }

    @Test(arguments: ["leadrock", "terraleads", "salesman", "leadcraft", "apileads", "m1shop", "cpagetti"])
    func showGolden(id: String) {
        let s = Fixtures.spec(id)
        Golden.check(NetworkViews.showText(s, library: Fixtures.library, language: .ru) + "\n", "show/\(id).ru.txt")
        Golden.check(NetworkViews.showText(s, library: Fixtures.library, language: .en) + "\n", "show/\(id).en.txt")
        Golden.check(JSONWriter.pretty(NetworkViews.showJSON(s, language: .ru, defaults: Fixtures.library.defaults)) + "\n", "show/\(id).json")
    }

    @Test func postbacksJSONContract() throws {
        let v = NetworkViews.postbacksJSON(Fixtures.spec("leadrock"), language: .ru, base: "https://t.example.com/postback/leadrock?token=T")
        let items = try #require(v["postbacks"]?.arrayValue)
        #expect(items.count == 4)
        #expect(items[0]["label"] == .string("Достижение"))
        #expect(items[0]["tail"] == .null)
        #expect(items[0]["url"] == .null)
        #expect(items[1]["tail"] == .string("&oid={sub1}&status=approve"))
        #expect(items[1]["url"] == .string("https://t.example.com/postback/leadrock?token=T&oid={sub1}&status=approve"))
        let affbay = NetworkViews.postbacksJSON(Fixtures.spec("affbayasia"), language: .ru, base: nil)
        #expect(affbay["postbacks"]?.arrayValue?.isEmpty == true)
        #expect(affbay["fields"]?.arrayValue?.count == 3)
        let api = NetworkViews.postbacksJSON(Fixtures.spec("salesman"), language: .ru, base: nil)
        #expect(api["postbacks"] == .array([]))
        #expect(api["status_source"] == .string("api"))
    }

    @Test func showJSONContract() throws {
        let v = NetworkViews.showJSON(Fixtures.spec("leadrock"), language: .en)
        for key in ["id", "name", "aliases", "credentials", "params", "send", "poll"] { #expect(v[key] != nil, "show --json lacks \(key)") }
        let c = try #require(v["credentials"]?.arrayValue?.first)
        #expect(c["key"] == .string("key"))
        #expect(c["label"] == .string("Key"))
        #expect(c["secret"] == .bool(true))
        #expect(c["required"] == .bool(true))
        #expect(v["params"]?.arrayValue?.first?["description"] == .string("full stream link like https://leadrock.com/URL-XXXXX-XXXXX."))
        #expect(v["send"] == .bool(true))
    }

    /// Networks with neither postbacks nor a status API say so honestly everywhere but the
    /// Russian document (which stays the original word for word): the API is not public, the
    /// manager can give it (a poll block, data only), and import works meanwhile.
    @Test func networksWithoutAStatusSourceSayWhatToDo() {
        let lib = Fixtures.library
        let silent = lib.specs.filter { $0.kind == .network && NetworkViews.statusSource($0) == "none" }
        #expect(silent.count >= 15, "\(silent.map(\.id))")
        let english = CatalogRenderer.document(lib, language: .en)
        for s in silent {
            for l in Language.allCases {
                let import_ = "leadbridge import \(s.id) " + (l == .ru ? "ФАЙЛ" : "FILE")
                #expect(NetworkViews.showText(s, library: lib, language: l).contains(import_), "\(s.id) show \(l)")
                #expect(NetworkViews.postbacksText(s, language: l, base: nil).contains(import_), "\(s.id) postbacks \(l)")
                #expect(NetworkViews.postbacksText(s, language: l, base: nil).contains(l == .ru ? "не публичен" : "not public"))
            }
            #expect(english.contains("leadbridge import \(s.id) FILE"), "\(s.id) docs --lang en")
            #expect(!CatalogRenderer.section(s, language: .ru).contains("import"), "\(s.id) docs --lang ru must stay the original")
        }
    }
}
