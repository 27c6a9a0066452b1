import Foundation
import Glibc
import Testing
import LeadBridgeCore
import LeadBridgeEmulator
import LeadBridgeNet

/// The emulator's own server (its fault injection lives there, not in `serve`'s): a reset
/// instead of an answer, and a handler that blocks (slow and timeout faults sleep) holds up
/// only its own connection.
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

    @Test func aBlockedHandlerHoldsUpOnlyItsOwnConnection() async throws {
        // The slow handler is released only once the quick request has been answered: were
        // requests served one at a time, the quick one would never be (and the read times out).
        let quickAnswered = DispatchSemaphore(value: 0), slowEntered = DispatchSemaphore(value: 0)
        let server = EmulatorServer { r in
            if r.path == "/slow" {
                slowEntered.signal()
                _ = quickAnswered.wait(timeout: .now() + 25)
            }
            return .text(r.path)
        }
        try server.start()
        defer { server.stop(graceful: false, timeout: 2) }
        let port = server.boundPort ?? 0
        // Plain threads, and the release given by the thread that got the quick answer: a busy
        // cooperative pool (the whole suite runs at once) must not stretch the exchange.
        let slow = Locked<WireOutcome?>(nil), slowDone = DispatchSemaphore(value: 0)
        Thread {
            slow.with { $0 = Wire.exchange(port: port, "GET /slow HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", timeout: 30) }
            slowDone.signal()
        }.start()
        let quick = await offThread { () -> WireOutcome? in
            guard slowEntered.wait(timeout: .now() + 20) == .success else { return nil }
            let quick = Wire.get(port: port, "/quick")
            quickAnswered.signal()
            return quick
        }
        #expect(quick?.response?.text == "/quick")
        #expect(await offThread { slowDone.wait(timeout: .now() + 30) } == .success)
        #expect(slow.value?.response?.text == "/slow")
    }
}
