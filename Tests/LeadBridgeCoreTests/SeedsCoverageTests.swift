import Foundation
import Testing
import LeadBridgeCore

/// docs/seeds-coverage.md holds: every quote is in its document (verbatim, spaces aside),
/// every row has a proof, every test it names exists, every example it names exists and
/// holds, and every `n/a` says why.
@Suite struct SeedsCoverageTests {
    struct Row {
        var id: String
        var quote: String
        var proofs: [String]
        var notApplicable: String?
    }

    static let documents = ["L": "Tests/Fixtures/seeds/leadcraft-guide.ru.txt", "S": "Tests/Fixtures/seeds/salesman-leads-api.ru.txt"]

    static func squeeze(_ s: String) -> String { s.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ") }

    /// The table rows: cells split at unescaped `|`, the quote between «», proofs in backticks.
    static func rows(_ text: String) -> [Row] {
        text.split(separator: "\n").compactMap { line -> Row? in
            guard line.hasPrefix("| L") || line.hasPrefix("| S") else { return nil }
            var cells: [String] = [], cell = "", escaped = false
            for c in line {
                if c == "|" && !escaped { cells.append(cell); cell = "" } else { cell.append(c) }
                escaped = c == "\\"
            }
            let trimmed = cells.dropFirst().map { $0.trimmingCharacters(in: .whitespaces) }
            guard trimmed.count == 4, trimmed[0].dropFirst().allSatisfy(\.isNumber) else { return nil }
            let quote = trimmed[1].split(separator: "«", maxSplits: 1, omittingEmptySubsequences: false).dropFirst().first?.split(separator: "»").first.map(String.init) ?? ""
            let proof = trimmed[3]
            let ticks = proof.split(separator: "`", omittingEmptySubsequences: false)
            let proofs = stride(from: 1, to: ticks.count, by: 2).map { String(ticks[$0]) }
            return Row(id: trimmed[0], quote: quote, proofs: proofs, notApplicable: proof.hasPrefix("n/a:") ? String(proof.dropFirst(4)) : nil)
        }
    }

    static let testSources: String = {
        let root = Fixtures.root + "/Tests"
        guard let walker = FileManager.default.enumerator(atPath: root) else { return "" }
        var all = ""
        while let rel = walker.nextObject() as? String {
            guard rel.hasSuffix(".swift"), let text = Fixtures.text("Tests/" + rel) else { continue }
            all += "\n// FILE \(rel)\n" + text
        }
        return all
    }()

    /// `Suite.function` exists: a file declares the suite and, in the same file, the function.
    static func testExists(_ name: String) -> Bool {
        let parts = name.split(separator: ".")
        guard parts.count == 2 else { return false }
        return testSources.components(separatedBy: "\n// FILE ").contains { file in
            file.contains("struct \(parts[0]) ") && file.contains("func \(parts[1])(")
        }
    }

    @Test func everyRequirementIsQuotedAndProven() throws {
        let text = try #require(Fixtures.text("docs/seeds-coverage.md"))
        let rows = Self.rows(text)
        #expect(rows.filter { $0.id.hasPrefix("L") }.count >= 30)
        #expect(rows.filter { $0.id.hasPrefix("S") }.count >= 20)
        #expect(Set(rows.map(\.id)).count == rows.count, "a row id is used twice")
        var documents: [String: String] = [:]
        for (prefix, path) in Self.documents { documents[prefix] = Self.squeeze(try #require(Fixtures.text(path))) }
        var examples = 0
        for row in rows {
            #expect(!row.quote.isEmpty, "\(row.id): no «quote»")
            #expect(documents[String(row.id.prefix(1))]?.contains(Self.squeeze(row.quote)) == true, "\(row.id): «\(row.quote)» is not in the document")
            if let why = row.notApplicable {
                #expect(row.proofs.isEmpty && why.trimmingCharacters(in: .whitespaces).count >= 15, "\(row.id): n/a needs its reason, and nothing else")
                continue
            }
            #expect(!row.proofs.isEmpty, "\(row.id): no proof")
            for proof in row.proofs {
                if proof.hasPrefix("test:") {
                    #expect(Self.testExists(String(proof.dropFirst(5))), "\(row.id): no test \(proof.dropFirst(5))")
                } else if proof.hasPrefix("example:") {
                    let rest = proof.dropFirst(8)
                    guard let colon = rest.firstIndex(of: ":") else { Issue.record("\(row.id): \(proof) is not example:network:name"); continue }
                    let spec = Fixtures.spec(String(rest[rest.startIndex..<colon]))
                    let name = String(rest[rest.index(after: colon)...])
                    let results = ExampleRunner.runAll(spec, defaults: Fixtures.library.defaults).filter { $0.name == name }
                    #expect(results.count == 1, "\(row.id): \(spec.id) has \(results.count) examples named \"\(name)\"")
                    #expect(results.allSatisfy { $0.passed }, "\(row.id): example \"\(name)\" does not hold")
                    examples += 1
                } else {
                    Issue.record("\(row.id): \(proof) is neither test: nor example:")
                }
            }
        }
        #expect(examples > 20)
    }

    /// The checks are not vacuous: a missing test, a quote the document lacks, a bare n/a.
    @Test func theChecksCatchWhatIsWrong() {
        #expect(Self.testExists("SeedsCoverageTests.everyRequirementIsQuotedAndProven"))
        #expect(!Self.testExists("SeedsCoverageTests.noSuchTest"))
        #expect(!Self.testExists("NoSuchSuite.everyRequirementIsQuotedAndProven"))
        let rows = Self.rows("| L1 | «x» | y | `test:A.b` `example:kma:c; d` |\n| S2 | «q» | w | n/a: because it is so |\n| X | not a row |")
        #expect(rows.count == 2)
        #expect(rows.first?.proofs == ["test:A.b", "example:kma:c; d"])
        #expect(rows.last?.notApplicable == " because it is so")
        #expect(!(Fixtures.text(Self.documents["S"] ?? "") ?? "").contains("заявка отправлена голубиной почтой"))
    }
}
