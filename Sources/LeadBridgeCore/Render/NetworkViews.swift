/// What `networks`, `show` and `postbacks` print, as text and as the JSON shapes of
/// DESIGN.md. Pure functions of specs, so their output is golden-tested.
public enum NetworkViews {
    // MARK: networks

    public static func networksText(_ library: SpecLibrary, language l: Language) -> String {
        let header = l == .ru ? ["id", "сеть", "отправка", "опрос", "постбеки", "основание"] : ["id", "network", "send", "poll", "postbacks", "evidence"]
        let yes = l == .ru ? "да" : "yes", no = "—"
        var rows = [header]
        for s in library.specs {
            rows.append([s.id, s.name, s.send != nil ? yes : no, s.poll != nil ? yes : no, s.hasPostbacks ? yes : no,
                         s.weakestEvidence?.label(l) ?? no])
        }
        return TextTable.render(rows)
    }

    public static func networksJSON(_ library: SpecLibrary) -> JSONValue {
        .array(library.specs.map { s in
            .obj([("id", .string(s.id)), ("name", .string(s.name)), ("title", .string(s.title)), ("aliases", .array(s.aliases.map(JSONValue.string))),
                  ("kind", .string(s.kind.rawValue)), ("send", .bool(s.send != nil)), ("poll", .bool(s.poll != nil)),
                  ("postbacks", .bool(s.hasPostbacks)), ("evidence", .str(s.weakestEvidence?.rawValue))])
        })
    }

    // MARK: show

    public static func statusSource(_ s: NetworkSpec) -> String {
        switch (s.hasPostbacks || s.postbacks?.instructions != nil, s.poll != nil) {
        case (true, true): return "postback+api"
        case (true, false): return "postback"
        case (false, true): return "api"
        case (false, false): return "none"
        }
    }

    public static func statusSourceText(_ s: NetworkSpec, _ l: Language) -> String {
        if s.kind == .source {
            return l == .ru ? "их сообщаем мы: исходящие постбеки при каждом изменении статуса" : "we report them: outgoing postbacks on every status change"
        }
        switch statusSource(s) {
        case "postback+api": return l == .ru ? "по постбекам и по API (опрос)" : "by postbacks and by API polling"
        case "postback": return l == .ru ? "по постбекам" : "by postbacks"
        case "api": return l == .ru ? "по API (опрос статусов, постбеки не нужны)" : "by API polling (no postbacks needed)"
        default: return l == .ru ? "API статусов не публичен, постбеков нет: статусы — из отчёта сети (leadbridge import)"
            : "the status API is not public and there are no postbacks: statuses come from the network's report (leadbridge import)"
        }
    }

    public static func sendText(_ s: NetworkSpec, _ l: Language) -> String {
        if s.kind == .source {
            return l == .ru ? "источник трафика: лиды приходят к нам (POST /leads), мы отправляем ему постбеки"
                : "traffic source: leads come to us (POST /leads), we send it postbacks"
        }
        guard let send = s.send else {
            return l == .ru ? "API отправки не описан: лиды передаются по документации API сети, полученной от менеджера"
                : "no send API is known: leads are sent by the network's own API documentation from your manager"
        }
        let step = send.steps.isEmpty ? "" : (l == .ru ? " (шагов: \(send.steps.count + 1))" : " (\(send.steps.count + 1) steps)")
        return "\(send.request.method) \(send.request.url.source)\(step)"
    }

