import LeadBridgeCore

/// One subcommand: its options, help and body.
struct Command: Sendable {
    var name: String
    /// The positional part of the usage line (`<network>`, `[PATH…]`); the options part is
    /// generated from `options`, so the two never disagree.
    var arguments: String
    var summary: Localized
    var options: [OptionSpec]
    var run: @Sendable (CommandContext) async throws(CLIError) -> ExitCode
}

/// What a running command gets: parsed arguments, the environment and shared helpers.
struct CommandContext: Sendable {
    var command: Command
    var args: ParsedArguments
    var env: CLIEnvironment

    var out: CLIOutput { env.output }

    var language: Language {
        get throws(CLIError) {
            let raw = args.value("lang") ?? env.variables["LEADBRIDGE_LANG"] ?? "ru"
            guard let l = Language(rawValue: raw.lowercased()) else {
                throw CLIError.usage("--lang must be ru or en, found \"\(raw)\"", command: command.name)
            }
            return l
        }
    }

    func folders(extra: [String] = []) -> SpecFolders {
        SpecFolders.locate(env: env, extra: args.all("networks") + extra)
    }

    /// The loaded specs; spec errors are printed as warnings so one broken user spec does
    /// not stop a manager printing another network's tails (lint is the strict path).
    func library() throws(CLIError) -> SpecLibrary {
        let lib = try folders().load(cwd: env.currentDirectory)
        for d in lib.errors { out.err("warning: spec problem (run 'leadbridge lint'): \(d)") }
        return lib
    }

    /// One network and a library holding just it (plus what it extends), for commands about
    /// one network; the whole library only when the name needs it (an alias the quick lookup
    /// cannot confirm, an unknown name with its "did you mean").
    func oneNetwork(_ name: String) throws(CLIError) -> (SpecLibrary, NetworkSpec) {
        if let (lib, spec) = try folders().loadOne(name, cwd: env.currentDirectory) {
            for d in lib.errors { out.err("warning: spec problem (run 'leadbridge lint'): \(d)") }
            return (lib, spec)
        }
        let lib = try library()
        return (lib, try network(name, in: lib))
    }

    func network(_ name: String, in lib: SpecLibrary) throws(CLIError) -> NetworkSpec {
        guard let spec = lib.spec(name) else { throw CLIError.unknownNetwork(name, suggestions: lib.closest(to: name)) }
        return spec
    }

    func positional(_ index: Int, _ what: String) throws(CLIError) -> String {
        guard index < args.positionals.count else {
            throw CLIError.usage("missing \(what)", command: command.name)
        }
        return args.positionals[index]
    }

    func expectPositionals(max: Int) throws(CLIError) {
        if args.positionals.count > max {
            throw CLIError.usage("unexpected argument \"\(args.positionals[max])\"", command: command.name)
        }
    }

    func printJSON(_ value: JSONValue) { out.out(JSONWriter.pretty(value)) }
}

/// The `leadbridge` command line: dispatch, help, and the one place that turns errors into
/// text and exit codes.
public enum LeadBridgeCommand {
    static let common: [OptionSpec] = [
        OptionSpec(name: "help", takesValue: false, help: Localized(ru: "показать справку", en: "show help")),
        OptionSpec(name: "lang", takesValue: true, help: Localized(ru: "язык вывода: ru (по умолчанию) или en", en: "output language: ru (default) or en"), valueName: "ru|en"),
        OptionSpec(name: "networks", takesValue: true, repeatable: true,
                   help: Localized(ru: "дополнительная папка спецификаций (перекрывает поставляемые)", en: "extra spec folder (overrides shipped specs)"),
                   valueName: "DIR"),
        OptionSpec(name: "config", takesValue: true,
                   help: Localized(ru: "файл настроек (по умолчанию ./leadbridge.json)", en: "config file (default ./leadbridge.json)"), valueName: "FILE"),
    ]
    static let json = OptionSpec(name: "json", takesValue: false, help: Localized(ru: "вывод в JSON", en: "JSON output"))

