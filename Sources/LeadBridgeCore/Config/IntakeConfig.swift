/// `intake` in `leadbridge.json`: who may POST leads to us, what a lead must carry, and which
/// account (network) each lead goes to.
public struct IntakeConfig: Sendable {
    /// Bearer token → the source it identifies (a key of `sources`, or just a label).
    public var tokens: [String: String]
    /// Lead fields that must be present (`name`, `country`, `params.offer`, `click_id`…).
    public var required: [String]
    /// Regular expression a phone must match (after removing spaces, dashes, brackets),
    /// compiled once; nil when the configured one is invalid (the config reports it).
    public var phonePattern: SpecPattern?
    /// Allowed countries (ISO-2); empty = any.
    public var countries: [String]
    /// First matching route wins.
    public var routes: [IntakeRoute]
    /// Regions and cities served, for the integration document.
    public var regions: [String]
    /// Addresses or networks (CIDR) that may post leads; empty = any (`docs intake` lists them).
    public var allow: [String] = []

    public static let defaultPhonePattern = "^\\+?[0-9]{10,15}$"

    public init(tokens: [String: String] = [:], required: [String] = [], phonePattern: SpecPattern? = SpecPattern(IntakeConfig.defaultPhonePattern), countries: [String] = [],
                routes: [IntakeRoute] = [], regions: [String] = [], allow: [String] = []) {
        self.tokens = tokens
        self.required = required
        self.phonePattern = phonePattern
        self.countries = countries
        self.routes = routes
        self.regions = regions
        self.allow = allow
    }
}

/// Route leads to an account by field values (`{"params.offer": "credit"}`); no `when` = default.
public struct IntakeRoute: Sendable, Hashable {
    public var when: [String: String]
    public var account: String
}

/// A submission read at intake: a lead, or every field problem.
public enum IntakeOutcome: Sendable {
    case lead(Lead)
    case rejected([IntakeFieldError])
}

/// A lead field problem at intake, named for the sender.
public struct IntakeFieldError: Sendable, Hashable {
    public var field: String
    public var message: String
    public init(field: String, message: String) { self.field = field; self.message = message }
}

