/// Percent-encoding for forms, queries and URL path segments, in the flavours signatures
/// depend on. No spec ever encodes by hand: values are placed and this encodes them.
public enum PercentEncoding {
    static let upperHex = Array("0123456789ABCDEF".utf8)

    /// PHP `urlencode`/`http_build_query`: `A-Za-z0-9-_.` kept, space → `+`.
    public static func php(_ s: String) -> String { encode(s, keep: { isAlnum($0) || $0 == 0x2D || $0 == 0x5F || $0 == 0x2E }, spaceAsPlus: true) }

    /// RFC 3986 unreserved kept (`~` too), space → `%20`.
    public static func rfc3986(_ s: String) -> String {
        encode(s, keep: { isAlnum($0) || $0 == 0x2D || $0 == 0x5F || $0 == 0x2E || $0 == 0x7E }, spaceAsPlus: false)
    }

    /// A URL path segment keeping RFC 3986 `pchar` as is: unreserved, sub-delims
    /// (`!$&'()*+,;=`), `:` and `@`. What would end or restructure the path is encoded.
    public static func pathSegment(_ s: String) -> String {
        encode(s, keep: { isAlnum($0) || pathCharacters.contains($0) }, spaceAsPlus: false)
    }
    static let pathCharacters = Set("-_.~!$&'()*+,;=:@".utf8)

    public static func form(_ s: String, _ flavour: FormEncoding) -> String {
        flavour == .php ? php(s) : rfc3986(s)
    }

    static func isAlnum(_ b: UInt8) -> Bool { (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) }

    static func encode(_ s: String, keep: (UInt8) -> Bool, spaceAsPlus: Bool) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count)
        for b in s.utf8 {
            if keep(b) { out.append(b) } else if b == 0x20 && spaceAsPlus { out.append(0x2B) } else {
                out.append(0x25)
                out.append(upperHex[Int(b >> 4)])
                out.append(upperHex[Int(b & 15)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// A rendered field: key (already flattened: `other[address]`) and its value(s).
public struct FormField: Sendable, Hashable {
    public var key: String
    public var value: String
    public init(_ key: String, _ value: String) { self.key = key; self.value = value }
}

/// Builds `a=1&b=2` strings and multipart bodies from ordered fields.
public enum FormEncoder {
    public static func encode(_ fields: [FormField], _ flavour: FormEncoding) -> String {
        fields.map { PercentEncoding.form($0.key, flavour) + "=" + PercentEncoding.form($0.value, flavour) }.joined(separator: "&")
    }

    /// `multipart/form-data` with a boundary derived from the content (deterministic, and a
    /// digest of the content cannot occur in it).
    public static func multipart(_ fields: [FormField], boundary: String) -> [UInt8] {
        var out = ""
        for f in fields {
            let name = f.key.replacingAll("\"", with: "%22").replacingAll("\r", with: "%0D").replacingAll("\n", with: "%0A")
            out += "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(f.value)\r\n"
        }
        out += "--\(boundary)--\r\n"
        return Array(out.utf8)
    }
}
