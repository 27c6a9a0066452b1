import Dispatch
import LeadBridgeCore
import LeadBridgeCrypto
import LeadBridgeEngine
import LeadBridgeNet
import LeadBridgeStore
import Synchronization

/// The operator's console at `/console` and `/metrics`, served by `serve` beside the receiver:
/// read-only pages for managers (networks, leads, funnel, postbacks, health) behind a login
/// with the console token, and the Prometheus metrics behind the same token or an address
/// allow-list. Off (no routes) when the configuration has no console token.
///
/// Handlers run on the event loop and never wait there: every console request is answered
/// from one reader thread (the ledger reads take milliseconds), which reads through its own
/// store connection, so the postback writer never waits for a page.
public final class OperatorConsole: Sendable {
    let config: LeadBridgeConfig
    let settings: ConsoleConfig
    let library: SpecLibrary
    let store: any LeadStore
    let clock: @Sendable () -> Int64
    let log: @Sendable (ServerNotice) -> Void
    let catalog: ConsoleCatalog
    let keys: ConsoleKeys
    let limiter: LoginLimiter
    let trustedProxies: TrustedProxies
    let metricsAllow: [CIDR]
    let requests = RequestCounter()
    let reader = ReaderQueue()
    /// Sessions logged out in this process, until they expire.
    let loggedOut = Mutex<[String: Int64]>([:])

    /// Nil when the configuration has no console (no `console.token`).
    public init?(config: LeadBridgeConfig, library: SpecLibrary, store: any LeadStore, clock: @escaping @Sendable () -> Int64,
                 log: @escaping @Sendable (ServerNotice) -> Void = { _ in }, catalog: ConsoleCatalog = .stable) {
        guard let settings = config.console else { return nil }
        self.config = config
        self.settings = settings
        self.library = library
        self.store = store
        self.clock = clock
        self.log = log
        self.catalog = catalog
        keys = ConsoleKeys(token: settings.token)
        limiter = LoginLimiter(limit: settings.loginAttemptsPerMinute)
        trustedProxies = TrustedProxies(parsing: config.receiver?.trustedProxies ?? [])
        metricsAllow = settings.metricsAllow.compactMap(CIDR.init)
    }

    /// `console.metrics_allow` entries that are not addresses or networks (a configuration error).
    public static func invalidAllowEntries(_ config: LeadBridgeConfig) -> [String] {
        (config.console?.metricsAllow ?? []).filter { CIDR($0) == nil }.map { "console.metrics_allow: \"\($0)\"" }
    }

    /// Adds `/console…` and `/metrics`, and counts every answer of the router by route and code.
    public func addRoutes(to router: inout HTTPRouter) {
        let requests = self.requests
        router.observer = { route, status in requests.count(route: route, status: status) }
        router.add(["GET", "HEAD", "POST"], path: "/console") { [self] r, responder in submit(r, responder) }
        router.add(["GET", "HEAD", "POST"], prefix: "/console/") { [self] r, responder in submit(r, responder) }
        router.add(["GET", "HEAD"], path: "/metrics") { [self] r, responder in
            guard metricsAllowed(r) else {
                responder.respond(ConsoleResponse.text("unauthorized: send the console token as a bearer token\n", status: 401,
                                                       headers: [HTTPHeader("WWW-Authenticate", "Bearer realm=\"leadbridge\"")]))
                return
            }
            if !reader.submit({ [self] in responder.respond(metrics()) }) { responder.respond(busy()) }
        }
    }

    func submit(_ r: HTTPServerRequest, _ responder: HTTPResponder) {
        if !reader.submit({ [self] in responder.respond(handle(r)) }) { responder.respond(busy()) }
    }

    func busy() -> HTTPServerResponse {
        ConsoleResponse.text("busy: try again shortly\n", status: 503, headers: [HTTPHeader("Retry-After", "1")])
    }

