import LeadBridgeCore
import LeadBridgeStore

/// The console's words in the page's language: `w("Сети", "Networks")`.
struct Words: Sendable {
    let language: Language
    func callAsFunction(_ ru: String, _ en: String) -> String { language == .ru ? ru : en }
}

/// A word of the ledger's vocabulary a page shows (a send state, a status bucket, an attempt's
/// outcome and receipt, a journal entry's kind and source, a postback's result, an outgoing
/// postback's or a sync pass's state): the command line's catalog words it in the page's
/// language; without one, the stable English word (`rawValue`, what `--json` and the ledger keep).
public enum ConsoleTerm: Sendable, Hashable {
    case state(SendState)
    case bucket(Bucket)
    case outcome(OutcomeKind)
    case receipt(Receipt)
    case journalKind(JournalKind)
    case source(EventSource)
    case postback(PostbackResult)
    case outgoing(OutgoingState)
    case syncOutcome(SyncOutcome)

    /// The stable English word.
    public var stable: String {
        switch self {
        case .state(let s): s.rawValue
        case .bucket(let b): b.rawValue
        case .outcome(let o): o.rawValue
        case .receipt(let r): r.rawValue
        case .journalKind(let k): k.rawValue
        case .source(let s): s.rawValue
        case .postback(let r): r.rawValue
        case .outgoing(let s): s.rawValue
        case .syncOutcome(let o): o.rawValue
        }
    }
}

/// The command line's catalog as the console takes it: how each value of ours reads in a
/// language. Without the command line's (tests, a library user), the stable forms: a reason's
/// code and values, the English of a problem or a failure, the ledger's own words.
public struct ConsoleCatalog: Sendable {
    public var reasons: @Sendable (LifecycleReason, Language) -> String
    public var problems: @Sendable (SyncProblem, Language) -> String
    public var failures: @Sendable (SendFailure, Language) -> String
    public var terms: @Sendable (ConsoleTerm, Language) -> String
    public var stores: @Sendable (StoreProblem, Language) -> String

    public init(reasons: @escaping @Sendable (LifecycleReason, Language) -> String = { r, _ in ([r.code] + r.arguments).joined(separator: " ") },
                problems: @escaping @Sendable (SyncProblem, Language) -> String = { p, _ in p.english },
                failures: @escaping @Sendable (SendFailure, Language) -> String = { f, _ in f.english },
                terms: @escaping @Sendable (ConsoleTerm, Language) -> String = { t, _ in t.stable },
                stores: @escaping @Sendable (StoreProblem, Language) -> String = { p, _ in p.english }) {
        self.reasons = reasons
        self.problems = problems
        self.failures = failures
        self.terms = terms
        self.stores = stores
    }

    public static let stable = ConsoleCatalog()
}

/// The console's sections, in the order of the menu.
enum ConsoleSection: String, Sendable, CaseIterable {
    case networks, leads, funnel, postbacks, health

    func title(_ w: Words) -> String {
        switch self {
        case .networks: w("Сети", "Networks")
        case .leads: w("Лиды", "Leads")
        case .funnel: w("Воронка", "Funnel")
        case .postbacks: w("Постбеки", "Postbacks")
        case .health: w("Состояние", "Health")
        }
    }
}

/// What every page needs besides its content: the language, where it is (for the language
/// switch) and the logout form's CSRF token.
struct PageContext: Sendable {
    var language: Language
    var path: ConsolePath
    var logoutToken: String?
    var now: Int64
    /// How our values read (the CLI passes its catalog).
    var catalog: ConsoleCatalog = .stable

    var reasons: @Sendable (LifecycleReason, Language) -> String { catalog.reasons }
    var problems: @Sendable (SyncProblem, Language) -> String { catalog.problems }
    var failures: @Sendable (SendFailure, Language) -> String { catalog.failures }

    /// A word of the ledger's vocabulary as this page says it.
    func term(_ t: ConsoleTerm) -> String { catalog.terms(t, language) }

    var words: Words { Words(language: language) }

    /// A journal note as it reads on this page: the lifecycle's reason worded, other text as it is.
    func note(reason: LifecycleReason?, failure: SendFailure? = nil, text: String?) -> String? {
        reason.map { reasons($0, language) } ?? failure.map { failures($0, language) } ?? text
    }

    /// A column kept in the note's stored form (a lead's last error), as it reads on this page.
    func storedNote(_ stored: String?) -> String? {
        let (reason, failure, text) = StoredNote.decode(stored)
        return note(reason: reason, failure: failure, text: text)
    }

    /// A time as people read it in the console (UTC).
    func time(_ t: Int64?) -> String { t.map { ISODate.format($0, pattern: "yyyy-MM-dd HH:mm:ss") } ?? "—" }
}

