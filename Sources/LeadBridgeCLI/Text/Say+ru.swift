import LeadBridgeCore
import LeadBridgeEngine
import LeadBridgeEmulator
import LeadBridgeNet

/// Русский каталог: все сообщения и строки справки командной строки (язык по умолчанию).
extension Say {
    /// Why a network's part of a sync pass failed, in Russian (what the network said stays as it came).
    static func syncProblemRU(_ p: SyncProblem) -> String {
        switch p {
        case .noSendSpec(let n): return "у спецификации \(n) нет блока send"
        case .accountNotConfigured(let a): return "аккаунта \(a) нет в конфигурации"
        case .accountUnavailable(let a, let unset): return "аккаунт \(a): " + unset.map { diagnosticRU(.envUnset($0)) }.joined(separator: "; ")
        case .accountRefused(let a, let m):
            return "аккаунт \(a): \(m ?? "сеть отклонила аккаунт") (лиды ждут в очереди: исправьте аккаунт в конфигурации)"
        case .everySendFailed: return "все отправки не удались (будут повторены)"
        case .pollRequestUnbuildable(let m): return "не удаётся построить запрос статусов: \(m)"
        case .pollRequestInvalid(let d): return "не удаётся построить запрос статусов: " + diagnosticRU(d)
        case .pollUnreached(let k, let p): return "опрос статусов: " + transportRU(k, p)
        case .pollFailed(let m): return "опрос статусов: \(m)"
        case .pollAnswer(let f): return "опрос статусов: " + pollFailureRU(f)
        }
    }

    /// The lifecycle's reasons in Russian.
    static func reasonRU(_ r: LifecycleReason) -> String {
        func state(_ s: SendState) -> String { stateRU[s.rawValue] ?? s.rawValue }
        func bucket(_ b: Bucket) -> String { bucketRU[b.rawValue] ?? b.rawValue }
        switch r {
        case .note(let n):
            switch n {
            case .duplicateResendKeepsAccepted: return "лид уже у сети: ответ «дубль» на повторную отправку оставляет его принятым"
            case .duplicateOfOwnAttempt: return "дубль нашей же прежней попытки, которая дошла до сети"
            case .rejectedResendKeepsAccepted: return "лид уже у сети: отклонённая повторная отправка оставляет его принятым"
            case .lateAccountError: return "запоздалый ответ на прежнюю попытку: аккаунт неверен, лид остаётся как есть (может идти другая попытка)"
            case .accountIsWrong: return "неверен аккаунт, а не лид: лид ждёт в очереди, пока аккаунт не исправят"
            case .lateRejected: return "запоздалый ответ на прежнюю попытку: та отклонена, лид остаётся как есть, пока идёт другая попытка"
            case .lateNotReceived: return "запоздалый ответ на прежнюю попытку: та не дошла, другая могла дойти; лид остаётся как есть"
            case .resendGaveUp: return "повторная отправка не удалась; лид по-прежнему у сети"
            case .networkHoldsIt: return "лид уже у сети"
            case .dedupeSafeToResend: return "сеть отклоняет повторный номер заказа: отправить снова безопасно"
            case .mayHaveReached: return "мог дойти до сети: решится опросом статусов, постбэком сети, командой settle или --resend"
            case .releasedBeforeWrite: return "освобождён до отправки запроса"
            case .interruptedResend: return "повторная отправка прервана; лид у сети"
            case .interruptedDedupe: return "отправка прервана; сеть отклоняет повторный номер заказа"
            case .interruptedWhileSending: return "отправка прервана: проверьте кабинет сети, затем выполните settle или отправьте снова с --resend"
            case .networkReportsOnIt: return "сеть сообщает его статус: лид у неё"
            case .resentOnPurpose: return "отправлен повторно намеренно"
            case .foundAtNetwork: return "оператор нашёл его в кабинете сети"
            case .notAtNetwork: return "оператор не нашёл его в кабинете сети: отправляется снова"
            case .repeated: return "повтор"
            case .firstFinalWordStays: return "остаётся первый окончательный статус"
            case .newWordOrDetail: return "новое слово или уточнение статуса"
            case .chargeback: return "чарджбэк (сеть отозвала одобрение)"
            }
        case .inState(let n, let s):
            switch n {
            case .notDue: return "ещё не время отправлять (\(state(s)))"
            case .claimLost: return "лид больше не закреплён за этой отправкой (\(state(s))): не отправлен"
            case .nothingInFlight: return "ничего не отправлялось (\(state(s)))"
            case .beingSent: return "отправляется прямо сейчас (\(state(s)))"
            case .onlyUncertainSettled: return "settle применяется только к лиду в состоянии uncertain (\(state(s)))"
            }
        case .otherNetwork(let reporter, let network): return "статус от \(reporter) для лида, отправленного в \(network)"
        case .finalNeverPending(let from): return "«\(bucket(from))» — окончательный статус: в ожидание он не возвращается"
        case .needsChargebacks(let to): return "«\(bucket(.approved))» → «\(bucket(to))» возможно только у сети с чарджбэками"
        case .externalIdTaken(let id, let order): return "сеть ответила внешним id \(id), который уже у заказа \(order)"
        case .alreadyInLedger(let s): return "уже в журнале (\(state(s))): без --resend повторно в очередь не ставится"
        case .noRule(let e, let s): return "нет правила для события «\(e.rawValue)» в состоянии \(state(s))"
        case .noStatusRule(let from, let to): return "нет правила статусов для \(from.map(bucket) ?? "—") → \(bucket(to))"
        case .parked(let n, let last): return "отложен после " + plural(n, "попытки", "попыток", "попыток") + ": " + (Say.storedNote(last, .ru) ?? last)
        case .statusRefused(let inner): return "статус отклонён: " + reasonRU(inner)
        }
    }

