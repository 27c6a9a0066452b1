import LeadBridgeCore
import LeadBridgeEngine

/// `status`: the ledger's health for cron monitors — the last sync pass per network, the
/// outbox, uncertain leads, outgoing postbacks — as a table or JSON; exit 2 when something is
/// wrong under the `health` thresholds of the configuration.
enum StatusCommand {
    static let status = Command(
        name: "status", arguments: "",
        options: [LeadBridgeCommand.json]
    ) { ctx throws(CLIError) in
        try ctx.expectPositionals(max: 0)
        let language = try ctx.language
        let config = try ctx.requiredConfig(specs: try ctx.library())
        let store = try ctx.openStore(config)
        let report: HealthReport
        do { report = try HealthCheck.read(store: store, config: config, now: ctx.now()) } catch { throw CLIError.config(.store(StoreDetail(error))) }
        if ctx.args.has("json") {
            ctx.printJSON(report.json)
        } else {
            ctx.out.out(report.text(language, words: { Say.syncProblem($0).text($1) }))
        }
        return report.healthy ? .success : .partialFailure
    }
}
