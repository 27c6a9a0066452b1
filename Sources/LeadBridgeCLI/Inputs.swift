import FoundationEssentials
import Glibc
import LeadBridgeCore
import LeadBridgeNet
import LeadBridgeStore

/// What commands read besides specs: the configuration, `--connect-to`, lead files.
extension CommandContext {
    /// `leadbridge.json` from `--config`, `LEADBRIDGE_CONFIG` or the working directory,
    /// validated against the specs: any finding stops the command (exit 3), except an unset
    /// `${VAR}`, which only makes the part using it unavailable.
    func config(required: Bool, specs: any SpecLookup) throws(CLIError) -> LeadBridgeConfig? {
        let explicit = args.value("config") ?? env.variables["LEADBRIDGE_CONFIG"]
        let path = explicit ?? "leadbridge.json"
        let full = absolute(path)
        if let size = (try? FileManager.default.attributesOfItem(atPath: full))?[.size] as? Int, size > InputLimits.configBytes {
            throw CLIError.config(.configTooLarge(path: path, size: size, limit: InputLimits.configBytes))
        }
        guard let data = FileManager.default.contents(atPath: full) else {
            if explicit != nil || required {
                throw CLIError.config(.cannotReadConfig(path))
            }
            return nil
        }
        do {
            var config = try ConfigReader.read(bytes: Array(data), file: path, environment: env.variables, specs: specs)
            // A PostgreSQL password (in the URL or PGPASSWORD) is a secret like any other.
            if PostgresLocation.isPostgres(config.store), let location = try? PostgresLocation(config.store, environment: env.variables) {
                config.secretValues += location.secrets
            }
            return config
        } catch {
            throw CLIError.located(error.diagnostics, exit: .configuration)
        }
    }

    /// The configuration a command cannot do without.
    func requiredConfig(specs: any SpecLookup) throws(CLIError) -> LeadBridgeConfig {
        guard let config = try config(required: true, specs: specs) else { throw CLIError.config(.noConfiguration) }
        return config
    }

    func connectTo() throws(CLIError) -> ConnectToMap {
        let specs = (env.variables["LEADBRIDGE_CONNECT_TO"].map { [$0] } ?? []) + args.all("connect-to")
        do { return try ConnectToMap.parse(specs) } catch { throw CLIError.usage(.connectToRule(error), command: command.name) }
    }

    /// Reads a lead file (`-`: standard input): one lead, a JSON array or NDJSON; each lead's
    /// problems are kept with its place, for the command to report.
    func readLeads(_ path: String) throws(CLIError) -> LeadBatch {
        guard let data = path == "-" ? FileSystem.read(fd: 0) : FileSystem.read(absolute(path)) else { throw CLIError.validation(.cannotReadLead(path)) }
        return LeadBatch.read(Array(data))
    }

    /// One bad lead of a lead file, in the chosen language: `leads.ndjson:3: phone: …`.
    /// A bad lead of a batch where it stands, in `language` (the command's unless told: `--json` says it in English).
    func batchProblem(_ problem: LeadBatch.Problem, place: LeadBatch.Place, path: String, in language: Language? = nil) -> String {
        let l = language ?? lang
        func t(_ say: Say) -> String { say.text(l) }
        let source: String
        switch place {
        case .file: source = path
        case .line(let n): source = "\(path):\(n)"
        case .index(let n): source = "\(path)[\(n)]"
        }
        switch problem {
        case .syntax(let position, let message):
            if case .index = place { return t(.leadSyntax(path: source, position: position.description, problem: message)) }
            return t(.leadSyntax(path: path, position: position.description, problem: message))
        case .tooLarge(let size, let limit): return t(.leadTooLarge(source: source, size: size, limit: limit))
        case .refused(let message): return "\(source): \(message.text(l))"
        case .invalid(let errors): return errors.map { t(.leadProblem(source: source, $0)) }.joined(separator: "\n")
        case .repeated(let id, let first):
            let firstText: String
            switch first {
            case .file: firstText = path
            case .line(let n): firstText = t(.importLine(n))
            case .index(let n): firstText = "[\(n)]"
            }
            return t(.leadRepeated(source: source, id: id, first: firstText))
        }
    }
}

