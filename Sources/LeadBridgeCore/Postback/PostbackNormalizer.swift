/// An incoming postback reduced to what we act on: which lead, which bucket, and everything
/// the network said beside it (raw word, detail, payout, currency, comment, reason).
public struct NormalizedPostback: Sendable, Hashable {
    public var orderId: String?
    public var externalId: String?
    /// nil when the word is unknown: reported, never guessed.
    public var status: Bucket?
    public var rawStatus: String
    public var detail: String?
    public var payout: String?
    public var currency: String?
    public var comment: String?
    public var reason: String?
    /// Where the bucket came from.
    public var recognizedBy: Recognition?

    /// The `postback --json` shape of DESIGN.md.
    public var json: JSONValue {
        .obj([
            ("order_id", .str(orderId)), ("external_id", .str(externalId)), ("status", .str(status?.rawValue)),
            ("raw_status", .string(rawStatus)), ("detail", .str(detail)), ("payout", payout.map(JSONValue.number) ?? .null),
            ("currency", .str(currency)), ("comment", .str(comment)), ("reason", .str(reason)),
        ])
    }
}

/// Why a postback could not be normalized; the field is named.
public struct PostbackError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable { case malformed, missingId = "missing-id", missingStatus = "missing-status", invalidValue = "invalid-value", unknownStatus = "unknown-status" }
    public var problem: PostbackProblem
    public var field: String
    /// What was understood before the error (an unknown status word still has its lead).
    public var partial: NormalizedPostback?
    public init(_ problem: PostbackProblem, field: String, partial: NormalizedPostback? = nil) {
        self.problem = problem
        self.field = field
        self.partial = partial
    }
    public var kind: Kind { problem.kind }
    /// The stable English sentence (the receiver's answer, the ledger).
    public var message: String { problem.english }
    public var description: String { "\(field): \(message)" }
}

/// Percent-decoding of query strings and form bodies (`+` is a space), strict about bad
/// escapes and invalid UTF-8.
public enum QueryString {
    public static func parse(_ query: String) throws(PostbackError) -> [(String, String)] {
        var q = Substring(query)
        if q.first == "?" { q.removeFirst() }
        var out: [(String, String)] = []
        for part in q.split(separator: "&", omittingEmptySubsequences: true) {
            let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = try decode(kv[0], field: "query")
            let value = kv.count > 1 ? try decode(kv[1], field: key.isEmpty ? "query" : key) : ""
            if key.isEmpty { continue }
            out.append((key, value))
        }
        return out
    }

    public static func decode(_ s: Substring, field: String) throws(PostbackError) -> String {
        // Most values are plain printable ASCII: nothing to decode or check.
        if s.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "%") && $0 != UInt8(ascii: "+") }) { return String(s) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(s.utf8.count)
        var it = s.utf8.makeIterator()
        while let b = it.next() {
            if b == UInt8(ascii: "+") { bytes.append(0x20); continue }
            if b == UInt8(ascii: "%") {
                guard let h = it.next(), let l = it.next(), let hv = hexValue(h), let lv = hexValue(l) else {
                    throw PostbackError(.invalidPercentEncoding, field: field)
                }
                bytes.append(hv << 4 | lv)
                continue
            }
            bytes.append(b)
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw PostbackError(.notUTF8AfterDecoding, field: field)
        }
        if text.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\t" || $0.value == 0x7F }) {
            throw PostbackError(.controlCharacters, field: field)
        }
        return text
    }

    static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: return b - 0x30
        case 0x41...0x46: return b - 0x41 + 10
        case 0x61...0x66: return b - 0x61 + 10
        default: return nil
        }
    }
}

/// Normalizes incoming postbacks by the rules of DESIGN.md "Incoming postbacks": override
/// lists in the URL → the spec's `statuses` → shared defaults; reason codes may override.
public enum PostbackNormalizer {
    static let singleKeys = ["oid", "eid", "status", "pay", "cc", "comment", "reason"]
    /// The lengths of `SpecLinter.overrideKeys` (all three letters): a key of another length
    /// is no override list, without hashing it (every parameter of every postback is asked).
    static let overrideKeyLengths: ClosedRange<Int> = {
        let lengths = SpecLinter.overrideKeys.keys.map(\.utf8.count)
        return (lengths.min() ?? 0)...(lengths.max() ?? 0)
    }()
    public static let maxPayout = 1_000_000_000.0

