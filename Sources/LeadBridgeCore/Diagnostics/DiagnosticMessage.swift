/// What a diagnostic says, as a value: the finding with its parameters, worded by the edges in
/// the user's language (`Say+ru`, `Say+en`). `code` is its stable, language-free category that
/// tools and tests match on and `lint --json` shows; `english` is the stable English sentence of
/// `--json` outputs, stored texts and the engine's reports. Names, keys and suggestions are data
/// (shown as written); a suggestion comes quoted as the syntax around it wants (`"x"`, `'x'`, `{x}`).
public enum DiagnosticMessage: Sendable, Hashable {
    /// Which kind of JSON object a reader expected (worded in each language).
    public enum Subject: String, Sendable, Hashable, CaseIterable {
        case value, text, source, spec, catalog, statusDefaults, configuration, account
    }

    // MARK: Types and values (`type`, `range`, `enum`)
    case notAnObject(Subject, found: String)
    case notAString(found: String?)
    case notAStringOrNull(found: String)
    case notABoolean(found: String)
    case notAnInteger(found: String)
    case notANumber(found: String)
    case notAnArray(found: String?)
    case notStringOrStrings(found: String)
    case notATemplate(found: String)
    case notTemplateNames
    case notVarsObject(found: String)
    case notAVarValue(found: String)
    case notALeadField
    case notAnAmount
    case notSeconds
    case notHTTPStatuses
    case notADate
    case outOfRange(lower: Int, upper: Int, found: Int)
    case notPositive
    case notOneOf([String], found: String?, suggestion: String?)
    case notAClaim(facts: [String], suggestion: String?)
    case unknownMacroMeaning(String, options: [String], suggestion: String?)
    case stopKind
    case fromMustBeBody
    case unknownMethod(String)

    // MARK: Keys (`unknown-key`, `missing-key`, `duplicate-key`)
    case unknownKey(String, suggestion: String?)
    case missingKey(String)
    case missingTail
    case tailNeedsNote
    case missingOutcomes
    case stopNeedsOne
    case missingPollStatus
    case authNeedsOne
    case hmacNeedsKey
    case signatureNeedsPlace
    case conditionNeedsOne
    case credentialTwice(String)
    case parameterTwice(String)

    // MARK: The spec as a whole
    case translationPlain
    case translationNoEnglish
    case idEmpty
    case idInvalid(String)
    case idMismatch(id: String, file: String)
    case idAlsoIn(id: String, file: String)
    case idIsAlias(id: String, of: String)
    case aliasTaken(alias: String, by: String)
    case fileTooLarge(size: Int?, limit: Int)
    case jsonSyntax(JSONSyntaxProblem)
    case unknownTemplate(String, suggestion: String?)
    case extendsCycle([String])
    case statusConflict(word: String, buckets: [String])
    case statusWordBlank
    case unknownStatusKey(String)
    case invalidRegex
    case regexNeedsCapture
    case pathNeedsSlash
    case varName(String)
    case varValue(String)
    case varMissing(String)
    case varUnknown(String, suggestion: String?, noVars: Bool)
    case sourceURL
    case sourceNeedsWhere
    case unknownLeadField(String, suggestion: String?)
    case examplesNeedSend
    case pollExamplesNeedPoll
    case noOutgoing(String, suggestion: String?)
    case exampleLeadInvalid(LeadError)
    /// The differences are joined on one line (a lint line is one line).
    case exampleFails(name: String, differences: [ExampleDifference])

    // MARK: Requests (`url`, `body`, `window`, `lookup`, `unknown-placeholder`)
    case urlScheme
    case urlLiteralScheme
    case oneBody([String])
    case getWithBody
    case authFormBody
    case windowWithBatch
    case lookupNeedsList
    case requiresBraces
    case notAPlaceholder(String)
    case notAClickPlaceholder(String)

    // MARK: Templates (`template`, `unknown-filter`, `unknown-placeholder`, `value`)
    case unclosedBrace(String)
    case strayBrace(String)
    case emptyPlaceholder(String)
    case invalidPlaceholder(String)
    case unknownFilter(String, suggestion: String?)
    case filterTakesNoArgument(String)
    case filterNeedsArgument(String)
    case firstNeedsNumber
    case daysBeforeRange
    case unknownPlaceholder(String, suggestion: String?)
    case placeholderNeedsKey(field: String)
    case noStepExtracts(String, steps: [String])
    case placeholderHasNoFields(String)
    case notIntegerValue(placeholder: String, text: String)
    case notNumberValue(placeholder: String, text: String)
    case notBooleanValue(placeholder: String, text: String)

    // MARK: Building a request (at send or poll time, from the spec and the values)
    case signatureNeedsJSONObject
    case headerUnsafe(name: String)
    /// No value shown: it may be a credential (`{credentials.url}`).
    case urlPlaceholderEmpty(String)
    case urlPlaceholderNotHTTP(String)
    case urlStartsNotHTTP(String)
    case urlNotHTTP

    // MARK: Lint (tails, paths, evidence)
    case noSource(fact: String)
    case noDedupeSource
    case dedupeNeedsSend
    case outcomePathUnknown(String, suggestion: String?)
    case outcomePathUnseen(String)
    case pollPathUnknown(what: String, path: String, suggestion: String?, keys: [String])
    case pollPathUnseen(what: String, path: String)
    case emptyTail
    case tailKeyUnknown(String, suggestion: String?)
    case tailOverrideConflict(key: String, word: String, says: String, statuses: String)
    case secretInTail(String)
    case macroUndeclared(String)
    case macroUnused(String)
    case tailStatusUnknown(String)

