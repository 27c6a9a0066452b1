/// When to try a send that certainly did not reach the network again: exponential backoff
/// with jitter, capped, and `Retry-After` wins when the network gives it. The one policy of
/// `send` and `sync` (pure: the random number comes in).
public struct RetryPolicy: Sendable, Hashable {
    public var maxAttempts: Int
    public var baseDelay: Double
    public var maxDelay: Double

    public init(maxAttempts: Int = 3, baseDelay: Double = 0.5, maxDelay: Double = 30) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// Delay before attempt `attempt + 1` (attempt counts from 1). `random` is in 0..<1: the
    /// delay is between half and all of the exponential step.
    public func delay(afterAttempt attempt: Int, retryAfter: Double?, random: Double) -> Double {
        if let retryAfter { return min(retryAfter, maxDelay * 10) }
        var exp = baseDelay
        for _ in 1..<max(1, attempt) where exp < maxDelay { exp *= 2 }
        exp = min(maxDelay, exp)
        return exp / 2 + exp / 2 * min(max(random, 0), 1)
    }
}
