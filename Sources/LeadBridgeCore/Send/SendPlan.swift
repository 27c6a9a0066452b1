import LeadBridgeCrypto

/// Why a lead cannot be sent before any request: the lead lacks what the network needs, or
/// the account lacks a credential. Names the field; never contains a secret value.
public enum SendPreparationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What a lead field lacks for the network, as a value (worded by the edges).
    public enum Gap: Sendable, Hashable {
        /// An empty parameter the spec requires (its description says what it is).
        case paramRequired(network: String, description: Localized)
        /// A parameter that does not match the spec's pattern.
        case paramMismatch(pattern: String)
        /// An empty field the network's send requires.
        case requiredBy(network: String)

        public var english: String {
            switch self {
            case .paramRequired(let n, let d): return "is required by \(n): \(d.text(.en))"
            case .paramMismatch(let p): return "does not match \(p)"
            case .requiredBy(let n): return "is required by \(n)"
            }
        }
    }

    case invalidLead(field: String, Gap)
    case missingCredential(key: String, network: String)
    case noSendAPI(network: String)
    case build(DiagnosticMessage)

    /// The stable English sentence (stored as a lead's last error, `--json`).
    public var description: String {
        switch self {
        case .invalidLead(let f, let gap): return "invalid lead: \(f) \(gap.english)"
        case .missingCredential(let k, let n): return "the account has no credential \"\(k)\" required by \(n)"
        case .noSendAPI(let n): return "\(n) has no known send API: send leads by the network's own API documentation from your manager"
        case .build(let m): return "cannot build the request: \(m.english)"
        }
    }
}

/// The whole send of one lead as a pure state machine: it hands out the next request,
/// takes its response, and ends with an outcome. The engine does the I/O; examples and tests
/// drive it with canned responses.
public struct SendPlan: Sendable {
    public let spec: NetworkSpec
    public let send: SendSpec
    public private(set) var context: TemplateContext
    public private(set) var step = 0
    /// How the send ended, with every credential of the account scrubbed from what the
    /// network said (a network that echoes the request back in its error never gets a secret
    /// into the ledger, a log or the output).
    public var outcome: SendOutcome? { answer.map(echoes.redact) }
    private var answer: SendOutcome?
    /// Every credential value of the account, in every encoded form.
    let echoes: Redactor
    /// Requests built so far (for dry runs and logs).
    public private(set) var built: [BuiltRequest] = []

    public var stepCount: Int { send.steps.count + 1 }

    /// `echoes` is the account's `Redactor` when the caller already has it (a pass sending many
    /// leads of one account builds it once, not per lead).
    public init(spec: NetworkSpec, lead: Lead, account: AccountValues, now: Int64, echoes: Redactor? = nil) throws(SendPreparationError) {
        guard let send = spec.send else { throw .noSendAPI(network: spec.id) }
        self.spec = spec
        self.send = send
        for c in spec.credentials where c.required && (account.credentials[c.key] ?? "").isEmpty {
            throw .missingCredential(key: c.key, network: spec.id)
        }
        var params = account.params
        for (k, v) in lead.params { params[k] = v }
        for p in spec.params {
            let v = params[p.key] ?? ""
            if v.isEmpty && p.required { throw .invalidLead(field: "params.\(p.key)", .paramRequired(network: spec.id, description: p.description)) }
            if !v.isEmpty, let pattern = p.pattern, !pattern.matchesWhole(v) {
                throw .invalidLead(field: "params.\(p.key)", .paramMismatch(pattern: "\(pattern)"))
            }
        }
        let ctx = TemplateContext.request(account: AccountValues(name: account.name, credentials: account.credentials, params: params), lead: lead, now: now)
        for r in send.leadRequirements {
            let value = ctx.values[r]
            let empty: Bool
            switch value {
            case .text(let t)?: empty = t.trimmingWhitespace.isEmpty
            case .list(let l)?: empty = l.isEmpty
            case .time?: empty = false
            case nil: empty = true
            }
            if empty {
                let field = r.hasPrefix("lead.") ? String(r.dropFirst(5)) : r
                throw .invalidLead(field: field, .requiredBy(network: spec.id))
            }
        }
        self.context = ctx
        self.echoes = echoes ?? Redactor(account: account)
    }

    /// The request of the current step, or nil when the plan has an answer.
    public mutating func nextRequest() throws(SendPreparationError) -> BuiltRequest? {
        guard answer == nil else { return nil }
        let (request, sign) = step < send.steps.count ? (send.steps[step].request, send.steps[step].sign) : (send.request, send.sign)
        do {
            let b = try RequestBuilder.build(request, sign: sign, context: context)
            built.append(b)
            return b
        } catch {
            throw .build(error.problem)
        }
    }

