import LeadBridgeCore

/// One subcommand: its options and body; its help lines are in the catalogs (`HelpText`).
struct Command: Sendable {
    var name: String
    /// The positional part of the usage line (`<network>`, `[PATH…]`); the options part is
    /// generated from `options`, so the two never disagree.
    var arguments: String
    var options: [OptionSpec]
    var body: Body

    /// A command that waits on nothing (the catalog's) runs on the calling thread: the process
    /// then starts no worker thread and makes no executor hop, which is part of a manager's
    /// command answering as fast as a process can start.
    enum Body: Sendable {
        case synchronous(@Sendable (CommandContext) throws(CLIError) -> ExitCode)
        case asynchronous(@Sendable (CommandContext) async throws(CLIError) -> ExitCode)
    }

    init(name: String, arguments: String, options: [OptionSpec], body: Body) {
        self.name = name
        self.arguments = arguments
        self.options = options
        self.body = body
    }

    init(name: String, arguments: String, options: [OptionSpec], run: @escaping @Sendable (CommandContext) async throws(CLIError) -> ExitCode) {
        self.init(name: name, arguments: arguments, options: options, body: .asynchronous(run))
    }

    static func synchronous(name: String, arguments: String, options: [OptionSpec],
                            run: @escaping @Sendable (CommandContext) throws(CLIError) -> ExitCode) -> Command {
        Command(name: name, arguments: arguments, options: options, body: .synchronous(run))
    }
}

/// What a running command gets: parsed arguments, the environment, the language chosen for
/// everything it prints, and shared helpers.
struct CommandContext: Sendable {
    var command: Command
    var args: ParsedArguments
    var env: CLIEnvironment
    /// `--lang`, else `LEADBRIDGE_LANG`, else Russian.
    var lang: Language

    var out: CLIOutput { env.output }

    var language: Language {
        get throws(CLIError) { lang }
    }

    /// A message in the chosen language.
    func t(_ say: Say) -> String { say.text(lang) }

    /// Prints a message on stdout / stderr in the chosen language.
    func say(_ s: Say) { out.out(t(s)) }
    func warn(_ s: Say) { out.err(t(.warningPrefix) + t(s)) }

    func folders(extra: [String] = []) -> SpecFolders {
        SpecFolders.locate(env: env, extra: args.all("networks") + extra)
    }

    /// The loaded specs; spec errors are printed as warnings so one broken user spec does
    /// not stop a manager printing another network's tails (lint is the strict path).
    func library() throws(CLIError) -> SpecLibrary {
        let lib = try folders().load(cwd: env.currentDirectory)
        for d in lib.errors { warn(.specProblem(d.description)) }
        return lib
    }

    /// One network and a library holding just it (plus what it extends), for commands about
    /// one network; the whole library only when the name needs it (an alias the quick lookup
    /// cannot confirm, an unknown name with its "did you mean").
    func oneNetwork(_ name: String) throws(CLIError) -> (SpecLibrary, NetworkSpec) {
        if let (lib, spec) = try folders().loadOne(name, cwd: env.currentDirectory) {
            for d in lib.errors { warn(.specProblem(d.description)) }
            return (lib, spec)
        }
        let lib = try library()
        return (lib, try network(name, in: lib))
    }

    func network(_ name: String, in lib: SpecLibrary) throws(CLIError) -> NetworkSpec {
        guard let spec = lib.spec(name) else { throw CLIError.unknownNetwork(name, suggestions: lib.closest(to: name)) }
        return spec
    }

    func positional(_ index: Int, _ what: Say.Argument) throws(CLIError) -> String {
        guard index < args.positionals.count else {
            throw CLIError.usage(.missingArgument(what), command: command.name)
        }
        return args.positionals[index]
    }

    func expectPositionals(max: Int) throws(CLIError) {
        if args.positionals.count > max {
            throw CLIError.usage(.unexpectedArgument(args.positionals[max]), command: command.name)
        }
    }

    func printJSON(_ value: JSONValue) { out.out(JSONWriter.pretty(value)) }
}

