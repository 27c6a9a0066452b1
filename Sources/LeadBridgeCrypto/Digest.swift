import CCrypto

/// Hashes and MACs that networks use to sign requests, computed by the system's OpenSSL
/// libcrypto (never hand-written). Pure functions of their input bytes.
public enum DigestAlgorithm: String, Sendable, CaseIterable {
    case md5, sha1, sha256, sha512

    fileprivate var evp: OpaquePointer? {
        switch self {
        case .md5: return EVP_md5()
        case .sha1: return EVP_sha1()
        case .sha256: return EVP_sha256()
        case .sha512: return EVP_sha512()
        }
    }

    /// The algorithm fetched from OpenSSL's provider once: `EVP_Digest` with the legacy
    /// `EVP_sha256()` looks the implementation up again on every call (the receiver hashes a
    /// token per postback).
    fileprivate var fetched: OpaquePointer? {
        switch self {
        case .md5: return FetchedDigests.shared.md5
        case .sha1: return FetchedDigests.shared.sha1
        case .sha256: return FetchedDigests.shared.sha256
        case .sha512: return FetchedDigests.shared.sha512
        }
    }
}

/// `@unchecked Sendable`: the pointers are set once, in `init` (run once by Swift's lazy static
/// initialization), never freed, and OpenSSL documents fetched `EVP_MD` objects as safe to use
/// from any number of threads at once.
private final class FetchedDigests: @unchecked Sendable {
    static let shared = FetchedDigests()
    let md5 = EVP_MD_fetch(nil, "MD5", nil)
    let sha1 = EVP_MD_fetch(nil, "SHA1", nil)
    let sha256 = EVP_MD_fetch(nil, "SHA256", nil)
    let sha512 = EVP_MD_fetch(nil, "SHA512", nil)
}

/// One-shot digest and HMAC functions over byte arrays.
public enum Digest {
    /// The digest of `data` with `algorithm`.
    public static func hash(_ algorithm: DigestAlgorithm, _ data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let ok = data.withUnsafeBytes { raw in
            out.withUnsafeMutableBufferPointer { buffer in
                EVP_Digest(raw.baseAddress, raw.count, buffer.baseAddress, &length, algorithm.fetched ?? algorithm.evp, nil)
            }
        }
        precondition(ok == 1, "EVP_Digest failed for \(algorithm)")  // only on OpenSSL misconfiguration
        return Array(out.prefix(Int(length)))
    }

    /// HMAC of `data` keyed by `key` with `algorithm`.
    public static func hmac(_ algorithm: DigestAlgorithm, key: [UInt8], _ data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let result = key.withUnsafeBytes { keyRaw in
            data.withUnsafeBytes { dataRaw in
                out.withUnsafeMutableBufferPointer { buffer in
                    HMAC(algorithm.evp, keyRaw.baseAddress, Int32(keyRaw.count),
                         dataRaw.baseAddress?.assumingMemoryBound(to: UInt8.self), dataRaw.count,
                         buffer.baseAddress, &length)
                }
            }
        }
        precondition(result != nil, "HMAC failed for \(algorithm)")
        return Array(out.prefix(Int(length)))
    }

    /// Compares two byte strings in time that depends only on their lengths (tokens, signatures).
    public static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        if a.isEmpty { return true }
        return a.withUnsafeBytes { ra in
            b.withUnsafeBytes { rb in CRYPTO_memcmp(ra.baseAddress, rb.baseAddress, ra.count) == 0 }
        }
    }
}

/// Text forms of digests: lowercase hex, uppercase hex, base64 (OpenSSL's encoder).
public enum DigestEncoding: String, Sendable, CaseIterable {
    case hex, upperHex = "HEX", base64

    public func encode(_ bytes: [UInt8]) -> String {
        switch self {
        case .hex: return Self.hexString(bytes, upper: false)
        case .upperHex: return Self.hexString(bytes, upper: true)
        case .base64: return Base64.encode(bytes)
        }
    }

    static func hexString(_ bytes: [UInt8], upper: Bool) -> String {
        let digits = Array((upper ? "0123456789ABCDEF" : "0123456789abcdef").utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Base64 through OpenSSL's EVP encoder (no line breaks).
public enum Base64 {
    public static func encode(_ bytes: [UInt8]) -> String {
        if bytes.isEmpty { return "" }
        var out = [UInt8](repeating: 0, count: 4 * ((bytes.count + 2) / 3) + 1)
        let n = bytes.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                EVP_EncodeBlock(dst.baseAddress, src.baseAddress, Int32(src.count))
            }
        }
        return String(decoding: out.prefix(Int(n)), as: UTF8.self)
    }
}
