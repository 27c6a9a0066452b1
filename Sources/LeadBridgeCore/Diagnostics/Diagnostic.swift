/// One finding about an input file (a spec, a lead, a config), printed like a compiler:
/// `Networks/kma.json:12:5: error: /postbacks/items/0/tail: … [code]`.
public struct Diagnostic: Sendable, Hashable, CustomStringConvertible {
    public enum Severity: String, Sendable, Hashable { case error, warning }

    public var severity: Severity
    public var file: String
    public var position: SourcePosition?
    /// JSON pointer of the offending value; empty for the whole file.
    public var pointer: String
    /// What is wrong, as a value: worded by the edges in the user's language.
    public var message: DiagnosticMessage

    public init(_ severity: Severity = .error, file: String, position: SourcePosition? = nil, pointer: String = "",
                _ message: DiagnosticMessage) {
        self.severity = severity
        self.file = file
        self.position = position
        self.pointer = pointer
        self.message = message
    }

    /// Stable category (`unknown-key`, `status-conflict`, …) that tests and tools match on.
    public var code: String { message.code }
    /// The message's stable English sentence (`--json`, stored reports).
    public var english: String { message.english }

    public var isError: Bool { severity == .error }

    /// The compiler-style line in English.
    public var description: String { line(message.english) }

    /// The compiler-style line around `text` (the message in some language): the location, the
    /// `error:` / `warning:` word and the code stay as they are in every language.
    public func line(_ text: String) -> String {
        var s = file
        if let position { s += ":\(position.line):\(position.column)" }
        s += ": \(severity.rawValue): "
        if !pointer.isEmpty { s += "\(pointer): " }
        s += text
        s += " [\(code)]"
        return s
    }
}

/// Where each JSON pointer of a (possibly merged) spec came from: file and position.
public struct SourceMap: Sendable {
    public struct Origin: Sendable, Hashable {
        public var file: String
        public var position: SourcePosition?
    }

    public var defaultFile: String
    var entries: [String: Origin]

    public init(file: String, positions: [String: SourcePosition] = [:]) {
        defaultFile = file
        entries = positions.mapValues { Origin(file: file, position: $0) }
    }

    /// The origin of `pointer`, or of its nearest ancestor that has one.
    public func origin(of pointer: String) -> Origin {
        var p = pointer
        while true {
            if let o = entries[p] { return o }
            guard let slash = p.lastIndex(of: "/") else { break }
            p = String(p[p.startIndex..<slash])
        }
        return entries[""] ?? Origin(file: defaultFile, position: nil)
    }

    /// The position of a key (better than its value's for "unknown key" errors).
    public func keyOrigin(of pointer: String) -> Origin {
        entries[pointer + "#key"] ?? origin(of: pointer)
    }

    /// Lays `top` over `self`: wherever `top` has entries, its subtree replaces ours.
    public func overlaid(with top: SourceMap, replacedSubtrees: [String]) -> SourceMap {
        var result = self
        for root in replacedSubtrees {
            result.entries = result.entries.filter { key, _ in !(key == root || key.hasPrefix(root + "/") || key.hasPrefix(root + "#")) }
        }
        for (k, v) in top.entries { result.entries[k] = v }
        result.defaultFile = top.defaultFile
        return result
    }

    public func diagnostic(_ severity: Diagnostic.Severity = .error, at pointer: String, key: Bool = false,
                           _ message: DiagnosticMessage) -> Diagnostic {
        let o = key ? keyOrigin(of: pointer) : origin(of: pointer)
        return Diagnostic(severity, file: o.file, position: o.position, pointer: pointer, message)
    }
}
