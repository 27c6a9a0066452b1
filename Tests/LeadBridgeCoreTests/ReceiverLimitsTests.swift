import Testing
@testable import LeadBridgeCore

/// The `receiver` section's limits: defaults when absent, values when given, and the usual
/// configuration errors (unknown key with a "did you mean", out of range, wrong type).
@Suite struct ReceiverLimitsTests {
    static func read(_ receiver: String) -> Result<LeadBridgeConfig, ConfigError> {
        let text = #"{"store": "s.sqlite", "accounts": {}, "receiver": {"token": "t"\#(receiver)}}"#
        return Result { () throws(ConfigError) in try ConfigReader.read(bytes: Array(text.utf8), file: "leadbridge.json", environment: [:], specs: NoSpecs()) }
    }

    /// The configurations here name no network.
    struct NoSpecs: SpecLookup {
        func spec(_ idOrAlias: String) -> NetworkSpec? { nil }
        func closest(to name: String) -> [String] { [] }
    }

    @Test func defaultsWhenAbsent() throws {
        let limits = try Self.read("").get().receiver?.limits
        #expect(limits == ReceiverLimits())
        #expect(limits?.maxConnections == nil)
        #expect(limits?.maxConnectionsPerAddress == 256)
        #expect(limits?.headTimeoutSeconds == 10)
        #expect(limits?.idleTimeoutSeconds == 15)
        #expect(limits?.maxQueuedPostbacks == 10_000)
    }

    @Test func everyKeyIsRead() throws {
        let limits = try Self.read(#", "max_connections": 20000, "max_connections_per_address": 32, "head_timeout_seconds": 5,"#
                                   + #" "min_body_bytes_per_second": 512, "idle_timeout_seconds": 60, "write_timeout_seconds": 3,"#
                                   + #" "max_body_bytes": 65536, "max_queued_postbacks": 2000"#).get().receiver?.limits
        var expected = ReceiverLimits()
        expected.maxConnections = 20000
        expected.maxConnectionsPerAddress = 32
        expected.headTimeoutSeconds = 5
        expected.minBodyBytesPerSecond = 512
        expected.idleTimeoutSeconds = 60
        expected.writeTimeoutSeconds = 3
        expected.maxBodyBytes = 65536
        expected.maxQueuedPostbacks = 2000
        #expect(limits == expected)
    }

    @Test(arguments: [
        (#", "max_conections": 10"#, #"unknown key "max_conections" (did you mean "max_connections"?)"#),
        (#", "idle_timeout": 10"#, #"unknown key "idle_timeout" (did you mean "idle_timeout_seconds"?)"#),
        (#", "max_connections_per_address": 0"#, "must be between 1 and 10000000, found 0"),
        (#", "head_timeout_seconds": -1"#, "must be greater than 0"),
        (#", "max_queued_postbacks": "many""#, "must be an integer, found string"),
    ])
    func mistakesAreConfigurationErrors(_ receiver: String, _ message: String) {
        guard case .failure(let e) = Self.read(receiver) else {
            Issue.record("\(receiver) was accepted")
            return
        }
        #expect(e.description.contains(message), "\(e.description)")
    }
}
