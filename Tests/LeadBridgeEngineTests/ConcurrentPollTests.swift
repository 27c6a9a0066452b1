import Foundation
import Synchronization
import Testing
import LeadBridgeCore
import LeadBridgeNet
import LeadBridgeStore
@testable import LeadBridgeEngine

/// A network that answers nothing until `until` has held for the requests in flight (then
/// everything at once), or 60 s passed: a client that sends one request at a time never gets
/// two in flight, and fails the test after the wait.
final class GatedTransport: HTTPTransport {
    let inFlight = Mutex<[String]>([])
    let most = Mutex(0)
    let mostHosts = Mutex(0)
    let released = Mutex(false)
    let until: @Sendable ([String]) -> Bool
    let answer: @Sendable (HTTPRequestValue) -> HTTPResponseValue

    init(until: @escaping @Sendable ([String]) -> Bool, answer: @escaping @Sendable (HTTPRequestValue) -> HTTPResponseValue) {
        self.until = until
        self.answer = answer
    }

    func send(_ request: HTTPRequestValue, timeout: Double) async throws(TransportError) -> HTTPResponseValue {
        let host = request.url.split(separator: "/").dropFirst().first.map(String.init) ?? ""
        inFlight.withLock {
            $0.append(host)
            let n = $0.count, hosts = Set($0).count
            most.withLock { $0 = max($0, n) }
            mostHosts.withLock { $0 = max($0, hosts) }
            if until($0) { released.withLock { $0 = true } }
        }
        _ = await eventually { self.released.withLock { $0 } }
        inFlight.withLock { if let i = $0.firstIndex(of: host) { $0.remove(at: i) } }
        return answer(request)
    }
}

@Suite struct ConcurrentPollTests {
    /// Batches of one network are asked concurrently (within its concurrency), and networks
    /// side by side; requests stay ceil(N / batch) and every status is applied.
    @Test func batchesAndNetworksAreAskedConcurrently() async throws {
        let store = try EngineFixtures.store()
        let clock = EngineFixtures.Clock()
        let config = try EngineFixtures.config(#""ac": {"network": "adcombo", "credentials": {"token": "AC-T"}, "params": {"adcombo": "1"}}, "#
            + #""m1": {"network": "m1shop", "credentials": {"user": "80001", "token": "M1-K"}, "params": {"m1": "4321"}}"#)
        for i in 0..<1203 {
            try EngineFixtures.accepted(store, EngineFixtures.lead(i), network: "adcombo", account: "ac", externalId: "\(9000 + i)", at: clock.now())
        }
        try EngineFixtures.accepted(store, EngineFixtures.lead(5000), network: "m1shop", account: "m1", externalId: "77", at: clock.now())
        // AdCombo's answers wait until two of its batches are in flight; the first waits also
        // for M1 Shop's request to be in flight beside it.
        let transport = GatedTransport(until: { flight in
            flight.filter { $0.contains("adcombo") }.count >= 2 && Set(flight).count >= 2
        }, answer: { req in
            guard req.url.contains("adcombo") else { return HTTPResponseValue(status: 502, body: Array("<html>later</html>".utf8)) }
            let query = req.url.components(separatedBy: "orders=").last?.components(separatedBy: "&").first ?? ""
            let ids = query.replacingAll("%2C", with: ",").split(separator: ",")
            let items = ids.map { id in #"{"order_id":\#(id),"status":"confirmed","price":"3.5","currency_code":"USD"}"# }
            return HTTPResponseValue(status: 200, body: Array(#"{"code":"ok","data":[\#(items.joined(separator: ","))]}"#.utf8))
        })
        let syncer = Syncer(store: store, library: EngineFixtures.library, config: config, transport: transport, clock: { clock.now() })
        let report = try await syncer.run(SyncOptions(pollIntervalSeconds: 600))
        #expect(transport.most.withLock { $0 } >= 3, "at most \(transport.most.withLock { $0 }) requests in flight")
        #expect(transport.mostHosts.withLock { $0 } == 2, "the networks were not polled side by side")
        #expect(report.networks["adcombo"]?.pollRequests == 3)  // ceil(1203 / 500)
        #expect(try store.leads(LeadQuery(network: "adcombo", status: .approved, limit: 10_000)).count == 1203)
        #expect(report.networks["m1shop"]?.error != nil)
        #expect(report.changes.count == 1203)
    }
}
