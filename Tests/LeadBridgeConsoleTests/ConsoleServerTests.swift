import Foundation
import Testing
import LeadBridgeConsole
import LeadBridgeCore
import LeadBridgeEngine
import LeadBridgeNet
import LeadBridgeStore

/// The console's login, sessions and guards, and `/metrics`, over real sockets on loopback.
@Suite(.serialized) struct ConsoleServerTests {
    static func running(_ configText: String = ConsoleServer.configText(), _ body: (ConsoleServer, LedgerSeed) async throws -> Void) async throws {
        let seed = try LedgerSeed()
        let server = try ConsoleServer(seed: seed, config: try ConsoleServer.config(configText))
        defer { server.stop() }
        try await body(server, seed)
    }

    @Test func everyPageWithoutASessionGoesToTheLogin() async throws {
        try await Self.running { server, _ in
            let c = ConsoleClient(port: server.port)
            for path in ["/console", "/console/networks", "/console/leads?order=A-1", "/console/funnel", "/console/postbacks", "/console/health", "/console/leads/1"] {
                let r = try await c.request("GET", path)
                #expect(r.status == 303, "\(path)")
                #expect(r.header("Location")?.hasPrefix("/console/login?next=") == true, "\(path)")
            }
            // A forged or expired cookie is no session.
            c.cookies["lb_session"] = "9999999999.00112233445566778899aabbccddeeff.deadbeef"
            #expect(try await c.request("GET", "/console/networks").status == 303)
        }
    }

    @Test func loginNeedsTheTokenAndTheFormsCSRFValue() async throws {
        try await Self.running { server, _ in
            let c = ConsoleClient(port: server.port)
            let page = try await c.request("GET", "/console/login")
            #expect(page.status == 200)
            let loginCookie = try #require(page.headers("Set-Cookie").first { $0.hasPrefix("lb_login=") })
            #expect(loginCookie.contains("HttpOnly") && loginCookie.contains("SameSite=Strict") && !loginCookie.contains("Secure"))
            #expect(page.header("Content-Security-Policy")?.contains("default-src 'none'") == true)

            let wrong = try await c.logIn(token: "not-the-token-at-all")
            #expect(wrong.status == 401)
            #expect(wrong.text.contains("Неверный токен"))
            #expect(c.cookies["lb_session"] == nil)

            // The right token without the form's value (a cross-site post) is refused.
            let forged = try await c.request("POST", "/console/login", form: [("csrf", "00"), ("token", ConsoleServer.consoleToken)])
            #expect(forged.status == 403)
            #expect(c.cookies["lb_session"] == nil)
            // … and so is a post whose Origin is another site, even with the value.
            let form = try await c.request("GET", "/console/login")
            let other = try await c.request("POST", "/console/login", form: [("csrf", form.field("csrf") ?? ""), ("token", ConsoleServer.consoleToken)],
                                            headers: [HTTPHeader("Origin", "https://evil.example")])
            #expect(other.status == 403)

            let ok = try await c.logIn(next: "/console/funnel?from=2026-01-01")
            #expect(ok.status == 303)
            #expect(ok.header("Location") == "/console/funnel?from=2026-01-01")
            let session = try #require(ok.headers("Set-Cookie").first { $0.hasPrefix("lb_session=") })
            #expect(session.contains("HttpOnly") && session.contains("SameSite=Strict") && session.contains("Max-Age=43200") && session.contains("Path=/console"))
            #expect(!session.contains("Secure"))
            let networks = try await c.request("GET", "/console/networks")
            #expect(networks.status == 200)
            #expect(networks.text.contains("kma"))
            // Read-only: no page takes a POST.
            #expect(try await c.request("POST", "/console/leads", form: [("x", "y")]).status == 405)
        }
    }

