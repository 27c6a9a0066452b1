import Synchronization

/// What `waitUntilStopped` waits on: callers suspended until the server has stopped (at once
/// when it is not running). Shared by `HTTPServer` and the emulator's server.
package final class StopSignal: Sendable {
    private let state = Mutex<(stopped: Bool, waiters: [CheckedContinuation<Void, Never>])>((true, []))

    package init() {}

    /// The server started: waiters wait from now on.
    package func arm() { state.withLock { $0.stopped = false } }

    /// The server stopped: every waiter resumes, later ones return at once.
    package func fire() {
        let waiters = state.withLock { s in
            s.stopped = true
            defer { s.waiters = [] }
            return s.waiters
        }
        for w in waiters { w.resume() }
    }

    package func wait() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now: Bool = state.withLock { s in
                if s.stopped { return true }
                s.waiters.append(c)
                return false
            }
            if now { c.resume() }
        }
    }
}
