/// What running a spec example found different from what the example expects, as a value:
/// worded by the edges in the user's language (`Say+ru+Examples`); `english` is the stable
/// sentence of `test --json`, `lint --json` and `--lang en`. Values quoted from the spec, the
/// request or the response (urls, bodies, ids, statuses, a network's message) are data and
/// stay as they are in every language.
public indirect enum ExampleDifference: Sendable, Hashable {
    /// Which part of a request a field-by-field difference is in.
    public enum Part: String, Sendable, Hashable, CaseIterable {
        case query, form, json
    }

    // MARK: The request built against the expected one
    case method(expected: String, built: String)
    case url(expected: String, built: String)
    /// Same address, the query differs but not field by field (encoding or order of repeats).
    case urlQuery(expected: String, built: String)
    case header(name: String, expected: String, built: String?)
    case fieldDiffers(Part, key: String, expected: String, built: String)
    case fieldMissing(Part, key: String, expected: String)
    case fieldNotExpected(Part, key: String, built: String)
    case fieldOrder(Part, expected: [String], built: [String])
    case jsonBytes
    case body(expected: String, built: String)
    /// A difference in request `n` (1-based) of an example with several requests.
    case inRequest(Int, ExampleDifference)

    // MARK: Sending a lead
    /// The send produced an outcome before exchange `exchange` (0-based: the requests made).
    case sendEnded(exchange: Int, outcome: String?)
    case result(expected: String, got: String, message: String?)
    case externalId(expected: String, got: String?)
    case message(expected: String, got: String)
    case sendNeedsMoreExchanges
    case cannotPrepare(SendPreparationError)
    case cannotBuild(DiagnosticMessage)

    // MARK: Polling statuses
    case noPollBlock
    case pollEnded(exchange: Int)
    case failureDiffers(expected: String, got: PollFailure)
    /// The poll failed where the example expects statuses.
    case pollFailed(PollFailure)
    case pollDidNotFail(expected: String)
    case pollWantsMore
    case noStatusFound(lead: String)
    case status(lead: String, expected: String, got: String?, raw: String)
    case raw(lead: String, expected: String, got: String)

    // MARK: Outgoing postbacks to a source
    case noOutgoing(String)
    case outgoingSendsNothing(status: String, outgoing: String)
    case accountLacks([String])
    case outgoingSends(status: String, word: String, outgoing: String)

    /// The stable English sentence (may hold a line break between an expected and a built value).
    public var english: String {
        func q(_ s: String) -> String { "\"\(s)\"" }
        func requests(_ n: Int) -> String { n == 1 ? "1 request" : "\(n) requests" }
        switch self {
        case .method(let e, let b): return "method: expected \(e), built \(b)"
        case .url(let e, let b): return "url: expected \(e)\n        built \(b)"
        case .urlQuery(let e, let b): return "url query: expected \(e)\n              built \(b)"
        case .header(let n, let e, let b): return "header \(n): expected \(q(e)), built " + (b.map(q) ?? "none")
        case .fieldDiffers(let p, let k, let e, let b): return "\(p.rawValue) \(k): expected \(q(e)), built \(q(b))"
        case .fieldMissing(let p, let k, let e): return "\(p.rawValue) \(k): missing (expected \(q(e)))"
        case .fieldNotExpected(let p, let k, let b): return "\(p.rawValue) \(k): not expected (built \(q(b)))"
        case .fieldOrder(let p, let e, let b):
            return "\(p.rawValue) field order: expected \(e.joined(separator: ", ")); built \(b.joined(separator: ", "))"
        case .jsonBytes: return "json: same fields, different bytes (key order or escaping)"
        case .body(let e, let b): return "body: expected \(e)\n         built \(b)"
        case .inRequest(let n, let d): return "request \(n): \(d.english)"
        case .sendEnded(let i, let o): return "exchange \(i): the send ended after \(requests(i)) with \(o ?? "?")"
        case .result(let e, let g, let m): return "result: expected \(e), got \(g)" + (m.map { " (\($0))" } ?? "")
        case .externalId(let e, let g): return "externalId: expected \(e), got \(g ?? "none")"
        case .message(let e, let g): return "message: expected \(q(e)), got \(q(g))"
        case .sendNeedsMoreExchanges: return "the send needs more exchanges than the example gives"
        case .cannotPrepare(let e): return e.description
        case .cannotBuild(let m): return m.english
        case .noPollBlock: return "no poll block"
        case .pollEnded(let i): return "exchange \(i): polling ended after \(requests(i))"
        case .failureDiffers(let e, let g): return "expected a failure with \(q(e)), got \(q(g.english))"
        case .pollFailed(let f): return "failed: \(f.english)"
        case .pollDidNotFail(let e): return "expected the poll to fail with \(q(e)), it did not"
        case .pollWantsMore: return "polling wants more requests than the example gives"
        case .noStatusFound(let l): return "lead \(l): no status found"
        case .status(let l, let e, let g, let raw): return "lead \(l): expected \(e), got \(g ?? "unknown") (raw \(raw))"
        case .raw(let l, let e, let g): return "lead \(l): expected raw \(q(e)), got \(q(g))"
        case .noOutgoing(let o): return "no outgoing postback \(q(o))"
        case .outgoingSendsNothing(let s, let o): return "expected a request, but \(s) sends nothing to \(o) for this lead"
        case .accountLacks(let missing): return "the example account lacks \(missing.joined(separator: ", "))"
        case .outgoingSends(let s, let w, let o): return "expected no request, but \(s) sends \(q(w)) to \(o)"
        }
    }
}
