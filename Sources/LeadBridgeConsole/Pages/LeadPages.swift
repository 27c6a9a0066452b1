import LeadBridgeCore
import LeadBridgeStore

/// The Leads section: the search, and one lead with its attempts, postbacks, polls and audit
/// entries. Secrets (credentials, receiver and intake tokens) are masked in everything shown.
enum LeadPages {
    /// The search form's values as typed (strings: shown back as they were).
    struct Filters: Sendable {
        var order = "", phone = "", network = "", account = "", status = "", state = "", from = "", to = ""
        var before: Int64?

        var path: ConsolePath {
            ConsolePath(["console", "leads"], query: [("order", order), ("phone", phone), ("network", network), ("account", account), ("status", status),
                                                      ("state", state), ("from", from), ("to", to)])
        }
    }

    static let pageSize = 100

    static func search(_ ctx: PageContext, filters f: Filters, leads: [LeadRecord], config: LeadBridgeConfig, problem: String?) -> String {
        let w = ctx.words
        let networks = Set(config.accounts.values.map(\.network)).union(leads.map(\.network)).sorted()
        let accounts = config.accounts.keys.sorted()
        let form = HTML.tag("form", [.class("filters"), .init("method", "get"), .init("action", "/console/leads")], [
            Layout.input("order", label: w("заказ (начало)", "order id (start)"), value: f.order),
            Layout.input("phone", label: w("телефон (окончание)", "phone (ending)"), value: f.phone, placeholder: "4567"),
            Layout.select("network", label: w("сеть", "network"), any: w("все", "any"), options: networks.map { ($0, $0) }, selected: f.network),
            Layout.select("account", label: w("аккаунт", "account"), any: w("все", "any"), options: accounts.map { ($0, $0) }, selected: f.account),
            Layout.select("status", label: w("статус", "status"), any: w("все", "any"), options: Bucket.allCases.map { ($0.rawValue, ctx.term(.bucket($0))) }, selected: f.status),
            Layout.select("state", label: w("отправка", "send state"), any: w("все", "any"), options: SendState.allCases.map { ($0.rawValue, ctx.term(.state($0))) },
                          selected: f.state),
            Layout.input("from", label: w("с (UTC)", "from (UTC)"), value: f.from, type: "date"),
            Layout.input("to", label: w("по (UTC)", "to (UTC)"), value: f.to, type: "date"),
            .tag("button", [.type("submit")], text: w("Найти", "Search")),
        ])
        var content: [HTML] = [form]
        if let problem { content.append(.tag("p", [.class("error")], text: problem)) }
        if leads.isEmpty {
            content.append(Layout.empty(w("Лидов не найдено.", "No leads found.")))
        } else {
            let redactor = Redactor(secrets: config.secretValues)
            content.append(Layout.table([w("заказ", "order id"), w("сеть", "network"), w("аккаунт", "account"), w("телефон", "phone"), w("отправка", "send"),
                                         w("статус", "status"), w("выплата", "payout"), w("создан", "created"), w("изменён", "updated")],
                                        leads.map { r in
                                            [Layout.link(r.orderId, ConsolePath(["console", "leads", String(r.rowId)])), .text(r.network), .text(r.account),
                                             .text(redactor.redact(r.lead.phone)), .text(ctx.term(.state(r.sendState))), .text(statusText(ctx, r.status)),
                                             .text(payoutText(r.payout, r.currency)), .text(ctx.time(r.createdAt)), .text(ctx.time(r.updatedAt))]
                                        }))
            if leads.count >= pageSize, let last = leads.last {
                var next = f.path
                next = next.with("before", String(last.rowId))
                content.append(.tag("p", [Layout.link(w("Дальше →", "Next →"), next)]))
            }
        }
        return Layout.document(ctx, title: ConsoleSection.leads.title(w), section: .leads, content)
    }

