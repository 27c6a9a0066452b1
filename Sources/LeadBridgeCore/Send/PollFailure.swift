/// Why a poll answer gave no statuses, as a value: the network's own message (an outcome rule
/// matched: data, shown as it came) or an answer the spec cannot read. The edges word it in
/// the user's language; `english` is the stable sentence (a spec example's `failure` is
/// matched against it).
public enum PollFailure: Sendable, Hashable {
    case said(String)
    case httpStatus(Int, excerpt: String)
    case notJSON(excerpt: String)
    case noItems(path: String, excerpt: String)
    /// `found` is the JSON type name (`JSONValue.typeName`).
    case notAList(path: String, found: String)

    public var english: String {
        switch self {
        case .said(let m): return m
        case .httpStatus(let s, let e): return "HTTP \(s): \(e)"
        case .notJSON(let e): return "not the expected JSON: \(e)"
        case .noItems(let p, let e): return "no \"\(p)\" in the response: \(e)"
        case .notAList(let p, let t): return "\"\(p)\" is \(t), not a list"
        }
    }
}
