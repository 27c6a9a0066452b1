/// Why a send failed in LeadBridge's own words, as a value (what a network said through a spec's
/// rule stays text: data). It rides on `SendOutcome`, is kept in the ledger as its code and
/// values (`stored`, read back by `StoredNote`), and is worded by the edges in the user's
/// language; `english` is the stable text of `--json`'s `message` and of older ledgers. An
/// excerpt of the network's answer is data, quoted as it came (scrubbed of the account's secrets).
public enum SendFailure: Sendable, Hashable {
    /// Throttling, a timeout or a server error: retried whatever the body says.
    case httpStatus(Int, excerpt: String)
    /// No outcome rule matched; `notJSON` when a JSON spec got something else.
    case unrecognized(status: Int, notJSON: Bool, excerpt: String)
    /// A preparatory step's answer lacks a value the next request needs.
    case stepValueMissing(step: String, name: String, excerpt: String)
    /// The lead or the account cannot be sent as they are, or the request could not be built.
    case unprepared(SendPreparationError)
    /// No complete HTTP answer came back.
    case transport(TransportFailureKind, TransportProblem)
    /// The plan ended without an outcome (a spec whose steps never reach the final request).
    case noOutcome
    /// An outgoing postback's traffic source, or that postback, is gone from the configuration.
    case sourceNotConfigured(source: String, kind: String)
    /// An outgoing postback needs settings its traffic source lacks.
    case sourceLacks(source: String, missing: [String], kind: String)

    public var english: String {
        switch self {
        case .httpStatus(let s, let e): return "HTTP \(s): \(e)"
        case .unrecognized(let s, let notJSON, let e):
            return "unrecognized response (HTTP \(s), \(notJSON ? "not the expected JSON" : "no outcome rule matched")): \(e)"
        case .stepValueMissing(let step, let name, let e): return "step \(step): no \(name) in the response: \(e)"
        case .unprepared(let p): return p.description
        case .transport(let k, let p): return "\(k.rawValue): \(p.english)"
        case .noOutcome: return "no outcome"
        case .sourceNotConfigured(let s, let k): return "source \(s) or its postback \(k) is no longer configured"
        case .sourceLacks(let s, let missing, let k):
            return "source \(s) lacks \(missing.joined(separator: ", ")), which its \(k) postbacks require: add it to sources.\(s) in the configuration, "
                + "then 'leadbridge outgoing --replay-all'"
        }
    }

    /// The stable code (kebab-case) and its values; nil when a value cannot be kept as one (a
    /// request-build problem outside `DiagnosticMessage.requestBuildWords`): it is then kept as
    /// its English text, as every failure was before failures were typed.
    public var codeAndArguments: (code: String, arguments: [String])? {
        switch self {
        case .httpStatus(let s, let e): return ("http", [String(s), e])
        case .unrecognized(let s, let notJSON, let e): return (notJSON ? "not-json" : "no-rule-matched", [String(s), e])
        case .stepValueMissing(let step, let name, let e): return ("step-value-missing", [step, name, e])
        case .transport(let k, let p): return ("transport", [k.rawValue, p.code] + p.arguments)
        case .noOutcome: return ("no-outcome", [])
        case .sourceNotConfigured(let s, let k): return ("source-not-configured", [s, k])
        case .sourceLacks(let s, let missing, let k): return ("source-lacks", [s, k] + missing)
        case .unprepared(let p):
            switch p {
            case .invalidLead(let f, .paramRequired(let n, let d)): return ("param-required", [f, n, d.ru] + (d.en.map { [$0] } ?? []))
            case .invalidLead(let f, .paramMismatch(let pattern)): return ("param-mismatch", [f, pattern])
            case .invalidLead(let f, .requiredBy(let n)): return ("field-required", [f, n])
            case .missingCredential(let k, let n): return ("missing-credential", [k, n])
            case .noSendAPI(let n): return ("no-send-api", [n])
            case .build(let d): return d.requestBuildWords.map { ("cannot-build", $0) }
            }
        }
    }

