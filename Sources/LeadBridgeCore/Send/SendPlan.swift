/// Why a lead cannot be sent before any request: the lead lacks what the network needs, or
/// the account lacks a credential. Names the field; never contains a secret value.
public enum SendPreparationError: Error, Sendable, Hashable, CustomStringConvertible {
    case invalidLead(field: String, message: String)
    case missingCredential(key: String, network: String)
    case noSendAPI(network: String)
    case build(String)

    public var description: String {
        switch self {
        case .invalidLead(let f, let m): return "invalid lead: \(f) \(m)"
        case .missingCredential(let k, let n): return "the account has no credential \"\(k)\" required by \(n)"
        case .noSendAPI(let n): return "\(n) has no known send API: send leads by the network's own API documentation from your manager"
        case .build(let m): return "cannot build the request: \(m)"
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
    public private(set) var outcome: SendOutcome?
    /// Requests built so far (for dry runs and logs).
    public private(set) var built: [BuiltRequest] = []
    let redactedContext: TemplateContext

    public var stepCount: Int { send.steps.count + 1 }

    public init(spec: NetworkSpec, lead: Lead, account: AccountValues, now: Int64) throws(SendPreparationError) {
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
            if v.isEmpty && p.required { throw .invalidLead(field: "params.\(p.key)", message: "is required by \(spec.id): \(p.description.text(.en))") }
            if !v.isEmpty, let pattern = p.pattern, !pattern.matchesWhole(v) {
                throw .invalidLead(field: "params.\(p.key)", message: "does not match \(pattern)")
            }
        }
        var ctx = TemplateContext(values: lead.templateValues())
        ctx.add("params", params)
        ctx["account.name"] = .text(account.name)
        ctx["now"] = .time(now)
        var redacted = ctx
        let secrets = Set(spec.secretCredentialKeys)
        for (k, v) in account.credentials {
            ctx["credentials.\(k)"] = .text(v)
            redacted["credentials.\(k)"] = .text(secrets.contains(k) ? Redactor.mask : v)
        }
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
                throw .invalidLead(field: field, message: "is required by \(spec.id)")
            }
        }
        self.context = ctx
        self.redactedContext = redacted
    }

    /// The request of the current step, or nil when the plan has an outcome.
    public mutating func nextRequest() throws(SendPreparationError) -> BuiltRequest? {
        guard outcome == nil else { return nil }
        let (request, sign) = step < send.steps.count ? (send.steps[step].request, send.steps[step].sign) : (send.request, send.sign)
        do {
            let b = try RequestBuilder.build(request, sign: sign, context: context)
            built.append(b)
            return b
        } catch {
            throw .build(error.message)
        }
    }

    /// The current step's request with every secret credential shown as `***`; a signature
    /// keeps its real value (it is not a secret) while its input shows the mask.
    public func redactedRequest() throws(SendPreparationError) -> BuiltRequest {
        let (request, sign) = step < send.steps.count ? (send.steps[step].request, send.steps[step].sign) : (send.request, send.sign)
        var ctx = redactedContext
        for (k, v) in context.values where k.hasPrefix("steps.") { ctx[k] = v }
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
            throw .build(error.message)
        }
    }

    /// Feeds the response of the current step. A non-final step that fails ends the plan.
    public mutating func handle(_ response: HTTPResponseValue) {
        guard outcome == nil else { return }
        if step < send.steps.count {
            let s = send.steps[step]
            // The final request carries the lead: whatever a preparatory step answers, the network
            // does not have the lead yet.
            if !s.outcomes.isEmpty {
                var o = ResponseClassifier.classify(response, format: s.response, rules: s.outcomes)
                if o.kind == .failed { o.receipt = FailureClassification.receipt(.earlierStep) }
                if o.kind != .accepted { outcome = o; return }
            } else if !(200...299).contains(response.status) {
                outcome = ResponseClassifier.classify(response, format: s.response, rules: [])
                if outcome?.kind != .failed { outcome?.kind = .failed }
                outcome?.receipt = FailureClassification.receipt(.earlierStep)
                return
            }
            let json = ResponseBody.json(response.body, format: s.response == .text ? .jsonLenient : s.response)
            for (name, rule) in s.extract {
                var value: String?
                switch rule.source {
                case .body: value = response.bodyText
                case .json(let path): value = json?.value(atPath: path)?.scalarText
                case .header(let h): value = response.header(h)
                }
                if rule.trim { value = value?.trimmingWhitespace }
                guard let v = value, !v.isEmpty else {
                    outcome = SendOutcome(kind: .failed, message: "step \(s.id): no \(name) in the response: " + ResponseBody.excerpt(response.body),
                                          httpStatus: response.status, receipt: FailureClassification.receipt(.earlierStep))
                    return
                }
                context["steps.\(s.id).\(name)"] = .text(v)
            }
            step += 1
            return
        }
        outcome = ResponseClassifier.classify(response, format: send.response, rules: send.outcomes)
        step += 1
    }

    /// A failure below HTTP (or a request that could not be built) ends the plan; `cause`
    /// says whether the request can have reached the network. Before the final request
    /// (which carries the lead) nothing can have.
    public mutating func fail(_ message: String, cause: FailureCause) {
        guard outcome == nil else { return }
        let receipt = step < send.steps.count ? FailureClassification.receipt(.earlierStep) : FailureClassification.receipt(cause)
        outcome = SendOutcome(kind: .failed, message: message, receipt: receipt)
    }
}

/// Replaces secret values in anything printed or logged: the raw value and the encoded
/// forms it takes in URLs, forms and JSON.
public struct Redactor: Sendable {
    public static let mask = "***"
    var needles: [String]

    public init(secrets: [String]) {
        needles = Set(secrets.filter { $0.count >= 4 }.flatMap(Self.encodedForms)).sorted { $0.count > $1.count }
    }

    /// How a secret can appear in a request or a log: raw, form- or URL-encoded, JSON-escaped.
    public static func encodedForms(_ s: String) -> [String] {
        [s, PercentEncoding.php(s), PercentEncoding.rfc3986(s), String(JSONWriter.quote(s).dropFirst().dropLast()),
         String(JSONWriter.quote(s, escaping: .php).dropFirst().dropLast())]
    }

    public func redact(_ text: String) -> String {
        var t = text
        for n in needles where t.contains(n) { t = t.replacingAll(n, with: Self.mask) }
        return t
    }
}
