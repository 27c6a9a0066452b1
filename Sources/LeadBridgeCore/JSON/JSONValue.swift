/// A JSON document that keeps object key order and number text exactly as written.
///
/// Foundation's JSON types lose key order (it is random on Linux) and positions; specs need
/// both: field order is the order of form fields a signature is computed over, and errors
/// must point at `file:line:col`.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    /// The number's literal text (`1`, `1.50`, `-3e2`): nothing is lost or reformatted.
    case number(String)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    public static func int(_ v: Int) -> JSONValue { .number(String(v)) }

    public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
    public var boolValue: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { return a } else { return nil } }
    public var objectValue: JSONObject? { if case .object(let o) = self { return o } else { return nil } }
    public var isNull: Bool { if case .null = self { return true } else { return false } }
    public var doubleValue: Double? { if case .number(let n) = self { return Double(n) } else { return nil } }
    public var intValue: Int? {
        guard case .number(let n) = self else { return nil }
        if let i = Int(n) { return i }
        if let d = Double(n), d.rounded() == d, abs(d) < 9.0e15 { return Int(d) }
        return nil
    }

    /// The value as text the way a person reads it: strings bare, numbers as written,
    /// booleans `true`/`false`, null as nil, containers as compact JSON.
    public var scalarText: String? {
        switch self {
        case .null: return nil
        case .bool(let b): return b ? "true" : "false"
        case .number(let n): return n
        case .string(let s): return s
        case .array, .object: return JSONWriter.compact(self)
        }
    }

    /// A short name of the JSON type for error messages.
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    public subscript(key: String) -> JSONValue? { objectValue?[key] }

    /// Follows a dot path (`data.0.id`); `$` or an empty path is the value itself.
    public func value(atPath path: String) -> JSONValue? {
        if path.isEmpty || path == "$" { return self }
        var current: JSONValue = self
        for part in path.split(separator: ".", omittingEmptySubsequences: false) {
            let key = String(part)
            switch current {
            case .object(let o):
                guard let next = o[key] else { return nil }
                current = next
            case .array(let a):
                guard let i = Int(key), i >= 0, i < a.count else { return nil }
                current = a[i]
            default:
                return nil
            }
        }
        return current
    }

    /// Numeric-aware equality used by outcome rules: `0` equals `"0"`? No — types must agree,
    /// but numbers compare by value (`1.0` equals `1`).
    public func looselyEquals(_ other: JSONValue) -> Bool {
        switch (self, other) {
        case (.number(let a), .number(let b)):
            if a == b { return true }
            guard let x = Double(a), let y = Double(b) else { return false }
            return x == y
        default:
            return self == other
        }
    }
}

/// An ordered JSON object. Lookup is linear, which is fastest for the small objects of specs
/// and API responses; duplicate keys are rejected by the parser.
public struct JSONObject: Sendable, Hashable {
    public var members: [JSONMember]

    public init(_ members: [JSONMember] = []) { self.members = members }
    public init(pairs: [(String, JSONValue)]) { self.members = pairs.map { JSONMember(key: $0.0, value: $0.1) } }

    public var keys: [String] { members.map(\.key) }
    public var isEmpty: Bool { members.isEmpty }
    public var count: Int { members.count }

    public subscript(key: String) -> JSONValue? {
        get { members.first(where: { $0.key == key })?.value }
        set {
            if let i = members.firstIndex(where: { $0.key == key }) {
                if let v = newValue { members[i].value = v } else { members.remove(at: i) }
            } else if let v = newValue {
                members.append(JSONMember(key: key, value: v))
            }
        }
    }
}

/// One key/value pair of a `JSONObject`.
public struct JSONMember: Sendable, Hashable {
    public var key: String
    public var value: JSONValue
    public init(key: String, value: JSONValue) { self.key = key; self.value = value }
}
