/// A network's downloaded lead report read into status reports, before anything is applied:
/// which lead (our id or theirs), the raw word and its bucket (report words, then the spec's,
/// then the common vocabulary), payout, currency, comment — and what could not be read.
public struct ReportPlan: Sendable {
    /// One row that names a lead and a status.
    public struct Entry: Sendable, Hashable {
        public var line: Int
        public var orderId: String?
        public var externalId: String?
        public var raw: String
        /// nil: a word no table knows (reported, never guessed).
        public var status: Bucket?
        public var detail: String?
        public var payout: String?
        public var currency: String?
        public var comment: String?
    }

    /// A row left out (or a cell not understood), and why.
    public struct Skipped: Sendable, Hashable {
        public enum Reason: Sendable, Hashable {
            case noId, noStatus
            /// The payout cell is not an amount (the row's status is still applied).
            case payout(String)

            public func text(_ l: Language) -> String {
                switch (self, l) {
                case (.noId, .ru): return "нет ни нашего id, ни id сети"
                case (.noId, .en): return "no order id and no lead id"
                case (.noStatus, .ru): return "нет статуса"
                case (.noStatus, .en): return "no status"
                case (.payout(let p), .ru): return "выплата «\(p)» — не сумма (статус применён)"
                case (.payout(let p), .en): return "payout \"\(p)\" is not an amount (the status is applied)"
                }
            }
        }
        public var line: Int
        public var reason: Reason
    }

    public var encoding: ReportEncoding
    public var delimiter: String
    public var columns: ReportColumns
    public var headerLine: Int
    public var entries: [Entry]
    public var skipped: [Skipped]

    /// Unknown status words with how many rows carry each.
    public var unknownWords: [(word: String, rows: Int)] {
        var tally: [String: Int] = [:]
        for e in entries where e.status == nil { tally[e.raw, default: 0] += 1 }
        return tally.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { ($0.key, $0.value) }
    }
}

/// The `report` block of a spec: the network's column names and its report's own words.
public struct ReportSpec: Sendable, Hashable {
    /// Role → header names, tried in order.
    public var columns: [ReportRole: [String]]
    /// Words the report shows (often Russian labels) → buckets, tried before the spec's words.
    public var statuses: StatusTable
}

public enum ReportImport {
    /// Reads the decoded text of a report. `map` (from `--map`) wins over the spec's `report`
    /// columns, which win over detection.
    public static func plan(text: String, encoding: ReportEncoding, spec: NetworkSpec, defaults: StatusDefaults,
                            map: [ReportRole: String] = [:]) throws(ReportError) -> ReportPlan {
        let bytes = Array(text.utf8)
        let delimiter = CSVReader.sniffDelimiter(bytes)
        let records = CSVReader.records(bytes, delimiter: delimiter)
        guard !records.isEmpty else { throw ReportError(.noRows) }
        var given: [ReportRole: [String]] = spec.report?.columns ?? [:]
        for (role, name) in map { given[role] = [name] }
        // The header is the first of the first rows whose columns can be read (a report may
        // start with a title line).
        var columns: ReportColumns?
        var headerAt = 0
        var firstError: ReportError?
        for (i, r) in records.prefix(10).enumerated() {
            do {
                let c = try ReportColumns.detect(header: r.fields.map(\.trimmingWhitespace), given: given)
                if c.isUsable { columns = c; headerAt = i; break }
            } catch {
                if firstError == nil { firstError = error }
            }
        }
        guard let columns else {
            if let firstError, !map.isEmpty { throw firstError }
            let partial = (try? ReportColumns.detect(header: records[0].fields.map(\.trimmingWhitespace), given: [:])) ?? ReportColumns(index: [:], header: [])
            throw ReportError(.cannotTell(statusMissing: partial.index[.status] == nil, header: records[0].fields.map(\.trimmingWhitespace)))
        }
        let tables = [spec.report?.statuses ?? StatusTable(), spec.statuses] + (spec.statusDefaults ? [defaults.statuses] : [])
        var entries: [ReportPlan.Entry] = []
        var skipped: [ReportPlan.Skipped] = []
        var seen: [String: StatusBucket?] = [:]
        entries.reserveCapacity(records.count)
        func cell(_ r: CSVReader.Record, _ role: ReportRole) -> String? {
            guard let i = columns.index[role], i < r.fields.count else { return nil }
            let v = r.fields[i].trimmingWhitespace
            return v.isEmpty ? nil : v
        }
        for r in records.dropFirst(headerAt + 1) {
            let order = cell(r, .order), external = cell(r, .external)
            guard order != nil || external != nil else {
                skipped.append(.init(line: r.line, reason: .noId))
                continue
            }
            guard let raw = cell(r, .status) else {
                skipped.append(.init(line: r.line, reason: .noStatus))
                continue
            }
            var e = ReportPlan.Entry(line: r.line, orderId: order, externalId: external, raw: raw)
            // A report repeats a handful of words: each is looked up once.
            let found: StatusBucket?
            if let known = seen[raw] { found = known } else {
                found = tables.lazy.compactMap({ $0.lookup(raw) }).first
                seen[raw] = .some(found)
            }
            if let b = found {
                e.status = b.bucket
                e.detail = b.detail
            }
            if let p = cell(r, .payout) {
                let (amount, unit) = splitAmount(p)
                if let amount { e.payout = amount } else { skipped.append(.init(line: r.line, reason: .payout(String(p.prefix(30))))) }
                e.currency = unit
            }
            if let c = cell(r, .currency), c.count == 3, c.allSatisfy({ $0.isASCII && $0.isLetter }) { e.currency = c.uppercased() }
            e.comment = cell(r, .comment).map { String($0.prefix(2000)) }
            entries.append(e)
        }
        return ReportPlan(encoding: encoding, delimiter: delimiter == UInt8(ascii: "\t") ? "tab" : String(UnicodeScalar(delimiter)),
                          columns: columns, headerLine: records[headerAt].line, entries: entries, skipped: skipped)
    }

    /// `1 234,50 ₽`, `12.5 USD`, `$7` → the amount as a plain decimal and a 3-letter currency
    /// when one is written; nil amount when it is not a number.
    static func splitAmount(_ text: String) -> (String?, String?) {
        // The usual cell is a bare number: no currency to look for.
        let plain = text.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2C || $0 == 0x2E || $0 == 0x2D }
        var unit: String?
        if !plain {
            let letters = String(text.filter { $0.isASCII && $0.isLetter }).uppercased()
            if letters.count == 3 { unit = letters }
            if text.contains("₽") || text.lowercased().contains("руб") { unit = "RUB" }
            if text.contains("$") { unit = unit ?? "USD" }
            if text.contains("€") { unit = unit ?? "EUR" }
        }
        var digits = plain ? text : String(text.filter { $0.isASCIIDigit || $0 == "," || $0 == "." || $0 == "-" })
        // `1,234.50` → `1234.50`; `1 234,50` → `1234,50`
        if digits.contains(",") && digits.contains(".") { digits = digits.replacingAll(",", with: "") }
        guard !digits.isEmpty, let amount = try? PostbackNormalizer.payout(digits) else { return (nil, unit) }
        return (amount, unit)
    }
}
