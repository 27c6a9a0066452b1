import Foundation
import Glibc
import Testing
import LeadBridgeCore
import LeadBridgeStore
import LeadBridgeTestSupport

/// The console checked in a real browser (Debian's headless chromium) against the real
/// `leadbridge serve` over a seeded ledger: the login, every page's figures, the SVG chart,
/// escaping, the language switch, the copy buttons with JavaScript on and off. Screenshots go
/// to .build/console-screenshots/ (test artifacts, not committed).
@Suite(.serialized) struct BrowserTests {
    static let screenshots = PackageFixtures.root + "/.build/console-screenshots"
    static let script = "<script>alert(1)</script>"

    /// The ledger every page is checked against (figures computed by hand in `checkFunnel`).
    static func seed(at path: String) throws {
        let s = try LedgerSeed(path: path)
        let (d0, h, d) = (LedgerSeed.day0, Int64(3600), Int64(86_400))
        try s.lead("K1", "kma", account: "kma-main", at: d0 + h, phone: "+7 (900) 111-45-67", .accepted(.approved, payout: "10.50", currency: "USD", after: 2 * h))
        try s.lead("K2", "kma", account: "kma-main", at: d0 + 2 * h, .accepted(.cancelled, raw: "declined", after: h))
        try s.lead("XSS-1", "kma", account: "kma-main", at: d0 + d + h, phone: "+79002224567", name: script,
                   .accepted(.approved, payout: "4.50", currency: "USD", after: 30 * 60))
        try s.lead("K4", "kma", account: "kma-main", at: d0 + d + 2 * h, .duplicate)
        try s.lead("K5", "kma", account: "kma-main", at: d0 + 2 * d + h, .uncertain)
        try s.lead("K6", "kma", account: "kma-main", at: d0 + 2 * d + 2 * h, .queued)
        try s.lead("R1", "drcash", account: "dr-main", at: d0 + 3 * h, .accepted(.approved, payout: "700", currency: "RUB", after: 10 * 60))
        try s.lead("R2", "drcash", account: "dr-main", at: d0 + 2 * d + 3 * h, .rejected)
        try s.store.recordSyncPasses([SyncPassRecord(network: "kma", startedAt: d0 + 3 * d, finishedAt: d0 + 3 * d + 4, outcome: .failed, error: "poll: HTTP 500"),
                                      SyncPassRecord(network: "drcash", startedAt: d0 + 3 * d, finishedAt: d0 + 3 * d + 2, outcome: .ok, sent: 1, polled: 2)])
        try s.store.write { (w: any LedgerWriter) throws(StoreError) in
            let raw = { (q: String) in RawPostback(receivedAt: d0 + 3 * d, network: "kma", remote: "203.0.113.7", method: "GET", path: "/postback/kma", query: q, body: []) }
            let ids = try w.logPostbacks([raw("token=***&oid=K1&status=zzqqx"), raw("token=***&oid=K2&status=zzqqx"), raw("token=***&oid=NOPE-9&status=a")])
            try w.savePostbackResults([RawPostbackResult(id: ids[0], result: .unknownStatus, orderId: "K1", note: "ignored: unknown status word \"zzqqx\""),
                                       RawPostbackResult(id: ids[1], result: .unknownStatus, orderId: "K2", note: "ignored: unknown status word \"zzqqx\""),
                                       RawPostbackResult(id: ids[2], result: .unmatched, orderId: "NOPE-9", note: "no such lead yet")])
        }
    }

    /// `leadbridge serve` (the built binary) on a free loopback port. Started with posix_spawn
    /// and reaped with waitpid on its own pid (Foundation's Process can miss a child's exit in a
    /// process full of other tests' children, and its waitUntilExit then spins forever).
    final class Serve {
        let pid: pid_t
        let port: Int

