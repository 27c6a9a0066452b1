import Dispatch
import Glibc
import Synchronization

/// Turns SIGTERM/SIGINT into a call of an ordinary closure on a private queue, so `serve` can
/// stop its server gracefully. The closure is `@Sendable` and installed from this nonisolated
/// type: a handler closure written in top-level `main.swift` would otherwise be inferred
/// `@MainActor` and crash when Dispatch runs it off the main thread (swift-linux.md §5).
///
/// The handler runs on the trap's serial queue, not in signal context, so it may block
/// (e.g. `server.stop(graceful: true, timeout: 10)`). It runs once per delivered signal.
public final class SignalTrap: Sendable {
    private let sources: Mutex<[any DispatchSourceSignal]>
    private let signals: [Int32]

    /// Installs the handler for `signals`. Their default action (terminate) is disabled until `cancel()`.
    public init(signals: [Int32] = [SIGTERM, SIGINT], handler: @escaping @Sendable (Int32) -> Void) {
        let queue = DispatchQueue(label: "leadbridge.signal-trap")
        var installed: [any DispatchSourceSignal] = []
        for signo in signals {
            // Dispatch sees the signal only if the default disposition no longer kills the process.
            signal(signo, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signo, queue: queue)
            source.setEventHandler { @Sendable in handler(signo) }
            source.resume()
            installed.append(source)
        }
        self.signals = signals
        self.sources = Mutex(installed)
    }

    /// Removes the handlers and restores the default action of each signal.
    public func cancel() {
        sources.withLock { sources in
            for source in sources { source.cancel() }
            sources.removeAll()
        }
        for signo in signals { signal(signo, SIG_DFL) }
    }
}
