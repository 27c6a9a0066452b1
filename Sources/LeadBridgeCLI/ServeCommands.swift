import FoundationEssentials
import Glibc
import LeadBridgeConsole
import LeadBridgeCore
import LeadBridgeEngine
import LeadBridgeNet
import LeadBridgeStore
import Synchronization

/// `serve` (postback receiver, lead intake, outgoing postbacks), `postbacks-replay`, and the
/// intake document for traffic sources.
enum ServeCommands {
    static let serve = Command(
        name: "serve", arguments: "",
        options: [SendCommands.connectOption,
                  OptionSpec(name: "listen", takesValue: true, valueName: "ADDR")]
    ) { ctx throws(CLIError) in
        try ctx.expectPositionals(max: 0)
        let (lib, config) = try ctx.checkedConfiguration()
        let unset = [ConfigSection.receiver, .intake].flatMap { config.unavailableSections[$0] ?? [] }
        if !unset.isEmpty { throw CLIError.located(unset, exit: .configuration) }
        guard config.receiver?.token != nil || !(config.receiver?.tokens.isEmpty ?? true) || config.intake != nil else {
            throw CLIError.config(.receiverNeedsToken(file: config.file))
        }
        let badEntries = Receiver.invalidAllowEntries(config) + OperatorConsole.invalidAllowEntries(config)
        if !badEntries.isEmpty {
            throw CLIError.config(.allowListInvalid(badEntries))
        }
        let listenText = ctx.args.value("listen") ?? config.receiver?.listen ?? "127.0.0.1:8080"
        guard let address = HTTPListenAddress(listenText) else { throw CLIError.usage(.listenInvalid(listenText), command: "serve") }
        // The postback writer's commits never wait for a checkpoint (SQLiteCheckpointer).
        let store = try ctx.openStore(config, backgroundCheckpoints: true)
        let out = ctx.out
        let transport = CurlTransport(connectTo: try ctx.connectTo(), environment: ctx.env.variables)
        let outgoing = OutgoingPostbacks(store: store, library: lib, config: config, delays: config.sync.outgoingDelays)
        let clock: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }
        let limits = config.receiver?.limits ?? ReceiverLimits()
        // Status changes queue the sources' outgoing postbacks in the same transaction.
        let ledger = Ledger(store: store, library: lib, config: config, clock: clock)
        let log: @Sendable (String) -> Void = { out.err($0.hasPrefix("leadbridge: ") ? $0 : "leadbridge: \($0)") }
        // What the receiver and the console tell the operator, in the chosen language.
        let language = ctx.lang
        let notice: @Sendable (ServerNotice) -> Void = { log(Say.serverNotice($0).text(language)) }
        let ingest = PostbackIngest(ledger: ledger, library: lib, maxQueued: limits.maxQueuedPostbacks, log: notice)
        let receiver = Receiver(library: lib, config: config, ledger: ledger, ingest: ingest, clock: clock, log: notice)
        var router = receiver.router
        // The console reads through a connection of its own: a page never holds up the postback writer.
        let console = config.console == nil ? nil : OperatorConsole(config: config, library: lib, store: try ctx.openStore(config), clock: clock, log: notice,
                                                                      catalog: ConsoleWording.catalog)
        console?.addRoutes(to: &router)
        for problem in config.unavailableSections[.console] ?? [] { ctx.warn(.consoleOff(ctx.t(.diagnostic(problem)))) }
        // Every connection takes a descriptor: hold as many as the hard limit allows.
        FileLimit.raiseSoftLimit()
        let server = HTTPServer(configuration: Receiver.serverConfiguration(config, host: address.host, port: address.port), log: log,
                                router: router)
        do { try server.start() } catch { throw CLIError.config(.cannotListen(address: "\(address)", detail: "\(error)")) }
        let bound = HTTPListenAddress(host: address.host, port: server.boundPort ?? address.port)
        // The trap before "listening": whoever reads that line may stop us at once, and a
        // SIGTERM before Dispatch watches it is ignored, not acted on (a test hung that way).
        let stopping = Mutex(false)
        let trap = SignalTrap { _ in
            guard !stopping.withLock({ s in let was = s; s = true; return was }) else { return }
            out.err(ctx.t(.stopping))
            server.stop(graceful: true, timeout: 10)
            ingest.shutdown()
        }
        ctx.say(.listening("http://\(bound)"))
        if console != nil { out.err(ctx.t(.consoleAt("http://\(bound)"))) }
        // Background work, started by the loop's timer: deliver outgoing postbacks (a task: the
        // transport is asynchronous) and apply postbacks whose lead arrived (on the store writer).
        let background = BackgroundWork()
        server.every(1) {
            guard background.begin() else { return } // the previous round is still running
            Task {
                do {
                    _ = try await outgoing.deliverDue(transport: transport, now: clock())
                } catch {
                    out.err(ctx.t(.backgroundFailed("\(error)")))
                }
                if background.tick % 10 == 1 {
                    _ = ingest.perform {
                        do {
                            _ = try PostbackReplay(ledger: ledger, library: lib).run()
                        } catch {
                            out.err(ctx.t(.backgroundFailed("\(error)")))
                        }
                    }
                }
                background.end()
            }
        }
        await server.waitUntilStopped()
        trap.cancel()
        ingest.shutdown()
        out.err(ctx.t(.stopped))
        return .success
    }

    static let replay = Command(
        name: "postbacks-replay", arguments: "",
        options: [LeadBridgeCommand.json,
                  OptionSpec(name: "network", takesValue: true, valueName: "N"),
                  OptionSpec(name: "unknown-statuses", takesValue: false)]
    ) { ctx throws(CLIError) in
        let lib = try ctx.library()
        let config = try ctx.requiredConfig(specs: lib)
        let store = try ctx.openStore(config)
        var network: String?
        if let n = ctx.args.value("network") { network = try ctx.network(n, in: lib).id }
        do {
            let ledger = Ledger(store: store, library: lib, config: config, clock: ctx.env.clock)
            let r = try PostbackReplay(ledger: ledger, library: lib).run(network: network, includeUnknownWords: ctx.args.has("unknown-statuses"))
            if ctx.args.has("json") {
                ctx.printJSON(.obj([("applied", .int(r.applied)), ("waiting", .int(r.waiting)), ("changes", .int(r.changes.count))]))
            } else {
                ctx.say(.replaySummary(applied: r.applied, waiting: r.waiting, changes: r.changes.count))
            }
        } catch { throw CLIError.config(.store(StoreDetail(error))) }
        return .success
    }

    /// The document a traffic source asks for (LeadCraft's list): URL, method, headers, fields
    /// with their rules (under the source's own names where its spec maps them), the token,
    /// the addresses requests are taken from, regions, an example request and example replies.
    static func intakeDocument(_ config: LeadBridgeConfig, library: SpecLibrary, _ l: Language) -> String {
        let base = config.receiver?.baseURL ?? "https://<your-domain>"
        let url = (base.hasSuffix("/") ? String(base.dropLast()) : base) + "/leads"
        let rules = config.intake
        // The sources whose tokens post leads: their specs' field names and required fields.
        let sources = Set(rules?.tokens.values.map { $0 } ?? []).sorted().compactMap { config.anySource($0).flatMap { library.spec($0.network)?.intake } }
        let merged = SourceIntakeSpec(fields: sources.reduce(into: [:]) { $0.merge($1.fields) { a, _ in a } },
                                      required: sources.flatMap(\.required), formats: sources.reduce(into: [:]) { $0.merge($1.formats) { a, _ in a } })
        var required = IntakeReader.requiredFields(rules, source: merged)
        if !(rules?.countries ?? []).isEmpty && !required.contains("country") { required.append("country") }
        let ru = l == .ru
        var lines: [String] = []
        lines.append(ru ? "Интеграция: передача лидов" : "Integration: sending leads")
        lines.append("")
        lines.append(ru ? "1. URL, метод и заголовки" : "1. URL, method and headers")
        lines.append("  POST \(url)")
        lines.append("  Authorization: Bearer <token>")
        lines.append("  Content-Type: application/json " + (ru ? "(или application/x-www-form-urlencoded)" : "(or application/x-www-form-urlencoded)"))
        lines.append("")
        lines.append(ru ? "2. Поля и правила проверки" : "2. Fields and validation rules")
        let describe: [String: (String, String)] = [
            "phone": ("телефон в международном формате, \(rules?.phonePattern?.source ?? IntakeConfig.defaultPhonePattern) после удаления пробелов, скобок и дефисов",
                      "phone in international format, \(rules?.phonePattern?.source ?? IntakeConfig.defaultPhonePattern) after removing spaces, brackets and dashes"),
            "name": ("имя клиента", "client's name"), "country": ("страна, код ISO 3166-1 alpha-2", "country, ISO 3166-1 alpha-2 code"),
            "source_id": ("ID продажи лида на вашей стороне — он вернётся в постбеке", "your sale id of the lead — it comes back in the postback"),
            "click_id": ("ID клика", "click id"), "email": ("e-mail", "e-mail"), "city": ("город", "city"),
            "ip": ("IP-адрес клиента", "client's IP address"), "comment": ("комментарий", "comment"),
        ]
        var fields = required
        for f in ["name", "country", "source_id", "click_id", "email", "city", "ip", "comment"] where !fields.contains(f) { fields.append(f) }
        for f in fields {
            var d = describe[f].map { ru ? $0.0 : $0.1 } ?? f
            if let format = merged.formats[f] { d += ru ? (format == .uuid ? ", в формате UUID" : ", только цифры") : ", " + format.description }
            if f == "country", let served = rules?.countries, !served.isEmpty { d += (ru ? "; обслуживаются: " : "; served: ") + served.joined(separator: ", ") }
            let need = required.contains(f) ? (ru ? "обязательное" : "required") : (ru ? "необязательное" : "optional")
            // The source's own name for the field (LeadCraft sends `lid`), as its spec maps it.
            let own = merged.fields.filter { $0.value == f }.map(\.key).sorted()
            lines.append("  • \(f)" + (own.isEmpty ? "" : " (" + own.joined(separator: ", ") + ")") + " (\(need)) - \(d)")
        }
        if let routes = rules?.routes, routes.contains(where: { !$0.when.isEmpty }) {
            let keys = Set(routes.flatMap { $0.when.keys }).sorted()
            lines.append("  • " + keys.joined(separator: ", ") + (ru ? " - выбор оффера: " : " - choice of offer: ")
                         + routes.compactMap { $0.when.isEmpty ? nil : $0.when.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: "&") }.joined(separator: "; "))
        }
        lines.append("")
        lines.append(ru ? "3. Авторизация и адреса" : "3. Authorization and addresses")
        lines.append(ru ? "  Токен передаётся в заголовке Authorization: Bearer <token>; токен выдаётся отдельно и в документе не печатается."
                        : "  The token goes in the Authorization: Bearer <token> header; it is handed over separately and never printed here.")
        if let allow = rules?.allow, !allow.isEmpty {
            lines.append((ru ? "  Запросы принимаются только с адресов: " : "  Requests are accepted only from: ") + allow.joined(separator: ", ")
                         + (ru ? " (сообщите нам адреса, с которых вы отправляете лиды)." : " (tell us the addresses you send leads from)."))
        } else {
            lines.append(ru ? "  Ограничения по IP-адресам нет." : "  There is no IP address restriction.")
        }
        lines.append("")
        lines.append(ru ? "4. Регионы и города" : "4. Regions and cities")
        let regions = (rules?.countries ?? []) + (rules?.regions ?? [])
        lines.append("  " + (regions.isEmpty ? (ru ? "без ограничений" : "no restrictions") : regions.joined(separator: ", ")))
        lines.append("")
        lines.append(ru ? "5. Пример запроса" : "5. Example request")
        lines.append("  curl -X POST '\(url)' -H 'Authorization: Bearer <token>' -H 'Content-Type: application/json' \\")
        lines.append(#"    -d '{"phone": "+79001234567", "name": "Иван Петров", "country": "RU", "source_id": "123456"}'"#)
        lines.append("")
        lines.append(ru ? "6. Примеры ответов" : "6. Example replies")
        lines.append(ru ? "  Лид принят (HTTP 200):" : "  Lead accepted (HTTP 200):")
        lines.append(#"    {"status":"accepted","id":"LB7Q2M9XK3D1T"}"#)
        lines.append(ru ? "  Повтор того же source_id (HTTP 200, тот же id):" : "  The same source_id again (HTTP 200, the same id):")
        lines.append(#"    {"status":"accepted","id":"LB7Q2M9XK3D1T","duplicate":true}"#)
        lines.append(ru ? "  Лид отклонён (HTTP 422):" : "  Lead rejected (HTTP 422):")
        lines.append(#"    {"status":"rejected","errors":[{"field":"phone","message":"is not a valid phone number"}]}"#)
        lines.append(ru ? "  Неверный токен (HTTP 401):" : "  Wrong token (HTTP 401):")
        lines.append(#"    {"status":"error","message":"wrong or missing bearer token"}"#)
        if let allow = rules?.allow, !allow.isEmpty {
            lines.append(ru ? "  Адрес не из списка (HTTP 403):" : "  An address not on the list (HTTP 403):")
            lines.append(#"    {"status":"error","message":"address not allowed"}"#)
        }
        return lines.joined(separator: "\n")
    }
}

/// Whether `serve`'s background round (outgoing postbacks, replays) is running, and how many
/// rounds began: the loop's timer starts a round only when the previous one has finished.
final class BackgroundWork: Sendable {
    private let state = Mutex((running: false, rounds: 0))

    /// True when a new round may start (and marks it started).
    func begin() -> Bool {
        state.withLock { s in
            guard !s.running else { return false }
            s.running = true
            s.rounds += 1
            return true
        }
    }

    /// The number of the round running (1 for the first).
    var tick: Int { state.withLock { $0.rounds } }

    func end() { state.withLock { $0.running = false } }
}

/// The command line's catalog as the console takes it: `serve` passes it, and the console's
/// tests use the same words.
public enum ConsoleWording {
    public static let catalog = ConsoleCatalog(reasons: reasons, problems: problems, failures: failures, terms: terms,
                                               stores: { StoreDetail.problem($0).text($1) })
    public static let reasons: @Sendable (LifecycleReason, Language) -> String = { Say.lifecycleReason($0).text($1) }
    public static let problems: @Sendable (SyncProblem, Language) -> String = { Say.syncProblem($0).text($1) }
    public static let failures: @Sendable (SendFailure, Language) -> String = { Say.sendFailure($0).text($1) }
    public static let terms: @Sendable (ConsoleTerm, Language) -> String = { t, l in
        switch t {
        case .state(let s): Say.state(s.rawValue).text(l)
        case .bucket(let b): Say.bucket(b.rawValue).text(l)
        case .outcome(let o): Say.state(o.rawValue).text(l)
        case .receipt(let r): Say.receipt(r).text(l)
        case .journalKind(let k): Say.journalKind(k.rawValue).text(l)
        case .source(let s): Say.journalSource(s.rawValue).text(l)
        case .postback(let r): Say.postbackResult(r).text(l)
        case .outgoing(let s): Say.outgoingState(s).text(l)
        case .syncOutcome(let o): o.text(l)
        }
    }
}
