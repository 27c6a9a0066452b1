/// Which way a request failed below HTTP: the stable word `send --json` and a stored last error
/// put before the problem (`connection: cannot connect to …`).
public enum TransportFailureKind: String, Sendable, Hashable, CaseIterable {
    case timeout, connection, cancelled, invalidRequest
}
