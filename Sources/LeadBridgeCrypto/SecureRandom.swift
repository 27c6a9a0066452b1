import CCrypto

/// Unpredictable bytes for session and CSRF tokens, from OpenSSL's CSPRNG (`RAND_bytes`),
/// never from a hand-written or seeded generator.
public enum SecureRandom {
    /// `count` random bytes. OpenSSL fails only when it cannot seed itself from the system
    /// (no entropy source at all): nothing secure can be made then, so the process stops.
    public static func bytes(_ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        guard count > 0 else { return out }
        let ok = out.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32($0.count)) }
        precondition(ok == 1, "OpenSSL RAND_bytes could not produce random bytes (no entropy source)")
        return out
    }

    /// `count` random bytes as lowercase hex (a cookie or form value).
    public static func hex(_ count: Int) -> String { DigestEncoding.hex.encode(bytes(count)) }
}
