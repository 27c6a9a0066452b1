/// What can settle an `uncertain` lead of a network: the lead has no external id yet, so only
/// what finds it by our order id can tell, besides the operator.
public enum Settlement: String, Sendable, Hashable, CaseIterable {
    /// Its postback, when the network's postbacks carry our order id.
    case postback
    /// A status poll that asks by our order id (or lists leads matched by it).
    case poll
    /// `leadbridge settle LEAD --network N --as accepted|not-sent`, after a look in the cabinet.
    case settle
    /// `leadbridge send … --resend`: sent again on purpose.
    case resend
}

extension NetworkSpec {
    /// Postbacks that name our order id (a tail with `oid=`, an order-id macro, or a form).
    public var postbacksCarryOrderId: Bool {
        guard hasPostbacks, let p = postbacks else { return false }
        return p.form != nil || p.macros.contains { $0.meaning == .orderId } || p.items.contains { $0.tail?.contains("oid=") == true }
    }

    /// A status poll that can find a lead by our order id.
    public var pollLooksUpByOrderId: Bool {
        guard let poll else { return false }
        return poll.by == .order || (poll.pagination != nil && poll.match == .order)
    }

    /// What settles an uncertain lead here, what happens by itself first.
    public var settlements: [Settlement] {
        (postbacksCarryOrderId ? [.postback] : []) + (pollLooksUpByOrderId ? [.poll] : []) + [.settle, .resend]
    }
}
