import LeadBridgeCore

/// Exit codes of DESIGN.md; scripts and cron rely on them.
public enum ExitCode: Int32, Sendable {
    case success = 0
    case validation = 1
    case partialFailure = 2
    case configuration = 3
    case locked = 4
}

/// Every error a command can end with, mapped to one line of text and an exit code in one
/// place (`LeadBridgeCommand.report`).
enum CLIError: Error, Sendable {
    case usage(String, command: String?)
    case validation(String)
    case config(String)
    case io(String)
    case unknownNetwork(String, suggestions: [String])
    case partial(String)
    case locked(String)
    /// Lines that already say where and what (`leadbridge.json:3:9: error: … [code]`): printed
    /// as they are, without a second prefix.
    case located([String], exit: ExitCode)

    var exitCode: ExitCode {
        switch self {
        case .usage, .validation, .unknownNetwork: return .validation
        case .config, .io: return .configuration
        case .partial: return .partialFailure
        case .locked: return .locked
        case .located(_, let exit): return exit
        }
    }

    var message: String {
        switch self {
        case .usage(let m, let command):
            return m + "\n" + "run 'leadbridge \(command.map { $0 + " " } ?? "")--help' for usage"
        case .validation(let m), .config(let m), .io(let m), .partial(let m), .locked(let m):
            return m
        case .located(let lines, _):
            return lines.joined(separator: "\n")
        case .unknownNetwork(let name, let suggestions):
            var m = "unknown network \"\(name)\""
            if !suggestions.isEmpty { m += "; closest: " + suggestions.joined(separator: ", ") }
            return m + " (run 'leadbridge networks' for the list)"
        }
    }
}
