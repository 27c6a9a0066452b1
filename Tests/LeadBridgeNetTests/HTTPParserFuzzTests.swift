import LeadBridgeTestSupport
@testable import LeadBridgeNet
import XCTest

/// Feeds 20,000 random and mutated byte strings to the parser (seeded, so failures reproduce).
/// The parser must never crash, must give the same verdict however the bytes are split, and
/// whatever it accepts must respect the limits.
final class HTTPParserFuzzTests: XCTestCase {
    static let corpus: [[UInt8]] = [
        "GET /postback/kma?token=abc&status=approved HTTP/1.1\r\nHost: lb\r\n\r\n",
        "POST /leads HTTP/1.1\r\nHost: lb\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 11\r\n\r\nname=A&p=79",
        "POST /c HTTP/1.1\r\nHost: lb\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5;x=y\r\npedia\r\n0\r\nT: v\r\n\r\n",
        "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n",
        "PUT /x HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhello",
        "\r\nOPTIONS * HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
    ].map { Array($0.utf8) }

    static let specials: [UInt8] = [13, 10, 0, 32, 9, 58, 0xFF, 0x80, 48, 59, 44, 63, 37, 0x7F, 70]

    static let smallLimits = HTTPLimits(maxRequestLineBytes: 48, maxHeaderBytes: 96, maxHeaderCount: 3,
                                        maxBodyBytes: 24, maxChunkLineBytes: 8)

    func mutate(_ input: [UInt8], _ rng: inout SplitMix) -> [UInt8] {
        var b = input
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            switch Int.random(in: 0..<10, using: &rng) {
            case 0 where !b.isEmpty: // flip a byte
                b[Int.random(in: 0..<b.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            case 1: // insert a byte that matters to the grammar
                let special = Self.specials.randomElement(using: &rng) ?? 13
                b.insert(special, at: Int.random(in: 0...b.count, using: &rng))
            case 2 where !b.isEmpty: // delete a byte
                b.remove(at: Int.random(in: 0..<b.count, using: &rng))
            case 3 where !b.isEmpty: // duplicate a range
                let i = Int.random(in: 0..<b.count, using: &rng)
                let j = min(b.count, i + Int.random(in: 1...40, using: &rng))
                b.insert(contentsOf: b[i..<j], at: j)
            case 4 where !b.isEmpty: // truncate
                b.removeLast(Int.random(in: 0..<b.count, using: &rng))
            case 5: // splice with another corpus entry
                let other = Self.corpus.randomElement(using: &rng) ?? []
                b = Array(b.prefix(Int.random(in: 0...b.count, using: &rng))) + other.suffix(Int.random(in: 0...other.count, using: &rng))
            case 6: // blow up a length: many header lines or a long token
                let filler = Array(repeating: UInt8(ascii: "a"), count: Int.random(in: 1...300, using: &rng))
                b.insert(contentsOf: filler, at: Int.random(in: 0...b.count, using: &rng))
            case 7: // numbers that stress Content-Length and chunk sizes
                let numbers = ["0", "00000000000000000000001", "18446744073709551616", "7fffffffffffffff", "-1", "1e3", " 5", "5 ,5"]
                let n = Array((numbers.randomElement(using: &rng) ?? "0").utf8)
                b.insert(contentsOf: n, at: Int.random(in: 0...b.count, using: &rng))
            case 8: // a new length right after "Length: " or a chunk-size line
                let length = String(Int.random(in: 0...100, using: &rng), radix: Bool.random(using: &rng) ? 10 : 16)
                let marker = Array("Length: ".utf8)
                if let at = Self.firstRange(of: marker, in: b) {
                    b.insert(contentsOf: Array(length.utf8), at: at)
                } else if let at = Self.firstRange(of: [13, 10, 13, 10], in: b) {
                    b.insert(contentsOf: Array(length.utf8), at: at)
                }
            default: // random bytes
                let count = Int.random(in: 0...64, using: &rng)
                b.insert(contentsOf: (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) },
                         at: Int.random(in: 0...b.count, using: &rng))
            }
        }
        return b
    }

