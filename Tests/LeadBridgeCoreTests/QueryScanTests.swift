import LeadBridgeTestSupport
import Testing
@testable import LeadBridgeCore

/// `QueryString.scan` reads a postback's query once for the token, the stored (masked) text and
/// the normalizer's parameters. Model-based: on thousands of generated queries it must agree
/// with the three separate readings it replaced (kept here as the model).
@Suite struct QueryScanTests {
    /// The receiver's former masking: each `&` part whose decoded name is `param` (any case)
    /// gets `***` as its value; names that do not decode are compared raw.
    static func modelMask(_ query: String, param: String) -> String {
        query.split(separator: "&", omittingEmptySubsequences: false).map { part -> String in
            let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard kv.count == 2 else { return String(part) }
            let name = (try? QueryString.decode(kv[0], field: "")) ?? String(kv[0])
            return name.lowercased() == param.lowercased() ? "\(kv[0])=***" : String(part)
        }.joined(separator: "&")
    }

    static let pieces = ["token", "TOKEN", "tok%65n", "Token", "oid", "status", "=", "=", "&", "&", "&&", "x", "%ZZ", "%4", "%41", "+",
                         "a+b", "%D0%98", "Иван", "%00", "%0A", "***", "approve", "secret", "T0K3N"]

    static func query(_ rng: inout SplitMix) -> String {
        (0..<Int(rng.next() % 9)).map { _ in pieces[Int(rng.next() % UInt64(pieces.count))] }.joined()
    }

    @Test func agreesWithParseMaskAndTokenLookupOnGeneratedQueries() {
        var rng = SplitMix(seed: 0x51CA_11ED)
        var checked = 0
        for _ in 0..<20_000 {
            let q = Self.query(&rng)
            guard !q.hasPrefix("?") else { continue }
            for param in ["token", "secret"] {
                let scan = QueryString.scan(q, masking: param)
                let masked = Self.modelMask(q, param: param)
                #expect(scan.masked == masked, "masked: \(q.debugDescription)")
                let parsedMasked = Result { () throws(PostbackError) in try QueryString.parse(masked) }
                switch parsedMasked {
                case .success(let pairs):
                    #expect(scan.pairs.map { $0.map { "\($0.0)=\($0.1)" } } == pairs.map { "\($0.0)=\($0.1)" }, "pairs: \(q.debugDescription)")
                    #expect(scan.error == nil)
                case .failure(let e):
                    #expect(scan.pairs == nil, "pairs of an undecodable query: \(q.debugDescription)")
                    #expect(scan.error.map { "\($0)" } == "\(e)", "error: \(q.debugDescription)")
                }
                let token = (try? QueryString.parse(q))?.last { $0.0 == param }?.1
                #expect(scan.secret == token, "token: \(q.debugDescription)")
                checked += 1
            }
        }
        #expect(checked > 30_000)
    }

    @Test func aLeadingQuestionMarkIsReadAndMaskedLikeTheRest() {
        let scan = QueryString.scan("?token=s3cret&oid=A-1&status=approve", masking: "token")
        #expect(scan.masked == "?token=***&oid=A-1&status=approve")
        #expect(scan.secret == "s3cret")
        #expect(scan.pairs.map { $0.map(\.0) } == ["token", "oid", "status"])
        #expect(scan.pairs?.first?.1 == "***")
    }

    @Test func aTokenThatDoesNotDecodeIsNoTokenButTheRestIsStillRead() {
        let scan = QueryString.scan("token=%ZZ&oid=A-1&status=approve", masking: "token")
        #expect(scan.masked == "token=***&oid=A-1&status=approve")
        #expect(scan.secret == nil)
        #expect(scan.pairs.map { $0.map { "\($0.0)=\($0.1)" } } == ["token=***", "oid=A-1", "status=approve"])
    }
}