    /// The current step's request with every secret credential shown as `***`; a signature
    /// keeps its real value (it is not a secret) while its input shows the mask. Built only when
    /// asked (`send --dry-run`, logs): a send itself never needs it.
    public func redactedRequest() throws(SendPreparationError) -> BuiltRequest {
        let (request, sign) = step < send.steps.count ? (send.steps[step].request, send.steps[step].sign) : (send.request, send.sign)
        var ctx = context
        for k in spec.secretCredentialKeys where ctx.values["credentials.\(k)"] != nil { ctx["credentials.\(k)"] = .text(Redactor.mask) }
        do {
            var shown = try RequestBuilder.build(request, sign: sign, context: ctx, signatureOverride: built.last?.signature)
            // The mask is percent-encoded in URLs and forms; show it as written.
            let encoded = PercentEncoding.php(Redactor.mask)
            shown.request.url = shown.request.url.replacingAll(encoded, with: Redactor.mask)
            if shown.request.header("Content-Type")?.hasPrefix("application/x-www-form-urlencoded") == true {
                shown.request.body = Array(shown.request.bodyText.replacingAll(encoded, with: Redactor.mask).utf8)
            }
            return shown
        } catch {
            throw .build(error.problem)
        }
    }

    /// Feeds the response of the current step. A non-final step that fails ends the plan.
    public mutating func handle(_ raw: HTTPResponseValue) {
        guard answer == nil else { return }
        // The answer is decided as it came: masking a credential inside it could break its JSON
        // or an id that merely contains a short credential (partner id 80001 inside the network's
        // id 180001). What is shown of it (messages, excerpts) comes from the scrubbed copy, so an
        // excerpt never cuts an echoed secret in half.
        let response = echoes.redact(raw)
        if step < send.steps.count {
            let s = send.steps[step]
            // The final request carries the lead: whatever a preparatory step answers, the network
            // does not have the lead yet.
            if !s.outcomes.isEmpty {
                var o = classify(raw, shown: response, format: s.response, rules: s.outcomes)
                if o.kind == .failed { o.receipt = FailureClassification.receipt(.earlierStep) }
                if o.kind != .accepted { answer = o; return }
            } else if !(200...299).contains(response.status) {
                answer = ResponseClassifier.classify(response, format: s.response, rules: [])
                if answer?.kind != .failed { answer?.kind = .failed }
                answer?.receipt = FailureClassification.receipt(.earlierStep)
                return
            }
            let json = ResponseBody.json(raw.body, format: s.response == .text ? .jsonLenient : s.response)
            for (name, rule) in s.extract {
                var value: String?
                switch rule.source {
                case .body: value = raw.bodyText
                case .json(let path): value = json?.value(atPath: path)?.scalarText
                case .header(let h): value = raw.header(h)
                }
                if rule.trim { value = value?.trimmingWhitespace }
                guard let v = value, !v.isEmpty else {
                    answer = SendOutcome(kind: .failed, failure: .stepValueMissing(step: s.id, name: name, excerpt: ResponseBody.excerpt(response.body)),
                                          httpStatus: response.status, receipt: FailureClassification.receipt(.earlierStep))
                    return
                }
                context["steps.\(s.id).\(name)"] = .text(v)
            }
            step += 1
            return
        }
        answer = classify(raw, shown: response, format: send.response, rules: send.outcomes)
        step += 1
    }

    /// The outcome of an answer as the network gave it, with the message of its scrubbed copy
    /// (`shown`) when a credential was found in it.
    func classify(_ raw: HTTPResponseValue, shown: HTTPResponseValue, format: ResponseFormat, rules: [OutcomeRule]) -> SendOutcome {
        var o = ResponseClassifier.classify(raw, format: format, rules: rules)
        guard shown != raw else { return o }
        let scrubbed = ResponseClassifier.classify(shown, format: format, rules: rules)
        if scrubbed.kind == o.kind {
            (o.message, o.failure) = (scrubbed.message, scrubbed.failure)
        } else {
            o.redactTexts(echoes.redact)
        }
        return o
    }

    /// A failure below HTTP (or a request that could not be built) ends the plan; `cause`
    /// says whether the request can have reached the network. Before the final request
    /// (which carries the lead) nothing can have.
    public mutating func fail(_ failure: SendFailure, cause: FailureCause) {
        guard answer == nil else { return }
        let receipt = step < send.steps.count ? FailureClassification.receipt(.earlierStep) : FailureClassification.receipt(cause)
        answer = SendOutcome(kind: .failed, failure: failure, receipt: receipt)
    }
}

/// Replaces secret values in anything printed or logged: the raw value and the encoded
/// forms it takes in URLs, forms and JSON.
public struct Redactor: Sendable {
    public static let mask = "***"
    /// Every encoded form of every secret, longest first, as UTF-8 bytes (matched byte for byte).
    let needles: [[UInt8]]

