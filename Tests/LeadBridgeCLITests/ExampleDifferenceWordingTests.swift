import Testing
@testable import LeadBridgeCLI
import LeadBridgeCore
import LeadBridgeTestSupport

/// What a spec example found different is typed in Core and worded in the user's language (it
/// shows in `test` and in `lint`'s `[example]` lines): every case has an example here (a case
/// added without one fails), each reads as Russian in Russian and differently in each language,
/// and the golden files are the catalog in print (`diagnostics/examples.{ru,en}.txt`).
@Suite struct ExampleDifferenceWordingTests {
    static let examples: [ExampleDifference] = [
        .method(expected: "POST", built: "GET"), .url(expected: "https://api.example/v1/lead", built: "https://api.example/v2/lead"),
        .urlQuery(expected: "a=1&a=2", built: "a=2&a=1"), .header(name: "X-Token", expected: "abc", built: "abd"),
        .header(name: "X-Sign", expected: "f00", built: nil),
        .fieldDiffers(.form, key: "phone", expected: "79001234567", built: "9001234567"),
        .fieldMissing(.query, key: "offer", expected: "12"), .fieldNotExpected(.json, key: "data.comment", built: "hi"),
        .fieldOrder(.form, expected: ["name", "phone"], built: ["phone", "name"]), .jsonBytes,
        .body(expected: "{\"a\":1}", built: "{\"a\":2}"), .inRequest(2, .method(expected: "GET", built: "POST")),
        .sendEnded(exchange: 1, outcome: "rejected"), .result(expected: "accepted", got: "rejected", message: "duplicate"),
        .externalId(expected: "123", got: "124"), .externalId(expected: "123", got: nil), .message(expected: "ok", got: "fail"),
        .sendNeedsMoreExchanges, .cannotPrepare(.invalidLead(field: "phone", .requiredBy(network: "kma"))),
        .cannotBuild(.urlPlaceholderEmpty("credentials.url")), .noPollBlock, .pollEnded(exchange: 2),
        .failureDiffers(expected: "Wrong api_key", got: .httpStatus(500, excerpt: "oops")), .pollFailed(.notJSON(excerpt: "<html>")),
        .pollFailed(.said("Invalid api_key")), .pollFailed(.noItems(path: "data", excerpt: "{}")), .pollFailed(.notAList(path: "data", found: "string")), .pollDidNotFail(expected: "Wrong api_key"),
        .pollWantsMore, .noStatusFound(lead: "o-1"), .status(lead: "o-1", expected: "approved", got: nil, raw: "hold"),
        .raw(lead: "o-1", expected: "confirmed", got: "Confirmed"), .noOutgoing("lead"),
        .outgoingSendsNothing(status: "trash", outgoing: "lead"), .accountLacks(["credentials.token", "params.goal"]),
        .outgoingSends(status: "approved", word: "sale", outgoing: "lead"),
    ]

    @Test func everyDifferenceIsWordedInBothLanguages() throws {
        try DiagnosticWordingTests.expectAnExampleOfEveryCase(Self.examples, declaredIn: "Sources/LeadBridgeCore/Send/ExampleDifference.swift", atLeast: 31)
        for l in Language.allCases {
            let lines = Self.examples.map { Say.exampleDifference($0).text(l) }
            if let diff = GoldenFiles.difference(lines.joined(separator: "\n") + "\n", "diagnostics/examples.\(l.rawValue).txt") { Issue.record("\(diff)") }
            #expect(Set(lines).count == lines.count, "two differences read the same in \(l.rawValue)")
        }
        for d in Self.examples {
            let ru = Say.exampleDifference(d).text(.ru), en = Say.exampleDifference(d).text(.en)
            #expect(ru.unicodeScalars.contains { (0x0410...0x044F).contains($0.value) }, "not Russian: \(ru)")
            #expect(ru != en, "the same in both languages: \(en)")
            #expect(en == d.english)
        }
    }

