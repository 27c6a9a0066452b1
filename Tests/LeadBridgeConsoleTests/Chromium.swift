import Foundation
import Glibc
import LeadBridgeCore
import LeadBridgeTestSupport

/// Debian's headless `chromium`, driven through the DevTools protocol over a pipe
/// (`--remote-debugging-pipe`: JSON messages separated by NUL bytes on descriptors 3 and 4),
/// so the console's pages are checked in a real browser: real HTML parsing, CSS, the CSP, the
/// copy script, cookies and redirects. Synchronous: use it from a thread of its own.
final class Chromium {
    struct Failure: Error, CustomStringConvertible { var description: String }

    let pid: pid_t
    private let toBrowser: Int32
    private let fromBrowser: Int32
    private var buffer: [UInt8] = []
    private var nextId = 1
    private(set) var events: [JSONValue] = []
    private var session = ""
    let profile: String

    static let executable = "/usr/bin/chromium"

    /// Starts the browser with a fresh profile and opens one tab (1280×1000).
    init(log: String) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.executable) else {
            throw Failure(description: "\(Self.executable) is missing: install Debian's chromium package (make test installs it)")
        }
        profile = NSTemporaryDirectory() + "leadbridge-chromium-" + UUID().uuidString
        var down: [Int32] = [0, 0], up: [Int32] = [0, 0]
        guard pipe(&down) == 0, pipe(&up) == 0 else { throw Failure(description: "pipe: errno \(errno)") }
        for fd in [down[0], down[1], up[0], up[1]] { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, down[0], 3)
        posix_spawn_file_actions_adddup2(&actions, up[1], 4)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Nothing else of this process goes to the browser: the test process is full of other
        // tests' sockets, and a copy held by the browser for its lifetime keeps them open (a
        // server's reset or close would never reach its client).
        try Self.closeFrom(5, &actions)
        var args = [Self.executable, "--headless", "--disable-gpu", "--remote-debugging-pipe", "--no-first-run", "--no-default-browser-check",
                    "--disable-extensions", "--disable-background-networking", "--disable-sync", "--user-data-dir=\(profile)", "about:blank"]
        if getuid() == 0 { args.insert("--no-sandbox", at: 1) } // chromium refuses to run as root with its sandbox
        let argv: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, Self.executable, &actions, nil, argv, environ)
        Glibc.close(down[0])
        Glibc.close(up[1])
        guard rc == 0 else {
            Glibc.close(down[1])
            Glibc.close(up[0])
            throw Failure(description: "cannot start \(Self.executable): errno \(rc)")
        }
        self.pid = pid
        toBrowser = down[1]
        fromBrowser = up[0]
        let target = try call("Target.createTarget", ["url": .string("about:blank")], browserLevel: true)
        guard let targetId = target["targetId"]?.stringValue else { throw Failure(description: "no target: \(target)") }
        let attached = try call("Target.attachToTarget", ["targetId": .string(targetId), "flatten": .bool(true)], browserLevel: true)
        guard let s = attached["sessionId"]?.stringValue else { throw Failure(description: "not attached: \(attached)") }
        session = s
        _ = try call("Page.enable")
        _ = try call("Emulation.setDeviceMetricsOverride", ["width": .int(1280), "height": .int(1000), "deviceScaleFactor": .int(1), "mobile": .bool(false)])
    }

    /// Adds "close every descriptor from `fd` on" to a spawn's actions. (glibc ≥ 2.34 has the
    /// action; Swift's Glibc module does not export it, so it is looked up.)
    /// Children of the console tests inherit nothing from `fd` up (see SpawnActions).
    static func closeFrom(_ fd: Int32, _ actions: inout posix_spawn_file_actions_t) throws {
        guard SpawnActions.closeInherited(&actions, from: fd) else {
            throw Failure(description: "posix_spawn_file_actions_addclosefrom_np is missing (glibc 2.34 or newer is needed)")
        }
    }

    deinit { close() }

    private var closed = false

    /// Closes the browser (politely, then by signal) and removes its profile.
    func close() {
        guard !closed else { return }
        closed = true
        _ = try? send("Browser.close", [:], browserLevel: true)
        var status: Int32 = 0
        for _ in 0..<50 where waitpid(pid, &status, WNOHANG) == 0 { usleep(100_000) }
        if waitpid(pid, &status, WNOHANG) == 0 {
            kill(pid, SIGKILL)
            waitpid(pid, &status, 0)
        }
        Glibc.close(toBrowser)
        Glibc.close(fromBrowser)
        try? FileManager.default.removeItem(atPath: profile)
    }

    // MARK: protocol

    @discardableResult
    private func send(_ method: String, _ params: [String: JSONValue], browserLevel: Bool) throws -> Int {
        let id = nextId
        nextId += 1
        var message: [(String, JSONValue)] = [("id", .int(id)), ("method", .string(method)), ("params", .object(JSONObject(pairs: params.sorted { $0.key < $1.key })))]
        if !browserLevel { message.append(("sessionId", .string(session))) }
        var bytes = Array(JSONWriter.compact(.obj(message)).utf8)
        bytes.append(0)
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { write(toBrowser, $0.baseAddress, $0.count) }
            guard n > 0 else { throw Failure(description: "the browser closed its pipe (\(method))") }
            written += n
        }
        return id
    }

    /// The next message, waiting at most `timeout` seconds.
    private func receive(timeout: Double) throws -> JSONValue {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let nul = buffer.firstIndex(of: 0) {
                let message = Array(buffer[..<nul])
                buffer.removeSubrange(...nul)
                return try JSONParser.parse(message)
            }
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { throw Failure(description: "the browser did not answer within \(timeout) s") }
            var p = pollfd(fd: fromBrowser, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, Int32(left * 1000) + 1) > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 65_536)
            let n = chunk.withUnsafeMutableBytes { read(fromBrowser, $0.baseAddress, $0.count) }
            guard n > 0 else { throw Failure(description: "the browser exited (see its log)") }
            buffer += chunk[..<n]
        }
    }

    /// Sends a command and returns its result (events that arrive meanwhile are kept).
    @discardableResult
    func call(_ method: String, _ params: [String: JSONValue] = [:], browserLevel: Bool = false, timeout: Double = 60) throws -> JSONValue {
        let id = try send(method, params, browserLevel: browserLevel)
        while true {
            let m = try receive(timeout: timeout)
            if m["id"]?.intValue == id {
                if let e = m["error"] { throw Failure(description: "\(method): \(JSONWriter.compact(e))") }
                return m["result"] ?? .null
            }
            if m["method"] != nil { events.append(m) }
        }
    }

    /// Waits for an event (already received, or the next ones).
    func wait(for method: String, timeout: Double = 60) throws -> JSONValue {
        if let i = events.firstIndex(where: { $0["method"]?.stringValue == method }) { return events.remove(at: i) }
        while true {
            let m = try receive(timeout: timeout)
            if m["method"]?.stringValue == method { return m }
            if m["method"] != nil { events.append(m) }
        }
    }

    // MARK: pages

    /// Runs `action` (a navigation, a form submitted by script) and waits for the page it leads to.
    func load(_ action: () throws -> Void) throws {
        events.removeAll { $0["method"]?.stringValue == "Page.loadEventFired" }
        try action()
        _ = try wait(for: "Page.loadEventFired")
    }

    func open(_ url: String) throws {
        try load { _ = try call("Page.navigate", ["url": .string(url)]) }
    }

    /// A JavaScript expression's value (run by DevTools: it works with the page's scripts off).
    func evaluate(_ expression: String) throws -> JSONValue {
        let r = try call("Runtime.evaluate", ["expression": .string(expression), "returnByValue": .bool(true)])
        if let e = r["exceptionDetails"] { throw Failure(description: "\(expression): \(JSONWriter.compact(e))") }
        return r["result"]?["value"] ?? .null
    }

    func string(_ expression: String) throws -> String { try evaluate(expression).stringValue ?? "" }

    /// What a reader sees: the page's rendered text.
    func text() throws -> String { try string("document.body.innerText") }

    var path: String { (try? string("location.pathname + location.search")) ?? "" }

    /// Fills the fields by name and submits the page's first form with a POST or GET as the form says.
    func submit(_ fields: [String: String], form: Int = 0) throws {
        var js = "var f = document.forms[\(form)];"
        for (k, v) in fields { js += " f.elements[\(JSONWriter.quote(k))].value = \(JSONWriter.quote(v));" }
        try load { _ = try evaluate(js + " f.submit(); true") }
    }

    /// A PNG of the viewport.
    func screenshot(to path: String) throws {
        let r = try call("Page.captureScreenshot", ["format": .string("png")])
        guard let b64 = r["data"]?.stringValue, let data = Data(base64Encoded: b64) else { throw Failure(description: "no screenshot data") }
        try data.write(to: URL(fileURLWithPath: path))
    }

    /// Turns the page's JavaScript off (or on) for the next loads.
    func scripts(enabled: Bool) throws {
        _ = try call("Emulation.setScriptExecutionDisabled", ["value": .bool(!enabled)])
    }

    /// Dialogs (`alert`) the pages tried to open.
    var dialogs: [JSONValue] { events.filter { $0["method"]?.stringValue == "Page.javascriptDialogOpening" } }
}
