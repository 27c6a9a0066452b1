import LeadBridgeCrypto

/// A request as built, with the signature's value and input kept for dry runs and diffs.
public struct BuiltRequest: Sendable, Hashable {
    public var request: HTTPRequestValue
    public var signature: String?
    public var signatureInput: String?
}

/// Why a request could not be built (a value that is not what a filter needs, a bad URL).
public struct RequestBuildError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong, worded by the edges in the user's language.
    public var problem: DiagnosticMessage
    public init(_ problem: DiagnosticMessage) { self.problem = problem }
    /// The stable English sentence (stored errors, the engine's reports).
    public var message: String { problem.english }
    public var description: String { message }
}

/// Turns a `RequestSpec` plus template values into the exact bytes to send. Pure: values in,
/// request out; the clock and credentials are context values.
public enum RequestBuilder {
    public static let userAgent = "leadbridge/0.1"

    public static func build(_ spec: RequestSpec, sign: SignSpec?, context: TemplateContext,
                             signatureOverride: String? = nil) throws(RequestBuildError) -> BuiltRequest {
        var headers: [HTTPHeader] = []
        var query = try fields(spec.query, context)
        var bodyFields: [FormField] = []
        var jsonBody: JSONValue?

        switch spec.auth {
        case .bearer(let t)?:
            if let v = try text(t, context) { headers.append(HTTPHeader("Authorization", "Bearer " + v)) }
        case .basic(let u, let p)?:
            let user = try text(u, context) ?? "", password = try text(p, context) ?? ""
            headers.append(HTTPHeader("Authorization", "Basic " + Base64.encode(Array("\(user):\(password)".utf8))))
        case .header(let name, let t)?:
            if let v = try text(t, context) { headers.append(HTTPHeader(name, v)) }
        case .query(let name, let t)?:
            if let v = try text(t, context) { query.append(FormField(name, v)) }
        case .form(let name, let t)?:
            if let v = try text(t, context) { bodyFields.append(FormField(name, v)) }
        case nil: break
        }

        var contentType: String?
        var body: [UInt8] = []
        var formEncoding = FormEncoding.php
        switch spec.body {
        case .form(let fs, let enc)?:
            bodyFields = try fields(fs, context) + bodyFields
            formEncoding = enc
            contentType = "application/x-www-form-urlencoded"
        case .json(let t, _)?:
            jsonBody = try json(t, context) ?? .object(JSONObject())
            contentType = "application/json"
        case .multipart(let fs)?:
            bodyFields = try fields(fs, context) + bodyFields
        case .text(let t, let ct)?:
            body = Array((try text(t, context) ?? "").utf8)
            contentType = ct
        case nil: break
        }
        let jsonEscaping: JSONEscaping = { if case .json(_, let e)? = spec.body { return e }; return .plain }()

        // The signature is computed over the encoded request without itself, then appended.
        var signature: String?
        var signatureInput: String?
        if let sign {
            var signContext = context
            let encodedQuery = FormEncoder.encode(query, spec.queryEncoding)
            let encodedBody: String
            switch spec.body {
            case .form?: encodedBody = FormEncoder.encode(bodyFields, formEncoding)
            case .json?: encodedBody = JSONWriter.compact(jsonBody ?? .null, escaping: jsonEscaping)
            case .text?: encodedBody = String(decoding: body, as: UTF8.self)
            case .multipart?: encodedBody = FormEncoder.encode(bodyFields, .php)
            case nil: encodedBody = ""
            }
            signContext["request.body"] = .text(encodedBody)
            signContext["request.query"] = .text(encodedQuery)
            let input = try text(sign.input, signContext) ?? ""
            signatureInput = input
            let value: String
            if let signatureOverride { value = signatureOverride } else { value = try digest(sign, input: input, context: signContext) }
            signature = value
            switch sign.into {
            case .query(let n): query.append(FormField(n, value))
            case .form(let n): bodyFields.append(FormField(n, value))
            case .header(let n): headers.append(HTTPHeader(n, value))
            case .json(let n):
                guard case .object(var o)? = jsonBody else { throw RequestBuildError(.signatureNeedsJSONObject) }
                o[n] = .string(value)
                jsonBody = .object(o)
            }
        }

        switch spec.body {
        case .form?: body = Array(FormEncoder.encode(bodyFields, formEncoding).utf8)
        case .json?: body = Array(JSONWriter.compact(jsonBody ?? .null, escaping: jsonEscaping).utf8)
        case .multipart?:
            let digestOfContent = DigestEncoding.hex.encode(Digest.hash(.sha1, Array(bodyFields.map { $0.key + "=" + $0.value }.joined(separator: "\n").utf8)))
            let boundary = "leadbridge-" + digestOfContent.prefix(24)
            body = FormEncoder.multipart(bodyFields, boundary: boundary)
            contentType = "multipart/form-data; boundary=\(boundary)"
        default: break
        }

        var url = try renderURL(spec.url, context)
        if !query.isEmpty {
            url += (url.contains("?") ? (url.hasSuffix("?") || url.hasSuffix("&") ? "" : "&") : "?") + FormEncoder.encode(query, spec.queryEncoding)
        }
        for (name, t) in spec.headers {
            guard let v = try text(t, context) else { continue }
            headers.removeAll { $0.name.lowercased() == name.lowercased() }
            headers.append(HTTPHeader(name, v))
        }
        if let contentType, !headers.contains(where: { $0.name.lowercased() == "content-type" }) {
            headers.insert(HTTPHeader("Content-Type", contentType), at: 0)
        }
        if !headers.contains(where: { $0.name.lowercased() == "user-agent" }) { headers.append(HTTPHeader("User-Agent", userAgent)) }
        // Byte by byte: `String.contains(String)` is a generic substring search (2,000
        // instructions a call, four headers a request).
        for h in headers where h.value.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 })
            || h.name.utf8.contains(where: { $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: " ") }) {
            throw RequestBuildError(.headerUnsafe(name: h.name))
        }
        return BuiltRequest(request: HTTPRequestValue(method: spec.method, url: url, headers: headers, body: body),
                            signature: signature, signatureInput: signatureInput)
    }

    /// The signature value of `input` (what a network recomputes to check a request).
    public static func digest(_ sign: SignSpec, input: String, context: TemplateContext) throws(RequestBuildError) -> String {
        let data = Array(input.utf8)
        let bytes: [UInt8]
        switch sign.algorithm {
        case .md5: bytes = Digest.hash(.md5, data)
        case .sha1: bytes = Digest.hash(.sha1, data)
        case .sha256: bytes = Digest.hash(.sha256, data)
        case .sha512: bytes = Digest.hash(.sha512, data)
        case .hmacSHA1, .hmacSHA256, .hmacSHA512:
            var keyText = ""
            if let k = sign.key { keyText = try text(k, context) ?? "" }
            let key = Array(keyText.utf8)
            let alg: DigestAlgorithm = sign.algorithm == .hmacSHA1 ? .sha1 : sign.algorithm == .hmacSHA256 ? .sha256 : .sha512
            bytes = Digest.hmac(alg, key: key, data)
        }
        return (DigestEncoding(rawValue: sign.encoding) ?? .hex).encode(bytes)
    }

    static func text(_ t: Template, _ context: TemplateContext) throws(RequestBuildError) -> String? {
        do { return try TemplateRenderer.text(t, in: context) } catch { throw RequestBuildError(error.problem) }
    }

    static func renderURL(_ t: Template, _ context: TemplateContext) throws(RequestBuildError) -> String {
        if t.isSinglePlaceholder, let p = t.placeholders.first {
            guard let v = try text(t, context) else { throw RequestBuildError(.urlPlaceholderEmpty(p.name)) }
            guard URLParts(v) != nil else { throw RequestBuildError(.urlPlaceholderNotHTTP(p.name)) }
            return v
        }
        var out = ""
        for (i, s) in t.segments.enumerated() {
            switch s {
            case .literal(let l): out += l
            case .placeholder(let p) where i == 0:
                // A leading value is a base URL (a self-hosted CRM): used as written.
                guard var v = try text(Template(segments: [s], source: p.description), context), URLParts(v) != nil else {
                    throw RequestBuildError(.urlStartsNotHTTP(p.name))
                }
                while v.hasSuffix("/") { v.removeLast() }
                out += v
            case .placeholder(let p):
                let rendered: RenderedValue
                do { rendered = try TemplateRenderer.render(Template(segments: [s], source: p.description), in: context) } catch { throw RequestBuildError(error.problem) }
                guard let v = rendered.text else { throw RequestBuildError(.urlPlaceholderEmpty(p.name)) }
                out += p.filters.contains { $0.name == .raw } ? PercentEncoding.pathSegment(v) : PercentEncoding.rfc3986(v)
            }
        }
        guard URLParts(out) != nil else { throw RequestBuildError(.urlNotHTTP) }
        return out
    }

    static func fields(_ specs: [FieldSpec], _ context: TemplateContext, prefix: String? = nil) throws(RequestBuildError) -> [FormField] {
        var out: [FormField] = []
        for f in specs {
            let key = prefix.map { "\($0)[\(f.key)]" } ?? f.key
            switch f.value {
            case .group(let inner):
                out += try fields(inner, context, prefix: key)
            case .template(let t):
                let v: RenderedValue
                do { v = try TemplateRenderer.render(t, in: context) } catch { throw RequestBuildError(error.problem) }
                switch v {
                case .missing: continue
                case .text(let s): out.append(FormField(key, s))
                case .json(let j): out.append(FormField(key, j.scalarText ?? ""))
                case .list(let items):
                    if key.hasSuffix("[#]") {
                        let base = String(key.dropLast(3))
                        for (i, item) in items.enumerated() { out.append(FormField("\(base)[\(i)]", item)) }
                    } else {
                        for item in items { out.append(FormField(key, item)) }
                    }
                }
            }
        }
        return out
    }

    static func json(_ t: JSONTemplate, _ context: TemplateContext) throws(RequestBuildError) -> JSONValue? {
        switch t {
        case .literal(let v): return v
        case .template(let tpl):
            let v: RenderedValue
            do { v = try TemplateRenderer.render(tpl, in: context) } catch { throw RequestBuildError(error.problem) }
            switch v {
            case .missing: return nil
            case .text(let s): return .string(s)
            case .json(let j): return j
            case .list(let l): return .array(l.map(JSONValue.string))
            }
        case .object(let members):
            var o = JSONObject()
            for m in members { if let v = try json(m.value, context) { o.members.append(JSONMember(key: m.key, value: v)) } }
            return .object(o)
        case .array(let items):
            var a: [JSONValue] = []
            for i in items { if let v = try json(i, context) { a.append(v) } }
            return .array(a)
        }
    }
}
