import Foundation
import LeadBridgeCore
import LeadBridgeConsole
import LeadBridgeEmulator
import LeadBridgeTestSupport
import Testing
@testable import LeadBridgeCLI

/// LeadBridge's own send failures (an HTTP status, an unreadable answer, a lead that cannot be
/// sent, a transport failure) read in both languages, keep their English for `--json`, and
/// survive the ledger as their code and values while an older ledger's text stays as written.
@Suite struct SendFailureWordingTests {

    static func cyrillic(_ s: String) -> Bool { s.unicodeScalars.contains { (0x0410...0x044F).contains($0.value) } }

    @Test func everyFailureIsWordedInBothLanguages() throws {
        try DiagnosticWordingTests.expectAnExampleOfEveryCase(SendFailure.examples, declaredIn: "Sources/LeadBridgeCore/Send/SendFailure.swift", atLeast: 6)
        try DiagnosticWordingTests.expectAnExampleOfEveryCase(TransportProblem.examples, declaredIn: "Sources/LeadBridgeCore/Send/TransportProblem.swift", atLeast: 20)
        for l in Language.allCases {
            let lines = SendFailure.examples.map { "\($0.codeAndArguments?.code ?? "-"): \(Say.sendFailure($0).text(l))" }
            if let diff = GoldenFiles.difference(lines.joined(separator: "\n") + "\n", "diagnostics/send-failure.\(l.rawValue).txt") { Issue.record("\(diff)") }
            #expect(Set(lines).count == lines.count, "two failures read the same in \(l.rawValue)")
        }
        for f in SendFailure.examples {
            #expect(Say.sendFailure(f).text(.en) == f.english)
            let ru = Say.sendFailure(f).text(.ru)
            // A transport's own words are data: the kind of failure before them is ours.
            #expect(Self.cyrillic(ru), "not Russian: \(ru)")
            #expect(ru != f.english)
        }
    }

    /// The English is the text every failure had before it was typed: `--json` and older
    /// ledgers read the same.
    @Test func theEnglishIsTheEarlierText() {
        #expect(SendFailure.httpStatus(503, excerpt: "busy").english == "HTTP 503: busy")
        #expect(SendFailure.unrecognized(status: 200, notJSON: true, excerpt: "<html>").english == "unrecognized response (HTTP 200, not the expected JSON): <html>")
        #expect(SendFailure.unrecognized(status: 200, notJSON: false, excerpt: "{}").english == "unrecognized response (HTTP 200, no outcome rule matched): {}")
        #expect(SendFailure.stepValueMissing(step: "auth", name: "token", excerpt: "{}").english == "step auth: no token in the response: {}")
        #expect(SendFailure.transport(.connection, .cannotConnect(host: "127.0.0.1:9", detail: "refused")).english == "connection: cannot connect to 127.0.0.1:9: refused")
        #expect(SendFailure.transport(.timeout, .timedOut(host: "h", milliseconds: 250, connected: true)).english == "timeout: no answer from h within 250 ms")
        #expect(SendFailure.unprepared(.invalidLead(field: "phone", .requiredBy(network: "kma"))).english == "invalid lead: phone is required by kma")
        #expect(SendFailure.noOutcome.english == "no outcome")
    }

