import LeadBridgeCore

/// The lifecycle's reasons as docs/lifecycle.md lists them: one example of each, its stable
/// code and its wording in English and Russian from the Say catalogs (a test keeps the
/// document's `reasons` section current, and the golden files hold the same lines).
enum LifecycleReasonsDocument {
    /// One reason of every kind, with example values.
    static var examples: [LifecycleReason] {
        LifecycleNote.allCases.map { .note($0) } + LifecycleStateNote.allCases.map { .inState($0, .accepted) } + [
            .otherNetwork(reporter: "drcash", network: "kma"), .finalNeverPending(from: .approved), .needsChargebacks(to: .cancelled),
            .externalIdTaken(externalId: "9", order: "A-1"), .alreadyInLedger(.accepted), .noRule(.claimed, .accepted),
            .noStatusRule(from: nil, to: .pending), .parked(attempts: 3, lastError: "HTTP 503"), .statusRefused(.needsChargebacks(to: .trash)),
        ]
    }

    /// The table of docs/lifecycle.md's `reasons` section.
    static var section: String {
        var lines = ["| code | example (English) | пример (русский) |", "|---|---|---|"]
        for r in examples {
            let code = "`" + ([r.code] + r.arguments).joined(separator: " ") + "`"
            lines.append("| " + [code, Say.lifecycleReason(r).text(.en), Say.lifecycleReason(r).text(.ru)].map { $0.replacingAll("|", with: "\\|") }.joined(separator: " | ") + " |")
        }
        return lines.joined(separator: "\n")
    }
}