    var ru: String {
        switch self {
        case .raw(let s): return s

        case .errorPrefix: return "leadbridge: ошибка: "
        case .warningPrefix: return "предупреждение: "
        case .usageHint(let c): return "справка: leadbridge \(c.map { $0 + " " } ?? "")--help"
        case .unknownCommand(let c, let s):
            return "неизвестная команда «\(c)»" + Say.suggestion(s.map { "«\($0)»" }, .ru) + "\nсписок команд: leadbridge --help"
        case .unknownOption(let o, let s): return "неизвестный параметр \(o)" + Say.suggestion(s, .ru)
        case .optionNeedsValue(let o, let v): return "параметру \(o) нужно значение (\(v))"
        case .optionGivenTwice(let o): return "параметр \(o) указан дважды"
        case .optionTakesNoValue(let o): return "параметр \(o) не принимает значения"
        case .missingOption(let o): return "не указан \(o)"
        case .missingArgument(let a):
            switch a {
            case .networkId: return "не указан id сети (список: leadbridge networks)"
            case .postbackQuery: return "не указана строка постбека, например 'oid=A-1&status=approve'"
            case .orderId: return "не указан id заказа"
            case .newId: return "не указан id новой сети, например acme"
            case .storeFrom: return "не указано ОТКУДА (путь к файлу или адрес postgres://)"
            case .storeTo: return "не указано КУДА (путь к файлу или адрес postgres://)"
            case .reportFile: return "не указан файл отчёта (CSV), скачанный в кабинете сети"
            }
        case .unexpectedArgument(let a): return "лишний аргумент «\(a)»"
        case .languageInvalid(let l): return "--lang: ru или en, указано «\(l)»"
        case .overviewTitle: return "leadbridge — связь заказов с CPA-сетями"
        case .commandsHeading: return "Команды:"
        case .helpOnACommand: return "Справка по команде: leadbridge КОМАНДА --help"
        case .usagePrefix: return "Использование: "
        case .optionsHeading: return "Параметры:"
        case .didYouMean(let s): return "(может быть, \(s)?)"

        case .unknownNetwork(let n, let closest):
            return "неизвестная сеть «\(n)»" + (closest.isEmpty ? "" : "; похожие: " + closest.joined(separator: ", ")) + " (список: leadbridge networks)"
        case .specProblem(let d): return "ошибка в спецификации (проверка: leadbridge lint): \(d)"
        case .cannotRead(let p): return "не удаётся прочитать \(p)"
        case .noSuchPath(let p): return "нет такого файла или папки: \(p)"
        case .noSpecsFound: return "спецификации сетей не найдены: укажите в LEADBRIDGE_HOME папку с Networks/ и Templates/ или передайте --networks ПАПКА"
        case .noShippedTemplates: return "не найдена папка Templates/: укажите в LEADBRIDGE_HOME папку с Networks/ и Templates/"
        case .configTooLarge(let p, let size, let limit): return "файл настроек \(p) — \(size) байт, предел \(limit) (см. docs/limits.md)"
        case .cannotReadConfig(let p): return "не удаётся прочитать настройки \(p) (укажите --config или LEADBRIDGE_CONFIG)"
        case .noConfiguration: return "нет настроек"
        case .store(let d): return "хранилище: " + d.text(.ru)
        case .postgresNotYet: return "хранилище PostgreSQL пока не поддерживается: укажите в \"store\" путь к файлу (SQLite)"
        case .storeGoneMidPass(let d): return "хранилище: " + d.text(.ru) + "; следующий проход продолжит с того места, где остановился этот"
        case .networkLockHeld(let w): return "другой sync держит сеть \(w)"
        case .lockHeld(let p, let h): return "другой sync держит блокировку \(p) (\(h))"
        case .lockUnusable(let p, let r): return "нельзя использовать файл блокировки \(p): \(r)"

        case .baseMustBeURL: return "--base должен быть адресом http:// или https://"
        case .unknownDocument(let d): return "неизвестный документ «\(d)» (есть: docs intake)"
        case .lintSummary(let s, let e, let w):
            return plural(s, "спецификация", "спецификации", "спецификаций") + ", " + plural(e, "ошибка", "ошибки", "ошибок") + ", "
                + plural(w, "предупреждение", "предупреждения", "предупреждений")
        case .postbackProblem(let n, let e): return "постбек для \(n): \(e.field): " + Say.postbackProblemRU(e.problem)
        case .postbackFields: return "лид\tвнешний id\tстатус\tисходный статус\tуточнение\tвыплата\tвалюта\tкомментарий\tпричина"

        case .cannotReadLead(let p): return "не удаётся прочитать файл лида \(p)"
        case .leadSyntax(let p, let pos, let m): return "\(p):\(pos): " + Say.jsonSyntaxRU(m)
        case .leadProblem(let source, let e): return "\(source): \(e.field): " + Say.leadProblemRU(e.problem)
        case .leadTooLarge(let source, let size, let limit): return "\(source): лид — \(size) байт, предел \(limit) (см. docs/limits.md)"
        case .accountOfOtherNetwork(let a, let n, let w): return "аккаунт \(a) относится к сети \(n), а не \(w)"
        case .unknownAccount(let a, let s, let n, let has):
            return "неизвестный аккаунт «\(a)»" + Say.suggestion(s.map { "«\($0)»" }, .ru) + (has ? "" : " (в настройках нет аккаунтов сети \(n))")
        case .clickIdNeedsSource: return "--click-id относится к источнику трафика: укажите и --source NAME"
        case .clickIdOneLead: return "--click-id указывается для одного лида: в пакете у каждого лида своё поле click_id"
        case .unknownSource(let n, let s, let has):
            return "неизвестный источник трафика «\(n)»" + Say.suggestion(s.map { "«\($0)»" }, .ru) + (has ? "" : " (добавьте его в \"sources\" настроек)")
        case .sourceLacksSettings(let n, let missing, let postbacks):
            return "у источника \(n) нет \(missing.joined(separator: ", ")) — это нужно его постбекам «\(postbacks.text(.ru))»: добавьте в sources.\(n) настроек"
        case .noSendAPI(let n): return "у \(n) нет известного API отправки: передавайте лиды по документации API, полученной у менеджера сети"
        case .cannotSendLead(let n, let l, let d): return "\(n), лид \(l): \(d)"
        case .sendFailure(let f): return Say.sendFailureRU(f)
        case .serverNotice(let n): return Say.serverNoticeRU(n)
        case .sendPreparation(let e):
            switch e {
            case .invalidLead(let f, .paramRequired(let n, let d)): return "неверный лид: \(f) обязателен для \(n): \(d.text(.ru))"
            case .invalidLead(let f, .paramMismatch(let p)): return "неверный лид: \(f) не соответствует \(p)"
            case .invalidLead(let f, .requiredBy(let n)): return "неверный лид: \(f) — обязательное поле для \(n)"
            case .missingCredential(let k, let n): return "у аккаунта нет учётных данных «\(k)», которых требует \(n)"
            case .noSendAPI(let n): return Say.noSendAPI(n).ru
            case .build(let m): return "не удаётся построить запрос: " + Say.diagnosticRU(m)
            }
        case .alreadySent(let l, let n, let state, let status, let ext, let at):
            var what = state
            if let status { what += ", статус \(status)" }
            if let ext { what += ", внешний id \(ext)" }
            return "лид \(l) уже отправлялся в \(n) (\(what), \(at)); чтобы отправить его снова намеренно, добавьте --resend"
        case .beingSent(let l): return "лид \(l) сейчас отправляет другой процесс"
        case .exampleAccountOnlyForDryRun: return "аккаунт example — только для --dry-run; для настоящей отправки нужен аккаунт из leadbridge.json"
        case .storeAfterAnswer(let d, let a): return "хранилище: \(d) (сеть ответила: \(a))"
        case .sendResult(let n, let l, let o, let ext, let m, let next):
            var line = "\(n) \(l): \(o)"
            if let ext { line += " (внешний id \(ext))" }
            if let m { line += ": \(m)" }
            switch next {
            case .none: break
            case .retriedBySync(let due): line += "; лид остаётся в очереди: следующий 'leadbridge sync' повторит отправку" + (due.map { " с \($0)" } ?? "")
            case .parked(let n): line += "; отложен после попыток: \(n); исправьте причину и отправьте снова с --resend"
            case .accountToFix(let a):
                line += "; ошибка в аккаунте, а не в лиде: лид остаётся в очереди (попытка не засчитана). Исправьте аккаунт \(a) в настройках; следующий 'leadbridge sync' отправит его"
            }
            return line
        case .dryRunStep(let i, let n): return "# шаг \(i) из \(n)"
        case .leadRepeated(let s, let id, let first): return "\(s): лид \(id) уже встречался выше (\(first)): пропущен, лид отправляется один раз"
        case .queueAndDryRun: return "--queue и --dry-run вместе не используются: --dry-run показывает запросы, --queue записывает лиды для sync"
        case .batchLeadHeading(let id): return "# лид \(id)"
        case .batchProgress(let d, let t, let q): return (q ? "в очереди" : "отправлено") + " \(d) из \(t)"
        case .batchAlready(let n, let l, let s): return "\(n) \(l): уже в журнале (\(s)), оставлен как есть; --resend отправит его снова"
        case .batchColumns: return "итог\tлидов"
        case .batchOutcome(let o):
            switch o {
            case .already: return "уже в журнале"
            case .refused: return "не отправлен"
            case .invalid: return "ошибка в файле"
            default: return Say.stateRU[o.rawValue] ?? o.rawValue
            }
        case .batchQueuedNext(let n): return "в очереди " + plural(n, "лид", "лида", "лидов") + ": их отправит следующий 'leadbridge sync'"
        case .signatureInput: return "# строка подписи: "
        case .signature: return "# подпись: "
        case .exampleResult(let passed): return passed ? "ок  " : "НЕТ "
        case .passedFailed(let p, let f): return "прошло: \(p), не прошло: \(f)"

        case .state(let s): return Say.stateRU[s] ?? s
        case .bucket(let b): return Say.bucketRU[b] ?? b
        case .syncColumns: return "сеть\tотправлено\tпринято\tдубли\tотклонено\tсбои\tопрошено\tзапросов\tизменений\tпроблема"
        case .unknownStatuses(let w): return "неизвестные статусы: " + w.joined(separator: ", ")
        case .nothingToDo: return "делать нечего"
        case .syncProblem(let p): return Say.syncProblemRU(p)
        case .sourceWithoutSpec(let s, let n): return "источник \(s): нет спецификации сети \(n)"
        case .uncertainWarning(let n, let leads):
            return plural(n, "лид", "лида", "лидов") + " мог(ли) дойти до сети, теперь «неопределённые» (uncertain, сами повторно не отправляются): "
                + leads.joined(separator: ", ")
        case .uncertainSettledBy(let network, let ways): return "  \(network): решается так: " + ways.joined(separator: "; ")
        case .uncertainOpen(let n): return "неопределённых лидов (uncertain), ждущих решения: \(n) — leadbridge leads --state uncertain"
        case .stateFilterInvalid(let s, let sug, let all): return "--state: одно из " + all.joined(separator: ", ") + ", а не «\(s)»" + Say.suggestion(sug, .ru)
        case .uncertainInList(let n):
            return "неопределённых (uncertain): \(n) — могли дойти до сети, сами повторно не отправляются; что их решает, покажет 'leadbridge lead ID'"
        case .uncertainLead(let network, let ways): return "  мог дойти до \(network), сам повторно не отправляется; решается так: " + ways.joined(separator: "; ")
        case .settlement(let way, let lead, let network):
            switch way {
            case .postback: return "его постбек"
            case .poll: return "следующий опрос статусов"
            case .settle: return "leadbridge settle \(lead) --network \(network) --as accepted|not-sent"
            case .resend: return "leadbridge send \(network) --lead ФАЙЛ --account ИМЯ --resend"
            }
        case .settleAsInvalid(let w, let sug): return "--as: accepted или not-sent, а не «\(w)»" + Say.suggestion(sug, .ru)
        case .noLeadAtNetwork(let l, let n, let sentTo):
            return "лида «\(l)» для сети \(n) в журнале нет" + (sentTo.isEmpty ? "" : " (он отправлялся в: \(sentTo.joined(separator: ", ")))")
        case .settleRefused(let l, let n, let state, let reason): return "\(l) в \(n): состояние «\(Say.stateRU[state] ?? state)», а не uncertain: \(Say.reasonRU(reason)); ничего не изменено"
        case .settledLead(let l, let n, let from, let to, let accepted):
            return "\(l) в \(n): \(from) → \(to); " + (accepted ? "лид есть в сети: его статус теперь опрашивается" : "лид в очереди: следующий 'leadbridge sync' отправит его снова")
        case .statusChanges(let n): return "изменений статуса: \(n)"
        case .unavailableAccount(let a, let p): return "аккаунт \(a) пропущен: \(p)"
        case .statusFilterInvalid: return "--status: pending, approved, cancelled или trash"
        case .leadsColumns: return "лид\tсеть\tотправка\tстатус\tисходный\tвнешний id\tвыплата\tобновлён"
        case .noLeads: return "лидов нет"
        case .leadHeadline(let l, let n, let a, let state, let status, let ext, let source):
            return "\(l) в \(n) (аккаунт \(a)): \(state), статус \(status ?? "—")" + (ext.map { ", внешний id \($0)" } ?? "") + (source.map { ", от \($0)" } ?? "")
        case .lastError(let e): return "  последняя ошибка: \(e)"
        case .journalSource(let s): return Say.sourceRU[s] ?? s
        case .journalKind(let k): return Say.journalKindRU[k] ?? k
        case .lifecycleReason(let r): return Say.reasonRU(r)
        case .diagnostic(let d): return d.line(Say.diagnosticRU(d.message))
        case .diagnosticMessage(let m): return Say.diagnosticRU(m)
        case .emulatorFaults(.notNameNumber(let item)): return "сбой «\(item)» не вида ИМЯ=ЧИСЛО"
        case .emulatorFaults(.unknownFault(let name, let known)): return "неизвестный сбой «\(name)» (допустимо: \(known.joined(separator: ", ")))"
        case .connectToRule(.notHostAddressPort(let r)): return "правило connect-to «\(r)» не вида ХОСТ=АДРЕС:ПОРТ"
        case .connectToRule(.notLoopback(let r)): return "правило connect-to «\(r)»: допустимы только адреса loopback (127.x.x.x, ::1, localhost)"
        case .exampleDifference(let d): return Say.exampleDifferenceRU(d)
        case .journalAttempt(let n, let o): return "попытка \(n): \(o)"
        case .leadLabel(let id): return "лид \(id)"
        case .receipt(.notReceived): return "не дошёл до сети"
        case .receipt(.maybeReceived): return "мог дойти до сети"
        case .postbackResult(let r):
            switch r {
            case .received: return "получен"
            case .applied: return "применён"
            case .unmatched: return "лид пока не найден"
            case .unknownStatus: return "неизвестный статус"
            case .otherNetwork: return "лид другой сети"
            case .unknownNetwork: return "неизвестная сеть"
            case .forbidden: return "отказано (токен или адрес)"
            case .invalid: return "неверный постбек"
            }
        case .outgoingState(let s): return Say.outgoingStateRU[s.rawValue] ?? s.rawValue
        case .milliseconds(let n): return "\(n) мс"
        case .journalStatus(let from, let to, let raw): return "статус \(from ?? "—") → \(to ?? "—")" + (raw.map { " (\($0))" } ?? "")
        case .noSuchLead(let id): return "лида «\(id)» в журнале нет"
        case .outgoingHeading(let source): return "  постбеки \(source.map { "источнику \($0)" } ?? "источнику"):"
        case .outgoingLine(let source, let kind, let status, let state, let attempts, let next, let request):
            return ["\(source) \(kind) \(status)", Say.outgoingStateRU[state] ?? state, "попыток: \(attempts)"].joined(separator: "  ")
                + (next.map { "  следующая \($0)" } ?? "") + "  " + request
        case .outgoingAnswers(let a): return "ответы: " + a
        case .replayOneOrAll: return "укажите --replay ID или --replay-all, не оба сразу"
        case .replayNeedsNumber: return "--replay принимает номер постбека (их показывает leadbridge outgoing --failed)"
        case .noFailedOutgoing(let id): return "неудавшегося исходящего постбека \(id) нет (их показывает leadbridge outgoing --failed)"
        case .outgoingReplayed(let n): return "снова в очереди постбеков: \(n); их доставит следующий 'leadbridge sync' (или работающий serve)"
        case .noOutgoing(let failedOnly): return failedOnly ? "неудавшихся исходящих постбеков нет" : "исходящих постбеков нет"
        case .outgoingReplayHint: return "повторить один: 'leadbridge outgoing --replay ID', все неудавшиеся: --replay-all — когда причина устранена"
        case .exportNeedsFormat: return "укажите формат: --csv"
        case .schemaUpToDate(let p, let v): return "\(p): версия схемы \(v), обновлять нечего"
        case .schemaMigrated(let p, let a, let b): return "\(p): версия схемы \(a) → \(b)"
        case .migrationApplied(let v, let n): return "  применена \(v) \(n)"
        case .copySameStore: return "ОТКУДА и КУДА — одно и то же хранилище"
        case .copyFailed(let d): return "copy-store: \(d)"
        case .copyColumns: return "источник\tцель\tскопировано сейчас"
        case .copyWhat(let w): return ["leads": "лиды", "raw postbacks": "полученные постбеки", "outgoing postbacks": "исходящие постбеки"][w] ?? w
        case .copyVerified(let ok): return ok ? "сверено: в цели есть каждая строка источника" : "НЕ сверено: количества различаются (в цели есть другие строки)"
        case .copyCountsDiffer: return "copy-store: количества в цели отличаются от источника"

        case .importHeading(let f, let e, let d, let h): return "Отчёт: \(f) (\(e), \(d == "tab" ? "табуляция" : "'\(d)'"), заголовок в строке \(h))"
        case .importColumns(let c): return "Столбцы: \(c)"
        case .importCounts(let rows, let c, let u, let r, let m, let k, let s):
            return "Строк: \(rows); изменено \(c), без изменений \(u), отказано \(r), не найдено \(m), неизвестных статусов \(k), пропущено \(s)"
        case .importChangedHeading(let dry): return dry ? "Изменится:" : "Изменено:"
        case .importRefusedHeading: return "Отказано правилами статусов (запись в журнале лида):"
        case .importUnmatchedHeading(let n): return "Не найдено у \(n) (нет лида с таким id):"
        case .importUnknownHeading: return "Неизвестные слова статуса (добавьте их в report.statuses или statuses спецификации):"
        case .importSkippedHeading: return "Пропущено:"
        case .importMore(let n): return "… и ещё \(n)"
        case .importLine(let n): return "строка \(n)"
        case .importNetworkLead(let id): return "лид сети \(id)"
        case .importOurId(let id): return "наш id \(id)"
        case .importNetworkId(let id): return "id сети \(id)"
        case .importRows(let n): return "строк: \(n)"
        case .importDryRun: return "Пробный запуск (--dry-run): ничего не записано."
        case .reportUnreadable(let f, let e): return "\(f): файл не читается как \(e)"
        case .reportProblem(let f, let e): return "\(f): " + Say.reportErrorRU(e.problem)
        case .reportError(let e): return Say.reportErrorRU(e.problem)

        case .receiverNeedsToken(let f): return "приёмнику нужен токен: задайте receiver.token (или receiver.tokens по сетям) в \(f)"
        case .allowListInvalid(let e): return "в списке разрешённых адресов приёмника не IP-адрес и не сеть CIDR: " + e.joined(separator: ", ")
        case .listenInvalid(let t): return "--listen: нужен АДРЕС:ПОРТ, указано «\(t)»"
        case .cannotListen(let a, let d): return "не удаётся слушать \(a): \(d)"
        case .listening(let u): return "leadbridge: слушаю \(u)"
        case .consoleAt(let u): return "leadbridge: консоль оператора — \(u)/console, метрики — /metrics"
        case .consoleOff(let why): return "консоль оператора выключена: \(why)"
        case .outgoingNotQueued(let d): return "leadbridge: исходящие постбеки не поставлены в очередь: \(d)"
        case .stopping: return "leadbridge: останавливаюсь (дожидаюсь запросов в работе)"
        case .stopped: return "leadbridge: остановлен"
        case .backgroundFailed(let d): return "leadbridge: фоновая работа: \(d)"
        case .replaySummary(let a, let w, let c): return "применено постбеков: \(a), ещё ждут своего лида: \(w), изменений статуса: \(c)"

        case .listenNotLoopback: return "--listen: нужен loopback-адрес АДРЕС:ПОРТ"
        case .receiverNeedsToken2: return "--receiver нужен --token (или LEADBRIDGE_TOKEN)"
        case .emulating(let n, let u): return "leadbridge: эмулирую " + plural(n, "сеть", "сети", "сетей") + " на \(u)"
        case .demoLeadsRange: return "--leads: от 1 до 2000"
        case .demoFolderTaken(let f): return "в \(f) уже есть журнал демо; выберите пустую папку"
        case .cannotCreate(let p, let d): return "не удаётся создать \(p): \(d)"
        case .demoSetup(let e):
            switch e {
            case .cannotListen(let part, let d): return "\(part == .receiver ? "приёмник постбеков" : "эмулятор сетей") демо не может слушать на 127.0.0.1: \(d)"
            case .unknownNetwork(let n): return "сети \(n) из демо нет в каталоге"
            case .cannotPrepare(let f, let d): return "не удаётся подготовить папку демо \(f): \(d)"
            }
        case .demoHeader(let n, let l, let e, let r):
            return "Демо LeadBridge: " + plural(n, "сеть", "сети", "сетей") + ", по " + plural(l, "лиду", "лида", "лидов")
                + ", эмулятор на 127.0.0.1:\(e), приёмник на 127.0.0.1:\(r)"
        case .demoProgress(let p, let s, let t, let f, let sec): return "  проход \(p): отправлено \(s)/\(t), в финальном статусе \(f), \(sec) с"
        case .demoColumns: return "сеть\tотправлено\tпринято\tдубли\tотклонено\tодобрено\tотменено\tтреш\tв ожидании\tповторы"
        case .demoSummary(let l, let s, let p, let t, let pb):
            return plural(l, "лид", "лида", "лидов") + " за \(s) с, проходов sync: \(p); отправлено в сеть дважды: \(t); получено постбеков: \(pb)."
        case .demoKept(let f): return "Сохранено в \(f): leadbridge.json и ledger.sqlite. Попробуйте:"
        case .demoTryNext: return "Что попробовать дальше (по команде в строке):"

        case .newWrote(let p, let s): return "Записан \(p): \(s)."
        case .newNextPlatform: return "Подтвердите у менеджера сети, что она работает на этой платформе, и укажите это в sources, затем:"
        case .newNext: return "Замените адрес, поля и примеры на взятые из документации сети, затем:"
        case .newIdTaken(let id, let owner, let name):
            return "«\(id)» — уже id или псевдоним сети \(owner) (\(name)); ваша спецификация с таким id заменила бы её — выберите другой id"
        case .newIntoShippedCatalog(let p): return "\(p) — поставляемый каталог; запишите спецификацию в другое место (по умолчанию — текущая папка)"
        case .newExists(let p): return "\(p) уже существует; отредактируйте его или удалите, чтобы начать заново"
        case .cannotWrite(let p, let d): return "не удаётся записать \(p): \(d)"
        case .newBadId(let id): return "id — строчные латинские буквы, цифры и «-», начиная с буквы или цифры (не длиннее 64), указано «\(id)»"
        case .newUnknownStyle(let s, let sug, let all):
            return "неизвестный вид «\(s)»" + Say.suggestion(sug.map { "«\($0)»" }, .ru) + " (один из: " + all.joined(separator: ", ") + ")"
        case .newNameLength: return "--name: от 1 до 100 символов"
        case .cannotReadStarter(let p): return "не удаётся прочитать заготовку \(p)"
        case .hostWithoutPlatform: return "--host указывается вместе с --platform (у заготовок свой адрес)"
        case .styleAndPlatform: return "--style и --platform вместе не используются: спецификация платформы берёт всё из своей основы"
        case .unknownPlatform(let p, let sug, let all):
            return "неизвестная платформа «\(p)»" + Say.suggestion(sug.map { "«\($0)»" }, .ru) + " (одна из: " + all.joined(separator: ", ") + ")"
        case .platformNeedsHost(let id): return "для --platform \(id) нужен --host, API-адрес сети (например, api.example.com)"
        case .hostInvalid(let h): return "--host — имя хоста вроде api.example.com (можно с путём), указано «\(h)»"
        case .platformSummary(let n, let h, let id): return "сеть на платформе \(n) (\(h)): отправка и статусы — из её основы Templates/\(id).json"
        }
    }