    /// The bearer token, or an allowed client address (none by default; loopback is no exception).
    func metricsAllowed(_ r: HTTPServerRequest) -> Bool {
        if let auth = r.header("Authorization"), auth.lowercased().hasPrefix("bearer "),
           keys.isToken(HTTPText.trimmed(Substring(auth.dropFirst(7)))) { return true }
        return metricsAllow.contains { $0.contains(r.clientAddress) }
    }

    /// Whether the browser reached us over TLS: a trusted proxy says so (`X-Forwarded-Proto`).
    func overTLS(_ r: HTTPServerRequest) -> Bool {
        guard trustedProxies.contains(r.remoteAddress), let proto = r.headers(named: "X-Forwarded-Proto").last else { return false }
        return proto.split(separator: ",").last.map { HTTPText.trimmed($0).lowercased() } == "https"
    }

    // MARK: requests

    /// One console request, on the reader thread.
    func handle(_ r: HTTPServerRequest) -> HTTPServerResponse {
        let now = clock()
        let query = HTTPText.pairs(r.query)
        func param(_ k: String) -> String { query.last { $0.0 == k }?.1 ?? "" }
        let cookies = RequestCookies(r)
        let secure = overTLS(r)
        var setCookies: [ResponseCookie] = []
        var language = Language(rawValue: cookies["lb_lang"] ?? "") ?? .ru
        if let chosen = Language(rawValue: param("lang")) {
            language = chosen
            setCookies.append(ResponseCookie(name: "lb_lang", value: chosen.rawValue, maxAge: 365 * 86_400, secure: secure))
        }
        let segments = r.path.split(separator: "/").map { (try? QueryString.decode($0, field: "path")) ?? String($0) }
        let here = ConsolePath(segments, query: query.filter { $0.0 != "lang" })
        var ctx = PageContext(language: language, path: here, logoutToken: nil, now: now, catalog: catalog)
        let w = ctx.words

        if r.path == "/console/style.css" { return ConsoleResponse.styleSheet }
        if r.path == "/console/login" {
            return r.method == "POST" ? login(r, ctx: ctx, secure: secure, cookies: cookies, extra: setCookies)
                : loginPage(ctx, next: param("next"), error: nil, secure: secure, extra: setCookies)
        }
        guard let session = cookies["lb_session"].flatMap({ keys.session($0, now: now) }), !isLoggedOut(session, now: now) else {
            let next = r.method == "GET" ? here.text : "/console/networks"
            return ConsoleResponse.redirect(ConsolePath(["console", "login"], query: [("next", next)]).text, cookies: setCookies)
        }
        ctx.logoutToken = keys.logoutToken(session: session)
        if r.path == "/console/logout" {
            guard r.method == "POST", sameOrigin(r) else { return ConsoleResponse.text("forbidden\n", status: 403) }
            let form = HTTPText.pairs(r.bodyText)
            guard let csrf = form.last(where: { $0.0 == "csrf" })?.1, keys.verify("logout|" + session, mac: csrf) else {
                return ConsoleResponse.text("forbidden: the form is stale, reload the page\n", status: 403)
            }
            logOut(session, now: now)
            return ConsoleResponse.redirect("/console/login", cookies: [ResponseCookie(name: "lb_session", value: "", maxAge: 0, secure: secure)])
        }
        guard r.method != "POST" else { return ConsoleResponse.text("method not allowed: the console is read-only\n", status: 405) }

        let page: String
        var status = 200
        do throws(StoreError) {
            switch segments.count > 1 ? segments[1] : "" {
            case "":
                return ConsoleResponse.redirect("/console/networks", cookies: setCookies)
            case "networks" where segments.count == 2:
                page = NetworkPages.catalog(ctx, library: library, config: config)
            case "networks" where segments.count == 3:
                if let spec = library.spec(segments[2]) {
                    page = NetworkPages.network(ctx, spec: spec, library: library, config: config)
                } else {
                    (page, status) = (ReportPages.notFound(ctx, what: w("Такой сети нет: ", "No such network: ") + segments[2]), 404)
                }
            case "leads" where segments.count == 2:
                page = try leads(ctx, param)
            case "leads" where segments.count == 3:
                if let rowId = Int64(segments[2]), let record = try store.record(rowId: rowId) {
                    page = LeadPages.lead(ctx, record: record, journal: try store.journal(rowId: rowId),
                                          postbacks: try store.postbacks(PostbackQuery(network: record.network, orderId: record.orderId,
                                                                                       externalId: record.externalId, limit: 200)),
                                          outgoing: try store.outgoing(OutgoingQuery(leadRowId: rowId, limit: 200)), config: config)
                } else {
                    (page, status) = (ReportPages.notFound(ctx, what: w("Такого лида нет.", "No such lead.")), 404)
                }
            case "funnel" where segments.count == 2:
                page = try funnel(ctx, param)
            case "postbacks" where segments.count == 2:
                page = try postbacks(ctx)
            case "health" where segments.count == 2:
                page = ReportPages.health(ctx, report: try HealthCheck.read(store: store, config: config, now: now),
                                          oldestQueued: try store.leads(LeadQuery(state: .queued, limit: 10, withData: false)),
                                          oldestUncertain: try store.leads(LeadQuery(state: .uncertain, limit: 10, withData: false)))
            default:
                (page, status) = (ReportPages.notFound(ctx, what: w("Такой страницы нет.", "No such page.")), 404)
            }
        } catch {
            log(.consoleStore(path: r.path, detail: "\(error)"))
            (page, status) = (Layout.document(ctx, title: w("Ошибка хранилища", "Store error"), section: nil,
                                              [.tag("p", [.class("error")], text: w("Журнал сейчас недоступен: ", "The ledger is unavailable right now: ")
                                                       + (error.problem.map { catalog.stores($0, language) } ?? error.message))]), 503)
        }
        return ConsoleResponse.html(page, status: status, cookies: setCookies)
    }

