import Foundation
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
            throw CLIError.located(error.diagnostics.map(\.description), exit: .configuration)
        }
    }

    /// The configuration a command cannot do without.
    func requiredConfig(specs: any SpecLookup) throws(CLIError) -> LeadBridgeConfig {
        guard let config = try config(required: true, specs: specs) else { throw CLIError.config(.noConfiguration) }
        return config
    }

    func connectTo() throws(CLIError) -> ConnectToMap {
        let specs = (env.variables["LEADBRIDGE_CONNECT_TO"].map { [$0] } ?? []) + args.all("connect-to")
        do { return try ConnectToMap.parse(specs) } catch { throw CLIError.usage(.raw(error.message), command: command.name) }
    }

    /// Reads a lead file; every problem names the field.
    func readLead(_ path: String) throws(CLIError) -> Lead {
        let full = path.hasPrefix("/") ? path : env.currentDirectory + "/" + path
        let data = path == "-" ? FileHandle.standardInput.readDataToEndOfFile() : FileManager.default.contents(atPath: full)
        guard let data else { throw CLIError.validation(.cannotReadLead(path)) }
        let value: JSONValue
        do { value = try JSONParser.parse(Array(data)) } catch {
            throw CLIError.validation(.leadSyntax(path: path, position: error.position.description, message: error.message))
        }
        switch LeadReader.read(value) {
        case .success(let l): return l
        case .failure(let e): throw CLIError.validation(.raw(e.errors.map { t(.leadProblem(source: path, $0)) }.joined(separator: "\n")))
        }
    }
}

