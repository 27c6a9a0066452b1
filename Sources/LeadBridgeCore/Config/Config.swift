/// `leadbridge.json`: the store, accounts per network, the receiver, traffic sources.
/// `${ENV}` values come from the environment; a missing variable makes unusable only the part
/// that needs it (an account, a source, the store, the receiver or intake), never the rest.
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
    /// The operator's console and `/metrics` on `serve`; nil (the console is off) without a token.
    public var console: ConsoleConfig?
    /// When `leadbridge status` calls the ledger unhealthy.
    public var health = HealthThresholds()
    /// Every secret value (credentials their spec marks secret, receiver and intake tokens)
    /// for the redactor.
    public var secretValues: [String]
    /// Accounts and sources that need an environment variable that is not set, as written
    /// (`${VAR}` left in): refused by `send`, reported by `sync`, never used to send.
    public var unavailableAccounts: [String: UnavailableAccount] = [:]
    public var unavailableSources: [String: UnavailableAccount] = [:]
    /// The store, receiver or intake settings when they need an unset variable: the commands
    /// that use them stop with these diagnostics.
    public var unavailableSections: [ConfigSection: [Diagnostic]] = [:]

    /// The environment variables an account needs that are unset; nil when it can be used.
    public func unsetVariables(ofAccount name: String) -> [String]? {
        (unavailableAccounts[name] ?? unavailableSources[name]).map(\.unsetVariables)
    }

    /// A source by name, usable or not (outgoing postbacks are queued for both, delivered
    /// only for usable ones, so nothing is lost while a variable is unset).
    public func anySource(_ name: String) -> AccountConfig? { sources[name] ?? unavailableSources[name]?.account }

    /// The accounts of one network (in name order).
    public func accounts(of network: String) -> [AccountConfig] {
        accounts.values.filter { $0.network == network }.sorted { $0.name < $1.name }
    }
}

/// A part of the configuration besides accounts and sources.
public enum ConfigSection: String, Sendable, Hashable, CaseIterable {
    case store, receiver, intake, console
}

/// The operator's console (`/console`) and `/metrics` on `serve`.
public struct ConsoleConfig: Sendable, Hashable {
    /// What a manager types to log in, and the bearer token of `/metrics`.
    public var token: String
    /// Addresses (IPs or CIDR networks) that may read `/metrics` without the token; empty by
    /// default, loopback included (no exception).
    public var metricsAllow: [String]
    /// How long a console session lasts.
    public var sessionSeconds: Int64
    /// Failed or not, login attempts one address may make per minute.
    public var loginAttemptsPerMinute: Int

    public static let minimumTokenLength = 12
    public static let keys = ["token", "metrics_allow", "session_hours", "login_attempts_per_minute"]

    public init(token: String, metricsAllow: [String] = [], sessionSeconds: Int64 = 12 * 3600, loginAttemptsPerMinute: Int = 5) {
        self.token = token
        self.metricsAllow = metricsAllow
        self.sessionSeconds = sessionSeconds
        self.loginAttemptsPerMinute = loginAttemptsPerMinute
    }
}

/// An account or source that needs an unset environment variable.
public struct UnavailableAccount: Sendable {
    /// As written in the file (unset `${VAR}`s left in).
    public var account: AccountConfig
    /// One per unset variable, with its position.
    public var problems: [Diagnostic]

    /// The names of the unset variables.
    public var unsetVariables: [String] {
        problems.compactMap { if case .envUnset(let name) = $0.message { name } else { nil } }
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
    /// A traffic source's price for approved leads (`sources` only).
    public var price: SourcePrice? = nil

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
    /// Connection, timeout, size and backlog limits (defaults when absent).
    public var limits = ReceiverLimits()
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

