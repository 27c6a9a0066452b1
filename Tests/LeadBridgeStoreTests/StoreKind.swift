import Foundation
import LeadBridgeStore
import LeadBridgeTestSupport
import Testing

/// The stores the conformance suites run on: an SQLite file in a temporary folder, and a fresh
/// database on the PostgreSQL server the tests start (no mock).
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres

    var testDescription: String { rawValue }

    func make() throws -> any LeadStore { try database()() }

    /// A new empty ledger, and a way to open more connections to it (one per worker).
    func database() throws -> @Sendable () throws -> any LeadStore {
        switch self {
        case .sqlite:
            let path = TempFiles.path()
            return { try SQLiteLeadStore(path: path) }
        case .postgres:
            let url = try PostgresScratchServer.shared().freshDatabase("port").socket
            return { try PostgresLeadStore(location: PostgresLocation(url, environment: [:])) }
        }
    }
}

/// Runs `body(i)` for i in 0..<count on as many threads at once (blocking database work does
/// not belong on the cooperative pool), and returns when all are done.
func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let group = DispatchGroup()
    for i in 0..<count {
        group.enter()
        Thread.detachNewThread {
            body(i)
            group.leave()
        }
    }
    group.wait()
}