    @Test func everyFailureSurvivesTheLedger() throws {
        for f in SendFailure.examples {
            let stored = try #require(f.stored(), "\(f)")
            #expect(stored.hasPrefix("send:"))
            #expect(SendFailure.decode(stored) == f, "\(stored)")
            let note = StoredNote.encode(reason: nil, failure: f, text: nil)
            let back = StoredNote.decode(note)
            #expect(back.failure == f && back.reason == nil && back.text == nil, "\(note ?? "nil")")
            // A parked lead quotes its last error inside its reason: it reads there too.
            let parked = try #require(StoredNote.encode(reason: .parked(attempts: 3, lastError: stored), text: nil))
            #expect(Say.storedNote(parked, .ru) == "отложен после 3 попыток: " + Say.sendFailure(f).text(.ru))
            #expect(Say.storedNote(parked, .en) == "parked after 3 attempts: " + f.english)
        }
        for p in TransportProblem.examples { #expect(TransportProblem(code: p.code, arguments: p.arguments) == p, "\(p)") }
    }

    /// What a network said is data: text that merely looks like our stored form stays text, and
    /// an older ledger's English last error is shown as it was written.
    @Test func textIsNeverTakenForAFailure() {
        for text in ["send:http 503 busy", "  send:no-outcome", "HTTP 503: busy", "connection: cannot connect to 127.0.0.1:9: refused"] {
            let back = StoredNote.decode(StoredNote.encode(reason: nil, text: text))
            #expect(back.text == text && back.failure == nil, "\(text)")
            #expect(Say.storedNote(StoredNote.encode(reason: nil, text: text), .ru) == text)
        }
        #expect(StoredNote.decode("send:no-such-code 1").text == "send:no-such-code 1", "an unknown code is text, shown as it is")
        #expect(StoredNote.decode("send:http x busy").text == "send:http x busy", "a status that is not a number is text")
    }

    /// The stored form fits the column however long the excerpt (and however many spaces it has
    /// to escape): the longest value is cut, the code and the status stay readable.
    @Test func aLongExcerptIsCutToFit() throws {
        let excerpt = String(repeating: "a b/", count: 200)
        let stored = try #require(SendFailure.httpStatus(503, excerpt: excerpt).stored())
        #expect(stored.count <= 240, "\(stored.count)")
        guard case .httpStatus(503, let kept)? = SendFailure.decode(stored) else { Issue.record("not read back: \(stored)"); return }
        #expect(kept.hasSuffix("…") && excerpt.hasPrefix(String(kept.dropLast())))
    }

    /// A request-build problem outside the stored words is kept as its English text.
    @Test func aBuildProblemWithoutAStoredFormIsKeptAsText() throws {
        let f = SendFailure.unprepared(.build(.urlScheme))
        #expect(f.stored() == nil)
        let note = try #require(StoredNote.encode(reason: nil, failure: f, text: nil))
        #expect(note == f.english)
        for d in DiagnosticMessage.requestBuildExamples {
            #expect(DiagnosticMessage(requestBuildWords: try #require(d.requestBuildWords)) == d)
        }
    }

    /// The poll's own failures: a request that cannot be built and a transport failure are
    /// stored as values and read in the reader's language; the English is the earlier text.
    @Test func pollFailuresAreWordedAndStored() throws {
        let problems: [SyncProblem] = [
            .pollRequestInvalid(.urlPlaceholderEmpty("credentials.url")),
            .pollUnreached(.connection, .cannotConnect(host: "127.0.0.1:9", detail: "Couldn't connect to server")),
            .pollUnreached(.timeout, .timedOut(host: "api.example.com", milliseconds: 30000, connected: true)),
        ]
        for p in problems {
            #expect(SyncProblem.decode(p.stored()) == p, "\(p.stored())")
            let ru = Say.syncProblem(p).text(.ru)
            #expect(Self.cyrillic(ru) && ru.hasPrefix(p == problems[0] ? "не удаётся построить запрос статусов" : "опрос статусов: "), "\(ru)")
            #expect(Say.syncProblem(p).text(.en) == p.english)
        }
        #expect(problems[1].english == "poll: connection: cannot connect to 127.0.0.1:9: Couldn't connect to server")
        #expect(Say.syncProblem(problems[1]).text(.ru) == "опрос статусов: не удаётся подключиться к 127.0.0.1:9: Couldn't connect to server")
        // A build problem without a stored form is kept as the earlier English text.
        let other = SyncProblem.pollRequestInvalid(.urlScheme)
        #expect(SyncProblem.decode(other.stored()) == .pollRequestUnbuildable(DiagnosticMessage.urlScheme.english))
        // The redactor reaches a transport's values, and a number it would spoil leaves English redacted.
        let echoed = SyncProblem.pollUnreached(.connection, .cannotConnect(host: "h?token=s3cr3t", detail: "d"))
        #expect(!echoed.mapTexts { $0.replacingAll("s3cr3t", with: "***") }.english.contains("s3cr3t"))
        let spoiled = SyncProblem.pollUnreached(.timeout, .timedOut(host: "h", milliseconds: 30000, connected: true)).mapTexts { $0.replacingAll("3000", with: "***") }
        #expect(!spoiled.english.contains("3000"), "\(spoiled)")
    }
}

/// Through the command line: sends to networks that answer 503, garbage and a reset, and a lead
/// that cannot be sent, read in Russian by default and in English with `--lang en` — the send
/// line, `lead`, `leads` — while `--json` keeps the English under the same keys, and the ledger
/// keeps the failure as a value (no secret in it).
@Suite struct SendFailureOutputTests {
    @Test func failuresOfOursReadInTheChosenLanguage() async throws {
        let dir = CLI.tempDir()
        var faults: [String: EmulatorFaults] = [:]
        faults["leadrock", default: EmulatorFaults()].serverError = 1
        faults["kma", default: EmulatorFaults()].garbage = 1
        faults["terraleads", default: EmulatorFaults()].reset = 1
        let world = try EmulatedWorld(library: SendIntegrationTests.library, networks: ["kma", "leadrock", "terraleads"], folder: dir, faults: faults)
        defer { world.stop() }
        let ru = ["LEADBRIDGE_CONNECT_TO": world.connectTo, "LEADBRIDGE_CONFIG": dir + "/leadbridge.json", "LEADBRIDGE_LANG": ""]
        // A reset reads as one of two (libcurl tells a reset from a close by timing).
        let expected: [(network: String, ru: [String], en: [String])] = [
            // (a request of a step before the lead's is answered 500, 502 or 503)
            ("leadrock", ["сеть ответила HTTP 50"], ["HTTP 50"]),
            ("kma", ["непонятный ответ (HTTP 200, не тот JSON, что ожидался): <html><body>Fatal error"],
             ["unrecognized response (HTTP 200, not the expected JSON): <html><body>Fatal error"]),
            ("terraleads", ["tl-api.com сбросил соединение: ", "tl-api.com закрыл соединение, не ответив"],
             ["connection: connection reset by tl-api.com: ", "connection: tl-api.com closed the connection without an answer"]),
        ]
        for e in expected {
            let id = "F-" + e.network
            for lead in [id, id + "-json"] {
                CLI.write(#"{"id": "\#(lead)", "phone": "+79001112233", "name": "Иван", "country": "RU", "ip": "203.0.113.7", "user_agent": "UA", "params": {"terra": "8721"}}"#,
                          to: dir + "/\(lead).json")
            }
            let sent = await CLI.run(["send", e.network, "--lead", dir + "/\(id).json", "--account", e.network], env: ru)
            #expect(e.ru.contains { sent.out.contains($0) }, "\(e.network): \(sent.out) \(sent.err)")
            let sentJSON = await CLI.run(["send", e.network, "--lead", dir + "/\(id)-json.json", "--account", e.network, "--json"], env: ru)
            let message = (try? JSONParser.parse(Array(sentJSON.out.utf8)))?.value(atPath: "message")?.scalarText ?? ""
            #expect(e.en.contains { message.hasPrefix($0) }, "\(e.network): \(sentJSON.out) \(sentJSON.err)")
            let lead = await CLI.run(["lead", id], env: ru)
            #expect(e.ru.contains { lead.out.contains("последняя ошибка: " + $0) }, "\(e.network): \(lead.out) \(lead.err)")
            let english = await CLI.run(["lead", id, "--lang", "en"], env: ru)
            #expect(e.en.contains { english.out.contains("last error: " + $0) }, "\(e.network): \(english.out) \(english.err)")
            let json = await CLI.run(["lead", id, "--json"], env: ru)
            #expect(json.out.contains("\"last_error\"") && e.en.contains { json.out.contains($0) }, "\(e.network): \(json.out)")
            #expect(!e.ru.contains { json.out.contains($0) } && !json.out.contains("send:"), "\(e.network): --json keeps the English")
        }
        // A lead the network cannot take: refused before any request, worded on `lead` as well.
        CLI.write(#"{"id": "F-2", "name": "Иван", "email": "a@example.com", "country": "RU", "params": {"terra": "8721"}}"#, to: dir + "/bad.json")
        let refused = await CLI.run(["send", "kma", "--lead", dir + "/bad.json", "--account", "kma"], env: ru)
        #expect(refused.code != 0 && refused.err.contains("неверный лид"), "\(refused.out) \(refused.err)")
        let badLead = await CLI.run(["lead", "F-2"], env: ru)
        #expect(badLead.out.contains("последняя ошибка: неверный лид"), "\(badLead.out) \(badLead.err)")
        let badJSON = await CLI.run(["lead", "F-2", "--json"], env: ru)
        #expect(badJSON.out.contains("invalid lead: "), "\(badJSON.out)")
    }
}

/// The console's ledger words and the demo's setup failures come from the catalog in both
/// languages: every value has a Russian word of its own, English keeps the stable word.
@Suite struct ConsoleTermWordingTests {
    static var terms: [ConsoleTerm] {
        SendState.allCases.map { .state($0) } + Bucket.allCases.map { .bucket($0) } + OutcomeKind.allCases.map { .outcome($0) }
            + Receipt.allCases.map { .receipt($0) } + JournalKind.allCases.map { .journalKind($0) } + EventSource.allCases.map { .source($0) }
            + PostbackResult.allCases.map { .postback($0) } + OutgoingState.allCases.map { .outgoing($0) } + SyncOutcome.allCases.map { .syncOutcome($0) }
    }