    public init(secrets: [String]) {
        needles = Set(secrets.filter { $0.count >= 4 }.flatMap(Self.encodedForms)).sorted { $0.count > $1.count }.map { Array($0.utf8) }
    }

    /// The redactor of everything an account's requests and answers can echo: every credential.
    public init(account: AccountValues) {
        self.init(secrets: Array(account.credentials.values))
    }

    /// How a secret can appear in a request or a log: raw, form- or URL-encoded, JSON-escaped,
    /// base64 and base64url.
    public static func encodedForms(_ s: String) -> [String] {
        let base64 = base64Forms(s)
        return [s, PercentEncoding.php(s), PercentEncoding.rfc3986(s), String(JSONWriter.quote(s).dropFirst().dropLast()),
                String(JSONWriter.quote(s, escaping: .php).dropFirst().dropLast())]
            + base64 + base64.map { String($0.map { $0 == "+" ? "-" : $0 == "/" ? "_" : $0 }) }
    }

    /// The base64 characters that carry only the secret's bits, for each of the three ways it
    /// can sit in a longer encoded text (`Basic base64(user:secret)` puts it after the user).
    static func base64Forms(_ s: String) -> [String] {
        let bytes = Array(s.utf8)
        return (0..<3).map { k in
            let encoded = Array(Base64.encode([UInt8](repeating: 0, count: k) + bytes))
            let from = (8 * k + 5) / 6, to = min(encoded.count, 8 * (k + bytes.count) / 6)
            return from < to ? String(encoded[from..<to]) : ""
        }.filter { $0.count >= 4 }
    }

    /// `text` with every secret form masked; `text` itself when none occurs (the usual case,
    /// found without copying it).
    public func redact(_ text: String) -> String {
        guard !needles.isEmpty, !text.isEmpty else { return text }
        var t = text
        let found = t.withUTF8 { bytes in needles.contains { Self.firstMatch(of: $0, in: bytes) != nil } }
        guard found else { return text }
        return String(decoding: Self.scrub(Array(text.utf8), secrets: needles), as: UTF8.self)
    }

    /// `value` itself unless it is a secret in one of its forms: an identifier or a status word
    /// is the network's, and a short credential (a partner id like 80001) may well be part of
    /// one (the network's lead 180001) — masking inside it would make it name nothing.
    public func maskWhole(_ value: String) -> String {
        needles.contains { $0.elementsEqual(value.utf8) } ? Self.mask : value
    }

    /// An answer with every secret form replaced in its body and headers, byte for byte (a
    /// body in another encoding than UTF-8 stays as it was around them).
    public func redact(_ response: HTTPResponseValue) -> HTTPResponseValue {
        var r = response
        r.body = Self.scrub(r.body, secrets: needles)
        r.headers = r.headers.map { HTTPHeader($0.name, redact($0.value)) }
        return r
    }

    /// Every occurrence of each secret (longest first) replaced by the mask, byte for byte,
    /// whatever shape the bytes have (malformed JSON, bad UTF-8…). Returns `bytes` itself (no
    /// copy) when no secret occurs in it.
    public static func scrub(_ bytes: [UInt8], secrets: [[UInt8]]) -> [UInt8] {
        guard !secrets.isEmpty, !bytes.isEmpty else { return bytes }
        var out = bytes
        let mask = Array(Self.mask.utf8)
        for s in secrets where !s.isEmpty && firstMatch(of: s, in: out) != nil {
            var i = 0
            var result: [UInt8] = []
            result.reserveCapacity(out.count)
            while i < out.count {
                if i + s.count <= out.count && out[i] == s[0] && out[i..<i + s.count].elementsEqual(s) {
                    result += mask
                    i += s.count
                } else {
                    result.append(out[i])
                    i += 1
                }
            }
            out = result
        }
        return out
    }

    /// Where `needle` first occurs in `haystack` (an offset from its start), without copying it.
    /// Inlinable: other modules call it for their own buffer types (the receiver scrubs every
    /// postback's path and query with it), and across modules a generic runs unspecialized,
    /// through witness tables for every byte it reads.
    @inlinable
    public static func firstMatch<C: RandomAccessCollection>(of needle: [UInt8], in haystack: C) -> Int? where C.Element == UInt8, C.Index == Int {
        guard let first = needle.first, haystack.count >= needle.count else { return nil }
        var i = 0
        let last = haystack.count - needle.count
        while i <= last {
            if haystack[haystack.startIndex + i] == first && haystack[(haystack.startIndex + i)..<(haystack.startIndex + i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }

    /// What the network said, scrubbed: its message and the external id it gave.
    public func redact(_ outcome: SendOutcome) -> SendOutcome {
        var o = outcome
        o.redactTexts(redact)
        o.externalId = o.externalId.map(maskWhole)
        return o
    }
}