        init(config: String, log: String) throws {
            let executable = PackageFixtures.root + "/.build/debug/leadbridge"
            var out: [Int32] = [0, 0]
            guard pipe(&out) == 0 else { throw Chromium.Failure(description: "pipe: errno \(errno)") }
            for fd in out { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            posix_spawn_file_actions_adddup2(&actions, out[1], 1)
            posix_spawn_file_actions_addopen(&actions, 2, log, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            try Chromium.closeFrom(3, &actions)
            let args = [executable, "serve", "--listen", "127.0.0.1:0", "--config", config, "--lang", "en"]
            let env = ["CONSOLE_TOKEN=\(ConsoleServer.consoleToken)", "PATH=/usr/bin:/bin", "LEADBRIDGE_HOME=\(PackageFixtures.root)"]
            let argv: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) } + [nil]
            let envp: [UnsafeMutablePointer<CChar>?] = env.map { strdup($0) } + [nil]
            defer { for a in argv + envp { free(a) } }
            var pid: pid_t = 0
            let rc = posix_spawn(&pid, executable, &actions, nil, argv, envp)
            Glibc.close(out[1])
            defer { Glibc.close(out[0]) }
            guard rc == 0 else { throw Chromium.Failure(description: "cannot start \(executable): errno \(rc)") }
            self.pid = pid
            // The first line, "leadbridge: listening on http://127.0.0.1:PORT", within a generous minute.
            var line: [UInt8] = []
            let deadline = Date().addingTimeInterval(60)
            while !line.contains(UInt8(ascii: "\n")) {
                var p = pollfd(fd: out[0], events: Int16(POLLIN), revents: 0)
                let left = Int32(max(0, deadline.timeIntervalSinceNow) * 1000)
                guard left > 0, poll(&p, 1, left) >= 0 else { Self.end(pid); throw Chromium.Failure(description: "serve did not listen within 60 s (see \(log))") }
                var chunk = [UInt8](repeating: 0, count: 512)
                let n = read(out[0], &chunk, chunk.count)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { Self.end(pid); throw Chromium.Failure(description: "serve exited before listening (see \(log))") }
                line += chunk[0..<n]
            }
            let text = String(decoding: line, as: UTF8.self)
            guard let p = text.split(separator: ":").last.flatMap({ Int($0.prefix { $0.isNumber }) }) else {
                Self.end(pid)
                throw Chromium.Failure(description: "serve printed \(text)")
            }
            port = p
        }

        func stop() { Self.end(pid) }

        /// SIGTERM, up to 30 s to stop, then SIGKILL; reaped either way.
        static func end(_ pid: pid_t) {
            kill(pid, SIGTERM)
            var status: Int32 = 0
            var reaped = false
            for _ in 0..<300 where !reaped {
                if waitpid(pid, &status, WNOHANG) == pid { reaped = true } else { usleep(100_000) }
            }
            if !reaped {
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
            }
        }
    }

