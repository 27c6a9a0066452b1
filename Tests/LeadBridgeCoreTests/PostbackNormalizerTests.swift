import Testing
import LeadBridgeCore

/// One incoming postback and what it must become.
struct PostbackCase: CustomStringConvertible, Sendable {
    var network: String
    var query: String
    var status: Bucket?
    var detail: String? = nil
    var orderId: String? = "A-1001"
    var externalId: String? = nil
    var payout: String? = nil
    var currency: String? = nil
    var reason: String? = nil
    var description: String { "\(network): \(query)" }
}

@Suite struct PostbackNormalizerTests {
    static func normalize(_ network: String, _ query: String) throws(PostbackError) -> NormalizedPostback {
        let spec = Fixtures.spec(network)
        return try PostbackNormalizer.normalize(try QueryString.parse(query), spec: spec, defaults: Fixtures.library.defaults)
    }

    /// The networks' own tails from the document, filled in as each network would fill them.
    static let documentTails: [PostbackCase] = [
        PostbackCase(network: "adbees", query: "oid=A-1001&status=11&sta=11&stc=12&stt=13", status: .approved),
        PostbackCase(network: "adbees", query: "oid=A-1001&status=12&sta=11&stc=12&stt=13", status: .cancelled),
        PostbackCase(network: "adbees", query: "oid=A-1001&status=13&sta=11&stc=12&stt=13", status: .trash),
        PostbackCase(network: "adbees", query: "oid=A-1001&status=10&sta=11&stc=12&stt=13", status: .pending, detail: "waiting"),
        PostbackCase(network: "cpahouse", query: "oid=A-1001&status=fake&stt=fake&stw=in_processing", status: .trash),
        PostbackCase(network: "cpahouse", query: "oid=A-1001&status=in_processing&stt=fake&stw=in_processing", status: .pending, detail: "waiting"),
        PostbackCase(network: "cpahouse", query: "oid=A-1001&status=accepted&stt=fake&stw=in_processing", status: .approved),
        PostbackCase(network: "drcash", query: "oid=A-1001&status=hold&stw=hold", status: .pending, detail: "waiting"),
        PostbackCase(network: "drcash", query: "oid=A-1001&status=approved&stw=hold", status: .approved),
        PostbackCase(network: "drcash", query: "oid=A-1001&status=trash&stw=hold", status: .trash),
        PostbackCase(network: "everad", query: "oid=A-1001&status=approved&pay=12.50&cc=usd", status: .approved, payout: "12.50", currency: "USD"),
        PostbackCase(network: "rocketprofit", query: "oid=A-1001&status=rejected&pay=0&cc=RUB", status: .cancelled, payout: "0", currency: "RUB"),
        PostbackCase(network: "ikon", query: "oid=A-1001&status=approve&comment=ok", status: .approved),
        PostbackCase(network: "ikon", query: "oid=A-1001&status=trash&comment=bad+phone", status: .trash),
        PostbackCase(network: "ikon", query: "oid=A-1001&status=cancel&comment=refused", status: .cancelled),
        PostbackCase(network: "ikon", query: "oid=A-1001&status=cancel&reason=7&comment=dup", status: .trash, detail: "duplicate", reason: "7"),
        PostbackCase(network: "inb-failsafe", query: "oid=A-1001&status=Processing&stw=Processing", status: .pending, detail: "waiting"),
        PostbackCase(network: "inb-order", query: "oid=A-1001&status=processing&stw=Processing", status: .pending, detail: "waiting"),
        PostbackCase(network: "leadbit", query: "oid=A-1001&status=approved", status: .approved),
        PostbackCase(network: "leadrock", query: "oid=A-1001&status=approve", status: .approved),
        PostbackCase(network: "leadrock", query: "oid=A-1001&status=cancel", status: .cancelled),
        PostbackCase(network: "leadrock", query: "oid=A-1001&status=trash", status: .trash),
        PostbackCase(network: "limonad", query: "oid=A-1001&status=approve", status: .approved),
        PostbackCase(network: "limonad", query: "oid=A-1001&status=cancel", status: .cancelled),
        PostbackCase(network: "metacpa", query: "oid=A-1001&status=approve&pay=7&cc=EUR", status: .approved, payout: "7", currency: "EUR"),
        PostbackCase(network: "metacpa", query: "oid=A-1001&status=cancel", status: .cancelled),
        PostbackCase(network: "monadlead", query: "eid=c-77&status=approve", status: .approved, orderId: nil, externalId: "c-77"),
        PostbackCase(network: "monadlead", query: "eid=c-77&status=trash", status: .trash, orderId: nil, externalId: "c-77"),
        PostbackCase(network: "offerrum", query: "oid=A-1001&status=declined", status: .cancelled),
        PostbackCase(network: "shakes", query: "oid=A-1001&status=reject&stt=reject", status: .trash),
        PostbackCase(network: "terextrade", query: "oid=A-1001&status=approved", status: .approved),
        PostbackCase(network: "traffury", query: "oid=A-1001&status=hold&stw=hold", status: .pending, detail: "waiting"),
        PostbackCase(network: "traffury", query: "oid=A-1001&status=Approved&stw=hold", status: .approved),
    ]

