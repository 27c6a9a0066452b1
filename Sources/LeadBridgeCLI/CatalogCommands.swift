import LeadBridgeCore

/// The manager's commands: list networks, show one, print its postback tails, print the
/// whole catalog document.
enum CatalogCommands {
    static let networks = Command.synchronous(
        name: "networks", arguments: "",
        options: [LeadBridgeCommand.json]
    ) { ctx throws(CLIError) in
        try ctx.expectPositionals(max: 0)
        let lib = try ctx.library()
        if ctx.args.has("json") { ctx.printJSON(NetworkViews.networksJSON(lib)) } else {
            ctx.out.out(NetworkViews.networksText(lib, language: try ctx.language))
        }
        return .success
    }

    static let show = Command.synchronous(
        name: "show", arguments: "<network>",
        options: [LeadBridgeCommand.json]
    ) { ctx throws(CLIError) in
        try ctx.expectPositionals(max: 1)
        let (lib, spec) = try ctx.oneNetwork(try ctx.positional(0, .networkId))
        let l = try ctx.language
        if ctx.args.has("json") { ctx.printJSON(NetworkViews.showJSON(spec, language: l, defaults: lib.defaults)) } else {
            ctx.out.out(NetworkViews.showText(spec, library: lib, language: l))
        }
        return .success
    }

    static let postbacks = Command.synchronous(
        name: "postbacks", arguments: "<network>",
        options: [LeadBridgeCommand.json,
                  OptionSpec(name: "base", takesValue: true,
                             valueName: "URL")]
    ) { ctx throws(CLIError) in
        try ctx.expectPositionals(max: 1)
        let (lib, spec) = try ctx.oneNetwork(try ctx.positional(0, .networkId))
        let base = ctx.args.value("base")
        if let base, !(base.hasPrefix("http://") || base.hasPrefix("https://")) {
            throw CLIError.usage(.baseMustBeURL, command: "postbacks")
        }
        let l = try ctx.language
        if ctx.args.has("json") { ctx.printJSON(NetworkViews.postbacksJSON(spec, language: l, base: base)) } else {
            ctx.out.out(NetworkViews.postbacksText(spec, language: l, base: base))
        }
        return .success
    }

    static let docs = Command.synchronous(
        name: "docs", arguments: "[intake]",
        options: []
    ) { ctx throws(CLIError) in
        try ctx.expectPositionals(max: 1)
        if let what = ctx.args.positionals.first {
            guard what == "intake" else { throw CLIError.usage(.unknownDocument(what), command: "docs") }
            let lib = try ctx.library()
            let config = try ctx.requiredConfig(specs: lib)
            ctx.out.out(ServeCommands.intakeDocument(config, library: lib, try ctx.language))
            return .success
        }
        let lib = try ctx.library()
        ctx.out.out(CatalogRenderer.document(lib, language: try ctx.language))
        return .success
    }
}

/// `leadbridge lint`: every spec problem as `file:line:col: error: …`, exit 1 on any error.
enum LintCommand {
    static let lint = Command.synchronous(
        name: "lint", arguments: "[PATH…]",
        options: [LeadBridgeCommand.json,
                  OptionSpec(name: "strict", takesValue: false)]
    ) { ctx throws(CLIError) in
        let paths = ctx.args.positionals
        let lib = try ctx.folders().load(cwd: ctx.env.currentDirectory, lintPaths: paths, checks: .full)
        var diagnostics = lib.diagnostics + SpecExampleChecks.run(lib)
        if !paths.isEmpty {
            // Only report on the files asked about (and what they extend), compared as absolute paths.
            let asked = paths.map { ctx.absolute($0) }
            diagnostics = diagnostics.filter { d in
                let file = ctx.absolute(d.file)
                return asked.contains { file == $0 || file.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") }
            }
        }
        var seen = Set<Diagnostic>()
        diagnostics = diagnostics.filter { seen.insert($0).inserted }
        let strict = ctx.args.has("strict")
        let failing = diagnostics.filter { $0.isError || strict }
        if ctx.args.has("json") {
            ctx.printJSON(.array(diagnostics.map { d in
                .obj([("file", .string(d.file)), ("line", d.position.map { .int($0.line) } ?? .null),
                      ("column", d.position.map { .int($0.column) } ?? .null), ("pointer", .string(d.pointer)),
                      ("severity", .string(d.severity.rawValue)), ("code", .string(d.code)), ("message", .string(d.english))])
            }))
        } else {
            for d in diagnostics { ctx.out.err(ctx.t(.diagnostic(d))) }
            let errors = diagnostics.filter(\.isError).count, warnings = diagnostics.count - errors
            ctx.out.err(ctx.t(.lintSummary(specs: lib.specs.count, errors: errors, warnings: warnings)))
        }
        return failing.isEmpty ? .success : .validation
    }
}

/// `leadbridge postback <net> 'QUERY'`: normalize one incoming postback, store nothing.
enum PostbackCommand {
    static let postback = Command.synchronous(
        name: "postback", arguments: "<network> 'QUERY'",
        options: [LeadBridgeCommand.json]
    ) { ctx throws(CLIError) in
        try ctx.expectPositionals(max: 2)
        let (lib, spec) = try ctx.oneNetwork(try ctx.positional(0, .networkId))
        var query = try ctx.positional(1, .postbackQuery)
        if let q = query.firstIndex(of: "?") { query = String(query[query.index(after: q)...]) }
        do throws(PostbackError) {
            let pairs = try QueryString.parse(query)
            let result = try PostbackNormalizer.normalize(pairs, spec: spec, defaults: lib.defaults)
            print(result, ctx)
            return .success
        } catch {
            if let partial = error.partial { print(partial, ctx) }
            throw CLIError.validation(.postbackProblem(network: spec.id, error))
        }
    }

    static func print(_ p: NormalizedPostback, _ ctx: CommandContext) {
        if ctx.args.has("json") { ctx.printJSON(p.json); return }
        let values = [p.orderId ?? "—", p.externalId ?? "—", p.status.map { ctx.t(.bucket($0.rawValue)) } ?? "?", p.rawStatus, p.detail ?? "—", p.payout ?? "—",
                      p.currency ?? "—", p.comment ?? "—", p.reason ?? "—"]
        let labels = ctx.t(.postbackFields).split(separator: "\t").map(String.init)
        ctx.out.out(TextTable.render(zip(labels, values).map { [$0, $1] }))
    }
}
