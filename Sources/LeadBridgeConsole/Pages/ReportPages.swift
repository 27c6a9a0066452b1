import LeadBridgeCore
import LeadBridgeStore

/// The Funnel and Health sections.
enum ReportPages {
    /// The funnel form's values as typed.
    struct FunnelFilters: Sendable {
        var from: String
        var to: String
        var network = ""
        var account = ""
    }

    static func percent(_ v: Double?) -> String {
        guard let v else { return "—" }
        let tenths = Int((v * 1000).rounded())
        return "\(tenths / 10).\(tenths % 10) %"
    }

    static func payouts(_ f: FunnelFigures) -> String {
        var parts = f.payout.sorted { $0.key < $1.key }.map { $0.value.text + ($0.key.isEmpty ? "" : " " + $0.key) }
        if f.unreadablePayouts > 0 { parts.append("(+\(f.unreadablePayouts) ?)") }
        return parts.isEmpty ? "—" : parts.joined(separator: ", ")
    }

    static func funnel(_ ctx: PageContext, filters f: FunnelFilters, report: FunnelReport, config: LeadBridgeConfig, problem: String?) -> String {
        let w = ctx.words
        let networks = Set(config.accounts.values.map(\.network)).union(report.rows.map(\.network)).sorted()
        let accounts = Set(config.accounts.keys).union(report.rows.map(\.account)).sorted()
        var content: [HTML] = [
            .tag("form", [.class("filters"), .init("method", "get"), .init("action", "/console/funnel")], [
                Layout.input("from", label: w("с (UTC)", "from (UTC)"), value: f.from, type: "date"),
                Layout.input("to", label: w("по (UTC, включительно)", "to (UTC, inclusive)"), value: f.to, type: "date"),
                Layout.select("network", label: w("сеть", "network"), any: w("все", "any"), options: networks.map { ($0, $0) }, selected: f.network),
                Layout.select("account", label: w("аккаунт", "account"), any: w("все", "any"), options: accounts.map { ($0, $0) }, selected: f.account),
                .tag("button", [.type("submit")], text: w("Показать", "Show")),
            ]),
        ]
        if let problem { content.append(.tag("p", [.class("error")], text: problem)) }
        let headers = [w("сеть", "network"), w("аккаунт", "account"), w("лидов", "leads"), w("отправлено", "sent"), w("принято", "accepted"),
                       w("дубли", "duplicate"), w("отклонено", "rejected"), w("неопределённых", "uncertain"), w("одобрено", "approved"),
                       w("отменено", "cancelled"), w("треш", "trash"), w("в ожидании", "pending"), w("апрув", "approval rate"), w("выплаты", "payout"),
                       w("медиана до итога", "median to final")]
        func cells(_ name: HTML, _ account: String, _ x: FunnelFigures) -> [HTML] {
            [name, .text(account), .text(String(x.leads)), .text(String(x.sent)), .text(String(x.accepted)), .text(String(x.duplicate)),
             .text(String(x.rejected)), .text(String(x.uncertain)), .text(String(x.approved)), .text(String(x.cancelled)), .text(String(x.trash)),
             .text(String(x.pending)), .text(percent(x.approvalRate)), .text(payouts(x)),
             .text(x.medianSecondsToFinal.map { Duration.text($0, ctx.language) } ?? "—")]
        }
        if report.rows.isEmpty {
            content.append(Layout.empty(w("За этот период лидов нет.", "No leads in this period.")))
        } else {
            var rows = report.rows.map { cells(Layout.link($0.network, ConsolePath(["console", "networks", $0.network])), $0.account, $0.figures) }
            rows.append(cells(.text(w("итого", "total")), "", report.total))
            let last = rows.count - 1
            content.append(Layout.table(headers, numeric: Set(2...12), rows, rowClass: { $0 == last ? "total" : nil }))
        }
        content.append(.tag("p", [.class("note")], text: w(
            "Лиды, созданные за период (UTC). «Отправлено» — запрос ушёл в сеть (принят, дубль, отклонён или неопределён); одобрено, отменено, треш и в ожидании — статусы принятых лидов; апрув — одобренные среди получивших итоговый статус; выплаты — по одобренным; медиана — от создания лида до первого итогового статуса (с точностью до минуты).",
            "Leads created in the period (UTC). Sent: the request went out (accepted, duplicate, rejected or uncertain); approved, cancelled, trash and pending are the statuses of accepted leads; approval rate: approved among those with a final status; payout: of approved leads; median: from the lead's creation to its first final status (to the minute).")))
        content.append(.tag("h2", text: w("По дням", "By day")))
        content.append(DailyChart.svg(report.days, title: w("Лиды по дням: отправлено и одобрено", "Leads per day: sent and approved"),
                                      sentLabel: w("отправлено", "sent"), approvedLabel: w("одобрено", "approved")))
        return Layout.document(ctx, title: ConsoleSection.funnel.title(w), section: .funnel, content)
    }

