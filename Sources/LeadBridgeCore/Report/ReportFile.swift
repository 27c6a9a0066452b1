/// The character encoding of a downloaded lead report, told from its bytes so `import` needs
/// no flag: a byte-order mark, valid UTF-8, UTF-16 without a mark, or else Windows-1251 (what
/// Russian cabinets and Excel write). Decoding itself happens at the edge (Foundation).
public enum ReportEncoding: String, Sendable, Hashable, CaseIterable {
    case utf8 = "utf-8"
    case utf8BOM = "utf-8 (bom)"
    case utf16LE = "utf-16le"
    case utf16BE = "utf-16be"
    case windows1251 = "windows-1251"

    /// Bytes to skip before the text (the byte-order mark).
    public var markLength: Int {
        switch self {
        case .utf8BOM: return 3
        case .utf16LE, .utf16BE: return 2
        default: return 0
        }
    }
}

/// Why a report file cannot be read; each names what to do instead. Worded by the edges in
/// the user's language; `message` is the stable English.
public struct ReportError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Problem: Sendable, Hashable {
        case empty
        case xlsx
        case xls
        case noRows
        /// A `--map` item that is not ROLE=COLUMN.
        case mapPair(String)
        case mapUnknownRole(String, suggestion: String?, roles: [String])
        /// Named columns (by `--map` or the spec) that are not in the header.
        case noColumn(names: [String], role: String, header: [String])
        /// Neither named nor detected: the status column (or else the id column) is missing.
        case cannotTell(statusMissing: Bool, header: [String])
    }

    public var problem: Problem
    public init(_ problem: Problem) { self.problem = problem }
    public var description: String { message }

    public var message: String {
        func quoted(_ a: [String]) -> String { a.map { "\"\($0)\"" }.joined(separator: ", ") }
        switch problem {
        case .empty: return "the file is empty"
        case .xlsx: return "this is an Excel workbook (XLSX), which import does not read: open it and save it as CSV (File → Save as → CSV UTF-8), then import the CSV"
        case .xls: return "this is an old Excel workbook (XLS), which import does not read: open it and save it as CSV, then import the CSV"
        case .noRows: return "the file has no rows"
        case .mapPair(let part): return "--map takes ROLE=COLUMN pairs such as status=Статус, found \"\(part)\""
        case .mapUnknownRole(let r, let s, let roles):
            return "--map: unknown role \"\(r)\"" + (s.map { " (did you mean \"\($0)\"?)" } ?? "") + " (one of " + roles.joined(separator: ", ") + ")"
        case .noColumn(let names, let role, let header):
            return "no column \(names.map { "\"\($0)\"" }.joined(separator: " or ")) for \(role); the columns are: " + quoted(header)
        case .cannotTell(let statusMissing, let header):
            return "cannot tell which column holds \(statusMissing ? "the status" : "our order id or the network's lead id") (columns: \(quoted(header))); name it with --map, e.g. --map status=Статус,order=sub1"
        }
    }
}

/// What kind of file the bytes are, before any parsing.
public enum ReportFile {
    /// The encoding of a text report, or an error for spreadsheets and empty files.
    public static func encoding(of bytes: [UInt8]) throws(ReportError) -> ReportEncoding {
        if bytes.isEmpty { throw ReportError(.empty) }
        if bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]) {
            throw ReportError(.xlsx)
        }
        if bytes.starts(with: [0xD0, 0xCF, 0x11, 0xE0]) {
            throw ReportError(.xls)
        }
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { return .utf8BOM }
        if bytes.starts(with: [0xFF, 0xFE]) { return .utf16LE }
        if bytes.starts(with: [0xFE, 0xFF]) { return .utf16BE }
        // UTF-16 without a mark: every other byte of ASCII text is zero.
        let head = bytes.prefix(512)
        if head.count >= 4 {
            let evenZeros = stride(from: 0, to: head.count - 1, by: 2).filter { head[head.startIndex + $0] == 0 }.count
            let oddZeros = stride(from: 1, to: head.count, by: 2).filter { head[head.startIndex + $0] == 0 }.count
            let pairs = head.count / 2
            if oddZeros * 10 >= pairs * 7 && evenZeros * 10 < pairs { return .utf16LE }
            if evenZeros * 10 >= pairs * 7 && oddZeros * 10 < pairs { return .utf16BE }
        }
        if String(validating: bytes, as: UTF8.self) != nil { return .utf8 }
        return .windows1251
    }
}

