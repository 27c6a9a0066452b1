import Foundation
import Testing
import LeadBridgeCore
import LeadBridgeEmulator
import LeadBridgeEngine
import LeadBridgeTestSupport

/// The emulator checks every credential in full (bearer, headers, query, form, signatures), so
/// an end-to-end test with a wrong one fails: for each network with a send API and example
/// credentials that its send request uses, the right account is accepted and an account whose
/// every credential is off by one character is not. (A network whose send carries no
/// credential — LeadTrade signs with a `hash` param — cannot be told apart by one.)
@Suite struct EmulatorCredentialTests {
    @Test func aNearMissCredentialIsRefusedAndTheRightOneAccepted() async throws {
        let library = EngineFixtures.library
        let networks = library.specs.filter { $0.send != nil && !($0.exampleAccount?.credentials.isEmpty ?? true) && Self.sendUsesCredentials($0.id) }.map(\.id).sorted()
        #expect(networks.count >= 5, "\(networks)")
        let dir = NSTemporaryDirectory() + "leadbridge-creds-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let world = try EmulatedWorld(library: library, networks: networks, folder: dir)
        defer { world.stop() }
        let sender = LeadSender(transport: world.transport)
        var refused: [String] = []
        for (i, id) in networks.enumerated() {
            let spec = try #require(library.spec(id))
            let right = try #require(spec.exampleAccount)
            var wrong = right
            for (k, v) in right.credentials { wrong.credentials[k] = String(v.dropLast()) + (v.last == "x" ? "y" : "x") }
            let bad = await sender.attempt(try sender.prepare(spec: spec, lead: world.lead(for: id, index: 2 * i), account: wrong))
            #expect(bad.outcome.kind != .accepted, "\(id) accepted a wrong credential")
            if bad.outcome.kind != .accepted { refused.append(id) }
            let good = await sender.attempt(try sender.prepare(spec: spec, lead: world.lead(for: id, index: 2 * i + 1), account: right))
            #expect(good.outcome.kind == .accepted, "\(id): \(good.outcome.kind) \(good.outcome.message ?? "")")
        }
        #expect(refused == networks)
    }

    /// Whether the shipped spec's own `send` block names a credential (a spec that takes its
    /// send from a platform base counts as using them).
    static func sendUsesCredentials(_ id: String) -> Bool {
        guard let data = FileManager.default.contents(atPath: PackageFixtures.root + "/Networks/\(id).json"),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return true }
        guard let send = json["send"] else { return true }
        guard let text = try? JSONSerialization.data(withJSONObject: send) else { return true }
        return String(decoding: text, as: UTF8.self).contains("credentials.")
    }
}
