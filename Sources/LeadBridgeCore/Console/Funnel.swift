/// Leads of one group as the store counts them for the funnel: one network and account, one
/// day of the period, one state, status and payout. The store only groups and counts columns;
/// what each state and status means for the funnel is decided here.
public struct LeadTally: Sendable, Hashable {
    public var network: String
    public var account: String
    /// Days since the first day of the period (0 for the first).
    public var day: Int
    /// Nil for a word this version does not know.
    public var state: SendState?
    public var status: Bucket?
    public var currency: String?
    public var payout: String?
    public var count: Int

    public init(network: String, account: String, day: Int, state: SendState?, status: Bucket?, currency: String? = nil, payout: String? = nil, count: Int) {
        self.network = network
        self.account = account
        self.day = day
        self.state = state
        self.status = status
        self.currency = currency
        self.payout = payout
        self.count = count
    }
}

/// How long leads of one network and account took from entering the ledger to their first
/// final status, grouped by whole minutes (the store's histogram; the median is read from it).
public struct FinalTiming: Sendable, Hashable {
    public var network: String
    public var account: String
    public var minutes: Int64
    public var count: Int
    public init(network: String, account: String, minutes: Int64, count: Int) {
        self.network = network
        self.account = account
        self.minutes = minutes
        self.count = count
    }
}

/// An amount of money as the networks write payouts (`12.5`, `1 200,00`), kept exactly in ten
/// thousandths: sums of many payouts never drift the way binary floating point would.
public struct Money: Sendable, Hashable, Comparable {
    /// The amount in units of 0.0001.
    public var units: Int64

    public init(units: Int64) { self.units = units }

    /// Nil when the text is not a plain decimal number (at most 4 decimals).
    public init?(_ text: String) {
        var digits = Array(text.utf8.filter { $0 != 0x20 && $0 != 0x5F })
        var negative = false
        if digits.first == 0x2D { negative = true; digits.removeFirst() } else if digits.first == 0x2B { digits.removeFirst() }
        guard !digits.isEmpty, digits.count <= 18 else { return nil }
        var whole: Int64 = 0, fraction: Int64 = 0, fractionDigits = 0, seenPoint = false
        for b in digits {
            if b == 0x2E || b == 0x2C {
                guard !seenPoint else { return nil }
                seenPoint = true
            } else if b >= 0x30 && b <= 0x39 {
                if seenPoint {
                    guard fractionDigits < 4 else { return nil }
                    fraction = fraction * 10 + Int64(b - 0x30)
                    fractionDigits += 1
                } else {
                    whole = whole * 10 + Int64(b - 0x30)
                }
            } else {
                return nil
            }
        }
        for _ in fractionDigits..<4 { fraction *= 10 }
        units = (whole * 10_000 + fraction) * (negative ? -1 : 1)
    }

    public static func + (a: Money, b: Money) -> Money { Money(units: a.units &+ b.units) }
    public static func * (a: Money, n: Int) -> Money { Money(units: a.units &* Int64(n)) }
    public static func < (a: Money, b: Money) -> Bool { a.units < b.units }

    /// Two decimals at least, more only when the amount has them (`1250.00`, `0.125`).
    public var text: String {
        let sign = units < 0 ? "-" : ""
        let a = units.magnitude
        var fraction = String(a % 10_000)
        fraction = String(repeating: "0", count: 4 - fraction.count) + fraction
        while fraction.count > 2 && fraction.hasSuffix("0") { fraction.removeLast() }
        return sign + String(a / 10_000) + "." + fraction
    }
}

/// The funnel of one network and account (or of everything) over a period.
public struct FunnelFigures: Sendable, Hashable {
    /// Every lead that entered the ledger in the period.
    public var leads = 0
    /// Leads whose request went out (or may have): accepted, duplicate, rejected, uncertain, sending.
    public var sent = 0
    public var accepted = 0
    public var duplicate = 0
    public var rejected = 0
    public var uncertain = 0
    /// Statuses of the accepted leads (a duplicate is counted as a duplicate, not as trash).
    public var approved = 0
    public var cancelled = 0
    public var trash = 0
    /// Accepted leads without a final status yet.
    public var pending = 0
    /// Not sent yet, or given up: queued, claimed, parked.
    public var waiting = 0
    /// Payouts of approved leads by currency ("" when the network gave none).
    public var payout: [String: Money] = [:]
    /// Approved leads whose payout is not a number (shown, never summed as zero silently).
    public var unreadablePayouts = 0
    /// The median time from entering the ledger to the first final status, in seconds (to the
    /// minute); nil when no lead of the group has one.
    public var medianSecondsToFinal: Int64?

