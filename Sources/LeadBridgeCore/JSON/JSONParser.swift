/// A place in a source file, 1-based, column counted in characters.
public struct SourcePosition: Sendable, Hashable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public init(line: Int, column: Int) { self.line = line; self.column = column }
    public var description: String { "\(line):\(column)" }
}

/// A JSON syntax error with its position (Foundation gives none on Linux).
public struct JSONSyntaxError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong, worded by the edges in the user's language.
    public var problem: JSONSyntaxProblem
    public var position: SourcePosition
    public init(_ problem: JSONSyntaxProblem, position: SourcePosition) { self.problem = problem; self.position = position }
    /// The stable English sentence.
    public var message: String { problem.english }
    public var description: String { "\(position): \(message)" }
}

/// The result of parsing with positions: the value plus where each JSON pointer starts.
public struct PositionedJSON: Sendable {
    public var value: JSONValue
    /// JSON pointer (`/postbacks/items/0/tail`) → position of the value; keys map to the
    /// position of the key itself under `pointer + "#key"`.
    public var positions: [String: SourcePosition]
}

/// Strict JSON parser: no trailing commas, no duplicate keys, no comments, no control
/// characters in strings; keeps key order and number text; reports `line:col`.
public struct JSONParser {
    private let bytes: [UInt8]
    private var index = 0
    private var line = 1
    private var lineStart = 0
    private var recordPositions: Bool
    private var positions: [String: SourcePosition] = [:]
    private var depth = 0
    /// Nesting limit so hostile input cannot exhaust the stack.
    public static let maxDepth = 512

    /// Longest string (keys included, in UTF-8 bytes) before the parse stops with an error.
    private let maxString: Int

    private init(_ bytes: [UInt8], recordPositions: Bool, maxString: Int) {
        self.bytes = bytes
        self.recordPositions = recordPositions
        self.maxString = maxString
    }

    /// Parses a whole document (a leading UTF-8 BOM is allowed). `maxString` refuses any
    /// longer string with its position (see `InputLimits`).
    public static func parse(_ bytes: [UInt8], maxString: Int = .max) throws(JSONSyntaxError) -> JSONValue {
        var p = JSONParser(bytes, recordPositions: false, maxString: maxString)
        return try p.document()
    }

    public static func parse(_ text: String) throws(JSONSyntaxError) -> JSONValue {
        try parse(Array(text.utf8))
    }

    /// Parses and records the position of every value by JSON pointer.
    public static func parseWithPositions(_ bytes: [UInt8], maxString: Int = .max) throws(JSONSyntaxError) -> PositionedJSON {
        var p = JSONParser(bytes, recordPositions: true, maxString: maxString)
        let v = try p.document()
        return PositionedJSON(value: v, positions: p.positions)
    }

    private mutating func document() throws(JSONSyntaxError) -> JSONValue {
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { index = 3; lineStart = 3 }
        skipWhitespace()
        guard index < bytes.count else { throw error(.emptyDocument) }
        let v = try value(pointer: "")
        skipWhitespace()
        if index < bytes.count { throw error(.textAfterValue) }
        return v
    }

    private var position: SourcePosition { position(at: index, line: line, lineStart: lineStart) }

    /// Column counted in characters (UTF-8 lead bytes) from the line start: only computed for
    /// recorded positions and errors, never per value on the fast path.
    private func position(at index: Int, line: Int, lineStart: Int) -> SourcePosition {
        var col = 1
        var i = lineStart
        while i < index && i < bytes.count {
            if bytes[i] & 0xC0 != 0x80 { col += 1 }
            i += 1
        }
        return SourcePosition(line: line, column: col)
    }

