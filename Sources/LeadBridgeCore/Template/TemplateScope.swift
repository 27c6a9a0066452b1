/// Which placeholders a template may use where it stands in a spec. Checked at load time:
/// `{lead.phnoe}` is an `unknown-placeholder` error with a suggestion, never a blank.
public struct TemplateScope: Sendable {
    public var roots: Set<String>
    public var credentialKeys: [String]
    public var paramKeys: [String]
    public var stepVariables: [String: [String]]

    public static let leadFields = [
        "id", "phone", "name", "country", "ip", "user_agent", "email", "address", "city", "zip", "comment",
        "referer", "landing", "price", "quantity", "tz", "click_id", "source_id", "first_name", "last_name",
        // A traffic source's webmaster (publisher) and the webmaster's campaign (LeadCraft
        // passes both with a referral click).
        "webmaster_id", "campaign_id",
    ]

    public init(roots: Set<String>, credentialKeys: [String], paramKeys: [String], stepVariables: [String: [String]] = [:]) {
        self.roots = roots
        self.credentialKeys = credentialKeys
        self.paramKeys = paramKeys
        self.stepVariables = stepVariables
    }

    /// Checks one placeholder; returns an error message or nil.
    public func check(_ p: Placeholder) -> TemplateError? {
        let root = p.root
        guard roots.contains(root) else {
            return TemplateError(.unknownPlaceholder(p.name, suggestion: Suggestions.best(root, among: roots.sorted(), quote: { "{\($0)…}" })))
        }
        let rest = Array(p.path.dropFirst())
        func unknown(_ candidates: [String], prefix: String) -> TemplateError {
            let word = rest.first ?? ""
            return TemplateError(.unknownPlaceholder(p.name, suggestion: Suggestions.best(word, among: candidates, quote: { "{\(prefix).\($0)}" })))
        }
        switch root {
        case "lead":
            guard let field = rest.first else { return unknown(Self.leadFields, prefix: "lead") }
            if field == "subs" || field == "extra" || field == "params" {
                return rest.count == 2 ? nil : TemplateError(.placeholderNeedsKey(field: field))
            }
            return rest.count == 1 && Self.leadFields.contains(field) ? nil : unknown(Self.leadFields + ["subs", "extra"], prefix: "lead")
        case "credentials":
            return rest.count == 1 && credentialKeys.contains(rest[0]) ? nil : unknown(credentialKeys, prefix: "credentials")
        case "params":
            return rest.count == 1 && paramKeys.contains(rest[0]) ? nil : unknown(paramKeys, prefix: "params")
        case "account":
            return rest == ["name"] ? nil : unknown(["name"], prefix: "account")
        case "steps":
            guard rest.count == 2, let vars = stepVariables[rest[0]] else {
                return TemplateError(.noStepExtracts(p.name, steps: stepVariables.keys.sorted()))
            }
            return vars.contains(rest[1]) ? nil : unknown(vars, prefix: "steps.\(rest[0])")
        case "request":
            return rest.count == 1 && ["body", "query"].contains(rest[0]) ? nil : unknown(["body", "query"], prefix: "request")
        default:
            return rest.isEmpty ? nil : TemplateError(.placeholderHasNoFields(root))
        }
    }

    public static func send(credentials: [String], params: [String], steps: [String: [String]] = [:], signing: Bool = false) -> TemplateScope {
        var roots: Set<String> = ["lead", "credentials", "params", "account", "now", "steps"]
        if signing { roots.insert("request") }
        return TemplateScope(roots: roots, credentialKeys: credentials, paramKeys: params, stepVariables: steps)
    }

    public static func poll(credentials: [String], params: [String], signing: Bool = false) -> TemplateScope {
        var roots: Set<String> = ["credentials", "params", "account", "now", "ids", "id", "page", "offset", "cursor", "since", "until"]
        if signing { roots.insert("request") }
        return TemplateScope(roots: roots, credentialKeys: credentials, paramKeys: params)
    }

    public static func outgoing(credentials: [String], params: [String]) -> TemplateScope {
        TemplateScope(roots: ["lead", "credentials", "params", "account", "now", "status", "price", "payout", "currency", "changed", "comment"],
                      credentialKeys: credentials, paramKeys: params)
    }
}
