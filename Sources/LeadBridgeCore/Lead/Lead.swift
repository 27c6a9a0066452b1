/// An order to hand to a network: our id, the customer's phone and whatever else the
/// landing collected. Read from a lead file, `POST /leads`, or built by a library user.
public struct Lead: Sendable, Hashable {
    /// Our order id (`oid` in postbacks); unique per network.
    public var id: String
    /// Empty when the lead has none (a network whose spec does not require one, e.g. email-only).
    public var phone: String
    /// Optional fields by their template names (`name`, `country`, `user_agent`, …).
    public var fields: [String: String]
    /// The network's used parameters for this lead (over the account's defaults).
    public var params: [String: String]
    public var subs: [String: String]
    public var extra: [String: String]
    /// The traffic source the order came from (a key of `sources` in `leadbridge.json`, e.g.
    /// `leadcraft`): it hears of the lead's statuses through outgoing postbacks.
    public var source: String?

    public init(id: String, phone: String, fields: [String: String] = [:], params: [String: String] = [:],
                subs: [String: String] = [:], extra: [String: String] = [:], source: String? = nil) {
        self.id = id
        self.phone = phone
        self.fields = fields
        self.params = params
        self.subs = subs
        self.extra = extra
        self.source = source
    }

    public var name: String? { fields["name"] }
    public var country: String? { fields["country"] }

    /// Values for templates: `lead.*` (a field missing at top level is looked up in `extra`).
    public func templateValues() -> [String: ContextValue] {
        var v: [String: ContextValue] = ["lead.id": .text(id)]
        v.reserveCapacity(fields.count + subs.count + 2 * extra.count + params.count + 4)
        if !phone.isEmpty { v["lead.phone"] = .text(phone) }
        for (field, key) in Self.fieldKeys {
            if let value = fields[field] ?? extra[field] { v[key] = .text(value) }
        }
        if v["lead.first_name"] == nil || v["lead.last_name"] == nil, let name = fields["name"] {
            let parts = name.split(separator: " ", maxSplits: 1).map(String.init)
            if v["lead.first_name"] == nil, let first = parts.first { v["lead.first_name"] = .text(first) }
            if v["lead.last_name"] == nil, parts.count > 1 { v["lead.last_name"] = .text(parts[1]) }
        }
        for (k, s) in subs { v["lead.subs.\(k)"] = .text(s) }
        for (k, s) in extra { v["lead.extra.\(k)"] = .text(s) }
        for (k, s) in params { v["lead.params.\(k)"] = .text(s) }
        return v
    }

    /// Every `lead.*` field but id and phone, with its template name (built once, not per lead).
    static let fieldKeys = TemplateScope.leadFields.filter { $0 != "id" && $0 != "phone" }.map { ($0, "lead.\($0)") }

    /// The lead as a lead file (stable key order).
    public var json: JSONValue {
        var o = JSONObject()
        o["id"] = .string(id)
        if !phone.isEmpty { o["phone"] = .string(phone) }
        for key in TemplateScope.leadFields where key != "id" && key != "phone" {
            if let v = fields[key] { o[key] = .string(v) }
        }
        func sorted(_ d: [String: String]) -> JSONValue {
            .object(JSONObject(d.keys.sorted().map { JSONMember(key: $0, value: .string(d[$0] ?? "")) }))
        }
        if let source { o["source"] = .string(source) }
        if !params.isEmpty { o["params"] = sorted(params) }
        if !subs.isEmpty { o["subs"] = sorted(subs) }
        if !extra.isEmpty { o["extra"] = sorted(extra) }
        return .object(o)
    }
}

/// What is wrong with one field of a lead: a value, so each language words it its own way.
public enum LeadProblem: Sendable, Hashable {
    case idRequired
    case tooLong(limit: Int)
    case spacesOrControl
    case phoneCharacters
    case phoneDigits(found: Int)
    case country(found: String)
    case ipAddress
    case unknownField(suggestion: String?)
    case notAString(found: String)
    case notAnObject(found: String)
    /// `source` names no traffic source (empty or too long).
    case sourceName(limit: Int)
    /// An id a source's spec gives a format (LeadCraft's click id: a UUID) has another.
    case format(FieldFormat, found: String)
    /// A lead names a source but carries none of what its postbacks send back.
    case sourceHearsNothing(source: String, name: String, needs: [String])

