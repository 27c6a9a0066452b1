import LeadBridgeTestSupport
import Testing
@testable import LeadBridgeCore

/// The receiver's text shortcuts (`trimmingWhitespace` and `lowercasedIfNeeded` return the
/// string itself when nothing changes) give what the general algorithms give. Model-based, on
/// generated strings mixing ASCII, whitespace of every kind, combining marks and other scripts.
@Suite struct TextFastPathTests {
    static let pieces = ["a", "Z", "7", "-", "~", " ", "\t", "\n", "\r\n", "\u{0B}", "\u{0C}", "\u{85}", "\u{A0}", "\u{2028}", "\u{3000}",
                         "\u{0301}", "\u{0600}", "\u{1F}", "\u{7F}", "И", "ß", "İ", "Σ", "😀", "approve", "OID", "%20", "+"]

    /// Whitespace trimmed Character by Character (the general algorithm the shortcut skips).
    static func modelTrim(_ s: String) -> String {
        var t = Substring(s)
        while let f = t.first, f.isWhitespace { t.removeFirst() }
        while let l = t.last, l.isWhitespace { t.removeLast() }
        return String(t)
    }

    @Test func shortcutsAgreeWithTheGeneralAlgorithms() {
        var rng = SplitMix(seed: 0x7E47)
        var unchanged = 0
        for _ in 0..<20_000 {
            let s = (0..<Int(rng.next() % 6)).map { _ in Self.pieces[Int(rng.next() % UInt64(Self.pieces.count))] }.joined()
            #expect(s.trimmingWhitespace == Self.modelTrim(s), "trim: \(s.debugDescription)")
            #expect(s.lowercasedIfNeeded == s.lowercased(), "lower: \(s.debugDescription)")
            if s.trimmingWhitespace == s && s.lowercased() == s { unchanged += 1 }
        }
        #expect(unchanged > 1_000) // the shortcuts' own case came up often
    }
}
