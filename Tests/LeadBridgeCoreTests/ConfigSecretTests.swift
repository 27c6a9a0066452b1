import Testing
import LeadBridgeCore
import LeadBridgeTestSupport

/// A configuration error points at the value that is wrong, never shows it: a credential, a
/// receiver, intake or console token and the PostgreSQL URL in `store` are secrets, and an
/// unclosed `${` in one of them once printed its first 40 characters.
@Suite struct ConfigSecretTests {
    static let secret = "S3CRET-value-7f3a"

    /// Each configuration has one mistake in a secret's value; the secret is `secret`.
    static let broken: [(String, String)] = [
        ("credential", #"{"accounts": {"k": {"network": "kma", "credentials": {"token": "\#(secret)${KMA_TOKEN"}, "params": {"kma": "ch-1"}}}}"#),
        ("store", #"{"store": "postgresql://lb:\#(secret)@127.0.0.1/lb?sslmode=${PGSSL"}"#),
        ("receiver token", #"{"receiver": {"token": "\#(secret)${RECEIVER"}}"#),
        ("receiver network token", #"{"receiver": {"tokens": {"kma": "\#(secret)${KMA"}}}"#),
        ("intake token", #"{"intake": {"tokens": {"site": "\#(secret)${INTAKE"}}}"#),
        ("console token", #"{"console": {"token": "\#(secret)${CONSOLE"}}"#),
    ]

    @Test(arguments: broken)
    func anUnclosedVariableDoesNotShowTheValue(what: String, text: String) {
        do {
            _ = try ConfigReader.read(bytes: Array(text.utf8), file: "leadbridge.json", environment: [:], specs: Fixtures.library)
            Issue.record("\(what): the configuration was accepted")
        } catch {
            #expect(error.diagnostics.map(\.message.code).contains("env"), "\(what): \(error)")
            for shown in [error.description] + error.diagnostics.map(\.message.english) {
                #expect(!shown.contains(Self.secret.prefix(6)), "\(what): \(shown)")
            }
        }
    }
}

/// A parameter that does not match its spec's pattern is shown, unless it came from a
/// `${VAR}`: the environment's values are not printed (a manager may keep one there as a secret).
@Suite struct ParameterFromEnvironmentTests {
    static let library: SpecLibrary = {
        let kma = PackageFixtures.sources("Networks").filter { $0.stem == "kma" }.map { s in
            let text = String(decoding: s.bytes, as: UTF8.self).replacingAll(#""en": "stream id."}, "required": true}"#,
                                                                              with: #""en": "stream id."}, "required": true, "pattern": "^[A-Za-z0-9]+$"}"#)
            return SpecSource(path: s.path, bytes: Array(text.utf8))
        }
        return SpecLoader.load(networks: kma, templates: PackageFixtures.sources("Templates"), checks: .fast)
    }()

    static func read(_ channel: String) -> ConfigError? {
        let text = #"{"accounts": {"k": {"network": "kma", "credentials": {"token": "T-0001"}, "params": {"kma": "\#(channel)"}}}}"#
        do {
            _ = try ConfigReader.read(bytes: Array(text.utf8), file: "leadbridge.json", environment: ["KMA_CHANNEL": "ch 9 S3CRET-env"], specs: library)
            return nil
        } catch { return error }
    }

    @Test func aWrittenValueIsShownAndAVariablesValueIsNot() throws {
        #expect(Self.library.spec("kma")?.params.first?.pattern != nil, "the spec's parameter has its pattern")
        let written = try #require(Self.read("ch 9 written"))
        #expect(written.diagnostics.map(\.code) == ["pattern"] && written.description.contains("\"ch 9 written\""), "\(written)")
        let fromEnvironment = try #require(Self.read("${KMA_CHANNEL}"))
        #expect(fromEnvironment.diagnostics.map(\.code) == ["pattern"], "\(fromEnvironment)")
        #expect(!fromEnvironment.description.contains("S3CRET"), "\(fromEnvironment)")
    }
}
