import Testing
import LeadBridgeCrypto

/// Known test vectors (FIPS 180, RFC 1321, RFC 4231-style HMAC of the pangram).
@Suite struct DigestTests {
    @Test(arguments: [
        (DigestAlgorithm.md5, "abc", "900150983cd24fb0d6963f7d28e17f72"),
        (.sha1, "abc", "a9993e364706816aba3e25717850c26c9cd0d89d"),
        (.sha256, "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (.md5, "", "d41d8cd98f00b204e9800998ecf8427e"),
        (.sha1, "", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
    ])
    func vectors(algorithm: DigestAlgorithm, input: String, hex: String) {
        #expect(DigestEncoding.hex.encode(Digest.hash(algorithm, Array(input.utf8))) == hex)
    }

    @Test func hmacSHA256() {
        let mac = Digest.hmac(.sha256, key: Array("key".utf8), Array("The quick brown fox jumps over the lazy dog".utf8))
        #expect(DigestEncoding.hex.encode(mac) == "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8")
        #expect(DigestEncoding.upperHex.encode(mac).hasPrefix("F7BC83F4"))
    }

    @Test(arguments: [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foobar", "Zm9vYmFy")])
    func base64(input: String, expected: String) {
        #expect(Base64.encode(Array(input.utf8)) == expected)
    }

    @Test func constantTimeCompare() {
        #expect(Digest.constantTimeEquals(Array("secret".utf8), Array("secret".utf8)))
        #expect(!Digest.constantTimeEquals(Array("secret".utf8), Array("secreT".utf8)))
        #expect(!Digest.constantTimeEquals(Array("secret".utf8), Array("secret1".utf8)))
    }
}
