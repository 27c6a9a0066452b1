/// A configuration problem: every diagnostic found, each with the file, position and pointer.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [Diagnostic]
    public init(diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }
    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}

/// Reads `leadbridge.json` (pure: bytes, environment and specs in) and is the one place that
/// validates it: unknown keys with "did you mean", networks, credential keys, parameters and
/// receiver networks against the specs, sizes against `InputLimits`. Every finding is an error,
/// except an unset `${VAR}`: that only makes the part using it unavailable (see
/// `LeadBridgeConfig.unavailableAccounts`), so one account's secret never stops the others.
///
/// Adding a key: list it in its section's `finish([...])` and read it there.
public enum ConfigReader {
    public static func read(bytes: [UInt8], file: String, environment: [String: String], specs: any SpecLookup) throws(ConfigError) -> LeadBridgeConfig {
        guard bytes.count <= InputLimits.configBytes else {
            throw ConfigError(diagnostics: [Diagnostic(file: file, .configTooLarge(size: bytes.count, limit: InputLimits.configBytes))])
        }
        let parsed: PositionedJSON
        do { parsed = try JSONParser.parseWithPositions(bytes, maxString: InputLimits.configString) } catch {
            throw ConfigError(diagnostics: [Diagnostic(file: file, position: error.position, .jsonSyntax(error.problem))])
        }
        let reading = ConfigReading(map: SourceMap(file: file, positions: parsed.positions), environment: environment, specs: specs)
        guard let config = reading.config(parsed.value, file: file) else { throw ConfigError(diagnostics: reading.sink.diagnostics.filter(\.isError)) }
        let errors = reading.sink.diagnostics.filter(\.isError)
        if !errors.isEmpty { throw ConfigError(diagnostics: errors) }
        return config
    }
}

/// One reading of a configuration file: the sink of findings, the unset variables met so far
/// (by the part they belong to) and the secrets to hide.
final class ConfigReading {
    let sink: DiagnosticSink
    let environment: [String: String]
    let specs: any SpecLookup
    var unset: [Diagnostic] = []
    var secrets: [String] = []
    /// Every variable's value met so far: an account takes its own as secrets.
    var substituted: [String] = []

    init(map: SourceMap, environment: [String: String], specs: any SpecLookup) {
        sink = DiagnosticSink(map: map)
        self.environment = environment
        self.specs = specs
    }

    /// `${VAR}` replaced from the environment. An unset variable is recorded in `unset` (not
    /// as an error) and left in the text: the caller decides which part it makes unavailable.
    func interpolate(_ s: String, at pointer: String) -> String {
        var out = ""
        var rest = Substring(s)
        while let start = rest.firstRange(of: "${") {
            out += rest[rest.startIndex..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                sink.error(pointer, .envUnclosed)
                return s
            }
            let name = String(rest[start.upperBound..<end])
            if let v = environment[name] {
                out += v
                if !v.isEmpty { substituted.append(v) }
            } else {
                unset.append(sink.map.diagnostic(at: pointer, .envUnset(name)))
                out += rest[start.lowerBound...end]
            }
            rest = rest[rest.index(after: end)...]
        }
        out += rest
        return out
    }

    /// Runs `body` and returns the unset variables it met.
    func collectingUnset(_ body: () -> Void) -> [Diagnostic] {
        let before = unset.count
        body()
        return Array(unset[before...])
    }

    func config(_ value: JSONValue, file: String) -> LeadBridgeConfig? {
        guard let top = ObjectReader(value, at: "", sink: sink, what: .configuration) else { return nil }
        top.finish(["$schema", "store", "durability", "accounts", "receiver", "sources", "sync", "intake", "console", "health"])
        let durability = top.string("durability") ?? "normal"
        if !["normal", "full"].contains(durability) { sink.error("/durability", .notOneOf(["normal", "full"], found: nil, suggestion: nil)) }
        var sections: [ConfigSection: [Diagnostic]] = [:]
        var store = "leadbridge.sqlite"
        sections[.store] = collectingUnset { store = top.string("store").map { interpolate($0, at: "/store") } ?? store }
        let (accounts, unavailableAccounts) = readAccounts(top, "accounts", what: .account)
        let (sources, unavailableSources) = readAccounts(top, "sources", what: .source)
        var receiverConfig: ReceiverConfig?
        sections[.receiver] = collectingUnset { receiverConfig = receiver(top) }
        var intakeConfig: IntakeConfig?
        sections[.intake] = collectingUnset { intakeConfig = intake(top, accounts: Set(accounts.keys).union(unavailableAccounts.keys)) }
        var consoleConfig: ConsoleConfig?
        sections[.console] = collectingUnset { consoleConfig = console(top) }
        if sections[.console]?.isEmpty == false { consoleConfig = nil }
        var config = LeadBridgeConfig(file: file, store: store, durabilityFull: durability == "full", accounts: accounts, receiver: receiverConfig,
                                      sources: sources, sync: sync(top), intake: intakeConfig, secretValues: secrets)
        config.console = consoleConfig
        config.health = health(top)
        config.unavailableAccounts = unavailableAccounts
        config.unavailableSources = unavailableSources
        config.unavailableSections = sections.filter { !$0.value.isEmpty }
        return config
    }

