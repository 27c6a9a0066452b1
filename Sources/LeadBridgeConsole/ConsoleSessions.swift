import LeadBridgeCore
import LeadBridgeCrypto
import Synchronization

/// The console's signed values: session cookies and CSRF tokens, HMAC-SHA256 (OpenSSL) under a
/// key derived from the console token, compared in constant time. Nothing is kept on the
/// server: every `serve` sharing the configuration accepts the same session, and changing the
/// token ends every session at once.
struct ConsoleKeys: Sendable {
    private let key: [UInt8]
    private let tokenDigest: [UInt8]

    init(token: String) {
        key = Digest.hmac(.sha256, key: Array(token.utf8), Array("leadbridge console keys v1".utf8))
        tokenDigest = Digest.hash(.sha256, Array(token.utf8))
    }

    func mac(_ text: String) -> String { DigestEncoding.hex.encode(Digest.hmac(.sha256, key: key, Array(text.utf8))) }

    func verify(_ text: String, mac given: String) -> Bool {
        Digest.constantTimeEquals(Array(mac(text).utf8), Array(given.utf8))
    }

    /// Whether `given` is the console token: both hashed, then compared in constant time (the
    /// time does not depend on where they differ, nor on their lengths).
    func isToken(_ given: String) -> Bool {
        Digest.constantTimeEquals(Digest.hash(.sha256, Array(given.utf8)), tokenDigest)
    }

    // MARK: sessions

    /// A new session cookie value: `expiry.nonce.mac`.
    func newSession(now: Int64, lifetime: Int64) -> String {
        let body = "\(now + lifetime).\(SecureRandom.hex(16))"
        return body + "." + mac("session|" + body)
    }

    /// The session's nonce when `value` is a session this key signed and it has not expired.
    func session(_ value: String, now: Int64) -> String? {
        let parts = value.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let expiry = Int64(parts[0]), expiry > now, parts[1].utf8.count == 32 else { return nil }
        let body = parts[0] + "." + parts[1]
        guard verify("session|" + body, mac: String(parts[2])) else { return nil }
        return String(parts[1])
    }

    // MARK: CSRF

    /// The login form's hidden field for the nonce in its cookie.
    func loginToken(nonce: String) -> String { mac("login|" + nonce) }

    /// The logout form's hidden field for a session (bound to the session's nonce).
    func logoutToken(session: String) -> String { mac("logout|" + session) }
}

/// Login attempts per client address: at most `limit` in any `window` seconds, failed or not.
/// A bounded table (the oldest addresses are forgotten first), so a flood of addresses cannot
/// grow it without end.
final class LoginLimiter: Sendable {
    private let attempts = Mutex<[String: [Int64]]>([:])
    let limit: Int
    let window: Int64
    let maxAddresses: Int

    init(limit: Int, window: Int64 = 60, maxAddresses: Int = 10_000) {
        self.limit = max(1, limit)
        self.window = window
        self.maxAddresses = maxAddresses
    }

    /// Records an attempt; nil when it may go on, else the seconds until the next is allowed.
    func attempt(from address: String, now: Int64) -> Int64? {
        attempts.withLock { table in
            var times = (table[address] ?? []).filter { $0 > now - window }
            if times.count >= limit {
                table[address] = times
                return max(1, (times.first ?? now) + window - now)
            }
            times.append(now)
            table[address] = times
            if table.count > maxAddresses {
                // Forget the addresses whose last attempt is oldest (and every expired one).
                let cutoff = table.values.compactMap(\.last).sorted()[table.count - maxAddresses]
                table = table.filter { ($0.value.last ?? 0) >= cutoff && ($0.value.last ?? 0) > now - window }
            }
            return nil
        }
    }
}