/// Reads lead submissions (JSON or form) from traffic sources, validates them by the config's
/// rules and picks the account: pure, so every rule is tested without sockets.
public enum IntakeReader {
    /// Turns a submission into a lead with our new id; every problem names its field. `source`
    /// is the posting source's spec block (its field names, required fields, id formats).
    public static func lead(from pairs: [(String, String)], newId: String, rules: IntakeConfig, source: SourceIntakeSpec? = nil) -> IntakeOutcome {
        var fields: [String: String] = [:]
        var params: [String: String] = [:], subs: [String: String] = [:], extra: [String: String] = [:]
        var errors: [IntakeFieldError] = []
        let aliases = source?.fields ?? [:]
        for (rawKey, value) in pairs {
            let key = aliases[rawKey] ?? rawKey
            if let inner = bracketKey(key, "params") { params[inner] = value; continue }
            if let inner = bracketKey(key, "subs") { subs[inner] = value; continue }
            if let inner = bracketKey(key, "extra") { extra[inner] = value; continue }
            if key.hasPrefix("sub"), Int(key.dropFirst(3)) != nil { subs[key] = value; continue }
            if key.hasPrefix("utm_") { subs[key] = value; continue }
            if key == "id" || key == "token" || key == "source" { continue }  // our id is ours to give; the source is the token's
            if TemplateScope.leadFields.contains(key) { fields[key] = value.trimmingWhitespace } else { extra[key] = value }
        }
        var phone = fields.removeValue(forKey: "phone") ?? ""
        phone = String(phone.filter { !" -()\t.".contains($0) })
        if phone.isEmpty {
            errors.append(IntakeFieldError(field: "phone", message: "is required"))
        } else if rules.phonePattern?.matchesWhole(phone) != true {
            errors.append(IntakeFieldError(field: "phone", message: "is not a valid phone number (\(rules.phonePattern?.source ?? "?"))"))
        }
        if let c = fields["country"], !c.isEmpty {
            fields["country"] = c.uppercased()
            if !rules.countries.isEmpty && !rules.countries.contains(c.uppercased()) {
                errors.append(IntakeFieldError(field: "country", message: "\(c) is not served; served: \(rules.countries.joined(separator: ", "))"))
            }
        } else if !rules.countries.isEmpty {
            // Countries are restricted: a lead must say where it is from.
            errors.append(IntakeFieldError(field: "country", message: "is required (served: \(rules.countries.joined(separator: ", ")))"))
        }
        for r in requiredFields(rules, source: source) where r != "phone" && !(r == "country" && errors.contains { $0.field == "country" }) {
            let value: String?
            if let inner = r.split(separator: ".", maxSplits: 1).last, r.hasPrefix("params.") { value = params[String(inner)] } else if r.hasPrefix("subs."), let inner = r.split(separator: ".", maxSplits: 1).last {
                value = subs[String(inner)]
            } else { value = fields[r] ?? extra[r] }
            if (value ?? "").trimmingWhitespace.isEmpty { errors.append(IntakeFieldError(field: r, message: "is required")) }
        }
        let leadErrors = LeadReader.validate(id: newId, phone: phone.isEmpty ? "0000000" : phone, fields: fields)
        for e in leadErrors where !errors.contains(where: { $0.field == e.field }) { errors.append(IntakeFieldError(field: e.field, message: e.message)) }
        let lead = Lead(id: newId, phone: phone, fields: fields, params: params, subs: subs, extra: extra)
        for e in source?.formatErrors(lead) ?? [] where !errors.contains(where: { $0.field == e.field }) { errors.append(IntakeFieldError(field: e.field, message: e.message)) }
        if !errors.isEmpty { return .rejected(errors) }
        return .lead(lead)
    }

    /// What a posted lead must carry: a phone, the configuration's `required`, and the posting
    /// source's own required fields (LeadCraft's `source_id`), in that order, each once.
    public static func requiredFields(_ rules: IntakeConfig?, source: SourceIntakeSpec?) -> [String] {
        var out = ["phone"]
        for r in (rules?.required ?? []) + (source?.required ?? []) where !out.contains(r) { out.append(r) }
        return out
    }

    static func bracketKey(_ key: String, _ group: String) -> String? {
        if key.hasPrefix(group + "["), key.hasSuffix("]") { return String(key.dropFirst(group.count + 1).dropLast()) }
        if key.hasPrefix(group + ".") { return String(key.dropFirst(group.count + 1)) }
        return nil
    }

    /// A JSON submission flattened to pairs (`params` / `subs` / `extra` objects become
    /// `params[x]` keys).
    public static func pairs(json: JSONValue) -> [(String, String)]? {
        guard case .object(let o) = json else { return nil }
        var out: [(String, String)] = []
        for m in o.members {
            if case .object(let inner) = m.value {
                for im in inner.members { if let t = im.value.scalarText { out.append(("\(m.key)[\(im.key)]", t)) } }
            } else if let t = m.value.scalarText {
                out.append((m.key, t))
            }
        }
        return out
    }

    /// The account a lead goes to, by the first matching route.
    public static func route(_ lead: Lead, routes: [IntakeRoute]) -> String? {
        let values = lead.templateValues()
        for r in routes {
            let ok = r.when.allSatisfy { key, expected in
                let name = key.hasPrefix("lead.") || key.hasPrefix("params.") ? key : "lead." + key
                let lookup = name.hasPrefix("params.") ? "lead.params." + name.dropFirst("params.".count) : name
                if case .text(let v)? = values[lookup] { return v == expected }
                return false
            }
            if ok { return r.account }
        }
        return nil
    }
}
