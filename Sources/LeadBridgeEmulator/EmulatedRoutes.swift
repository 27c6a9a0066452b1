import LeadBridgeCore
import LeadBridgeEngine
import LeadBridgeNet

/// Where a spec's request lands at the emulator and what it carries: derived from the spec
/// itself (its URL rendered with the example account), so the emulator follows every spec
/// without network-specific code.
struct EmulatedRoute: Sendable {
    enum Role: Sendable, Hashable {
        case step(Int)  // an earlier step of a multi-step send
        case send
        case poll
        /// The poll's one-lead request (`poll.lookup`, SalesMan's `action=info`).
        case lookup
    }

    var network: String
    var role: Role
    var method: String
    var host: String
    var path: String
    var request: RequestSpec
    var sign: SignSpec?
    /// Fields with constant values (`action=add`): they tell apart requests to the same URL.
    var constants: [(String, String)]
    /// A path carrying poll values (`/status/{ids|join:,|raw}`): its literal pieces and the
    /// names read between them. Empty names: the path is fixed.
    var pathPieces: [String] = []
    var pathNames: [String] = []

    /// Poll values that may sit in a URL path, rendered as markers the path is split on.
    static let pathVariables = ["ids", "id", "page", "offset"]
    static func marker(_ name: String) -> String { "LBEMU" + name.uppercased() + "X" }

    /// Path segments; nil where the spec puts a per-request value (`leads-list/{since}/{until}`,
    /// `leads/{ids}`), so any value matches there.
    var pathPattern: [String?] = []

    func matches(path other: String) -> Bool {
        if other == path { return true }
        let segments = other.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        return pathPattern.count == segments.count && zip(pathPattern, segments).allSatisfy { $0 == nil || $0 == $1 }
    }

    /// Builds the route of one request of a spec, or nil when its URL cannot be rendered.
    static func make(network: String, role: Role, request: RequestSpec, sign: SignSpec?, context: TemplateContext) -> EmulatedRoute? {
        // Rendered twice with different per-request values: path segments that differ vary.
        func render(_ variant: Int64, markers: Bool = false) -> (BuiltRequest, URLParts)? {
            var ctx = context
            ctx["ids"] = .list([markers ? marker("ids") : String(variant + 1)])
            ctx["id"] = .text(markers ? marker("id") : String(variant + 1))
            ctx["page"] = .text(markers ? marker("page") : String(variant))
            ctx["offset"] = .text(markers ? marker("offset") : String(variant * 7))
            ctx["cursor"] = .text(String(variant))
            ctx["since"] = .time(variant * 1_000_000_000)
            ctx["until"] = .time(variant * 1_000_000_000 + 86_400)
            guard let built = try? RequestBuilder.build(request, sign: nil, context: ctx), let parts = URLParts(built.request.url) else { return nil }
            return (built, parts)
        }
        guard let (_, parts) = render(0) else { return nil }
        let path = String(parts.target.split(separator: "?", maxSplits: 1).first ?? "/")
        let other = render(1).map { String($0.1.target.split(separator: "?", maxSplits: 1).first ?? "/") } ?? path
        let a = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let b = other.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let pattern: [String?] = a.count == b.count ? zip(a, b).map { $0 == $1 ? $0 : nil } : a
        // Rendered once more with markers: where ids, pages and offsets sit in the path, so
        // the emulator can read them back (`/orders/{ids|join:,|raw}/status`).
        var pieces: [String] = []
        var names: [String] = []
        if let (_, marked) = render(0, markers: true) {
            var rest = Substring(marked.target.split(separator: "?", maxSplits: 1).first ?? "/")
            while let hit = pathVariables.compactMap({ name in rest.firstRange(of: marker(name)).map { (name, $0) } }).min(by: { $0.1.lowerBound < $1.1.lowerBound }) {
                pieces.append(String(rest[rest.startIndex..<hit.1.lowerBound]))
                names.append(hit.0)
                rest = rest[hit.1.upperBound...]
            }
            pieces.append(String(rest))
        }
        var constants: [(String, String)] = []
        for f in request.query + formFields(request) {
            if case .template(let t) = f.value, t.placeholders.isEmpty { constants.append((f.key, t.segments.isEmpty ? "" : t.source)) }
        }
        // Constant query parameters written into the URL itself (`?r=/api/order/in`).
        if let q = parts.target.split(separator: "?", maxSplits: 1).dropFirst().first {
            let fromTemplate = Set(request.query.map(\.key))
            for (k, v) in (try? QueryString.parse(String(q))) ?? [] where !fromTemplate.contains(k) && !v.contains("*") {
                if request.url.source.contains("\(k)=") && !request.url.source.contains("\(k)={") { constants.append((k, v)) }
            }
        }
        return EmulatedRoute(network: network, role: role, method: request.method, host: parts.host, path: path, request: request, sign: sign,
                             constants: constants, pathPieces: names.isEmpty ? [] : pieces, pathNames: names, pathPattern: pattern)
    }

