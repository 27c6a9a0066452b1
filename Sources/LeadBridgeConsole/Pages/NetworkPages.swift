import LeadBridgeCore

/// The Networks section: the catalog, and a page per network with what a manager pastes into
/// its cabinet (postback URLs with copy buttons).
enum NetworkPages {
    static func catalog(_ ctx: PageContext, library: SpecLibrary, config: LeadBridgeConfig) -> String {
        let w = ctx.words
        let yes = w("да", "yes"), no = "—"
        let configured = Set(config.accounts.values.map(\.network))
        let rows: [[HTML]] = library.specs.map { s in
            [Layout.link(s.id, ConsolePath(["console", "networks", s.id])), .text(s.title), .text(s.kind.rawValue),
             .text(s.send != nil ? yes : no), .text(s.poll != nil ? yes : no), .text(s.hasPostbacks ? yes : no),
             .text(s.weakestEvidence?.label(ctx.language) ?? no), .text(String(s.sources.count)),
             .text(configured.contains(s.id) ? String(config.accounts(of: s.id).count) : no)]
        }
        let table = Layout.table([w("id", "id"), w("сеть", "network"), w("тип", "kind"), w("отправка", "send"), w("опрос", "poll"),
                                  w("постбеки", "postbacks"), w("основание", "evidence"), w("источников", "sources"), w("аккаунтов", "accounts")],
                                 numeric: [7, 8], rows)
        return Layout.document(ctx, title: ConsoleSection.networks.title(w), section: .networks, [
            .tag("p", [.class("note")], text: w("Что умеет каждая спецификация и на чём основаны её факты; страница сети — настройки, параметры и постбеки для кабинета сети.",
                                                 "What each spec supports and the evidence its facts rest on; a network's page has its settings, parameters and the postbacks for its cabinet.")),
            table,
        ])
    }

    /// Where a network calls us: `receiver.base_url` + its path + its token, or why it cannot
    /// be built yet.
    static func postbackBase(_ spec: NetworkSpec, config: LeadBridgeConfig) -> (base: String?, problem: String?)? {
        guard let base = config.receiver?.baseURL, !base.isEmpty else { return (nil, "receiver.base_url") }
        guard let token = config.receiver?.tokens[spec.id] ?? config.receiver?.token, !token.isEmpty else { return (nil, "receiver.token") }
        let root = base.hasSuffix("/") ? String(base.dropLast()) : base
        if let form = spec.postbacks?.form, let path = form.path {
            return (root + path + "?" + PercentEncoding.rfc3986(form.tokenParam ?? "token") + "=" + PercentEncoding.rfc3986(token), nil)
        }
        return (root + "/postback/" + PercentEncoding.rfc3986(spec.id) + "?token=" + PercentEncoding.rfc3986(token), nil)
    }