    /// `pairs` are decoded parameters (query plus body); `token` and unknown keys are ignored.
    public static func normalize(_ pairs: [(String, String)], spec: NetworkSpec, defaults: StatusDefaults) throws(PostbackError) -> NormalizedPostback {
        // The single-valued parameters by their place in `singleKeys` (no dictionary per postback).
        var single = InlineArray<7, String?>(repeating: nil)
        var overrides: [StatusBucket: Set<String>] = [:]
        for (rawKey, value) in pairs {
            let key = rawKey.lowercasedIfNeeded
            if overrideKeyLengths.contains(key.utf8.count), let bucket = SpecLinter.overrideKeys[key] {
                for w in value.split(separator: ",") {
                    let word = String(w).trimmingWhitespace.lowercased()
                    if !word.isEmpty { overrides[bucket, default: []].insert(word) }
                }
                continue
            }
            guard let slot = singleKeys.firstIndex(of: key) else { continue }
            if let existing = single[slot], existing != value {
                throw PostbackError(.givenTwice(first: String(existing.prefix(40)), second: String(value.prefix(40))), field: key)
            }
            single[slot] = value
        }
        let singles = single
        func given(_ key: String) -> String? { singleKeys.firstIndex(of: key).flatMap { singles[$0] } }
        func value(_ key: String) throws(PostbackError) -> String? {
            guard let v = given(key)?.trimmingWhitespace, !v.isEmpty else { return nil }
            if TailParser.macro(in: v) != nil {
                throw PostbackError(.unsubstitutedMacro(v), field: key)
            }
            if v.utf8.count > 512 && v.count > 512 { throw PostbackError(.tooLong(limit: 512), field: key) }
            return v
        }
        let oid = try value("oid"), eid = try value("eid")
        if oid == nil && eid == nil {
            throw PostbackError(.noId, field: "oid")
        }
        guard let raw = try value("status") else {
            throw PostbackError(.noStatus, field: "status")
        }
        var result = NormalizedPostback(orderId: oid, externalId: eid, status: nil, rawStatus: raw)
        let word = raw.lowercasedIfNeeded
        // 1. Overrides in the URL, in bucket precedence order.
        for b in StatusBucket.patternOrder where overrides[b]?.contains(word) == true {
            result.status = b.bucket
            result.detail = b.detail
            result.recognizedBy = .override
            break
        }
        // 2. The spec, 3. the defaults.
        if result.status == nil, let b = spec.statuses.lookup(word) {
            result.status = b.bucket; result.detail = b.detail; result.recognizedBy = .spec
        }
        if result.status == nil, spec.statusDefaults, let b = defaults.statuses.lookup(word) {
            result.status = b.bucket; result.detail = b.detail; result.recognizedBy = .defaults
        }
        if let pay = try value("pay") { result.payout = try payout(pay) }
        if let cc = try value("cc") {
            guard cc.count == 3, cc.allSatisfy({ $0.isASCII && $0.isLetter }) else {
                throw PostbackError(.notACurrency(String(cc.prefix(20))), field: "cc")
            }
            result.currency = cc.uppercased()
        }
        result.comment = given("comment").flatMap { $0.trimmingWhitespace.isEmpty ? nil : String($0.prefix(2000)) }
        if let reason = try value("reason") {
            guard reason.allSatisfy(\.isASCIIDigit), reason.count <= 9 else {
                throw PostbackError(.notAReasonCode(String(reason.prefix(20))), field: "reason")
            }
            result.reason = reason
            if let r = spec.reasons[reason] ?? (spec.statusDefaults ? defaults.reasons[reason] : nil) {
                if let b = r.bucket {
                    result.status = b.bucket
                    result.recognizedBy = .reason
                }
                if let d = r.detail { result.detail = d }
            }
        }
        if result.status == nil {
            throw PostbackError(.unknownStatusWord(raw, network: spec.id), field: "status", partial: result)
        }
        return result
    }

    /// A payout as a plain decimal (`12.50`; a comma decimal separator is accepted).
    static func payout(_ text: String) throws(PostbackError) -> String {
        let t = text.replacingAll(",", with: ".")
        var digitsBefore = 0, digitsAfter = 0, dot = false, ok = true
        for (i, c) in t.enumerated() {
            if c == "-" && i == 0 { continue }
            if c == "." { if dot { ok = false }; dot = true; continue }
            guard c.isASCIIDigit else { ok = false; break }
            if dot { digitsAfter += 1 } else { digitsBefore += 1 }
        }
        guard ok, digitsBefore > 0, !dot || digitsAfter > 0, digitsAfter <= 8, let v = Double(t), abs(v) < maxPayout else {
            throw PostbackError(.notAnAmount(String(text.prefix(30))), field: "pay")
        }
        // Canonical text: no leading zeros, as written otherwise.
        var s = t
        let negative = s.hasPrefix("-")
        if negative { s.removeFirst() }
        while s.count > 1, s.hasPrefix("0"), !s.hasPrefix("0.") { s.removeFirst() }
        return (negative && v != 0 ? "-" : "") + s
    }
}

/// Which table told a postback's status word: the lead's override, the spec's status table,
/// the shared defaults, or the reason the network gave.
public enum Recognition: String, Sendable, Hashable, CaseIterable {
    case override, spec, defaults, reason
}

extension String {
    /// `lowercased()`, the string itself when there is nothing to lower (ASCII without
    /// capitals: most parameter names and status words), without a copy.
    var lowercasedIfNeeded: String {
        utf8.contains { ($0 >= 0x41 && $0 <= 0x5A) || $0 >= 0x80 } ? lowercased() : self
    }
}