    // MARK: login

    func loginPage(_ ctx: PageContext, next: String, error: String?, secure: Bool, extra: [ResponseCookie], status: Int = 200) -> HTTPServerResponse {
        let nonce = SecureRandom.hex(16)
        let cookie = ResponseCookie(name: "lb_login", value: nonce, maxAge: 3600, path: "/console/login", secure: secure)
        return ConsoleResponse.html(ReportPages.login(ctx, csrf: keys.loginToken(nonce: nonce), next: Self.safeNext(next), error: error),
                                    status: status, cookies: extra + [cookie])
    }

    /// Where to go after logging in: only a console page of ours, never another site.
    static func safeNext(_ next: String) -> String {
        guard next.hasPrefix("/console/"), !next.hasPrefix("/console/login"), !next.contains("//"), !next.contains("\\"), !next.contains(".."),
              next.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else { return "/console/networks" }
        return next
    }

    /// A cross-site form cannot post here: a browser's `Origin`, when it sends one, must name
    /// this host.
    func sameOrigin(_ r: HTTPServerRequest) -> Bool {
        guard let origin = r.header("Origin"), origin != "null" else { return true }
        guard let host = r.header("Host"), let schemeEnd = origin.firstRange(of: "://") else { return false }
        return origin[schemeEnd.upperBound...].lowercased() == host.lowercased()
    }

    func login(_ r: HTTPServerRequest, ctx: PageContext, secure: Bool, cookies: RequestCookies, extra: [ResponseCookie]) -> HTTPServerResponse {
        let w = ctx.words
        let now = clock()
        let form = HTTPText.pairs(r.bodyText)
        func field(_ k: String) -> String { form.last { $0.0 == k }?.1 ?? "" }
        let next = field("next")
        if let wait = limiter.attempt(from: r.clientAddress, now: now) {
            log(.consoleLoginLimited(client: r.clientAddress))
            var response = loginPage(ctx, next: next, error: w("Слишком много попыток входа. Повторите через \(wait) с.", "Too many login attempts. Try again in \(wait) s."),
                                     secure: secure, extra: extra, status: 429)
            response.headers.append(HTTPHeader("Retry-After", String(wait)))
            return response
        }
        guard sameOrigin(r), let nonce = cookies["lb_login"], keys.verify("login|" + nonce, mac: field("csrf")) else {
            return loginPage(ctx, next: next, error: w("Форма устарела: войдите ещё раз.", "The form has expired: log in again."), secure: secure, extra: extra, status: 403)
        }
        guard keys.isToken(field("token")) else {
            log(.consoleWrongToken(client: r.clientAddress))
            return loginPage(ctx, next: next, error: w("Неверный токен.", "Wrong token."), secure: secure, extra: extra, status: 401)
        }
        let session = ResponseCookie(name: "lb_session", value: keys.newSession(now: now, lifetime: settings.sessionSeconds), maxAge: settings.sessionSeconds,
                                     secure: secure)
        let spent = ResponseCookie(name: "lb_login", value: "", maxAge: 0, path: "/console/login", secure: secure)
        return ConsoleResponse.redirect(Self.safeNext(next), cookies: extra + [session, spent])
    }

