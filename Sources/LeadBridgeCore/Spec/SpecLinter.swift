/// Semantic rules beyond the shape of a spec: status words in two buckets, tails that the
/// receiver could not read, secrets in printed tails, macros nobody declared.
public enum SpecLinter {
    /// Parameters our receiver reads from a postback tail.
    public static let tailKeys = ["oid", "eid", "status", "sta", "stc", "stt", "stw", "sth", "pay", "cc", "comment", "reason"]
    /// Tail keys that carry lists of raw words, and the bucket each list means.
    public static let overrideKeys: [String: StatusBucket] = ["sta": .approved, "stc": .cancelled, "stt": .trash, "stw": .waiting, "sth": .hold]

    public static func lint(_ spec: NetworkSpec, defaults: StatusDefaults) -> [Diagnostic] {
        var out: [Diagnostic] = []
        let map = spec.sourceMap
        for (word, buckets) in spec.statuses.conflicts {
            out.append(map.diagnostic(at: "/statuses/\(buckets[1].rawValue)", .statusConflict(word: word, buckets: buckets.map(\.rawValue))))
        }
        if let pb = spec.postbacks {
            out += lintTails(pb, spec: spec, defaults: defaults)
        }
        out += lintOutcomePaths(spec)
        out += lintPollPaths(spec)
        out += lintSources(spec)
        return out
    }

    /// Every `send` and `poll` rests on evidence: at least one source that supports it.
    static func lintSources(_ spec: NetworkSpec) -> [Diagnostic] {
        var out: [Diagnostic] = []
        for (fact, present) in [(SourceSpec.Fact.send, spec.send != nil), (.poll, spec.poll != nil)] where present && spec.evidence(for: fact) == nil {
            out.append(spec.sourceMap.diagnostic(at: "/\(fact.rawValue)", .noSource(fact: fact.rawValue)))
        }
        // `dedupe` makes repeating a send that may have arrived safe: it needs its own evidence.
        if spec.dedupe != nil {
            if spec.send == nil {
                out.append(spec.sourceMap.diagnostic(at: "/dedupe", .dedupeNeedsSend))
            }
            let claim = SourceSpec.Claim(.send, part: "dedupe")
            if !spec.sources.contains(where: { $0.supports.contains(claim) }) {
                out.append(spec.sourceMap.diagnostic(at: "/dedupe", .noDedupeSource))
            }
        }
        return out
    }

    /// JSON paths of outcome rules checked against the example responses: a path whose parent
    /// appears in a response but the key does not is a typo (`data.idd`), an error with the
    /// closest key; a path seen in no response at all is a warning.
    static func lintOutcomePaths(_ spec: NetworkSpec) -> [Diagnostic] {
        var responses: [JSONValue] = []
        for e in spec.examples { for x in e.exchanges { if let j = ResponseBody.json(Array(x.response.body.utf8), format: .jsonLenient) { responses.append(j) } } }
        var pollResponses: [JSONValue] = []
        for e in spec.pollExamples { for x in e.exchanges { if let j = ResponseBody.json(Array(x.response.body.utf8), format: .jsonLenient) { pollResponses.append(j) } } }
        var out: [Diagnostic] = []
        func check(_ path: String, at pointer: String, in docs: [JSONValue]) {
            guard !docs.isEmpty, path != "$", !path.isEmpty else { return }
            if docs.contains(where: { $0.value(atPath: path) != nil }) { return }
            let parts = path.split(separator: ".").map(String.init)
            let parentPath = parts.dropLast().joined(separator: ".")
            let siblings = Set(docs.compactMap { $0.value(atPath: parentPath)?.objectValue?.keys }.flatMap { $0 })
            if let last = parts.last, let near = Suggestions.best(last, among: siblings.sorted(), quote: { "\"\(parentPath.isEmpty ? $0 : parentPath + "." + $0)\"" }) {
                out.append(spec.sourceMap.diagnostic(at: pointer, .outcomePathUnknown(path, suggestion: near)))
            } else {
                out.append(spec.sourceMap.diagnostic(.warning, at: pointer, .outcomePathUnseen(path)))
            }
        }
        func rules(_ rs: [OutcomeRule], at base: String, in docs: [JSONValue]) {
            for (i, r) in rs.enumerated() {
                let p = "\(base)/\(i)"
                if let e = r.externalId { check(e, at: p + "/externalId", in: docs) }
                if let m = r.message { check(m, at: p + "/message", in: docs) }
                for (j, c) in r.conditions.enumerated() {
                    if case .json(let path, let test) = c {
                        if case .exists(false) = test { continue }
                        check(path, at: r.conditions.count > 1 ? p + "/when/\(j)/json" : p + "/when/json", in: docs)
                    }
                }
            }
        }
        if let send = spec.send {
            rules(send.outcomes, at: "/send/outcomes", in: responses)
        }
        if let poll = spec.poll {
            check(poll.items, at: "/poll/items", in: pollResponses)
            rules(poll.outcomes, at: "/poll/outcomes", in: pollResponses)
        }
        return out
    }

