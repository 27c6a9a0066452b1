import Testing
import LeadBridgeCore

@Suite struct JSONParserTests {
    @Test func keepsKeyOrderAndNumberText() throws {
        let v = try JSONParser.parse(#"{"b": 1.50, "a": [true, null, "x"], "c": -3e2}"#)
        #expect(v.objectValue?.keys == ["b", "a", "c"])
        #expect(v["b"] == .number("1.50"))
        #expect(v["c"] == .number("-3e2"))
        #expect(JSONWriter.compact(v) == #"{"b":1.50,"a":[true,null,"x"],"c":-3e2}"#)
    }

    @Test func decodesEscapesAndSurrogates() throws {
        let v = try JSONParser.parse(#""a\/b \"q\" \u041f\u0440\u0438 \ud83d\ude00 \n""#)
        #expect(v == .string("a/b \"q\" При 😀 \n"))
    }

    /// Every syntax error has a position a person can jump to.
    @Test(arguments: [
        ("{\"a\": 1,}", 1, 9, "trailing comma"),
        ("{\n  \"a\": 1,\n  \"a\": 2\n}", 3, 3, "duplicate key"),
        ("{\"a\": tru}", 1, 7, "invalid literal"),
        ("{\"a\": \"x", 1, 9, "unterminated string"),
        ("", 1, 1, "empty document"),
        ("[01]", 1, 3, "leading zero"),
        ("{\"a\" 1}", 1, 6, "expected ':'"),
        ("{\"a\": 1} x", 1, 10, "unexpected text"),
        ("// c\n{}", 1, 1, "comments"),
        ("{\"a\": \"\u{1}\"}", 1, 8, "control character"),
        ("{\"a\": \"\\ud800\"}", 1, 14, "unpaired surrogate"),
        ("{\"имя\": , }", 1, 9, "unexpected character"),
    ])
    func syntaxErrors(text: String, line: Int, column: Int, message: String) {
        do {
            _ = try JSONParser.parse(text)
            Issue.record("parsed invalid JSON: \(text)")
        } catch {
            #expect(error.position == SourcePosition(line: line, column: column), "\(text): \(error)")
            #expect(error.message.contains(message), "\(error.message)")
        }
    }

    @Test func rejectsInvalidUTF8() {
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse([0x22, 0xC3, 0x28, 0x22]) }
    }

    /// A string without escapes is taken as its bytes, one with escapes is built: both refuse
    /// invalid UTF-8 at the same place (after the string), and decode the same text.
    @Test func plainAndEscapedStringsAgree() throws {
        for bytes: [UInt8] in [[0x22, 0xC3, 0x28, 0x22], [0x22, 0x5C, 0x6E, 0xC3, 0x28, 0x22]] {
            do {
                _ = try JSONParser.parse(bytes)
                Issue.record("parsed invalid UTF-8: \(bytes)")
            } catch {
                #expect(error.problem == .invalidUTF8 && error.position == SourcePosition(line: 1, column: bytes.count + 1), "\(error)")
            }
        }
        #expect(try JSONParser.parse(#"["При", "П\u0440и", ""]"#) == .array([.string("При"), .string("При"), .string("")]))
    }

    /// Duplicate keys are refused in small objects (a scan of the members) and large ones (a set).
    @Test(arguments: [2, 8, 9, 40])
    func duplicateKeysAtAnySize(_ size: Int) throws {
        let keys = (0..<size).map { "\"k\($0)\": \($0)" }
        let fine = try JSONParser.parse("{" + keys.joined(separator: ", ") + "}")
        guard case .object(let o) = fine else { Issue.record("not an object: \(fine)"); return }
        #expect(o.count == size)
        for repeated in [0, size - 1] {
            let text = "{" + (keys + ["\"k\(repeated)\": 0"]).joined(separator: ", ") + "}"
            #expect(throws: JSONSyntaxError.self, "\(text)") { try JSONParser.parse(text) }
        }
    }

    @Test func acceptsBOMAndLimitsDepth() throws {
        #expect(try JSONParser.parse([0xEF, 0xBB, 0xBF] + Array("{}".utf8)) == .object(JSONObject()))
        let deep = String(repeating: "[", count: 600) + String(repeating: "]", count: 600)
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(deep) }
    }

    @Test func recordsPositionsByPointer() throws {
        let p = try JSONParser.parseWithPositions(Array("{\n  \"a\": [1,\n    {\"b/c\": 2}]\n}".utf8))
        #expect(p.positions["/a/1/b~1c"] == SourcePosition(line: 3, column: 13))
        #expect(p.positions["/a/1/b~1c#key"] == SourcePosition(line: 3, column: 6))
    }
}

@Suite struct JSONWriterTests {
    @Test(arguments: [
        ("a/b", #""a/b""#, #""a\/b""#),
        ("Привет", #""Привет""#, #""\u041f\u0440\u0438\u0432\u0435\u0442""#),
        ("tab\tq\"", #""tab\tq\"""#, #""tab\tq\"""#),
        ("\u{1}", #""\u0001""#, #""\u0001""#),
        ("😀", #""😀""#, #""\ud83d\ude00""#),
        // Strings needing no escape are written whole (the fast path): the same bytes.
        ("A-1001 ok", #""A-1001 ok""#, #""A-1001 ok""#),
        ("", #""""#, #""""#),
        ("a\\b", #""a\\b""#, #""a\\b""#),
        ("\u{7F}x", "\"\u{7F}x\"", "\"\u{7F}x\""),
        ("id é/", #""id é/""#, #""id \u00e9\/""#),
    ])
    func escaping(input: String, plain: String, php: String) {
        #expect(JSONWriter.quote(input) == plain)
        #expect(JSONWriter.quote(input, escaping: .php) == php)
    }

    @Test func prettyIsStable() throws {
        let v = try JSONParser.parse(#"{"z":1,"a":{"k":[]}}"#)
        #expect(JSONWriter.pretty(v) == "{\n  \"z\": 1,\n  \"a\": {\n    \"k\": []\n  }\n}")
    }
}

@Suite struct LiteralSearchTests {
    @Test(arguments: [("https://{vars.host}/x", "{vars.", true), ("{vars", "{vars.", false), ("", "a", false), ("abc", "", true),
                      ("ааб{vars.x}", "{vars.", true), ("aab", "ab", true), ("a~b/c", "~", true), ("key", "~", false)])
    func containsLiteral(text: String, needle: String, expected: Bool) {
        #expect(text.containsLiteral(needle) == expected)
        #expect(text.contains(needle) == expected || needle.isEmpty)
    }

    @Test(arguments: [("a~b", "a~0b"), ("a/b", "a~1b"), ("~/", "~0~1"), ("plain", "plain")])
    func pointerEscape(key: String, escaped: String) {
        #expect(JSONPointer.escape(key) == escaped)
    }
}
