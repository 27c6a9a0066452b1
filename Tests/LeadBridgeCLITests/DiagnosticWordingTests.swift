import Foundation
import Testing
@testable import LeadBridgeCLI
import LeadBridgeCore
import LeadBridgeTestSupport

/// Spec, configuration and template diagnostics are typed in Core and worded in the user's
/// language: every case has an example here (a case added without one fails the test), each
/// reads as Russian in Russian and differently in each language, and the golden files are the
/// catalog in print (`diagnostics/messages.{ru,en}.txt`).
@Suite struct DiagnosticWordingTests {
    static let label = Localized(ru: "Ключ API", en: "API key")
    static let examples: [DiagnosticMessage] = [
        .notAnObject(.spec, found: "array"), .notAString(found: "number"), .notAStringOrNull(found: "boolean"),
        .notABoolean(found: "string"), .notAnInteger(found: "number"), .notANumber(found: "object"), .notAnArray(found: "string"),
        .notStringOrStrings(found: "null"), .notATemplate(found: "object"), .notTemplateNames, .notVarsObject(found: "array"),
        .notAVarValue(found: "number"), .notALeadField, .notAnAmount, .notSeconds, .notHTTPStatuses, .notADate,
        .outOfRange(lower: 1, upper: 256, found: 300), .notPositive, .notOneOf(["form", "json", "query"], found: "jsn", suggestion: "\"json\""),
        .notAClaim(facts: ["send", "poll", "postbacks"], suggestion: "\"poll\""),
        .unknownMacroMeaning("stauts", options: ["status", "payout"], suggestion: "\"status\""), .stopKind, .fromMustBeBody, .unknownMethod("FETCH"),
        .unknownKey("credentails", suggestion: "\"credentials\""), .missingKey("id"), .missingTail, .tailNeedsNote, .missingOutcomes,
        .stopNeedsOne, .missingPollStatus, .authNeedsOne, .hmacNeedsKey, .signatureNeedsPlace, .conditionNeedsOne,
        .credentialTwice("token"), .parameterTwice("offer"),
        .translationPlain, .translationNoEnglish, .idEmpty, .idInvalid("My Net"), .idMismatch(id: "kma", file: "kma2"),
        .idAlsoIn(id: "kma", file: "Networks/kma.json"), .idIsAlias(id: "ad1", of: "adcombo"), .aliasTaken(alias: "ad1", by: "offerrum"),
        .fileTooLarge(size: nil, limit: 1_048_576), .jsonSyntax(.unexpectedCharacter("'}'")),
        .unknownTemplate("sub1-bse", suggestion: "\"sub1-base\""), .extendsCycle(["a", "b", "a"]),
        .statusConflict(word: "ok", buckets: ["approved", "trash"]), .statusWordBlank, .unknownStatusKey("hold"), .invalidRegex,
        .regexNeedsCapture, .pathNeedsSlash, .varName("Host"), .varValue("a b"), .varMissing("host"),
        .varUnknown("hots", suggestion: "{vars.host}", noVars: false), .sourceURL, .sourceNeedsWhere,
        .unknownLeadField("phon", suggestion: "\"phone\""), .examplesNeedSend, .pollExamplesNeedPoll,
        .noOutgoing("lead", suggestion: "\"leads\""), .exampleLeadInvalid(LeadError(field: "phone", .phoneDigits(found: 3))),
        .exampleFails(name: "accepted", differences: [.result(expected: "accepted", got: "rejected", message: nil), .url(expected: "http://a/x", built: "http://a/y")]),
        .urlScheme, .urlLiteralScheme, .oneBody(["form", "json"]), .getWithBody, .authFormBody, .windowWithBatch, .lookupNeedsList,
        .requiresBraces, .notAPlaceholder("lead phone"), .notAClickPlaceholder("{lead.click_id}"),
        .unclosedBrace("{lead.phone"), .strayBrace("a}"), .emptyPlaceholder(""), .invalidPlaceholder("lead..phone"),
        .unknownFilter("upper", suggestion: "'lower'"), .filterTakesNoArgument("digits"), .filterNeedsArgument("default"),
        .firstNeedsNumber, .daysBeforeRange, .unknownPlaceholder("lead.phon", suggestion: "{lead.phone}"),
        .placeholderNeedsKey(field: "subs"), .noStepExtracts("steps.token.value", steps: ["login"]), .placeholderHasNoFields("now"),
        .notIntegerValue(placeholder: "lead.offer", text: "abc"), .notNumberValue(placeholder: "lead.price", text: "x"),
        .notBooleanValue(placeholder: "lead.test", text: "maybe"),
        .signatureNeedsJSONObject, .headerUnsafe(name: "X-Token"), .urlPlaceholderEmpty("credentials.url"),
        .urlPlaceholderNotHTTP("params.leadrock"), .urlStartsNotHTTP("credentials.url"), .urlNotHTTP,
        .noSource(fact: "send"), .noDedupeSource, .dedupeNeedsSend, .outcomePathUnknown("data.idd", suggestion: "\"data.id\""),
        .outcomePathUnseen("data.id"), .pollPathUnknown(what: "status", path: "stauts", suggestion: "\"status\"", keys: ["id", "status"]),
        .pollPathUnseen(what: "payout", path: "sum"), .emptyTail, .tailKeyUnknown("stat", suggestion: "\"status\""),
        .tailOverrideConflict(key: "approved", word: "ok", says: "approved", statuses: "trash"), .secretInTail("{credentials.token}"),
        .macroUndeclared("{subid}"), .macroUnused("{payout}"), .tailStatusUnknown("hold"),
        .configTooLarge(size: 2_000_000, limit: 1_048_576), .envUnclosed, .envUnset("KMA_TOKEN"), .nameLength(.account, limit: 64),
        .unknownNetwork("kmaa", suggestion: "\"kma\"", listHint: true),
        .unknownCredential(network: "kma", key: "tokn", suggestion: "\"token\"", allowed: ["token"]),
        .unknownParameter(network: "kma", key: "flow", suggestion: nil, allowed: []),
        .missingCredential(key: "token", label: label, network: "kma"),
        .paramMismatch(value: "abc", pattern: "^[0-9]+$", description: Localized(ru: "Номер потока", en: "Flow number")),
        .paramMismatch(value: nil, pattern: "^[0-9]+$", description: Localized(ru: "Номер потока", en: "Flow number")),
        .notASource("kma"), .priceNeedsOne, .priceOnlyOne(["fixed", "offers"]), .priceDefaultWithOffers, .notAnAmountText("12,5"),
        .weakToken(minimum: 16), .unknownIntakeAccount("kma-mian", suggestion: "\"kma-main\""),
    ]

