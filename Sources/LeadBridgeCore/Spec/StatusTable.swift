/// The four normalized statuses every lead ends up in.
public enum Bucket: String, Sendable, Hashable, CaseIterable, Comparable {
    case pending, approved, cancelled, trash

    public var isFinal: Bool { self != .pending }

    public static func < (a: Bucket, b: Bucket) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// The lists a spec (or a postback URL) sorts raw words into. `waiting` and `hold` are both
/// `pending`; the name is kept as the status detail.
public enum StatusBucket: String, Sendable, Hashable, CaseIterable {
    case approved, cancelled, trash, waiting, hold

    public var bucket: Bucket {
        switch self {
        case .approved: return .approved
        case .cancelled: return .cancelled
        case .trash: return .trash
        case .waiting, .hold: return .pending
        }
    }

    /// Detail kept beside the pending bucket.
    public var detail: String? {
        switch self {
        case .waiting: return "waiting"
        case .hold: return "hold"
        default: return nil
        }
    }

    /// Order in which wildcard patterns are tried.
    static let patternOrder: [StatusBucket] = [.trash, .cancelled, .approved, .hold, .waiting]
}

/// Raw status words of one network sorted into buckets. Words match case-insensitively; a
/// word may be a `:`-joined compound of several response fields, with `*` for any segment.
public struct StatusTable: Sendable, Hashable {
    public private(set) var words: [StatusBucket: [String]]
    private var exact: [String: StatusBucket]
    private var patterns: [(bucket: StatusBucket, segments: [String])]

    public init(_ words: [StatusBucket: [String]] = [:]) {
        self.words = words
        var exact: [String: StatusBucket] = [:]
        var patterns: [(StatusBucket, [String])] = []
        for bucket in StatusBucket.patternOrder {
            for w in words[bucket] ?? [] {
                let lw = w.lowercased()
                if lw.split(separator: ":", omittingEmptySubsequences: false).contains("*") {
                    patterns.append((bucket, lw.split(separator: ":", omittingEmptySubsequences: false).map(String.init)))
                } else if exact[lw] == nil {
                    exact[lw] = bucket
                }
            }
        }
        self.exact = exact
        self.patterns = patterns
    }

    public var isEmpty: Bool { words.values.allSatisfy(\.isEmpty) }

    /// The bucket list a raw word belongs to, or nil when the table does not know it.
    public func lookup(_ raw: String) -> StatusBucket? {
        let w = raw.lowercased()
        if let b = exact[w] { return b }
        let segments = w.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        for p in patterns where p.segments.count == segments.count {
            if zip(p.segments, segments).allSatisfy({ $0 == "*" || $0 == $1 }) { return p.bucket }
        }
        return nil
    }

    /// Words listed in more than one bucket (a lint error).
    public var conflicts: [(word: String, buckets: [StatusBucket])] {
        var seen: [String: [StatusBucket]] = [:]
        for b in StatusBucket.allCases {
            for w in Set((words[b] ?? []).map { $0.lowercased() }) { seen[w, default: []].append(b) }
        }
        return seen.filter { $0.value.count > 1 }.map { ($0.key, $0.value) }.sorted { $0.word < $1.word }
    }

    public static func == (a: StatusTable, b: StatusTable) -> Bool { a.words == b.words }
    public func hash(into h: inout Hasher) { h.combine(words) }
}