    /// The values a received path carries (percent-decoded; lists split at `,`), or nil when
    /// the path is not this route's.
    func pathValues(_ received: String) -> [String: [String]]? {
        guard !pathNames.isEmpty else { return [:] }
        guard let first = pathPieces.first, received.hasPrefix(first) else { return nil }
        var rest = received.dropFirst(first.count)
        var out: [String: [String]] = [:]
        for (i, name) in pathNames.enumerated() {
            let next = pathPieces[i + 1]
            let value: Substring
            if i + 1 == pathNames.count {
                guard rest.hasSuffix(next) else { return nil }
                value = rest.dropLast(next.count)
            } else {
                guard !next.isEmpty, let r = rest.firstRange(of: next) else { return nil }
                value = rest[rest.startIndex..<r.lowerBound]
            }
            guard !value.isEmpty, !value.contains("/") || name == "ids",
                  let decoded = try? QueryString.decode(value, field: name) else { return nil }
            out[name, default: []] += name == "ids" ? decoded.split(separator: ",").map(String.init) : [decoded]
            rest = rest[value.endIndex...].dropFirst(next.count)
        }
        return out
    }

    static func formFields(_ r: RequestSpec) -> [FieldSpec] {
        switch r.body {
        case .form(let f, _)?: return f
        case .multipart(let f)?: return f
        default: return []
        }
    }
}

/// A received request's fields, decoded whatever the encoding: query, form, multipart or JSON
/// (JSON as dotted paths).
struct ReceivedFields: Sendable {
    var query: [(String, String)] = []
    var body: [(String, String)] = []
    var json: JSONValue?

    init(_ r: HTTPServerRequest) {
        query = (try? QueryString.parse(r.query)) ?? []
        let ct = (r.header("Content-Type") ?? "").lowercased()
        if ct.hasPrefix("application/json") || r.body.first == UInt8(ascii: "{") || r.body.first == UInt8(ascii: "[") {
            json = try? JSONParser.parse(r.body)
            if let json { body = ReceivedFields.flatten(json) }
        } else if ct.hasPrefix("multipart/form-data"), let b = ct.components(separatedBy: "boundary=").last {
            body = ReceivedFields.multipart(r.body, boundary: String(b.split(separator: ";").first ?? ""))
        } else if let text = String(validating: r.body, as: UTF8.self) {
            body = (try? QueryString.parse(text)) ?? []
        }
    }

    static func flatten(_ v: JSONValue, prefix: String = "") -> [(String, String)] {
        switch v {
        case .object(let o): return o.members.flatMap { flatten($0.value, prefix: prefix.isEmpty ? $0.key : prefix + "." + $0.key) }
        case .array(let a): return a.enumerated().flatMap { flatten($0.element, prefix: prefix + "." + String($0.offset)) }
        default: return [(prefix, v.scalarText ?? "")]
        }
    }

