import LeadBridgeCore

/// Why a send or a poll failed in LeadBridge's own words, in Russian: what libcurl or a network
/// said (a detail, an excerpt, a host) stays as it came.
extension Say {
    static func sendFailureRU(_ f: SendFailure) -> String {
        switch f {
        case .httpStatus(let s, let e): return "сеть ответила HTTP \(s): \(e)"
        case .unrecognized(let s, let notJSON, let e):
            return "непонятный ответ (HTTP \(s), \(notJSON ? "не тот JSON, что ожидался" : "не подошло ни одно правило исхода")): \(e)"
        case .stepValueMissing(let step, let name, let e): return "шаг \(step): в ответе нет \(name): \(e)"
        case .unprepared(let p): return Say.sendPreparation(p).ru
        case .transport(let k, let p): return transportRU(k, p)
        case .noOutcome: return "отправка закончилась без исхода"
        case .sourceNotConfigured(let s, let k): return "источника \(s) или его постбека \(k) больше нет в настройках"
        case .sourceLacks(let s, let missing, let k):
            return "у источника \(s) нет \(missing.joined(separator: ", ")) — это нужно его постбекам \(k): добавьте в sources.\(s) настроек, "
                + "затем 'leadbridge outgoing --replay-all'"
        }
    }

    /// What `serve` tells its operator, in Russian (addresses and a store's text as they came).
    static func serverNoticeRU(_ n: ServerNotice) -> String {
        switch n {
        case .postbackAddressRefused(let net, let c): return "постбек \(net) с \(c): адрес не разрешён"
        case .postbackWrongToken(let net, let c): return "постбек \(net) с \(c): неверный или отсутствующий токен"
        case .postbackWriterBehind(let net, let c, let w): return "постбек \(net) с \(c): ответ 503, запись в хранилище отстаёт (ждут \(w))"
        case .intakeAddressRefused(let c): return "приём лидов с \(c): адрес не разрешён"
        case .intakeWrongToken(let c): return "приём лидов с \(c): неверный или отсутствующий токен Bearer"
        case .intakeStoreUnavailable(let d): return "приём лидов: хранилище недоступно (ответ 503): \(d)"
        case .postbacksNotStored(let d): return "постбеки не сохранены (ответ 503, сети повторят): \(d)"
        case .postbacksNotProcessed(let d): return "постбеки сохранены, но не обработаны (ответ 503; их применит postbacks-replay): \(d)"
        case .postbacksNotIndexed(let d): return "сохранённые постбеки ещё не внесены в индекс заказов (страница лида всё равно их показывает): \(d)"
        case .storeBack: return "хранилище снова доступно: постбеки сохраняются"
        case .consoleStore(let p, let d): return "консоль: \(p): хранилище: \(d)"
        case .consoleLoginLimited(let c): return "консоль: вход с \(c) отклонён: слишком много попыток"
        case .consoleWrongToken(let c): return "консоль: неверный токен с \(c)"
        case .metricsStore(let d): return "метрики: хранилище: \(d)"
        }
    }

    /// A failure below HTTP; a transport's own words go after the kind of failure.
    static func transportRU(_ k: TransportFailureKind, _ p: TransportProblem) -> String {
        switch p {
        case .timedOut(let h, let ms, let connected):
            return connected ? "нет ответа от \(h) за \(ms) мс" : "не удалось подключиться к \(h) за \(ms) мс"
        case .invalidURL(let h, let d): return "неверный URL для \(h): \(d)"
        case .hostNotFound(let h): return "хост не найден: \(h)"
        case .proxyNotFound(let d): return "хост прокси не найден (\(d))"
        case .cannotConnect(let h, let d): return "не удаётся подключиться к \(h): \(d)"
        case .certificateRefused(let h, let d): return "TLS-сертификат \(h) отклонён: \(d)"
        case .tlsHandshake(let h, let d): return "TLS-соединение с \(h) не установлено: \(d)"
        case .proxyFailed(let h, let d): return "сбой прокси для \(h): \(d)"
        case .tunnelRefused(let h, let d): return "прокси отказал в туннеле к \(h): \(d)"
        case .reset(let h, let d): return "\(h) сбросил соединение: \(d)"
        case .closedWithoutAnswer(let h): return "\(h) закрыл соединение, не ответив"
        case .cutShort(let h, let d): return "ответ от \(h) оборвался: \(d)"
        case .notHTTP(let h, let d): return "\(h) ответил не по HTTP (\(d))"
        case .answerTooLarge(let h, let mb): return "ответ от \(h) больше \(mb) МБ"
        case .cancelled(let h): return "отменено (\(h))"
        case .shuttingDown: return "HTTP-клиент завершает работу"
        case .other(let h, let d): return "сбой соединения с \(h): \(d)"
        case .libcurlMissing(let d): return "не удаётся загрузить libcurl (\(d)); установите пакет Debian libcurl4"
        case .libcurlInit(let c): return "libcurl не удалось инициализировать (код \(c))"
        case .noMultiHandle: return "libcurl не смог создать multi-дескриптор"
        case .noHandle: return "libcurl не смог создать дескриптор"
        case .transferRefused: return "libcurl отказался выполнить запрос"
        case .eventLoop(let d): return "не удаётся настроить цикл событий HTTP-клиента (\(d))"
        case .clientThread(let c): return "не удаётся запустить поток HTTP-клиента (ошибка \(c))"
        case .said(let m):
            let kind = switch k {
            case .timeout: "таймаут"
            case .connection: "сбой соединения"
            case .cancelled: "отменено"
            case .invalidRequest: "неверный запрос"
            }
            return "\(kind): \(m)"
        }
    }
}