    static func statusText(_ ctx: PageContext, _ s: LeadStatus?) -> String {
        guard let s else { return "—" }
        var t = ctx.term(.bucket(s.bucket))
        if let raw = s.raw, !raw.isEmpty { t += " (\(raw))" }
        if let d = s.detail, !d.isEmpty { t += " · " + d }
        return t
    }

    static func payoutText(_ payout: String?, _ currency: String?) -> String {
        guard let payout, !payout.isEmpty else { return "—" }
        return payout + (currency.map { " " + $0 } ?? "")
    }

    /// One lead: its facts, its data, then attempts, postbacks, polls and the whole journal
    /// (audit entries — refusals, resends, settles, interruptions — marked).
    static func lead(_ ctx: PageContext, record r: LeadRecord, journal: [JournalEntry], postbacks: [RawPostbackRecord], outgoing: [OutgoingPostback],
                     config: LeadBridgeConfig) -> String {
        let w = ctx.words
        let redactor = Redactor(secrets: config.secretValues)
        func safe(_ s: String?) -> HTML { .text(s.map(redactor.redact) ?? "—") }
        var content: [HTML] = []
        var facts: [(String, HTML)] = [
            (w("Сеть", "Network"), Layout.link(r.network, ConsolePath(["console", "networks", r.network]))),
            (w("Аккаунт", "Account"), .text(r.account)),
            (w("Отправка", "Send state"), .tag("span", [.class("badge")], text: ctx.term(.state(r.sendState)))),
            (w("Статус", "Status"), .text(statusText(ctx, r.status))),
            (w("ID в сети", "External id"), safe(r.externalId)),
            (w("Выплата", "Payout"), .text(payoutText(r.payout, r.currency))),
            (w("Попыток (в этом круге)", "Attempts (this round)"), .text(String(r.attempts))),
            (w("Создан", "Created"), .text(ctx.time(r.createdAt))),
            (w("Изменён", "Updated"), .text(ctx.time(r.updatedAt))),
            (w("Последний опрос", "Last polled"), .text(ctx.time(r.lastPolledAt))),
        ]
        if let s = r.source { facts.append((w("Источник", "Source"), .text(s + (r.sourceRef.map { " / \($0)" } ?? "")))) }
        if let d = r.facts.dueAt { facts.append((w("Отправка в", "Due at"), .text(ctx.time(d)))) }
        if let c = r.comment { facts.append((w("Комментарий сети", "Network comment"), safe(c))) }
        if let reason = r.reason { facts.append((w("Причина", "Reason"), safe(reason))) }
        if let e = ctx.storedNote(r.lastError) { facts.append((w("Последняя ошибка", "Last error"), .tag("span", [.class("bad")], [safe(e)]))) }
        content.append(Layout.facts(facts))

        content.append(.tag("h2", text: w("Данные лида", "Lead data")))
        let lead = r.lead
        var fields: [(String, String)] = [("id", lead.id), ("phone", lead.phone)]
        fields += lead.fields.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        fields += lead.params.sorted { $0.key < $1.key }.map { ("params." + $0.key, $0.value) }
        fields += lead.subs.sorted { $0.key < $1.key }.map { ("subs." + $0.key, $0.value) }
        fields += lead.extra.sorted { $0.key < $1.key }.map { ("extra." + $0.key, $0.value) }
        content.append(Layout.table([w("поле", "field"), w("значение", "value")], fields.filter { !$0.1.isEmpty }.map { [Layout.code($0.0), safe($0.1)] }))

        let attempts = journal.filter { $0.attempt != nil }
        content.append(.tag("h2", text: w("Попытки отправки", "Send attempts")))
        content.append(attempts.isEmpty ? Layout.empty(w("Попыток не было.", "No attempts.")) :
            Layout.table([w("время", "time"), "#", w("итог", "outcome"), "HTTP", w("мс", "ms"), w("дошёл ли", "receipt"), w("заметка", "note")], numeric: [1, 3, 4],
                         attempts.map { e in
                             [.text(ctx.time(e.at)), .text(String(e.attempt?.number ?? 0)), .text(e.attempt.map { ctx.term(.outcome($0.outcome)) } ?? ""),
                              .text(e.attempt?.httpStatus.map(String.init) ?? "—"), .text(e.attempt?.durationMs.map(String.init) ?? "—"),
                              .text(e.attempt?.receipt.map { ctx.term(.receipt($0)) } ?? "—"), safe(ctx.note(reason: e.reason, failure: e.failure, text: e.note))]
                         }))

        content.append(.tag("h2", text: w("Постбеки", "Postbacks")))
        content.append(postbacks.isEmpty ? Layout.empty(w("Постбеков по этому лиду нет.", "No postbacks for this lead.")) :
            PostbackPages.rawTable(ctx, postbacks, redactor: redactor, withLead: false))

        let polls = journal.filter { $0.source == .poll }
        content.append(.tag("h2", text: w("Опросы статуса", "Status polls")))
        content.append(.tag("p", [.class("note")], text: w("Последний опрос: ", "Last polled: ") + ctx.time(r.lastPolledAt)
                            + w(". Ниже — изменения, которые принёс опрос (подтверждение без изменений не пишется в журнал).",
                                ". Below, the changes polls brought (a poll that confirms the status leaves no journal entry).")))
        content.append(polls.isEmpty ? Layout.empty(w("Опрос ничего не менял.", "Polls changed nothing.")) : journalTable(ctx, polls, redactor: redactor))

        content.append(.tag("h2", text: w("Журнал и аудит", "Journal and audit")))
        content.append(journalTable(ctx, journal, redactor: redactor))

        if !outgoing.isEmpty {
            content.append(.tag("h2", text: w("Исходящие постбеки источнику", "Outgoing postbacks to the source")))
            content.append(Layout.table([w("источник", "source"), w("вид", "kind"), w("статус", "status"), w("состояние", "state"), w("попыток", "attempts"),
                                         w("следующая", "next attempt"), w("ошибка", "error")], numeric: [4],
                                        outgoing.map { o in
                                            [.text(o.source), .text(o.kind), .text(o.status), .text(ctx.term(.outgoing(o.state))), .text(String(o.attempts)),
                                             .text(o.state == .due ? ctx.time(o.nextAttemptAt) : "—"),
                                             safe(o.lastError.map { OutgoingAnswers.worded($0) { ctx.failures($0, ctx.language) } })]
                                        }))
        }
        return Layout.document(ctx, title: w("Лид ", "Lead ") + r.orderId, section: .leads, content)
    }

