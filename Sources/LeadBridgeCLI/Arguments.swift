import LeadBridgeCore

/// One option a command accepts (its help line is in the catalogs: `HelpText`).
struct OptionSpec: Sendable {
    var name: String
    var takesValue: Bool
    var repeatable: Bool = false
    var valueName: String = "VALUE"
    /// Shown without brackets in the usage line (the command checks it and says what is missing).
    var required: Bool = false
}

/// Parsed command line of one command: options by name and positionals in order.
struct ParsedArguments: Sendable {
    var values: [String: [String]] = [:]
    var flags: Set<String> = []
    var positionals: [String] = []

    func value(_ name: String) -> String? { values[name]?.last }
    func all(_ name: String) -> [String] { values[name] ?? [] }
    func has(_ name: String) -> Bool { flags.contains(name) || values[name] != nil }
}

/// A usage error: printed with the command's usage line, exit 1.
struct UsageError: Error, Sendable {
    var say: Say
}

/// A small table-driven parser (we take no packages): `--name value`, `--name=value`,
/// flags, `--` ends options.
enum ArgumentParser {
    static func parse(_ args: [String], options: [OptionSpec]) throws(UsageError) -> ParsedArguments {
        var result = ParsedArguments()
        var i = 0
        var onlyPositionals = false
        while i < args.count {
            let a = args[i]
            i += 1
            if onlyPositionals || !a.hasPrefix("-") || a == "-" {
                result.positionals.append(a)
                continue
            }
            if a == "--" { onlyPositionals = true; continue }
            var name = a
            var inline: String?
            if let eq = a.firstIndex(of: "=") {
                name = String(a[a.startIndex..<eq])
                inline = String(a[a.index(after: eq)...])
            }
            if name == "-h" { name = "--help" }
            guard name.hasPrefix("--"), let spec = options.first(where: { "--" + $0.name == name }) else {
                let known = options.map { "--" + $0.name }
                throw UsageError(say: .unknownOption(name, suggestion: Suggestions.closest(to: name, among: known, limit: 1).first))
            }
            if spec.takesValue {
                let v: String
                if let inline { v = inline } else {
                    guard i < args.count else { throw UsageError(say: .optionNeedsValue(name, valueName: spec.valueName)) }
                    v = args[i]
                    i += 1
                }
                if !spec.repeatable, result.values[spec.name] != nil {
                    throw UsageError(say: .optionGivenTwice(name))
                }
                result.values[spec.name, default: []].append(v)
            } else {
                if inline != nil { throw UsageError(say: .optionTakesNoValue(name)) }
                result.flags.insert(spec.name)
            }
        }
        return result
    }
}
