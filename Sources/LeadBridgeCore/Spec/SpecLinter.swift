/// Semantic rules beyond the shape of a spec: status words in two buckets, tails that the
/// receiver could not read, secrets in printed tails, macros nobody declared.
public enum SpecLinter {
    /// Parameters our receiver reads from a postback tail.
    public static let tailKeys = ["oid", "eid", "status", "sta", "stc", "stt", "stw", "sth", "pay", "cc", "comment", "reason"]
    static let overrideKeys: [String: StatusBucket] = ["sta": .approved, "stc": .cancelled, "stt": .trash, "stw": .waiting, "sth": .hold]

    public static func lint(_ spec: NetworkSpec, defaults: StatusDefaults) -> [Diagnostic] {
        var out: [Diagnostic] = []
        let map = spec.sourceMap
        for (word, buckets) in spec.statuses.conflicts {
            out.append(map.diagnostic(at: "/statuses/\(buckets[1].rawValue)", code: "status-conflict",
                                      "\"\(word)\" is listed in both \(buckets.map(\.rawValue).joined(separator: " and "))"))
        }
        if let pb = spec.postbacks {
            out += lintTails(pb, spec: spec, defaults: defaults)
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
            if tail.isEmpty { out.append(map.diagnostic(at: pointer, code: "tail", "empty tail: use null with a note for an item left empty")); continue }
            var localStatus: [String: StatusBucket] = [:]
            let pairs = TailParser.pairs(tail)
            for (key, value) in pairs {
                if !tailKeys.contains(key) {
                    out.append(map.diagnostic(at: pointer, code: "unknown-tail-key",
                                              "the receiver does not read \"\(key)\"" + Suggestions.didYouMean(key, among: tailKeys)))
                }
                if let bucket = overrideKeys[key] {
                    for w in value.split(separator: ",").map({ String($0).trimmingWhitespace.lowercased() }) where !w.isEmpty {
                        localStatus[w] = bucket
                        if let known = spec.statuses.lookup(w), known.bucket != bucket.bucket {
                            out.append(map.diagnostic(at: pointer, code: "tail-override-conflict",
                                                      "\(key)=\(w) says \(bucket.rawValue) but \"statuses\" has \"\(w)\" in \(known.rawValue)"))
                        }
                    }
                }
            }
            for (key, value) in pairs {
                if let macro = TailParser.macro(in: value) {
                    if let ours = ownPlaceholder(macro) {
                        if ours.hasPrefix("credentials."), secrets.contains(String(ours.dropFirst("credentials.".count))) {
                            out.append(map.diagnostic(at: pointer, code: "secret-in-tail",
                                                      "\(macro) is a secret credential: it would be printed for the manager to paste"))
                        }
                        continue
                    }
                    usedMacros.insert(macro)
                    if pb.meaning(of: macro) == nil {
                        out.append(map.diagnostic(at: pointer, code: "undeclared-macro",
                                                  "macro \(macro) is not declared in \"postbacks.macros\" (say what the network puts there)"))
                    }
                } else if key == "status" {
                    let w = value.lowercased()
                    let known = localStatus[w].map { _ in true } ?? (spec.statuses.lookup(w) != nil || (spec.statusDefaults && defaults.statuses.lookup(w) != nil))
                    if !known {
                        out.append(map.diagnostic(at: pointer, code: "unknown-status",
                                                  "status word \"\(value)\" of this tail is in no bucket of \"statuses\""))
                    }
                }
            }
        }
        for (i, m) in pb.macros.enumerated() where !usedMacros.contains(m.macro) {
            _ = i
            out.append(map.diagnostic(.warning, at: "/postbacks/macros", code: "unused-macro", "macro \(m.macro) is declared but no tail uses it"))
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