    static func health(_ ctx: PageContext, report h: HealthReport, oldestQueued: [LeadRecord], oldestUncertain: [LeadRecord]) -> String {
        let w = ctx.words
        let l = ctx.language
        var content: [HTML] = []
        if h.healthy {
            content.append(.tag("div", [.class("banner ok")], text: w("Всё в порядке.", "Healthy.")))
        } else {
            content.append(.tag("div", [.class("banner bad")], [
                .tag("strong", text: w("Проблемы:", "Problems:")),
                .tag("ul", h.problems.map { .tag("li", text: $0.text(l, now: h.now, words: ctx.problems)) }),
            ]))
        }
        content.append(.tag("h2", text: w("Последний проход sync по сетям", "Last sync pass per network")))
        if h.networks.isEmpty {
            content.append(Layout.empty(w("Аккаунтов нет и проходов sync не было.", "No accounts and no sync passes yet.")))
        } else {
            content.append(Layout.table([w("сеть", "network"), w("закончен", "finished"), w("длительность", "took"), w("итог", "outcome"), w("ошибка", "error"),
                                         w("отправлено", "sent"), w("опрошено", "polled"), w("изменений", "changes"), w("в очереди", "queued"),
                                         w("неопределённых", "uncertain"), w("отложено", "parked")], numeric: [5, 6, 7, 8, 9, 10],
                                        h.networks.map { n in
                                            let p = n.lastPass
                                            let outcome: HTML = p.map { .tag("span", [.class($0.outcome == .ok ? "ok" : "bad")], text: ctx.term(.syncOutcome($0.outcome))) }
                                                ?? .tag("span", [.class("muted")], text: w("не было", "none"))
                                            return [Layout.link(n.network, ConsolePath(["console", "networks", n.network])), .text(ctx.time(p?.finishedAt)),
                                                    .text(p.map { Duration.text($0.seconds, l) } ?? "—"), outcome, .text(p.flatMap { p in p.problem.map { ctx.problems($0, l) } ?? p.error } ?? ""),
                                                    .text(p.map { String($0.sent) } ?? "—"), .text(p.map { String($0.polled) } ?? "—"),
                                                    .text(p.map { String($0.changes) } ?? "—"), .text(String(n.queued)), .text(String(n.uncertain)), .text(String(n.parked))]
                                        }))
        }
        func ago(_ t: Int64?) -> String { t.map { Duration.text(h.now - $0, l) } ?? "—" }
        content.append(.tag("h2", text: w("Очереди", "Queues")))
        content.append(Layout.facts([
            (w("Очередь отправки", "Outbox depth"), .text(String(h.outbox.count))),
            (w("Просрочено (дольше порога)", "Overdue (beyond the threshold)"), .text(String(h.overdue))),
            (w("Самый старый в очереди ждёт", "Oldest queued lead waiting for"), .text(ago(h.outbox.oldestCreatedAt))),
            (w("Неопределённых", "Uncertain"), .text(String(h.uncertain.count))),
            (w("Самый старый неопределённый", "Oldest uncertain for"), .text(ago(h.uncertain.oldestUpdatedAt))),
            (w("Отложенных (parked)", "Parked"), .text(String(h.parked.count))),
            (w("Исходящие постбеки ждут", "Outgoing postbacks pending"), .text(String(h.outgoingPending))),
            (w("Самый старый исходящий просрочен на", "Oldest outgoing overdue by"),
             .text(h.outgoingOldestDueAt.map { $0 <= h.now ? Duration.text(h.now - $0, l) : w("не просрочен", "not due yet") } ?? "—")),
            (w("Исходящих не доставлено (сдались)", "Outgoing given up"), .text(String(h.outgoingFailed))),
        ]))
        content.append(.tag("h2", text: w("Самые старые лиды в очереди", "Oldest queued leads")))
        content.append(leadList(ctx, oldestQueued, since: { $0.createdAt }))
        content.append(.tag("h2", text: w("Самые старые неопределённые лиды", "Oldest uncertain leads")))
        content.append(leadList(ctx, oldestUncertain, since: { $0.updatedAt }))
        return Layout.document(ctx, title: ConsoleSection.health.title(w), section: .health, content)
    }

