/// Fixed words of printed documents, in both languages.
public enum UIText {
    public static func settings(_ l: Language) -> String { l == .ru ? "Настройки для утилиты интеграции:" : "Settings for the integration utility:" }
    public static func params(_ l: Language) -> String { l == .ru ? "Используемые параметры:" : "Used parameters:" }
    public static func postbacksIntro(_ l: Language) -> String {
        l == .ru ? "Добавьте постбеки на следующие статусы с этими \"хвостами\":" : "Add postbacks for the following statuses with these \"tails\":"
    }
    public static func extraKind(_ k: PostbackForm.Extra.Kind, _ l: Language) -> String {
        switch (k, l) {
        case (.static, .ru): return "статическое значение"
        case (.parameter, .ru): return "параметр из списка"
        case (.static, .en): return "static value"
        case (.parameter, .en): return "parameter from the list"
        }
    }
    public static func byAPI(_ l: Language) -> String {
        l == .ru ? "Постбеки для этой сети добавлять не требуется: статусы выгружаются по API."
            : "No postbacks need to be added for this network: statuses are fetched through the API."
    }
    /// For a traffic source: nothing is pasted into its cabinet; it gets our postbacks, whose
    /// settings (token, actionID) come from the links its manager gives.
    public static func sourceGetsOurPostbacks(_ l: Language, _ s: NetworkSpec) -> String {
        let kinds = s.outgoing.map { $0.label?.text(l) ?? $0.id }.joined(separator: ", ")
        let keys = s.credentials.map(\.key).joined(separator: ", ")
        return l == .ru
            ? "\(s.name) — источник трафика: в его кабинет ничего добавлять не нужно, статусы ему отправляет утилита (исходящие постбеки: \(kinds)) при каждом изменении статуса лида. Из ссылок постбеков, выданных менеджером, перенесите \(keys) в sources.\(s.id) в leadbridge.json; примеры запросов — leadbridge test \(s.id)."
            : "\(s.name) is a traffic source: nothing is added to its cabinet; the utility sends it the statuses (outgoing postbacks: \(kinds)) on every status change of a lead. Copy \(keys) from the postback links your manager gave into sources.\(s.id) in leadbridge.json; example requests: leadbridge test \(s.id)."
    }

    /// For a network with neither postbacks nor a known status API: the API is not public,
    /// the manager can give it (then it is a `poll` block, data only), and `import` works
    /// meanwhile.
    public static func noStatusSource(_ l: Language, network id: String) -> String {
        l == .ru
            ? "Постбеки для этой сети не описаны, а её API статусов не публичен. Его может выдать менеджер сети — тогда опрос статусов добавляется блоком poll в спецификации, без изменения кода (docs/spec-format.md, раздел Poll). Пока его нет, статусы загружаются из отчёта по лидам, скачанного в кабинете сети: leadbridge import \(id) ФАЙЛ."
            : "No postbacks are described for this network and its status API is not public. The network's manager can give it — then status polling is a poll block in the spec, no code change (docs/spec-format.md, section Poll). Meanwhile, statuses come from the lead report downloaded from the network's cabinet: leadbridge import \(id) FILE."
    }
}

/// Renders the catalog document ("Партнёрские сети") from the specs: the same layout as the
/// partner-networks page, so a golden test can compare it with the original word for word.
public enum CatalogRenderer {
    static let bullet = "  • "

    public static func document(_ library: SpecLibrary, language: Language, ids: [String]? = nil) -> String {
        var blocks: [String] = [library.catalog.title.text(language)]
        if let intro = library.catalog.intro { blocks.append(intro.text(language)) }
        for spec in library.specs where ids?.contains(spec.id) ?? true {
            blocks.append(section(spec, language: language))
        }
        return blocks.joined(separator: "\n\n")
    }

    /// One network's section: heading, notes, settings, parameters, postbacks.
    public static func section(_ spec: NetworkSpec, language l: Language) -> String {
        var blocks: [String] = [spec.title]
        blocks += spec.notes.map { $0.text(l) }
        if !spec.credentials.isEmpty {
            blocks.append(UIText.settings(l))
            blocks.append(list(spec.credentials.map { c in
                c.hint.map { "\(c.label.text(l)): \($0.text(l))" } ?? c.label.text(l)
            }))
        }
        if !spec.params.isEmpty {
            blocks.append(UIText.params(l))
            blocks.append(list(spec.params.map { "\($0.key) - \($0.description.text(l))" }))
        }
        blocks += postbackBlocks(spec, language: l)
        if l != .ru && spec.kind == .network && NetworkViews.statusSource(spec) == "none" {
            blocks.append(UIText.noStatusSource(l, network: spec.id))
        }
        if !spec.outgoing.isEmpty {
            blocks.append(l == .ru ? "Постбеки, которые утилита отправляет в \(spec.name) при смене статуса:"
                                   : "Postbacks the utility sends to \(spec.name) when a status changes:")
            blocks.append(list(spec.outgoing.map { o in
                let words = Bucket.allCases.compactMap { b in o.statuses[b].map { "\(b.rawValue) → \($0)" } }.joined(separator: ", ")
                return "\(o.label?.text(l) ?? o.id): \(o.request.method) \(o.request.url.source) (\(words))"
            }))
        }
        return blocks.joined(separator: "\n\n")
    }

    /// The postbacks part of a section (also what `postbacks` prints without `--base`).
    public static func postbackBlocks(_ spec: NetworkSpec, language l: Language, base: String? = nil) -> [String] {
        guard let pb = spec.postbacks else { return [] }
        var blocks: [String] = []
        if !pb.items.isEmpty {
            blocks.append((pb.intro ?? Localized(ru: UIText.postbacksIntro(.ru), en: UIText.postbacksIntro(.en))).text(l))
            blocks.append(list(pb.items.map { item in
                if let tail = item.tail {
                    return "\(item.label.text(l)): " + (base.map { PostbackURL.join(base: $0, tail: tail) } ?? tail)
                }
                return "\(item.label.text(l)): \(item.note?.text(l) ?? "")"
            }))
        }
        if let ins = pb.instructions {
            blocks.append(ins.intro.text(l))
            blocks.append(list(ins.items.map { $0.text(l) }))
        }
        if let form = pb.form {
            blocks.append(form.intro.text(l))
            blocks.append(list(form.fields.map { "\($0.label.text(l)): \($0.value.text(l))" }))
            if !form.extra.isEmpty {
                if let ei = form.extraIntro { blocks.append(ei.text(l)) }
                blocks.append(list(form.extra.map { "\($0.key) - \(UIText.extraKind($0.kind, l)): \($0.value.text(l))" }))
            }
        }
        return blocks
    }

    static func list(_ items: [String]) -> String {
        items.map { bullet + $0 }.joined(separator: "\n")
    }
}

/// Joins our receiver URL and a network's tail with the right separator, whatever either
/// ends or starts with.
public enum PostbackURL {
    public static func join(base: String, tail: String) -> String {
        var t = Substring(tail)
        while let f = t.first, f == "&" || f == "?" { t.removeFirst() }
        if t.isEmpty { return base }
        if base.hasSuffix("?") || base.hasSuffix("&") { return base + t }
        return base + (base.contains("?") ? "&" : "?") + t
    }
}
