import FoundationEssentials
import Glibc
import LeadBridgeCore
import LeadBridgeEmulator
import LeadBridgeEngine
import LeadBridgeNet
import LeadBridgeStore
import Synchronization

/// `emulate` (the loopback network emulator as a server) and `demo` (the whole loop in one
/// command, no configuration).
enum DemoCommands {
    static let emulate = Command(
        name: "emulate", arguments: "",
        options: [OptionSpec(name: "listen", takesValue: true, valueName: "ADDR"),
                  OptionSpec(name: "only", takesValue: true, valueName: "a,b"),
                  OptionSpec(name: "faults", takesValue: true, valueName: "SPEC"),
                  OptionSpec(name: "settle", takesValue: true, valueName: "S"),
                  OptionSpec(name: "receiver", takesValue: true, valueName: "URL"),
                  OptionSpec(name: "token", takesValue: true, valueName: "T")]
    ) { ctx throws(CLIError) in
        let lib = try ctx.library()
        let listen = ctx.args.value("listen") ?? "127.0.0.1:9100"
        guard let address = HTTPListenAddress(listen), address.host.hasPrefix("127.") || address.host == "::1" || address.host == "localhost" else {
            throw CLIError.usage(.listenNotLoopback, command: "emulate")
        }
        var networks: [String]?
        if let only = ctx.args.value("only") {
            var ids: [String] = []
            for n in only.split(separator: ",") { ids.append(try ctx.network(String(n), in: lib).id) }
            networks = ids
        }
        var faults: [String: EmulatorFaults] = [:]
        if let f = ctx.args.value("faults") {
            do throws(EmulatorError) { faults = try EmulatorFaults.parse(f) } catch { throw CLIError.usage(.emulatorFaults(error), command: "emulate") }
        }
        var behaviour = EmulatorBehaviour()
        if let s = ctx.args.value("settle"), let v = Double(s), v >= 0 { behaviour.settleAfter = v }
        var receiver: (base: String, token: String)?
        if let r = ctx.args.value("receiver") {
            guard let t = ctx.args.value("token") ?? ctx.env.variables["LEADBRIDGE_TOKEN"] else { throw CLIError.usage(.receiverNeedsToken2, command: "emulate") }
            receiver = (r.hasSuffix("/") ? String(r.dropLast()) : r, t)
        }
        let emulator = NetworkEmulator(library: lib, networks: networks, faults: faults, behaviour: behaviour, receiver: receiver)
        let server = EmulatorServer(configuration: EmulatorServer.Configuration(host: address.host, port: address.port, maxConnections: 1024)) { emulator.handle($0) }
        do { try server.start() } catch { throw CLIError.config(.cannotListen(address: "\(address)", detail: "\(error)")) }
        let port = server.boundPort ?? address.port
        // The trap before the address is printed: whoever reads it may stop us at once.
        let stopping = Mutex(false)
        let trap = SignalTrap { _ in
            stopping.withLock { $0 = true }
            server.stop(graceful: true, timeout: 5)
        }
        ctx.say(.emulating(networks: emulator.networks.count, url: "http://\(address.host):\(port)"))
        ctx.out.out("LEADBRIDGE_CONNECT_TO=" + emulator.hosts.map { "\($0)=\(address.host):\(port)" }.joined(separator: ","))
        let transport = CurlTransport()
        let worker = Task {
            while !Task.isCancelled && !stopping.withLock({ $0 }) {
                emulator.advance()
                await emulator.deliverPostbacks(transport: transport)
                try? await Task.sleep(nanoseconds: 500_000_000)
            }
        }
        await server.waitUntilStopped()
        worker.cancel()
        trap.cancel()
        return .success
    }

    /// Networks the demo drives: one of each style (each spec's `summary` says which).
    static let demoNetworks = ["leadrock", "terraleads", "drcash", "kma", "adcombo", "m1shop", "salesman", "everad"]

