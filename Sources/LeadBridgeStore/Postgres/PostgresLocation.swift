import CPostgres
import LeadBridgeCore
import FoundationEssentials
import Glibc

/// Where a PostgreSQL store lives: a `postgres://` / `postgresql://` URL (the unix-socket
/// forms included) read by libpq itself, completed by the `PG*` variables of the given
/// environment. It exists so the password is held in one place and never printed: errors,
/// logs and `--json` show `display`, which libpq's own "password field" marking strips.
public struct PostgresLocation: Sendable, CustomStringConvertible {
    /// libpq keyword/value pairs, URL values over environment values over our defaults.
    let parameters: [(keyword: String, value: String)]
    /// The URL without its password: safe to print.
    public let display: String
    /// Every secret value (the password from the URL or `PGPASSWORD`), for redactors.
    public let secrets: [String]

    public var description: String { display }

    /// True for the store values that name PostgreSQL rather than an SQLite file.
    public static func isPostgres(_ store: String) -> Bool {
        store.hasPrefix("postgres://") || store.hasPrefix("postgresql://")
    }

    /// Parses `url` with libpq (`PQconninfoParse`): nothing here re-implements its grammar.
    /// `applicationName` tells the database administrator which command holds a connection.
    public init(_ url: String, environment: [String: String], applicationName: String = "leadbridge") throws(StoreError) {
        guard Self.isPostgres(url) else {
            throw StoreError(.misuse, .notPostgresURL)
        }
        var message: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(url, &message) else {
            let why = message.map { String(cString: $0) } ?? "unreadable"
            if let message { PQfreemem(message) }
            // libpq quotes the token it stopped at, which can be the password: masked.
            throw StoreError(.config, .postgresURLInvalid(detail: Self.masked(Self.firstLine(why), passwords: Self.passwords(in: url))))
        }
        defer { PQconninfoFree(options) }
        var fromURL: [String: String] = [:]
        var fromEnvironment: [String: String] = [:]
        var secretKeywords: Set<String> = []
        var order: [String] = []
        var option = options
        while let keyword = option.pointee.keyword {
            let name = String(cString: keyword)
            order.append(name)
            if let d = option.pointee.dispchar, String(cString: d) == "*" { secretKeywords.insert(name) }
            if let v = option.pointee.val { fromURL[name] = String(cString: v) }
            if let e = option.pointee.envvar, let v = environment[String(cString: e)], !v.isEmpty { fromEnvironment[name] = v }
            option += 1
        }
        // Without these, a vanished server could block a cron pass for minutes.
        let defaults = ["connect_timeout": "10", "keepalives_idle": "30", "keepalives_interval": "10", "keepalives_count": "3",
                        "application_name": applicationName]
        var values = defaults.merging(fromEnvironment) { _, env in env }.merging(fromURL) { _, url in url }
        values = values.filter { order.contains($0.key) }
        parameters = order.compactMap { k in values[k].map { (k, $0) } }
        secrets = secretKeywords.compactMap { values[$0] }.filter { !$0.isEmpty }
        display = Self.display(values)
    }

    /// `postgresql://user@host:port/db` (with `?host=/socket/dir` for a unix socket); no password.
    static func display(_ v: [String: String]) -> String {
        let user = v["user"].map { $0 + "@" } ?? ""
        let host = v["host"] ?? v["hostaddr"] ?? ""
        let port = v["port"].map { ":" + $0 } ?? ""
        let db = v["dbname"] ?? ""
        if host.isEmpty || host.hasPrefix("/") || host.hasPrefix("@") {
            let socket = host.isEmpty ? "" : "?host=" + host
            return "postgresql://\(user)/\(db)\(socket)\(port.isEmpty ? "" : (socket.isEmpty ? "?" : "&") + "port=" + port.dropFirst())"
        }
        return "postgresql://\(user)\(host)\(port)/\(db)"
    }

    /// The password parts of a URL libpq could not parse, as written: the user part's (from its
    /// first `:` to the `@` that ends it before any `/`, as libpq reads it) and `password=` values.
    static func passwords(in url: String) -> [String] {
        var found: [String] = []
        if let scheme = url.firstRange(of: "://") {
            let authority = url[scheme.upperBound...].prefix { $0 != "/" }
            if let at = authority.firstIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") {
                found.append(String(authority[authority.index(after: colon)..<at]))
            }
        }
        if let q = url.firstIndex(of: "?") {
            for pair in url[url.index(after: q)...].split(separator: "&") where pair.hasPrefix("password=") {
                found.append(String(pair.dropFirst("password=".count)))
            }
        }
        return found.filter { !$0.isEmpty }
    }

    /// `message` with each quoted part that holds or is part of a password replaced by `***`,
    /// and every longer password in any of its forms masked.
    static func masked(_ message: String, passwords: [String]) -> String {
        guard !passwords.isEmpty else { return message }
        let parts = message.split(separator: "\"", omittingEmptySubsequences: false)
        let quotedMasked = parts.enumerated().map { i, part in
            i % 2 == 1 && !part.isEmpty && passwords.contains { $0.contains(part) || part.contains($0) } ? "***" : String(part)
        }.joined(separator: "\"")
        return Redactor(secrets: passwords).redact(quotedMasked)
    }

    static func firstLine(_ s: String) -> String {
        String(s.split(separator: "\n", omittingEmptySubsequences: true).first ?? "").trimmingWhitespace
    }
}
