/// `leadbridge.json`: the store, accounts per network, the receiver, traffic sources.
/// `${ENV}` values come from the environment; a missing variable is an error naming it.
public struct LeadBridgeConfig: Sendable {
    public var file: String
    public var store: String
    /// `full` makes every commit reach the disk before it is acknowledged (survives power
    /// loss); `normal` (default) survives a crash of the process.
    public var durabilityFull: Bool
    public var accounts: [String: AccountConfig]
    public var receiver: ReceiverConfig?
    public var sources: [String: AccountConfig]
    public var sync: SyncConfig
    public var intake: IntakeConfig?
    /// Every secret value (credentials marked secret by their spec are added by the caller;
    /// receiver tokens here) for the redactor.
    public var secretValues: [String]

    /// The accounts of one network (in name order).
    public func accounts(of network: String) -> [AccountConfig] {
        accounts.values.filter { $0.network == network }.sorted { $0.name < $1.name }
    }
}

/// One account at a network.
public struct AccountConfig: Sendable, Hashable {
    public var name: String
    public var network: String
    public var credentials: [String: String]
    public var params: [String: String]
    public var concurrency: Int?
    public var ratePerSecond: Double?

    public var values: AccountValues { AccountValues(name: name, credentials: credentials, params: params) }
}

/// The postback receiver and lead intake settings.
public struct ReceiverConfig: Sendable, Hashable {
    public var listen: String
    public var token: String?
    public var baseURL: String?
    public var tokens: [String: String]
    public var allow: [String: [String]]
    public var trustedProxies: [String]
    public var intakeToken: String?
}

/// Cron pass settings.
public struct SyncConfig: Sendable, Hashable {
    public var maxAttempts: Int
    public var retryBaseSeconds: Double
    public var pollIntervalSeconds: Int
    /// Delays before re-trying an outgoing postback (6 attempts over about a day by default).
    public var outgoingDelays: [Int64]
    public static let defaults = SyncConfig(maxAttempts: 8, retryBaseSeconds: 60, pollIntervalSeconds: 600, outgoingDelays: [60, 600, 3600, 4 * 3600, 18 * 3600])
}

/// A configuration problem, with the file and JSON pointer.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [Diagnostic]
    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}

