import FoundationEssentials
import Glibc
import LeadBridgeCore
import LeadBridgeEngine
import LeadBridgeNet
import LeadBridgeStore
import Synchronization

/// The whole loop on loopback, in one process: the network emulator and our receiver on free
/// ports, a ledger, accounts from the specs' example accounts, and URL rewriting so the real
/// network hosts land at the emulator. Used by `leadbridge demo` and the end-to-end tests.
public final class EmulatedWorld: Sendable {
    public let library: SpecLibrary
    public let store: SQLiteLeadStore
    /// The lifecycle over `store` (the demo's and tests' way to put leads in).
    public let ledger: Ledger
    public let config: LeadBridgeConfig
    public let emulator: NetworkEmulator
    public let transport: CurlTransport
    public let networks: [String]
    /// Where the ledger and the configuration live (the caller made it; tests remove it).
    public let folder: String
    let emulatorServer: EmulatorServer
    let receiverServer: HTTPServer
    let ingest: PostbackIngest
    public let emulatorPort: Int
    public let receiverPort: Int
    public let receiverToken: String
    public let configText: String

    /// Why the world could not be set up, as a value (the command line words it); what the
    /// system or the store said is data.
    public enum SetupError: Error, Sendable, Hashable, CustomStringConvertible {
        /// The receiver's or the emulator's loopback server did not start.
        case cannotListen(Part, detail: String)
        case unknownNetwork(String)
        /// The folder's configuration or ledger could not be written or opened.
        case cannotPrepare(folder: String, detail: String)

        /// Which of the world's two servers.
        public enum Part: String, Sendable, Hashable { case receiver, emulator }

        /// The stable English sentence.
        public var description: String {
            switch self {
            case .cannotListen(let part, let d): return "\(part.rawValue): \(d)"
            case .unknownNetwork(let n): return "unknown network \(n)"
            case .cannotPrepare(let f, let d): return "\(f): \(d)"
            }
        }
    }

    /// `folder` receives `ledger.sqlite` and `leadbridge.json`.
    public init(library: SpecLibrary, networks: [String], folder: String, faults: [String: EmulatorFaults] = [:],
                behaviour: EmulatorBehaviour = EmulatorBehaviour(), emulatorClock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) throws(SetupError) {
        self.library = library
        self.folder = folder
        self.networks = networks
        let token = "demo-" + String(UInt64.random(in: 0..<UInt64.max), radix: 36)
        receiverToken = token
        // Receiver first (the emulator calls it back), then the emulator.
        let receiverBox = Mutex<HTTPRouter?>(nil)
        let receiverServer = HTTPServer(configuration: HTTPServerConfiguration(host: "127.0.0.1", port: 0)) { request, responder in
            guard let router = receiverBox.withLock({ $0 }) else { return responder.respond(.status(503)) }
            router.handle(request, responder)
        }
        do { try receiverServer.start() } catch { throw SetupError.cannotListen(.receiver, detail: "\(error)") }
        let receiverPort = receiverServer.boundPort ?? 0
        let emulator = NetworkEmulator(library: library, networks: networks, faults: faults, behaviour: behaviour,
                                       receiver: (base: "http://127.0.0.1:\(receiverPort)", token: token), clock: emulatorClock)
        let emulatorServer = EmulatorServer(configuration: EmulatorServer.Configuration(host: "127.0.0.1", port: 0, maxConnections: 256)) { emulator.handle($0) }
        do { try emulatorServer.start() } catch { throw SetupError.cannotListen(.emulator, detail: "\(error)") }
        let emulatorPort = emulatorServer.boundPort ?? 0
        var accounts = JSONObject()
        for id in networks {
            guard let spec = library.spec(id) else { throw SetupError.unknownNetwork(id) }
            var ex = spec.exampleAccount ?? AccountValues(name: id, credentials: [:], params: [:])
            // Postback-only networks have no example account: their required settings get stand-ins.
            for c in spec.credentials where c.required && ex.credentials[c.key] == nil { ex.credentials[c.key] = "EMULATED-\(c.key.uppercased())" }
            accounts[id] = .obj([("network", .string(id)),
                                 ("credentials", .object(JSONObject(ex.credentials.sorted { $0.key < $1.key }.map { JSONMember(key: $0.key, value: .string($0.value)) }))),
                                 ("params", .object(JSONObject(ex.params.sorted { $0.key < $1.key }.map { JSONMember(key: $0.key, value: .string($0.value)) })))])
        }
        let configValue = JSONValue.obj([
            ("store", .string("ledger.sqlite")), ("accounts", .object(accounts)),
            ("receiver", .obj([("listen", .string("127.0.0.1:\(receiverPort)")), ("token", .string(token)), ("base_url", .string("http://127.0.0.1:\(receiverPort)"))])),
            ("sync", .obj([("max_attempts", .int(20)), ("retry_base_seconds", .int(1)), ("poll_interval_seconds", .int(0))])),
        ])
        configText = JSONWriter.pretty(configValue) + "\n"
        do {
            try configText.write(toFile: folder + "/leadbridge.json", atomically: true, encoding: .utf8)
            config = try ConfigReader.read(bytes: Array(configText.utf8), file: folder + "/leadbridge.json", environment: [:], specs: library)
            store = try SQLiteLeadStore(path: folder + "/ledger.sqlite")
        } catch { throw SetupError.cannotPrepare(folder: folder, detail: "\(error)") }
        var rules: [String: ConnectToMap.Target] = [:]
        for h in emulator.hosts { rules[h] = ConnectToMap.Target(host: "127.0.0.1", port: emulatorPort) }
        transport = CurlTransport(connectTo: ConnectToMap(rules: rules), maxConnectionsPerHost: 32)
        ledger = Ledger(store: store, library: library, config: config)
        let ingest = PostbackIngest(ledger: ledger, library: library)
        let receiver = Receiver(library: library, config: config, ledger: ledger, ingest: ingest)
        receiverBox.withLock { $0 = receiver.router }
        self.emulator = emulator
        self.emulatorServer = emulatorServer
        self.receiverServer = receiverServer
        self.ingest = ingest
        self.emulatorPort = emulatorPort
        self.receiverPort = receiverPort
    }