    // MARK: accounts and sources

    func readAccounts(_ top: ObjectReader, _ key: String, what: DiagnosticMessage.Subject) -> ([String: AccountConfig], [String: UnavailableAccount]) {
        var usable: [String: AccountConfig] = [:]
        var unavailable: [String: UnavailableAccount] = [:]
        guard let list = top.object(key) else { return (usable, unavailable) }
        for m in list.object.members {
            let pointer = list.path(m.key)
            if m.key.isEmpty || m.key.count > InputLimits.id {
                sink.error(pointer, key: true, .nameLength(what, limit: InputLimits.id))
                continue
            }
            var account: AccountConfig?
            let problems = collectingUnset { account = self.account(m.key, m.value, at: pointer, source: what == .source) }
            guard let account else { continue }
            if problems.isEmpty { usable[m.key] = account } else { unavailable[m.key] = UnavailableAccount(account: account, problems: problems) }
        }
        return (usable, unavailable)
    }

    func account(_ name: String, _ value: JSONValue, at pointer: String, source: Bool = false) -> AccountConfig? {
        guard let o = ObjectReader(value, at: pointer, sink: sink) else { return nil }
        o.finish(["network", "credentials", "params", "concurrency", "ratePerSecond"] + (source ? ["price"] : []))
        guard let networkName = o.string("network", required: true) else { return nil }
        let spec = specs.spec(networkName)
        if spec == nil {
            sink.error(o.path("network"), .unknownNetwork(networkName, suggestion: specs.closest(to: networkName).first.map { "\"\($0)\"" }, listHint: true))
        }
        var fromEnvironment: Set<String> = []
        func values(_ key: String, allowed: [String]?, credentials: Bool) -> [String: String] {
            guard let inner = o.object(key) else { return [:] }
            var out: [String: String] = [:]
            for im in inner.object.members {
                if let allowed, !allowed.contains(im.key) {
                    let network = spec?.id ?? networkName, near = Suggestions.best(im.key, among: allowed)
                    sink.error(inner.path(im.key), key: true, credentials
                               ? .unknownCredential(network: network, key: im.key, suggestion: near, allowed: allowed)
                               : .unknownParameter(network: network, key: im.key, suggestion: near, allowed: allowed))
                    continue
                }
                guard let s = im.value.scalarText else { sink.error(inner.path(im.key), .notAString(found: nil)); continue }
                let before = substituted.count
                out[im.key] = interpolate(s, at: inner.path(im.key))
                // A variable's value is a secret, even in a credential the spec shows or a parameter.
                secrets += substituted[before...]
                if !credentials && s.contains("${") { fromEnvironment.insert(im.key) }
            }
            return out
        }
        let credentials = values("credentials", allowed: spec.map { $0.credentials.map(\.key) }, credentials: true)
        let params = values("params", allowed: spec.map { $0.params.map(\.key) }, credentials: false)
        if let spec {
            for c in spec.credentials where c.required && (credentials[c.key] ?? "").isEmpty {
                sink.error(o.has("credentials") ? o.path("credentials") : pointer, .missingCredential(key: c.key, label: c.label, network: spec.id))
            }
            // A value still holding an unset `${VAR}` belongs to an unavailable account: never sent or shown.
            for c in spec.credentials where c.secret { if let v = credentials[c.key], !v.isEmpty, !v.contains("${") { secrets.append(v) } }
            for p in spec.params {
                guard let pattern = p.pattern, let v = params[p.key], !v.contains("${") else { continue }
                if !pattern.found(in: v) {
                    sink.error(JSONPointer.join(o.path("params"), p.key), .paramMismatch(value: fromEnvironment.contains(p.key) ? nil : String(v.prefix(60)), pattern: "\(pattern)", description: p.description))
                }
            }
        }
        var account = AccountConfig(name: name, network: spec?.id ?? networkName.lowercased(), credentials: credentials, params: params,
                                    concurrency: o.int("concurrency", range: 1...256), ratePerSecond: o.number("ratePerSecond", positive: true))
        if source {
            if let spec, spec.outgoing.isEmpty {
                sink.error(o.path("network"), .notASource(spec.id))
            }
            account.price = o.object("price").flatMap { price($0) }
        }
        return account
    }