    public static func showText(_ s: NetworkSpec, library: SpecLibrary, language l: Language) -> String {
        var lines: [String] = []
        lines.append("\(s.title) [\(s.id)]")
        if !s.aliases.isEmpty { lines.append((l == .ru ? "Псевдонимы: " : "Aliases: ") + s.aliases.joined(separator: ", ")) }
        if let p = s.platform {
            lines.append((l == .ru ? "Платформа: " : "Platform: ") + p.name + (p.docs.map { " (\($0))" } ?? ""))
        }
        lines.append((l == .ru ? "Отправка лидов: " : "Sending leads: ") + sendText(s, l))
        lines.append((l == .ru ? "Статусы: " : "Statuses: ") + statusSourceText(s, l))
        var blocks = [lines.joined(separator: "\n")]
        blocks += s.notes.map { $0.text(l) }
        if !s.credentials.isEmpty {
            blocks.append(UIText.settings(l))
            blocks.append(CatalogRenderer.list(s.credentials.map { c in
                var flags: [String] = []
                if c.secret { flags.append(l == .ru ? "секрет" : "secret") }
                if !c.required { flags.append(l == .ru ? "необязательно" : "optional") }
                let f = flags.isEmpty ? "" : ", " + flags.joined(separator: ", ")
                return "\(c.label.text(l)) (\(c.key)\(f))" + (c.hint.map { ": \($0.text(l))" } ?? "")
            }))
        }
        if !s.params.isEmpty {
            blocks.append(UIText.params(l))
            blocks.append(CatalogRenderer.list(s.params.map { "\($0.key) - \($0.description.text(l))" }))
        }
        let pb = CatalogRenderer.postbackBlocks(s, language: l)
        if pb.isEmpty && s.kind == .source {
            // A source gets postbacks from us (listed below) instead of sending them.
        } else if pb.isEmpty {
            blocks.append(s.poll != nil ? UIText.byAPI(l) : UIText.noStatusSource(l, network: s.id))
        } else {
            blocks += pb
        }
        // A source's statuses are ours (it hears them through outgoing postbacks): no words.
        let words = s.kind == .source ? [] : statusLines(s, defaults: library.defaults, l)
        if !words.isEmpty {
            blocks.append(l == .ru ? "Статусы сети:" : "Network status words:")
            blocks.append(CatalogRenderer.list(words))
            if s.statusDefaults && !library.defaults.statuses.isEmpty {
                blocks.append(l == .ru ? "* — слово из общего словаря (Templates/statuses.json): действует, если в спецификации сети его нет."
                                       : "* — a word of the common vocabulary (Templates/statuses.json): it applies where the network's spec does not list the word.")
            }
        }
        if !s.outgoing.isEmpty {
            blocks.append(l == .ru ? "Исходящие постбеки (мы отправляем):" : "Outgoing postbacks (we send):")
            blocks.append(CatalogRenderer.list(s.outgoing.map { o in
                let map = Bucket.allCases.map { b in "\(b.rawValue) → \(o.statuses[b] ?? "—")" }.joined(separator: ", ")
                return "\(o.label?.text(l) ?? o.id): \(o.request.method) \(o.request.url.source) (\(map))"
            }))
        }
        if !s.sources.isEmpty {
            blocks.append(l == .ru ? "Источники:" : "Sources:")
            blocks.append(CatalogRenderer.list(s.sources.map { src in
                let facts = src.supports.map(\.text).joined(separator: ", ")
                return "[\(src.confidence.label(l))] \(facts): \(src.location.text)" + (src.note.map { " — \($0)" } ?? "")
            }))
        }
        return blocks.joined(separator: "\n\n")
    }

    /// Per bucket: the network's own words, then (marked `*`) the common words it does not
    /// override; an own word the common vocabulary puts elsewhere says so.
    public static func statusLines(_ s: NetworkSpec, defaults: StatusDefaults, _ l: Language) -> [String] {
        let names: [StatusBucket: (String, String)] = [
            .approved: ("одобрен", "approved"), .cancelled: ("отклонён", "cancelled"), .trash: ("треш", "trash"),
            .waiting: ("в ожидании", "pending (waiting)"), .hold: ("холд", "pending (hold)"),
        ]
        let common = s.statusDefaults ? commonWords(s, defaults) : [:]
        return StatusBucket.allCases.compactMap { b in
            let own = (s.statuses.words[b] ?? []).map { w -> String in
                // The network's own name of the word (SalesMan's `3:1` is "Закрыт: Спам").
                let named = w + (s.statusNames[w].map { " (\($0.text(l)))" } ?? "")
                guard s.statusDefaults, let c = defaults.statuses.lookup(w), c.bucket != b.bucket, !w.contains("*") else { return named }
                return named + (l == .ru ? " (в общем словаре — \(c.bucket.rawValue))" : " (common vocabulary: \(c.bucket.rawValue))")
            }
            let all = own + (common[b] ?? []).map { "*" + $0 }
            guard !all.isEmpty, let n = names[b] else { return nil }
            return "\(l == .ru ? n.0 : n.1): \(all.joined(separator: ", "))"
        }
    }

    /// Common words that still apply to this spec: those its own table does not know.
    static func commonWords(_ s: NetworkSpec, _ defaults: StatusDefaults) -> [StatusBucket: [String]] {
        var out: [StatusBucket: [String]] = [:]
        for b in StatusBucket.allCases {
            let words = (defaults.statuses.words[b] ?? []).filter { s.statuses.lookup($0) == nil }
            if !words.isEmpty { out[b] = words }
        }
        return out
    }