    /// An account's parameter taken from a `${VAR}` is not shown on its network's page: a
    /// variable's value is a secret (the page says which settings are set, never their values).
    @Test func aParameterFromAVariableIsNotShown() async throws {
        let text = ConsoleServer.configText().replacingAll(#""credentials": {"token": "KMA-SECRET-123456"}}"#,
                                                           with: #""credentials": {"token": "KMA-SECRET-123456"}, "params": {"kma": "${KMA_STREAM}"}}"#)
        #expect(text != ConsoleServer.configText())
        let seed = try LedgerSeed()
        let config = try ConsoleServer.config(text, environment: ["CONSOLE_TOKEN": ConsoleServer.consoleToken, "KMA_STREAM": "stream-V4R-9911"])
        let server = try ConsoleServer(seed: seed, config: config)
        defer { server.stop() }
        let c = ConsoleClient(port: server.port)
        #expect(try await c.logIn().status == 303)
        let page = try await c.request("GET", "/console/networks/kma")
        #expect(page.status == 200)
        #expect(page.text.contains("kma-main") && page.text.contains("kma=***"), "\(page.text)")
        #expect(!page.text.contains("stream-V4R-9911"))
    }

    @Test func nextNeverLeavesTheConsole() async throws {
        try await Self.running { server, _ in
            for next in ["https://evil.example/", "//evil.example/console/", "/console/../x", "/elsewhere"] {
                let c = ConsoleClient(port: server.port)
                let ok = try await c.logIn(next: next)
                #expect(ok.status == 303)
                #expect(ok.header("Location") == "/console/networks", "\(next)")
            }
        }
    }

    @Test func theSessionCookieIsSecureBehindATrustedTLSProxy() async throws {
        try await Self.running(ConsoleServer.configText(trustedProxies: #"["127.0.0.1"]"#)) { server, _ in
            let c = ConsoleClient(port: server.port)
            let ok = try await c.logIn(headers: [HTTPHeader("X-Forwarded-Proto", "https"), HTTPHeader("X-Forwarded-For", "203.0.113.9")])
            #expect(ok.headers("Set-Cookie").first { $0.hasPrefix("lb_session=") }?.contains("; Secure") == true)
        }
        // The same header from a peer that is not a trusted proxy changes nothing.
        try await Self.running { server, _ in
            let ok = try await ConsoleClient(port: server.port).logIn(headers: [HTTPHeader("X-Forwarded-Proto", "https")])
            #expect(ok.headers("Set-Cookie").first { $0.hasPrefix("lb_session=") }?.contains("Secure") == false)
        }
    }

    @Test func loginIsRateLimitedPerAddress() async throws {
        try await Self.running { server, _ in
            let c = ConsoleClient(port: server.port)
            for _ in 0..<5 { #expect(try await c.logIn(token: "wrong-token-guess").status == 401) }
            let sixth = try await c.logIn()
            #expect(sixth.status == 429)
            #expect(sixth.header("Retry-After") != nil)
            #expect(c.cookies["lb_session"] == nil) // even the right token waits
        }
    }

    /// A sync pass's problem kept as a value reads in the page's language; an older ledger's
    /// text is shown as it was written.
    @Test func syncPassProblemsReadInThePagesLanguage() async throws {
        try await Self.running { server, seed in
            try seed.store.recordSyncPasses([
                SyncPassRecord(network: "kma", startedAt: 100, finishedAt: 104, outcome: .failed, problem: .pollFailed("HTTP 502")),
                SyncPassRecord(network: "drcash", startedAt: 100, finishedAt: 102, outcome: .failed, error: "poll: timed out after 30 s"),
            ])
            let c = ConsoleClient(port: server.port)
            _ = try await c.logIn()
            let ru = try await c.request("GET", "/console/health?lang=ru")
            #expect(ru.text.contains("опрос статусов: HTTP 502"), "\(ru.text)")
            #expect(ru.text.contains("poll: timed out after 30 s"))
            let en = try await c.request("GET", "/console/health?lang=en")
            #expect(en.text.contains("poll: HTTP 502") && !en.text.contains("опрос статусов"), "\(en.text)")
            // The pass's outcome word follows the page's language too.
            #expect(ru.text.contains("<span class=\"bad\">сбой</span>") && en.text.contains("<span class=\"bad\">failed</span>"))
        }
    }

    /// A send failure of ours kept as a value reads in the page's language on the lead's page
    /// (its last error and its attempt), and so do the ledger's words around it.
    @Test func sendFailuresReadInThePagesLanguage() async throws {
        try await Self.running { server, seed in
            let failures: [(SendFailure, ru: String, en: String)] = [
                (.httpStatus(503, excerpt: "busy"), "сеть ответила HTTP 503: busy", "HTTP 503: busy"),
                (.transport(.connection, .cannotConnect(host: "api.kma.biz", detail: "Couldn't connect to server")),
                 "не удаётся подключиться к api.kma.biz: Couldn&#39;t connect to server", "connection: cannot connect to api.kma.biz: Couldn&#39;t connect to server"),
            ]
            let c = ConsoleClient(port: server.port)
            _ = try await c.logIn()
            for (i, f) in failures.enumerated() {
                let row = try seed.lead("SF-\(i)", "kma", account: "kma-main", at: LedgerSeed.day0, .queued)
                #expect(try seed.ledger.claim(rowId: row, owner: "seed", lease: 600) != nil)
                #expect(try seed.ledger.requestWritten(rowId: row, owner: "seed"))
                _ = try seed.ledger.answered(rowId: row, outcome: SendOutcome(kind: .failed, failure: f.0, httpStatus: 503, receipt: .notReceived), owner: "seed")
                let ru = try await c.request("GET", "/console/leads/\(row)?lang=ru")
                // The last error, the attempt's row and the journal's.
                #expect(ru.text.components(separatedBy: ">" + f.ru + "<").count == 4, "\(ru.text)")
                #expect(!ru.text.contains(">" + f.en))
                let en = try await c.request("GET", "/console/leads/\(row)?lang=en")
                #expect(en.text.components(separatedBy: ">" + f.en + "<").count == 4, "\(en.text)")
                #expect(!en.text.contains(f.ru))
                // The ledger's words too: the send state, the attempt's outcome and receipt, the
                // journal's kind, source and states.
                for word in ["<span class=\"badge\">в очереди</span>", ">сбой<", ">не дошёл до сети<", ">попытка<", ">отправка<", "отправляется → в очереди"] {
                    #expect(ru.text.contains(word), "\(word)")
                }
                for word in ["<span class=\"badge\">queued</span>", ">failed<", ">not-received<", ">attempt<", ">send<", "sending → queued"] {
                    #expect(en.text.contains(word), "\(word)")
                }
            }
        }
    }

    @Test func logoutEndsTheSession() async throws {
        try await Self.running { server, _ in
            let c = ConsoleClient(port: server.port)
            _ = try await c.logIn()
            let session = try #require(c.cookies["lb_session"])
            let page = try await c.request("GET", "/console/health")
            #expect(page.status == 200)
            let csrf = try #require(page.field("csrf"))
            #expect(try await c.request("POST", "/console/logout", form: [("csrf", "forged")]).status == 403)
            let out = try await c.request("POST", "/console/logout", form: [("csrf", csrf)])
            #expect(out.status == 303)
            #expect(c.cookies["lb_session"] == nil)
            c.cookies["lb_session"] = session // the old cookie, kept by someone
            #expect(try await c.request("GET", "/console/health").status == 303)
        }
    }

    @Test func theConsoleIsOffWithoutAToken() async throws {
        try await Self.running(ConsoleServer.configText(console: nil)) { server, _ async throws in
            let c = ConsoleClient(port: server.port)
            #expect(try await c.request("GET", "/console/login").status == 404)
            #expect(try await c.request("GET", "/metrics").status == 404)
            #expect(try await c.request("GET", "/health").status == 200)
        }
        // An unset variable: off as well (serve warns), never a console without a token.
        let config = try ConsoleServer.config(environment: [:])
        #expect(config.console == nil)
        #expect(config.unavailableSections[.console]?.first?.description.contains("CONSOLE_TOKEN") == true)
    }

    @Test func aShortTokenIsAConfigurationError() throws {
        #expect(throws: ConfigError.self) { try ConsoleServer.config(environment: ["CONSOLE_TOKEN": "short"]) }
        #expect(throws: ConfigError.self) { try ConsoleServer.config(ConsoleServer.configText(console: #"{"token": "a-long-enough-token", "tokne": 1}"#)) }
    }
}