    static func network(_ ctx: PageContext, spec s: NetworkSpec, library: SpecLibrary, config: LeadBridgeConfig) -> String {
        let w = ctx.words
        let l = ctx.language
        var content: [HTML] = []
        var facts: [(String, HTML)] = [("id", Layout.code(s.id))]
        if !s.aliases.isEmpty { facts.append((w("Псевдонимы", "Aliases"), .text(s.aliases.joined(separator: ", ")))) }
        if let summary = s.summary { facts.append((w("Кратко", "Summary"), .text(summary.text(l)))) }
        if let p = s.platform { facts.append((w("Платформа", "Platform"), .text(p.name + (p.docs.map { " (\($0))" } ?? "")))) }
        facts.append((w("Отправка лидов", "Sending leads"), .text(NetworkViews.sendText(s, l))))
        facts.append((w("Статусы", "Statuses"), .text(NetworkViews.statusSourceText(s, l))))
        facts.append((w("Основание", "Evidence"), .text(s.weakestEvidence?.label(l) ?? "—")))
        content.append(Layout.facts(facts))

        if !s.notes.isEmpty {
            content.append(.tag("h2", text: w("Заметки сети", "Network notes")))
            content += s.notes.map { .tag("p", text: $0.text(l)) }
        }

        content.append(.tag("h2", text: w("Постбеки для кабинета сети", "Postbacks for the network's cabinet")))
        content += postbacks(s, ctx: ctx, config: config)

        content.append(.tag("h2", text: w("Настройки", "Settings")))
        if s.credentials.isEmpty {
            content.append(Layout.empty(w("Сеть не требует настроек.", "The network needs no settings.")))
        } else {
            content.append(Layout.table([w("ключ", "key"), w("название", "label"), w("подсказка", "hint"), w("секрет", "secret"), w("обязательно", "required")],
                                        s.credentials.map { c in
                                            [Layout.code(c.key), .text(c.label.text(l)), .text(c.hint?.text(l) ?? ""), .text(c.secret ? w("да", "yes") : "—"),
                                             .text(c.required ? w("да", "yes") : "—")]
                                        }))
        }
        let accounts = config.accounts(of: s.id)
        if !accounts.isEmpty {
            content.append(.tag("h2", text: w("Аккаунты в leadbridge.json", "Accounts in leadbridge.json")))
            // A parameter from a `${VAR}` is a secret like the settings: masked.
            let redactor = Redactor(secrets: config.secretValues)
            content.append(Layout.table([w("аккаунт", "account"), w("настройки", "settings"), w("параметры", "parameters")], accounts.map { a in
                // Values of settings are never shown: only which are set.
                [.text(a.name), .text(a.credentials.keys.sorted().map { "\($0): \(w("задано", "set"))" }.joined(separator: ", ")),
                 .text(a.params.sorted { $0.key < $1.key }.map { "\($0.key)=\(redactor.redact($0.value))" }.joined(separator: ", "))]
            }))
        }

        content.append(.tag("h2", text: w("Используемые параметры", "Used parameters")))
        if s.params.isEmpty {
            content.append(Layout.empty(w("Параметров нет.", "No parameters.")))
        } else {
            content.append(Layout.table([w("ключ", "key"), w("описание", "description"), w("обязательный", "required"), w("шаблон", "pattern")], s.params.map { p in
                [Layout.code(p.key), .text(p.description.text(l)), .text(p.required ? w("да", "yes") : "—"), p.pattern.map { Layout.code($0.source) } ?? .text("—")]
            }))
        }

        let words = NetworkViews.statusLines(s, defaults: library.defaults, l)
        if !words.isEmpty {
            content.append(.tag("h2", text: w("Статусы сети", "Network status words")))
            content.append(.tag("ul", words.map { .tag("li", text: $0) }))
        }

        if !s.outgoing.isEmpty {
            content.append(.tag("h2", text: w("Исходящие постбеки (отправляем мы)", "Outgoing postbacks (we send)")))
            content.append(.tag("ul", s.outgoing.map { o in
                let map = Bucket.allCases.map { b in "\(b.rawValue) → \(o.statuses[b] ?? "—")" }.joined(separator: ", ")
                return .tag("li", text: "\(o.label?.text(l) ?? o.id): \(o.request.method) \(o.request.url.source) (\(map))")
            }))
        }

        content.append(.tag("h2", text: w("Основания (sources)", "Evidence (sources)")))
        if s.sources.isEmpty {
            content.append(Layout.empty(w("Источники не указаны.", "No sources are given.")))
        } else {
            content.append(Layout.table([w("надёжность", "confidence"), w("подтверждает", "supports"), w("где", "where"), w("заметка", "note")], s.sources.map { src in
                [.tag("span", [.class("badge")], text: src.confidence.label(l)), .text(src.supports.map(\.text).joined(separator: ", ")),
                 Layout.code(src.location.text), .text(src.note ?? "")]
            }))
        }
        return Layout.document(ctx, title: s.title, section: .networks, copyButtons: true, content)
    }

    /// The postback tails as full URLs with copy buttons, the form-style fields, the extra
    /// instructions — or why there are none.
    static func postbacks(_ s: NetworkSpec, ctx: PageContext, config: LeadBridgeConfig) -> [HTML] {
        let w = ctx.words
        let l = ctx.language
        guard let pb = s.postbacks, !pb.items.isEmpty || pb.form != nil || pb.instructions != nil else {
            return [Layout.empty(s.poll != nil ? UIText.byAPI(l) : UIText.noStatusSource(l, network: s.id))]
        }
        var out: [HTML] = []
        let target = postbackBase(s, config: config)
        if let problem = target?.problem {
            out.append(.tag("p", [.class("warn")], text: w("Полные ссылки появятся, когда в leadbridge.json будет задан \(problem); ниже — хвосты.",
                                                            "Full URLs appear once \(problem) is set in leadbridge.json; the tails are below.")))
        }
        if !pb.items.isEmpty {
            out.append(.tag("p", text: (pb.intro ?? Localized(ru: UIText.postbacksIntro(.ru), en: UIText.postbacksIntro(.en))).text(l)))
            var rows: [[HTML]] = []
            for (i, item) in pb.items.enumerated() {
                if let tail = item.tail {
                    let value = target?.base.map { PostbackURL.join(base: $0, tail: tail) } ?? tail
                    rows.append([.text(item.label.text(l)), Layout.copyField(id: "postback-\(i + 1)", value: value, w)])
                } else {
                    rows.append([.text(item.label.text(l)), .text(item.note?.text(l) ?? "")])
                }
            }
            out.append(Layout.table([w("событие", "event"), w("ссылка", "URL")], rows))
        }
        if let form = pb.form {
            out.append(.tag("p", text: form.intro.text(l)))
            if let base = target?.base { out.append(Layout.copyField(id: "postback-form", value: base, w)) }
            out.append(Layout.table([w("поле", "field"), w("значение", "value")], form.fields.map { [.text($0.label.text(l)), .text($0.value.text(l))] }))
            if !form.extra.isEmpty {
                if let ei = form.extraIntro { out.append(.tag("p", text: ei.text(l))) }
                out.append(.tag("ul", form.extra.map { .tag("li", text: "\($0.key) - \(UIText.extraKind($0.kind, l)): \($0.value.text(l))") }))
            }
        }
        if let ins = pb.instructions {
            out.append(.tag("p", text: ins.intro.text(l)))
            out.append(.tag("ul", ins.items.map { .tag("li", text: $0.text(l)) }))
        }
        return out
    }
}
