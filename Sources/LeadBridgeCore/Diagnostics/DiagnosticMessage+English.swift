/// The stable English wording of every diagnostic: what `--json` outputs, the engine's stored
/// reports and `--lang en` show (the Russian lives in the command line's catalog, `Say+ru`).
extension DiagnosticMessage {
    public var english: String {
        func q(_ s: String) -> String { "\"\(s)\"" }
        func dym(_ s: String?) -> String { s.map { " (did you mean \($0)?)" } ?? "" }
        func options(_ o: [String], or: String = ", ") -> String { o.map(q).joined(separator: or) }
        func fraction(_ t: String) -> String { t == "number" ? "a fraction" : t }
        switch self {
        case .notAnObject(let s, let found): return "\(Self.englishSubject[s] ?? s.rawValue) must be an object, found \(found)"
        case .notAString(let found): return "must be a string" + (found.map { ", found \($0)" } ?? "")
        case .notAStringOrNull(let found): return "must be a string or null, found \(found)"
        case .notABoolean(let found): return "must be true or false, found \(found)"
        case .notAnInteger(let found): return "must be an integer, found \(fraction(found))"
        case .notANumber(let found): return "must be a number, found \(found)"
        case .notAnArray(let found): return "must be an array" + (found.map { ", found \($0)" } ?? "")
        case .notStringOrStrings(let found): return "must be a string or an array of strings, found \(found)"
        case .notATemplate(let found): return "must be a string template, found \(found)"
        case .notTemplateNames: return "must be a template name or a list of names"
        case .notVarsObject(let found): return "must be an object of names and text values, found \(found)"
        case .notAVarValue(let found): return "must be a string (or null in a base: the network gives it), found \(found)"
        case .notALeadField: return "must be a lead field name"
        case .notAnAmount: return "must be an amount such as \"1500\" or \"92.5\""
        case .notSeconds: return "must be a number of seconds"
        case .notHTTPStatuses: return "must be a status code, \"2xx\"-style range, or a list of them"
        case .notADate: return "must be a date like 2026-01-02T03:04:05Z"
        case .outOfRange(let lower, let upper, let found): return "must be between \(lower) and \(upper), found \(found)"
        case .notPositive: return "must be greater than 0"
        case .notOneOf(let o, let found, let s):
            return "must be " + (o.count == 2 ? options(o, or: " or ") : "one of " + options(o)) + (found.map { ", found \(q($0))" } ?? "") + dym(s)
        case .notAClaim(let facts, let s): return "must be one of \(facts.joined(separator: ", ")), or one of them with a part (send.credentials)" + dym(s)
        case .unknownMacroMeaning(let m, let o, let s): return "unknown macro meaning \(q(m)); one of \(o.joined(separator: ", "))" + dym(s)
        case .stopKind: return "must be \"short-page\", \"empty-page\" or an object"
        case .fromMustBeBody: return "\"from\" must be \"body\" (or use \"json\" / \"header\")"
        case .unknownMethod(let m): return "unknown HTTP method \(q(m))"

        case .unknownKey(let k, let s): return "unknown key \(q(k))" + dym(s)
        case .missingKey(let k): return "missing required key \(q(k))"
        case .missingTail: return "missing required key \"tail\" (null for an item left empty)"
        case .tailNeedsNote: return "an item without a tail needs a \"note\" saying what to do"
        case .missingOutcomes: return "missing required key \"outcomes\": say how the network answers"
        case .stopNeedsOne: return "give one of \"hasMore\", \"total\", \"totalPages\""
        case .missingPollStatus: return "missing required key \"status\" (path of the status in an item)"
        case .authNeedsOne: return "auth needs one of \"bearer\", \"basic\", \"header\", \"query\", \"form\""
        case .hmacNeedsKey: return "an HMAC needs a \"key\""
        case .signatureNeedsPlace: return "say where the signature goes: \"query\", \"form\", \"header\" or \"json\""
        case .conditionNeedsOne: return "a condition needs \"http\", \"json\" or \"body\""
        case .credentialTwice(let k): return "credential \(q(k)) is listed twice"
        case .parameterTwice(let k): return "parameter \(q(k)) is listed twice"

        case .translationPlain: return "plain string: give {\"ru\": …, \"en\": …}"
        case .translationNoEnglish: return "no English text (\"en\"); Russian is shown instead"
        case .idEmpty: return "must not be empty"
        case .idInvalid(let id): return "must be lower-case letters, digits and '-', starting with a letter or digit, found \(q(id))"
        case .idMismatch(let id, let file): return "id \(q(id)) does not match the file name \(q(file + ".json"))"
        case .idAlsoIn(let id, let file): return "id \(q(id)) is also defined in \(file)"
        case .idIsAlias(let id, let of): return "id \(q(id)) is already an alias of \(q(of))"
        case .aliasTaken(let a, let by): return "alias \(q(a)) is already used by \(q(by))"
        case .fileTooLarge(let size, let limit):
            return size.map { "the file is \($0) bytes; the limit is \(limit) (see docs/limits.md)" }
                ?? "the file is larger than the limit of \(limit) bytes (see docs/limits.md)"
        case .jsonSyntax(let p): return p.english
        case .unknownTemplate(let t, let s): return "unknown template \(q(t))" + dym(s)
        case .extendsCycle(let names): return "templates extend each other in a cycle: \(names.joined(separator: " → "))"
        case .statusConflict(let word, let buckets): return "\(q(word)) is listed in both \(buckets.joined(separator: " and "))"
        case .statusWordBlank: return "status words must not be empty or have surrounding spaces"
        case .unknownStatusKey(let w): return "\(q(w)) is not one of the spec's status words"
        case .invalidRegex: return "not a valid regular expression"
        case .regexNeedsCapture: return "not a regular expression with a capture group for the order id"
        case .pathNeedsSlash: return "must start with /"
        case .varName(let n): return "a name must be lower-case letters, digits and '_', starting with a letter, found \(q(n))"
        case .varValue(let v): return "must be a non-empty value without spaces or braces, found \(q(v))"
        case .varMissing(let n): return "{vars.\(n)} has no value: give \"vars\": {\"\(n)\": …} in the network's spec"
        case .varUnknown(let n, let s, let noVars): return "{vars.\(n)} is not declared in \"vars\"" + (noVars ? " (the spec has no \"vars\")" : dym(s))
        case .sourceURL: return "must be an http:// or https:// address"
        case .sourceNeedsWhere: return "a source needs \"url\", \"repository\" with \"path\", or \"where\""
        case .unknownLeadField(let f, let s): return "\(q(f)) is not a lead field" + dym(s)
        case .examplesNeedSend: return "examples need a \"send\" block"
        case .pollExamplesNeedPoll: return "poll examples need a \"poll\" block"
        case .noOutgoing(let o, let s): return "no outgoing postback \(q(o))" + dym(s)
        case .exampleLeadInvalid(let e): return "invalid lead: \(e)"
        case .exampleFails(let name, let d): return "example \(q(name)) does not hold: " + Self.oneLine(d.map(\.english))

        case .urlScheme: return "must start with http:// or https://"
        case .urlLiteralScheme: return "must start with a literal http:// or https:// scheme and host"
        case .oneBody(let b): return "give only one body: \(b.joined(separator: ", "))"
        case .getWithBody: return "a GET request cannot carry a body"
        case .authFormBody: return "auth \"form\" needs a \"form\" or \"multipart\" body"
        case .windowWithBatch: return "a windowed poll asks by period, not by batches of ids: remove \"batch\""
        case .lookupNeedsList: return "a lookup replaces paging a list: the poll needs \"pagination\" or \"window\""
        case .requiresBraces: return "write the name without braces: \"lead.phone\", not \"{lead.phone}\""
        case .notAPlaceholder(let r): return "not a placeholder name: \(q(r))"
        case .notAClickPlaceholder(let r): return "not a placeholder name (write lead.click_id, without braces): \(q(r))"

        case .unclosedBrace(let s): return "unclosed '{' in \(q(s)) (write '{{' for a literal brace)"
        case .strayBrace(let s): return "stray '}' in \(q(s)) (write '}}' for a literal brace)"
        case .emptyPlaceholder(let b): return "empty placeholder '{\(b)}'"
        case .invalidPlaceholder(let n): return "invalid placeholder name '\(n)'"
        case .unknownFilter(let f, let s): return "unknown filter '\(f)'" + dym(s)
        case .filterTakesNoArgument(let f): return "filter '\(f)' takes no argument"
        case .filterNeedsArgument(let f): return "filter '\(f)' needs an argument ('\(f):…')"
        case .firstNeedsNumber: return "filter 'first' needs a number ('first:20')"
        case .daysBeforeRange: return "filter 'daysBefore' needs a number of days from 0 to 366 ('daysBefore:1')"
        case .unknownPlaceholder(let p, let s): return "unknown placeholder {\(p)}" + dym(s)
        case .placeholderNeedsKey(let f): return "{lead.\(f)} needs a key: {lead.\(f).NAME}"
        case .noStepExtracts(let p, let steps): return "unknown placeholder {\(p)}: no earlier step extracts it (steps: \(steps.joined(separator: ", ")))"
        case .placeholderHasNoFields(let r): return "{\(r)} has no fields"
        case .notIntegerValue(let p, let t): return "{\(p)} is not an integer: \(q(t))"
        case .notNumberValue(let p, let t): return "{\(p)} is not a number: \(q(t))"
        case .notBooleanValue(let p, let t): return "{\(p)} is not a boolean: \(q(t))"
        case .signatureNeedsJSONObject: return "a signature into the JSON body needs a JSON object body"
        case .headerUnsafe(let n): return "header \(n) would contain a line break, colon or space"
        case .urlPlaceholderEmpty(let n): return "the URL needs {\(n)}, which has no value"
        case .urlPlaceholderNotHTTP(let n): return "{\(n)} is not an http(s) URL"
        case .urlStartsNotHTTP(let n): return "the URL starts with {\(n)}, which is not an http(s) URL"
        case .urlNotHTTP: return "the request's URL is not an http(s) URL"

        case .noSource(let fact):
            return "no source supports \(q(fact)): add one to \"sources\" (url or repository and path, \"supports\": [\(q(fact))], a confidence)"
        case .noDedupeSource:
            return "no source supports \"send.dedupe\": a network that refuses a repeated order id is what makes resending a lead that may have arrived safe; add a source with \"supports\": [\"send.dedupe\"]"
        case .dedupeNeedsSend: return "\"dedupe\" describes how the network takes leads: it needs a \"send\" block"
        case .outcomePathUnknown(let p, let s): return "\(q(p)) is in no example response" + dym(s)
        case .outcomePathUnseen(let p): return "\(q(p)) appears in no example response"
        case .pollPathUnknown(let what, let p, let s, let keys):
            return "the \(what) path \(q(p)) is in no item of the poll examples' answers" + dym(s)
                + (keys.isEmpty ? "" : " (items have: " + keys.joined(separator: ", ") + ")")
        case .pollPathUnseen(let what, let p): return "the \(what) path \(q(p)) appears in no item of the poll examples' answers"
        case .emptyTail: return "empty tail: use null with a note for an item left empty"
        case .tailKeyUnknown(let k, let s): return "the receiver does not read \(q(k))" + dym(s)
        case .tailOverrideConflict(let k, let w, let says, let statuses): return "\(k)=\(w) says \(says) but \"statuses\" has \(q(w)) in \(statuses)"
        case .secretInTail(let m): return "\(m) is a secret credential: it would be printed for the manager to paste"
        case .macroUndeclared(let m): return "macro \(m) is not declared in \"postbacks.macros\" (say what the network puts there)"
        case .macroUnused(let m): return "macro \(m) is declared but no tail uses it"
        case .tailStatusUnknown(let w): return "status word \(q(w)) of this tail is in no bucket of \"statuses\""

        case .configTooLarge(let size, let limit): return "the configuration is \(size) bytes; the limit is \(limit) (see docs/limits.md)"
        case .envUnclosed: return "unclosed ${ in the value (write ${NAME})"
        case .envUnset(let n): return "environment variable \(n) is not set"
        case .nameLength(let s, let limit): return "\(s == .source ? "source" : "account") names are 1 to \(limit) characters"
        case .unknownNetwork(let n, let s, let hint): return "unknown network \(q(n))" + dym(s) + (hint ? " (run 'leadbridge networks' for the list)" : "")
        case .unknownCredential(let n, let k, let s, let allowed):
            return "\(n) has no credential \(q(k))" + dym(s) + (allowed.isEmpty ? " (it takes none)" : " (it takes " + allowed.joined(separator: ", ") + ")")
        case .unknownParameter(let n, let k, let s, let allowed):
            return "\(n) has no parameter \(q(k))" + dym(s) + (allowed.isEmpty ? " (it takes none)" : " (it takes " + allowed.joined(separator: ", ") + ")")
        case .missingCredential(let k, let label, let n): return "missing credential \(q(k)) (\(label.text(.en))) for \(n)"
        case .paramMismatch(let v, let p, let d): return "\(v.map(q) ?? "the value of its variable") does not match \(p) (\(d.text(.en)))"
        case .notASource(let n): return "\(n) is not a traffic source: its spec has no outgoing postbacks"
        case .priceNeedsOne: return "give one of \"fixed\", \"offers\" or \"payout\""
        case .priceOnlyOne(let kinds): return "give only one of \(kinds.joined(separator: ", "))"
        case .priceDefaultWithOffers: return "\"default\" goes with \"offers\""
        case .notAnAmountText(let t): return "\(q(t)) is not an amount (digits with up to 6 decimals: \"1500\", \"92.5\")"
        case .weakToken(let minimum): return "the console token must have at least \(minimum) characters (it guards the ledger's data)"
        case .unknownIntakeAccount(let a, let s): return "intake route to unknown account \(q(a))" + dym(s)
        }
    }

    /// Example differences on one line, in either language: "; " between them, and a break inside
    /// one (the expected value above the built one, aligned) becomes ", ".
    public static func oneLine(_ differences: [String]) -> String {
        differences.map { d in
            d.split(separator: "\n", omittingEmptySubsequences: false).map { $0.drop { $0 == " " } }.joined(separator: ", ")
        }.joined(separator: "; ")
    }

    static let englishSubject: [Subject: String] = [
        .value: "value", .text: "text", .source: "a source", .spec: "a spec",
        .catalog: "the catalog", .statusDefaults: "the status defaults", .configuration: "the configuration", .account: "account",
    ]
}