    @Test(arguments: documentTails)
    func documentTail(_ c: PostbackCase) throws {
        let r = try Self.normalize(c.network, c.query)
        #expect(r.status == c.status)
        #expect(r.detail == c.detail)
        #expect(r.orderId == c.orderId)
        #expect(r.externalId == c.externalId)
        #expect(r.payout == c.payout)
        #expect(r.currency == c.currency)
        #expect(r.reason == c.reason)
    }

    /// Every tail of every spec, with its macros filled by meaning, must be understood by the
    /// receiver (a tail that does not round-trip is caught here).
    @Test func everySpecTailRoundTrips() throws {
        var checked = 0
        for spec in Fixtures.library.specs {
            guard let pb = spec.postbacks else { continue }
            for item in pb.items {
                guard let tail = item.tail else { continue }
                let words = Self.statusWords(spec, tail: tail)
                for word in words {
                    var query = tail
                    for (macro, meaning) in pb.macros {
                        let value: String
                        switch meaning {
                        case .orderId: value = "A-1001"
                        case .externalId: value = "X-9"
                        case .status: value = word
                        case .payout: value = "10.5"
                        case .currency: value = "USD"
                        case .comment: value = "note"
                        case .reason: value = "7"
                        case .offer, .other: value = "x"
                        }
                        query = query.replacingAll(macro, with: value)
                    }
                    let r = try PostbackNormalizer.normalize(try QueryString.parse(query), spec: spec, defaults: Fixtures.library.defaults)
                    #expect(r.status != nil, "\(spec.id): \(query)")
                    #expect(r.orderId == "A-1001" || r.externalId == "X-9", "\(spec.id): \(query)")
                    checked += 1
                }
            }
        }
        #expect(checked >= 40)
    }

    /// Words the network could put into the tail's status.
    static func statusWords(_ spec: NetworkSpec, tail: String) -> [String] {
        let pairs = TailParser.pairs(tail)
        if let status = pairs.first(where: { $0.0 == "status" })?.1, TailParser.macro(in: status) == nil { return [status] }
        let words = StatusBucket.allCases.compactMap { spec.statuses.words[$0]?.first(where: { !$0.contains("*") && !$0.contains(":") }) }
        return words.isEmpty ? ["approved"] : words
    }

    @Test func caseInsensitiveAndOverridesWin() throws {
        #expect(try Self.normalize("leadrock", "OID=A-1001&Status=APPROVE").status == .approved)
        // An override list in the URL beats the spec: "approve" declared as trash here.
        #expect(try Self.normalize("leadrock", "oid=A-1001&status=approve&stt=Approve").status == .trash)
        #expect(try Self.normalize("kma", "oid=A-1001&status=x1&sth=x1,x2").detail == "hold")
    }

    @Test func sameWordMeansDifferentThingsPerNetwork() throws {
        #expect(try Self.normalize("terraleads", "oid=A-1&status=accept").status == .pending)
        #expect(try Self.normalize("cpagetti", "oid=A-1&status=accept").status == .approved)
        #expect(try Self.normalize("trafficlight", "oid=A-1&status=1").status == .pending)
        #expect(try Self.normalize("metacpa", "oid=A-1&status=1").status == .approved)
    }

    @Test func percentEncodedAndPlusValues() throws {
        let r = try Self.normalize("ikon", "oid=A%2D1001&status=cancel&comment=%D0%BD%D0%B5+%D0%B4%D0%BE%D0%B7%D0%B2%D0%BE%D0%BD")
        #expect(r.orderId == "A-1001")
        #expect(r.comment == "не дозвон")
    }