    /// Index just after the first occurrence of `needle`.
    static func firstRange(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for i in 0...(haystack.count - needle.count) where haystack[i..<(i + needle.count)].elementsEqual(needle) {
            return i + needle.count
        }
        return nil
    }

    func testTwentyThousandMutatedInputs() {
        var rng = SplitMix(seed: 0x1EAD_B41D)
        var outcomes: [String: Int] = [:]
        let statuses: Set<Int> = [400, 413, 414, 431, 501, 505]
        for iteration in 0..<20_000 {
            let input: [UInt8]
            if iteration % 10 == 0 {
                input = (0..<Int.random(in: 0...200, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            } else {
                input = mutate(Self.corpus[iteration % Self.corpus.count], &rng)
            }
            let limits = iteration % 2 == 0 ? HTTPLimits() : Self.smallLimits

            // All requests in the buffer, in one go.
            var whole = HTTPRequestParser(limits: limits)
            whole.append(input)
            var wholeResults: [HTTPParseResult] = []
            var consumedTotal = 0
            while true {
                let r = whole.next()
                wholeResults.append(r)
                guard case .complete(let request, let consumed) = r else { break }
                XCTAssertGreaterThan(consumed, 0)
                consumedTotal += consumed
                XCTAssertLessThanOrEqual(request.body.count, limits.maxBodyBytes)
                XCTAssertLessThanOrEqual(request.headers.count, limits.maxHeaderCount)
                XCTAssertFalse(request.method.isEmpty)
                XCTAssertTrue(request.target.utf8.count <= limits.maxRequestLineBytes)
                XCTAssertLessThan(wholeResults.count, 1000, "runaway loop")
            }
            XCTAssertLessThanOrEqual(consumedTotal, input.count)
            XCTAssertEqual(whole.bufferedByteCount, input.count - consumedTotal)
            if case .error(let e) = wholeResults.last { XCTAssertTrue(statuses.contains(e.status)) }

            // The same bytes in random pieces must give the same sequence of results.
            var pieces = HTTPRequestParser(limits: limits)
            var pieceResults: [HTTPParseResult] = []
            var offset = 0
            feeding: while offset < input.count {
                let n = min(input.count - offset, Int.random(in: 1...16, using: &rng))
                pieces.append(input[offset..<(offset + n)])
                offset += n
                while true {
                    let r = pieces.next()
                    if r == .needMore { break }
                    pieceResults.append(r)
                    if case .error = r { break feeding }
                }
            }
            if pieceResults.last.map({ if case .error = $0 { false } else { true } }) ?? true {
                pieceResults.append(.needMore)
            }
            if wholeResults != pieceResults {
                XCTFail("iteration \(iteration): split parse differs\n input: \(String(decoding: input, as: UTF8.self).debugDescription)\n whole: \(wholeResults)\n split: \(pieceResults)")
                return
            }
            let key: String
            switch wholeResults.last {
            case .error(let e)?: key = "\(e.status)"
            default: key = wholeResults.count > 1 ? "complete" : "needMore"
            }
            outcomes[key, default: 0] += 1
        }
        // The mutations must reach a spread of outcomes, or the test proves little.
        XCTAssertGreaterThan(outcomes["complete"] ?? 0, 500, "\(outcomes)")
        XCTAssertGreaterThan(outcomes["400"] ?? 0, 500, "\(outcomes)")
        XCTAssertGreaterThan(outcomes["needMore"] ?? 0, 100, "\(outcomes)")
        for status in ["413", "414", "431"] { XCTAssertGreaterThan(outcomes[status] ?? 0, 10, "\(status): \(outcomes)") }
        print("fuzz outcomes: \(outcomes.sorted { $0.key < $1.key })")
    }
}
