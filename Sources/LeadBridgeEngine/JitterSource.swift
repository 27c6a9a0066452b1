import Synchronization

/// Uniform numbers in 0..<1 for the lifecycle's retry jitter: SplitMix64 seeded once from the
/// system's generator. The lifecycle takes one for every event it decides, and drawing each
/// from the system (a `getrandom` call each, three per sent lead) cost a system call apiece.
/// Not for secrets: `LeadBridgeCrypto.SecureRandom` is.
public final class JitterSource: Sendable {
    let state: Atomic<UInt64>

    public init(seed: UInt64 = UInt64.random(in: .min ... .max)) { state = Atomic(seed) }

    public func next() -> Double {
        var z = state.wrappingAdd(0x9E37_79B9_7F4A_7C15, ordering: .relaxed).newValue
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Double((z ^ (z >> 31)) >> 11) / Double(1 << 53)
    }
}