    /// The paths a poll reads inside each item (id, status, payout, currency, comment)
    /// checked against the items of the poll examples' answers: a typo (`stauts`) is an error
    /// with the closest key, instead of surfacing later as "got unknown (raw )".
    static func lintPollPaths(_ spec: NetworkSpec) -> [Diagnostic] {
        guard let poll = spec.poll else { return [] }
        var items: [JSONValue] = []
        for e in spec.pollExamples where e.failure == nil {
            for x in e.exchanges {
                guard let doc = ResponseBody.json(Array(x.response.body.utf8), format: .jsonLenient), let list = doc.value(atPath: poll.items) else { continue }
                switch list {
                case .array(let a): items += a
                case .object(let o) where poll.id == "$key": items += o.members.map(\.value)
                default: items.append(list)
                }
            }
        }
        guard !items.isEmpty else { return [] }
        var out: [Diagnostic] = []
        /// Id and status paths must be in the answers; payout, currency and comment are a typo
        /// when a similar key is there, else only unseen (a warning).
        func check(_ paths: [String], at pointer: String, what: String, essential: Bool = true) {
            let wanted = paths.filter { $0 != "$key" && $0 != "$" && !$0.isEmpty }
            guard !wanted.isEmpty, !items.contains(where: { item in wanted.contains { item.value(atPath: $0) != nil } }) else { return }
            let path = wanted[0]
            let parts = path.split(separator: ".").map(String.init)
            let parentPath = parts.dropLast().joined(separator: ".")
            let keys = Set(items.compactMap { $0.value(atPath: parentPath)?.objectValue?.keys }.flatMap { $0 }).sorted()
            if !essential && Suggestions.closest(to: parts.last ?? path, among: keys, limit: 1).isEmpty {
                out.append(spec.sourceMap.diagnostic(.warning, at: pointer, .pollPathUnseen(what: what, path: path)))
                return
            }
            let near = Suggestions.best(parts.last ?? path, among: keys, quote: { "\"\(parentPath.isEmpty ? $0 : parentPath + "." + $0)\"" })
            out.append(spec.sourceMap.diagnostic(at: pointer, .pollPathUnknown(what: what, path: path, suggestion: near, keys: Array(keys.prefix(12)))))
        }
        check([poll.id] + poll.idFallbacks, at: "/poll/id", what: "id")
        for (i, path) in poll.status.enumerated() { check([path], at: poll.status.count > 1 ? "/poll/status/\(i)" : "/poll/status", what: "status") }
        for (key, path) in [("payout", poll.payout), ("currency", poll.currency), ("comment", poll.comment)] {
            if let path { check([path], at: "/poll/\(key)", what: key, essential: false) }
        }
        return out
    }

    static func lintTails(_ pb: PostbackSpec, spec: NetworkSpec, defaults: StatusDefaults) -> [Diagnostic] {
        var out: [Diagnostic] = []
        let map = spec.sourceMap
        var usedMacros = Set<String>()
        let secrets = Set(spec.secretCredentialKeys)
        for (i, item) in pb.items.enumerated() {
            guard let tail = item.tail else { continue }
            let pointer = "/postbacks/items/\(i)/tail"
            if tail.isEmpty { out.append(map.diagnostic(at: pointer, .emptyTail)); continue }
            var localStatus: [String: StatusBucket] = [:]
            let pairs = TailParser.pairs(tail)
            for (key, value) in pairs {
                if !tailKeys.contains(key) {
                    out.append(map.diagnostic(at: pointer, .tailKeyUnknown(key, suggestion: Suggestions.best(key, among: tailKeys))))
                }
                if let bucket = overrideKeys[key] {
                    for w in value.split(separator: ",").map({ String($0).trimmingWhitespace.lowercased() }) where !w.isEmpty {
                        localStatus[w] = bucket
                        if let known = spec.statuses.lookup(w), known.bucket != bucket.bucket {
                            out.append(map.diagnostic(at: pointer, .tailOverrideConflict(key: key, word: w, says: bucket.rawValue, statuses: known.rawValue)))
                        }
                    }
                }
            }
            for (key, value) in pairs {
                if let macro = TailParser.macro(in: value) {
                    if let ours = ownPlaceholder(macro) {
                        if ours.hasPrefix("credentials."), secrets.contains(String(ours.dropFirst("credentials.".count))) {
                            out.append(map.diagnostic(at: pointer, .secretInTail(macro)))
                        }
                        continue
                    }
                    usedMacros.insert(macro)
                    if pb.meaning(of: macro) == nil {
                        out.append(map.diagnostic(at: pointer, .macroUndeclared(macro)))
                    }
                } else if key == "status" {
                    let w = value.lowercased()
                    let known = localStatus[w].map { _ in true } ?? (spec.statuses.lookup(w) != nil || (spec.statusDefaults && defaults.statuses.lookup(w) != nil))
                    if !known {
                        out.append(map.diagnostic(at: pointer, .tailStatusUnknown(value)))
                    }
                }
            }
        }
        for (i, m) in pb.macros.enumerated() where !usedMacros.contains(m.macro) {
            _ = i
            out.append(map.diagnostic(.warning, at: "/postbacks/macros", .macroUnused(m.macro)))
        }
        return out
    }

    /// `{credentials.x}`, `{params.x}`, `{account.x}` are ours (substituted when printing for
    /// an account); anything else in braces or brackets is the network's macro.
    static func ownPlaceholder(_ macro: String) -> String? {
        guard macro.hasPrefix("{"), macro.hasSuffix("}"), !macro.hasPrefix("{{") else { return nil }
        let inner = String(macro.dropFirst().dropLast())
        for root in ["credentials.", "params.", "account."] where inner.hasPrefix(root) { return inner }
        return nil
    }
}

/// Reads a postback tail as the receiver will see it: `key=value` pairs.
public enum TailParser {
    public static func pairs(_ tail: String) -> [(String, String)] {
        var t = Substring(tail)
        while let f = t.first, f == "&" || f == "?" { t.removeFirst() }
        return t.split(separator: "&").map { part in
            let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (String(kv[0]), kv.count > 1 ? String(kv[1]) : "")
        }
    }

    /// The macro a value consists of (`{sub1}`, `[status]`, `{{status}}`), or nil for a literal.
    public static func macro(in value: String) -> String? {
        if value.hasPrefix("{"), value.hasSuffix("}") { return value }
        if value.hasPrefix("["), value.hasSuffix("]") { return value }
        return nil
    }
}