    static func leadList(_ ctx: PageContext, _ leads: [LeadRecord], since: (LeadRecord) -> Int64) -> HTML {
        let w = ctx.words
        guard !leads.isEmpty else { return Layout.empty(w("Нет.", "None.")) }
        return Layout.table([w("заказ", "order id"), w("сеть", "network"), w("аккаунт", "account"), w("с", "since"), w("ждёт", "waiting"), w("ошибка", "error")],
                            leads.map { r in
                                [Layout.link(r.orderId, ConsolePath(["console", "leads", String(r.rowId)])), .text(r.network), .text(r.account),
                                 .text(ctx.time(since(r))), .text(Duration.text(ctx.now - since(r), ctx.language)), .text(ctx.storedNote(r.lastError) ?? "")]
                            })
    }

    static func login(_ ctx: PageContext, csrf: String, next: String, error: String?) -> String {
        let w = ctx.words
        var form: [HTML] = [
            .tag("input", [.type("hidden"), .name("csrf"), .value(csrf)]),
            .tag("input", [.type("hidden"), .name("next"), .value(next)]),
            .tag("label", [.init("for", "token")], text: w("Токен консоли", "Console token")),
            .tag("input", [.type("password"), .id("token"), .name("token"), .init("autocomplete", "current-password"), .flag("required"), .flag("autofocus")]),
            .tag("p", [.tag("button", [.type("submit")], text: w("Войти", "Log in"))]),
        ]
        if let error { form.insert(.tag("p", [.class("error"), .init("role", "alert")], text: error), at: 0) }
        let other: Language = ctx.language == .ru ? .en : .ru
        return HTML.tag("html", [.init("lang", ctx.language.rawValue)], [
            .tag("head", [
                .tag("meta", [.init("charset", "utf-8")]),
                .tag("meta", [.name("viewport"), .init("content", "width=device-width, initial-scale=1")]),
                .tag("title", text: w("Вход", "Log in") + " — LeadBridge"),
                .tag("link", [.init("rel", "stylesheet"), .init("href", "/console/style.css")]),
            ]),
            .tag("body", [.tag("main", [.class("login")], [
                .tag("h1", text: "LeadBridge"),
                .tag("p", [.class("note")], text: w("Консоль оператора: только чтение.", "Operator's console: read-only.")),
                .tag("form", [.init("method", "post"), .init("action", "/console/login")], form),
                .tag("p", [Layout.link(other == .en ? "English" : "Русский", ctx.path.with("lang", other.rawValue))]),
            ])]),
        ]).renderDocument()
    }

    static func notFound(_ ctx: PageContext, what: String) -> String {
        Layout.document(ctx, title: ctx.words("Не найдено", "Not found"), section: nil, [Layout.empty(what)])
    }
}