/// The `leadbridge` command line: dispatch, help, and the one place that turns errors into
/// text and exit codes.
public enum LeadBridgeCommand {
    static let common: [OptionSpec] = [
        OptionSpec(name: "help", takesValue: false),
        OptionSpec(name: "lang", takesValue: true, valueName: "ru|en"),
        OptionSpec(name: "networks", takesValue: true, repeatable: true,
                   valueName: "DIR"),
        OptionSpec(name: "config", takesValue: true,
                   valueName: "FILE"),
    ]
    static let json = OptionSpec(name: "json", takesValue: false)

    static var commands: [Command] {
        [CatalogCommands.networks, CatalogCommands.show, CatalogCommands.postbacks, CatalogCommands.docs, LintCommand.lint,
         PostbackCommand.postback, SendCommands.send, SendCommands.test, NewCommand.new, LedgerCommands.sync, LedgerCommands.leads, LedgerCommands.lead, SettleCommand.command, LedgerCommands.outgoing, LedgerCommands.export, ImportCommand.command, StatusCommand.status, StoreCommands.migrate, StoreCommands.copyStore, ServeCommands.serve, ServeCommands.replay, DemoCommands.emulate, DemoCommands.demo]
    }

    /// Every command's name, in the order of the overview.
    public static var commandNames: [String] { commands.map(\.name) }

    /// Runs one command line; returns the exit code.
    public static func run(_ arguments: [String], env: CLIEnvironment) async -> Int32 {
        switch prepare(arguments, env: env) {
        case .finished(let code): return code
        case .ready(let invocation): return await invocation.run()
        }
    }

    /// A command line parsed and ready to run, or already answered (help, version, a usage error).
    public enum Preparation: Sendable {
        case finished(Int32)
        case ready(Invocation)
    }

    /// One command with its parsed arguments.
    public struct Invocation: Sendable {
        let command: Command
        let context: CommandContext

        /// Runs a command that waits on nothing here, on the calling thread; nil for one that
        /// needs the concurrency runtime (`run()`).
        public func runWithoutTasks() -> Int32? {
            guard case .synchronous(let body) = command.body else { return nil }
            return run(body)
        }

        public func run() async -> Int32 {
            switch command.body {
            case .synchronous(let body): return run(body)
            case .asynchronous(let body):
                do { return try await body(context).rawValue } catch { return LeadBridgeCommand.report(error, env: context.env, language: context.lang) }
            }
        }

        private func run(_ body: (CommandContext) throws(CLIError) -> ExitCode) -> Int32 {
            do { return try body(context).rawValue } catch { return LeadBridgeCommand.report(error, env: context.env, language: context.lang) }
        }
    }

    /// Everything before a command's body: global options, language, help, version, the
    /// command's name and arguments.
    public static func prepare(_ arguments: [String], env: CLIEnvironment) -> Preparation {
        var args = Self.moveGlobalOptions(arguments)
        let (language, badLanguage) = Self.language(args, env)
        guard let first = args.first else {
            env.output.out(overview(language))
            return .finished(ExitCode.success.rawValue)
        }
        if first == "--help" || first == "-h" || first == "help" {
            if first == "help", args.count > 1, let c = commands.first(where: { $0.name == args[1] }) {
                env.output.out(help(c, language))
            } else {
                env.output.out(overview(language))
            }
            return .finished(ExitCode.success.rawValue)
        }
        if first == "--version" { env.output.out("leadbridge \(version)"); return .finished(0) }
        guard let command = commands.first(where: { $0.name == first }) else {
            return .finished(report(.usage(.unknownCommand(first, suggestion: Suggestions.closest(to: first, among: commands.map(\.name), limit: 1).first), command: nil),
                          env: env, language: language, hint: false))
        }
        if let badLanguage { return .finished(report(.usage(.languageInvalid(badLanguage), command: command.name), env: env, language: language)) }
        args.removeFirst()
        let parsed: ParsedArguments
        do {
            parsed = try ArgumentParser.parse(args, options: command.options + common)
        } catch {
            return .finished(report(.usage(error.say, command: command.name), env: env, language: language))
        }
        if parsed.has("help") {
            env.output.out(help(command, language))
            return .finished(ExitCode.success.rawValue)
        }
        return .ready(Invocation(command: command, context: CommandContext(command: command, args: parsed, env: env, lang: language)))
    }

