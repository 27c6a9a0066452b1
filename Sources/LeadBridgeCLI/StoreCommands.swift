import LeadBridgeCore
import LeadBridgeStore

/// `migrate`: the store's schema brought up to date on purpose, with what was applied.
/// `copy-store`: a ledger moved between SQLite and PostgreSQL, its counts verified.
enum StoreCommands {
    static let migrate = Command(
        name: "migrate", arguments: "",
        options: [LeadBridgeCommand.json]
    ) { ctx throws(CLIError) in
        try ctx.expectPositionals(max: 0)
        let config = try ctx.requiredConfig(specs: try ctx.library())
        let opened = try ctx.openLedger(config, policy: .apply)
        let report = opened.migrationReport
        let location = opened.display
        if ctx.args.has("json") {
            ctx.printJSON(.obj([("store", .string(location)), ("from", .int(report.from)), ("to", .int(report.to)),
                                ("applied", .array(report.applied.map { .obj([("version", .int($0.version)), ("name", .string($0.name))]) }))]))
            return .success
        }
        if report.applied.isEmpty {
            ctx.say(.schemaUpToDate(path: location, version: report.to))
        } else {
            ctx.say(.schemaMigrated(path: location, from: report.from, to: report.to))
            for step in report.applied { ctx.say(.migrationApplied(version: step.version, name: step.name)) }
        }
        return .success
    }

    static let copyStore = Command(
        name: "copy-store", arguments: "FROM TO",
        options: [LeadBridgeCommand.json]
    ) { ctx throws(CLIError) in
        try ctx.expectPositionals(max: 2)
        let fromValue = try ctx.positional(0, .storeFrom)
        let toValue = try ctx.positional(1, .storeTo)
        let from = try ctx.openLedger(store: fromValue, relativeTo: ctx.env.currentDirectory, mustExist: true)
        let to = try ctx.openLedger(store: toValue, relativeTo: ctx.env.currentDirectory)
        guard from.display != to.display else { throw CLIError.usage(.copySameStore, command: "copy-store") }
        let report: LedgerCopyReport
        do { report = try LedgerCopy.copy(from: from.store, to: to.store) } catch { throw CLIError.config(.copyFailed("\(error)")) }
        if ctx.args.has("json") {
            ctx.printJSON(.obj([("from", .string(from.display)), ("to", .string(to.display)), ("verified", .bool(report.verified)),
                                ("counts", .array(report.counts.map { .obj([("what", .string($0.what)), ("source", .int($0.source)), ("target", .int($0.target))]) })),
                                ("copied", .object(JSONObject(pairs: report.copied.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) })))]))
        } else {
            ctx.out.out("\(from.display) → \(to.display)")
            var rows = [[""] + ctx.columns(.copyColumns)]
            let tableOf = ["leads": "leads", "raw postbacks": "raw_postbacks", "outgoing postbacks": "outgoing_postbacks"]
            for c in report.counts {
                rows.append([ctx.t(.copyWhat(c.what)), "\(c.source)", "\(c.target)", tableOf[c.what].map { "\(report.copied[$0] ?? 0)" } ?? ""])
            }
            ctx.out.out(TextTable.render(rows))
            ctx.say(.copyVerified(report.verified))
        }
        guard report.verified else { throw CLIError.partial(.copyCountsDiffer) }
        return .success
    }
}