    private func error(_ problem: JSONSyntaxProblem) -> JSONSyntaxError {
        JSONSyntaxError(problem, position: position)
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0D: index += 1
            case 0x0A: index += 1; line += 1; lineStart = index
            default: return
            }
        }
    }

    private mutating func value(pointer: String) throws(JSONSyntaxError) -> JSONValue {
        if recordPositions { positions[pointer] = position }
        guard index < bytes.count else { throw error(.endExpectingValue) }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try object(pointer: pointer)
        case UInt8(ascii: "["): return try array(pointer: pointer)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        case UInt8(ascii: "/"): throw error(.comment)
        case UInt8(ascii: "'"): throw error(.singleQuotes)
        default: throw error(.unexpectedCharacter(describe(bytes[index])))
        }
    }

    private func describe(_ b: UInt8) -> String {
        if b >= 0x21 && b < 0x7F { return "'\(Character(UnicodeScalar(b)))'" }
        return String(format: b)
    }

    private func String(format b: UInt8) -> String {
        let hex = Array("0123456789ABCDEF")
        return "0x" + Swift.String([hex[Int(b >> 4)], hex[Int(b & 15)]])
    }

    private mutating func literal(_ word: StaticString) throws(JSONSyntaxError) {
        let n = word.utf8CodeUnitCount
        let matches = index + n <= bytes.count && word.withUTF8Buffer { w in bytes[index..<index + n].elementsEqual(w) }
        guard matches else { throw error(.invalidLiteral("\(word)")) }
        index += n
    }

    private mutating func enter() throws(JSONSyntaxError) {
        depth += 1
        if depth > Self.maxDepth { throw error(.tooDeep(Self.maxDepth)) }
    }

    private mutating func object(pointer: String) throws(JSONSyntaxError) -> JSONValue {
        try enter(); defer { depth -= 1 }
        index += 1
        var members: [JSONMember] = []
        // Keys seen, for the duplicate check: a set once the object grows, a scan of the few
        // members before (most objects are small: no hashing of every key).
        var seen: Set<String>?
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; return .object(JSONObject(members)) }
        while true {
            skipWhitespace()
            guard index < bytes.count else { throw error(.endInObject) }
            if bytes[index] == UInt8(ascii: "}") { throw error(.trailingCommaInObject) }
            guard bytes[index] == UInt8(ascii: "\"") else { throw error(.expectedKey) }
            let keyStart = (index: index, line: line, lineStart: lineStart)
            let key = try string()
            let childPointer = recordPositions ? pointer + "/" + JSONPointer.escape(key) : ""
            let duplicate: Bool
            if seen == nil && members.count < 8 {
                duplicate = members.contains { $0.key == key }
            } else {
                if seen == nil { seen = Set(members.map(\.key)) }
                duplicate = !seen!.insert(key).inserted
            }
            if duplicate {
                index = keyStart.index; line = keyStart.line; lineStart = keyStart.lineStart
                throw error(.duplicateKey(key))
            }
            if recordPositions { positions[childPointer + "#key"] = position(at: keyStart.index, line: keyStart.line, lineStart: keyStart.lineStart) }
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw error(.expectedColon(key: key)) }
            index += 1
            skipWhitespace()
            let v = try value(pointer: childPointer)
            members.append(JSONMember(key: key, value: v))
            skipWhitespace()
            guard index < bytes.count else { throw error(.endExpectingCommaOrBrace) }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "}") { index += 1; return .object(JSONObject(members)) }
            throw error(.expectedCommaOrBrace)
        }
    }

    private mutating func array(pointer: String) throws(JSONSyntaxError) -> JSONValue {
        try enter(); defer { depth -= 1 }
        index += 1
        var items: [JSONValue] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1; return .array(items) }
        while true {
            skipWhitespace()
            guard index < bytes.count else { throw error(.endInArray) }
            if bytes[index] == UInt8(ascii: "]") { throw error(.trailingCommaInArray) }
            items.append(try value(pointer: recordPositions ? pointer + "/" + Swift.String(items.count) : ""))
            skipWhitespace()
            guard index < bytes.count else { throw error(.endExpectingCommaOrBracket) }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "]") { index += 1; return .array(items) }
            throw error(.expectedCommaOrBracket)
        }
    }

    private mutating func number() throws(JSONSyntaxError) -> String {
        let start = index
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count, isDigit(bytes[index]) else { throw error(.numberExpectedDigit) }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
            if index < bytes.count, isDigit(bytes[index]) { throw error(.numberLeadingZero) }
        } else {
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard index < bytes.count, isDigit(bytes[index]) else { throw error(.numberDigitAfterDot) }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count, isDigit(bytes[index]) else { throw error(.numberExponent) }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        return Swift.String(decoding: bytes[start..<index], as: UTF8.self)
    }

    private func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

    private mutating func string() throws(JSONSyntaxError) -> String {
        let start = (index: index, line: line, lineStart: lineStart)
        let text = try stringBody()
        if text.utf8.count > maxString {
            throw JSONSyntaxError(.stringTooLong(size: text.utf8.count, limit: maxString),
                                  position: position(at: start.index, line: start.line, lineStart: start.lineStart))
        }
        return text
    }

    private mutating func stringBody() throws(JSONSyntaxError) -> String {
        index += 1
        // Most strings hold no escape: their bytes become the string at once (no copy to build).
        let plainStart = index
        while index < bytes.count, bytes[index] != UInt8(ascii: "\""), bytes[index] != UInt8(ascii: "\\"), bytes[index] >= 0x20 { index += 1 }
        if index < bytes.count, bytes[index] == UInt8(ascii: "\"") {
            index += 1
            // Invalid UTF-8 is an error (not silently replaced), placed after the string as below.
            guard let s = Swift.String(validating: bytes[plainStart..<index - 1], as: UTF8.self) else { throw error(.invalidUTF8) }
            return s
        }
        var out: [UInt8] = []
        var runStart = plainStart
        while true {
            guard index < bytes.count else { throw error(.unterminatedString) }
            let b = bytes[index]
            if b == UInt8(ascii: "\"") {
                out.append(contentsOf: bytes[runStart..<index])
                index += 1
                break
            }
            if b < 0x20 {
                if b == 0x0A { throw error(.lineBreakInString) }
                throw error(.controlCharacter(String(format: b)))
            }
            if b == UInt8(ascii: "\\") {
                out.append(contentsOf: bytes[runStart..<index])
                index += 1
                guard index < bytes.count else { throw error(.unterminatedEscape) }
                let e = bytes[index]
                index += 1
                switch e {
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5C)
                case UInt8(ascii: "/"): out.append(0x2F)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800...0xDBFF).contains(scalar) {
                        guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                            throw error(.unpairedSurrogate)
                        }
                        index += 2
                        let low = try hex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw error(.invalidLowSurrogate) }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(scalar) {
                        throw error(.unpairedSurrogate)
                    }
                    guard let u = UnicodeScalar(scalar) else { throw error(.invalidUnicodeEscape) }
                    out.append(contentsOf: Array(Swift.String(Character(u)).utf8))
                default:
                    index -= 1
                    throw error(.invalidEscape(Swift.String(Character(UnicodeScalar(e)))))
                }
                runStart = index
                continue
            }
            index += 1
        }
        // Validate UTF-8: invalid sequences are an error, not silently replaced.
        guard let s = Swift.String(validating: out, as: UTF8.self) else { throw error(.invalidUTF8) }
        return s
    }

    private mutating func hex4() throws(JSONSyntaxError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw error(.incompleteUnicodeEscape) }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[index]
            let d: UInt32
            switch b {
            case 0x30...0x39: d = UInt32(b - 0x30)
            case 0x41...0x46: d = UInt32(b - 0x41 + 10)
            case 0x61...0x66: d = UInt32(b - 0x61 + 10)
            default: throw error(.invalidHexDigit)
            }
            v = v * 16 + d
            index += 1
        }
        return v
    }
}