    // MARK: The configuration
    case configTooLarge(size: Int, limit: Int)
    /// No value: the text around an unclosed `${` is a credential, a token or a password.
    case envUnclosed
    case envUnset(String)
    case nameLength(Subject, limit: Int)
    case unknownNetwork(String, suggestion: String?, listHint: Bool)
    case unknownCredential(network: String, key: String, suggestion: String?, allowed: [String])
    case unknownParameter(network: String, key: String, suggestion: String?, allowed: [String])
    case missingCredential(key: String, label: Localized, network: String)
    /// `value` is nil when it came from a `${VAR}`: the environment's values are not shown.
    case paramMismatch(value: String?, pattern: String, description: Localized)
    case notASource(String)
    case priceNeedsOne
    case priceOnlyOne([String])
    case priceDefaultWithOffers
    case notAnAmountText(String)
    case weakToken(minimum: Int)
    case unknownIntakeAccount(String, suggestion: String?)

    /// The stable category (kebab-case) that tests and tools match on.
    public var code: String {
        switch self {
        case .notAnObject, .notAString, .notAStringOrNull, .notABoolean, .notAnInteger, .notANumber, .notAnArray,
             .notStringOrStrings, .notATemplate, .notTemplateNames, .notVarsObject, .notAVarValue, .notALeadField,
             .notAnAmount, .notSeconds, .notHTTPStatuses, .notADate: return "type"
        case .outOfRange, .notPositive: return "range"
        case .notOneOf, .notAClaim, .unknownMacroMeaning, .stopKind, .fromMustBeBody, .unknownMethod: return "enum"
        case .unknownKey: return "unknown-key"
        case .missingKey, .missingTail, .tailNeedsNote, .missingOutcomes, .stopNeedsOne, .missingPollStatus, .authNeedsOne,
             .hmacNeedsKey, .signatureNeedsPlace, .conditionNeedsOne: return "missing-key"
        case .credentialTwice, .parameterTwice: return "duplicate-key"
        case .translationPlain, .translationNoEnglish: return "missing-translation"
        case .idEmpty, .idInvalid: return "id"
        case .idMismatch: return "id-mismatch"
        case .idAlsoIn, .idIsAlias, .aliasTaken: return "duplicate-id"
        case .fileTooLarge, .configTooLarge: return "size"
        case .jsonSyntax: return "json"
        case .unknownTemplate: return "unknown-template"
        case .extendsCycle: return "extends-cycle"
        case .statusConflict: return "status-conflict"
        case .statusWordBlank: return "status-word"
        case .unknownStatusKey, .tailStatusUnknown: return "unknown-status"
        case .invalidRegex, .regexNeedsCapture, .paramMismatch: return "pattern"
        case .pathNeedsSlash: return "path"
        case .varName, .varValue: return "var"
        case .varMissing: return "missing-var"
        case .varUnknown: return "unknown-var"
        case .sourceURL, .sourceNeedsWhere: return "source"
        case .unknownLeadField: return "unknown-field"
        case .examplesNeedSend, .pollExamplesNeedPoll, .noOutgoing, .exampleLeadInvalid, .exampleFails: return "example"
        case .urlScheme, .urlLiteralScheme: return "url"
        case .oneBody, .getWithBody, .authFormBody: return "body"
        case .windowWithBatch: return "window"
        case .lookupNeedsList: return "lookup"
        case .requiresBraces, .notAPlaceholder, .notAClickPlaceholder, .unknownPlaceholder, .placeholderNeedsKey,
             .noStepExtracts, .placeholderHasNoFields: return "unknown-placeholder"
        case .unclosedBrace, .strayBrace, .emptyPlaceholder, .invalidPlaceholder: return "template"
        case .unknownFilter, .filterTakesNoArgument, .filterNeedsArgument, .firstNeedsNumber, .daysBeforeRange: return "unknown-filter"
        case .notIntegerValue, .notNumberValue, .notBooleanValue: return "value"
        case .signatureNeedsJSONObject, .headerUnsafe, .urlPlaceholderEmpty, .urlPlaceholderNotHTTP, .urlStartsNotHTTP, .urlNotHTTP: return "request"
        case .noSource, .noDedupeSource: return "missing-source"
        case .dedupeNeedsSend: return "dedupe"
        case .outcomePathUnknown: return "unknown-outcome-path"
        case .outcomePathUnseen: return "unseen-outcome-path"
        case .pollPathUnknown: return "unknown-poll-path"
        case .pollPathUnseen: return "unseen-poll-path"
        case .emptyTail: return "tail"
        case .tailKeyUnknown: return "unknown-tail-key"
        case .tailOverrideConflict: return "tail-override-conflict"
        case .secretInTail: return "secret-in-tail"
        case .macroUndeclared: return "undeclared-macro"
        case .macroUnused: return "unused-macro"
        case .envUnclosed, .envUnset: return "env"
        case .nameLength: return "name"
        case .unknownNetwork: return "unknown-network"
        case .unknownCredential: return "unknown-credential"
        case .unknownParameter: return "unknown-parameter"
        case .missingCredential: return "missing-credential"
        case .notASource: return "not-a-source"
        case .priceNeedsOne, .priceOnlyOne, .priceDefaultWithOffers, .notAnAmountText: return "price"
        case .weakToken: return "weak-token"
        case .unknownIntakeAccount: return "unknown-account"
        }
    }
}
