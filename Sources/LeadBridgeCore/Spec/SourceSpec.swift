/// Where a fact of a spec comes from (a page, a public client's file), what it supports and
/// how far it can be trusted, so a reader can judge every send and poll before relying on it.
public struct SourceSpec: Sendable, Hashable {
    /// How strong the evidence is, weakest first (`Comparable` follows strength).
    public enum Confidence: String, Sendable, Hashable, CaseIterable, Comparable {
        case inferred
        case oneClient = "one-client"
        case severalClients = "several-clients"
        case official

        public static func < (a: Confidence, b: Confidence) -> Bool {
            allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
        }

        public func label(_ l: Language) -> String {
            switch (self, l) {
            case (.official, .ru): return "документация"
            case (.official, .en): return "official docs"
            case (.severalClients, .ru): return "несколько клиентов"
            case (.severalClients, .en): return "several clients"
            case (.oneClient, .ru): return "один клиент"
            case (.oneClient, .en): return "one client"
            case (.inferred, .ru): return "вывод"
            case (.inferred, .en): return "inferred"
            }
        }
    }

    /// The parts of a spec a source can support.
    public enum Fact: String, Sendable, Hashable, CaseIterable {
        /// The catalog entry itself: settings, parameters, notes (the original utility's page).
        case catalog
        case send, poll, postbacks, statuses, report
        /// That the network runs on a platform (a base in `Templates/`).
        case platform
    }

    /// What a source backs: a fact, or one part of it (`send.credentials`, `poll.host`) when
    /// only that part rests on this source.
    public struct Claim: Sendable, Hashable {
        public var fact: Fact
        public var part: String?
        public init(_ fact: Fact, part: String? = nil) { self.fact = fact; self.part = part }
        public init?(_ text: String) {
            let pieces = text.split(separator: ".", maxSplits: 1).map(String.init)
            guard let f = pieces.first.flatMap(Fact.init(rawValue:)) else { return nil }
            if pieces.count == 2 {
                guard !pieces[1].isEmpty, pieces[1].allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }) else { return nil }
            }
            self.init(f, part: pieces.count == 2 ? pieces[1] : nil)
        }
        public var text: String { fact.rawValue + (part.map { "." + $0 } ?? "") }
    }

    /// Where the evidence is.
    public enum Location: Sendable, Hashable {
        case url(String)
        case repository(String, path: String, commit: String?)
        /// A public file whose repository the code index does not name, described in words.
        case text(String)

        public var text: String {
            switch self {
            case .url(let u): return u
            case .repository(let r, let p, let c): return "\(r): \(p)" + (c.map { " @ \($0.prefix(12))" } ?? "")
            case .text(let t): return t
            }
        }
    }

    /// The key of the source in the spec's `sources` object (templates and specs merge by it).
    public var key: String
    public var location: Location
    public var supports: [Claim]
    public var confidence: Confidence
    public var note: String?

    public init(key: String, location: Location, supports: [Claim], confidence: Confidence, note: String? = nil) {
        self.key = key
        self.location = location
        self.supports = supports
        self.confidence = confidence
        self.note = note
    }

    public var json: JSONValue {
        var pairs: [(String, JSONValue)] = [("key", .string(key))]
        switch location {
        case .url(let u): pairs.append(("url", .string(u)))
        case .repository(let r, let p, let c):
            pairs += [("repository", .string(r)), ("path", .string(p))]
            if let c { pairs.append(("commit", .string(c))) }
        case .text(let t): pairs.append(("where", .string(t)))
        }
        pairs += [("supports", .array(supports.map { .string($0.text) })), ("confidence", .string(confidence.rawValue))]
        if let note { pairs.append(("note", .string(note))) }
        return .obj(pairs)
    }
}

extension NetworkSpec {
    /// The strength of one fact, nil when no source supports it as a whole. Each part of the
    /// fact (the fact itself, `send.credentials`, …) is as strong as its best source — two
    /// independent clients that each count as one make "several clients" — and the fact is as
    /// strong as its weakest part.
    public func evidence(for fact: SourceSpec.Fact) -> SourceSpec.Confidence? {
        var parts: [String?: [SourceSpec.Confidence]] = [:]
        for s in sources {
            for c in s.supports where c.fact == fact { parts[c.part, default: []].append(s.confidence) }
        }
        guard parts[nil] != nil else { return nil }
        return parts.values.map { levels -> SourceSpec.Confidence in
            let best = levels.max() ?? .inferred
            return best == .oneClient && levels.filter({ $0 == .oneClient }).count > 1 ? .severalClients : best
        }.min()
    }

    /// The weakest of the facts send and poll rest on (each as strong as its best source);
    /// nil when the spec has neither.
    public var weakestEvidence: SourceSpec.Confidence? {
        var facts: [SourceSpec.Fact] = []
        if send != nil { facts.append(.send) }
        if poll != nil { facts.append(.poll) }
        guard !facts.isEmpty else { return nil }
        return facts.map { evidence(for: $0) ?? .inferred }.min()
    }
}

extension SpecReader {
    static func readPlatform(_ o: ObjectReader) -> PlatformInfo? {
        o.finish(["id", "name", "docs"])
        guard let id = o.string("id", required: true), let name = o.string("name", required: true) else { return nil }
        return PlatformInfo(id: id, name: name, docs: o.string("docs"))
    }

    static func readSources(_ o: ObjectReader) -> [SourceSpec] {
        var out: [SourceSpec] = []
        for m in o.object.members {
            guard let s = ObjectReader(m.value, at: o.path(m.key), sink: o.sink, what: .source) else { continue }
            s.finish(["url", "repository", "path", "commit", "where", "supports", "confidence", "note"])
            let location: SourceSpec.Location
            if let url = s.string("url") {
                if !(url.hasPrefix("https://") || url.hasPrefix("http://")) {
                    s.sink.error(s.path("url"), .sourceURL)
                }
                location = .url(url)
            } else if let repo = s.string("repository") {
                guard let path = s.string("path", required: true) else { continue }
                location = .repository(repo, path: path, commit: s.string("commit"))
            } else if let text = s.string("where") {
                location = .text(text)
            } else {
                s.sink.error(s.pointer, .sourceNeedsWhere)
                continue
            }
            var facts: [SourceSpec.Claim] = []
            for item in s.array("supports", required: true) ?? [] {
                guard let w = item.value.stringValue, let f = SourceSpec.Claim(w) else {
                    let options = SourceSpec.Fact.allCases.map(\.rawValue)
                    s.sink.error(item.pointer, .notAClaim(facts: options, suggestion: Suggestions.best(String((item.value.stringValue ?? "").prefix { $0 != "." }), among: options)))
                    continue
                }
                facts.append(f)
            }
            guard let confidence = s.enumValue("confidence", SourceSpec.Confidence.self, required: true) else { continue }
            out.append(SourceSpec(key: m.key, location: location, supports: facts, confidence: confidence, note: s.string("note")))
        }
        return out
    }
}
