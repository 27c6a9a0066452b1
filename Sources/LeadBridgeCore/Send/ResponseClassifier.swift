/// How one send ended: the classification plus what the network said.
public struct SendOutcome: Sendable, Hashable {
    public var kind: OutcomeKind
    public var externalId: String?
    /// The stable English text: what the network said (data), or `failure`'s English.
    public var message: String?
    /// Why it failed in our own words, when LeadBridge says it (nil: the network's message).
    public var failure: SendFailure?
    /// Seconds to wait before retrying (from `Retry-After`).
    public var retryAfter: Double?
    public var httpStatus: Int?
    /// For `failed`: whether the request can have reached the network (only what certainly did
    /// not is retried by itself; docs/lifecycle.md has the table). Unknown means maybe.
    public var receipt: Receipt?

    public init(kind: OutcomeKind, externalId: String? = nil, message: String? = nil, retryAfter: Double? = nil, httpStatus: Int? = nil,
                receipt: Receipt? = nil) {
        self.receipt = receipt
        self.kind = kind
        self.externalId = externalId
        self.message = message
        self.retryAfter = retryAfter
        self.httpStatus = httpStatus
    }

    /// An outcome of ours: its message is the failure's English.
    public init(kind: OutcomeKind, failure: SendFailure, retryAfter: Double? = nil, httpStatus: Int? = nil, receipt: Receipt? = nil) {
        self.init(kind: kind, message: failure.english, retryAfter: retryAfter, httpStatus: httpStatus, receipt: receipt)
        self.failure = failure
    }

    /// The failure (and its English message) with every text passed through `f`, the redactor.
    public mutating func redactTexts(_ f: (String) -> String) {
        if let failure {
            self.failure = failure.mapTexts(f)
            message = self.failure?.english
        } else {
            message = message.map(f)
        }
    }

    public var json: JSONValue {
        .obj([("result", .string(kind.rawValue)), ("external_id", .str(externalId)), ("message", .str(message)),
              ("http_status", httpStatus.map { .int($0) } ?? .null), ("retry_after", retryAfter.map { .number(String(Int($0))) } ?? .null)])
    }
}

/// Reads response bodies the way a spec says (strict or lenient JSON, or text).
public enum ResponseBody {
    public static func json(_ body: [UInt8], format: ResponseFormat) -> JSONValue? {
        switch format {
        case .text: return nil
        case .json: return try? JSONParser.parse(body)
        case .jsonLenient:
            guard let start = body.firstIndex(where: { $0 == UInt8(ascii: "{") || $0 == UInt8(ascii: "[") }) else { return nil }
            return try? JSONParser.parse(Array(body[start...]))
        }
    }

    /// A short, single-line excerpt for messages.
    public static func excerpt(_ body: [UInt8], limit: Int = 160) -> String {
        let text = String(decoding: body.prefix(limit * 4), as: UTF8.self)
        var s = String(text.map { $0.isNewline || $0 == "\t" ? " " : $0 }.prefix(limit))
        if text.count > limit || body.count > limit * 4 { s += "…" }
        return s.isEmpty ? "(empty body)" : s
    }
}

/// Applies a spec's ordered outcome rules to a response; built-in rules make throttling and
/// server errors retryable whatever the body says, unless a spec rule names that status.
public enum ResponseClassifier {
    public static func classify(_ response: HTTPResponseValue, format: ResponseFormat, rules: [OutcomeRule]) -> SendOutcome {
        evaluate(response, format: format, rules: rules, onlyRules: false) ?? SendOutcome(kind: .failed)
    }

    /// The first spec rule (or built-in transient rule) that matches, or nil.
    public static func firstMatch(_ response: HTTPResponseValue, format: ResponseFormat, rules: [OutcomeRule]) -> SendOutcome? {
        evaluate(response, format: format, rules: rules, onlyRules: true)
    }

    static func evaluate(_ response: HTTPResponseValue, format: ResponseFormat, rules: [OutcomeRule], onlyRules: Bool) -> SendOutcome? {
        let json = ResponseBody.json(response.body, format: format)
        let bodyText = response.bodyText
        func matches(_ rule: OutcomeRule) -> Bool {
            rule.conditions.allSatisfy { c in
                switch c {
                case .http(let patterns): return patterns.contains { $0.matches(response.status) }
                case .bodyContains(let t): return bodyText.contains(t)
                case .bodyMatches(let pattern): return pattern.found(in: bodyText)
                case .json(let path, let test):
                    guard let json else { return false }
                    let v = json.value(atPath: path)
                    switch test {
                    case .exists(let want): return (v != nil && !(v?.isNull ?? true)) == want
                    case .equals(let e): return v.map { $0.looselyEquals(e) } ?? false
                    case .notEquals(let e): return v.map { !$0.looselyEquals(e) } ?? true
                    case .oneOf(let list): return v.map { x in list.contains { x.looselyEquals($0) } } ?? false
                    case .matches(let pattern):
                        guard let text = v?.scalarText else { return false }
                        return pattern.found(in: text)
                    }
                }
            }
        }
        func outcome(_ rule: OutcomeRule) -> SendOutcome {
            let id = rule.externalId.flatMap { json?.value(atPath: $0)?.scalarText }.flatMap { $0.isEmpty ? nil : $0 }
            var message = rule.message.flatMap { json?.value(atPath: $0)?.scalarText } ?? rule.text
            if message == nil, rule.result == .rejected || rule.result == .failed { message = ResponseBody.excerpt(response.body) }
            return SendOutcome(kind: rule.result, externalId: id, message: message, retryAfter: retryAfter(response), httpStatus: response.status,
                               receipt: rule.result == .failed ? FailureClassification.receipt(.specRuleFailed) : nil)
        }
        // Spec rules that name this exact HTTP status come first ("4xx" does not take 429 away
        // from the retryable built-ins).
        for rule in rules where rule.conditions.contains(where: { if case .http(let p) = $0 { return p.contains(.exact(response.status)) }; return false }) {
            if matches(rule) { return outcome(rule) }
        }
        if response.status == 429 || response.status == 408 || response.status >= 500 {
            return SendOutcome(kind: .failed, failure: .httpStatus(response.status, excerpt: ResponseBody.excerpt(response.body)),
                               retryAfter: retryAfter(response), httpStatus: response.status,
                               receipt: FailureClassification.receipt(FailureClassification.cause(ofStatus: response.status)))
        }
        for rule in rules where matches(rule) { return outcome(rule) }
        if onlyRules { return nil }
        let failure = SendFailure.unrecognized(status: response.status, notJSON: json == nil && format != .text, excerpt: ResponseBody.excerpt(response.body))
        return SendOutcome(kind: .failed, failure: failure,
                           httpStatus: response.status, receipt: FailureClassification.receipt(FailureClassification.causeOfUnreadable(status: response.status)))
    }

    /// `Retry-After` in seconds (delta form; HTTP dates are ignored: no clock here).
    static func retryAfter(_ r: HTTPResponseValue) -> Double? {
        guard let v = r.header("Retry-After")?.trimmingWhitespace, let s = Double(v), s >= 0, s < 86_400 * 7 else { return nil }
        return s
    }
}