    /// `sources.NAME.price`: one of `fixed`, `offers` (+ `default`), `payout`.
    func price(_ p: ObjectReader) -> SourcePrice? {
        p.finish(["fixed", "offers", "default", "payout"])
        let kinds = ["fixed", "offers", "payout"].filter { p.has($0) }
        guard kinds.count == 1 else {
            sink.error(p.pointer, kinds.isEmpty ? .priceNeedsOne : .priceOnlyOne(kinds))
            return nil
        }
        if p.has("default") && kinds != ["offers"] { sink.error(p.path("default"), .priceDefaultWithOffers) }
        func amounts(_ o: ObjectReader) -> [String: String] {
            var out: [String: String] = [:]
            for m in o.object.members {
                guard let t = m.value.scalarText, m.value.stringValue != nil || m.value.doubleValue != nil else {
                    sink.error(o.path(m.key), .notAnAmount)
                    continue
                }
                out[m.key] = t
            }
            return out
        }
        let result: SourcePrice?
        if let v = p.raw("fixed") {
            guard let t = v.scalarText, !v.isNull, v.boolValue == nil else { sink.error(p.path("fixed"), .notAnAmount); return nil }
            result = .fixed(t)
        } else if let offers = p.object("offers") {
            result = .perOffer(amounts(offers), default: p.raw("default")?.scalarText)
        } else if let pay = p.object("payout") {
            pay.finish(["currency", "rates", "assume"])
            guard let currency = pay.string("currency", required: true) else { return nil }
            result = .payout(currency: currency.uppercased(), rates: pay.object("rates").map(amounts) ?? [:], assume: pay.string("assume")?.uppercased())
        } else {
            result = nil
        }
        for bad in result?.invalidAmounts ?? [] {
            sink.error(p.pointer, .notAnAmountText(String(bad.prefix(40))))
        }
        return result
    }

    // MARK: receiver, sync, intake

    func receiver(_ top: ObjectReader) -> ReceiverConfig? {
        guard let r = top.object("receiver") else { return nil }
        r.finish(["listen", "token", "base_url", "tokens", "allow", "trusted_proxies", "intake_token"] + ReceiverLimits.keys)
        let token = r.string("token").map { interpolate($0, at: r.path("token")) }
        var tokens: [String: String] = [:]
        if let t = r.object("tokens") {
            for m in t.object.members where knownNetwork(m.key, at: t.path(m.key)) {
                if let s = m.value.stringValue { tokens[m.key] = interpolate(s, at: t.path(m.key)) } else { sink.error(t.path(m.key), .notAString(found: nil)) }
            }
        }
        var allow: [String: [String]] = [:]
        if let a = r.object("allow") {
            for m in a.object.members where knownNetwork(m.key, at: a.path(m.key)) { allow[m.key] = a.strings(m.key) }
        }
        let intake = r.string("intake_token").map { interpolate($0, at: r.path("intake_token")) }
        secrets += [token, intake].compactMap { $0 } + Array(tokens.values)
        return ReceiverConfig(listen: r.string("listen") ?? "127.0.0.1:8080", token: token, baseURL: r.string("base_url"), tokens: tokens,
                              allow: allow, trustedProxies: r.strings("trusted_proxies"), intakeToken: intake, limits: ReceiverLimits.read(r))
    }

    /// A network named as a key (receiver tokens and allow-lists) must be a spec's id or alias.
    func knownNetwork(_ name: String, at pointer: String) -> Bool {
        if specs.spec(name) != nil { return true }
        sink.error(pointer, key: true, .unknownNetwork(String(name.prefix(80)), suggestion: specs.closest(to: name).first.map { "\"\($0)\"" }, listHint: false))
        return false
    }