    func isLoggedOut(_ session: String, now: Int64) -> Bool { loggedOut.withLock { $0[session] != nil } }

    func logOut(_ session: String, now: Int64) {
        let until = now + settings.sessionSeconds
        loggedOut.withLock { table in
            table = table.filter { $0.value > now }
            table[session] = until
        }
    }

    // MARK: pages with reads

    /// `yyyy-MM-dd` as the start of that UTC day.
    static func day(_ text: String) -> Int64? {
        guard text.utf8.count == 10, let t = ISODate.parse(text) else { return nil }
        return t
    }

    func leads(_ ctx: PageContext, _ param: (String) -> String) throws(StoreError) -> String {
        let w = ctx.words
        var f = LeadPages.Filters()
        (f.order, f.phone, f.network, f.account, f.status, f.state, f.from, f.to) =
            (param("order"), param("phone"), param("network"), param("account"), param("status"), param("state"), param("from"), param("to"))
        f.before = Int64(param("before"))
        var search = LeadSearch(limit: LeadPages.pageSize)
        var problems: [String] = []
        search.orderIdPrefix = f.order.isEmpty ? nil : String(f.order.prefix(200))
        if !f.phone.isEmpty {
            let digits = f.phone.filter { $0.isASCII && $0.isNumber }
            if digits.isEmpty { problems.append(w("В окончании телефона нет цифр.", "The phone ending has no digits.")) } else { search.phoneEnding = String(digits.suffix(15)) }
        }
        search.network = f.network.isEmpty ? nil : (library.spec(f.network)?.id ?? f.network)
        search.account = f.account.isEmpty ? nil : f.account
        if !f.status.isEmpty {
            if let b = Bucket(rawValue: f.status) { search.status = b } else { problems.append(w("Неизвестный статус.", "Unknown status.")) }
        }
        if !f.state.isEmpty {
            if let s = SendState(rawValue: f.state) { search.state = s } else { problems.append(w("Неизвестное состояние.", "Unknown send state.")) }
        }
        if !f.from.isEmpty {
            if let t = Self.day(f.from) { search.createdFrom = t } else { problems.append(w("Дата «с» — в виде ГГГГ-ММ-ДД.", "The from date must be YYYY-MM-DD.")) }
        }
        if !f.to.isEmpty {
            if let t = Self.day(f.to) { search.createdBefore = t + 86_400 } else { problems.append(w("Дата «по» — в виде ГГГГ-ММ-ДД.", "The to date must be YYYY-MM-DD.")) }
        }
        search.beforeRowId = f.before
        let found = problems.isEmpty ? try store.searchLeads(search) : []
        return LeadPages.search(ctx, filters: f, leads: found, config: config, problem: problems.isEmpty ? nil : problems.joined(separator: " "))
    }