    static func multipart(_ body: [UInt8], boundary: String) -> [(String, String)] {
        let text = String(decoding: body, as: UTF8.self)
        var out: [(String, String)] = []
        for part in text.split(separator: "--" + boundary, omittingEmptySubsequences: false) {
            guard let headerEnd = part.firstRange(of: "\r\n\r\n") else { continue }
            let head = part[part.startIndex..<headerEnd.lowerBound]
            guard let nameStart = head.firstRange(of: "name=\"") else { continue }
            let rest = head[nameStart.upperBound...]
            guard let nameEnd = rest.firstIndex(of: "\"") else { continue }
            var value = String(part[headerEnd.upperBound...])
            if value.hasSuffix("\r\n") { value.removeLast() }  // "\r\n" is one Character
            out.append((String(rest[rest.startIndex..<nameEnd]), value))
        }
        return out
    }

    func all(_ key: String) -> [String] { (query + body).filter { $0.0 == key }.map(\.1) }
    func first(_ key: String) -> String? { all(key).first }
}

/// Reads back the values a spec placed into a request: for each field whose template uses a
/// placeholder, the received text is matched against the template's literal parts.
enum TemplateReader {
    /// Values by placeholder name found in one text for one template (`{lead.id}:{lead.subs.sub2}`).
    static func read(_ t: Template, from text: String) -> [String: String] {
        var out: [String: String] = [:]
        var rest = Substring(text)
        let segs = t.segments
        for (i, s) in segs.enumerated() {
            switch s {
            case .literal(let l):
                guard rest.hasPrefix(l) else { return out }
                rest = rest.dropFirst(l.count)
            case .placeholder(let p):
                var value: Substring
                if i + 1 < segs.count, case .literal(let next) = segs[i + 1], let r = rest.firstRange(of: next) {
                    value = rest[rest.startIndex..<r.lowerBound]
                } else {
                    value = rest
                }
                rest = rest.dropFirst(value.count)
                out[p.name] = String(value)
            }
        }
        return out
    }

    /// Every placeholder value found in a received request.
    static func values(route: EmulatedRoute, received: ReceivedFields, headers: HTTPServerRequest) -> [String: [String]] {
        var out: [String: [String]] = [:]
        func take(_ t: Template, _ texts: [String]) {
            guard !t.placeholders.isEmpty else { return }
            if t.isSinglePlaceholder, let p = t.placeholders.first { out[p.name, default: []] += texts; return }
            for text in texts { for (k, v) in read(t, from: text) { out[k, default: []].append(v) } }
        }
        func walk(_ fields: [FieldSpec], prefix: String?, source: [(String, String)]) {
            for f in fields {
                let key = prefix.map { "\($0)[\(f.key)]" } ?? f.key
                switch f.value {
                case .group(let inner): walk(inner, prefix: key, source: source)
                case .template(let t):
                    if key.hasSuffix("[#]") {
                        let base = String(key.dropLast(3)) + "["
                        take(t, source.filter { $0.0.hasPrefix(base) }.map(\.1))
                    } else {
                        take(t, source.filter { $0.0 == key }.map(\.1))
                    }
                }
            }
        }
        walk(route.request.query, prefix: nil, source: received.query)
        walk(EmulatedRoute.formFields(route.request), prefix: nil, source: received.body)
        if case .json(let jt, _)? = route.request.body {
            func walkJSON(_ t: JSONTemplate, path: String) {
                switch t {
                case .template(let tpl): take(tpl, received.body.filter { $0.0 == path }.map(\.1))
                case .object(let members): for m in members { walkJSON(m.value, path: path.isEmpty ? m.key : path + "." + m.key) }
                case .array(let items): for (i, x) in items.enumerated() { walkJSON(x, path: path + "." + String(i)) }
                case .literal: break
                }
            }
            walkJSON(jt, path: "")
        }
        for (name, t) in route.request.headers { take(t, headers.header(name).map { [$0] } ?? []) }
        for (name, list) in route.pathValues(headers.path) ?? [:] { out[name, default: []] += list }
        return out
    }
}
