/// A piece of an HTML (or inline SVG) page, built as a tree and escaped when rendered.
///
/// Escaping is by construction: a text node and every attribute value go through the one
/// escaping function, `HTML.escape`. Tag and attribute names are compile-time literals, and
/// the only way to put markup into a page unescaped is `HTML.trusted`, which takes a literal
/// too (the style sheet, the copy-button script) — never data from the ledger, a spec or a
/// request.
public struct HTML: Sendable {
    enum Node: Sendable {
        case element(tag: StaticString, attributes: [Attribute], children: [HTML])
        case text(String)
        case trusted(StaticString)
        case fragment([HTML])
    }

    let node: Node

    /// An attribute: a literal name and an escaped value (nil renders the bare name, as `hidden`).
    public struct Attribute: Sendable {
        let name: StaticString
        let value: String?

        public init(_ name: StaticString, _ value: String?) {
            self.name = name
            self.value = value
        }

        public static func `class`(_ value: String) -> Attribute { Attribute("class", value) }
        public static func id(_ value: String) -> Attribute { Attribute("id", value) }
        /// A link inside the console (built by `ConsolePath`, percent-encoded).
        public static func href(_ path: ConsolePath) -> Attribute { Attribute("href", path.text) }
        public static func name(_ value: String) -> Attribute { Attribute("name", value) }
        public static func value(_ value: String) -> Attribute { Attribute("value", value) }
        public static func type(_ value: StaticString) -> Attribute { Attribute("type", value.description) }
        public static func flag(_ name: StaticString) -> Attribute { Attribute(name, nil) }
    }

    /// An element with attributes and children.
    public static func tag(_ name: StaticString, _ attributes: [Attribute], _ children: [HTML] = []) -> HTML {
        HTML(node: .element(tag: name, attributes: attributes, children: children))
    }

    /// An element without attributes.
    public static func tag(_ name: StaticString, _ children: [HTML]) -> HTML {
        HTML(node: .element(tag: name, attributes: [], children: children))
    }

    /// An element holding one text node.
    public static func tag(_ name: StaticString, _ attributes: [Attribute] = [], text: String) -> HTML {
        HTML(node: .element(tag: name, attributes: attributes, children: [.text(text)]))
    }

    /// Text, escaped when rendered.
    public static func text(_ s: String) -> HTML { HTML(node: .text(s)) }

    /// Markup written in the source code (a literal), rendered as is.
    public static func trusted(_ s: StaticString) -> HTML { HTML(node: .trusted(s)) }

    /// Several pieces side by side.
    public static func group(_ items: [HTML]) -> HTML { HTML(node: .fragment(items)) }

    public static let empty = HTML(node: .fragment([]))

    /// Elements that have no closing tag.
    static let voidElements: Set<String> = ["br", "hr", "img", "input", "link", "meta"]

    /// The page (or fragment) as text.
    public func render() -> String {
        var out = ""
        out.reserveCapacity(4096)
        write(to: &out)
        return out
    }

    /// A whole document: `<!DOCTYPE html>` then this element.
    public func renderDocument() -> String { "<!DOCTYPE html>\n" + render() }

    func write(to out: inout String) {
        switch node {
        case .text(let s):
            Self.escape(s, into: &out)
        case .trusted(let s):
            out += s.description
        case .fragment(let items):
            for i in items { i.write(to: &out) }
        case .element(let tag, let attributes, let children):
            let name = tag.description
            out += "<"
            out += name
            for a in attributes {
                out += " "
                out += a.name.description
                if let v = a.value {
                    out += "=\""
                    Self.escape(v, into: &out)
                    out += "\""
                }
            }
            out += ">"
            guard !Self.voidElements.contains(name) else { return }
            for c in children { c.write(to: &out) }
            out += "</"
            out += name
            out += ">"
        }
    }

    /// The one escaping function of the console: `&`, `<`, `>`, `"` and `'` become character
    /// references, so a value can neither open a tag nor leave a quoted attribute.
    public static func escape(_ s: String) -> String {
        var out = ""
        escape(s, into: &out)
        return out
    }

    static func escape(_ s: String, into out: inout String) {
        guard s.utf8.contains(where: { $0 == 0x26 || $0 == 0x3C || $0 == 0x3E || $0 == 0x22 || $0 == 0x27 }) else {
            out += s
            return
        }
        for ch in s.unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(ch)
            }
        }
    }
}

/// A link target inside the console: a fixed path and query values, percent-encoded here so
/// a value from the ledger can never turn a link into another scheme or path.
public struct ConsolePath: Sendable, Hashable {
    public var path: String
    public var query: [(String, String)]

    /// `segments` are literal path parts (`"console", "leads"`) followed by values that are
    /// percent-encoded (a network id, a row id).
    public init(_ segments: [String], query: [(String, String)] = []) {
        path = "/" + segments.map(PercentEncoding.rfc3986).joined(separator: "/")
        self.query = query
    }

    public var text: String {
        let q = query.filter { !$0.1.isEmpty }
        guard !q.isEmpty else { return path }
        return path + "?" + q.map { PercentEncoding.rfc3986($0.0) + "=" + PercentEncoding.rfc3986($0.1) }.joined(separator: "&")
    }

    /// The same path with one query value set (or replaced).
    public func with(_ key: String, _ value: String) -> ConsolePath {
        var p = self
        p.query.removeAll { $0.0 == key }
        p.query.append((key, value))
        return p
    }

    public static func == (a: ConsolePath, b: ConsolePath) -> Bool { a.text == b.text }
    public func hash(into h: inout Hasher) { h.combine(text) }
}
