import Foundation
import LeadBridgeCLI
import LeadBridgeConsole
import LeadBridgeCore
import LeadBridgeEngine
import LeadBridgeNet
import LeadBridgeStore

/// `serve`'s routes in process on 127.0.0.1:0 — the receiver and the console, as the CLI builds
/// them — over a seeded ledger, with a small cookie-keeping client (libcurl, the product's own).
final class ConsoleServer: Sendable {
    static let consoleToken = "console-token-0123456789"
    static let receiverToken = "receiver-token-XYZ"

    let server: HTTPServer
    let ingest: PostbackIngest
    let port: Int
    let config: LeadBridgeConfig

    static func configText(console: String? = #"{"token": "${CONSOLE_TOKEN}"}"#, trustedProxies: String = "[]") -> String {
        """
        {
          "accounts": {"kma-main": {"network": "kma", "credentials": {"token": "KMA-SECRET-123456"}}},
          "receiver": {"token": "\(receiverToken)", "base_url": "https://t.example.com", "trusted_proxies": \(trustedProxies)}
          \(console.map { #", "console": \#($0)"# } ?? "")
        }
        """
    }

    static func config(_ text: String = configText(), environment: [String: String] = ["CONSOLE_TOKEN": consoleToken]) throws -> LeadBridgeConfig {
        try ConfigReader.read(bytes: Array(text.utf8), file: "leadbridge.json", environment: environment, specs: LedgerSeed.library)
    }

    init(seed: LedgerSeed, config: LeadBridgeConfig) throws {
        self.config = config
        let lib = LedgerSeed.library
        let ledger = Ledger(store: seed.store, library: lib, config: config, clock: seed.clock.read)
        ingest = PostbackIngest(ledger: ledger, library: lib)
        let receiver = Receiver(library: lib, config: config, ledger: ledger, ingest: ingest, clock: seed.clock.read)
        var router = receiver.router
        let reads = try SQLiteLeadStore(path: seed.store.database.path)
        OperatorConsole(config: config, library: lib, store: reads, clock: seed.clock.read, catalog: ConsoleWording.catalog)?.addRoutes(to: &router)
        server = HTTPServer(configuration: Receiver.serverConfiguration(config, host: "127.0.0.1", port: 0), router: router)
        try server.start()
        port = server.boundPort ?? 0
    }

    func stop() {
        server.stop(graceful: false, timeout: 1)
        ingest.shutdown()
    }
}

/// A browser-like client for the tests: keeps cookies, never follows redirects.
final class ConsoleClient: @unchecked Sendable {
    // @unchecked: each test uses its client from one task at a time.
    let port: Int
    var cookies: [String: String] = [:]
    let transport = CurlTransport()

    init(port: Int) { self.port = port }

    struct Answer {
        var status: Int
        var headers: [HTTPHeader]
        var text: String
        func header(_ name: String) -> String? { headers.first { $0.name.lowercased() == name.lowercased() }?.value }
        func headers(_ name: String) -> [String] { headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value) }
        /// The value of `<input … name="NAME" value="…">` (our pages write name before value).
        func field(_ name: String) -> String? {
            guard let r = text.range(of: "name=\"\(name)\" value=\"") else { return nil }
            return String(text[r.upperBound...].prefix { $0 != "\"" })
        }
    }

    func request(_ method: String, _ path: String, form: [(String, String)]? = nil, headers: [HTTPHeader] = []) async throws -> Answer {
        var h = headers
        if !cookies.isEmpty { h.append(HTTPHeader("Cookie", cookies.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "; "))) }
        var body: [UInt8] = []
        if let form {
            h.append(HTTPHeader("Content-Type", "application/x-www-form-urlencoded"))
            body = Array(form.map { PercentEncoding.rfc3986($0.0) + "=" + PercentEncoding.rfc3986($0.1) }.joined(separator: "&").utf8)
        }
        let response = try await transport.send(HTTPRequestValue(method: method, url: "http://127.0.0.1:\(port)\(path)", headers: h, body: body), timeout: 60)
        for line in response.headers where line.name.lowercased() == "set-cookie" {
            let first = line.value.split(separator: ";")[0].split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard first.count == 2 else { continue }
            if line.value.contains("Max-Age=0") { cookies[String(first[0])] = nil } else { cookies[String(first[0])] = String(first[1]) }
        }
        return Answer(status: response.status, headers: response.headers, text: response.bodyText)
    }

    /// Logs in through the form (its CSRF cookie and field) and returns the login's answer.
    func logIn(token: String = ConsoleServer.consoleToken, next: String = "/console/networks", headers: [HTTPHeader] = []) async throws -> Answer {
        let page = try await request("GET", "/console/login?next=" + PercentEncoding.rfc3986(next))
        return try await request("POST", "/console/login", form: [("csrf", page.field("csrf") ?? ""), ("next", next), ("token", token)], headers: headers)
    }
}