    /// Runs blocking work on a thread of its own (the browser is driven synchronously).
    static func onThread(_ body: @escaping @Sendable () throws -> Void) async throws {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
            Thread.detachNewThread {
                do { try body(); c.resume() } catch { c.resume(throwing: error) }
            }
        }
    }

    @Test func theConsoleInChromium() async throws {
        try FileManager.default.createDirectory(atPath: Self.screenshots, withIntermediateDirectories: true)
        let dir = NSTemporaryDirectory() + "leadbridge-browser-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Self.seed(at: dir + "/ledger.sqlite")
        let config = dir + "/leadbridge.json"
        Self.write("""
            {"store": "ledger.sqlite",
             "accounts": {"kma-main": {"network": "kma", "credentials": {"token": "KMA-SECRET-123456"}},
                          "dr-main": {"network": "drcash", "credentials": {"token": "DRC-SECRET-123456"}, "params": {"drcash": "iu244"}}},
             "receiver": {"token": "\(ConsoleServer.receiverToken)", "base_url": "https://t.example.com"},
             "console": {"token": "${CONSOLE_TOKEN}"}}
            """, to: config)
        let serve = try Serve(config: config, log: Self.screenshots + "/serve.log")
        defer { serve.stop() }
        let port = serve.port
        let checks = Checks()
        try await Self.onThread { try Self.drive(port: port, checks) }
        for p in checks.problems { Issue.record(Comment(rawValue: p)) }
    }

    static func write(_ text: String, to path: String) {
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
    }

    struct Mismatch: Error, CustomStringConvertible { var description: String }

    /// What the browser run found wrong, each with its line (recorded by the test's own task:
    /// the browser is driven on a thread of its own).
    final class Checks: @unchecked Sendable {
        // @unchecked: filled by the browser thread, read after it has finished.
        var problems: [String] = []
        func expect(_ ok: Bool, _ what: @autoclosure () -> String, line: Int = #line) {
            if !ok { problems.append("BrowserTests.swift:\(line): \(what())") }
        }
    }

    /// Rows of the page's tables as the reader sees them.
    static func rows(_ b: Chromium, _ selector: String = "tbody tr") throws -> [[String]] {
        let v = try b.evaluate("Array.from(document.querySelectorAll(\(JSONWriter.quote(selector)))).map(r => Array.from(r.cells).map(c => c.innerText.trim()))")
        return (v.arrayValue ?? []).map { ($0.arrayValue ?? []).map { $0.stringValue ?? "" } }
    }

    static func drive(port: Int, _ checks: Checks) throws {
        func expect(_ ok: Bool, _ what: @autoclosure () -> String, line: Int = #line) { checks.expect(ok, what(), line: line) }
        let b = try Chromium(log: screenshots + "/chromium.log")
        defer { b.close() }
        let base = "http://127.0.0.1:\(port)"
        func shot(_ name: String) throws { try b.screenshot(to: screenshots + "/" + name + ".png") }

        // Without a session every page leads to the login.
        try b.open(base + "/console/funnel?from=2026-01-01&to=2026-01-03")
        expect(b.path.hasPrefix("/console/login?next="), "not sent to the login: \(b.path)")
        try shot("login")
        try b.submit(["token": "not-the-console-token"])
        expect(try b.text().contains("Неверный токен"), "a wrong token was not refused: \((try? b.text()) ?? "")")
        expect(b.path.hasPrefix("/console/login"), "a wrong token left the login: \(b.path)")
        try b.submit(["token": ConsoleServer.consoleToken])
        expect(b.path == "/console/funnel?from=2026-01-01&to=2026-01-03", "after the login: \(b.path)")
        try checkFunnel(b, checks)
        try shot("funnel")

        // The English switch (a link: works without JavaScript) is remembered.
        try b.load { _ = try b.evaluate("document.querySelector('a[lang=en]').click(); true") }
        expect(try b.string("document.querySelector('h1').innerText") == "Funnel", "English title: \(((try? b.text()) ?? "").prefix(200))")
        expect(try b.text().contains("approval rate"), "English headers")
        try shot("funnel.en")
        try b.open(base + "/console/health")
        expect(try b.text().contains("network kma is failing: poll: HTTP 500"), "health (en): \(((try? b.text()) ?? "").prefix(500))")
        try b.load { _ = try b.evaluate("document.querySelector('a[lang=ru]').click(); true") }

        // Networks: the catalog, a network's page with full postback URLs and copy buttons.
        try b.open(base + "/console/networks")
        let catalog = try rows(b)
        expect(catalog.count == 50, "catalog rows: \(catalog.count)")
        expect(catalog.contains { $0.first == "drcash" && $0.last == "1" }, "drcash with one account: \(catalog.first { $0.first == "drcash" } ?? [])")
        try shot("networks")
        try b.open(base + "/console/networks/drcash")
        let url = try b.string("document.getElementById('postback-1').value")
        expect(url == "https://t.example.com/postback/drcash?token=\(ConsoleServer.receiverToken)&oid={sub1}&status={status}&stw=hold", "postback URL: \(url)")
        expect(try b.evaluate("document.querySelector('button[data-copy]').hidden") == .bool(false), "the copy button is hidden with JavaScript on")
        expect(try b.text().contains("DRC-SECRET") == false, "an account secret is shown")
        try shot("network")

        // Leads: the search, and the lead named like a script is text.
        try b.open(base + "/console/leads?phone=4567")
        let found = try rows(b).map { $0.first ?? "" }
        expect(found == ["XSS-1", "K1"], "leads by phone ending: \(found)")
        try shot("leads")
        try b.load { _ = try b.evaluate("Array.from(document.querySelectorAll('a')).find(a => a.innerText === 'XSS-1').click(); true") }
        expect(try b.text().contains(script), "the name is not shown as text")
        expect(try b.evaluate("document.querySelectorAll('script').length") == .int(0), "a script element in the lead page")
        expect(b.dialogs.isEmpty, "a dialog opened: \(b.dialogs)")
        // The ledger's words in the page's language, the network's own word beside them.
        expect(try b.text().contains("одобрен (approved)"), "the lead's status: \(((try? b.text()) ?? "").prefix(800))")
        expect(try b.text().contains("принят"), "the lead's send state in Russian")
        try shot("lead")

        // Postbacks: unknown words with their count and the spec line, unmatched ones.
        try b.open(base + "/console/postbacks")
        let unknown = try rows(b, "main > div.scroll:first-of-type tbody tr")
        expect(unknown.first.map { Array($0.prefix(3)) } == ["kma", "zzqqx", "2"], "unknown words: \(unknown)")
        expect(unknown.first?.last?.contains("Networks/kma.json") == true, "the spec line: \(unknown)")
        expect(try b.text().contains("NOPE-9"), "the unmatched postback")
        expect(try b.text().contains(ConsoleServer.receiverToken) == false, "a token in the postbacks page")
        try shot("postbacks")

        // Health: the failing network and the queues.
        try b.open(base + "/console/health")
        let text = try b.text()
        expect(text.contains("сеть kma не работает: poll: HTTP 500"), "health: \(text.prefix(500))")
        expect(try rows(b).contains { $0.first == "K6" }, "the oldest queued lead")
        expect(try rows(b).contains { $0.first == "K5" }, "the oldest uncertain lead")
        try shot("health")

        // JavaScript off: pages and forms work, the copy button stays hidden, the URL stays selectable.
        try b.scripts(enabled: false)
        try b.open(base + "/console/networks/drcash")
        expect(try b.evaluate("document.querySelector('button[data-copy]').hidden") == .bool(true), "the copy button shows without JavaScript")
        expect(try b.string("document.getElementById('postback-1').value").hasPrefix("https://t.example.com/postback/drcash"), "URL without JavaScript")
        try b.open(base + "/console/funnel?from=2026-01-01&to=2026-01-03")
        try b.submit(["to": "2026-01-01"], form: 1)
        expect(b.path.contains("to=2026-01-01"), "the filter form without JavaScript: \(b.path)")
        expect(try rows(b).last?[2] == "3", "one day's leads: \(((try? rows(b)) ?? []).last ?? [])")
        try b.scripts(enabled: true)

        // Logging out ends the session.
        try b.submit([:], form: 0)
        expect(b.path.hasPrefix("/console/login"), "after logout: \(b.path)")
        try b.open(base + "/console/health")
        expect(b.path.hasPrefix("/console/login"), "a page after logout: \(b.path)")
    }

    /// The funnel of the seeded ledger over 2026-01-01…03, computed by hand:
    /// kma: K1 approved 10.50 USD (120 min), K2 cancelled (60 min), XSS-1 approved 4.50 USD (30 min),
    /// K4 duplicate, K5 uncertain, K6 queued; drcash: R1 approved 700 RUB (10 min), R2 rejected.
    static func checkFunnel(_ b: Chromium, _ checks: Checks) throws {
        func expect(_ ok: Bool, _ what: @autoclosure () -> String, line: Int = #line) { checks.expect(ok, what(), line: line) }
        let table = try rows(b)
        expect(table.count == 3, "rows: \(table)")
        let kma = table.first { $0.first == "kma" } ?? []
        expect(kma == ["kma", "kma-main", "6", "5", "3", "1", "0", "1", "2", "1", "0", "0", "66.7 %", "15.00 USD", "1 ч"], "kma: \(kma)")
        let total = table.last ?? []
        // 8 leads, 7 sent, 4 accepted, 3 of 4 final approved; median of 10, 30, 60, 120 min: 30 min.
        expect(total == ["итого", "", "8", "7", "4", "1", "1", "1", "3", "1", "0", "0", "75.0 %", "700.00 RUB, 15.00 USD", "30 мин"], "total: \(total)")
        expect(try b.evaluate("document.querySelectorAll('svg.chart rect.bar-sent').length") == .int(4), "3 days' bars and the legend")
        let tips = try b.evaluate("Array.from(document.querySelectorAll('svg.chart rect.bar-sent title')).map(t => t.textContent)").arrayValue?.compactMap(\.stringValue) ?? []
        expect(tips == ["01.01: отправлено 3, одобрено 2", "02.01: отправлено 2, одобрено 1", "03.01: отправлено 2, одобрено 0"], "chart: \(tips)")
    }
}