    /// The case names of `DiagnosticMessage`, read from its source (Swift cannot list the cases
    /// of an enum with values).
    static func caseNames(of file: String = "Sources/LeadBridgeCore/Diagnostics/DiagnosticMessage.swift") throws -> Set<String> {
        let source = try String(contentsOfFile: CLI.root + "/" + file, encoding: .utf8)
        var names = Set<String>()
        for line in source.split(separator: "\n") where line.hasPrefix("    case ") && !line.hasPrefix("     ") {
            let rest = line.dropFirst("    case ".count)
            names.insert(String(rest.prefix { $0.isLetter || $0.isNumber }))
        }
        return names
    }

    static func name<Case>(_ m: Case) -> String {
        Mirror(reflecting: m).children.first?.label ?? "\(m)"
    }

    /// Every case `file` declares has an example among `examples` (the wording tests word each
    /// one in both languages), every example names a declared case, and at least `minimum`
    /// cases were read (the file's layout still parses). Returns the declared case names.
    @discardableResult
    static func expectAnExampleOfEveryCase<Case>(_ examples: [Case], declaredIn file: String, atLeast minimum: Int,
                                                 sourceLocation: SourceLocation = #_sourceLocation) throws -> Set<String> {
        let declared = try caseNames(of: file)
        let type = String(describing: Case.self)
        let covered = Set(examples.map { name($0) })
        for missing in declared.subtracting(covered).sorted() {
            Issue.record("no example of \(type).\(missing): add one with its wording", sourceLocation: sourceLocation)
        }
        for extra in covered.subtracting(declared).sorted() { Issue.record("example \(extra) names no case of \(type)", sourceLocation: sourceLocation) }
        #expect(declared.count >= minimum, "read \(declared.count) cases of \(type) in \(file)", sourceLocation: sourceLocation)
        return declared
    }