    static var commands: [Command] {
        [CatalogCommands.networks, CatalogCommands.show, CatalogCommands.postbacks, CatalogCommands.docs, LintCommand.lint,
         PostbackCommand.postback, SendCommands.send, SendCommands.test, NewCommand.new, LedgerCommands.sync, LedgerCommands.leads, LedgerCommands.lead, LedgerCommands.export, ImportCommand.command, StoreCommands.migrate, StoreCommands.copyStore, ServeCommands.serve, ServeCommands.replay, DemoCommands.emulate, DemoCommands.demo]
    }

    /// Every command's name, in the order of the overview.
    public static var commandNames: [String] { commands.map(\.name) }

    /// Runs one command line; returns the exit code.
    public static func run(_ arguments: [String], env: CLIEnvironment) async -> Int32 {
        var args = Self.moveGlobalOptions(arguments)
        let language = Language(rawValue: (env.variables["LEADBRIDGE_LANG"] ?? "ru").lowercased()) ?? .ru
        guard let first = args.first else {
            env.output.out(overview(language))
            return ExitCode.success.rawValue
        }
        if first == "--help" || first == "-h" || first == "help" {
            if first == "help", args.count > 1, let c = commands.first(where: { $0.name == args[1] }) {
                env.output.out(help(c, language))
            } else {
                env.output.out(overview(args.contains("en") ? .en : language))
            }
            return ExitCode.success.rawValue
        }
        if first == "--version" { env.output.out("leadbridge \(version)"); return 0 }
        guard let command = commands.first(where: { $0.name == first }) else {
            let names = commands.map(\.name)
            env.output.err("leadbridge: error: unknown command \"\(first)\"" + Suggestions.didYouMean(first, among: names)
                           + "\nrun 'leadbridge --help' for the list of commands")
            return ExitCode.validation.rawValue
        }
        args.removeFirst()
        let parsed: ParsedArguments
        do {
            parsed = try ArgumentParser.parse(args, options: command.options + common)
        } catch {
            return report(.usage(error.message, command: command.name), env: env)
        }
        if parsed.has("help") {
            let l = Language(rawValue: parsed.value("lang") ?? "") ?? language
            env.output.out(help(command, l))
            return ExitCode.success.rawValue
        }
        do {
            return try await command.run(CommandContext(command: command, args: parsed, env: env)).rawValue
        } catch {
            return report(error, env: env)
        }
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

    static func report(_ error: CLIError, env: CLIEnvironment) -> Int32 {
        if case .located = error { env.output.err(error.message) } else { env.output.err("leadbridge: error: " + error.message) }
        return error.exitCode.rawValue
    }

    static func overview(_ l: Language) -> String {
        var lines = [l == .ru ? "leadbridge — связь заказов с CPA-сетями" : "leadbridge — connects orders to CPA networks", "",
                     l == .ru ? "Команды:" : "Commands:"]
        let width = commands.map(\.name.count).max() ?? 0
        for c in commands {
            lines.append("  " + c.name + String(repeating: " ", count: width - c.name.count) + "  " + c.summary.text(l))
        }
        lines += ["", l == .ru ? "Справка по команде: leadbridge КОМАНДА --help" : "Help on a command: leadbridge COMMAND --help"]
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
        var lines = [(l == .ru ? "Использование: " : "Usage: ") + synopsis(c), "", c.summary.text(l), "",
                     l == .ru ? "Параметры:" : "Options:"]
        let opts = c.options + common
        let labels = opts.map { "--" + $0.name + ($0.takesValue ? " " + $0.valueName : "") }
        let width = labels.map(\.count).max() ?? 0
        for (o, label) in zip(opts, labels) {
            lines.append("  " + label + String(repeating: " ", count: width - label.count) + "  " + o.help.text(l))
        }
        return lines.joined(separator: "\n")
    }
}