    /// The English wording (intake replies, logs).
    public var english: String {
        switch self {
        case .idRequired: return "is required (our order id)"
        case .tooLong(let n): return "is longer than \(n) characters"
        case .spacesOrControl: return "must not contain spaces or control characters"
        case .phoneCharacters: return "may contain only digits, '+', spaces, '-', '(' and ')'"
        case .phoneDigits(let n): return "must have 6 to 15 digits, found \(n)"
        case .country(let c): return "must be a 2-letter ISO code such as RU, found \"\(c)\""
        case .ipAddress: return "is not an IPv4 or IPv6 address"
        case .unknownField(let s): return "unknown field" + (s.map { " (did you mean \"\($0)\"?)" } ?? "")
        case .notAString(let t): return "must be a string, found \(t)"
        case .notAnObject(let t): return "must be a JSON object, found \(t)"
        case .sourceName(let n): return "must be the name of a traffic source (1 to \(n) characters)"
        case .format(let f, let v): return "must be \(f.description), found \"\(v)\""
        case .sourceHearsNothing(let id, let name, let needs):
            return "a lead from \(id) needs what one of its postbacks sends back (\(needs.joined(separator: "; "))): \(name) would hear nothing of this one"
        }
    }
}

/// A problem with a lead, naming the field.
public struct LeadError: Error, Sendable, Hashable, CustomStringConvertible {
    public var field: String
    public var problem: LeadProblem
    public init(field: String, _ problem: LeadProblem) { self.field = field; self.problem = problem }
    /// The English wording of the problem.
    public var message: String { problem.english }
    public var description: String { "\(field): \(message)" }
}

/// Every problem of one lead, in one error value.
public struct LeadErrors: Error, Sendable, Hashable, CustomStringConvertible {
    public var errors: [LeadError]
    public init(errors: [LeadError]) { self.errors = errors }
    public var description: String { errors.map(\.description).joined(separator: "; ") }
}

/// Reads and validates lead files (`send --lead`, `POST /leads`, examples).
public enum LeadReader {
    public static let topLevelKeys = TemplateScope.leadFields + ["source", "params", "subs", "extra"]
    /// The same, for the check of every key of every lead read (a send pass reads each lead it
    /// sends): a hash instead of comparing with each of the 27 names.
    static let topLevelKeySet = Set(topLevelKeys)

    /// Every problem found, not just the first.
    public static func read(_ value: JSONValue) -> Result<Lead, LeadErrors> {
        guard case .object(let o) = value else {
            return .failure(LeadErrors(errors: [LeadError(field: "lead", .notAnObject(found: value.typeName))]))
        }
        var errors: [LeadError] = []
        var fields: [String: String] = [:]
        for m in o.members {
            guard topLevelKeySet.contains(m.key) else {
                errors.append(LeadError(field: m.key, .unknownField(suggestion: Suggestions.closest(to: m.key, among: topLevelKeys, limit: 1).first)))
                continue
            }
            if m.key == "params" || m.key == "subs" || m.key == "extra" { continue }
            switch m.value {
            case .string(let s): fields[m.key] = s
            case .number(let n): fields[m.key] = n
            case .null: break
            default: errors.append(LeadError(field: m.key, .notAString(found: m.value.typeName)))
            }
        }
        func map(_ key: String) -> [String: String] {
            guard let v = o[key], !v.isNull else { return [:] }
            guard case .object(let inner) = v else {
                errors.append(LeadError(field: key, .notAnObject(found: v.typeName)))
                return [:]
            }
            var out: [String: String] = [:]
            for m in inner.members {
                // No more characters than bytes: only a long value's characters are counted.
                if let text = m.value.stringValue, text.utf8.count > InputLimits.leadField && text.count > InputLimits.leadField {
                    errors.append(LeadError(field: "\(key).\(m.key)", .tooLong(limit: InputLimits.leadField)))
                    continue
                }
                switch m.value {
                case .string(let s): out[m.key] = s
                case .number(let n): out[m.key] = n
                case .bool(let b): out[m.key] = b ? "1" : "0"
                case .null: break
                default: errors.append(LeadError(field: "\(key).\(m.key)", .notAString(found: m.value.typeName)))
                }
            }
            return out
        }
        let params = map("params"), subs = map("subs"), extra = map("extra")
        let id = fields.removeValue(forKey: "id") ?? ""
        let phone = fields.removeValue(forKey: "phone") ?? ""
        let source = fields.removeValue(forKey: "source")
        if let source, source.isEmpty || source.count > InputLimits.id {
            errors.append(LeadError(field: "source", .sourceName(limit: InputLimits.id)))
        }
        errors += validate(id: id, phone: phone, fields: fields)
        if !errors.isEmpty { return .failure(LeadErrors(errors: errors)) }
        return .success(Lead(id: id, phone: phone, fields: fields, params: params, subs: subs, extra: extra, source: source))
    }