    @Test func everyLedgerWordReadsInRussian() {
        for t in Self.terms {
            #expect(ConsoleWording.terms(t, .en) == t.stable)
            let ru = ConsoleWording.terms(t, .ru)
            #expect(SendFailureWordingTests.cyrillic(ru), "\(t): \(ru)")
        }
    }

    @Test func demoSetupFailuresAreWordedInBothLanguages() {
        let examples: [EmulatedWorld.SetupError] = [.cannotListen(.receiver, detail: "Address already in use"), .cannotListen(.emulator, detail: "Too many open files"),
                                                    .unknownNetwork("kma"), .cannotPrepare(folder: "/tmp/demo", detail: "Permission denied")]
        for l in Language.allCases {
            let lines = examples.map { Say.demoSetup($0).text(l) }
            #expect(Set(lines).count == lines.count)
            if l == .ru { #expect(lines.allSatisfy(SendFailureWordingTests.cyrillic), "\(lines)") }
            if l == .en { #expect(!lines.contains(where: SendFailureWordingTests.cyrillic), "\(lines)") }
        }
        #expect(Say.demoSetup(.cannotListen(.receiver, detail: "Address already in use")).text(.ru)
                == "приёмник постбеков демо не может слушать на 127.0.0.1: Address already in use")
    }
}

/// An outgoing postback's answers column: each kept failure worded in the reader's language,
/// its attempt and time as they are, an older ledger's English answers as they were written.
@Suite struct OutgoingAnswersWordingTests {
    @Test func eachAnswerIsWordedAndOlderTextStays() throws {
        let http = try #require(SendFailure.httpStatus(503, excerpt: "busy | down").stored())
        let reset = try #require(SendFailure.transport(.connection, .reset(host: "api.leadcraft.ru", detail: "Recv failure")).stored())
        let column = "#1 2026-01-01T00:00:00Z HTTP 500: old text | #2 2026-01-01T00:00:07Z \(http) | #3 2026-01-01T00:01:07Z \(reset)"
        #expect(OutgoingAnswers.worded(column) { Say.sendFailure($0).text(.ru) }
                == "#1 2026-01-01T00:00:00Z HTTP 500: old text | #2 2026-01-01T00:00:07Z сеть ответила HTTP 503: busy | down"
                + " | #3 2026-01-01T00:01:07Z api.leadcraft.ru сбросил соединение: Recv failure")
        #expect(OutgoingAnswers.worded(column) { $0.english }
                == "#1 2026-01-01T00:00:00Z HTTP 500: old text | #2 2026-01-01T00:00:07Z HTTP 503: busy | down"
                + " | #3 2026-01-01T00:01:07Z connection: connection reset by api.leadcraft.ru: Recv failure")
        let lacks = try #require(SendFailure.sourceLacks(source: "leadcraft", missing: ["credentials.action"], kind: "referral").stored())
        #expect(OutgoingAnswers.worded(lacks) { Say.sendFailure($0).text(.ru) }.hasPrefix("у источника leadcraft нет credentials.action"))
        #expect(OutgoingAnswers.worded("source leadcraft lacks credentials.action, which …") { _ in "x" } == "source leadcraft lacks credentials.action, which …")
    }
}

/// What `serve` tells its operator reads in both languages; its English is the earlier line.
@Suite struct ServerNoticeWordingTests {
    @Test func everyNoticeIsWordedInBothLanguages() throws {
        try DiagnosticWordingTests.expectAnExampleOfEveryCase(ServerNotice.examples, declaredIn: "Sources/LeadBridgeCore/Console/ServerNotice.swift", atLeast: 13)
        for l in Language.allCases {
            let lines = ServerNotice.examples.map { Say.serverNotice($0).text(l) }
            #expect(Set(lines).count == lines.count, "two notices read the same in \(l.rawValue)")
            #expect(lines.allSatisfy(SendFailureWordingTests.cyrillic) == (l == .ru), "\(lines)")
        }
        for n in ServerNotice.examples { #expect(Say.serverNotice(n).text(.en) == n.english) }
        #expect(ServerNotice.postbackWrongToken(network: "kma", client: "203.0.113.9").english == "postback kma from 203.0.113.9: wrong or missing token")
    }
}
