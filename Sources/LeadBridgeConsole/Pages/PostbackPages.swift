import LeadBridgeCore
import LeadBridgeStore

/// An unknown status word seen in stored postbacks: how often, when last, and the spec line
/// that would teach it.
struct UnknownWord: Sendable, Hashable {
    var network: String
    var word: String
    var count: Int
    var lastSeen: Int64
}

/// The Postbacks section: the latest raw postbacks (tokens masked), unmatched ones, unknown
/// status words.
enum PostbackPages {
    static func page(_ ctx: PageContext, latest: [RawPostbackRecord], unmatched: [RawPostbackRecord], unknown: [UnknownWord], config: LeadBridgeConfig) -> String {
        let w = ctx.words
        let redactor = Redactor(secrets: config.secretValues)
        var content: [HTML] = []
        content.append(.tag("h2", text: w("Неизвестные слова статуса", "Unknown status words")))
        if unknown.isEmpty {
            content.append(Layout.empty(w("Все слова статуса в постбеках известны.", "Every status word in the postbacks is known.")))
        } else {
            content.append(.tag("p", [.class("note")], text: w(
                "Такие постбеки сохранены и не применены. Добавьте слово в statuses спецификации сети в нужный список (approved, cancelled, trash, waiting или hold), затем: leadbridge postbacks-replay --unknown-statuses.",
                "These postbacks are stored, not applied. Add the word to the right list of the network spec's statuses (approved, cancelled, trash, waiting or hold), then run leadbridge postbacks-replay --unknown-statuses.")))
            content.append(Layout.table([w("сеть", "network"), w("слово", "word"), w("сколько", "count"), w("последний", "last seen"), w("строка для спецификации", "line for the spec")],
                                        numeric: [2],
                                        unknown.map { u in
                                            [Layout.link(u.network, ConsolePath(["console", "networks", u.network])), Layout.code(redactor.redact(u.word)),
                                             .text(String(u.count)), .text(ctx.time(u.lastSeen)), Layout.code(specLine(u, redactor: redactor))]
                                        }))
        }
        content.append(.tag("h2", text: w("Не сопоставленные", "Unmatched")))
        content.append(.tag("p", [.class("note")], text: w("Лида ещё нет в журнале: постбек применится, когда лид появится.",
                                                            "No such lead in the ledger yet: the postback applies when the lead arrives.")))
        content.append(unmatched.isEmpty ? Layout.empty(w("Нет.", "None.")) : rawTable(ctx, unmatched, redactor: redactor, withLead: false))
        content.append(.tag("h2", text: w("Последние постбеки", "Latest postbacks")))
        content.append(latest.isEmpty ? Layout.empty(w("Постбеков ещё не было.", "No postbacks yet.")) : rawTable(ctx, latest, redactor: redactor, withLead: true))
        return Layout.document(ctx, title: ConsoleSection.postbacks.title(w), section: .postbacks, content)
    }

    /// `"statuses": {"<list>": ["word"]}` with the network's file name: what to add.
    static func specLine(_ u: UnknownWord, redactor: Redactor) -> String {
        "Networks/\(u.network).json: \"statuses\": {\"approved|cancelled|trash|waiting|hold\": [… \(JSONWriter.quote(redactor.redact(u.word)))]}"
    }

    /// Stored postbacks as received (the receiver token already `***`; every configured secret
    /// masked again here), with their result.
    static func rawTable(_ ctx: PageContext, _ items: [RawPostbackRecord], redactor: Redactor, withLead: Bool) -> HTML {
        let w = ctx.words
        var headers = [w("время", "time"), w("сеть", "network"), w("адрес", "from"), w("запрос", "request"), w("итог", "result"), w("заметка", "note")]
        if withLead { headers.append(w("лид", "lead")) }
        return Layout.table(headers, items.map { p in
            var request = p.raw.method + " " + p.raw.path + (p.raw.query.isEmpty ? "" : "?" + p.raw.query)
            if !p.raw.body.isEmpty { request += "  " + String(decoding: p.raw.body.prefix(500), as: UTF8.self) }
            let resultClass = p.result == .applied ? "ok" : (p.result == .forbidden || p.result == .invalid || p.result == .unknownStatus ? "bad" : "warn")
            var row: [HTML] = [.text(ctx.time(p.raw.receivedAt)), .text(p.raw.network), .text(p.raw.remote), Layout.code(redactor.redact(request)),
                               .tag("span", [.class(resultClass)], text: ctx.term(.postback(p.result))), .text(redactor.redact(p.note ?? ""))]
            if withLead {
                row.append(p.leadRowId.map { Layout.link(p.orderId ?? String($0), ConsolePath(["console", "leads", String($0)])) } ?? .text(p.orderId ?? "—"))
            }
            return row
        })
    }
}
