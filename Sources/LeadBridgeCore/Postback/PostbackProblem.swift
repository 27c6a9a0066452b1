/// What is wrong with an incoming postback, as a value: the receiver answers the network with
/// `english` (the stable sentence, also what the ledger keeps), the command line words it in
/// the user's language. Values the network sent are data and are quoted as they came (cut).
public enum PostbackProblem: Sendable, Hashable {
    case invalidPercentEncoding
    case notUTF8AfterDecoding
    case controlCharacters
    case givenTwice(first: String, second: String)
    case unsubstitutedMacro(String)
    case tooLong(limit: Int)
    case noId
    case noStatus
    case notACurrency(String)
    case notAReasonCode(String)
    case unknownStatusWord(String, network: String)
    case notAnAmount(String)
    case bodyNotAJSONObject
    case bodyNotUTF8

    /// Which kind of failure it is (the receiver's answer and the ledger group by it).
    public var kind: PostbackError.Kind {
        switch self {
        case .invalidPercentEncoding, .notUTF8AfterDecoding, .controlCharacters, .bodyNotAJSONObject, .bodyNotUTF8: return .malformed
        case .givenTwice, .unsubstitutedMacro, .tooLong, .notACurrency, .notAReasonCode, .notAnAmount: return .invalidValue
        case .noId: return .missingId
        case .noStatus: return .missingStatus
        case .unknownStatusWord: return .unknownStatus
        }
    }

    public var english: String {
        switch self {
        case .invalidPercentEncoding: return "invalid percent-encoding"
        case .notUTF8AfterDecoding: return "not valid UTF-8 after percent-decoding"
        case .controlCharacters: return "contains control characters"
        case .givenTwice(let a, let b): return "given twice with different values (\"\(a)\" and \"\(b)\")"
        case .unsubstitutedMacro(let m): return "is the unsubstituted macro \(m): the network did not fill it in"
        case .tooLong(let limit): return "is longer than \(limit) characters"
        case .noId: return "neither oid (our order id) nor eid (the network's id) is given"
        case .noStatus: return "no status given"
        case .notACurrency(let v): return "must be a 3-letter currency code such as USD, found \"\(v)\""
        case .notAReasonCode(let v): return "must be a numeric reason code, found \"\(v)\""
        case .unknownStatusWord(let w, let n): return "unknown status word \"\(w)\" for \(n): add it to the spec's statuses or to the postback's sta/stc/stt/stw/sth lists"
        case .notAnAmount(let v): return "must be a decimal amount below 1e9, found \"\(v)\""
        case .bodyNotAJSONObject: return "the JSON body is not a valid JSON object"
        case .bodyNotUTF8: return "the body is not valid UTF-8"
        }
    }
}
