import Testing
import LeadBridgeCore

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