    @Test(arguments: [
        ("status=approve", PostbackError.Kind.missingId, "oid"),
        ("oid=&eid=&status=approve", .missingId, "oid"),
        ("oid=A-1", .missingStatus, "status"),
        ("oid=A-1&status=teleported", .unknownStatus, "status"),
        ("oid={sub1}&status=approve", .invalidValue, "oid"),
        ("oid=[sub_id1]&status=approve", .invalidValue, "oid"),
        ("oid=A-1&status=approve&status=cancel", .invalidValue, "status"),
        ("oid=A-1&status=approve&pay=1e308", .invalidValue, "pay"),
        ("oid=A-1&status=approve&pay=99999999999", .invalidValue, "pay"),
        ("oid=A-1&status=approve&pay=abc", .invalidValue, "pay"),
        ("oid=A-1&status=approve&cc=dollars", .invalidValue, "cc"),
        ("oid=A-1&status=approve&reason=dup", .invalidValue, "reason"),
        ("oid=A-1&status=%E2%28", .malformed, "status"),
    ])
    func rejects(query: String, kind: PostbackError.Kind, field: String) {
        do {
            let r = try Self.normalize("leadrock", query)
            Issue.record("accepted \(query): \(r)")
        } catch {
            #expect(error.kind == kind, "\(query): \(error)")
            #expect(error.field == field, "\(query): \(error)")
        }
    }

    @Test func unknownWordKeepsWhatWasUnderstood() {
        do {
            _ = try Self.normalize("leadrock", "oid=A-1&status=teleported&pay=3")
            Issue.record("unknown word accepted")
        } catch {
            #expect(error.partial?.orderId == "A-1")
            #expect(error.partial?.status == nil)
            #expect(error.partial?.rawStatus == "teleported")
        }
    }

    @Test func repeatedIdenticalParametersAreFine() throws {
        let r = try Self.normalize("leadrock", "oid=A-1&oid=A-1&status=approve&token=T")
        #expect(r.orderId == "A-1")
        #expect(r.json == JSONValue.obj([
            ("order_id", .string("A-1")), ("external_id", .null), ("status", .string("approved")), ("raw_status", .string("approve")),
            ("detail", .null), ("payout", .null), ("currency", .null), ("comment", .null), ("reason", .null),
        ]))
    }

    /// The original utility's own words pass through every network whose global tail hands
    /// over its `{status}` (LeadBit, TerexTrade, Offerrum): approve, cancel, trash, hold.
    @Test(arguments: ["leadbit", "terextrade", "offerrum"])
    func originalUtilityWordsAreCommon(network: String) throws {
        for (word, bucket) in [("approve", Bucket.approved), ("cancel", .cancelled), ("trash", .trash), ("hold", .pending)] {
            let r = try Self.normalize(network, "oid=A-1&status=\(word)")
            #expect(r.status == bucket, "\(network) \(word)")
            #expect(r.recognizedBy == .spec || r.recognizedBy == .defaults)
        }
    }

    /// A spec's word wins over the common vocabulary: `accept` is pending at TerraLeads but
    /// approved by the common list; `hold` is a sale at CPAgetti.
    @Test func specWordsWinOverTheCommonVocabulary() throws {
        let defaults = Fixtures.library.defaults
        #expect(defaults.statuses.lookup("accept")?.bucket == .approved)
        #expect(try Self.normalize("terraleads", "oid=A-1&status=accept").status == .pending)
        #expect(try Self.normalize("cpagetti", "oid=A-1&status=hold").status == .approved)
        #expect(try Self.normalize("cpagetti", "oid=A-1&status=hold").recognizedBy == .spec)
        #expect(try Self.normalize("leadbit", "oid=A-1&status=callback").recognizedBy == .defaults)
    }

    /// Every raw word that public tracker template packs record for our networks
    /// (Tests/Fixtures/tracker-status-words.json, from the Keitaro export shipped by Orbitra,
    /// Orbitra's built-in list and CPA Tracker) lands in the bucket the tracker gives it; the
    /// trackers have no trash list, so their "rejected" is cancelled or trash.
    @Test func trackerTemplateWordsNormalizeAsTheTrackersSay() throws {
        let data = try #require(Fixtures.text("Tests/Fixtures/tracker-status-words.json"))
        let rows = try #require(try JSONParser.parse(data).arrayValue)
        #expect(rows.count == 137)
        var wrong: [String] = []
        for row in rows {
            guard let network = row["network"]?.stringValue, let word = row["word"]?.stringValue,
                  let tracker = row["tracker"]?.stringValue.flatMap(Bucket.init(rawValue:)) else { Issue.record("bad row \(row)"); continue }
            let got = try? Self.normalize(network, "oid=A-1&status=\(PercentEncoding.rfc3986(word))").status
            let ok = got == tracker || (tracker == .cancelled && got == .trash)
            if !ok { wrong.append("\(network) \(word): tracker \(tracker.rawValue), we \(got?.rawValue ?? "unknown")") }
        }
        #expect(wrong.isEmpty, "\(wrong.joined(separator: "\n"))")
    }
}
