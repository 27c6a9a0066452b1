/// A value template of a spec: literal text with `{namespace.path|filter:arg}` placeholders.
///
/// Parsed once when the spec is loaded, so a typo is a lint error with its location, never a
/// blank in a live request. The language is deliberately small: no conditionals, no loops.
public struct Template: Sendable, Hashable, CustomStringConvertible {
    public enum Segment: Sendable, Hashable {
        case literal(String)
        case placeholder(Placeholder)
    }

    public var segments: [Segment]
    public var source: String

    public var description: String { source }

    public var placeholders: [Placeholder] {
        segments.compactMap { if case .placeholder(let p) = $0 { return p } else { return nil } }
    }

    /// True when the template is exactly one placeholder (its value may then be a list or a
    /// typed JSON value).
    public var isSinglePlaceholder: Bool { single != nil }

    /// The placeholder when the template is exactly one (no array built: every field of every
    /// request asks).
    public var single: Placeholder? {
        guard segments.count == 1, case .placeholder(let p) = segments[0] else { return nil }
        return p
    }

    public static func literal(_ text: String) -> Template {
        Template(segments: text.isEmpty ? [] : [.literal(text)], source: text.replacingAll("{", with: "{{").replacingAll("}", with: "}}"))
    }

    /// Parses `source`; errors carry a message only (the caller knows the location).
    public static func parse(_ source: String) throws(TemplateError) -> Template {
        var segments: [Segment] = []
        var literal = ""
        var chars = Array(source)
        var i = 0
        func flush() { if !literal.isEmpty { segments.append(.literal(literal)); literal = "" } }
        while i < chars.count {
            let c = chars[i]
            if c == "{" {
                if i + 1 < chars.count, chars[i + 1] == "{" { literal.append("{"); i += 2; continue }
                guard let close = chars[(i + 1)...].firstIndex(of: "}") else {
                    throw TemplateError(.unclosedBrace(source))
                }
                let body = String(chars[(i + 1)..<close])
                flush()
                segments.append(.placeholder(try Placeholder.parse(body)))
                i = close + 1
                continue
            }
            if c == "}" {
                if i + 1 < chars.count, chars[i + 1] == "}" { literal.append("}"); i += 2; continue }
                throw TemplateError(.strayBrace(source))
            }
            literal.append(c)
            i += 1
        }
        flush()
        chars.removeAll()
        return Template(segments: segments, source: source)
    }
}

/// A template syntax or scope error, without location (added by the spec reader).
public struct TemplateError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong, worded by the edges in the user's language.
    public var problem: DiagnosticMessage
    public init(_ problem: DiagnosticMessage) { self.problem = problem }
    public var code: String { problem.code }
    /// The stable English sentence (the engine's errors and stored reports).
    public var message: String { problem.english }
    public var description: String { message }
}

/// `{lead.phone|digits|default:0}`: a dotted path and its filters.
public struct Placeholder: Sendable, Hashable, CustomStringConvertible {
    public var path: [String]
    public var filters: [TemplateFilter]

    public var name: String { path.joined(separator: ".") }
    public var root: String { path.first ?? "" }
    public var description: String { "{" + ([name] + filters.map(\.description)).joined(separator: "|") + "}" }

    static func parse(_ body: String) throws(TemplateError) -> Placeholder {
        let parts = body.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        let name = parts[0].trimmingSpaces
        guard !name.isEmpty else { throw TemplateError(.emptyPlaceholder(body)) }
        let path = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        for p in path where p.isEmpty || !p.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) {
            throw TemplateError(.invalidPlaceholder(name))
        }
        var filters: [TemplateFilter] = []
        for raw in parts.dropFirst() {
            filters.append(try TemplateFilter.parse(raw))
        }
        return Placeholder(path: path, filters: filters)
    }
}

/// One pipe filter. The set is closed: new needs get a general filter, not network code.
public struct TemplateFilter: Sendable, Hashable, CustomStringConvertible {
    public enum Name: String, Sendable, CaseIterable {
        case digits, e164, lower, upper, trim, `default`, join, json, int, number, bool, base64, unix, unixms, date, first
        /// In a URL: keep the value's separators (`,;:@!$&'()*+=`) as they are instead of
        /// percent-encoding them (`/status/{ids|join:,|raw}` → `/status/7,8`). Characters that
        /// would change the URL's shape (`/ ? # %`, space, non-ASCII) are still encoded.
        case raw
        /// On a moment: that many days earlier (`{since|daysBefore:1|date:yyyy-MM-dd}` for an
        /// API whose start date is exclusive: "created after that date").
        case daysBefore

        var takesArgument: Bool {
            switch self {
            case .default, .join, .date, .first, .daysBefore: return true
            default: return false
            }
        }
        var argumentRequired: Bool { self == .date || self == .first || self == .daysBefore }
    }

    public var name: Name
    public var argument: String?

    public var description: String { argument.map { "\(name.rawValue):\($0)" } ?? name.rawValue }

    static func parse(_ raw: String) throws(TemplateError) -> TemplateFilter {
        let colon = raw.firstIndex(of: ":")
        let word = String(colon.map { raw[raw.startIndex..<$0] } ?? raw[...]).trimmingSpaces
        let argument = colon.map { String(raw[raw.index(after: $0)...]) }
        guard let name = Name(rawValue: word) else {
            throw TemplateError(.unknownFilter(word, suggestion: Suggestions.best(word, among: Name.allCases.map(\.rawValue), quote: { "'\($0)'" })))
        }
        if argument != nil && !name.takesArgument { throw TemplateError(.filterTakesNoArgument(word)) }
        if argument == nil && name.argumentRequired { throw TemplateError(.filterNeedsArgument(word)) }
        if name == .first, Int(argument ?? "") == nil { throw TemplateError(.firstNeedsNumber) }
        if name == .daysBefore, !(Int(argument ?? "").map { (0...366).contains($0) } ?? false) {
            throw TemplateError(.daysBeforeRange)
        }
        return TemplateFilter(name: name, argument: argument)
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " { s.removeFirst() }
        while let l = s.last, l == " " { s.removeLast() }
        return String(s)
    }
}
