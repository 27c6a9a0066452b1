import LeadBridgeCore
import LeadBridgeStore

/// Reads what health is made of from the ledger (latest sync passes, leads waiting by state,
/// outgoing postbacks) and lets Core's `HealthReport` judge it under the configuration's
/// thresholds: `leadbridge status`, the console's Health page and `/metrics` all use this.
public enum HealthCheck {
    /// The states health looks at: the outbox (queued, claimed, sending), uncertain, parked.
    static let watchedStates: [SendState] = [.queued, .claimed, .sending, .uncertain, .parked]

    public static func read(store: any LeadStore, config: LeadBridgeConfig, now: Int64) throws(StoreError) -> HealthReport {
        let thresholds = config.health
        let networks = Set(config.accounts.values.map(\.network)).union(config.unavailableAccounts.values.map(\.account.network))
        return HealthReport(now: now, thresholds: thresholds, networks: networks.sorted(), passes: try store.latestSyncPasses(),
                            states: try store.stateTallies(states: watchedStates, dueCutoff: now - thresholds.outboxStuckSeconds),
                            outgoing: try store.outgoingTallies())
    }
}
