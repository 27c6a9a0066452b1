import LeadBridgeCore

/// Exit codes of DESIGN.md; scripts and cron rely on them.
public enum ExitCode: Int32, Sendable {
    case success = 0
    case validation = 1
    case partialFailure = 2
    case configuration = 3
    case locked = 4
}

/// Every error a command can end with, mapped to one line of text (in the chosen language)
/// and an exit code in one place (`LeadBridgeCommand.report`).
enum CLIError: Error, Sendable {
    case usage(Say, command: String?)
    case validation(Say)
    case config(Say)
    case io(Say)
    case unknownNetwork(String, suggestions: [String])
    case partial(Say)
    case locked(Say)
    /// Findings that say where and what (`leadbridge.json:3:9: error: … [code]`): printed as
    /// their own lines in the chosen language, without a second prefix.
    case located([Diagnostic], exit: ExitCode)

    var exitCode: ExitCode {
        switch self {
        case .usage, .validation, .unknownNetwork: return .validation
        case .config, .io: return .configuration
        case .partial: return .partialFailure
        case .locked: return .locked
        case .located(_, let exit): return exit
        }
    }

    func message(_ l: Language, hint: Bool = true) -> String {
        switch self {
        case .usage(let m, let command):
            return m.text(l) + (hint ? "\n" + Say.usageHint(command: command).text(l) : "")
        case .validation(let m), .config(let m), .io(let m), .partial(let m), .locked(let m):
            return m.text(l)
        case .located(let found, _):
            return found.map { Say.diagnostic($0).text(l) }.joined(separator: "\n")
        case .unknownNetwork(let name, let suggestions):
            return Say.unknownNetwork(name, closest: suggestions).text(l)
        }
    }

    /// English, for logs and tests that do not choose.
    var message: String { message(.en) }
}
