import LeadBridgeCore

/// What the console's tallies (schema 7) count of one lead: its groupings' columns as the
/// `leads` table holds them. Two leads with equal groupings count in the same tally rows.
struct TalliedLead: Sendable, Hashable {
    var network: String
    var account: String
    var createdAt: Int64
    var state: String
    var status: String?
    var currency: String?
    var payout: String?
    var finalAt: Int64?

    init(network: String, account: String, createdAt: Int64, facts f: LeadFacts) {
        self.network = network
        self.account = account
        self.createdAt = createdAt
        state = f.state.rawValue
        status = f.status?.bucket.rawValue
        currency = f.currency
        payout = f.payout
        finalAt = f.finalAt
    }

    init(_ r: LeadRecord) { self.init(network: r.network, account: r.account, createdAt: r.createdAt, facts: r.facts) }

    /// The same lead with new facts (and a new account when one is given), as a save leaves it.
    func with(_ f: LeadFacts, account: String?) -> TalliedLead {
        TalliedLead(network: network, account: account ?? self.account, createdAt: createdAt, facts: f)
    }

    /// `lead_tallies`' key (`SQLiteSchema.funnelKey`).
    struct FunnelKey: Hashable {
        var network: String, account: String, state: String, status: String?, day: Int64, currency: String?, payout: String?
    }

    /// `final_tallies`' key (`SQLiteSchema.finalKey`).
    struct FinalKey: Hashable {
        var state: String, day: Int64, network: String, account: String, minutes: Int64
    }

    // SQLite's integer division truncates toward zero, as Swift's does.
    var funnelKey: FunnelKey {
        FunnelKey(network: network, account: account, state: state, status: status, day: createdAt / 86_400, currency: currency, payout: payout)
    }

    var finalKey: FinalKey? {
        finalAt.map { FinalKey(state: state, day: createdAt / 86_400, network: network, account: account, minutes: ($0 - createdAt) / 60) }
    }
}

/// The tallies' changes of one write transaction (SQLite, schema 11), summed in memory as the
/// writer inserts and updates leads and applied at its end, in the same transaction: one
/// UPDATE per distinct tally row instead of a trigger's four statements per lead written.
///
/// Why: the tally triggers cost a status change about 8–9 µs of serve's CPU (round 7), while a
/// batch of status changes moves most of its leads between the same few tally rows.
/// The tallies stay exact because every write of a lead by leadbridge goes through
/// `SQLLedgerWriter`, which reports each one here with what the row held before (the leads it
/// read in the transaction, its own earlier saves, else the row read back), and a transaction
/// that rolls back drops these sums with everything else. Writes outside leadbridge (ad-hoc
/// SQL) are followed by `SQLiteSchema.recountTallies` (README, "The ledger").
struct SQLiteTallyKeeper {
    private var funnel: [TalliedLead.FunnelKey: Int64] = [:]
    private var final: [TalliedLead.FinalKey: Int64] = [:]
    /// Each lead the transaction read or wrote, as the table holds it now.
    private var leads: [Int64: TalliedLead] = [:]

    /// A lead read from the table in this transaction (what it holds now).
    mutating func read(_ r: LeadRecord) { leads[r.rowId] = TalliedLead(r) }

    /// What the transaction knows the table holds for `rowId` (nil: not read yet).
    func known(_ rowId: Int64) -> TalliedLead? { leads[rowId] }

    /// The lead `rowId` moved from `old` (nil: inserted) to `new`.
    mutating func moved(_ rowId: Int64, from old: TalliedLead?, to new: TalliedLead) {
        leads[rowId] = new
        guard old != new else { return }
        if let old {
            let (a, b) = (old.funnelKey, new.funnelKey)
            if a != b { funnel[a, default: 0] -= 1; funnel[b, default: 0] += 1 }
            let (c, d) = (old.finalKey, new.finalKey)
            if c != d {
                if let c { final[c, default: 0] -= 1 }
                if let d { final[d, default: 0] += 1 }
            }
        } else {
            funnel[new.funnelKey, default: 0] += 1
            if let d = new.finalKey { final[d, default: 0] += 1 }
        }
    }

    /// Adds the sums to the tally rows (creating the rows that are missing), then forgets them.
    mutating func apply(_ c: any SQLConnection) throws(StoreError) {
        for (k, n) in funnel where n != 0 {
            let match: [SQLValue] = [.text(k.network), .text(k.account), .text(k.state), .opt(k.status), .int(k.day), .opt(k.currency), .opt(k.payout)]
            if try c.run(Self.funnelUpdate, [.int(n)] + match) == 0 { try c.run(Self.funnelInsert, match + [.int(n)]) }
        }
        for (k, n) in final where n != 0 {
            try c.run(Self.finalUpsert, [.text(k.state), .int(k.day), .text(k.network), .text(k.account), .int(k.minutes), .int(n)])
        }
        funnel = [:]
        final = [:]
    }

    static let funnelUpdate = """
        UPDATE lead_tallies SET n = n + ? WHERE network = ? AND account = ? AND state = ? AND status IS ? AND day = ? AND currency IS ? AND payout IS ?
        """
    static let funnelInsert = "INSERT INTO lead_tallies (network, account, state, status, day, currency, payout, n) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    static let finalUpsert = """
        INSERT INTO final_tallies (state, day, network, account, minutes, n) VALUES (?, ?, ?, ?, ?, ?)
          ON CONFLICT (state, day, network, account, minutes) DO UPDATE SET n = n + excluded.n
        """
}
