import LeadBridgeCrypto

/// A value a placeholder stands for.
public enum ContextValue: Sendable, Hashable {
    case text(String)
    case list([String])
    /// A moment as Unix seconds (`{now}`, `{changed}`): filters turn it into text.
    case time(Int64)
}

/// Everything templates may read while building one request: plain values, no I/O.
public struct TemplateContext: Sendable {
    public var values: [String: ContextValue]

    public init(values: [String: ContextValue] = [:]) { self.values = values }

    public subscript(name: String) -> ContextValue? {
        get { values[name] }
        set { values[name] = newValue }
    }

    /// Adds `prefix.key` entries for every pair.
    public mutating func add(_ prefix: String, _ pairs: [String: String]) {
        for (k, v) in pairs { values["\(prefix).\(k)"] = .text(v) }
    }

    /// The context of a request made for an account — a send, a status poll, an outgoing
    /// postback, the emulator's check of one: the lead's fields when there is a lead, the
    /// account's credentials, params and name, and the time. The one place these names are
    /// bound; each scope adds its own (`steps.…`, `since`, `status`…).
    public static func request(account: AccountValues, lead: Lead? = nil, now: Int64? = nil) -> TemplateContext {
        var ctx = TemplateContext(values: lead?.templateValues() ?? [:])
        for (k, v) in account.credentials { ctx["credentials.\(k)"] = .text(v) }
        ctx.add("params", account.params)
        ctx["account.name"] = .text(account.name)
        if let now { ctx["now"] = .time(now) }
        return ctx
    }
}

/// The result of rendering a template.
public enum RenderedValue: Sendable, Hashable {
    /// A placeholder had no value and no `default:`: the field is left out.
    case missing(String)
    case text(String)
    case list([String])
    /// A typed JSON value (`|int`, `|number`, `|bool`) for JSON bodies.
    case json(JSONValue)

    public var text: String? {
        switch self {
        case .text(let t): return t
        case .json(let j): return j.scalarText
        case .list(let l): return l.joined(separator: ",")
        case .missing: return nil
        }
    }
}

/// Evaluates templates against a context. Pure: the clock is a context value.
public enum TemplateRenderer {
    public static func render(_ template: Template, in context: TemplateContext) throws(TemplateError) -> RenderedValue {
        if template.segments.isEmpty { return .text("") }
        if let p = template.single { return try evaluate(p, in: context) }
        var out = ""
        for segment in template.segments {
            switch segment {
            case .literal(let l): out += l
            case .placeholder(let p):
                switch try evaluate(p, in: context) {
                case .missing(let name): return .missing(name)
                case .text(let t): out += t
                case .list(let l): out += l.joined(separator: ",")
                case .json(let j): out += j.scalarText ?? ""
                }
            }
        }
        return .text(out)
    }

    /// Renders to text; a missing value becomes nil.
    public static func text(_ template: Template, in context: TemplateContext) throws(TemplateError) -> String? {
        try render(template, in: context).text
    }

    static func evaluate(_ p: Placeholder, in context: TemplateContext) throws(TemplateError) -> RenderedValue {
        var value: RenderedValue
        var time: Int64?
        switch context.values[p.name] {
        case .text(let t)?:
            // A plain value without filters, the usual field: as it is.
            if p.filters.isEmpty { return .text(t) }
            value = .text(t)
        case .list(let l)?: value = .list(l)
        case .time(let t)?: value = .json(.number(String(t))); time = t
        case nil: value = .missing(p.name)
        }
        // `daysBefore` moves the moment itself, whatever filters format it afterwards.
        if let t = time {
            time = p.filters.reduce(t) { $1.name == .daysBefore ? $0 - Int64(Int($1.argument ?? "") ?? 0) * 86_400 : $0 }
        }
        var isTime = time != nil
        if isTime, !p.filters.contains(where: { [.unix, .unixms, .date].contains($0.name) }) {
            value = .text(ISODate.format(time ?? 0))
            isTime = false
        }
        for f in p.filters {
            value = try apply(f, to: value, time: isTime ? time : nil, placeholder: p)
            if case .text = value { isTime = false }
        }
        return value
    }

    static func mapText(_ v: RenderedValue, _ transform: (String) -> String) -> RenderedValue {
        switch v {
        case .text(let t): return .text(transform(t))
        case .list(let l): return .list(l.map(transform))
        case .json(let j): return j.scalarText.map { .text(transform($0)) } ?? v
        case .missing: return v
        }
    }