/// The frame around every page: head, menu, language switch, logout.
enum Layout {
    static func document(_ ctx: PageContext, title: String, section: ConsoleSection?, copyButtons: Bool = false, _ content: [HTML]) -> String {
        let w = ctx.words
        var menu: [HTML] = [.tag("a", [.class("brand"), .href(ConsolePath(["console"]))], text: "LeadBridge")]
        for s in ConsoleSection.allCases {
            menu.append(.tag("a", [.href(ConsolePath(["console", s.rawValue])), .class(s == section ? "active" : "")], text: s.title(w)))
        }
        menu.append(.tag("span", [.class("spacer")]))
        let other: Language = ctx.language == .ru ? .en : .ru
        menu.append(.tag("a", [.href(ctx.path.with("lang", other.rawValue)), .init("lang", other.rawValue)], text: other == .en ? "English" : "Русский"))
        if let token = ctx.logoutToken {
            menu.append(.tag("form", [.init("method", "post"), .init("action", "/console/logout")], [
                .tag("input", [.type("hidden"), .name("csrf"), .value(token)]),
                .tag("button", [.type("submit"), .class("link")], text: w("Выйти", "Log out")),
            ]))
        }
        var body: [HTML] = [.tag("header", [.tag("nav", menu)]), .tag("main", [.tag("h1", text: title)] + content)]
        if copyButtons { body.append(.tag("script", [.trusted(ConsoleAssets.copyScript)])) }
        return HTML.tag("html", [.init("lang", ctx.language.rawValue)], [
            .tag("head", [
                .tag("meta", [.init("charset", "utf-8")]),
                .tag("meta", [.name("viewport"), .init("content", "width=device-width, initial-scale=1")]),
                .tag("title", text: title + " — LeadBridge"),
                .tag("link", [.init("rel", "stylesheet"), .init("href", "/console/style.css")]),
            ]),
            .tag("body", body),
        ]).renderDocument()
    }

    // MARK: building blocks

    /// A table: header cells, then rows of cells (each already an `HTML` piece).
    static func table(_ headers: [String], numeric: Set<Int> = [], _ rows: [[HTML]], rowClass: (Int) -> String? = { _ in nil }) -> HTML {
        let head = HTML.tag("tr", headers.enumerated().map { i, h in .tag("th", numeric.contains(i) ? [.class("num")] : [], text: h) })
        let body = rows.enumerated().map { r, cells in
            HTML.tag("tr", rowClass(r).map { [.class($0)] } ?? [], cells.enumerated().map { i, c in .tag("td", numeric.contains(i) ? [.class("num")] : [], [c]) })
        }
        return .tag("div", [.class("scroll")], [.tag("table", [.tag("thead", [head]), .tag("tbody", body)])])
    }

    /// Label/value pairs.
    static func facts(_ pairs: [(String, HTML)]) -> HTML {
        .tag("dl", [.class("facts")], pairs.flatMap { [HTML.tag("dt", text: $0.0), .tag("dd", [$0.1])] })
    }

    static func empty(_ text: String) -> HTML { .tag("p", [.class("note")], text: text) }

    /// A field with a copy button: the text is in a read-only input (selectable with
    /// JavaScript off); the button appears only when the copy script runs.
    static func copyField(id: String, value: String, _ w: Words) -> HTML {
        .tag("div", [.class("copyrow")], [
            .tag("input", [.id(id), .type("text"), .init("readonly", nil), .value(value), .init("aria-label", w("ссылка", "URL"))]),
            .tag("button", [.type("button"), .init("data-copy", id), .init("data-done", w("Скопировано", "Copied")), .init("hidden", nil)], text: w("Копировать", "Copy")),
        ])
    }

    static func link(_ text: String, _ path: ConsolePath) -> HTML { .tag("a", [.href(path)], text: text) }

    static func code(_ text: String) -> HTML { .tag("code", text: text) }

    /// A select with "any" first; `selected` marks the chosen value.
    static func select(_ name: StaticString, label: String, any: String, options: [(value: String, text: String)], selected: String?) -> HTML {
        var items: [HTML] = [.tag("option", [.value("")], text: any)]
        for o in options {
            var attrs: [HTML.Attribute] = [.value(o.value)]
            if o.value == selected { attrs.append(.flag("selected")) }
            items.append(.tag("option", attrs, text: o.text))
        }
        return .tag("label", [.text(label), .tag("select", [.init("name", name.description)], items)])
    }

    static func input(_ name: StaticString, label: String, value: String?, type: StaticString = "text", placeholder: String? = nil) -> HTML {
        var attrs: [HTML.Attribute] = [.type(type), .init("name", name.description), .value(value ?? "")]
        if let placeholder { attrs.append(.init("placeholder", placeholder)) }
        return .tag("label", [.text(label), .tag("input", attrs)])
    }
}
