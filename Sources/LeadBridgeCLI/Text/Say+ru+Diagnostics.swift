import LeadBridgeCore

/// Diagnostics of specs, configurations and templates in Russian: one wording per
/// `DiagnosticMessage` case (the compiler refuses a case without one; the English is
/// `DiagnosticMessage.english`, the stable form of `--json`). Keys, JSON syntax and names stay
/// as written.
extension Say {
    static func diagnosticRU(_ m: DiagnosticMessage) -> String {
        func q(_ s: String) -> String { "«\(s)»" }
        func dym(_ s: String?) -> String { suggestion(s, .ru) }
        func list(_ o: [String]) -> String {
            let quoted = o.map { "\"\($0)\"" }
            return quoted.count == 2 ? quoted.joined(separator: " или ") : quoted.joined(separator: ", ")
        }
        /// "должно быть X, а не <type>": JSON types in the instrumental case.
        func not(_ t: String) -> String { "а не " + (typeRU[t] ?? t) }
        switch m {
        case .notAnObject(let s, let found): return "\(subjectRU[s] ?? s.rawValue): должно быть объектом, \(not(found))"
        case .notAString(let found): return "должно быть строкой" + (found.map { ", \(not($0))" } ?? "")
        case .notAStringOrNull(let found): return "должно быть строкой или null, \(not(found))"
        case .notABoolean(let found): return "должно быть true или false, \(not(found))"
        case .notAnInteger(let found): return "должно быть целым числом, " + (found == "number" ? "а не дробным" : not(found))
        case .notANumber(let found): return "должно быть числом, \(not(found))"
        case .notAnArray(let found): return "должно быть массивом" + (found.map { ", \(not($0))" } ?? "")
        case .notStringOrStrings(let found): return "должно быть строкой или массивом строк, \(not(found))"
        case .notATemplate(let found): return "должно быть строкой-шаблоном, \(not(found))"
        case .notTemplateNames: return "должно быть именем основы или списком имён"
        case .notVarsObject(let found): return "должно быть объектом из имён и текстовых значений, \(not(found))"
        case .notAVarValue(let found): return "должно быть строкой (или null в основе: значение даёт сеть), \(not(found))"
        case .notALeadField: return "должно быть именем поля лида"
        case .notAnAmount: return "должно быть суммой, например \"1500\" или \"92.5\""
        case .notSeconds: return "должно быть числом секунд"
        case .notHTTPStatuses: return "должно быть кодом статуса HTTP, диапазоном вида \"2xx\" или их списком"
        case .notADate: return "должно быть датой вида 2026-01-02T03:04:05Z"
        case .outOfRange(let lower, let upper, let found): return "должно быть от \(lower) до \(upper), указано \(found)"
        case .notPositive: return "должно быть больше 0"
        case .notOneOf(let o, let found, let s):
            return "допустимо: \(list(o))" + (found.map { ", указано \(q($0))" } ?? "") + dym(s)
        case .notAClaim(let facts, let s): return "допустимо: \(facts.joined(separator: ", ")) или одно из них с частью (send.credentials)" + dym(s)
        case .unknownMacroMeaning(let v, let o, let s): return "неизвестное значение макроса \(q(v)); допустимо: \(o.joined(separator: ", "))" + dym(s)
        case .stopKind: return "допустимо: \"short-page\", \"empty-page\" или объект"
        case .fromMustBeBody: return "\"from\" может быть только \"body\" (или используйте \"json\" / \"header\")"
        case .unknownMethod(let v): return "неизвестный метод HTTP \(q(v))"

        case .unknownKey(let k, let s): return "неизвестный ключ \(q(k))" + dym(s)
        case .missingKey(let k): return "нет обязательного ключа \(q(k))"
        case .missingTail: return "нет обязательного ключа «tail» (null — для пункта, оставленного пустым)"
        case .tailNeedsNote: return "пункту без tail нужна заметка \"note\": что делать"
        case .missingOutcomes: return "нет обязательного ключа «outcomes»: опишите, как отвечает сеть"
        case .stopNeedsOne: return "укажите одно из: \"hasMore\", \"total\", \"totalPages\""
        case .missingPollStatus: return "нет обязательного ключа «status» (путь к статусу в элементе)"
        case .authNeedsOne: return "для auth нужно одно из: \"bearer\", \"basic\", \"header\", \"query\", \"form\""
        case .hmacNeedsKey: return "для HMAC нужен ключ \"key\""
        case .signatureNeedsPlace: return "укажите, куда идёт подпись: \"query\", \"form\", \"header\" или \"json\""
        case .conditionNeedsOne: return "условию нужно \"http\", \"json\" или \"body\""
        case .credentialTwice(let k): return "учётные данные \(q(k)) указаны дважды"
        case .parameterTwice(let k): return "параметр \(q(k)) указан дважды"

        case .translationPlain: return "просто строка: укажите {\"ru\": …, \"en\": …}"
        case .translationNoEnglish: return "нет английского текста (\"en\"); вместо него показывается русский"
        case .idEmpty: return "не должен быть пустым"
        case .idInvalid(let id): return "допустимы строчные латинские буквы, цифры и «-», в начале буква или цифра, указано \(q(id))"
        case .idMismatch(let id, let file): return "id \(q(id)) не совпадает с именем файла \(q(file + ".json"))"
        case .idAlsoIn(let id, let file): return "id \(q(id)) определён также в \(file)"
        case .idIsAlias(let id, let of): return "id \(q(id)) уже служит псевдонимом \(q(of))"
        case .aliasTaken(let a, let by): return "псевдоним \(q(a)) уже занят \(q(by))"
        case .fileTooLarge(let size, let limit):
            return size.map { "файл занимает \($0) байт; предел — \(limit) (см. docs/limits.md)" }
                ?? "файл больше предела в \(limit) байт (см. docs/limits.md)"
        case .jsonSyntax(let p): return jsonSyntaxRU(p)
        case .unknownTemplate(let t, let s): return "неизвестная основа \(q(t))" + dym(s)
        case .extendsCycle(let names): return "основы расширяют друг друга по кругу: \(names.joined(separator: " → "))"
        case .statusConflict(let word, let buckets):
            return "\(q(word)) указано сразу в \(buckets.joined(separator: " и "))"
        case .statusWordBlank: return "слово статуса не должно быть пустым или окружённым пробелами"
        case .unknownStatusKey(let w): return "\(q(w)) — не слово статуса этой спецификации"
        case .invalidRegex: return "некорректное регулярное выражение"
        case .regexNeedsCapture: return "нужно регулярное выражение с группой захвата для id заказа"
        case .pathNeedsSlash: return "должен начинаться с /"
        case .varName(let n): return "имя — строчные латинские буквы, цифры и «_», в начале буква; указано \(q(n))"
        case .varValue(let v): return "нужно непустое значение без пробелов и фигурных скобок, указано \(q(v))"
        case .varMissing(let n): return "у {vars.\(n)} нет значения: укажите \"vars\": {\"\(n)\": …} в спецификации сети"
        case .varUnknown(let n, let s, let noVars): return "{vars.\(n)} не объявлена в \"vars\"" + (noVars ? " (в спецификации нет \"vars\")" : dym(s))
        case .sourceURL: return "должен быть адресом http:// или https://"
        case .sourceNeedsWhere: return "источнику нужен \"url\", \"repository\" с \"path\" или \"where\""
        case .unknownLeadField(let f, let s): return "\(q(f)) — не поле лида" + dym(s)
        case .examplesNeedSend: return "примерам нужен блок \"send\""
        case .pollExamplesNeedPoll: return "примерам опроса нужен блок \"poll\""
        case .noOutgoing(let o, let s): return "нет исходящего постбэка \(q(o))" + dym(s)
        case .exampleLeadInvalid(let e): return "неверный лид: \(e.field): " + leadProblemRU(e.problem)
        case .exampleFails(let name, let d): return "пример \(q(name)) не выполняется: " + DiagnosticMessage.oneLine(d.map(exampleDifferenceRU))

        case .urlScheme: return "должен начинаться с http:// или https://"
        case .urlLiteralScheme: return "должен начинаться с явно записанных схемы http:// или https:// и хоста"
        case .oneBody(let b): return "укажите только одно тело: \(b.joined(separator: ", "))"
        case .getWithBody: return "у запроса GET не может быть тела"
        case .authFormBody: return "для auth \"form\" нужно тело \"form\" или \"multipart\""
        case .windowWithBatch: return "опрос по окну спрашивает за период, а не пачками id: уберите \"batch\""
        case .lookupNeedsList: return "lookup заменяет листание списка: опросу нужна \"pagination\" или \"window\""
        case .requiresBraces: return "пишите имя без фигурных скобок: \"lead.phone\", а не \"{lead.phone}\""
        case .notAPlaceholder(let r): return "не имя подстановки: \(q(r))"
        case .notAClickPlaceholder(let r): return "не имя подстановки (пишите lead.click_id, без фигурных скобок): \(q(r))"

        case .unclosedBrace(let s): return "незакрытая «{» в \(q(s)) (для самой скобки пишите «{{»)"
        case .strayBrace(let s): return "лишняя «}» в \(q(s)) (для самой скобки пишите «}}»)"
        case .emptyPlaceholder(let b): return "пустая подстановка «{\(b)}»"
        case .invalidPlaceholder(let n): return "недопустимое имя подстановки «\(n)»"
        case .unknownFilter(let f, let s): return "неизвестный фильтр «\(f)»" + dym(s)
        case .filterTakesNoArgument(let f): return "фильтр «\(f)» не принимает аргумента"
        case .filterNeedsArgument(let f): return "фильтру «\(f)» нужен аргумент («\(f):…»)"
        case .firstNeedsNumber: return "фильтру «first» нужно число («first:20»)"
        case .daysBeforeRange: return "фильтру «daysBefore» нужно число дней от 0 до 366 («daysBefore:1»)"
        case .unknownPlaceholder(let p, let s): return "неизвестная подстановка {\(p)}" + dym(s)
        case .placeholderNeedsKey(let f): return "для {lead.\(f)} нужен ключ: {lead.\(f).NAME}"
        case .noStepExtracts(let p, let steps): return "неизвестная подстановка {\(p)}: её не извлекает ни один предыдущий шаг (шаги: \(steps.joined(separator: ", ")))"
        case .placeholderHasNoFields(let r): return "у {\(r)} нет полей"
        case .notIntegerValue(let p, let t): return "{\(p)} — не целое число: \(q(t))"
        case .notNumberValue(let p, let t): return "{\(p)} — не число: \(q(t))"
        case .notBooleanValue(let p, let t): return "{\(p)} — не логическое значение: \(q(t))"
        case .signatureNeedsJSONObject: return "подпись в JSON-тело требует тела-объекта JSON"
        case .headerUnsafe(let n): return "заголовок \(n) содержал бы перевод строки, двоеточие или пробел"
        case .urlPlaceholderEmpty(let n): return "адресу нужен {\(n)}, а у него нет значения"
        case .urlPlaceholderNotHTTP(let n): return "{\(n)} — не адрес http(s)"
        case .urlStartsNotHTTP(let n): return "адрес начинается с {\(n)}, а это не адрес http(s)"
        case .urlNotHTTP: return "адрес запроса — не адрес http(s)"

        case .noSource(let fact):
            return "ни один источник не подтверждает \(q(fact)): добавьте его в \"sources\" (url или repository и path, \"supports\": [\"\(fact)\"], уверенность)"
        case .noDedupeSource:
            return "ни один источник не подтверждает «send.dedupe»: повторная отправка лида, который мог дойти, безопасна, только если сеть отклоняет повтор id заказа; добавьте источник с \"supports\": [\"send.dedupe\"]"
        case .dedupeNeedsSend: return "\"dedupe\" описывает, как сеть принимает лиды: нужен блок \"send\""
        case .outcomePathUnknown(let p, let s): return "\(q(p)) нет ни в одном примере ответа" + dym(s)
        case .outcomePathUnseen(let p): return "\(q(p)) не встречается ни в одном примере ответа"
        case .pollPathUnknown(let what, let p, let s, let keys):
            return "путь \(what) \(q(p)) не найден ни в одном элементе ответов примеров опроса" + dym(s)
                + (keys.isEmpty ? "" : " (в элементах есть: " + keys.joined(separator: ", ") + ")")
        case .pollPathUnseen(let what, let p): return "путь \(what) \(q(p)) не встречается ни в одном элементе ответов примеров опроса"
        case .emptyTail: return "пустой tail: для пункта, оставленного пустым, укажите null и заметку"
        case .tailKeyUnknown(let k, let s): return "приёмник не читает \(q(k))" + dym(s)
        case .tailOverrideConflict(let k, let w, let says, let statuses):
            return "\(k)=\(w) относит \(q(w)) к \(says), а \"statuses\" — к \(statuses)"
        case .secretInTail(let macro): return "\(macro) — секретные учётные данные: их напечатают менеджеру для вставки"
        case .macroUndeclared(let macro): return "макрос \(macro) не объявлен в \"postbacks.macros\" (опишите, что сеть туда подставляет)"
        case .macroUnused(let macro): return "макрос \(macro) объявлен, но ни один tail его не использует"
        case .tailStatusUnknown(let w): return "слова статуса \(q(w)) из этого tail нет ни в одной группе \"statuses\""

        case .configTooLarge(let size, let limit): return "конфигурация занимает \(size) байт; предел — \(limit) (см. docs/limits.md)"
        case .envUnclosed: return "незакрытая ${ в значении (пишите ${ИМЯ})"
        case .envUnset(let n): return "переменная окружения \(n) не задана"
        case .nameLength(let s, let limit): return "имя \(s == .source ? "источника" : "аккаунта") — от 1 до \(limit) символов"
        case .unknownNetwork(let n, let s, let hint):
            return "неизвестная сеть \(q(n))" + dym(s) + (hint ? " (список — 'leadbridge networks')" : "")
        case .unknownCredential(let n, let k, let s, let allowed):
            return "у \(n) нет учётных данных \(q(k))" + dym(s) + (allowed.isEmpty ? " (она их не принимает)" : " (принимает: " + allowed.joined(separator: ", ") + ")")
        case .unknownParameter(let n, let k, let s, let allowed):
            return "у \(n) нет параметра \(q(k))" + dym(s) + (allowed.isEmpty ? " (она не принимает параметров)" : " (принимает: " + allowed.joined(separator: ", ") + ")")
        case .missingCredential(let k, let label, let n): return "нет учётных данных \(q(k)) (\(label.text(.ru))) для \(n)"
        case .paramMismatch(let v, let p, let d): return "\(v.map(q) ?? "значение переменной") не соответствует \(p) (\(d.text(.ru)))"
        case .notASource(let n): return "\(n) — не источник трафика: в её спецификации нет исходящих постбэков"
        case .priceNeedsOne: return "укажите одно из: \"fixed\", \"offers\" или \"payout\""
        case .priceOnlyOne(let kinds): return "укажите только одно из: \(kinds.joined(separator: ", "))"
        case .priceDefaultWithOffers: return "\"default\" указывается вместе с \"offers\""
        case .notAnAmountText(let t): return "\(q(t)) — не сумма (цифры, до 6 знаков после точки: \"1500\", \"92.5\")"
        case .weakToken(let minimum): return "токен консоли должен быть не короче \(minimum) символов (он защищает данные журнала)"
        case .unknownIntakeAccount(let a, let s): return "маршрут приёма ведёт к неизвестному аккаунту \(q(a))" + dym(s)
        }
    }

    /// JSON types in the instrumental case ("должно быть строкой, а не числом").
    static let typeRU = ["null": "null", "boolean": "логическим значением", "number": "числом", "string": "строкой",
                         "array": "массивом", "object": "объектом"]

    static let subjectRU: [DiagnosticMessage.Subject: String] = [
        .value: "значение", .text: "текст", .source: "источник", .spec: "спецификация", .catalog: "каталог",
        .statusDefaults: "статусы по умолчанию", .configuration: "конфигурация", .account: "аккаунт",
    ]
}
