import Dispatch
import Glibc
import Synchronization

/// Turns SIGTERM/SIGINT into a call of an ordinary closure on a private queue, so `serve` can
/// stop its server gracefully. The closure is `@Sendable` and installed from this nonisolated
/// type: a handler closure written in top-level `main.swift` would otherwise be inferred
/// `@MainActor` and crash when Dispatch runs it off the main thread (swift-linux.md §5).
///
/// The handler runs on the trap's serial queue, not in signal context, so it may block
/// (e.g. `server.stop(graceful: true, timeout: 10)`). It runs once per delivered signal
/// (signals arriving together may be coalesced into one call).
///
/// How it works on Linux: libdispatch installs its own `sigaction` for the signal when the
/// source is registered (on its manager thread) and reads it from a `signalfd`. `init` waits
/// for that registration, so a signal sent right after `init` returns is never lost. Until
/// then the signal is ignored if it still had its default action (so it cannot kill the
/// process half-way). After `cancel()` the signals stay caught by Dispatch and are dropped:
/// libdispatch keeps its `sigaction` for the life of the process, and putting back the default
/// action would break any later trap for the same signal.
public final class SignalTrap: Sendable {
    private let sources: Mutex<[any DispatchSourceSignal]>

    /// Installs the handler for `signals` and returns once Dispatch watches them (at most ~2 s).
    public init(signals: [Int32] = [SIGTERM, SIGINT], handler: @escaping @Sendable (Int32) -> Void) {
        let queue = DispatchQueue(label: "leadbridge.signal-trap")
        let registered = DispatchGroup()
        var installed: [any DispatchSourceSignal] = []
        for signo in signals {
            let previous = signal(signo, SIG_IGN)
            if previous != nil { _ = signal(signo, previous) } // only replace the default action (SIG_DFL is nil)
            let source = DispatchSource.makeSignalSource(signal: signo, queue: queue)
            source.setEventHandler { @Sendable in handler(signo) }
            registered.enter()
            source.setRegistrationHandler { @Sendable in registered.leave() }
            source.resume()
            installed.append(source)
        }
        _ = registered.wait(timeout: .now() + 2)
        self.sources = Mutex(installed)
    }

    /// Stops calling the handler.
    public func cancel() {
        sources.withLock { sources in
            for source in sources { source.cancel() }
            sources.removeAll()
        }
    }
}
