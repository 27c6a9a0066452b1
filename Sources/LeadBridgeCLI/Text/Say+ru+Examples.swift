import LeadBridgeCore

/// What a spec example found different, in Russian: one wording per `ExampleDifference` case
/// (the compiler refuses a case without one; the English is `ExampleDifference.english`).
/// Values from the spec, the request or the response stay as written; a break inside a
/// difference keeps the expected and the built value aligned under each other.
extension Say {
    static func exampleDifferenceRU(_ d: ExampleDifference) -> String {
        func q(_ s: String) -> String { "\"\(s)\"" }
        /// "после 1 запроса", "после 2 запросов".
        func requests(_ n: Int) -> String { plural(n, "запроса", "запросов", "запросов") }
        switch d {
        case .method(let e, let b): return "метод: ожидался \(e), построен \(b)"
        case .url(let e, let b): return "url: ожидался \(e)\n     построен \(b)"
        case .urlQuery(let e, let b): return "строка запроса: ожидалась \(e)\n                построена \(b)"
        case .header(let n, let e, let b): return "заголовок \(n): ожидался \(q(e)), " + (b.map { "построен \(q($0))" } ?? "а его нет")
        case .fieldDiffers(let p, let k, let e, let b): return "\(partRU[p] ?? p.rawValue) \(k): ожидалось \(q(e)), построено \(q(b))"
        case .fieldMissing(let p, let k, let e): return "\(partRU[p] ?? p.rawValue) \(k): нет (ожидалось \(q(e)))"
        case .fieldNotExpected(let p, let k, let b): return "\(partRU[p] ?? p.rawValue) \(k): не ожидалось (построено \(q(b)))"
        case .fieldOrder(let p, let e, let b):
            return "\(partsRU[p] ?? p.rawValue): ожидался порядок \(e.joined(separator: ", ")); построен \(b.joined(separator: ", "))"
        case .jsonBytes: return "JSON: поля те же, байты другие (порядок ключей или экранирование)"
        case .body(let e, let b): return "тело: ожидалось \(e)\n      построено \(b)"
        case .inRequest(let n, let d): return "запрос \(n): \(exampleDifferenceRU(d))"
        case .sendEnded(let i, let o): return "обмен \(i): отправка закончилась после \(requests(i)) с результатом \(o ?? "?")"
        case .result(let e, let g, let m): return "результат: ожидался \(e), получен \(g)" + (m.map { " (\($0))" } ?? "")
        case .externalId(let e, let g): return "externalId: ожидался \(e), " + (g.map { "получен \($0)" } ?? "а его нет")
        case .message(let e, let g): return "сообщение: ожидалось \(q(e)), получено \(q(g))"
        case .sendNeedsMoreExchanges: return "отправке нужно больше обменов, чем даёт пример"
        case .cannotPrepare(let e): return Say.sendPreparation(e).ru
        case .cannotBuild(let m): return diagnosticRU(m)
        case .noPollBlock: return "в спецификации нет блока poll"
        case .pollEnded(let i): return "обмен \(i): опрос закончился после \(requests(i))"
        case .failureDiffers(let e, let g): return "ожидался сбой с \(q(e)), получено \(q(pollFailureRU(g)))"
        case .pollFailed(let f): return "сбой: \(pollFailureRU(f))"
        case .pollDidNotFail(let e): return "ожидался сбой опроса с \(q(e)), но его не было"
        case .pollWantsMore: return "опросу нужно больше запросов, чем даёт пример"
        case .noStatusFound(let l): return "лид \(l): статус не найден"
        case .status(let l, let e, let g, let raw): return "лид \(l): ожидался \(e), получен \(g ?? "неизвестный") (исходное значение \(raw))"
        case .raw(let l, let e, let g): return "лид \(l): ожидалось исходное значение \(q(e)), получено \(q(g))"
        case .noOutgoing(let o): return "нет исходящего постбэка \(q(o))"
        case .outgoingSendsNothing(let s, let o): return "ожидался запрос, но \(s) ничего не отправляет в \(o) для этого лида"
        case .accountLacks(let missing): return "в аккаунте примера не хватает: \(missing.joined(separator: ", "))"
        case .outgoingSends(let s, let w, let o): return "ожидалось, что запроса не будет, но \(s) отправляет \(q(w)) в \(o)"
        }
    }

    /// Why a poll answer gave no statuses, in Russian (what the network said stays as it came).
    static func pollFailureRU(_ f: PollFailure) -> String {
        switch f {
        case .said(let m): return m
        case .httpStatus(let s, let e): return "ответ HTTP \(s): \(e)"
        case .notJSON(let e): return "ответ — не ожидаемый JSON: \(e)"
        case .noItems(let p, let e): return "в ответе нет \"\(p)\": \(e)"
        case .notAList(let p, let t): return "\"\(p)\" — \(jsonTypeRU[t] ?? t), а не список"
        }
    }

    /// JSON type names (`JSONValue.typeName`) in the nominative case.
    static let jsonTypeRU = ["null": "null", "boolean": "логическое значение", "number": "число", "string": "строка", "array": "массив", "object": "объект"]

    /// One field of a request part ("поле формы amount").
    static let partRU: [ExampleDifference.Part: String] = [.query: "параметр запроса", .form: "поле формы", .json: "поле JSON"]
    /// The fields of a request part together ("поля формы: ожидался порядок …").
    static let partsRU: [ExampleDifference.Part: String] = [.query: "параметры запроса", .form: "поля формы", .json: "поля JSON"]
}
