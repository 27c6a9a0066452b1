/// How a traffic source's leads read (a source spec's `intake` block): the source's own field
/// names, what a lead it posts must carry, and the formats its ids have. The source's words
/// live in its spec (LeadCraft's `lid`, `clickID`), never in Swift.
public struct SourceIntakeSpec: Sendable, Hashable {
    /// The source's field names → lead fields (`lid` → `source_id`), for `POST /leads`.
    public var fields: [String: String]
    /// Lead fields a lead the source posts to `/leads` must carry (LeadCraft's `source_id`:
    /// the sale id its lead-traffic postbacks need back).
    public var required: [String]
    /// Lead fields whose values have a format wherever a lead names this source (`POST /leads`,
    /// `send --source`): LeadCraft's click id and campaign id are UUIDs, the webmaster id digits.
    public var formats: [String: FieldFormat]

    public init(fields: [String: String] = [:], required: [String] = [], formats: [String: FieldFormat] = [:]) {
        self.fields = fields
        self.required = required
        self.formats = formats
    }

    /// The format problems of a lead from this source, each naming its field.
    public func formatErrors(_ lead: Lead) -> [LeadError] {
        formats.keys.sorted().compactMap { field in
            guard let format = formats[field], let value = lead.fields[field] ?? lead.extra[field], !value.isEmpty, !format.accepts(value) else { return nil }
            return LeadError(field: field, .format(format, found: String(value.prefix(60))))
        }
    }
}

/// The formats a source's ids may be required to have.
public enum FieldFormat: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// `f092d155-e7f3-4f78-bcc1-196e775e1dcb` (8-4-4-4-12 hexadecimal digits, any case).
    case uuid
    /// Decimal digits only (a numeric id).
    case digits

    public func accepts(_ value: String) -> Bool {
        switch self {
        case .digits: return !value.isEmpty && value.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
        case .uuid:
            let bytes = Array(value.utf8)
            guard bytes.count == 36 else { return false }
            return bytes.enumerated().allSatisfy { i, b in
                [8, 13, 18, 23].contains(i) ? b == UInt8(ascii: "-") : (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x66) || (b >= 0x41 && b <= 0x46)
            }
        }
    }

    public var description: String {
        switch self {
        case .uuid: return "a UUID (f092d155-e7f3-4f78-bcc1-196e775e1dcb)"
        case .digits: return "a number (digits only)"
        }
    }
}

extension SpecReader {
    static func readIntake(_ o: ObjectReader) -> SourceIntakeSpec {
        o.finish(["fields", "required", "formats"])
        let known = Set(TemplateScope.leadFields)
        func leadField(_ name: String, at pointer: String, key: Bool = false) -> Bool {
            if known.contains(name) { return true }
            o.sink.error(pointer, key: key, .unknownLeadField(name, suggestion: Suggestions.best(name, among: TemplateScope.leadFields)))
            return false
        }
        var fields: [String: String] = [:]
        if let f = o.object("fields") {
            for m in f.object.members {
                guard let target = m.value.stringValue else { o.sink.error(f.path(m.key), .notALeadField); continue }
                if leadField(target, at: f.path(m.key)) { fields[m.key] = target }
            }
        }
        var required: [String] = []
        for (i, r) in o.strings("required").enumerated() where leadField(r, at: JSONPointer.join(o.path("required"), i)) { required.append(r) }
        var formats: [String: FieldFormat] = [:]
        if let f = o.object("formats") {
            for m in f.object.members where leadField(m.key, at: f.path(m.key), key: true) {
                if let format = f.enumValue(m.key, FieldFormat.self) { formats[m.key] = format }
            }
        }
        return SourceIntakeSpec(fields: fields, required: required, formats: formats)
    }
}