    /// Rules every lead obeys whatever the network: a usable id, a plausible phone when it has
    /// one, sane fields. What a network needs besides is its spec's (`SendSpec.leadRequirements`).
    public static func validate(id: String, phone: String, fields: [String: String]) -> [LeadError] {
        var errors: [LeadError] = []
        if id.isEmpty {
            errors.append(LeadError(field: "id", .idRequired))
        } else if id.utf8.count > InputLimits.id && id.count > InputLimits.id {
            errors.append(LeadError(field: "id", .tooLong(limit: InputLimits.id)))
        } else if id.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F || $0 == " " }) {
            errors.append(LeadError(field: "id", .spacesOrControl))
        }
        if !phone.isEmpty {
            // Byte by byte: every allowed character is one ASCII byte, so any other byte (a
            // multi-byte character, a combining mark) is a character that is not allowed.
            var digits = 0, onlyAllowed = true
            for b in phone.utf8 {
                switch b {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digits += 1
                case UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: " "), UInt8(ascii: "."): continue
                default: onlyAllowed = false
                }
            }
            if !onlyAllowed {
                errors.append(LeadError(field: "phone", .phoneCharacters))
            } else if digits < 6 || digits > 15 {
                errors.append(LeadError(field: "phone", .phoneDigits(found: digits)))
            }
        }
        if let c = fields["country"], !(c.count == 2 && c.allSatisfy { $0.isASCII && $0.isLetter }) {
            errors.append(LeadError(field: "country", .country(found: String(c.prefix(20)))))
        }
        if let ip = fields["ip"], !IPAddress.isValid(ip) {
            errors.append(LeadError(field: "ip", .ipAddress))
        }
        // No more characters than bytes: only a long value's characters are counted.
        for (k, v) in fields where v.utf8.count > InputLimits.leadField && v.count > InputLimits.leadField {
            errors.append(LeadError(field: k, .tooLong(limit: InputLimits.leadField)))
        }
        return errors
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}

/// Address syntax checks (no resolution).
public enum IPAddress {
    public static func isValid(_ s: String) -> Bool { isIPv4(s) || isIPv6(s) }

    /// Four dot-separated decimal parts of one to three digits, each at most 255, none with a
    /// leading zero. Byte by byte: every allowed character is one ASCII byte, so any other byte
    /// (a multi-byte character, a combining mark on a digit or a dot) makes it invalid, as it
    /// made the character-by-character check (which cost about 16,000 instructions a lead: every
    /// lead with an `ip` is checked when it is read back to be sent).
    public static func isIPv4(_ s: String) -> Bool {
        var parts = 0, digits = 0, value = 0, leadingZero = false
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                if digits == 1 && leadingZero { return false }
                if digits == 0 { leadingZero = b == UInt8(ascii: "0") }
                digits += 1
                value = value * 10 + Int(b - UInt8(ascii: "0"))
                if digits > 3 || value > 255 { return false }
            case UInt8(ascii: "."):
                guard digits > 0, parts < 3 else { return false }
                parts += 1
                digits = 0
                value = 0
            default:
                return false
            }
        }
        return parts == 3 && digits > 0
    }

    static let ipv6Characters = Set("0123456789abcdefABCDEF:.")

    public static func isIPv6(_ s: String) -> Bool {
        guard s.contains(":"), s.count <= 45 else { return false }
        guard s.allSatisfy({ ipv6Characters.contains($0) }) else { return false }
        let doubleColons = s.components(separatedBy: "::").count - 1
        guard doubleColons <= 1 else { return false }
        let groups = s.split(separator: ":", omittingEmptySubsequences: true)
        if let last = groups.last, last.contains(".") { return isIPv4(String(last)) && groups.count <= 7 }
        return groups.allSatisfy { $0.count <= 4 } && (doubleColons == 1 ? groups.count < 8 : groups.count == 8)
    }
}

extension String {
    func components(separatedBy separator: String) -> [String] {
        var out: [String] = []
        var rest = self[...]
        while let r = rest.firstRange(of: separator) {
            out.append(String(rest[rest.startIndex..<r.lowerBound]))
            rest = rest[r.upperBound...]
        }
        out.append(String(rest))
        return out
    }
}