    func funnel(_ ctx: PageContext, _ param: (String) -> String) throws(StoreError) -> String {
        let w = ctx.words
        let today = ctx.now - ((ctx.now % 86_400) + 86_400) % 86_400
        var toDay = today, fromDay = today - 6 * 86_400
        var problems: [String] = []
        if !param("to").isEmpty { if let t = Self.day(param("to")) { toDay = t } else { problems.append(w("Дата «по» — в виде ГГГГ-ММ-ДД.", "The to date must be YYYY-MM-DD.")) } }
        if !param("from").isEmpty {
            if let t = Self.day(param("from")) { fromDay = t } else { problems.append(w("Дата «с» — в виде ГГГГ-ММ-ДД.", "The from date must be YYYY-MM-DD.")) }
        } else if !param("to").isEmpty {
            fromDay = toDay - 6 * 86_400
        }
        if fromDay > toDay { problems.append(w("Дата «с» позже даты «по».", "The from date is after the to date.")); fromDay = toDay }
        if toDay - fromDay > 366 * 86_400 { problems.append(w("Период — не больше года.", "The period is at most a year.")); fromDay = toDay - 366 * 86_400 }
        let f = ReportPages.FunnelFilters(from: ISODate.format(fromDay, pattern: "yyyy-MM-dd"), to: ISODate.format(toDay, pattern: "yyyy-MM-dd"),
                                          network: param("network"), account: param("account"))
        let period = LedgerPeriod(from: fromDay, to: toDay + 86_400, network: f.network.isEmpty ? nil : (library.spec(f.network)?.id ?? f.network),
                                  account: f.account.isEmpty ? nil : f.account)
        let report = FunnelReport(from: period.from, to: period.to, tallies: try store.leadTallies(period),
                                  timings: try store.finalTimings(period, state: .accepted))
        return ReportPages.funnel(ctx, filters: f, report: report, config: config, problem: problems.isEmpty ? nil : problems.joined(separator: " "))
    }

    func postbacks(_ ctx: PageContext) throws(StoreError) -> String {
        let latest = try store.postbacks(PostbackQuery(newestFirst: true, limit: 50))
        let unmatched = try store.postbacks(PostbackQuery(results: [.unmatched], newestFirst: true, limit: 50))
        let unknown = try store.postbacks(PostbackQuery(results: [.unknownStatus], newestFirst: true, limit: 5000))
        return PostbackPages.page(ctx, latest: latest, unmatched: unmatched, unknown: unknownWords(unknown), config: config)
    }

    /// The unknown words of stored postbacks, read again by the normalizer (the word as the
    /// network sent it), counted per network and word, most frequent first.
    func unknownWords(_ items: [RawPostbackRecord]) -> [UnknownWord] {
        var words: [String: UnknownWord] = [:]
        for p in items {
            guard let spec = library.spec(p.raw.network), let pairs = try? PostbackProcessor.parameters(query: p.raw.query, body: p.raw.body) else { continue }
            let word: String
            do throws(PostbackError) {
                _ = try PostbackNormalizer.normalize(pairs, spec: spec, defaults: library.defaults)
                continue // known now (the spec was fixed since): replay applies it
            } catch {
                guard error.kind == .unknownStatus, let raw = error.partial?.rawStatus else { continue }
                word = String(raw.prefix(100))
            }
            let key = spec.id + "\u{1}" + word
            var u = words[key] ?? UnknownWord(network: spec.id, word: word, count: 0, lastSeen: p.raw.receivedAt)
            u.count += 1
            u.lastSeen = max(u.lastSeen, p.raw.receivedAt)
            words[key] = u
        }
        return words.values.sorted { ($0.count, $1.network, $1.word) > ($1.count, $0.network, $0.word) }
    }
}

/// One thread that answers console requests in turn, with a bounded queue: a flood of page
/// requests gets `503` instead of piling up.
final class ReaderQueue: Sendable {
    private let queue = DispatchQueue(label: "leadbridge.console")
    private let pending = Atomic<Int>(0)
    let limit: Int

    init(limit: Int = 64) { self.limit = limit }

    /// False (nothing queued) when `limit` requests are already waiting.
    func submit(_ work: @escaping @Sendable () -> Void) -> Bool {
        guard pending.add(1, ordering: .relaxed).newValue <= limit else {
            pending.subtract(1, ordering: .relaxed)
            return false
        }
        queue.async { [self] in
            work()
            pending.subtract(1, ordering: .relaxed)
        }
        return true
    }
}
