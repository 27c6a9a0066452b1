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
    /// each used to read separately. Walks the bytes once, without splitting into arrays.
    public static func scan(_ query: String, masking param: String) -> Scan {
        let lowerParam = param.lowercased()
        let utf8 = query.utf8
        let amp = UInt8(ascii: "&"), eq = UInt8(ascii: "=")
        var list: [(String, String)] = []
        list.reserveCapacity(8) // a postback's few parameters without growing the array step by step
        var pairs: [(String, String)]? = list
        var error: PostbackError?
        var secret: String?
        var originalDecodes = true
        /// Value ranges to replace by `***` in the stored text.
        var maskedValues: [Range<String.Index>] = []
        var partStart = utf8.startIndex
        // `parse` drops one leading "?"; so does the reading of the first part here.
        if utf8.first == UInt8(ascii: "?") { partStart = utf8.index(after: partStart) }
        while true {
            let partEnd = utf8[partStart...].firstIndex(of: amp) ?? utf8.endIndex
            defer { if partEnd < utf8.endIndex { partStart = utf8.index(after: partEnd) } }
            if partStart == partEnd {
                if partEnd == utf8.endIndex { break }
                continue
            }
            let equals = utf8[partStart..<partEnd].firstIndex(of: eq)
            let rawName = query[partStart..<(equals ?? partEnd)]
            let name: Result<String, PostbackError> = Result { () throws(PostbackError) -> String in try decode(rawName, field: "query") }
            let isMasked = equals != nil && equalsLowercased((try? name.get()) ?? String(rawName), lowerParam)
            if isMasked, let equals { maskedValues.append(utf8.index(after: equals)..<partEnd) }
            // `pairs` is what parsing the masked query gives; `secret` what parsing the original
            // gives (nothing at all when any part of the original does not decode).
            switch name {
            case .failure(let e):
                originalDecodes = false
                if pairs != nil { error = e }
                pairs = nil
            case .success(let key):
                let value: Result<String, PostbackError> = equals.map { eq in
                    Result { () throws(PostbackError) -> String in try decode(query[utf8.index(after: eq)..<partEnd], field: key.isEmpty ? "query" : key) }
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
            if partEnd == utf8.endIndex { break }
        }
        var masked = query
        if !maskedValues.isEmpty {
            masked = ""
            masked.reserveCapacity(query.utf8.count)
            var at = query.startIndex
            for r in maskedValues {
                masked += query[at..<r.lowerBound]
                masked += "***"
                at = r.upperBound
            }
            masked += query[at...]
        }
        return Scan(pairs: pairs, error: error, secret: originalDecodes ? secret : nil, masked: masked)
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
