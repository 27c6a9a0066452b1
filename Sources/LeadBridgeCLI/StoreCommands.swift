import LeadBridgeCore
import LeadBridgeStore

/// `migrate`: the store's schema brought up to date on purpose, with what was applied.
enum StoreCommands {
    static let migrate = Command(
        name: "migrate", arguments: "",
        summary: Localized(ru: "обновить схему хранилища (миграции по порядку, каждая записывается)",
                           en: "bring the store's schema up to date (migrations in order, each recorded)"),
        options: [LeadBridgeCommand.json]
    ) { ctx throws(CLIError) in
        try ctx.expectPositionals(max: 0)
        let config = try ctx.requiredConfig(specs: try ctx.library())
        let store = try ctx.openStore(config, policy: .apply)
        let report = store.database.migrationReport
        let location = store.database.path
        if ctx.args.has("json") {
            ctx.printJSON(.obj([("store", .string(location)), ("from", .int(report.from)), ("to", .int(report.to)),
                                ("applied", .array(report.applied.map { .obj([("version", .int($0.version)), ("name", .string($0.name))]) }))]))
            return .success
        }
        if report.applied.isEmpty {
            ctx.out.out("\(location): schema version \(report.to), up to date")
        } else {
            ctx.out.out("\(location): schema version \(report.from) → \(report.to)")
            for step in report.applied { ctx.out.out("  applied \(step.version) \(step.name)") }
        }
        return .success
    }
}