    func sync(_ top: ObjectReader) -> SyncConfig {
        var sync = SyncConfig.defaults
        guard let s = top.object("sync") else { return sync }
        s.finish(["max_attempts", "retry_base_seconds", "poll_interval_seconds", "outgoing_delays"])
        sync.maxAttempts = s.int("max_attempts", range: 1...100) ?? sync.maxAttempts
        sync.retryBaseSeconds = s.number("retry_base_seconds", positive: true) ?? sync.retryBaseSeconds
        sync.pollIntervalSeconds = s.int("poll_interval_seconds", range: 0...86_400) ?? sync.pollIntervalSeconds
        if let d = s.array("outgoing_delays") {
            sync.outgoingDelays = d.compactMap { item in
                guard let v = item.value.intValue, v >= 0 else { sink.error(item.pointer, .notSeconds); return nil }
                return Int64(v)
            }
        }
        return sync
    }

    /// `console`: its token (a secret, at least `ConsoleConfig.minimumTokenLength` characters),
    /// the `/metrics` allow-list, the session length and the login rate.
    func console(_ top: ObjectReader) -> ConsoleConfig? {
        guard let c = top.object("console") else { return nil }
        c.finish(ConsoleConfig.keys)
        guard let raw = c.string("token", required: true) else { return nil }
        let token = interpolate(raw, at: c.path("token"))
        if token.contains("${") { return nil } // unset variable: the console stays off (reported by serve)
        secrets.append(token)
        if token.count < ConsoleConfig.minimumTokenLength {
            sink.error(c.path("token"), .weakToken(minimum: ConsoleConfig.minimumTokenLength))
        }
        var config = ConsoleConfig(token: token, metricsAllow: c.strings("metrics_allow"))
        if let h = c.int("session_hours", range: 1...720) { config.sessionSeconds = Int64(h) * 3600 }
        if let n = c.int("login_attempts_per_minute", range: 1...1000) { config.loginAttemptsPerMinute = n }
        return config
    }

    /// `health`: the thresholds of `leadbridge status` (seconds, counts).
    func health(_ top: ObjectReader) -> HealthThresholds {
        var h = HealthThresholds()
        guard let o = top.object("health") else { return h }
        o.finish(HealthThresholds.keys)
        if let v = o.int("outbox_stuck_seconds", range: 60...31_536_000) { h.outboxStuckSeconds = Int64(v) }
        if let v = o.int("outgoing_behind_seconds", range: 60...31_536_000) { h.outgoingBehindSeconds = Int64(v) }
        if let v = o.int("sync_stale_seconds", range: 60...31_536_000) { h.syncStaleSeconds = Int64(v) }
        if let v = o.int("max_uncertain", range: 0...1_000_000_000) { h.maxUncertain = v }
        return h
    }

    func intake(_ top: ObjectReader, accounts: Set<String>) -> IntakeConfig? {
        guard let i = top.object("intake") else { return nil }
        i.finish(["tokens", "required", "phone_pattern", "countries", "routes", "regions", "allow"])
        var tokens: [String: String] = [:]
        if let t = i.object("tokens") {
            for m in t.object.members {
                guard let v = m.value.stringValue else { sink.error(t.path(m.key), .notAString(found: nil)); continue }
                let token = interpolate(v, at: t.path(m.key))
                secrets.append(token)
                tokens[token] = m.key
            }
        }
        let pattern = SpecPattern(i.string("phone_pattern") ?? IntakeConfig.defaultPhonePattern)
        if pattern == nil { sink.error(i.path("phone_pattern"), .invalidRegex) }
        let routes: [IntakeRoute] = (i.array("routes") ?? []).compactMap { item in
            guard let r = ObjectReader(item.value, at: item.pointer, sink: sink) else { return nil }
            r.finish(["when", "account"])
            guard let account = r.string("account", required: true) else { return nil }
            if !accounts.contains(account) {
                sink.error(r.path("account"), .unknownIntakeAccount(String(account.prefix(80)), suggestion: Suggestions.best(account, among: accounts.sorted())))
            }
            var when: [String: String] = [:]
            if let w = r.object("when") { for m in w.object.members { when[m.key] = m.value.scalarText ?? "" } }
            return IntakeRoute(when: when, account: account)
        }
        return IntakeConfig(tokens: tokens, required: i.strings("required"), phonePattern: pattern,
                            countries: i.strings("countries").map { $0.uppercased() }, routes: routes, regions: i.strings("regions"), allow: i.strings("allow"))
    }
}
