import Foundation
import Glibc
import Testing
import LeadBridgeCore
import LeadBridgeEmulator
import LeadBridgeNet

/// The emulator's own server (its fault injection lives there, not in `serve`'s): a reset
/// instead of an answer, and a handler that sleeps (slow and timeout faults) holds up only its
/// own connection.
@Suite struct EmulatorServerTests {
    @Test func abortConnectionResetsWithoutAnswerAndOthersAreServed() async throws {
        let server = EmulatorServer { r in r.path == "/reset" ? .abortConnection : .text("fine") }
        try server.start()
        defer { server.stop(graceful: false, timeout: 1) }
        let port = server.boundPort ?? 0
        let reset = await offThread { Wire.exchange(port: port, "GET /reset HTTP/1.1\r\nHost: t\r\n\r\n") }
        guard case .closed = reset else {
            Issue.record("expected a reset without an answer, got \(reset)")
            return
        }
        #expect(await offThread { Wire.get(port: port, "/other") }.response?.text == "fine")
    }

    @Test func aSleepingHandlerHoldsUpOnlyItsOwnConnection() async throws {
        let server = EmulatorServer { r in
            if r.path == "/slow" { Thread.sleep(forTimeInterval: 1.5) }
            return .text(r.path)
        }
        try server.start()
        defer { server.stop(graceful: false, timeout: 2) }
        let port = server.boundPort ?? 0
        async let slow = offThread { Wire.get(port: port, "/slow") }
        try await Task.sleep(nanoseconds: 100_000_000)
        let started = monotonicNow()
        let quick = await offThread { Wire.get(port: port, "/quick") }
        #expect(quick.response?.text == "/quick")
        #expect(monotonicNow() - started < 1.2, "the quick request waited for the slow one")
        #expect(await slow.response?.text == "/slow")
    }
}
