/// A lead file as the user hands it over: one lead, a JSON array of leads, or NDJSON (a lead
/// per line). Each lead is read on its own, so a bad one is reported where it stands (its
/// line or its position in the array) and every good one is kept.
public struct LeadBatch: Sendable {
    /// How the file holds its leads.
    public enum Shape: Sendable, Hashable { case single, array, lines }

    /// Where a lead stands in the file, for its problems.
    public enum Place: Sendable, Hashable {
        /// The whole file (one lead, or a file that is not JSON at all).
        case file
        /// 1-based position in a JSON array.
        case index(Int)
        /// 1-based line of an NDJSON file.
        case line(Int)
    }

    /// Why one lead of the file was left out.
    public enum Problem: Error, Sendable, Hashable {
        /// Not JSON: the parser's message and where (for NDJSON the column is the line's).
        case syntax(SourcePosition, JSONSyntaxProblem)
        case tooLarge(size: Int, limit: Int)
        case invalid([LeadError])
        /// The same lead id earlier in the file: the second is left out, not sent twice.
        case repeated(id: String, first: Place)
        /// Refused by a check made after reading (the message, already worded in both languages:
        /// `--json` shows the English).
        case refused(Localized)
    }

    /// One lead of the file, read or refused.
    public struct Item: Sendable {
        public var place: Place
        public var result: Result<Lead, Problem>
    }

    public var shape: Shape
    public var items: [Item]

    public var leads: [(place: Place, lead: Lead)] {
        items.compactMap { i in if case .success(let l) = i.result { return (i.place, l) } else { return nil } }
    }

    public var problems: [(place: Place, problem: Problem)] {
        items.compactMap { i in if case .failure(let p) = i.result { return (i.place, p) } else { return nil } }
    }

    /// Reads the bytes of a lead file. Never throws: a file that is not JSON is one problem at `.file`.
    public static func read(_ bytes: [UInt8]) -> LeadBatch {
        var start = 0
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { start = 3 }
        while start < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[start]) { start += 1 }
        let body = Array(bytes[start...])
        if body.first == UInt8(ascii: "[") { return array(body) }
        if body.first == UInt8(ascii: "{"), let lines = ndjson(body) { return lines }
        return LeadBatch(shape: .single, items: [item(body, at: .file)])
    }

    /// A JSON array: parsed whole (a syntax error anywhere is the file's), each element read alone.
    static func array(_ bytes: [UInt8]) -> LeadBatch {
        let value: JSONValue
        do { value = try JSONParser.parse(bytes, maxString: InputLimits.leadBytes) } catch {
            return LeadBatch(shape: .array, items: [Item(place: .file, result: .failure(.syntax(error.position, error.problem)))])
        }
        var items: [Item] = []
        for (i, element) in (value.arrayValue ?? []).enumerated() {
            let place = Place.index(i + 1)
            let size = JSONWriter.compact(element).utf8.count
            if size > InputLimits.leadBytes {
                items.append(Item(place: place, result: .failure(.tooLarge(size: size, limit: InputLimits.leadBytes))))
            } else {
                items.append(Item(place: place, result: LeadReader.read(element).mapError { .invalid($0.errors) }))
            }
        }
        return LeadBatch(shape: .array, items: markRepeats(items))
    }

    /// NDJSON when there is more than one non-empty line and the first parses on its own as an
    /// object (a pretty-printed single lead never does: its first line is `{`).
    static func ndjson(_ bytes: [UInt8]) -> LeadBatch? {
        var lines: [(number: Int, bytes: ArraySlice<UInt8>)] = []
        var number = 1, lineStart = 0
        for i in 0...bytes.count where i == bytes.count || bytes[i] == 0x0A {
            var line = bytes[lineStart..<i]
            if line.last == 0x0D { line = line.dropLast() }
            if line.contains(where: { ![0x20, 0x09].contains($0) }) { lines.append((number, line)) }
            number += 1
            lineStart = i + 1
        }
        guard lines.count > 1, let first = lines.first, (try? JSONParser.parse(Array(first.bytes)))?.objectValue != nil else { return nil }
        let items = lines.map { item(Array($0.bytes), at: .line($0.number)) }
        return LeadBatch(shape: .lines, items: markRepeats(items))
    }

    static func item(_ bytes: [UInt8], at place: Place) -> Item {
        if bytes.count > InputLimits.leadBytes {
            return Item(place: place, result: .failure(.tooLarge(size: bytes.count, limit: InputLimits.leadBytes)))
        }
        do {
            let value = try JSONParser.parse(bytes, maxString: InputLimits.leadBytes)
            return Item(place: place, result: LeadReader.read(value).mapError { .invalid($0.errors) })
        } catch {
            var position = error.position
            if case .line(let n) = place { position.line = n }
            return Item(place: place, result: .failure(.syntax(position, error.problem)))
        }
    }

    /// A lead id given twice: the later ones are problems naming the first place.
    static func markRepeats(_ items: [Item]) -> [Item] {
        var seen: [String: Place] = [:]
        return items.map { item in
            guard case .success(let lead) = item.result else { return item }
            if let first = seen[lead.id] { return Item(place: item.place, result: .failure(.repeated(id: lead.id, first: first))) }
            seen[lead.id] = item.place
            return item
        }
    }
}