    public init() {}

    /// Approved among the leads with a final status: approved / (approved + cancelled + trash).
    public var approvalRate: Double? {
        let decided = approved + cancelled + trash
        return decided == 0 ? nil : Double(approved) / Double(decided)
    }

    mutating func add(_ t: LeadTally) {
        leads += t.count
        switch t.state {
        case .accepted?:
            sent += t.count
            accepted += t.count
            switch t.status {
            case .approved?:
                approved += t.count
                if let p = t.payout, !p.isEmpty {
                    if let m = Money(p) { payout[t.currency ?? "", default: Money(units: 0)] = payout[t.currency ?? "", default: Money(units: 0)] + m * t.count } else { unreadablePayouts += t.count }
                }
            case .cancelled?: cancelled += t.count
            case .trash?: trash += t.count
            case .pending?, nil: pending += t.count
            }
        case .duplicate?: sent += t.count; duplicate += t.count
        case .rejected?: sent += t.count; rejected += t.count
        case .uncertain?: sent += t.count; uncertain += t.count
        case .sending?: sent += t.count
        case .queued?, .claimed?, .parked?, nil: waiting += t.count
        }
    }
}

/// One day of the funnel's chart.
public struct FunnelDay: Sendable, Hashable {
    /// Unix seconds of the day's start.
    public var start: Int64
    public var sent: Int
    public var accepted: Int
    public var approved: Int
}

/// The funnel page's figures: one row per network and account, the total, and the days.
public struct FunnelReport: Sendable {
    public struct Row: Sendable {
        public var network: String
        public var account: String
        public var figures: FunnelFigures
    }
    public var from: Int64
    public var to: Int64
    public var rows: [Row]
    public var total: FunnelFigures
    public var days: [FunnelDay]

    /// Builds the report of the period `[from, to)` (whole days: `from` is a day's start) from
    /// the store's tallies and final-status timings.
    public init(from: Int64, to: Int64, tallies: [LeadTally], timings: [FinalTiming]) {
        self.from = from
        self.to = to
        var groups: [String: Row] = [:]
        var total = FunnelFigures()
        let dayCount = max(1, Int((to - from + 86_399) / 86_400))
        var days = (0..<dayCount).map { FunnelDay(start: from + Int64($0) * 86_400, sent: 0, accepted: 0, approved: 0) }
        for t in tallies {
            let key = t.network + "\u{1}" + t.account
            groups[key, default: Row(network: t.network, account: t.account, figures: FunnelFigures())].figures.add(t)
            total.add(t)
            if days.indices.contains(t.day) {
                var one = FunnelFigures()
                one.add(t)
                days[t.day].sent += one.sent
                days[t.day].accepted += one.accepted
                days[t.day].approved += one.approved
            }
        }
        var perGroup: [String: [(Int64, Int)]] = [:]
        for t in timings { perGroup[t.network + "\u{1}" + t.account, default: []].append((t.minutes, t.count)) }
        for (key, histogram) in perGroup { groups[key]?.figures.medianSecondsToFinal = Self.median(histogram).map { $0 * 60 } }
        total.medianSecondsToFinal = Self.median(timings.map { ($0.minutes, $0.count) }).map { $0 * 60 }
        rows = groups.values.sorted { ($0.network, $0.account) < ($1.network, $1.account) }
        self.total = total
        self.days = days
    }

    /// The median of a histogram of (value, count): the middle value, or the lower of the two
    /// middle ones for an even count.
    static func median(_ histogram: [(Int64, Int)]) -> Int64? {
        let sorted = histogram.filter { $0.1 > 0 }.sorted { $0.0 < $1.0 }
        let n = sorted.reduce(0) { $0 + $1.1 }
        guard n > 0 else { return nil }
        let target = (n - 1) / 2
        var seen = 0
        for (value, count) in sorted {
            seen += count
            if seen > target { return value }
        }
        return sorted.last?.0
    }
}