    static func apply(_ f: TemplateFilter, to v: RenderedValue, time: Int64?, placeholder: Placeholder) throws(TemplateError) -> RenderedValue {
        switch f.name {
        case .digits: return mapText(v) { String($0.unicodeScalars.filter { $0.value >= 0x30 && $0.value <= 0x39 }.map(Character.init)) }
        case .e164:
            return mapText(v) { s in
                let digits = String(s.unicodeScalars.filter { $0.value >= 0x30 && $0.value <= 0x39 }.map(Character.init))
                return digits.isEmpty ? "" : "+" + digits
            }
        case .lower: return mapText(v) { $0.lowercased() }
        case .upper: return mapText(v) { $0.uppercased() }
        case .trim: return mapText(v) { $0.trimmingWhitespace }
        case .first:
            let n = Int(f.argument ?? "") ?? 0
            return mapText(v) { String($0.prefix(n)) }
        case .default:
            if case .missing = v { return .text(f.argument ?? "") }
            if case .text(let t) = v, t.isEmpty { return .text(f.argument ?? "") }
            return v
        case .join:
            if case .list(let l) = v { return .text(l.joined(separator: f.argument ?? ",")) }
            return v
        case .raw:
            return v  // only the URL's encoding reads it (RequestBuilder.renderURL)
        case .daysBefore:
            return v  // applied to the moment before any filter (evaluate)
        case .json:
            switch v {
            case .missing: return v
            case .json(let j): return .text(JSONWriter.compact(j))
            case .list(let l): return .text(JSONWriter.compact(.array(l.map(JSONValue.string))))
            case .text(let t): return .text(JSONWriter.quote(t))
            }
        case .int:
            guard let t = v.text else { return v }
            if let i = Int(t.trimmingWhitespace) { return .json(.number(String(i))) }
            throw TemplateError(.notIntegerValue(placeholder: placeholder.name, text: String(t.prefix(40))))
        case .number:
            guard let t = v.text else { return v }
            let s = t.trimmingWhitespace
            if (try? JSONParser.parse(s))?.doubleValue != nil { return .json(.number(s)) }
            throw TemplateError(.notNumberValue(placeholder: placeholder.name, text: String(t.prefix(40))))
        case .bool:
            guard let t = v.text?.lowercased() else { return v }
            if ["1", "true", "yes", "on"].contains(t) { return .json(.bool(true)) }
            if ["0", "false", "no", "off", ""].contains(t) { return .json(.bool(false)) }
            throw TemplateError(.notBooleanValue(placeholder: placeholder.name, text: String(t.prefix(40))))
        case .base64:
            return mapText(v) { Base64.encode(Array($0.utf8)) }
        case .unix:
            if let time { return .text(String(time)) }
            return v
        case .unixms:
            if let time { return .text(String(time * 1000)) }
            return v
        case .date:
            if let time { return .text(ISODate.format(time, pattern: f.argument ?? "yyyy-MM-dd")) }
            return v
        }
    }
}

extension String {
    public var trimmingWhitespace: String {
        // Most values start and end with a visible ASCII character: nothing to trim, no copy.
        // (Such a byte ends no whitespace Character, and none begins with it.)
        if let f = utf8.first, let l = utf8.last, f > 0x20, f < 0x7F, l > 0x20, l < 0x7F { return self }
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}

/// UTC calendar formatting of Unix seconds without Foundation or a clock.
public enum ISODate {
    /// Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    static func civil(_ days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }

    /// Days since 1970-01-01 of a civil date.
    static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = month > 2 ? month - 3 : month + 9
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    /// `yyyy-MM-dd'T'HH:mm:ss'Z'` by default; the pattern understands yyyy MM dd HH mm ss.
    public static func format(_ seconds: Int64, pattern: String = "yyyy-MM-ddTHH:mm:ssZ") -> String {
        let days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400
        let rest = seconds - days * 86400
        let (y, m, d) = civil(days)
        func pad(_ v: Int64, _ n: Int) -> String { let s = String(v); return String(repeating: "0", count: max(0, n - s.count)) + s }
        var out = pattern
        out = out.replacingAll("yyyy", with: pad(y, 4))
        out = out.replacingAll("MM", with: pad(m, 2))
        out = out.replacingAll("dd", with: pad(d, 2))
        out = out.replacingAll("HH", with: pad(rest / 3600, 2))
        out = out.replacingAll("mm", with: pad(rest % 3600 / 60, 2))
        out = out.replacingAll("ss", with: pad(rest % 60, 2))
        return out
    }

    /// Parses `2026-01-02T03:04:05Z` (or with `+00:00`, or a bare date) into Unix seconds.
    public static func parse(_ text: String) -> Int64? {
        let s = Array(text.utf8)
        func num(_ from: Int, _ len: Int) -> Int64? {
            guard from + len <= s.count else { return nil }
            var v: Int64 = 0
            for b in s[from..<from + len] { guard b >= 0x30 && b <= 0x39 else { return nil }; v = v * 10 + Int64(b - 0x30) }
            return v
        }
        guard let y = num(0, 4), s.count >= 10, s[4] == 0x2D, let m = num(5, 2), s[7] == 0x2D, let d = num(8, 2),
              (1...12).contains(m), (1...31).contains(d) else { return nil }
        var t = days(year: y, month: m, day: d) * 86400
        if s.count == 10 { return t }
        guard s.count >= 19, s[10] == 0x54 || s[10] == 0x20, let hh = num(11, 2), let mm = num(14, 2), let ss = num(17, 2) else { return nil }
        t += hh * 3600 + mm * 60 + ss
        var i = 19
        if i < s.count, s[i] == 0x2E { i += 1; while i < s.count, s[i] >= 0x30, s[i] <= 0x39 { i += 1 } }
        if i == s.count || (s[i] == 0x5A && i + 1 == s.count) { return t }
        guard i + 6 == s.count, s[i] == 0x2B || s[i] == 0x2D, let oh = num(i + 1, 2), s[i + 3] == 0x3A, let om = num(i + 4, 2) else { return nil }
        let offset = oh * 3600 + om * 60
        return s[i] == 0x2B ? t - offset : t + offset
    }
}