    static func journalTable(_ ctx: PageContext, _ entries: [JournalEntry], redactor: Redactor) -> HTML {
        let w = ctx.words
        return Layout.table([w("время", "time"), w("запись", "entry"), w("кто", "by"), w("отправка", "send"), w("статус", "status"), w("слово сети", "raw word"),
                             w("заметка", "note")],
                            entries.map { e in
                                let state = e.fromState == nil && e.toState == nil ? ""
                                    : "\(e.fromState.map { ctx.term(.state($0)) } ?? "—") → \(e.toState.map { ctx.term(.state($0)) } ?? "—")"
                                let status = e.toStatus == nil ? ""
                                    : "\(e.fromStatus.map { ctx.term(.bucket($0)) } ?? "—") → \(e.toStatus.map { ctx.term(.bucket($0)) } ?? "—")"
                                let kind: HTML = e.kind == .refused ? .tag("span", [.class("bad")], text: w("отказ", "refused")) : .text(ctx.term(.journalKind(e.kind)))
                                return [.text(ctx.time(e.at)), kind, .text(ctx.term(.source(e.source))), .text(state), .text(status),
                                        .text(redactor.redact([e.raw, e.detail].compactMap { $0 }.joined(separator: " · "))), .text(redactor.redact(ctx.note(reason: e.reason, failure: e.failure, text: e.note) ?? ""))]
                            })
    }
}
