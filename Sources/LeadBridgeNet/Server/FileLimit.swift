import Glibc

/// The process's limit on open descriptors (RLIMIT_NOFILE): every connection takes one, so it
/// caps the connections the receiver can hold. Debian starts processes with a soft limit of
/// 1,024 and a hard limit far above; `serve` raises the soft limit to the hard one at start.
public enum FileLimit {
    /// The current soft limit (what `open`/`accept` are held to).
    public static var soft: Int {
        var r = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &r) == 0 else { return 1024 }
        return Int(clamping: min(r.rlim_cur, rlim_t(Int32.max)))
    }

    /// Raises the soft limit to the hard limit (at most `cap`); returns the soft limit now in force.
    @discardableResult
    public static func raiseSoftLimit(cap: Int = 1 << 20) -> Int {
        var r = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &r) == 0 else { return soft }
        let target = min(r.rlim_max, rlim_t(cap))
        if r.rlim_cur < target {
            r.rlim_cur = target
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &r)
        }
        return soft
    }

    /// Descriptors kept free for everything that is not a client connection: the store and its
    /// WAL, the log, outgoing requests, the listener, epoll and its wake-up descriptor.
    public static let reserve = 64

    /// How many client connections fit under the current soft limit.
    public static var connectionCapacity: Int { max(1, soft - reserve) }
}
