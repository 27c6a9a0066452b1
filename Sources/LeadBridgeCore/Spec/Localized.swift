/// The languages LeadBridge prints in. Russian is the default (the catalog document is Russian).
public enum Language: String, Sendable, CaseIterable {
    case ru, en
}

/// A text in Russian and English, as every printed word of a spec is.
public struct Localized: Sendable, Hashable {
    public var ru: String
    public var en: String?

    public init(ru: String, en: String? = nil) { self.ru = ru; self.en = en }

    /// The text in `language`; English falls back to Russian when a spec has none.
    public func text(_ language: Language) -> String {
        switch language {
        case .ru: return ru
        case .en: return en ?? ru
        }
    }

    public var json: JSONValue {
        var o = JSONObject()
        o["ru"] = .string(ru)
        if let en { o["en"] = .string(en) }
        return .object(o)
    }
}