    /// `host=127.0.0.1:PORT,…` for `LEADBRIDGE_CONNECT_TO`.
    public var connectTo: String { emulator.hosts.map { "\($0)=127.0.0.1:\(emulatorPort)" }.joined(separator: ",") }

    /// A lead the network accepts: the spec's own example lead with a new id and phone.
    public func lead(for network: String, index: Int) -> Lead {
        let spec = library.spec(network)
        var lead = spec?.examples.first(where: { $0.expect.result == .accepted })?.lead ?? Lead(id: "x", phone: "+79000000000", fields: ["name": "Demo", "country": "RU"])
        lead.id = "D-\(network.prefix(4).uppercased())-\(1000 + index)"
        var h: UInt64 = 1469598103934665603
        for b in network.utf8 { h = (h ^ UInt64(b)) &* 1099511628211 }
        let number = String(Int(h % 1000) * 1_000_000 + index)
        let digits = String(repeating: "0", count: max(0, 9 - number.count)) + number
        lead.phone = "+79" + digits.suffix(9)
        return lead
    }

    /// Puts a lead in the ledger as already accepted (postback-only networks, sent by hand).
    public func registerManualLead(network: String, lead: Lead, now: Int64) throws(StoreError) {
        if case .queued(let r) = try ledger.enqueue(lead, network: network, account: network) {
            let me = "manual/\(network)/\(r.rowId)"
            _ = try ledger.claim(rowId: r.rowId, owner: me, lease: 60)
            _ = try ledger.requestWritten(rowId: r.rowId, owner: me)
            _ = try ledger.answered(rowId: r.rowId, outcome: SendOutcome(kind: .accepted))
        }
        emulator.register(network: network, orderId: lead.id)
    }

    /// One step of the world: the emulator moves statuses and calls back, then a sync pass.
    public func step(options: SyncOptions, clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }) async throws(StoreError) -> SyncReport {
        emulator.advance()
        await emulator.deliverPostbacks(transport: transport)
        let syncer = Syncer(store: store, library: library, config: config, transport: transport, clock: clock)
        return try await syncer.run(options)
    }

    public func stop() {
        emulatorServer.stop(graceful: true, timeout: 5)
        receiverServer.stop(graceful: true, timeout: 5)
        ingest.shutdown()
    }
}
