/// What a traffic source is owed for an approved lead (`sources.NAME.price` in
/// `leadbridge.json`): configured, never guessed. Every other status is owed 0 — LeadCraft:
/// "price=0 may be passed for unfinished and cancelled actions" — so a `cancelled` postback
/// never carries money.
public enum SourcePrice: Sendable, Hashable {
    /// The same amount for every approved lead: `{"fixed": "1500"}`.
    case fixed(String)
    /// By the lead's offer (its `params.offer`, the field intake routes use), with an optional
    /// amount for other offers: `{"offers": {"credit": "1500", "card": "700"}, "default": "500"}`.
    case perOffer([String: String], default: String?)
    /// The network's payout in the source's currency: as is when it is in that currency,
    /// else multiplied by the configured rate and rounded half up to 2 decimals; a payout in a
    /// currency without a rate, or without any currency (unless `assume` names one), gives no
    /// price. `{"payout": {"currency": "RUB", "rates": {"USD": "92.5"}, "assume": "RUB"}}`.
    case payout(currency: String, rates: [String: String], assume: String?)

    /// The price of an approved lead; nil when the configuration gives none for it (then no
    /// price is sent rather than a guessed one).
    public func approvedPrice(offer: String?, payout: String?, currency: String?) -> String? {
        switch self {
        case .fixed(let amount): return Amount(amount)?.text
        case .perOffer(let offers, let fallback): return (offer.flatMap { offers[$0] } ?? fallback).flatMap { Amount($0)?.text }
        case .payout(let target, let rates, let assume):
            guard let payout, let amount = Amount(payout) else { return nil }
            let from = (currency?.trimmingWhitespace.uppercased()).flatMap { $0.isEmpty ? nil : $0 } ?? assume?.uppercased()
            guard let from else { return nil }
            if from == target.uppercased() { return amount.text }
            guard let rate = rates.first(where: { $0.key.uppercased() == from }).flatMap({ Amount($0.value) }) else { return nil }
            return amount.times(rate)?.text
        }
    }

    /// `{price}` of an outgoing postback: the configured price of an approved lead, 0 for any
    /// other status.
    public static func price(for bucket: Bucket?, configured: SourcePrice?, offer: String?, payout: String?, currency: String?) -> String? {
        guard bucket == .approved else { return "0" }
        return configured?.approvedPrice(offer: offer, payout: payout, currency: currency)
    }

    /// The amounts written in the configuration that are not amounts (the reader reports them).
    public var invalidAmounts: [String] {
        switch self {
        case .fixed(let a): return Amount(a) == nil ? [a] : []
        case .perOffer(let offers, let d): return (Array(offers.values) + [d].compactMap { $0 }).filter { Amount($0) == nil }.sorted()
        case .payout(_, let rates, _): return rates.values.filter { Amount($0) == nil }.sorted()
        }
    }
}

/// A non-negative decimal amount with up to 6 decimals ("1500", "12.50", "92,37"), exact.
struct Amount: Sendable, Hashable {
    /// The amount × 10^scale.
    var units: Int128
    var scale: Int

    init?(_ text: String) {
        let t = text.trimmingWhitespace.replacingAll(",", with: ".")
        let parts = t.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let whole = parts.first, !whole.isEmpty, whole.count <= 15,
              whole.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        let fraction = parts.count == 2 ? parts[1] : ""
        guard fraction.count <= 6, fraction.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), parts.count == 1 || !fraction.isEmpty,
              let w = Int128(String(whole)), let f = fraction.isEmpty ? 0 : Int128(String(fraction)) else { return nil }
        var scaleFactor: Int128 = 1
        for _ in 0..<fraction.count { scaleFactor *= 10 }
        units = w * scaleFactor + f
        scale = fraction.count
    }

    init(units: Int128, scale: Int) {
        self.units = units
        self.scale = scale
    }

    /// The product rounded half up to 2 decimals.
    func times(_ other: Amount) -> Amount? {
        let product = units * other.units
        let scale = self.scale + other.scale
        guard scale > 2 else { return Amount(units: product, scale: scale) }
        var divisor: Int128 = 1
        for _ in 0..<(scale - 2) { divisor *= 10 }
        return Amount(units: (product + divisor / 2) / divisor, scale: 2)
    }

    /// Whole amounts without decimals ("1500"); otherwise 2 decimals or as many as written.
    var text: String {
        var divisor: Int128 = 1
        for _ in 0..<scale { divisor *= 10 }
        let whole = units / divisor, fraction = units % divisor
        if fraction == 0 { return String(whole) }
        var digits = String(fraction)
        digits = String(repeating: "0", count: scale - digits.count) + digits
        while digits.count > 2, digits.hasSuffix("0") { digits.removeLast() }
        if digits.count < 2 { digits += "0" }
        return "\(whole).\(digits)"
    }
}
