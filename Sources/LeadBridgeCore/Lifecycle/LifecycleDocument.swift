/// The lifecycle's tables as docs/lifecycle.md shows them: rendered from `LeadLifecycle`'s own
/// tables, so the document cannot drift from the code (a golden test compares them).
public enum LifecycleDocument {
    /// The document's generated sections by name: `diagram`, `transitions`, `status-rules`.
    public static var sections: [(name: String, text: String)] {
        [("diagram", diagram), ("transitions", transitions), ("status-rules", statusRules), ("failures", failures)]
    }

    static func states(_ list: [SendState]) -> String {
        if Set(list) == Set(SendState.allCases) { return "any" }
        let missing = SendState.allCases.filter { !list.contains($0) }
        if missing.count < list.count { return "any but " + missing.map(\.rawValue).joined(separator: ", ") }
        return list.map(\.rawValue).joined(separator: ", ")
    }

    static func cell(_ s: String) -> String { s.isEmpty ? " " : s.replacingAll("|", with: "\\|") }

    /// A row's note as its reason code (the `reasons` section words each one).
    static func note(_ n: LifecycleNoteTemplate?) -> String { n.map { "`\($0.code)`" } ?? "" }

    /// The transition table: the first row that matches the state, the event and its condition decides.
    public static var transitions: String {
        var lines = ["| # | from | event | when | to | does | note |", "|---|---|---|---|---|---|---|"]
        for (i, t) in LeadLifecycle.transitions.enumerated() {
            lines.append("| \(i + 1) | " + [states(t.from), t.on.rawValue, t.when.rawValue, t.to.text, t.actions.map(\.text).joined(separator: ", "), note(t.note)]
                .map(cell).joined(separator: " | ") + " |")
        }
        return lines.joined(separator: "\n")
    }

    /// The status rules: the first matching row decides.
    public static var statusRules: String {
        var lines = ["| # | current status | reported | when | decision | note |", "|---|---|---|---|---|---|"]
        for (i, r) in LeadLifecycle.statusRules.enumerated() {
            lines.append("| \(i + 1) | " + [r.from.rawValue, r.to.rawValue, r.when.rawValue, r.result.rawValue, note(r.note)].map(cell).joined(separator: " | ") + " |")
        }
        return lines.joined(separator: "\n")
    }

    /// The failure table: what a failed send may have done at the network.
    public static var failures: String {
        var lines = ["| failure | may have reached the network? | so the lead |", "|---|---|---|"]
        for (cause, receipt) in FailureClassification.table {
            let then = receipt == .notReceived ? "is retried (retry policy), parked after the last attempt"
                : "becomes `uncertain` (retried only where the spec declares `dedupe`)"
            lines.append("| " + [cause.rawValue, receipt == .notReceived ? "no (`not-received`)" : "maybe (`maybe-received`)", then].map(cell).joined(separator: " | ") + " |")
        }
        return lines.joined(separator: "\n")
    }

    /// A Mermaid state diagram of the moves between states. Rows that apply to every state are
    /// drawn from `sending` (where answers arrive); refusals and "(same)" rows are not drawn.
    public static var diagram: String {
        var edges: [String: [String]] = [:]
        var order: [String] = []
        for t in LeadLifecycle.transitions {
            guard case .state(let to) = t.to else { continue }
            let from = Set(t.from) == Set(SendState.allCases) ? [SendState.sending] : t.from
            for f in from where f != to {
                let key = "\(f.rawValue) --> \(to.rawValue)"
                if edges[key] == nil { order.append(key) }
                let label = t.when == .always ? t.on.rawValue : "\(t.on.rawValue) (\(t.when.rawValue))"
                if !(edges[key]?.contains(label) ?? false) { edges[key, default: []].append(label) }
            }
        }
        var lines = ["```mermaid", "stateDiagram-v2", "    [*] --> queued: intake"]
        for key in order { lines.append("    \(key): \((edges[key] ?? []).joined(separator: " / "))") }
        lines.append("```")
        return lines.joined(separator: "\n")
    }

    /// Replaces each generated section of a document (between `<!-- BEGIN name -->` and
    /// `<!-- END name -->`) with its current rendering; nil when a marker is missing.
    public static func update(_ document: String) -> String? { replace(sections, in: document) }

    /// Replaces these sections of a document (the CLI renders the worded ones); nil when a
    /// marker is missing.
    public static func replace(_ sections: [(name: String, text: String)], in document: String) -> String? {
        var text = document
        for (name, body) in sections {
            let begin = "<!-- BEGIN \(name) -->", end = "<!-- END \(name) -->"
            guard let b = text.firstRange(of: begin), let e = text.firstRange(of: end), b.upperBound <= e.lowerBound else { return nil }
            text.replaceSubrange(b.upperBound..<e.lowerBound, with: "\n" + body + "\n")
        }
        return text
    }
}