    @Test func everyDiagnosticIsWordedInBothLanguages() throws {
        try Self.expectAnExampleOfEveryCase(Self.examples, declaredIn: "Sources/LeadBridgeCore/Diagnostics/DiagnosticMessage.swift", atLeast: 101)
        for l in Language.allCases {
            let lines = Self.examples.map { "\($0.code): \(Say.diagnosticMessage($0).text(l))" }
            if let diff = GoldenFiles.difference(lines.joined(separator: "\n") + "\n", "diagnostics/messages.\(l.rawValue).txt") { Issue.record("\(diff)") }
            #expect(Set(Self.examples.map { Say.diagnosticMessage($0).text(l) }).count == Self.examples.count, "two diagnostics read the same in \(l.rawValue)")
        }
        for m in Self.examples {
            let ru = Say.diagnosticMessage(m).text(.ru), en = Say.diagnosticMessage(m).text(.en)
            #expect(ru.unicodeScalars.contains { (0x0410...0x044F).contains($0.value) }, "not Russian: \(ru)")
            #expect(ru != en, "the same in both languages: \(en)")
            #expect(en == m.english)
            #expect(m.code.allSatisfy { $0.isLowercase || $0 == "-" } && !m.code.isEmpty, "code \(m.code)")
        }
    }

    /// No diagnostic is made from an English sentence any more: every finding is a typed case.
    @Test func noDiagnosticIsBuiltFromAString() throws {
        let fm = FileManager.default
        let root = CLI.root + "/Sources"
        var offenders: [String] = []
        for case let path as String in fm.enumerator(atPath: root)! where path.hasSuffix(".swift") {
            let text = try String(contentsOfFile: root + "/" + path, encoding: .utf8)
            for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            where line.contains("code: \"") && (line.contains("sink.") || line.contains("diagnostic(") || line.contains("Diagnostic(") || line.contains("TemplateError(")) {
                offenders.append("\(path):\(i + 1)")
            }
        }
        #expect(offenders.isEmpty, "diagnostics built from strings: \(offenders)")
    }
}

/// JSON syntax errors (of specs, configurations and lead files) in both languages.
@Suite struct JSONSyntaxWordingTests {
    static let examples: [JSONSyntaxProblem] = [
        .emptyDocument, .textAfterValue, .endExpectingValue, .comment, .singleQuotes, .unexpectedCharacter("'}'"), .invalidLiteral("true"),
        .tooDeep(512), .endInObject, .trailingCommaInObject, .expectedKey, .duplicateKey("id"), .expectedColon(key: "id"),
        .endExpectingCommaOrBrace, .expectedCommaOrBrace, .endInArray, .trailingCommaInArray, .endExpectingCommaOrBracket,
        .expectedCommaOrBracket, .numberExpectedDigit, .numberLeadingZero, .numberDigitAfterDot, .numberExponent, .unterminatedString,
        .lineBreakInString, .controlCharacter("0x01"), .unterminatedEscape, .unpairedSurrogate, .invalidLowSurrogate, .invalidUnicodeEscape,
        .invalidEscape("x"), .invalidUTF8, .incompleteUnicodeEscape, .invalidHexDigit, .stringTooLong(size: 70_000, limit: 65_536),
    ]

    @Test func everyJSONSyntaxErrorIsWordedInBothLanguages() throws {
        try DiagnosticWordingTests.expectAnExampleOfEveryCase(Self.examples, declaredIn: "Sources/LeadBridgeCore/JSON/JSONSyntaxProblem.swift", atLeast: 1)
        for l in Language.allCases {
            let lines = Self.examples.map { Say.diagnosticMessage(.jsonSyntax($0)).text(l) }
            if let diff = GoldenFiles.difference(lines.joined(separator: "\n") + "\n", "diagnostics/json.\(l.rawValue).txt") { Issue.record("\(diff)") }
            #expect(Set(lines).count == lines.count, "two JSON errors read the same in \(l.rawValue)")
        }
        for p in Self.examples {
            let ru = Say.diagnosticMessage(.jsonSyntax(p)).text(.ru)
            #expect(ru.unicodeScalars.contains { (0x0410...0x044F).contains($0.value) }, "not Russian: \(ru)")
            #expect(Say.diagnosticMessage(.jsonSyntax(p)).text(.en) == p.english)
        }
    }
}
