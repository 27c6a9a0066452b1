import CCrypto
import Glibc

// libcrypto is loaded on the first digest, not at start-up: linked, it cost every command
// (the catalog ones included, which sign nothing) close to a millisecond of loading and
// relocating. So the CCrypto module map has no `link` line, and the OpenSSL functions this
// module calls are the same-named forwarders below, which shadow the C declarations here. A
// new OpenSSL call needs a forwarder (the link step names it otherwise: "undefined reference").

/// libcrypto, opened once with dlopen. Its absence is a broken installation (the Debian
/// package libssl3 is required), reported by name when the first digest is asked for.
enum LibCrypto {
    // nonisolated(unsafe): written once by the lazy initialiser of a `let`, only read after.
    nonisolated(unsafe) static let handle: UnsafeMutableRawPointer? = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_LOCAL)

    static func function<T>(_ name: String, _ type: T.Type) -> T {
        guard let handle else {
            fatalError("libcrypto (libcrypto.so.3) cannot be loaded: \(dlerror().map { String(cString: $0) } ?? "?"); install the Debian package libssl3")
        }
        guard let pointer = dlsym(handle, name) else { fatalError("libcrypto.so.3 has no \(name)") }
        return unsafeBitCast(pointer, to: T.self)
    }

    typealias MD = OpaquePointer?
    static let md5 = function("EVP_md5", (@convention(c) () -> MD).self)
    static let sha1 = function("EVP_sha1", (@convention(c) () -> MD).self)
    static let sha256 = function("EVP_sha256", (@convention(c) () -> MD).self)
    static let sha512 = function("EVP_sha512", (@convention(c) () -> MD).self)
    static let fetch = function("EVP_MD_fetch", (@convention(c) (OpaquePointer?, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> MD).self)
    static let digest = function("EVP_Digest", (@convention(c) (UnsafeRawPointer?, Int, UnsafeMutablePointer<UInt8>?, UnsafeMutablePointer<UInt32>?, MD, OpaquePointer?) -> Int32).self)
    static let hmac = function("HMAC", (@convention(c) (MD, UnsafeRawPointer?, Int32, UnsafePointer<UInt8>?, Int, UnsafeMutablePointer<UInt8>?, UnsafeMutablePointer<UInt32>?) -> UnsafeMutablePointer<UInt8>?).self)
    static let memcmp = function("CRYPTO_memcmp", (@convention(c) (UnsafeRawPointer?, UnsafeRawPointer?, Int) -> Int32).self)
    static let encodeBlock = function("EVP_EncodeBlock", (@convention(c) (UnsafeMutablePointer<UInt8>?, UnsafePointer<UInt8>?, Int32) -> Int32).self)
    static let randBytes = function("RAND_bytes", (@convention(c) (UnsafeMutablePointer<UInt8>?, Int32) -> Int32).self)
}

// The forwarders, with the C signatures as Swift imports them.

func EVP_md5() -> OpaquePointer! { LibCrypto.md5() }
func EVP_sha1() -> OpaquePointer! { LibCrypto.sha1() }
func EVP_sha256() -> OpaquePointer! { LibCrypto.sha256() }
func EVP_sha512() -> OpaquePointer! { LibCrypto.sha512() }
func EVP_MD_fetch(_ ctx: OpaquePointer!, _ algorithm: UnsafePointer<CChar>!, _ properties: UnsafePointer<CChar>!) -> OpaquePointer! {
    LibCrypto.fetch(ctx, algorithm, properties)
}
func EVP_Digest(_ data: UnsafeRawPointer!, _ count: Int, _ md: UnsafeMutablePointer<UInt8>!, _ size: UnsafeMutablePointer<UInt32>!,
                _ type: OpaquePointer!, _ impl: OpaquePointer!) -> Int32 {
    LibCrypto.digest(data, count, md, size, type, impl)
}
func HMAC(_ evpMD: OpaquePointer!, _ key: UnsafeRawPointer!, _ keyLength: Int32, _ data: UnsafePointer<UInt8>!, _ dataLength: Int,
          _ md: UnsafeMutablePointer<UInt8>!, _ mdLength: UnsafeMutablePointer<UInt32>!) -> UnsafeMutablePointer<UInt8>! {
    LibCrypto.hmac(evpMD, key, keyLength, data, dataLength, md, mdLength)
}
func CRYPTO_memcmp(_ a: UnsafeRawPointer!, _ b: UnsafeRawPointer!, _ length: Int) -> Int32 { LibCrypto.memcmp(a, b, length) }
func EVP_EncodeBlock(_ t: UnsafeMutablePointer<UInt8>!, _ f: UnsafePointer<UInt8>!, _ n: Int32) -> Int32 { LibCrypto.encodeBlock(t, f, n) }
func RAND_bytes(_ buf: UnsafeMutablePointer<UInt8>!, _ num: Int32) -> Int32 { LibCrypto.randBytes(buf, num) }
