import LeadBridgeCore
import LeadBridgeEngine
import LeadBridgeEmulator
import LeadBridgeNet

/// Everything the command line says to a person, as values. The words of each language live in
/// one file each (`Say+ru.swift`, `Say+en.swift`); adding a message is a case here and a line
/// in each, and the compiler refuses a language that lacks it. JSON keys and machine formats
/// (CSV headers, `--json`) stay English.
///
/// Text that is data, not a sentence of ours (a lower layer's error, a diagnostic line), goes
/// in `.raw`; a string literal is `.raw` too, so code written before the catalog still builds.
indirect enum Say: Sendable, Hashable, ExpressibleByStringInterpolation {
    case raw(String)

    // The command line itself
    case errorPrefix
    case warningPrefix
    case usageHint(command: String?)
    case unknownCommand(String, suggestion: String?)
    case unknownOption(String, suggestion: String?)
    case optionNeedsValue(String, valueName: String)
    case optionGivenTwice(String)
    case optionTakesNoValue(String)
    case missingOption(String)
    case missingArgument(Argument)
    case unexpectedArgument(String)
    case languageInvalid(String)
    case overviewTitle
    case commandsHeading
    case helpOnACommand
    case usagePrefix
    case optionsHeading
    case didYouMean(String)

    // Specs and configuration
    case unknownNetwork(String, closest: [String])
    case specProblem(String)
    case cannotRead(String)
    case noSuchPath(String)
    case noSpecsFound
    case noShippedTemplates
    case configTooLarge(path: String, size: Int, limit: Int)
    case cannotReadConfig(String)
    case noConfiguration
    case store(StoreDetail)
    case postgresNotYet
    case lockHeld(path: String, holder: String)
    case storeGoneMidPass(StoreDetail)
    case networkLockHeld(String)
    case lockUnusable(path: String, reason: String)

    // Catalog commands
    case baseMustBeURL
    case unknownDocument(String)
    case lintSummary(specs: Int, errors: Int, warnings: Int)
    case postbackProblem(network: String, PostbackError)
    /// The rows of `postback`'s table, tab-separated, in `NormalizedPostback.json`'s order.
    case postbackFields

    // Leads and sending
    case cannotReadLead(String)
    case leadSyntax(path: String, position: String, problem: JSONSyntaxProblem)
    case leadProblem(source: String, LeadError)
    /// "lead A-1" where a lead is named in front of its problem.
    case leadLabel(String)
    case leadTooLarge(source: String, size: Int, limit: Int)
    case accountOfOtherNetwork(account: String, network: String, wanted: String)
    case unknownAccount(String, suggestion: String?, network: String, hasAccounts: Bool)
    case noSendAPI(String)
    case clickIdNeedsSource
    case clickIdOneLead
    case unknownSource(String, suggestion: String?, hasSources: Bool)
    case sourceWithoutSpec(source: String, network: String)
    case sourceLacksSettings(source: String, missing: [String], postbacks: Localized)
    case cannotSendLead(network: String, lead: String, detail: String)
    /// Why a lead cannot be sent before any request (the lead or the account lacks something).
    case sendPreparation(SendPreparationError)
    /// What `serve` tells its operator while it runs.
    case serverNotice(ServerNotice)
    /// Why a send failed in our own words (an answer's excerpt, libcurl's text stay as they came).
    case sendFailure(SendFailure)
    case alreadySent(lead: String, network: String, state: String, status: String?, externalId: String?, at: String)
    case beingSent(String)
    case exampleAccountOnlyForDryRun
    case storeAfterAnswer(detail: String, answer: String)
    case sendResult(network: String, lead: String, outcome: String, externalId: String?, message: String?, followUp: SendFollowUp)
    case dryRunStep(Int, of: Int)
    case leadRepeated(source: String, id: String, first: String)
    case queueAndDryRun
    case batchLeadHeading(String)
    case batchProgress(done: Int, total: Int, queueOnly: Bool)
    case batchAlready(network: String, lead: String, state: String)
    case batchColumns
    case batchOutcome(BatchOutcome)
    case batchQueuedNext(Int)
    case signatureInput
    case signature
    case exampleResult(passed: Bool)
    /// What a spec example found different (`test`, `lint`).
    case exampleDifference(ExampleDifference)
    case passedFailed(passed: Int, failed: Int)

    // Ledger
    case state(String)
    case bucket(String)
    case syncColumns
    case syncProblem(SyncProblem)
    case unknownStatuses([String])
    case nothingToDo
    case uncertainWarning(count: Int, leads: [String])
    case uncertainSettledBy(network: String, ways: [String])
    case uncertainOpen(Int)
    case stateFilterInvalid(String, suggestion: String?, all: [String])
    case uncertainInList(Int)
    case uncertainLead(network: String, ways: [String])
    case settlement(Settlement, lead: String, network: String)
    case settleAsInvalid(String, suggestion: String?)
    case noLeadAtNetwork(lead: String, network: String, sentTo: [String])
    case settleRefused(lead: String, network: String, state: String, reason: LifecycleReason)
    case settledLead(lead: String, network: String, from: String, to: String, accepted: Bool)
    case statusChanges(Int)
    case unavailableAccount(account: String, problem: String)
    case statusFilterInvalid
    case leadsColumns
    case noLeads
    case leadHeadline(lead: String, network: String, account: String, state: String, status: String?, externalId: String?, source: String?)
    case lastError(String)
    case journalSource(String)
    case journalKind(String)
    case journalAttempt(Int, outcome: String)
    /// Whether an attempt's request may have reached the network.
    case receipt(Receipt)
    /// What became of a stored postback.
    case postbackResult(PostbackResult)
    /// Where an outgoing postback to a traffic source stands.
    case outgoingState(OutgoingState)
    case milliseconds(Int)
    case journalStatus(from: String?, to: String?, raw: String?)
    /// The lifecycle's reason for a refusal or an unusual move (a journal entry's note).
    case lifecycleReason(LifecycleReason)
    /// A spec, configuration or template finding as its compiler-style line: location, the
    /// `error:` / `warning:` word and the code as DESIGN.md binds them, the message worded.
    case diagnostic(Diagnostic)
    /// Only the message of a finding (where the location is said otherwise).
    case diagnosticMessage(DiagnosticMessage)
    case noSuchLead(String)

    // Outgoing postbacks to traffic sources (`lead ID`, `outgoing`)
    case outgoingHeading(source: String?)
    case outgoingLine(source: String, kind: String, status: String, state: String, attempts: Int, next: String?, request: String)
    case outgoingAnswers(String)
    case replayOneOrAll
    case replayNeedsNumber
    case noFailedOutgoing(Int64)
    case outgoingReplayed(Int)
    case noOutgoing(failedOnly: Bool)
    case outgoingReplayHint
    case exportNeedsFormat
    case schemaUpToDate(path: String, version: Int)
    case schemaMigrated(path: String, from: Int, to: Int)
    case migrationApplied(version: Int, name: String)
    case copySameStore
    case copyFailed(String)
    case copyColumns
    case copyWhat(String)
    case copyVerified(Bool)
    case copyCountsDiffer

    // Report import
    case importHeading(file: String, encoding: String, delimiter: String, headerLine: Int)
    case importColumns(String)
    case importCounts(rows: Int, changed: Int, unchanged: Int, refused: Int, unmatched: Int, unknown: Int, skipped: Int)
    case importChangedHeading(dryRun: Bool)
    case importRefusedHeading
    case importUnmatchedHeading(network: String)
    case importUnknownHeading
    case importSkippedHeading
    case importMore(Int)
    case importLine(Int)
    case importNetworkLead(String)
    case importOurId(String)
    case importNetworkId(String)
    case importRows(Int)
    case importDryRun
    case reportUnreadable(file: String, encoding: String)
    case reportProblem(file: String, ReportError)
    case reportError(ReportError)

    // Receiver
    case receiverNeedsToken(file: String)
    case allowListInvalid([String])
    case listenInvalid(String)
    case cannotListen(address: String, detail: String)
    case listening(String)
    case consoleAt(String)
    case consoleOff(String)
    case outgoingNotQueued(String)
    case stopping
    case stopped
    case backgroundFailed(String)
    case replaySummary(applied: Int, waiting: Int, changes: Int)

    // Demo and emulator
    case listenNotLoopback
    case emulatorFaults(EmulatorError)
    case connectToRule(ConnectToRuleError)
    case receiverNeedsToken2
    case emulating(networks: Int, url: String)
    case demoLeadsRange
    case demoFolderTaken(String)
    /// The demo's emulated world could not be set up.
    case demoSetup(EmulatedWorld.SetupError)
    case cannotCreate(path: String, detail: String)
    case demoHeader(networks: Int, leads: Int, emulatorPort: Int, receiverPort: Int)
    case demoProgress(pass: Int, sent: Int, total: Int, final: Int, seconds: Int)
    case demoColumns
    case demoSummary(leads: Int, seconds: String, passes: Int, twice: Int, postbacks: Int)
    case demoKept(String)
    case demoTryNext

    // leadbridge new
    case newWrote(path: String, summary: String)
    case newNext
    case newNextPlatform
    case newIdTaken(id: String, owner: String, name: String)
    case newIntoShippedCatalog(String)
    case newExists(String)
    case cannotWrite(path: String, detail: String)
    case newBadId(String)
    case newUnknownStyle(String, suggestion: String?, all: [String])
    case newNameLength
    case cannotReadStarter(String)
    case hostWithoutPlatform
    case styleAndPlatform
    case unknownPlatform(String, suggestion: String?, all: [String])
    case platformNeedsHost(String)
    case hostInvalid(String)
    case platformSummary(name: String, host: String, id: String)

    /// Arguments a command may be missing.
    enum Argument: Sendable, Hashable {
        case networkId, postbackQuery, orderId, newId, storeFrom, storeTo, reportFile
    }

    init(stringLiteral value: String) { self = .raw(value) }
    init(stringInterpolation: DefaultStringInterpolation) { self = .raw(String(stringInterpolation: stringInterpolation)) }

    func text(_ l: Language) -> String {
        switch l {
        case .ru: return ru
        case .en: return en
        }
    }

    /// A note kept in the ledger as it reads in `l`: a lifecycle reason worded, other text
    /// (a network's message, a note of an older ledger) as it is.
    static func note(reason: LifecycleReason?, failure: SendFailure? = nil, text: String?, _ l: Language) -> String? {
        reason.map { Say.lifecycleReason($0).text(l) } ?? failure.map { Say.sendFailure($0).text(l) } ?? text
    }

    /// A column that holds a note in its stored form (a lead's last error), as it reads in `l`.
    static func storedNote(_ stored: String?, _ l: Language) -> String? {
        let (reason, failure, text) = StoredNote.decode(stored)
        return note(reason: reason, failure: failure, text: text, l)
    }

    /// " (did you mean "x"?)" or nothing.
    static func suggestion(_ s: String?, _ l: Language) -> String { s.map { " " + Say.didYouMean($0).text(l) } ?? "" }
}

/// Help lines, from each language's catalog (`HelpText.ru`, `HelpText.en`): a command's
/// summary by its name, an option's help by "command --option" or, for an option several
/// commands share, "--option". A test checks both tables cover every command and option.
enum HelpText {
    static func table(_ l: Language) -> [String: String] {
        switch l {
        case .ru: return ru
        case .en: return en
        }
    }

    static func summary(_ command: String, _ l: Language) -> String { table(l)[command] ?? "" }

    static func option(_ command: String, _ option: String, _ l: Language) -> String {
        table(l)["\(command) --\(option)"] ?? table(l)["--\(option)"] ?? ""
    }
}