    public init?(code: String, arguments a: [String]) {
        switch (code, a.count) {
        case ("http", 2): guard let s = Int(a[0]) else { return nil }; self = .httpStatus(s, excerpt: a[1])
        case ("not-json", 2), ("no-rule-matched", 2):
            guard let s = Int(a[0]) else { return nil }
            self = .unrecognized(status: s, notJSON: code == "not-json", excerpt: a[1])
        case ("step-value-missing", 3): self = .stepValueMissing(step: a[0], name: a[1], excerpt: a[2])
        case ("transport", 2...):
            guard let k = TransportFailureKind(rawValue: a[0]), let p = TransportProblem(code: a[1], arguments: Array(a.dropFirst(2))) else { return nil }
            self = .transport(k, p)
        case ("no-outcome", 0): self = .noOutcome
        case ("source-not-configured", 2): self = .sourceNotConfigured(source: a[0], kind: a[1])
        case ("source-lacks", 3...): self = .sourceLacks(source: a[0], missing: Array(a.dropFirst(2)), kind: a[1])
        case ("param-required", 3), ("param-required", 4):
            self = .unprepared(.invalidLead(field: a[0], .paramRequired(network: a[1], description: Localized(ru: a[2], en: a.count == 4 ? a[3] : nil))))
        case ("param-mismatch", 2): self = .unprepared(.invalidLead(field: a[0], .paramMismatch(pattern: a[1])))
        case ("field-required", 2): self = .unprepared(.invalidLead(field: a[0], .requiredBy(network: a[1])))
        case ("missing-credential", 2): self = .unprepared(.missingCredential(key: a[0], network: a[1]))
        case ("no-send-api", 1): self = .unprepared(.noSendAPI(network: a[0]))
        case ("cannot-build", 1...):
            guard let d = DiagnosticMessage(requestBuildWords: a) else { return nil }
            self = .unprepared(.build(d))
        default: return nil
        }
    }

    /// The same failure with every text it carries passed through `f` (the account's redactor):
    /// an excerpt or libcurl's text that echoes a credential never reaches the ledger.
    public func mapTexts(_ f: (String) -> String) -> SendFailure {
        switch self {
        case .httpStatus(let s, let e): return .httpStatus(s, excerpt: f(e))
        case .unrecognized(let s, let notJSON, let e): return .unrecognized(status: s, notJSON: notJSON, excerpt: f(e))
        case .stepValueMissing(let step, let name, let e): return .stepValueMissing(step: step, name: name, excerpt: f(e))
        case .transport(let k, let p): return .transport(k, p.mapTexts(f))
        case .unprepared(.build(let d)):
            guard let w = d.requestBuildWords, let first = w.first, let mapped = DiagnosticMessage(requestBuildWords: [first] + w.dropFirst().map(f)) else { return self }
            return .unprepared(.build(mapped))
        case .unprepared, .noOutcome, .sourceNotConfigured, .sourceLacks: return self
        }
    }

    static let marker = "send:"

    /// The ledger's form: `send:<code> <values…>`, values percent-encoded; nil when it has no
    /// code (kept as its English text then). The longest value is cut until the form fits
    /// `maxLength` (the column keeps 500 characters, and a parked lead's reason quotes it again).
    public func stored(maxLength: Int = 240) -> String? {
        guard let code = codeAndArguments?.code, var arguments = codeAndArguments?.arguments else { return nil }
        func form() -> String { ([Self.marker + code] + arguments.map(StoredNote.escape)).joined(separator: " ") }
        var text = form()
        while text.count > maxLength, let i = arguments.indices.max(by: { arguments[$0].count < arguments[$1].count }), arguments[i].count > 2 {
            arguments[i] = String(arguments[i].prefix(arguments[i].count / 2)) + "…"
            text = form()
        }
        return text
    }

    /// The failure kept in a column, or nil for anything else (text, a lifecycle reason).
    public static func decode(_ stored: String) -> SendFailure? {
        guard stored.hasPrefix(marker) else { return nil }
        let words = stored.dropFirst(marker.count).split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        guard let code = words.first else { return nil }
        return SendFailure(code: code, arguments: words.dropFirst().map(StoredNote.unescape))
    }

