/// What a column of a lead report holds.
public enum ReportRole: String, Sendable, Hashable, CaseIterable {
    /// Our order id (the network echoes it in a sub id: `sub1`, `subid`, `clickid`).
    case order
    /// The network's id of the lead (`ID лида`, `id`, `uuid`).
    case external
    case status, payout, currency, comment

    /// Usual header words, normalized (lower case, letters and digits only), in the order they
    /// are tried. Exact matches first; `contains` words match inside longer headers.
    var exact: [String] {
        switch self {
        case .order:
            return ["sub1", "subid1", "subid", "sub", "sid1", "affsub", "affsub1", "clickid", "click", "data1", "s1", "utmcontent",
                    "externalid", "extid", "вашid", "нашid", "саб1", "сабайди", "субайди", "субid", "метка", "sub1id"]
        case .external:
            return ["idлида", "idзаказа", "idзаявки", "leadid", "orderid", "id", "uuid", "uid", "номерлида", "номерзаказа", "номерзаявки",
                    "номер", "лид", "заказ", "lead", "order", "conversionid", "actionid"]
        case .status:
            return ["статус", "status", "state", "stage", "статуслида", "статусзаказа", "статусзаявки", "leadstatus", "orderstatus"]
        case .payout:
            return ["выплата", "payout", "вознаграждение", "сумма", "суммавыплаты", "revenue", "profit", "доход", "payment", "money",
                    "начислено", "ставка", "reward", "commission", "комиссия", "заработок"]
        case .currency:
            return ["валюта", "currency", "cur"]
        case .comment:
            return ["комментарий", "comment", "примечание", "причина", "reason", "note", "notes", "комментарийоператора"]
        }
    }

    var contains: [String] {
        switch self {
        case .order: return ["sub1", "subid1", "clickid"]
        case .external: return ["idлида", "idзаказа", "leadid", "orderid"]
        case .status: return ["статус", "status"]
        case .payout: return ["выплат", "payout", "вознагражд", "revenue"]
        case .currency: return ["валют", "currency"]
        case .comment: return ["коммент", "comment"]
        }
    }

    /// A header cell reduced to what the word lists hold.
    static func normalize(_ header: String) -> String {
        String(header.lowercased().filter { $0.isLetter || $0.isNumber })
    }
}

/// Which column holds what: from `--map`, the spec's `report` block, then the usual header
/// words in Russian and English.
public struct ReportColumns: Sendable, Hashable {
    public var index: [ReportRole: Int]
    public var header: [String]

    public func name(_ role: ReportRole) -> String? { index[role].map { header[$0] } }

    /// `--map status=Статус,order=sub1` (or repeated): role → header name.
    public static func parseMap(_ items: [String]) throws(ReportError) -> [ReportRole: String] {
        var out: [ReportRole: String] = [:]
        for item in items {
            for part in item.split(separator: ",") {
                let kv = part.split(separator: "=", maxSplits: 1).map { String($0).trimmingWhitespace }
                guard kv.count == 2, !kv[1].isEmpty else { throw ReportError(.mapPair(String(part))) }
                guard let role = ReportRole(rawValue: kv[0].lowercased()) else {
                    let roles = ReportRole.allCases.map(\.rawValue)
                    throw ReportError(.mapUnknownRole(kv[0], suggestion: Suggestions.closest(to: kv[0].lowercased(), among: roles, limit: 1).first, roles: roles))
                }
                out[role] = kv[1]
            }
        }
        return out
    }

    /// Finds the columns in a header row. `given` (from `--map`, then the spec) names columns
    /// exactly (case-insensitive); the rest are detected. Throws when the map names a column
    /// that is not there.
    public static func detect(header: [String], given: [ReportRole: [String]]) throws(ReportError) -> ReportColumns {
        var index: [ReportRole: Int] = [:]
        var taken = Set<Int>()
        let normalized = header.map(ReportRole.normalize)
        for role in ReportRole.allCases {
            guard let names = given[role], !names.isEmpty else { continue }
            guard let i = names.lazy.compactMap({ n in header.firstIndex { $0.trimmingWhitespace.lowercased() == n.trimmingWhitespace.lowercased() } }).first
                    ?? names.lazy.compactMap({ n in normalized.firstIndex(of: ReportRole.normalize(n)) }).first else {
                throw ReportError(.noColumn(names: names, role: role.rawValue, header: header))
            }
            index[role] = i
            taken.insert(i)
        }
        for role in ReportRole.allCases where index[role] == nil {
            let exact = role.exact.lazy.compactMap { w in normalized.indices.first { normalized[$0] == w && !taken.contains($0) } }.first
            let loose = exact ?? role.contains.lazy.compactMap { w in normalized.indices.first { normalized[$0].contains(w) && !taken.contains($0) } }.first
            if let i = loose {
                index[role] = i
                taken.insert(i)
            }
        }
        return ReportColumns(index: index, header: header)
    }

    /// Enough to apply statuses: a status and an id of either side.
    public var isUsable: Bool { index[.status] != nil && (index[.order] != nil || index[.external] != nil) }
}
