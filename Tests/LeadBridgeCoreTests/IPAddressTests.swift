import LeadBridgeTestSupport
import Testing
@testable import LeadBridgeCore

/// `IPAddress.isIPv4` reads bytes (a lead's `ip` is checked each time the lead is read back to
/// be sent); it must agree with the character-by-character check it replaced. Table-driven, then
/// model-based on generated strings of digits, dots, signs, other scripts' digits and
/// combining marks.
@Suite struct IPAddressTests {
    /// The check as it was: split by Character, digits by Character.
    static func modelIPv4(_ s: String) -> Bool {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return false }
        return parts.allSatisfy { p in
            !p.isEmpty && p.count <= 3 && p.allSatisfy(\.isASCIIDigit) && (Int(p) ?? 999) <= 255 && !(p.count > 1 && p.first == "0")
        }
    }

    @Test func knownAddresses() {
        let table: [(String, Bool)] = [
            ("1.2.3.4", true), ("0.0.0.0", true), ("255.255.255.255", true), ("10.0.0.1", true), ("192.168.1.100", true),
            ("256.1.1.1", false), ("1.2.3", false), ("1.2.3.4.5", false), ("1.2.3.4.", false), (".1.2.3", false), ("1..2.3", false),
            ("01.2.3.4", false), ("1.2.3.00", false), ("1234.1.1.1", false), ("", false), ("+1.2.3.4", false), ("1.2.3.4 ", false),
            ("1.2.3.٤", false), ("1.2.3.4\u{301}", false), ("1.\u{301}2.3.4", false), ("::1", false), ("a.b.c.d", false),
        ]
        for (s, valid) in table {
            #expect(IPAddress.isIPv4(s) == valid, "\(s.debugDescription)")
            #expect(Self.modelIPv4(s) == valid, "model: \(s.debugDescription)")
        }
    }

    @Test func bytesAgreeWithCharacters() {
        // Mostly four numbers and three dots, with some parts, dots or characters replaced.
        let numbers = ["0", "1", "9", "25", "99", "199", "255", "256", "00", "01", "1000", ""]
        let others = [".", "..", "-", "+", " ", "a", "٣", "\u{301}", "\r\n", ":"]
        var rng = SplitMix(seed: 0x1B4)
        func pick(_ from: [String]) -> String { from[Int(rng.next() % UInt64(from.count))] }
        var valid = 0
        for _ in 0..<20_000 {
            var s = ""
            for i in 0..<(3 + Int(rng.next() % 3)) {
                if i > 0 { s += rng.next() % 8 == 0 ? pick(others) : "." }
                s += rng.next() % 8 == 0 ? pick(others) : pick(numbers)
                if rng.next() % 16 == 0 { s += pick(others) }
            }
            let model = Self.modelIPv4(s)
            #expect(IPAddress.isIPv4(s) == model, "\(s.debugDescription)")
            if model { valid += 1 }
        }
        #expect(valid > 100) // valid addresses came up too, not only garbage
    }
}