    /// One example of every kind (wording tests, golden files, docs).
    public static var examples: [SendFailure] {
        [.httpStatus(503, excerpt: "Service Unavailable"), .unrecognized(status: 200, notJSON: true, excerpt: "<html>maintenance</html>"),
         .unrecognized(status: 200, notJSON: false, excerpt: "{\"ok\":2}"), .stepValueMissing(step: "token", name: "token", excerpt: "{\"error\":1}"),
         .unprepared(.invalidLead(field: "params.stream", .paramRequired(network: "kma", description: Localized(ru: "поток", en: "the stream")))),
         .unprepared(.invalidLead(field: "params.stream", .paramMismatch(pattern: "^[0-9]+$"))),
         .unprepared(.invalidLead(field: "phone", .requiredBy(network: "kma"))), .unprepared(.missingCredential(key: "token", network: "kma")),
         .unprepared(.noSendAPI(network: "adbees")), .noOutcome, .sourceNotConfigured(source: "leadcraft", kind: "referral"),
         .sourceLacks(source: "leadcraft", missing: ["credentials.action"], kind: "referral")]
            + DiagnosticMessage.requestBuildExamples.map { .unprepared(.build($0)) }
            + TransportProblem.examples.map { .transport(.connection, $0) }
            + [.transport(.timeout, .said("operation timed out")), .transport(.invalidRequest, .said("bad request line"))]
    }
}

/// An outgoing postback's answers column, `#N time <answer> | …` (newest last; a failure before
/// any attempt stands alone): each answer worded by `word` when it is a stored failure, other
/// text (a ledger's older answers) as it is.
public enum OutgoingAnswers {
    public static func worded(_ column: String, _ word: (SendFailure) -> String) -> String {
        column.components(separatedBy: " | ").map { part in
            let words = part.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
            if part.hasPrefix("#"), words.count == 3, let failure = SendFailure.decode(String(words[2])) {
                return words[0] + " " + words[1] + " " + word(failure)
            }
            return SendFailure.decode(part).map(word) ?? part
        }.joined(separator: " | ")
    }
}

extension DiagnosticMessage {
    /// A problem a request can meet while it is built for a lead (a value a filter cannot read,
    /// a URL that is not http), as stable words for the ledger; nil for any other diagnostic.
    public var requestBuildWords: [String]? {
        switch self {
        case .notIntegerValue(let p, let t): return ["not-integer", p, t]
        case .notNumberValue(let p, let t): return ["not-number", p, t]
        case .notBooleanValue(let p, let t): return ["not-boolean", p, t]
        case .signatureNeedsJSONObject: return ["signature-needs-json-object"]
        case .headerUnsafe(let name): return ["header-unsafe", name]
        case .urlPlaceholderEmpty(let p): return ["url-placeholder-empty", p]
        case .urlPlaceholderNotHTTP(let p): return ["url-placeholder-not-http", p]
        case .urlStartsNotHTTP(let p): return ["url-starts-not-http", p]
        case .urlNotHTTP: return ["url-not-http"]
        default: return nil
        }
    }

    public init?(requestBuildWords w: [String]) {
        switch (w.first ?? "", w.count) {
        case ("not-integer", 3): self = .notIntegerValue(placeholder: w[1], text: w[2])
        case ("not-number", 3): self = .notNumberValue(placeholder: w[1], text: w[2])
        case ("not-boolean", 3): self = .notBooleanValue(placeholder: w[1], text: w[2])
        case ("signature-needs-json-object", 1): self = .signatureNeedsJSONObject
        case ("header-unsafe", 2): self = .headerUnsafe(name: w[1])
        case ("url-placeholder-empty", 2): self = .urlPlaceholderEmpty(w[1])
        case ("url-placeholder-not-http", 2): self = .urlPlaceholderNotHTTP(w[1])
        case ("url-starts-not-http", 2): self = .urlStartsNotHTTP(w[1])
        case ("url-not-http", 1): self = .urlNotHTTP
        default: return nil
        }
    }

    /// One of each request-build problem.
    public static let requestBuildExamples: [DiagnosticMessage] = [
        .notIntegerValue(placeholder: "lead.price", text: "12,5"), .notNumberValue(placeholder: "lead.price", text: "abc"),
        .notBooleanValue(placeholder: "params.test", text: "maybe"), .signatureNeedsJSONObject, .headerUnsafe(name: "X-Token"),
        .urlPlaceholderEmpty("credentials.url"), .urlPlaceholderNotHTTP("credentials.url"), .urlStartsNotHTTP("credentials.url"), .urlNotHTTP,
    ]
}
