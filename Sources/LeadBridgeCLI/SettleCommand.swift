import LeadBridgeCore
import LeadBridgeEngine
import LeadBridgeStore

/// `leadbridge settle LEAD --network N --as accepted|not-sent`: the operator looked in the
/// network's cabinet and says whether an `uncertain` lead is there. Accepted: polled from now
/// on; not sent: queued and sent again. Any other state is refused (and journaled).
enum SettleCommand {
    static let command = Command(
        name: "settle", arguments: "<lead>",
        options: [LeadBridgeCommand.json,
                  OptionSpec(name: "network", takesValue: true, valueName: "N"),
                  OptionSpec(name: "as", takesValue: true, valueName: "accepted|not-sent")]
    ) { ctx throws(CLIError) in
        try ctx.expectPositionals(max: 1)
        let orderId = try ctx.positional(0, .orderId)
        let lib = try ctx.library()
        guard let n = ctx.args.value("network") else { throw CLIError.usage(.missingOption("--network N"), command: "settle") }
        let network = try ctx.network(n, in: lib).id
        guard let word = ctx.args.value("as") else { throw CLIError.usage(.missingOption("--as accepted|not-sent"), command: "settle") }
        guard let outcome = SettleAs(rawValue: word) else {
            let words = SettleAs.allCases.map(\.rawValue)
            throw CLIError.usage(.settleAsInvalid(word, suggestion: Suggestions.closest(to: word, among: words, limit: 1).first), command: "settle")
        }
        let config = try ctx.requiredConfig(specs: lib)
        let store = try ctx.openStore(config)
        let ledger = Ledger(store: store, library: lib, config: config, clock: ctx.env.clock)
        let update: LedgerUpdate
        do {
            guard let record = try store.lead(network: network, orderId: orderId),
                  let u = try ledger.settle(rowId: record.rowId, as: outcome) else {
                throw CLIError.validation(.noLeadAtNetwork(lead: orderId, network: network, sentTo: try store.leads(orderId: orderId).map(\.network)))
            }
            update = u
        } catch let e as CLIError { throw e } catch { throw CLIError.config(.store(StoreDetail(error))) }
        if let why = update.decision.refusal {
            throw CLIError.validation(.settleRefused(lead: orderId, network: network, state: update.record.sendState.rawValue, reason: why))
        }
        let from = SendState.uncertain.rawValue, to = update.record.sendState.rawValue
        if ctx.args.has("json") {
            ctx.printJSON(.obj([("lead", .string(orderId)), ("network", .string(network)), ("from", .string(from)), ("to", .string(to)),
                                ("status", .str(update.record.status?.bucket.rawValue))]))
        } else {
            ctx.say(.settledLead(lead: orderId, network: network, from: ctx.t(.state(from)), to: ctx.t(.state(to)), accepted: outcome == .accepted))
        }
        return .success
    }
}