    static func leadProblemRU(_ p: LeadProblem) -> String {
        switch p {
        case .idRequired: return "обязательно (наш id заказа)"
        case .tooLong(let n): return "длиннее \(n) символов"
        case .spacesOrControl: return "не должно содержать пробелов и управляющих символов"
        case .phoneCharacters: return "допустимы только цифры, «+», пробелы, «-», «(» и «)»"
        case .phoneDigits(let n): return "нужно от 6 до 15 цифр, указано \(n)"
        case .country(let c): return "нужен двухбуквенный код ISO, например RU, указано «\(c)»"
        case .ipAddress: return "не адрес IPv4 или IPv6"
        case .unknownField(let s): return "неизвестное поле" + Say.suggestion(s.map { "«\($0)»" }, .ru)
        case .notAString(let t): return "должно быть строкой, а не \(typeRU[t] ?? t)"
        case .notAnObject(let t): return "должно быть объектом JSON, а не \(typeRU[t] ?? t)"
        case .sourceName(let n): return "должно быть именем источника трафика (от 1 до \(n) символов)"
        case .format(let f, let v): return (f == .uuid ? "нужен UUID" : "допустимы только цифры") + ", указано «\(v)»"
        case .sourceHearsNothing(let id, let name, let needs):
            return "лиду от \(id) нужно то, что возвращает один из его постбеков (\(needs.joined(separator: "; "))): иначе \(name) ничего о нём не узнает"
        }
    }

