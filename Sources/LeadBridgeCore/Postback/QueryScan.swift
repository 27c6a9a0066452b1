extension QueryString {
    /// A raw query read once for everything the receiver needs from it: the token, the text
    /// to store (the token masked) and the parameters for the normalizer.
    public struct Scan: Sendable {
        /// Decoded parameters as `parse` gives them, with the masked parameters' values replaced
        /// by `***`; nil when a part does not decode (`error` then says which, as `parse` would).
        public var pairs: [(String, String)]?
        public var error: PostbackError?
        /// The last value of the parameter named exactly `param`, as parsing the original query
        /// gives it (nil when absent, or when any part of the original does not decode).
        public var secret: String?
        /// The raw query with the value of every parameter whose decoded name is `param`
        /// (case-insensitively) replaced by `***`; undecodable names are compared raw.
        public var masked: String
    }

    /// One pass over `query`: what `parse(query)`, the token lookup and the masking of `param`
    /// each used to read separately. Walks the query's UTF-8 bytes once by offset (`String`'s
    /// own index steps cost more than the reading), splitting at ASCII `&` and `=` (so every
    /// part is whole characters), without arrays of parts.
    public static func scan(_ query: String, masking param: String) -> Scan {
        var text = query
        let (scan, masked) = text.withUTF8 { scanBytes($0, masking: param) }
        return Scan(pairs: scan.pairs, error: scan.error, secret: scan.secret, masked: masked ?? query)
    }

    /// `scan` on the query's bytes; the masked text is nil when nothing is masked (the query itself).
    private static func scanBytes(_ bytes: UnsafeBufferPointer<UInt8>, masking param: String) -> (Scan, String?) {
        let lowerParam = param.lowercased()
        let amp = UInt8(ascii: "&"), eq = UInt8(ascii: "=")
        let end = bytes.count
        var list: [(String, String)] = []
        list.reserveCapacity(8) // a postback's few parameters without growing the array step by step
        var pairs: [(String, String)]? = list
        var error: PostbackError?
        var secret: String?
        var originalDecodes = true
        /// Value ranges (byte offsets) to replace by `***` in the stored text.
        var maskedValues: [Range<Int>] = []
        // `parse` drops one leading "?"; so does the reading of the first part here.
        var partStart = end > 0 && bytes[0] == UInt8(ascii: "?") ? 1 : 0
        while true {
            var partEnd = partStart
            while partEnd < end && bytes[partEnd] != amp { partEnd += 1 }
            if partStart == partEnd {
                if partEnd == end { break }
                partStart = partEnd + 1
                continue
            }
            var equals: Int?
            for i in partStart..<partEnd where bytes[i] == eq {
                equals = i
                break
            }
            let rawName = UnsafeBufferPointer(rebasing: bytes[partStart..<(equals ?? partEnd)])
            let name: Result<String, PostbackError> = Result { () throws(PostbackError) -> String in try decode(rawName, field: "query") }
            let isMasked = equals != nil && equalsLowercased((try? name.get()) ?? String(decoding: rawName, as: UTF8.self), lowerParam)
            if isMasked, let equals { maskedValues.append((equals + 1)..<partEnd) }
            // `pairs` is what parsing the masked query gives; `secret` what parsing the original
            // gives (nothing at all when any part of the original does not decode).
            switch name {
            case .failure(let e):
                originalDecodes = false
                if pairs != nil { error = e }
                pairs = nil
            case .success(let key):
                let value: Result<String, PostbackError> = equals.map { eq in
                    Result { () throws(PostbackError) -> String in
                        try decode(UnsafeBufferPointer(rebasing: bytes[(eq + 1)..<partEnd]), field: key.isEmpty ? "query" : key)
                    }
                } ?? .success("")
                switch value {
                case .success(let v):
                    if key == param { secret = v }
                case .failure(let e):
                    originalDecodes = false
                    if !isMasked {
                        if pairs != nil { error = e }
                        pairs = nil
                    }
                }
                if !key.isEmpty, pairs != nil, let v = isMasked ? "***" : try? value.get() { pairs?.append((key, v)) }
            }
            if partEnd == end { break }
            partStart = partEnd + 1
        }
        var masked: String?
        if !maskedValues.isEmpty {
            var out: [UInt8] = []
            out.reserveCapacity(end + 3 * maskedValues.count)
            var at = 0
            for r in maskedValues {
                out.append(contentsOf: bytes[at..<r.lowerBound])
                out.append(contentsOf: "***".utf8)
                at = r.upperBound
            }
            out.append(contentsOf: bytes[at..<end])
            masked = String(decoding: out, as: UTF8.self)
        }
        return (Scan(pairs: pairs, error: error, secret: originalDecodes ? secret : nil, masked: ""), masked)
    }

    /// `decode` of a part of a query's bytes (whole characters: the parts end at ASCII bytes).
    static func decode(_ part: UnsafeBufferPointer<UInt8>, field: String) throws(PostbackError) -> String {
        // Most values are plain printable ASCII: nothing to decode or check.
        if part.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "%") && $0 != UInt8(ascii: "+") }) {
            return String(decoding: part, as: UTF8.self)
        }
        return try decode(Substring(String(decoding: part, as: UTF8.self)), field: field)
    }

    /// `text.lowercased() == lower`, without allocating for ASCII names.
    static func equalsLowercased(_ text: String, _ lower: String) -> Bool {
        var isASCII = true
        for b in text.utf8 where b >= 0x80 { isASCII = false; break }
        guard isASCII else { return text.lowercased() == lower }
        guard text.utf8.count == lower.utf8.count else { return false }
        return zip(text.utf8, lower.utf8).allSatisfy { a, b in (a >= 0x41 && a <= 0x5A ? a | 0x20 : a) == b }
    }
}