/// RFC 4180 text tables with any of the usual delimiters (`;` from Russian Excel, `,`, tab,
/// `|`), quoted fields with doubled quotes and line breaks inside, and CRLF, LF or CR line
/// ends. Works on UTF-8 bytes: the structure is ASCII, so fields are sliced without decoding
/// characters one by one.
public enum CSVReader {
    public static let delimiters: [UInt8] = [UInt8(ascii: ";"), UInt8(ascii: ","), UInt8(ascii: "\t"), UInt8(ascii: "|")]

    /// One record with the line it starts on (1-based).
    public struct Record: Sendable, Hashable {
        public var line: Int
        public var fields: [String]
    }

    /// The delimiter whose count per record is the most consistent over the first records
    /// (and at least one); `;` wins ties, as in Russian exports.
    public static func sniffDelimiter(_ text: [UInt8]) -> UInt8 {
        var best = delimiters[0]
        var bestScore = -1
        for d in delimiters {
            let counts = records(text, delimiter: d, limit: 30).map { $0.fields.count - 1 }.filter { $0 > 0 }
            guard let common = mostCommon(counts) else { continue }
            let agreeing = counts.filter { $0 == common.value }.count
            let score = agreeing * 1000 + common.value
            if score > bestScore { best = d; bestScore = score }
        }
        return best
    }

    static func mostCommon(_ xs: [Int]) -> (value: Int, count: Int)? {
        var tally: [Int: Int] = [:]
        for x in xs { tally[x, default: 0] += 1 }
        return tally.max { ($0.value, $0.key) < ($1.value, $1.key) }.map { ($0.key, $0.value) }
    }

    /// Parses records (at most `limit`); empty lines are skipped.
    public static func records(_ text: [UInt8], delimiter: UInt8, limit: Int = .max) -> [Record] {
        let quote = UInt8(ascii: "\""), cr = UInt8(ascii: "\r"), lf = UInt8(ascii: "\n")
        var out: [Record] = []
        var fields: [String] = []
        var field: [UInt8] = []
        var i = 0
        var line = 1
        var recordLine = 1
        var quoted = false
        var fieldStarted = false
        let n = text.count
        func endField() {
            fields.append(String(decoding: field, as: UTF8.self))
            field.removeAll(keepingCapacity: true)
            fieldStarted = false
        }
        func endRecord() {
            endField()
            if !(fields.count == 1 && fields[0].isEmpty) { out.append(Record(line: recordLine, fields: fields)) }
            fields.removeAll(keepingCapacity: true)
        }
        while i < n && out.count < limit {
            let b = text[i]
            if quoted {
                if b == quote {
                    if i + 1 < n && text[i + 1] == quote { field.append(quote); i += 2; continue }
                    quoted = false
                } else {
                    if b == lf || (b == cr && !(i + 1 < n && text[i + 1] == lf)) { line += 1 }
                    field.append(b)
                }
                i += 1
                continue
            }
            if b == quote && !fieldStarted {
                quoted = true
                fieldStarted = true
            } else if b == delimiter {
                endField()
            } else if b == cr || b == lf {
                if b == cr && i + 1 < n && text[i + 1] == lf { i += 1 }
                endRecord()
                line += 1
                recordLine = line
            } else {
                field.append(b)
                if b != UInt8(ascii: " ") { fieldStarted = true }
            }
            i += 1
        }
        if out.count < limit && (!field.isEmpty || !fields.isEmpty) { endRecord() }
        return out
    }
}
