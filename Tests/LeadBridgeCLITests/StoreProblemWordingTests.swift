import Foundation
import LeadBridgeCore
import LeadBridgeStore
import LeadBridgeTestSupport
import Testing
@testable import LeadBridgeCLI

/// A store's failures an operator meets (not a database, locked, read-only, a schema too new
/// or too old, PostgreSQL unreachable or its URL invalid …) read in both languages; their
/// English is the store error's message, as before.
@Suite struct StoreProblemWordingTests {
    @Test func everyProblemIsWordedInBothLanguages() throws {
        try DiagnosticWordingTests.expectAnExampleOfEveryCase(StoreProblem.examples, declaredIn: "Sources/LeadBridgeStore/StoreProblem.swift", atLeast: 15)
        for l in Language.allCases {
            let lines = StoreProblem.examples.map { Say.store(.problem($0)).text(l) }
            if let diff = GoldenFiles.difference(lines.joined(separator: "\n") + "\n", "diagnostics/store.\(l.rawValue).txt") { Issue.record("\(diff)") }
            #expect(Set(lines).count == lines.count, "two problems read the same in \(l.rawValue)")
        }
        for p in StoreProblem.examples {
            #expect(Say.store(.problem(p)).text(.en) == "store: " + p.english)
            let ru = Say.storeProblemRU(p)
            #expect(SendFailureWordingTests.cyrillic(ru), "not Russian: \(ru)")
            #expect(StoreError(.io, p).message == p.english && StoreError(.io, p).problem == p)
        }
        // A lower layer's text, not a problem of ours, stays as it came.
        #expect(StoreDetail(StoreError(.misuse, "insert lead: constraint failed")) == .said("insert lead: constraint failed"))
    }

    /// Through the command line: a ledger that is not a database reads in Russian by default.
    @Test func aFileThatIsNotALedgerReadsInTheChosenLanguage() async throws {
        let dir = CLI.tempDir()
        CLI.write("this is not SQLite, it is a note\n", to: dir + "/ledger.sqlite")
        CLI.write(#"{"store": "ledger.sqlite", "accounts": {}}"#, to: dir + "/leadbridge.json")
        let env = ["LEADBRIDGE_CONFIG": dir + "/leadbridge.json", "LEADBRIDGE_LANG": ""]
        let ru = await CLI.run(["leads"], env: env)
        #expect(ru.code != 0 && ru.err.contains("хранилище: ") && ru.err.contains("не база LeadBridge или повреждена"), "\(ru.err)")
        let en = await CLI.run(["leads", "--lang", "en"], env: env)
        #expect(en.err.contains("store: ") && en.err.contains("is not a LeadBridge database or is corrupt"), "\(en.err)")
    }
}