    /// A difference that spans two lines keeps the expected and the built value under each other
    /// in both languages (`test` prints them so).
    @Test func twoLineDifferencesStayAligned() {
        for d in Self.examples {
            for l in Language.allCases {
                let lines = Say.exampleDifference(d).text(l).split(separator: "\n", omittingEmptySubsequences: false)
                guard lines.count == 2 else { #expect(lines.count == 1, "\(lines)"); continue }
                // The value is the last word (the examples' values have no spaces).
                let value: (Substring) -> Int = { line in line.lastIndex(of: " ").map { line.distance(from: line.startIndex, to: $0) } ?? -1 }
                #expect(value(lines[0]) == value(lines[1]), "\(l.rawValue): \(lines)")
            }
        }
    }
}

/// Counts read as each language counts: "1 spec, 2 errors" in English, the three Russian
/// forms (1 спецификация, 2 спецификации, 5 спецификаций; 11–14 like 5, 21 like 1).
@Suite struct CountWordingTests {
    @Test(arguments: [
        (1, 1, 1, "1 spec, 1 error, 1 warning", "1 спецификация, 1 ошибка, 1 предупреждение"),
        (2, 3, 4, "2 specs, 3 errors, 4 warnings", "2 спецификации, 3 ошибки, 4 предупреждения"),
        (5, 0, 11, "5 specs, 0 errors, 11 warnings", "5 спецификаций, 0 ошибок, 11 предупреждений"),
        (21, 12, 22, "21 specs, 12 errors, 22 warnings", "21 спецификация, 12 ошибок, 22 предупреждения"),
        (111, 101, 104, "111 specs, 101 errors, 104 warnings", "111 спецификаций, 101 ошибка, 104 предупреждения"),
    ])
    func lintSummary(specs: Int, errors: Int, warnings: Int, en: String, ru: String) {
        #expect(Say.lintSummary(specs: specs, errors: errors, warnings: warnings).text(.en) == en)
        #expect(Say.lintSummary(specs: specs, errors: errors, warnings: warnings).text(.ru) == ru)
    }

    @Test func otherEnglishCounts() {
        #expect(Say.statusChanges(1).text(.en) == "1 status change")
        #expect(Say.statusChanges(3).text(.en) == "3 status changes")
        #expect(Say.batchQueuedNext(1).text(.en).hasPrefix("1 lead queued"))
        #expect(Say.batchQueuedNext(2).text(.en).hasPrefix("2 leads queued"))
        #expect(Say.uncertainOpen(1).text(.en).hasPrefix("1 lead uncertain"))
        #expect(Say.uncertainWarning(count: 1, leads: ["A"]).text(.en).hasPrefix("1 lead may have reached its network and is now"))
        #expect(Say.uncertainWarning(count: 2, leads: ["A", "B"]).text(.en).hasPrefix("2 leads may have reached their network and are now"))
        for l in Language.allCases { #expect(!Say.statusChanges(2).text(l).contains("(s)")) }
    }
}

/// What is wrong with an incoming postback (what `postback` reports) in both languages: every
/// case has an example (golden `diagnostics/postback.{ru,en}.txt`); the receiver answers the
/// network with the English.
@Suite struct PostbackProblemWordingTests {
    static let examples: [PostbackProblem] = [
        .invalidPercentEncoding, .notUTF8AfterDecoding, .controlCharacters, .givenTwice(first: "A-1", second: "A-2"),
        .unsubstitutedMacro("{subid}"), .tooLong(limit: 512), .noId, .noStatus, .notACurrency("rub1"), .notAReasonCode("x7"),
        .unknownStatusWord("99", network: "adbees"), .notAnAmount("12,50"), .bodyNotAJSONObject, .bodyNotUTF8,
    ]