/// RFC 6901 JSON pointers, used to name a place in a spec in every diagnostic.
public enum JSONPointer {
    public static func escape(_ key: String) -> String {
        // Almost no key holds `~` or `/`: one byte scan, no copy, for the common case.
        guard key.utf8.contains(where: { $0 == 0x7E || $0 == 0x2F }) else { return key }
        return key.replacingAll("~", with: "~0").replacingAll("/", with: "~1")
    }

    public static func join(_ base: String, _ key: String) -> String { base + "/" + escape(key) }
    public static func join(_ base: String, _ index: Int) -> String { base + "/" + String(index) }
}

extension String {
    /// Whether `text` occurs in this string, compared byte by byte (UTF-8): much cheaper than
    /// the generic `contains`, for the literal searches done on every string of a spec.
    public func containsLiteral(_ text: String) -> Bool {
        guard let first = text.utf8.first else { return true }
        var haystack = utf8[...]
        let needle = text.utf8
        while let i = haystack.firstIndex(of: first) {
            if haystack[i...].starts(with: needle) { return true }
            haystack = haystack[haystack.index(after: i)...]
        }
        return false
    }

    /// Literal (non-regex) replacement without Foundation.
    public func replacingAll(_ target: String, with replacement: String) -> String {
        // A byte scan rules most calls out before the (costly) generic search.
        guard let first = target.utf8.first, utf8.contains(first), self.contains(target) else { return self }
        var result = ""
        var rest = Substring(self)
        while let r = rest.firstRange(of: target) {
            result += rest[rest.startIndex..<r.lowerBound]
            result += replacement
            rest = rest[r.upperBound...]
        }
        result += rest
        return result
    }
}