    public static func showJSON(_ s: NetworkSpec, language l: Language, defaults: StatusDefaults = StatusDefaults()) -> JSONValue {
        var statuses = JSONObject()
        for b in StatusBucket.allCases { if let w = s.statuses.words[b], !w.isEmpty { statuses[b.rawValue] = .array(w.map(JSONValue.string)) } }
        var common = JSONObject()
        for (b, w) in (s.statusDefaults ? commonWords(s, defaults) : [:]).sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            common[b.rawValue] = .array(w.map(JSONValue.string))
        }
        return .obj([
            ("id", .string(s.id)), ("name", .string(s.name)), ("title", .string(s.title)),
            ("aliases", .array(s.aliases.map(JSONValue.string))), ("kind", .string(s.kind.rawValue)),
            ("notes", .array(s.notes.map { .string($0.text(l)) })),
            ("credentials", .array(s.credentials.map { c in
                .obj([("key", .string(c.key)), ("label", .string(c.label.text(l))), ("hint", .str(c.hint?.text(l))),
                      ("secret", .bool(c.secret)), ("required", .bool(c.required))])
            })),
            ("params", .array(s.params.map { p in
                .obj([("key", .string(p.key)), ("description", .string(p.description.text(l))), ("required", .bool(p.required)),
                      ("pattern", .str(p.pattern?.source))])
            })),
            ("send", .bool(s.send != nil)), ("poll", .bool(s.poll != nil)), ("postbacks", .bool(s.hasPostbacks)),
            ("status_source", .string(statusSource(s))), ("statuses", .object(statuses)),
            ("status_names", .object(JSONObject(s.statusNames.keys.sorted().map { JSONMember(key: $0, value: .string(s.statusNames[$0]?.text(l) ?? "")) }))),
            ("common_statuses", .object(common)), ("chargebacks", .bool(s.chargebacks)),
            ("evidence", .str(s.weakestEvidence?.rawValue)), ("sources", .array(s.sources.map(\.json))),
            ("platform", s.platform.map { .obj([("id", .string($0.id)), ("name", .string($0.name)), ("docs", .str($0.docs))]) } ?? .null),
        ])
    }

    // MARK: postbacks

    public static func postbacksText(_ s: NetworkSpec, language l: Language, base: String?) -> String {
        // The network's own notes come first: they often say which events need a postback
        // ("on all events except conversion"), as `show` and `docs` print them.
        let notes = s.notes.map { $0.text(l) }
        let blocks = CatalogRenderer.postbackBlocks(s, language: l, base: base)
        if blocks.isEmpty && s.kind == .source {
            return ([s.title] + notes + [UIText.sourceGetsOurPostbacks(l, s)]).joined(separator: "\n\n")
        }
        if blocks.isEmpty {
            return ([s.title] + notes + [s.poll != nil ? UIText.byAPI(l) : UIText.noStatusSource(l, network: s.id)]).joined(separator: "\n\n")
        }
        return ([s.title] + notes + blocks).joined(separator: "\n\n")
    }

    public static func postbacksJSON(_ s: NetworkSpec, language l: Language, base: String?) -> JSONValue {
        let pb = s.postbacks
        let items: [JSONValue] = (pb?.items ?? []).map { item in
            var pairs: [(String, JSONValue)] = [("label", .string(item.label.text(l))), ("tail", .str(item.tail))]
            if let base { pairs.append(("url", .str(item.tail.map { PostbackURL.join(base: base, tail: $0) }))) }
            if let note = item.note { pairs.append(("note", .string(note.text(l)))) }
            return .obj(pairs)
        }
        var pairs: [(String, JSONValue)] = [("network", .string(s.id)), ("postbacks", .array(items)), ("notes", .array(s.notes.map { .string($0.text(l)) }))]
        if let form = pb?.form {
            pairs.append(("fields", .array(form.fields.map { .obj([("label", .string($0.label.text(l))), ("value", .string($0.value.text(l)))]) })))
            pairs.append(("extra", .array(form.extra.map {
                .obj([("key", .string($0.key)), ("kind", .string($0.kind.rawValue)), ("value", .string($0.value.text(l)))])
            })))
        }
        var instructions: [JSONValue] = []
        if let pb {
            if !pb.items.isEmpty { instructions.append(.string((pb.intro ?? Localized(ru: UIText.postbacksIntro(.ru), en: UIText.postbacksIntro(.en))).text(l))) }
            if let ins = pb.instructions { instructions.append(.string(ins.intro.text(l))); instructions += ins.items.map { .string($0.text(l)) } }
            if let form = pb.form { instructions.append(.string(form.intro.text(l))) }
        }
        if items.isEmpty && pb?.form == nil {
            instructions.append(.string(s.kind == .source ? UIText.sourceGetsOurPostbacks(l, s)
                                        : s.poll != nil ? UIText.byAPI(l) : UIText.noStatusSource(l, network: s.id)))
        }
        pairs.append(("instructions", .array(instructions)))
        pairs.append(("status_source", .string(statusSource(s))))
        return .obj(pairs)
    }
}

/// Aligned plain-text columns for tables people read in a terminal.
public enum TextTable {
    public static func render(_ rows: [[String]]) -> String {
        guard let first = rows.first else { return "" }
        var widths = [Int](repeating: 0, count: first.count)
        for r in rows { for (i, c) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], c.count) } }
        return rows.map { r in
            r.enumerated().map { i, c in i == r.count - 1 ? c : c + String(repeating: " ", count: widths[i] - c.count) }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