    static let demo = Command(
        name: "demo", arguments: "",
        options: [OptionSpec(name: "leads", takesValue: true, valueName: "N"),
                  OptionSpec(name: "keep", takesValue: true, valueName: "DIR"),
                  OptionSpec(name: "faults", takesValue: true, valueName: "SPEC")]
    ) { ctx throws(CLIError) in
        let started = Date()
        let lib = try ctx.library()
        let perNetwork = Int(ctx.args.value("leads") ?? "40") ?? 40
        guard (1...2000).contains(perNetwork) else { throw CLIError.usage(.demoLeadsRange, command: "demo") }
        let folder: String
        if let keep = ctx.args.value("keep") {
            // Printed in the commands to try next: absolute and normalized (no "/./").
            folder = ctx.absolute(keep)
            if FileManager.default.fileExists(atPath: folder + "/ledger.sqlite") {
                throw CLIError.usage(.demoFolderTaken(keep), command: "demo")
            }
        } else {
            folder = FileManager.default.temporaryDirectory.path + "/leadbridge-demo-" + UUID().uuidString
        }
        do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
            throw CLIError.config(.cannotCreate(path: folder, detail: "\(error)"))
        }
        var faults: [String: EmulatorFaults] = [:]
        do throws(EmulatorError) { faults = try EmulatorFaults.parse(ctx.args.value("faults") ?? "*:5xx=0.05,429=0.02") } catch { throw CLIError.usage(.emulatorFaults(error), command: "demo") }
        var behaviour = EmulatorBehaviour()
        behaviour.settleAfter = 6
        let ids = demoNetworks.filter { lib.spec($0) != nil }
        let world: EmulatedWorld
        do throws(EmulatedWorld.SetupError) { world = try EmulatedWorld(library: lib, networks: ids, folder: folder, faults: faults, behaviour: behaviour) } catch {
            throw CLIError.config(.demoSetup(error))
        }
        defer { world.stop() }
        let out = ctx.out
        ctx.say(.demoHeader(networks: ids.count, leads: perNetwork, emulatorPort: world.emulatorPort, receiverPort: world.receiverPort))
        for id in ids { if let spec = lib.spec(id) { out.out("  • \(id): " + (spec.summary?.text(ctx.lang) ?? spec.name)) } }
        // Leads: a few share a phone (the network answers duplicate), a few lack a name.
        var total = 0
        do {
            for id in ids {
                for i in 0..<perNetwork {
                    var lead = world.lead(for: id, index: i)
                    if i % 17 == 16 { lead.phone = world.lead(for: id, index: i - 1).phone }
                    if i % 23 == 22 { lead.fields["name"] = nil }
                    _ = try world.ledger.enqueue(lead, network: id, account: id)
                    total += 1
                }
            }
        } catch { throw CLIError.config(.store(StoreDetail(error))) }
        var options = SyncOptions(maxAttempts: 12, retryBaseSeconds: 1, pollIntervalSeconds: 0)
        options.requestTimeout = 5
        var passes = 0
        let deadline = Date().addingTimeInterval(100)
        while Date() < deadline {
            passes += 1
            do { _ = try await world.step(options: options) } catch { throw CLIError.config(.store(StoreDetail(error))) }
            let counts = (try? world.store.counts().leads) ?? []
            let settled = counts.filter { ($0.status?.isFinal ?? false) || $0.state == .rejected }.reduce(0) { $0 + $1.count }
            let sent = counts.filter { [.accepted, .duplicate, .rejected].contains($0.state) }.reduce(0) { $0 + $1.count }
            let line = "\r" + ctx.t(.demoProgress(pass: passes, sent: sent, total: total, final: settled, seconds: Int(Date().timeIntervalSince(started))))
            CLIOutput.write(2, line)
            let open = try? world.store.leads(LeadQuery(status: .pending, limit: 100_000)).filter { lead in
                lib.spec(lead.network).map { $0.poll != nil || $0.hasPostbacks } ?? false
            }.filter { l in world.emulator.leads.first { $0.orderId == l.orderId && $0.network == l.network }?.plan != .pending }
            let queued = (try? world.store.leads(LeadQuery(dueBy: Int64.max, limit: 1, withData: false)))?.count ?? 0
            if queued == 0, open?.isEmpty == true, passes > 2 { break }
            try? await Task.sleep(nanoseconds: 1_000_000_000)
        }
        CLIOutput.write(2, "\n")
        // Final table per network.
        var rows = [ctx.columns(.demoColumns)]
        let records = (try? world.store.leads(LeadQuery(limit: 1_000_000))) ?? []
        var retriesBy: [String: Int] = [:]
        for r in records where r.attempts > 1 { retriesBy[r.network, default: 0] += r.attempts - 1 }
        for id in ids {
            let mine = records.filter { $0.network == id }
            func n(_ f: (LeadRecord) -> Bool) -> String { String(mine.filter(f).count) }
            rows.append([id, n { $0.sendState != .queued && $0.sendState != .parked }, n { $0.sendState == .accepted }, n { $0.sendState == .duplicate },
                         n { $0.sendState == .rejected }, n { $0.status?.bucket == .approved }, n { $0.status?.bucket == .cancelled },
                         n { $0.status?.bucket == .trash && $0.sendState == .accepted }, n { $0.status?.bucket == .pending }, String(retriesBy[id] ?? 0)])
        }
        out.out("")
        out.out(TextTable.render(rows))
        let seconds = Date().timeIntervalSince(started)
        let twice = world.emulator.leads.filter { $0.repeatSends > 0 }.count
        out.out("")
        let tenths = Int((seconds * 10).rounded())
        ctx.say(.demoSummary(leads: total, seconds: "\(tenths / 10).\(tenths % 10)", passes: passes, twice: twice, postbacks: (try? world.store.rawPostbackCount()) ?? 0))
        out.out("")
        let me = ctx.env.invokedAs
        if ctx.args.value("keep") != nil {
            ctx.say(.demoKept(folder))
            let config = shellWord(folder + "/leadbridge.json")
            out.out("  \(me) --config \(config) leads --status approved")
            out.out("  \(me) --config \(config) lead \(world.lead(for: ids[0], index: 0).id)")
            out.out("  \(me) --config \(config) export --csv > leads.csv")
        } else {
            ctx.say(.demoTryNext)
            // The same run again, kept (with the same number of leads when one was asked for).
            out.out("  \(me) demo" + (ctx.args.value("leads") != nil ? " --leads \(perNetwork)" : "") + " --keep ./demo")
            out.out("  \(me) --config ./demo/leadbridge.json leads")
        }
        out.out("  \(me) postbacks drcash --base 'https://t.example.com/postback/drcash?token=T'")
        out.out("  \(me) show leadrock")
        out.out("  \(me) docs --lang en")
        return twice == 0 ? .success : .partialFailure
    }

    /// A path as one word of a shell command line (single-quoted when it holds anything else
    /// than letters, digits and `/._-+,:=@%`), so a printed command runs as printed.
    static func shellWord(_ s: String) -> String {
        let plain = s.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "/._-+,:=@%".unicodeScalars.contains($0)) }
        return plain && !s.isEmpty ? s : "'" + s.replacingAll("'", with: "'\\''") + "'"
    }
}