    @Test func everyProblemIsWordedInBothLanguages() throws {
        try DiagnosticWordingTests.expectAnExampleOfEveryCase(Self.examples, declaredIn: "Sources/LeadBridgeCore/Postback/PostbackProblem.swift", atLeast: 14)
        for l in Language.allCases {
            let lines = Self.examples.map { Say.postbackProblem(network: "adbees", PostbackError($0, field: "status")).text(l) }
            if let diff = GoldenFiles.difference(lines.joined(separator: "\n") + "\n", "diagnostics/postback.\(l.rawValue).txt") { Issue.record("\(diff)") }
            #expect(Set(lines).count == lines.count, "two problems read the same in \(l.rawValue)")
        }
        for p in Self.examples {
            let ru = Say.postbackProblemRU(p)
            #expect(ru.unicodeScalars.contains { (0x0410...0x044F).contains($0.value) }, "not Russian: \(ru)")
            #expect(PostbackError(p, field: "oid").message == p.english)
        }
    }
}

/// The words around a send attempt in `lead ID` and the pass outcome in `status` follow the
/// language (the sweep found "not-received", "ms" and "ok" in Russian output).
@Suite struct AttemptWordingTests {
    @Test func anAttemptLineReadsInEachLanguage() {
        let entry = JournalEntry(at: 1_800_000_000, kind: .attempt, source: .send, fromState: .sending, toState: .queued,
                                 attempt: AttemptRecord(number: 1, outcome: .failed, receipt: .notReceived, httpStatus: 503, durationMs: 54))
        let ru = LedgerCommands.journalLine(entry, .ru), en = LedgerCommands.journalLine(entry, .en)
        #expect(ru.contains("(не дошёл до сети, HTTP 503, 54 мс)"), "\(ru)")
        #expect(en.contains("(not-received, HTTP 503, 54 ms)"), "\(en)")
        var maybe = entry
        maybe.attempt?.receipt = .maybeReceived
        #expect(LedgerCommands.journalLine(maybe, .ru).contains("мог дойти до сети"))
    }

    @Test func aPassOutcomeReadsInEachLanguage() {
        #expect(SyncOutcome.allCases.map { $0.text(.ru) } == ["ок", "сбой", "аккаунт недоступен"])
        #expect(SyncOutcome.allCases.map { $0.text(.en) } == SyncOutcome.allCases.map(\.rawValue))
    }
}

/// What is wrong with a lead (lead files, `send`, intake) in both languages: every case has an
/// example (golden `diagnostics/lead.{ru,en}.txt`); a field over the documented limit
/// (docs/limits.md: 2000 characters) is refused with it.
@Suite struct LeadProblemWordingTests {
    static let examples: [LeadProblem] = [
        .idRequired, .tooLong(limit: 2000), .spacesOrControl, .phoneCharacters, .phoneDigits(found: 3), .country(found: "RUS"),
        .ipAddress, .unknownField(suggestion: "phone"), .unknownField(suggestion: nil), .notAString(found: "number"),
        .notAnObject(found: "array"), .sourceName(limit: 64), .format(.uuid, found: "CLK-9"), .format(.digits, found: "12a"),
        .sourceHearsNothing(source: "leadcraft", name: "LeadCraft", needs: ["click_id", "webmaster_id and campaign_id"]),
    ]

    @Test func everyProblemIsWordedInBothLanguages() throws {
        try DiagnosticWordingTests.expectAnExampleOfEveryCase(Self.examples, declaredIn: "Sources/LeadBridgeCore/Lead/Lead.swift", atLeast: 13)
        for l in Language.allCases {
            let lines = Self.examples.map { Say.leadProblem(source: "lead.json", LeadError(field: "phone", $0)).text(l) }
            if let diff = GoldenFiles.difference(lines.joined(separator: "\n") + "\n", "diagnostics/lead.\(l.rawValue).txt") { Issue.record("\(diff)") }
            #expect(Set(lines).count == lines.count, "two problems read the same in \(l.rawValue)")
        }
        for p in Self.examples {
            let ru = Say.leadProblemRU(p)
            #expect(ru.unicodeScalars.contains { (0x0410...0x044F).contains($0.value) }, "not Russian: \(ru)")
            #expect(Say.leadProblem(source: "x", LeadError(field: "f", p)).text(.en) == "x: f: " + p.english)
        }
    }

    @Test func aFieldOverTheLimitIsRefused() throws {
        let long = String(repeating: "я", count: InputLimits.leadField + 1)
        let value = try JSONParser.parse(#"{"id": "A-1", "phone": "+79001234567", "extra": {"note": ""# + long + #""}, "subs": {"sub1": "ok"}}"#)
        guard case .failure(let errors) = LeadReader.read(value) else { Issue.record("a \(long.count)-character field was accepted"); return }
        #expect(errors.errors == [LeadError(field: "extra.note", .tooLong(limit: InputLimits.leadField))])
        #expect(InputLimits.leadField == 2000)
        let fits = try JSONParser.parse(#"{"id": "A-1", "phone": "+79001234567", "extra": {"note": ""# + String(long.dropFirst()) + #""}}"#)
        guard case .success = LeadReader.read(fits) else { Issue.record("a field at the limit was refused"); return }
    }
}