/// Reads `leadbridge.json` (pure: bytes and environment in).
public enum ConfigReader {
    public static func read(bytes: [UInt8], file: String, environment: [String: String]) throws(ConfigError) -> LeadBridgeConfig {
        let parsed: PositionedJSON
        do { parsed = try JSONParser.parseWithPositions(bytes) } catch {
            throw ConfigError(diagnostics: [Diagnostic(file: file, position: error.position, code: "json", message: error.message)])
        }
        let sink = DiagnosticSink(map: SourceMap(file: file, positions: parsed.positions))
        var secrets: [String] = []
        func interpolate(_ s: String, at pointer: String) -> String {
            var out = ""
            var rest = Substring(s)
            while let start = rest.range(of: "${") {
                out += rest[rest.startIndex..<start.lowerBound]
                guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                    sink.error(pointer, code: "env", "unclosed ${ in \"\(s.prefix(40))\"")
                    return s
                }
                let name = String(rest[start.upperBound..<end])
                if let v = environment[name] { out += v } else {
                    sink.error(pointer, code: "env", "environment variable \(name) is not set")
                }
                rest = rest[rest.index(after: end)...]
            }
            out += rest
            return out
        }
        guard let top = ObjectReader(parsed.value, at: "", sink: sink, what: "the configuration") else { throw ConfigError(diagnostics: sink.diagnostics) }
        top.finish(["$schema", "store", "durability", "accounts", "receiver", "sources", "sync", "intake"])
        let durability = top.string("durability") ?? "normal"
        if !["normal", "full"].contains(durability) { sink.error("/durability", code: "enum", "must be \"normal\" or \"full\"") }
        func accounts(_ key: String) -> [String: AccountConfig] {
            var out: [String: AccountConfig] = [:]
            guard let a = top.object(key) else { return out }
            for m in a.object.members {
                guard let o = ObjectReader(m.value, at: a.path(m.key), sink: sink) else { continue }
                o.finish(["network", "credentials", "params", "concurrency", "ratePerSecond"])
                guard let network = o.string("network", required: true) else { continue }
                func map(_ k: String) -> [String: String] {
                    guard let inner = o.object(k) else { return [:] }
                    var r: [String: String] = [:]
                    for im in inner.object.members {
                        guard let s = im.value.scalarText else { sink.error(inner.path(im.key), code: "type", "must be a string"); continue }
                        r[im.key] = interpolate(s, at: inner.path(im.key))
                    }
                    return r
                }
                out[m.key] = AccountConfig(name: m.key, network: network.lowercased(), credentials: map("credentials"), params: map("params"),
                                           concurrency: o.int("concurrency", range: 1...256), ratePerSecond: o.number("ratePerSecond", positive: true))
            }
            return out
        }
        var receiver: ReceiverConfig?
        if let r = top.object("receiver") {
            r.finish(["listen", "token", "base_url", "tokens", "allow", "trusted_proxies", "intake_token"])
            let token = r.string("token").map { interpolate($0, at: r.path("token")) }
            var tokens: [String: String] = [:]
            if let t = r.object("tokens") {
                for m in t.object.members { if let s = m.value.stringValue { tokens[m.key] = interpolate(s, at: t.path(m.key)) } }
            }
            var allow: [String: [String]] = [:]
            if let a = r.object("allow") {
                for m in a.object.members { allow[m.key] = a.strings(m.key) }
            }
            let intake = r.string("intake_token").map { interpolate($0, at: r.path("intake_token")) }
            secrets += [token, intake].compactMap { $0 } + Array(tokens.values)
            receiver = ReceiverConfig(listen: r.string("listen") ?? "127.0.0.1:8080", token: token, baseURL: r.string("base_url"), tokens: tokens,
                                      allow: allow, trustedProxies: r.strings("trusted_proxies"), intakeToken: intake)
        }
        var sync = SyncConfig.defaults
        if let s = top.object("sync") {
            s.finish(["max_attempts", "retry_base_seconds", "poll_interval_seconds", "outgoing_delays"])
            sync.maxAttempts = s.int("max_attempts", range: 1...100) ?? sync.maxAttempts
            sync.retryBaseSeconds = s.number("retry_base_seconds", positive: true) ?? sync.retryBaseSeconds
            sync.pollIntervalSeconds = s.int("poll_interval_seconds", range: 0...86_400) ?? sync.pollIntervalSeconds
            if let d = s.array("outgoing_delays") {
                sync.outgoingDelays = d.compactMap { item in
                    guard let v = item.value.intValue, v >= 0 else { sink.error(item.pointer, code: "type", "must be a number of seconds"); return nil }
                    return Int64(v)
                }
            }
        }
        var intake: IntakeConfig?
        if let i = top.object("intake") {
            i.finish(["tokens", "required", "phone_pattern", "countries", "routes", "regions"])
            var tokens: [String: String] = [:]
            if let t = i.object("tokens") {
                for m in t.object.members {
                    guard let v = m.value.stringValue else { sink.error(t.path(m.key), code: "type", "must be a string"); continue }
                    let token = interpolate(v, at: t.path(m.key))
                    secrets.append(token)
                    tokens[token] = m.key
                }
            }
            let pattern = i.string("phone_pattern") ?? IntakeConfig.defaultPhonePattern
            if (try? Regex(pattern)) == nil { sink.error(i.path("phone_pattern"), code: "pattern", "not a valid regular expression") }
            let routes: [IntakeRoute] = (i.array("routes") ?? []).compactMap { item in
                guard let r = ObjectReader(item.value, at: item.pointer, sink: sink) else { return nil }
                r.finish(["when", "account"])
                guard let account = r.string("account", required: true) else { return nil }
                var when: [String: String] = [:]
                if let w = r.object("when") { for m in w.object.members { when[m.key] = m.value.scalarText ?? "" } }
                return IntakeRoute(when: when, account: account)
            }
            intake = IntakeConfig(tokens: tokens, required: i.strings("required"), phonePattern: pattern,
                                  countries: i.strings("countries").map { $0.uppercased() }, routes: routes, regions: i.strings("regions"))
        }
        let config = LeadBridgeConfig(file: file, store: top.string("store").map { interpolate($0, at: "/store") } ?? "leadbridge.sqlite",
                                      durabilityFull: durability == "full",
                                      accounts: accounts("accounts"), receiver: receiver, sources: accounts("sources"), sync: sync, intake: intake,
                                      secretValues: secrets)
        let errors = sink.diagnostics.filter(\.isError)
        if !errors.isEmpty { throw ConfigError(diagnostics: errors) }
        return config
    }

    /// Checks accounts against the specs: known network, known credential keys, required
    /// credentials present. Values never appear in messages.
    public static func check(_ config: LeadBridgeConfig, library: SpecLibrary) -> [String] {
        var problems: [String] = []
        for r in config.intake?.routes ?? [] where config.accounts[r.account] == nil {
            problems.append("intake route to unknown account \"\(r.account)\"" + Suggestions.didYouMean(r.account, among: config.accounts.keys.sorted()))
        }
        for (name, a) in (config.accounts.merging(config.sources) { x, _ in x }).sorted(by: { $0.key < $1.key }) {
            guard let spec = library.spec(a.network) else {
                problems.append("account \(name): unknown network \"\(a.network)\"" + Suggestions.didYouMean(a.network, among: library.specs.map(\.id)))
                continue
            }
            let keys = spec.credentials.map(\.key)
            for k in a.credentials.keys.sorted() where !keys.contains(k) {
                problems.append("account \(name): \(spec.id) has no credential \"\(k)\"" + Suggestions.didYouMean(k, among: keys))
            }
            for c in spec.credentials where c.required && (a.credentials[c.key] ?? "").isEmpty {
                problems.append("account \(name): missing credential \"\(c.key)\" (\(c.label.text(.en)))")
            }
            let params = spec.params.map(\.key)
            for k in a.params.keys.sorted() where !params.contains(k) {
                problems.append("account \(name): \(spec.id) has no parameter \"\(k)\"" + Suggestions.didYouMean(k, among: params))
            }
        }
        return problems
    }
}

extension Substring {
    func range(of needle: String) -> Range<Substring.Index>? { firstRange(of: needle) }
}
