/// A starter spec for `leadbridge new`: one of the shipped drafts in `Templates/starters/`
/// with the new network's id, name and host put in. The drafts are complete specs (with
/// examples) written for the placeholder network `new-network` at `api.new-network.test`, so
/// the text substitution below is all a new spec needs to lint clean and pass its examples.
public enum StarterSpec {
    /// The shape of the network's API a draft starts from.
    public enum Style: String, Sendable, CaseIterable {
        /// POST form fields, bearer token; statuses by postback.
        case form
        /// POST JSON body, key in a header, errors as HTTP statuses; statuses by postback.
        case json
        /// GET with every field in the query string; statuses by postback.
        case query
        /// POST form; statuses by reading pages of the network's lead list.
        case listPoll = "list-poll"
        /// POST JSON; statuses asked for a batch of ids, answered as an object keyed by id.
        case keyedPoll = "keyed-poll"

        public var summary: Localized {
            switch self {
            case .form: return Localized(ru: "POST-форма, токен Bearer, статусы постбеками", en: "POST form, bearer token, statuses by postback")
            case .json: return Localized(ru: "POST JSON, ключ в заголовке, статусы постбеками", en: "POST JSON, key in a header, statuses by postback")
            case .query: return Localized(ru: "GET со всеми полями в строке запроса, статусы постбеками", en: "GET with every field in the query string, statuses by postback")
            case .listPoll: return Localized(ru: "POST-форма, статусы из постраничного списка лидов", en: "POST form, statuses from a paged list of leads")
            case .keyedPoll: return Localized(ru: "POST JSON, статусы пачкой id в пути URL, ответ — объект по id", en: "POST JSON, statuses for a batch of ids in the URL path, answered keyed by id")
            }
        }
    }

    public static let placeholderId = "new-network"
    public static let placeholderName = "New Network"
    public static let placeholderHost = "api.new-network.test"
    public static let placeholderSchema = "../network.schema.json"

    /// Ids a spec may have: what file names and lookups accept.
    public static func isValidId(_ id: String) -> Bool { id.count <= InputLimits.id && SpecReader.isValidId(id) }

    /// The default name of a network: its id with a capital letter (`acme-leads` → `Acme-leads`).
    public static func defaultName(_ id: String) -> String { id.prefix(1).uppercased() + id.dropFirst() }

    /// The draft with the new values in. `host` defaults to `api.<id>.test`; `schema` is where
    /// the written file finds `network.schema.json` (editors autocomplete with it).
    public static func render(_ draft: String, id: String, name: String, host: String? = nil, schema: String) -> String {
        var text = draft
        text = text.replacingAll(JSONWriter.quote(placeholderSchema), with: JSONWriter.quote(schema))
        if let host { text = text.replacingAll(placeholderHost, with: host) }
        text = text.replacingAll(JSONWriter.quote(placeholderName), with: JSONWriter.quote(name))
        return text.replacingAll(placeholderId, with: id)
    }
}