    /// Outgoing postbacks' states as Russian lines show them.
    static let outgoingStateRU = ["due": "в очереди", "delivered": "доставлен", "failed": "не доставлен"]
    /// Lead states and status buckets as Russian tables show them (unknown words as they are).
    static let stateRU = ["queued": "в очереди", "claimed": "взят в работу", "sending": "отправляется", "accepted": "принят", "duplicate": "дубль", "rejected": "отклонён",
                          "failed": "сбой", "parked": "отложен", "uncertain": "неопределён", "account-error": "ошибка аккаунта"]
    static let sourceRU = ["intake": "приём", "send": "отправка", "poll": "опрос", "postback": "постбек", "import": "импорт",
                           "operator": "оператор", "recovery": "восстановление"]
    static let journalKindRU = ["queued": "в очереди", "attempt": "попытка", "status": "статус", "resend": "повторная отправка",
                                "settled": "урегулирован", "interrupted": "прерван", "refused": "отказано"]
    static let bucketRU = ["pending": "в ожидании", "approved": "одобрен", "cancelled": "отменён", "trash": "треш"]
}

extension HelpText {
    /// Описания команд (по имени) и параметров (по «команда --параметр» или «--параметр»
    /// для общего параметра нескольких команд).
    static let ru: [String: String] = [
        "networks": "список сетей: что умеет каждая спецификация",
        "show": "настройки, параметры, постбеки и заметки сети",
        "postbacks": "хвосты постбеков для кабинета сети (с --base — полные ссылки)",
        "postbacks --base": "адрес приёмника, например https://t.example.com/postback/drcash?token=T",
        "docs": "весь каталог сетей одним документом; docs intake — документ интеграции для источника трафика",
        "lint": "проверить спецификации сетей",
        "lint --strict": "предупреждения считать ошибками",
        "postback": "разобрать один входящий постбек (ничего не сохраняет)",
        "send": "отправить лиды в сеть: один лид, массив JSON или NDJSON (--queue: оставить их для sync; --dry-run: показать запросы, ничего не отправляя)",
        "send --lead": "файл лидов: один лид (JSON), массив JSON или NDJSON; - читает стандартный ввод",
        "send --queue": "поставить лиды в очередь на следующий sync вместо отправки сейчас",
        "send --account": "аккаунт из leadbridge.json (или example — пример спецификации)",
        "send --dry-run": "только показать запрос (секреты скрыты)",
        "send --resend": "отправить повторно лид, который уже отправлялся в эту сеть",
        "test": "прогнать примеры спецификаций (запросы и ответы) без сети",
        "new": "создать черновик спецификации сети ID.json (с примерами) в текущей папке",
        "new --style": "вид API: form, json, query, list-poll, keyed-poll (по умолчанию form)",
        "new --name": "название сети (по умолчанию из id)",
        "new --out": "папка для файла (по умолчанию текущая)",
        "new --platform": "платформа сети, основа из Templates/ (altercpa, trafficmanager, …; неверное имя покажет список): спецификация на её основе, нужен --host",
        "new --host": "API-адрес сети на платформе, например api.cpa.moe или cashfactories.com/api",
        "sync": "один проход cron: отправка очереди, опрос статусов, исходящие постбеки",
        "leads": "что произошло с лидами",
        "leads --status": "pending, approved, cancelled, trash",
        "leads --state": "состояние отправки: " + SendState.allCases.map(\.rawValue).joined(separator: ", "),
        "settle": "решить судьбу неопределённого лида (uncertain), заглянув в кабинет сети",
        "settle --network": "сеть, в которую отправлялся лид",
        "settle --as": "accepted — лид есть в кабинете (дальше его статус опрашивается); not-sent — его там нет (будет отправлен снова)",
        "leads --limit": "не больше N строк (по умолчанию 1000)",
        "lead": "один лид и история его статусов",
        "outgoing": "исходящие постбеки источникам трафика: очередь, ответы, повтор неудавшихся",
        "outgoing --failed": "только неудавшиеся окончательно",
        "outgoing --replay": "поставить неудавшийся постбек с этим номером в очередь заново",
        "outgoing --replay-all": "поставить в очередь заново все неудавшиеся постбеки",
        "outgoing --limit": "не больше N строк (по умолчанию 1000)",
        "send --source": "источник трафика заказа (из sources в leadbridge.json): он получит постбеки о статусах",
        "send --click-id": "ID клика источника (реферальный трафик LeadCraft: UUID)",
        "export": "выгрузить все лиды в CSV",
        "export --csv": "формат CSV (RFC 4180)",
        "copy-store": "перенести журнал между хранилищами (SQLite ↔ PostgreSQL), повторный запуск безопасен, количества сверяются",
        "import": "применить статусы из скачанного в кабинете сети отчёта по лидам (CSV)",
        "import --map": "какой столбец что содержит: status=Статус,order=sub1 (роли: order, external, status, payout, currency, comment)",
        "import --dry-run": "показать, что изменится, ничего не записывая",
        "status": "состояние для мониторинга: код 2, если сеть не работает или очередь стоит",
        "migrate": "обновить схему хранилища (миграции по порядку, каждая записывается)",
        "serve": "приёмник: постбеки сетей, лиды от источников, исходящие постбеки, /health",
        "serve --listen": "адрес и порт (по умолчанию из настроек или 127.0.0.1:8080)",
        "postbacks-replay": "применить сохранённые постбеки, для которых появился лид",
        "postbacks-replay --unknown-statuses": "также постбеки с неизвестными словами статуса (после правки спецификации)",
        "emulate": "эмулятор сетей на loopback по их спецификациям",
        "emulate --listen": "адрес и порт (127.0.0.1:9100)",
        "emulate --only": "только эти сети, через запятую",
        "emulate --faults": "сбои: kma:5xx=0.2,429=0.05,timeout=0.05,reset=0.05,garbage=0.05,error200=0.05,slow=200;*:5xx=0.1",
        "emulate --settle": "секунд до финального статуса (5)",
        "emulate --receiver": "куда слать постбеки (http://127.0.0.1:8080)",
        "emulate --token": "токен приёмника для постбеков",
        "demo": "весь цикл на встроенном эмуляторе сетей: отправка, постбеки, опрос статусов",
        "demo --leads": "лидов на сеть (40)",
        "demo --keep": "сохранить базу и настройки в папке",
        "demo --faults": "сбои эмулятора (по умолчанию *:5xx=0.05,429=0.02)",
        "--network": "только эта сеть",
        "sync --join": "ещё один обработчик идущего прохода: без блокировки, лиды делятся захватом",
        "--connect-to": "направить запросы к хосту на loopback-адрес: host=127.0.0.1:9100",
        "--json": "вывод в JSON",
        "--help": "показать справку",
        "--lang": "язык вывода: ru (по умолчанию) или en",
        "--networks": "дополнительная папка спецификаций (перекрывает поставляемые)",
        "--config": "файл настроек (по умолчанию ./leadbridge.json)",
    ]
}