    /// The language of everything printed: `--lang` anywhere on the line, else
    /// `LEADBRIDGE_LANG`, else Russian. An unknown value is returned to be reported.
    static func language(_ args: [String], _ env: CLIEnvironment) -> (Language, bad: String?) {
        var raw = env.variables["LEADBRIDGE_LANG"]
        for (i, a) in args.enumerated() {
            if a == "--lang", i + 1 < args.count { raw = args[i + 1] } else if a.hasPrefix("--lang=") { raw = String(a.dropFirst(7)) }
        }
        guard let raw, !raw.isEmpty else { return (.ru, nil) }
        guard let l = Language(rawValue: raw.lowercased()) else { return (.ru, raw) }
        return (l, nil)
    }

    static let version = "0.1.0"

    /// `leadbridge --networks DIR test acme` = `leadbridge test acme --networks DIR`.
    static func moveGlobalOptions(_ args: [String]) -> [String] {
        var leading: [String] = []
        var rest = args[...]
        while let a = rest.first, ["--networks", "--lang", "--config"].contains(where: { a == $0 || a.hasPrefix($0 + "=") }) {
            leading.append(a)
            rest = rest.dropFirst()
            if !a.contains("="), let v = rest.first { leading.append(v); rest = rest.dropFirst() }
        }
        guard let command = rest.first else { return args }
        return [command] + leading + Array(rest.dropFirst())
    }

    /// The one place an error becomes text: one prefix, the message in the chosen language,
    /// the usage hint for usage errors; returns the exit code.
    static func report(_ error: CLIError, env: CLIEnvironment, language: Language, hint: Bool = true) -> Int32 {
        let text = error.message(language, hint: hint)
        if case .located = error { env.output.err(text) } else { env.output.err(Say.errorPrefix.text(language) + text) }
        return error.exitCode.rawValue
    }

    static func overview(_ l: Language) -> String {
        var lines = [Say.overviewTitle.text(l), "", Say.commandsHeading.text(l)]
        let width = commands.map(\.name.count).max() ?? 0
        for c in commands {
            lines.append("  " + c.name + String(repeating: " ", count: width - c.name.count) + "  " + HelpText.summary(c.name, l))
        }
        lines += ["", Say.helpOnACommand.text(l)]
        return lines.joined(separator: "\n")
    }

    /// `leadbridge send <network> --lead FILE --account NAME [--dry-run] …`, from the declared options.
    static func synopsis(_ c: Command) -> String {
        var parts = ["leadbridge", c.name]
        if !c.arguments.isEmpty { parts.append(c.arguments) }
        for o in c.options {
            let text = "--" + o.name + (o.takesValue ? " " + o.valueName : "")
            parts.append(o.required ? text : "[" + text + "]")
        }
        return parts.joined(separator: " ")
    }

    static func help(_ c: Command, _ l: Language) -> String {
        var lines = [Say.usagePrefix.text(l) + synopsis(c), "", HelpText.summary(c.name, l), "", Say.optionsHeading.text(l)]
        let opts = c.options + common
        let labels = opts.map { "--" + $0.name + ($0.takesValue ? " " + $0.valueName : "") }
        let width = labels.map(\.count).max() ?? 0
        for (o, label) in zip(opts, labels) {
            lines.append("  " + label + String(repeating: " ", count: width - label.count) + "  " + HelpText.option(c.name, o.name, l))
        }
        return lines.joined(separator: "\n")
    }

    /// What the help catalogs lack or hold in vain, per language: a command or option with no
    /// help line, a line for a command or option that does not exist. Empty when complete.
    public static func helpCatalogProblems() -> [String] {
        var problems: [String] = []
        var used = Set<String>()
        for l in Language.allCases {
            let table = HelpText.table(l)
            for c in commands {
                if table[c.name] == nil { problems.append("\(l.rawValue): no summary for \(c.name)") }
                used.insert(c.name)
                for o in c.options + common {
                    let own = "\(c.name) --\(o.name)", shared = "--\(o.name)"
                    if table[own] != nil { used.insert(own) } else if table[shared] != nil { used.insert(shared) } else {
                        problems.append("\(l.rawValue): no help for \(c.name) --\(o.name)")
                    }
                }
            }
            for key in table.keys.sorted() where !used.contains(key) { problems.append("\(l.rawValue): \"\(key)\" names no command or option") }
        }
        return problems
    }
}
