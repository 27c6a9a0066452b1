import Testing
import LeadBridgeCore

/// A lead file is one lead, a JSON array or NDJSON; every lead is read on its own and a bad
/// one is reported at its line or position while the others are kept.
@Suite struct LeadBatchTests {
    static func describe(_ b: LeadBatch) -> [String] {
        b.items.map { item in
            let place: String
            switch item.place {
            case .file: place = "file"
            case .line(let n): place = "line \(n)"
            case .index(let n): place = "[\(n)]"
            }
            switch item.result {
            case .success(let lead): return "\(place) \(lead.id)"
            case .failure(.syntax(let pos, _)): return "\(place) syntax at \(pos.line):\(pos.column)"
            case .failure(.tooLarge): return "\(place) too large"
            case .failure(.invalid(let errors)): return "\(place) invalid " + errors.map(\.field).joined(separator: ",")
            case .failure(.repeated(let id, _)): return "\(place) repeats \(id)"
            case .failure(.refused(let m)): return "\(place) refused \(m)"
            }
        }
    }

    static let cases: [(name: String, text: String, shape: LeadBatch.Shape, items: [String])] = [
        ("one lead", #"{"id": "A-1", "phone": "+79001234567"}"#, .single, ["file A-1"]),
        ("one lead, pretty", "{\n  \"id\": \"A-1\",\n  \"phone\": \"+79001234567\"\n}\n", .single, ["file A-1"]),
        ("one lead with a BOM and a newline", "\u{FEFF}{\"id\": \"A-1\"}\n", .single, ["file A-1"]),
        ("not JSON", "id,phone\nA-1,+7900", .single, ["file syntax at 1:1"]),
        ("array", #"[{"id": "A-1"}, {"id": "A 2"}, 5, {"id": "A-3"}]"#, .array, ["[1] A-1", "[2] invalid id", "[3] invalid lead", "[4] A-3"]),
        ("array with a syntax error", #"[{"id": "A-1"}, {"id": }]"#, .array, ["file syntax at 1:24"]),
        ("NDJSON with blank lines, CRLF and a bad line", "{\"id\": \"A-1\"}\r\n\r\n{\"id\": \"A-2\", \"phone\": \"12\"}\r\n{\"id\": \"A-3\"\n{\"id\": \"A-4\"}\n",
         .lines, ["line 1 A-1", "line 3 invalid phone", "line 4 syntax at 4:13", "line 5 A-4"]),
        ("NDJSON with a repeated id", "{\"id\": \"A-1\"}\n{\"id\": \"A-2\"}\n{\"id\": \"A-1\"}\n", .lines, ["line 1 A-1", "line 2 A-2", "line 3 repeats A-1"]),
        ("array with a repeated id", #"[{"id": "A-1"}, {"id": "A-1"}]"#, .array, ["[1] A-1", "[2] repeats A-1"]),
    ]

    @Test(arguments: 0..<cases.count)
    func reads(_ i: Int) {
        let c = Self.cases[i]
        let batch = LeadBatch.read(Array(c.text.utf8))
        #expect(batch.shape == c.shape, "\(c.name)")
        #expect(Self.describe(batch) == c.items, "\(c.name)")
        #expect(batch.leads.count + batch.problems.count == batch.items.count)
    }

    @Test func aLeadOverTheLimitIsRefusedAndTheOthersKept() {
        let big = String(repeating: "x", count: InputLimits.leadBytes)
        let text = "{\"id\": \"A-1\"}\n{\"id\": \"A-2\", \"extra\": {\"note\": \"\(big)\"}}\n{\"id\": \"A-3\"}\n"
        #expect(Self.describe(LeadBatch.read(Array(text.utf8))) == ["line 1 A-1", "line 2 too large", "line 3 A-3"])
        let array = "[{\"id\": \"A-1\"}, {\"id\": \"A-2\", \"extra\": {\"note\": \"\(big)\"}}]"
        #expect(Self.describe(LeadBatch.read(Array(array.utf8))) == ["[1] A-1", "[2] too large"])
    }
}
